//! (in progress)
mod encoding;
pub use encoding::{Direction, Encoding};
pub struct Tokenizer;
