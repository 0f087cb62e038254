//! `Fuse`: joins all tokens into one, so later decoders in a `Sequence` see the whole text.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// ```
/// use ferroformers_core::decoders::{Decoder, FuseDecoder};
/// let out = FuseDecoder::new().decode_chain(vec!["Hey".into(), " friend".into()]).unwrap();
/// assert_eq!(out, vec!["Hey friend".to_string()]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuseDecoder {}

impl FuseDecoder {
    pub fn new() -> Self {
        FuseDecoder {}
    }
}

impl Decoder for FuseDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        Ok(vec![tokens.concat()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn fuses_into_one_token() {
        let d = FuseDecoder::new();
        assert_eq!(
            d.decode_chain(toks(&["a", "b", "c"])).unwrap(),
            toks(&["abc"])
        );
        assert_eq!(d.decode_chain(vec![]).unwrap(), toks(&[""]));
    }
}
