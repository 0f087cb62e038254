//! WordPiece, as BERT uses it and Hugging Face `tokenizers` runs it: greedy longest-match-first
//! from the left, every sub-token after the first looked up with the `##` prefix. A piece that
//! cannot be covered this way, or is longer than `max_input_chars_per_word` chars, becomes a
//! single unknown token. The longest match is one lookup when the whole candidate is a token,
//! and otherwise one walk down a byte trie of the vocabulary (never a lookup per shorter prefix).
//! The ids-only path caches each word's ids.
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

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::piece_cache::PieceIdsCache;
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
/// `tokenizer.json` with `"type": "WordPiece"`. A clone starts with an empty cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "WordPieceConfig", into = "WordPieceConfig")]
pub struct WordPiece {
    vocab: VocabTable,
    options: WordPieceOptions,
    /// The longest vocabulary entry in bytes: candidates longer than it cannot match, so the
    /// longest-match search starts there instead of at the end of the piece.
    max_token_len: usize,
    /// The vocabulary as byte tries, for the longest match when the longest candidate misses.
    tries: VocabTries,
    /// Ids of whole words, for the ids-only path: a word's ids (`[UNK]` included) depend on
    /// nothing else, and a hit replaces the lookups and trie walks of its split.
    ids_cache: PieceIdsCache,
}

impl WordPiece {
    /// The ids of a word the ids cache does not hold, appended to `out` and stored in the cache.
    fn tokenize_word_uncached(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        let mark = out.len();
        if self.too_long(piece) || !self.split_greedy(piece, |id, _, _| out.push(id)) {
            out.truncate(mark);
            out.push(self.unk_id(piece)?);
        }
        self.ids_cache.insert(piece.as_bytes(), &out[mark..]);
        Ok(())
    }

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

    /// Forgets the cached ids (they stay valid; this only frees memory).
    pub fn clear_cache(&mut self) {
        self.ids_cache.clear();
    }

    fn from_table(vocab: VocabTable, options: WordPieceOptions) -> WordPiece {
        let max_token_len = vocab.max_token_len();
        let tries = VocabTries::new(&vocab, &options.continuing_subword_prefix);
        WordPiece {
            vocab,
            options,
            max_token_len,
            tries,
            ids_cache: PieceIdsCache::new(),
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
        // One buffer holds the candidate (prefix included), cut to the trie's match on a miss.
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
            // The longest candidate is a whole word most of the time: one lookup. When it
            // misses, one walk down the trie finds the longest token that starts here (what
            // Hugging Face finds by dropping one char at a time and looking up each prefix).
            if let Some(id) = self.vocab.id(&candidate) {
                emit(id, &candidate, (start, end));
                start = end;
                continue;
            }
            let Some((id, len)) = self
                .tries
                .longest_match(start > 0, &piece.as_bytes()[start..end])
            else {
                return false;
            };
            end = start + len;
            candidate.truncate(key_prefix.len() + len);
            emit(id, &candidate, (start, end));
            start = end;
        }
        true
    }
}

/// Two byte tries over the vocabulary: every token, for the first piece of a word, and the
/// tokens that start with the continuing-subword prefix (prefix removed), for the pieces after.
/// A node's children live in one hash map keyed by `(node, byte)`; a node that ends a token
/// holds its id.
#[derive(Debug, Clone)]
struct VocabTries {
    children: FxHashMap<(u32, u8), u32>,
    token_ids: Vec<Option<u32>>,
    word_start_root: u32,
    continuation_root: u32,
}

impl VocabTries {
    fn new(vocab: &VocabTable, prefix: &str) -> VocabTries {
        let mut tries = VocabTries {
            children: FxHashMap::default(),
            token_ids: vec![None, None],
            word_start_root: 0,
            continuation_root: 1,
        };
        for (token, id) in vocab.entries() {
            tries.insert(tries.word_start_root, token.as_bytes(), id);
            if let Some(rest) = token.strip_prefix(prefix) {
                tries.insert(tries.continuation_root, rest.as_bytes(), id);
            }
        }
        tries
    }

    fn insert(&mut self, root: u32, bytes: &[u8], id: u32) {
        let mut node = root;
        for &byte in bytes {
            let next = self.token_ids.len() as u32;
            node = *self.children.entry((node, byte)).or_insert(next);
            if node == next {
                self.token_ids.push(None);
            }
        }
        if node != root {
            self.token_ids[node as usize] = Some(id);
        }
    }

    /// The id and byte length of the longest token that `text` starts with, among the tokens
    /// that may continue a word (`continuation`) or start one.
    fn longest_match(&self, continuation: bool, text: &[u8]) -> Option<(u32, usize)> {
        let mut node = if continuation {
            self.continuation_root
        } else {
            self.word_start_root
        };
        let mut longest = None;
        for (i, &byte) in text.iter().enumerate() {
            let Some(&child) = self.children.get(&(node, byte)) else {
                break;
            };
            node = child;
            if let Some(id) = self.token_ids[node as usize] {
                longest = Some((id, i + 1));
            }
        }
        longest
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
        if self.ids_cache.extend_with_ids(piece.as_bytes(), out) {
            return Ok(());
        }
        self.tokenize_word_uncached(piece, out)
    }

