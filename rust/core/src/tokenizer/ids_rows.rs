//! Rows of the ids-only path without an [`Encoding`] each: for model inputs and id lists.
//!
//! Most inputs of a batch are one text that truncation leaves whole, and then the post-processor
//! does the same thing to every row: it puts the same special tokens around the sequence and
//! gives its tokens one type id. That layout is read off once per batch, by post-processing a
//! stand-in sequence, and each row keeps only its ids and a shared handle to the layout; the
//! other per-token fields follow from the layout and are built only if asked for. Inputs that
//! do not fit the layout (pairs, pre-tokenized words, rows truncation cuts, empty texts) keep
//! the full ids-only [`Encoding`], so every row reads exactly as the ids-only path's encoding.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use super::ids_only::ids_encoding;
use super::{
    padded_length, threads, DirectionName, EncodeInput, Encoding, InputSequence, PaddingParams,
    PaddingStrategy, Tokenizer,
};
use crate::Result;
use rayon::prelude::*;

/// How finely a streamed batch is cut: enough chunks per thread that the last one, which the
/// caller takes alone after the pool is done, is short.
const STREAM_CHUNKS_PER_THREAD: usize = 8;
/// Below this many inputs a chunk costs more to hand over than it gains by overlapping.
const MIN_STREAM_CHUNK: usize = 16;

/// The length every row is padded to when `params` pads to a fixed length (rounded up to its
/// multiple), whatever the other rows are; `None` when rows are padded to the batch's longest.
fn fixed_padded_length(params: &PaddingParams) -> Option<usize> {
    matches!(params.strategy, PaddingStrategy::Fixed(_)).then(|| padded_length(0, params))
}

/// How many inputs a pool thread takes at a time: enough for the pooled ids path to pool.
const PARALLEL_CHUNK: usize = 64;

/// Room for a row of `text_ids` ids, the layout's special tokens, and padding to a fixed length
/// (so that padding never regrows it).
fn row_capacity(text_ids: usize, layout: &RowLayout) -> usize {
    let fixed_length = layout.padding.as_ref().and_then(fixed_padded_length);
    (text_ids + layout.processed.len()).max(fixed_length.unwrap_or(0))
}

/// What the post-processor makes of a one-token sequence, and where that token ends up: a row
/// of `n` tokens is this encoding with the stand-in repeated `n` times.
#[derive(Debug)]
pub struct RowLayout {
    processed: Encoding,
    position: usize,
    /// How the batch's rows are padded, when they are.
    padding: Option<PaddingParams>,
}

impl RowLayout {
    /// An id no vocabulary reaches, so the stand-in cannot be confused with a special token.
    const STAND_IN: u32 = u32::MAX;

    /// The layout of `tokenizer`'s single-sequence rows, if its post-processing is "specials
    /// around the sequence, whatever its length": checked by processing one- and two-token
    /// stand-ins and comparing. `None` when it is not (then rows keep full encodings).
    fn of(
        tokenizer: &Tokenizer,
        add_special_tokens: bool,
        padding: Option<PaddingParams>,
    ) -> Option<RowLayout> {
        let process = |n: usize| {
            let stand_in = ids_encoding(vec![Self::STAND_IN; n], 0);
            tokenizer
                .truncate_and_add_special_tokens(stand_in, None, add_special_tokens)
                .ok()
        };
        let processed = process(1)?;
        let mut positions = processed.ids.iter().enumerate();
        let (position, _) = positions.find(|&(_, &id)| id == Self::STAND_IN)?;
        let layout = RowLayout {
            processed,
            position,
            padding,
        };
        let single = layout
            .processed
            .ids
            .iter()
            .filter(|&&id| id == Self::STAND_IN);
        let two = [layout.prefix(), &[Self::STAND_IN; 2], layout.suffix()].concat();
        let consistent = single.count() == 1
            && layout.processed.overflowing.is_empty()
            && process(2)? == layout.encoding(two);
        consistent.then_some(layout)
    }

    /// Ids of the special tokens before and after the sequence.
    fn prefix(&self) -> &[u32] {
        &self.processed.ids[..self.position]
    }

    fn suffix(&self) -> &[u32] {
        &self.processed.ids[self.position + 1..]
    }

