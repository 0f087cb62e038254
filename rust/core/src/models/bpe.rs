//! Byte-Pair Encoding, as Hugging Face `tokenizers` runs it: both the byte-level flavour (GPT-2,
//! RoBERTa: the vocabulary is written in the GPT-2 byte alphabet) and the SentencePiece flavour
//! (Llama: `▁` for spaces, `<0xNN>` byte-fallback tokens, a fused `<unk>`).
//!
//! A piece is split into chars, each char looked up in the vocabulary, and then adjacent symbols
//! are merged, lowest merge rank first (leftmost first on ties), until no adjacent pair has a
//! merge. The merging runs on a linked list of symbols with a binary heap of candidate merges, so
//! a word of `n` chars costs `O(n log n)`. Long pieces (a run of one char, a line with no spaces)
//! are merged rank by rank instead, with one bucket of positions per rank: see
//! [`Bpe::merge_symbols_rank_by_rank`].
//!
//! ```
//! use ferroformers_core::models::{bpe::{Bpe, BpeOptions}, Model};
//!
//! let vocab = [("a", 0), ("b", 1), ("ab", 2)].map(|(t, id)| (t.to_string(), id));
//! let merges = vec![("a".to_string(), "b".to_string())];
//! let bpe = Bpe::new(vocab, merges, BpeOptions::default()).unwrap();
//! let tokens = bpe.tokenize("aba").unwrap();
//! assert_eq!(tokens.iter().map(|t| t.value.as_str()).collect::<Vec<_>>(), ["ab", "a"]);
//! assert_eq!(tokens[1].offsets, (2, 3));
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::piece_cache::{PieceCache, PieceIdsCache};
use super::{Model, OrderedVocab, Token, VocabTable};
use crate::{Error, Result};

/// The options of a BPE model besides its vocabulary and merges (the `tokenizer.json` fields of
/// the same names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BpeOptions {
    /// Token for chars that are not in the vocabulary; without one such chars are dropped.
    pub unk_token: Option<String>,
    /// Prefix of every symbol that does not start the piece (e.g. `##`).
    pub continuing_subword_prefix: Option<String>,
    /// Suffix of the symbol that ends the piece (e.g. `</w>`).
    pub end_of_word_suffix: Option<String>,
    /// Fuse consecutive unknown chars into one `unk_token`.
    pub fuse_unk: bool,
    /// Spell unknown chars as their UTF-8 bytes (`<0xNN>` tokens) when the vocabulary has them.
    pub byte_fallback: bool,
    /// A piece that is itself in the vocabulary becomes that one token, without merging.
    pub ignore_merges: bool,
}

/// A BPE model. Deserializes from (and serializes to) the `model` object of a `tokenizer.json`
/// with `"type": "BPE"`.
/// A clone starts with empty caches (the caches' `Clone` makes them empty).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "BpeConfig", into = "BpeConfig")]
pub struct Bpe {
    vocab: VocabTable,
    /// `(left id, right id) → (rank, merged id)`.
    merges: FxHashMap<(u32, u32), (u32, u32)>,
    /// Every merge that uses a token ranks after every merge that makes it, as in any merge list
    /// that training wrote: then a merge never creates a pair of its own rank or lower, which
    /// the rank-by-rank merge of long pieces relies on.
    merges_ranked_after_parts: bool,
    options: BpeOptions,
    /// `None` when there is no `unk_token`, `Some(None)` when it is not in the vocabulary (an
    /// error only once a piece needs it, as in Hugging Face).
    unk_id: Option<Option<u32>>,
    /// The id of `<0xNN>` for each byte, when `byte_fallback` is on.
    byte_ids: Option<Box<[Option<u32>; 256]>>,
    /// The id of each byte's byte-level char (`Ġ` for a space, …), when every one is a token and
    /// no prefix or suffix applies: a long raw piece then starts merging from its bytes, without
    /// the rewrite into chars and a char decoded and looked up per symbol.
    byte_level_char_ids: Option<Box<[u32; 256]>>,
    /// The longest piece that can come out as one token without merging: the vocabulary's
    /// longest token with `ignore_merges`, else 0.
    longest_whole_piece: usize,
    /// What `dropout` was read as: only `null` or `0.0` are accepted, and written back as read.
    dropout: Option<f32>,
    cache: PieceCache<(u32, u32)>,
    /// Ids of byte-level pieces keyed by their raw text (before the byte → char rewrite), for the
    /// ids-only path: a hit skips the rewrite and the second lookup, and is one cache line for
    /// most pieces.
    raw_ids_cache: PieceIdsCache,
}

impl Bpe {
    /// The ids of a raw byte-level piece the cache does not hold, appended to `out` and stored
    /// in the cache.
    fn tokenize_raw_piece_uncached(
        &self,
        raw: &str,
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        if let Some(char_ids) = self.long_piece_char_ids(raw) {
            // Longer than any cache key: not cached, as on the path below.
            self.merge_raw_bytes(raw.as_bytes(), char_ids, out);
            return Ok(());
        }
        crate::utils::byte_level_spelling(raw, mapped);
        let start = out.len();
        self.tokenize_ids(mapped, out)?;
        self.raw_ids_cache.insert(raw.as_bytes(), &out[start..]);
        Ok(())
    }

    /// [`Bpe::byte_level_char_ids`] when `raw` is long enough to merge rank by rank and cannot be
    /// one token of the vocabulary (its spelling is at least as long as its bytes), so that
    /// merging its bytes gives exactly what spelling it and [`Model::tokenize_ids`] give.
    fn long_piece_char_ids(&self, raw: &str) -> Option<&[u32; 256]> {
        let long = raw.len() >= Self::RANK_BY_RANK_MIN_SYMBOLS && self.merges_ranked_after_parts;
        let not_a_token = raw.len() > self.longest_whole_piece;
        self.byte_level_char_ids
            .as_deref()
            .filter(|_| long && not_a_token)
    }

    /// The ids of the byte-level piece `raw`, merged from one symbol per byte (`char_ids`).
    fn merge_raw_bytes(&self, raw: &[u8], char_ids: &[u32; 256], out: &mut Vec<u32>) {
        let mut symbols = Vec::with_capacity(raw.len());
        for &byte in raw {
            push_symbol(&mut symbols, char_ids[usize::from(byte)], 1);
        }
        self.merge_symbols_rank_by_rank(&mut symbols);
        out.extend(symbols.iter().filter(|s| s.len != 0).map(|s| s.id));
    }

    /// Builds a model from `(token, id)` entries, merges in rank order, and options.
    ///
    /// Fails when a merge's parts or its result are not in the vocabulary.
    pub fn new(
        vocab: impl IntoIterator<Item = (String, u32)>,
        merges: Vec<(String, String)>,
        options: BpeOptions,
    ) -> Result<Bpe> {
        let vocab =
            VocabTable::from_entries(vocab.into_iter().collect()).map_err(Error::invalid)?;
        Bpe::from_parts(vocab, merges, options).map_err(Error::invalid)
    }

