//! `Whitespace` (runs of word chars, runs of other non-space chars) and `WhitespaceSplit`
//! (split on whitespace only).

use serde::{Deserialize, Serialize};

use super::PreTokenizer;
use crate::tokenizer::{PreTokenizedString, SplitDelimiterBehavior};
use crate::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whitespace {}

/// The word-char class of `\w` in Hugging Face's regex engine (Oniguruma, Unicode's definition):
/// Alphabetic chars, marks, decimal digits, connector punctuation and the two joiners. Alphabetic
/// is the letters plus the letter numbers (`Ⅷ`) and the symbols with Other_Alphabetic (`Ⓐ`, `🅐`),
/// so a ZWJ emoji sequence splits around its joiners as it does there.
fn is_word_char(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as Gc};
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter
        | Gc::LetterNumber
        | Gc::NonspacingMark
        | Gc::SpacingMark
        | Gc::EnclosingMark
        | Gc::DecimalNumber
        | Gc::ConnectorPunctuation => true,
        // Join_Control, and the circled / squared Latin letters (Other_Alphabetic symbols).
        Gc::Format => matches!(c, '\u{200C}' | '\u{200D}'),
        Gc::OtherSymbol => matches!(
            c,
            '\u{24B6}'..='\u{24E9}'
                | '\u{1F130}'..='\u{1F149}'
                | '\u{1F150}'..='\u{1F169}'
                | '\u{1F170}'..='\u{1F189}'
        ),
        _ => false,
    }
}

impl PreTokenizer for Whitespace {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        // Equivalent of keeping the matches of `\w+|[^\w\s]+`: runs of one class, spaces dropped.
        p.split_pieces(|_, n| {
            let mut runs = Vec::new();
            let mut current: Option<(usize, usize, bool)> = None; // (start, end, is_word)
            for (i, c) in n.get().char_indices() {
                let end = i + c.len_utf8();
                if c.is_whitespace() {
                    if let Some((a, b, _)) = current.take() {
                        runs.push((a, b));
                    }
                    continue;
                }
                let word = is_word_char(c);
                current = match current {
                    Some((a, _, w)) if w == word => Some((a, end, w)),
                    Some((a, b, _)) => {
                        runs.push((a, b));
                        Some((i, end, word))
                    }
                    None => Some((i, end, word)),
                };
            }
            if let Some((a, b, _)) = current {
                runs.push((a, b));
            }
            Ok(runs
                .into_iter()
                .filter_map(|(a, b)| n.slice(a..b))
                .collect())
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhitespaceSplit {}

impl PreTokenizer for WhitespaceSplit {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        p.split_pieces(|_, n| {
            Ok(n.split_at(
                &n.char_matches(char::is_whitespace),
                SplitDelimiterBehavior::Removed,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pre_tokenizers::pieces;

    #[test]
    fn whitespace_separates_words_and_symbols() {
        let got: Vec<_> = pieces(&Whitespace {}, "Hey man!! How's it_going?")
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(got, ["Hey", "man", "!!", "How", "'", "s", "it_going", "?"]);
        let got: Vec<_> = pieces(&WhitespaceSplit {}, "Hey man!!  ok")
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(got, ["Hey", "man!!", "ok"]);
    }

    #[test]
    fn joiners_letter_numbers_and_circled_letters_are_word_chars() {
        let got: Vec<_> = pieces(&Whitespace {}, "👨\u{200d}👩 !Ⅷ! !Ⓐ!")
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(got, ["👨", "\u{200d}", "👩", "!", "Ⅷ", "!", "!", "Ⓐ", "!"]);
    }
}
