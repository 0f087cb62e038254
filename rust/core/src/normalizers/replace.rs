//! `Replace`: replace every match of a string or regex pattern by fixed content.

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::utils::{Pattern, PatternSpec};
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ReplaceConfig", into = "ReplaceConfig")]
pub struct Replace {
    pub pattern: PatternSpec,
    pub content: String,
    compiled: Pattern,
}

#[derive(Serialize, Deserialize)]
struct ReplaceConfig {
    pattern: PatternSpec,
    content: String,
}

impl TryFrom<ReplaceConfig> for Replace {
    type Error = String;
    fn try_from(c: ReplaceConfig) -> Result<Self, String> {
        Replace::new(c.pattern, c.content).map_err(|e| e.to_string())
    }
}

impl From<Replace> for ReplaceConfig {
    fn from(r: Replace) -> Self {
        ReplaceConfig {
            pattern: r.pattern,
            content: r.content,
        }
    }
}

impl Replace {
    pub fn new(pattern: PatternSpec, content: String) -> Result<Self> {
        let compiled = Pattern::compile(&pattern).map_err(Error::InvalidInput)?;
        Ok(Replace {
            pattern,
            content,
            compiled,
        })
    }
}

impl Normalizer for Replace {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        let matches = self
            .compiled
            .find_iter(n.get())
            .map_err(Error::InvalidInput)?;
        n.replace_ranges(&matches, &self.content);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_strings_and_regexes() {
        let mut n = NormalizedString::from("a b  c");
        Replace::new(PatternSpec::String(" ".into()), "▁".into())
            .unwrap()
            .normalize(&mut n)
            .unwrap();
        assert_eq!(n.get(), "a▁b▁▁c");
        let mut n = NormalizedString::from("a b   c");
        Replace::new(PatternSpec::Regex(" {2,}".into()), " ".into())
            .unwrap()
            .normalize(&mut n)
            .unwrap();
        assert_eq!(n.get(), "a b c");
        assert_eq!(n.normalized_to_original(4..5), Some(6..7));
    }
}