    /// Loads the legacy GPT-2 files: `vocab.json` (token → id) and `merges.txt` (an optional
    /// `#version` first line, then one `left right` merge per line), with default options.
    pub fn from_files(vocab_json: &Path, merges_txt: &Path) -> Result<Bpe> {
        let (vocab, merges) = Bpe::read_files(vocab_json, merges_txt)?;
        let vocab = VocabTable::from_entries(vocab).map_err(|m| format_error(vocab_json, "", m))?;
        Bpe::from_parts(vocab, merges, BpeOptions::default())
            .map_err(|m| format_error(merges_txt, "", m))
    }

    /// Reads the legacy GPT-2 files into vocabulary entries (file order) and merges (rank
    /// order), for [`Bpe::new`] with other options.
    #[allow(clippy::type_complexity)]
    pub fn read_files(
        vocab_json: &Path,
        merges_txt: &Path,
    ) -> Result<(Vec<(String, u32)>, Vec<(String, String)>)> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
        };
        let vocab: OrderedVocab = serde_json::from_str(&read(vocab_json)?)
            .map_err(|e| format_error(vocab_json, "", e.to_string()))?;
        let mut merges = Vec::new();
        for (index, line) in read(merges_txt)?.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() || (index == 0 && line.starts_with("#version")) {
                continue;
            }
            let merge = split_merge_line(line)
                .map_err(|m| format_error(merges_txt, &format!("line {}", index + 1), m))?;
            merges.push(merge);
        }
        Ok((vocab.0, merges))
    }

    pub fn options(&self) -> &BpeOptions {
        &self.options
    }

    /// The merges in rank order, as `(left, right)` tokens.
    pub fn merges(&self) -> Vec<(String, String)> {
        let mut ranked: Vec<(u32, (u32, u32))> = self
            .merges
            .iter()
            .map(|(&pair, &(rank, _))| (rank, pair))
            .collect();
        ranked.sort_unstable();
        let text = |id: u32| self.vocab.token(id).unwrap_or_default().to_string();
        ranked
            .into_iter()
            .map(|(_, (left, right))| (text(left), text(right)))
            .collect()
    }

    /// Forgets the cached tokenizations (they stay valid; this only frees memory).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
        self.raw_ids_cache.clear();
    }

    fn from_parts(
        vocab: VocabTable,
        merges: Vec<(String, String)>,
        options: BpeOptions,
    ) -> std::result::Result<Bpe, String> {
        // Hugging Face builds the merged token as `left + right[prefix.len()..]`: it drops the
        // prefix's length from the right part whether or not that part starts with the prefix.
        let prefix_len = options
            .continuing_subword_prefix
            .as_deref()
            .map_or(0, str::len);
        let mut merge_map = FxHashMap::default();
        merge_map.reserve(merges.len());
        for (rank, (left, right)) in merges.iter().enumerate() {
            let describe = || format!("merge #{rank} {left:?} + {right:?}");
            let id = |token: &str, what: &str| {
                vocab.id(token).ok_or_else(|| {
                    format!("{}: {what} {token:?} is not in the vocabulary", describe())
                })
            };
            let tail = right.get(prefix_len..).ok_or_else(|| {
                format!(
                    "{}: the right part is shorter than the continuing_subword_prefix",
                    describe()
                )
            })?;
            let merged = format!("{left}{tail}");
            let ids = (id(left, "left part")?, id(right, "right part")?);
            let merged_id = id(&merged, "merged token")?;
            // A pair listed twice keeps its last rank, as in Hugging Face.
            merge_map.insert(ids, (rank as u32, merged_id));
        }
        let merges_ranked_after_parts = merges_ranked_after_parts(&merge_map);
        let unk_id = options.unk_token.as_deref().map(|unk| vocab.id(unk));
        let byte_ids = options.byte_fallback.then(|| {
            let mut ids = Box::new([None; 256]);
            for (byte, slot) in ids.iter_mut().enumerate() {
                *slot = vocab.id(&format!("<0x{byte:02X}>"));
            }
            ids
        });
        let affixes = [
            &options.continuing_subword_prefix,
            &options.end_of_word_suffix,
        ];
        let byte_level_char_ids = if affixes
            .iter()
            .all(|a| a.as_deref().unwrap_or("").is_empty())
        {
            let chars = crate::utils::byte_to_char();
            let ids: Option<Vec<u32>> = chars
                .iter()
                .map(|c| vocab.id(c.encode_utf8(&mut [0; 4])))
                .collect();
            ids.and_then(|ids| Box::<[u32; 256]>::try_from(ids.into_boxed_slice()).ok())
        } else {
            None
        };
        let longest_whole_piece = if options.ignore_merges {
            vocab.max_token_len()
        } else {
            0
        };
        Ok(Bpe {
            vocab,
            merges: merge_map,
            merges_ranked_after_parts,
            options,
            unk_id,
            byte_ids,
            byte_level_char_ids,
            longest_whole_piece,
            dropout: None,
            cache: PieceCache::new(),
            raw_ids_cache: PieceIdsCache::new(),
        })
    }

    /// The initial symbols of `piece` as `(id, byte length)`: one per char found in the
    /// vocabulary, byte-fallback tokens, or `unk_token`s.
    fn initial_symbols(&self, piece: &str, symbols: &mut Vec<Symbol>) -> Result<()> {
        let prefix = self
            .options
            .continuing_subword_prefix
            .as_deref()
            .unwrap_or("");
        let suffix = self.options.end_of_word_suffix.as_deref().unwrap_or("");
        let mut key = String::new();
        // The pending unknown symbol: Hugging Face holds it back until the next char found in
        // the vocabulary (or the end), so that consecutive unknowns can be fused.
        let mut pending_unk: Option<(u32, usize)> = None;
        // The last chars looked up as themselves (no prefix or suffix) and their ids, replaced
        // in turn: a long piece is mostly a few chars again and again (an emoji is four byte
        // chars), and a vocabulary lookup hashes a string.
        let mut recent_chars: [Option<(char, Option<u32>)>; RECENT_CHARS] = [None; RECENT_CHARS];
        let mut oldest = 0;
        let mut chars = piece.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            let end = chars.peek().map_or(piece.len(), |&(i, _)| i);
            let is_first = start == 0;
            let is_last = end == piece.len();
            let char_len = c.len_utf8();
            let (lookup, id): (&str, _) =
                if (!is_first && !prefix.is_empty()) || (is_last && !suffix.is_empty()) {
                    key.clear();
                    if !is_first {
                        key.push_str(prefix);
                    }
                    key.push(c);
                    if is_last {
                        key.push_str(suffix);
                    }
                    (&key, self.vocab.id(&key))
                } else {
                    let plain = &piece[start..end];
                    let known = recent_chars.iter().flatten().find(|(seen, _)| *seen == c);
                    let id = match known {
                        Some(&(_, id)) => id,
                        None => {
                            let id = self.vocab.id(plain);
                            recent_chars[oldest] = Some((c, id));
                            oldest = (oldest + 1) % RECENT_CHARS;
                            id
                        }
                    };
                    (plain, id)
                };

            if let Some(id) = id {
                if let Some(unk) = pending_unk.take() {
                    push_symbol(symbols, unk.0, unk.1);
                }
                push_symbol(symbols, id, char_len);
                continue;
            }
            if let Some(byte_ids) = &self.byte_ids {
                // Hugging Face spells the looked-up text (prefix and suffix included) byte by
                // byte, each byte token one byte long, and leaves a pending unk where it is:
                // it lands after these byte tokens.
                let bytes: Option<Vec<u32>> =
                    lookup.bytes().map(|b| byte_ids[b as usize]).collect();
                if let Some(bytes) = bytes {
                    for id in bytes {
                        push_symbol(symbols, id, 1);
                    }
                    continue;
                }
            }
            let Some(unk_id) = self.unk_id else {
                // No unk_token: the char is dropped, and (as in Hugging Face) the offsets of the
                // symbols after it shift left by its length.
                continue;
            };
            let unk_id = unk_id.ok_or_else(|| {
                Error::Model(format!(
                    "BPE: unk_token {:?} is not in the vocabulary, but {c:?} needs it",
                    self.options.unk_token.as_deref().unwrap_or_default()
                ))
            })?;
            pending_unk = match pending_unk {
                Some((id, len)) if self.options.fuse_unk => Some((id, len + char_len)),
                Some((id, len)) => {
                    push_symbol(symbols, id, len);
                    Some((unk_id, char_len))
                }
                None => Some((unk_id, char_len)),
            };
        }
        if let Some((id, len)) = pending_unk {
            push_symbol(symbols, id, len);
        }
        Ok(())
    }

    /// Applies the merges to `symbols` in place: lowest rank first, leftmost first on ties.
    fn merge_symbols(&self, symbols: &mut [Symbol]) {
        // Heap entries are `(rank << 32 | position of the left symbol, merged id)`: 16 bytes, so
        // a long piece's heap stays small enough for the cache (pieces of 100k chars are all
        // heap traffic). Positions never move (a merge keeps the left symbol and unlinks the
        // right one), so comparing positions orders candidates left to right. An entry goes
        // stale when either symbol has changed; as in Hugging Face, it is recognised by the
        // pair no longer merging into the same id.
        let entry =
            |rank: u32, pos: u32, merged: u32| Reverse(((rank as u64) << 32 | pos as u64, merged));
        let mut heap: BinaryHeap<Reverse<(u64, u32)>> = symbols
            .windows(2)
            .enumerate()
            .filter_map(|(pos, w)| {
                let &(rank, merged) = self.merges.get(&(w[0].id, w[1].id))?;
                Some(entry(rank, pos as u32, merged))
            })
            .collect();
        while let Some(Reverse((k, merged))) = heap.pop() {
            let pos = k as u32;
            let left = symbols[pos as usize];
            if left.len == 0 || left.next == NONE {
                continue;
            }
            let right = symbols[left.next as usize];
            if self.merges.get(&(left.id, right.id)).map(|m| m.1) != Some(merged) {
                continue;
            }
            let merge_of = |pair: Pair| self.merges.get(&pair).copied();
            self.merge_at(symbols, pos, merged, merge_of, |rank, at, id| {
                heap.push(entry(rank, at, id))
            });
        }
    }

    /// Merges the symbol at `pos` with its right neighbour into `merged` (the left symbol keeps
    /// its slot, the right one is left with `len == 0`), and reports each pair the merged symbol
    /// now forms with a neighbour that has a merge, as `(rank, left position, merged id)`.
    /// `merge_of` looks a pair's merge up (`(rank, merged id)`).
    fn merge_at(
        &self,
        symbols: &mut [Symbol],
        pos: u32,
        merged: u32,
        mut merge_of: impl FnMut(Pair) -> Option<(u32, u32)>,
        mut new_pair: impl FnMut(u32, u32, u32),
    ) {
        let left = symbols[pos as usize];
        let right = symbols[left.next as usize];
        symbols[pos as usize] = Symbol {
            id: merged,
            prev: left.prev,
            next: right.next,
            len: left.len + right.len,
        };
        symbols[left.next as usize].len = 0;
        if right.next != NONE {
            let after = &mut symbols[right.next as usize];
            after.prev = pos;
            if let Some((rank, id)) = merge_of((merged, after.id)) {
                new_pair(rank, pos, id);
            }
        }
        if left.prev != NONE {
            let before = symbols[left.prev as usize].id;
            if let Some((rank, id)) = merge_of((before, merged)) {
                new_pair(rank, left.prev, id);
            }
        }
    }

    /// From this many symbols on, [`Bpe::merge_symbols_rank_by_rank`] replaces the heap.
    const RANK_BY_RANK_MIN_SYMBOLS: usize = 512;

    /// The same merges as [`Bpe::merge_symbols`], in the same order, for long pieces.
    ///
    /// The heap's order is (rank, position). When every merge that uses a token ranks after
    /// every merge that makes it (`merges_ranked_after_parts`), applying a merge only creates
    /// pairs of higher rank, so all the candidates of a rank are known once the lower ranks are
    /// done: the candidates can wait in one bucket per rank, and a bucket is sorted by position
    /// and applied left to right when its rank comes up. A pathological piece (`"a" * 100_000`,
    /// a megabyte of `^`) holds a few ranks with many positions each: buckets are sequential
    /// vectors where the heap's million entries were random accesses, several times faster. A
    /// bucket's entry is stale, as in the heap, when its pair no longer has its rank.
    fn merge_symbols_rank_by_rank(&self, symbols: &mut [Symbol]) {
        let mut queue = RankBuckets::default();
        // The last pairs looked up and their merges, replaced in turn: long runs of one char
        // ask for the same few pairs again and again (the pair a merge applies, then the pairs
        // it forms with its left and right neighbours), so fewer would miss every time.
        let mut recent: [Option<RecentMerge>; RECENT_MERGES] = [None; RECENT_MERGES];
        let mut oldest = 0;
        let mut merge_of = |pair: Pair| {
            if let Some((_, merge)) = recent.iter().flatten().find(|(p, _)| *p == pair) {
                return *merge;
            }
            let merge = self.merges.get(&pair).copied();
            recent[oldest] = Some((pair, merge));
            oldest = (oldest + 1) % RECENT_MERGES;
            merge
        };
        for (pos, w) in symbols.windows(2).enumerate() {
            if let Some((rank, _)) = merge_of((w[0].id, w[1].id)) {
                queue.push(rank, pos as u32);
            }
        }
        while let Some((rank, mut positions)) = queue.pop() {
            positions.sort_unstable();
            for &pos in &positions {
                let left = symbols[pos as usize];
                if left.len == 0 || left.next == NONE {
                    continue;
                }
                let right = symbols[left.next as usize];
                let Some((pair_rank, merged)) = merge_of((left.id, right.id)) else {
                    continue;
                };
                if pair_rank != rank {
                    continue;
                }
                self.merge_at(symbols, pos, merged, &mut merge_of, |new_rank, at, _| {
                    debug_assert!(new_rank > rank);
                    queue.push(new_rank, at);
                });
            }
            queue.recycle(positions);
        }
    }

    /// The merged word of `piece`, as `(id, byte length)` per token.
    fn merge_word(&self, piece: &str) -> Result<Vec<(u32, u32)>> {
        let mut symbols = Vec::with_capacity(piece.len());
        self.initial_symbols(piece, &mut symbols)?;
        if symbols.len() >= Self::RANK_BY_RANK_MIN_SYMBOLS && self.merges_ranked_after_parts {
            self.merge_symbols_rank_by_rank(&mut symbols);
        } else {
            self.merge_symbols(&mut symbols);
        }
        Ok(symbols
            .iter()
            .filter(|s| s.len != 0)
            .map(|s| (s.id, s.len))
            .collect())
    }

    fn to_tokens(&self, word: &[(u32, u32)]) -> Vec<Token> {
        let mut start = 0usize;
        word.iter()
            .map(|&(id, len)| {
                let end = start + len as usize;
                let value = self.vocab.token(id).unwrap_or_default().to_string();
                let token = Token::new(id, value, (start, end));
                start = end;
                token
            })
            .collect()
    }
}

