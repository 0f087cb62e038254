//! Pre-tokenizers cut the normalized text into words before the model sees them; one file per
//! `tokenizer.json` pre-tokenizer type.

pub mod bert;
pub mod byte_level;
pub mod char_delimiter_split;
pub mod digits;
pub mod fixed_length;
pub mod metaspace;
pub mod punctuation;
pub mod sequence;
pub mod split;
mod unicode_9_unassigned;
pub mod unicode_scripts;
pub mod whitespace;

use serde::{Deserialize, Serialize};

use crate::tokenizer::PreTokenizedString;
use crate::Result;

/// The pre-tokenizer stage.
pub trait PreTokenizer {
    fn pre_tokenize(&self, pretokenized: &mut PreTokenizedString) -> Result<()>;
}

/// `tokenizer.json`'s `pre_tokenizer` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PreTokenizerWrapper {
    ByteLevel(byte_level::ByteLevel),
    BertPreTokenizer(bert::BertPreTokenizer),
    Whitespace(whitespace::Whitespace),
    WhitespaceSplit(whitespace::WhitespaceSplit),
    Punctuation(punctuation::Punctuation),
    Digits(digits::Digits),
    Split(split::Split),
    Sequence(sequence::Sequence),
    Metaspace(metaspace::Metaspace),
    UnicodeScripts(unicode_scripts::UnicodeScripts),
    CharDelimiterSplit(char_delimiter_split::CharDelimiterSplit),
    FixedLength(fixed_length::FixedLength),
}

impl PreTokenizerWrapper {
    pub const SUPPORTED: &'static [&'static str] = &[
        "ByteLevel",
        "BertPreTokenizer",
        "Whitespace",
        "WhitespaceSplit",
        "Punctuation",
        "Digits",
        "Split",
        "Sequence",
        "Metaspace",
        "UnicodeScripts",
        "CharDelimiterSplit",
        "FixedLength",
    ];
}

impl PreTokenizer for PreTokenizerWrapper {
    fn pre_tokenize(&self, p: &mut PreTokenizedString) -> Result<()> {
        match self {
            PreTokenizerWrapper::ByteLevel(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::BertPreTokenizer(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Whitespace(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::WhitespaceSplit(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Punctuation(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Digits(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Split(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Sequence(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::Metaspace(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::UnicodeScripts(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::CharDelimiterSplit(x) => x.pre_tokenize(p),
            PreTokenizerWrapper::FixedLength(x) => x.pre_tokenize(p),
        }
    }
}

#[cfg(test)]
pub(crate) fn pieces(pre: &dyn PreTokenizer, text: &str) -> Vec<(String, (usize, usize))> {
    let mut p = PreTokenizedString::from(text);
    pre.pre_tokenize(&mut p).unwrap();
    p.splits
        .iter()
        .map(|s| {
            (
                s.normalized.get().to_owned(),
                s.normalized.offsets_original(),
            )
        })
        .collect()
}
