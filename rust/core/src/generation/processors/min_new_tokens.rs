//! `MinNewTokens` (transformers' `MinNewTokensLengthLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Suppresses the end-of-sequence tokens until `min_new_tokens` tokens follow the (padded) prompt.
#[derive(Debug, Clone)]
pub struct MinNewTokens {
    prompt_length: usize,
    min_new_tokens: usize,
    eos_token_ids: Vec<u32>,
}

impl MinNewTokens {
    pub fn new(prompt_length: usize, min_new_tokens: usize, eos_token_ids: Vec<u32>) -> Self {
        MinNewTokens {
            prompt_length,
            min_new_tokens,
            eos_token_ids,
        }
    }
}

impl LogitsProcessor for MinNewTokens {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]) {
        let new_tokens = row.input_ids.len() as i64 - self.prompt_length as i64;
        if new_tokens < self.min_new_tokens as i64 {
            super::ban(scores, self.eos_token_ids.iter().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_prompt() {
        let p = MinNewTokens::new(2, 1, vec![0]);
        let mut s = [0.0; 2];
        p.process(&RowInput::new(&[1, 1]), &mut s);
        assert_eq!(s, [f32::NEG_INFINITY, 0.0]);
        let mut s = [0.0; 2];
        p.process(&RowInput::new(&[1, 1, 1]), &mut s);
        assert_eq!(s, [0.0; 2]);
    }
}