const NONE: u32 = u32::MAX;

/// One symbol of the word being merged, linked to its live neighbours. A symbol merged into its
/// left neighbour keeps its slot with `len == 0`.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    id: u32,
    prev: u32,
    next: u32,
    len: u32,
}

/// Two adjacent token ids, the key of a merge.
type Pair = (u32, u32);
/// A pair looked up, with its merge's rank and new id if it has one.
type RecentMerge = (Pair, Option<(u32, u32)>);
/// How many looked-up pairs [`Bpe::merge_symbols_rank_by_rank`] remembers.
const RECENT_MERGES: usize = 4;
/// How many looked-up chars [`Bpe::initial_symbols`] remembers.
const RECENT_CHARS: usize = 4;

/// Candidate merges of a long piece: the positions waiting at each rank, and the ranks that
/// have positions, smallest first.
#[derive(Default)]
struct RankBuckets {
    ranks: BinaryHeap<Reverse<u32>>,
    /// Rank → the index of its bucket in `buckets`.
    bucket_of_rank: FxHashMap<u32, usize>,
    buckets: Vec<Vec<u32>>,
    /// Indices of `buckets` that `pop` emptied, for new ranks.
    free: Vec<usize>,
    /// Emptied buckets, kept for their allocations.
    spare: Vec<Vec<u32>>,
    /// The two ranks pushed last and their buckets' indices: a run of one char pushes the same
    /// one or two ranks (a merge's left and right neighbour pairs) many times in a row, and
    /// this skips the map for all but the first of each.
    recent: [Option<(u32, usize)>; 2],
}

