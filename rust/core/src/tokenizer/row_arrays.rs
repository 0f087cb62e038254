//! A batch of [`IdsRow`]s written into flat int64 arrays, one per field, rows padded to one
//! width: what `tok(batch, padding=True, return_tensors="np")` hands to numpy.
//!
//! Most of a padded batch is padding (en paragraphs average ~35 GPT-2 tokens in rows ~400
//! wide), so filling the arrays writes ~16 bytes per cell whatever the text, and on one core
//! it runs at memory speed. With more than one thread the rows are cut into chunks and the
//! chunks filled on the pool, every field of a chunk by the same thread; otherwise the caller
//! would write all of it alone while the pool waits.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::{threads, IdsRow, RowField, ValueRun};

/// Below this many cells (all fields together) a batch is filled on the calling thread: handing
/// it to the pool costs more than writing it.
const PARALLEL_FILL_MIN_CELLS: usize = 1 << 16;
/// Chunks per thread, so that a thread slowed by the rest of the machine does not hold up the
/// batch for long.
const FILL_CHUNKS_PER_THREAD: usize = 4;

/// One array to fill: which of the row's values it holds, and what padding cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayFill {
    /// `None`: the ids.
    pub field: Option<RowField>,
    pub pad_value: i64,
}

/// `fills`' arrays for `rows`, each `rows.len() * width` values, row after row. A row shorter
/// than `width` is padded with the field's pad value on the left (`pad_left`) or the right; a
/// row longer than `width` is cut (callers check first that none is).
pub fn fill_row_arrays(
    rows: &[IdsRow],
    width: usize,
    fills: &[ArrayFill],
    pad_left: bool,
) -> Vec<Vec<i64>> {
    fill_row_arrays_cut(rows, width, fills, pad_left, threads::batch_threads())
}

/// [`fill_row_arrays`] cut into chunks as for `threads` threads.
fn fill_row_arrays_cut(
    rows: &[IdsRow],
    width: usize,
    fills: &[ArrayFill],
    pad_left: bool,
    threads: usize,
) -> Vec<Vec<i64>> {
    let cells = rows.len() * width;
    let streaming = cells * fills.len() * std::mem::size_of::<i64>() >= STREAMING_MIN_BYTES;
    let mut arrays: Vec<Vec<i64>> = fills.iter().map(|_| Vec::with_capacity(cells)).collect();
    if width > 0 {
        let mut outs: Vec<&mut [MaybeUninit<i64>]> = arrays
            .iter_mut()
            .map(|a| &mut a.spare_capacity_mut()[..cells])
            .collect();
        if threads > 1 && cells * fills.len() >= PARALLEL_FILL_MIN_CELLS {
            let rows_per_chunk = rows.len().div_ceil(threads * FILL_CHUNKS_PER_THREAD).max(1);
            // Each field's array cut at the same row boundaries; chunk `c` of every field goes
            // to one task with rows chunk `c`.
            let mut chunked: Vec<Vec<&mut [MaybeUninit<i64>]>> =
                (0..rows.len().div_ceil(rows_per_chunk))
                    .map(|_| Vec::new())
                    .collect();
            for out in outs.iter_mut() {
                for (c, part) in out.chunks_mut(rows_per_chunk * width).enumerate() {
                    chunked[c].push(part);
                }
            }
            threads::pool().install(|| {
                chunked
                    .par_iter_mut()
                    .zip(rows.par_chunks(rows_per_chunk))
                    .for_each(|(parts, rows)| {
                        fill_rows(rows, width, fills, pad_left, streaming, parts)
                    });
            });
        } else {
            fill_rows(rows, width, fills, pad_left, streaming, &mut outs);
        }
    }
    for array in &mut arrays {
        // SAFETY: `fill_rows` wrote every one of the first `cells` slots of every array (each
        // row's `width` slots, whatever the row's length).
        unsafe { array.set_len(cells) };
    }
    arrays
}

