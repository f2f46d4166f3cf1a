//! Region maps of 2-D domains: every region of a 1- or 2-input problem as its exact polygon.
//!
//! A region's polygon is the domain polygon (the box, cut by the domain's constraints) cut by
//! the closed half-planes of the region's pieces: with the activations of the earlier layers
//! fixed, each pre-activation is an affine function of the input
//! ([`mipbound_formulation::LayerForms`]), so a scalar unit's piece `e_i < z <=
//! e_{i+1}` gives up to two half-planes and a maxout unit's winner `w` gives `z_w >= z_j` for
//! every other row `j`. Constant units give none. The regions come from the exact search
//! ([`crate::regions::RegionStream`]), so the polygons tile the domain.
//!
//! A 1-input problem is drawn as a strip: its interval times `[0, h]`, `h` a tenth of the
//! interval's length, where the second coordinate means nothing.
//!
//! With `classes`, each polygon is split along the decision boundaries: inside a region the
//! output is affine, so the part where class `c` wins is the polygon cut by `y_c >= y_d` for
//! every other output `d` (with one output, class 1 is `y > 0` and class 0 the rest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mipbound_formulation::LayerForms;
use mipbound_network::Network;
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::count::CountSettings;
use crate::domains::InputMap;
use crate::polygon::{self, HalfPlane, Point};
use crate::problem::{NetworkSummary, Problem};
use crate::regions::{Next, RegionStream};
use crate::run::{CancelToken, Run, Task};

/// Class pieces smaller than this fraction of their region's area are rounding slivers
/// (a decision line through a vertex) and are dropped.
pub const SLIVER: f64 = 1e-12;

/// Thickness of a 1-D strip, as a fraction of its length.
pub const STRIP: f64 = 0.1;

/// What a map computes besides the regions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapSettings {
    /// The search (time limit, LP solver, ...).
    pub count: CountSettings,
    /// Split each region along the decision boundaries.
    pub classes: bool,
}

/// A labelled point of the map (a plane's defining points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// `A`, `B`, ...
    pub label: String,
    /// Where it is, in map coordinates.
    pub at: Point,
}

/// The part of a region where one class wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassPiece {
    /// The winning output (with one output: 1 if it is positive, else 0).
    pub class: usize,
    /// Vertices, in map coordinates.
    pub polygon: Vec<Point>,
    /// Area.
    pub area: f64,
}

/// One region of the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRegion {
    /// Position in the search order (0-based).
    pub index: usize,
    /// The pattern's bit code, as `count --patterns` writes it.
    pub bits: String,
    /// Each hidden unit's piece (ReLU: 1 active; maxout: the winning row), layer-major.
    pub pieces: Vec<usize>,
    /// A point inside the region, in the search's coordinates (the inputs on a box, `u` on
    /// a slice): one or two values.
    pub witness: Vec<f64>,
    /// Vertices, in map coordinates, counter-clockwise.
    pub polygon: Vec<Point>,
    /// Area.
    pub area: f64,
    /// The region split by class (with `classes`), in class order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassPiece>,
}

/// A region map; its JSON is `mipbound map --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapResult {
    /// `map`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network and domain.
    pub network: NetworkSummary,
    /// 2 for a plane map, 1 for a strip.
    pub dimension: usize,
    /// Names of the map's two axes.
    pub axes: [String; 2],
    /// The domain polygon, in map coordinates.
    pub domain: Vec<Point>,
    /// Its area.
    pub domain_area: f64,
    /// Points to mark and label.
    pub points: Vec<MapPoint>,
    /// The regions, in the search order.
    pub regions: Vec<MapRegion>,
    /// Whether every region is there.
    pub complete: bool,
    /// `complete`, `time limit`, `interrupted`, ...
    pub status: String,
    /// Number of classes the pieces are coloured by (with `classes`).
    pub classes: Option<usize>,
    /// Seconds in all.
    pub seconds: f64,
}

impl MapResult {
    /// Whether Ctrl-C (a cancel) stopped the search.
    pub fn interrupted(&self) -> bool {
        self.status == "interrupted"
    }