impl RankBuckets {
    fn push(&mut self, rank: u32, pos: u32) {
        let index = match self.recent {
            [Some((r, index)), _] if r == rank => index,
            [_, Some((r, index))] if r == rank => index,
            _ => {
                let index = match self.bucket_of_rank.get(&rank) {
                    Some(&index) => index,
                    None => self.new_bucket(rank),
                };
                self.recent = [Some((rank, index)), self.recent[0]];
                index
            }
        };
        self.buckets[index].push(pos);
    }

    fn new_bucket(&mut self, rank: u32) -> usize {
        self.ranks.push(Reverse(rank));
        let bucket = self.spare.pop().unwrap_or_default();
        let index = match self.free.pop() {
            Some(index) => {
                self.buckets[index] = bucket;
                index
            }
            None => {
                self.buckets.push(bucket);
                self.buckets.len() - 1
            }
        };
        self.bucket_of_rank.insert(rank, index);
        index
    }

    /// The lowest rank and its positions (in the order they were pushed).
    fn pop(&mut self) -> Option<(u32, Vec<u32>)> {
        let Reverse(rank) = self.ranks.pop()?;
        // Every queued rank has a bucket; were one missing, its rank would just hold nothing,
        // as before, rather than end the merging.
        let Some(index) = self.bucket_of_rank.remove(&rank) else {
            return Some((rank, Vec::new()));
        };
        for slot in &mut self.recent {
            if slot.is_some_and(|(r, _)| r == rank) {
                *slot = None;
            }
        }
        self.free.push(index);
        Some((rank, std::mem::take(&mut self.buckets[index])))
    }

    fn recycle(&mut self, mut positions: Vec<u32>) {
        positions.clear();
        self.spare.push(positions);
    }
}

/// Whether every merge that uses a token ranks after every merge that makes it (see
/// `Bpe::merges_ranked_after_parts`).
fn merges_ranked_after_parts(merges: &FxHashMap<(u32, u32), (u32, u32)>) -> bool {
    let mut last_made: FxHashMap<u32, u32> = FxHashMap::default();
    let mut first_used: FxHashMap<u32, u32> = FxHashMap::default();
    for (&(left, right), &(rank, merged)) in merges {
        let made = last_made.entry(merged).or_insert(rank);
        *made = (*made).max(rank);
        for part in [left, right] {
            let used = first_used.entry(part).or_insert(rank);
            *used = (*used).min(rank);
        }
    }
    last_made
        .iter()
        .all(|(token, &made)| first_used.get(token).is_none_or(|&used| used > made))
}

/// Symbol positions and lengths are `u32` (half the memory of `usize`, which long pieces feel):
/// a piece is far below 4 GiB.
fn push_symbol(symbols: &mut Vec<Symbol>, id: u32, len: usize) {
    let index = symbols.len() as u32;
    let len = len as u32;
    let prev = match symbols.last_mut() {
        Some(last) => {
            last.next = index;
            index - 1
        }
        None => NONE,
    };
    symbols.push(Symbol {
        id,
        prev,
        next: NONE,
        len,
    });
}

impl Model for Bpe {
    fn tokenize(&self, piece: &str) -> Result<Vec<Token>> {
        if piece.is_empty() {
            return Ok(Vec::new());
        }
        if self.options.ignore_merges {
            // Hugging Face looks up the bare piece here, without prefix or suffix.
            if let Some(id) = self.vocab.id(piece) {
                return Ok(vec![Token::new(id, piece.to_string(), (0, piece.len()))]);
            }
        }
        if let Some(tokens) = self
            .cache
            .get(piece.as_bytes(), |word| self.to_tokens(word))
        {
            return Ok(tokens);
        }
        let word = self.merge_word(piece)?;
        let tokens = self.to_tokens(&word);
        self.cache.insert(piece.as_bytes(), word);
        Ok(tokens)
    }

    fn tokenize_ids(&self, piece: &str, out: &mut Vec<u32>) -> Result<()> {
        if piece.is_empty() {
            return Ok(());
        }
        if self.options.ignore_merges {
            if let Some(id) = self.vocab.id(piece) {
                out.push(id);
                return Ok(());
            }
        }
        let cached = self.cache.get(piece.as_bytes(), |word| {
            out.extend(word.iter().map(|&(id, _)| id))
        });
        if cached.is_some() {
            return Ok(());
        }
        let word = self.merge_word(piece)?;
        out.extend(word.iter().map(|&(id, _)| id));
        self.cache.insert(piece.as_bytes(), word);
        Ok(())
    }

