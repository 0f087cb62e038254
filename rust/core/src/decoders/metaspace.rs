//! `Metaspace` decoder: SentencePiece's `▁` marks a space; the one prepended to the first word
//! while encoding is dropped again.

use serde::{Deserialize, Serialize};

use super::Decoder;
use crate::Result;

/// When the Metaspace pre-tokenizer prepends the replacement char to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrependScheme {
    /// Before every section of the input (the default).
    #[default]
    Always,
    /// Only before the first section.
    First,
    /// Never.
    Never,
}

/// Turns each replacement char into a space, except in the first token when the pre-tokenizer
/// prepends one (`prepend_scheme` other than `never`): there every replacement char is dropped,
/// as the reference does.
///
/// ```
/// use ferroformers_core::decoders::{Decoder, MetaspaceDecoder, PrependScheme};
/// let d = MetaspaceDecoder::new('▁', PrependScheme::Always, true);
/// assert_eq!(d.decode(vec!["▁Hey".into(), "▁friend".into()]).unwrap(), "Hey friend");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MetaspaceJson")]
pub struct MetaspaceDecoder {
    pub replacement: char,
    pub prepend_scheme: PrependScheme,
    /// Only used by the pre-tokenizer; kept so the JSON object round-trips.
    pub split: bool,
}

/// The JSON as written by every `tokenizers` version: older files have `add_prefix_space`
/// (and sometimes `str_rep`) instead of `prepend_scheme`.
#[derive(Deserialize)]
struct MetaspaceJson {
    replacement: char,
    #[serde(default)]
    prepend_scheme: Option<PrependScheme>,
    #[serde(default)]
    add_prefix_space: Option<bool>,
    #[serde(default = "default_true")]
    split: bool,
}

fn default_true() -> bool {
    true
}

impl TryFrom<MetaspaceJson> for MetaspaceDecoder {
    type Error = String;

    fn try_from(j: MetaspaceJson) -> std::result::Result<Self, String> {
        // Same reconciliation as the reference: `add_prefix_space: false` means `never` and
        // contradicts any other explicit scheme; `true` defers to `prepend_scheme`.
        let prepend_scheme = match (j.add_prefix_space, j.prepend_scheme) {
            (Some(false), None | Some(PrependScheme::Never)) => PrependScheme::Never,
            (Some(false), Some(other)) => {
                return Err(format!(
                    "Metaspace: add_prefix_space is false but prepend_scheme is {other:?}; \
                     remove add_prefix_space or set prepend_scheme to \"never\""
                ))
            }
            (_, scheme) => scheme.unwrap_or_default(),
        };
        Ok(MetaspaceDecoder {
            replacement: j.replacement,
            prepend_scheme,
            split: j.split,
        })
    }
}

impl Default for MetaspaceDecoder {
    fn default() -> Self {
        MetaspaceDecoder::new('▁', PrependScheme::Always, true)
    }
}

impl MetaspaceDecoder {
    pub fn new(replacement: char, prepend_scheme: PrependScheme, split: bool) -> Self {
        MetaspaceDecoder {
            replacement,
            prepend_scheme,
            split,
        }
    }
}

impl Decoder for MetaspaceDecoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        let drop_first = self.prepend_scheme != PrependScheme::Never;
        Ok(tokens
            .into_iter()
            .enumerate()
            .map(|(i, token)| {
                token
                    .chars()
                    .filter_map(|c| {
                        if c != self.replacement {
                            Some(c)
                        } else if i == 0 && drop_first {
                            None
                        } else {
                            Some(' ')
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::toks;

    fn parse(json: &str) -> std::result::Result<MetaspaceDecoder, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn first_token_loses_every_replacement_char() {
        let d = MetaspaceDecoder::default();
        assert_eq!(
            d.decode(toks(&["▁▁Hey", "▁friend▁"])).unwrap(),
            "Hey friend "
        );
        assert_eq!(d.decode(toks(&["a▁b", "▁c"])).unwrap(), "ab c");
        let first = MetaspaceDecoder::new('▁', PrependScheme::First, true);
        assert_eq!(
            first.decode(toks(&["▁Hey", "▁friend"])).unwrap(),
            "Hey friend"
        );
        let never = MetaspaceDecoder::new('▁', PrependScheme::Never, true);
        assert_eq!(
            never.decode(toks(&["▁Hey", "▁friend"])).unwrap(),
            " Hey friend"
        );
    }

    #[test]
    fn legacy_add_prefix_space_is_read() {
        let d = parse(r#"{"replacement":"▁","add_prefix_space":false}"#).unwrap();
        assert_eq!(d.prepend_scheme, PrependScheme::Never);
        let d = parse(r#"{"replacement":"▁","add_prefix_space":true,"str_rep":"▁"}"#).unwrap();
        assert_eq!(d.prepend_scheme, PrependScheme::Always);
        // The reference lets an explicit scheme win over `add_prefix_space: true`.
        let d = parse(r#"{"replacement":"▁","add_prefix_space":true,"prepend_scheme":"never"}"#)
            .unwrap();
        assert_eq!(d.prepend_scheme, PrependScheme::Never);
        assert!(
            parse(r#"{"replacement":"▁","add_prefix_space":false,"prepend_scheme":"first"}"#)
                .is_err()
        );
        assert!(parse(r#"{"prepend_scheme":"first"}"#).is_err());
    }

    #[test]
    fn serializes_the_current_form() {
        let d = parse(r#"{"replacement":"▁","add_prefix_space":false}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"replacement":"▁","prepend_scheme":"never","split":true}"#
        );
    }
}
