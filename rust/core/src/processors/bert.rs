//! `BertProcessing`: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`, with type id 1 for the pair part.

use serde::{Deserialize, Serialize};

use super::{surround, PostProcessor};
use crate::{Encoding, Result};

/// ```
/// use ferroformers_core::processors::BertProcessing;
/// let p = BertProcessing::new(("[SEP]".into(), 102), ("[CLS]".into(), 101));
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"sep":["[SEP]",102],"cls":["[CLS]",101]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BertProcessing {
    pub sep: (String, u32),
    pub cls: (String, u32),
}

impl BertProcessing {
    pub fn new(sep: (String, u32), cls: (String, u32)) -> Self {
        BertProcessing { sep, cls }
    }
}

impl PostProcessor for BertProcessing {
    fn added_tokens(&self, is_pair: bool) -> usize {
        if is_pair {
            3
        } else {
            2
        }
    }

    fn process_encodings(
        &self,
        encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        if !add_special_tokens {
            return Ok(encodings);
        }
        // The content keeps the type ids `process` gave it (0 for A, 1 for B; overflowing pieces
        // keep the model's 0, as in the reference).
        Ok(encodings
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                if i == 0 {
                    surround(e, Some(&self.cls), &self.sep, 0, 0)
                } else {
                    surround(e, None, &self.sep, 1, i)
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::test_support::plain;

    fn bert() -> BertProcessing {
        BertProcessing::new(("[SEP]".into(), 102), ("[CLS]".into(), 101))
    }

    #[test]
    fn pair_layout_and_type_ids() {
        let out = bert()
            .process(plain(&["a", "b"]), Some(plain(&["c"])), true)
            .unwrap();
        assert_eq!(out.tokens, ["[CLS]", "a", "b", "[SEP]", "c", "[SEP]"]);
        assert_eq!(out.type_ids, [0, 0, 0, 0, 1, 1]);
        assert_eq!(out.special_tokens_mask, [1, 0, 0, 1, 0, 1]);
        assert_eq!(
            out.sequence_ids(),
            [None, Some(0), Some(0), None, Some(1), None]
        );
        assert_eq!(out.offsets[3], (0, 0));
        assert_eq!(bert().added_tokens(true), 3);
    }

    #[test]
    fn overflowing_pieces_get_special_tokens() {
        let mut a = plain(&["a", "b", "c"]);
        a.truncate(2, 0, crate::tokenizer::Direction::Right)
            .unwrap();
        let out = bert().process(a, None, true).unwrap();
        assert_eq!(out.tokens, ["[CLS]", "a", "b", "[SEP]"]);
        assert_eq!(out.overflowing[0].tokens, ["[CLS]", "c", "[SEP]"]);
        assert_eq!(out.overflowing[0].sequence_ids(), [None, Some(0), None]);
    }

    #[test]
    fn without_special_tokens_only_type_ids_change() {
        let out = bert()
            .process(plain(&["a"]), Some(plain(&["c"])), false)
            .unwrap();
        assert_eq!(out.tokens, ["a", "c"]);
        assert_eq!(out.type_ids, [0, 1]);
        assert_eq!(out.sequence_ids(), [Some(0), Some(1)]);
    }
}
