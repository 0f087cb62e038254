//! `Generator`: the Python face of `ferroformers_core::generation::Generator`. Argument checking
//! and numpy conversion only; each call releases the GIL around the Rust work.
//!
//! Rows: pass the `batch_size` prompts unexpanded; the generator repeats each one
//! `max(num_beams, num_return_sequences)` times in place (like `repeat_interleave`), and `step`
//! expects logits for all `rows` of them.

use ferroformers_core::generation::generator::{padding_lengths, token_ids};
use ferroformers_core::generation::{self, EarlyStopping, GenerationParams, Generator};
use ferroformers_core::Error;
use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use crate::errors::guarded;

#[pyclass(name = "Generator", module = "ferroformers._core")]
pub struct PyGenerator {
    inner: Generator,
    output_scores: bool,
}

/// The contiguous float32 logits of shape (rows, vocab) behind `obj`, read in place.
fn logits_array<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let array = obj.cast::<PyArray2<f32>>().map_err(|_| {
        let got = obj
            .getattr("dtype")
            .and_then(|d| d.str().map(|s| s.to_string()))
            .map(|d| format!("an array of dtype {d}"))
            .unwrap_or_else(|_| format!("a {}", obj.get_type()));
        let ndim = obj.getattr("ndim").and_then(|n| n.extract::<usize>()).ok();
        let shape = match ndim {
            Some(n) if n != 2 => format!(" with {n} dimensions"),
            _ => String::new(),
        };
        PyTypeError::new_err(format!(
            "{what} must be a 2-D float32 numpy array (rows, vocab), got {got}{shape}; \
             pass logits.float().contiguous().numpy()"
        ))
    })?;
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what} must be C-contiguous; pass logits.float().contiguous().numpy()"
        )));
    }
    Ok(array.clone())
}

/// Token ids of shape (rows, length) as u32, from an int64 (or int32) numpy array.
fn id_matrix(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<u32>, usize, usize)> {
    let (flat, rows, cols) = int_matrix(obj, what)?;
    let ids = token_ids(&flat, what).map_err(|e| crate::errors::to_py(Error::from(e)))?;
    Ok((ids, rows, cols))
}

fn int_matrix(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<i64>, usize, usize)> {
    if let Ok(a) = obj.cast::<PyArray2<i64>>() {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        return Ok((a.to_vec()?, r, c));
    }
    if let Ok(a) = obj.cast::<PyArray2<i32>>() {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        return Ok((a.to_vec()?.into_iter().map(i64::from).collect(), r, c));
    }
    if let Ok(a) = obj.cast::<PyArray2<bool>>() {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        return Ok((a.to_vec()?.into_iter().map(i64::from).collect(), r, c));
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be a 2-D int64 numpy array (rows, length); pass tensor.cpu().numpy()"
    )))
}

fn ids(values: Vec<i64>, what: &str) -> PyResult<Vec<u32>> {
    values
        .into_iter()
        .map(|t| {
            u32::try_from(t).map_err(|_| {
                PyValueError::new_err(format!("{what} holds {t}, not a valid token id"))
            })
        })
        .collect()
}

fn parse_early_stopping(value: Option<&Bound<'_, PyAny>>) -> PyResult<EarlyStopping> {
    let Some(v) = value else {
        return Ok(EarlyStopping::Heuristic);
    };
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(if b.is_true() {
            EarlyStopping::Stop
        } else {
            EarlyStopping::Heuristic
        });
    }
    if let Ok(s) = v.cast::<PyString>() {
        if s.to_cow()? == "never" {
            return Ok(EarlyStopping::Never);
        }
    }
    Err(PyValueError::new_err(format!(
        "early_stopping must be True, False or \"never\", got {v}"
    )))
}

