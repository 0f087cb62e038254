//! `BadWords` (transformers' `NoBadWordsLogitsProcessor`).

use crate::generation::{LogitsProcessor, RowInput};

/// Forbids token sequences. A one-token bad word is always banned; for a longer one, its last token
/// is banned whenever the sequence ends with the rest of it. A one-token bad word equal to an
/// end-of-sequence token is dropped, as transformers does (banning it would forbid stopping).
///
/// transformers implements this as a bias of `-inf` that is *added*, so a `+inf` score becomes NaN;
/// we add too, to give the same scores.
#[derive(Debug, Clone)]
pub struct BadWords {
    single: Vec<u32>,
    /// (prefix, last token) of the bad words with more than one token.
    multi: Vec<(Vec<u32>, u32)>,
}

impl BadWords {
    pub fn new(bad_words_ids: &[Vec<u32>], eos_token_ids: &[u32]) -> Self {
        let mut single = Vec::new();
        let mut multi = Vec::new();
        for word in bad_words_ids {
            match word.as_slice() {
                [] => {}
                [t] if eos_token_ids.contains(t) => {}
                [t] => single.push(*t),
                [prefix @ .., last] => multi.push((prefix.to_vec(), *last)),
            }
        }
        single.sort_unstable();
        single.dedup();
        multi.sort();
        multi.dedup();
        BadWords { single, multi }
    }
}

impl LogitsProcessor for BadWords {
    fn process(&self, row: &RowInput<'_>, scores: &mut [f32]) {
        for &t in &self.single {
            if let Some(s) = scores.get_mut(t as usize) {
                *s += f32::NEG_INFINITY;
            }
        }
        for (prefix, last) in &self.multi {
            if row.input_ids.ends_with(prefix) {
                if let Some(s) = scores.get_mut(*last as usize) {
                    *s += f32::NEG_INFINITY;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_always_multi_on_prefix_eos_exempt() {
        let p = BadWords::new(&[vec![1], vec![2, 3], vec![0], vec![4, 5, 0]], &[0]);
        let inf = f32::NEG_INFINITY;
        let mut s = [0.0; 6];
        p.process(&RowInput::new(&[7, 2]), &mut s);
        assert_eq!(s, [0.0, inf, 0.0, inf, 0.0, 0.0]);
        let mut s = [0.0; 6];
        p.process(&RowInput::new(&[4, 5]), &mut s);
        assert_eq!(s, [inf, inf, 0.0, 0.0, 0.0, 0.0]);
    }
}
