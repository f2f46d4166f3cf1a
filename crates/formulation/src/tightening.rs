//! Bounds on every pre-activation over the domain, and the stable units they reveal.
//!
//! Interval propagation gives valid bounds cheaply (exact for the first layer). LP
//! tightening then maximises and minimises each pre-activation of layers `2..L` over the
//! convex hull of each earlier activation's graph on its interval (for ReLU, the triangle
//! `h >= 0`, `h >= z`, `h <= U (z - L) / (U - L)`; `h = z` / `h = 0` when stable; for a
//! maxout unit, `h >= z_j` for every piece).
//! Both are relaxations, so the bounds are valid, and both are computed rigorously:
//! interval propagation rounds outwards ([`crate::rounding`]), hull lines are shifted
//! outwards past their rounding, and an LP optimum is never used as it is: its bound is the
//! safe bound of Neumaier and Shcherbina (2004) built from the LP's duals, the rows and the
//! column bounds in outward-rounded arithmetic, valid whatever HiGHS's tolerances did
//! ([`HighsLp::safe_bound`]). An LP that does not reach optimality keeps the interval bound.
//! The domain's constraints are rows of every tightening LP (with them, the first layer is
//! tightened too); interval propagation runs over the box, which contains X, so its bounds
//! stay valid. A unit whose bounds allow one piece only is stable over X (ReLU: upper bound `<= 0`,
//! stably inactive; lower bound `> 0`, stably active). Stable units never split a region.

use mipbound_network::{Activation, Network, UnitId};

use crate::domain::Domain;
use crate::highs_lp::{HighsLp, LpStatus, OracleError};
use crate::rounding;

/// A closed interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// Whether a unit can change state over the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stability {
    /// Pre-activation `> 0` on all of X.
    Active,
    /// Pre-activation `<= 0` on all of X.
    Inactive,
    /// Neither is proven: the unit may split regions.
    Unstable,
}

impl Interval {
    /// The stability these pre-activation bounds prove.
    pub fn stability(self) -> Stability {
        if self.hi <= 0.0 {
            Stability::Inactive
        } else if self.lo > 0.0 {
            Stability::Active
        } else {
            Stability::Unstable
        }
    }
}

/// Pre-activation bounds of every hidden unit over a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitBounds {
    /// Per hidden layer, one interval per pre-activation row.
    layers: Vec<Vec<Interval>>,
    activations: Vec<Activation>,
    lp_solves: u64,
}

impl UnitBounds {
    /// Interval propagation through the network.
    pub fn interval(net: &Network, domain: &Domain) -> Self {
        let mut range: Vec<Interval> = domain
            .lower()
            .iter()
            .zip(domain.upper())
            .map(|(&lo, &hi)| Interval { lo, hi })
            .collect();
        let mut layers = Vec::new();
        for layer in net.hidden_layers() {
            let z = propagate(layer, &range);
            range = post_ranges(&layer.activation, &z);
            layers.push(z);
        }
        Self {
            layers,
            activations: activations(net),
            lp_solves: 0,
        }
    }

