//! `Precompiled`: SentencePiece's own normalization rules, as T5, ALBERT, XLNet, XLM-R and other
//! SentencePiece models ship them. The `precompiled_charsmap` blob (base64 in `tokenizer.json`)
//! is a little-endian `u32` byte size, a double-array trie of that many bytes, then a pool of
//! NUL-terminated replacement strings the trie's values point into.
//!
//! Each grapheme cluster is looked up as a whole when shorter than 6 bytes, else (or when that
//! misses) char by char; a hit replaces the grapheme (or char) by its pool string. Like Hugging
//! Face `tokenizers` (the oracle for offsets), a lookup uses the *shortest* key that is a prefix
//! of the text looked up, and the replaced text keeps the alignment rules of its `replace` helper.
//!
//! ```
//! use ferroformers_core::normalizers::{precompiled::Precompiled, Normalizer};
//! use ferroformers_core::tokenizer::NormalizedString;
//! // A trie mapping "ﬁ" to "fi" (as SentencePiece's nmt_nfkc rules do).
//! let pc = Precompiled::from_rules(&[("ﬁ", "fi")]).unwrap();
//! let mut n = NormalizedString::from("ﬁne");
//! pc.normalize(&mut n).unwrap();
//! assert_eq!(n.get(), "fine");
//! ```

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

/// Graphemes of at least this many bytes are never looked up whole (SentencePiece's rules only
/// have short keys, and Hugging Face uses this bound).
const MAX_GRAPHEME_LOOKUP_BYTES: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PrecompiledConfig", into = "PrecompiledConfig")]
pub struct Precompiled {
    /// The blob as read, written back unchanged on save.
    charsmap: Vec<u8>,
    trie: DoubleArrayTrie,
    /// The replacement strings, NUL-separated; the trie's values are byte offsets into it.
    replacements: String,
}

#[derive(Serialize, Deserialize)]
struct PrecompiledConfig {
    precompiled_charsmap: String,
}

impl TryFrom<PrecompiledConfig> for Precompiled {
    type Error = String;
    fn try_from(config: PrecompiledConfig) -> Result<Self, String> {
        let blob = base64_decode(&config.precompiled_charsmap)
            .ok_or("Precompiled: precompiled_charsmap is not valid base64")?;
        Precompiled::from_charsmap(blob)
    }
}

impl From<Precompiled> for PrecompiledConfig {
    fn from(p: Precompiled) -> Self {
        PrecompiledConfig {
            precompiled_charsmap: base64_encode(&p.charsmap),
        }
    }
}

impl Precompiled {
    /// Parses a raw (not base64) `precompiled_charsmap`.
    pub fn from_charsmap(charsmap: Vec<u8>) -> Result<Self, String> {
        let header: [u8; 4] = charsmap
            .get(..4)
            .and_then(|h| h.try_into().ok())
            .ok_or("Precompiled: precompiled_charsmap is shorter than its 4-byte header")?;
        let trie_bytes = u32::from_le_bytes(header) as usize;
        let trie_end = 4usize
            .checked_add(trie_bytes)
            .filter(|&end| end <= charsmap.len() && trie_bytes.is_multiple_of(4))
            .ok_or("Precompiled: precompiled_charsmap's trie size does not fit the blob")?;
        let units = charsmap[4..trie_end]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let replacements = String::from_utf8(charsmap[trie_end..].to_vec())
            .map_err(|_| "Precompiled: the replacement strings are not valid UTF-8")?;
        Ok(Precompiled {
            charsmap,
            trie: DoubleArrayTrie { units },
            replacements,
        })
    }

    /// The raw `precompiled_charsmap` (not base64).
    pub fn charsmap(&self) -> &[u8] {
        &self.charsmap
    }

    /// The replacement of the shortest rule key that prefixes `text`, if any.
    fn lookup(&self, text: &str) -> Option<&str> {
        let start = self.trie.shortest_prefix_value(text.as_bytes())? as usize;
        let rest = self.replacements.get(start..)?;
        Some(rest.split('\0').next().unwrap_or(rest))
    }
}

