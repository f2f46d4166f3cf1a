//! The `domain=` argument: the package's domain classes (`Box`, `Polytope`, `Plane`,
//! `Segment`, `Ball`, `Affine`, `Everywhere`), and the older `"LO,HI"` and `(lo, hi)` forms,
//! turned into the library's [`DomainSpec`] and input box.
//!
//! A domain class hands its data over as `_native_spec()`: `(kind, box, rows, radius)`,
//! where `box` is `None` (no clipping) or `(lo, hi)` (numbers or 1-D arrays), `rows` a 2-D
//! float array (the points, or the polytope's `[A | b]` rows) and `radius` the ball's.

use mipbound_experiment::Problem;
use mipbound_experiment::domains::{DomainSpec, build, parse_input_box};
use mipbound_experiment::points::PointSource;
use mipbound_formulation::Domain;
use ndarray::{Ix1, Ix2};
use pyo3::prelude::*;

use crate::errors::{anyhow_value_error, value_error};
use crate::network::{PyNetwork, array_like, fixed};

/// How points in memory are named in descriptions and messages.
pub const ARRAYS: &str = "<arrays>";

/// The classes' data: kind, input box, rows, radius.
type NativeSpec<'py> = (
    String,
    Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    Option<Bound<'py, PyAny>>,
    Option<f64>,
);

/// A domain argument: the input box (`None`: no clipping) and the domain inside it.
pub struct DomainArg {
    /// The input box.
    pub input_box: Option<Domain>,
    /// The domain.
    pub spec: DomainSpec,
}

/// One bound of a box: a number (every coordinate) or a 1-D array of `dim` values.
fn bound(value: &Bound<'_, PyAny>, dim: usize, what: &str) -> PyResult<Vec<f64>> {
    if let Ok(v) = value.extract::<f64>() {
        return Ok(vec![v; dim]);
    }
    let a = fixed::<Ix1>(array_like(value, what)?.as_array(), what)?;
    if a.len() != dim {
        return Err(value_error(format!(
            "{what}: {} values but the network has {dim} inputs",
            a.len()
        )));
    }
    Ok(a.to_vec())
}

/// `(lo, hi)` as a box of `dim` coordinates (numbers give a uniform box, as `--box LO,HI`).
fn input_box(lo: &Bound<'_, PyAny>, hi: &Bound<'_, PyAny>, dim: usize) -> PyResult<Domain> {
    let domain = match (lo.extract::<f64>(), hi.extract::<f64>()) {
        (Ok(lo), Ok(hi)) => Domain::uniform(dim, lo, hi),
        _ => Domain::new(bound(lo, dim, "Box lo")?, bound(hi, dim, "Box hi")?),
    };
    domain.map_err(|e| value_error(format!("Box: {e}")))
}

/// The rows of a domain class as points in memory.
fn rows(rows: Option<Bound<'_, PyAny>>, kind: &str) -> PyResult<PointSource> {
    let rows = rows.ok_or_else(|| value_error(format!("{kind}: no points given")))?;
    let what = format!("{kind} points");
    let a = fixed::<Ix2>(array_like(&rows, &what)?.as_array(), &what)?;
    Ok(PointSource::Inline {
        name: ARRAYS.into(),
        points: a.rows().into_iter().map(|r| r.to_vec()).collect(),
        labels: None,
    })
}

/// Reads `domain=` for a network with `dim` inputs: `None` (the box `[0, 1]^n0`), a domain
/// class, `"LO,HI"` (or a file of two lines, or `none`, as `--box` takes) or `(lo, hi)`.
pub fn domain_arg(domain: Option<&Bound<'_, PyAny>>, dim: usize) -> PyResult<DomainArg> {
    let boxed = |input_box| DomainArg {
        input_box,
        spec: DomainSpec::InputBox,
    };
    let Some(domain) = domain else {
        return Ok(boxed(Some(Domain::unit_box(dim))));
    };
    if let Ok(spec) = domain.extract::<String>() {
        return parse_input_box(&spec, dim)
            .map(boxed)
            .map_err(anyhow_value_error);
    }
    if domain.hasattr("_native_spec")? {
        let (kind, clip, data, radius): NativeSpec<'_> =
            domain.call_method0("_native_spec")?.extract()?;
        let input_box = match clip {
            None => None,
            Some((lo, hi)) => Some(input_box(&lo, &hi, dim)?),
        };
        let spec = match kind.as_str() {
            "box" => DomainSpec::InputBox,
            "all" => DomainSpec::Everywhere,
            "polytope" => DomainSpec::Polytope(rows(data, "Polytope")?),
            "segment" => DomainSpec::Segment(rows(data, "Segment")?),
            "plane" => DomainSpec::Plane(rows(data, "Plane")?),
            "affine" => DomainSpec::Affine(rows(data, "Affine")?),
            "ball" => {
                let r = radius.unwrap_or(f64::NAN);
                if !(r.is_finite() && r > 0.0) {
                    return Err(value_error(format!(
                        "Ball: radius must be a positive finite number, got {r}"
                    )));
                }
                DomainSpec::Ball(rows(data, "Ball")?, r)
            }
            other => return Err(value_error(format!("domain: unknown kind {other:?}"))),
        };
        return Ok(DomainArg { input_box, spec });
    }
    let (lo, hi): (Bound<'_, PyAny>, Bound<'_, PyAny>) = domain.extract().map_err(|_| {
        value_error(
            "domain: expected Box, Polytope, Plane, Segment, Ball, Affine, Everywhere, \"LO,HI\" or (lo, hi)",
        )
    })?;
    Ok(boxed(Some(input_box(&lo, &hi, dim)?)))
}

/// The problem: the network over its domain.
pub fn problem(net: &PyNetwork, domain: Option<&Bound<'_, PyAny>>) -> PyResult<Problem> {
    let network = net.net.as_ref().clone();
    let arg = domain_arg(domain, network.input_dim())?;
    let input_box = match arg.spec {
        DomainSpec::Everywhere => None,
        _ => arg.input_box,
    };
    let built = build(&network, input_box.as_ref(), &arg.spec).map_err(anyhow_value_error)?;
    Problem::from_built(network, net.source.clone(), built).map_err(anyhow_value_error)
}
