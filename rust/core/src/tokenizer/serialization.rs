//! Reading and writing Hugging Face's `tokenizer.json`.
//!
//! Loading happens in two passes so errors say where the problem is: first every component's
//! `type` is checked against what we implement (an unknown one names the component and its JSON
//! path), then serde reads the typed structure, with `serde_path_to_error` giving the path of a
//! malformed field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AddedToken, PaddingParams, Tokenizer, TruncationParams};
use crate::decoders::DecoderWrapper;
use crate::models::ModelWrapper;
use crate::normalizers::NormalizerWrapper;
use crate::pre_tokenizers::PreTokenizerWrapper;
use crate::processors::PostProcessorWrapper;
use crate::{Error, Result};

#[derive(Serialize, Deserialize)]
struct AddedTokenWithId {
    id: u32,
    #[serde(flatten)]
    token: AddedToken,
}

#[derive(Serialize, Deserialize)]
struct TokenizerFile {
    #[serde(default = "default_version")]
    version: String,
    #[serde(default)]
    truncation: Option<TruncationParams>,
    #[serde(default)]
    padding: Option<PaddingParams>,
    #[serde(default)]
    added_tokens: Vec<AddedTokenWithId>,
    #[serde(default)]
    normalizer: Option<NormalizerWrapper>,
    #[serde(default)]
    pre_tokenizer: Option<PreTokenizerWrapper>,
    model: ModelWrapper,
    #[serde(default)]
    post_processor: Option<PostProcessorWrapper>,
    #[serde(default)]
    decoder: Option<DecoderWrapper>,
}

fn default_version() -> String {
    "1.0".to_owned()
}

/// The component kinds, the key under which a `Sequence` of each lists its children, and the
/// types we implement.
fn component_kinds() -> [(
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
); 5] {
    [
        (
            "normalizer",
            "normalizer",
            Some("normalizers"),
            NormalizerWrapper::SUPPORTED,
        ),
        (
            "pre_tokenizer",
            "pre-tokenizer",
            Some("pretokenizers"),
            PreTokenizerWrapper::SUPPORTED,
        ),
        ("model", "model", None, ModelWrapper::SUPPORTED),
        (
            "post_processor",
            "post-processor",
            Some("processors"),
            PostProcessorWrapper::SUPPORTED,
        ),
        (
            "decoder",
            "decoder",
            Some("decoders"),
            DecoderWrapper::SUPPORTED,
        ),
    ]
}

fn check_component(
    value: &Value,
    path: &str,
    component: &'static str,
    children_key: Option<&str>,
    supported: &[&str],
    file: &str,
) -> Result<()> {
    if value.is_null() {
        return Ok(());
    }
    let format_error = |message: String| Error::Format {
        file: file.to_owned(),
        json_path: path.to_owned(),
        message,
    };
    let Some(obj) = value.as_object() else {
        return Err(format_error(format!(
            "expected a {component} object, found {value}"
        )));
    };
    let Some(type_name) = obj.get("type").and_then(Value::as_str) else {
        return Err(format_error(format!(
            "the {component} object has no \"type\" field"
        )));
    };
    if !supported.contains(&type_name) {
        return Err(Error::Unsupported {
            file: file.to_owned(),
            component,
            type_name: type_name.to_owned(),
            json_path: format!("{path}.type"),
            supported: supported.join(", "),
        });
    }
    if let (Some(key), "Sequence") = (children_key, type_name) {
        if let Some(children) = obj.get(key).and_then(Value::as_array) {
            for (i, child) in children.iter().enumerate() {
                check_component(
                    child,
                    &format!("{path}.{key}[{i}]"),
                    component,
                    children_key,
                    supported,
                    file,
                )?;
            }
        }
    }
    Ok(())
}

