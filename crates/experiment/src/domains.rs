//! Domains beyond the box: `--domain SPEC` and `--box LO,HI|FILE|none`, turned into the
//! problem the search runs on.
//!
//! - A box, a polytope (`a . x <= b` rows) or an l-infinity ball is searched as it is.
//! - An affine image `x = x0 + V u` (segment, plane, affine) is searched in u-space: the
//!   first layer is composed with `V` by hand, u ranges over `[0, 1]^k`, and the input-box
//!   rows that the u-box and the other rows do not imply become constraints on u.
//! - The whole space R^n0 is searched as a cone: every region is the set of `x = y / s`,
//!   `s > 0`, of a region of the positively homogeneous network in `(y, s)`, and a cone
//!   meets the box `[-1, 1]^n0 x [0, 1]` in an open set, so each region of R^n0 is one region
//!   of that network with `s > 0` over that box.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mipbound_formulation::{Constraint, Domain};
use mipbound_network::{Activation, Layer, Network};
use ndarray::{Array1, Array2};

use crate::points::PointSource;

/// What `--domain` names.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainSpec {
    /// The input box itself (no `--domain`).
    InputBox,
    /// All of R^n0 (`all`).
    Everywhere,
    /// `polytope:FILE`: rows `a_1 ... a_n0 b` for `a . x <= b` (from a file, or rows in
    /// memory).
    Polytope(PointSource),
    /// `ball:POINTS,RADIUS`: the l-infinity ball around the (one) point.
    Ball(PointSource, f64),
    /// `segment:POINTS`: two points A, B; `x = A + u (B - A)`.
    Segment(PointSource),
    /// `plane:POINTS`: three points A, B, C; `x = A + u (B - A) + v (C - A)`.
    Plane(PointSource),
    /// `affine:POINTS`: x0 then k directions; `x = x0 + V u`.
    Affine(PointSource),
}

impl DomainSpec {
    /// Parses `--domain SPEC`.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = || {
            anyhow::anyhow!(
                "--domain {spec}: expected all, polytope:FILE, ball:POINTS,RADIUS, segment:POINTS, plane:POINTS or affine:POINTS"
            )
        };
        if spec == "all" {
            return Ok(Self::Everywhere);
        }
        let (kind, rest) = spec.split_once(':').ok_or_else(bad)?;
        let points = || PointSource::parse(rest).with_context(|| format!("--domain {spec}"));
        Ok(match kind {
            "polytope" if !rest.is_empty() => Self::Polytope(PointSource::File(rest.into())),
            "ball" => {
                let (source, radius) = rest.rsplit_once(',').ok_or_else(|| {
                    anyhow::anyhow!("--domain {spec}: expected ball:POINTS,RADIUS")
                })?;
                let radius: f64 = radius.trim().parse().map_err(|_| {
                    anyhow::anyhow!("--domain {spec}: the radius '{radius}' is not a number")
                })?;
                if !(radius.is_finite() && radius > 0.0) {
                    bail!("--domain {spec}: the radius must be a positive finite number");
                }
                let source =
                    PointSource::parse(source).with_context(|| format!("--domain {spec}"))?;
                Self::Ball(source, radius)
            }
            "segment" => Self::Segment(points()?),
            "plane" => Self::Plane(points()?),
            "affine" => Self::Affine(points()?),
            _ => return Err(bad()),
        })
    }

    /// The files the spec reads (for overwrite checks).
    pub fn files(&self) -> Vec<&Path> {
        match self {
            Self::InputBox | Self::Everywhere => Vec::new(),
            Self::Polytope(s)
            | Self::Ball(s, _)
            | Self::Segment(s)
            | Self::Plane(s)
            | Self::Affine(s) => s.path().into_iter().collect(),
        }
    }
}

/// `--box LO,HI|FILE|none` for a network with `dim` inputs; `None` for `none`.
pub fn parse_input_box(spec: &str, dim: usize) -> Result<Option<Domain>> {
    if spec.trim() == "none" {
        return Ok(None);
    }
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    if let [lo, hi] = parts.as_slice()
        && let (Ok(lo), Ok(hi)) = (lo.parse::<f64>(), hi.parse::<f64>())
    {
        return Domain::uniform(dim, lo, hi)
            .map(Some)
            .with_context(|| format!("--box {spec}"));
    }
    let path = Path::new(spec);
    if !path.exists() {
        if parts.len() == 2 {
            return crate::problem::parse_box(spec, dim).map(Some);
        }
        bail!(
            "--box {spec}: expected LO,HI (for example --box 0,1 or --box -1,1), a file of two lines (lower and upper bounds), or none"
        );
    }
    let points = PointSource::File(path.to_path_buf())
        .read(dim)
        .with_context(|| format!("--box {spec}"))?;
    let [lo, hi] = points.points.as_slice() else {
        bail!("--box {spec}: the file must hold two lines, the lower and the upper bounds");
    };
    Domain::new(lo.clone(), hi.clone())
        .map(Some)
        .with_context(|| format!("--box {spec}"))
}

