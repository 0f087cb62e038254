//! `ByteLevel` decoder: maps GPT-2's printable byte alphabet back to bytes, then to text.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::utils::char_to_byte;
use crate::Result;

/// Decodes byte-level BPE tokens. The bytes of all tokens are joined before UTF-8 decoding, since
/// one char is often split across tokens; invalid sequences become `U+FFFD` (lossy decoding). A
/// token with a char outside the alphabet (an added token such as `<|endoftext|>` written in
/// plain text) contributes its own UTF-8 bytes unchanged.
///
/// The fields only matter to the pre-tokenizer and post-processor of the same name; the decoder
/// keeps them so the JSON object round-trips.
///
/// ```
/// use ferroformers_core::decoders::{ByteLevelDecoder, Decoder};
/// let d = ByteLevelDecoder::default();
/// assert_eq!(d.decode(vec!["Hello".into(), "Ġw".into(), "Ã©".into()]).unwrap(), "Hello wé");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteLevelDecoder {
    pub add_prefix_space: bool,
    pub trim_offsets: bool,
    #[serde(default = "default_true")]
    pub use_regex: bool,
}

fn default_true() -> bool {
    true
}

impl Default for ByteLevelDecoder {
    fn default() -> Self {
        ByteLevelDecoder {
            add_prefix_space: true,
            trim_offsets: true,
            use_regex: true,
        }
    }
}

impl Decoder for ByteLevelDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        let mut bytes = Vec::with_capacity(tokens.iter().map(String::len).sum());
        for token in &tokens {
            let start = bytes.len();
            let mut in_alphabet = true;
            for c in token.chars() {
                match char_to_byte(c) {
                    Some(b) => bytes.push(b),
                    None => {
                        in_alphabet = false;
                        break;
                    }
                }
            }
            if !in_alphabet {
                // All or nothing per token, as the reference does.
                bytes.truncate(start);
                bytes.extend_from_slice(token.as_bytes());
            }
        }
        Ok(vec![String::from_utf8_lossy(&bytes).into_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn bytes_join_across_tokens() {
        let d = ByteLevelDecoder::default();
        assert_eq!(d.decode(toks(&["Ã", "©"])).unwrap(), "é");
        assert_eq!(
            d.decode(toks(&["Hello", "Ġmy", "Ġfriend", ","])).unwrap(),
            "Hello my friend,"
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let d = ByteLevelDecoder::default();
        assert_eq!(d.decode(toks(&["Ã"])).unwrap(), "\u{FFFD}");
        assert_eq!(d.decode(toks(&["Ġhé", "llo"])).unwrap(), " h\u{FFFD}llo");
    }

    #[test]
    fn tokens_outside_the_alphabet_stay_as_text() {
        let d = ByteLevelDecoder::default();
        assert_eq!(d.decode(toks(&["a中", "Ġb"])).unwrap(), "a中 b");
    }

    #[test]
    fn use_regex_defaults_to_true() {
        let d: ByteLevelDecoder =
            serde_json::from_str(r#"{"add_prefix_space":false,"trim_offsets":false}"#).unwrap();
        assert!(d.use_regex && !d.add_prefix_space);
    }
}
