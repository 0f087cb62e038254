//! `Punctuation`: split on punctuation chars with a configurable delimiter behaviour.

use serde::{Deserialize, Serialize};

use super::bert::is_bert_punctuation;
use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

fn isolated() -> SplitDelimiterBehavior {
    SplitDelimiterBehavior::Isolated
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Punctuation {
    #[serde(default = "isolated")]
    pub behavior: SplitDelimiterBehavior,
}

impl PreTokenizer for Punctuation {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, n| Ok(n.split_at(&n.char_matches(is_bert_punctuation), self.behavior)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn merged_with_previous() {
        let pre = Punctuation {
            behavior: SplitDelimiterBehavior::MergedWithPrevious,
        };
        let got: Vec<_> = pieces(&pre, "Hey! you?").into_iter().map(|p| p.0).collect();
        assert_eq!(got, ["Hey!", " you?"]);
    }
}
