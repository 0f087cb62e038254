//! `PreTokenizedString`: the input cut into pieces ("splits") by the added-vocabulary matcher and
//! the pre-tokenizer; each split is a [`NormalizedString`] and, once tokenized, its tokens.

use crate::models::{Model, Token};
use crate::tokenizer::normalized::NormalizedString;
use crate::{Encoding, Result};

#[derive(Debug, Clone)]
pub struct Split {
    pub normalized: NormalizedString,
    /// `Some` once the split is tokenized (added tokens are tokenized as soon as they are found).
    pub tokens: Option<Vec<Token>>,
}

impl From<NormalizedString> for Split {
    fn from(normalized: NormalizedString) -> Self {
        Split {
            normalized,
            tokens: None,
        }
    }
}

/// Whether offsets are reported in bytes (Rust's view) or chars (what Python users see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetType {
    Byte,
    Char,
}

#[derive(Debug, Clone)]
pub struct PreTokenizedString {
    original: String,
    pub splits: Vec<Split>,
}

impl From<&str> for PreTokenizedString {
    fn from(s: &str) -> Self {
        PreTokenizedString {
            original: s.to_owned(),
            splits: vec![Split::from(NormalizedString::from(s))],
        }
    }
}

impl PreTokenizedString {
    pub fn from_normalized(original: &str, normalized: NormalizedString) -> Self {
        PreTokenizedString {
            original: original.to_owned(),
            splits: vec![Split::from(normalized)],
        }
    }

    /// Replace every not-yet-tokenized split by what `f` makes of it; empty pieces are dropped.
    pub fn split<F>(&mut self, mut f: F) -> Result<()>
    where
        F: FnMut(usize, NormalizedString) -> Result<Vec<Split>>,
    {
        let mut out = Vec::with_capacity(self.splits.len());
        for (i, split) in std::mem::take(&mut self.splits).into_iter().enumerate() {
            if split.tokens.is_some() {
                out.push(split);
                continue;
            }
            out.extend(
                f(i, split.normalized)?
                    .into_iter()
                    .filter(|s| !s.normalized.is_empty()),
            );
        }
        self.splits = out;
        Ok(())
    }

    /// Same as [`PreTokenizedString::split`] for functions that make plain pieces.
    pub fn split_pieces<F>(&mut self, mut f: F) -> Result<()>
    where
        F: FnMut(usize, NormalizedString) -> Result<Vec<NormalizedString>>,
    {
        self.split(|i, n| Ok(f(i, n)?.into_iter().map(Split::from).collect()))
    }

    /// Apply `f` to every not-yet-tokenized split in place.
    pub fn normalize<F>(&mut self, mut f: F) -> Result<()>
    where
        F: FnMut(&mut NormalizedString) -> Result<()>,
    {
        for split in self.splits.iter_mut().filter(|s| s.tokens.is_none()) {
            f(&mut split.normalized)?;
        }
        Ok(())
    }

    /// Tokenize every split that is not tokenized yet.
    pub fn tokenize<M: Model + ?Sized>(&mut self, model: &M) -> Result<()> {
        for split in self.splits.iter_mut().filter(|s| s.tokens.is_none()) {
            split.tokens = Some(model.tokenize(split.normalized.get())?);
        }
        Ok(())
    }

    /// Assemble the tokens of all splits into an [`Encoding`]. `word_index` fixes the word id of
    /// every token (pre-tokenized input); otherwise each split is a word.
    pub fn into_encoding(
        self,
        word_index: Option<u32>,
        type_id: u32,
        offset_type: OffsetType,
    ) -> Result<Encoding> {
        let converter = match offset_type {
            OffsetType::Char => Some(CharOffsets::new(&self.original)),
            OffsetType::Byte => None,
        };
        let n: usize = self
            .splits
            .iter()
            .map(|s| s.tokens.as_ref().map_or(0, Vec::len))
            .sum();
        let mut enc = Encoding::with_capacity(n);
        for (idx, split) in self.splits.into_iter().enumerate() {
            let tokens = split
                .tokens
                .ok_or_else(|| crate::Error::invalid("internal: a split was not tokenized"))?;
            let (base, _) = split.normalized.offsets_original();
            for token in tokens {
                let r = split
                    .normalized
                    .normalized_to_original(token.offsets.0..token.offsets.1)
                    .unwrap_or(token.offsets.0..token.offsets.1);
                let mut offsets = (base + r.start, base + r.end);
                if let Some(conv) = &converter {
                    offsets = conv.convert(offsets);
                }
                enc.ids.push(token.id);
                enc.tokens.push(token.value);
                enc.offsets.push(offsets);
                enc.words.push(Some(word_index.unwrap_or(idx as u32)));
                enc.type_ids.push(type_id);
                enc.special_tokens_mask.push(0);
                enc.attention_mask.push(1);
            }
        }
        Ok(enc)
    }
}

/// Byte → char offset conversion for one original string, with Hugging Face's edge rules: an
/// offset at the very end maps to one past the last char; a start outside the string leaves the
/// offsets as they are.
struct CharOffsets {
    /// The char index of each byte; `None` for ASCII strings, where bytes are chars.
    char_of_byte: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(s: &str) -> Self {
        if s.is_ascii() {
            return CharOffsets {
                char_of_byte: None,
                len: s.len(),
            };
        }
        let mut map = Vec::with_capacity(s.len());
        for (i, c) in s.chars().enumerate() {
            map.extend(std::iter::repeat_n(i, c.len_utf8()));
        }
        CharOffsets {
            char_of_byte: Some(map),
            len: s.len(),
        }
    }

    fn convert(&self, (a, b): (usize, usize)) -> (usize, usize) {
        let at = |byte: usize| -> Option<usize> {
            match &self.char_of_byte {
                None => (byte < self.len).then_some(byte),
                Some(map) => map.get(byte).copied(),
            }
        };
        match (at(a), at(b)) {
            (Some(start), Some(end)) => (start, end),
            (Some(start), None) => {
                let last = b.checked_sub(1).and_then(at).unwrap_or(start + 1);
                (start, last + 1)
            }
            _ => (a, b),
        }
    }
}
