//! Normalizers rewrite the input text (lowercase, Unicode forms, accents, ...) while keeping the
//! alignment to the original text; one file per `tokenizer.json` normalizer type.

pub mod bert;
pub mod byte_level;
pub mod lowercase;
pub mod nmt;
pub mod precompiled;
pub mod prepend;
pub mod replace;
pub mod sequence;
pub mod strip;
pub mod unicode;

use serde::{Deserialize, Serialize};

use crate::tokenizer::NormalizedString;
use crate::Result;

/// The normalizer stage.
pub trait Normalizer {
    fn normalize(&self, normalized: &mut NormalizedString) -> Result<()>;
}

/// `tokenizer.json`'s `normalizer` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum NormalizerWrapper {
    BertNormalizer(bert::BertNormalizer),
    Lowercase(lowercase::Lowercase),
    #[serde(rename = "NFC")]
    Nfc(unicode::Nfc),
    #[serde(rename = "NFD")]
    Nfd(unicode::Nfd),
    #[serde(rename = "NFKC")]
    Nfkc(unicode::Nfkc),
    #[serde(rename = "NFKD")]
    Nfkd(unicode::Nfkd),
    StripAccents(strip::StripAccents),
    Strip(strip::Strip),
    Replace(replace::Replace),
    Prepend(prepend::Prepend),
    Sequence(sequence::Sequence),
    Precompiled(precompiled::Precompiled),
    Nmt(nmt::Nmt),
    ByteLevel(byte_level::ByteLevel),
}

impl NormalizerWrapper {
    pub const SUPPORTED: &'static [&'static str] = &[
        "BertNormalizer",
        "Lowercase",
        "NFC",
        "NFD",
        "NFKC",
        "NFKD",
        "StripAccents",
        "Strip",
        "Replace",
        "Prepend",
        "Sequence",
        "Precompiled",
        "Nmt",
        "ByteLevel",
    ];
}

impl Normalizer for NormalizerWrapper {
    fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
        match self {
            NormalizerWrapper::BertNormalizer(x) => x.normalize(n),
            NormalizerWrapper::Lowercase(x) => x.normalize(n),
            NormalizerWrapper::Nfc(x) => x.normalize(n),
            NormalizerWrapper::Nfd(x) => x.normalize(n),
            NormalizerWrapper::Nfkc(x) => x.normalize(n),
            NormalizerWrapper::Nfkd(x) => x.normalize(n),
            NormalizerWrapper::StripAccents(x) => x.normalize(n),
            NormalizerWrapper::Strip(x) => x.normalize(n),
            NormalizerWrapper::Replace(x) => x.normalize(n),
            NormalizerWrapper::Prepend(x) => x.normalize(n),
            NormalizerWrapper::Sequence(x) => x.normalize(n),
            NormalizerWrapper::Precompiled(x) => x.normalize(n),
            NormalizerWrapper::Nmt(x) => x.normalize(n),
            NormalizerWrapper::ByteLevel(x) => x.normalize(n),
        }
    }
}