/// Appends the edits that turn `old` into `new` the way Hugging Face aligns them: the chars of
/// `new` replace the chars of `old` one for one; extra chars are insertions at the end; missing
/// chars are charged to the last edit so far (which may belong to an earlier grapheme).
fn push_replacement(edits: &mut Vec<(char, isize)>, old: &str, new: &str) {
    let old_chars = old.chars().count() as isize;
    let new_chars = new.chars().count() as isize;
    edits.extend(new.chars().map(|c| (c, 0)));
    let diff = new_chars - old_chars;
    if diff > 0 {
        let len = edits.len();
        for edit in &mut edits[len.saturating_sub(diff as usize)..] {
            edit.1 = 1;
        }
    } else if diff < 0 {
        if let Some(last) = edits.last_mut() {
            last.1 += diff;
        }
    }
}

impl Normalizer for Precompiled {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        let mut edits = Vec::with_capacity(n.len());
        let mut modified = false;
        for grapheme in n.get().graphemes(true) {
            if grapheme.len() < MAX_GRAPHEME_LOOKUP_BYTES {
                if let Some(new) = self.lookup(grapheme) {
                    modified = true;
                    push_replacement(&mut edits, grapheme, new);
                    continue;
                }
            }
            for (i, c) in grapheme.char_indices() {
                let old = &grapheme[i..i + c.len_utf8()];
                match self.lookup(old) {
                    Some(new) => {
                        modified = true;
                        push_replacement(&mut edits, old, new);
                    }
                    None => edits.push((c, 0)),
                }
            }
        }
        if modified {
            n.transform(edits, 0);
        }
        Ok(())
    }
}

/// The double-array trie of SentencePiece (Darts-clone's layout): each `u32` unit packs a label
/// byte, a has-leaf flag and an offset to its children; a leaf unit holds the value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DoubleArrayTrie {
    units: Vec<u32>,
}

