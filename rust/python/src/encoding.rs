//! `Encoding`: the Python view of one encoded input, field for field as `tokenizers.Encoding`.

use std::sync::{Mutex, OnceLock, PoisonError};

use ferroformers_core::{Encoding, IdsRow};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyInt, PyList};

#[pyclass(name = "Encoding", module = "ferroformers._core", frozen)]
pub struct PyEncoding {
    row: IdsRow,
    /// A laid-out row as a full `Encoding`, built the first time a field besides the ids is read:
    /// the ids-only batch paths make one object per text, and most callers read only `ids`.
    full: OnceLock<Box<Encoding>>,
    /// The ids as a list built ahead, while other threads were still encoding the batch (see
    /// `PyEncoding::with_ids_list`): the first read of `ids` takes it, later reads build their
    /// own, so each read still returns a list nobody else holds.
    ids_ahead: Mutex<Option<Py<PyList>>>,
}

impl From<Encoding> for PyEncoding {
    fn from(encoding: Encoding) -> Self {
        IdsRow::Full(Box::new(encoding)).into()
    }
}

impl From<IdsRow> for PyEncoding {
    fn from(row: IdsRow) -> Self {
        PyEncoding {
            row,
            full: OnceLock::new(),
            ids_ahead: Mutex::new(None),
        }
    }
}

impl PyEncoding {
    /// An encoding whose first `ids` read is ready: its list is built now, by the caller that
    /// holds the GIL anyway, rather than later by the reader.
    pub(crate) fn with_ids_list(
        py: Python<'_>,
        row: IdsRow,
        lists: &mut BatchLists,
    ) -> PyResult<Self> {
        let list = lists.ids_list(py, row.ids())?.unbind();
        let encoding = PyEncoding::from(row);
        *encoding
            .ids_ahead
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(list);
        Ok(encoding)
    }

    pub(crate) fn encoding(&self) -> &Encoding {
        match &self.row {
            IdsRow::Full(encoding) => encoding,
            row => self.full.get_or_init(|| Box::new(row.to_encoding())),
        }
    }
}

#[pymethods]
impl PyEncoding {
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let ahead = self
            .ids_ahead
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(list) = ahead {
            return Ok(list.into_bound(py));
        }
        ids_list(py, self.row.ids())
    }
    #[getter]
    fn type_ids(&self) -> Vec<u32> {
        self.encoding().type_ids.clone()
    }
    #[getter]
    fn tokens(&self) -> Vec<String> {
        self.encoding().tokens.clone()
    }
    #[getter]
    fn offsets(&self) -> Vec<(usize, usize)> {
        self.encoding().offsets.clone()
    }
    #[getter]
    fn attention_mask(&self) -> Vec<u32> {
        self.encoding().attention_mask.clone()
    }
    #[getter]
    fn special_tokens_mask(&self) -> Vec<u32> {
        self.encoding().special_tokens_mask.clone()
    }
    /// The word index of each token (`None` for special and padding tokens).
    #[getter]
    fn word_ids(&self) -> Vec<Option<u32>> {
        self.encoding().words.clone()
    }
    /// Deprecated alias of `word_ids`, kept for drop-in compatibility.
    #[getter]
    fn words(&self) -> Vec<Option<u32>> {
        self.encoding().words.clone()
    }
    /// The input sequence (0 or 1) of each token (`None` for special and padding tokens).
    #[getter]
    fn sequence_ids(&self) -> Vec<Option<usize>> {
        self.encoding().sequence_ids()
    }
    #[getter]
    fn n_sequences(&self) -> usize {
        self.encoding().n_sequences()
    }
    /// The pieces cut off by truncation, as encodings of their own.
    #[getter]
    fn overflowing(&self) -> Vec<PyEncoding> {
        self.encoding()
            .overflowing
            .iter()
            .cloned()
            .map(PyEncoding::from)
            .collect()
    }
    /// The token index of the char at `char_pos` in sequence `sequence_index`, if any.
    #[pyo3(signature = (char_pos, sequence_index=0))]
    fn char_to_token(&self, char_pos: usize, sequence_index: usize) -> Option<usize> {
        let seq = self.encoding().sequence_ids();
        (0..self.encoding().len()).find(|&i| {
            let (a, b) = self.encoding().offsets[i];
            seq[i].unwrap_or(0) == sequence_index
                && self.encoding().special_tokens_mask[i] == 0
                && a <= char_pos
                && char_pos < b
        })
    }
    /// The (start, end) token span of word `word_index` in sequence `sequence_index`.
    #[pyo3(signature = (word_index, sequence_index=0))]
    fn word_to_tokens(&self, word_index: u32, sequence_index: usize) -> Option<(usize, usize)> {
        let seq = self.encoding().sequence_ids();
        let hits: Vec<usize> = (0..self.encoding().len())
            .filter(|&i| {
                self.encoding().words[i] == Some(word_index)
                    && seq[i].unwrap_or(0) == sequence_index
            })
            .collect();
        Some((*hits.first()?, hits.last()? + 1))
    }
    fn __len__(&self) -> usize {
        self.row.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "Encoding(num_tokens={}, attributes=[ids, type_ids, tokens, offsets, attention_mask, special_tokens_mask, overflowing])",
            self.encoding().len()
        )
    }
}