    /// Interval propagation refined by LPs over the convex hull of each activation's graph
    /// (see the module doc).
    pub fn tightened(net: &Network, domain: &Domain, seed: u32) -> Result<Self, OracleError> {
        let mut lp = HighsLp::new(seed);
        let mut prev_cols = Vec::with_capacity(domain.dim());
        let mut prev_range = Vec::with_capacity(domain.dim());
        for (&lo, &hi) in domain.lower().iter().zip(domain.upper()) {
            prev_cols.push(lp.add_col(0.0, lo, hi)?);
            prev_range.push(Interval { lo, hi });
        }
        // The domain's constraints cut the input columns; they can only tighten the LP
        // bounds, and then the first layer is worth an LP too.
        for c in domain.constraints() {
            lp.add_row(f64::NEG_INFINITY, c.b, &prev_cols, &c.a)?;
        }
        let cut = !domain.constraints().is_empty();
        let mut layers = Vec::new();
        let mut lp_solves = 0;
        for (l, layer) in net.hidden_layers().iter().enumerate() {
            let mut bounds = propagate(layer, &prev_range);
            let mut z_cols = Vec::with_capacity(layer.rows());
            for (row, iv) in bounds.iter().enumerate() {
                let z = lp.add_col(0.0, iv.lo, iv.hi)?;
                let mut cols = vec![z];
                let mut values = vec![1.0];
                for (j, &w) in layer.weights.row(row).iter().enumerate() {
                    if w != 0.0 {
                        cols.push(prev_cols[j]);
                        values.push(-w);
                    }
                }
                let b = layer.bias[row];
                lp.add_row(b, b, &cols, &values)?;
                z_cols.push(z);
            }
            if l > 0 || cut {
                for (row, &z) in z_cols.iter().enumerate() {
                    lp.set_col_cost(z, 1.0)?;
                    for maximize in [true, false] {
                        lp.set_maximize(maximize)?;
                        lp_solves += 1;
                        // A solve HiGHS cannot finish keeps the (rigorous) interval bound.
                        if matches!(lp.solve(), Ok(LpStatus::Optimal)) {
                            let iv = &mut bounds[row];
                            if maximize {
                                iv.hi = iv.hi.min(lp.safe_bound(&[(z, 1.0)]));
                            } else {
                                iv.lo = iv.lo.max(-lp.safe_bound(&[(z, -1.0)]));
                            }
                        }
                    }
                    lp.set_col_cost(z, 0.0)?;
                }
            }
            prev_range = post_ranges(&layer.activation, &bounds);
            prev_cols.clear();
            let rank = layer.activation.rank();
            for (unit, out) in prev_range.iter().enumerate() {
                let h = lp.add_col(0.0, out.lo, out.hi)?;
                match layer.activation.scalar() {
                    Some(f) => {
                        let (z, iv) = (z_cols[unit], bounds[unit]);
                        let (lower, upper) = hull(&f, iv.lo, iv.hi);
                        // h >= s z + c on the lower hull, h <= s z + c on the upper one.
                        for (s, c) in lower {
                            lp.add_row(c, f64::INFINITY, &[h, z], &[1.0, -s])?;
                        }
                        for (s, c) in upper {
                            lp.add_row(f64::NEG_INFINITY, c, &[h, z], &[1.0, -s])?;
                        }
                    }
                    // Maxout: h >= every piece (and h <= the largest upper bound).
                    None => {
                        for r in 0..rank {
                            lp.add_row(
                                0.0,
                                f64::INFINITY,
                                &[h, z_cols[unit * rank + r]],
                                &[1.0, -1.0],
                            )?;
                        }
                    }
                }
                prev_cols.push(h);
            }
            layers.push(bounds);
        }
        Ok(Self {
            layers,
            activations: activations(net),
            lp_solves,
        })
    }

    /// Bounds of one unit's pre-activation (its first row for maxout).
    pub fn get(&self, id: UnitId) -> Interval {
        self.layers[id.layer][id.unit * self.activations[id.layer].rank()]
    }

    /// Bounds of every pre-activation row of one hidden layer.
    pub fn layer(&self, layer: usize) -> &[Interval] {
        &self.layers[layer]
    }

    /// Number of hidden layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The options (pieces) of a unit that the bounds allow somewhere in the domain.
    pub fn options(&self, id: UnitId) -> Vec<usize> {
        let a = &self.activations[id.layer];
        let rank = a.rank();
        let rows = &self.layers[id.layer][id.unit * rank..(id.unit + 1) * rank];
        possible_options(a, rows)
    }

    /// Stability of one unit: one option only (`Active` for any but the first piece).
    pub fn stability(&self, id: UnitId) -> Stability {
        match self.options(id).as_slice() {
            [0] => Stability::Inactive,
            [_] => Stability::Active,
            _ => Stability::Unstable,
        }
    }

