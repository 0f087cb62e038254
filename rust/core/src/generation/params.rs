//! `GenerationParams`: the generation settings the Rust side acts on, as one plain struct.
//!
//! The names and meanings are transformers' `GenerationConfig` fields. `None` (or the neutral
//! value, e.g. `top_p = 1.0`) means the processor is not used, as in transformers.

use super::{GenerationError, Result};

/// When beam search may stop for a batch row (transformers' `early_stopping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EarlyStopping {
    /// `False`: stop when the best running beam, scored at the current length, cannot beat the
    /// worst finished hypothesis (a heuristic).
    #[default]
    Heuristic,
    /// `True`: stop as soon as `num_beams` hypotheses are finished.
    Stop,
    /// `"never"`: stop only when no better hypothesis is possible even at `max_length` (the
    /// canonical beam search when `length_penalty > 0`).
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    pub do_sample: bool,
    pub num_beams: usize,
    pub num_return_sequences: usize,
    pub temperature: f64,
    /// `Some(0)` means no top-k filter, as in transformers.
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub min_p: Option<f64>,
    pub typical_p: Option<f64>,
    pub repetition_penalty: Option<f64>,
    pub no_repeat_ngram_size: Option<usize>,
    pub bad_words_ids: Option<Vec<Vec<u32>>>,
    pub suppress_tokens: Option<Vec<u32>>,
    /// Total length (prompt included) below which end-of-sequence tokens are suppressed.
    pub min_length: usize,
    /// Number of generated tokens below which end-of-sequence tokens are suppressed.
    pub min_new_tokens: Option<usize>,
    /// Total length (prompt included) at which generation stops.
    pub max_length: usize,
    pub eos_token_ids: Vec<u32>,
    /// Written after a row has finished; defaults to the first end-of-sequence token.
    pub pad_token_id: Option<u32>,
    pub length_penalty: f64,
    pub early_stopping: EarlyStopping,
    /// `None`: draw a seed from the process-wide generator that [`super::set_seed`] reseeds.
    pub seed: Option<u64>,
}

impl GenerationParams {
    /// Greedy decoding up to `max_length` tokens, every other setting neutral.
    pub fn new(max_length: usize) -> Self {
        GenerationParams {
            do_sample: false,
            num_beams: 1,
            num_return_sequences: 1,
            temperature: 1.0,
            top_k: None,
            top_p: None,
            min_p: None,
            typical_p: None,
            repetition_penalty: None,
            no_repeat_ngram_size: None,
            bad_words_ids: None,
            suppress_tokens: None,
            min_length: 0,
            min_new_tokens: None,
            max_length,
            eos_token_ids: Vec::new(),
            pad_token_id: None,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
            seed: None,
        }
    }

    pub fn is_beam_search(&self) -> bool {
        self.num_beams > 1
    }

    /// How many rows each prompt becomes: transformers expands the inputs by
    /// `max(num_beams, num_return_sequences)` with `repeat_interleave`.
    pub fn expand_size(&self) -> usize {
        self.num_beams.max(self.num_return_sequences)
    }

    /// The pad token: the configured one, else the first end-of-sequence token (transformers'
    /// `_prepare_special_tokens`).
    pub fn effective_pad_token_id(&self) -> Option<u32> {
        self.pad_token_id.or(self.eos_token_ids.first().copied())
    }

    /// Sampling warpers keep this many tokens at least. Beam sampling keeps one more than the number
    /// of end-of-sequence tokens, so that a beam can always continue (transformers' rule).
    pub fn min_tokens_to_keep(&self) -> usize {
        if self.num_beams > 1 {
            if self.eos_token_ids.is_empty() {
                2
            } else {
                self.eos_token_ids.len() + 1
            }
        } else {
            1
        }
    }

