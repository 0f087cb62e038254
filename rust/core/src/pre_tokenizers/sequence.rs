//! `Sequence`: several pre-tokenizers applied in order.

use serde::{Deserialize, Serialize};

use super::{PreTokenizer, PreTokenizerWrapper};
use crate::tokenizer::PreTokenizedString;
use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sequence {
    pub pretokenizers: Vec<PreTokenizerWrapper>,
}

impl PreTokenizer for Sequence {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        for pre in &self.pretokenizers {
            pre.pre_tokenize(p)?;
        }
        Ok(())
    }
}
