//! `Lowercase`: Unicode lowercasing (one char may become several).

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lowercase {}

impl Normalizer for Lowercase {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        n.lowercase();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_with_expansion() {
        let mut n = NormalizedString::from("ABC İ");
        Lowercase {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "abc i\u{307}");
        assert_eq!(n.normalized_to_original(4..7), Some(4..6));
    }
}