    /// The summed area of the regions (the domain's area when complete).
    pub fn covered_area(&self) -> f64 {
        self.regions.iter().map(|r| r.area).sum()
    }

    /// The classes that win somewhere on the map, in increasing order, each with the area
    /// where it wins (empty unless the map was split by class).
    pub fn class_areas(&self) -> Vec<(usize, f64)> {
        let mut areas = std::collections::BTreeMap::new();
        for piece in self.regions.iter().flat_map(|r| &r.classes) {
            *areas.entry(piece.class).or_insert(0.0) += piece.area;
        }
        areas.into_iter().collect()
    }
}

/// How the problem's inputs sit in the map's plane.
struct Frame {
    dimension: usize,
    domain: Vec<Point>,
}

impl Frame {
    fn new(problem: &Problem) -> Result<Self> {
        if problem.is_everywhere() {
            bail!("map draws bounded domains: --domain all is the whole unbounded space");
        }
        let d = problem.domain();
        let (lo, hi) = (d.lower(), d.upper());
        let (dimension, rect) = match d.dim() {
            2 => (2, polygon::rectangle([lo[0], lo[1]], [hi[0], hi[1]])),
            1 => (
                1,
                polygon::rectangle([lo[0], 0.0], [hi[0], STRIP * (hi[0] - lo[0])]),
            ),
            n => match problem.input_map() {
                InputMap::Identity => bail!(
                    "map draws 2-D domains: the network has {n} inputs (give a 1- or 2-input \
                     network, or --domain plane:POINTS or segment:POINTS)"
                ),
                _ => bail!(
                    "map draws 2-D domains: the domain has {n} dimensions (give --domain \
                     plane:POINTS or segment:POINTS)"
                ),
            },
        };
        let mut frame = Self {
            dimension,
            domain: rect,
        };
        for c in d.constraints() {
            // a . x <= b  <=>  -a . x + b >= 0.
            let h = frame.half_plane(&c.a.iter().map(|v| -v).collect::<Vec<_>>(), c.b);
            frame.domain = polygon::clip(&frame.domain, &h);
        }
        if polygon::area(&frame.domain) == 0.0 {
            bail!("the domain {} is empty or flat in the map", d.describe());
        }
        Ok(frame)
    }

    /// A search point's place on the map.
    fn place(&self, point: &[f64]) -> Point {
        place(self.dimension, &self.domain, point)
    }

    /// The axes' names and the labelled points: `u`, `v` and a slice's defining points, or
    /// the inputs `x1`, `x2`.
    fn labels(&self, problem: &Problem) -> ([String; 2], Vec<MapPoint>) {
        let second = |name: &str| {
            if self.dimension == 2 {
                name.to_string()
            } else {
                String::new()
            }
        };
        match problem.input_map() {
            InputMap::Affine(slice) => (
                ["u".into(), second("v")],
                slice
                    .points
                    .iter()
                    .map(|(label, u)| MapPoint {
                        label: label.clone(),
                        at: self.place(u),
                    })
                    .collect(),
            ),
            _ => (["x1".into(), second("x2")], Vec::new()),
        }
    }

    /// `a . x + c >= 0` in map coordinates (a 1-D `x` is the first one).
    fn half_plane(&self, a: &[f64], c: f64) -> HalfPlane {
        HalfPlane {
            a: [a[0], if self.dimension == 2 { a[1] } else { 0.0 }],
            c,
        }
    }
}