    /// Index into `processed` of token `i` of a row of `len` tokens.
    fn source(&self, i: usize, len: usize) -> usize {
        let sequence_end = self.position + len + 1 - self.processed.len();
        if i < self.position {
            i
        } else if i < sequence_end {
            self.position
        } else {
            i + self.processed.len() - len
        }
    }

    /// The full ids-only encoding of a row whose ids (specials included) are `ids`.
    fn encoding(&self, ids: Vec<u32>) -> Encoding {
        let len = ids.len();
        let spread = |field: &[u32]| (0..len).map(|i| field[self.source(i, len)]).collect();
        let p = &self.processed;
        let grow = len + 1 - p.len();
        let sequence_ranges = p
            .sequence_ranges
            .iter()
            .map(|(&sequence, range)| {
                let shift = |at: usize| {
                    if at > self.position {
                        at + grow - 1
                    } else {
                        at
                    }
                };
                (sequence, shift(range.start)..shift(range.end))
            })
            .collect();
        Encoding {
            type_ids: spread(&p.type_ids),
            tokens: (0..len)
                .map(|i| p.tokens[self.source(i, len)].clone())
                .collect(),
            words: (0..len).map(|i| p.words[self.source(i, len)]).collect(),
            offsets: (0..len).map(|i| p.offsets[self.source(i, len)]).collect(),
            special_tokens_mask: spread(&p.special_tokens_mask),
            attention_mask: spread(&p.attention_mask),
            ids,
            overflowing: Vec::new(),
            sequence_ranges,
        }
    }
}

/// One encoded input of the ids-only path: its ids and, through the layout, the per-token
/// fields of its [`Encoding`] (see the module's notes).
#[derive(Debug)]
pub enum IdsRow {
    /// `ids` hold the row's ids, the `pads` padding ids included (on the layout's side).
    Laid {
        ids: Vec<u32>,
        pads: usize,
        layout: Arc<RowLayout>,
    },
    /// Boxed: a row is moved into a Python object of its own, and most rows are laid out.
    Full(Box<Encoding>),
}

/// A stretch of a row's values: a slice of them, or one value repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRun<'a> {
    Copy(&'a [u32]),
    Repeat(u32, usize),
}

impl<'a> ValueRun<'a> {
    pub fn len(&self) -> usize {
        match self {
            ValueRun::Copy(values) => values.len(),
            ValueRun::Repeat(_, count) => *count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The run's values, one by one.
    pub fn values(self) -> impl Iterator<Item = u32> + 'a {
        let (values, repeated) = match self {
            ValueRun::Copy(values) => (values, (0, 0)),
            ValueRun::Repeat(value, count) => (&[][..], (value, count)),
        };
        values
            .iter()
            .copied()
            .chain(std::iter::repeat_n(repeated.0, repeated.1))
    }
}

/// The per-token fields of a row besides its ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowField {
    TypeIds,
    AttentionMask,
    SpecialTokensMask,
}

impl IdsRow {
    pub fn ids(&self) -> &[u32] {
        match self {
            IdsRow::Laid { ids, .. } => ids,
            IdsRow::Full(e) => &e.ids,
        }
    }

    pub fn len(&self) -> usize {
        self.ids().len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids().is_empty()
    }

    /// `field`'s value at token `i`.
    pub fn value(&self, field: RowField, i: usize) -> u32 {
        let (ids, pads, layout) = match self {
            IdsRow::Full(e) => return field.of(e, i),
            IdsRow::Laid { ids, pads, layout } => (ids, *pads, layout),
        };
        let own = ids.len() - pads;
        let first = match &layout.padding {
            Some(p) if p.direction == DirectionName::Left => pads,
            _ => 0,
        };
        match &layout.padding {
            Some(padding) if i < first || i >= first + own => match field {
                RowField::TypeIds => padding.pad_type_id,
                RowField::AttentionMask => 0,
                RowField::SpecialTokensMask => 1,
            },
            _ => field.of(&layout.processed, layout.source(i - first, own)),
        }
    }

