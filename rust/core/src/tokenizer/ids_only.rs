//! The ids-only encoding path: the same ids as [`Tokenizer::encode`], without the bookkeeping
//! that only tokens and offsets need.
//!
//! The full path carries every piece as a [`NormalizedString`] (the normalized text plus, for
//! each byte, the original range it came from) and every token as a `String` with offsets; when
//! only ids are wanted that bookkeeping is most of the work. Here pieces are plain `&str`s: added
//! tokens are matched as in the full path, the normalizer (if any) runs on each segment between
//! them (BERT's char by char straight into a `String`), the pre-tokenizers whose splits are plain string scans (`ByteLevel`,
//! `BertPreTokenizer`, none) cut the text, and the model appends ids to one buffer. Other
//! pre-tokenizers go through the full path and keep only its ids, so every tokenizer gets the
//! same answer either way; the parity tests hold both paths to Hugging Face's ids.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{EncodeInput, Encoding, InputSequence, NormalizedString, OffsetType, Tokenizer};
use crate::models::Model;
use crate::normalizers::{Normalizer, NormalizerWrapper};
use crate::pre_tokenizers::bert::is_bert_punctuation;
use crate::pre_tokenizers::byte_level::{gpt2_pieces_into, ByteLevel};
use crate::pre_tokenizers::PreTokenizerWrapper;
use crate::Result;

/// How a pre-tokenizer with a plain-string scan cuts a segment into pieces for the model.
enum Scanner<'a> {
    /// No pre-tokenizer: the segment is one piece.
    Whole,
    ByteLevel(&'a ByteLevel),
    Bert,
}

impl Scanner<'_> {
    fn of(pre_tokenizer: Option<&PreTokenizerWrapper>) -> Option<Scanner<'_>> {
        match pre_tokenizer {
            None => Some(Scanner::Whole),
            Some(PreTokenizerWrapper::ByteLevel(b)) => Some(Scanner::ByteLevel(b)),
            Some(PreTokenizerWrapper::BertPreTokenizer(_)) => Some(Scanner::Bert),
            Some(_) => None,
        }
    }

    /// Append the ids of `segment` (normalized, non-empty, free of added tokens) to `out`.
    /// `scratch` is reused across calls for the rewritten pieces.
    fn ids<M: Model + ?Sized>(
        &self,
        segment: &str,
        model: &M,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        match self {
            Scanner::Whole => model.tokenize_ids(segment, out),
            Scanner::Bert => {
                // Whitespace separates words and is dropped; each punctuation char is a word.
                let Scratch { text, pieces, .. } = scratch;
                bert_words(segment, pieces);
                text.clear();
                text.push_str(segment);
                text.push_str(KEY_PADDING);
                model.tokenize_pieces_ids(text, pieces, out)
            }
            Scanner::ByteLevel(options) => {
                let Scratch {
                    text,
                    mapped,
                    pieces,
                } = scratch;
                text.clear();
                if options.add_prefix_space && !segment.starts_with(' ') {
                    text.push(' ');
                }
                text.push_str(segment);
                // The model rewrites each piece's bytes as printable chars (or finds the piece's
                // ids by its raw text), as the full path's `ByteLevel` does.
                if !options.use_regex {
                    return model.tokenize_byte_level_ids(text, mapped, out);
                }
                let end = text.len();
                pieces.clear();
                gpt2_pieces_into(&text[..end], pieces);
                // Zero bytes past the last piece let the cache read every piece's key as whole
                // words (see `Model::tokenize_pieces_ids`).
                text.push_str(KEY_PADDING);
                model.tokenize_byte_level_pieces_ids(text, pieces, mapped, out)
            }
        }
    }
}

/// The word ranges of `segment` as BERT's pre-tokenizer splits it: whitespace separates words
/// and is dropped; each punctuation char is a word of its own.
fn bert_words(segment: &str, pieces: &mut Vec<(usize, usize)>) {
    pieces.clear();
    if segment.is_ascii() {
        bert_ascii_words(segment.as_bytes(), pieces);
    } else {
        bert_char_words(segment, pieces);
    }
}