    /// Per layer: (stably active, stably inactive, unstable) unit counts (for other than
    /// ReLU: stable on a piece other than the first, stable on the first, not stable).
    pub fn stability_counts(&self) -> Vec<(usize, usize, usize)> {
        (0..self.layers.len())
            .map(|layer| {
                let units = self.layers[layer].len() / self.activations[layer].rank();
                (0..units).fold((0, 0, 0), |(a, i, u), unit| {
                    match self.stability(UnitId { layer, unit }) {
                        Stability::Active => (a + 1, i, u),
                        Stability::Inactive => (a, i + 1, u),
                        Stability::Unstable => (a, i, u + 1),
                    }
                })
            })
            .collect()
    }

    /// LPs solved to compute the bounds.
    pub fn lp_solves(&self) -> u64 {
        self.lp_solves
    }
}

fn activations(net: &Network) -> Vec<Activation> {
    net.hidden_layers()
        .iter()
        .map(|l| l.activation.clone())
        .collect()
}

/// The options of a unit whose pre-activation rows lie in `rows` that some point can take
/// strictly (a piece `e_i < z <= e_{i+1}`; a maxout winner strictly above the others).
pub fn possible_options(activation: &Activation, rows: &[Interval]) -> Vec<usize> {
    match activation.piece_range(0) {
        Some(_) => {
            let (lo, hi) = (rows[0].lo, rows[0].hi);
            (0..activation.options())
                .filter(|&i| {
                    let (a, b) = activation.piece_range(i).expect("scalar activation");
                    (i == 0 || hi > a) && lo <= b
                })
                .collect()
        }
        None => (0..rows.len())
            .filter(|&j| (0..rows.len()).all(|m| m == j || rows[j].hi > rows[m].lo))
            .collect(),
    }
}

/// The range of each unit's output given its rows' ranges, rounded outwards.
pub fn post_ranges(activation: &Activation, rows: &[Interval]) -> Vec<Interval> {
    let rank = activation.rank();
    let steepest = max_slope(activation);
    rows.chunks(rank)
        .map(
            |unit| match activation.output_range(unit[0].lo, unit[0].hi) {
                Some((lo, hi)) => {
                    // Each end is `s z + c` at one point, rounded once or twice.
                    let z = unit[0].lo.abs().max(unit[0].hi.abs());
                    Interval {
                        lo: rounding::widen_down(lo, lo.abs() + steepest * z),
                        hi: rounding::widen_up(hi, hi.abs() + steepest * z),
                    }
                }
                None => Interval {
                    lo: unit
                        .iter()
                        .map(|iv| iv.lo)
                        .fold(f64::NEG_INFINITY, f64::max),
                    hi: unit
                        .iter()
                        .map(|iv| iv.hi)
                        .fold(f64::NEG_INFINITY, f64::max),
                },
            },
        )
        .collect()
}

/// The largest `|slope|` of the activation's pieces (1 for maxout and identity).
fn max_slope(activation: &Activation) -> f64 {
    (0..activation.options())
        .map(|o| activation.post(o).slope.abs())
        .fold(1.0, f64::max)
}

/// A line `z -> slope * z + intercept`, as `(slope, intercept)`.
pub type Line = (f64, f64);

