//! The thread pool batch encoding runs on.
//!
//! The size comes from `FERROFORMERS_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the cores this
//! process may use; [`set_num_threads`] changes it at run time. `FERROFORMERS_PARALLELISM=false`
//! (or `TOKENIZERS_PARALLELISM=false`, which Hugging Face users already set) turns it off.
//!
//! Fork safety: a forked child (multiprocessing's "fork", `datasets.map(num_proc=...)`) inherits
//! the pool's bookkeeping but not its threads, so using it would wait forever. The pool remembers
//! the pid that built it; a different pid means we are in a child, and a fresh pool is built.

use std::sync::{Arc, RwLock};

struct PoolState {
    pool: Arc<rayon::ThreadPool>,
    pid: u32,
    threads: usize,
}

static POOL: RwLock<Option<PoolState>> = RwLock::new(None);
static REQUESTED: RwLock<Option<usize>> = RwLock::new(None);

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

fn env_false(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "off" | "no"
        )
    })
}

/// Whether batch calls may use more than one thread.
pub fn parallelism_enabled() -> bool {
    !(env_false("FERROFORMERS_PARALLELISM") || env_false("TOKENIZERS_PARALLELISM"))
        && num_threads() > 1
}

/// The number of threads a batch call runs on now: 1 when parallelism is off.
pub fn batch_threads() -> usize {
    if parallelism_enabled() {
        num_threads()
    } else {
        1
    }
}

/// The number of threads batch calls use.
pub fn num_threads() -> usize {
    if let Some(n) = *REQUESTED.read().unwrap_or_else(|e| e.into_inner()) {
        return n;
    }
    env_usize("FERROFORMERS_NUM_THREADS")
        .or_else(|| env_usize("RAYON_NUM_THREADS"))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Use `n` threads from now on (`0` goes back to the environment's default).
pub fn set_num_threads(n: usize) {
    *REQUESTED.write().unwrap_or_else(|e| e.into_inner()) = (n > 0).then_some(n);
}

/// The pool for this process, (re)built when the size changed or after a fork.
pub fn pool() -> Arc<rayon::ThreadPool> {
    let want = num_threads();
    let pid = std::process::id();
    {
        let guard = POOL.read().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = guard.as_ref() {
            if state.pid == pid && state.threads == want {
                return state.pool.clone();
            }
        }
    }
    let mut guard = POOL.write().unwrap_or_else(|e| e.into_inner());
    if let Some(state) = guard.as_ref() {
        if state.pid == pid && state.threads == want {
            return state.pool.clone();
        }
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(want)
            .thread_name(|i| format!("ferroformers-{i}"))
            .build()
            .expect("building a thread pool"),
    );
    if let Some(old) = guard.take() {
        if old.pid != pid {
            // The parent's pool has no threads in this child; dropping it would try to join them.
            std::mem::forget(old);
        }
    }
    *guard = Some(PoolState {
        pool: pool.clone(),
        pid,
        threads: want,
    });
    pool
}
