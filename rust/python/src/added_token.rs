//! `AddedToken`: a token added on top of the model's vocabulary, with its matching flags.

use ferroformers_core::tokenizer::AddedToken;
use pyo3::prelude::*;

#[pyclass(name = "AddedToken", module = "ferroformers._core", eq, hash, frozen)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyAddedToken {
    pub inner: AddedToken,
    /// `normalized` as the caller gave it: when it was left out, adding the token as a special
    /// token makes it `false` (as Hugging Face resolves it then, not at construction).
    pub normalized_given: Option<bool>,
}

impl PyAddedToken {
    pub fn from_inner(inner: AddedToken) -> Self {
        let normalized_given = Some(inner.normalized);
        PyAddedToken {
            inner,
            normalized_given,
        }
    }

    /// The token as `add_tokens` (`as_special` false) or `add_special_tokens` (true) adds it.
    pub fn to_added(&self, as_special: bool) -> AddedToken {
        let mut token = self.inner.clone();
        if as_special {
            token.special = true;
            token.normalized = self.normalized_given.unwrap_or(false);
        }
        token
    }
}

#[pymethods]
impl PyAddedToken {
    /// `normalized` defaults to `not special`, as in Hugging Face.
    #[new]
    #[pyo3(signature = (content, single_word=false, lstrip=false, rstrip=false, normalized=None, special=false))]
    fn new(
        content: String,
        single_word: bool,
        lstrip: bool,
        rstrip: bool,
        normalized: Option<bool>,
        special: bool,
    ) -> Self {
        PyAddedToken {
            inner: AddedToken {
                content,
                single_word,
                lstrip,
                rstrip,
                normalized: normalized.unwrap_or(!special),
                special,
            },
            normalized_given: normalized,
        }
    }
    #[getter]
    fn content(&self) -> String {
        self.inner.content.clone()
    }
    #[getter]
    fn single_word(&self) -> bool {
        self.inner.single_word
    }
    #[getter]
    fn lstrip(&self) -> bool {
        self.inner.lstrip
    }
    #[getter]
    fn rstrip(&self) -> bool {
        self.inner.rstrip
    }
    #[getter]
    fn normalized(&self) -> bool {
        self.inner.normalized
    }
    #[getter]
    fn special(&self) -> bool {
        self.inner.special
    }
    fn __str__(&self) -> String {
        self.inner.content.clone()
    }
    fn __repr__(&self) -> String {
        let t = &self.inner;
        format!(
            "AddedToken({:?}, rstrip={}, lstrip={}, single_word={}, normalized={}, special={})",
            t.content,
            py_bool(t.rstrip),
            py_bool(t.lstrip),
            py_bool(t.single_word),
            py_bool(t.normalized),
            py_bool(t.special)
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}
