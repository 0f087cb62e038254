//! The `Tokenizer`: the five stages wired together, the added vocabulary, truncation and padding,
//! and the `tokenizer.json` reader/writer.

mod added_vocabulary;
mod encoding;
mod ids_only;
mod ids_rows;
pub mod legacy;
mod normalized;
mod params;
mod pre_tokenized;
mod row_arrays;
mod serialization;
pub mod threads;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

pub use added_vocabulary::{AddedToken, AddedVocabulary};
pub use encoding::{Direction, Encoding};
pub use ids_rows::{IdsRow, RowField, RowLayout, ValueRun};
pub use normalized::{NormalizedString, SplitDelimiterBehavior};
pub use params::{
    DirectionName, PaddingParams, PaddingStrategy, TruncationParams, TruncationStrategy,
};
pub use pre_tokenized::{OffsetType, PreTokenizedString, Split};
pub use row_arrays::{fill_row_arrays, ArrayFill};

use crate::decoders::{Decoder, DecoderWrapper};
use crate::models::{Model, ModelWrapper};
use crate::normalizers::NormalizerWrapper;
use crate::pre_tokenizers::{PreTokenizer, PreTokenizerWrapper};
use crate::processors::{PostProcessor, PostProcessorWrapper};
use crate::{Error, Result};

/// One input sequence: raw text, or text already split into words. The text is borrowed where
/// the caller can keep it alive and unchanged for the encode (a Python `str` held by the binding),
/// so a batch is encoded without copying it first.
#[derive(Debug, Clone)]
pub enum InputSequence<'s> {
    Raw(Cow<'s, str>),
    PreTokenized(Vec<Cow<'s, str>>),
}

/// What `encode` takes: one sequence or a pair.
#[derive(Debug, Clone)]
pub struct EncodeInput<'s> {
    pub first: InputSequence<'s>,
    pub second: Option<InputSequence<'s>>,
}

impl InputSequence<'_> {
    /// The same sequence holding its own text.
    pub fn into_owned(self) -> InputSequence<'static> {
        match self {
            InputSequence::Raw(text) => InputSequence::Raw(Cow::Owned(text.into_owned())),
            InputSequence::PreTokenized(words) => InputSequence::PreTokenized(
                words
                    .into_iter()
                    .map(|w| Cow::Owned(w.into_owned()))
                    .collect(),
            ),
        }
    }
}

impl EncodeInput<'_> {
    /// The same input holding its own text.
    pub fn into_owned(self) -> EncodeInput<'static> {
        EncodeInput {
            first: self.first.into_owned(),
            second: self.second.map(InputSequence::into_owned),
        }
    }
}

impl<'s> From<&'s str> for EncodeInput<'s> {
    fn from(s: &'s str) -> Self {
        EncodeInput {
            first: InputSequence::Raw(Cow::Borrowed(s)),
            second: None,
        }
    }
}

impl<'s> From<(&'s str, &'s str)> for EncodeInput<'s> {
    fn from((a, b): (&'s str, &'s str)) -> Self {
        EncodeInput {
            first: InputSequence::Raw(Cow::Borrowed(a)),
            second: Some(InputSequence::Raw(Cow::Borrowed(b))),
        }
    }
}

/// Many inputs' ids in one flat buffer: input `i`'s ids are `ids[offsets[i]..offsets[i + 1]]`,
/// so `offsets` has one entry more than there are inputs and starts at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaggedIds {
    pub ids: Vec<u32>,
    pub offsets: Vec<usize>,
}

impl RaggedIds {
    /// Concatenate `rows`, recording where each one starts and ends.
    pub fn from_rows(rows: &[Vec<u32>]) -> Self {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0);
        let mut ids = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        for row in rows {
            ids.extend_from_slice(row);
            offsets.push(ids.len());
        }
        RaggedIds { ids, offsets }
    }

    /// The number of inputs.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input `i`'s ids.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.ids[self.offsets[i]..self.offsets[i + 1]]
    }
}

#[derive(Debug, Clone)]
pub struct Tokenizer {
    pub normalizer: Option<NormalizerWrapper>,
    pub pre_tokenizer: Option<PreTokenizerWrapper>,
    pub model: ModelWrapper,
    pub post_processor: Option<PostProcessorWrapper>,
    pub decoder: Option<DecoderWrapper>,
    pub added_vocabulary: AddedVocabulary,
    pub truncation: Option<TruncationParams>,
    pub padding: Option<PaddingParams>,
}

