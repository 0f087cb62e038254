//! Unigram: SentencePiece's unigram language model, as Hugging Face `tokenizers` runs it (T5,
//! ALBERT, XLNet, mBART...). Every vocabulary entry has a score (a log probability); a piece is
//! cut into the sequence of entries with the highest total score.
//!
//! The best segmentation is found by Viterbi over byte positions: walking the piece char by
//! char, every vocabulary entry that starts there (found in one walk down a byte trie) offers a
//! path to where it ends. A char that no single-char entry covers may also be crossed as an
//! unknown token, scored [`UNK_PENALTY`] below the lowest score in the vocabulary. Consecutive
//! unknown chars are fused into one token whose text is the raw chars; with `byte_fallback` it
//! is spelled as `<0xNN>` tokens instead, when the vocabulary has them all.
//!
//! ```
//! use ferroformers_core::models::{unigram::Unigram, Model};
//!
//! let vocab = [("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5), ("abc", -4.0)];
//! let vocab = vocab.map(|(t, s)| (t.to_string(), s)).to_vec();
//! let model = Unigram::new(vocab, Some(0), false).unwrap();
//! let tokens = model.tokenize("abxyb").unwrap();
//! let values: Vec<&str> = tokens.iter().map(|t| t.value.as_str()).collect();
//! assert_eq!(values, ["ab", "xy", "b"]); // "xy" is one fused unknown token
//! assert_eq!((tokens[1].id, tokens[1].offsets), (0, (2, 4)));
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::piece_cache::PieceCache;
use super::{Model, Token};
use crate::{Error, Result};

/// How far below the lowest vocabulary score an unknown char is scored (SentencePiece's value).
pub const UNK_PENALTY: f64 = 10.0;

/// A Unigram model. Deserializes from (and serializes to) the `model` object of a
/// `tokenizer.json` with `"type": "Unigram"`: `{"unk_id": 0, "vocab": [["<unk>", 0.0], ...],
/// "byte_fallback": false}`.
/// A clone starts with an empty cache (the cache's `Clone` makes it empty).
#[derive(Clone, Deserialize)]
#[serde(try_from = "UnigramConfig")]
pub struct Unigram {
    /// `(token, score)` by id.
    pieces: Vec<(String, f64)>,
    /// Token → id; a token listed twice keeps its last id, as in Hugging Face.
    ids: FxHashMap<String, u32>,
    trie: PrefixTrie,
    unk_id: Option<u32>,
    /// The score of an unknown char: the lowest score minus [`UNK_PENALTY`].
    unk_score: f64,
    byte_fallback: bool,
    /// The id of `<0xNN>` for each byte, when `byte_fallback` is on.
    byte_ids: Option<Box<[Option<u32>; 256]>>,
    cache: PieceCache<Token>,
}

impl Unigram {
    /// Builds a model from `(token, score)` entries in id order.
    ///
    /// Fails when `unk_id` is given but is not an id of the vocabulary.
    pub fn new(
        vocab: Vec<(String, f64)>,
        unk_id: Option<usize>,
        byte_fallback: bool,
    ) -> Result<Unigram> {
        Unigram::from_parts(vocab, unk_id, byte_fallback).map_err(Error::invalid)
    }

    fn from_parts(
        pieces: Vec<(String, f64)>,
        unk_id: Option<usize>,
        byte_fallback: bool,
    ) -> std::result::Result<Unigram, String> {
        if let Some(unk) = unk_id {
            if pieces.is_empty() {
                return Err("Unigram: the vocabulary is empty, but unk_id needs an entry".into());
            }
            if unk >= pieces.len() {
                return Err(format!(
                    "Unigram: unk_id {unk} is out of range: the vocabulary has {} entries",
                    pieces.len()
                ));
            }
        }
        if pieces.len() > u32::MAX as usize {
            return Err("Unigram: the vocabulary has more than 2^32 entries".into());
        }
        let mut ids = FxHashMap::default();
        ids.reserve(pieces.len());
        for (id, (token, _)) in pieces.iter().enumerate() {
            ids.insert(token.clone(), id as u32);
        }
        let mut trie = PrefixTrie::default();
        for (token, &id) in &ids {
            trie.insert(token, id);
        }
        let min_score = pieces
            .iter()
            .map(|&(_, score)| score)
            .fold(f64::INFINITY, f64::min);
        let byte_ids = byte_fallback.then(|| {
            let mut table = Box::new([None; 256]);
            for (byte, slot) in table.iter_mut().enumerate() {
                *slot = ids.get(&format!("<0x{byte:02X}>")).copied();
            }
            table
        });
        Ok(Unigram {
            pieces,
            ids,
            trie,
            unk_id: unk_id.map(|id| id as u32),
            unk_score: min_score - UNK_PENALTY,
            byte_fallback,
            byte_ids,
            cache: PieceCache::new(),
        })
    }