/// `rows` into `outs` (one slice per fill, `rows.len() * width` slots each), every slot written;
/// `streaming`: past the cache (see [`STREAMING_MIN_BYTES`]).
fn fill_rows(
    rows: &[IdsRow],
    width: usize,
    fills: &[ArrayFill],
    pad_left: bool,
    streaming: bool,
    outs: &mut [&mut [MaybeUninit<i64>]],
) {
    if streaming {
        fill_rows_with::<Streaming>(rows, width, fills, pad_left, outs);
    } else {
        fill_rows_with::<Cached>(rows, width, fills, pad_left, outs);
    }
}

/// Arrays at least this big (all fields together) are written past the cache: they would not
/// stay in it anyway, and a store through the cache first reads the line it writes from memory,
/// twice the traffic. Measured on the en corpus's padded GPT-2 batches (1000 x 512, 8 MB): 1.18x
/// the arrays call with 8-byte non-temporal stores, 1.25x with 16-byte ones where aligned.
const STREAMING_MIN_BYTES: usize = 1 << 20;

/// How a slot is written.
trait SlotStore {
    fn store(slot: &mut MaybeUninit<i64>, value: i64);
    /// Every one of `slots` set to `value`.
    fn fill(slots: &mut [MaybeUninit<i64>], value: i64) {
        for slot in slots {
            Self::store(slot, value);
        }
    }
    /// Writes `values` widened to i64 into `slots` (as long as each other).
    fn copy_widened(slots: &mut [MaybeUninit<i64>], values: &[u32]) {
        for (slot, &value) in slots.iter_mut().zip(values) {
            Self::store(slot, i64::from(value));
        }
    }
    /// Called once every slot is written, before the arrays are handed on.
    fn finish() {}
}

/// Ordinary stores, through the cache.
struct Cached;

impl SlotStore for Cached {
    #[inline(always)]
    fn store(slot: &mut MaybeUninit<i64>, value: i64) {
        slot.write(value);
    }
}

/// Non-temporal stores: the line goes to memory without first being read into the cache.
struct Streaming;

impl SlotStore for Streaming {
    #[inline(always)]
    fn store(slot: &mut MaybeUninit<i64>, value: i64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `slot` is a valid, aligned i64 place we hold mutably; `movnti` is SSE2, which
        // every x86_64 CPU has.
        unsafe {
            std::arch::x86_64::_mm_stream_si64(slot.as_mut_ptr(), value)
        };
        #[cfg(not(target_arch = "x86_64"))]
        slot.write(value);
    }

