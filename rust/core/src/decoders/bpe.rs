//! `BPEDecoder`: for original (Sennrich) BPE vocabularies, whose end-of-word tokens carry a
//! suffix such as `</w>`.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// Replaces the end-of-word `suffix` by a space, except in the last token (so the text gets no
/// trailing space).
///
/// ```
/// use ferroformers_core::decoders::{BpeDecoder, Decoder};
/// let d = BpeDecoder::new("</w>");
/// assert_eq!(d.decode(vec!["hel".into(), "lo</w>".into(), "you</w>".into()]).unwrap(), "hello you");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpeDecoder {
    #[serde(default = "default_suffix")]
    pub suffix: String,
}

fn default_suffix() -> String {
    "</w>".to_string()
}

impl Default for BpeDecoder {
    fn default() -> Self {
        BpeDecoder::new(default_suffix())
    }
}

impl BpeDecoder {
    pub fn new(suffix: impl Into<String>) -> Self {
        BpeDecoder {
            suffix: suffix.into(),
        }
    }
}

impl Decoder for BpeDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        let last = tokens.len().saturating_sub(1);
        Ok(tokens
            .into_iter()
            .enumerate()
            .map(|(i, token)| {
                let replacement = if i == last { "" } else { " " };
                // `str::replace` with an empty pattern would insert between every char.
                if self.suffix.is_empty() {
                    token
                } else {
                    token.replace(&self.suffix, replacement)
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn suffix_becomes_space_except_at_the_end() {
        let d = BpeDecoder::default();
        assert_eq!(
            d.decode(toks(&["he</w>", "llo</w>", "wor", "ld</w>"]))
                .unwrap(),
            "he llo world"
        );
        // Every suffix in a non-final token is replaced, and nothing is trimmed.
        assert_eq!(d.decode(toks(&["a</w>b</w>", " x</w>"])).unwrap(), "a b  x");
        assert_eq!(d.decode(vec![]).unwrap(), "");
    }

    #[test]
    fn suffix_defaults_when_missing() {
        let d: BpeDecoder = serde_json::from_str("{}").unwrap();
        assert_eq!(d, BpeDecoder::default());
    }
}