    /// The vocabulary as `(token, score)` entries in id order.
    pub fn pieces(&self) -> &[(String, f64)] {
        &self.pieces
    }

    pub fn unk_id(&self) -> Option<u32> {
        self.unk_id
    }

    pub fn byte_fallback(&self) -> bool {
        self.byte_fallback
    }

    /// Forgets the cached tokenizations (they stay valid; this only frees memory).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// The best segmentation of `piece` as `(id, start, end)` segments (byte offsets); runs of
    /// unknown chars come out fused, with `unk_id` as their id.
    fn segment(&self, piece: &str) -> Result<Vec<(u32, usize, usize)>> {
        // best[end]: the best path from 0 to byte `end`, as its score and its last step.
        #[derive(Clone, Copy)]
        struct Best {
            score: f64,
            start: usize,
            id: u32,
        }
        const UNREACHED: usize = usize::MAX;
        let bytes = piece.as_bytes();
        let mut best = vec![
            Best {
                score: 0.0,
                start: UNREACHED,
                id: 0,
            };
            bytes.len() + 1
        ];
        for (start, c) in piece.char_indices() {
            let base = best[start].score;
            let char_end = start + c.len_utf8();
            let mut has_single_char = false;
            self.trie.for_each_prefix(&bytes[start..], |len, id| {
                let end = start + len;
                let score = self.pieces[id as usize].1 + base;
                let node = &mut best[end];
                // Strictly greater: on a tie the path found first (the earlier start) stays.
                if node.start == UNREACHED || score > node.score {
                    *node = Best { score, start, id };
                }
                has_single_char |= end == char_end;
            });
            if !has_single_char {
                let score = self.unk_score + base;
                let node = &mut best[char_end];
                if node.start == UNREACHED || score > node.score {
                    let id = self.unk_id.ok_or_else(|| {
                        Error::Model(format!(
                            "Unigram: {c:?} is not in the vocabulary and the model has no unk_id"
                        ))
                    })?;
                    *node = Best { score, start, id };
                }
            }
        }

        // Walk the best path back from the end, fusing consecutive unknown segments (Hugging
        // Face fuses every segment whose id is `unk_id`, the unk token's own text included).
        let mut segments = Vec::new();
        let mut unknown_end: Option<usize> = None;
        let mut end = bytes.len();
        while end > 0 {
            let node = best[end];
            if Some(node.id) == self.unk_id {
                unknown_end.get_or_insert(end);
            } else {
                if let Some(e) = unknown_end.take() {
                    segments.push((self.unk_id.unwrap_or_default(), end, e));
                }
                segments.push((node.id, node.start, end));
            }
            end = node.start;
        }
        if let Some(e) = unknown_end {
            segments.push((self.unk_id.unwrap_or_default(), 0, e));
        }
        segments.reverse();
        Ok(segments)
    }