    /// `field`'s values, in order: [`IdsRow::value`] for every token, without a lookup each.
    pub fn values(&self, field: RowField) -> impl Iterator<Item = u32> + '_ {
        let [a, b, c, d, e] = self.value_runs(field);
        a.values()
            .chain(b.values())
            .chain(c.values())
            .chain(d.values())
            .chain(e.values())
    }

    /// [`IdsRow::values`] as runs, in order: pads, the values before the sequence, the sequence's
    /// value repeated, the values after it, pads (pads on one side at most; a full row is all
    /// "before"). A writer copies or fills each run whole instead of storing value by value.
    pub fn value_runs(&self, field: RowField) -> [ValueRun<'_>; 5] {
        let (before, (value, sequence), after) = match self {
            IdsRow::Full(e) => (field.slice(e), (0, 0), &[][..]),
            IdsRow::Laid { ids, pads, layout } => {
                let values = field.slice(&layout.processed);
                let (before, rest) = values.split_at(layout.position);
                let sequence = ids.len() - pads - (values.len() - 1);
                (before, (rest[0], sequence), &rest[1..])
            }
        };
        let padding = match self {
            IdsRow::Laid { pads, layout, .. } if *pads > 0 => {
                layout.padding.as_ref().map(|p| (p, *pads))
            }
            _ => None,
        };
        let (pad_value, left_pads, right_pads) = match padding {
            Some((p, pads)) => {
                let pad_value = match field {
                    RowField::TypeIds => p.pad_type_id,
                    RowField::AttentionMask => 0,
                    RowField::SpecialTokensMask => 1,
                };
                match p.direction {
                    DirectionName::Left => (pad_value, pads, 0),
                    DirectionName::Right => (pad_value, 0, pads),
                }
            }
            None => (0, 0, 0),
        };
        [
            ValueRun::Repeat(pad_value, left_pads),
            ValueRun::Copy(before),
            ValueRun::Repeat(value, sequence),
            ValueRun::Copy(after),
            ValueRun::Repeat(pad_value, right_pads),
        ]
    }

    /// The row as the ids-only path's [`Encoding`].
    pub fn to_encoding(&self) -> Encoding {
        match self {
            IdsRow::Laid { ids, pads, layout } => {
                let own = match &layout.padding {
                    Some(p) if p.direction == DirectionName::Left => &ids[*pads..],
                    _ => &ids[..ids.len() - pads],
                };
                let mut encoding = layout.encoding(own.to_vec());
                if let Some(p) = &layout.padding {
                    let direction = p.direction.into();
                    encoding.pad(ids.len(), p.pad_id, p.pad_type_id, &p.pad_token, direction);
                }
                encoding
            }
            IdsRow::Full(e) => (**e).clone(),
        }
    }

    /// Pad to `target` tokens as [`Encoding::pad`] does (the layout's padding, if laid out).
    fn pad(&mut self, target: usize, params: &PaddingParams) {
        match self {
            IdsRow::Full(e) => e.pad(
                target,
                params.pad_id,
                params.pad_type_id,
                &params.pad_token,
                params.direction.into(),
            ),
            IdsRow::Laid { ids, pads, .. } => {
                let n = target.saturating_sub(ids.len());
                let fill = std::iter::repeat_n(params.pad_id, n);
                match params.direction {
                    DirectionName::Left => drop(ids.splice(0..0, fill)),
                    DirectionName::Right => ids.extend(fill),
                }
                *pads += n;
            }
        }
    }
}

impl RowField {
    fn slice(self, encoding: &Encoding) -> &[u32] {
        match self {
            RowField::TypeIds => &encoding.type_ids,
            RowField::AttentionMask => &encoding.attention_mask,
            RowField::SpecialTokensMask => &encoding.special_tokens_mask,
        }
    }

    fn of(self, encoding: &Encoding, i: usize) -> u32 {
        self.slice(encoding)[i]
    }
}

