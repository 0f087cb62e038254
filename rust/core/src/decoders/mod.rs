//! Decoders turn a list of token strings back into text: one file per `tokenizer.json` decoder type.
//!
//! Each decoder reads and writes exactly the JSON object Hugging Face `tokenizers` writes (the
//! `type` tag included), and decodes token for token as it does, so that `decode` is
//! byte-identical to the reference.
//!
//! ```
//! use ferroformers_core::decoders::{Decoder, DecoderWrapper};
//! let d: DecoderWrapper = serde_json::from_str(r###"{"type":"WordPiece","prefix":"##","cleanup":true}"###).unwrap();
//! let text = d.decode(vec!["Hello".into(), "wo".into(), "##rld".into(), "!".into()]).unwrap();
//! assert_eq!(text, "Hello world!");
//! ```

mod bpe;
mod byte_fallback;
mod byte_level;
mod ctc;
mod fuse;
mod metaspace;
mod replace;
mod sequence;
mod strip;
mod wordpiece;

pub use bpe::BpeDecoder;
pub use byte_fallback::ByteFallbackDecoder;
pub use byte_level::ByteLevelDecoder;
pub use ctc::CtcDecoder;
pub use fuse::FuseDecoder;
pub use metaspace::{MetaspaceDecoder, PrependScheme};
pub use replace::ReplaceDecoder;
pub use sequence::SequenceDecoder;
pub use strip::StripDecoder;
pub use wordpiece::WordPieceDecoder;

use serde::{Deserialize, Serialize};

use crate::Result;

/// The decoder stage. `decode_chain` maps tokens to tokens (so decoders compose in a
/// `Sequence`); `decode` joins the final pieces.
pub trait Decoder {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>>;

    fn decode(&self, tokens: Vec<String>) -> Result<String> {
        Ok(self.decode_chain(tokens)?.join(""))
    }
}

/// `tokenizer.json`'s `decoder` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DecoderWrapper {
    BPEDecoder(BpeDecoder),
    ByteFallback(ByteFallbackDecoder),
    ByteLevel(ByteLevelDecoder),
    #[serde(rename = "CTC")]
    Ctc(CtcDecoder),
    Fuse(FuseDecoder),
    Metaspace(MetaspaceDecoder),
    Replace(ReplaceDecoder),
    Sequence(SequenceDecoder),
    Strip(StripDecoder),
    WordPiece(WordPieceDecoder),
}

impl DecoderWrapper {
    /// The `type` names this version reads, for "unsupported decoder" messages.
    pub const SUPPORTED: &'static [&'static str] = &[
        "BPEDecoder",
        "ByteFallback",
        "ByteLevel",
        "CTC",
        "Fuse",
        "Metaspace",
        "Replace",
        "Sequence",
        "Strip",
        "WordPiece",
    ];
}

impl Decoder for DecoderWrapper {
    fn decode_chain(&self, tokens: Vec<String>) -> Result<Vec<String>> {
        match self {
            DecoderWrapper::BPEDecoder(d) => d.decode_chain(tokens),
            DecoderWrapper::ByteFallback(d) => d.decode_chain(tokens),
            DecoderWrapper::ByteLevel(d) => d.decode_chain(tokens),
            DecoderWrapper::Ctc(d) => d.decode_chain(tokens),
            DecoderWrapper::Fuse(d) => d.decode_chain(tokens),
            DecoderWrapper::Metaspace(d) => d.decode_chain(tokens),
            DecoderWrapper::Replace(d) => d.decode_chain(tokens),
            DecoderWrapper::Sequence(d) => d.decode_chain(tokens),
            DecoderWrapper::Strip(d) => d.decode_chain(tokens),
            DecoderWrapper::WordPiece(d) => d.decode_chain(tokens),
        }
    }
}

#[cfg(test)]
pub(crate) fn toks(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every decoder config HF writes must come back unchanged, key order included.
    #[test]
    fn json_round_trips_exactly() {
        for json in [
            r#"{"type":"BPEDecoder","suffix":"</w>"}"#,
            r#"{"type":"ByteFallback"}"#,
            r#"{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}"#,
            r#"{"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true}"#,
            r#"{"type":"Fuse"}"#,
            r#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}"#,
            r#"{"type":"Replace","pattern":{"String":"▁"},"content":" "}"#,
            r#"{"type":"Replace","pattern":{"Regex":"a+"},"content":"b"}"#,
            r#"{"type":"Strip","content":" ","start":1,"stop":0}"#,
            r###"{"type":"WordPiece","prefix":"##","cleanup":true}"###,
            r#"{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"#,
        ] {
            let d: DecoderWrapper = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&d).unwrap(), json);
        }
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert!(serde_json::from_str::<DecoderWrapper>(r#"{"type":"Nope"}"#).is_err());
        assert!(serde_json::from_str::<DecoderWrapper>(r#"{"suffix":"</w>"}"#).is_err());
    }

    #[test]
    fn supported_lists_every_variant() {
        for name in DecoderWrapper::SUPPORTED.iter() {
            // Each listed name must be a known tag: a missing-field error, not an unknown variant.
            let err = serde_json::from_str::<DecoderWrapper>(&format!(
                r#"{{"type":"{name}","decoders":5}}"#
            ));
            if let Err(e) = err {
                assert!(!e.to_string().contains("unknown variant"), "{name}: {e}");
            }
        }
    }
}
