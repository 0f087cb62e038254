//! `ferroformers._core`: the PyO3 bindings. Type conversion, GIL release and error mapping only;
//! all tokenization, generation and dropout-mask logic lives in the `ferroformers-core` crate.

mod added_token;
mod encoding;
mod errors;
mod generation;
mod inputs;
mod random;
mod tokenizer;

use pyo3::prelude::*;

/// Tokenization makes many small, short-lived allocations (pieces, tokens); mimalloc serves them
/// several times faster than the system allocator (measured: malloc/free were ~45% of the time).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Use `n` threads for batch calls (0 restores the default from the environment).
#[pyfunction]
fn set_num_threads(n: usize) {
    ferroformers_core::tokenizer::threads::set_num_threads(n);
}

/// The number of threads batch calls use.
#[pyfunction]
fn get_num_threads() -> usize {
    ferroformers_core::tokenizer::threads::num_threads()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tokenizer::PyTokenizer>()?;
    m.add_class::<encoding::PyEncoding>()?;
    m.add_class::<added_token::PyAddedToken>()?;
    m.add_class::<generation::PyGenerator>()?;
    m.add_function(wrap_pyfunction!(generation::set_seed, m)?)?;
    m.add_function(wrap_pyfunction!(random::fill_dropout_mask, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
