//! The one place core errors become Python exceptions.
//!
//! The exception classes live in `ferroformers/errors.py` (Python allows them standard second
//! bases such as `ValueError`, which `create_exception!` cannot); we look them up once and raise
//! them here. Panics are caught at the FFI boundary and become `FerroformersError` too, never a
//! `PanicException`.

use ferroformers_core::Error;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// Our exception class `name` from `ferroformers.errors`, or `None` if that module is unavailable.
fn exception_class(py: Python<'_>, name: &str) -> Option<Py<PyType>> {
    static MODULE: PyOnceLock<Option<Py<PyModule>>> = PyOnceLock::new();
    let module = MODULE
        .get_or_init(py, || {
            py.import("ferroformers.errors").ok().map(Bound::unbind)
        })
        .as_ref()?;
    module
        .bind(py)
        .getattr(name)
        .ok()?
        .cast_into::<PyType>()
        .ok()
        .map(Bound::unbind)
}

fn raise(py: Python<'_>, class: &str, message: String, fallback: fn(String) -> PyErr) -> PyErr {
    match exception_class(py, class) {
        Some(cls) => PyErr::from_type(cls.into_bound(py), message),
        None => fallback(message),
    }
}

/// Convert a core error into the matching Python exception.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| {
        let message = err.to_string();
        match err {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                raise(py, "TokenizerFileNotFoundError", message, |m| {
                    PyFileNotFoundError::new_err(m)
                })
            }
            // A folder where a file was expected: say which file to pass.
            Error::Io { path, .. } if path.is_dir() => raise(
                py,
                "TokenizerFileIsADirectoryError",
                format!(
                    "{message}: {} is a folder; pass the path of the file itself (for a Hugging \
                     Face folder, {}), or load the folder with AutoTokenizer.from_pretrained",
                    path.display(),
                    path.join("tokenizer.json").display()
                ),
                PyOSError::new_err::<String>,
            ),
            Error::Io { .. } => raise(py, "TokenizerFileReadError", message, |m| {
                PyOSError::new_err(m)
            }),
            Error::Format { .. } => raise(py, "TokenizerFileError", message, |m| {
                PyValueError::new_err(m)
            }),
            Error::Unsupported { .. } => raise(py, "UnsupportedComponentError", message, |m| {
                PyValueError::new_err(m)
            }),
            Error::InvalidInput(_) | Error::Model(_) => {
                raise(py, "TokenizationError", message, |m| {
                    PyValueError::new_err(m)
                })
            }
            // Not about tokenization (a dropout probability, a seed, an output array): a plain ValueError.
            Error::InvalidArgument(_) => PyValueError::new_err(message),
            Error::IdOutOfRange { .. } => raise(py, "InvalidTokenIdError", message, |m| {
                PyValueError::new_err(m)
            }),
            // Every generation error is about the caller's settings or arrays.
            Error::Generation(_) => raise(
                py,
                "GenerationError",
                message,
                PyValueError::new_err::<String>,
            ),
        }
    })
}

/// A `TokenizationError` about the arguments of a call.
pub fn bad_input(message: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        raise(py, "TokenizationError", message.into(), |m| {
            PyValueError::new_err(m)
        })
    })
}

/// Why core code failed: an error it returned, or a panic it was stopped in (with the panic's text).
pub enum Failure {
    Core(Error),
    Panic(String),
}

impl Failure {
    /// The Python exception; needs the GIL, so call it after leaving `py.detach`.
    pub fn into_py(self) -> PyErr {
        match self {
            Failure::Core(e) => to_py(e),
            Failure::Panic(what) => Python::attach(|py| {
                raise(
                    py,
                    "FerroformersError",
                    format!("internal error in the Rust core: {what}. Please report it with the input that caused it."),
                    PyValueError::new_err::<String>,
                )
            }),
        }
    }
}

/// Run core code, catching a panic; touches nothing of Python, so it can run with the GIL released
/// and a lock held (converting the failure later, with [`Failure::into_py`], takes the GIL).
pub fn caught<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Failure> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::Core(e)),
        Err(panic) => Err(Failure::Panic(
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned()),
        )),
    }
}

/// Run core code, turning both its errors and any panic into Python exceptions.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
    caught(f).map_err(Failure::into_py)
}

/// An `InvalidTokenIdError` with a custom message.
pub fn to_py_invalid_id(py: Python<'_>, message: String) -> PyErr {
    raise(py, "InvalidTokenIdError", message, |m| {
        PyValueError::new_err(m)
    })
}
