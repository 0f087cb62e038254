//! Python → core input conversion, with errors that name the offending item.

use std::borrow::Cow;

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

/// The text of a Python `str`, borrowed from it; `what` says where it came from for the error
/// message.
fn text<'a>(obj: &'a Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<&'a str> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{} must be a str, got {}",
            what(),
            type_name(obj)
        )));
    };
    utf8_of(s).map_err(|e| {
        bad_input(format!(
            "{} is not valid Unicode text ({e}); lone surrogates cannot be tokenized: \
             clean the text first, e.g. text.encode('utf-8', 'replace').decode('utf-8')",
            what()
        ))
    })
}

/// The words of a pretokenized sequence, copied: a list can change while the GIL is released.
fn words(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Vec<Cow<'static, str>>> {
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
        .map(|(j, w)| {
            let w = w?;
            let word = text(&w, &|| format!("{}, word {j}", what()))?;
            Ok(Cow::Owned(word.to_owned()))
        })
        .collect()
}

/// One sequence of `encode`. Raw text is borrowed from `obj`, which the caller holds for as long
/// as the input lives (a `str` never changes); words are copied.
pub fn sequence<'a>(
    obj: &'a Bound<'_, PyAny>,
    pretokenized: bool,
    what: &dyn Fn() -> String,
) -> PyResult<InputSequence<'a>> {
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
        Ok(InputSequence::Raw(Cow::Borrowed(text(obj, what)?)))
    }
}

/// One item of `encode_batch`: a sequence, or a `(first, second)` pair. A lone text is borrowed
/// from `obj`; the texts of a pair are copied (a list pair can change while the GIL is released,
/// and nothing would hold a text taken out of it).
fn batch_item<'a>(
    obj: &'a Bound<'_, PyAny>,
    pretokenized: bool,
    index: usize,
) -> PyResult<EncodeInput<'a>> {
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
        let first = obj.get_item(0)?;
        let second = obj.get_item(1)?;
        let first = sequence(&first, pretokenized, &|| {
            format!("batch item {index}, first text")
        })?;
        let second = sequence(&second, pretokenized, &|| {
            format!("batch item {index}, second text")
        })?;
        return Ok(EncodeInput {
            first: first.into_owned(),
            second: Some(second.into_owned()),
        });
    }
    Ok(EncodeInput {
        first: sequence(obj, pretokenized, &what)?,
        second: None,
    })
}

/// The items of a batch, each with a reference of our own: the texts borrowed from them (see
/// [`batch`]) stay alive and unchanged while the batch is encoded with the GIL released, whatever
/// another thread does to the caller's list meanwhile.
pub fn batch_items<'py>(inputs: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if inputs.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "encode_batch expects a list of texts, got a single str; use encode() for one text or wrap it in a list",
        ));
    }
    // A list or tuple is read by index, without an iterator object per step.
    if let Ok(list) = inputs.cast::<PyList>() {
        return Ok(held_list_items(list));
    }
    if let Ok(tuple) = inputs.cast::<PyTuple>() {
        return Ok(tuple.iter().collect());
    }
    let iter = inputs.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "encode_batch expects a list of texts, got {}",
            type_name(inputs)
        ))
    })?;
    iter.collect()
}

/// The items of `list`, each with a new reference. The objects lie anywhere in the heap, and
/// taking a reference writes to each: the item a few places ahead is prefetched, so that these
/// cache misses overlap instead of following one another (~4 % of a GPT-2 padded batch call).
fn held_list_items<'py>(list: &Bound<'py, PyList>) -> Vec<Bound<'py, PyAny>> {
    const AHEAD: usize = 8;
    let len = list.len();
    let mut items = Vec::with_capacity(len);
    for i in 0..len {
        #[cfg(target_arch = "x86_64")]
        if i + AHEAD < len {
            // SAFETY: the index is in bounds and the GIL is held; `PyList_GetItem` returns a
            // borrowed pointer (no reference taken), used only as a prefetch address, which
            // cannot fault whatever it points to.
            unsafe {
                let ahead = pyo3::ffi::PyList_GetItem(list.as_ptr(), (i + AHEAD) as isize);
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    ahead.cast::<i8>(),
                );
            }
        }
        match list.get_item(i) {
            Ok(item) => items.push(item),
            // The list cannot shrink while we hold the GIL and run no Python code.
            Err(_) => break,
        }
    }
    items
}

/// The inputs of a batch whose items [`batch_items`] holds, texts borrowed from them (no copy).
pub fn batch<'a>(
    items: &'a [Bound<'_, PyAny>],
    pretokenized: bool,
) -> PyResult<Vec<EncodeInput<'a>>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| batch_item(item, pretokenized, i))
        .collect()
}
