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

/// Byte ranges of the pieces GPT-2's pattern finds in `s`, in order; together they cover `s`.
pub fn gpt2_pieces(s: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char, CharClass)> =
        s.char_indices().map(|(i, c)| (i, c, classify(c))).collect();
    let n = chars.len();
    let byte_at = |k: usize| if k < n { chars[k].0 } else { s.len() };
    // Length (in chars) of the run of `class` starting at char `k`.
    let run = |k: usize, class: CharClass| chars[k..].iter().take_while(|x| x.2 == class).count();
    let mut out = Vec::with_capacity(n / 3 + 1);
    let mut i = 0;
    while i < n {
        let (_, c, class) = chars[i];
        // Contractions: 's 't 'm 'd 're 've 'll (lowercase only, as in the pattern).
        if c == '\'' && i + 1 < n {
            let c1 = chars[i + 1].1;
            let len = match c1 {
                's' | 't' | 'm' | 'd' => 2,
                'r' | 'v' if i + 2 < n && chars[i + 2].1 == 'e' => 3,
                'l' if i + 2 < n && chars[i + 2].1 == 'l' => 3,
                _ => 0,
            };
            if len > 0 {
                out.push((byte_at(i), byte_at(i + len)));
                i += len;
                continue;
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space, then a run.
        let (body_start, body_class) =
            if c == ' ' && i + 1 < n && chars[i + 1].2 != CharClass::Space {
                (i + 1, chars[i + 1].2)
            } else {
                (i, class)
            };
        if body_class != CharClass::Space {
            let end = body_start + run(body_start, body_class);
            out.push((byte_at(i), byte_at(end)));
            i = end;
            continue;
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run leaves its last char to the next piece when a
        // non-space follows (so " word" keeps its space), unless the run is a single char.
        let len = run(i, CharClass::Space);
        let end = if i + len < n && len > 1 {
            i + len - 1
        } else {
            i + len
        };
        out.push((byte_at(i), byte_at(end)));
        i = end;
    }
    out
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
