//! `BertNormalizer`: BERT's text cleaning (drop control chars, unify whitespace), spacing around
//! CJK ideographs, optional accent stripping and lowercasing.

use serde::{Deserialize, Serialize};
use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::char::{canonical_combining_class, decompose_canonical};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BertNormalizer {
    #[serde(default = "yes")]
    pub clean_text: bool,
    #[serde(default = "yes")]
    pub handle_chinese_chars: bool,
    /// `None` means "strip accents when lowercasing", as in the original BERT.
    #[serde(default)]
    pub strip_accents: Option<bool>,
    #[serde(default = "yes")]
    pub lowercase: bool,
}

impl Default for BertNormalizer {
    fn default() -> Self {
        BertNormalizer {
            clean_text: true,
            handle_chinese_chars: true,
            strip_accents: None,
            lowercase: true,
        }
    }
}

/// Tab, newline and carriage return are control chars that BERT treats as whitespace.
pub(crate) fn is_bert_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

pub(crate) fn is_bert_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    // The only ASCII chars of the "Other" categories are the controls (Cc); answering them
    // directly skips the binary search over Unicode's tables for most chars of most text.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_other()
}

/// What [`BertNormalizer::normalize_ascii`] makes of each ASCII byte, for each combination of
/// `clean_text` (index bit 1) and `lowercase` (bit 0): the byte it becomes, or [`DROPPED`].
static ASCII_MAPS: std::sync::LazyLock<[[u8; 128]; 4]> = std::sync::LazyLock::new(|| {
    std::array::from_fn(|options| {
        let (clean_text, lowercase) = (options & 2 != 0, options & 1 != 0);
        std::array::from_fn(|b| {
            let c = char::from(b as u8);
            if clean_text && (b == 0 || is_bert_control(c)) {
                return DROPPED;
            }
            let c = if clean_text && is_bert_whitespace(c) {
                ' '
            } else {
                c
            };
            if lowercase {
                c.to_ascii_lowercase() as u8
            } else {
                c as u8
            }
        })
    })
});
/// Marks a byte that normalization removes (no ASCII byte is 0xFF).
const DROPPED: u8 = 0xFF;

/// The CJK Unified Ideographs blocks BERT pads with spaces (not Hangul, not kana).
pub(crate) fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

impl BertNormalizer {
    /// Write the normalized form of an ASCII `text` into `out`, without the alignment bookkeeping
    /// (the ids-only path). On ASCII every step is byte for byte: control chars go, whitespace
    /// becomes a space, letters are lowercased; there are no CJK chars or accents to handle.
    pub(crate) fn normalize_ascii(&self, text: &str, out: &mut String) {
        debug_assert!(text.is_ascii());
        let map = &ASCII_MAPS[usize::from(self.clean_text) << 1 | usize::from(self.lowercase)];
        // Byte by byte through the table: ASCII in, ASCII out, so no char is decoded or encoded.
        let mut bytes = std::mem::take(out).into_bytes();
        bytes.clear();
        bytes.reserve(text.len());
        let mapped = text.bytes().map(|b| map[usize::from(b)]);
        if text.bytes().any(|b| map[usize::from(b)] == DROPPED) {
            bytes.extend(mapped.filter(|&b| b != DROPPED));
        } else {
            // The usual case: nothing is dropped, and the exact-length map fills without checks.
            bytes.extend(mapped);
        }
        *out = String::from_utf8(bytes).expect("ASCII bytes are UTF-8");
    }

    /// Write the normalized form of `text` into `out` without the alignment bookkeeping (the
    /// ids-only path), one char at a time: ASCII as [`BertNormalizer::normalize_ascii`], other
    /// chars through each step in turn. Every step acts on each char alone except NFD's
    /// canonical reordering of combining marks, and that reordering cannot change the result
    /// when every mark it could move is then stripped as nonspacing. Returns `false` when
    /// some combining mark survives stripping (then `out` is unspecified and the caller takes
    /// the general path).
    pub(crate) fn normalize_without_alignments(&self, text: &str, out: &mut String) -> bool {
        if text.is_ascii() {
            self.normalize_ascii(text, out);
            return true;
        }
        out.clear();
        out.reserve(text.len());
        let strip_accents = self.strip_accents.unwrap_or(self.lowercase);
        for c in text.chars() {
            if c.is_ascii() {
                let b = c as u8;
                if self.clean_text && (b == 0 || is_bert_control(c)) {
                    continue;
                }
                let b = if self.clean_text && is_bert_whitespace(c) {
                    b' '
                } else {
                    b
                };
                out.push(char::from(if self.lowercase {
                    b.to_ascii_lowercase()
                } else {
                    b
                }));
                continue;
            }
            if self.clean_text {
                if c == '\u{fffd}' || is_bert_control(c) {
                    continue;
                }
                if is_bert_whitespace(c) {
                    out.push(' ');
                    continue;
                }
            }
            let padded = self.handle_chinese_chars && is_chinese_char(c);
            if padded {
                out.push(' ');
            }
            if strip_accents {
                let mut reorderable_mark_kept = false;
                decompose_canonical(c, |d| {
                    if d.is_mark_nonspacing() {
                        return;
                    }
                    reorderable_mark_kept |= canonical_combining_class(d) != 0;
                    self.push_lowercased(d, out);
                });
                if reorderable_mark_kept {
                    return false;
                }
            } else {
                self.push_lowercased(c, out);
            }
            if padded {
                out.push(' ');
            }
        }
        true
    }

