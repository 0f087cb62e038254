//! `ByteLevel` post-processor: trims the whitespace that byte-level tokens carry (`Ġ`) off their
//! offsets, so an offset points at the word, not at the space before it.

use serde::{Deserialize, Serialize};

use super::PostProcessor;
use crate::utils::byte_to_char;
use crate::{Encoding, Result};

/// ```
/// use ferroformers_core::processors::{ByteLevelProcessor, PostProcessor};
/// use ferroformers_core::Encoding;
/// let mut e = Encoding::from_special_tokens(&[1, 2], &["Hi".into(), "Ġthere".into()], 0);
/// e.offsets = vec![(0, 2), (2, 8)];
/// let out = ByteLevelProcessor::default().process(e, None, false).unwrap();
/// assert_eq!(out.offsets, [(0, 2), (3, 8)]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteLevelProcessor {
    /// Whether the pre-tokenizer added a space before the first word; trimming keeps it.
    pub add_prefix_space: bool,
    pub trim_offsets: bool,
    /// Only used by the pre-tokenizer; kept so the JSON object round-trips.
    #[serde(default = "default_true")]
    pub use_regex: bool,
}

fn default_true() -> bool {
    true
}

impl Default for ByteLevelProcessor {
    fn default() -> Self {
        ByteLevelProcessor {
            add_prefix_space: true,
            trim_offsets: true,
            use_regex: true,
        }
    }
}

impl PostProcessor for ByteLevelProcessor {
    fn added_tokens(&self, _is_pair: bool) -> usize {
        0
    }

    fn process_encodings(
        &self,
        mut encodings: Vec<Encoding>,
        _add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        for (i, e) in encodings.iter_mut().enumerate() {
            if self.trim_offsets {
                trim_encoding_and_overflowing(e, self.add_prefix_space);
            }
            e.set_sequence_id(i);
        }
        Ok(encodings)
    }
}

pub(super) fn trim_encoding_and_overflowing(e: &mut Encoding, add_prefix_space: bool) {
    trim_byte_level_offsets(e, add_prefix_space);
    for o in &mut e.overflowing {
        trim_byte_level_offsets(o, add_prefix_space);
    }
}

/// Move each token's offsets inward past its leading and trailing whitespace (`Ġ` or any
/// Unicode whitespace), one offset unit per char. The exception, as in the reference: a single
/// leading space on a "first" token (index 0, or starting at offset 0, which is how
/// pre-tokenized words look) is kept when `add_prefix_space` is on, because that space was added
/// by the pre-tokenizer and already maps to the word. Offsets never cross (start ≤ end).
/// Shared by the ByteLevel and Roberta post-processors; overflowing pieces are not touched.
pub fn trim_byte_level_offsets(encoding: &mut Encoding, add_prefix_space: bool) {
    let space = byte_to_char()[b' ' as usize];
    let is_space = |c: &char| *c == space || c.is_whitespace();
    for (i, (token, offsets)) in encoding
        .tokens
        .iter()
        .zip(encoding.offsets.iter_mut())
        .enumerate()
    {
        let mut leading = token.chars().take_while(is_space).count();
        let trailing = token.chars().rev().take_while(is_space).count();
        if leading > 0 {
            let is_first = i == 0 || offsets.0 == 0;
            if is_first && add_prefix_space && leading == 1 {
                leading = 0;
            }
            offsets.0 = (offsets.0 + leading).min(offsets.1);
        }
        if trailing > 0 && offsets.1 >= trailing {
            offsets.1 = (offsets.1 - trailing).max(offsets.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::test_support::enc;

    #[test]
    fn trims_leading_and_trailing_spaces() {
        let mut e = enc(
            &["ĠH", "ell", "o", "Ġthere", "Ġ", "Ġyou", "ĠĠ", "x\n"],
            &[
                (0, 1),
                (1, 4),
                (4, 5),
                (5, 11),
                (11, 12),
                (12, 16),
                (16, 18),
                (18, 20),
            ],
        );
        trim_byte_level_offsets(&mut e, true);
        assert_eq!(
            e.offsets,
            [
                (0, 1),
                (1, 4),
                (4, 5),
                (6, 11),
                (12, 12),
                (13, 16),
                (18, 18),
                (18, 19)
            ]
        );
    }

    #[test]
    fn first_token_keeps_one_added_space() {
        let mut e = enc(
            &["Ġl", "ove", "Ġl", "ove"],
            &[(0, 1), (1, 4), (0, 1), (1, 4)],
        );
        trim_byte_level_offsets(&mut e, true);
        assert_eq!(e.offsets, [(0, 1), (1, 4), (0, 1), (1, 4)]);
        trim_byte_level_offsets(&mut e, false);
        assert_eq!(e.offsets, [(1, 1), (1, 4), (1, 1), (1, 4)]);
        // Two leading spaces were not added by the pre-tokenizer: both are trimmed.
        let mut e = enc(&["ĠĠa"], &[(0, 3)]);
        trim_byte_level_offsets(&mut e, true);
        assert_eq!(e.offsets, [(2, 3)]);
    }

    #[test]
    fn pair_gets_type_id_one() {
        let a = enc(&["a"], &[(0, 1)]);
        let b = enc(&["Ġb"], &[(1, 3)]);
        let out = ByteLevelProcessor::default()
            .process(a, Some(b), true)
            .unwrap();
        assert_eq!(out.type_ids, [0, 1]);
        // "Ġb" is the first token of its own sequence: its one space is kept.
        assert_eq!(out.offsets, [(0, 1), (1, 3)]);
        assert_eq!(out.sequence_ids(), [Some(0), Some(1)]);
    }
}