impl Tokenizer {
    pub fn new(model: ModelWrapper) -> Self {
        Tokenizer {
            normalizer: None,
            pre_tokenizer: None,
            model,
            post_processor: None,
            decoder: None,
            added_vocabulary: AddedVocabulary::default(),
            truncation: None,
            padding: None,
        }
    }

    /// Read a Hugging Face `tokenizer.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        serialization::from_json(&text, &path.display().to_string(), false)
    }

    /// Parse the contents of a `tokenizer.json`; `source` names it in error messages.
    pub fn from_json(json: &str, source: &str) -> Result<Self> {
        serialization::from_json(json, source, false)
    }

    /// Like [`Tokenizer::from_json`], but Unigram scores keep their exact values. Hugging Face's
    /// `tokenizers` reads some scores one ulp off (its fast float parser), and we match that by
    /// default; transformers' tokenizer classes that rebuild the model from Python floats get the
    /// exact values, which can break ties differently.
    pub fn from_json_exact_scores(json: &str, source: &str) -> Result<Self> {
        serialization::from_json(json, source, true)
    }

    /// Write the `tokenizer.json` form.
    pub fn to_json(&self, pretty: bool) -> Result<String> {
        serialization::to_json(self, pretty)
    }

    pub fn save(&self, path: impl AsRef<Path>, pretty: bool) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json(pretty)?).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    }

    // ------------------------------------------------------------------ vocabulary

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.added_vocabulary
            .token_to_id(token)
            .or_else(|| self.model.token_to_id(token))
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.added_vocabulary
            .id_to_text(id)
            .or_else(|| self.model.id_to_token(id))
    }

    pub fn get_vocab(&self, with_added_tokens: bool) -> HashMap<String, u32> {
        let mut vocab = self.model.vocab();
        if with_added_tokens {
            for (id, t) in self.added_vocabulary.tokens() {
                vocab.insert(t.content.clone(), *id);
            }
        }
        vocab
    }

    /// The vocabulary size; with added tokens, counts the ones that are not in the model's vocabulary.
    pub fn get_vocab_size(&self, with_added_tokens: bool) -> usize {
        let model = self.model.vocab_size();
        if !with_added_tokens {
            return model;
        }
        model
            + self
                .added_vocabulary
                .tokens()
                .filter(|(id, _)| self.model.id_to_token(*id).is_none())
                .count()
    }

    /// Add tokens; returns how many were new.
    pub fn add_tokens(&mut self, tokens: &[AddedToken]) -> usize {
        self.added_vocabulary
            .add(tokens, &self.model, self.normalizer.as_ref())
    }

    pub fn add_special_tokens(&mut self, tokens: &[AddedToken]) -> usize {
        let tokens: Vec<AddedToken> = tokens
            .iter()
            .map(|t| AddedToken {
                special: true,
                ..t.clone()
            })
            .collect();
        self.add_tokens(&tokens)
    }

    pub fn set_normalizer(&mut self, normalizer: Option<NormalizerWrapper>) {
        self.normalizer = normalizer;
        self.added_vocabulary
            .rebuild_matchers(self.normalizer.as_ref());
    }

    /// Special tokens the post-processor adds for one sequence (or a pair).
    pub fn num_special_tokens_to_add(&self, is_pair: bool) -> usize {
        self.post_processor
            .as_ref()
            .map_or(0, |p| p.added_tokens(is_pair))
    }

    // ------------------------------------------------------------------ encoding

    fn encode_text(
        &self,
        text: &str,
        type_id: u32,
        word_index: Option<u32>,
        offsets: OffsetType,
    ) -> Result<Encoding> {
        let mut p = self
            .added_vocabulary
            .extract_and_normalize(self.normalizer.as_ref(), text)?;
        if let Some(pre) = &self.pre_tokenizer {
            pre.pre_tokenize(&mut p)?;
        }
        p.tokenize(&self.model)?;
        p.into_encoding(word_index, type_id, offsets)
    }

    fn encode_sequence(
        &self,
        seq: &InputSequence,
        type_id: u32,
        offsets: OffsetType,
    ) -> Result<Encoding> {
        match seq {
            InputSequence::Raw(text) => self.encode_text(text, type_id, None, offsets),
            InputSequence::PreTokenized(words) => {
                let parts = words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| self.encode_text(w, type_id, Some(i as u32), offsets))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Encoding::merge(parts, false))
            }
        }
    }

    /// Encode one input (a sequence or a pair): tokens, then truncation, special tokens, padding.
    pub fn encode(
        &self,
        input: &EncodeInput,
        add_special_tokens: bool,
        offsets: OffsetType,
    ) -> Result<Encoding> {
        let mut encoding = self.encode_unpadded(input, add_special_tokens, offsets)?;
        if let Some(params) = &self.padding {
            pad_encodings(std::slice::from_mut(&mut encoding), params);
        }
        Ok(encoding)
    }

    /// [`Tokenizer::encode`] without the padding step.
    fn encode_unpadded(
        &self,
        input: &EncodeInput,
        add_special_tokens: bool,
        offsets: OffsetType,
    ) -> Result<Encoding> {
        let first = self.encode_sequence(&input.first, 0, offsets)?;
        let second = input
            .second
            .as_ref()
            .map(|s| self.encode_sequence(s, 1, offsets))
            .transpose()?;
        self.truncate_and_add_special_tokens(first, second, add_special_tokens)
    }

    /// Truncate, add special tokens, pad.
    pub fn post_process(
        &self,
        first: Encoding,
        second: Option<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        let mut encoding =
            self.truncate_and_add_special_tokens(first, second, add_special_tokens)?;
        if let Some(params) = &self.padding {
            pad_encodings(std::slice::from_mut(&mut encoding), params);
        }
        Ok(encoding)
    }

    /// [`Tokenizer::post_process`] without the padding step.
    fn truncate_and_add_special_tokens(
        &self,
        first: Encoding,
        second: Option<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        let (first, second) = match &self.truncation {
            Some(params) => {
                let reserved = if add_special_tokens {
                    self.num_special_tokens_to_add(second.is_some())
                } else {
                    0
                };
                let max_length = params.max_length.checked_sub(reserved).ok_or_else(|| {
                    Error::invalid(format!(
                        "max_length ({}) is smaller than the {reserved} special tokens the post-processor adds: raise max_length",
                        params.max_length
                    ))
                })?;
                truncate_pair(
                    first,
                    second,
                    &TruncationParams {
                        max_length,
                        ..params.clone()
                    },
                )?
            }
            None => (first, second),
        };
        Ok(match &self.post_processor {
            Some(p) => p.process(first, second, add_special_tokens)?,
            None => {
                let mut parts = vec![first];
                parts.extend(second);
                for (i, e) in parts.iter_mut().enumerate() {
                    e.set_sequence_id(i);
                }
                Encoding::merge(parts, false)
            }
        })
    }

    /// Encode many inputs in parallel (on the pool of [`threads`]), then pad them together.
    pub fn encode_batch(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
        offsets: OffsetType,
    ) -> Result<Vec<Encoding>> {
        let mut encodings: Vec<Encoding> = if inputs.len() > 1 && threads::parallelism_enabled() {
            threads::pool().install(|| {
                inputs
                    .par_iter()
                    .map(|i| self.encode(i, add_special_tokens, offsets))
                    .collect::<Result<Vec<_>>>()
            })?
        } else {
            inputs
                .iter()
                .map(|i| self.encode(i, add_special_tokens, offsets))
                .collect::<Result<Vec<_>>>()?
        };
        if let Some(params) = &self.padding {
            pad_encodings(&mut encodings, params);
        }
        Ok(encodings)
    }

    /// [`Tokenizer::encode_batch`] for callers that need only `ids`, `type_ids`,
    /// `attention_mask` and `special_tokens_mask` (model inputs): truncation, special tokens and
    /// padding apply as there, but the input's tokens are left as empty strings with `(0, 0)`
    /// offsets and no word ids, which spares most of the work.
    pub fn encode_batch_ids_only(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        let mut encodings = self.encode_batch_ids_only_unpadded(inputs, add_special_tokens)?;
        if let Some(params) = &self.padding {
            pad_encodings(&mut encodings, params);
        }
        Ok(encodings)
    }

    /// [`Tokenizer::encode_batch_ids_only`] before padding, for callers that pad while copying
    /// the ids out (padding each `Encoding` allocates a token string per pad).
    pub fn encode_batch_ids_only_unpadded(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        let encode = |input: &EncodeInput| self.encode_ids_unpadded(input, add_special_tokens);
        if inputs.len() > 1 && threads::parallelism_enabled() {
            threads::pool().install(|| inputs.par_iter().map(encode).collect())
        } else {
            inputs.iter().map(encode).collect()
        }
    }

    /// Encode many inputs in parallel and keep only their ids, concatenated: input `i`'s ids are
    /// `ids[offsets[i]..offsets[i + 1]]`. Truncation applies as in [`Tokenizer::encode_batch`];
    /// padding does not (ragged ids have no rows to pad), and the pieces truncation cuts off
    /// (`overflowing`) are dropped, as `encode_batch`'s `ids` leave them out.
    ///
    /// The ids come from the ids-only path (no token strings or offsets are built).
    pub fn encode_batch_ids(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
    ) -> Result<RaggedIds> {
        let ids_of = |input: &EncodeInput| {
            self.encode_ids_unpadded(input, add_special_tokens)
                .map(|mut e| std::mem::take(&mut e.ids))
        };
        let rows: Vec<Vec<u32>> = if inputs.len() > 1 && threads::parallelism_enabled() {
            threads::pool().install(|| inputs.par_iter().map(ids_of).collect::<Result<_>>())?
        } else {
            inputs.iter().map(ids_of).collect::<Result<_>>()?
        };
        Ok(RaggedIds::from_rows(&rows))
    }

    // ------------------------------------------------------------------ decoding

    /// Ids back to text. Unlike Hugging Face, an unknown id is an error, not silently dropped.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        let mut tokens = Vec::with_capacity(ids.len());
        for &id in ids {
            let token = self.id_to_token(id).ok_or(Error::IdOutOfRange {
                id,
                vocab_size: self.get_vocab_size(true),
            })?;
            if skip_special_tokens && self.added_vocabulary.is_special(token) {
                continue;
            }
            tokens.push(token.to_owned());
        }
        self.decode_tokens(tokens)
    }

    /// Token strings back to text through the decoder alone, as transformers'
    /// `convert_tokens_to_string`: the strings need not be in the vocabulary (pipelines pass pieces
    /// of the original text and already-decoded words). Without a decoder they are joined by spaces.
    pub fn decode_tokens(&self, tokens: Vec<String>) -> Result<String> {
        match &self.decoder {
            Some(d) => d.decode(tokens),
            None => Ok(tokens.join(" ")),
        }
    }

    pub fn decode_batch(
        &self,
        batch: &[Vec<u32>],
        skip_special_tokens: bool,
    ) -> Result<Vec<String>> {
        if batch.len() > 1 && threads::parallelism_enabled() {
            threads::pool().install(|| {
                batch
                    .par_iter()
                    .map(|ids| self.decode(ids, skip_special_tokens))
                    .collect()
            })
        } else {
            batch
                .iter()
                .map(|ids| self.decode(ids, skip_special_tokens))
                .collect()
        }
    }
}