/// The lines `(slope, intercept)` of the lower convex and upper concave hulls of the graph of
/// `f` on `[lo, hi]`: together the tightest linear relaxation of `h = f(z)` there. Each
/// intercept is moved outwards past its rounding, so the lower lines stay below the graph
/// and the upper lines above it on all of `[lo, hi]`.
pub fn hull(f: &mipbound_network::PiecewiseLinear, lo: f64, hi: f64) -> (Vec<Line>, Vec<Line>) {
    let mut points: Vec<(f64, f64)> = std::iter::once(lo)
        .chain(
            f.breakpoints()
                .iter()
                .copied()
                .filter(|&e| e > lo && e < hi),
        )
        .chain(std::iter::once(hi))
        .map(|z| (z, f.apply(z)))
        .collect();
    points.dedup_by(|a, b| a.0 == b.0);
    let steepest = f.slopes().iter().fold(1.0_f64, |m, s| m.max(s.abs()));
    if points.len() == 1 {
        let v = points[0].1;
        return (vec![(0.0, v)], vec![(0.0, v)]);
    }
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let chain = |upper: bool| -> Vec<(f64, f64)> {
        let mut h: Vec<(f64, f64)> = Vec::new();
        for &p in &points {
            while h.len() >= 2 {
                let c = cross(h[h.len() - 2], h[h.len() - 1], p);
                if (upper && c >= 0.0) || (!upper && c <= 0.0) {
                    h.pop();
                } else {
                    break;
                }
            }
            h.push(p);
        }
        h.windows(2)
            .map(|w| {
                let s = (w[1].1 - w[0].1) / (w[1].0 - w[0].0);
                // The graph is linear between the points, so a line on the right side of
                // every point is on the right side everywhere.
                let intercept = points.iter().map(|&(z, v)| {
                    let scale = v.abs() + (s * z).abs() + steepest * z.abs();
                    if upper {
                        rounding::widen_up(v - s * z, scale)
                    } else {
                        rounding::widen_down(v - s * z, scale)
                    }
                });
                let c = if upper {
                    intercept.fold(f64::NEG_INFINITY, f64::max)
                } else {
                    intercept.fold(f64::INFINITY, f64::min)
                };
                (s, c)
            })
            .collect()
    };
    (chain(false), chain(true))
}

/// Encloses `b + sum_k w_k [inputs_k]`, rounded outwards.
pub fn interval_dot(
    b: f64,
    weights: ndarray::ArrayView1<'_, f64>,
    inputs: &[Interval],
) -> Interval {
    let (lo, hi) = rounding::dot_range(
        b,
        weights.iter().zip(inputs).map(|(&w, iv)| (w, iv.lo, iv.hi)),
    );
    Interval { lo, hi }
}