    fn tokens(&self, piece: &str) -> Result<Vec<Token>> {
        let segments = self.segment(piece)?;
        let mut tokens = Vec::with_capacity(segments.len());
        for (id, start, end) in segments {
            let text = &piece[start..end];
            if Some(id) != self.unk_id {
                tokens.push(Token::new(id, text.to_string(), (start, end)));
                continue;
            }
            // A fused run is looked up as a whole (it may be in the vocabulary), then spelled
            // byte by byte, each byte token spanning the whole run, then left as one unknown
            // token whose text is the run itself.
            if let Some(&id) = self.ids.get(text) {
                tokens.push(Token::new(id, text.to_string(), (start, end)));
                continue;
            }
            if let Some(byte_ids) = &self.byte_ids {
                let spelled: Option<Vec<u32>> =
                    text.bytes().map(|b| byte_ids[b as usize]).collect();
                if let Some(spelled) = spelled {
                    tokens.extend(
                        text.bytes()
                            .zip(spelled)
                            .map(|(b, id)| Token::new(id, format!("<0x{b:02X}>"), (start, end))),
                    );
                    continue;
                }
            }
            tokens.push(Token::new(id, text.to_string(), (start, end)));
        }
        Ok(tokens)
    }
}

impl Model for Unigram {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        if piece.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(tokens) = self.cache.get(piece.as_bytes(), |tokens| tokens.to_vec()) {
            return Ok(tokens);
        }
        let tokens = self.tokens(piece)?;
        self.cache.insert(piece.as_bytes(), tokens.as_slice());
        Ok(tokens)
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    fn id_to_token(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).map(|(t, _)| t.as_str())
    }

    fn vocab(&self) -> HashMap<String, u32> {
        self.ids.iter().map(|(t, &id)| (t.clone(), id)).collect()
    }

    fn vocab_size(&self) -> usize {
        self.pieces.len()
    }
}

impl std::fmt::Debug for Unigram {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Unigram")
            .field("vocab_size", &self.pieces.len())
            .field("unk_id", &self.unk_id)
            .field("byte_fallback", &self.byte_fallback)
            .finish()
    }
}

/// The vocabulary as a byte trie, to find every entry that starts at a position in one walk.
#[derive(Debug, Clone)]
struct PrefixTrie {
    /// `node << 8 | byte` → child node; node 0 is the root.
    edges: FxHashMap<u64, u32>,
    /// The id of the entry that ends at each node, or `NO_ENTRY`.
    entries: Vec<u32>,
}

const NO_ENTRY: u32 = u32::MAX;

impl Default for PrefixTrie {
    fn default() -> Self {
        PrefixTrie {
            edges: FxHashMap::default(),
            entries: vec![NO_ENTRY],
        }
    }
}

impl PrefixTrie {
    fn insert(&mut self, token: &str, id: u32) {
        let mut node = 0u32;
        for b in token.bytes() {
            let next = self.entries.len() as u32;
            node = *self
                .edges
                .entry(u64::from(node) << 8 | u64::from(b))
                .or_insert(next);
            if node == next {
                self.entries.push(NO_ENTRY);
            }
        }
        // The empty token is never found, as in Hugging Face: the root is not checked.
        self.entries[node as usize] = id;
    }

    /// Calls `found(length, id)` for every entry that is a prefix of `text`, shortest first.
    fn for_each_prefix(&self, text: &[u8], mut found: impl FnMut(usize, u32)) {
        let mut node = 0u32;
        for (i, &b) in text.iter().enumerate() {
            match self.edges.get(&(u64::from(node) << 8 | u64::from(b))) {
                Some(&child) => node = child,
                None => return,
            }
            let id = self.entries[node as usize];
            if id != NO_ENTRY {
                found(i + 1, id);
            }
        }
    }
}

/// The `model` object of a `tokenizer.json` with `"type": "Unigram"`.
#[derive(Deserialize)]
struct UnigramConfig {
    /// Checked when present; the `ModelWrapper` enum already consumes it when dispatching.
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    unk_id: Option<usize>,
    vocab: Vec<ScoredPiece>,
    #[serde(default)]
    byte_fallback: bool,
}

/// One `[token, score]` entry, its score as Hugging Face reads it.
struct ScoredPiece(String, f64);

impl<'de> Deserialize<'de> for ScoredPiece {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (token, score) = <(String, f64)>::deserialize(deserializer)?;
        let score = score_as_hugging_face_reads_it(score).map_err(serde::de::Error::custom)?;
        Ok(ScoredPiece(token, score))
    }
}

