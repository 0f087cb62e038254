//! Beam search, one step at a time, as transformers 5.x `_beam_search` computes it.
//!
//! Per batch row there are `num_beams` running beams and `num_beams` slots of finished hypotheses.
//! Each step:
//! 1. every running beam's processed log-probabilities are added to its running score, giving
//!    `num_beams * vocab` candidates; the best `K = max(2, 1 + #eos) * num_beams` are kept (or, for
//!    beam sampling, K are sampled without replacement and sorted) — K leaves enough non-finished
//!    candidates to continue even when the best ones all end;
//! 2. the best `num_beams` candidates that do not hit a stopping criterion become the new running
//!    beams (candidates that stop get `-1e9` so they sort last);
//! 3. candidates among the first `num_beams` that stop (end-of-sequence token or `max_length`)
//!    compete for the finished slots with score `sum_logprobs / generated_len ** length_penalty`;
//! 4. a batch row is done when no running beam can beat its worst finished hypothesis (see
//!    [`EarlyStopping`]); generation ends when every row is done or every candidate stops.
//!
//! The sentinel arithmetic (`-1e9` added in f32) is reproduced exactly because it decides ties the
//! way transformers does.

use super::params::EarlyStopping;
use super::sampler::Sampler;
use super::{top_k_indices, Result};

/// transformers' "impossible" score.
const NEG: f32 = -1.0e9;

#[derive(Debug, Clone)]
struct Hypothesis {
    tokens: Vec<u32>,
    score: f32,
    /// Whether this slot holds a finished hypothesis (else it is a placeholder).
    finished: bool,
    /// Number of generated tokens (transformers counts the filled `beam_indices`).
    generated: usize,
}

#[derive(Debug, Clone)]
pub struct BeamSearch {
    batch_size: usize,
    num_beams: usize,
    vocab_size: usize,
    prompt_length: usize,
    max_length: usize,
    candidates_kept: usize,
    length_penalty: f64,
    early_stopping: EarlyStopping,
    do_sample: bool,
    eos_token_ids: Vec<u32>,
    /// Fills the output after a hypothesis ends.
    fill_token: u32,
    cur_len: usize,
    /// `batch_size * num_beams` running sequences, row-major by batch.
    running: Vec<Vec<u32>>,
    running_scores: Vec<f32>,
    /// `batch_size * num_beams` finished slots, each batch row's sorted best first.
    finished: Vec<Hypothesis>,
    /// Per batch row: a running beam might still beat the finished hypotheses.
    improvement_possible: Vec<bool>,
    done: bool,
}

/// What one beam search step decided, per new running row.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamStep {
    pub next_tokens: Vec<u32>,
    /// The row (`batch * num_beams + beam`) each new row continues.
    pub beam_indices: Vec<usize>,
    pub done: bool,
}

/// The best hypotheses of every batch row.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamOutput {
    /// `batch_size * num_return_sequences` rows of `length` tokens.
    pub sequences: Vec<u32>,
    pub length: usize,
    pub scores: Vec<f32>,
}

