//! `Encoding`: the output of the tokenizer for one input (a sequence or a pair), with every
//! per-token field Hugging Face exposes, plus the pieces cut off by truncation (`overflowing`).

use std::collections::HashMap;
use std::ops::Range;

use crate::{Error, Result};

/// Which end of a sequence truncation and padding act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    Left,
    #[default]
    Right,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// Index of the pre-tokenized word each token comes from; `None` for special and pad tokens.
    pub words: Vec<Option<u32>>,
    /// Offsets into the original input (bytes or chars, as asked when encoding).
    pub offsets: Vec<(usize, usize)>,
    pub special_tokens_mask: Vec<u32>,
    pub attention_mask: Vec<u32>,
    pub overflowing: Vec<Encoding>,
    /// Which tokens belong to which input sequence (0 = first, 1 = pair), special tokens excluded.
    pub sequence_ranges: HashMap<usize, Range<usize>>,
}

impl Encoding {
    pub fn with_capacity(n: usize) -> Self {
        Encoding {
            ids: Vec::with_capacity(n),
            type_ids: Vec::with_capacity(n),
            tokens: Vec::with_capacity(n),
            words: Vec::with_capacity(n),
            offsets: Vec::with_capacity(n),
            special_tokens_mask: Vec::with_capacity(n),
            attention_mask: Vec::with_capacity(n),
            overflowing: Vec::new(),
            sequence_ranges: HashMap::new(),
        }
    }

