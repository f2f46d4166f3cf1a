//! `map` (the exact region polygons of a 2-D domain) and `local` (exact region counts in
//! l-infinity balls around points, or along the segments between them), like the CLI's
//! `mipbound map --json` and `mipbound local --json`.

use anyhow::Context;
use mipbound_experiment::CancelToken;
use mipbound_experiment::domains::DomainSpec;
use mipbound_experiment::estimate::EstimateSettings;
use mipbound_experiment::local::{LocalSettings, ball, local as run_local};
use mipbound_experiment::map::{MapSettings, check as check_map, map as run_map};
use mipbound_experiment::points::{PointSource, Points};
use mipbound_experiment::run::{Run, threads as check_threads};
use ndarray::{Ix1, Ix2};
use pyo3::prelude::*;

use crate::commands::{count_settings, xor_widths};
use crate::domains::{ARRAYS, domain_arg, problem};
use crate::errors::{anyhow_value_error, value_error};
use crate::network::{PyNetwork, array_like, fixed};
use crate::worker::{Cancel, run_in_worker};

fn json(result: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string(result)?)
}

/// The regions of a 2-D domain as exact polygons, like `mipbound map --json` (the package's
/// `map` returns a `MapResult`). Options (None: the CLI's default): `domain` (a plane, a
/// segment, or the box of a 1- or 2-input network), `color` ("region" or "class": split
/// each region along the decision boundaries), and the search's `time_limit`, `seed`,
/// `margin_tolerance`, `tighten`, `lp`, `dynamic_order`. The search runs on one thread (its
/// order is the map's region order). Ctrl-C raises KeyboardInterrupt with the partial
/// result as `partial_result`.
#[pyfunction]
#[pyo3(signature = (net, *, domain=None, color="region", time_limit=None, seed=None,
    margin_tolerance=None, tighten=None, lp=None, dynamic_order=None))]
#[allow(clippy::too_many_arguments)]
pub fn map(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    domain: Option<&Bound<'_, PyAny>>,
    color: &str,
    time_limit: Option<f64>,
    seed: Option<u64>,
    margin_tolerance: Option<f64>,
    tighten: Option<bool>,
    lp: Option<&str>,
    dynamic_order: Option<bool>,
) -> PyResult<String> {
    let classes = match color {
        "region" => false,
        "class" => true,
        other => {
            return Err(value_error(format!(
                "color: expected \"region\" or \"class\", got {other:?}"
            )));
        }
    };
    let problem = problem(&net, domain)?;
    check_map(&problem).map_err(anyhow_value_error)?;
    let settings = MapSettings {
        count: count_settings(
            time_limit,
            seed,
            margin_tolerance,
            tighten,
            lp,
            dynamic_order,
        )?,
        classes,
    };
    run_in_worker(py, Cancel::Wait, move |cancel: CancelToken| {
        json(&run_map(&problem, &settings, &Run::quiet(1, &cancel))?)
    })
}

/// The points of `local`: a 2-D array, one point per row, of `dim` finite coordinates, and
/// their labels.
fn points(
    points: &Bound<'_, PyAny>,
    labels: Option<&Bound<'_, PyAny>>,
    dim: usize,
) -> PyResult<Points> {
    let a = fixed::<Ix2>(array_like(points, "points")?.as_array(), "points")?;
    let labels = match labels {
        None => None,
        Some(l) => {
            let l = fixed::<Ix1>(array_like(l, "labels")?.as_array(), "labels")?;
            if l.len() != a.nrows() {
                return Err(value_error(format!(
                    "labels: {} labels for {} points",
                    l.len(),
                    a.nrows()
                )));
            }
            let byte = |v: f64| (v.fract() == 0.0 && (0.0..=255.0).contains(&v)).then_some(v as u8);
            Some(
                l.iter()
                    .map(|&v| {
                        byte(v).ok_or_else(|| {
                            value_error(format!("labels: {v} is not an integer from 0 to 255"))
                        })
                    })
                    .collect::<PyResult<Vec<u8>>>()?,
            )
        }
    };
    PointSource::Inline {
        name: ARRAYS.into(),
        points: a.rows().into_iter().map(|r| r.to_vec()).collect(),
        labels,
    }
    .read(dim)
    .map_err(anyhow_value_error)
}

/// Exact region counts in the l-infinity ball of radius `radius` around each point (one
/// per row of `points`), or with `segments` along the segments between consecutive points,
/// like `mipbound local --json` (the package's `local` returns a `LocalResult`). `domain`
/// is the input box the balls are cut to (a `Box`, "LO,HI", (lo, hi); None: not cut).
/// Options (None: the CLI's default): `labels`, `time_limit` (per point; a stopped count
/// is a certain lower bound and gets a MIPBound bound), `xor`, `trials`, `confidence`,
/// `seed`, `threads`. Ctrl-C raises KeyboardInterrupt with the points done as
/// `partial_result`.
#[pyfunction]
#[pyo3(signature = (net, points, *, labels=None, radius=None, segments=false, domain=None,
    time_limit=None, xor=None, trials=None, confidence=None, seed=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn local(
    py: Python<'_>,
    net: PyRef<'_, PyNetwork>,
    points: &Bound<'_, PyAny>,
    labels: Option<&Bound<'_, PyAny>>,
    radius: Option<f64>,
    segments: bool,
    domain: Option<&Bound<'_, PyAny>>,
    time_limit: Option<f64>,
    xor: Option<Vec<Bound<'_, PyAny>>>,
    trials: Option<usize>,
    confidence: Option<f64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<String> {
    let network = net.net.as_ref().clone();
    let dim = network.input_dim();
    let input_box = match domain {
        None => None,
        Some(d) => {
            let arg = domain_arg(Some(d), dim)?;
            if arg.spec != DomainSpec::InputBox {
                return Err(value_error(
                    "domain: local takes the input box the balls are cut to (a Box, \"LO,HI\", (lo, hi) or None)",
                ));
            }
            arg.input_box
        }
    };
    let radius = match (radius, segments) {
        (Some(_), true) => return Err(value_error("radius: segments=True takes no radius")),
        (None, false) => {
            return Err(value_error(
                "radius: give the radius of the l-infinity balls (or segments=True)",
            ));
        }
        (r, _) => r.unwrap_or(0.0),
    };
    let d = LocalSettings::default();
    let seed = seed.unwrap_or(d.count.seed);
    let widths = xor_widths(xor, &d.fallback.widths)?;
    let settings = LocalSettings {
        radius,
        segments,
        count: count_settings(time_limit, Some(seed), None, None, None, None)?,
        fallback: EstimateSettings {
            widths,
            trials: trials.unwrap_or(d.fallback.trials),
            confidence: Some(confidence.unwrap_or(d.fallback.confidence.unwrap_or(0.99))),
            seed,
            time_limit,
            activation_bound: false,
            ..EstimateSettings::default()
        },
    };
    settings.check().map_err(anyhow_value_error)?;
    let points = self::points(points, labels, dim)?;
    if !segments {
        // Refused now rather than after the points before it were counted.
        for (i, x) in points.points.iter().enumerate() {
            ball(x, radius, input_box.as_ref())
                .with_context(|| format!("{ARRAYS}: point {i}"))
                .map_err(anyhow_value_error)?;
        }
    }
    let threads = check_threads(threads).map_err(anyhow_value_error)?;
    let source = net.source.clone();
    run_in_worker(py, Cancel::Wait, move |cancel: CancelToken| {
        json(&run_local(
            &network,
            &source,
            input_box.as_ref(),
            &points,
            &settings,
            &Run::quiet(threads, &cancel),
        )?)
    })
}
