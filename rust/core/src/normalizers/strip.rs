//! `Strip` (whitespace at either end) and `StripAccents` (drop combining marks).

use serde::{Deserialize, Serialize};
use unicode_categories::UnicodeCategories;

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strip {
    #[serde(default = "yes")]
    pub strip_left: bool,
    #[serde(default = "yes")]
    pub strip_right: bool,
}

impl Normalizer for Strip {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        n.strip_sides(self.strip_left, self.strip_right);
        Ok(())
    }
}

/// Removes non-spacing marks; usually placed after `NFD` so accents are separate chars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripAccents {}

impl Normalizer for StripAccents {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        if !n.get().is_ascii() {
            n.filter(|c| !c.is_mark_nonspacing());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips() {
        let mut n = NormalizedString::from("  é a  ");
        Strip {
            strip_left: true,
            strip_right: false,
        }
        .normalize(&mut n)
        .unwrap();
        assert_eq!(n.get(), "é a  ");
        let mut n = NormalizedString::from("e\u{301}a");
        StripAccents {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "ea");
    }
}
