//! `TopK` (transformers' `TopKLogitsWarper`).

use crate::generation::{LogitsProcessor, RowInput};

/// Keeps the tokens whose score is at least the k-th largest score (so ties at the boundary all
/// survive); k is raised to `min_tokens_to_keep` and capped at the vocabulary size.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
}

impl TopK {
    pub fn new(top_k: usize, min_tokens_to_keep: usize) -> Self {
        TopK {
            k: top_k.max(min_tokens_to_keep),
        }
    }
}

impl LogitsProcessor for TopK {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        let k = self.k.min(scores.len());
        if k == 0 || k == scores.len() {
            return;
        }
        let mut sorted = scores.to_vec();
        let (_, kth, _) = sorted.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        let kth = *kth;
        for s in scores.iter_mut() {
            if *s < kth {
                *s = f32::NEG_INFINITY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ties_and_caps_at_vocab() {
        let inf = f32::NEG_INFINITY;
        let mut s = [1.0, 3.0, 2.0, 2.0, 0.0];
        TopK::new(2, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [inf, 3.0, 2.0, 2.0, inf]);
        let mut s = [1.0, 3.0];
        TopK::new(10, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [1.0, 3.0]);
        let mut s = [1.0, 3.0, 2.0];
        TopK::new(1, 2).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [inf, 3.0, 2.0]);
    }
}