    /// Check ranges and combinations; `vocab_size` bounds the token ids that must be valid.
    pub fn validate(&self, vocab_size: usize) -> Result<()> {
        let bad = |m: String| Err(GenerationError::InvalidParameter(m));
        if vocab_size == 0 {
            return bad("vocab_size must be at least 1".into());
        }
        if self.num_beams == 0 {
            return bad("num_beams must be at least 1".into());
        }
        if self.num_return_sequences == 0 {
            return bad("num_return_sequences must be at least 1".into());
        }
        if self.num_beams > 1 && self.num_return_sequences > self.num_beams {
            return bad(format!(
                "num_return_sequences ({}) must not exceed num_beams ({}) for beam search",
                self.num_return_sequences, self.num_beams
            ));
        }
        if self.num_beams == 1 && !self.do_sample && self.num_return_sequences > 1 {
            return bad(format!(
                "greedy decoding returns one sequence per prompt, but num_return_sequences is {}; \
                 use do_sample=True or num_beams > 1",
                self.num_return_sequences
            ));
        }
        if self.temperature.is_nan() || self.temperature <= 0.0 || self.temperature.is_infinite() {
            return bad(format!(
                "temperature must be a strictly positive float, got {} (for greedy decoding set do_sample=False)",
                self.temperature
            ));
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return bad(format!("top_p must be in (0, 1], got {p}"));
            }
        }
        if let Some(p) = self.min_p {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("min_p must be in [0, 1], got {p}"));
            }
        }
        if let Some(p) = self.typical_p {
            if !(p > 0.0 && p <= 1.0) {
                return bad(format!("typical_p must be in (0, 1], got {p}"));
            }
        }
        if let Some(p) = self.repetition_penalty {
            if p.is_nan() || p <= 0.0 || p.is_infinite() {
                return bad(format!(
                    "repetition_penalty must be a strictly positive float, got {p}"
                ));
            }
        }
        if !self.length_penalty.is_finite() {
            return bad(format!(
                "length_penalty must be finite, got {}",
                self.length_penalty
            ));
        }
        if let Some(words) = &self.bad_words_ids {
            if words.is_empty() {
                return bad("bad_words_ids must be a non-empty list of token id lists".into());
            }
            for w in words {
                if w.is_empty() {
                    return bad(
                        "each entry of bad_words_ids must be a non-empty list of token ids".into(),
                    );
                }
                if let Some(&t) = w.iter().find(|&&t| t as usize >= vocab_size) {
                    return bad(format!(
                        "bad_words_ids holds token {t}, but the vocabulary has {vocab_size} tokens"
                    ));
                }
            }
        }
        if self.max_length == 0 {
            return bad("max_length must be at least 1".into());
        }
        // The pad token is fed back to the model once a row has produced an end-of-sequence token,
        // so it must be embeddable then; without one it is never written.
        if let Some(pad) = self.pad_token_id {
            if pad as usize >= vocab_size && !self.eos_token_ids.is_empty() {
                return bad(format!(
                    "pad_token_id {pad} is not below the vocabulary size {vocab_size}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_ranges() {
        let base = GenerationParams::new(10);
        assert!(base.validate(5).is_ok());
        for p in [
            GenerationParams {
                top_p: Some(0.0),
                ..base.clone()
            },
            GenerationParams {
                top_p: Some(1.5),
                ..base.clone()
            },
            GenerationParams {
                temperature: 0.0,
                ..base.clone()
            },
            GenerationParams {
                num_beams: 2,
                num_return_sequences: 3,
                ..base.clone()
            },
            GenerationParams {
                num_return_sequences: 2,
                ..base.clone()
            },
            GenerationParams {
                bad_words_ids: Some(vec![vec![7]]),
                ..base.clone()
            },
            GenerationParams {
                bad_words_ids: Some(vec![]),
                ..base.clone()
            },
            GenerationParams {
                repetition_penalty: Some(0.0),
                ..base.clone()
            },
            GenerationParams {
                min_p: Some(-0.1),
                ..base.clone()
            },
        ] {
            assert!(p.validate(5).is_err(), "{p:?}");
        }
    }

    #[test]
    fn beam_sampling_keeps_one_more_than_eos() {
        let mut p = GenerationParams::new(10);
        assert_eq!(p.min_tokens_to_keep(), 1);
        p.num_beams = 3;
        assert_eq!(p.min_tokens_to_keep(), 2);
        p.eos_token_ids = vec![1, 2];
        assert_eq!(p.min_tokens_to_keep(), 3);
        assert_eq!(p.effective_pad_token_id(), Some(1));
    }
}
