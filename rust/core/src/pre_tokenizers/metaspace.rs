//! `Metaspace`: SentencePiece's pre-tokenizer. Every space becomes the replacement char (`▁`),
//! the replacement char is prepended to the input (per [`PrependScheme`]), and, with `split`,
//! the text is cut before each replacement char so that every word carries its leading `▁`.
//!
//! ```
//! use ferroformers_core::pre_tokenizers::{metaspace::Metaspace, PreTokenizer};
//! use ferroformers_core::tokenizer::PreTokenizedString;
//!
//! let mut p = PreTokenizedString::from("Hey  friend");
//! Metaspace::default().pre_tokenize(&mut p).unwrap();
//! let words: Vec<&str> = p.splits.iter().map(|s| s.normalized.get()).collect();
//! assert_eq!(words, ["▁Hey", "▁", "▁friend"]);
//! ```

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::decoders::{MetaspaceDecoder, PrependScheme};
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

/// The Metaspace pre-tokenizer. Its `tokenizer.json` object is the same as the Metaspace
/// decoder's (Hugging Face uses one type for both), so it is read through
/// [`MetaspaceDecoder`], which also reconciles the legacy `add_prefix_space` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "MetaspaceDecoder")]
pub struct Metaspace {
    pub replacement: char,
    pub prepend_scheme: PrependScheme,
    /// Cut the text before every replacement char (`MergedWithNext`); otherwise each piece
    /// stays whole.
    pub split: bool,
}

impl Metaspace {
    pub fn new(replacement: char, prepend_scheme: PrependScheme, split: bool) -> Self {
        Metaspace {
            replacement,
            prepend_scheme,
            split,
        }
    }
}

impl Default for Metaspace {
    fn default() -> Self {
        Metaspace::new('▁', PrependScheme::Always, true)
    }
}

impl From<MetaspaceDecoder> for Metaspace {
    fn from(d: MetaspaceDecoder) -> Self {
        Metaspace::new(d.replacement, d.prepend_scheme, d.split)
    }
}

impl PreTokenizer for Metaspace {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        let mut buf = [0u8; 4];
        let replacement: &str = self.replacement.encode_utf8(&mut buf);
        p.split_pieces(|_, mut n| {
            let spaces = n.char_matches(|c| c == ' ');
            n.replace_ranges(&spaces, replacement);
            // "first" is decided by where the piece starts in the input, not by its index among
            // the splits: after a leading added token, or when a previous pre-tokenizer removed
            // the first chars, the piece gets no prefix (as in Hugging Face).
            let prepend = match self.prepend_scheme {
                PrependScheme::Always => true,
                PrependScheme::First => n.offsets_original().0 == 0,
                PrependScheme::Never => false,
            };
            if prepend && !n.get().starts_with(self.replacement) {
                n.prepend(replacement);
            }
            if self.split {
                let marks = n.char_matches(|c| c == self.replacement);
                Ok(n.split_at(&marks, SplitDelimiterBehavior::MergedWithNext))
            } else {
                Ok(vec![n])
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::{pieces, PreTokenizerWrapper};

    fn p(s: &str, start: usize, end: usize) -> (String, (usize, usize)) {
        (s.to_string(), (start, end))
    }

    #[test]
    fn spaces_become_word_prefixes() {
        let pre = Metaspace::default();
        // Offsets are byte offsets in the original: a prepended `▁` shares the first char's.
        assert_eq!(
            pieces(&pre, "Hey friend!"),
            [p("▁Hey", 0, 3), p("▁friend!", 3, 11)]
        );
        assert_eq!(
            pieces(&pre, " a  b "),
            [p("▁a", 0, 2), p("▁", 2, 3), p("▁b", 3, 5), p("▁", 5, 6)]
        );
        // A piece that already starts with the replacement char gets no second one.
        assert_eq!(pieces(&pre, "▁a b"), [p("▁a", 0, 4), p("▁b", 4, 6)]);
        assert!(pieces(&pre, "").is_empty());
    }

    #[test]
    fn other_replacement_chars() {
        let pre = Metaspace::new('_', PrependScheme::Always, true);
        assert_eq!(
            pieces(&pre, "x_y z"),
            [p("_x", 0, 1), p("_y", 1, 3), p("_z", 3, 5)]
        );
    }

    #[test]
    fn prepend_schemes_and_no_split() {
        let never = Metaspace::new('▁', PrependScheme::Never, true);
        assert_eq!(pieces(&never, "a b"), [p("a", 0, 1), p("▁b", 1, 3)]);
        let whole = Metaspace::new('▁', PrependScheme::First, false);
        assert_eq!(pieces(&whole, " a  b "), [p("▁a▁▁b▁", 0, 6)]);
        assert_eq!(pieces(&whole, "a b"), [p("▁a▁b", 0, 3)]);
    }

    #[test]
    fn first_means_the_piece_that_starts_the_input() {
        // A Split that removes the leading "-" leaves "a b" starting at offset 1: no prefix,
        // although it is the first split.
        let json = r#"{"type":"Sequence","pretokenizers":[
            {"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},
            {"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]}"#;
        let seq: PreTokenizerWrapper = serde_json::from_str(json).unwrap();
        assert_eq!(
            pieces(&seq, "-a b-c"),
            [p("a", 1, 2), p("▁b", 2, 4), p("c", 5, 6)]
        );
        assert_eq!(
            pieces(&seq, "a b-c"),
            [p("▁a", 0, 1), p("▁b", 1, 3), p("c", 4, 5)]
        );
    }

    #[test]
    fn json_like_hugging_face() {
        let parse = |s: &str| serde_json::from_str::<PreTokenizerWrapper>(s);
        let current =
            r#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}"#;
        let pre = parse(current).unwrap();
        assert!(matches!(
            pre,
            PreTokenizerWrapper::Metaspace(Metaspace {
                prepend_scheme: PrependScheme::First,
                split: false,
                ..
            })
        ));
        assert_eq!(serde_json::to_string(&pre).unwrap(), current);
        // Legacy files: `add_prefix_space` (and `str_rep`), `split` defaulting to true.
        let legacy = parse(
            r#"{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"str_rep":"▁"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&legacy).unwrap(),
            r#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}"#
        );
        assert!(parse(
            r#"{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"prepend_scheme":"always"}"#
        )
        .is_err());
        assert!(parse(r#"{"type":"Metaspace","prepend_scheme":"always"}"#).is_err());
    }
}
