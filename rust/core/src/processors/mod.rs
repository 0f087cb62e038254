//! Post-processors add special tokens around the encoded sequence(s) and set type ids: one file
//! per `tokenizer.json` post-processor type.
//!
//! Each reads and writes exactly Hugging Face's JSON object, and treats the `overflowing` pieces
//! that truncation cut off the way Hugging Face does, so that every piece gets its special
//! tokens and `sequence_ranges` that leave the special tokens out.
//!
//! ```
//! use ferroformers_core::processors::{PostProcessor, PostProcessorWrapper};
//! use ferroformers_core::Encoding;
//! let p: PostProcessorWrapper =
//!     serde_json::from_str(r#"{"type":"BertProcessing","sep":["[SEP]",102],"cls":["[CLS]",101]}"#).unwrap();
//! let mut e = Encoding::from_special_tokens(&[7592], &["hello".to_string()], 0);
//! e.special_tokens_mask = vec![0];
//! let out = p.process(e, None, true).unwrap();
//! assert_eq!(out.tokens, ["[CLS]", "hello", "[SEP]"]);
//! assert_eq!(out.sequence_ids(), [None, Some(0), None]);
//! ```

mod bert;
mod byte_level;
mod roberta;
mod sequence;
mod template;

pub use bert::BertProcessing;
pub use byte_level::{trim_byte_level_offsets, ByteLevelProcessor};
pub use roberta::RobertaProcessing;
pub use sequence::SequenceProcessor;
pub use template::{Piece, SequenceId, SpecialToken, Template, TemplateProcessing};

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
    ///
    /// Before the processor runs, input `i` and its overflowing pieces are marked as sequence
    /// `i`, and input `i`'s own tokens (not its overflowing pieces') get type id `i`, exactly as
    /// Hugging Face does: processors that keep the incoming type ids (Bert, ByteLevel) rely on it.
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
            for o in &mut e.overflowing {
                o.set_sequence_id(i);
            }
            e.set_type_ids(i as u32);
        }
        let processed = self.process_encodings(encodings, add_special_tokens)?;
        Ok(Encoding::merge(processed, false))
    }
}

/// `tokenizer.json`'s `post_processor` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PostProcessorWrapper {
    BertProcessing(BertProcessing),
    ByteLevel(ByteLevelProcessor),
    RobertaProcessing(RobertaProcessing),
    Sequence(SequenceProcessor),
    TemplateProcessing(TemplateProcessing),
}

impl PostProcessorWrapper {
    /// The `type` names this version reads, for "unsupported post-processor" messages.
    pub const SUPPORTED: &'static [&'static str] = &[
        "BertProcessing",
        "ByteLevel",
        "RobertaProcessing",
        "Sequence",
        "TemplateProcessing",
    ];
}

impl PostProcessor for PostProcessorWrapper {
    fn added_tokens(&self, is_pair: bool) -> usize {
        match self {
            PostProcessorWrapper::BertProcessing(p) => p.added_tokens(is_pair),
            PostProcessorWrapper::ByteLevel(p) => p.added_tokens(is_pair),
            PostProcessorWrapper::RobertaProcessing(p) => p.added_tokens(is_pair),
            PostProcessorWrapper::Sequence(p) => p.added_tokens(is_pair),
            PostProcessorWrapper::TemplateProcessing(p) => p.added_tokens(is_pair),
        }
    }

    fn process_encodings(
        &self,
        encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        match self {
            PostProcessorWrapper::BertProcessing(p) => {
                p.process_encodings(encodings, add_special_tokens)
            }
            PostProcessorWrapper::ByteLevel(p) => {
                p.process_encodings(encodings, add_special_tokens)
            }
            PostProcessorWrapper::RobertaProcessing(p) => {
                p.process_encodings(encodings, add_special_tokens)
            }
            PostProcessorWrapper::Sequence(p) => p.process_encodings(encodings, add_special_tokens),
            PostProcessorWrapper::TemplateProcessing(p) => {
                p.process_encodings(encodings, add_special_tokens)
            }
        }
    }
}

/// `prefix + encoding + suffix` for the fixed-form processors (Bert, Roberta): the special tokens
/// get `(0, 0)` offsets, no word, and type id `special_type_id`; the content keeps its ids,
/// tokens, words, offsets and type ids but, like the reference, gets special-token mask 0 and
/// attention 1 throughout. `sequence_ranges` covers the content only. Overflowing pieces are
/// surrounded the same way (their own `overflowing` is dropped: pieces are flat).
fn surround(
    mut encoding: Encoding,
    prefix: Option<&(String, u32)>,
    suffix: &(String, u32),
    special_type_id: u32,
    sequence_id: usize,
) -> Encoding {
    let overflowing = std::mem::take(&mut encoding.overflowing);
    let mut out = surround_one(encoding, prefix, suffix, special_type_id, sequence_id);
    out.overflowing = overflowing
        .into_iter()
        .map(|o| surround_one(o, prefix, suffix, special_type_id, sequence_id))
        .collect();
    out
}

fn surround_one(
    e: Encoding,
    prefix: Option<&(String, u32)>,
    suffix: &(String, u32),
    special_type_id: u32,
    sequence_id: usize,
) -> Encoding {
    let n = e.len();
    let mut out = Encoding::with_capacity(n + 2);
    let push_special = |out: &mut Encoding, (token, id): &(String, u32)| {
        out.ids.push(*id);
        out.type_ids.push(special_type_id);
        out.tokens.push(token.clone());
        out.words.push(None);
        out.offsets.push((0, 0));
        out.special_tokens_mask.push(1);
        out.attention_mask.push(1);
    };
    if let Some(p) = prefix {
        push_special(&mut out, p);
    }
    let start = out.len();
    out.ids.extend(e.ids);
    out.type_ids.extend(e.type_ids);
    out.tokens.extend(e.tokens);
    out.words.extend(e.words);
    out.offsets.extend(e.offsets);
    out.special_tokens_mask.extend(std::iter::repeat_n(0, n));
    out.attention_mask.extend(std::iter::repeat_n(1, n));
    push_special(&mut out, suffix);
    out.sequence_ranges.insert(sequence_id, start..start + n);
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::Encoding;

    /// An encoding of plain tokens with offsets `offsets`, as a model returns it.
    pub fn enc(tokens: &[&str], offsets: &[(usize, usize)]) -> Encoding {
        let n = tokens.len();
        Encoding {
            ids: (0..n as u32).map(|i| 100 + i).collect(),
            type_ids: vec![0; n],
            tokens: tokens.iter().map(|s| s.to_string()).collect(),
            words: (0..n as u32).map(Some).collect(),
            offsets: offsets.to_vec(),
            special_tokens_mask: vec![0; n],
            attention_mask: vec![1; n],
            ..Default::default()
        }
    }

    /// `enc` over `tokens` with dummy offsets.
    pub fn plain(tokens: &[&str]) -> Encoding {
        let offsets: Vec<_> = (0..tokens.len()).map(|i| (i, i + 1)).collect();
        enc(tokens, &offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_exactly() {
        for json in [
            r#"{"type":"BertProcessing","sep":["[SEP]",102],"cls":["[CLS]",101]}"#,
            r#"{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}"#,
            r#"{"type":"RobertaProcessing","sep":["</s>",2],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":true}"#,
            r#"{"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]}"#,
            r#"{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],"pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[101],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[102],"tokens":["[SEP]"]}}}"#,
        ] {
            let p: PostProcessorWrapper = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&p).unwrap(), json);
        }
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert!(serde_json::from_str::<PostProcessorWrapper>(r#"{"type":"Nope"}"#).is_err());
    }
}
