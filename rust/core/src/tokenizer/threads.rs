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
        .unwrap_or_else(available_cores)
}

/// The cores this process may use (`std::thread::available_parallelism`). On Linux that also
/// reads the cgroup's CPU quota from `/proc` and `/sys`, some 40 µs a call: more than encoding a
/// short batch, and every batch call asks. So the answer is kept, with the count of CPUs in the
/// affinity mask it was computed under (one system call to read), and computed again when that
/// count changes (`os.sched_setaffinity`). A quota changed under a running process is seen at the
/// next change of the mask.
fn available_cores() -> usize {
    let compute = || std::thread::available_parallelism().map_or(1, |n| n.get());
    #[cfg(target_os = "linux")]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        /// `affinity CPUs << 32 | cores`; 0 before the first call.
        static KEPT: AtomicU64 = AtomicU64::new(0);
        let Some(affinity) = affinity_cpus() else {
            return compute();
        };
        let kept = KEPT.load(Ordering::Relaxed);
        if kept != 0 && kept >> 32 == affinity as u64 {
            return (kept & u64::from(u32::MAX)) as usize;
        }
        let cores = compute();
        if let (Ok(affinity), Ok(cores)) = (u32::try_from(affinity), u32::try_from(cores)) {
            KEPT.store(
                u64::from(affinity) << 32 | u64::from(cores),
                Ordering::Relaxed,
            );
        }
        cores
    }
    #[cfg(not(target_os = "linux"))]
    compute()
}

/// How many CPUs this thread's affinity mask holds; `None` where the mask cannot be read (more
/// CPUs than a `cpu_set_t` holds).
#[cfg(target_os = "linux")]
fn affinity_cpus() -> Option<usize> {
    // SAFETY: `set` is a plain bit set, valid zeroed; `sched_getaffinity` writes at most
    // `size_of::<cpu_set_t>()` bytes into it, and `CPU_COUNT` only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        usize::try_from(libc::CPU_COUNT(&set))
            .ok()
            .filter(|&n| n > 0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept core count is `available_parallelism`'s, and follows a change of the affinity
    /// mask (on a thread of its own, whose mask no other test shares).
    #[cfg(target_os = "linux")]
    #[test]
    fn available_cores_follow_the_affinity_mask() {
        let truth = || std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::spawn(move || {
            assert_eq!(available_cores(), truth());
            assert_eq!(available_cores(), truth(), "kept");
            // SAFETY: plain bit sets, valid zeroed; the calls write at most their size.
            unsafe {
                let mut all: libc::cpu_set_t = std::mem::zeroed();
                let size = std::mem::size_of::<libc::cpu_set_t>();
                assert_eq!(libc::sched_getaffinity(0, size, &mut all), 0);
                let first = (0..libc::CPU_SETSIZE as usize)
                    .find(|&cpu| libc::CPU_ISSET(cpu, &all))
                    .expect("a CPU in the mask");
                let mut one: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(first, &mut one);
                assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
                assert_eq!(available_cores(), 1);
                assert_eq!(truth(), 1);
                assert_eq!(libc::sched_setaffinity(0, size, &all), 0);
            }
            assert_eq!(available_cores(), truth());
        })
        .join()
        .unwrap();
    }
}
