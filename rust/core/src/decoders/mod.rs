//! Decoders turn a list of token strings back into text: one file per `tokenizer.json` decoder type.

use serde::{Deserialize, Serialize};

use crate::Result;

/// The decoder stage. `decode_chain` maps tokens to tokens (so decoders compose in a
/// `Sequence`); `decode` joins the final pieces.
pub trait Decoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>>;

    fn decode(&self, tokens: Vec<String>) -> Result<String> {
        Ok(self.decode_chain(tokens)?.join(""))
    }
}

/// `tokenizer.json`'s `decoder` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DecoderWrapper {
    // filled in by the decoder implementations
}

impl Decoder for DecoderWrapper {
    fn decode_chain(&self, _tokens: Vec<String>) -> Result<Vec<String>> {
        match *self {}
    }
}
impl DecoderWrapper {
    pub const SUPPORTED: &'static [&'static str] = &[];
}