impl DoubleArrayTrie {
    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & (1 << 9)) >> 6)) as usize
    }

    fn label(unit: u32) -> u32 {
        unit & ((1 << 31) | 0xFF)
    }

    fn has_leaf(unit: u32) -> bool {
        (unit >> 8) & 1 == 1
    }

    fn value(unit: u32) -> u32 {
        unit & ((1 << 31) - 1)
    }

    /// The value of the shortest key that is a prefix of `key` (keys never contain NUL, so the
    /// search stops there). Out-of-range positions from a corrupt blob end the search.
    fn shortest_prefix_value(&self, key: &[u8]) -> Option<u32> {
        let mut pos = Self::offset(*self.units.first()?);
        for &byte in key {
            if byte == 0 {
                return None;
            }
            pos ^= byte as usize;
            let unit = *self.units.get(pos)?;
            if Self::label(unit) != byte as u32 {
                return None;
            }
            pos ^= Self::offset(unit);
            if Self::has_leaf(unit) {
                return Some(Self::value(*self.units.get(pos)?));
            }
        }
        None
    }
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding, as `tokenizer.json` stores the blob.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; padding is required, as Hugging Face requires it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let sextet = |c: u8| {
        BASE64_ALPHABET
            .iter()
            .position(|&a| a == c)
            .map(|p| p as u32)
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, quad) in text.chunks(4).enumerate() {
        let last = i + 1 == text.len() / 4;
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - padding] {
            n = (n << 6) | sextet(c)?;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

impl Precompiled {
    /// Builds a charsmap from `(key, replacement)` rules: real charsmaps come from SentencePiece
    /// models, this lets examples and tests state their rules instead of carrying opaque blobs.
    pub fn from_rules(rules: &[(&str, &str)]) -> Result<Self, String> {
        Precompiled::from_charsmap(rule_trie::build(rules))
    }
}

/// A small double-array builder, only good enough for a handful of rules.
mod rule_trie {
    /// Children of one trie node: `(label byte, child node)`; `value` when a key ends here.
    #[derive(Default)]
    struct Node {
        children: Vec<(u8, usize)>,
        value: Option<u32>,
    }

    pub(super) fn build(rules: &[(&str, &str)]) -> Vec<u8> {
        let mut pool = Vec::new();
        let mut nodes = vec![Node::default()];
        for (key, replacement) in rules {
            let value = pool.len() as u32;
            pool.extend_from_slice(replacement.as_bytes());
            pool.push(0);
            let mut node = 0;
            for &b in key.as_bytes() {
                node = match nodes[node].children.iter().find(|c| c.0 == b) {
                    Some(&(_, child)) => child,
                    None => {
                        nodes.push(Node::default());
                        let child = nodes.len() - 1;
                        nodes[node].children.push((b, child));
                        child
                    }
                };
            }
            nodes[node].value = Some(value);
        }
        // Place each node's children (and its leaf, at label 0) at `base ^ label`, each node in a
        // block of 256 units of its own, so no child is reachable from another node's block (the
        // search only checks labels). Offsets stay below 2^21: bit 9 (the shift flag) stays clear.
        let mut units = vec![0u32; 1];
        place(&nodes, 0, 0, &mut units);
        let mut blob = ((units.len() * 4) as u32).to_le_bytes().to_vec();
        for u in units {
            blob.extend_from_slice(&u.to_le_bytes());
        }
        blob.extend_from_slice(&pool);
        blob
    }

    fn place(nodes: &[Node], node: usize, at: usize, units: &mut Vec<u32>) {
        let n = &nodes[node];
        let mut labels: Vec<usize> = n.children.iter().map(|c| c.0 as usize).collect();
        if n.value.is_some() {
            labels.push(0);
        }
        if labels.is_empty() {
            return;
        }
        let base = units.len().next_multiple_of(256);
        units.resize(base + 256, 0);
        let offset = (base ^ at) as u32;
        units[at] |= offset << 10;
        if n.value.is_some() {
            units[at] |= 1 << 8;
        }
        if let Some(v) = n.value {
            units[base] = v | (1 << 31);
        }
        for &(label, child) in &n.children {
            let pos = base ^ label as usize;
            units[pos] = label as u32;
            place(nodes, child, pos, units);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(pc: &Precompiled, text: &str) -> NormalizedString {
        let mut n = NormalizedString::from(text);
        pc.normalize(&mut n).unwrap();
        n
    }

    #[test]
    fn base64_round_trips() {
        for bytes in [&b""[..], b"a", b"ab", b"abc", b"abcd", &[0, 255, 128, 7, 9]] {
            let text = base64_encode(bytes);
            assert_eq!(base64_decode(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert!(base64_decode("aGVsbG8").is_none());
        assert!(base64_decode("a===").is_none());
    }

    #[test]
    fn replaces_graphemes_and_chars_with_hf_alignments() {
        let pc = Precompiled::from_rules(&[
            ("ﬁ", "fi"),
            ("①", "1"),
            ("e\u{301}", "é"),
            ("\u{200b}", ""),
        ])
        .unwrap();
        let n = normalize(&pc, "ﬁ①e\u{301}x");
        assert_eq!(n.get(), "fi1éx");
        // "fi" both point at "ﬁ" (bytes 0..3); "é" covers the whole grapheme e + U+0301.
        assert_eq!(n.normalized_to_original(0..2), Some(0..3));
        // HF aligns a shrinking replacement with the grapheme's first char only.
        assert_eq!(n.normalized_to_original(3..5), Some(6..7));
        // A deleted char is charged to the edit before it, which then swallows it.
        let n = normalize(&pc, "a\u{200b}b");
        assert_eq!(n.get(), "ab");
        assert_eq!(n.normalized_to_original(0..2), Some(0..5));
        assert_eq!(n.normalized_to_original(1..2), Some(4..5));
        assert_eq!(normalize(&pc, "plain").get(), "plain");
    }

    #[test]
    fn the_shortest_matching_key_wins() {
        let pc = Precompiled::from_rules(&[("a", "x"), ("ab", "y")]).unwrap();
        assert_eq!(pc.lookup("ab"), Some("x"));
        assert_eq!(pc.lookup("b"), None);
    }

    #[test]
    fn serializes_the_blob_unchanged() {
        let pc = Precompiled::from_rules(&[("ﬁ", "fi")]).unwrap();
        let json = serde_json::to_string(&pc).unwrap();
        let back: Precompiled = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pc);
        // Hugging Face refuses an empty blob too; "AAAA" is 3 bytes, short of the 4-byte header;
        // "BAAAAA==" announces a 4-byte trie that is not there.
        for bad in [
            r#"{"precompiled_charsmap":""}"#,
            r#"{"precompiled_charsmap":"!!!!"}"#,
            r#"{"precompiled_charsmap":"AAAA"}"#,
            r#"{"precompiled_charsmap":"BAAAAA=="}"#,
            r#"{"precompiled_charsmap":null}"#,
        ] {
            assert!(serde_json::from_str::<Precompiled>(bad).is_err(), "{bad}");
        }
    }
}