fn propagate(layer: &mipbound_network::Layer, range: &[Interval]) -> Vec<Interval> {
    layer
        .weights
        .rows()
        .into_iter()
        .zip(&layer.bias)
        .map(|(row, &b)| interval_dot(b, row, range))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the triangle `x + y <= 1/2` of the unit square, `z = x + y - 0.6` is at most
    /// `-0.1`: interval bounds (over the box) leave it unstable, the LP with the domain's
    /// row proves it inactive; the second layer's bounds contain its values at points of
    /// the triangle; the big-M MILP agrees.
    #[test]
    fn domain_rows_tighten_bounds_soundly() {
        use mipbound_network::Layer;
        use ndarray::array;
        let net = Network::new(
            2,
            vec![
                Layer::new(
                    array![[1.0, 1.0], [1.0, -1.0]],
                    array![-0.6, 0.0],
                    Activation::Relu,
                ),
                Layer::new(array![[1.0, 2.0]], array![-0.3], Activation::Relu),
            ],
        )
        .unwrap();
        let domain = Domain::unit_box(2)
            .with_constraints(vec![crate::Constraint {
                a: vec![1.0, 1.0],
                b: 0.5,
            }])
            .unwrap();
        let first = UnitId { layer: 0, unit: 0 };
        let loose = UnitBounds::interval(&net, &domain);
        assert_eq!(loose.stability(first), Stability::Unstable);
        let tight = UnitBounds::tightened(&net, &domain, 0).unwrap();
        assert_eq!(tight.stability(first), Stability::Inactive);
        let z = tight.get(first);
        assert!(z.hi <= -0.1 + 1e-9 && z.hi >= -0.1 - 1e-9, "{z:?}");
        let second = tight.get(UnitId { layer: 1, unit: 0 });
        for i in 0..=10 {
            for j in 0..=10 {
                let x = [i as f64 / 20.0, j as f64 / 20.0];
                if !domain.contains(&x) {
                    continue;
                }
                let v = net.pre_activations(&x)[1][0];
                assert!(second.lo <= v && v <= second.hi, "{x:?}: {v} {second:?}");
            }
        }
        let mut milp = crate::BigM::new(&net, &domain, &tight, 1, 0).unwrap();
        let z1 = milp.units[0][1].z;
        milp.set_objective(&[(z1, 1.0)], true).unwrap();
        // max x - y over the triangle: 1/2 at (1/2, 0) (the box alone gives 1).
        match milp.solve_bound(10.0, true, None).unwrap() {
            crate::MilpBound::Bound { value, .. } => assert!((value - 0.5).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hull_of_relu_is_the_triangle_and_of_hard_tanh_a_hexagon() {
        let relu = Activation::Relu.scalar().unwrap();
        let close = |a: &[Line], b: &[Line]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(p, q)| (p.0 - q.0).abs() < 1e-12 && (p.1 - q.1).abs() < 1e-12)
        };
        let (lower, upper) = hull(&relu, -2.0, 3.0);
        assert!(close(&lower, &[(0.0, 0.0), (1.0, 0.0)]), "{lower:?}");
        assert!(close(&upper, &[(0.6, 1.2)]), "{upper:?}");
        // Intercepts are moved outwards past rounding: lower lines at or below the graph.
        assert!(lower.iter().all(|&(_, c)| c < 0.0) && upper[0].1 > 1.2);
        // Stable: the line itself on both sides.
        let (lower, upper) = hull(&relu, 1.0, 2.0);
        assert!(close(&lower, &[(1.0, 0.0)]) && close(&upper, &[(1.0, 0.0)]));
        let tanh = Activation::hard_tanh().scalar().unwrap();
        let (lower, upper) = hull(&tanh, -3.0, 3.0);
        // Lower: flat at -1 then the chord to (3, 1); upper: the chord from (-3, -1), then flat.
        assert!(close(&lower[..1], &[(0.0, -1.0)]));
        assert!(close(&upper[1..2], &[(0.0, 1.0)]));
        for z in [-3.0, -1.0, 0.0, 0.5, 1.0, 3.0] {
            let v = tanh.apply(z);
            assert!(lower.iter().all(|(s, c)| s * z + c <= v));
            assert!(upper.iter().all(|(s, c)| s * z + c >= v));
        }
    }
    use mipbound_network::random::he_network;

    /// Sampled pre-activations must lie inside both kinds of bounds, and LP bounds inside
    /// interval bounds.
    #[test]
    fn bounds_contain_sampled_values_and_lp_is_tighter() {
        let net = he_network(&[4, 8, 8, 6], 0.2, false, 9);
        let domain = Domain::uniform(4, -1.0, 1.0).unwrap();
        let interval = UnitBounds::interval(&net, &domain);
        let tight = UnitBounds::tightened(&net, &domain, 0).unwrap();
        assert_eq!(tight.lp_solves(), 2 * (8 + 6));
        let mut strictly_tighter = 0;
        for l in 0..3 {
            for (a, b) in interval.layer(l).iter().zip(tight.layer(l)) {
                assert!(b.lo >= a.lo && b.hi <= a.hi);
                if b.hi < a.hi - 1e-9 || b.lo > a.lo + 1e-9 {
                    strictly_tighter += 1;
                }
            }
        }
        assert!(strictly_tighter > 0);
        let mut state = 12345u64;
        for _ in 0..2000 {
            let x: Vec<f64> = (0..4)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
                })
                .collect();
            for (l, z) in net.pre_activations(&x).iter().enumerate() {
                for (u, &v) in z.iter().enumerate() {
                    let iv = tight.layer(l)[u];
                    assert!(
                        iv.lo <= v && v <= iv.hi,
                        "layer {l} unit {u}: {v} not in {iv:?}"
                    );
                }
            }
        }
    }
}
