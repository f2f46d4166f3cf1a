//! How a front end drives a run: worker threads, a cancel token and a progress observer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks a running search to stop between nodes; the run then returns what it has, marked
/// interrupted. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding this token (or a clone) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, as the search's limits take it.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// What a progress report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// Regions found by an exact count (total unknown).
    Regions,
    /// Regions found by the exact count that follows an estimate (total unknown).
    ExactRegions,
    /// The trials of one XOR width.
    Trials {
        /// The width, as printed (`3`, `dense`).
        xor: String,
        /// Planned trials.
        total: u64,
    },
    /// The points of a local run (one exact count each).
    Points {
        /// Points to count.
        total: u64,
    },
    /// The networks of a batch.
    Networks {
        /// Networks to measure.
        total: u64,
    },
}

/// Receives the progress of one task; called from worker threads.
pub trait TaskProgress: Send + Sync {
    /// `by` more units done.
    fn advance(&self, by: u64);
    /// A short note on the latest unit (e.g. the level a trial reached).
    fn note(&self, note: &str) {
        let _ = note;
    }
    /// The task ended.
    fn finish(&self) {}
}

/// Observes a run: each task it starts reports through its own [`TaskProgress`].
pub trait Progress: Sync {
    /// A task starts.
    fn task(&self, task: Task) -> Box<dyn TaskProgress>;
}

/// Progress that nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

struct Silent;

impl TaskProgress for Silent {
    fn advance(&self, _by: u64) {}
}

impl Progress for NoProgress {
    fn task(&self, _task: Task) -> Box<dyn TaskProgress> {
        Box::new(Silent)
    }
}

/// Everything a run needs besides its problem and settings.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    /// Worker threads (at least 1); results do not depend on it.
    pub threads: usize,
    /// Stops the run early.
    pub cancel: &'a CancelToken,
    /// Watches it.
    pub progress: &'a dyn Progress,
}

impl<'a> Run<'a> {
    /// A run on `threads` threads that reports no progress.
    pub fn quiet(threads: usize, cancel: &'a CancelToken) -> Self {
        Self {
            threads,
            cancel,
            progress: &NoProgress,
        }
    }
}

/// Checks a thread count (`None`: every core); 0 is refused.
pub fn threads(requested: Option<usize>) -> anyhow::Result<usize> {
    match requested {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(mipbound_search::parallel::default_threads()),
    }
}
