//! WordLevel: the simplest model, one vocabulary lookup per pre-tokenized piece. A piece that is
//! in the vocabulary is one token; any other piece is one `unk_token`. It never splits a piece, so
//! the pre-tokenizer decides what a "word" is.
//!
//! ```
//! use ferroformers_core::models::{word_level::WordLevel, Model};
//!
//! let vocab = [("<unk>", 0), ("hello", 1)].map(|(t, id)| (t.to_string(), id));
//! let model = WordLevel::new(vocab, "<unk>").unwrap();
//! assert_eq!(model.tokenize("hello").unwrap()[0].id, 1);
//! assert_eq!(model.tokenize("world").unwrap()[0].value, "<unk>");
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Model, OrderedVocab, Token, VocabTable};
use crate::{Error, Result};

/// A WordLevel model. Deserializes from (and serializes to) the `model` object of a
/// `tokenizer.json` with `"type": "WordLevel"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "WordLevelConfig", into = "WordLevelConfig")]
pub struct WordLevel {
    vocab: VocabTable,
    unk_token: String,
}

impl WordLevel {
    /// Builds a model from `(token, id)` entries. The unknown token need not be in the
    /// vocabulary until a piece needs it (Hugging Face fails only then, too).
    pub fn new(
        vocab: impl IntoIterator<Item = (String, u32)>,
        unk_token: impl Into<String>,
    ) -> Result<WordLevel> {
        let vocab =
            VocabTable::from_entries(vocab.into_iter().collect()).map_err(Error::invalid)?;
        Ok(WordLevel {
            vocab,
            unk_token: unk_token.into(),
        })
    }

    pub fn unk_token(&self) -> &str {
        &self.unk_token
    }

    /// The id of `piece`, or of the unknown token when `piece` is not in the vocabulary.
    fn lookup(&self, piece: &str) -> Result<(u32, bool)> {
        if let Some(id) = self.vocab.id(piece) {
            return Ok((id, true));
        }
        let unk = &self.unk_token;
        let id = self.vocab.id(unk).ok_or_else(|| {
            Error::Model(format!(
                "WordLevel: unk_token {unk:?} is not in the vocabulary, but {piece:?} needs it"
            ))
        })?;
        Ok((id, false))
    }
}

impl Model for WordLevel {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        let (id, known) = self.lookup(piece)?;
        let value = if known { piece } else { &self.unk_token };
        Ok(vec![Token::new(id, value.to_owned(), (0, piece.len()))])
    }

    fn tokenize_ids(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        out.push(self.lookup(piece)?.0);
        Ok(())
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab.token(id)
    }

    fn vocab(&self) -> HashMap<String, u32> {
        self.vocab.to_hash_map()
    }

    fn vocab_size(&self) -> usize {
        self.vocab.len()
    }
}

fn default_unk_token() -> String {
    "<unk>".to_string()
}

/// The `model` object of a `tokenizer.json` with `"type": "WordLevel"`, in Hugging Face's key
/// order (`vocab`, then `unk_token`).
#[derive(Serialize, Deserialize)]
struct WordLevelConfig {
    /// Checked when present; the `ModelWrapper` enum already consumes it when dispatching.
    #[serde(rename = "type", default, skip_serializing)]
    kind: Option<String>,
    vocab: OrderedVocab,
    #[serde(default = "default_unk_token")]
    unk_token: String,
}

impl TryFrom<WordLevelConfig> for WordLevel {
    type Error = String;

    fn try_from(config: WordLevelConfig) -> std::result::Result<WordLevel, String> {
        if let Some(kind) = config.kind.as_deref().filter(|&k| k != "WordLevel") {
            return Err(format!("expected a WordLevel model, found type {kind:?}"));
        }
        Ok(WordLevel {
            vocab: VocabTable::from_entries(config.vocab.0)?,
            unk_token: config.unk_token,
        })
    }
}

impl From<WordLevel> for WordLevelConfig {
    fn from(model: WordLevel) -> WordLevelConfig {
        WordLevelConfig {
            kind: None,
            vocab: model.vocab.to_ordered(),
            unk_token: model.unk_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(vocab: &[&str], unk: &str) -> WordLevel {
        let vocab = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32));
        WordLevel::new(vocab, unk).unwrap()
    }

    #[test]
    fn known_pieces_are_one_token_and_others_are_unk() {
        let m = model(&["<unk>", "héllo", "world"], "<unk>");
        let t = m.tokenize("héllo").unwrap();
        assert_eq!(t, [Token::new(1, "héllo".into(), (0, 6))]);
        let t = m.tokenize("worlds").unwrap();
        assert_eq!(t, [Token::new(0, "<unk>".into(), (0, 6))]);
        let mut ids = Vec::new();
        m.tokenize_ids("world", &mut ids).unwrap();
        m.tokenize_ids("nope", &mut ids).unwrap();
        assert_eq!(ids, [2, 0]);
    }

    #[test]
    fn missing_unk_token_is_an_error_when_needed() {
        let m = model(&["a"], "[UNK]");
        assert_eq!(m.tokenize("a").unwrap()[0].id, 0);
        let err = m.tokenize("b").unwrap_err();
        assert!(
            matches!(&err, Error::Model(msg) if msg.contains("[UNK]")),
            "{err}"
        );
        assert!(m.tokenize_ids("b", &mut Vec::new()).is_err());
    }

    #[test]
    fn serializes_like_hugging_face() {
        let json = r#"{"type":"WordLevel","vocab":{"a":0,"<unk>":1},"unk_token":"<unk>"}"#;
        let wrapped: super::super::ModelWrapper = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&wrapped).unwrap(), json);
        let shuffled: WordLevel = serde_json::from_str(r#"{"vocab":{"<unk>":1,"a":0}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&shuffled).unwrap(),
            r#"{"vocab":{"a":0,"<unk>":1},"unk_token":"<unk>"}"#
        );
        assert_eq!(shuffled.vocab_size(), 2);
        assert_eq!(shuffled.id_to_token(1), Some("<unk>"));
        assert!(serde_json::from_str::<WordLevel>(r#"{"type":"BPE","vocab":{}}"#).is_err());
    }
}