/// How the search's coordinates map to the network's inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum InputMap {
    /// The search runs on the inputs.
    Identity,
    /// `x = origin + sum_j u_j directions[j]`.
    Affine(Slice),
    /// `x = y / s` for search points `(y, s)`; `original` is the network before it was made
    /// homogeneous.
    Cone {
        /// The network as given.
        original: Box<Network>,
    },
}

/// An affine slice of the input space.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// `x0`.
    pub origin: Vec<f64>,
    /// The k directions, each of the input dimension.
    pub directions: Vec<Vec<f64>>,
    /// The points that define the slice, with their labels, in u coordinates.
    pub points: Vec<(String, Vec<f64>)>,
}

impl InputMap {
    /// The input point of a search point.
    pub fn to_input(&self, u: &[f64]) -> Vec<f64> {
        match self {
            Self::Identity => u.to_vec(),
            Self::Affine(s) => {
                let mut x = s.origin.clone();
                for (d, &uj) in s.directions.iter().zip(u) {
                    x.iter_mut().zip(d).for_each(|(x, d)| *x += uj * d);
                }
                x
            }
            Self::Cone { .. } => {
                let (y, s) = u.split_at(u.len() - 1);
                y.iter().map(|v| v / s[0]).collect()
            }
        }
    }
}

/// The network and domain to search for a spec, how search points map to inputs, and a
/// description of the domain.
pub struct Built {
    /// The network searched.
    pub network: Network,
    /// Its domain.
    pub domain: Domain,
    /// Search point to input.
    pub map: InputMap,
    /// E.g. `plane through 3 points of F, (u, v) in [0, 1]^2, cut by 5 input-box rows`.
    pub description: String,
}

/// Builds the searched problem of `spec` over the input box (`None`: no clipping).
pub fn build(net: &Network, input_box: Option<&Domain>, spec: &DomainSpec) -> Result<Built> {
    let n0 = net.input_dim();
    let plain = |domain: Domain, description: String| Built {
        network: net.clone(),
        domain,
        map: InputMap::Identity,
        description,
    };
    let need_box = |what: &str| {
        input_box.cloned().ok_or_else(|| {
            anyhow::anyhow!("{what} needs a bounded input box: give --box LO,HI or --domain all")
        })
    };
    match spec {
        DomainSpec::InputBox => {
            let b = need_box("the domain (the input box)")?;
            let d = b.describe();
            Ok(plain(b, d))
        }
        DomainSpec::Everywhere => cone(net),
        DomainSpec::Polytope(source) => {
            let name = source.name();
            let rows = source
                .read_rows(n0)
                .with_context(|| format!("--domain polytope:{name}"))?;
            let constraints = rows
                .points
                .iter()
                .map(|r| Constraint {
                    a: r[..n0].to_vec(),
                    b: r[n0],
                })
                .collect();
            let b = need_box("a polytope domain")?;
            let domain = b
                .clone()
                .with_constraints(constraints)
                .with_context(|| format!("--domain polytope:{name}"))?
                .without_implied_constraints();
            let description = format!(
                "polytope of {} rows ({name}{}) inside {}",
                rows.points.len(),
                implied_note(rows.points.len(), domain.constraints().len()),
                b.describe()
            );
            Ok(plain(domain, description))
        }
        DomainSpec::Ball(source, radius) => {
            let points = source.read(n0).context("--domain ball")?;
            let [center] = points.points.as_slice() else {
                bail!(
                    "--domain ball: {} holds {} points; a ball needs one",
                    points.name,
                    points.points.len()
                );
            };
            let (mut lo, mut hi): (Vec<f64>, Vec<f64>) =
                center.iter().map(|c| (c - radius, c + radius)).unzip();
            if let Some(b) = input_box {
                lo.iter_mut()
                    .zip(b.lower())
                    .for_each(|(l, b)| *l = l.max(*b));
                hi.iter_mut()
                    .zip(b.upper())
                    .for_each(|(h, b)| *h = h.min(*b));
            }
            let domain = Domain::new(lo, hi).map_err(|e| {
                anyhow::anyhow!(
                    "--domain ball: the ball of radius {radius} around {} does not meet the input box ({e})",
                    points.name
                )
            })?;
            Ok(plain(
                domain,
                format!(
                    "l-infinity ball of radius {radius} around {}{}",
                    points.name,
                    input_box.map_or(String::new(), |b| format!(", inside {}", b.describe()))
                ),
            ))
        }
        DomainSpec::Segment(source) => {
            let p = source.read(n0).context("--domain segment")?;
            let [a, b] = p.points.as_slice() else {
                bail!(
                    "--domain segment: {} holds {} points; a segment needs two",
                    p.name,
                    p.points.len()
                );
            };
            segment(
                net,
                input_box,
                a,
                b,
                format!("segment between the 2 points of {}", p.name),
            )
        }
        DomainSpec::Plane(source) => {
            let p = source.read(n0).context("--domain plane")?;
            let [a, b, c] = p.points.as_slice() else {
                bail!(
                    "--domain plane: {} holds {} points; a plane needs three",
                    p.name,
                    p.points.len()
                );
            };
            let slice = Slice {
                origin: a.clone(),
                directions: vec![difference(b, a), difference(c, a)],
                points: vec![
                    ("A".into(), vec![0.0, 0.0]),
                    ("B".into(), vec![1.0, 0.0]),
                    ("C".into(), vec![0.0, 1.0]),
                ],
            };
            affine(
                net,
                input_box,
                slice,
                format!("plane through the 3 points of {}", p.name),
            )
        }
        DomainSpec::Affine(source) => {
            let p = source.read(n0).context("--domain affine")?;
            let Some((x0, directions)) = p.points.split_first() else {
                bail!("--domain affine: {} holds no point", p.name);
            };
            if directions.is_empty() {
                bail!(
                    "--domain affine: {} holds only x0; give x0 and at least one direction",
                    p.name
                );
            }
            let k = directions.len();
            let slice = Slice {
                origin: x0.clone(),
                directions: directions.to_vec(),
                points: vec![("x0".into(), vec![0.0; k])],
            };
            affine(
                net,
                input_box,
                slice,
                format!("{k}-dimensional affine slice of {}", p.name),
            )
        }
    }
}