impl Tokenizer {
    /// [`Tokenizer::encode_batch_ids_only`] (`padded`) or
    /// [`Tokenizer::encode_batch_ids_only_unpadded`] as [`IdsRow`]s: the same encodings, built
    /// only as far as asked.
    pub fn encode_batch_rows(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
        padded: bool,
    ) -> Result<Vec<IdsRow>> {
        let padding = self.padding.as_ref().filter(|_| padded);
        let layout = RowLayout::of(self, add_special_tokens, padding.cloned()).map(Arc::new);
        let encode = |part: &[EncodeInput]| self.encode_rows(part, add_special_tokens, &layout);
        let mut rows: Vec<IdsRow> = if inputs.len() > 1 && threads::parallelism_enabled() {
            let parts: Vec<Vec<IdsRow>> = threads::pool().install(|| {
                inputs
                    .par_chunks(PARALLEL_CHUNK)
                    .map(encode)
                    .collect::<Result<_>>()
            })?;
            parts.into_iter().flatten().collect()
        } else {
            encode(inputs)?
        };
        if let Some(params) = padding {
            let longest = rows.iter().map(IdsRow::len).max().unwrap_or(0);
            let target = padded_length(longest, params);
            for row in &mut rows {
                row.pad(target, params);
            }
        }
        Ok(rows)
    }

    /// [`Tokenizer::encode_batch_rows`], handing the rows to `take` in order, a chunk at a time,
    /// on the calling thread while the pool encodes the chunks after it. What the caller does
    /// with a chunk (building Python objects, which one thread at a time can do) then overlaps
    /// the encoding of the rest, instead of starting after it. Padding to the batch's longest
    /// row needs every row first, and one thread has nothing to overlap: then `take` gets the
    /// whole batch at once. An error stops the hand-over; the rows already taken stay taken.
    pub fn encode_batch_rows_streamed(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
        padded: bool,
        take: impl FnMut(Vec<IdsRow>),
    ) -> Result<()> {
        let threads = threads::batch_threads();
        self.stream_rows(inputs, add_special_tokens, padded, threads, take)
    }

    /// [`Tokenizer::encode_batch_rows_streamed`] cut as for `threads` threads.
    fn stream_rows(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
        padded: bool,
        threads: usize,
        mut take: impl FnMut(Vec<IdsRow>),
    ) -> Result<()> {
        let padding = self.padding.as_ref().filter(|_| padded);
        let fixed_target = match padding {
            None => Some(None),
            Some(params) => fixed_padded_length(params).map(|target| Some((target, params))),
        };
        let chunk = (inputs.len() / (threads * STREAM_CHUNKS_PER_THREAD)).max(MIN_STREAM_CHUNK);
        let (Some(fixed_target), true) = (fixed_target, threads > 1 && inputs.len() > chunk) else {
            take(self.encode_batch_rows(inputs, add_special_tokens, padded)?);
            return Ok(());
        };
        let layout = RowLayout::of(self, add_special_tokens, padding.cloned()).map(Arc::new);
        let encode_chunk = |part: &[EncodeInput]| -> Result<Vec<IdsRow>> {
            let mut rows = self.encode_rows(part, add_special_tokens, &layout)?;
            if let Some((target, params)) = fixed_target {
                for row in &mut rows {
                    row.pad(target, params);
                }
            }
            Ok(rows)
        };
        let n_chunks = inputs.len().div_ceil(chunk);
        // Chunks are claimed in order from one counter, by `threads - 1` tasks on the pool and by
        // this thread whenever the chunk it is to hand over next is not ready. This thread's
        // share of the work (what `take` does, in Python) runs on a core of its own instead of
        // being time-sliced with one task per core, and no core idles while there is a chunk
        // left.
        let claimed = AtomicUsize::new(0);
        let claim = || {
            let index = claimed.fetch_add(1, Ordering::Relaxed);
            (index < n_chunks).then_some(index)
        };
        let chunk_of =
            |index: usize| &inputs[index * chunk..((index + 1) * chunk).min(inputs.len())];
        // Caught so that a claimed chunk always arrives: the loop below waits for it.
        let encode_claimed =
            |index: usize| panic::catch_unwind(AssertUnwindSafe(|| encode_chunk(chunk_of(index))));
        let (sender, receiver) = mpsc::channel();
        let mut outcome = Ok(());
        let mut panicked = None;
        threads::pool().in_place_scope(|scope| {
            for _ in 1..threads.min(n_chunks) {
                let sender = sender.clone();
                let (claim, encode_claimed) = (&claim, &encode_claimed);
                scope.spawn(move |_| {
                    while let Some(index) = claim() {
                        if sender.send((index, encode_claimed(index))).is_err() {
                            return; // the hand-over stopped on an error
                        }
                    }
                });
            }
            drop(sender);
            // Chunks finish out of order; each waits here until those before it are taken.
            let mut arrived: Vec<Option<_>> = (0..n_chunks).map(|_| None).collect();
            for next in 0..n_chunks {
                while arrived[next].is_none() {
                    while let Ok((index, rows)) = receiver.try_recv() {
                        arrived[index] = Some(rows);
                    }
                    if arrived[next].is_some() {
                        break;
                    }
                    if let Some(index) = claim() {
                        arrived[index] = Some(encode_claimed(index));
                    } else {
                        let Ok((index, rows)) = receiver.recv() else {
                            return; // every task is gone: each sent its chunks or died
                        };
                        arrived[index] = Some(rows);
                    }
                }
                match arrived[next].take() {
                    Some(Ok(Ok(rows))) => take(rows),
                    Some(Ok(Err(e))) => outcome = Err(e),
                    Some(Err(payload)) => panicked = Some(payload),
                    None => {}
                }
                if outcome.is_err() || panicked.is_some() {
                    // Nothing more is handed over: leave the rest unclaimed.
                    claimed.store(n_chunks, Ordering::Relaxed);
                    return;
                }
            }
        });
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
        outcome
    }

