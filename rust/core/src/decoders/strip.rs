//! `Strip` decoder: removes up to `start` leading and `stop` trailing `content` chars from each
//! token (Llama-style tokenizers drop the space the encoder prepended).

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// ```
/// use ferroformers_core::decoders::{Decoder, StripDecoder};
/// let d = StripDecoder::new(' ', 1, 0);
/// assert_eq!(d.decode(vec!["  Hey".into()]).unwrap(), " Hey");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripDecoder {
    pub content: char,
    pub start: usize,
    pub stop: usize,
}

impl StripDecoder {
    pub fn new(content: char, start: usize, stop: usize) -> Self {
        StripDecoder {
            content,
            start,
            stop,
        }
    }

    fn strip(&self, token: &str) -> String {
        let chars: Vec<char> = token.chars().collect();
        let from = chars
            .iter()
            .take(self.start)
            .take_while(|&&c| c == self.content)
            .count();
        // Trailing chars are only taken from what the leading strip left. `tokenizers` 0.23.3
        // panics instead when the two overlap or `stop` exceeds the token (e.g. `" "` with
        // start=1, stop=1); everywhere it does not panic the results agree.
        let to = chars.len()
            - chars[from..]
                .iter()
                .rev()
                .take(self.stop)
                .take_while(|&&c| c == self.content)
                .count();
        chars[from..to].iter().collect()
    }
}

impl Decoder for StripDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        Ok(tokens.iter().map(|t| self.strip(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn strips_at_most_the_counts() {
        let d = StripDecoder::new('H', 1, 0);
        assert_eq!(
            d.decode_chain(toks(&["Hey", " friend!", "HHH"])).unwrap(),
            toks(&["ey", " friend!", "HH"])
        );
        let d = StripDecoder::new('y', 0, 1);
        assert_eq!(
            d.decode_chain(toks(&["Hey", " friend!"])).unwrap(),
            toks(&["He", " friend!"])
        );
    }

    /// Outputs checked against `tokenizers` 0.23.3 where it does not panic.
    #[test]
    fn matches_the_reference() {
        let cases = [
            (" a ", 1, 1, "a"),
            (" a ", 3, 0, "a "),
            (" a ", 0, 3, " a"),
            ("  ", 1, 1, ""),
            ("  ", 1, 0, " "),
            ("  ", 0, 1, " "),
            ("  ", 3, 0, ""),
            (" ", 1, 0, ""),
            (" ", 0, 1, ""),
            ("", 1, 0, ""),
            ("   ", 1, 1, " "),
            ("   ", 0, 3, ""),
            ("aaa", 2, 2, "aaa"),
        ];
        for (token, start, stop, want) in cases {
            let d = StripDecoder::new(' ', start, stop);
            assert_eq!(d.strip(token), want, "{token:?} {start} {stop}");
        }
    }

    #[test]
    fn where_the_reference_panics_we_strip_what_is_there() {
        assert_eq!(StripDecoder::new(' ', 1, 1).strip(" "), "");
        assert_eq!(StripDecoder::new(' ', 2, 2).strip("   "), "");
        assert_eq!(StripDecoder::new(' ', 0, 3).strip("  "), "");
        assert_eq!(StripDecoder::new(' ', 0, 1).strip(""), "");
    }
}
