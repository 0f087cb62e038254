//! `Sequence` decoder: applies decoders one after the other, each on the previous one's tokens.

use serde::{Deserialize, Serialize};

use super::{Decoder, DecoderWrapper};
use crate::Result;

/// ```
/// use ferroformers_core::decoders::{Decoder, DecoderWrapper, FuseDecoder, SequenceDecoder, StripDecoder};
/// let d = SequenceDecoder::new(vec![
///     DecoderWrapper::Fuse(FuseDecoder::new()),
///     DecoderWrapper::Strip(StripDecoder::new(' ', 1, 0)),
/// ]);
/// assert_eq!(d.decode(vec![" Hey".into(), " you".into()]).unwrap(), "Hey you");
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceDecoder {
    pub decoders: Vec<DecoderWrapper>,
}

impl SequenceDecoder {
    pub fn new(decoders: Vec<DecoderWrapper>) -> Self {
        SequenceDecoder { decoders }
    }
}

impl Decoder for SequenceDecoder {
    fn decode_chain(&self, mut tokens: Vec<String>) -> Result<Vec<String>> {
        for decoder in &self.decoders {
            tokens = decoder.decode_chain(tokens)?;
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn llama_chain() {
        let d: DecoderWrapper = serde_json::from_str(
            r#"{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"#,
        )
        .unwrap();
        assert_eq!(
            d.decode(toks(&["▁Hello", "▁", "<0xE5>", "<0x8F>", "<0xAB>", "!"]))
                .unwrap(),
            "Hello 叫!"
        );
    }

    #[test]
    fn empty_sequence_is_identity() {
        let d = SequenceDecoder::new(vec![]);
        assert_eq!(
            d.decode_chain(toks(&["a", "b"])).unwrap(),
            toks(&["a", "b"])
        );
    }
}
