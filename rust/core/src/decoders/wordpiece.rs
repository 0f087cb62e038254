//! `WordPiece` decoder: glues `##` continuation pieces to the previous token and spaces the rest.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// ```
/// use ferroformers_core::decoders::{Decoder, WordPieceDecoder};
/// let d = WordPieceDecoder::default();
/// let tokens = vec!["I".into(), "do".into(), "n't".into(), "li".into(), "##ke".into(), "it".into(), ".".into()];
/// assert_eq!(d.decode(tokens).unwrap(), "I don't like it.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordPieceDecoder {
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Undo BERT's basic tokenization artifacts (spaces before punctuation and contractions).
    #[serde(default = "default_true")]
    pub cleanup: bool,
}

fn default_prefix() -> String {
    "##".to_string()
}

fn default_true() -> bool {
    true
}

impl Default for WordPieceDecoder {
    fn default() -> Self {
        WordPieceDecoder::new(default_prefix(), true)
    }
}

impl WordPieceDecoder {
    pub fn new(prefix: impl Into<String>, cleanup: bool) -> Self {
        WordPieceDecoder {
            prefix: prefix.into(),
            cleanup,
        }
    }
}

/// The reference's cleanup, in its order. It runs on each token (after its leading space was
/// added), so it only sees a token and its own leading space: `" ' "` can never match.
pub fn cleanup(text: &str) -> String {
    text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" do not", " don't")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

impl Decoder for WordPieceDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        Ok(tokens
            .into_iter()
            .enumerate()
            .map(|(i, token)| {
                let token = if i == 0 {
                    token
                } else if let Some(rest) = token.strip_prefix(self.prefix.as_str()) {
                    rest.to_string()
                } else {
                    format!(" {token}")
                };
                if self.cleanup {
                    cleanup(&token)
                } else {
                    token
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
    fn first_token_keeps_its_prefix() {
        let d = WordPieceDecoder::new("##", false);
        assert_eq!(
            d.decode(toks(&["##uelo", "Ara", "##új", "##o", "No", "##guera"]))
                .unwrap(),
            "##uelo Araújo Noguera"
        );
    }

    #[test]
    fn cleanup_is_per_token() {
        let d = WordPieceDecoder::default();
        assert_eq!(
            d.decode(toks(&[
                "I", "do", "not", "know", "'", "s", "##x", ".", "?", "!", ",", "n't", "'m", "'s",
                "'ve", "'re"
            ]))
            .unwrap(),
            "I do not know ' sx.?!,n't'm's've're"
        );
        assert_eq!(
            d.decode(toks(&[" .", "##a##b", "a ."])).unwrap(),
            ".a##b a."
        );
    }

    #[test]
    fn fields_default() {
        let d: WordPieceDecoder = serde_json::from_str("{}").unwrap();
        assert_eq!(d, WordPieceDecoder::default());
    }
}
