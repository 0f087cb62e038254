//! `BertNormalizer`: BERT's text cleaning (drop control chars, unify whitespace), spacing around
//! CJK ideographs, optional accent stripping and lowercasing.

use serde::{Deserialize, Serialize};
use unicode_categories::UnicodeCategories;

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
        out.clear();
        // Byte by byte: ASCII in, ASCII out, so no char is decoded or encoded.
        let mut bytes = std::mem::take(out).into_bytes();
        bytes.reserve(text.len());
        for b in text.bytes() {
            if self.clean_text && (b == 0 || is_bert_control(char::from(b))) {
                continue;
            }
            let b = if self.clean_text && is_bert_whitespace(char::from(b)) {
                b' '
            } else {
                b
            };
            bytes.push(if self.lowercase {
                b.to_ascii_lowercase()
            } else {
                b
            });
        }
        *out = String::from_utf8(bytes).expect("ASCII bytes are UTF-8");
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