    fn tokenize_byte_level_ids(
        &self,
        raw: &str,
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        if self.raw_ids_cache.extend_with_ids(raw.as_bytes(), out) {
            return Ok(());
        }
        self.tokenize_raw_piece_uncached(raw, mapped, out)
    }

    fn tokenize_byte_level_pieces_ids(
        &self,
        text: &str,
        pieces: &[(usize, usize)],
        mapped: &mut String,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.raw_ids_cache
            .extend_with_pieces(text.as_bytes(), pieces, out, |a, b, out| {
                self.tokenize_raw_piece_uncached(&text[a..b], mapped, out)
            })
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
        self.raw_ids_cache.extend_with_piece_runs(
            text.as_bytes(),
            pieces,
            run_ends,
            out,
            out_ends,
            |a, b, out| self.tokenize_raw_piece_uncached(&text[a..b], mapped, out),
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

impl std::fmt::Debug for Bpe {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Bpe")
            .field("options", &self.options)
            .field("vocab_size", &self.vocab.len())
            .field("merges", &self.merges.len())
            .finish()
    }
}

fn format_error(path: &Path, location: &str, message: String) -> Error {
    Error::Format {
        file: path.display().to_string(),
        json_path: location.to_string(),
        message,
    }
}

/// Splits a legacy `"left right"` merge. Hugging Face requires exactly one space.
fn split_merge_line(line: &str) -> std::result::Result<(String, String), String> {
    match line.split(' ').collect::<Vec<_>>()[..] {
        [left, right] => Ok((left.to_string(), right.to_string())),
        _ => Err(format!(
            "merge {line:?} must be two tokens separated by a single space"
        )),
    }
}

/// The `model` object of a `tokenizer.json` with `"type": "BPE"`, field for field.
#[derive(Serialize, Deserialize)]
struct BpeConfig {
    /// Checked when present; the `ModelWrapper` enum already consumes it when dispatching.
    #[serde(rename = "type", default, skip_serializing)]
    kind: Option<String>,
    #[serde(default)]
    dropout: Option<f32>,
    #[serde(default)]
    unk_token: Option<String>,
    #[serde(default)]
    continuing_subword_prefix: Option<String>,
    #[serde(default)]
    end_of_word_suffix: Option<String>,
    /// The flags may be missing or `null` (older files): both mean `false`.
    #[serde(default)]
    fuse_unk: Option<bool>,
    #[serde(default)]
    byte_fallback: Option<bool>,
    #[serde(default)]
    ignore_merges: Option<bool>,
    vocab: OrderedVocab,
    merges: MergeList,
}

/// `merges`: read as `"left right"` strings (older files) or `["left", "right"]` pairs, written
/// as pairs (tokens may contain spaces).
#[derive(Serialize)]
struct MergeList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for MergeList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<MergeEntry>::deserialize(deserializer)?;
        Ok(MergeList(entries.into_iter().map(|e| e.0).collect()))
    }
}

struct MergeEntry((String, String));

impl<'de> Deserialize<'de> for MergeEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MergeEntryVisitor;
        impl<'de> serde::de::Visitor<'de> for MergeEntryVisitor {
            type Value = MergeEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a merge: \"left right\" or [\"left\", \"right\"]")
            }
            fn visit_str<E: serde::de::Error>(self, line: &str) -> Result<MergeEntry, E> {
                split_merge_line(line).map(MergeEntry).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<MergeEntry, A::Error> {
                use serde::de::Error as _;
                let wrong = || A::Error::custom("a merge pair must hold exactly two strings");
                let left: String = seq.next_element()?.ok_or_else(wrong)?;
                let right: String = seq.next_element()?.ok_or_else(wrong)?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(wrong());
                }
                Ok(MergeEntry((left, right)))
            }
        }
        deserializer.deserialize_any(MergeEntryVisitor)
    }
}

impl TryFrom<BpeConfig> for Bpe {
    type Error = String;

    fn try_from(config: BpeConfig) -> std::result::Result<Bpe, String> {
        if let Some(kind) = config.kind.as_deref().filter(|&k| k != "BPE") {
            return Err(format!("expected a BPE model, found type {kind:?}"));
        }
        match config.dropout {
            None => {}
            Some(0.0) => {}
            Some(p) if p > 0.0 && p <= 1.0 => {
                return Err(format!(
                    "BPE dropout is not supported (dropout = {p}): ferroformers tokenizes \
                     deterministically; set \"dropout\" to null"
                ))
            }
            Some(p) => {
                return Err(format!(
                    "invalid BPE dropout {p}: it must be between 0 and 1"
                ))
            }
        }
        let options = BpeOptions {
            unk_token: config.unk_token,
            continuing_subword_prefix: config.continuing_subword_prefix,
            end_of_word_suffix: config.end_of_word_suffix,
            fuse_unk: config.fuse_unk.unwrap_or(false),
            byte_fallback: config.byte_fallback.unwrap_or(false),
            ignore_merges: config.ignore_merges.unwrap_or(false),
        };
        let vocab = VocabTable::from_entries(config.vocab.0)?;
        let mut bpe = Bpe::from_parts(vocab, config.merges.0, options)?;
        bpe.dropout = config.dropout;
        Ok(bpe)
    }
}

impl From<Bpe> for BpeConfig {
    fn from(bpe: Bpe) -> BpeConfig {
        let merges = MergeList(bpe.merges());
        let vocab = bpe.vocab.to_ordered();
        let options = bpe.options;
        BpeConfig {
            kind: None,
            dropout: bpe.dropout,
            unk_token: options.unk_token,
            continuing_subword_prefix: options.continuing_subword_prefix,
            end_of_word_suffix: options.end_of_word_suffix,
            fuse_unk: Some(options.fuse_unk),
            byte_fallback: Some(options.byte_fallback),
            ignore_merges: Some(options.ignore_merges),
            vocab,
            merges,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpe(vocab: &[&str], merges: &[(&str, &str)], options: BpeOptions) -> Bpe {
        let vocab = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32));
        let merges = merges
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Bpe::new(vocab, merges, options).unwrap()
    }

