//! `Nmt`: the clean-up SentencePiece's `nmt_nfkc` rules apply before their Unicode rules. Control
//! chars are removed, and the other chars that act as whitespace (tab, newlines, zero-width
//! spaces, BOM, the replacement char, ...) become a plain space.

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

/// ```
/// use ferroformers_core::normalizers::{nmt::Nmt, Normalizer};
/// use ferroformers_core::tokenizer::NormalizedString;
/// let mut n = NormalizedString::from("a\u{1}\tb\u{200b}c");
/// Nmt {}.normalize(&mut n).unwrap();
/// assert_eq!(n.get(), "a b c");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nmt {}

fn is_removed_control(c: char) -> bool {
    matches!(c as u32, 0x01..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F | 0x8F | 0x9F)
}

fn as_space(c: char) -> char {
    match c as u32 {
        0x09
        | 0x0A
        | 0x0C
        | 0x0D
        | 0x1680
        | 0x200B..=0x200F
        | 0x2028
        | 0x2029
        | 0x2581
        | 0xFEFF
        | 0xFFFD => ' ',
        _ => c,
    }
}

impl Normalizer for Nmt {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        n.filter(|c| !is_removed_control(c));
        n.map(as_space);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_controls_and_maps_spaces() {
        let mut n = NormalizedString::from("\u{1}a\u{7f}\u{2581}b\r\n");
        Nmt {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "a b  ");
        // The control char before "a" is removed at the start: "a" keeps its own offsets.
        assert_eq!(n.normalized_to_original(0..1), Some(1..2));
        assert_eq!(n.normalized_to_original(1..2), Some(3..6));
    }
}
