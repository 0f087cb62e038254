//! `UnicodeScripts`: split where the Unicode script changes (Latin, Cyrillic, Han, ...), as
//! SentencePiece's default piece validity rule does. Japanese kana and the long vowel mark `ー`
//! count as Han, so Japanese text stays together (Hangul stays a script of its own); a plain space
//! belongs to no script and joins the piece before it.
//!
//! Two quirks of Hugging Face's implementation are kept on purpose, because its offsets are our
//! oracle: script-less chars before the first char that has a script are dropped (`" Hi"` gives
//! only `"Hi"`), and its script table stops at Unicode 9.0, so chars assigned later have no
//! script either.

use serde::{Deserialize, Serialize};
use unicode_script::{Script, UnicodeScript};

use super::unicode_9_unassigned::UNASSIGNED_IN_UNICODE_9;
use super::PreTokenizer;
use crate::tokenizer::PreTokenizedString;
use crate::Result;

/// ```
/// use ferroformers_core::pre_tokenizers::{unicode_scripts::UnicodeScripts, PreTokenizer};
/// use ferroformers_core::tokenizer::PreTokenizedString;
/// let mut p = PreTokenizedString::from("Hello мир 日本語です");
/// UnicodeScripts::default().pre_tokenize(&mut p).unwrap();
/// let pieces: Vec<_> = p.splits.iter().map(|s| s.normalized.get()).collect();
/// assert_eq!(pieces, ["Hello ", "мир ", "日本語です"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicodeScripts {}

/// The script a char counts as for splitting; `None` for chars that belong to no script.
fn split_script(c: char) -> Option<Script> {
    if c == ' ' || assigned_after_unicode_9(c) {
        return None;
    }
    match c {
        // The long vowel mark is Common in Unicode, but it only ever follows kana.
        '\u{30FC}' => return Some(Script::Han),
        // Chars whose script changed after Unicode 9.0 keep their 9.0 script, as in the reference.
        '\u{589}' | '\u{61C}' => return Some(Script::Common),
        '\u{953}' | '\u{954}' => return Some(Script::Devanagari),
        _ => {}
    }
    Some(match c.script() {
        Script::Hiragana | Script::Katakana => Script::Han,
        Script::Unknown => return None,
        script => script,
    })
}

fn assigned_after_unicode_9(c: char) -> bool {
    let cp = c as u32;
    UNASSIGNED_IN_UNICODE_9
        .binary_search_by(|&(first, last)| {
            if last < cp {
                std::cmp::Ordering::Less
            } else if first > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The byte offsets where a new piece starts: at every char whose script differs from the last
/// script seen. Script-less chars never start a piece and do not reset the last script.
fn piece_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut last_script = None;
    for (i, c) in text.char_indices() {
        let Some(script) = split_script(c) else {
            continue;
        };
        if last_script != Some(script) {
            starts.push(i);
        }
        last_script = Some(script);
    }
    starts
}

impl PreTokenizer for UnicodeScripts {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, normalized| {
            let mut bounds = piece_starts(normalized.get());
            bounds.push(normalized.len());
            Ok(bounds
                .windows(2)
                .filter_map(|w| normalized.slice(w[0]..w[1]))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    fn split(text: &str) -> Vec<(String, (usize, usize))> {
        pieces(&UnicodeScripts::default(), text)
    }

    fn p(s: &str, a: usize, b: usize) -> (String, (usize, usize)) {
        (s.to_string(), (a, b))
    }

    #[test]
    fn splits_on_script_changes_and_keeps_cjk_together() {
        assert_eq!(
            split("Hi, мир 日本テストー한국"),
            [
                p("Hi", 0, 2),
                p(", ", 2, 4),
                p("мир ", 4, 11),
                p("日本テストー", 11, 29),
                p("한국", 29, 35)
            ]
        );
        // Common (punctuation, digits) and Inherited (combining marks) are scripts of their own.
        assert_eq!(
            split("ab\u{301} 1a"),
            [
                p("ab", 0, 2),
                p("\u{301} ", 2, 5),
                p("1", 5, 6),
                p("a", 6, 7)
            ]
        );
    }

    #[test]
    fn leading_spaces_are_dropped_and_inner_ones_join_the_previous_piece() {
        assert_eq!(split("  a  b"), [p("a  b", 2, 6)]);
        assert!(split("   ").is_empty());
    }

    #[test]
    fn chars_newer_than_unicode_9_have_no_script() {
        // U+1F92A (Unicode 10) joins its neighbours; U+1F600 (Unicode 6.1) is Common.
        assert_eq!(split("a\u{1F92A}b"), [p("a\u{1F92A}b", 0, 6)]);
        assert_eq!(split("a\u{1F600}b").len(), 3);
        assert!(assigned_after_unicode_9('\u{378}'));
        // Armenian full stop: Common in 9.0, Armenian since.
        assert_eq!(split("\u{561}\u{589}").len(), 2);
        assert!(!assigned_after_unicode_9('a'));
    }
}
