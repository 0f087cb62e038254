//! `ByteLevel` as a normalizer: rewrites every byte of the text as the printable char GPT-2's
//! byte-level alphabet gives it (see [`crate::utils::byte_to_char`]), without splitting anything.
//! A multi-byte char becomes several chars, all aligned with the original char.

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::utils::byte_to_char;
use crate::Result;

/// ```
/// use ferroformers_core::normalizers::{byte_level::ByteLevel, Normalizer};
/// use ferroformers_core::tokenizer::NormalizedString;
/// let mut n = NormalizedString::from("a é");
/// ByteLevel {}.normalize(&mut n).unwrap();
/// assert_eq!(n.get(), "aĠÃ©");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteLevel {}

impl Normalizer for ByteLevel {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        let table = byte_to_char();
        let mut edits = Vec::with_capacity(n.len());
        let mut buf = [0u8; 4];
        for c in n.get().chars() {
            for (i, &byte) in c.encode_utf8(&mut buf).as_bytes().iter().enumerate() {
                // The first byte replaces the char; the others are insertions after it.
                edits.push((table[byte as usize], isize::from(i > 0)));
            }
        }
        n.transform(edits, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_becomes_one_char_aligned_with_its_char() {
        let mut n = NormalizedString::from("Hé 日");
        ByteLevel {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "HÃ©ĠæĹ¥");
        assert_eq!(n.normalized_to_original(1..5), Some(1..3));
        assert_eq!(n.normalized_to_original(7..13), Some(4..7));
    }
}