    /// `(value, start, end)` of each token.
    fn tokens(model: &Bpe, piece: &str) -> Vec<(String, usize, usize)> {
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

    fn from_json(json: &str) -> std::result::Result<Bpe, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn merges_apply_lowest_rank_first() {
        // `b c` outranks `a b`, so "abc" becomes "a" + "bc", not "ab" + "c".
        let model = bpe(
            &["a", "b", "c", "ab", "bc"],
            &[("b", "c"), ("a", "b")],
            BpeOptions::default(),
        );
        assert_eq!(tokens(&model, "abc"), [t("a", 0, 1), t("bc", 1, 3)]);
        assert_eq!(tokens(&model, "abab"), [t("ab", 0, 2), t("ab", 2, 4)]);
    }

    #[test]
    fn equal_ranks_merge_leftmost_first() {
        let model = bpe(
            &["a", "aa", "aaaa"],
            &[("a", "a"), ("aa", "aa")],
            BpeOptions::default(),
        );
        assert_eq!(tokens(&model, "aaa"), [t("aa", 0, 2), t("a", 2, 3)]);
        assert_eq!(tokens(&model, "aaaaa"), [t("aaaa", 0, 4), t("a", 4, 5)]);
    }

    #[test]
    fn a_repeated_pair_keeps_its_last_rank() {
        // Hugging Face collects merges into a map: the second `b c` overwrites the first.
        let model = bpe(
            &["a", "b", "c", "ab", "bc"],
            &[("b", "c"), ("a", "b"), ("b", "c")],
            BpeOptions::default(),
        );
        assert_eq!(tokens(&model, "abc"), [t("ab", 0, 2), t("c", 2, 3)]);
        assert_eq!(
            model.merges(),
            [("a".into(), "b".into()), ("b".into(), "c".into())]
        );
    }

    #[test]
    fn long_words_merge_completely() {
        // 100k symbols take the rank-by-rank path; the result is what the heap gives.
        let model = bpe(
            &["a", "aa", "aaaa"],
            &[("a", "a"), ("aa", "aa")],
            BpeOptions::default(),
        );
        assert!(model.merges_ranked_after_parts);
        let out = model.tokenize(&"a".repeat(100_000)).unwrap();
        assert_eq!(out.len(), 25_000);
        assert!(out.iter().all(|t| t.value == "aaaa"));
        assert_eq!(out.last().unwrap().offsets, (99_996, 100_000));
        let (by_heap, by_rank) = both_merges(&model, &"a".repeat(100_001));
        assert_eq!(by_heap, by_rank);
        assert_eq!(by_rank.last(), Some(&(model.token_to_id("a").unwrap(), 1)));
    }

    /// A merged word: `(id, byte length)` per token.
    type Word = Vec<(u32, u32)>;

    /// `piece` merged by the heap and by the rank-by-rank buckets.
    fn both_merges(model: &Bpe, piece: &str) -> (Word, Word) {
        let merged = |rank_by_rank: bool| {
            let mut symbols = Vec::new();
            model.initial_symbols(piece, &mut symbols).unwrap();
            if rank_by_rank {
                model.merge_symbols_rank_by_rank(&mut symbols);
            } else {
                model.merge_symbols(&mut symbols);
            }
            symbols
                .iter()
                .filter(|s| s.len != 0)
                .map(|s| (s.id, s.len))
                .collect::<Vec<_>>()
        };
        (merged(false), merged(true))
    }

    #[test]
    fn merge_lists_are_checked_for_ranks_after_parts() {
        let trained = bpe(
            &["a", "b", "ab", "abb"],
            &[("a", "b"), ("ab", "b")],
            BpeOptions::default(),
        );
        assert!(trained.merges_ranked_after_parts);
        // "ab" is used (rank 0) before it is made (rank 1): long pieces keep the heap.
        let out_of_order = bpe(
            &["a", "b", "ab", "abb"],
            &[("ab", "b"), ("a", "b")],
            BpeOptions::default(),
        );
        assert!(!out_of_order.merges_ranked_after_parts);
        let out = out_of_order.tokenize(&"abb".repeat(1000)).unwrap();
        assert!(out.iter().all(|t| t.value == "abb"), "{:?}", &out[..3]);
        assert_eq!(out.len(), 1000);
    }

    /// A long raw piece merged from its bytes gives the ids of spelling it and tokenizing the
    /// spelling, on GPT-2's and a trained byte-level vocabulary: runs of one char (an emoji is
    /// four bytes), long paragraphs without spaces (en, zh), and pieces just at the threshold.
    #[test]
    fn long_raw_pieces_merged_from_bytes_match_their_spelling() {
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
        let corpus = std::fs::read_to_string(format!("{shared}/corpus/en.txt")).unwrap()
            + &std::fs::read_to_string(format!("{shared}/corpus/zh.txt")).unwrap();
        let paragraphs: Vec<String> = corpus
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<String>())
            .filter(|p| p.len() >= Bpe::RANK_BY_RANK_MIN_SYMBOLS)
            .take(100)
            .collect();
        assert_eq!(paragraphs.len(), 100);
        let runs = ["a", "^", "0", "\u{1F600}", "ab", " ", "é"].map(|c| c.repeat(2000));
        for name in ["gpt2", "roberta-style-bpe"] {
            let json =
                std::fs::read_to_string(format!("{shared}/tokenizers/{name}/tokenizer.json"))
                    .unwrap();
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let model: Bpe = serde_json::from_value(value["model"].clone()).unwrap();
            assert!(model.byte_level_char_ids.is_some(), "{name}");
            let at_threshold = "x".repeat(Bpe::RANK_BY_RANK_MIN_SYMBOLS);
            let below = &at_threshold[1..];
            assert!(model.long_piece_char_ids(&at_threshold).is_some());
            assert!(model.long_piece_char_ids(below).is_none());
            for raw in paragraphs
                .iter()
                .chain(&runs)
                .map(String::as_str)
                .chain([at_threshold.as_str()])
            {
                let char_ids = model.long_piece_char_ids(raw).expect("a long piece");
                let mut from_bytes = Vec::new();
                model.merge_raw_bytes(raw.as_bytes(), char_ids, &mut from_bytes);
                let mut spelled = String::new();
                crate::utils::byte_level_spelling(raw, &mut spelled);
                let mut from_chars = Vec::new();
                model.tokenize_ids(&spelled, &mut from_chars).unwrap();
                assert_eq!(
                    from_bytes,
                    from_chars,
                    "{name}: {:?}",
                    &raw[..raw.len().min(40)]
                );
            }
        }
    }

    #[test]
    fn rank_by_rank_merges_match_the_heap_on_real_vocabularies() {
        // GPT-2's real merges and the trained fixtures, on long pieces of real text (paragraphs
        // with their spaces removed, in the byte-level alphabet where the model has one) and on
        // runs of one char.
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
        let corpus = std::fs::read_to_string(format!("{shared}/corpus/en.txt")).unwrap()
            + &std::fs::read_to_string(format!("{shared}/corpus/zh.txt")).unwrap();
        let paragraphs: Vec<String> = corpus
            .split("\n\n")
            .filter(|p| p.len() > 600)
            .take(200)
            .map(|p| p.split_whitespace().collect())
            .collect();
        assert!(paragraphs.len() >= 100);
        for name in ["gpt2", "roberta-style-bpe", "llama-style-bpe"] {
            let json =
                std::fs::read_to_string(format!("{shared}/tokenizers/{name}/tokenizer.json"))
                    .unwrap();
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let model: Bpe = serde_json::from_value(value["model"].clone()).unwrap();
            assert!(model.merges_ranked_after_parts, "{name}");
            let byte_level = name != "llama-style-bpe";
            let runs = ["a", "^", "0", "\u{1F600}", "ab", " "].map(|c| c.repeat(3000));
            for raw in paragraphs
                .iter()
                .map(String::as_str)
                .chain(runs.iter().map(String::as_str))
            {
                let mut piece = String::new();
                if byte_level {
                    crate::utils::byte_level_spelling(raw, &mut piece);
                } else {
                    piece = raw.replace(' ', "\u{2581}");
                }
                let (by_heap, by_rank) = both_merges(&model, &piece);
                assert_eq!(by_heap, by_rank, "{name}: {:?}", &raw[..raw.len().min(40)]);
            }
        }
    }