    /// The rows of `inputs`, in order: single texts through the pooled ids path where it takes
    /// them, the rest one by one.
    fn encode_rows(
        &self,
        inputs: &[EncodeInput],
        add_special_tokens: bool,
        layout: &Option<Arc<RowLayout>>,
    ) -> Result<Vec<IdsRow>> {
        let Some(laid) = layout else {
            return inputs
                .iter()
                .map(|input| self.encode_row(input, add_special_tokens, layout))
                .collect();
        };
        let texts: Vec<Option<&str>> = inputs
            .iter()
            .map(|input| match (&input.first, &input.second) {
                (InputSequence::Raw(text), None) => Some(&**text),
                _ => None,
            })
            .collect();
        let mut rows = Vec::with_capacity(inputs.len());
        self.pooled_text_ids(&texts, |i, ids| {
            rows.push(match ids {
                Some(ids) => {
                    let mut row = Vec::with_capacity(row_capacity(ids.len(), laid));
                    row.extend_from_slice(laid.prefix());
                    row.extend_from_slice(ids);
                    self.finish_row(row, add_special_tokens, laid)?
                }
                None => self.encode_row(&inputs[i], add_special_tokens, layout)?,
            });
            Ok(())
        })?;
        Ok(rows)
    }

    fn encode_row(
        &self,
        input: &EncodeInput,
        add_special_tokens: bool,
        layout: &Option<Arc<RowLayout>>,
    ) -> Result<IdsRow> {
        let (Some(layout), InputSequence::Raw(text), None) = (layout, &input.first, &input.second)
        else {
            let encoding = self.encode_ids_unpadded(input, add_special_tokens)?;
            return Ok(IdsRow::Full(Box::new(encoding)));
        };
        let mut ids = Vec::with_capacity(row_capacity(text.len() / 4, layout));
        ids.extend_from_slice(layout.prefix());
        self.append_text_ids(text, &mut ids)?;
        self.finish_row(ids, add_special_tokens, layout)
    }

    /// The row of `ids` (the layout's prefix, then the text's ids): laid out with the suffix,
    /// or, when truncation cuts it or it is empty, the full ids-only encoding.
    fn finish_row(
        &self,
        mut ids: Vec<u32>,
        add_special_tokens: bool,
        layout: &Arc<RowLayout>,
    ) -> Result<IdsRow> {
        let n = ids.len() - layout.prefix().len();
        // Truncation leaves a row whole when its sequence fits beside the special tokens.
        let fits = self.truncation.as_ref().is_none_or(|t| {
            let reserved = if add_special_tokens {
                self.num_special_tokens_to_add(false)
            } else {
                0
            };
            n + reserved <= t.max_length
        });
        if n == 0 || !fits {
            let sequence = ids_encoding(ids.split_off(layout.prefix().len()), 0);
            let encoding = self.truncate_and_add_special_tokens(sequence, None, add_special_tokens);
            return Ok(IdsRow::Full(Box::new(encoding?)));
        }
        ids.extend_from_slice(layout.suffix());
        Ok(IdsRow::Laid {
            ids,
            pads: 0,
            layout: Arc::clone(layout),
        })
    }
}

