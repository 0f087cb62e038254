//! WordPiece, as BERT uses it and Hugging Face `tokenizers` runs it: greedy longest-match-first
//! from the left, every sub-token after the first looked up with the `##` prefix. A piece that
//! cannot be covered this way, or is longer than `max_input_chars_per_word` chars, becomes a
//! single unknown token.
//!
//! ```
//! use ferroformers_core::models::{wordpiece::{WordPiece, WordPieceOptions}, Model};
//!
//! let vocab = [("[UNK]", 0), ("play", 1), ("##ing", 2)].map(|(t, id)| (t.to_string(), id));
//! let wp = WordPiece::new(vocab, WordPieceOptions::default()).unwrap();
//! let tokens = wp.tokenize("playing").unwrap();
//! assert_eq!(tokens.iter().map(|t| t.value.as_str()).collect::<Vec<_>>(), ["play", "##ing"]);
//! assert_eq!(tokens[1].offsets, (4, 7));
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Model, OrderedVocab, Token, VocabTable};
use crate::{Error, Result};

/// The options of a WordPiece model besides its vocabulary (the `tokenizer.json` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordPieceOptions {
    pub unk_token: String,
    pub continuing_subword_prefix: String,
    pub max_input_chars_per_word: usize,
}

impl Default for WordPieceOptions {
    fn default() -> Self {
        WordPieceOptions {
            unk_token: "[UNK]".to_string(),
            continuing_subword_prefix: "##".to_string(),
            max_input_chars_per_word: 100,
        }
    }
}

/// A WordPiece model. Deserializes from (and serializes to) the `model` object of a
/// `tokenizer.json` with `"type": "WordPiece"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "WordPieceConfig", into = "WordPieceConfig")]
pub struct WordPiece {
    vocab: VocabTable,
    options: WordPieceOptions,
    /// The longest vocabulary entry in bytes: candidates longer than it cannot match, so the
    /// longest-match search starts there instead of at the end of the piece.
    max_token_len: usize,
}

impl WordPiece {
    /// Builds a model from `(token, id)` entries. The unknown token need not be in the
    /// vocabulary until a piece needs it.
    pub fn new(
        vocab: impl IntoIterator<Item = (String, u32)>,
        options: WordPieceOptions,
    ) -> Result<WordPiece> {
        let vocab =
            VocabTable::from_entries(vocab.into_iter().collect()).map_err(Error::invalid)?;
        Ok(WordPiece::from_table(vocab, options))
    }

    /// Loads a legacy BERT `vocab.txt`: one token per line (trailing whitespace removed), the
    /// id being the line number from 0.
    pub fn from_vocab_txt(
        path: &Path,
        unk_token: &str,
        continuing_subword_prefix: &str,
        max_input_chars_per_word: usize,
    ) -> Result<WordPiece> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let entries = text
            .lines()
            .enumerate()
            .map(|(line, token)| (token.trim_end().to_string(), line as u32))
            .collect();
        let vocab = VocabTable::from_entries(entries).map_err(|message| Error::Format {
            file: path.display().to_string(),
            json_path: String::new(),
            message,
        })?;
        let options = WordPieceOptions {
            unk_token: unk_token.to_string(),
            continuing_subword_prefix: continuing_subword_prefix.to_string(),
            max_input_chars_per_word,
        };
        Ok(WordPiece::from_table(vocab, options))
    }

    pub fn options(&self) -> &WordPieceOptions {
        &self.options
    }

    fn from_table(vocab: VocabTable, options: WordPieceOptions) -> WordPiece {
        let max_token_len = vocab.max_token_len();
        WordPiece {
            vocab,
            options,
            max_token_len,
        }
    }

    fn unknown(&self, piece: &str) -> Result<Vec<Token>> {
        let id = self.unk_id(piece)?;
        Ok(vec![Token::new(
            id,
            self.options.unk_token.clone(),
            (0, piece.len()),
        )])
    }

    fn unk_id(&self, piece: &str) -> Result<u32> {
        let unk = &self.options.unk_token;
        self.vocab.id(unk).ok_or_else(|| {
            Error::Model(format!(
                "WordPiece: unk_token {unk:?} is not in the vocabulary, but {piece:?} needs it"
            ))
        })
    }

    /// Whether `piece` is too long to split (it is then one unknown token).
    fn too_long(&self, piece: &str) -> bool {
        let max_chars = self.options.max_input_chars_per_word;
        piece.len() > max_chars && piece.chars().count() > max_chars
    }

    /// Greedy longest-match-first splitting: `emit(id, token text, byte range)` for each token, in
    /// order. Returns `false` when some part of `piece` matches nothing (the whole piece is then
    /// unknown, and what was emitted must be dropped).
    fn split_greedy(&self, piece: &str, mut emit: impl FnMut(u32, &str, (usize, usize))) -> bool {
        let prefix = self.options.continuing_subword_prefix.as_str();
        // One buffer holds the candidate (prefix included); a failed lookup pops its last char.
        let mut candidate = String::with_capacity(prefix.len() + piece.len());
        let mut start = 0;
        while start < piece.len() {
            let key_prefix = if start > 0 { prefix } else { "" };
            let room = self.max_token_len.saturating_sub(key_prefix.len());
            let mut end = piece.len().min(start + room);
            while !piece.is_char_boundary(end) {
                end -= 1;
            }
            candidate.clear();
            candidate.push_str(key_prefix);
            candidate.push_str(&piece[start..end]);
            let id = loop {
                if end <= start {
                    break None;
                }
                if let Some(id) = self.vocab.id(&candidate) {
                    break Some(id);
                }
                end -= candidate.pop().map_or(1, char::len_utf8);
            };
            let Some(id) = id else {
                return false;
            };
            emit(id, &candidate, (start, end));
            start = end;
        }
        true
    }
}