/// The segment `x = a + u (b - a)`, `u` in `[0, 1]`, inside the input box (`None`: not cut),
/// searched in u-space as `--domain segment` does; `what` names it in messages.
pub fn segment(
    net: &Network,
    input_box: Option<&Domain>,
    a: &[f64],
    b: &[f64],
    what: String,
) -> Result<Built> {
    let slice = Slice {
        origin: a.to_vec(),
        directions: vec![difference(b, a)],
        points: vec![("A".into(), vec![0.0]), ("B".into(), vec![1.0])],
    };
    affine(net, input_box, slice, what)
}

fn difference(b: &[f64], a: &[f64]) -> Vec<f64> {
    b.iter().zip(a).map(|(b, a)| b - a).collect()
}

/// Refuses directions that are (numerically) linearly dependent: Gram-Schmidt with a
/// relative tolerance.
fn check_independent(directions: &[Vec<f64>]) -> Result<()> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for (j, d) in directions.iter().enumerate() {
        let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut r = d.clone();
        for q in &basis {
            let dot: f64 = r.iter().zip(q).map(|(a, b)| a * b).sum();
            r.iter_mut().zip(q).for_each(|(a, b)| *a -= dot * b);
        }
        let rest = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 || rest <= 1e-9 * norm {
            bail!(match (directions.len(), j) {
                (1, _) => "the segment's two points coincide: the domain is a point".to_string(),
                (2, _) => "the plane's three points are collinear: the domain is flat".to_string(),
                _ => format!(
                    "direction {} depends on the ones before it: the domain is flat",
                    j + 1
                ),
            });
        }
        r.iter_mut().for_each(|v| *v /= rest);
        basis.push(r);
    }
    Ok(())
}

