//! `Replace` decoder: replaces a literal or regex pattern in every token (Llama-style
//! tokenizers turn `▁` back into spaces with it).

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::utils::{Pattern, PatternSpec};
use crate::{Error, Result};

/// ```
/// use ferroformers_core::decoders::{Decoder, ReplaceDecoder};
/// use ferroformers_core::utils::PatternSpec;
/// let d = ReplaceDecoder::new(PatternSpec::String("▁".into()), " ").unwrap();
/// assert_eq!(d.decode(vec!["▁Hey".into(), "▁you".into()]).unwrap(), " Hey you");
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ReplaceJson", into = "ReplaceJson")]
pub struct ReplaceDecoder {
    pattern: PatternSpec,
    content: String,
    compiled: Pattern,
}

#[derive(Serialize, Deserialize)]
struct ReplaceJson {
    pattern: PatternSpec,
    content: String,
}

impl TryFrom<ReplaceJson> for ReplaceDecoder {
    type Error = String;

    fn try_from(j: ReplaceJson) -> std::result::Result<Self, String> {
        let compiled = Pattern::compile(&j.pattern)?;
        Ok(ReplaceDecoder {
            pattern: j.pattern,
            content: j.content,
            compiled,
        })
    }
}

impl From<ReplaceDecoder> for ReplaceJson {
    fn from(d: ReplaceDecoder) -> Self {
        ReplaceJson {
            pattern: d.pattern,
            content: d.content,
        }
    }
}

impl ReplaceDecoder {
    /// Fails when the regex does not compile.
    pub fn new(pattern: PatternSpec, content: impl Into<String>) -> Result<Self> {
        ReplaceDecoder::try_from(ReplaceJson {
            pattern,
            content: content.into(),
        })
        .map_err(Error::invalid)
    }

    pub fn pattern(&self) -> &PatternSpec {
        &self.pattern
    }

    pub fn content(&self) -> &str {
        &self.content
    }
}

impl Decoder for ReplaceDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        tokens
            .into_iter()
            .map(|t| {
                self.compiled
                    .replace_all(&t, &self.content)
                    .map_err(|e| Error::invalid(format!("Replace decoder: {e}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn replaces_in_each_token() {
        let d = ReplaceDecoder::new(PatternSpec::String("▁".into()), " ").unwrap();
        assert_eq!(
            d.decode_chain(toks(&["▁Hey", "▁▁friend"])).unwrap(),
            toks(&[" Hey", "  friend"])
        );
        let d = ReplaceDecoder::new(PatternSpec::Regex("a+".into()), "b").unwrap();
        assert_eq!(d.decode(toks(&["caaat", "a"])).unwrap(), "cbtb");
    }

    #[test]
    fn bad_regex_is_a_deserialization_error() {
        let r = serde_json::from_str::<ReplaceDecoder>(r#"{"pattern":{"Regex":"("},"content":""}"#);
        assert!(r.is_err());
        assert!(serde_json::from_str::<ReplaceDecoder>(r#"{"pattern":{"String":"a"}}"#).is_err());
    }
}
