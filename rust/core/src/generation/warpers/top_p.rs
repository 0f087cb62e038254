//! `TopP` (transformers' `TopPLogitsWarper`, nucleus sampling).

use crate::generation::{
    sortable_key, value_of_key, with_sorted_pairs, GenerationError, LogitsProcessor, Result,
    RowInput,
};

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

thread_local! {
    /// The sorted row's exponentials, kept between calls (one vocabulary-sized buffer per thread).
    static EXPS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl LogitsProcessor for TopP {
    fn as_top_p(&self) -> Option<&TopP> {
        Some(self)
    }

    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        if scores.is_empty() {
            return;
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
        match self.cut_position(pairs, exps) {
            0 => None,
            c if c < n => Some(pairs[c]),
            // The whole row goes (only possible with min_tokens_to_keep = 0).
            _ => Some((u32::MAX, u32::MAX)),
        }
    }

    /// The first kept position of the ascending order, leaving in `exps` the unnormalised
    /// probabilities `exp(score - max)` of the sorted row.
    fn cut_position(&self, pairs: &[(u32, u32)], exps: &mut Vec<f32>) -> usize {
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
        for (pos, &e) in exps.iter().enumerate().take(keep_from) {
            cumulative += (e * inv) as f64;
            if cumulative as f32 > self.threshold {
                // The cumulative sum only grows: every later (likelier) token is kept.
                return pos;
            }
        }
        keep_from
    }

    /// Draw a token from the nucleus of `scores` (what sampling after `process` would do) in one
    /// go: the sort and the exponentials top-p needs are the sampling weights of the kept tokens,
    /// so nothing is computed twice. `uniform` in [0, 1) is the random number; the scan starts at
    /// the likeliest token, so a peaked distribution stops early. `scores` is left as it is.
    pub fn sample(&self, scores: &[f32], uniform: f64, row: usize) -> Result<usize> {
        if scores.is_empty() {
            return Err(GenerationError::InvalidDistribution { row });
        }
        EXPS.with(|cell| {
            let exps = &mut *cell.borrow_mut();
            with_sorted_pairs(scores, |pairs| {
                let cut = self.cut_position(pairs, exps);
                let kept = &exps[cut.min(exps.len())..];
                let total: f64 = kept.iter().map(|&e| e as f64).sum();
                if !(total > 0.0 && total.is_finite()) {
                    return Err(GenerationError::InvalidDistribution { row });
                }
                let target = uniform * total;
                let mut acc = 0.0f64;
                for (k, &e) in kept.iter().enumerate().rev() {
                    acc += e as f64;
                    if acc > target {
                        return Ok(pairs[cut + k].1 as usize);
                    }
                }
                // Rounding can leave the target just above the final sum: the least likely kept.
                Ok(pairs[cut].1 as usize)
            })
        })
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

    #[test]
    fn sample_draws_from_the_nucleus_in_proportion() {
        // probs ~ [0.032, 0.087, 0.237, 0.644]: top-p 0.8 keeps the two likeliest (index 2 and 3).
        let scores = [0.0f32, 1.0, 2.0, 3.0];
        let top_p = TopP::new(0.8, 1);
        let mut counts = [0usize; 4];
        let n = 20_000;
        for k in 0..n {
            let u = (k as f64 + 0.5) / n as f64;
            counts[top_p.sample(&scores, u, 0).unwrap()] += 1;
        }
        assert_eq!(counts[0] + counts[1], 0);
        let expected_3 = 3f64.exp() / (2f64.exp() + 3f64.exp());
        assert!((counts[3] as f64 / n as f64 - expected_3).abs() < 1e-3);
        let mut processed = scores;
        top_p.process(&RowInput::new(&[]), &mut processed);
        assert_eq!(processed[..2], [f32::NEG_INFINITY; 2]);
        assert!(top_p.sample(&[f32::NEG_INFINITY; 3], 0.5, 7).is_err());
    }
}
