//! Warpers: processors transformers applies only when sampling, after the other processors, in
//! this order: temperature, top-k, top-p, min-p, typical-p. One file each.
//!
//! Each keeps a token's score unchanged or sets it to `-inf`; `min_tokens_to_keep` (1, or more for
//! beam sampling) guarantees that many survivors.

mod min_p;
mod temperature;
mod top_k;
mod top_p;
mod typical_p;

pub use min_p::MinP;
pub use temperature::Temperature;
pub use top_k::TopK;
pub use top_p::TopP;
pub use typical_p::TypicalP;
