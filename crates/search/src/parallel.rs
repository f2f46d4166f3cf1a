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
    let threads = threads.clamp(1, jobs.max(1));
    if threads == 1 {
        for i in 0..jobs {
            on_done(i, work(i));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs || sender.send((i, work(i))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending = BTreeMap::new();
        let mut expected = 0;
        for (i, result) in receiver {
            pending.insert(i, result);
            while let Some(result) = pending.remove(&expected) {
                on_done(expected, result);
                expected += 1;
            }
        }
    });
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
}
