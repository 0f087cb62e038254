//! `MinLength` (transformers' `MinLengthLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Suppresses the end-of-sequence tokens while the sequence (prompt and padding included) is
/// shorter than `min_length`.
#[derive(Debug, Clone)]
pub struct MinLength {
    min_length: usize,
    eos_token_ids: Vec<u32>,
}

impl MinLength {
    pub fn new(min_length: usize, eos_token_ids: Vec<u32>) -> Self {
        MinLength {
            min_length,
            eos_token_ids,
        }
    }
}

impl LogitsProcessor for MinLength {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]) {
        if row.input_ids.len() < self.min_length {
            super::ban(scores, self.eos_token_ids.iter().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_eos_until_reached() {
        let p = MinLength::new(3, vec![1, 9]);
        let mut s = [0.0; 3];
        p.process(&RowInput::new(&[0, 0]), &mut s);
        assert_eq!(s, [0.0, f32::NEG_INFINITY, 0.0]);
        let mut s = [0.0; 3];
        p.process(&RowInput::new(&[0, 0, 0]), &mut s);
        assert_eq!(s, [0.0; 3]);
    }
}
