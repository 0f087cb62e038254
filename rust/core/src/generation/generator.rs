//! `Generator`: the state of one `generate()` call between forward passes.
//!
//! Rows: each of the `batch_size` prompts becomes `expand_size = max(num_beams,
//! num_return_sequences)` rows, repeated in place (`repeat_interleave`), exactly as transformers
//! expands the model inputs. Every `step` takes the logits of all rows; `finalize` returns
//! `batch_size * num_return_sequences` sequences.

use rayon::prelude::*;

use super::beam_search::BeamSearch;
use super::sampler::{argmax, Sampler};
use super::stopping::StoppingCriteria;
use super::{
    apply_processors, build_processors, log_softmax_in_place, GenerationError, GenerationParams,
    LogitsProcessor, Result, RowInput,
};

/// Below this many scores per step, splitting rows over threads costs more than it saves.
const PARALLEL_MIN_SCORES: usize = 1 << 16;

/// What one step decided.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutput {
    /// The token appended to each row.
    pub next_tokens: Vec<u32>,
    /// The previous row each row continues: the identity except in beam search, where the caller
    /// must reorder its KV cache with it.
    pub beam_indices: Vec<usize>,
    /// Every row has finished (or beam search has nothing left to improve).
    pub done: bool,
    /// The processed scores (rows × vocab), when asked for.
    pub scores: Option<Vec<f32>>,
}

/// The generated sequences, prompt included.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalOutput {
    /// `rows * length` tokens, row-major.
    pub sequences: Vec<u32>,
    pub rows: usize,
    pub length: usize,
    /// Beam search only: each returned hypothesis's length-normalised score.
    pub sequences_scores: Option<Vec<f32>>,
}

#[derive(Debug)]
enum Search {
    /// Greedy decoding or sampling: one sequence per row, rows finish independently.
    Sequences {
        sequences: Vec<Vec<u32>>,
        stopping: StoppingCriteria,
    },
    Beams(BeamSearch),
}

#[derive(Debug)]
pub struct Generator {
    params: GenerationParams,
    batch_size: usize,
    vocab_size: usize,
    prompt_length: usize,
    padding_lengths: Vec<usize>,
    processors: Vec<Box<dyn LogitsProcessor>>,
    sampler: Sampler,
    search: Search,
    done: bool,
}

/// Leading zeros of each attention-mask row (transformers' `(mask != 0).argmax(dim=1)`, which is 0
/// for an all-zero row).
pub fn padding_lengths(mask: &[i64], rows: usize) -> Vec<usize> {
    if rows == 0 {
        return Vec::new();
    }
    let width = mask.len() / rows;
    mask.chunks(width.max(1))
        .take(rows)
        .map(|r| r.iter().position(|&m| m != 0).unwrap_or(0))
        .collect()
}

/// Token ids given as i64 (numpy's default) as u32, rejecting negative or huge values.
pub fn token_ids(ids: &[i64], what: &str) -> Result<Vec<u32>> {
    ids.iter()
        .map(|&t| {
            u32::try_from(t).map_err(|_| {
                GenerationError::InvalidInput(format!(
                    "{what} holds token id {t}, which is not a valid id"
                ))
            })
        })
        .collect()
}

