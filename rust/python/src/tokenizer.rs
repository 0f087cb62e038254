//! `Tokenizer`: the Python class, a drop-in for `tokenizers.Tokenizer`. Argument checking and
//! conversion only; every call releases the GIL around the Rust work.
//!
//! One `Tokenizer` may be shared by threads, and one of them may reconfigure it (padding,
//! truncation, added tokens) while others encode: the Rust tokenizer sits behind a read-write lock,
//! encoding takes it for reading and reconfiguring for writing, so each call sees the settings
//! whole, before or after a change (Hugging Face `tokenizers` raises "Already borrowed" there).
//! The lock is only ever waited for with the GIL released, and no Python is run while it is held,
//! so it cannot deadlock against the GIL.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use ferroformers_core::tokenizer::{
    fill_row_arrays, padded_length, threads, AddedToken, ArrayFill, DirectionName, EncodeInput,
    OffsetType, PaddingParams, PaddingStrategy, Tokenizer, TruncationParams, TruncationStrategy,
};
use ferroformers_core::{Encoding, Error, IdsRow, RowField};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};

use crate::added_token::PyAddedToken;
use crate::encoding::{BatchLists, PyEncoding};
use crate::errors::{bad_input, caught, guarded, to_py_invalid_id, Failure};
use crate::inputs;

#[pyclass(name = "Tokenizer", module = "ferroformers._core", frozen)]
pub struct PyTokenizer {
    inner: RwLock<Tokenizer>,
}

fn direction(name: &str, what: &str) -> PyResult<DirectionName> {
    match name {
        "right" => Ok(DirectionName::Right),
        "left" => Ok(DirectionName::Left),
        other => Err(PyValueError::new_err(format!(
            "{what} must be 'left' or 'right', got {other:?}"
        ))),
    }
}

fn direction_name(d: DirectionName) -> &'static str {
    match d {
        DirectionName::Left => "left",
        DirectionName::Right => "right",
    }
}

fn to_added_tokens(tokens: &Bound<'_, PyAny>, special: bool) -> PyResult<Vec<AddedToken>> {
    tokens
        .try_iter()?
        .enumerate()
        .map(|(i, t)| {
            let t = t?;
            if let Ok(s) = t.cast::<PyString>() {
                Ok(AddedToken::new(s.to_cow()?.into_owned(), special))
            } else if let Ok(a) = t.cast::<PyAddedToken>() {
                Ok(a.get().to_added(special))
            } else {
                Err(PyTypeError::new_err(format!(
                    "token {i} must be a str or an AddedToken"
                )))
            }
        })
        .collect()
}

/// What `encode_batch_flat` returns: every item's ids one after another, and where each item starts.
type FlatIds<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<i64>>);

/// The fields `encode_batch_arrays` can return, each an int64 array.
const ARRAY_FIELDS: &[&str] = &[
    "input_ids",
    "token_type_ids",
    "attention_mask",
    "special_tokens_mask",
    "offset_mapping",
    "length",
];

impl PyTokenizer {
    fn new(tokenizer: Tokenizer) -> Self {
        PyTokenizer {
            inner: RwLock::new(tokenizer),
        }
    }

    /// The tokenizer, for quick reads with the GIL held. Safe: writers hold the lock only with the
    /// GIL released and only for plain assignments, so this wait is short. Callers copy out what
    /// they need before making Python objects (which could run Python code that reconfigures this
    /// tokenizer while the guard is held).
    fn read(&self) -> RwLockReadGuard<'_, Tokenizer> {
        // Only a writer that panics poisons the lock, and writers here assign whole settings or
        // add tokens: a poisoned lock still holds a whole tokenizer.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run core work on the tokenizer with the GIL released (the lock waited for and held there).
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&Tokenizer) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        py.detach(|| caught(|| work(&self.read())))
            .map_err(Failure::into_py)
    }

    /// Change the tokenizer's settings, waiting (GIL released) for running encodes to finish.
    fn configure<T: Send>(
        &self,
        py: Python<'_>,
        change: impl FnOnce(&mut Tokenizer) -> T + Send,
    ) -> T {
        py.detach(|| change(&mut self.inner.write().unwrap_or_else(PoisonError::into_inner)))
    }

    fn encode_inputs(
        &self,
        py: Python<'_>,
        inputs: Vec<EncodeInput<'_>>,
        add_special_tokens: bool,
        offsets: OffsetType,
    ) -> PyResult<Vec<Encoding>> {
        self.run(py, |tok| {
            tok.encode_batch(&inputs, add_special_tokens, offsets)
        })
    }
}

