//! Models turn one pre-tokenized piece of text into tokens: [`bpe::Bpe`] (byte-level and
//! SentencePiece-style), [`wordpiece::WordPiece`].

pub mod bpe;
pub mod wordpiece;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Result;

/// One token produced by a model: its id, its text, and its byte offsets inside the piece that
/// was tokenized (not inside the whole input: the tokenizer maps them back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: u32,
    pub value: String,
    pub offsets: (usize, usize),
}

impl Token {
    pub fn new(id: u32, value: String, offsets: (usize, usize)) -> Self {
        Token { id, value, offsets }
    }
}

/// The model stage: vocabulary plus the algorithm that splits a piece into vocabulary entries.
pub trait Model {
    /// Tokenize one piece (already normalized and pre-tokenized). Offsets are byte offsets in `piece`.
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>>;
    fn token_to_id(&self, token: &str) -> Option<u32>;
    fn id_to_token(&self, id: u32) -> Option<&str>;
    fn vocab(&self) -> HashMap<String, u32>;
    fn vocab_size(&self) -> usize;
}

/// `tokenizer.json`'s `model` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ModelWrapper {
    #[serde(rename = "BPE")]
    Bpe(bpe::Bpe),
    WordPiece(wordpiece::WordPiece),
}

impl ModelWrapper {
    pub const SUPPORTED: &'static [&'static str] = &["BPE", "WordPiece"];

    fn inner(&self) -> &dyn Model {
        match self {
            ModelWrapper::Bpe(m) => m,
            ModelWrapper::WordPiece(m) => m,
        }
    }
}

impl Model for ModelWrapper {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        self.inner().tokenize(piece)
    }
    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner().token_to_id(token)
    }
    fn id_to_token(&self, id: u32) -> Option<&str> {
        self.inner().id_to_token(id)
    }
    fn vocab(&self) -> HashMap<String, u32> {
        self.inner().vocab()
    }
    fn vocab_size(&self) -> usize {
        self.inner().vocab_size()
    }
}