impl Generator {
    /// `prompt_ids`: `batch_size` rows of `prompt_length` tokens (left padded, as given to the
    /// model). `padding_lengths`: per prompt, how many leading positions are padding (from the
    /// attention mask; `None` means none).
    pub fn new(
        params: GenerationParams,
        batch_size: usize,
        vocab_size: usize,
        prompt_ids: &[u32],
        padding_lengths: Option<Vec<usize>>,
    ) -> Result<Self> {
        params.validate(vocab_size)?;
        if batch_size == 0 {
            return Err(GenerationError::InvalidInput(
                "batch_size must be at least 1".into(),
            ));
        }
        if !prompt_ids.len().is_multiple_of(batch_size) {
            return Err(GenerationError::InvalidInput(format!(
                "prompt_ids holds {} ids, not a multiple of batch_size {batch_size}",
                prompt_ids.len()
            )));
        }
        let prompt_length = prompt_ids.len() / batch_size;
        if prompt_length >= params.max_length {
            return Err(GenerationError::InvalidParameter(format!(
                "the prompt is {prompt_length} tokens long but max_length is {}: nothing to generate; \
                 increase max_length (or set max_new_tokens)",
                params.max_length
            )));
        }
        let padding = padding_lengths.unwrap_or_else(|| vec![0; batch_size]);
        if padding.len() != batch_size {
            return Err(GenerationError::InvalidInput(format!(
                "the attention mask has {} rows, but batch_size is {batch_size}",
                padding.len()
            )));
        }
        let expand = params.expand_size();
        let rows = batch_size * expand;
        let prompts: Vec<Vec<u32>> = (0..rows)
            .map(|r| {
                let b = r / expand;
                prompt_ids[b * prompt_length..(b + 1) * prompt_length].to_vec()
            })
            .collect();
        let padding_lengths = (0..rows).map(|r| padding[r / expand]).collect();
        let search = if params.is_beam_search() {
            Search::Beams(BeamSearch::new(
                batch_size,
                params.num_beams,
                vocab_size,
                prompts,
                params.max_length,
                params.eos_token_ids.clone(),
                params.effective_pad_token_id(),
                params.length_penalty,
                params.early_stopping,
                params.do_sample,
            ))
        } else {
            Search::Sequences {
                sequences: prompts,
                stopping: StoppingCriteria::new(
                    rows,
                    params.max_length,
                    params.eos_token_ids.clone(),
                ),
            }
        };
        Ok(Generator {
            processors: build_processors(&params, prompt_length),
            sampler: Sampler::new(params.seed),
            params,
            batch_size,
            vocab_size,
            prompt_length,
            padding_lengths,
            search,
            done: false,
        })
    }

