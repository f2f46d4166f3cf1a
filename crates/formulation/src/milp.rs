//! The big-M MILP of a ReLU network over the domain (ICML 2018, Section 4; AAAI 2020).
//!
//! The input columns carry the domain's box bounds and its constraints `a · x <= b`.
//! For each hidden unit with pre-activation bounds `[L, U]` (from [`UnitBounds`]): a free
//! column `z` (bounded by `[L, U]`), `h >= 0` and a binary `d`, with `z = W h_prev + b` and
//! - unstable units: `h >= z`, `h <= z - L (1 - d)`, `h <= U d`, so `d = 1` iff `z >= 0`
//!   and `d = 0` iff `z <= 0` (ties may take either value);
//! - stably active units: `h = z`, `d = 1`; stably inactive units: `h = 0`, `d = 0`.
//!
//! Every feasible point of the network is feasible in the MILP with its own pattern, so
//! maximising over the MILP over-estimates a maximum over inputs: used with the solver's
//! proven dual bound, the result is a valid upper bound. With [`BigM::with_margin`] the model
//! is ICML 2018's counting MILP: a margin `f` with `z >= f` for active and `z <= -f` for
//! inactive unstable units, maximising `f` (a pattern is a region iff `f > 0`).

use mipbound_network::{Activation, Network, UnitId};

use crate::domain::Domain;
use crate::highs_lp::{HighsLp, LpStatus, OracleError};
use crate::tightening::{Stability, UnitBounds};

/// Columns of one hidden unit.
#[derive(Debug, Clone, Copy)]
pub struct UnitColumns {
    /// Pre-activation.
    pub z: usize,
    /// Post-activation.
    pub h: usize,
    /// Binary activation indicator (fixed for stable units).
    pub d: usize,
}

/// The big-M MILP of the first `layers` hidden layers of a network.
pub struct BigM {
    lp: HighsLp,
    /// Input columns.
    pub x: Vec<usize>,
    /// Columns of every unit, per hidden layer.
    pub units: Vec<Vec<UnitColumns>>,
    /// The margin column, when built with a margin.
    pub margin: Option<usize>,
}

/// How a MILP solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilpStop {
    /// Solved to optimality.
    Optimal,
    /// A solution better than the target was found (the optimum is beyond the target).
    TargetReached,
    /// The time limit hit first.
    TimeLimit,
}

/// Result of one MILP, read safely.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MilpBound {
    /// No feasible point.
    Infeasible,
    /// The optimum lies within this bound (for a maximisation, an upper bound; for a
    /// minimisation, a lower bound), from the solver's proven dual bound.
    Bound {
        /// The dual bound.
        value: f64,
        /// Why the solve ended.
        stop: MilpStop,
    },
}

