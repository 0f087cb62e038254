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

use super::{threads, IdsRow, RowField};

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
                    .for_each(|(parts, rows)| fill_rows(rows, width, fills, pad_left, parts));
            });
        } else {
            fill_rows(rows, width, fills, pad_left, &mut outs);
        }
    }
    for array in &mut arrays {
        // SAFETY: `fill_rows` wrote every one of the first `cells` slots of every array (each
        // row's `width` slots, whatever the row's length).
        unsafe { array.set_len(cells) };
    }
    arrays
}

/// `rows` into `outs` (one slice per fill, `rows.len() * width` slots each), every slot written.
fn fill_rows(
    rows: &[IdsRow],
    width: usize,
    fills: &[ArrayFill],
    pad_left: bool,
    outs: &mut [&mut [MaybeUninit<i64>]],
) {
    for (fill, out) in fills.iter().zip(outs.iter_mut()) {
        for (row, slots) in rows.iter().zip(out.chunks_exact_mut(width)) {
            match fill.field {
                None => {
                    let ids = row.ids().iter().map(|&id| i64::from(id));
                    fill_row(slots, ids, row.len(), fill.pad_value, pad_left);
                }
                Some(field) => {
                    let values = row.values(field).map(i64::from);
                    fill_row(slots, values, row.len(), fill.pad_value, pad_left);
                }
            }
        }
    }
}

/// One row's `width` slots: the row's `len` values after or before the padding. Every slot is
/// written even if `values` runs short, so the caller may count them all as initialized.
fn fill_row(
    slots: &mut [MaybeUninit<i64>],
    values: impl Iterator<Item = i64>,
    len: usize,
    pad_value: i64,
    pad_left: bool,
) {
    let pads = slots.len().saturating_sub(len);
    let (front, rest) = slots.split_at_mut(if pad_left { pads } else { 0 });
    for slot in front {
        slot.write(pad_value);
    }
    // `for_each`, not `zip`: a row's values are a chain of runs (see `IdsRow::values`), and
    // `for_each` walks each run in a loop of its own instead of asking the chain for every value.
    let mut free = rest.iter_mut();
    values.for_each(|value| {
        if let Some(slot) = free.next() {
            slot.write(value);
        }
    });
    for slot in free {
        slot.write(pad_value);
    }
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

    /// A row that yields fewer values than it claims still leaves no slot unwritten.
    #[test]
    fn a_short_row_is_padded_to_the_width() {
        let mut slots = [MaybeUninit::new(-1i64); 6];
        fill_row(&mut slots, [1, 2].into_iter(), 4, 0, false);
        let got: Vec<i64> = slots.iter().map(|s| unsafe { s.assume_init() }).collect();
        assert_eq!(got, [1, 2, 0, 0, 0, 0]);
        fill_row(&mut slots, [1, 2].into_iter(), 4, 9, true);
        let got: Vec<i64> = slots.iter().map(|s| unsafe { s.assume_init() }).collect();
        assert_eq!(got, [9, 9, 1, 2, 9, 9]);
    }
}