/// The half-planes of a region's pieces, and the network's output on it as `(gradient,
/// constant)` rows.
fn region_cuts(
    net: &Network,
    pieces: &[usize],
    frame: &Frame,
) -> (Vec<HalfPlane>, Vec<(Vec<f64>, f64)>) {
    let layers = net.hidden_layers();
    let mut cuts = Vec::new();
    let mut forms = LayerForms::first(&layers[0]);
    let mut first = 0;
    let form = |forms: &LayerForms, row: usize, sign: f64, shift: f64| -> HalfPlane {
        let a: Vec<f64> = forms.gradient(row).iter().map(|g| sign * g).collect();
        frame.half_plane(&a, sign * forms.constants[row] + shift)
    };
    for (l, layer) in layers.iter().enumerate() {
        let act = &layer.activation;
        let rank = act.rank();
        let own = &pieces[first..first + layer.width()];
        for (u, &piece) in own.iter().enumerate() {
            match act.piece_range(piece) {
                Some((lo, hi)) => {
                    if forms.is_constant(u) {
                        continue;
                    }
                    if lo.is_finite() {
                        cuts.push(form(&forms, u, 1.0, -lo));
                    }
                    if hi.is_finite() {
                        cuts.push(form(&forms, u, -1.0, hi));
                    }
                }
                None => {
                    let w = u * rank + piece;
                    for j in (u * rank..(u + 1) * rank).filter(|&j| j != w) {
                        if forms.parallel(w, j) {
                            continue;
                        }
                        let a: Vec<f64> = forms
                            .gradient(w)
                            .iter()
                            .zip(forms.gradient(j))
                            .map(|(x, y)| x - y)
                            .collect();
                        cuts.push(frame.half_plane(&a, forms.constants[w] - forms.constants[j]));
                    }
                }
            }
        }
        let post = |u: usize| act.post(own[u]);
        if let Some(next) = net.layers().get(l + 1) {
            forms = forms.next(next, rank, post);
        } else {
            // No output layer: the output is this layer's post-activation.
            let outputs = (0..layer.width())
                .map(|u| {
                    let p = post(u);
                    let row = u * rank + p.row;
                    let g = forms.gradient(row).iter().map(|g| p.slope * g).collect();
                    (g, p.slope * forms.constants[row] + p.offset)
                })
                .collect();
            return (cuts, outputs);
        }
        first += layer.width();
    }
    // The output layer's pre-activation is the output.
    let outputs = (0..forms.width())
        .map(|r| (forms.gradient(r).to_vec(), forms.constants[r]))
        .collect();
    (cuts, outputs)
}

/// The region's polygon split by the winning class, slivers dropped.
fn class_pieces(poly: &[Point], outputs: &[(Vec<f64>, f64)], frame: &Frame) -> Vec<ClassPiece> {
    let total = polygon::area(poly);
    let half = |c: usize, d: usize| {
        let a: Vec<f64> = outputs[c]
            .0
            .iter()
            .zip(&outputs[d].0)
            .map(|(x, y)| x - y)
            .collect();
        (a, outputs[c].1 - outputs[d].1)
    };
    let mut pieces = Vec::new();
    let sides: Vec<(usize, Vec<HalfPlane>)> = if outputs.len() == 1 {
        let y = frame.half_plane(&outputs[0].0, outputs[0].1);
        vec![(0, vec![y.flipped()]), (1, vec![y])]
    } else {
        (0..outputs.len())
            .map(|c| {
                let cuts = (0..outputs.len())
                    .filter(|&d| d != c)
                    .map(|d| {
                        let (a, k) = half(c, d);
                        if a.iter().all(|&v| v == 0.0) {
                            // Equal outputs tie to the lower index, as argmax does.
                            let wins = k > 0.0 || (k == 0.0 && c < d);
                            let k = if wins { 1.0 } else { -1.0 };
                            return frame.half_plane(&[0.0, 0.0], k);
                        }
                        frame.half_plane(&a, k)
                    })
                    .collect();
                (c, cuts)
            })
            .collect()
    };
    for (class, cuts) in sides {
        let mut piece = poly.to_vec();
        for h in &cuts {
            if piece.is_empty() {
                break;
            }
            piece = polygon::clip(&piece, h);
        }
        let area = polygon::area(&piece);
        if !piece.is_empty() && area > SLIVER * total {
            pieces.push(ClassPiece {
                class,
                polygon: piece,
                area,
            });
        }
    }
    pieces
}

/// Refuses, before any search, a problem [`map`] cannot draw: the whole space, more than
/// two dimensions, an empty or flat domain.
pub fn check(problem: &Problem) -> Result<()> {
    Frame::new(problem).map(|_| ())
}

