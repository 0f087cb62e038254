//! `BertPreTokenizer`: split on whitespace (dropped) and on every punctuation char (kept alone).

use serde::{Deserialize, Serialize};
use unicode_categories::UnicodeCategories;

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

/// BERT's punctuation: ASCII punctuation (which includes symbols like `$` and `^`) plus Unicode P*.
/// Inlined into the scans for its ASCII test; the table search stays out of line.
#[inline]
pub(crate) fn is_bert_punctuation(c: char) -> bool {
    // Every ASCII char of a Unicode punctuation category is ASCII punctuation, so ASCII is
    // answered without the binary search over Unicode's tables.
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    is_unicode_punctuation(c)
}

#[inline(never)]
fn is_unicode_punctuation(c: char) -> bool {
    c.is_punctuation()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BertPreTokenizer {}

impl PreTokenizer for BertPreTokenizer {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, n| {
            let spaces = n.char_matches(char::is_whitespace);
            let words = n.split_at(&spaces, SplitDelimiterBehavior::Removed);
            let mut out = Vec::with_capacity(words.len());
            for w in words {
                let punct = w.char_matches(is_bert_punctuation);
                if punct.is_empty() {
                    out.push(w);
                } else {
                    out.extend(w.split_at(&punct, SplitDelimiterBehavior::Isolated));
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn splits_words_and_punctuation() {
        let got = pieces(&BertPreTokenizer {}, "Hey friend!  How are you?!?");
        let words: Vec<_> = got.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            words,
            ["Hey", "friend", "!", "How", "are", "you", "?", "!", "?"]
        );
        assert_eq!(got[2].1, (10, 11));
    }
}
