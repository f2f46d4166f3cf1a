//! Runs a search on a worker thread with the GIL released, so that other Python threads
//! keep running, while the calling thread wakes every [`POLL`] to run Python's signal
//! handlers: Ctrl-C (or any exception a handler raises) cancels the run through its
//! [`CancelToken`], and the exception is raised with the partial result attached as
//! `partial_result`.

use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use mipbound_experiment::CancelToken;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::runtime_error;

/// How often the calling thread checks for signals.
pub const POLL: Duration = Duration::from_millis(50);

/// What a signal does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Cancel it, wait for its partial result and attach it to the exception.
    Wait,
    /// It cannot be cancelled: raise at once and let it finish unobserved.
    Abandon,
}

/// Runs `work` (given the run's cancel token) on its own thread; returns its JSON.
pub fn run_in_worker<F>(py: Python<'_>, mode: Cancel, work: F) -> PyResult<String>
where
    F: FnOnce(CancelToken) -> anyhow::Result<String> + Send + 'static,
{
    let cancel = CancelToken::new();
    let token = cancel.clone();
    let (tx, mut rx) = channel();
    std::thread::Builder::new()
        .name("mipbound-run".into())
        .spawn(move || {
            // The receiver is gone only if the caller abandoned the run.
            let _ = tx.send(work(token));
        })
        .map_err(|e| runtime_error(anyhow::anyhow!("starting the run: {e}")))?;
    let mut signal: Option<PyErr> = None;
    loop {
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(POLL);
            (rx, got)
        });
        rx = back;
        match got {
            Ok(Ok(json)) => {
                return match signal {
                    None => Ok(json),
                    Some(err) => {
                        err.value(py).setattr("partial_result", json)?;
                        Err(err)
                    }
                };
            }
            Ok(Err(e)) => return Err(signal.unwrap_or_else(|| runtime_error(e))),
            Err(RecvTimeoutError::Timeout) => {
                if signal.is_none()
                    && let Err(err) = py.check_signals()
                {
                    if mode == Cancel::Abandon {
                        return Err(err);
                    }
                    cancel.cancel();
                    signal = Some(err);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("the run stopped without a result"));
            }
        }
    }
}
