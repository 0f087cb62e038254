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
