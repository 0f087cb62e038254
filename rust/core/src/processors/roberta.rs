//! `RobertaProcessing`: `<s> A </s>` and `<s> A </s></s> B </s>`, every type id 0, with
//! byte-level offset trimming.

use serde::{Deserialize, Serialize};

use super::byte_level::trim_encoding_and_overflowing;
use super::{surround, PostProcessor};
use crate::{Encoding, Result};

/// ```
/// use ferroformers_core::processors::RobertaProcessing;
/// let p = RobertaProcessing::new(("</s>".into(), 2), ("<s>".into(), 0));
/// assert!(p.trim_offsets && p.add_prefix_space);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobertaProcessing {
    pub sep: (String, u32),
    pub cls: (String, u32),
    /// Trim `Ġ`/whitespace off token offsets (see [`super::trim_byte_level_offsets`]).
    #[serde(default = "default_true")]
    pub trim_offsets: bool,
    /// Whether the pre-tokenizer added a space before the first word; trimming keeps it.
    #[serde(default = "default_true")]
    pub add_prefix_space: bool,
}

fn default_true() -> bool {
    true
}

impl RobertaProcessing {
    pub fn new(sep: (String, u32), cls: (String, u32)) -> Self {
        RobertaProcessing {
            sep,
            cls,
            trim_offsets: true,
            add_prefix_space: true,
        }
    }
}

impl PostProcessor for RobertaProcessing {
    fn added_tokens(&self, is_pair: bool) -> usize {
        if is_pair {
            4
        } else {
            2
        }
    }

    fn process_encodings(
        &self,
        mut encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        for e in &mut encodings {
            if self.trim_offsets {
                trim_encoding_and_overflowing(e, self.add_prefix_space);
            }
            // RoBERTa has no segment embeddings to speak of: everything is type 0, even without
            // special tokens, overflowing pieces of the second sequence included.
            e.set_type_ids(0);
            for o in &mut e.overflowing {
                o.set_type_ids(0);
            }
        }
        if !add_special_tokens {
            return Ok(encodings);
        }
        Ok(encodings
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let prefix = if i == 0 { &self.cls } else { &self.sep };
                surround(e, Some(prefix), &self.sep, 0, i)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::test_support::enc;

    fn roberta() -> RobertaProcessing {
        RobertaProcessing::new(("</s>".into(), 2), ("<s>".into(), 0))
    }

    #[test]
    fn pair_layout() {
        let a = enc(&["ĠHi", "Ġthere"], &[(0, 2), (2, 8)]);
        let b = enc(&["ĠHow"], &[(0, 3)]);
        let out = roberta().process(a, Some(b), true).unwrap();
        assert_eq!(
            out.tokens,
            ["<s>", "ĠHi", "Ġthere", "</s>", "</s>", "ĠHow", "</s>"]
        );
        assert_eq!(out.type_ids, [0; 7]);
        assert_eq!(
            out.sequence_ids(),
            [None, Some(0), Some(0), None, None, Some(1), None]
        );
        // Trimmed, except the first token's single added space.
        assert_eq!(out.offsets[1..3], [(0, 2), (3, 8)]);
        assert_eq!(out.offsets[5], (0, 3));
    }

    #[test]
    fn fields_default_to_true() {
        let p: RobertaProcessing =
            serde_json::from_str(r#"{"sep":["</s>",2],"cls":["<s>",0]}"#).unwrap();
        assert_eq!(p, roberta());
    }

    #[test]
    fn without_special_tokens_pair_is_type_zero() {
        let a = enc(&["a"], &[(0, 1)]);
        let b = enc(&["b"], &[(0, 1)]);
        let out = roberta().process(a, Some(b), false).unwrap();
        assert_eq!(out.type_ids, [0, 0]);
        assert_eq!(out.sequence_ids(), [Some(0), Some(1)]);
    }
}
