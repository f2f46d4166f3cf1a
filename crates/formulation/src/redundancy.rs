//! Dropping constraints that the box and the other constraints already imply.
//!
//! A plane through three MNIST images inside `[0, 1]^784` is a 2-D polygon, yet up to
//! 1,568 input-box rows cut its u-square; a few of them are its edges and the rest are
//! implied. Every margin LP of the search carries every row, so the implied ones cost
//! time and decide nothing.
//!
//! A row `a . x <= b` is dropped when `max a . x` over the box and the rows kept so far
//! (itself excluded) is at most `b`, proven by [`HighsLp::safe_bound`]: a bound from the
//! LP's duals in outward-rounded arithmetic, valid however inexact HiGHS's answer is. The
//! domain is then the same set of points, so every count on it is unchanged. Rows are
//! tested one at a time against the rows still kept, so each removal leaves the set
//! unchanged and the next test is against the same set. A row whose LP fails or whose
//! bound is not proven is kept: keeping an implied row costs time, never correctness.
//!
//! A row whose maximum equals its right-hand side up to rounding (one of many rows through
//! the same vertex of the polygon, common when pixels of the defining images are exactly 0
//! or 1) cannot be proven implied by an outward-rounded bound. It is decided again exactly
//! ([`crate::decide`]): it is implied iff no point of the box and the other kept rows has
//! `a . x > b`, an open set whose emptiness the exact check proves with a Farkas
//! certificate in dyadic arithmetic.
//!
//! Rows with bit-identical coefficients are merged first, keeping the smallest right-hand
//! side: the outward-rounded bound cannot prove a row implied by its exact copy, and such
//! copies are common (every background pixel of three images gives the same row).

use crate::{
    Constraint, DenseMarginOracle, Domain, Dyadic, ExactDomain, ExactRow, ExactVerdict, HighsLp,
    LpStatus, MarginOracle, decide,
};

impl Domain {
    /// The same domain without the constraints that the box and the remaining constraints
    /// imply (each removal proven; see the module docs). The constraints kept are in their
    /// original order.
    pub fn without_implied_constraints(&self) -> Domain {
        if self.constraints().is_empty() {
            return self.clone();
        }
        let rows = &distinct_rows(self.constraints());
        let mut lp = HighsLp::new(0);
        let cols: Vec<usize> = (0..self.dim()).collect();
        for (&lo, &hi) in self.lower().iter().zip(self.upper()) {
            if lp.add_col(0.0, lo, hi).is_err() {
                return self.clone();
            }
        }
        for c in rows {
            if lp.add_row(f64::NEG_INFINITY, c.b, &cols, &c.a).is_err() {
                return self.clone();
            }
        }
        let mut verdicts = Vec::with_capacity(rows.len());
        for (r, c) in rows.iter().enumerate() {
            let verdict = bound_verdict(&mut lp, r, c);
            if verdict != Verdict::Implied && lp.set_row_bounds(r, f64::NEG_INFINITY, c.b).is_err()
            {
                return self.clone();
            }
            verdicts.push(verdict);
        }
        // A row implied by a subset of the kept rows is implied by all of them, so the
        // rows that cut (they never change below) are tried first: they are few, and
        // usually the polygon's edges.
        let cutting: Vec<Constraint> = rows
            .iter()
            .zip(&verdicts)
            .filter(|&(_, v)| *v == Verdict::Cuts)
            .map(|(c, _)| c.clone())
            .collect();
        for r in 0..rows.len() {
            if verdicts[r] != Verdict::Tight {
                continue;
            }
            let others = || {
                (0..rows.len())
                    .filter(|&o| o != r && verdicts[o] != Verdict::Implied)
                    .map(|o| rows[o].clone())
                    .collect()
            };
            if self.exactly_implied(cutting.clone(), &rows[r])
                || self.exactly_implied(others(), &rows[r])
            {
                verdicts[r] = Verdict::Implied;
            }
        }
        let kept: Vec<Constraint> = rows
            .iter()
            .zip(&verdicts)
            .filter(|&(_, v)| *v != Verdict::Implied)
            .map(|(c, _)| c.clone())
            .collect();
        let mut domain = self.clone();
        domain.set_constraints(kept);
        domain
    }