    /// Rows per step: `batch_size * max(num_beams, num_return_sequences)`.
    pub fn rows(&self) -> usize {
        self.padding_lengths.len()
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn prompt_length(&self) -> usize {
        self.prompt_length
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn params(&self) -> &GenerationParams {
        &self.params
    }

    /// The current sequence of every row, prompt included.
    pub fn sequences(&self) -> &[Vec<u32>] {
        match &self.search {
            Search::Sequences { sequences, .. } => sequences,
            Search::Beams(b) => b.running(),
        }
    }

    /// Run the processors over `scores` (rows × vocab) for the given row sequences.
    fn process_rows(&self, scores: &mut [f32], rows: &[RowInput<'_>]) {
        let v = self.vocab_size;
        let one = |(scores, row): (&mut [f32], &RowInput<'_>)| {
            apply_processors(&self.processors, row, scores)
        };
        if self.processors.is_empty() {
            return;
        }
        if rows.len() > 1 && scores.len() >= PARALLEL_MIN_SCORES {
            scores.par_chunks_mut(v).zip(rows.par_iter()).for_each(one);
        } else {
            scores.chunks_mut(v).zip(rows.iter()).for_each(one);
        }
    }

    fn check_logits(&self, logits: &[f32], rows: usize) -> Result<()> {
        if logits.len() != rows * self.vocab_size {
            return Err(GenerationError::InvalidInput(format!(
                "expected logits of shape ({rows}, {}) (rows = batch_size * max(num_beams, num_return_sequences)), \
                 got {} values",
                self.vocab_size,
                logits.len()
            )));
        }
        Ok(())
    }

    /// One decoding step from the last-position logits of every row (`rows() * vocab_size` values).
    pub fn step(&mut self, logits: &[f32], output_scores: bool) -> Result<StepOutput> {
        if self.done {
            return Err(GenerationError::AlreadyDone);
        }
        let rows = self.rows();
        self.check_logits(logits, rows)?;
        let v = self.vocab_size;
        let mut scores = logits.to_vec();
        let is_beam = matches!(self.search, Search::Beams(_));
        if is_beam {
            // Beam search scores are log-probabilities, processed after the log-softmax.
            let f = |row: &mut [f32]| log_softmax_in_place(row);
            if scores.len() >= PARALLEL_MIN_SCORES {
                scores.par_chunks_mut(v).for_each(f);
            } else {
                scores.chunks_mut(v).for_each(f);
            }
        }
        // Sampling: process and draw each row in one pass, rows in parallel when there is enough
        // work. The uniforms are drawn first, in row order, so the tokens do not depend on how the
        // rows are scheduled. When top-p is the last warper it draws the token itself from the
        // probabilities it computes anyway (and still writes its -inf only when scores are asked for).
        let sampling = !is_beam && self.params.do_sample;
        let uniforms = if sampling {
            self.sampler.uniforms(rows)
        } else {
            Vec::new()
        };
        let mut sampled: Option<Vec<usize>> = None;
        {
            let seqs = self.sequences();
            let inputs: Vec<RowInput<'_>> = seqs
                .iter()
                .zip(&self.padding_lengths)
                .map(|(s, &p)| RowInput {
                    input_ids: s,
                    padding_length: p,
                })
                .collect();
            if sampling {
                let nucleus = self.processors.last().and_then(|p| p.as_top_p());
                let before =
                    &self.processors[..self.processors.len() - usize::from(nucleus.is_some())];
                let choose = |(r, ((row_scores, input), uniform)): (
                    usize,
                    ((&mut [f32], &RowInput<'_>), f64),
                )|
                 -> Result<usize> {
                    apply_processors(before, input, row_scores);
                    match nucleus {
                        Some(top_p) => {
                            let token = top_p.sample(row_scores, uniform, r)?;
                            if output_scores {
                                top_p.process(input, row_scores);
                            }
                            Ok(token)
                        }
                        None => Sampler::sample_with(row_scores, uniform, r, &mut Vec::new()),
                    }
                };
                let tokens = if rows > 1 && scores.len() >= PARALLEL_MIN_SCORES {
                    scores
                        .par_chunks_mut(v)
                        .zip(inputs.par_iter())
                        .zip(uniforms)
                        .enumerate()
                        .map(choose)
                        .collect::<Result<Vec<usize>>>()?
                } else {
                    scores
                        .chunks_mut(v)
                        .zip(inputs.iter())
                        .zip(uniforms)
                        .enumerate()
                        .map(choose)
                        .collect::<Result<Vec<usize>>>()?
                };
                sampled = Some(tokens);
            } else {
                self.process_rows(&mut scores, &inputs);
            }
        }
        let out = match &mut self.search {
            Search::Beams(beams) => {
                let step = beams.step(&scores, &mut self.sampler)?;
                StepOutput {
                    next_tokens: step.next_tokens,
                    beam_indices: step.beam_indices,
                    done: step.done,
                    scores: None,
                }
            }
            Search::Sequences {
                sequences,
                stopping,
            } => {
                let pad = self.params.effective_pad_token_id().unwrap_or(0);
                // Finished rows are still sampled, as in transformers, then overwritten with pad.
                let chosen: Vec<usize> = match sampled {
                    Some(tokens) => tokens,
                    None => scores.chunks(v).map(argmax).collect(),
                };
                let next_tokens: Vec<u32> = chosen
                    .into_iter()
                    .enumerate()
                    .map(|(r, token)| {
                        if stopping.pads_finished_rows() && stopping.is_finished(r) {
                            pad
                        } else {
                            token as u32
                        }
                    })
                    .collect();
                for (r, &t) in next_tokens.iter().enumerate() {
                    sequences[r].push(t);
                    stopping.update(r, sequences[r].len(), t);
                }
                StepOutput {
                    next_tokens,
                    beam_indices: (0..rows).collect(),
                    done: stopping.all_finished(),
                    scores: None,
                }
            }
        };
        self.done = out.done;
        Ok(StepOutput {
            scores: output_scores.then_some(scores),
            ..out
        })
    }

    /// Mark rows finished because of a criterion checked outside (stop strings, which need the
    /// tokenizer): they get the pad token from now on, as after an end-of-sequence token. Returns
    /// whether every row is now finished. Greedy decoding and sampling only.
    pub fn stop_rows(&mut self, stopped: &[bool]) -> Result<bool> {
        if stopped.len() != self.rows() {
            return Err(GenerationError::InvalidInput(format!(
                "stop_rows expects one flag per row ({}), got {}",
                self.rows(),
                stopped.len()
            )));
        }
        match &mut self.search {
            Search::Beams(_) => Err(GenerationError::InvalidInput(
                "stop strings are not supported with beam search (num_beams > 1)".into(),
            )),
            Search::Sequences { stopping, .. } => {
                for (row, _) in stopped.iter().enumerate().filter(|(_, &s)| s) {
                    stopping.finish(row);
                }
                self.done = self.done || stopping.all_finished();
                Ok(self.done)
            }
        }
    }

    /// The sequences so far (all of them once `done`): for greedy and sampling every row as it
    /// stands; for beam search the best `num_return_sequences` hypotheses per prompt.
    pub fn finalize(&self) -> FinalOutput {
        match &self.search {
            Search::Sequences { sequences, .. } => {
                let length = sequences.first().map_or(0, Vec::len);
                FinalOutput {
                    sequences: sequences.concat(),
                    rows: sequences.len(),
                    length,
                    sequences_scores: None,
                }
            }
            Search::Beams(beams) => {
                let out = beams.finalize(self.params.num_return_sequences);
                FinalOutput {
                    rows: self.batch_size * self.params.num_return_sequences,
                    sequences: out.sequences,
                    length: out.length,
                    sequences_scores: Some(out.scores),
                }
            }
        }
    }

    /// Apply the configured processors (and warpers, when sampling) to `scores` (rows × vocab) for
    /// the given `input_ids` (rows × cur_len), without touching the generation state. For parity
    /// tests against transformers' processor classes.
    pub fn process(
        &self,
        scores: &mut [f32],
        input_ids: &[u32],
        rows: usize,
        padding_lengths: Option<&[usize]>,
    ) -> Result<()> {
        if scores.len() != rows * self.vocab_size {
            return Err(GenerationError::InvalidInput(format!(
                "expected logits of shape ({rows}, {}), got {} values",
                self.vocab_size,
                scores.len()
            )));
        }
        if rows == 0 {
            return Ok(());
        }
        if !input_ids.len().is_multiple_of(rows) {
            return Err(GenerationError::InvalidInput(
                "input_ids must have one row per logits row".into(),
            ));
        }
        if let Some(p) = padding_lengths {
            if p.len() != rows {
                return Err(GenerationError::InvalidInput(
                    "the attention mask must have one row per logits row".into(),
                ));
            }
        }
        let cur_len = input_ids.len() / rows;
        let inputs: Vec<RowInput<'_>> = (0..rows)
            .map(|r| RowInput {
                input_ids: &input_ids[r * cur_len..(r + 1) * cur_len],
                padding_length: padding_lengths.map_or(0, |p| p[r]),
            })
            .collect();
        self.process_rows(scores, &inputs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_logits(rows: usize, vocab: usize, hot: &[usize]) -> Vec<f32> {
        let mut l = vec![0.0; rows * vocab];
        for (r, &h) in hot.iter().enumerate() {
            l[r * vocab + h] = 5.0;
        }
        l
    }

    #[test]
    fn greedy_pads_finished_rows_and_stops() {
        let params = GenerationParams {
            eos_token_ids: vec![0],
            pad_token_id: Some(9),
            ..GenerationParams::new(5)
        };
        let mut g = Generator::new(params, 2, 10, &[1, 2, 3, 4], None).unwrap();
        let s = g.step(&one_hot_logits(2, 10, &[0, 3]), false).unwrap();
        assert_eq!(s.next_tokens, vec![0, 3]);
        assert!(!s.done);
        let s = g.step(&one_hot_logits(2, 10, &[4, 0]), false).unwrap();
        assert_eq!(s.next_tokens, vec![9, 0]);
        assert!(s.done);
        assert!(matches!(
            g.step(&one_hot_logits(2, 10, &[0, 0]), false),
            Err(GenerationError::AlreadyDone)
        ));
        let out = g.finalize();
        assert_eq!(out.sequences, vec![1, 2, 0, 9, 3, 4, 3, 0]);
    }

    #[test]
    fn max_length_stops() {
        let mut g = Generator::new(GenerationParams::new(3), 1, 4, &[1, 2], None).unwrap();
        assert!(g.step(&one_hot_logits(1, 4, &[3]), false).unwrap().done);
        assert!(Generator::new(GenerationParams::new(2), 1, 4, &[1, 2], None).is_err());
    }

    #[test]
    fn sampling_expands_rows_and_seed_reproduces() {
        let params = GenerationParams {
            do_sample: true,
            num_return_sequences: 3,
            seed: Some(5),
            ..GenerationParams::new(30)
        };
        let run = |params: GenerationParams| {
            let mut g = Generator::new(params, 2, 50, &[1, 2], None).unwrap();
            assert_eq!(g.rows(), 6);
            while !g.step(&vec![0.0; 6 * 50], false).unwrap().done {}
            g.finalize()
        };
        let a = run(params.clone());
        assert_eq!((a.rows, a.length), (6, 30));
        assert_eq!(a, run(params.clone()));
        assert_ne!(
            a,
            run(GenerationParams {
                seed: Some(6),
                ..params
            })
        );
    }

    #[test]
    fn scores_are_processed() {
        let params = GenerationParams {
            suppress_tokens: Some(vec![1]),
            ..GenerationParams::new(5)
        };
        let mut g = Generator::new(params, 1, 3, &[0], None).unwrap();
        let s = g.step(&[0.0, 2.0, 1.0], true).unwrap();
        assert_eq!(s.next_tokens, vec![2]);
        assert_eq!(s.scores.unwrap(), vec![0.0, f32::NEG_INFINITY, 1.0]);
    }

    #[test]
    fn beam_search_runs_to_the_end() {
        let params = GenerationParams {
            num_beams: 3,
            num_return_sequences: 2,
            eos_token_ids: vec![0],
            ..GenerationParams::new(6)
        };
        let mut g = Generator::new(params, 2, 7, &[1, 2, 3, 4], None).unwrap();
        assert_eq!(g.rows(), 6);
        let mut steps = 0;
        loop {
            let logits: Vec<f32> = (0..6 * 7)
                .map(|i| ((i * 37 + steps * 11) % 13) as f32 * 0.3)
                .collect();
            let s = g.step(&logits, false).unwrap();
            assert_eq!(s.beam_indices.len(), 6);
            assert!(s.beam_indices[..3].iter().all(|&i| i < 3));
            assert!(s.beam_indices[3..].iter().all(|&i| (3..6).contains(&i)));
            steps += 1;
            if s.done {
                break;
            }
        }
        let out = g.finalize();
        assert_eq!(out.rows, 4);
        assert_eq!(out.sequences.len(), 4 * out.length);
        let scores = out.sequences_scores.unwrap();
        assert!(scores[0] >= scores[1] && scores[2] >= scores[3]);
    }

    #[test]
    fn beam_sampling_with_a_narrow_top_k_runs_and_reproduces() {
        // top_k = 2 leaves fewer non-zero candidates than the 6 beam search keeps: the draw must
        // fill up instead of failing (as torch.multinomial does).
        let params = GenerationParams {
            do_sample: true,
            num_beams: 3,
            top_k: Some(2),
            eos_token_ids: vec![0],
            seed: Some(3),
            ..GenerationParams::new(9)
        };
        let run = || {
            let mut g = Generator::new(params.clone(), 2, 30, &[1, 1, 2, 2], None).unwrap();
            let mut i = 0;
            loop {
                let logits: Vec<f32> = (0..g.rows() * 30)
                    .map(|j| ((j * 7 + i) % 11) as f32)
                    .collect();
                i += 1;
                if g.step(&logits, false).unwrap().done {
                    return g.finalize();
                }
            }
        };
        let a = run();
        assert_eq!(a.rows, 2);
        assert_eq!(a, run());
    }
}
