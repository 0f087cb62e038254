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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn applies_in_order() {
        let seq: PreTokenizerWrapper = serde_json::from_str(
            r#"{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]}"#,
        )
        .unwrap();
        let got: Vec<_> = pieces(&seq, "ab12 c").into_iter().map(|p| p.0).collect();
        assert_eq!(got, ["ab", "1", "2", "c"]);
    }
}
