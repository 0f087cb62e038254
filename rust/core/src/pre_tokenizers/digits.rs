//! `Digits`: split numbers off, each digit alone or runs of digits together.

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digits {
    #[serde(default)]
    pub individual_digits: bool,
}

impl PreTokenizer for Digits {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        let behavior = if self.individual_digits {
            SplitDelimiterBehavior::Isolated
        } else {
            SplitDelimiterBehavior::Contiguous
        };
        p.split_pieces(|_, n| Ok(n.split_at(&n.char_matches(char::is_numeric), behavior)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn digits() {
        let got: Vec<_> = pieces(
            &Digits {
                individual_digits: false,
            },
            "Hey 123 friend",
        )
        .into_iter()
        .map(|p| p.0)
        .collect();
        assert_eq!(got, ["Hey ", "123", " friend"]);
        let got: Vec<_> = pieces(
            &Digits {
                individual_digits: true,
            },
            "a12",
        )
        .into_iter()
        .map(|p| p.0)
        .collect();
        assert_eq!(got, ["a", "1", "2"]);
    }
}