/// The id lists of a batch being built, kept out of the cycle collector until the batch is
/// handed over. A collection runs whenever enough container objects have been allocated, so
/// building a batch's lists set off several, and each one walked every young list, item by item
/// (a tenth of the time of a batch of GPT-2 id lists). These lists hold only ints and nothing
/// else references them yet, so they cannot be part of a cycle; once the batch is built (or
/// dropped, on an error) each is tracked again, as every list is when Python code gets it.
pub(crate) struct BatchLists {
    untracked: Vec<Py<PyList>>,
}

impl BatchLists {
    pub(crate) fn with_capacity(n: usize) -> Self {
        BatchLists {
            untracked: Vec::with_capacity(n),
        }
    }

    /// [`ids_list`], untracked until `self` is dropped.
    fn ids_list<'py>(&mut self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let list = ids_list(py, ids)?;
        // SAFETY: a live list the GIL holder just made; untracking only hides it from the
        // collector, and `drop` tracks it again while this holds a reference to it.
        unsafe { ffi::PyObject_GC_UnTrack(list.as_ptr().cast()) };
        self.untracked.push(list.clone().unbind());
        Ok(list)
    }
}

impl Drop for BatchLists {
    fn drop(&mut self) {
        Python::attach(|_| {
            for list in self.untracked.drain(..) {
                // SAFETY: `list` is alive (the reference held here), the GIL is held, and it is
                // untracked (tracking a tracked object is a fatal error, hence the check).
                unsafe {
                    if ffi::PyObject_GC_IsTracked(list.as_ptr()) == 0 {
                        ffi::PyObject_GC_Track(list.as_ptr().cast());
                    }
                }
            }
        });
    }
}

/// Python ints for token ids, made once per process and shared by every list of ids: a list is
/// then built by taking references, not by allocating one int object per id (most of the cost of
/// returning ids to Python otherwise). Ids are cached in blocks of `BLOCK`, a block when first
/// needed, up to `CACHED_IDS`; larger ids get fresh ints.
const BLOCK: usize = 4096;
const CACHED_IDS: usize = 64 * BLOCK;
static ID_INTS: [PyOnceLock<Box<[Py<PyInt>]>>; CACHED_IDS / BLOCK] =
    [const { PyOnceLock::new() }; CACHED_IDS / BLOCK];

fn id_ints(py: Python<'_>, block: usize) -> &[Py<PyInt>] {
    ID_INTS[block].get_or_init(py, || {
        let pinned = list_fill(py).pinned_ints;
        (block * BLOCK..(block + 1) * BLOCK)
            .map(|id| {
                let int = PyInt::new(py, id).unbind();
                if pinned {
                    // SAFETY: `pinned_ints` was probed on an int of this interpreter: the
                    // refcount is the head's first word, and one set to `PINNED_REFCOUNT`
                    // stays far from zero however many references are dropped.
                    unsafe { (*(int.as_ptr() as *mut ObjectHead)).refcount = PINNED_REFCOUNT };
                }
                int
            })
            .collect()
    })
}

/// The refcount of a pinned id int. Lists of ids hold pinned ints without counting their
/// references, so that building a list does not touch each int (a cache miss per id, about
/// half the cost of a list); the count then falls by one each time such a list is freed.
/// CPython before 3.12 counts in 64 bits, and 2^62 drops cannot happen. CPython 3.12 and later
/// read a count whose low 32 bits are negative as an immortal object (PEP 683), whose count is
/// never changed: the low bits here are `0xC000_0000`, the count 3.14 gives immortal objects.
const PINNED_REFCOUNT: isize = (1 << 62) | 0xC000_0000;

/// The head every CPython object starts with (release builds, without `Py_TRACE_REFS`).
#[repr(C)]
struct ObjectHead {
    refcount: isize,
    type_object: *mut ffi::PyTypeObject,
}

/// CPython's `PyListObject`: the head, the length, the item array and its capacity.
#[repr(C)]
struct ListHead {
    head: ObjectHead,
    len: isize,
    items: *mut *mut ffi::PyObject,
    allocated: isize,
}

/// How a new list of ids is filled. The stable ABI hides the list's item array and makes every
/// `Py_INCREF` a call, which made our lists cost about twice what CPython's list copy costs;
/// where a probe of the running interpreter shows the layout the fast path relies on, the list
/// is filled as CPython's own list copy fills one.
#[derive(Clone, Copy)]
struct ListFill {
    /// The item array of a list is `ListHead::items` (probed: a list made by the API reads back).
    direct_items: bool,
    /// `Py_INCREF` is `refcount += 1`: CPython before 3.12 (no immortal objects), probed.
    direct_refcount: bool,
    /// The shared id ints are pinned (see [`PINNED_REFCOUNT`]) and their references in a list
    /// are not counted (probed: a pinned int keeps a count far from zero through the API's
    /// increments and decrements).
    pinned_ints: bool,
}

