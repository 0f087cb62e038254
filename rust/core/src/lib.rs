//! ferroformers-core: the pure-Rust tokenization engine behind `ferroformers._core` (plus the
//! generation step loop and fast dropout masks, see [`generation`] and [`random`]).
//!
//! A tokenizer is a pipeline of five stages, each a trait with one file per implementation:
//! [`normalizers::Normalizer`] → [`pre_tokenizers::PreTokenizer`] → [`models::Model`] →
//! [`processors::PostProcessor`] → (for text back) [`decoders::Decoder`].
//! [`tokenizer::Tokenizer`] wires them together, reads Hugging Face `tokenizer.json`, and applies
//! the added vocabulary, truncation and padding. Nothing here knows about Python.

pub mod decoders;
pub mod error;
pub mod generation;
pub mod models;
pub mod normalizers;
pub mod pre_tokenizers;
pub mod processors;
pub mod random;
pub mod tokenizer;
pub mod utils;

pub use error::{Error, Result};
pub use tokenizer::{Encoding, IdsRow, RowField, Tokenizer};