impl Model for WordPiece {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        if self.too_long(piece) {
            return self.unknown(piece);
        }
        let mut tokens = Vec::new();
        let found = self.split_greedy(piece, |id, text, offsets| {
            tokens.push(Token::new(id, text.to_owned(), offsets));
        });
        if !found {
            return self.unknown(piece);
        }
        Ok(tokens)
    }

    fn tokenize_ids(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        let mark = out.len();
        if self.too_long(piece) || !self.split_greedy(piece, |id, _, _| out.push(id)) {
            out.truncate(mark);
            out.push(self.unk_id(piece)?);
        }
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
    WordPieceOptions::default().unk_token
}

fn default_prefix() -> String {
    WordPieceOptions::default().continuing_subword_prefix
}

fn default_max_chars() -> usize {
    WordPieceOptions::default().max_input_chars_per_word
}

/// The `model` object of a `tokenizer.json` with `"type": "WordPiece"`, field for field.
/// Hugging Face requires every field; we fill missing ones with its builder's defaults.
#[derive(Serialize, Deserialize)]
struct WordPieceConfig {
    /// Checked when present; the `ModelWrapper` enum already consumes it when dispatching.
    #[serde(rename = "type", default, skip_serializing)]
    kind: Option<String>,
    #[serde(default = "default_unk_token")]
    unk_token: String,
    #[serde(default = "default_prefix")]
    continuing_subword_prefix: String,
    #[serde(default = "default_max_chars")]
    max_input_chars_per_word: usize,
    vocab: OrderedVocab,
}

impl TryFrom<WordPieceConfig> for WordPiece {
    type Error = String;

    fn try_from(config: WordPieceConfig) -> std::result::Result<WordPiece, String> {
        if let Some(kind) = config.kind.as_deref().filter(|&k| k != "WordPiece") {
            return Err(format!("expected a WordPiece model, found type {kind:?}"));
        }
        let vocab = VocabTable::from_entries(config.vocab.0)?;
        let options = WordPieceOptions {
            unk_token: config.unk_token,
            continuing_subword_prefix: config.continuing_subword_prefix,
            max_input_chars_per_word: config.max_input_chars_per_word,
        };
        Ok(WordPiece::from_table(vocab, options))
    }
}

impl From<WordPiece> for WordPieceConfig {
    fn from(wp: WordPiece) -> WordPieceConfig {
        WordPieceConfig {
            kind: None,
            vocab: wp.vocab.to_ordered(),
            unk_token: wp.options.unk_token,
            continuing_subword_prefix: wp.options.continuing_subword_prefix,
            max_input_chars_per_word: wp.options.max_input_chars_per_word,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wordpiece(vocab: &[&str], max_chars: usize) -> WordPiece {
        let vocab = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32));
        let options = WordPieceOptions {
            max_input_chars_per_word: max_chars,
            ..WordPieceOptions::default()
        };
        WordPiece::new(vocab, options).unwrap()
    }

