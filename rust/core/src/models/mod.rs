//! Models turn one pre-tokenized piece of text into tokens: [`bpe::Bpe`] (byte-level and
//! SentencePiece-style), [`wordpiece::WordPiece`], [`unigram::Unigram`], [`word_level::WordLevel`].

pub mod bpe;
mod piece_cache;
pub(crate) use piece_cache::KEY_READ_BYTES;
pub mod unigram;
pub mod word_level;
pub mod wordpiece;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Result;

/// One token produced by a model: its id, its text, and its byte offsets inside the piece that
/// was tokenized (not inside the whole input: the tokenizer maps them back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: u32,
    pub value: String,
    pub offsets: (usize, usize),
}

impl Token {
    pub fn new(id: u32, value: String, offsets: (usize, usize)) -> Self {
        Token { id, value, offsets }
    }
}

/// The model stage: vocabulary plus the algorithm that splits a piece into vocabulary entries.
pub trait Model {
    /// Tokenize one piece (already normalized and pre-tokenized). Offsets are byte offsets in `piece`.
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>>;
    /// Append the ids of `piece`'s tokens to `out`: the same ids as [`Model::tokenize`], without
    /// building the tokens' strings and offsets (the ids-only encoding path).
    fn tokenize_ids(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        out.extend(self.tokenize(piece)?.into_iter().map(|t| t.id));
        Ok(())
    }
    /// [`Model::tokenize_ids`] of a `ByteLevel` piece given as its raw text, before the rewrite
    /// of every byte as a printable char (see [`crate::utils::byte_to_char`]); `mapped` is a
    /// scratch buffer for that rewrite. Models may cache by the raw text and skip the rewrite.
    fn tokenize_byte_level_ids(
        &self,
        raw: &str,
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        crate::utils::byte_level_spelling(raw, mapped);
        self.tokenize_ids(mapped, out)
    }
    /// [`Model::tokenize_ids`] of each piece `text[a..b]` of `pieces`, in order, with the same
    /// ids. A model with a cache may look the pieces up as a pipeline (see
    /// [`piece_cache::PieceIdsCache::extend_with_pieces`]); `text` may run past the last piece
    /// (zero padding that lets the cache read keys in whole words), and only the pieces are
    /// tokenized.
    fn tokenize_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        out: &mut Vec<u32>,
    ) -> Result<()> {
        for &(a, b) in pieces {
            self.tokenize_ids(&text[a..b], out)?;
        }
        Ok(())
    }
    /// [`Model::tokenize_pieces_ids`] for raw `ByteLevel` pieces: each piece's ids are those of
    /// [`Model::tokenize_byte_level_ids`].
    fn tokenize_byte_level_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        for &(a, b) in pieces {
            self.tokenize_byte_level_ids(&text[a..b], mapped, out)?;
        }
        Ok(())
    }
    /// [`Model::tokenize_pieces_ids`] of the pieces of many texts in one `text`, in runs: after
    /// the pieces up to each of `run_ends` (ascending piece counts), `out`'s length is pushed
    /// to `out_ends`. A model with a cache runs one lookup pipeline through all of them.
    fn tokenize_piece_runs_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
    ) -> Result<()> {
        let mut start = 0;
        for &end in run_ends {
            self.tokenize_pieces_ids(text, &pieces[start..end], out)?;
            out_ends.push(out.len());
            start = end;
        }
        Ok(())
    }
    /// [`Model::tokenize_piece_runs_ids`] for raw `ByteLevel` pieces.
    fn tokenize_byte_level_piece_runs_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        mapped: &mut String,
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
    ) -> Result<()> {
        let mut start = 0;
        for &end in run_ends {
            self.tokenize_byte_level_pieces_ids(text, &pieces[start..end], mapped, out)?;
            out_ends.push(out.len());
            start = end;
        }
        Ok(())
    }
    fn token_to_id(&self, token: &str) -> Option<u32>;
    fn id_to_token(&self, id: u32) -> Option<&str>;
    fn vocab(&self) -> HashMap<String, u32>;
    fn vocab_size(&self) -> usize;
}

/// `tokenizer.json`'s `model` object, dispatched on its `type` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ModelWrapper {
    #[serde(rename = "BPE")]
    Bpe(bpe::Bpe),
    WordPiece(wordpiece::WordPiece),
    Unigram(unigram::Unigram),
    WordLevel(word_level::WordLevel),
}

impl ModelWrapper {
    pub const SUPPORTED: &'static [&'static str] = &["BPE", "WordPiece", "Unigram", "WordLevel"];

    fn inner(&self) -> &dyn Model {
        match self {
            ModelWrapper::Bpe(m) => m,
            ModelWrapper::WordPiece(m) => m,
            ModelWrapper::Unigram(m) => m,
            ModelWrapper::WordLevel(m) => m,
        }
    }
}

