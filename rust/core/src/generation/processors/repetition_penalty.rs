//! `RepetitionPenalty` (transformers' `RepetitionPenaltyLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Makes every token already in the sequence less likely: positive scores are divided by the
/// penalty, negative ones multiplied (dividing a negative score would raise it). Each distinct
/// token is penalised once however often it occurs. Left padding is skipped (transformers 5 passes
/// the padding lengths from the attention mask), ids outside the vocabulary are ignored.
#[derive(Debug, Clone)]
pub struct RepetitionPenalty {
    penalty: f32,
}

impl RepetitionPenalty {
    pub fn new(penalty: f64) -> Self {
        RepetitionPenalty {
            penalty: penalty as f32,
        }
    }
}

impl LogitsProcessor for RepetitionPenalty {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]) {
        let vocab = scores.len();
        let mut seen = vec![false; vocab];
        let start = row.padding_length.min(row.input_ids.len());
        for &t in &row.input_ids[start..] {
            let t = t as usize;
            if t < vocab && !seen[t] {
                seen[t] = true;
                let s = scores[t];
                scores[t] = if s < 0.0 {
                    s * self.penalty
                } else {
                    s / self.penalty
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divides_positive_multiplies_negative_once() {
        let p = RepetitionPenalty::new(2.0);
        let mut s = [4.0, -1.0, 3.0, 0.0];
        p.process(&RowInput::new(&[0, 1, 1, 3, 9]), &mut s);
        assert_eq!(s, [2.0, -2.0, 3.0, 0.0]);
    }

    #[test]
    fn skips_left_padding() {
        let p = RepetitionPenalty::new(2.0);
        let mut s = [4.0, 4.0];
        let row = RowInput {
            input_ids: &[0, 0, 1],
            padding_length: 2,
        };
        p.process(&row, &mut s);
        assert_eq!(s, [4.0, 2.0]);
    }
}