/// The region map of a 1- or 2-input problem: every region's polygon, in the single-thread
/// search order. A time limit or a cancel leaves the map incomplete (`complete` false).
pub fn map(problem: &Problem, settings: &MapSettings, run: &Run<'_>) -> Result<MapResult> {
    let start = Instant::now();
    let frame = Frame::new(problem)?;
    settings.count.check()?;
    let net = problem.network();
    let outputs = net.layers().last().map_or(0, |l| l.width());
    let stop = CancelToken::new();
    let stream = RegionStream::start(
        Arc::new(problem.clone()),
        &settings.count,
        false,
        stop.clone(),
    )?;
    let progress = run.progress.task(Task::Regions);
    let mut regions = Vec::new();
    loop {
        if run.cancel.is_cancelled() {
            stop.cancel();
        }
        let region = match stream.next_within(Duration::from_millis(50)) {
            Next::Region(r) => r,
            Next::Pending => continue,
            Next::Done => break,
        };
        let (cuts, out) = region_cuts(net, &region.pieces, &frame);
        let mut poly = frame.domain.clone();
        for h in &cuts {
            if poly.is_empty() {
                break;
            }
            poly = polygon::clip(&poly, h);
        }
        let classes = if settings.classes {
            class_pieces(&poly, &out, &frame)
        } else {
            Vec::new()
        };
        regions.push(MapRegion {
            index: regions.len(),
            bits: region.bits,
            pieces: region.pieces,
            witness: region.search_point,
            area: polygon::area(&poly),
            polygon: poly,
            classes,
        });
        progress.advance(1);
    }
    progress.finish();
    let end = stream.finish()?;
    let (axes, points) = frame.labels(problem);
    Ok(MapResult {
        command: "map".into(),
        version: VERSION.into(),
        network: problem.summary(),
        dimension: frame.dimension,
        axes,
        domain_area: polygon::area(&frame.domain),
        domain: frame.domain,
        points,
        regions,
        complete: end.complete,
        status: end.status,
        classes: settings.classes.then_some(outputs.max(2)),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Where a region's witness (a search point) sits on the map: a 1-D point at mid-strip.
pub fn witness_point(result: &MapResult, witness: &[f64]) -> Point {
    place(result.dimension, &result.domain, witness)
}

fn place(dimension: usize, domain: &[Point], point: &[f64]) -> Point {
    if dimension == 2 {
        [point[0], point[1]]
    } else {
        let top = domain.iter().fold(0.0, |m: f64, p| m.max(p[1]));
        [point[0], 0.5 * top]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_formulation::{Constraint, Domain};
    use mipbound_network::random::he_network;

    fn frame(domain: Domain) -> Result<Frame> {
        let net = he_network(&[domain.dim(), 3, 2], 0.1, true, 1);
        Frame::new(&Problem::new(net, domain, "<test>")?)
    }

    #[test]
    fn the_domain_polygon_is_the_box_cut_by_its_constraints() {
        let cut = |a: Vec<f64>, b: f64| Constraint { a, b };
        let triangle = Domain::unit_box(2)
            .with_constraints(vec![cut(vec![1.0, 1.0], 1.0)])
            .unwrap();
        let f = frame(triangle).unwrap();
        assert_eq!(f.dimension, 2);
        assert!((polygon::area(&f.domain) - 0.5).abs() < 1e-15);
        // A segment cut at x <= 0.25 on [-1, 1]: a strip a tenth of the interval high.
        let segment = Domain::uniform(1, -1.0, 1.0)
            .unwrap()
            .with_constraints(vec![cut(vec![1.0], 0.25)])
            .unwrap();
        let f = frame(segment).unwrap();
        assert_eq!(f.dimension, 1);
        assert!((polygon::area(&f.domain) - 1.25 * 0.2).abs() < 1e-15);
        // Constraints that leave nothing.
        let empty = Domain::unit_box(2)
            .with_constraints(vec![cut(vec![1.0, 0.0], -1.0)])
            .unwrap();
        let err = frame(empty).err().unwrap().to_string();
        assert!(err.contains("empty or flat"), "{err}");
        let err = frame(Domain::unit_box(3)).err().unwrap().to_string();
        assert!(err.contains("3 inputs"), "{err}");
    }
}
