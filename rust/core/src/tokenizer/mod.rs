//! The `Tokenizer`: the five stages wired together, the added vocabulary, truncation and padding,
//! and the `tokenizer.json` reader/writer.

mod added_vocabulary;
mod encoding;
pub mod legacy;
mod normalized;
mod params;
mod pre_tokenized;
mod serialization;
pub mod threads;

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

pub use added_vocabulary::{AddedToken, AddedVocabulary};
pub use encoding::{Direction, Encoding};
pub use normalized::{NormalizedString, SplitDelimiterBehavior};
pub use params::{
    DirectionName, PaddingParams, PaddingStrategy, TruncationParams, TruncationStrategy,
};
pub use pre_tokenized::{OffsetType, PreTokenizedString, Split};

use crate::decoders::{Decoder, DecoderWrapper};
use crate::models::{Model, ModelWrapper};
use crate::normalizers::NormalizerWrapper;
use crate::pre_tokenizers::{PreTokenizer, PreTokenizerWrapper};
use crate::processors::{PostProcessor, PostProcessorWrapper};
use crate::{Error, Result};

/// One input sequence: raw text, or text already split into words.
#[derive(Debug, Clone)]
pub enum InputSequence {
    Raw(String),
    PreTokenized(Vec<String>),
}

/// What `encode` takes: one sequence or a pair.
#[derive(Debug, Clone)]
pub struct EncodeInput {
    pub first: InputSequence,
    pub second: Option<InputSequence>,
}

impl From<&str> for EncodeInput {
    fn from(s: &str) -> Self {
        EncodeInput {
            first: InputSequence::Raw(s.to_owned()),
            second: None,
        }
    }
}

impl From<(&str, &str)> for EncodeInput {
    fn from((a, b): (&str, &str)) -> Self {
        EncodeInput {
            first: InputSequence::Raw(a.to_owned()),
            second: Some(InputSequence::Raw(b.to_owned())),
        }
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
        let first = self.encode_sequence(&input.first, 0, offsets)?;
        let second = input
            .second
            .as_ref()
            .map(|s| self.encode_sequence(s, 1, offsets))
            .transpose()?;
        self.post_process(first, second, add_special_tokens)
    }

    /// Truncate, add special tokens, pad.
    pub fn post_process(
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
        let mut encoding = match &self.post_processor {
            Some(p) => p.process(first, second, add_special_tokens)?,
            None => {
                let mut parts = vec![first];
                parts.extend(second);
                for (i, e) in parts.iter_mut().enumerate() {
                    e.set_sequence_id(i);
                }
                Encoding::merge(parts, false)
            }
        };
        if let Some(params) = &self.padding {
            pad_encodings(std::slice::from_mut(&mut encoding), params);
        }
        Ok(encoding)
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
pub fn pad_encodings(encodings: &mut [Encoding], params: &PaddingParams) {
    if encodings.is_empty() {
        return;
    }
    let mut target = match params.strategy {
        PaddingStrategy::Fixed(n) => n,
        PaddingStrategy::BatchLongest => encodings.iter().map(Encoding::len).max().unwrap_or(0),
    };
    if let Some(m) = params.pad_to_multiple_of {
        if m > 0 && target % m != 0 {
            target += m - target % m;
        }
    }
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