/// An affine slice searched in u-space: the first layer composed with V, u in `[0, 1]^k`,
/// and the input-box rows that the u-box and the other rows do not imply.
fn affine(net: &Network, input_box: Option<&Domain>, slice: Slice, what: String) -> Result<Built> {
    let k = slice.directions.len();
    check_independent(&slice.directions).with_context(|| format!("--domain: {what}"))?;
    let n0 = net.input_dim();
    let v = Array2::from_shape_fn((n0, k), |(i, j)| slice.directions[j][i]);
    let x0 = Array1::from(slice.origin.clone());
    let mut layers = net.layers().to_vec();
    let first = &layers[0];
    let composed = Layer::new(
        first.weights.dot(&v),
        &first.bias + &first.weights.dot(&x0),
        first.activation.clone(),
    );
    layers[0] = composed;
    let network = Network::new(k, layers)
        .map_err(|e| anyhow::anyhow!("--domain: composing the first layer: {e}"))?
        .with_metadata(net.metadata().clone());
    let u_box = Domain::unit_box(k);
    let mut constraints = Vec::new();
    if let Some(b) = input_box {
        for i in 0..n0 {
            let row: Vec<f64> = (0..k).map(|j| v[[i, j]]).collect();
            let (min, max) = u_box.range(row.iter().copied(), x0[i]);
            if row.iter().all(|&a| a == 0.0) {
                if x0[i] < b.lower()[i] || x0[i] > b.upper()[i] {
                    bail!(
                        "--domain: {what} lies outside the input box (coordinate {i} is {} everywhere)",
                        x0[i]
                    );
                }
                continue;
            }
            if max > b.upper()[i] {
                constraints.push(Constraint {
                    a: row.clone(),
                    b: b.upper()[i] - x0[i],
                });
            }
            if min < b.lower()[i] {
                constraints.push(Constraint {
                    a: row.iter().map(|a| -a).collect(),
                    b: x0[i] - b.lower()[i],
                });
            }
        }
    }
    let cutting = constraints.len();
    let domain = u_box
        .with_constraints(constraints)
        .with_context(|| format!("--domain: {what}"))?
        .without_implied_constraints();
    let description = format!(
        "{what}, u in [0, 1]^{k}{}",
        match (input_box, domain.constraints().len()) {
            (None, _) => String::new(),
            (Some(b), 0) => format!(", inside {} (implied)", b.describe()),
            (Some(b), n) => format!(
                ", clipped to {} by {n} row{}{}",
                b.describe(),
                if n == 1 { "" } else { "s" },
                implied_note(cutting, n)
            ),
        }
    );
    Ok(Built {
        network,
        domain,
        map: InputMap::Affine(slice),
        description,
    })
}

/// `, N implied rows dropped` when pruning dropped rows, else nothing.
fn implied_note(given: usize, kept: usize) -> String {
    match given - kept {
        0 => String::new(),
        1 => ", 1 implied row dropped".into(),
        n => format!(", {n} implied rows dropped"),
    }
}

/// All of R^n0, as the positively homogeneous network in `(y, s)` over
/// `[-1, 1]^n0 x [0, 1]`.
fn cone(net: &Network) -> Result<Built> {
    let n0 = net.input_dim();
    // `mix` expresses the previous layer's outputs (rows) in the homogeneous layer's
    // outputs (columns), the last column being the carried `s`.
    let mut mix = Array2::<f64>::zeros((n0, n0 + 1));
    for i in 0..n0 {
        mix[[i, i]] = 1.0;
    }
    let mut layers = Vec::new();
    let last = net.layers().len() - 1;
    for (l, layer) in net.layers().iter().enumerate() {
        let width = mix.ncols();
        // z_h = W (mix H) + b s.
        let mut z = layer.weights.dot(&mix);
        z.column_mut(width - 1).scaled_add(1.0, &layer.bias);
        let (homogeneous, next_mix) = homogeneous_layer(&z, &layer.activation, l == last)?;
        layers.push(homogeneous);
        mix = next_mix;
    }
    let network = Network::new(n0 + 1, layers)
        .map_err(|e| anyhow::anyhow!("--domain all: building the homogeneous network: {e}"))?;
    let lower: Vec<f64> = (0..=n0).map(|i| if i < n0 { -1.0 } else { 0.0 }).collect();
    let domain = Domain::new(lower, vec![1.0; n0 + 1])?;
    Ok(Built {
        network,
        domain,
        map: InputMap::Cone {
            original: Box::new(net.clone()),
        },
        description: format!("all of R^{n0}"),
    })
}

