//! The region stream: the library's [`RegionStream`] as a Python iterator that waits for
//! each region with the GIL released and checks for signals while it waits.

use std::sync::{Arc, Mutex, PoisonError};

use mipbound_experiment::CancelToken;
use mipbound_experiment::regions::{Next, Region, RegionStream, StreamEnd};
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;

use crate::commands::count_settings;
use crate::domains::problem;
use crate::errors::{anyhow_value_error, runtime_error};
use crate::network::PyNetwork;
use crate::worker::POLL;

/// A region as handed to Python: pieces, bit code, witness, and the affine map if asked for.
type PyRegion<'py> = (
    Vec<usize>,
    String,
    Bound<'py, PyArray1<f64>>,
    Option<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)>,
);

/// How the search ended: regions handed out, whether that is all of them, and the status.
type PyEnd = (u64, bool, String);

/// The regions of a network over a domain, in the single-thread search order, one at a
/// time (none are kept).
#[pyclass(name = "RegionStream", module = "mipbound._native", frozen)]
pub struct PyRegionStream {
    stream: Mutex<Option<RegionStream>>,
    end: Mutex<Option<PyEnd>>,
}

fn to_python(py: Python<'_>, region: Region) -> PyRegion<'_> {
    let map = region
        .map
        .map(|m| (m.weights.into_pyarray(py), m.bias.into_pyarray(py)));
    (
        region.pieces,
        region.bits,
        region.witness.into_pyarray(py),
        map,
    )
}

fn end_tuple(end: StreamEnd) -> PyEnd {
    (end.regions, end.complete, end.status)
}

impl PyRegionStream {
    fn take(&self) -> Option<RegionStream> {
        self.stream
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Stops the search (if running) and keeps how it ended.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(stream) = self.take() {
            let end = py.detach(move || stream.finish()).map_err(runtime_error)?;
            *self.end.lock().unwrap_or_else(PoisonError::into_inner) = Some(end_tuple(end));
        }
        Ok(())
    }
}

#[pymethods]
impl PyRegionStream {
    /// Starts the search; the options are those of `count`.
    #[new]
    #[pyo3(signature = (net, *, domain=None, maps=false, time_limit=None, seed=None,
        margin_tolerance=None, tighten=None, lp=None, dynamic_order=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        net: PyRef<'_, PyNetwork>,
        domain: Option<&Bound<'_, PyAny>>,
        maps: bool,
        time_limit: Option<f64>,
        seed: Option<u64>,
        margin_tolerance: Option<f64>,
        tighten: Option<bool>,
        lp: Option<&str>,
        dynamic_order: Option<bool>,
    ) -> PyResult<Self> {
        let problem = Arc::new(problem(&net, domain)?);
        let settings = count_settings(
            time_limit,
            seed,
            margin_tolerance,
            tighten,
            lp,
            dynamic_order,
        )?;
        let stream = RegionStream::start(problem, &settings, maps, CancelToken::new())
            .map_err(anyhow_value_error)?;
        Ok(Self {
            stream: Mutex::new(Some(stream)),
            end: Mutex::new(None),
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<PyRegion<'py>>> {
        loop {
            let Some(stream) = self.take() else {
                return Ok(None);
            };
            let (stream, next) = py.detach(move || {
                let next = stream.next_within(POLL);
                (stream, next)
            });
            *self.stream.lock().unwrap_or_else(PoisonError::into_inner) = Some(stream);
            match next {
                Next::Region(region) => return Ok(Some(to_python(py, *region))),
                Next::Pending => {
                    if let Err(err) = py.check_signals() {
                        self.stop(py)?;
                        return Err(err);
                    }
                }
                Next::Done => {
                    self.stop(py)?;
                    return Ok(None);
                }
            }
        }
    }

    /// Stops the search; later iteration ends at once.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.stop(py)
    }

    /// `(regions, complete, status)` once the search has ended or been closed, else None.
    #[getter]
    fn end(&self) -> Option<PyEnd> {
        self.end
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
