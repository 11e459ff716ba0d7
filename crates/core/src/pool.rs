//! The Rayon pool a batch builds for its call, and the order-keeping map of its jobs over it.

use rayon::prelude::*;

/// The stack of every thread that runs jobs (pool threads here, the binding's own threads): deep
/// symphony trees are parsed, planned and evaluated recursively, one level of recursion per level
/// of nesting, up to `symphony::MAX_DEPTH` levels.
pub const THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;

/// A pool for the call, or none when the jobs run on the calling thread (one thread or one job;
/// also if the system refuses new threads, which only costs parallelism). Its threads are named
/// `{name}-{i}` and have `THREAD_STACK_BYTES` of stack.
pub(crate) fn call_pool(threads: usize, jobs: usize, name: &'static str) -> Option<rayon::ThreadPool> {
    if threads <= 1 || jobs <= 1 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min(jobs))
        .thread_name(move |i| format!("{name}-{i}"))
        .stack_size(THREAD_STACK_BYTES)
        .build()
        .ok()
}

/// `job(0..n)` on the pool, one task per job so that long and short jobs balance, collected in
/// index order.
pub(crate) fn map_jobs<T: Send>(
    pool: Option<&rayon::ThreadPool>,
    n: usize,
    job: impl Fn(usize) -> T + Sync + Send,
) -> Vec<T> {
    match pool {
        Some(pool) => pool.install(|| (0..n).into_par_iter().with_max_len(1).map(&job).collect()),
        None => (0..n).map(job).collect(),
    }
}