/// Truncate one sequence or a pair to `params.max_length` tokens in all.
pub fn truncate_pair(
    mut first: Encoding,
    mut second: Option<Encoding>,
    params: &TruncationParams,
) -> Result<(Encoding, Option<Encoding>)> {
    let direction: Direction = params.direction.into();
    if params.max_length == 0 {
        first.truncate(0, params.stride, direction)?;
        if let Some(s) = second.as_mut() {
            s.truncate(0, params.stride, direction)?;
        }
        return Ok((first, second));
    }
    let total = first.len() + second.as_ref().map_or(0, Encoding::len);
    if total <= params.max_length {
        return Ok((first, second));
    }
    let to_remove = total - params.max_length;
    match params.strategy {
        TruncationStrategy::LongestFirst => match second.as_mut() {
            None => first.truncate(params.max_length, params.stride, direction)?,
            Some(s) => {
                // Give the shorter sequence all it needs, up to half; the longer one gets the rest.
                let (mut short, mut long) = (first.len(), s.len());
                let swapped = short > long;
                if swapped {
                    std::mem::swap(&mut short, &mut long);
                }
                long = if short > params.max_length {
                    short
                } else {
                    short.max(params.max_length - short)
                };
                if short + long > params.max_length {
                    short = params.max_length / 2;
                    long = short + params.max_length % 2;
                }
                let (n1, n2) = if swapped {
                    (long, short)
                } else {
                    (short, long)
                };
                first.truncate(n1, params.stride, direction)?;
                s.truncate(n2, params.stride, direction)?;
            }
        },
        TruncationStrategy::OnlyFirst | TruncationStrategy::OnlySecond => {
            let target = if params.strategy == TruncationStrategy::OnlyFirst {
                &mut first
            } else {
                second.as_mut().ok_or_else(|| {
                    Error::invalid("truncation strategy 'only_second' needs a pair of sequences, but only one was given")
                })?
            };
            let len = target.len();
            if len <= to_remove {
                return Err(Error::invalid(format!(
                    "cannot truncate: the sequence to truncate has {len} tokens but {to_remove} must go to reach \
                     max_length={}; use truncation 'longest_first' or raise max_length",
                    params.max_length
                )));
            }
            target.truncate(len - to_remove, params.stride, direction)?;
        }
    }
    Ok((first, second))
}

