//! The Rayon pool a batch builds for its call, and the order-keeping map of its jobs over it.

use rayon::prelude::*;

/// A pool for the call, or none when the jobs run on the calling thread (one thread or one job;
/// also if the system refuses new threads, which only costs parallelism). Its threads are named
/// `{name}-{i}`.
pub(crate) fn call_pool(threads: usize, jobs: usize, name: &'static str) -> Option<rayon::ThreadPool> {
    if threads <= 1 || jobs <= 1 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min(jobs))
        .thread_name(move |i| format!("{name}-{i}"))
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
