//! `fill_dropout_mask`: the Python face of `ferroformers_core::random::dropout`.

use ferroformers_core::random::dropout::{check_drop_probability, fill_dropout_mask as fill};
use ferroformers_core::Error;
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::{guarded, to_py};

/// Overwrite the float32 array `out` with a dropout mask: each element `1 / (1 - p)` with
/// probability `1 - p`, else `0.0`.
///
/// The caller allocates `out` (a torch tensor seen through `.numpy()`): torch's allocator reuses
/// freed blocks, while a fresh allocation here would page-fault on every 4 KiB of a large mask,
/// which costs as much as filling it. Filled on the crate's thread pool with the GIL released; the
/// values depend on `(out.size, p, seed)` only, never on the number of threads.
#[pyfunction]
pub fn fill_dropout_mask(out: &Bound<'_, PyAny>, p: f64, seed: &Bound<'_, PyAny>) -> PyResult<()> {
    let array = out.cast::<PyArrayDyn<f32>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "out must be a float32 numpy array, got {}; pass torch.empty(shape).numpy()",
            out.get_type()
        ))
    })?;
    if !array.is_c_contiguous() {
        return Err(to_py(Error::InvalidArgument(
            "out must be C-contiguous; pass torch.empty(shape).numpy()".to_owned(),
        )));
    }
    let seed: u64 = seed.extract().map_err(|_| {
        to_py(Error::InvalidArgument(format!(
            "seed must be an integer in [0, 2**64), got {seed}"
        )))
    })?;
    check_drop_probability(p).map_err(to_py)?;
    let mut writable = array.try_readwrite().map_err(|e| {
        to_py(Error::InvalidArgument(format!(
            "out must be a writable array that nothing else is borrowing: {e}"
        )))
    })?;
    let mask = writable.as_slice_mut()?;
    out.py().detach(|| guarded(|| fill(mask, p, seed)))
}
