//! `Encoding`: the Python view of one encoded input, field for field as `tokenizers.Encoding`.

use ferroformers_core::Encoding;
use pyo3::prelude::*;

#[pyclass(name = "Encoding", module = "ferroformers._core", frozen)]
pub struct PyEncoding {
    pub inner: Encoding,
}

impl From<Encoding> for PyEncoding {
    fn from(inner: Encoding) -> Self {
        PyEncoding { inner }
    }
}

#[pymethods]
impl PyEncoding {
    #[getter]
    fn ids(&self) -> Vec<u32> {
        self.inner.ids.clone()
    }
    #[getter]
    fn type_ids(&self) -> Vec<u32> {
        self.inner.type_ids.clone()
    }
    #[getter]
    fn tokens(&self) -> Vec<String> {
        self.inner.tokens.clone()
    }
    #[getter]
    fn offsets(&self) -> Vec<(usize, usize)> {
        self.inner.offsets.clone()
    }
    #[getter]
    fn attention_mask(&self) -> Vec<u32> {
        self.inner.attention_mask.clone()
    }
    #[getter]
    fn special_tokens_mask(&self) -> Vec<u32> {
        self.inner.special_tokens_mask.clone()
    }
    /// The word index of each token (`None` for special and padding tokens).
    #[getter]
    fn word_ids(&self) -> Vec<Option<u32>> {
        self.inner.words.clone()
    }
    /// Deprecated alias of `word_ids`, kept for drop-in compatibility.
    #[getter]
    fn words(&self) -> Vec<Option<u32>> {
        self.inner.words.clone()
    }
    /// The input sequence (0 or 1) of each token (`None` for special and padding tokens).
    #[getter]
    fn sequence_ids(&self) -> Vec<Option<usize>> {
        self.inner.sequence_ids()
    }
    #[getter]
    fn n_sequences(&self) -> usize {
        self.inner.n_sequences()
    }
    /// The pieces cut off by truncation, as encodings of their own.
    #[getter]
    fn overflowing(&self) -> Vec<PyEncoding> {
        self.inner
            .overflowing
            .iter()
            .cloned()
            .map(PyEncoding::from)
            .collect()
    }
    /// The token index of the char at `char_pos` in sequence `sequence_index`, if any.
    #[pyo3(signature = (char_pos, sequence_index=0))]
    fn char_to_token(&self, char_pos: usize, sequence_index: usize) -> Option<usize> {
        let seq = self.inner.sequence_ids();
        (0..self.inner.len()).find(|&i| {
            let (a, b) = self.inner.offsets[i];
            seq[i].unwrap_or(0) == sequence_index
                && self.inner.special_tokens_mask[i] == 0
                && a <= char_pos
                && char_pos < b
        })
    }
    /// The (start, end) token span of word `word_index` in sequence `sequence_index`.
    #[pyo3(signature = (word_index, sequence_index=0))]
    fn word_to_tokens(&self, word_index: u32, sequence_index: usize) -> Option<(usize, usize)> {
        let seq = self.inner.sequence_ids();
        let hits: Vec<usize> = (0..self.inner.len())
            .filter(|&i| {
                self.inner.words[i] == Some(word_index) && seq[i].unwrap_or(0) == sequence_index
            })
            .collect();
        Some((*hits.first()?, hits.last()? + 1))
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "Encoding(num_tokens={}, attributes=[ids, type_ids, tokens, offsets, attention_mask, special_tokens_mask, overflowing])",
            self.inner.len()
        )
    }
}