/// [`bert_words`] a char at a time, for any text.
fn bert_char_words(segment: &str, pieces: &mut Vec<(usize, usize)>) {
    let mut word_start = None;
    for (i, c) in segment.char_indices() {
        let space = c.is_whitespace();
        if space || is_bert_punctuation(c) {
            if let Some(start) = word_start.take() {
                pieces.push((start, i));
            }
            if !space {
                pieces.push((i, i + c.len_utf8()));
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        pieces.push((start, segment.len()));
    }
}

/// How BERT's pre-tokenizer treats each ASCII byte: part of a word, a separator that is
/// dropped, or a punctuation char that is a word of its own. The same predicates as
/// [`bert_char_words`], read off once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BertByte {
    Word,
    Space,
    Punctuation,
}

static BERT_ASCII_BYTES: std::sync::LazyLock<[BertByte; 128]> = std::sync::LazyLock::new(|| {
    std::array::from_fn(|b| {
        let c = char::from(b as u8);
        if c.is_whitespace() {
            BertByte::Space
        } else if is_bert_punctuation(c) {
            BertByte::Punctuation
        } else {
            BertByte::Word
        }
    })
});

/// The word ranges of ASCII `bytes` as BERT's pre-tokenizer splits them, a table lookup a byte.
fn bert_ascii_words(bytes: &[u8], pieces: &mut Vec<(usize, usize)>) {
    let classes = &*BERT_ASCII_BYTES;
    let class = |i: usize| classes[usize::from(bytes[i] & 0x7f)];
    let mut i = 0;
    while i < bytes.len() {
        match class(i) {
            BertByte::Space => i += 1,
            BertByte::Punctuation => {
                pieces.push((i, i + 1));
                i += 1;
            }
            BertByte::Word => {
                let start = i;
                i += 1;
                while i < bytes.len() && class(i) == BertByte::Word {
                    i += 1;
                }
                pieces.push((start, i));
            }
        }
    }
}

/// Enough zero bytes after a segment for the longest key a piece cache reads in whole words.
const KEY_PADDING: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
const _: () = assert!(KEY_PADDING.len() == crate::models::KEY_READ_BYTES);

/// Buffers the scans reuse from segment to segment.
#[derive(Default)]
struct Scratch {
    /// The segment (with its prefix space, if `ByteLevel` adds one), then [`KEY_PADDING`].
    text: String,
    mapped: String,
    /// The byte ranges of the segment's pieces (BERT's words) in `text`.
    pieces: Vec<(usize, usize)>,
}

/// The buffers of [`Tokenizer::append_text_ids`] for one text.
#[derive(Default)]
struct TextScratch {
    raw_segments: Vec<(Option<u32>, (usize, usize))>,
    normalized_segments: Vec<(Option<u32>, (usize, usize))>,
    bert_normalized: String,
    scan: Scratch,
}

impl TextScratch {
    /// Buffers grown past this many bytes (by a long text) are dropped after it rather than
    /// kept by the thread.
    const KEPT_BYTES: usize = 1 << 16;

    fn trim(&mut self) {
        let bytes = self.scan.text.capacity()
            + self.scan.mapped.capacity()
            + self.bert_normalized.capacity()
            + 16 * self.scan.pieces.capacity()
            + 24 * (self.raw_segments.capacity() + self.normalized_segments.capacity());
        if bytes > Self::KEPT_BYTES {
            *self = TextScratch::default();
        }
    }
}

thread_local! {
    /// Each thread's buffers for the ids path, kept from text to text: a batch allocates them
    /// once per thread instead of several times per text.
    static TEXT_SCRATCH: RefCell<TextScratch> = RefCell::default();
}

/// How many texts [`Tokenizer::pooled_text_ids`] pools at a time: enough that starting the
/// pipeline is rare, few enough that the pooled text and pieces stay in the core's cache.
const POOLED_TEXTS: usize = 64;

/// At most this many bytes of text are pooled at a time (unless one text is longer): the pool's
/// buffers hold 16 bytes of piece bounds and some ids per piece, so a batch of long documents
/// pooled 64 at a time would hold many times the text.
const POOLED_BYTES: usize = 64 << 10;

/// Where the pool that starts at `texts[start]` ends: after [`POOLED_TEXTS`] texts or about
/// [`POOLED_BYTES`] bytes, whichever comes first, and always after at least one text.
fn pool_end(texts: &[Option<&str>], start: usize) -> usize {
    let mut bytes = 0;
    let mut end = start;
    while end < texts.len() && end - start < POOLED_TEXTS {
        bytes += texts[end].map_or(0, str::len);
        if end > start && bytes > POOLED_BYTES {
            break;
        }
        end += 1;
    }
    end
}

/// The buffers of [`Tokenizer::pooled_text_ids`]: the pooled texts' pieces in one text.
#[derive(Default)]
struct PoolScratch {
    /// The pooled texts as the scanner sees them (normalized, with `ByteLevel`'s prefix space),
    /// one after another, then [`KEY_PADDING`].
    text: String,
    pieces: Vec<(usize, usize)>,
    /// Per pooled text, the piece count at its end.
    run_ends: Vec<usize>,
    ids: Vec<u32>,
    /// Per pooled text, the id count at its end.
    id_ends: Vec<usize>,
    /// Per text given, whether it was pooled.
    pooled: Vec<bool>,
    normalized: String,
    mapped: String,
}

impl PoolScratch {
    fn clear(&mut self) {
        self.text.clear();
        self.pieces.clear();
        self.run_ends.clear();
        self.ids.clear();
        self.id_ends.clear();
        self.pooled.clear();
    }

    /// As [`TextScratch::trim`], with room for a full pool ([`POOLED_BYTES`] of text makes
    /// about four times that in piece bounds).
    fn trim(&mut self) {
        let bytes = self.text.capacity()
            + self.normalized.capacity()
            + self.mapped.capacity()
            + 16 * self.pieces.capacity()
            + 4 * self.ids.capacity()
            + 8 * (self.run_ends.capacity() + self.id_ends.capacity());
        if bytes > 16 * POOLED_BYTES {
            *self = PoolScratch::default();
        }
    }
}

thread_local! {
    static POOL_SCRATCH: RefCell<PoolScratch> = RefCell::default();
}

/// The texts [`Tokenizer::pooled_text_ids`] can pool: those a `ByteLevel` (regex) or BERT
/// pre-tokenizer cuts, after no normalizer or BERT's.
#[derive(Clone, Copy)]
enum Pool<'a> {
    ByteLevel(&'a ByteLevel),
    Bert,
}

impl Tokenizer {
    /// The ids of each of `texts` ([`Tokenizer::text_ids`]), handed to `each` in order as
    /// `each(index, Some(ids))`; texts this path does not take (`None`s, texts that may hold an
    /// added token, other pre-tokenizers or normalizers) come as `each(index, None)` for the
    /// caller to encode. The texts taken are cut into pieces into one text, a pool at a time
    /// (see [`pool_end`]), and the model looks all their pieces up in one pipeline: started afresh for
    /// every text, the pipeline's first lookups waited on memory each time.
    pub(super) fn pooled_text_ids(
        &self,
        texts: &[Option<&str>],
        mut each: impl FnMut(usize, Option<&[u32]>) -> Result<()>,
    ) -> Result<()> {
        let pool = match (Scanner::of(self.pre_tokenizer.as_ref()), &self.normalizer) {
            (Some(Scanner::ByteLevel(options)), None) if options.use_regex => {
                Pool::ByteLevel(options)
            }
            (Some(Scanner::Bert), None | Some(NormalizerWrapper::BertNormalizer(_))) => Pool::Bert,
            _ => return (0..texts.len()).try_for_each(|i| each(i, None)),
        };
        POOL_SCRATCH.with(|cell| {
            let Ok(mut scratch) = cell.try_borrow_mut() else {
                // Only `each` calling back into this path could get here.
                return (0..texts.len()).try_for_each(|i| each(i, None));
            };
            let mut done = Ok(());
            let mut start = 0;
            while start < texts.len() && done.is_ok() {
                let end = pool_end(texts, start);
                done = self.pool_texts(&texts[start..end], pool, &mut scratch, |i, ids| {
                    each(start + i, ids)
                });
                start = end;
            }
            scratch.trim();
            done
        })
    }

    fn pool_texts(
        &self,
        texts: &[Option<&str>],
        pool: Pool,
        scratch: &mut PoolScratch,
        mut each: impl FnMut(usize, Option<&[u32]>) -> Result<()>,
    ) -> Result<()> {
        scratch.clear();
        for text in texts {
            let pooled = text.is_some_and(|text| self.pool_text(text, pool, scratch));
            scratch.pooled.push(pooled);
        }
        let PoolScratch {
            text,
            pieces,
            run_ends,
            ids,
            id_ends,
            pooled,
            mapped,
            ..
        } = scratch;
        if !run_ends.is_empty() {
            text.push_str(KEY_PADDING);
            match pool {
                Pool::ByteLevel(_) => self.model.tokenize_byte_level_piece_runs_ids(
                    text, pieces, run_ends, mapped, ids, id_ends,
                )?,
                Pool::Bert => self
                    .model
                    .tokenize_piece_runs_ids(text, pieces, run_ends, ids, id_ends)?,
            }
        }
        let mut id_start = 0;
        let mut id_ends = id_ends.iter();
        for (i, &pooled) in pooled.iter().enumerate() {
            if pooled {
                let id_end = *id_ends.next().expect("one id end per pooled text");
                each(i, Some(&ids[id_start..id_end]))?;
                id_start = id_end;
            } else {
                each(i, None)?;
            }
        }
        Ok(())
    }

    /// Adds the pieces of `text` to the pool, as [`Tokenizer::append_scanned_ids`] would cut
    /// them; `false` (nothing added) for a text that may hold an added token or that BERT's
    /// normalizer cannot take without its general path.
    fn pool_text(&self, text: &str, pool: Pool, scratch: &mut PoolScratch) -> bool {
        if self.added_vocabulary.may_match_raw(text) {
            return false;
        }
        let segment = match &self.normalizer {
            None => text,
            Some(NormalizerWrapper::BertNormalizer(n))
                if n.normalize_without_alignments(text, &mut scratch.normalized) =>
            {
                scratch.normalized.as_str()
            }
            Some(_) => return false,
        };
        if self.added_vocabulary.may_match_normalized(segment) {
            return false;
        }
        // An empty segment has no ids (the full path drops it before the pre-tokenizer).
        if !segment.is_empty() {
            let start = scratch.text.len();
            let first_piece = scratch.pieces.len();
            match pool {
                Pool::ByteLevel(options) => {
                    if options.add_prefix_space && !segment.starts_with(' ') {
                        scratch.text.push(' ');
                    }
                    scratch.text.push_str(segment);
                    gpt2_pieces_into(&scratch.text[start..], &mut scratch.pieces);
                }
                Pool::Bert => {
                    scratch.text.push_str(segment);
                    let segment = &scratch.text[start..];
                    if segment.is_ascii() {
                        bert_ascii_words(segment.as_bytes(), &mut scratch.pieces);
                    } else {
                        bert_char_words(segment, &mut scratch.pieces);
                    }
                }
            }
            for piece in &mut scratch.pieces[first_piece..] {
                piece.0 += start;
                piece.1 += start;
            }
        }
        scratch.run_ends.push(scratch.pieces.len());
        true
    }

    /// The ids of one text, before truncation and special tokens: exactly the ids of the full
    /// path's encoding of `text`.
    pub(crate) fn text_ids(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.append_text_ids(text, &mut out)?;
        Ok(out)
    }

    /// [`Tokenizer::text_ids`], appended to `out`.
    pub(super) fn append_text_ids(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        let Some(scanner) = Scanner::of(self.pre_tokenizer.as_ref()) else {
            out.extend(self.encode_text(text, 0, None, OffsetType::Byte)?.ids);
            return Ok(());
        };
        TEXT_SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let done = self.append_scanned_ids(text, &scanner, &mut scratch, out);
                scratch.trim();
                done
            }
            // Only a model calling back into this path could get here; fresh buffers keep it
            // correct.
            Err(_) => self.append_scanned_ids(text, &scanner, &mut TextScratch::default(), out),
        })
    }

    fn append_scanned_ids(
        &self,
        text: &str,
        scanner: &Scanner,
        scratch: &mut TextScratch,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        let TextScratch {
            raw_segments,
            normalized_segments,
            bert_normalized,
            scan,
        } = scratch;
        self.added_vocabulary.raw_segments(text, raw_segments);
        for &(id, (a, b)) in raw_segments.iter() {
            if let Some(id) = id {
                out.push(id);
                continue;
            }
            // Empty pieces are dropped by the full path before any later stage sees them.
            if a == b {
                continue;
            }
            let normalized;
            let segment = match &self.normalizer {
                None => &text[a..b],
                Some(NormalizerWrapper::BertNormalizer(n))
                    if n.normalize_without_alignments(&text[a..b], bert_normalized) =>
                {
                    bert_normalized.as_str()
                }
                Some(n) => {
                    let mut s = NormalizedString::from(&text[a..b]);
                    n.normalize(&mut s)?;
                    normalized = s;
                    normalized.get()
                }
            };
            self.added_vocabulary
                .normalized_segments(segment, normalized_segments);
            for &(id, (c, d)) in normalized_segments.iter() {
                match id {
                    Some(id) => out.push(id),
                    None if c < d => scanner.ids(&segment[c..d], &self.model, scan, out)?,
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// [`Tokenizer::encode_unpadded`] for callers that need only ids, type ids and the two masks:
    /// truncation and special tokens apply as there, but `tokens` are empty strings, `offsets`
    /// `(0, 0)` and `words` `None` for the input's own tokens.
    pub(crate) fn encode_ids_unpadded(
        &self,
        input: &EncodeInput,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        let sequence = |seq: &InputSequence, type_id: u32| -> Result<Encoding> {
            match seq {
                InputSequence::Raw(text) => Ok(ids_encoding(self.text_ids(text)?, type_id)),
                InputSequence::PreTokenized(words) => {
                    let mut ids = Vec::new();
                    for word in words {
                        ids.extend(self.text_ids(word)?);
                    }
                    Ok(ids_encoding(ids, type_id))
                }
            }
        };
        let first = sequence(&input.first, 0)?;
        let second = input.second.as_ref().map(|s| sequence(s, 1)).transpose()?;
        self.truncate_and_add_special_tokens(first, second, add_special_tokens)
    }
}

/// An encoding of plain tokens that carries their ids alone.
pub(super) fn ids_encoding(ids: Vec<u32>, type_id: u32) -> Encoding {
    let n = ids.len();
    Encoding {
        ids,
        type_ids: vec![type_id; n],
        // Built one by one: `vec![String::new(); n]` would clone a template string n times.
        tokens: std::iter::repeat_with(String::new).take(n).collect(),
        words: vec![None; n],
        offsets: vec![(0, 0); n],
        special_tokens_mask: vec![0; n],
        attention_mask: vec![1; n],
        overflowing: Vec::new(),
        sequence_ranges: HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pooled ids are each text's own ids, and the texts the pool leaves to the caller are those
    /// that may hold an added token (and the `None`s): for GPT-2 (ByteLevel, no normalizer) and
    /// BERT (its normalizer and pre-tokenizer), over more texts than one pool, in several
    /// languages, with empty texts and added tokens inside texts.
    #[test]
    fn pooled_ids_are_each_texts_ids() {
        let read = |lang: &str| {
            std::fs::read_to_string(format!(
                "{}/../../../shared/corpus/{lang}.txt",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let corpora = [read("en"), read("zh"), read("ru")];
        let mut texts: Vec<Option<&str>> = Vec::new();
        for corpus in &corpora {
            texts.extend(corpus.split("\n\n").take(60).map(Some));
        }
        let marked = [
            "a<|endoftext|>b",
            "[SEP] x",
            "x < y",
            "",
            " ",
            "\u{300}e\u{301}",
        ];
        for (i, text) in marked.iter().enumerate() {
            texts.insert(i * 31, Some(text));
        }
        texts.insert(7, None);
        // The first byte of each tokenizer's added tokens: a text holding it may hold one.
        for (name, marker) in [("gpt2", '<'), ("bert-uncased", '[')] {
            let tok = crate::tokenizer::ids_rows::tests::tokenizer(name);
            let (mut seen, mut left) = (0, 0);
            tok.pooled_text_ids(&texts, |i, ids| {
                assert_eq!(i, seen, "in order");
                seen += 1;
                match (texts[i], ids) {
                    (Some(text), Some(ids)) => {
                        assert!(!text.contains(marker), "{name}: {text:?} pooled");
                        assert_eq!(ids, tok.text_ids(text)?, "{name}: {text:?}");
                    }
                    (Some(text), None) => {
                        assert!(text.contains(marker), "{name}: {text:?} not pooled");
                        left += 1;
                    }
                    (None, ids) => assert!(ids.is_none()),
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, texts.len());
            assert!(left >= 1, "{name}");
        }
    }

    /// Pools end after 64 texts or once past 64 KiB, and hold at least one text however long.
    #[test]
    fn pools_are_bounded_in_texts_and_bytes() {
        let short = "x".repeat(100);
        let long = "y".repeat(40 << 10);
        let huge = "z".repeat(1 << 20);
        let shorts: Vec<Option<&str>> = vec![Some(short.as_str()); 150];
        assert_eq!(pool_end(&shorts, 0), 64);
        assert_eq!(pool_end(&shorts, 128), 150);
        let mixed = [
            Some(short.as_str()),
            None,
            Some(&long),
            Some(&long),
            Some(&huge),
            None,
        ];
        assert_eq!(pool_end(&mixed, 0), 3); // the second long text would pass 64 KiB
        assert_eq!(pool_end(&mixed, 3), 4);
        assert_eq!(pool_end(&mixed, 4), 5); // one text past the bound is a pool of its own
        assert_eq!(pool_end(&mixed, 5), 6);
    }

    /// The byte-table split of ASCII text is the char loop's: every ASCII byte between words, at
    /// the ends and in runs, and real paragraphs.
    #[test]
    fn bert_ascii_words_match_the_char_loop() {
        let mut texts: Vec<String> = Vec::new();
        for b in 0u8..128 {
            let c = char::from(b);
            texts.push(format!("ab{c}cd"));
            texts.push(format!("{c}x{c}{c}y{c}"));
            texts.push(c.to_string());
        }
        let corpus = std::fs::read_to_string(format!(
            "{}/../../../shared/corpus/en.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        texts.extend(
            corpus
                .split("\n\n")
                .filter(|t| t.is_ascii())
                .take(2000)
                .map(String::from),
        );
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for text in &texts {
            bert_ascii_words(text.as_bytes(), &mut fast);
            bert_char_words(text, &mut slow);
            assert_eq!(fast, slow, "{text:?}");
            fast.clear();
            slow.clear();
        }
    }

    /// Byte-level BPE (GPT-2's stages) with one added token, and a BERT-like WordPiece with a
    /// normalizer and special tokens: the ids-only path must give the full path's ids.
    fn tokenizers() -> Vec<Tokenizer> {
        let bpe = r###"{
            "added_tokens": [{"id": 9, "special": true, "content": "<|end|>", "single_word": false,
                              "lstrip": false, "rstrip": false, "normalized": false}],
            "normalizer": null,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "post_processor": null, "decoder": null,
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "Ġa": 3, "ab": 4, "Ã": 5, "©": 6, "'": 7, "s": 8},
                      "merges": ["Ġ a", "a b"]}
        }"###;
        let bert = r###"{
            "added_tokens": [
                {"id": 0, "special": true, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 1, "special": true, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 2, "special": true, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 7, "special": false, "content": "cat", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true}
            ],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                           "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
            "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 5,
                      "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "the": 3, "##s": 4, "!": 5, "e": 6, "cat": 7}}
        }"###;
        [bpe, bert]
            .iter()
            .map(|json| Tokenizer::from_json(json, "test").unwrap())
            .collect()
    }

    #[test]
    fn ids_only_path_gives_the_full_paths_ids() {
        let texts = [
            "",
            " ",
            "ab a  b\t\nab's",
            "é<|end|>ab<|end|>",
            "The CATs!! thes é 中 aaaaaaaaaa",
            "[CLS]the[SEP] cat",
            "THE\tcat\u{1}s\0!\r\nE\u{7f}e",
        ];
        for tok in tokenizers() {
            for text in texts {
                for specials in [true, false] {
                    let input = EncodeInput::from(text);
                    let full = tok.encode(&input, specials, OffsetType::Byte).unwrap();
                    let ids_only = tok.encode_ids_unpadded(&input, specials).unwrap();
                    assert_eq!(ids_only.ids, full.ids, "{text:?}");
                    assert_eq!(ids_only.type_ids, full.type_ids);
                    assert_eq!(ids_only.special_tokens_mask, full.special_tokens_mask);
                    // Only the special tokens the post-processor adds carry their text.
                    let texts = ids_only.tokens.iter().zip(&ids_only.special_tokens_mask);
                    assert!(texts.filter(|(_, &m)| m == 0).all(|(t, _)| t.is_empty()));
                }
            }
        }
    }
}
