//! Bounds on every pre-activation over the domain, and the stable units they reveal.
//!
//! Interval propagation gives valid bounds cheaply (exact for the first layer). LP
//! tightening then maximises and minimises each pre-activation of layers `2..L` over the
//! triangle relaxation of the ReLUs before it (`h >= 0`, `h >= z`,
//! `h <= U (z - L) / (U - L)` for an unstable unit, `h = z` / `h = 0` for a stable one).
//! Both are relaxations, so the bounds are valid; LP values are widened by the solver's
//! tolerance before use, and an LP that does not reach optimality keeps the interval bound.
//! A unit whose upper bound is `<= 0` is stably inactive over X; one whose lower bound is
//! `> 0` is stably active. Stable units never split a region.

use mipbound_network::{Network, UnitId};

use crate::domain::Domain;
use crate::highs_lp::{HighsLp, LpStatus, OracleError};

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

/// Relative widening applied to LP optima (HiGHS's default feasibility tolerance is 1e-7).
const LP_SLACK: f64 = 1e-6;

/// Pre-activation bounds of every hidden unit over a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitBounds {
    layers: Vec<Vec<Interval>>,
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
            range = z.iter().map(|iv| relu(*iv)).collect();
            layers.push(z);
        }
        Self {
            layers,
            lp_solves: 0,
        }
    }

    /// Interval propagation refined by LPs over the triangle relaxation (see the module doc).
    pub fn tightened(net: &Network, domain: &Domain, seed: u32) -> Result<Self, OracleError> {
        let mut lp = HighsLp::new(seed);
        let mut prev_cols = Vec::with_capacity(domain.dim());
        let mut prev_range = Vec::with_capacity(domain.dim());
        for (&lo, &hi) in domain.lower().iter().zip(domain.upper()) {
            prev_cols.push(lp.add_col(0.0, lo, hi)?);
            prev_range.push(Interval { lo, hi });
        }
        let mut layers = Vec::new();
        let mut lp_solves = 0;
        for (l, layer) in net.hidden_layers().iter().enumerate() {
            let mut bounds = propagate(layer, &prev_range);
            let mut z_cols = Vec::with_capacity(layer.width());
            for (unit, iv) in bounds.iter().enumerate() {
                let z = lp.add_col(0.0, iv.lo, iv.hi)?;
                let mut cols = vec![z];
                let mut values = vec![1.0];
                for (j, &w) in layer.weights.row(unit).iter().enumerate() {
                    if w != 0.0 {
                        cols.push(prev_cols[j]);
                        values.push(-w);
                    }
                }
                let b = layer.bias[unit];
                lp.add_row(b, b, &cols, &values)?;
                z_cols.push(z);
            }
            if l > 0 {
                for (unit, &z) in z_cols.iter().enumerate() {
                    lp.set_col_cost(z, 1.0)?;
                    for maximize in [true, false] {
                        lp.set_maximize(maximize)?;
                        lp_solves += 1;
                        if lp.solve()? == LpStatus::Optimal {
                            let v = lp.objective();
                            let slack = LP_SLACK * (1.0 + v.abs());
                            let iv = &mut bounds[unit];
                            if maximize {
                                iv.hi = iv.hi.min(v + slack);
                            } else {
                                iv.lo = iv.lo.max(v - slack);
                            }
                        }
                    }
                    lp.set_col_cost(z, 0.0)?;
                }
            }
            prev_cols.clear();
            prev_range.clear();
            for (&z, &iv) in z_cols.iter().zip(&bounds) {
                let h = match iv.stability() {
                    Stability::Inactive => lp.add_col(0.0, 0.0, 0.0)?,
                    Stability::Active => {
                        let h = lp.add_col(0.0, iv.lo, iv.hi)?;
                        lp.add_row(0.0, 0.0, &[h, z], &[1.0, -1.0])?;
                        h
                    }
                    Stability::Unstable => {
                        let h = lp.add_col(0.0, 0.0, iv.hi)?;
                        lp.add_row(0.0, f64::INFINITY, &[h, z], &[1.0, -1.0])?;
                        let slope = iv.hi / (iv.hi - iv.lo);
                        lp.add_row(f64::NEG_INFINITY, -slope * iv.lo, &[h, z], &[1.0, -slope])?;
                        h
                    }
                };
                prev_cols.push(h);
                prev_range.push(relu(iv));
            }
            layers.push(bounds);
        }
        Ok(Self { layers, lp_solves })
    }

    /// Bounds of one unit's pre-activation.
    pub fn get(&self, id: UnitId) -> Interval {
        self.layers[id.layer][id.unit]
    }

    /// Bounds of one hidden layer.
    pub fn layer(&self, layer: usize) -> &[Interval] {
        &self.layers[layer]
    }

    /// Number of hidden layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Stability of one unit.
    pub fn stability(&self, id: UnitId) -> Stability {
        self.get(id).stability()
    }

    /// Per layer: (stably active, stably inactive, unstable) unit counts.
    pub fn stability_counts(&self) -> Vec<(usize, usize, usize)> {
        self.layers
            .iter()
            .map(|layer| {
                layer
                    .iter()
                    .fold((0, 0, 0), |(a, i, u), iv| match iv.stability() {
                        Stability::Active => (a + 1, i, u),
                        Stability::Inactive => (a, i + 1, u),
                        Stability::Unstable => (a, i, u + 1),
                    })
            })
            .collect()
    }

    /// LPs solved to compute the bounds.
    pub fn lp_solves(&self) -> u64 {
        self.lp_solves
    }
}

fn propagate(layer: &mipbound_network::Layer, range: &[Interval]) -> Vec<Interval> {
    layer
        .weights
        .rows()
        .into_iter()
        .zip(&layer.bias)
        .map(|(row, &b)| {
            let (mut lo, mut hi) = (b, b);
            for (&w, iv) in row.iter().zip(range) {
                let (p, q) = (w * iv.lo, w * iv.hi);
                lo += p.min(q);
                hi += p.max(q);
            }
            Interval { lo, hi }
        })
        .collect()
}

fn relu(iv: Interval) -> Interval {
    Interval {
        lo: iv.lo.max(0.0),
        hi: iv.hi.max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