static LIST_FILL: PyOnceLock<ListFill> = PyOnceLock::new();

fn list_fill(py: Python<'_>) -> ListFill {
    *LIST_FILL.get_or_init(py, || {
        let first = PyInt::new(py, 1_000_003);
        let second = PyInt::new(py, 1_000_033);
        let Ok(list) = PyList::new(py, [&first, &second]) else {
            return ListFill {
                direct_items: false,
                direct_refcount: false,
                pinned_ints: false,
            };
        };
        // SAFETY: reads of a live list and a live int through the layouts above; a build whose
        // layout differs (a debug build's extra head fields) fails the comparisons and takes
        // the API path. The increment is undone before anything else runs.
        unsafe {
            let raw = list.as_ptr() as *const ListHead;
            let direct_items = (*raw).head.type_object == &raw mut ffi::PyList_Type
                && (*raw).len == 2
                && (*raw).allocated >= 2
                && *(*raw).items == first.as_ptr()
                && *(*raw).items.add(1) == second.as_ptr();
            let int_head = first.as_ptr() as *const ObjectHead;
            let before = (*int_head).refcount;
            ffi::Py_IncRef(first.as_ptr());
            let after = (*int_head).refcount;
            ffi::Py_DecRef(first.as_ptr());
            let int_layout = (*int_head).type_object == &raw mut ffi::PyLong_Type;
            let direct_refcount = py.version_info() < (3, 12)
                && int_layout
                && after == before + 1
                && (*int_head).refcount == before;
            // A probe int is pinned, then released more often than it was taken, as a pinned
            // int in a list is: its count must stay pinned (3.12+) or merely fall (3.11). The
            // probe is then kept for good, as the pinned ints are.
            let pinned_ints = direct_items && int_layout && {
                let probe = PyInt::new(py, 1_000_037).unbind().into_ptr();
                let head = probe as *mut ObjectHead;
                (*head).refcount = PINNED_REFCOUNT;
                ffi::Py_IncRef(probe);
                for _ in 0..3 {
                    ffi::Py_DecRef(probe);
                }
                let count = (*head).refcount;
                (PINNED_REFCOUNT - 2..=PINNED_REFCOUNT + 1).contains(&count)
            };
            ListFill {
                direct_items,
                direct_refcount,
                pinned_ints,
            }
        }
    })
}

/// A Python list of `ids`, with the shared int objects of [`ID_INTS`].
pub(crate) fn ids_list<'py>(py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
    let fill = list_fill(py);
    // The blocks this list needs, looked up once rather than once per id.
    let max_id = ids.iter().copied().max().unwrap_or(0) as usize;
    let mut blocks: [&[Py<PyInt>]; CACHED_IDS / BLOCK] = [&[]; CACHED_IDS / BLOCK];
    for (block, slot) in blocks
        .iter_mut()
        .enumerate()
        .take(max_id.min(CACHED_IDS - 1) / BLOCK + 1)
    {
        *slot = id_ints(py, block);
    }
    let len = isize::try_from(ids.len()).map_err(|_| PyErr::fetch(py))?;
    // SAFETY: `PyList_New` returns a new reference (or null with an exception set) whose `len`
    // slots are null; every slot is then filled exactly once with an owned reference, either
    // through `PyList_SetItem` (which steals it) or, where `list_fill` probed the layout, by a
    // store into the item array, as `PyList_SET_ITEM` does. The GIL is held throughout.
    unsafe {
        let list = ffi::PyList_New(len);
        if list.is_null() {
            return Err(PyErr::fetch(py));
        }
        let list = Bound::from_owned_ptr(py, list);
        let items = if fill.direct_items {
            (*(list.as_ptr() as *const ListHead)).items
        } else {
            std::ptr::null_mut()
        };
        for (i, &id) in ids.iter().enumerate() {
            let id = id as usize;
            let item = if id < CACHED_IDS {
                let p = blocks[id / BLOCK][id % BLOCK].as_ptr();
                if fill.pinned_ints {
                    // A pinned int: the reference is not counted (see `PINNED_REFCOUNT`).
                } else if fill.direct_refcount {
                    (*(p as *mut ObjectHead)).refcount += 1;
                } else {
                    ffi::Py_IncRef(p);
                }
                p
            } else {
                let p = ffi::PyLong_FromSize_t(id);
                if p.is_null() {
                    return Err(PyErr::fetch(py));
                }
                p
            };
            if fill.direct_items {
                *items.add(i) = item;
            } else {
                ffi::PyList_SetItem(list.as_ptr(), i as isize, item);
            }
        }
        Ok(list.cast_into_unchecked())
    }
}
