//! `TypicalP` (transformers' `TypicalLogitsWarper`, locally typical sampling).

use crate::generation::{argsort_ascending, softmax_into, LogitsProcessor, RowInput};

/// Keeps the tokens whose surprisal `-log p` is closest to the entropy of the distribution, up to a
/// cumulative probability of `mass`; the `min_tokens_to_keep` most typical always stay.
#[derive(Debug, Clone)]
pub struct TypicalP {
    mass: f32,
    min_tokens_to_keep: usize,
}

impl TypicalP {
    pub fn new(mass: f64, min_tokens_to_keep: usize) -> Self {
        TypicalP {
            mass: mass as f32,
            min_tokens_to_keep,
        }
    }
}

impl LogitsProcessor for TypicalP {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        let n = scores.len();
        if n == 0 {
            return;
        }
        let mut log_probs = scores.to_vec();
        crate::generation::log_softmax_in_place(&mut log_probs);
        // Entropy; `-inf * 0` is NaN and, as in torch's nansum, contributes nothing.
        let entropy = -log_probs
            .iter()
            .map(|&l| (l * l.exp()) as f64)
            .filter(|x| !x.is_nan())
            .sum::<f64>() as f32;
        let shifted: Vec<f32> = log_probs.iter().map(|&l| (-l - entropy).abs()).collect();
        let order = argsort_ascending(&shifted);
        let sorted_scores: Vec<f32> = order.iter().map(|&i| scores[i]).collect();
        let mut probs = Vec::with_capacity(n);
        softmax_into(&sorted_scores, &mut probs);
        // The cut: as many tokens as have cumulative probability below `mass` (index of the first
        // token that reaches it), then every token at least as typical as that one.
        let mut cumulative = 0.0f64;
        let mut below = 0usize;
        for &p in &probs {
            cumulative += p as f64;
            if (cumulative as f32) < self.mass {
                below += 1;
            }
        }
        let last = below.min(n - 1);
        let cut = shifted[order[last]];
        for (pos, &i) in order.iter().enumerate() {
            if pos >= self.min_tokens_to_keep && shifted[i] > cut {
                scores[i] = f32::NEG_INFINITY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_keeps_everything_peaked_keeps_the_peak() {
        let mut s = [1.0; 4];
        TypicalP::new(0.5, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [1.0; 4]);
        let mut s = [10.0, 0.0, 0.0, 0.0];
        TypicalP::new(0.5, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s[0], 10.0);
        assert!(s[1..].iter().all(|&x| x == f32::NEG_INFINITY));
    }
}
