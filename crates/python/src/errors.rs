//! Library errors as Python exceptions, with the command-line tool's one-line message.
//!
//! The CLI prints `format!("{err:#}")` of an `anyhow` error (the chain on one line); the
//! same text is the exception's message. Bad input is a `ValueError`, a file that cannot be
//! read an `OSError` (its `FileNotFoundError`/`PermissionError` subclasses where they fit),
//! anything else a `RuntimeError`.

use mipbound_network::{LoadError, LoadErrorKind, ModelError};
use pyo3::PyErr;
use pyo3::exceptions::{
    PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError,
};

/// The CLI's one-line rendering of an error.
pub fn one_line(err: impl Into<anyhow::Error>) -> String {
    format!("{:#}", err.into())
}

/// A `ValueError` with a message.
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// A `RuntimeError` with the CLI's message (an error during a run).
pub fn runtime_error(err: impl Into<anyhow::Error>) -> PyErr {
    PyRuntimeError::new_err(one_line(err))
}

/// A `ValueError` with the CLI's message (settings or files refused); a file that cannot
/// be read is an `OSError`.
pub fn anyhow_value_error(err: anyhow::Error) -> PyErr {
    match err.downcast::<LoadError>() {
        Ok(load) => load_error(load),
        Err(err) if err.chain().any(|c| c.is::<std::io::Error>()) => {
            PyOSError::new_err(one_line(err))
        }
        Err(err) => PyValueError::new_err(one_line(err)),
    }
}

/// The exception for an error while reading a network: an `OSError` when the file could not
/// be read, a `ValueError` when its contents are wrong.
pub fn load_error(err: LoadError) -> PyErr {
    let io = match &err.kind {
        LoadErrorKind::Io(io) => Some(io.kind()),
        _ => None,
    };
    let message = one_line(err);
    match io {
        Some(std::io::ErrorKind::NotFound) => PyFileNotFoundError::new_err(message),
        Some(std::io::ErrorKind::PermissionDenied) => PyPermissionError::new_err(message),
        Some(_) => PyOSError::new_err(message),
        None => PyValueError::new_err(message),
    }
}

/// The exception for an error in a network built in memory (always bad input).
pub fn kind_error(err: LoadErrorKind) -> PyErr {
    PyValueError::new_err(one_line(err))
}

/// The exception for layers that do not make a valid network (always bad input).
pub fn model_error(err: ModelError) -> PyErr {
    PyValueError::new_err(one_line(err))
}