impl Model for ModelWrapper {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        self.inner().tokenize(piece)
    }
    fn tokenize_ids(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        self.inner().tokenize_ids(piece, out)
    }
    fn tokenize_byte_level_ids(
        &self,
        raw: &str,
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.inner().tokenize_byte_level_ids(raw, mapped, out)
    }
    fn tokenize_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.inner().tokenize_pieces_ids(text, pieces, out)
    }
    fn tokenize_byte_level_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.inner()
            .tokenize_byte_level_pieces_ids(text, pieces, mapped, out)
    }
    fn tokenize_piece_runs_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
    ) -> Result<()> {
        self.inner()
            .tokenize_piece_runs_ids(text, pieces, run_ends, out, out_ends)
    }
    fn tokenize_byte_level_piece_runs_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        mapped: &mut String,
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
    ) -> Result<()> {
        self.inner()
            .tokenize_byte_level_piece_runs_ids(text, pieces, run_ends, mapped, out, out_ends)
    }
    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner().token_to_id(token)
    }
    fn id_to_token(&self, id: u32) -> Option<&str> {
        self.inner().id_to_token(id)
    }
    fn vocab(&self) -> HashMap<String, u32> {
        self.inner().vocab()
    }
    fn vocab_size(&self) -> usize {
        self.inner().vocab_size()
    }
}

/// The token ↔ id tables shared by every model: a hash map for `token → id` and a vector indexed
/// by id for `id → token`, so building the output tokens is one index per token.
#[derive(Debug, Clone, Default)]
pub(crate) struct VocabTable {
    ids: rustc_hash::FxHashMap<String, u32>,
    tokens: Vec<Option<String>>,
}

impl VocabTable {
    /// Builds the tables from `(token, id)` entries in file order. As in Hugging Face (which
    /// collects them into a hash map), a token listed twice keeps its last id; when two tokens
    /// share an id, `id → token` keeps the later one.
    pub(crate) fn from_entries(entries: Vec<(String, u32)>) -> std::result::Result<Self, String> {
        let max_id = entries.iter().map(|&(_, id)| id as usize).max();
        let slots = max_id.map_or(0, |m| m + 1);
        // The id → token vector is sized by the largest id; refuse vocabularies whose ids are so
        // sparse that it would waste gigabytes (no real vocabulary has such holes).
        if slots > 4 * entries.len() + (1 << 20) {
            return Err(format!(
                "vocabulary ids are too sparse: {} tokens but the largest id is {}",
                entries.len(),
                slots - 1
            ));
        }
        let mut ids = rustc_hash::FxHashMap::default();
        ids.reserve(entries.len());
        for (token, id) in &entries {
            ids.insert(token.clone(), *id);
        }
        let mut tokens = vec![None; slots];
        for (token, id) in entries {
            if ids.get(&token) == Some(&id) {
                tokens[id as usize] = Some(token);
            }
        }
        Ok(VocabTable { ids, tokens })
    }

    pub(crate) fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    pub(crate) fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize)?.as_deref()
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Every `(token, id)` pair, in no particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, u32)> {
        self.ids.iter().map(|(t, &id)| (t.as_str(), id))
    }

    /// The longest token, in bytes.
    pub(crate) fn max_token_len(&self) -> usize {
        self.ids.keys().map(String::len).max().unwrap_or(0)
    }

    pub(crate) fn to_hash_map(&self) -> HashMap<String, u32> {
        self.ids.iter().map(|(t, &id)| (t.clone(), id)).collect()
    }

    /// The entries in id order, as `tokenizer.json` writes them.
    pub(crate) fn to_ordered(&self) -> OrderedVocab {
        OrderedVocab(
            self.tokens
                .iter()
                .enumerate()
                .filter_map(|(id, t)| Some((t.clone()?, id as u32)))
                .collect(),
        )
    }
}

/// A `vocab` JSON object (`{"token": id, ...}`) kept in file order, so that loading keeps the
/// "last duplicate wins" rule and saving writes the tokens in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OrderedVocab(pub(crate) Vec<(String, u32)>);

impl Serialize for OrderedVocab {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (token, id) in &self.0 {
            map.serialize_entry(token, id)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedVocab {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVocabVisitor;
        impl<'de> serde::de::Visitor<'de> for OrderedVocabVisitor {
            type Value = OrderedVocab;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object mapping each token to its integer id")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedVocab, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((token, id)) = map.next_entry::<String, u32>()? {
                    entries.push((token, id));
                }
                Ok(OrderedVocab(entries))
            }
        }
        deserializer.deserialize_map(OrderedVocabVisitor)
    }
}
