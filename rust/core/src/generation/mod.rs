//! Text generation: the per-step work of `generate()` that runs after the model's forward pass.
//!
//! The Python loop calls the model, hands the last-position logits to a [`Generator`], and gets back
//! the next tokens (and, for beam search, which previous row each new row continues). Everything
//! between logits and tokens lives here, mirroring transformers 5.x `generate()`:
//!
//! * [`processors`]: logits processors that always apply (repetition penalty, n-gram blocking, bad
//!   words, minimum lengths, suppressed tokens), one file each;
//! * [`warpers`]: processors that only apply when sampling (temperature, top-k, top-p, min-p,
//!   typical-p), one file each;
//! * [`sampler`]: greedy argmax and seeded multinomial sampling;
//! * [`stopping`]: per-row finished flags (end-of-sequence tokens, `max_length`);
//! * [`beam_search`]: transformers' vectorised beam search, step by step;
//! * [`generator`]: the driver that owns the sequences and ties the stages together.
//!
//! [`build_processors`] lists the processors in the order transformers' `_get_logits_processor`
//! applies them; the order matters (a penalty applied before or after temperature gives other
//! scores).

pub mod beam_search;
pub mod generator;
pub mod params;
pub mod processors;
pub mod sampler;
pub mod stopping;
pub mod warpers;

pub use generator::{FinalOutput, Generator, StepOutput};
pub use params::{EarlyStopping, GenerationParams};
pub use sampler::{set_seed, Sampler};

/// What went wrong in generation. The bindings map every variant to a `ValueError` subclass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerationError {
    /// A generation parameter is out of its valid range or contradicts another one.
    #[error("invalid generation parameter: {0}")]
    InvalidParameter(String),
    /// An array passed to a step has the wrong shape or holds impossible values.
    #[error("{0}")]
    InvalidInput(String),
    /// After processing, a row gives every token zero probability (or NaN) and nothing can be sampled.
    #[error("cannot sample row {row}: after the logits processors every token has probability zero (or the scores contain NaN)")]
    InvalidDistribution { row: usize },
    /// `step` was called after generation had finished.
    #[error("generation is already done: call finalize() instead of step()")]
    AlreadyDone,
}

pub type Result<T, E = GenerationError> = std::result::Result<T, E>;

/// One row as the processors see it.
#[derive(Debug, Clone, Copy)]
pub struct RowInput<'a> {
    /// The row's tokens so far, prompt included (left padding included, as transformers sees them).
    pub input_ids: &'a [u32],
    /// How many leading positions are left padding (from the attention mask). Only the repetition
    /// penalty looks at it: transformers 5 skips the padding so that the pad token is not penalised.
    pub padding_length: usize,
}

impl<'a> RowInput<'a> {
    pub fn new(input_ids: &'a [u32]) -> Self {
        RowInput {
            input_ids,
            padding_length: 0,
        }
    }
}

/// One stage that rewrites the scores of one row in place (a transformers `LogitsProcessor`).
/// Filtered tokens get `f32::NEG_INFINITY`, transformers' `filter_value`.
pub trait LogitsProcessor: Send + Sync + std::fmt::Debug {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]);

    /// The top-p warper, when this is one: as the last warper it can draw the token itself from
    /// the probabilities it computed anyway (see [`warpers::TopP::sample`]).
    fn as_top_p(&self) -> Option<&warpers::TopP> {
        None
    }
}

/// The processors `params` asks for, in transformers' order: first the processors, then (only when
/// sampling) the warpers. `prompt_length` is the padded prompt length (`min_new_tokens` counts from it).
pub fn build_processors(
    params: &GenerationParams,
    prompt_length: usize,
) -> Vec<Box<dyn LogitsProcessor>> {
    use processors::*;
    use warpers::*;
    let mut list: Vec<Box<dyn LogitsProcessor>> = Vec::new();
    let eos = &params.eos_token_ids;
    if let Some(p) = params.repetition_penalty {
        if p != 1.0 {
            list.push(Box::new(RepetitionPenalty::new(p)));
        }
    }
    if let Some(n) = params.no_repeat_ngram_size {
        if n > 0 {
            list.push(Box::new(NoRepeatNGram::new(n)));
        }
    }
    if let Some(bad) = &params.bad_words_ids {
        list.push(Box::new(BadWords::new(bad, eos)));
    }
    // Both minimum lengths exist only when there is an end-of-sequence token to hold back.
    if params.min_length > 0 && !eos.is_empty() {
        list.push(Box::new(MinLength::new(params.min_length, eos.clone())));
    }
    if let Some(n) = params.min_new_tokens {
        if n > 0 && !eos.is_empty() {
            list.push(Box::new(MinNewTokens::new(prompt_length, n, eos.clone())));
        }
    }
    if let Some(tokens) = &params.suppress_tokens {
        list.push(Box::new(SuppressTokens::new(tokens.clone())));
    }
    if params.do_sample {
        let keep = params.min_tokens_to_keep();
        if params.temperature != 1.0 {
            list.push(Box::new(Temperature::new(params.temperature)));
        }
        if let Some(k) = params.top_k {
            if k != 0 {
                list.push(Box::new(TopK::new(k, keep)));
            }
        }
        if let Some(p) = params.top_p {
            if p < 1.0 {
                list.push(Box::new(TopP::new(p, keep)));
            }
        }
        if let Some(p) = params.min_p {
            list.push(Box::new(MinP::new(p, keep)));
        }
        if let Some(p) = params.typical_p {
            if p < 1.0 {
                list.push(Box::new(TypicalP::new(p, keep)));
            }
        }
    }
    list
}

