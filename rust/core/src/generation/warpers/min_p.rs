//! `MinP` (transformers' `MinPLogitsWarper`).

use crate::generation::{softmax_into, top_k_indices, LogitsProcessor, RowInput};

/// Drops the tokens whose probability is below `min_p` times the probability of the most likely
/// token, keeping at least the `min_tokens_to_keep` most likely.
#[derive(Debug, Clone)]
pub struct MinP {
    min_p: f32,
    min_tokens_to_keep: usize,
}

impl MinP {
    pub fn new(min_p: f64, min_tokens_to_keep: usize) -> Self {
        MinP {
            min_p: min_p as f32,
            min_tokens_to_keep,
        }
    }
}

impl LogitsProcessor for MinP {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        let mut probs = Vec::with_capacity(scores.len());
        softmax_into(scores, &mut probs);
        let top = probs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let threshold = self.min_p * top;
        let mut keep = vec![false; scores.len()];
        for i in top_k_indices(&probs, self.min_tokens_to_keep) {
            keep[i] = true;
        }
        for (i, s) in scores.iter_mut().enumerate() {
            if probs[i] < threshold && !keep[i] {
                *s = f32::NEG_INFINITY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_to_top_probability() {
        let inf = f32::NEG_INFINITY;
        // probs relative to the top: [1, e^-1 = 0.37, e^-3 = 0.05]
        let mut s = [3.0, 2.0, 0.0];
        MinP::new(0.1, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [3.0, 2.0, inf]);
        let mut s = [3.0, 2.0, 0.0];
        MinP::new(1.0, 2).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [3.0, 2.0, inf]);
    }
}