impl TryFrom<UnigramConfig> for Unigram {
    type Error = String;

    fn try_from(config: UnigramConfig) -> std::result::Result<Unigram, String> {
        if let Some(kind) = config.kind.as_deref().filter(|&k| k != "Unigram") {
            return Err(format!("expected a Unigram model, found type {kind:?}"));
        }
        let pieces = config.vocab.into_iter().map(|p| (p.0, p.1)).collect();
        Unigram::from_parts(pieces, config.unk_id, config.byte_fallback)
    }
}

impl Serialize for Unigram {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut model = serializer.serialize_struct("Unigram", 3)?;
        model.serialize_field("unk_id", &self.unk_id)?;
        model.serialize_field("vocab", &self.pieces)?;
        model.serialize_field("byte_fallback", &self.byte_fallback)?;
        model.end()
    }
}

/// The value Hugging Face `tokenizers` gets for a score written in a `tokenizer.json`.
///
/// It reads numbers with serde_json's fast path (without the `float_roundtrip` feature): the
/// decimal digits are gathered into an integer, converted to `f64`, then divided (or multiplied)
/// by a power of ten. With 17 significant digits that is two roundings, and the result is one
/// ulp off the exact value for about a fifth of a typical vocabulary. Viterbi ties and
/// near-ties are decided on these values, so we must use them too. Our parser reads the exact
/// value; from it we recover the digits the file holds, namely the shortest ones that round-trip,
/// which is what serde_json and Python write, and redo the fast path on them.
fn score_as_hugging_face_reads_it(exact: f64) -> std::result::Result<f64, String> {
    if !exact.is_finite() {
        return Ok(exact);
    }
    // The shortest round-trip digits, as `d.ddde±x`.
    let text = format!("{:e}", exact.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mut exponent: i32 = exponent.parse().map_err(|_| "bad float".to_string())?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut significand: u64 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        significand = significand * 10 + u64::from(digit - b'0');
    }
    exponent -= fraction.len() as i32;

    let mut value = significand as f64;
    loop {
        match powers_of_ten().get(exponent.unsigned_abs() as usize) {
            Some(&power) => {
                if exponent >= 0 {
                    value *= power;
                } else {
                    value /= power;
                }
                break;
            }
            None if value == 0.0 => break,
            None if exponent >= 0 => return Err(format!("score {exact} is out of range")),
            None => {
                value /= 1e308;
                exponent += 308;
            }
        }
    }
    if value.is_infinite() {
        return Err(format!("score {exact} is out of range"));
    }
    Ok(if exact.is_sign_negative() {
        -value
    } else {
        value
    })
}

