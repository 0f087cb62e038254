//! `TopP` (transformers' `TopPLogitsWarper`, nucleus sampling).

use crate::generation::{sortable_key, value_of_key, with_sorted_pairs, LogitsProcessor, RowInput};

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
        if scores.is_empty() {
            return;
        }
        thread_local! {
            static EXPS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        // The first position of the ascending order that is kept, as a (sort key, index) pair.
        let cut = EXPS.with(|cell| {
            let exps = &mut *cell.borrow_mut();
            with_sorted_pairs(scores, |pairs| self.first_kept(pairs, exps))
        });
        if let Some((key, index)) = cut {
            // Everything before the cut in the (stable) ascending order goes: one sequential pass
            // instead of scattered writes.
            for (i, s) in scores.iter_mut().enumerate() {
                let k = sortable_key(*s);
                if k < key || (k == key && (i as u32) < index) {
                    *s = f32::NEG_INFINITY;
                }
            }
        }
    }
}

impl TopP {
    /// Walk the ascending probabilities (softmax of the sorted scores, normaliser summed in f64 as
    /// `softmax_into` does) until their running sum passes the threshold; `None` when nothing is
    /// removed.
    fn first_kept(&self, pairs: &[(u32, u32)], exps: &mut Vec<f32>) -> Option<(u32, u32)> {
        let n = pairs.len();
        let max = value_of_key(pairs[n - 1].0);
        exps.clear();
        exps.extend(
            pairs
                .iter()
                .map(|&(key, _)| (value_of_key(key) - max).exp()),
        );
        let sum: f64 = exps.iter().map(|&e| e as f64).sum();
        let inv = (1.0 / sum) as f32;
        // torch's CPU cumsum accumulates f32 in f64 and rounds each output to f32.
        let keep_from = n.saturating_sub(self.min_tokens_to_keep);
        let mut cumulative = 0.0f64;
        let mut cut = keep_from;
        for (pos, &e) in exps.iter().enumerate().take(keep_from) {
            cumulative += (e * inv) as f64;
            if cumulative as f32 > self.threshold {
                // The cumulative sum only grows: every later (likelier) token is kept.
                cut = pos;
                break;
            }
        }
        match cut {
            0 => None,
            c if c < n => Some(pairs[c]),
            // The whole row goes (only possible with min_tokens_to_keep = 0).
            _ => Some((u32::MAX, u32::MAX)),
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