    fn tokenize_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.ids_cache
            .extend_with_pieces(text.as_bytes(), pieces, out, |a, b, out| {
                self.tokenize_word_uncached(&text[a..b], out)
            })
    }

    fn tokenize_piece_runs_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
    ) -> Result<()> {
        self.ids_cache.extend_with_piece_runs(
            text.as_bytes(),
            pieces,
            run_ends,
            out,
            out_ends,
            |a, b, out| self.tokenize_word_uncached(&text[a..b], out),
        )
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

    #[test]
    fn cached_ids_agree_with_tokens_on_real_words() {
        // Words of several languages (and glued runs of them, some over the 100-char limit), by
        // the cached ids path (twice in parallel: misses, then hits; once more after
        // `clear_cache`) and by the uncached token path.
        use rayon::prelude::*;
        let words = real_words(20_000, &[4, 30]);
        for name in ["bert-uncased", "bert-cased-wordpiece"] {
            let mut model = shared_model(name);
            let unk = model.token_to_id("[UNK]").unwrap();
            let expected: Vec<Vec<u32>> = words
                .iter()
                .map(|w| model.tokenize(w).unwrap().iter().map(|t| t.id).collect())
                .collect();
            assert!(
                expected.iter().any(|ids| ids == &[unk]),
                "{name}: no [UNK] word"
            );
            assert!(
                expected.iter().any(|ids| ids.len() > 7),
                "{name}: no long split"
            );
            // The first word whose cached ids differ, if any.
            let first_difference = |model: &WordPiece| {
                let cached: Vec<Vec<u32>> = words
                    .par_iter()
                    .map(|w| {
                        let mut out = Vec::new();
                        model.tokenize_ids(w, &mut out).unwrap();
                        out
                    })
                    .collect();
                let at = cached.iter().zip(&expected).position(|(c, e)| c != e);
                at.map(|i| (name, words[i].as_str()))
            };
            assert_eq!(first_difference(&model), None);
            assert_eq!(first_difference(&model), None);
            assert_eq!(first_difference(&model.clone()), None);
            model.clear_cache();
            assert_eq!(first_difference(&model), None);

            // All the words as the pieces of one text, looked up as a pipeline: from an empty
            // cache (misses stored as they come), then from a full one.
            let mut text = String::new();
            let mut pieces = Vec::new();
            for w in &words {
                pieces.push((text.len(), text.len() + w.len()));
                text.push_str(w);
            }
            let expected_ids: Vec<u32> = expected.concat();
            model.clear_cache();
            for round in ["cold", "warm"] {
                let mut out = Vec::new();
                model.tokenize_pieces_ids(&text, &pieces, &mut out).unwrap();
                assert!(out == expected_ids, "{name}, {round} cache: ids differ");
            }
        }
    }

    /// Hugging Face's loop, as written: drop one char at a time until the candidate is a token.
    fn split_by_dropping_chars(model: &WordPiece, piece: &str) -> Option<Vec<(u32, usize)>> {
        let prefix = &model.options.continuing_subword_prefix;
        let mut out = Vec::new();
        let mut start = 0;
        while start < piece.len() {
            let mut end = piece.len();
            let found = loop {
                if end <= start {
                    break None;
                }
                let head = if start > 0 { prefix.as_str() } else { "" };
                if let Some(id) = model.vocab.id(&format!("{head}{}", &piece[start..end])) {
                    break Some(id);
                }
                end = piece[..end].char_indices().last().unwrap().0;
            };
            out.push((found?, end));
            start = end;
        }
        Some(out)
    }

    const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

    /// Runs of letters and digits as a BERT pre-tokenizer leaves them (`per_language` of each
    /// of 5 languages, lowercased), and the same runs glued `n` at a time for each `n` in
    /// `glued` (long words that split into many pieces).
    fn real_words(per_language: usize, glued: &[usize]) -> Vec<String> {
        let mut words = Vec::new();
        for lang in ["en", "de", "pl", "ru", "zh"] {
            let text = std::fs::read_to_string(format!("{SHARED}/corpus/{lang}.txt")).unwrap();
            let runs: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(per_language)
                .collect();
            words.extend(runs.iter().map(|w| w.to_lowercase()));
            for &n in glued {
                words.extend(runs.chunks(n).map(|c| c.concat()));
            }
        }
        words
    }

    /// The WordPiece model of a shared `tokenizer.json`.
    fn shared_model(name: &str) -> WordPiece {
        let json =
            std::fs::read_to_string(format!("{SHARED}/tokenizers/{name}/tokenizer.json")).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        serde_json::from_value(value["model"].clone()).unwrap()
    }

    #[test]
    fn trie_walk_finds_what_dropping_chars_finds_on_real_vocabularies() {
        let words = real_words(3000, &[4]);
        for name in ["bert-uncased", "bert-cased-wordpiece"] {
            let model = shared_model(name);
            let mut split = 0;
            for word in &words {
                let mut ours = Vec::new();
                let found = model.split_greedy(word, |id, _, (_, end)| ours.push((id, end)));
                let expected = split_by_dropping_chars(&model, word);
                assert_eq!(found.then_some(ours), expected, "{name}: {word:?}");
                split += usize::from(expected.is_some_and(|e| e.len() > 1));
            }
            assert!(
                split > 1000,
                "{name}: only {split} words split into several pieces"
            );
        }
    }
}