/// Apply `processors` in order to one row.
pub fn apply_processors(
    processors: &[Box<dyn LogitsProcessor>],
    row: &RowInput<'_>,
    scores: &mut [f32],
) {
    for p in processors {
        p.process(row, scores);
    }
}

/// Softmax of one row into `out`, in f32 with an f64 sum (rows of 150k logits lose precision in
/// an f32 sum). A row of only `-inf` gives NaN, as torch does.
pub(crate) fn softmax_into(scores: &[f32], out: &mut Vec<f32>) {
    out.clear();
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    out.extend(scores.iter().map(|&s| (s - max).exp()));
    let sum: f64 = out.iter().map(|&p| p as f64).sum();
    let inv = (1.0 / sum) as f32;
    for p in out.iter_mut() {
        *p *= inv;
    }
}

/// Log-softmax of one row in place: `x - max - log(sum(exp(x - max)))`.
pub(crate) fn log_softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = scores.iter().map(|&s| ((s - max).exp()) as f64).sum();
    let log_sum = sum.ln() as f32;
    for s in scores.iter_mut() {
        *s = (*s - max) - log_sum;
    }
}

/// Indices of `values` sorted ascending, ties by index (a stable sort, as torch's CPU sort is).
pub(crate) fn argsort_ascending(values: &[f32]) -> Vec<usize> {
    let mut order = Vec::new();
    argsort_ascending_into(values, &mut order);
    order.into_iter().map(|i| i as usize).collect()
}

/// [`argsort_ascending`] into a caller's buffer (the per-step hot path reuses it).
pub(crate) fn argsort_ascending_into(values: &[f32], order: &mut Vec<u32>) {
    order.clear();
    if values.len() < RADIX_MIN_LEN {
        order.extend(0..values.len() as u32);
        order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        return;
    }
    radix_argsort_into(values, order);
}

/// Below this length a comparison sort is as fast as the counting passes.
const RADIX_MIN_LEN: usize = 512;

/// `f32::total_cmp`'s order as an unsigned key: flip every bit of negatives, the sign bit of the rest.
pub(crate) fn sortable_key(x: f32) -> u32 {
    let bits = x.to_bits();
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// The radix passes: (shift, bits) of the three digits, least significant first.
const RADIX_DIGITS: [(u32, u32); 3] = [(0, 11), (11, 11), (22, 10)];

/// (sort key, index) pairs being sorted, and the buffer each pass scatters them into.
type RadixBuffers = (Vec<(u32, u32)>, Vec<(u32, u32)>);

thread_local! {
    /// (key, index) pairs and their scatter target, kept between calls: a vocabulary-sized row is
    /// sorted every step, and fresh 400 KB buffers each time cost page faults.
    static RADIX_SCRATCH: std::cell::RefCell<RadixBuffers> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A stable LSD radix argsort (digits of 11, 11 and 10 bits, all three histograms counted in one
/// pass, a digit that every key shares skipped): the same order as a stable `total_cmp` sort, in
/// linear time. Sorting a vocabulary-sized row every step is what top-p costs, and a comparison
/// sort of 50k scores took ~1.4 ms of a ~1.6 ms sampling step.
fn radix_argsort_into(values: &[f32], order: &mut Vec<u32>) {
    with_sorted_pairs(values, |pairs| order.extend(pairs.iter().map(|&(_, i)| i)));
}

/// The inverse of [`sortable_key`].
pub(crate) fn value_of_key(key: u32) -> f32 {
    f32::from_bits(if key & 0x8000_0000 != 0 {
        key & 0x7fff_ffff
    } else {
        !key
    })
}

/// Radix-sort `(sortable_key(value), index)` pairs ascending (stable) and hand them to `f`.
pub(crate) fn with_sorted_pairs<R>(values: &[f32], f: impl FnOnce(&[(u32, u32)]) -> R) -> R {
    let n = values.len();
    RADIX_SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (pairs, scratch) = &mut *guard;
        pairs.clear();
        pairs.extend(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| (sortable_key(v), i as u32)),
        );
        scratch.clear();
        scratch.resize(n, (0, 0));
        let mut counts = [[0usize; 1 << 11]; 3];
        for &(key, _) in pairs.iter() {
            for (d, &(shift, bits)) in RADIX_DIGITS.iter().enumerate() {
                counts[d][((key >> shift) & ((1 << bits) - 1)) as usize] += 1;
            }
        }
        for (d, &(shift, bits)) in RADIX_DIGITS.iter().enumerate() {
            let mask = (1u32 << bits) - 1;
            if counts[d].contains(&n) {
                continue; // every key has the same digit here: this pass would not move anything
            }
            let mut start = [0usize; 1 << 11];
            let mut total = 0;
            for (b, &c) in counts[d].iter().enumerate().take(1 << bits) {
                start[b] = total;
                total += c;
            }
            for &pair in pairs.iter() {
                let b = ((pair.0 >> shift) & mask) as usize;
                scratch[start[b]] = pair;
                start[b] += 1;
            }
            std::mem::swap(pairs, scratch);
        }
        f(pairs)
    })
}

