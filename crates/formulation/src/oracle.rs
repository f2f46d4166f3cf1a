//! The LP oracle of the region search: does a polyhedron have non-empty interior?
//!
//! The region of a partial pattern is `{x in X : s_u (a_u · x + c_u) > 0 for each fixed u}`.
//! With every row normalised (`|a_u| = 1`) the oracle solves
//! `max t  s.t.  s_u (a_u · x + c_u) >= t,  x in X,  t <= scale(X)`: the region has non-empty
//! interior in X iff the optimum `t*` is positive (ICML 2018's margin `f > 0`). `t` is free
//! below, so the LP is always feasible and bounded, and the optimal `x` is a witness point
//! at distance at least `t*` from every hyperplane of the path.
//!
//! The domain's constraints `a_k · x <= b_k` are rows of every margin LP too, without the
//! margin: X is convex with interior, so an open region that meets X has interior in X.

use crate::domain::Domain;
use crate::exact::LpCertificate;
use crate::highs_lp::{HighsLp, LpStatus, OracleError};

/// One side of a hyperplane: the open half-space `normal · x + offset > 0`, `|normal| = 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfSpace {
    /// Unit normal pointing into the half-space.
    pub normal: Vec<f64>,
    /// Offset: the signed distance of the origin to the hyperplane.
    pub offset: f64,
}

impl HalfSpace {
    /// The side `sign * (a · x + c) > 0` of the hyperplane `a · x + c = 0`, normalised.
    /// `a` must be non-zero.
    pub fn new(a: impl IntoIterator<Item = f64>, c: f64, positive: bool) -> Self {
        let sign = if positive { 1.0 } else { -1.0 };
        let mut normal: Vec<f64> = a.into_iter().map(|v| sign * v).collect();
        let norm = normal.iter().map(|v| v * v).sum::<f64>().sqrt();
        debug_assert!(norm > 0.0, "a half-space needs a non-zero normal");
        normal.iter_mut().for_each(|v| *v /= norm);
        Self {
            normal,
            offset: sign * c / norm,
        }
    }

    /// Signed distance of `x` into the half-space.
    pub fn distance(&self, x: &[f64]) -> f64 {
        self.normal.iter().zip(x).map(|(n, x)| n * x).sum::<f64>() + self.offset
    }
}

/// A point of a region and its margin (distance to the nearest hyperplane of the path).
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The point, inside the domain.
    pub point: Vec<f64>,
    /// Its distance to the closest constraint of the path (`> 0` for an interior point).
    pub margin: f64,
}

/// A stack of half-spaces over a box, answering "largest margin of the intersection".
pub trait MarginOracle {
    /// Adds a half-space on top of the stack.
    fn push(&mut self, half: &HalfSpace) -> Result<(), OracleError>;
    /// Removes the top half-space.
    fn pop(&mut self) -> Result<(), OracleError>;
    /// Number of half-spaces on the stack.
    fn depth(&self) -> usize;
    /// Maximises the margin over the box and every half-space on the stack.
    fn solve(&mut self) -> Result<Witness, OracleError>;
    /// Like [`MarginOracle::solve`], but may stop early on either side of `threshold`:
    /// - as soon as the optimum is proven to be at most `threshold`; the witness then
    ///   carries that upper bound as its margin and its point is meaningless;
    /// - as soon as it holds a point whose margin is above `threshold`, if that margin is
    ///   within the solver's chosen factor of the optimum; the witness is that point.
    fn solve_above(&mut self, threshold: f64) -> Result<Witness, OracleError> {
        let _ = threshold;
        self.solve()
    }
    /// The final basis and duals of the last solve, for an exact re-decision
    /// ([`crate::decide`]); `None` when the solver does not expose them. After a solve
    /// that stopped early the basis is the one it stopped at: its duals still bound the
    /// margin, but it need not settle a thin verdict.
    fn certificate(&self) -> Option<LpCertificate> {
        None
    }
    /// Number of LPs solved so far.
    fn solves(&self) -> u64;
    /// Number of LPs handed to a fallback solver after numerical trouble.
    fn fallbacks(&self) -> u64 {
        0
    }
    /// Dual simplex pivots of the solves so far (0 when the solver does not say).
    fn iterations(&self) -> u64 {
        0
    }
}

/// The margin LP on one warm HiGHS model: rows are pushed and popped with the search.
pub struct HighsMarginOracle {
    lp: HighsLp,
    dim: usize,
    /// Rows of the domain's constraints, first in the model and never popped.
    permanent: usize,
    margin_col: usize,
    columns: Vec<usize>,
    solves: u64,
}

