//! `TopP` (transformers' `TopPLogitsWarper`, nucleus sampling).

use crate::generation::{argsort_ascending, LogitsProcessor, RowInput};

/// Keeps the smallest set of most likely tokens whose probabilities add up to at least `top_p`.
///
/// Computed as transformers does, from the unlikely end: sort ascending, and drop the tokens whose
/// cumulative probability is `<= 1 - top_p`; the `min_tokens_to_keep` most likely always stay.
#[derive(Debug, Clone)]
pub struct TopP {
    /// `1 - top_p`, computed in f64 and compared in f32 as torch does with a Python float.
    threshold: f32,
    min_tokens_to_keep: usize,
}

impl TopP {
    pub fn new(top_p: f64, min_tokens_to_keep: usize) -> Self {
        TopP {
            threshold: (1.0 - top_p) as f32,
            min_tokens_to_keep,
        }
    }
}

impl LogitsProcessor for TopP {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        let n = scores.len();
        if n == 0 {
            return;
        }
        let order = argsort_ascending(scores);
        // The softmax normaliser, summed in f64 as `softmax_into` does; each probability is then
        // computed only for the tokens the loop visits (from the unlikely end, until the cumulative
        // mass passes the threshold), instead of exponentiating the whole sorted row.
        let max = scores[order[n - 1]];
        let sum: f64 = scores.iter().map(|&s| (s - max).exp() as f64).sum();
        let inv = (1.0 / sum) as f32;
        // torch's CPU cumsum accumulates f32 in f64 and rounds each output to f32.
        let keep_from = n.saturating_sub(self.min_tokens_to_keep);
        let mut cumulative = 0.0f64;
        for &i in order.iter().take(keep_from) {
            cumulative += ((scores[i] - max).exp() * inv) as f64;
            if cumulative as f32 > self.threshold {
                // The cumulative sum only grows: every later (likelier) token is kept.
                break;
            }
            scores[i] = f32::NEG_INFINITY;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_nucleus() {
        let inf = f32::NEG_INFINITY;
        // probs ~ [0.665, 0.245, 0.090]
        let mut s = [2.0, 1.0, 0.0];
        TopP::new(0.8, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [2.0, 1.0, inf]);
        let mut s = [2.0, 1.0, 0.0];
        TopP::new(0.5, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [2.0, inf, inf]);
        let mut s = [2.0, 1.0, 0.0];
        TopP::new(0.5, 2).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [2.0, 1.0, inf]);
        let mut s = [2.0, 1.0, 0.0];
        TopP::new(1.0, 1).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [2.0, 1.0, 0.0]);
    }
}