impl BigM {
    /// Builds the MILP of hidden layers `0..layers` (all if `layers` exceeds the depth).
    pub fn new(
        net: &Network,
        domain: &Domain,
        bounds: &UnitBounds,
        layers: usize,
        seed: u32,
    ) -> Result<Self, OracleError> {
        if net
            .hidden_layers()
            .iter()
            .any(|l| l.activation != Activation::Relu)
        {
            return Err(OracleError::ReluOnly("the big-M MILP"));
        }
        let mut lp = HighsLp::new(seed);
        let mut x = Vec::with_capacity(domain.dim());
        for (i, (&lo, &hi)) in domain.lower().iter().zip(domain.upper()).enumerate() {
            let col = lp.add_col(0.0, lo, hi)?;
            lp.set_col_name(col, &format!("x_{i}"))?;
            x.push(col);
        }
        for (k, c) in domain.constraints().iter().enumerate() {
            let row = lp.add_row(f64::NEG_INFINITY, c.b, &x, &c.a)?;
            lp.set_row_name(row, &format!("domain_{k}"))?;
        }
        let mut prev = x.clone();
        let mut units = Vec::new();
        for (l, layer) in net.hidden_layers().iter().enumerate().take(layers) {
            let mut cols = Vec::with_capacity(layer.width());
            for unit in 0..layer.width() {
                let iv = bounds.get(UnitId { layer: l, unit });
                let tag = format!("{}_{}", l + 1, unit);
                let z = lp.add_col(0.0, iv.lo, iv.hi)?;
                let (d_lo, d_hi, h_hi) = match iv.stability() {
                    Stability::Active => (1.0, 1.0, iv.hi),
                    Stability::Inactive => (0.0, 0.0, 0.0),
                    Stability::Unstable => (0.0, 1.0, iv.hi),
                };
                let h = lp.add_col(0.0, 0.0, h_hi.max(0.0))?;
                let d = lp.add_col(0.0, d_lo, d_hi)?;
                lp.set_integer(d)?;
                for (col, name) in [(z, "z"), (h, "h"), (d, "d")] {
                    lp.set_col_name(col, &format!("{name}_{tag}"))?;
                }
                // z - W h_prev = b
                let mut index = vec![z];
                let mut value = vec![1.0];
                for (j, &w) in layer.weights.row(unit).iter().enumerate() {
                    if w != 0.0 {
                        index.push(prev[j]);
                        value.push(-w);
                    }
                }
                let b = layer.bias[unit];
                let row = lp.add_row(b, b, &index, &value)?;
                lp.set_row_name(row, &format!("affine_{tag}"))?;
                match iv.stability() {
                    Stability::Active => {
                        let row = lp.add_row(0.0, 0.0, &[h, z], &[1.0, -1.0])?;
                        lp.set_row_name(row, &format!("active_{tag}"))?;
                    }
                    Stability::Inactive => {}
                    Stability::Unstable => {
                        let rows = [
                            lp.add_row(0.0, f64::INFINITY, &[h, z], &[1.0, -1.0])?,
                            lp.add_row(
                                f64::NEG_INFINITY,
                                -iv.lo,
                                &[h, z, d],
                                &[1.0, -1.0, -iv.lo],
                            )?,
                            lp.add_row(f64::NEG_INFINITY, 0.0, &[h, d], &[1.0, -iv.hi])?,
                        ];
                        for (row, name) in
                            rows.iter()
                                .zip(["relu_lower", "relu_upper_on", "relu_upper_off"])
                        {
                            lp.set_row_name(*row, &format!("{name}_{tag}"))?;
                        }
                    }
                }
                cols.push(UnitColumns { z, h, d });
            }
            prev = cols.iter().map(|c| c.h).collect();
            units.push(cols);
        }
        Ok(Self {
            lp,
            x,
            units,
            margin: None,
        })
    }

    /// Adds ICML 2018's margin `f in [0, cap]` and its rows for every unstable unit, and
    /// maximises `f`.
    pub fn with_margin(mut self, bounds: &UnitBounds, cap: f64) -> Result<Self, OracleError> {
        let f = self.lp.add_col(1.0, 0.0, cap)?;
        self.lp.set_col_name(f, "f")?;
        for (l, layer) in self.units.iter().enumerate() {
            for (unit, cols) in layer.iter().enumerate() {
                let iv = bounds.get(UnitId { layer: l, unit });
                if iv.stability() != Stability::Unstable {
                    continue;
                }
                let tag = format!("{}_{}", l + 1, unit);
                // d = 1: z >= f;  d = 0: z >= f - (cap - L) is implied by z >= L.
                let m_on = cap - iv.lo;
                let on = self.lp.add_row(
                    -m_on,
                    f64::INFINITY,
                    &[cols.z, f, cols.d],
                    &[1.0, -1.0, -m_on],
                )?;
                // d = 0: z <= -f;  d = 1: z <= -f + (U + cap) is implied by z <= U.
                let m_off = iv.hi + cap;
                let off = self.lp.add_row(
                    f64::NEG_INFINITY,
                    0.0,
                    &[cols.z, f, cols.d],
                    &[1.0, 1.0, -m_off],
                )?;
                self.lp.set_row_name(on, &format!("margin_on_{tag}"))?;
                self.lp.set_row_name(off, &format!("margin_off_{tag}"))?;
            }
        }
        self.lp.set_maximize(true)?;
        self.margin = Some(f);
        Ok(self)
    }

    /// Adds the row `sum of d over hidden layer `layer` <= k` and returns its index; change
    /// `k` later with [`BigM::set_active_limit`].
    pub fn add_active_limit(&mut self, layer: usize, k: usize) -> Result<usize, OracleError> {
        let cols: Vec<usize> = self.units[layer].iter().map(|c| c.d).collect();
        let ones = vec![1.0; cols.len()];
        let row = self.lp.add_row(f64::NEG_INFINITY, k as f64, &cols, &ones)?;
        self.lp
            .set_row_name(row, &format!("active_limit_{}", layer + 1))?;
        Ok(row)
    }