impl HighsMarginOracle {
    /// Columns `x` with the domain's bounds and the margin `t <= scale(X)`, maximising `t`;
    /// one row per constraint of the domain, without the margin.
    pub fn new(domain: &Domain, seed: u32) -> Result<Self, OracleError> {
        let mut lp = HighsLp::new(seed);
        // Tolerances well inside the thin band (default 1e-7), so that the verdicts the
        // band sends to the exact check come with a basis that can settle them.
        lp.set_option_f64("primal_feasibility_tolerance", 1e-10);
        lp.set_option_f64("dual_feasibility_tolerance", 1e-10);
        for (&lo, &hi) in domain.lower().iter().zip(domain.upper()) {
            lp.add_col(0.0, lo, hi)?;
        }
        let margin_col = lp.add_col(1.0, f64::NEG_INFINITY, domain.scale())?;
        lp.set_maximize(true)?;
        let dim = domain.dim();
        let x_cols: Vec<usize> = (0..dim).collect();
        // `-a · x >= -b`: the same orientation as the pushed rows, so that one sign
        // convention turns every dual into a multiplier of a `>= 0` row.
        for c in domain.constraints() {
            let normal: Vec<f64> = c.a.iter().map(|v| -v).collect();
            lp.add_row(-c.b, f64::INFINITY, &x_cols, &normal)?;
        }
        Ok(Self {
            lp,
            dim,
            permanent: domain.constraints().len(),
            margin_col,
            columns: (0..=dim).collect(),
            solves: 0,
        })
    }
}

impl MarginOracle for HighsMarginOracle {
    fn push(&mut self, half: &HalfSpace) -> Result<(), OracleError> {
        // normal · x - t >= -offset
        let mut values = Vec::with_capacity(self.dim + 1);
        values.extend_from_slice(&half.normal);
        values.push(-1.0);
        debug_assert_eq!(self.columns[self.dim], self.margin_col);
        self.lp
            .add_row(-half.offset, f64::INFINITY, &self.columns, &values)?;
        Ok(())
    }

    fn pop(&mut self) -> Result<(), OracleError> {
        assert!(self.depth() > 0, "pop on an empty oracle");
        self.lp.pop_rows(1)
    }

    fn depth(&self) -> usize {
        self.lp.num_rows() - self.permanent
    }

    fn solve(&mut self) -> Result<Witness, OracleError> {
        self.solves += 1;
        match self.lp.solve()? {
            LpStatus::Optimal => {
                let mut point = self.lp.primal();
                point.truncate(self.dim);
                Ok(Witness {
                    point,
                    margin: self.lp.objective(),
                })
            }
            other => Err(OracleError::Call {
                call: match other {
                    LpStatus::Infeasible => "Highs_run (margin LP reported infeasible)",
                    LpStatus::Unbounded => "Highs_run (margin LP reported unbounded)",
                    _ => "Highs_run (margin LP stopped early)",
                },
                status: -1,
            }),
        }
    }

    fn certificate(&self) -> Option<LpCertificate> {
        const BASIC: highs_sys::HighsInt = 1;
        const UPPER: highs_sys::HighsInt = 2;
        let (cols, rows) = self.lp.basis();
        if cols.get(self.margin_col) != Some(&BASIC) {
            return None;
        }
        Some(LpCertificate {
            duals: self.lp.row_duals(),
            tight_rows: (0..rows.len()).filter(|&i| rows[i] != BASIC).collect(),
            basic_cols: (0..self.dim).filter(|&j| cols[j] == BASIC).collect(),
            at_upper: (0..self.dim).map(|j| cols[j] == UPPER).collect(),
        })
    }

    fn solves(&self) -> u64 {
        self.solves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_of_a_triangle_and_of_an_empty_cell() {
        let domain = Domain::unit_box(2);
        let mut oracle = HighsMarginOracle::new(&domain, 0).unwrap();
        // x + y < 1 inside the unit box.
        oracle
            .push(&HalfSpace::new([-1.0, -1.0], 1.0, true))
            .unwrap();
        let w = oracle.solve().unwrap();
        // The box sides carry no margin: the best point is the corner (0, 0).
        assert!(
            (w.margin - 1.0 / std::f64::consts::SQRT_2).abs() < 1e-9,
            "{w:?}"
        );
        // Add x + y > 1.5 : no interior left.
        oracle
            .push(&HalfSpace::new([1.0, 1.0], -1.5, true))
            .unwrap();
        let w = oracle.solve().unwrap();
        assert!(w.margin < 0.0);
        oracle.pop().unwrap();
        assert_eq!(oracle.depth(), 1);
        assert!(oracle.solve().unwrap().margin > 0.7);
        assert_eq!(oracle.solves(), 3);
    }
}
