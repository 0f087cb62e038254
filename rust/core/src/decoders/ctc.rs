//! `CTC`: the decoder of connectionist-temporal-classification models (wav2vec2 and kin), whose
//! outputs repeat a token for as many frames as it lasts and fill silences with a pad token.
//! Repeated tokens collapse to one, pad tokens vanish, and (with `cleanup`) the word delimiter
//! becomes a space and WordPiece's English cleanup runs on each token.

use serde::{Deserialize, Serialize};

use super::wordpiece::cleanup as wordpiece_cleanup;
use super::Decoder;
use crate::Result;

/// ```
/// use ferroformers_core::decoders::{CtcDecoder, Decoder};
/// let d = CtcDecoder::default();
/// let tokens = ["<pad>", "h", "h", "i", "|", "|", "y", "o", "<pad>", "o"];
/// let text = d.decode(tokens.iter().map(|t| t.to_string()).collect()).unwrap();
/// assert_eq!(text, "hi yoo");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtcDecoder {
    #[serde(default = "default_pad_token")]
    pub pad_token: String,
    #[serde(default = "default_word_delimiter_token")]
    pub word_delimiter_token: String,
    #[serde(default = "yes")]
    pub cleanup: bool,
}

fn default_pad_token() -> String {
    "<pad>".to_string()
}

fn default_word_delimiter_token() -> String {
    "|".to_string()
}

fn yes() -> bool {
    true
}

impl Default for CtcDecoder {
    fn default() -> Self {
        CtcDecoder {
            pad_token: default_pad_token(),
            word_delimiter_token: default_word_delimiter_token(),
            cleanup: true,
        }
    }
}

impl Decoder for CtcDecoder {
    fn decode_chain(&self, mut tokens: Vec<String>) -> Result<Vec<String>> {
        // Collapse repeats first: a pad between two equal tokens keeps them apart (that is how
        // CTC spells double letters), so padding is removed only afterwards.
        tokens.dedup();
        Ok(tokens
            .into_iter()
            .filter_map(|token| {
                // An empty pad token would make `replace` insert "" everywhere: a no-op, as in HF.
                let mut text = token.replace(&self.pad_token, "");
                if self.cleanup {
                    text = wordpiece_cleanup(&text).replace(&self.word_delimiter_token, " ");
                }
                (!text.is_empty()).then_some(text)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn collapses_repeats_then_drops_padding() {
        let d = CtcDecoder::default();
        let tokens = toks(&[
            "<pad>", "a", "a", "|", "b", "<pad>", "b", "|", " .", "|", ".",
        ]);
        assert_eq!(
            d.decode_chain(tokens.clone()).unwrap(),
            toks(&["a", " ", "b", "b", " ", ".", " ", "."])
        );
        assert_eq!(d.decode(tokens.clone()).unwrap(), "a bb . .");
        let raw = CtcDecoder {
            cleanup: false,
            ..CtcDecoder::default()
        };
        assert_eq!(raw.decode(tokens).unwrap(), "a|bb| .|.");
    }

    #[test]
    fn custom_tokens() {
        let d = CtcDecoder {
            pad_token: "[PAD]".into(),
            word_delimiter_token: "_".into(),
            cleanup: true,
        };
        assert_eq!(
            d.decode(toks(&["[PAD]", "x", "_", "_", "y", "[PAD]"]))
                .unwrap(),
            "x y"
        );
        assert_eq!(d.decode(vec![]).unwrap(), "");
    }
}
