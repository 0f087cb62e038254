//! `FixedLength`: cut every piece into chunks of `length` chars (the last one may be shorter),
//! for models over fixed-size character groups (DNA k-mers, for instance).

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::tokenizer::PreTokenizedString;
use crate::{Error, Result};

/// ```
/// use ferroformers_core::pre_tokenizers::{fixed_length::FixedLength, PreTokenizer};
/// use ferroformers_core::tokenizer::PreTokenizedString;
/// let mut p = PreTokenizedString::from("ACGTACG");
/// FixedLength { length: 3 }.pre_tokenize(&mut p).unwrap();
/// let pieces: Vec<_> = p.splits.iter().map(|s| s.normalized.get()).collect();
/// assert_eq!(pieces, ["ACG", "TAC", "G"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FixedLengthConfig", into = "FixedLengthConfig")]
pub struct FixedLength {
    pub length: usize,
}

#[derive(Serialize, Deserialize)]
struct FixedLengthConfig {
    #[serde(default = "default_length")]
    length: usize,
}

impl TryFrom<FixedLengthConfig> for FixedLength {
    type Error = String;
    fn try_from(c: FixedLengthConfig) -> Result<Self, String> {
        // Hugging Face accepts 0 and then panics on the first encode; refuse it up front.
        if c.length == 0 {
            return Err("FixedLength: length must be at least 1 char".to_string());
        }
        Ok(FixedLength { length: c.length })
    }
}

impl From<FixedLength> for FixedLengthConfig {
    fn from(f: FixedLength) -> Self {
        FixedLengthConfig { length: f.length }
    }
}

fn default_length() -> usize {
    5
}

impl Default for FixedLength {
    fn default() -> Self {
        FixedLength {
            length: default_length(),
        }
    }
}

impl PreTokenizer for FixedLength {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        if self.length == 0 {
            return Err(Error::invalid(
                "FixedLength: length must be at least 1 char",
            ));
        }
        p.split_pieces(|_, n| {
            let text = n.get();
            let mut starts: Vec<usize> = text
                .char_indices()
                .step_by(self.length)
                .map(|(i, _)| i)
                .collect();
            starts.push(text.len());
            Ok(starts
                .windows(2)
                .filter_map(|w| n.slice(w[0]..w[1]))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn chunks_count_chars_not_bytes() {
        let got = pieces(&FixedLength { length: 2 }, "éàüx y");
        let texts: Vec<_> = got.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(texts, ["éà", "üx", " y"]);
        assert_eq!(got[1].1, (4, 7));
        assert!(pieces(&FixedLength::default(), "").is_empty());
    }

    #[test]
    fn zero_length_is_an_error() {
        let mut p = PreTokenizedString::from("abc");
        assert!(FixedLength { length: 0 }.pre_tokenize(&mut p).is_err());
        let parsed: FixedLength = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed.length, 5);
        assert!(serde_json::from_str::<FixedLength>(r#"{"length":0}"#).is_err());
    }
}
