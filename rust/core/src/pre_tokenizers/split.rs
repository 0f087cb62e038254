//! `Split`: split on a string or regex pattern, with a delimiter behaviour, optionally inverted
//! (the matches are the pieces and the rest is the delimiter).

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::utils::{Pattern, PatternSpec};
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "SplitConfig", into = "SplitConfig")]
pub struct Split {
    pub pattern: PatternSpec,
    pub behavior: SplitDelimiterBehavior,
    pub invert: bool,
    compiled: Pattern,
}

#[derive(Serialize, Deserialize)]
struct SplitConfig {
    pattern: PatternSpec,
    behavior: SplitDelimiterBehavior,
    #[serde(default)]
    invert: bool,
}

impl TryFrom<SplitConfig> for Split {
    type Error = String;
    fn try_from(c: SplitConfig) -> Result<Self, String> {
        Split::new(c.pattern, c.behavior, c.invert).map_err(|e| e.to_string())
    }
}

impl From<Split> for SplitConfig {
    fn from(s: Split) -> Self {
        SplitConfig {
            pattern: s.pattern,
            behavior: s.behavior,
            invert: s.invert,
        }
    }
}

impl Split {
    pub fn new(
        pattern: PatternSpec,
        behavior: SplitDelimiterBehavior,
        invert: bool,
    ) -> Result<Self> {
        let compiled = Pattern::compile(&pattern).map_err(Error::InvalidInput)?;
        Ok(Split {
            pattern,
            behavior,
            invert,
            compiled,
        })
    }
}

/// The gaps between `matches` over a string of `len` bytes (what an inverted pattern matches).
fn complement(matches: &[(usize, usize)], len: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(matches.len() + 1);
    let mut last = 0;
    for &(a, b) in matches {
        if last < a {
            out.push((last, a));
        }
        last = b;
    }
    if last < len {
        out.push((last, len));
    }
    out
}

impl PreTokenizer for Split {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, n| {
            let mut matches = self
                .compiled
                .find_iter(n.get())
                .map_err(Error::InvalidInput)?;
            if self.invert {
                matches = complement(&matches, n.len());
            }
            Ok(n.split_at(&matches, self.behavior))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn split_and_invert() {
        let s = Split::new(
            PatternSpec::Regex(r"\s+".into()),
            SplitDelimiterBehavior::Removed,
            false,
        )
        .unwrap();
        let got: Vec<_> = pieces(&s, "a  b c").into_iter().map(|p| p.0).collect();
        assert_eq!(got, ["a", "b", "c"]);
        let s = Split::new(
            PatternSpec::Regex(r"\w+".into()),
            SplitDelimiterBehavior::Removed,
            true,
        )
        .unwrap();
        let got: Vec<_> = pieces(&s, "a, b").into_iter().map(|p| p.0).collect();
        assert_eq!(got, ["a", "b"]);
        let s = Split::new(
            PatternSpec::String("-".into()),
            SplitDelimiterBehavior::MergedWithNext,
            false,
        )
        .unwrap();
        let got: Vec<_> = pieces(&s, "a-b").into_iter().map(|p| p.0).collect();
        assert_eq!(got, ["a", "-b"]);
    }
}