    /// Changes the limit of a row made by [`BigM::add_active_limit`].
    pub fn set_active_limit(&mut self, row: usize, k: usize) -> Result<(), OracleError> {
        self.lp.set_row_bounds(row, f64::NEG_INFINITY, k as f64)
    }

    /// Sets the objective to `sum coeffs[i] * col[i]` (every other cost 0) and the sense.
    pub fn set_objective(
        &mut self,
        terms: &[(usize, f64)],
        maximize: bool,
    ) -> Result<(), OracleError> {
        for col in 0..self.lp.num_cols() {
            self.lp.set_col_cost(col, 0.0)?;
        }
        for &(col, c) in terms {
            self.lp.set_col_cost(col, c)?;
        }
        self.lp.set_maximize(maximize)
    }

    /// Solves with a time limit and returns the proven dual bound (never the incumbent).
    /// With a `target`, the solve may stop as soon as a solution beats it (above it when
    /// maximising, below when minimising); the dual bound is then beyond the target too.
    pub fn solve_bound(
        &mut self,
        time_limit: f64,
        maximize: bool,
        target: Option<f64>,
    ) -> Result<MilpBound, OracleError> {
        self.lp.set_option_f64("time_limit", time_limit);
        // HiGHS disables the target at -inf, whatever the sense.
        self.lp
            .set_option_f64("objective_target", target.unwrap_or(f64::NEG_INFINITY));
        let stop = match self.lp.solve()? {
            LpStatus::Infeasible => return Ok(MilpBound::Infeasible),
            LpStatus::Optimal => MilpStop::Optimal,
            LpStatus::TargetReached => MilpStop::TargetReached,
            LpStatus::Unbounded | LpStatus::Stopped => MilpStop::TimeLimit,
        };
        let unknown = if maximize {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        let value = match self.lp.info_f64("mip_dual_bound") {
            Some(v) if v.is_finite() => v,
            _ => unknown,
        };
        Ok(MilpBound::Bound { value, stop })
    }

    /// Writes the model with HiGHS's writer (`.mps` or `.lp` by extension).
    pub fn write(&mut self, path: &std::path::Path) -> Result<(), OracleError> {
        self.lp.write_model(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::Layer;
    use ndarray::array;

    /// Two units z1 = x, z2 = -x on [-1, 1]: never both active; each can be either sign.
    #[test]
    fn maximum_active_count_and_unit_ranges() {
        let net = Network::new(
            1,
            vec![Layer::new(
                array![[1.0], [-1.0]],
                array![0.0, 0.0],
                Activation::Relu,
            )],
        )
        .unwrap();
        let domain = Domain::uniform(1, -1.0, 1.0).unwrap();
        let bounds = UnitBounds::tightened(&net, &domain, 0).unwrap();
        let mut milp = BigM::new(&net, &domain, &bounds, 1, 0).unwrap();
        let ds: Vec<(usize, f64)> = milp.units[0].iter().map(|c| (c.d, 1.0)).collect();
        milp.set_objective(&ds, true).unwrap();
        // Ties: at x = 0 both d may be 1 (z = 0): the relaxation allows 2, a valid bound.
        match milp.solve_bound(10.0, true, None).unwrap() {
            MilpBound::Bound { value, stop } => {
                assert_eq!(stop, MilpStop::Optimal);
                assert!((value - 2.0).abs() < 1e-6, "{value}");
            }
            other => panic!("{other:?}"),
        }
        let z0 = milp.units[0][0].z;
        milp.set_objective(&[(z0, 1.0)], false).unwrap();
        match milp.solve_bound(10.0, false, None).unwrap() {
            MilpBound::Bound { value, stop } => {
                assert_eq!(stop, MilpStop::Optimal);
                assert!((value + 1.0).abs() < 1e-6)
            }
            other => panic!("{other:?}"),
        }
        // Limit layer... there is none; a target below the optimum stops early and the
        // bound stays on the right side of it.
        match milp.solve_bound(10.0, false, Some(-0.5)).unwrap() {
            MilpBound::Bound { value, .. } => assert!(value <= -0.5),
            other => panic!("{other:?}"),
        }
    }
}