    /// An encoding made of special tokens only (what post-processors insert).
    pub fn from_special_tokens(ids: &[u32], tokens: &[String], type_id: u32) -> Self {
        let n = ids.len();
        Encoding {
            ids: ids.to_vec(),
            type_ids: vec![type_id; n],
            tokens: tokens.to_vec(),
            words: vec![None; n],
            offsets: vec![(0, 0); n],
            special_tokens_mask: vec![1; n],
            attention_mask: vec![1; n],
            overflowing: Vec::new(),
            sequence_ranges: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn n_sequences(&self) -> usize {
        self.sequence_ranges.len().max(1)
    }

    /// Mark every token as belonging to input sequence `sequence_id`.
    pub fn set_sequence_id(&mut self, sequence_id: usize) {
        self.sequence_ranges.insert(sequence_id, 0..self.len());
    }

    pub fn set_type_ids(&mut self, type_id: u32) {
        self.type_ids = vec![type_id; self.len()];
    }

    /// The input sequence of each token (`None` for special tokens), as `Encoding.sequence_ids`.
    pub fn sequence_ids(&self) -> Vec<Option<usize>> {
        if self.sequence_ranges.is_empty() {
            // Without ranges (no post-processing), everything belongs to the first sequence.
            return vec![Some(0); self.len()];
        }
        let mut out = vec![None; self.len()];
        for (seq, range) in &self.sequence_ranges {
            for slot in &mut out[range.clone()] {
                *slot = Some(*seq);
            }
        }
        out
    }

    fn slice(&self, range: Range<usize>) -> Encoding {
        Encoding {
            ids: self.ids[range.clone()].to_vec(),
            type_ids: self.type_ids[range.clone()].to_vec(),
            tokens: self.tokens[range.clone()].to_vec(),
            words: self.words[range.clone()].to_vec(),
            offsets: self.offsets[range.clone()].to_vec(),
            special_tokens_mask: self.special_tokens_mask[range.clone()].to_vec(),
            attention_mask: self.attention_mask[range].to_vec(),
            overflowing: Vec::new(),
            sequence_ranges: HashMap::new(),
        }
    }

    /// Keep at most `max_len` tokens; what is cut goes to `overflowing` as windows of `max_len`
    /// tokens that overlap by `stride` tokens.
    pub fn truncate(&mut self, max_len: usize, stride: usize, direction: Direction) -> Result<()> {
        let len = self.len();
        if max_len >= len {
            return Ok(());
        }
        if max_len == 0 {
            let whole = std::mem::replace(self, Encoding::with_capacity(0));
            self.overflowing.push(whole);
            return Ok(());
        }
        if stride >= max_len {
            return Err(Error::invalid(format!(
                "stride ({stride}) must be smaller than the length left for the sequence ({max_len}); \
                 that length is max_length minus the special tokens the post-processor adds: lower stride or raise max_length"
            )));
        }
        // Windows of `max_len` tokens, each starting `step` tokens after the previous one.
        let step = max_len - stride;
        let mut windows: Vec<(usize, usize)> = Vec::new();
        match direction {
            Direction::Right => {
                let mut start = 0;
                loop {
                    let stop = (start + max_len).min(len);
                    windows.push((start, stop));
                    if stop == len {
                        break;
                    }
                    start += step;
                }
            }
            Direction::Left => {
                let mut stop = len;
                loop {
                    let start = stop.saturating_sub(max_len);
                    windows.push((start, stop));
                    if start == 0 {
                        break;
                    }
                    stop -= step;
                }
            }
        }
        let mut kept = self.slice(windows[0].0..windows[0].1);
        kept.overflowing = windows[1..]
            .iter()
            .map(|&(a, b)| self.slice(a..b))
            .collect();
        *self = kept;
        Ok(())
    }

    /// Append `pair` to this encoding. Overflowing pieces combine: each of ours with `pair` and
    /// each of `pair`'s, then ours with each of `pair`'s (the order Hugging Face returns).
    /// Room for `additional` more tokens in every per-token field.
    fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
        self.type_ids.reserve(additional);
        self.tokens.reserve(additional);
        self.words.reserve(additional);
        self.offsets.reserve(additional);
        self.special_tokens_mask.reserve(additional);
        self.attention_mask.reserve(additional);
    }

    pub fn merge_with(&mut self, pair: Encoding, growing_offsets: bool) {
        let mut overflowings = Vec::new();
        for own in &self.overflowing {
            let mut merged = own.clone();
            merged.merge_with(pair.clone(), growing_offsets);
            overflowings.push(merged);
            for theirs in &pair.overflowing {
                let mut merged = own.clone();
                merged.merge_with(theirs.clone(), growing_offsets);
                overflowings.push(merged);
            }
        }
        for theirs in &pair.overflowing {
            let mut merged = self.clone();
            merged.merge_with(theirs.clone(), growing_offsets);
            overflowings.push(merged);
        }
        let base = self.len();
        self.sequence_ranges.extend(
            pair.sequence_ranges
                .into_iter()
                .map(|(seq, r)| (seq, base + r.start..base + r.end)),
        );
        self.ids.extend(pair.ids);
        self.type_ids.extend(pair.type_ids);
        self.tokens.extend(pair.tokens);
        self.words.extend(pair.words);
        let shift = if growing_offsets {
            self.offsets.last().map_or(0, |o| o.1)
        } else {
            0
        };
        self.offsets.extend(
            pair.offsets
                .into_iter()
                .map(|(a, b)| (a + shift, b + shift)),
        );
        self.special_tokens_mask.extend(pair.special_tokens_mask);
        self.attention_mask.extend(pair.attention_mask);
        self.overflowing = overflowings;
    }

    /// Concatenate encodings left to right (see [`Encoding::merge_with`]).
    pub fn merge(encodings: Vec<Encoding>, growing_offsets: bool) -> Encoding {
        let total: usize = encodings.iter().map(Encoding::len).sum();
        let mut iter = encodings.into_iter();
        let mut out = iter.next().unwrap_or_default();
        // Room for everything at once: a post-processor's first part is often one special token,
        // which would otherwise grow every field vector several times.
        out.reserve(total - out.len());
        for e in iter {
            out.merge_with(e, growing_offsets);
        }
        out
    }

    /// Pad (this encoding and its overflowing pieces) up to `target_len` tokens.
    pub fn pad(
        &mut self,
        target_len: usize,
        pad_id: u32,
        pad_type_id: u32,
        pad_token: &str,
        direction: Direction,
    ) {
        for o in &mut self.overflowing {
            o.pad(target_len, pad_id, pad_type_id, pad_token, direction);
        }
        let len = self.len();
        if len >= target_len {
            return;
        }
        let n = target_len - len;
        match direction {
            Direction::Right => {
                self.ids.extend(std::iter::repeat_n(pad_id, n));
                self.type_ids.extend(std::iter::repeat_n(pad_type_id, n));
                let len = self.tokens.len();
                self.tokens.resize_with(len + n, || pad_token.to_string());
                self.words.extend(std::iter::repeat_n(None, n));
                self.offsets.extend(std::iter::repeat_n((0, 0), n));
                self.special_tokens_mask.extend(std::iter::repeat_n(1, n));
                self.attention_mask.extend(std::iter::repeat_n(0, n));
            }
            Direction::Left => {
                fn prepend<T: Clone>(v: &mut Vec<T>, value: T, n: usize) {
                    v.splice(0..0, std::iter::repeat_n(value, n));
                }
                prepend(&mut self.ids, pad_id, n);
                prepend(&mut self.type_ids, pad_type_id, n);
                prepend(&mut self.tokens, pad_token.to_string(), n);
                prepend(&mut self.words, None, n);
                prepend(&mut self.offsets, (0, 0), n);
                prepend(&mut self.special_tokens_mask, 1, n);
                prepend(&mut self.attention_mask, 0, n);
                for r in self.sequence_ranges.values_mut() {
                    *r = r.start + n..r.end + n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(ids: &[u32]) -> Encoding {
        let mut e = Encoding::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            e.ids.push(id);
            e.type_ids.push(0);
            e.tokens.push(format!("t{id}"));
            e.words.push(Some(i as u32));
            e.offsets.push((i, i + 1));
            e.special_tokens_mask.push(0);
            e.attention_mask.push(1);
        }
        e
    }

    #[test]
    fn truncate_right_with_stride_makes_overlapping_windows() {
        let mut e = enc(&[1, 2, 3, 4, 5, 6, 7]);
        e.truncate(4, 2, Direction::Right).unwrap();
        assert_eq!(e.ids, vec![1, 2, 3, 4]);
        let over: Vec<_> = e.overflowing.iter().map(|o| o.ids.clone()).collect();
        assert_eq!(over, vec![vec![3, 4, 5, 6], vec![5, 6, 7]]);
    }

    #[test]
    fn truncate_left_keeps_the_end() {
        let mut e = enc(&[1, 2, 3, 4, 5]);
        e.truncate(2, 0, Direction::Left).unwrap();
        assert_eq!(e.ids, vec![4, 5]);
        let over: Vec<_> = e.overflowing.iter().map(|o| o.ids.clone()).collect();
        assert_eq!(over, vec![vec![2, 3], vec![1]]);
    }

    #[test]
    fn stride_not_below_max_len_is_an_error() {
        let mut e = enc(&[1, 2, 3, 4, 5]);
        assert!(e.truncate(2, 2, Direction::Right).is_err());
    }

    #[test]
    fn pad_left_shifts_sequence_ranges() {
        let mut e = enc(&[1, 2]);
        e.set_sequence_id(0);
        e.pad(4, 0, 0, "[PAD]", Direction::Left);
        assert_eq!(e.ids, vec![0, 0, 1, 2]);
        assert_eq!(e.attention_mask, vec![0, 0, 1, 1]);
        assert_eq!(e.sequence_ids(), vec![None, None, Some(0), Some(0)]);
    }

    #[test]
    fn merge_combines_overflowing() {
        let mut a = enc(&[1, 2, 3]);
        a.truncate(2, 0, Direction::Right).unwrap();
        let b = enc(&[9]);
        a.merge_with(b, false);
        assert_eq!(a.ids, vec![1, 2, 9]);
        assert_eq!(a.overflowing.len(), 1);
        assert_eq!(a.overflowing[0].ids, vec![3, 9]);
    }
}
