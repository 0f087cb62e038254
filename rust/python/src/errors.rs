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
            Error::Io { .. } => PyOSError::new_err(message),
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

/// Run core code, turning both its errors and any panic into Python exceptions.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Python::attach(|py| {
                raise(
                    py,
                    "FerroformersError",
                    format!("internal error in the Rust core: {what}. Please report it with the input that caused it."),
                    PyValueError::new_err::<String>,
                )
            }))
        }
    }
}

/// An `InvalidTokenIdError` with a custom message.
pub fn to_py_invalid_id(py: Python<'_>, message: String) -> PyErr {
    raise(py, "InvalidTokenIdError", message, |m| {
        PyValueError::new_err(m)
    })
}
