//! `Sequence` post-processor: runs post-processors one after the other (e.g. ByteLevel offset
//! trimming, then a template adding special tokens).

use serde::{Deserialize, Serialize};

use super::{PostProcessor, PostProcessorWrapper};
use crate::{Encoding, Result};

/// ```
/// use ferroformers_core::processors::{ByteLevelProcessor, PostProcessor, PostProcessorWrapper, SequenceProcessor};
/// let p = SequenceProcessor::new(vec![PostProcessorWrapper::ByteLevel(ByteLevelProcessor::default())]);
/// assert_eq!(p.added_tokens(true), 0);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceProcessor {
    pub processors: Vec<PostProcessorWrapper>,
}

impl SequenceProcessor {
    pub fn new(processors: Vec<PostProcessorWrapper>) -> Self {
        SequenceProcessor { processors }
    }
}

impl PostProcessor for SequenceProcessor {
    fn added_tokens(&self, is_pair: bool) -> usize {
        self.processors
            .iter()
            .map(|p| p.added_tokens(is_pair))
            .sum()
    }

    fn process_encodings(
        &self,
        mut encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        for p in &self.processors {
            encodings = p.process_encodings(encodings, add_special_tokens)?;
        }
        Ok(encodings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::test_support::enc;

    #[test]
    fn byte_level_then_template() {
        let p: PostProcessorWrapper = serde_json::from_str(
            r#"{"type":"Sequence","processors":[
                {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
                {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
                 "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
                 "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}]}"#,
        )
        .unwrap();
        assert_eq!(p.added_tokens(false), 1);
        let out = p
            .process(enc(&["Hi", "Ġyou"], &[(0, 2), (2, 6)]), None, true)
            .unwrap();
        assert_eq!(out.tokens, ["<s>", "Hi", "Ġyou"]);
        assert_eq!(out.offsets, [(0, 0), (0, 2), (3, 6)]);
        assert_eq!(out.sequence_ids(), [None, Some(0), Some(0)]);
    }
}