pub(super) fn from_json(json: &str, file: &str, exact_scores: bool) -> Result<Tokenizer> {
    let value: Value = serde_json::from_str(json).map_err(|e| Error::Format {
        file: file.to_owned(),
        json_path: format!("line {} column {}", e.line(), e.column()),
        message: format!("not valid JSON ({e}); the file may be truncated or not a tokenizer.json"),
    })?;
    let Some(root) = value.as_object() else {
        return Err(Error::Format {
            file: file.to_owned(),
            json_path: "$".into(),
            message: "expected a JSON object".into(),
        });
    };
    if !root.contains_key("model") {
        return Err(Error::Format {
            file: file.to_owned(),
            json_path: "model".into(),
            message: "missing field `model`: every tokenizer.json has one".into(),
        });
    }
    for (key, component, children, supported) in component_kinds() {
        if let Some(v) = root.get(key) {
            check_component(v, key, component, children, supported, file)?;
        }
    }
    let parsed: TokenizerFile = serde_path_to_error::deserialize(&value).map_err(|e| {
        // serde cannot see inside the type-tagged `model` object; read it again as its own
        // type to name the exact field.
        let inner =
            (e.path().to_string() == "model").then(|| root.get("model").and_then(model_error_path));
        let (json_path, message) = inner
            .flatten()
            .unwrap_or_else(|| (e.path().to_string(), e.inner().to_string()));
        Error::Format {
            file: file.to_owned(),
            json_path,
            message,
        }
    })?;
    let mut model = parsed.model;
    if let (true, ModelWrapper::Unigram(unigram)) = (exact_scores, &model) {
        model = ModelWrapper::Unigram(exact_unigram(unigram, &root["model"], file)?);
    }
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.normalizer = parsed.normalizer;
    tokenizer.pre_tokenizer = parsed.pre_tokenizer;
    tokenizer.post_processor = parsed.post_processor;
    tokenizer.decoder = parsed.decoder;
    tokenizer.truncation = parsed.truncation;
    if let Some(padding) = &parsed.padding {
        padding.validate().map_err(|e| Error::Format {
            file: file.to_owned(),
            json_path: "padding".to_owned(),
            message: e.to_string(),
        })?;
    }
    tokenizer.padding = parsed.padding;
    let added: Vec<AddedToken> = parsed.added_tokens.into_iter().map(|t| t.token).collect();
    tokenizer.add_tokens(&added);
    Ok(tokenizer)
}

/// The Unigram model again, with its scores exactly as written in the file rather than as
/// Hugging Face's JSON reader rounds some of them (transformers builds Unigram models from Python
/// floats, i.e. exact values; see [`Tokenizer::from_json_exact_scores`]).
fn exact_unigram(
    unigram: &crate::models::unigram::Unigram,
    model: &Value,
    file: &str,
) -> Result<crate::models::unigram::Unigram> {
    let bad = |message: &str| Error::Format {
        file: file.to_owned(),
        json_path: "model.vocab".into(),
        message: message.into(),
    };
    let entries = model["vocab"]
        .as_array()
        .ok_or_else(|| bad("expected a list of [piece, score]"))?;
    let vocab = entries
        .iter()
        .map(|e| {
            match (
                e.get(0).and_then(Value::as_str),
                e.get(1).and_then(Value::as_f64),
            ) {
                (Some(piece), Some(score)) => Ok((piece.to_owned(), score)),
                _ => Err(bad("expected [piece, score] pairs")),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    crate::models::unigram::Unigram::new(
        vocab,
        unigram.unk_id().map(|i| i as usize),
        unigram.byte_fallback(),
    )
}

/// The path and message of the first problem in a `model` object, read as its concrete type.
fn model_error_path(model: &Value) -> Option<(String, String)> {
    fn first_error<T: serde::de::DeserializeOwned>(v: &Value) -> Option<(String, String)> {
        let err = serde_path_to_error::deserialize::<_, T>(v).err()?;
        let path = err.path().to_string();
        let at = if path == "." || path.is_empty() {
            "model".to_owned()
        } else {
            format!("model.{path}")
        };
        Some((at, err.inner().to_string()))
    }
    match model.get("type")?.as_str()? {
        "BPE" => first_error::<crate::models::bpe::Bpe>(model),
        "WordPiece" => first_error::<crate::models::wordpiece::WordPiece>(model),
        "Unigram" => first_error::<crate::models::unigram::Unigram>(model),
        _ => None,
    }
}

pub(super) fn to_json(tokenizer: &Tokenizer, pretty: bool) -> Result<String> {
    let file = TokenizerFile {
        version: default_version(),
        truncation: tokenizer.truncation.clone(),
        padding: tokenizer.padding.clone(),
        added_tokens: tokenizer
            .added_vocabulary
            .tokens()
            .map(|(id, token)| AddedTokenWithId {
                id: *id,
                token: token.clone(),
            })
            .collect(),
        normalizer: tokenizer.normalizer.clone(),
        pre_tokenizer: tokenizer.pre_tokenizer.clone(),
        model: tokenizer.model.clone(),
        post_processor: tokenizer.post_processor.clone(),
        decoder: tokenizer.decoder.clone(),
    };
    let out = if pretty {
        serde_json::to_string_pretty(&file)
    } else {
        serde_json::to_string(&file)
    };
    out.map_err(|e| Error::invalid(format!("cannot serialize the tokenizer: {e}")))
}
