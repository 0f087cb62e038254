//! `Prepend`: put a fixed string (SentencePiece's `▁`) before non-empty input.

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepend {
    pub prepend: String,
}

impl Normalizer for Prepend {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        if !n.is_empty() {
            n.prepend(&self.prepend);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepends() {
        let mut n = NormalizedString::from("hi");
        Prepend {
            prepend: "▁".into(),
        }
        .normalize(&mut n)
        .unwrap();
        assert_eq!(n.get(), "▁hi");
        let mut e = NormalizedString::from("");
        Prepend {
            prepend: "▁".into(),
        }
        .normalize(&mut e)
        .unwrap();
        assert_eq!(e.get(), "");
    }
}