    #[test]
    fn prefix_and_suffix_mark_inner_and_final_symbols() {
        let options = BpeOptions {
            continuing_subword_prefix: Some("##".into()),
            end_of_word_suffix: Some("</w>".into()),
            ..BpeOptions::default()
        };
        let model = bpe(
            &["a", "##b", "##c</w>", "ab", "abc</w>", "a</w>"],
            &[("a", "##b"), ("ab", "##c</w>")],
            options,
        );
        assert_eq!(tokens(&model, "abc"), [t("abc</w>", 0, 3)]);
        assert_eq!(tokens(&model, "a"), [t("a</w>", 0, 1)]);
        // The final "b" is looked up as "##b</w>", which is missing: dropped (no unk_token).
        assert_eq!(tokens(&model, "ab"), [t("a", 0, 1)]);
    }

    #[test]
    fn unknown_chars_become_unk_tokens() {
        let options = BpeOptions {
            unk_token: Some("<unk>".into()),
            ..BpeOptions::default()
        };
        let model = bpe(&["<unk>", "a", "b"], &[], options.clone());
        assert_eq!(
            tokens(&model, "accb"),
            [
                t("a", 0, 1),
                t("<unk>", 1, 2),
                t("<unk>", 2, 3),
                t("b", 3, 4)
            ]
        );
        let fused = bpe(
            &["<unk>", "a", "b"],
            &[],
            BpeOptions {
                fuse_unk: true,
                ..options
            },
        );
        assert_eq!(
            tokens(&fused, "aééb"),
            [t("a", 0, 1), t("<unk>", 1, 5), t("b", 5, 6)]
        );
    }

    #[test]
    fn without_unk_token_unknown_chars_are_dropped_and_offsets_shift() {
        // Hugging Face's offsets are running sums of the kept symbols' lengths.
        let model = bpe(&["a", "b"], &[], BpeOptions::default());
        assert_eq!(tokens(&model, "axb"), [t("a", 0, 1), t("b", 1, 2)]);
    }

    #[test]
    fn unk_token_missing_from_vocab_is_an_error_when_needed() {
        let options = BpeOptions {
            unk_token: Some("<unk>".into()),
            ..BpeOptions::default()
        };
        let model = bpe(&["a"], &[], options);
        assert_eq!(tokens(&model, "a"), [t("a", 0, 1)]);
        let err = model.tokenize("ax").unwrap_err();
        assert!(
            matches!(&err, Error::Model(m) if m.contains("<unk>")),
            "{err}"
        );
    }

    #[test]
    fn byte_fallback_spells_unknown_chars_as_bytes() {
        let options = BpeOptions {
            unk_token: Some("<unk>".into()),
            fuse_unk: true,
            byte_fallback: true,
            ..BpeOptions::default()
        };
        let model = bpe(&["<unk>", "<0xC3>", "<0xA9>", "a"], &[], options);
        // Each byte token is one byte long.
        assert_eq!(
            tokens(&model, "aé"),
            [t("a", 0, 1), t("<0xC3>", 1, 2), t("<0xA9>", 2, 3)]
        );
        // Without every byte token the char falls back to unk; as in Hugging Face, a pending
        // unk is only emitted at the next char found in the vocabulary, after byte tokens.
        assert_eq!(
            tokens(&model, "xéa"),
            [
                t("<0xC3>", 0, 1),
                t("<0xA9>", 1, 2),
                t("<unk>", 2, 3),
                t("a", 3, 4)
            ]
        );
    }

    #[test]
    fn ignore_merges_keeps_whole_pieces_found_in_the_vocab() {
        let vocab = ["a", "b", "c", "bc", "abc", "ab"];
        let merges = [("b", "c"), ("a", "bc")];
        let merging = bpe(&vocab, &merges, BpeOptions::default());
        assert_eq!(tokens(&merging, "ab"), [t("a", 0, 1), t("b", 1, 2)]);
        let options = BpeOptions {
            ignore_merges: true,
            ..BpeOptions::default()
        };
        let ignoring = bpe(&vocab, &merges, options);
        assert_eq!(tokens(&ignoring, "ab"), [t("ab", 0, 2)]);
        assert_eq!(tokens(&ignoring, "abcb"), [t("abc", 0, 3), t("b", 3, 4)]);
    }