/// Indices of the `k` largest `values`, largest first; equal values keep index order. (torch.topk
/// on CPU orders ties however its partial sort leaves them; real scores almost never tie.)
pub(crate) fn top_k_indices(values: &[f32], k: usize) -> Vec<usize> {
    let k = k.min(values.len());
    let cmp = |a: &usize, b: &usize| values[*b].total_cmp(&values[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..values.len()).collect();
    if k < idx.len() && k > 0 {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_by(cmp);
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod radix_tests {
    use super::*;

    #[test]
    fn radix_argsort_equals_stable_total_order_sort() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let mut values: Vec<f32> = (0..5000)
            .map(|_| ((next() % 2001) as f32 - 1000.0) / 7.0)
            .collect();
        values.extend([
            f32::NEG_INFINITY,
            f32::INFINITY,
            -0.0,
            0.0,
            f32::NEG_INFINITY,
            1e-40,
            -1e-40,
        ]);
        let mut expected: Vec<usize> = (0..values.len()).collect();
        expected.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut order = Vec::new();
        radix_argsort_into(&values, &mut order);
        assert_eq!(
            order.into_iter().map(|i| i as usize).collect::<Vec<_>>(),
            expected
        );
        // a digit shared by every key is skipped; the result must not change
        for &v in &values {
            assert_eq!(value_of_key(sortable_key(v)).to_bits(), v.to_bits());
        }
        let narrow: Vec<f32> = (0..3000)
            .map(|i| 1.0 + ((i * 7919) % 1000) as f32 * 1e-6)
            .collect();
        let mut expected: Vec<usize> = (0..narrow.len()).collect();
        expected.sort_by(|&a, &b| narrow[a].total_cmp(&narrow[b]));
        assert_eq!(argsort_ascending(&narrow), expected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_indices_breaks_ties_by_index() {
        let v = [1.0, 3.0, 3.0, 2.0, 3.0, 0.0];
        assert_eq!(top_k_indices(&v, 2), vec![1, 2]);
        assert_eq!(top_k_indices(&v, 4), vec![1, 2, 4, 3]);
        assert_eq!(top_k_indices(&v, 10).len(), 6);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut out = Vec::new();
        softmax_into(&[1.0, 2.0, f32::NEG_INFINITY, 0.5], &mut out);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(out[2], 0.0);
        let mut l = [1.0f32, 2.0, 0.5];
        log_softmax_in_place(&mut l);
        let s: f32 = l.iter().map(|x| x.exp()).sum();
        assert!((s - 1.0).abs() < 1e-6);
    }

    #[test]
    fn order_follows_transformers() {
        let params = GenerationParams {
            do_sample: true,
            temperature: 0.7,
            top_k: Some(5),
            top_p: Some(0.9),
            min_p: Some(0.1),
            typical_p: Some(0.8),
            repetition_penalty: Some(1.2),
            no_repeat_ngram_size: Some(2),
            bad_words_ids: Some(vec![vec![1]]),
            suppress_tokens: Some(vec![2]),
            min_length: 3,
            min_new_tokens: Some(2),
            eos_token_ids: vec![0],
            ..GenerationParams::new(10)
        };
        let names: Vec<String> = build_processors(&params, 4)
            .iter()
            .map(|p| {
                format!("{p:?}")
                    .split([' ', '{', '('])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "RepetitionPenalty",
                "NoRepeatNGram",
                "BadWords",
                "MinLength",
                "MinNewTokens",
                "SuppressTokens",
                "Temperature",
                "TopK",
                "TopP",
                "MinP",
                "TypicalP"
            ]
        );
    }
}