    /// Whether `row` is implied by this box cut by `others`, proven exactly.
    fn exactly_implied(&self, others: Vec<Constraint>, row: &Constraint) -> bool {
        let Ok(rest) = Domain::new(self.lower().to_vec(), self.upper().to_vec())
            .and_then(|d| d.with_constraints(others))
        else {
            return false;
        };
        let (Some((unit, _)), Some(exact)) = (rest.unit_image(), ExactDomain::new(&rest)) else {
            return false;
        };
        // The open side a . x - b > 0 of the row: implied iff it is empty in `rest`.
        let Some((half, weight)) = rest.unit_half_space(row.a.iter().copied(), -row.b, true) else {
            return false;
        };
        let mut oracle = DenseMarginOracle::new(&unit, 0);
        if oracle.push(&half).is_err() {
            return false;
        }
        let Ok(w) = oracle.solve() else {
            return false;
        };
        let side = ExactRow {
            a: row.a.iter().map(|&v| Dyadic::from_f64(v)).collect(),
            c: Dyadic::from_f64(-row.b),
        };
        let point = rest.from_unit(&w.point);
        let certificate = oracle.certificate();
        decide(
            &[side],
            &[weight],
            &exact,
            &point,
            w.margin,
            certificate.as_ref(),
        ) == ExactVerdict::Empty
    }
}

/// What the bound of one row's LP shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Proven implied by the rounding-safe dual bound.
    Implied,
    /// The LP's maximum is within rounding of `b`: decided again exactly.
    Tight,
    /// The row cuts (or its LP failed): kept.
    Cuts,
}

/// The rows with bit-identical coefficients merged into the one with the smallest
/// right-hand side, in the order of their first occurrence.
fn distinct_rows(rows: &[Constraint]) -> Vec<Constraint> {
    let mut first: std::collections::HashMap<Vec<u64>, usize> = Default::default();
    let mut out: Vec<Constraint> = Vec::with_capacity(rows.len());
    for c in rows {
        let key = c.a.iter().map(|v| (v + 0.0).to_bits()).collect();
        match first.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let kept = &mut out[*e.get()];
                kept.b = kept.b.min(c.b);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(c.clone());
            }
        }
    }
    out
}

/// Row `r` (`c`) against the box and the other rows of `lp` whose bounds are still set.
/// Leaves row `r` free (unbounded) in `lp`; the caller restores it unless it is implied.
fn bound_verdict(lp: &mut HighsLp, r: usize, c: &Constraint) -> Verdict {
    if lp
        .set_row_bounds(r, f64::NEG_INFINITY, f64::INFINITY)
        .is_err()
    {
        return Verdict::Cuts;
    }
    for (j, &a) in c.a.iter().enumerate() {
        if lp.set_col_cost(j, a).is_err() {
            return Verdict::Cuts;
        }
    }
    if !matches!(lp.solve(), Ok(LpStatus::Optimal)) {
        return Verdict::Cuts;
    }
    let objective: Vec<(usize, f64)> = c.a.iter().copied().enumerate().collect();
    if lp.safe_bound(&objective) <= c.b {
        Verdict::Implied
    } else if lp.objective() <= c.b + TIGHT * (1.0 + c.b.abs()) {
        Verdict::Tight
    } else {
        Verdict::Cuts
    }
}