/// Pad every encoding to the batch's longest (or a fixed length), rounded up to a multiple.
/// The length `params` pads a batch whose longest row has `longest` tokens to.
pub fn padded_length(longest: usize, params: &PaddingParams) -> usize {
    let mut target = match params.strategy {
        PaddingStrategy::Fixed(n) => n,
        PaddingStrategy::BatchLongest => longest,
    };
    if let Some(m) = params.pad_to_multiple_of {
        if m > 0 && target % m != 0 {
            target += m - target % m;
        }
    }
    target
}

pub fn pad_encodings(encodings: &mut [Encoding], params: &PaddingParams) {
    if encodings.is_empty() {
        return;
    }
    let longest = encodings.iter().map(Encoding::len).max().unwrap_or(0);
    let target = padded_length(longest, params);
    for e in encodings {
        e.pad(
            target,
            params.pad_id,
            params.pad_type_id,
            &params.pad_token,
            params.direction.into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BERT-like tokenizer: whitespace words, WordPiece, `[CLS] A [SEP]`, and padding to 8
    /// turned on so that the tests see `encode_batch_ids` leave it out.
    fn tiny_bert() -> Tokenizer {
        let json = r###"{
            "version": "1.0",
            "truncation": null,
            "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                        "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": [
                {"id": 0, "special": true, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 1, "special": true, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 2, "special": true, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 3, "special": true, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false}
            ],
            "normalizer": null,
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
            "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100,
                      "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5,
                                "sat": 6, "on": 7, "mat": 8, "##s": 9}}
        }"###;
        Tokenizer::from_json(json, "tiny_bert").unwrap()
    }

    fn unpadded_ids(tok: &Tokenizer, inputs: &[EncodeInput], specials: bool) -> Vec<Vec<u32>> {
        let mut unpadded = tok.clone();
        unpadded.padding = None;
        unpadded
            .encode_batch(inputs, specials, OffsetType::Byte)
            .unwrap()
            .into_iter()
            .map(|e| e.ids)
            .collect()
    }

    #[test]
    fn encode_batch_ids_concatenates_the_unpadded_ids() {
        let tok = tiny_bert();
        let inputs: Vec<EncodeInput> = ["the cat sat", "", "cats on the mat mat", "dog"]
            .into_iter()
            .map(EncodeInput::from)
            .collect();
        for specials in [true, false] {
            let ragged = tok.encode_batch_ids(&inputs, specials).unwrap();
            let rows = unpadded_ids(&tok, &inputs, specials);
            assert_eq!(ragged, RaggedIds::from_rows(&rows));
            assert_eq!(ragged.len(), 4);
            assert_eq!(
                ragged.row(3),
                if specials { &[2, 1, 3][..] } else { &[1][..] }
            );
        }
        let ragged = tok.encode_batch_ids(&inputs, true).unwrap();
        assert_eq!(ragged.offsets, vec![0, 5, 7, 15, 18]);
        assert_eq!(ragged.row(2), &[2, 5, 9, 7, 4, 8, 8, 3]);
    }

    #[test]
    fn encode_batch_ids_truncates_like_encode_batch() {
        let mut tok = tiny_bert();
        tok.truncation = Some(TruncationParams {
            direction: DirectionName::Right,
            max_length: 6,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        });
        let inputs = vec![
            EncodeInput::from("cats on the mat mat"),
            EncodeInput::from(("the cat", "sat on the mat")),
        ];
        let ragged = tok.encode_batch_ids(&inputs, true).unwrap();
        assert_eq!(ragged.row(0), &[2, 5, 9, 7, 4, 3]);
        assert_eq!(
            ragged,
            RaggedIds::from_rows(&unpadded_ids(&tok, &inputs, true))
        );
        // Without special tokens, none of max_length is reserved for them.
        let plain = tok.encode_batch_ids(&inputs, false).unwrap();
        assert_eq!(plain.row(0), &[5, 9, 7, 4, 8, 8]);
        assert_eq!(plain.row(1).len(), 6);
        assert_eq!(
            plain,
            RaggedIds::from_rows(&unpadded_ids(&tok, &inputs, false))
        );
        tok.truncation.as_mut().unwrap().max_length = 1;
        let err = tok.encode_batch_ids(&inputs, true).unwrap_err();
        assert!(err.to_string().contains("max_length (1)"), "{err}");
    }

    #[test]
    fn encode_batch_ids_of_no_inputs_is_one_offset() {
        let ragged = tiny_bert().encode_batch_ids(&[], true).unwrap();
        assert!(ragged.is_empty());
        assert_eq!(ragged.offsets, vec![0]);
        assert!(ragged.ids.is_empty());
    }
}
