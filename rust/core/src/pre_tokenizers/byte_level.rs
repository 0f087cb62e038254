//! `ByteLevel`: GPT-2's pre-tokenizer. Splits with GPT-2's pattern, then rewrites every byte of
//! each piece as a printable char (see [`crate::utils::byte_to_char`]), so the BPE vocabulary
//! never needs an unknown token.
//!
//! The pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` is
//! run by a hand-written scanner ([`gpt2_pieces`]) instead of a backtracking regex engine: it is
//! linear, never overflows a stack on pathological input, and is several times faster.

use serde::{Deserialize, Serialize};
use unicode_general_category::{get_general_category, GeneralCategory as Gc};

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::utils::byte_to_char;
use crate::Result;

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteLevel {
    #[serde(default = "yes")]
    pub add_prefix_space: bool,
    #[serde(default = "yes")]
    pub trim_offsets: bool,
    #[serde(default = "yes")]
    pub use_regex: bool,
}

impl Default for ByteLevel {
    fn default() -> Self {
        ByteLevel {
            add_prefix_space: true,
            trim_offsets: true,
            use_regex: true,
        }
    }
}

/// The char classes GPT-2's pattern distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharClass {
    /// `\s`: Unicode White_Space.
    Space,
    /// `\p{L}`: general category L*.
    Letter,
    /// `\p{N}`: general category N*.
    Number,
    Other,
}

pub(crate) fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Number
        } else if c.is_ascii_whitespace() || c == '\x0b' {
            CharClass::Space
        } else {
            CharClass::Other
        };
    }
    if c.is_whitespace() {
        return CharClass::Space;
    }
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter => CharClass::Letter,
        Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber => CharClass::Number,
        _ => CharClass::Other,
    }
}

/// The classes of the ASCII chars, by byte: most text is mostly ASCII, and a table lookup is
/// cheaper than the chain of tests in [`classify`].
const ASCII_CLASSES: [CharClass; 128] = {
    let mut table = [CharClass::Other; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Number
        } else if c.is_ascii_whitespace() || c == 0x0b {
            CharClass::Space
        } else {
            CharClass::Other
        };
        b += 1;
    }
    table
};

/// The class of the char starting at byte `i` of `s`, and the byte after it.
#[inline(always)]
fn class_at(s: &str, i: usize) -> (CharClass, usize) {
    let b = s.as_bytes()[i];
    if b < 0x80 {
        return (ASCII_CLASSES[b as usize], i + 1);
    }
    let c = s[i..]
        .chars()
        .next()
        .expect("i is a char boundary inside s");
    (classify(c), i + c.len_utf8())
}

/// The byte where the run of `class` chars starting at byte `i` ends.
#[inline(always)]
fn run_end(s: &str, mut i: usize, class: CharClass) -> usize {
    let bytes = s.as_bytes();
    let n = s.len();
    // The ASCII stretch first, a byte at a time with no char decoding.
    while i < n && bytes[i] < 0x80 && ASCII_CLASSES[bytes[i] as usize] == class {
        i += 1;
    }
    while i < n {
        let (k_class, next) = class_at(s, i);
        if k_class != class {
            return i;
        }
        i = next;
    }
    n
}

/// Byte ranges of the pieces GPT-2's pattern finds in `s`, in order; together they cover `s`.
pub fn gpt2_pieces(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(s.len() / 4 + 1);
    out.extend(Gpt2Pieces::new(s));
    out
}

/// The pieces of [`gpt2_pieces`] one at a time: one pass over the bytes, looking at most two
/// chars ahead, allocating nothing.
pub struct Gpt2Pieces<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Gpt2Pieces<'a> {
    pub fn new(s: &'a str) -> Self {
        Gpt2Pieces { s, i: 0 }
    }
}