impl BeamSearch {
    /// `prompts`: the `batch_size * num_beams` expanded prompt rows, all `prompt_length` long.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        batch_size: usize,
        num_beams: usize,
        vocab_size: usize,
        prompts: Vec<Vec<u32>>,
        max_length: usize,
        eos_token_ids: Vec<u32>,
        pad_token_id: Option<u32>,
        length_penalty: f64,
        early_stopping: EarlyStopping,
        do_sample: bool,
    ) -> Self {
        let prompt_length = prompts.first().map_or(0, Vec::len);
        // transformers: `pad_token_id or eos_token_id[0]` — a pad id of 0 is falsy there, so it
        // fills with the end-of-sequence token instead.
        let fill_token = match (pad_token_id, eos_token_ids.first()) {
            (Some(p), _) if p != 0 => p,
            (_, Some(&e)) => e,
            (p, None) => p.unwrap_or(0),
        };
        let candidates_kept = 2usize.max(1 + eos_token_ids.len()) * num_beams;
        let mut running_scores = vec![0.0f32; batch_size * num_beams];
        // Only the first beam starts live: otherwise every beam would pick the same tokens.
        for (i, s) in running_scores.iter_mut().enumerate() {
            if i % num_beams != 0 {
                *s = NEG;
            }
        }
        let finished = prompts
            .iter()
            .map(|p| Hypothesis {
                tokens: p.clone(),
                score: NEG,
                finished: false,
                generated: 0,
            })
            .collect();
        BeamSearch {
            batch_size,
            num_beams,
            vocab_size,
            prompt_length,
            max_length,
            candidates_kept,
            length_penalty,
            early_stopping,
            do_sample,
            eos_token_ids,
            fill_token,
            cur_len: prompt_length,
            running: prompts,
            running_scores,
            finished,
            improvement_possible: vec![true; batch_size],
            done: false,
        }
    }

    /// The running sequences, one per row (what the processors see).
    pub fn running(&self) -> &[Vec<u32>] {
        &self.running
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    fn length_factor(len: usize, penalty: f64) -> f32 {
        (len as f64).powf(penalty) as f32
    }

    /// One step. `log_probs`: `batch_size * num_beams` rows of `vocab_size` processed
    /// log-probabilities (log-softmax, then the processors).
    pub fn step(&mut self, log_probs: &[f32], sampler: &mut Sampler) -> Result<BeamStep> {
        let (nb, v, k) = (self.num_beams, self.vocab_size, self.candidates_kept);
        let new_len = self.cur_len + 1;
        let generated = new_len - self.prompt_length;
        let hits_length = new_len >= self.max_length;
        let mut next_running = Vec::with_capacity(self.running.len());
        let mut next_scores = Vec::with_capacity(self.running.len());
        let mut next_tokens = Vec::with_capacity(self.running.len());
        let mut beam_indices = Vec::with_capacity(self.running.len());
        let mut every_candidate_stops = true;
        let mut accumulated = vec![0.0f32; nb * v];
        for b in 0..self.batch_size {
            for j in 0..nb {
                let row = b * nb + j;
                let base = self.running_scores[row];
                let src = &log_probs[row * v..(row + 1) * v];
                for (a, &l) in accumulated[j * v..(j + 1) * v].iter_mut().zip(src) {
                    *a = l + base;
                }
            }
            let chosen: Vec<usize> = if self.do_sample {
                let mut drawn = sampler.sample_without_replacement(&accumulated, k, b)?;
                // Sorted best first; the draw order decides ties.
                drawn.sort_by(|&x, &y| accumulated[y].total_cmp(&accumulated[x]));
                drawn
            } else {
                top_k_indices(&accumulated, k)
            };
            let values: Vec<f32> = chosen.iter().map(|&i| accumulated[i]).collect();
            let tokens: Vec<u32> = chosen.iter().map(|&i| (i % v) as u32).collect();
            let sources: Vec<usize> = chosen.iter().map(|&i| b * nb + i / v).collect();
            let stops: Vec<bool> = tokens
                .iter()
                .map(|t| hits_length || self.eos_token_ids.contains(t))
                .collect();
            every_candidate_stops &= stops.iter().all(|&s| s);
            let candidate_tokens = |c: usize| {
                let mut t = Vec::with_capacity(new_len);
                t.extend_from_slice(&self.running[sources[c]]);
                t.push(tokens[c]);
                t
            };

            // New running beams: the best candidates that do not stop.
            let running_values: Vec<f32> = values
                .iter()
                .zip(&stops)
                .map(|(&x, &s)| x + if s { NEG } else { -0.0 })
                .collect();
            for c in top_k_indices(&running_values, nb) {
                next_running.push(candidate_tokens(c));
                next_scores.push(running_values[c]);
                next_tokens.push(tokens[c]);
                beam_indices.push(sources[c]);
            }

            // Finished slots: merge the old ones with the candidates that just ended among the first
            // `num_beams`, each penalty added in f32 in transformers' order.
            let slots = &self.finished[b * nb..(b + 1) * nb];
            let full =
                self.early_stopping == EarlyStopping::Stop && slots.iter().all(|h| h.finished);
            let factor = Self::length_factor(generated, self.length_penalty);
            let mut merged: Vec<f32> = slots.iter().map(|h| h.score).collect();
            for c in 0..k {
                let just_finished = stops[c] && c < nb;
                let mut s = values[c] / factor;
                s += if full { NEG } else { -0.0 };
                s += if self.improvement_possible[b] {
                    -0.0
                } else {
                    NEG
                };
                s += if just_finished { -0.0 } else { NEG };
                merged.push(s);
            }
            let keep = top_k_indices(&merged, nb);
            let new_slots: Vec<Hypothesis> = keep
                .iter()
                .map(|&m| {
                    if m < nb {
                        slots[m].clone()
                    } else {
                        let c = m - nb;
                        Hypothesis {
                            tokens: candidate_tokens(c),
                            score: merged[m],
                            finished: stops[c] && c < nb,
                            generated,
                        }
                    }
                })
                .collect();
            self.finished.splice(b * nb..(b + 1) * nb, new_slots);
        }
        self.running = next_running;
        self.running_scores = next_scores;
        self.cur_len = new_len;

        // Can a running beam still beat the finished hypotheses?
        let best_len = if self.early_stopping == EarlyStopping::Never && self.length_penalty > 0.0 {
            self.max_length - self.prompt_length
        } else {
            self.cur_len - self.prompt_length
        };
        let factor = Self::length_factor(best_len, self.length_penalty);
        for b in 0..self.batch_size {
            let slots = &self.finished[b * nb..(b + 1) * nb];
            let best_possible = self.running_scores[b * nb] / factor;
            let worst = slots.iter().map(|h| h.score).fold(f32::INFINITY, f32::min);
            let can_improve = slots
                .iter()
                .any(|h| best_possible > if h.finished { worst } else { NEG });
            self.improvement_possible[b] &= can_improve;
        }
        let all_slots_finished = self.finished.iter().all(|h| h.finished);
        let open = !(all_slots_finished && self.early_stopping == EarlyStopping::Stop);
        self.done =
            !(self.improvement_possible.iter().any(|&x| x) && open && !every_candidate_stops);
        Ok(BeamStep {
            next_tokens,
            beam_indices,
            done: self.done,
        })
    }

    /// The best `num_return_sequences` hypotheses of each batch row, cut to the longest of them and
    /// padded with the fill token.
    pub fn finalize(&self, num_return_sequences: usize) -> BeamOutput {
        let nb = self.num_beams;
        let chosen: Vec<&Hypothesis> = (0..self.batch_size)
            .flat_map(|b| self.finished[b * nb..b * nb + num_return_sequences].iter())
            .collect();
        let length = self.prompt_length + chosen.iter().map(|h| h.generated).max().unwrap_or(0);
        let mut sequences = Vec::with_capacity(chosen.len() * length);
        for h in &chosen {
            let n = h.tokens.len().min(length);
            sequences.extend_from_slice(&h.tokens[..n]);
            sequences.extend(std::iter::repeat_n(self.fill_token, length - n));
        }
        BeamOutput {
            sequences,
            length,
            scores: chosen.iter().map(|h| h.score).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_softmax_rows(rows: &[Vec<f32>]) -> Vec<f32> {
        rows.iter()
            .flat_map(|r| {
                let mut r = r.clone();
                crate::generation::log_softmax_in_place(&mut r);
                r
            })
            .collect()
    }

    #[test]
    fn first_step_expands_only_the_first_beam() {
        let mut bs = BeamSearch::new(
            1,
            2,
            4,
            vec![vec![3], vec![3]],
            10,
            vec![0],
            None,
            1.0,
            EarlyStopping::Heuristic,
            false,
        );
        let lp = log_softmax_rows(&[vec![0.0, 1.0, 3.0, 2.0], vec![0.0, 1.0, 3.0, 2.0]]);
        let step = bs.step(&lp, &mut Sampler::new(Some(0))).unwrap();
        assert_eq!(step.next_tokens, vec![2, 3]);
        assert_eq!(step.beam_indices, vec![0, 0]);
        assert!(!step.done);
    }

    #[test]
    fn eos_finishes_a_hypothesis_with_length_penalty() {
        // vocab: 0 = eos. Step 1 from prompt [5]: eos is best -> finished with score lp / 1.
        let mut bs = BeamSearch::new(
            1,
            2,
            3,
            vec![vec![1], vec![1]],
            3,
            vec![0],
            Some(2),
            1.0,
            EarlyStopping::Heuristic,
            false,
        );
        let mut s = Sampler::new(Some(0));
        let lp = log_softmax_rows(&[vec![3.0, 2.0, 1.0], vec![3.0, 2.0, 1.0]]);
        let step = bs.step(&lp, &mut s).unwrap();
        // eos is not a running continuation; tokens 1 and 2 continue.
        assert_eq!(step.next_tokens, vec![1, 2]);
        assert!(bs.finished[0].finished && bs.finished[0].tokens == vec![1, 0]);
        // Step 2 reaches max_length 3: everything stops, done.
        let lp = log_softmax_rows(&[vec![0.0, 0.0, 0.0], vec![0.0, 0.0, 0.0]]);
        let step = bs.step(&lp, &mut s).unwrap();
        assert!(step.done);
        let out = bs.finalize(2);
        assert_eq!(out.length, 3);
        // Best finished first: the early eos (score log p(eos) / 1) beats the length-2 ones.
        assert_eq!(&out.sequences[..3], &[1, 0, 2]);
        assert!(out.scores[0] >= out.scores[1]);
    }
}