/// `1e0` to `1e308`, each the nearest `f64` (as the literals in serde_json's table are).
fn powers_of_ten() -> &'static [f64] {
    static POWERS: OnceLock<Vec<f64>> = OnceLock::new();
    POWERS.get_or_init(|| {
        (0..=308)
            .map(|e| format!("1e{e}").parse().unwrap_or(f64::INFINITY))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unigram(vocab: &[(&str, f64)], unk_id: Option<usize>, byte_fallback: bool) -> Unigram {
        let vocab = vocab.iter().map(|&(t, s)| (t.to_string(), s)).collect();
        Unigram::new(vocab, unk_id, byte_fallback).unwrap()
    }

    /// `(value, id, start, end)` of each token.
    fn tokens(model: &Unigram, piece: &str) -> Vec<(String, u32, usize, usize)> {
        model
            .tokenize(piece)
            .unwrap()
            .into_iter()
            .map(|t| (t.value, t.id, t.offsets.0, t.offsets.1))
            .collect()
    }

    fn values(model: &Unigram, piece: &str) -> Vec<String> {
        tokens(model, piece).into_iter().map(|t| t.0).collect()
    }

    fn t(value: &str, id: u32, start: usize, end: usize) -> (String, u32, usize, usize) {
        (value.to_string(), id, start, end)
    }

    #[test]
    fn highest_total_score_wins() {
        // Hugging Face's own example: "abcd" (10) beats every split of it.
        let model = unigram(
            &[
                ("<unk>", 0.0),
                ("a", 0.0),
                ("b", 0.0),
                ("c", 0.0),
                ("d", 0.0),
                ("cd", 1.0),
                ("ab", 2.0),
                ("abc", 5.0),
                ("abcd", 10.0),
            ],
            Some(0),
            false,
        );
        assert_eq!(values(&model, "abcdacdxx"), ["abcd", "a", "cd", "xx"]);
        assert_eq!(
            tokens(&model, "abcdacdxx")[3],
            t("xx", 0, 7, 9),
            "unknown chars are fused, with their own text"
        );
    }

    #[test]
    fn ties_keep_the_path_with_the_earliest_last_step() {
        // "ab"+"c" and "a"+"bc" both score -2: the path whose last token starts earlier, and
        // so is longer, wins.
        let model = unigram(
            &[
                ("<unk>", 0.0),
                ("a", -1.0),
                ("ab", -1.0),
                ("bc", -1.0),
                ("c", -1.0),
                ("b", -5.0),
            ],
            Some(0),
            false,
        );
        assert_eq!(values(&model, "abc"), ["a", "bc"]);
    }

    #[test]
    fn unknown_chars_cost_the_penalty_below_the_lowest_score() {
        // The lowest score is -30, so an unknown "é" costs -40: "x" + "é" + "y" totals -20,
        // against "xé" + "y".
        let model = |xe: f64| {
            let vocab = [
                ("<unk>", 0.0),
                ("x", 20.0),
                ("y", 0.0),
                ("z", -30.0),
                ("xé", xe),
            ];
            unigram(&vocab, Some(0), false)
        };
        assert_eq!(
            tokens(&model(-21.0), "xéy"),
            [t("x", 1, 0, 1), t("é", 0, 1, 3), t("y", 2, 3, 4)]
        );
        assert_eq!(
            tokens(&model(-19.0), "xéy"),
            [t("xé", 4, 0, 3), t("y", 2, 3, 4)]
        );
    }

    #[test]
    fn the_unk_tokens_own_text_fuses_with_unknown_chars() {
        let model = unigram(&[("<unk>", 0.0), ("a", -1.0)], Some(0), false);
        assert_eq!(
            tokens(&model, "a☃<unk>☃a"),
            [t("a", 1, 0, 1), t("☃<unk>☃", 0, 1, 12), t("a", 1, 12, 13)]
        );
        assert_eq!(tokens(&model, "<unk>"), [t("<unk>", 0, 0, 5)]);
    }

    #[test]
    fn byte_fallback_spells_unknown_runs() {
        let mut vocab = vec![("<unk>".to_string(), 0.0), ("a".to_string(), -1.0)];
        for b in [0xE2u8, 0x98, 0x83] {
            vocab.push((format!("<0x{b:02X}>"), -2.0));
        }
        let model = Unigram::new(vocab, Some(0), true).unwrap();
        // Every byte token spans the whole fused run.
        assert_eq!(
            tokens(&model, "a☃☃"),
            [
                t("a", 1, 0, 1),
                t("<0xE2>", 2, 1, 7),
                t("<0x98>", 3, 1, 7),
                t("<0x83>", 4, 1, 7),
                t("<0xE2>", 2, 1, 7),
                t("<0x98>", 3, 1, 7),
                t("<0x83>", 4, 1, 7),
            ]
        );
        // A byte missing from the vocabulary leaves the whole run unknown.
        assert_eq!(tokens(&model, "☃é"), [t("☃é", 0, 0, 5)]);
    }

    #[test]
    fn no_unk_id_is_an_error_only_when_needed() {
        let model = unigram(&[("a", -1.0)], None, false);
        assert_eq!(values(&model, "aa"), ["a", "a"]);
        let err = model.tokenize("ab").unwrap_err();
        assert!(
            matches!(&err, Error::Model(m) if m.contains("'b'")),
            "{err}"
        );
        assert!(Unigram::new(vec![], Some(0), false).is_err());
        assert!(Unigram::new(vec![("a".into(), 0.0)], Some(1), false).is_err());
        assert!(unigram(&[], None, false).tokenize("").unwrap().is_empty());
    }

    #[test]
    fn duplicate_tokens_keep_their_last_id() {
        let model = unigram(&[("<unk>", 0.0), ("a", -1.0), ("a", -2.0)], Some(0), false);
        assert_eq!(tokens(&model, "a"), [t("a", 2, 0, 1)]);
        assert_eq!(model.token_to_id("a"), Some(2));
        assert_eq!(model.id_to_token(1), Some("a"));
        assert_eq!(model.vocab().len(), 2);
        assert_eq!(model.vocab_size(), 3);
    }

    #[test]
    fn scores_are_read_as_hugging_face_reads_them() {
        // serde_json's fast path lands one ulp below the exact value here.
        let exact: f64 = "-7.2160691988397225".parse().unwrap();
        let read = score_as_hugging_face_reads_it(exact).unwrap();
        assert_eq!(read, "-7.216069198839723".parse::<f64>().unwrap());
        assert_ne!(read, exact);
        for s in [0.0, -0.0, -1.5, -2.5980433666640455, 5e-324, -1e-300, 1e300] {
            let read = score_as_hugging_face_reads_it(s).unwrap();
            assert!(
                read == s || (read - s).abs() <= s.abs() * 1e-15,
                "{s}: {read}"
            );
            assert_eq!(read.is_sign_negative(), s.is_sign_negative());
        }
        let json = r#"{"unk_id":0,"vocab":[["<unk>",0.0],["am",-7.2160691988397225]]}"#;
        let model: Unigram = serde_json::from_str(json).unwrap();
        assert_eq!(model.pieces()[1].1, read_back("-7.216069198839723"));
    }

    fn read_back(s: &str) -> f64 {
        s.parse().unwrap()
    }

    #[test]
    fn serializes_like_hugging_face() {
        let json = r#"{"type":"Unigram","unk_id":1,"vocab":[["a",-0.5],["<unk>",0.0]],"byte_fallback":false}"#;
        let model: super::super::ModelWrapper = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), json);
        let minimal: Unigram = serde_json::from_str(r#"{"vocab":[["a",-1]]}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&minimal).unwrap(),
            r#"{"unk_id":null,"vocab":[["a",-1.0]],"byte_fallback":false}"#
        );
        assert!(serde_json::from_str::<Unigram>(r#"{"unk_id":0}"#).is_err());
        assert!(serde_json::from_str::<Unigram>(r#"{"unk_id":3,"vocab":[["a",0.0]]}"#).is_err());
        assert!(serde_json::from_str::<Unigram>(r#"{"type":"BPE","vocab":[["a",0.0]]}"#).is_err());
    }

    #[test]
    fn cached_results_agree_under_parallel_use() {
        use rayon::prelude::*;
        let mut model = unigram(
            &[("<unk>", 0.0), ("a", -1.0), ("b", -1.5), ("ab", -1.8)],
            Some(0),
            false,
        );
        let pieces: Vec<String> = (0..2000)
            .map(|i| format!("{}x{}", "ab".repeat(i % 50 + 1), "a".repeat(i % 7)))
            .collect();
        let expected: Vec<Vec<Token>> = pieces.iter().map(|p| model.tokens(p).unwrap()).collect();
        let got: Vec<Vec<Token>> = pieces
            .par_iter()
            .map(|p| model.tokenize(p).unwrap())
            .collect();
        assert_eq!(got, expected);
        model.clear_cache();
        assert_eq!(model.tokenize(&pieces[3]).unwrap(), expected[3]);
    }

    #[test]
    fn long_pieces_are_linear_in_the_token_length() {
        let model = unigram(&[("<unk>", 0.0), ("a", -1.0), ("aa", -1.5)], Some(0), false);
        let piece = "a".repeat(100_001);
        let out = model.tokenize(&piece).unwrap();
        assert_eq!(out.len(), 50_001);
        // Among equal paths the one whose steps start earliest wins: the lone "a" comes first.
        assert_eq!(out[0].offsets, (0, 1));
        assert_eq!(out.last().unwrap().offsets, (99_999, 100_001));
    }
}