    fn push_lowercased(&self, c: char, out: &mut String) {
        if self.lowercase {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
}

impl Normalizer for BertNormalizer {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        if self.clean_text {
            n.filter(|c| !(c == '\0' || c == '\u{fffd}' || is_bert_control(c)));
            if n.get().chars().any(|c| c != ' ' && is_bert_whitespace(c)) {
                n.map(|c| if is_bert_whitespace(c) { ' ' } else { c });
            }
        }
        if self.handle_chinese_chars && n.get().chars().any(is_chinese_char) {
            let mut dest = Vec::with_capacity(n.len() + 8);
            for c in n.get().chars() {
                if is_chinese_char(c) {
                    dest.extend([(' ', 0), (c, 1), (' ', 1)]);
                } else {
                    dest.push((c, 0));
                }
            }
            n.transform(dest, 0);
        }
        if self.strip_accents.unwrap_or(self.lowercase) && !n.get().is_ascii() {
            n.nfd();
            n.filter(|c| !c.is_mark_nonspacing());
        }
        if self.lowercase {
            n.lowercase();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::bert::is_bert_punctuation;
    use unicode_categories::UnicodeCategories;

    #[test]
    fn ascii_fast_paths_agree_with_the_unicode_tables() {
        for c in (0u8..128).map(char::from) {
            let control = !matches!(c, '\t' | '\n' | '\r') && c.is_other();
            assert_eq!(is_bert_control(c), control, "{c:?}");
            let punctuation = c.is_ascii_punctuation() || c.is_punctuation();
            assert_eq!(is_bert_punctuation(c), punctuation, "{c:?}");
        }
    }

    /// The per-char normalizer gives the general path's text on real text of every corpus
    /// language and on hand-picked chars (compatibility ideographs, Hangul, stacked and
    /// out-of-order combining marks, a spacing mark with a combining class, İ), for every
    /// combination of the options; it declines only where a combining mark survives.
    #[test]
    fn per_char_normalizing_agrees_with_the_general_path() {
        let corpus = format!("{}/../../../shared/corpus", env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<String> = ["en", "de", "es", "it", "pl", "ru", "zh"]
            .iter()
            .flat_map(|lang| {
                let text = std::fs::read_to_string(format!("{corpus}/{lang}.txt")).unwrap();
                let paragraphs: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
                paragraphs.into_iter().take(400)
            })
            .collect();
        texts.extend(
            [
                "\u{F900}\u{FA0E} 한국어 Ａｂｃ \u{fffd}x\u{0}\u{200b}\u{a0}\u{3000}İstanbul ΣΑΣ",
                "e\u{301}\u{316} a\u{316}\u{301} ǅ ﬁ \u{1D165}\u{1D16E} o\u{334}\u{327}\u{301}",
                "क्षि ผู้ 𝒳 \u{16FF0}x",
            ]
            .map(str::to_owned),
        );
        // Every ASCII byte (the byte table's path), alone and between letters.
        texts.push((0u8..128).map(char::from).collect());
        texts.push((0u8..128).flat_map(|b| [char::from(b), 'Q']).collect());
        let mut declined = 0;
        for options in 0..16u8 {
            let normalizer = BertNormalizer {
                clean_text: options & 1 != 0,
                handle_chinese_chars: options & 2 != 0,
                strip_accents: [None, Some(true), Some(false)][usize::from(options >> 2) % 3],
                lowercase: options & 8 != 0,
            };
            let mut out = String::new();
            for text in &texts {
                let mut general = NormalizedString::from(text.as_str());
                normalizer.normalize(&mut general).unwrap();
                if normalizer.normalize_without_alignments(text, &mut out) {
                    assert_eq!(out, general.get(), "{normalizer:?} {text:?}");
                } else {
                    declined += 1;
                }
            }
        }
        // Only the hand-picked texts with a spacing mark that has a combining class decline.
        assert!(declined <= 16 * 2, "declined {declined} times");
    }

    #[test]
    fn cleans_pads_cjk_strips_and_lowercases() {
        let mut n = NormalizedString::from("Héllo\tWorld\u{0}中");
        BertNormalizer::default().normalize(&mut n).unwrap();
        assert_eq!(n.get(), "hello world 中 ");
    }

    #[test]
    fn keeps_accents_when_asked() {
        let mut n = NormalizedString::from("Héllo");
        BertNormalizer {
            strip_accents: Some(false),
            ..Default::default()
        }
        .normalize(&mut n)
        .unwrap();
        assert_eq!(n.get(), "héllo");
    }
}