    /// In 16-byte stores where the slots are aligned for them (two slots a store run at about
    /// 1.3 times the speed of one).
    fn fill(slots: &mut [MaybeUninit<i64>], value: i64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{__m128i, _mm_set1_epi64x, _mm_stream_si128};
            let head = slots.as_ptr().align_offset(16).min(slots.len());
            let (head, rest) = slots.split_at_mut(head);
            for slot in head {
                Self::store(slot, value);
            }
            let mut pairs = rest.chunks_exact_mut(2);
            // SAFETY: SSE2 is part of x86_64.
            let both = unsafe { _mm_set1_epi64x(value) };
            for pair in &mut pairs {
                // SAFETY: `pair` is two slots we hold mutably, and 16-byte aligned: `rest` starts
                // aligned and the pairs step by 16 bytes.
                unsafe { _mm_stream_si128(pair.as_mut_ptr().cast::<__m128i>(), both) };
            }
            for slot in pairs.into_remainder() {
                Self::store(slot, value);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        for slot in slots {
            slot.write(value);
        }
    }

    fn copy_widened(slots: &mut [MaybeUninit<i64>], values: &[u32]) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{
                __m128i, _mm_loadl_epi64, _mm_setzero_si128, _mm_stream_si128, _mm_unpacklo_epi32,
            };
            let values = &values[..slots.len()];
            let head = slots.as_ptr().align_offset(16).min(slots.len());
            let (head_slots, rest) = slots.split_at_mut(head);
            for (slot, &value) in head_slots.iter_mut().zip(values) {
                Self::store(slot, i64::from(value));
            }
            let values = &values[head..];
            let mut pairs = rest.chunks_exact_mut(2);
            let mut value_pairs = values.chunks_exact(2);
            // SAFETY: SSE2 is part of x86_64.
            let zero = unsafe { _mm_setzero_si128() };
            for (pair, two) in (&mut pairs).zip(&mut value_pairs) {
                // SAFETY: `two` is 8 readable bytes (two u32; `loadl` needs no alignment), and
                // `pair` two slots we hold mutably, 16-byte aligned as in `fill`. Interleaving
                // with zeros zero-extends each u32 to a little-endian i64, as `i64::from` does.
                unsafe {
                    let narrow = _mm_loadl_epi64(two.as_ptr().cast::<__m128i>());
                    let wide = _mm_unpacklo_epi32(narrow, zero);
                    _mm_stream_si128(pair.as_mut_ptr().cast::<__m128i>(), wide);
                }
            }
            for (slot, &value) in pairs
                .into_remainder()
                .iter_mut()
                .zip(value_pairs.remainder())
            {
                Self::store(slot, i64::from(value));
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        for (slot, &value) in slots.iter_mut().zip(values) {
            slot.write(i64::from(value));
        }
    }

    fn finish() {
        // Non-temporal stores are weakly ordered: fence them before another thread (or numpy)
        // reads the arrays.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `sfence` has no preconditions.
        unsafe {
            std::arch::x86_64::_mm_sfence()
        };
    }
}

fn fill_rows_with<S: SlotStore>(
    rows: &[IdsRow],
    width: usize,
    fills: &[ArrayFill],
    pad_left: bool,
    outs: &mut [&mut [MaybeUninit<i64>]],
) {
    for (fill, out) in fills.iter().zip(outs.iter_mut()) {
        for (row, slots) in rows.iter().zip(out.chunks_exact_mut(width)) {
            match fill.field {
                None => fill_row::<S>(
                    slots,
                    &[ValueRun::Copy(row.ids())],
                    fill.pad_value,
                    pad_left,
                ),
                Some(field) => {
                    fill_row::<S>(slots, &row.value_runs(field), fill.pad_value, pad_left)
                }
            }
        }
    }
    S::finish();
}

/// One row of one array: `runs` (cut at the row's width), padded with `pad_value` on the
/// padding side. Each run is written whole, copied or filled, rather than value by value.
fn fill_row<S: SlotStore>(
    slots: &mut [MaybeUninit<i64>],
    runs: &[ValueRun<'_>],
    pad_value: i64,
    pad_left: bool,
) {
    let len: usize = runs.iter().map(ValueRun::len).sum();
    let pads = slots.len().saturating_sub(len);
    let (front, mut rest) = slots.split_at_mut(if pad_left { pads } else { 0 });
    S::fill(front, pad_value);
    for run in runs {
        let n = run.len().min(rest.len());
        let (run_slots, after) = rest.split_at_mut(n);
        match *run {
            ValueRun::Copy(values) => S::copy_widened(run_slots, &values[..n]),
            ValueRun::Repeat(value, _) => S::fill(run_slots, i64::from(value)),
        }
        rest = after;
    }
    S::fill(rest, pad_value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::ids_rows::tests::{corpus_inputs, tokenizer};
    use crate::tokenizer::{
        DirectionName, EncodeInput, PaddingParams, PaddingStrategy, TruncationParams,
    };

    /// The arrays hold, row by row, exactly what the padded `Encoding`s hold, on either padding
    /// side, on one thread and on several (chunks that do not divide the rows evenly), for a
    /// batch small enough for the calling thread and one big enough for the pool.
    #[test]
    fn arrays_hold_the_padded_encodings() {
        let mut inputs = corpus_inputs(997);
        inputs.insert(3, EncodeInput::from(""));
        inputs.insert(500, EncodeInput::from(("a pair", "of texts")));
        for name in ["gpt2", "bert-uncased"] {
            let mut tok = tokenizer(name);
            tok.truncation = Some(TruncationParams {
                max_length: 200,
                ..Default::default()
            });
            for direction in [DirectionName::Right, DirectionName::Left] {
                tok.padding = Some(PaddingParams {
                    strategy: PaddingStrategy::BatchLongest,
                    direction,
                    pad_id: 7,
                    pad_type_id: 3,
                    pad_token: "<pad>".into(),
                    ..Default::default()
                });
                let expected = tok.encode_batch_ids_only(&inputs, true).unwrap();
                let width = expected[0].ids.len();
                let fills = [
                    ArrayFill {
                        field: None,
                        pad_value: 7,
                    },
                    ArrayFill {
                        field: Some(RowField::TypeIds),
                        pad_value: 3,
                    },
                    ArrayFill {
                        field: Some(RowField::AttentionMask),
                        pad_value: 0,
                    },
                    ArrayFill {
                        field: Some(RowField::SpecialTokensMask),
                        pad_value: 1,
                    },
                ];
                let rows = tok.encode_batch_rows(&inputs, true, false).unwrap();
                let pad_left = direction == DirectionName::Left;
                for n_rows in [10, rows.len()] {
                    for n_threads in [1, 2, 3] {
                        let arrays = fill_row_arrays_cut(
                            &rows[..n_rows],
                            width,
                            &fills,
                            pad_left,
                            n_threads,
                        );
                        for (array, pick) in arrays.iter().zip([
                            (|e| &e.ids) as fn(&crate::Encoding) -> &Vec<u32>,
                            |e| &e.type_ids,
                            |e| &e.attention_mask,
                            |e| &e.special_tokens_mask,
                        ]) {
                            let want: Vec<i64> = expected[..n_rows]
                                .iter()
                                .flat_map(|e| pick(e).iter().map(|&v| i64::from(v)))
                                .collect();
                            assert_eq!(array, &want, "{name} {direction:?} {n_threads} threads");
                        }
                    }
                }
            }
        }
    }

    /// Stores past the cache leave what ordinary stores leave, and both what the row says:
    /// whatever the alignment of the row's first slot, the row's width, the lengths of its runs
    /// (copied and repeated; together short of the width, equal, or past it: then cut) and its
    /// padding side.
    #[test]
    fn streamed_rows_equal_cached_rows() {
        let read = |slots: &[MaybeUninit<i64>]| -> Vec<i64> {
            slots.iter().map(|s| unsafe { s.assume_init() }).collect()
        };
        let copied: Vec<u32> = (0..24)
            .map(|v| 3 * v + 1 + (u32::MAX - 100) * (v % 2))
            .collect();
        let mut cached = vec![MaybeUninit::new(-1i64); 48];
        let mut streamed = cached.clone();
        for start in 0..4 {
            for width in 0..20 {
                for copy_len in 0..=width + 2 {
                    for repeats in [0, 1, 3] {
                        for pad_left in [false, true] {
                            let runs = [
                                ValueRun::Repeat(8, repeats),
                                ValueRun::Copy(&copied[..copy_len]),
                                ValueRun::Repeat(4, 1),
                            ];
                            let mut want: Vec<i64> = runs
                                .iter()
                                .flat_map(|r| r.values())
                                .map(i64::from)
                                .collect();
                            want.truncate(width);
                            let pads = vec![9; width - want.len()];
                            want = if pad_left {
                                [pads, want].concat()
                            } else {
                                [want, pads].concat()
                            };
                            let span = start..start + width;
                            fill_row::<Cached>(&mut cached[span.clone()], &runs, 9, pad_left);
                            fill_row::<Streaming>(&mut streamed[span.clone()], &runs, 9, pad_left);
                            Streaming::finish();
                            let case = format!("{start} {width} {copy_len} {repeats} {pad_left}");
                            assert_eq!(read(&cached[span.clone()]), want, "{case}");
                            assert_eq!(read(&streamed), read(&cached), "{case}");
                        }
                    }
                }
            }
        }
    }
}