/// How far above `b` (relative) a row's LP maximum may be for the exact re-check.
const TIGHT: f64 = 1e-7;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &[f64], b: f64) -> Constraint {
        Constraint { a: a.to_vec(), b }
    }

    #[test]
    fn implied_rows_go_and_edges_stay() {
        // x + y <= 1.5 and x <= 0.8 cut the unit square into a pentagon with the corner
        // (0.8, 0.7). x + y <= 1.9 and x + y <= 1.5 + 1e-9 are implied by x + y <= 1.5,
        // y <= 2 by the box, and 2x + y <= 2.4 passes 0.1 above the corner (2.3);
        // x - y <= 0.7 cuts off the corner (0.8, 0) and stays.
        let domain = Domain::unit_box(2)
            .with_constraints(vec![
                row(&[1.0, 1.0], 1.9),
                row(&[1.0, 1.0], 1.5),
                row(&[0.0, 1.0], 2.0),
                row(&[1.0, 0.0], 0.8),
                row(&[1.0, 1.0], 1.5 + 1e-9),
                row(&[2.0, 1.0], 2.4),
                row(&[1.0, -1.0], 0.7),
            ])
            .unwrap();
        let pruned = domain.without_implied_constraints();
        let kept: Vec<(Vec<f64>, f64)> = pruned
            .constraints()
            .iter()
            .map(|c| (c.a.clone(), c.b))
            .collect();
        assert_eq!(
            kept,
            vec![
                (vec![1.0, 1.0], 1.5),
                (vec![1.0, 0.0], 0.8),
                (vec![1.0, -1.0], 0.7),
            ]
        );
    }

    #[test]
    fn rows_through_one_vertex_keep_only_the_edge() {
        // Rows through the corner (1, 0) of the unit square: 0.5 x + s y <= 0.5 for
        // s = 0.2, 0.3, 0.5, 0.7 (bit-distinct). Only the steepest (s = 0.7) cuts; the
        // others meet the polygon only at (1, 0), where they are tight.
        let rows = [0.2, 0.5, 0.7, 0.3].map(|s| row(&[0.5, s], 0.5));
        let domain = Domain::unit_box(2).with_constraints(rows.to_vec()).unwrap();
        let kept = domain.without_implied_constraints();
        assert_eq!(kept.constraints(), &[row(&[0.5, 0.7], 0.5)]);
    }

    #[test]
    fn a_row_that_cuts_by_a_hair_is_kept() {
        // 2x + y <= 2.3 - 1e-9 cuts the corner (0.8, 0.7) of the polygon by a hair.
        let domain = Domain::unit_box(2)
            .with_constraints(vec![
                row(&[1.0, 1.0], 1.5),
                row(&[1.0, 0.0], 0.8),
                row(&[2.0, 1.0], 2.3 - 1e-9),
            ])
            .unwrap();
        assert_eq!(domain.without_implied_constraints().constraints().len(), 3);
    }

    #[test]
    fn duplicate_rows_keep_one() {
        let domain = Domain::unit_box(3)
            .with_constraints(vec![row(&[1.0, 2.0, -1.0], 0.5); 4])
            .unwrap();
        assert_eq!(domain.without_implied_constraints().constraints().len(), 1);
    }

    /// Random polytopes in 3-D: the pruned domain contains exactly the same sample points,
    /// and every dropped row holds at every sample point of the pruned domain.
    #[test]
    fn pruning_keeps_the_set_of_points() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut dropped_total = 0;
        for _ in 0..20 {
            let rows: Vec<Constraint> = (0..30)
                .map(|_| {
                    let a: Vec<f64> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
                    // Through a point near the centre, so most rows cut or nearly cut.
                    let b = a.iter().map(|v| v * 0.5).sum::<f64>() + rng.random_range(0.05..0.6);
                    Constraint { a, b }
                })
                .collect();
            let domain = Domain::unit_box(3).with_constraints(rows).unwrap();
            let pruned = domain.without_implied_constraints();
            dropped_total += domain.constraints().len() - pruned.constraints().len();
            for _ in 0..20_000 {
                let x: Vec<f64> = (0..3).map(|_| rng.random_range(0.0..1.0)).collect();
                assert_eq!(domain.contains(&x), pruned.contains(&x), "{x:?}");
            }
        }
        assert!(dropped_total > 200, "{dropped_total} rows dropped");
    }
}
