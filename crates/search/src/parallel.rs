//! Running independent jobs on several threads with results delivered in job order.
//!
//! Workers take job indices from a shared counter (so jobs start in increasing order) and
//! send results back; the calling thread hands them to `on_done` strictly in index order,
//! holding back only the results that finished early. The outcome therefore does not depend
//! on the number of threads, and memory holds at most the out-of-order results.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The number of threads to use when the user does not say: every available core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work(i)` for `i in 0..jobs` on `threads` threads and calls `on_done(i, result)` in
/// increasing `i`. With one thread everything runs on the calling thread.
pub fn run_ordered<T, W, D>(jobs: usize, threads: usize, work: W, mut on_done: D)
where
    T: Send,
    W: Fn(usize) -> T + Sync,
    D: FnMut(usize, T),
{
    run_ordered_until(
        jobs,
        threads,
        || false,
        work,
        |i, result: Option<T>| {
            if let Some(result) = result {
                on_done(i, result);
            }
        },
    );
}

/// Like [`run_ordered`], but no job starts once `stop()` is true. The jobs that started are
/// always a prefix `0..n`; `on_done(i, Some(result))` is called for them in order, then
/// `on_done(i, None)` for each of `n..jobs`, in order, without calling `work`. So the set of
/// jobs is fixed before the run, and a job that never started costs nothing but that call.
pub fn run_ordered_until<T, S, W, D>(jobs: usize, threads: usize, stop: S, work: W, mut on_done: D)
where
    T: Send,
    S: Fn() -> bool + Sync,
    W: Fn(usize) -> T + Sync,
    D: FnMut(usize, Option<T>),
{
    let threads = threads.clamp(1, jobs.max(1));
    let mut started = 0;
    if threads == 1 {
        while started < jobs && !stop() {
            on_done(started, Some(work(started)));
            started += 1;
        }
    } else {
        let next = AtomicUsize::new(0);
        let (sender, receiver) = mpsc::channel::<(usize, T)>();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let sender = sender.clone();
                let (next, work, stop) = (&next, &work, &stop);
                scope.spawn(move || {
                    while !stop() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs || sender.send((i, work(i))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut pending = BTreeMap::new();
            for (i, result) in receiver {
                pending.insert(i, result);
                while let Some(result) = pending.remove(&started) {
                    on_done(started, Some(result));
                    started += 1;
                }
            }
        });
        // Every index taken from the counter was run and delivered: they form `0..started`.
        debug_assert!(started == jobs.min(next.load(Ordering::Relaxed)));
    }
    for i in started..jobs {
        on_done(i, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order_whatever_the_thread_count() {
        for threads in [1, 2, 5] {
            let mut seen = Vec::new();
            run_ordered(
                50,
                threads,
                |i| {
                    // Uneven work so that jobs finish out of order.
                    std::thread::sleep(std::time::Duration::from_micros(
                        ((i * 7919) % 13) as u64 * 50,
                    ));
                    i * i
                },
                |i, v| seen.push((i, v)),
            );
            assert_eq!(seen, (0..50).map(|i| (i, i * i)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn jobs_after_the_stop_are_reported_as_never_started() {
        use std::sync::atomic::AtomicBool;
        for threads in [1, 2, 5] {
            let stop = AtomicBool::new(false);
            let mut seen = Vec::new();
            run_ordered_until(
                1000,
                threads,
                || stop.load(Ordering::Relaxed),
                |i| {
                    if i == 10 {
                        stop.store(true, Ordering::Relaxed);
                    }
                    i * 2
                },
                |i, v| seen.push((i, v)),
            );
            assert_eq!(seen.len(), 1000);
            let started = seen.iter().take_while(|(_, v)| v.is_some()).count();
            // Job 10 ran; at most one more job per other thread slipped in before the stop.
            assert!(
                (11..=10 + threads).contains(&started),
                "{threads}: {started}"
            );
            for (k, (i, v)) in seen.iter().enumerate() {
                assert_eq!(*i, k);
                assert_eq!(*v, (k < started).then_some(k * 2));
            }
        }
    }
}
