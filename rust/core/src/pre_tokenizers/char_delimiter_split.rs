//! `CharDelimiterSplit`: split on one delimiter char, which is removed.

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

/// ```
/// use ferroformers_core::pre_tokenizers::{char_delimiter_split::CharDelimiterSplit, PreTokenizer};
/// use ferroformers_core::tokenizer::PreTokenizedString;
/// let mut p = PreTokenizedString::from("a_b__c");
/// CharDelimiterSplit { delimiter: '_' }.pre_tokenize(&mut p).unwrap();
/// let pieces: Vec<_> = p.splits.iter().map(|s| s.normalized.get()).collect();
/// assert_eq!(pieces, ["a", "b", "c"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharDelimiterSplit {
    pub delimiter: char,
}

impl PreTokenizer for CharDelimiterSplit {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, n| {
            let delimiters = n.char_matches(|c| c == self.delimiter);
            Ok(n.split_at(&delimiters, SplitDelimiterBehavior::Removed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn removes_the_delimiter() {
        let got = pieces(&CharDelimiterSplit { delimiter: 'é' }, "éaébéé");
        assert_eq!(got, [("a".into(), (2, 3)), ("b".into(), (5, 6))]);
        let json = r#"{"delimiter":"x"}"#;
        let parsed: CharDelimiterSplit = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.delimiter, 'x');
        assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
        assert!(serde_json::from_str::<CharDelimiterSplit>(r#"{"delimiter":"xy"}"#).is_err());
    }
}