    #[test]
    fn both_merge_formats_load_the_same_model() {
        let legacy = r#"{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}"#;
        let pairs = r#"{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}"#;
        let legacy = from_json(legacy).unwrap();
        let pairs = from_json(pairs).unwrap();
        assert_eq!(tokens(&legacy, "ab"), [t("ab", 0, 2)]);
        assert_eq!(legacy.merges(), pairs.merges());
        // Pairs can hold tokens with spaces, which the legacy format cannot.
        let spaced = r#"{"vocab":{"a":0,"b c":1,"ab c":2},"merges":[["a","b c"]]}"#;
        assert_eq!(from_json(spaced).unwrap().merges().len(), 1);
        let err = from_json(r#"{"vocab":{"a":0},"merges":["a b c"]}"#).unwrap_err();
        assert!(err.contains("single space"), "{err}");
    }

    #[test]
    fn merges_outside_the_vocab_are_rejected_by_name() {
        let err = from_json(r#"{"vocab":{"a":0,"b":1},"merges":[["a","b"]]}"#).unwrap_err();
        assert!(
            err.contains(r#"merge #0 "a" + "b""#) && err.contains(r#""ab""#),
            "{err}"
        );
        let err = from_json(r#"{"vocab":{"a":0,"ab":1},"merges":[["a","b"]]}"#).unwrap_err();
        assert!(err.contains(r#"right part "b""#), "{err}");
    }

    #[test]
    fn dropout_is_refused_unless_null_or_zero() {
        let base = r#""vocab":{"a":0},"merges":[]"#;
        assert!(from_json(&format!(r#"{{"dropout":null,{base}}}"#)).is_ok());
        let zero = from_json(&format!(r#"{{"dropout":0.0,{base}}}"#)).unwrap();
        assert!(serde_json::to_string(&zero)
            .unwrap()
            .contains(r#""dropout":0.0"#));
        let err = from_json(&format!(r#"{{"dropout":0.1,{base}}}"#)).unwrap_err();
        assert!(err.contains("BPE dropout is not supported"), "{err}");
        assert!(from_json(&format!(r#"{{"dropout":-1.0,{base}}}"#)).is_err());
    }

    #[test]
    fn missing_fields_default_as_in_hugging_face() {
        let model = from_json(r#"{"vocab":{"a":0},"merges":[],"fuse_unk":null}"#).unwrap();
        assert_eq!(model.options(), &BpeOptions::default());
        assert!(from_json(r#"{"vocab":{"a":0}}"#).is_err());
        assert!(from_json(r#"{"type":"WordPiece","vocab":{},"merges":[]}"#).is_err());
    }

    #[test]
    fn serializes_like_hugging_face() {
        // Vocab in id order, merges as pairs in rank order, every option written.
        let json = r#"{"dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":false,"ignore_merges":false,"vocab":{"<unk>":0,"a":1,"b":2,"ab":3},"merges":[["a","b"]]}"#;
        let shuffled = r#"{"merges":["a b"],"fuse_unk":true,"unk_token":"<unk>","vocab":{"ab":3,"b":2,"<unk>":0,"a":1}}"#;
        let model = from_json(shuffled).unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), json);
        let wrapped = serde_json::to_string(&super::super::ModelWrapper::Bpe(model)).unwrap();
        assert!(
            wrapped.starts_with(r#"{"type":"BPE","dropout":null,"#),
            "{wrapped}"
        );
        let back: super::super::ModelWrapper = serde_json::from_str(&wrapped).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), wrapped);
    }

    #[test]
    fn cached_results_agree_under_parallel_use() {
        use rayon::prelude::*;
        let mut model = bpe(
            &["a", "b", "ab", "abab"],
            &[("a", "b"), ("ab", "ab")],
            BpeOptions::default(),
        );
        let pieces: Vec<String> = (0..2000).map(|i| "ab".repeat(i % 50 + 1)).collect();
        let expected: Vec<Vec<Token>> = pieces.iter().map(|p| model.merge_word_tokens(p)).collect();
        let got: Vec<Vec<Token>> = pieces
            .par_iter()
            .map(|p| model.tokenize(p).unwrap())
            .collect();
        assert_eq!(got, expected);
        model.clear_cache();
        assert_eq!(model.tokenize("abab").unwrap(), expected[1]);
    }

    #[test]
    fn byte_level_ids_agree_with_merging_on_real_text() {
        // GPT-2's pieces of real text in several languages, tokenized by the cached ids path
        // (twice in parallel: misses, then hits; once more after `clear_cache`) and by merging
        // each piece without a cache.
        use crate::pre_tokenizers::byte_level::Gpt2Pieces;
        use rayon::prelude::*;
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
        let texts: Vec<String> = ["en", "de", "ru", "zh"]
            .map(|lang| std::fs::read_to_string(format!("{shared}/corpus/{lang}.txt")).unwrap())
            .into_iter()
            .chain(["a".repeat(3000), "\u{1F600}".repeat(10)])
            .collect();
        let pieces: Vec<&str> = texts
            .iter()
            .flat_map(|text| Gpt2Pieces::new(text).take(30_000).map(|(a, b)| &text[a..b]))
            .collect();
        let json =
            std::fs::read_to_string(format!("{shared}/tokenizers/gpt2/tokenizer.json")).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut model: Bpe = serde_json::from_value(value["model"].clone()).unwrap();
        let expected: Vec<Vec<u32>> = pieces
            .iter()
            .map(|raw| {
                let mut mapped = String::new();
                crate::utils::byte_level_spelling(raw, &mut mapped);
                let word = model.merge_word(&mapped).unwrap();
                word.iter().map(|&(id, _)| id).collect()
            })
            .collect();
        // Pieces of every kind: keys and id lists that fit a cache line, and ones that do not.
        assert!(pieces.iter().any(|p| p.len() > 24));
        assert!(expected.iter().any(|ids| ids.len() > 7));
        // The first piece whose cached ids differ, if any.
        let first_difference = |model: &Bpe| {
            let cached: Vec<Vec<u32>> = pieces
                .par_iter()
                .map_init(String::new, |mapped, raw| {
                    let mut out = Vec::new();
                    model
                        .tokenize_byte_level_ids(raw, mapped, &mut out)
                        .unwrap();
                    out
                })
                .collect();
            let at = cached.iter().zip(&expected).position(|(c, e)| c != e);
            at.map(|i| pieces[i])
        };
        assert_eq!(first_difference(&model), None);
        assert_eq!(first_difference(&model), None);
        assert_eq!(first_difference(&model.clone()), None);
        model.clear_cache();
        assert_eq!(first_difference(&model), None);

        // The pieces as the raw text they came from, looked up as a pipeline: from an empty
        // cache, then from a full one.
        let text: String = pieces.concat();
        let mut ranges = Vec::new();
        let mut at = 0;
        for p in &pieces {
            ranges.push((at, at + p.len()));
            at += p.len();
        }
        let expected_ids: Vec<u32> = expected.concat();
        model.clear_cache();
        for round in ["cold", "warm"] {
            let mut out = Vec::new();
            let mut mapped = String::new();
            model
                .tokenize_byte_level_pieces_ids(&text, &ranges, &mut mapped, &mut out)
                .unwrap();
            assert!(out == expected_ids, "{round} cache: ids differ");
        }
    }

    impl Bpe {
        /// Tokenizes without the cache, for comparison.
        fn merge_word_tokens(&self, piece: &str) -> Vec<Token> {
            self.to_tokens(&self.merge_word(piece).unwrap())
        }
    }

    #[test]
    fn loads_legacy_gpt2_files() {
        let dir = std::env::temp_dir().join(format!("ferroformers-bpe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vocab = dir.join("vocab.json");
        let merges = dir.join("merges.txt");
        std::fs::write(&vocab, r#"{"a": 0, "b": 1, "ab": 2}"#).unwrap();
        std::fs::write(&merges, "#version: 0.2\na b\n\n").unwrap();
        let model = Bpe::from_files(&vocab, &merges).unwrap();
        assert_eq!(tokens(&model, "ab"), [t("ab", 0, 2)]);
        assert_eq!(model.vocab_size(), 3);

        std::fs::write(&merges, "#version: 0.2\na b\nab\n").unwrap();
        let err = Bpe::from_files(&vocab, &merges).unwrap_err().to_string();
        assert!(
            err.contains("merges.txt") && err.contains("line 3"),
            "{err}"
        );
        std::fs::write(&merges, "a c\n").unwrap();
        let err = Bpe::from_files(&vocab, &merges).unwrap_err().to_string();
        assert!(
            err.contains("merges.txt") && err.contains(r#""c""#),
            "{err}"
        );
        let missing = dir.join("missing.json");
        let err = Bpe::from_files(&missing, &merges).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == &missing),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn model_trait_lookups() {
        let model = bpe(&["a", "b", "ab"], &[("a", "b")], BpeOptions::default());
        assert_eq!(model.token_to_id("ab"), Some(2));
        assert_eq!(model.id_to_token(1), Some("b"));
        assert_eq!(model.id_to_token(3), None);
        assert_eq!(model.vocab().len(), 3);
        assert!(model.tokenize("").unwrap().is_empty());
    }
}
