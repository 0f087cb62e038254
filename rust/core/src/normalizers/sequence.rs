//! `Sequence`: several normalizers applied in order.

use serde::{Deserialize, Serialize};

use super::{Normalizer, NormalizerWrapper};
use crate::tokenizer::NormalizedString;
use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sequence {
    pub normalizers: Vec<NormalizerWrapper>,
}

impl Normalizer for Sequence {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        for normalizer in &self.normalizers {
            normalizer.normalize(n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order() {
        let seq: NormalizerWrapper = serde_json::from_str(
            r#"{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},{"type":"Lowercase"}]}"#,
        )
        .unwrap();
        let mut n = NormalizedString::from("Héllo");
        seq.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "hello");
        assert_eq!(n.normalized_to_original(1..2), Some(1..3));
    }
}
