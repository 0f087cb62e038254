//! Small shared pieces: the GPT-2 byte ↔ printable-char alphabet used by byte-level BPE.

use std::sync::OnceLock;

/// Writes `raw`'s byte-level spelling into `out` (cleared first): each byte as its
/// [`byte_to_char`] char, as the `ByteLevel` pre-tokenizer rewrites pieces.
pub fn byte_level_spelling(raw: &str, out: &mut String) {
    let table = byte_to_char();
    out.clear();
    out.extend(raw.bytes().map(|b| table[b as usize]));
}

/// GPT-2's reversible map from each byte to a printable Unicode char: printable Latin-1 bytes map
/// to themselves, the others to U+0100 and up, in byte order. Byte-level BPE vocabularies are
/// written in this alphabet (`Ġ` is the space byte).
pub fn byte_to_char() -> &'static [char; 256] {
    static TABLE: OnceLock<[char; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ['\0'; 256];
        let mut next_extra = 0u32;
        for (byte, slot) in table.iter_mut().enumerate() {
            let b = byte as u32;
            let printable = (0x21..=0x7E).contains(&b)
                || (0xA1..=0xAC).contains(&b)
                || (0xAE..=0xFF).contains(&b);
            *slot = if printable {
                char::from_u32(b).unwrap()
            } else {
                let c = char::from_u32(256 + next_extra).unwrap();
                next_extra += 1;
                c
            };
        }
        table
    })
}

/// The inverse of [`byte_to_char`]: `None` for chars outside the alphabet.
pub fn char_to_byte(c: char) -> Option<u8> {
    static INVERSE: OnceLock<rustc_hash::FxHashMap<char, u8>> = OnceLock::new();
    INVERSE
        .get_or_init(|| {
            byte_to_char()
                .iter()
                .enumerate()
                .map(|(b, &c)| (c, b as u8))
                .collect()
        })
        .get(&c)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_gpt2s() {
        let t = byte_to_char();
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[b'a' as usize], 'a');
        for b in 0..=255u8 {
            assert_eq!(char_to_byte(t[b as usize]), Some(b));
        }
    }
}

/// A `{"String": ...}` or `{"Regex": ...}` pattern, as `tokenizer.json` writes them for Split,
/// Replace (normalizer and decoder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PatternSpec {
    String(String),
    Regex(String),
}

/// A compiled [`PatternSpec`]. Hugging Face compiles regexes with Oniguruma; we use the `regex`
/// crate (linear time, no backtracking) and fall back to `fancy-regex` only for patterns that need
/// look-around or backreferences.
#[derive(Debug, Clone)]
pub enum Pattern {
    Literal(String),
    Regex(regex::Regex),
    Fancy(fancy_regex::Regex),
}

impl Pattern {
    pub fn compile(spec: &PatternSpec) -> Result<Pattern, String> {
        match spec {
            PatternSpec::String(s) => Ok(Pattern::Literal(s.clone())),
            PatternSpec::Regex(r) => match regex::Regex::new(r) {
                Ok(re) => Ok(Pattern::Regex(re)),
                Err(_) => fancy_regex::Regex::new(r)
                    .map(Pattern::Fancy)
                    .map_err(|e| format!("invalid regex {r:?}: {e}")),
            },
        }
    }

    /// Byte ranges of every non-overlapping match, left to right.
    pub fn find_iter(&self, haystack: &str) -> Result<Vec<(usize, usize)>, String> {
        match self {
            Pattern::Literal(s) => {
                if s.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(haystack
                    .match_indices(s.as_str())
                    .map(|(i, m)| (i, i + m.len()))
                    .collect())
            }
            Pattern::Regex(re) => Ok(re
                .find_iter(haystack)
                .map(|m| (m.start(), m.end()))
                .collect()),
            Pattern::Fancy(re) => re
                .find_iter(haystack)
                .map(|m| m.map(|m| (m.start(), m.end())).map_err(|e| e.to_string()))
                .collect(),
        }
    }

    /// Replace every match by `content` in a plain string (decoders work on plain strings).
    pub fn replace_all(&self, haystack: &str, content: &str) -> Result<String, String> {
        let mut out = String::with_capacity(haystack.len());
        let mut last = 0;
        for (a, b) in self.find_iter(haystack)? {
            out.push_str(&haystack[last..a]);
            out.push_str(content);
            last = b;
        }
        out.push_str(&haystack[last..]);
        Ok(out)
    }
}
