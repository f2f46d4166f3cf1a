//! `count`, `estimate`, `bounds` and `inspect`: options → the library's settings → a run on
//! a worker thread → the result's JSON (the CLI's `--json`), which the Python side wraps.
//!
//! Every option defaults to `None`, meaning the library's default, so that the defaults
//! live in one place. Settings are checked before the run (a `ValueError`); an error during
//! the run is a `RuntimeError`.

use mipbound_experiment::CancelToken;
use mipbound_experiment::catalogue::{MilpSettings, bounds as run_bounds};
use mipbound_experiment::count::{CountSettings, count as run_count};
use mipbound_experiment::estimate::{EstimateSettings, estimate as run_estimate};
use mipbound_experiment::inspect::inspect as run_inspect;
use mipbound_experiment::run::{Run, threads as check_threads};
use mipbound_parity::XorWidth;
use mipbound_search::LpBackend;
use pyo3::prelude::*;

use crate::domains::problem;
use crate::errors::{anyhow_value_error, value_error};
use crate::network::PyNetwork;
use crate::worker::{Cancel, run_in_worker};

fn lp(name: Option<&str>, default: LpBackend) -> PyResult<LpBackend> {
    name.map_or(Ok(default), |n| n.parse().map_err(value_error))
}

fn json(result: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string(result)?)
}

/// The settings of an exact count (also those of the region stream).
#[allow(clippy::too_many_arguments)]
pub fn count_settings(
    time_limit: Option<f64>,
    seed: Option<u64>,
    margin_tolerance: Option<f64>,
    tighten: Option<bool>,
    lp_solver: Option<&str>,
    dynamic_order: Option<bool>,
) -> PyResult<CountSettings> {
    let d = CountSettings::default();
    let settings = CountSettings {
        time_limit,
        margin_tolerance: margin_tolerance.unwrap_or(d.margin_tolerance),
        tighten: tighten.unwrap_or(d.tighten),
        seed: seed.unwrap_or(d.seed),
        lp: lp(lp_solver, d.lp)?,
        dynamic_order: dynamic_order.unwrap_or(d.dynamic_order),
    };
    settings.check().map_err(anyhow_value_error)?;
    Ok(settings)
}

/// Counts the regions exactly, like `mipbound count` (the package's `count` returns a
/// `CountResult`). Options (None: the CLI's default): `domain` (a domain class, "LO,HI" or
/// (lo, hi)),
/// `time_limit` (seconds; then "at least N"), `seed` (HiGHS), `margin_tolerance`,
/// `tighten` (LP bound tightening), `lp` ("dense" or "highs"), `dynamic_order`, `threads`.
/// Ctrl-C raises KeyboardInterrupt with the partial result as `partial_result`.
#[pyfunction]
#[pyo3(signature = (net, *, domain=None, time_limit=None, seed=None, margin_tolerance=None,
    tighten=None, lp=None, dynamic_order=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn count(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    domain: Option<&Bound<'_, PyAny>>,
    time_limit: Option<f64>,
    seed: Option<u64>,
    margin_tolerance: Option<f64>,
    tighten: Option<bool>,
    lp: Option<&str>,
    dynamic_order: Option<bool>,
    threads: Option<usize>,
) -> PyResult<String> {
    let problem = problem(&net, domain)?;
    let settings = count_settings(
        time_limit,
        seed,
        margin_tolerance,
        tighten,
        lp,
        dynamic_order,
    )?;
    let threads = check_threads(threads).map_err(anyhow_value_error)?;
    run_in_worker(py, Cancel::Wait, move |cancel: CancelToken| {
        json(&run_count(
            &problem,
            &settings,
            &Run::quiet(threads, &cancel),
            None,
        )?)
    })
}

