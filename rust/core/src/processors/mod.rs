//! Post-processors add special tokens around the encoded sequence(s) and set type ids.

use serde::{Deserialize, Serialize};

use crate::{Encoding, Result};

/// The post-processor stage.
pub trait PostProcessor {
    /// How many special tokens `process` adds (truncation leaves room for them).
    fn added_tokens(&self, is_pair: bool) -> usize;

    /// Add special tokens to each encoding (one, or two for a pair) and set type ids; each
    /// encoding's `overflowing` pieces get the same treatment. The results are merged by the caller.
    fn process_encodings(
        &self,
        encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>>;

    /// Process and merge into one encoding.
    fn process(
        &self,
        encoding: Encoding,
        pair: Option<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        let mut encodings = match pair {
            Some(p) => vec![encoding, p],
            None => vec![encoding],
        };
        for (i, e) in encodings.iter_mut().enumerate() {
            e.set_sequence_id(i);
        }
        let processed = self.process_encodings(encodings, add_special_tokens)?;
        Ok(Encoding::merge(processed, false))
    }
}

/// `tokenizer.json`'s `post_processor` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PostProcessorWrapper {
    // filled in by the post-processor implementations
}

impl PostProcessor for PostProcessorWrapper {
    fn added_tokens(&self, _is_pair: bool) -> usize {
        match *self {}
    }
    fn process_encodings(&self, _e: Vec<Encoding>, _a: bool) -> Result<Vec<Encoding>> {
        match *self {}
    }
}
impl PostProcessorWrapper {
    pub const SUPPORTED: &'static [&'static str] = &[];
}