/// `eos_token_ids` as an int or a list of ints.
fn eos_ids(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<u32>> {
    match value {
        None => Ok(Vec::new()),
        Some(v) if v.is_none() => Ok(Vec::new()),
        Some(v) => match v.extract::<i64>() {
            Ok(one) => ids(vec![one], "eos_token_ids"),
            Err(_) => ids(v.extract::<Vec<i64>>()?, "eos_token_ids"),
        },
    }
}

fn non_negative(value: Option<i64>, what: &str) -> PyResult<Option<usize>> {
    value
        .map(|v| {
            usize::try_from(v).map_err(|_| {
                PyValueError::new_err(format!("{what} must be a non-negative integer, got {v}"))
            })
        })
        .transpose()
}

#[pymethods]
impl PyGenerator {
    #[new]
    #[pyo3(signature = (batch_size, vocab_size, prompt_ids, *, max_length, do_sample=false, num_beams=1,
        num_return_sequences=1, temperature=1.0, top_k=None, top_p=None, min_p=None, typical_p=None,
        repetition_penalty=None, no_repeat_ngram_size=None, bad_words_ids=None, suppress_tokens=None,
        min_length=0, min_new_tokens=None, eos_token_ids=None, pad_token_id=None, length_penalty=1.0,
        early_stopping=None, seed=None, output_scores=false, attention_mask=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        batch_size: usize,
        vocab_size: usize,
        prompt_ids: &Bound<'_, PyAny>,
        max_length: usize,
        do_sample: bool,
        num_beams: usize,
        num_return_sequences: usize,
        temperature: f64,
        top_k: Option<i64>,
        top_p: Option<f64>,
        min_p: Option<f64>,
        typical_p: Option<f64>,
        repetition_penalty: Option<f64>,
        no_repeat_ngram_size: Option<i64>,
        bad_words_ids: Option<Vec<Vec<i64>>>,
        suppress_tokens: Option<Vec<i64>>,
        min_length: usize,
        min_new_tokens: Option<i64>,
        eos_token_ids: Option<&Bound<'_, PyAny>>,
        pad_token_id: Option<i64>,
        length_penalty: f64,
        early_stopping: Option<&Bound<'_, PyAny>>,
        seed: Option<u64>,
        output_scores: bool,
        attention_mask: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (prompt, rows, _) = id_matrix(prompt_ids, "prompt_ids")?;
        if rows != batch_size {
            return Err(PyValueError::new_err(format!(
                "prompt_ids has {rows} rows but batch_size is {batch_size}; pass the prompts before \
                 any expansion for num_beams / num_return_sequences (the generator expands them)"
            )));
        }
        let padding = match attention_mask {
            Some(m) if !m.is_none() => {
                let (mask, r, c) = int_matrix(m, "attention_mask")?;
                if r != batch_size || c != prompt.len() / batch_size.max(1) {
                    return Err(PyValueError::new_err(
                        "attention_mask must have the shape of prompt_ids",
                    ));
                }
                Some(padding_lengths(&mask, r))
            }
            _ => None,
        };
        let params = GenerationParams {
            do_sample,
            num_beams,
            num_return_sequences,
            temperature,
            top_k: non_negative(top_k, "top_k")?,
            top_p,
            min_p,
            typical_p,
            repetition_penalty,
            no_repeat_ngram_size: non_negative(no_repeat_ngram_size, "no_repeat_ngram_size")?,
            bad_words_ids: bad_words_ids
                .map(|words| words.into_iter().map(|w| ids(w, "bad_words_ids")).collect())
                .transpose()?,
            suppress_tokens: suppress_tokens
                .map(|t| ids(t, "suppress_tokens"))
                .transpose()?,
            min_length,
            min_new_tokens: non_negative(min_new_tokens, "min_new_tokens")?,
            max_length,
            eos_token_ids: eos_ids(eos_token_ids)?,
            pad_token_id: pad_token_id
                .map(|p| ids(vec![p], "pad_token_id").map(|v| v[0]))
                .transpose()?,
            length_penalty,
            early_stopping: parse_early_stopping(early_stopping)?,
            seed,
        };
        let inner = py.detach(|| {
            guarded(|| {
                Ok(Generator::new(
                    params, batch_size, vocab_size, &prompt, padding,
                )?)
            })
        })?;
        Ok(PyGenerator {
            inner,
            output_scores,
        })
    }

    /// Rows per step: batch_size * max(num_beams, num_return_sequences).
    #[getter]
    fn rows(&self) -> usize {
        self.inner.rows()
    }

    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    #[getter]
    fn prompt_length(&self) -> usize {
        self.inner.prompt_length()
    }

    #[getter]
    fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// One decoding step from the last-position logits, float32 (rows, vocab).
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        logits: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let array = logits_array(logits, "logits")?;
        let readonly = array.readonly();
        let slice = readonly.as_slice()?;
        let output_scores = self.output_scores;
        let inner = &mut self.inner;
        let out = py.detach(|| guarded(|| Ok(inner.step(slice, output_scores)?)))?;
        let rows = out.next_tokens.len();
        let dict = PyDict::new(py);
        let to_i64 = |v: Vec<u32>| v.into_iter().map(i64::from).collect::<Vec<_>>();
        dict.set_item("next_tokens", to_i64(out.next_tokens).into_pyarray(py))?;
        dict.set_item(
            "beam_indices",
            out.beam_indices
                .into_iter()
                .map(|i| i as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        dict.set_item("done", out.done)?;
        if let Some(scores) = out.scores {
            let vocab = self.inner.vocab_size();
            dict.set_item("scores", scores.into_pyarray(py).reshape([rows, vocab])?)?;
        }
        Ok(dict)
    }

    /// The generated sequences, prompt included, padded as transformers pads them.
    /// Mark rows finished (a stop string matched); returns whether every row is finished.
    fn stop_rows(&mut self, stopped: Vec<bool>) -> PyResult<bool> {
        let inner = &mut self.inner;
        guarded(|| Ok(inner.stop_rows(&stopped)?))
    }

    fn finalize<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = self.inner.finalize();
        let dict = PyDict::new(py);
        let seqs: Vec<i64> = out.sequences.into_iter().map(i64::from).collect();
        dict.set_item(
            "sequences",
            seqs.into_pyarray(py).reshape([out.rows, out.length])?,
        )?;
        if let Some(scores) = out.sequences_scores {
            dict.set_item("sequences_scores", scores.into_pyarray(py))?;
        }
        Ok(dict)
    }

    /// Apply the configured processors (and the warpers when sampling) to a copy of `logits`
    /// (rows, vocab) for `input_ids` (rows, cur_len); the generation state is untouched.
    #[pyo3(signature = (logits, input_ids, attention_mask=None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        logits: &Bound<'py, PyAny>,
        input_ids: &Bound<'py, PyAny>,
        attention_mask: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let array = logits_array(logits, "logits")?;
        let (rows, vocab) = (array.shape()[0], array.shape()[1]);
        let mut scores = array.readonly().as_slice()?.to_vec();
        let (ids, id_rows, _) = id_matrix(input_ids, "input_ids")?;
        if id_rows != rows {
            return Err(PyValueError::new_err(format!(
                "input_ids has {id_rows} rows but logits has {rows}"
            )));
        }
        let padding = match attention_mask {
            Some(m) if !m.is_none() => {
                let (mask, r, _) = int_matrix(m, "attention_mask")?;
                Some(padding_lengths(&mask, r))
            }
            _ => None,
        };
        let inner = &self.inner;
        py.detach(|| {
            guarded(|| Ok(inner.process(&mut scores, &ids, rows, padding.as_deref())?))
        })?;
        scores.into_pyarray(py).reshape([rows, vocab])
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "Generator(rows={}, vocab_size={}, do_sample={}, num_beams={}, max_length={})",
            self.inner.rows(),
            self.inner.vocab_size(),
            if p.do_sample { "True" } else { "False" },
            p.num_beams,
            p.max_length
        )
    }
}

/// Reseed the process-wide source that generators without an explicit seed draw their seed from.
#[pyfunction]
pub fn set_seed(seed: u64) {
    generation::set_seed(seed);
}
