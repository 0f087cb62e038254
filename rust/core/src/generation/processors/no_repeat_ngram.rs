//! `NoRepeatNGram` (transformers' `NoRepeatNGramLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Bans every token that would complete an n-gram already present anywhere in the sequence
/// (prompt and padding included, as transformers does for decoder-only models).
#[derive(Debug, Clone)]
pub struct NoRepeatNGram {
    n: usize,
}

impl NoRepeatNGram {
    pub fn new(n: usize) -> Self {
        assert!(n > 0, "ngram size must be positive");
        NoRepeatNGram { n }
    }
}

impl LogitsProcessor for NoRepeatNGram {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]) {
        let ids = row.input_ids;
        let n = self.n;
        if ids.len() < n {
            return;
        }
        // The next token completes an n-gram whose first n-1 tokens are the current suffix; every
        // earlier window that starts with that suffix bans its last token. (The window starting at the
        // suffix itself would need the token we are choosing, so it is not among them.)
        let prefix = &ids[ids.len() + 1 - n..];
        for window in ids.windows(n) {
            if &window[..n - 1] == prefix {
                if let Some(s) = scores.get_mut(window[n - 1] as usize) {
                    *s = f32::NEG_INFINITY;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_completion_of_seen_bigram() {
        let p = NoRepeatNGram::new(2);
        let mut s = [0.0; 5];
        // bigrams: (1,2) (2,3) (3,1); suffix 1 -> ban 2
        p.process(&RowInput::new(&[1, 2, 3, 1]), &mut s);
        assert_eq!(s, [0.0, 0.0, f32::NEG_INFINITY, 0.0, 0.0]);
    }

    #[test]
    fn unigram_bans_every_seen_token_and_short_rows_untouched() {
        let mut s = [0.0; 4];
        NoRepeatNGram::new(1).process(&RowInput::new(&[3, 1]), &mut s);
        assert_eq!(s, [0.0, f32::NEG_INFINITY, 0.0, f32::NEG_INFINITY]);
        let mut s = [0.0; 4];
        NoRepeatNGram::new(3).process(&RowInput::new(&[3, 1]), &mut s);
        assert_eq!(s, [0.0; 4]);
    }
}
