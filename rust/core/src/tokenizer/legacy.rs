//! Tokenizers from the files that predate `tokenizer.json`: BERT's `vocab.txt` and GPT-2's
//! `vocab.json` + `merges.txt`. Each builds the same pipeline Hugging Face's converters build,
//! written as a `tokenizer.json` document so it goes through the one reader.

use std::path::Path;

use serde_json::{json, Value};

use super::Tokenizer;
use crate::models::bpe::Bpe;
use crate::models::wordpiece::WordPiece;
use crate::models::Model;
use crate::{Error, Result};

/// The options `BertTokenizer` reads from `tokenizer_config.json`.
#[derive(Debug, Clone)]
pub struct WordPieceOptions {
    pub lowercase: bool,
    pub strip_accents: Option<bool>,
    pub tokenize_chinese_chars: bool,
    pub clean_text: bool,
    pub unk_token: String,
    pub sep_token: String,
    pub cls_token: String,
    pub pad_token: String,
    pub mask_token: String,
    pub prefix: String,
}

impl Default for WordPieceOptions {
    fn default() -> Self {
        WordPieceOptions {
            lowercase: true,
            strip_accents: None,
            tokenize_chinese_chars: true,
            clean_text: true,
            unk_token: "[UNK]".into(),
            sep_token: "[SEP]".into(),
            cls_token: "[CLS]".into(),
            pad_token: "[PAD]".into(),
            mask_token: "[MASK]".into(),
            prefix: "##".into(),
        }
    }
}

fn to_value<T: serde::Serialize>(x: &T) -> Result<Value> {
    serde_json::to_value(x)
        .map_err(|e| Error::invalid(format!("internal: cannot serialize a model: {e}")))
}

fn special(id: u32, content: &str) -> Value {
    json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
           "normalized": false, "special": true})
}

/// A BERT tokenizer from `vocab.txt` (one token per line, id = line number).
pub fn wordpiece_from_vocab(vocab_txt: &Path, o: &WordPieceOptions) -> Result<Tokenizer> {
    let model = WordPiece::from_vocab_txt(vocab_txt, &o.unk_token, &o.prefix, 100)?;
    let id = |t: &str| {
        model.token_to_id(t).ok_or_else(|| Error::Format {
            file: vocab_txt.display().to_string(),
            json_path: "-".into(),
            message: format!("the special token {t:?} is not in the vocabulary"),
        })
    };
    let (cls, sep) = (id(&o.cls_token)?, id(&o.sep_token)?);
    let mut added = Vec::new();
    for t in [
        &o.pad_token,
        &o.unk_token,
        &o.cls_token,
        &o.sep_token,
        &o.mask_token,
    ] {
        if let Some(i) = model.token_to_id(t) {
            added.push(special(i, t));
        }
    }
    added.sort_by_key(|v| v["id"].as_u64());
    let doc = json!({
        "version": "1.0",
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": o.clean_text,
                       "handle_chinese_chars": o.tokenize_chinese_chars,
                       "strip_accents": o.strip_accents, "lowercase": o.lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "model": merge_type(to_value(&model)?, "WordPiece"),
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": o.cls_token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": o.sep_token, "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": o.cls_token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": o.sep_token, "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": o.sep_token, "type_id": 1}}],
            "special_tokens": {
                o.cls_token.clone(): {"id": o.cls_token, "ids": [cls], "tokens": [o.cls_token]},
                o.sep_token.clone(): {"id": o.sep_token, "ids": [sep], "tokens": [o.sep_token]}}},
        "decoder": {"type": "WordPiece", "prefix": o.prefix, "cleanup": true},
    });
    Tokenizer::from_json(&doc.to_string(), &vocab_txt.display().to_string())
}

/// A GPT-2 style byte-level BPE tokenizer from `vocab.json` + `merges.txt`; `special_tokens`
/// (e.g. `<|endoftext|>`) become added special tokens.
pub fn byte_level_bpe_from_files(
    vocab_json: &Path,
    merges_txt: &Path,
    add_prefix_space: bool,
    special_tokens: &[String],
) -> Result<Tokenizer> {
    let model = Bpe::from_files(vocab_json, merges_txt)?;
    let mut added = Vec::new();
    let mut next = model.vocab_size() as u32;
    for t in special_tokens {
        let id = model.token_to_id(t).unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        added.push(special(id, t));
    }
    let doc = json!({
        "version": "1.0",
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": true, "use_regex": true},
        "model": merge_type(to_value(&model)?, "BPE"),
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    });
    Tokenizer::from_json(&doc.to_string(), &vocab_json.display().to_string())
}

/// Models serialize without their `type` tag when serialized on their own.
fn merge_type(mut v: Value, type_name: &str) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.insert("type".into(), Value::String(type_name.into()));
    }
    v
}
