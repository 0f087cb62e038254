//! `SuppressTokens` (transformers' `SuppressTokensLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Sets the listed tokens to `-inf` at every step; ids outside the vocabulary are ignored.
#[derive(Debug, Clone)]
pub struct SuppressTokens {
    tokens: Vec<u32>,
}

impl SuppressTokens {
    pub fn new(tokens: Vec<u32>) -> Self {
        SuppressTokens { tokens }
    }
}

impl LogitsProcessor for SuppressTokens {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        super::ban(scores, self.tokens.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppresses_listed_ids() {
        let mut s = [1.0; 3];
        SuppressTokens::new(vec![2, 5]).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [1.0, 1.0, f32::NEG_INFINITY]);
    }
}
