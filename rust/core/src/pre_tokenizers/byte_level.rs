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
    gpt2_pieces_into(s, &mut out);
    out
}

/// How many bytes [`gpt2_pieces_into`] classifies at once: one bit of a `u64` each.
const BLOCK: usize = 64;
/// How far the char loop goes on before blocks are tried again, in a block that is mostly
/// non-ASCII.
const NON_ASCII_STRETCH: usize = 4 * BLOCK;

/// What GPT-2's pattern needs to know of each byte of a block, one bit per byte (bit `k` is
/// byte `k`): the classes of [`ASCII_CLASSES`], whether it is a plain space (the one blank
/// that ` ?` attaches to the next run), and whether it is not ASCII at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ByteMasks {
    letter: u64,
    digit: u64,
    space: u64,
    blank: u64,
    non_ascii: u64,
}

/// [`ByteMasks`] of a block, byte by byte through [`ASCII_CLASSES`]: where there is no SSE2,
/// and as the reference of the SSE2 version's test.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn byte_masks_by_table(block: &[u8; BLOCK]) -> ByteMasks {
    let mut masks = ByteMasks::default();
    for (k, &b) in block.iter().enumerate() {
        let bit = 1u64 << k;
        if b >= 0x80 {
            masks.non_ascii |= bit;
            continue;
        }
        match ASCII_CLASSES[b as usize] {
            CharClass::Letter => masks.letter |= bit,
            CharClass::Number => masks.digit |= bit,
            CharClass::Space => masks.space |= bit,
            CharClass::Other => {}
        }
        if b == b' ' {
            masks.blank |= bit;
        }
    }
    masks
}

/// [`ByteMasks`] of a block, 16 bytes per comparison (SSE2 is part of every x86-64 CPU). The
/// ranges are [`ASCII_CLASSES`]'s; a test holds the two functions equal on every byte.
#[cfg(target_arch = "x86_64")]
fn byte_masks(block: &[u8; BLOCK]) -> ByteMasks {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut masks = ByteMasks::default();
    for lane in 0..BLOCK / 16 {
        // SAFETY: SSE2 is always available on x86-64, and the load reads bytes 16 * lane up to
        // 16 * lane + 15 of the 64-byte block, unaligned loads being allowed.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
            // Signed comparisons: bytes from 0x80 up are negative, so no range below takes them.
            let within = |v: __m128i, low: u8, high: u8| {
                let above = _mm_cmpgt_epi8(v, _mm_set1_epi8(low as i8 - 1));
                _mm_and_si128(above, _mm_cmplt_epi8(v, _mm_set1_epi8(high as i8 + 1)))
            };
            let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16) << (lane * 16);
            let blank = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
            // ORing in 0x20 folds A-Z onto a-z and takes no other byte into a-z.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            masks.letter |= bits(within(folded, b'a', b'z'));
            masks.digit |= bits(within(v, b'0', b'9'));
            masks.space |= bits(_mm_or_si128(within(v, 0x09, 0x0d), blank));
            masks.blank |= bits(blank);
            masks.non_ascii |= bits(v);
        }
    }
    masks
}

#[cfg(not(target_arch = "x86_64"))]
fn byte_masks(block: &[u8; BLOCK]) -> ByteMasks {
    byte_masks_by_table(block)
}

/// The end of the contraction (`'s 't 'm 'd 're 've 'll`) starting at byte `i`, if one does.
#[inline]
fn contraction_end(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'\'') {
        return None;
    }
    match (bytes.get(i + 1), bytes.get(i + 2)) {
        (Some(b's' | b't' | b'm' | b'd'), _) => Some(i + 2),
        (Some(b'r' | b'v'), Some(b'e')) | (Some(b'l'), Some(b'l')) => Some(i + 3),
        _ => None,
    }
}