#[pymethods]
impl PyTokenizer {
    /// Load a Hugging Face `tokenizer.json`.
    #[staticmethod]
    fn from_file(path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PyTokenizer::new(guarded(|| Tokenizer::from_file(&path))?))
    }

    /// Parse the JSON text of a `tokenizer.json`. `exact_scores=True` keeps Unigram scores
    /// exactly as written (what transformers' classes that rebuild the model see); the default
    /// reads them as `tokenizers` does.
    #[staticmethod]
    #[pyo3(signature = (json, exact_scores=false))]
    fn from_str(json: &str, exact_scores: bool) -> PyResult<Self> {
        let source = "<tokenizer JSON string>";
        Ok(PyTokenizer::new(guarded(|| {
            if exact_scores {
                Tokenizer::from_json_exact_scores(json, source)
            } else {
                Tokenizer::from_json(json, source)
            }
        })?))
    }

    #[staticmethod]
    fn from_buffer(buffer: &[u8]) -> PyResult<Self> {
        let json = std::str::from_utf8(buffer)
            .map_err(|e| bad_input(format!("the buffer is not UTF-8 text: {e}")))?;
        Ok(PyTokenizer::new(guarded(|| {
            Tokenizer::from_json(json, "<tokenizer buffer>")
        })?))
    }

    /// A WordPiece (BERT) tokenizer from a legacy `vocab.txt`.
    #[staticmethod]
    #[pyo3(signature = (vocab_file, lowercase=true, strip_accents=None, tokenize_chinese_chars=true, clean_text=true,
        unk_token="[UNK]", sep_token="[SEP]", cls_token="[CLS]", pad_token="[PAD]", mask_token="[MASK]",
        wordpieces_prefix="##"))]
    #[allow(clippy::too_many_arguments)]
    fn from_wordpiece_vocab(
        vocab_file: std::path::PathBuf,
        lowercase: bool,
        strip_accents: Option<bool>,
        tokenize_chinese_chars: bool,
        clean_text: bool,
        unk_token: &str,
        sep_token: &str,
        cls_token: &str,
        pad_token: &str,
        mask_token: &str,
        wordpieces_prefix: &str,
    ) -> PyResult<Self> {
        let options = ferroformers_core::tokenizer::legacy::WordPieceOptions {
            lowercase,
            strip_accents,
            tokenize_chinese_chars,
            clean_text,
            unk_token: unk_token.into(),
            sep_token: sep_token.into(),
            cls_token: cls_token.into(),
            pad_token: pad_token.into(),
            mask_token: mask_token.into(),
            prefix: wordpieces_prefix.into(),
        };
        Ok(PyTokenizer::new(guarded(|| {
            ferroformers_core::tokenizer::legacy::wordpiece_from_vocab(&vocab_file, &options)
        })?))
    }

    /// A byte-level BPE (GPT-2) tokenizer from legacy `vocab.json` + `merges.txt`.
    #[staticmethod]
    #[pyo3(signature = (vocab_file, merges_file, add_prefix_space=false, special_tokens=None))]
    fn from_bpe_files(
        vocab_file: std::path::PathBuf,
        merges_file: std::path::PathBuf,
        add_prefix_space: bool,
        special_tokens: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let specials = special_tokens.unwrap_or_default();
        Ok(PyTokenizer::new(guarded(|| {
            ferroformers_core::tokenizer::legacy::byte_level_bpe_from_files(
                &vocab_file,
                &merges_file,
                add_prefix_space,
                &specials,
            )
        })?))
    }

    #[pyo3(signature = (pretty=false))]
    fn to_str(&self, pretty: bool) -> PyResult<String> {
        caught(|| self.read().to_json(pretty)).map_err(Failure::into_py)
    }

    #[pyo3(signature = (path, pretty=true))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, pretty: bool) -> PyResult<()> {
        self.run(py, |tok| tok.save(&path, pretty))
    }

    /// Pickle support (e.g. `datasets.map(num_proc=...)` ships the tokenizer to workers).
    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(Py<PyAny>, (String,))> {
        let py = slf.py();
        let json = caught(|| slf.get().read().to_json(false)).map_err(Failure::into_py)?;
        let ctor = py.get_type::<PyTokenizer>().getattr("from_str")?.unbind();
        Ok((ctor, (json,)))
    }

    /// Encode one text (or a pair) into an `Encoding`.
    #[pyo3(signature = (sequence, pair=None, is_pretokenized=false, add_special_tokens=true))]
    fn encode(
        &self,
        py: Python<'_>,
        sequence: &Bound<'_, PyAny>,
        pair: Option<&Bound<'_, PyAny>>,
        is_pretokenized: bool,
        add_special_tokens: bool,
    ) -> PyResult<PyEncoding> {
        let first = inputs::sequence(sequence, is_pretokenized, &|| "sequence".to_owned())?;
        let second = pair
            .map(|p| inputs::sequence(p, is_pretokenized, &|| "pair".to_owned()))
            .transpose()?;
        let input = EncodeInput { first, second };
        let enc = self.run(py, |tok| {
            tok.encode(&input, add_special_tokens, OffsetType::Char)
        })?;
        Ok(enc.into())
    }

    /// Encode a batch of texts or pairs, in parallel with the GIL released.
    #[pyo3(signature = (input, is_pretokenized=false, add_special_tokens=true))]
    fn encode_batch(
        &self,
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        is_pretokenized: bool,
        add_special_tokens: bool,
    ) -> PyResult<Vec<PyEncoding>> {
        let held = inputs::batch_items(input)?;
        let items = inputs::batch(&held, is_pretokenized)?;
        let encs = self.encode_inputs(py, items, add_special_tokens, OffsetType::Char)?;
        Ok(encs.into_iter().map(PyEncoding::from).collect())
    }

    /// Like `encode_batch` without tracking offsets, as Hugging Face's fast variant: the
    /// encodings carry ids, type ids and masks (truncation and padding applied), with empty
    /// tokens, `(0, 0)` offsets and no word ids.
    #[pyo3(signature = (input, is_pretokenized=false, add_special_tokens=true))]
    fn encode_batch_fast(
        &self,
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        is_pretokenized: bool,
        add_special_tokens: bool,
    ) -> PyResult<Vec<Py<PyEncoding>>> {
        let held = inputs::batch_items(input)?;
        let items = inputs::batch(&held, is_pretokenized)?;
        // Rows, not an `Encoding` each (see `IdsRow`), and their id lists made here, since
        // most callers read the ids: as a batch, they stay out of the collector until done.
        let mut lists = BatchLists::with_capacity(items.len());
        if threads::batch_threads() < 2 {
            let rows = self.run(py, |tok| {
                tok.encode_batch_rows(&items, add_special_tokens, true)
            })?;
            return rows
                .into_iter()
                .map(|row| Py::new(py, PyEncoding::with_ids_list(py, row, &mut lists)?))
                .collect();
        }
        // With a pool, this thread turns each chunk of rows into encodings and their id lists
        // (the part that needs the GIL) while the pool encodes the next chunks.
        let mut encodings = Vec::with_capacity(items.len());
        let mut failed = None;
        self.run(py, |tok| {
            tok.encode_batch_rows_streamed(&items, add_special_tokens, true, |rows| {
                Python::attach(|py| {
                    for row in rows {
                        let made = PyEncoding::with_ids_list(py, row, &mut lists)
                            .and_then(|e| Py::new(py, e));
                        match made {
                            Ok(encoding) => encodings.push(encoding),
                            Err(e) => {
                                failed.get_or_insert(e);
                                return;
                            }
                        }
                    }
                })
            })
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(encodings),
        }
    }

    /// Encode a batch straight into int64 numpy arrays of shape (batch, length) — built in Rust,
    /// one buffer per field, no per-token Python objects. Every row must have the same length
    /// (padding on, or equal lengths); `fields` picks among input_ids, token_type_ids,
    /// attention_mask, special_tokens_mask, offset_mapping (batch, length, 2) and length (batch,).
    #[pyo3(signature = (input, is_pretokenized=false, add_special_tokens=true, fields=None))]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        input: &Bound<'py, PyAny>,
        is_pretokenized: bool,
        add_special_tokens: bool,
        fields: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let fields = fields.unwrap_or_else(|| vec!["input_ids".into(), "attention_mask".into()]);
        for f in &fields {
            if !ARRAY_FIELDS.contains(&f.as_str()) {
                return Err(PyValueError::new_err(format!(
                    "unknown field {f:?}; choose among {ARRAY_FIELDS:?}"
                )));
            }
        }
        let held = inputs::batch_items(input)?;
        let items = inputs::batch(&held, is_pretokenized)?;
        // Without offsets the ids-only path has every field asked for, and the rows are padded
        // here, while the arrays are filled (padding each `Encoding` would allocate a token string
        // per pad); with offsets the full path pads its encodings itself.
        let (rows, padding) = if fields.iter().any(|f| f == "offset_mapping") {
            let encs = self.encode_inputs(py, items, add_special_tokens, OffsetType::Char)?;
            let rows = encs.into_iter().map(|e| IdsRow::Full(Box::new(e)));
            (rows.collect::<Vec<_>>(), None)
        } else {
            self.run(py, |tok| {
                let rows = tok.encode_batch_rows(&items, add_special_tokens, false)?;
                Ok((rows, tok.padding.clone()))
            })?
        };
        let n_rows = rows.len();
        let longest = rows.iter().map(IdsRow::len).max().unwrap_or(0);
        // Each row's length once padded (a row longer than a fixed padding length keeps its own);
        // the arrays need them all equal.
        let target = padding.as_ref().map(|p| padded_length(longest, p));
        let padded_len = |r: &IdsRow| target.map_or(r.len(), |t| r.len().max(t));
        let width = rows.first().map_or(0, padded_len);
        if let Some((i, r)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| padded_len(r) != width)
        {
            return Err(bad_input(format!(
                "cannot build arrays: row 0 has {width} tokens but row {i} has {}; enable padding \
                 (padding=True) and/or truncation to give every row the same length",
                padded_len(r)
            )));
        }
        let pad = padding
            .as_ref()
            .map(|p| (p.direction, p.pad_id, p.pad_type_id));
        let pad_left = matches!(pad, Some((DirectionName::Left, _, _)));
        // The per-token fields, filled together (on the pool, when there is one).
        let fills: Vec<ArrayFill> = fields
            .iter()
            .filter_map(|f| {
                let (field, pad_value) = match f.as_str() {
                    "input_ids" => (None, pad.map_or(0, |p| p.1 as i64)),
                    "token_type_ids" => (Some(RowField::TypeIds), pad.map_or(0, |p| p.2 as i64)),
                    "attention_mask" => (Some(RowField::AttentionMask), 0),
                    "special_tokens_mask" => (Some(RowField::SpecialTokensMask), 1),
                    _ => return None,
                };
                Some(ArrayFill { field, pad_value })
            })
            .collect();
        let mut filled = py
            .detach(|| fill_row_arrays(&rows, width, &fills, pad_left))
            .into_iter();
        let out = PyDict::new(py);
        for f in &fields {
            let array = match f.as_str() {
                "length" => {
                    let mask = |r: &IdsRow| r.values(RowField::AttentionMask).map(i64::from).sum();
                    let lengths: Vec<i64> = py.detach(|| rows.iter().map(mask).collect());
                    lengths.into_pyarray(py).into_any()
                }
                "offset_mapping" => {
                    // The rows of this branch are full encodings, padded already.
                    let flat: Vec<i64> = py.detach(|| {
                        rows.iter()
                            .flat_map(|r| {
                                let offsets = match r {
                                    IdsRow::Full(e) => Cow::Borrowed(&e.offsets),
                                    r => Cow::Owned(r.to_encoding().offsets),
                                };
                                let pairs = offsets.iter().flat_map(|&(a, b)| [a as i64, b as i64]);
                                pairs.collect::<Vec<_>>()
                            })
                            .collect()
                    });
                    flat.into_pyarray(py)
                        .reshape([n_rows, width, 2])?
                        .into_any()
                }
                _ => {
                    let flat = filled.next().expect("one filled array per per-token field");
                    flat.into_pyarray(py).reshape([n_rows, width])?.into_any()
                }
            };
            out.set_item(f, array)?;
        }
        Ok(out)
    }

    /// Encode a batch into its ids, ragged and flat, built in Rust with the GIL released:
    /// `(ids, offsets)`, where `ids` (uint32) holds every item's ids one after another and item
    /// `i`'s are `ids[offsets[i]:offsets[i + 1]]` (`offsets`: int64, one longer than the batch).
    /// Truncation applies as in `encode_batch`; padding does not, and overflowing pieces are
    /// dropped. No `Encoding` objects are made: the ids-only path for data pipelines.
    ///
    ///     >>> tok = Tokenizer.from_file("gpt2/tokenizer.json")
    ///     >>> ids, offsets = tok.encode_batch_flat(["Hello world", "Hi"])
    ///     >>> [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    ///     [[15496, 995], [17250]]
    #[pyo3(signature = (input, is_pretokenized=false, add_special_tokens=true))]
    fn encode_batch_flat<'py>(
        &self,
        py: Python<'py>,
        input: &Bound<'py, PyAny>,
        is_pretokenized: bool,
        add_special_tokens: bool,
    ) -> PyResult<FlatIds<'py>> {
        let held = inputs::batch_items(input)?;
        let items = inputs::batch(&held, is_pretokenized)?;
        let ragged = self.run(py, |tok| tok.encode_batch_ids(&items, add_special_tokens))?;
        let offsets: Vec<i64> = ragged.offsets.iter().map(|&o| o as i64).collect();
        Ok((ragged.ids.into_pyarray(py), offsets.into_pyarray(py)))
    }

    /// Ids back to text. An id outside the vocabulary (negative, too large, even past 64 bits)
    /// raises `InvalidTokenIdError`.
    #[pyo3(signature = (ids, skip_special_tokens=true))]
    fn decode(
        &self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        skip_special_tokens: bool,
    ) -> PyResult<String> {
        let ids = token_ids(ids, "ids")?;
        self.run(py, |tok| tok.decode(&ids, skip_special_tokens))
    }

    /// Token strings back to text through the decoder only (transformers' `convert_tokens_to_string`):
    /// any strings, not only vocabulary tokens.
    fn decode_tokens(&self, py: Python<'_>, tokens: Vec<String>) -> PyResult<String> {
        self.run(py, |tok| tok.decode_tokens(tokens))
    }

    #[pyo3(signature = (sequences, skip_special_tokens=true))]
    fn decode_batch(
        &self,
        py: Python<'_>,
        sequences: &Bound<'_, PyAny>,
        skip_special_tokens: bool,
    ) -> PyResult<Vec<String>> {
        if sequences.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "sequences must be a list of lists of integer token ids, got str",
            ));
        }
        let batch = sequences
            .try_iter()
            .map_err(|_| {
                PyTypeError::new_err(format!(
                    "sequences must be a list of lists of integer token ids, got {}",
                    type_name(sequences)
                ))
            })?
            .enumerate()
            .map(|(i, row)| token_ids(&row?, &format!("sequences[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        self.run(py, |tok| tok.decode_batch(&batch, skip_special_tokens))
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.read().token_to_id(token)
    }

    /// The token of `id`, or None for an id outside the vocabulary (whatever its size).
    fn id_to_token(&self, id: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let Some(id) = integer(id)? else {
            return Err(PyTypeError::new_err(format!(
                "id must be an integer token id, got {}",
                type_name(id)
            )));
        };
        Ok(id.and_then(|id| self.read().id_to_token(id).map(str::to_owned)))
    }

    #[pyo3(signature = (with_added_tokens=true))]
    fn get_vocab(&self, with_added_tokens: bool) -> HashMap<String, u32> {
        self.read().get_vocab(with_added_tokens)
    }

    #[pyo3(signature = (with_added_tokens=true))]
    fn get_vocab_size(&self, with_added_tokens: bool) -> usize {
        self.read().get_vocab_size(with_added_tokens)
    }

    /// Added tokens by id.
    fn get_added_tokens_decoder(&self) -> HashMap<u32, PyAddedToken> {
        self.read()
            .added_vocabulary
            .tokens()
            .map(|(id, t)| (*id, PyAddedToken::from_inner(t.clone())))
            .collect()
    }

    /// Add tokens (str or AddedToken); returns how many were new.
    fn add_tokens(&self, py: Python<'_>, tokens: &Bound<'_, PyAny>) -> PyResult<usize> {
        let tokens = to_added_tokens(tokens, false)?;
        Ok(self.configure(py, |tok| tok.add_tokens(&tokens)))
    }

    fn add_special_tokens(&self, py: Python<'_>, tokens: &Bound<'_, PyAny>) -> PyResult<usize> {
        let tokens = to_added_tokens(tokens, true)?;
        Ok(self.configure(py, |tok| tok.add_special_tokens(&tokens)))
    }

    #[pyo3(signature = (is_pair))]
    fn num_special_tokens_to_add(&self, is_pair: bool) -> usize {
        self.read().num_special_tokens_to_add(is_pair)
    }

    /// Whether special tokens in the input are matched (False) or encoded as plain text (True).
    #[getter]
    fn get_encode_special_tokens(&self) -> bool {
        self.read().added_vocabulary.encode_special_tokens
    }

    #[setter]
    fn set_encode_special_tokens(&self, py: Python<'_>, value: bool) {
        self.configure(py, |tok| tok.added_vocabulary.encode_special_tokens = value);
    }

    #[pyo3(signature = (direction="right", pad_id=0, pad_type_id=0, pad_token="[PAD]", length=None, pad_to_multiple_of=None))]
    #[allow(clippy::too_many_arguments)]
    fn enable_padding(
        &self,
        py: Python<'_>,
        direction: &str,
        pad_id: u32,
        pad_type_id: u32,
        pad_token: &str,
        length: Option<usize>,
        pad_to_multiple_of: Option<usize>,
    ) -> PyResult<()> {
        let params = PaddingParams {
            strategy: length.map_or(PaddingStrategy::BatchLongest, PaddingStrategy::Fixed),
            direction: self::direction(direction, "padding direction")?,
            pad_to_multiple_of,
            pad_id,
            pad_type_id,
            pad_token: pad_token.to_owned(),
        };
        params.validate().map_err(|e| bad_input(e.to_string()))?;
        self.configure(py, |tok| tok.padding = Some(params));
        Ok(())
    }

    fn no_padding(&self, py: Python<'_>) {
        self.configure(py, |tok| tok.padding = None);
    }

    /// The padding settings as a dict (None when off), with Hugging Face's keys.
    #[getter]
    fn padding<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let padding = self.read().padding.clone();
        let Some(p) = &padding else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item(
            "length",
            match p.strategy {
                PaddingStrategy::Fixed(n) => Some(n),
                PaddingStrategy::BatchLongest => None,
            },
        )?;
        d.set_item("pad_to_multiple_of", p.pad_to_multiple_of)?;
        d.set_item("pad_id", p.pad_id)?;
        d.set_item("pad_token", &p.pad_token)?;
        d.set_item("pad_type_id", p.pad_type_id)?;
        d.set_item("direction", direction_name(p.direction))?;
        Ok(Some(d))
    }

    #[pyo3(signature = (max_length, stride=0, strategy="longest_first", direction="right"))]
    fn enable_truncation(
        &self,
        py: Python<'_>,
        max_length: usize,
        stride: usize,
        strategy: &str,
        direction: &str,
    ) -> PyResult<()> {
        let strategy = match strategy {
            "longest_first" => TruncationStrategy::LongestFirst,
            "only_first" => TruncationStrategy::OnlyFirst,
            "only_second" => TruncationStrategy::OnlySecond,
            other => {
                return Err(PyValueError::new_err(format!(
                    "truncation strategy must be 'longest_first', 'only_first' or 'only_second', got {other:?}"
                )))
            }
        };
        let params = TruncationParams {
            direction: self::direction(direction, "truncation direction")?,
            max_length,
            strategy,
            stride,
        };
        self.configure(py, |tok| tok.truncation = Some(params));
        Ok(())
    }

    fn no_truncation(&self, py: Python<'_>) {
        self.configure(py, |tok| tok.truncation = None);
    }

    #[getter]
    fn truncation<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let truncation = self.read().truncation.clone();
        let Some(t) = &truncation else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("max_length", t.max_length)?;
        d.set_item("stride", t.stride)?;
        d.set_item(
            "strategy",
            match t.strategy {
                TruncationStrategy::LongestFirst => "longest_first",
                TruncationStrategy::OnlyFirst => "only_first",
                TruncationStrategy::OnlySecond => "only_second",
            },
        )?;
        d.set_item("direction", direction_name(t.direction))?;
        Ok(Some(d))
    }

    fn __repr__(&self) -> String {
        format!("Tokenizer(vocab_size={})", self.read().get_vocab_size(true))
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// `value` as a token id: `Some(Some(id))` for an int in `0..2^32`, `Some(None)` for any other int
/// (negative, or too large even for 64 bits: no id, not an `OverflowError`), `None` for a non-int.
/// Accepts what has `__index__` (numpy and torch integers), as Python's own indexing does.
fn integer(value: &Bound<'_, PyAny>) -> PyResult<Option<Option<u32>>> {
    if let Ok(v) = value.extract::<i64>() {
        return Ok(Some(u32::try_from(v).ok()));
    }
    // Not an i64: an int too large for one, or not an int at all (floats have no __index__).
    if value.is_instance_of::<PyInt>() || value.hasattr("__index__")? {
        return Ok(Some(None));
    }
    Ok(None)
}

/// The token ids of the sequence `ids` (called `what` in messages), each checked to fit in a u32
/// (the core then checks it against the vocabulary).
fn token_ids(ids: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u32>> {
    let wrong_type = |got: String| {
        PyTypeError::new_err(format!(
            "{what} must be a list of integer token ids, got {got}"
        ))
    };
    if ids.is_instance_of::<PyString>() {
        return Err(wrong_type("str".to_owned()));
    }
    let items = ids.try_iter().map_err(|_| wrong_type(type_name(ids)))?;
    items
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            match integer(&item)? {
                Some(Some(id)) => Ok(id),
                Some(None) => Err(to_py_invalid_id(
                    item.py(),
                    format!(
                        "token id {item} is out of range: ids are non-negative integers below the \
                         vocabulary size"
                    ),
                )),
                None => Err(wrong_type(format!("{} at position {i}", type_name(&item)))),
            }
        })
        .collect()
}