impl Iterator for Gpt2Pieces<'_> {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        let s = self.s;
        let bytes = s.as_bytes();
        let n = s.len();
        let i = self.i;
        if i >= n {
            return None;
        }
        let c = bytes[i];
        let (class, next) = class_at(s, i);
        // Contractions: 's 't 'm 'd 're 've 'll (lowercase only, as in the pattern).
        if c == b'\'' && next < n {
            let after = next + 1;
            let end = match bytes[next] {
                b's' | b't' | b'm' | b'd' => Some(after),
                b'r' | b'v' if after < n && bytes[after] == b'e' => Some(after + 1),
                b'l' if after < n && bytes[after] == b'l' => Some(after + 1),
                _ => None,
            };
            if let Some(end) = end {
                self.i = end;
                return Some((i, end));
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space, then a run.
        let (body_start, body_class) = if c == b' ' && next < n {
            match class_at(s, next).0 {
                CharClass::Space => (i, class),
                other => (next, other),
            }
        } else {
            (i, class)
        };
        if body_class != CharClass::Space {
            let end = run_end(s, body_start, body_class);
            self.i = end;
            return Some((i, end));
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run leaves its last char to the next piece when a
        // non-space follows (so " word" keeps its space), unless the run is a single char.
        let mut end = next;
        let mut last_start = i;
        let mut count = 1;
        while end < n {
            let (k_class, k_next) = class_at(s, end);
            if k_class != CharClass::Space {
                break;
            }
            last_start = end;
            end = k_next;
            count += 1;
        }
        if end < n && count > 1 {
            end = last_start;
        }
        self.i = end;
        Some((i, end))
    }
}

impl PreTokenizer for ByteLevel {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, mut n| {
            if self.add_prefix_space && !n.get().starts_with(' ') {
                n.prepend(" ");
            }
            if self.use_regex {
                let pieces = gpt2_pieces(n.get());
                Ok(n.split_at(&pieces, SplitDelimiterBehavior::Isolated))
            } else {
                Ok(vec![n])
            }
        })?;
        let table = byte_to_char();
        p.normalize(|n| {
            if n.get().is_ascii() && n.get().bytes().all(|b| table[b as usize] == b as char) {
                // Printable ASCII maps to itself: nothing to rewrite.
                return Ok(());
            }
            let mut dest = Vec::with_capacity(n.len());
            for c in n.get().chars() {
                let mut buf = [0u8; 4];
                for (k, b) in c.encode_utf8(&mut buf).bytes().enumerate() {
                    dest.push((table[b as usize], isize::from(k > 0)));
                }
            }
            n.transform(dest, 0);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    fn split(s: &str) -> Vec<&str> {
        gpt2_pieces(s).into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn gpt2_pattern() {
        assert_eq!(split("Hello world"), ["Hello", " world"]);
        assert_eq!(
            split("I'm   here!!'s"),
            ["I", "'m", "  ", " here", "!!'", "s"]
        );
        assert_eq!(split("a  \nb"), ["a", "  ", "\n", "b"]);
        assert_eq!(split("x   "), ["x", "   "]);
        assert_eq!(split(" 123 ½"), [" 123", " ½"]);
        assert_eq!(split("a\u{301}b"), ["a", "\u{301}", "b"]);
        assert_eq!(split("'"), ["'"]);
    }

    #[test]
    fn scan_matches_the_regex_on_real_text() {
        // GPT-2's pattern as a regex, on paragraphs of all 7 languages and on runs of letters
        // of many lengths next to digits, marks, spaces and non-ASCII letters.
        let pattern = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
        let regex = fancy_regex::Regex::new(pattern).unwrap();
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
        let mut texts = Vec::new();
        for lang in ["en", "de", "es", "it", "pl", "ru", "zh"] {
            let text = std::fs::read_to_string(format!("{shared}/{lang}.txt")).unwrap();
            texts.extend(text.split("\n\n").take(300).map(str::to_owned));
        }
        for n in 0..20 {
            for tail in ["", "1", "é", "\u{301}", " ", "!", "Ž", "x\u{0}"] {
                texts.push(format!("{} {}{tail}ab", "a".repeat(n), "B".repeat(n)));
            }
        }
        for text in &texts {
            let expected: Vec<(usize, usize)> = regex
                .find_iter(text)
                .map(|m| m.map(|m| (m.start(), m.end())).unwrap())
                .collect();
            assert_eq!(gpt2_pieces(text), expected, "{text:?}");
        }
    }

    #[test]
    fn bytes_become_printable_chars() {
        let pre = ByteLevel {
            add_prefix_space: false,
            ..Default::default()
        };
        let got = pieces(&pre, "Hello my friend, é");
        let words: Vec<_> = got.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(words, ["Hello", "Ġmy", "Ġfriend", ",", "ĠÃ©"]);
        assert_eq!(got[4].1, (16, 19));
    }
}
