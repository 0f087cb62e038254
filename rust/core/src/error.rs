//! The one error type of the core. The Python bindings map each variant to one Python exception
//! (see `rust/python/src/errors.rs`), so the variants are chosen by what the user must do about them.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tokenizer file is not valid JSON, or a field has the wrong shape.
    #[error("{file}: invalid tokenizer definition at `{json_path}`: {message}")]
    Format {
        file: String,
        json_path: String,
        message: String,
    },
    /// A component `type` that this version does not implement.
    #[error("{file}: unsupported {component} type `{type_name}` at `{json_path}`; supported: {supported}")]
    Unsupported {
        file: String,
        component: &'static str,
        type_name: String,
        json_path: String,
        supported: String,
    },
    /// The caller passed an argument that cannot work (bad stride, out-of-range id, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// A numeric argument outside its domain, outside tokenization (e.g. a dropout probability).
    #[error("{0}")]
    InvalidArgument(String),
    /// An id that is not in the vocabulary (nor among the added tokens).
    #[error("token id {id} is out of range: the vocabulary has {vocab_size} tokens (ids 0..{vocab_size})")]
    IdOutOfRange { id: u32, vocab_size: usize },
    /// The model cannot tokenize a piece (e.g. no `unk_token` for an unknown character).
    #[error("{0}")]
    Model(String),
    /// Bad generation settings or inputs (see [`crate::generation::GenerationError`]).
    #[error(transparent)]
    Generation(#[from] crate::generation::GenerationError),
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }
}