/// MIPBound lower bounds per XOR width, like `mipbound estimate` (the package's `estimate`
/// returns an `EstimateResult`). Options (None: the CLI's default): `domain`, `xor` (widths:
/// ints or "dense"), `trials`, `confidence` or `alpha`, `threshold`, `seed`, `time_limit`,
/// `trial_time_limit`, `exact`, `exact_time_limit`, `lp`, `activation_bound`,
/// `bounds_time_limit`, `milp_time_limit`, `max_limits`, `threads`. Ctrl-C raises
/// KeyboardInterrupt with the partial result as `partial_result`.
#[pyfunction]
#[pyo3(signature = (net, *, domain=None, xor=None, trials=None, confidence=None, alpha=None,
    threshold=None, seed=None, time_limit=None, trial_time_limit=None, exact=None,
    exact_time_limit=None, lp=None, activation_bound=None, bounds_time_limit=None,
    milp_time_limit=None, max_limits=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn estimate(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    domain: Option<&Bound<'_, PyAny>>,
    xor: Option<Vec<Bound<'_, PyAny>>>,
    trials: Option<usize>,
    confidence: Option<f64>,
    alpha: Option<f64>,
    threshold: Option<usize>,
    seed: Option<u64>,
    time_limit: Option<f64>,
    trial_time_limit: Option<f64>,
    exact: Option<bool>,
    exact_time_limit: Option<f64>,
    lp: Option<&str>,
    activation_bound: Option<bool>,
    bounds_time_limit: Option<f64>,
    milp_time_limit: Option<f64>,
    max_limits: Option<usize>,
    threads: Option<usize>,
) -> PyResult<String> {
    let problem = problem(&net, domain)?;
    let d = EstimateSettings::default();
    if confidence.is_some() && alpha.is_some() {
        return Err(value_error("give confidence or alpha, not both"));
    }
    if exact_time_limit.is_some() && exact != Some(true) {
        return Err(value_error("exact_time_limit needs exact=True"));
    }
    let settings = EstimateSettings {
        widths: xor_widths(xor, &d.widths)?,
        trials: trials.unwrap_or(d.trials),
        confidence,
        alpha,
        threshold,
        seed: seed.unwrap_or(d.seed),
        time_limit,
        trial_time_limit,
        exact: exact.unwrap_or(d.exact),
        exact_time_limit,
        lp: self::lp(lp, d.lp)?,
        activation_bound: activation_bound.unwrap_or(d.activation_bound),
        bounds_time_limit: bounds_time_limit.unwrap_or(d.bounds_time_limit),
        milp: milp_settings(milp_time_limit, max_limits)?,
    };
    settings.plan().map_err(anyhow_value_error)?;
    let threads = check_threads(threads).map_err(anyhow_value_error)?;
    run_in_worker(py, Cancel::Wait, move |cancel: CancelToken| {
        json(&run_estimate(
            &problem,
            &settings,
            &Run::quiet(threads, &cancel),
        )?)
    })
}

/// The `xor=` widths (each as `--xor` spells it: `2`, `3`, `dense`, ...), or `default`.
pub fn xor_widths(
    xor: Option<Vec<Bound<'_, PyAny>>>,
    default: &[XorWidth],
) -> PyResult<Vec<XorWidth>> {
    match xor {
        None => Ok(default.to_vec()),
        Some(list) => list
            .iter()
            .map(|w| w.str()?.to_cow()?.parse::<XorWidth>().map_err(value_error))
            .collect(),
    }
}

fn milp_settings(time_limit: Option<f64>, max_limits: Option<usize>) -> PyResult<MilpSettings> {
    let d = MilpSettings::default();
    let milp = MilpSettings {
        milp_time_limit: time_limit.unwrap_or(d.milp_time_limit),
        max_limits: max_limits.unwrap_or(d.max_limits),
    };
    milp.check().map_err(anyhow_value_error)?;
    Ok(milp)
}

/// Every bound of the catalogue, like `mipbound bounds` (the package's `bounds` returns a
/// `BoundsResult`). Options: `domain`, `time_limit` (of all the MILPs), `milp_time_limit`,
/// `max_limits`.
#[pyfunction]
#[pyo3(signature = (net, *, domain=None, time_limit=None, milp_time_limit=None, max_limits=None))]
pub fn bounds(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    domain: Option<&Bound<'_, PyAny>>,
    time_limit: Option<f64>,
    milp_time_limit: Option<f64>,
    max_limits: Option<usize>,
) -> PyResult<String> {
    let problem = problem(&net, domain)?;
    let milp = milp_settings(milp_time_limit, max_limits)?;
    mipbound_experiment::limits::check_seconds(&[("--time-limit", time_limit)])
        .map_err(anyhow_value_error)?;
    // The MILPs take no cancel token: Ctrl-C returns at once and leaves them to finish.
    run_in_worker(py, Cancel::Abandon, move |_| {
        json(&run_bounds(&problem, &milp, time_limit)?)
    })
}

/// The network's layers and stable units over the domain, like `mipbound inspect` (the
/// package's `inspect` returns an `InspectResult`). Option: `domain`.
#[pyfunction]
#[pyo3(signature = (net, *, domain=None))]
pub fn inspect(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    domain: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let problem = problem(&net, domain)?;
    run_in_worker(py, Cancel::Abandon, move |_| json(&run_inspect(&problem)?))
}