/// [`gpt2_pieces`] appended to `out`. The same pieces as [`Gpt2Pieces`], found 64 bytes at a
/// time: the byte classes become bit masks, and where pieces start follows from each byte's
/// class and its neighbours' by a few shifts and ands, without a branch per byte (the char
/// loop mispredicts at most piece ends, which cost more than the rest of its work).
///
/// With `c` a byte's class, a byte of a block starts a piece when
/// - it begins a run of letters, digits or other chars, unless a plain space precedes it (the
///   space starts the piece: ` ?\p{L}+`);
/// - it begins a run of whitespace;
/// - it is the last of a whitespace run of two or more that a non-space follows (`\s+(?!\S)`
///   leaves it to the next piece).
///
/// Three things break that rule, and each hands over to the char loop or starts a new block:
/// contractions (a piece starting at `'` may be `'s` …, checked as each piece is emitted),
/// non-ASCII bytes (classes that need a char decoded: the char loop takes the pieces past the
/// block's last one), and runs longer than a block.
pub fn gpt2_pieces_into(s: &str, out: &mut Vec<(usize, usize)>) {
    let bytes = s.as_bytes();
    let n = bytes.len();
    // Everything before `base` is in `out`, and a piece starts at `base`.
    let mut base = 0;
    'blocks: while base < n {
        let window = &bytes[base..n.min(base + BLOCK)];
        let masks = match <&[u8; BLOCK]>::try_from(window) {
            Ok(block) => byte_masks(block),
            Err(_) => {
                let mut block = [0u8; BLOCK];
                block[..window.len()].copy_from_slice(window);
                byte_masks(&block)
            }
        };
        let valid = u64::MAX >> (BLOCK - window.len());
        let ByteMasks {
            letter,
            digit,
            space,
            blank,
            non_ascii,
        } = masks;
        let other = valid & !(letter | digit | space | non_ascii);
        let non_space = letter | digit | other;
        let run_starts = |class: u64| class & !(class << 1);
        let words = (run_starts(letter) | run_starts(digit) | run_starts(other)) & !(blank << 1);
        let last_spaces = space & (space << 1) & (non_space >> 1);
        // Bytes whose neighbours are all classified: not byte 0 (`base`, a start already), not
        // the last byte of a full block (its successor is outside), nothing from the byte
        // before the first non-ASCII byte on. A window at the text's end has no successor.
        let reaches_end = base + BLOCK >= n;
        let mut decided = if reaches_end { valid } else { valid >> 1 };
        if non_ascii != 0 {
            decided &= ((1u64 << non_ascii.trailing_zeros()) - 1) >> 1;
        }
        let mut starts = (words | run_starts(space) | last_spaces) & decided & !1;
        let mut start = base;
        while starts != 0 {
            let next = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if let Some(end) = contraction_end(bytes, start).filter(|&end| end != next) {
                // The contraction swallows the class change after `'`; the bits past it
                // assumed that change, so a new block starts at its end.
                out.push((start, end));
                base = end;
                continue 'blocks;
            }
            out.push((start, next));
            start = next;
        }
        if reaches_end && non_ascii == 0 {
            match contraction_end(bytes, start).filter(|&end| end < n) {
                Some(end) => {
                    out.push((start, end));
                    base = end;
                }
                None => {
                    out.push((start, n));
                    base = n;
                }
            }
            continue;
        }
        if start > base {
            base = start;
            continue;
        }
        // No piece ends inside the block's decided bytes: the char loop takes pieces until it
        // is past the block's last non-ASCII byte (or past the block, for a long run). Text
        // that is mostly non-ASCII (Cyrillic, CJK) stays with the char loop for a few blocks,
        // rather than classifying blocks it cannot use.
        let past = match non_ascii {
            0 => base + BLOCK - 1,
            _ if non_ascii.count_ones() as usize > BLOCK / 4 => base + NON_ASCII_STRETCH,
            _ => base + (BLOCK - non_ascii.leading_zeros() as usize),
        };
        let mut chars = Gpt2Pieces { s, i: base };
        for (a, b) in chars.by_ref() {
            out.push((a, b));
            if b >= past {
                break;
            }
        }
        base = chars.i;
    }
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
    fn byte_masks_agree_with_the_class_table_on_every_byte() {
        for first in (0..256).step_by(BLOCK) {
            let mut block = [0u8; BLOCK];
            for (k, b) in block.iter_mut().enumerate() {
                *b = (first + k) as u8;
            }
            assert_eq!(
                byte_masks(&block),
                byte_masks_by_table(&block),
                "bytes {first}.."
            );
            // The same bytes in other lanes.
            block.reverse();
            assert_eq!(
                byte_masks(&block),
                byte_masks_by_table(&block),
                "bytes {first}.. reversed"
            );
        }
    }

    /// The block scanner cuts exactly as the char loop: on real paragraphs of every language,
    /// and on random strings of the pieces that break its rule (contractions, each kind of
    /// whitespace, non-ASCII letters, marks and spaces, runs longer than a block), at every
    /// length across block edges.
    #[test]
    fn block_scanner_equals_the_char_loop() {
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
        let mut texts = Vec::new();
        for lang in ["en", "de", "es", "it", "pl", "ru", "zh"] {
            let text = std::fs::read_to_string(format!("{shared}/{lang}.txt")).unwrap();
            texts.extend(text.split("\n\n").take(2000).map(str::to_owned));
        }
        let parts = [
            "a", "Zq", "word", "7", "2024", " ", "  ", "\t", "\n", "\u{b}", "\u{c}", "\r", "'",
            "'s", "'t", "'re", "'ve", "'ll", "'d", "'m", "'x", "'r", "'l", "!", "--", ".\"", "é",
            "\u{a0}", "\u{3000}", "\u{301}", "中文", "😀", "\u{0}", "\u{1f}", "\u{7f}", "½",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for _ in 0..20_000 {
            let mut text = String::new();
            let target = random(300);
            while text.len() < target {
                let part = parts[random(parts.len())];
                let repeat = if random(20) == 0 { 1 + random(90) } else { 1 };
                text.push_str(&part.repeat(repeat));
            }
            texts.push(text);
        }
        for text in &texts {
            let chars: Vec<(usize, usize)> = Gpt2Pieces::new(text).collect();
            assert_eq!(gpt2_pieces(text), chars, "{text:?}");
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