/// The homogeneous version of one layer whose pre-activations (over the previous homogeneous
/// outputs, `s` last) are the rows of `z`; returns it and how this layer's original outputs
/// are read off its outputs (one row each; the last column is `s`, which every layer but
/// the `last` carries as its last unit).
fn homogeneous_layer(
    z: &Array2<f64>,
    activation: &Activation,
    last: bool,
) -> Result<(Layer, Array2<f64>)> {
    let width = z.ncols();
    let s_row = {
        let mut r = Array1::<f64>::zeros(width);
        r[width - 1] = 1.0;
        r
    };
    let stack = |rows: Vec<Array1<f64>>| {
        let mut m = Array2::<f64>::zeros((rows.len(), width));
        for (i, r) in rows.iter().enumerate() {
            m.row_mut(i).assign(r);
        }
        m
    };
    match activation {
        // Positively homogeneous: act(s z) = s act(z); `s` rides along as one more unit
        // (s >= 0, so the unit passes it on unchanged).
        Activation::Relu | Activation::LeakyRelu { .. } | Activation::Identity => {
            let units = z.nrows();
            let mut rows: Vec<Array1<f64>> = z.rows().into_iter().map(|r| r.to_owned()).collect();
            if !last {
                rows.push(s_row);
            }
            let n = rows.len();
            let layer = Layer::new(stack(rows), Array1::zeros(n), activation.clone());
            Ok((layer, carry(units, n)))
        }
        Activation::Maxout { rank } => {
            let units = z.nrows() / rank;
            let mut rows: Vec<Array1<f64>> = z.rows().into_iter().map(|r| r.to_owned()).collect();
            if !last {
                rows.extend(std::iter::repeat_n(s_row, *rank));
            }
            let n = rows.len();
            let layer = Layer::new(stack(rows), Array1::zeros(n), activation.clone());
            Ok((layer, carry(units, n / rank)))
        }
        // f(z) = f(b_1) + m_0 (z - b_1) + sum_i (m_i - m_{i-1}) relu(z - b_i): each breakpoint
        // is a ReLU unit on z - b_i s, and m_0 (z - b_1 s) = m_0 (relu(z - b_1 s) -
        // relu(b_1 s - z)) adds one more on the same hyperplane. The units of one original
        // unit only take the combinations of its pieces, so regions correspond one to one.
        Activation::Pwl(f) => {
            let (b, m) = (f.breakpoints(), f.slopes());
            let units = z.nrows();
            let per = b.len() + 1;
            let mut rows = Vec::with_capacity(units * per + 1);
            let mut mix = Array2::<f64>::zeros((units, units * per + 1));
            for u in 0..units {
                let zu = z.row(u).to_owned();
                let shifted = |bi: f64| {
                    let mut r = zu.clone();
                    r[width - 1] -= bi;
                    r
                };
                rows.push(-shifted(b[0]));
                for &bi in b {
                    rows.push(shifted(bi));
                }
                let base = u * per;
                mix[[u, base]] = -m[0];
                mix[[u, base + 1]] = m[0];
                for i in 1..per {
                    mix[[u, base + i]] += m[i] - m[i - 1];
                }
                mix[[u, units * per]] = f.value_at_first();
            }
            rows.push(s_row);
            let n = rows.len();
            let layer = Layer::new(stack(rows), Array1::zeros(n), Activation::Relu);
            Ok((layer, mix))
        }
        #[allow(unreachable_patterns)]
        other => bail!(
            "--domain all: the activation {} is not supported",
            other.name()
        ),
    }
}

/// Original output `j` is homogeneous output `j`, for `units` outputs of `width`.
fn carry(units: usize, width: usize) -> Array2<f64> {
    let mut m = Array2::<f64>::zeros((units, width));
    for j in 0..units {
        m[[j, j]] = 1.0;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::random::he_network;

    #[test]
    fn a_polytope_from_rows_in_memory_is_the_polytope_of_the_same_file() {
        let net = he_network(&[2, 4, 1], 0.1, true, 3);
        let rows = vec![vec![1.0, 1.0, 1.5], vec![-1.0, 0.5, 0.25]];
        let dir = std::env::temp_dir().join(format!("mipbound-polytope-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rows.txt");
        std::fs::write(&path, "1 1 1.5\n-1 0.5 0.25\n").unwrap();
        let unit = Domain::unit_box(2);
        let from_file = build(
            &net,
            Some(&unit),
            &DomainSpec::Polytope(PointSource::File(path.clone())),
        )
        .unwrap();
        let inline = DomainSpec::Polytope(PointSource::Inline {
            name: "<arrays>".into(),
            points: rows,
            labels: None,
        });
        let in_memory = build(&net, Some(&unit), &inline).unwrap();
        assert_eq!(in_memory.domain, from_file.domain);
        assert_eq!(
            in_memory.description,
            "polytope of 2 rows (<arrays>) inside [0, 1]^2"
        );
        assert_eq!(
            from_file.description,
            format!("polytope of 2 rows ({}) inside [0, 1]^2", path.display())
        );
        let short = DomainSpec::Polytope(PointSource::Inline {
            name: "<arrays>".into(),
            points: vec![vec![1.0, 1.0]],
            labels: None,
        });
        assert_eq!(
            format!("{:#}", build(&net, Some(&unit), &short).err().unwrap()),
            "--domain polytope:<arrays>: <arrays>: row 0 has 2 values but a row needs 3 (2 coefficients, one per input, then b)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
