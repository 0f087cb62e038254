//! Stopping criteria: when a row, or the whole generation, is finished.
//!
//! transformers checks two criteria after appending each token: the sequence reached `max_length`,
//! or its last token is an end-of-sequence token. A finished row keeps running through the model
//! (the batch stays rectangular) but is fed the pad token from then on.

/// Per-row finished flags for greedy decoding and sampling.
#[derive(Debug, Clone)]
pub struct StoppingCriteria {
    max_length: usize,
    eos_token_ids: Vec<u32>,
    finished: Vec<bool>,
}

impl StoppingCriteria {
    pub fn new(rows: usize, max_length: usize, eos_token_ids: Vec<u32>) -> Self {
        StoppingCriteria {
            max_length,
            eos_token_ids,
            finished: vec![false; rows],
        }
    }

    pub fn is_eos(&self, token: u32) -> bool {
        self.eos_token_ids.contains(&token)
    }

    /// Whether a sequence of `length` tokens ending with `last` meets a criterion.
    pub fn hits(&self, length: usize, last: u32) -> bool {
        length >= self.max_length || self.is_eos(last)
    }

    /// Record the token just appended to `row`, whose sequence is now `length` long.
    pub fn update(&mut self, row: usize, length: usize, last: u32) {
        if self.hits(length, last) {
            self.finished[row] = true;
        }
    }

    /// Mark `row` finished from outside (a stop string matched in its decoded text).
    pub fn finish(&mut self, row: usize) {
        self.finished[row] = true;
    }

    pub fn is_finished(&self, row: usize) -> bool {
        self.finished[row]
    }

    /// Whether finished rows get the pad token: only when an end-of-sequence token can finish a row
    /// early (transformers' `has_eos_stopping_criteria`).
    pub fn pads_finished_rows(&self) -> bool {
        !self.eos_token_ids.is_empty()
    }

    pub fn all_finished(&self) -> bool {
        self.finished.iter().all(|&f| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eos_or_length() {
        let mut s = StoppingCriteria::new(2, 5, vec![7]);
        s.update(0, 3, 7);
        s.update(1, 3, 1);
        assert!(s.is_finished(0) && !s.is_finished(1) && !s.all_finished());
        s.update(1, 5, 1);
        assert!(s.all_finished());
    }
}