    fn tokens(model: &WordPiece, piece: &str) -> Vec<(String, usize, usize)> {
        model
            .tokenize(piece)
            .unwrap()
            .into_iter()
            .map(|t| (t.value, t.offsets.0, t.offsets.1))
            .collect()
    }

    fn t(value: &str, start: usize, end: usize) -> (String, usize, usize) {
        (value.to_string(), start, end)
    }

    #[test]
    fn longest_match_first_from_the_left() {
        let model = wordpiece(&["[UNK]", "a", "aa", "##a", "##b", "##ab"], 100);
        assert_eq!(tokens(&model, "aaa"), [t("aa", 0, 2), t("##a", 2, 3)]);
        // Greedy: "aa" is taken first even though "a" + "##ab" would also cover "aab".
        assert_eq!(tokens(&model, "aab"), [t("aa", 0, 2), t("##b", 2, 3)]);
        assert!(tokens(&model, "").is_empty());
    }

    #[test]
    fn offsets_are_bytes_of_multibyte_chars() {
        let model = wordpiece(&["[UNK]", "é", "##é", "##ée"], 100);
        assert_eq!(tokens(&model, "éée"), [t("é", 0, 2), t("##ée", 2, 5)]);
    }

    #[test]
    fn an_uncoverable_piece_is_one_unk() {
        let model = wordpiece(&["[UNK]", "a", "##b"], 100);
        assert_eq!(tokens(&model, "abx"), [t("[UNK]", 0, 3)]);
        assert_eq!(tokens(&model, "ba"), [t("[UNK]", 0, 2)]);
    }

    #[test]
    fn pieces_over_max_chars_are_one_unk() {
        let model = wordpiece(&["[UNK]", "é", "##é"], 3);
        assert_eq!(tokens(&model, "ééé").len(), 3);
        assert_eq!(tokens(&model, "éééé"), [t("[UNK]", 0, 8)]);
    }

    #[test]
    fn missing_unk_token_is_an_error_when_needed() {
        let model = wordpiece(&["a"], 100);
        assert_eq!(tokens(&model, "a"), [t("a", 0, 1)]);
        let err = model.tokenize("b").unwrap_err();
        assert!(
            matches!(&err, Error::Model(m) if m.contains("[UNK]")),
            "{err}"
        );
    }

    #[test]
    fn serializes_like_hugging_face() {
        let json = r###"{"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[UNK]":0,"a":1,"##b":2}}"###;
        let shuffled = r###"{"type":"WordPiece","vocab":{"##b":2,"a":1,"[UNK]":0}}"###;
        let model: WordPiece = serde_json::from_str(shuffled).unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), json);
        assert_eq!(model.options(), &WordPieceOptions::default());
        let wrapped = serde_json::to_string(&super::super::ModelWrapper::WordPiece(model)).unwrap();
        assert!(
            wrapped.starts_with(r#"{"type":"WordPiece","unk_token""#),
            "{wrapped}"
        );
        assert!(serde_json::from_str::<WordPiece>(r#"{"type":"BPE","vocab":{}}"#).is_err());
    }

    #[test]
    fn loads_legacy_vocab_txt() {
        let path = std::env::temp_dir().join(format!("ferroformers-wp-{}.txt", std::process::id()));
        std::fs::write(&path, "[UNK]\nplay \n##ing\n").unwrap();
        let model = WordPiece::from_vocab_txt(&path, "[UNK]", "##", 100).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(model.vocab_size(), 3);
        assert_eq!(model.token_to_id("play"), Some(1));
        assert_eq!(model.id_to_token(2), Some("##ing"));
        assert_eq!(
            tokens(&model, "playing"),
            [t("play", 0, 4), t("##ing", 4, 7)]
        );
        let err = WordPiece::from_vocab_txt(&path, "[UNK]", "##", 100).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path: p, .. } if p == &path),
            "{err}"
        );
    }
}