#[cfg(test)]
pub(in crate::tokenizer) mod tests {
    use super::*;
    use crate::tokenizer::{PaddingStrategy, TruncationParams, TruncationStrategy};

    pub(in crate::tokenizer) fn tokenizer(name: &str) -> Tokenizer {
        let path = format!(
            "{}/../../../shared/tokenizers/{name}/tokenizer.json",
            env!("CARGO_MANIFEST_DIR")
        );
        Tokenizer::from_file(path).unwrap()
    }

    /// The first `n` paragraphs of the en corpus.
    pub(in crate::tokenizer) fn corpus_inputs(n: usize) -> Vec<EncodeInput<'static>> {
        let corpus = std::fs::read_to_string(format!(
            "{}/../../../shared/corpus/en.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        corpus
            .split("\n\n")
            .take(n)
            .map(|text| EncodeInput::from(text).into_owned())
            .collect()
    }

    /// Padding with pad values no tokenizer uses, so that a misplaced pad shows.
    fn padding_params(
        (strategy, direction, pad_to_multiple_of): (PaddingStrategy, DirectionName, Option<usize>),
    ) -> PaddingParams {
        PaddingParams {
            strategy,
            direction,
            pad_to_multiple_of,
            pad_id: 7,
            pad_type_id: 3,
            pad_token: "<pad>".into(),
        }
    }

    /// Every row, laid out or full, is exactly the ids-only path's encoding, across tokenizers
    /// with and without special tokens, truncation that cuts some rows, padding on either side
    /// or none, pairs and empty texts.
    #[test]
    fn rows_read_as_the_ids_only_encodings() {
        let mut inputs = corpus_inputs(300);
        inputs.push(EncodeInput::from(""));
        inputs.push(EncodeInput::from("   "));
        inputs.push(EncodeInput::from(("a pair", "of texts")));
        let names = [
            "gpt2",
            "bert-uncased",
            "roberta-style-bpe",
            "t5-style-unigram",
        ];
        let paddings = [
            None,
            Some((PaddingStrategy::Fixed(128), DirectionName::Right, None)),
            Some((PaddingStrategy::BatchLongest, DirectionName::Left, Some(8))),
        ];
        let mut laid = 0;
        for name in names {
            let mut tok = tokenizer(name);
            for (max_length, padding) in [None, Some(40), Some(3)].into_iter().zip(paddings) {
                tok.truncation = max_length.map(|max_length| TruncationParams {
                    max_length,
                    strategy: TruncationStrategy::LongestFirst,
                    stride: 0,
                    ..Default::default()
                });
                tok.padding = padding.map(padding_params);
                for (specials, padded) in [(true, true), (true, false), (false, true)] {
                    let expected = if padded {
                        tok.encode_batch_ids_only(&inputs, specials)
                    } else {
                        tok.encode_batch_ids_only_unpadded(&inputs, specials)
                    };
                    let rows = tok.encode_batch_rows(&inputs, specials, padded);
                    let (Ok(expected), Ok(rows)) = (expected, rows) else {
                        // max_length below the special tokens: both refuse the batch.
                        let rows = tok.encode_batch_rows(&inputs, specials, padded);
                        assert!(rows.is_err(), "{name} {max_length:?}");
                        continue;
                    };
                    for (row, expected) in rows.iter().zip(&expected) {
                        laid += matches!(row, IdsRow::Laid { .. }) as usize;
                        assert_eq!(&row.to_encoding(), expected, "{name} {max_length:?}");
                        assert_eq!(row.ids(), expected.ids);
                        for (field, values) in [
                            (RowField::TypeIds, &expected.type_ids),
                            (RowField::AttentionMask, &expected.attention_mask),
                            (RowField::SpecialTokensMask, &expected.special_tokens_mask),
                        ] {
                            let got: Vec<u32> =
                                (0..row.len()).map(|i| row.value(field, i)).collect();
                            assert_eq!(&got, values);
                            assert_eq!(&row.values(field).collect::<Vec<_>>(), values);
                        }
                    }
                }
            }
        }
        // Without truncation every non-empty text is laid out (at least 4 × 3 × 300 rows), so
        // the comparisons above cover the laid-out form, not only the fallback.
        assert!(laid >= 4 * 3 * 300, "only {laid} rows were laid out");
    }

    /// The calling thread encodes chunks itself when none is ready: with every worker of the pool
    /// held until the last row is taken, a streamed batch still arrives whole and in order.
    #[test]
    fn streamed_rows_arrive_while_the_pool_is_busy() {
        use std::sync::atomic::AtomicBool;
        use std::time::Duration;
        let inputs = corpus_inputs(500);
        let tok = tokenizer("gpt2");
        let whole: Vec<Encoding> = tok
            .encode_batch_rows(&inputs, true, true)
            .unwrap()
            .iter()
            .map(IdsRow::to_encoding)
            .collect();
        let pool = threads::pool();
        let workers = pool.current_num_threads();
        let (started, all_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(std::sync::Mutex::new(released));
        let timed_out = Arc::new(AtomicBool::new(false));
        for _ in 0..workers {
            let (started, released, timed_out) =
                (started.clone(), released.clone(), timed_out.clone());
            pool.spawn(move || {
                started.send(()).unwrap();
                let wait = released
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(60));
                if wait.is_err() {
                    timed_out.store(true, Ordering::Relaxed);
                }
            });
        }
        for _ in 0..workers {
            all_started.recv().unwrap();
        }
        let mut streamed = Vec::new();
        tok.stream_rows(&inputs, true, true, 2, |rows| {
            streamed.extend(rows.iter().map(IdsRow::to_encoding));
            if streamed.len() == inputs.len() {
                for _ in 0..workers {
                    release.send(()).unwrap();
                }
            }
        })
        .unwrap();
        assert!(
            !timed_out.load(Ordering::Relaxed),
            "the batch waited on the busy pool"
        );
        assert_eq!(streamed, whole);
    }

    /// Streamed rows, taken chunk by chunk, are the batch's rows in order: without padding,
    /// padded to a fixed length on either side (chunks pad their own rows), and padded to the
    /// batch's longest (taken whole, at the end); an error is the batch's error.
    #[test]
    fn streamed_rows_are_the_batch_rows_in_order() {
        let mut inputs = corpus_inputs(700);
        inputs.insert(5, EncodeInput::from(""));
        inputs.insert(400, EncodeInput::from(("a pair", "of texts")));
        let paddings = [
            None,
            Some((PaddingStrategy::Fixed(128), DirectionName::Right, None)),
            Some((PaddingStrategy::Fixed(30), DirectionName::Left, Some(8))),
            Some((PaddingStrategy::BatchLongest, DirectionName::Right, None)),
        ];
        for name in ["gpt2", "bert-uncased"] {
            let mut tok = tokenizer(name);
            for (padding, max_length) in paddings.into_iter().zip([None, Some(64), None, Some(1)]) {
                tok.truncation = max_length.map(|max_length| TruncationParams {
                    max_length,
                    ..Default::default()
                });
                tok.padding = padding.map(padding_params);
                for threads in [1, 2, 3] {
                    let mut chunks = Vec::new();
                    let streamed =
                        tok.stream_rows(&inputs, true, true, threads, |rows| chunks.push(rows));
                    let whole = tok.encode_batch_rows(&inputs, true, true);
                    let (Ok(()), Ok(whole)) = (&streamed, &whole) else {
                        // bert-uncased's two special tokens do not fit in max_length 1
                        assert!(streamed.is_err() && whole.is_err(), "{name} {max_length:?}");
                        continue;
                    };
                    let batch_longest =
                        matches!(padding, Some((PaddingStrategy::BatchLongest, _, _)));
                    let expected_chunks = if threads == 1 || batch_longest {
                        1
                    } else {
                        threads * STREAM_CHUNKS_PER_THREAD
                    };
                    assert!(
                        chunks.len() >= expected_chunks,
                        "{name} {threads} threads: {} chunks",
                        chunks.len()
                    );
                    let streamed: Vec<Encoding> =
                        chunks.iter().flatten().map(IdsRow::to_encoding).collect();
                    let whole: Vec<Encoding> = whole.iter().map(IdsRow::to_encoding).collect();
                    assert_eq!(streamed, whole, "{name} {padding:?} {threads} threads");
                }
            }
        }
    }
}
