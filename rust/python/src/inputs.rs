//! Python → core input conversion, with errors that name the offending item.

use ferroformers_core::tokenizer::{EncodeInput, InputSequence};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::errors::bad_input;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

// In CPython's C API since 3.3 and in the stable ABI from 3.10. pyo3's abi3-py39 build does not
// declare it and reads a `str` by encoding it into a new `bytes` object instead, then copying that.
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// The UTF-8 text of `s`, without a copy: CPython keeps the UTF-8 form of an ASCII string as its
/// data, and caches it in the string object for any other (as pyo3's own non-abi3 reads do).
/// Valid while `s` lives. Fails on lone surrogates, which UTF-8 cannot hold.
fn utf8_of<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` and the GIL is held. The returned buffer belongs to the string
    // object and lives as long as it (the borrow of `s` ties it to that); it holds `size` bytes of
    // valid UTF-8, which is what CPython guarantees on success.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}

/// A Python `str` as a Rust `String`; `what` says where it came from for the error message.
pub fn text(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<String> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{} must be a str, got {}",
            what(),
            type_name(obj)
        )));
    };
    match utf8_of(s) {
        Ok(t) => Ok(t.to_owned()),
        Err(e) => Err(bad_input(format!(
            "{} is not valid Unicode text ({e}); lone surrogates cannot be tokenized: \
             clean the text first, e.g. text.encode('utf-8', 'replace').decode('utf-8')",
            what()
        ))),
    }
}

fn words(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>()
        || !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>())
    {
        return Err(PyTypeError::new_err(format!(
            "{} must be a list of words (is_pretokenized=True), got {}",
            what(),
            type_name(obj)
        )));
    }
    obj.try_iter()?
        .enumerate()
        .map(|(j, w)| text(&w?, &|| format!("{}, word {j}", what())))
        .collect()
}

pub fn sequence(
    obj: &Bound<'_, PyAny>,
    pretokenized: bool,
    what: &dyn Fn() -> String,
) -> PyResult<InputSequence> {
    if obj.is_none() {
        return Err(PyTypeError::new_err(format!(
            "{} is None; pass a str{}",
            what(),
            if pretokenized { " list" } else { "" }
        )));
    }
    if pretokenized {
        Ok(InputSequence::PreTokenized(words(obj, what)?))
    } else {
        Ok(InputSequence::Raw(text(obj, what)?))
    }
}

/// One item of `encode_batch`: a sequence, or a `(first, second)` pair.
pub fn batch_item(
    obj: &Bound<'_, PyAny>,
    pretokenized: bool,
    index: usize,
) -> PyResult<EncodeInput> {
    let what = || format!("batch item {index}");
    let is_pair = if pretokenized {
        // A pair of word lists: a 2-tuple whose items are themselves lists.
        obj.cast::<PyTuple>().is_ok_and(|t| {
            t.len() == 2
                && t.iter().all(|x| {
                    (x.is_instance_of::<PyList>() || x.is_instance_of::<PyTuple>())
                        && !x.is_instance_of::<PyString>()
                })
        })
    } else {
        obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>()
    };
    if is_pair {
        let len = obj.len()?;
        if len != 2 {
            return Err(PyTypeError::new_err(format!(
                "batch item {index} is a {} of {len} items; a pair must have exactly 2 (text, text_pair)",
                type_name(obj)
            )));
        }
        let first = sequence(&obj.get_item(0)?, pretokenized, &|| {
            format!("batch item {index}, first text")
        })?;
        let second = sequence(&obj.get_item(1)?, pretokenized, &|| {
            format!("batch item {index}, second text")
        })?;
        return Ok(EncodeInput {
            first,
            second: Some(second),
        });
    }
    Ok(EncodeInput {
        first: sequence(obj, pretokenized, &what)?,
        second: None,
    })
}

pub fn batch(inputs: &Bound<'_, PyAny>, pretokenized: bool) -> PyResult<Vec<EncodeInput>> {
    if inputs.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "encode_batch expects a list of texts, got a single str; use encode() for one text or wrap it in a list",
        ));
    }
    let iter = inputs.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "encode_batch expects a list of texts, got {}",
            type_name(inputs)
        ))
    })?;
    iter.enumerate()
        .map(|(i, item)| batch_item(&item?, pretokenized, i))
        .collect()
}
