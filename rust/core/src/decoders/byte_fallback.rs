//! `ByteFallback`: turns SentencePiece byte tokens (`<0x61>`) back into bytes and text.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// Each run of consecutive `<0xNN>` tokens becomes one piece: the UTF-8 text of those bytes, or,
/// when the run is not valid UTF-8 as a whole, one `U+FFFD` per byte (Hugging Face does not
/// salvage the valid part of an invalid run).
///
/// ```
/// use ferroformers_core::decoders::{ByteFallbackDecoder, Decoder};
/// let d = ByteFallbackDecoder::new();
/// let tokens = vec!["<0xE5>".into(), "<0x8F>".into(), "<0xAB>".into(), "a".into()];
/// assert_eq!(d.decode(tokens).unwrap(), "叫a");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteFallbackDecoder {}

impl ByteFallbackDecoder {
    pub fn new() -> Self {
        ByteFallbackDecoder {}
    }
}

/// The byte of a `<0xNN>` token. Parsed with `u8::from_str_radix` like the reference, which
/// also takes a sign (`<0x+A>`), so the same odd tokens count as bytes.
fn byte_of(token: &str) -> Option<u8> {
    if token.len() == 6 && token.starts_with("<0x") && token.ends_with('>') {
        u8::from_str_radix(token.get(3..5)?, 16).ok()
    } else {
        None
    }
}

fn flush(run: &mut Vec<u8>, out: &mut Vec<String>) {
    if run.is_empty() {
        return;
    }
    match String::from_utf8(std::mem::take(run)) {
        Ok(text) => out.push(text),
        Err(e) => out.extend(std::iter::repeat_n(
            "\u{FFFD}".to_string(),
            e.as_bytes().len(),
        )),
    }
}

impl Decoder for ByteFallbackDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut run: Vec<u8> = Vec::new();
        for token in tokens {
            match byte_of(&token) {
                Some(b) => run.push(b),
                None => {
                    flush(&mut run, &mut out);
                    out.push(token);
                }
            }
        }
        flush(&mut run, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    #[test]
    fn byte_runs_become_text() {
        let d = ByteFallbackDecoder::new();
        assert_eq!(d.decode_chain(toks(&["<0x61>"])).unwrap(), toks(&["a"]));
        assert_eq!(
            d.decode_chain(toks(&["<0xE5>", "<0x8f>", "<0xab>", "a"]))
                .unwrap(),
            toks(&["叫", "a"])
        );
    }

    #[test]
    fn invalid_runs_give_one_replacement_char_per_byte() {
        let d = ByteFallbackDecoder::new();
        assert_eq!(
            d.decode_chain(toks(&["<0xE5>", "<0x8f>", "a"])).unwrap(),
            toks(&["�", "�", "a"])
        );
        // A valid char followed by a stray byte: the whole run is replaced.
        assert_eq!(
            d.decode_chain(toks(&["<0xE5>", "<0x8f>", "<0xab>", "<0xE5>"]))
                .unwrap(),
            toks(&["�", "�", "�", "�"])
        );
    }

    #[test]
    fn look_alikes_are_left_alone() {
        let d = ByteFallbackDecoder::new();
        assert_eq!(
            d.decode(toks(&["<0xZZ>", "<0x6>", "<0x0A>"])).unwrap(),
            "<0xZZ><0x6>\n"
        );
    }
}
