//! A dense bounded dual simplex specialised to the margin LP of the region search.
//!
//! The LP (see [`crate::oracle`]) in standard form, one slack per row:
//! ```text
//! min -t   s.t.  n_i . x - t - s_i = -o_i          (i = 1..m)
//!                lo <= x <= hi,  T_LO <= t <= min_i r_max_i + 1,  0 <= s_i <= r_max_i - T_LO
//! ```
//! with `r_max_i = max over the box of n_i . x + o_i` and `T_LO = -(box diameter) - 1`.
//! These bounds cut off no optimum whose margin is above `T_LO` (a row crossing the box is
//! at most a diameter away from any box point; no point has a margin above `min_i r_max_i`),
//! so, unlike HiGHS's model, the margin is not capped at the box side: `t` stays basic at
//! the optimum and the duals never all vanish (which would make every pivot degenerate).
//! The bounds also make every variable boxed, so
//! *any* basis becomes dual feasible by putting each nonbasic variable at the bound its
//! reduced cost asks for. That is what makes warm starts trivial: a pushed row enters with
//! its slack basic (the old duals stay optimal), a popped row leaves after its slack is
//! pivoted into the basis, and the dual simplex resumes from wherever the basis is.
//!
//! The rows are few (one per hyperplane on the search path) and the columns many (the input
//! dimension), so the basis inverse is kept dense (`m x m`) and updated per pivot, and
//! refactorised from scratch every [`REFACTOR_EVERY`] pivots. Ratio tests are Harris
//! two-pass. On numerical trouble (iteration limit, tiny pivot after refactorisation) the
//! LP is handed to HiGHS and the basis reset to all slacks.
//!
//! The margin returned is recomputed at the returned point, `min_i n_i . x + o_i`, so a
//! positive margin is always a real property of the point.
//!
//! The domain's constraints are permanent rows at the top, `n_k . x - s_k = -o_k` with
//! margin coefficient 0 and `0 <= s_k <= r_max_k`: they restrict `x` without a margin (a
//! region meeting the full-dimensional domain has interior in it) and are never popped.

use crate::domain::Domain;
use crate::exact::LpCertificate;
use crate::highs_lp::OracleError;
use crate::oracle::{HalfSpace, HighsMarginOracle, MarginOracle, Witness};

/// Pivots between two refactorisations of the basis inverse.
const REFACTOR_EVERY: usize = 64;
/// Primal feasibility tolerance, relative to the box scale.
const PRIMAL_TOL: f64 = 1e-10;
/// Dual feasibility tolerance.
const DUAL_TOL: f64 = 1e-11;
/// Smallest pivot element accepted.
const PIVOT_TOL: f64 = 1e-9;

/// [`MarginOracle::solve_above`] accepts the current point of the dual simplex once its
/// margin is at least this fraction of the current bound on the optimum (and above the
/// threshold): a witness within a factor of ten of the most central one serves the search
/// as well, and the pivots that would only centre it are about a quarter of them.
const ACCEPT_FRACTION: f64 = 0.1;

/// Bases are saved on push (and restored on pop) while the stack has fewer rows than this;
/// deeper, the popped row's slack is pivoted back into the basis instead.
const SAVE_BELOW_ROWS: usize = 64;

/// A basis as it was before a push.
struct SavedBasis {
    state: Vec<VarState>,
    basic: Vec<usize>,
    binv: Vec<f64>,
    pivots_since_refactor: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VarState {
    Basic(usize),
    Lower,
    Upper,
}

/// The margin LP solved by a dense bounded dual simplex with warm starts.
pub struct DenseMarginOracle {
    domain: Domain,
    n: usize,
    /// The domain's constraints: the first rows, margin coefficient 0, never popped.
    permanent: usize,
    /// Normals, `m x n` row-major.
    rows: Vec<f64>,
    offsets: Vec<f64>,
    /// Bounds of every variable: x (n), t, then one slack per row (t's upper bound is set
    /// at each solve).
    lower: Vec<f64>,
    upper: Vec<f64>,
    state: Vec<VarState>,
    /// Variable at each basis position.
    basic: Vec<usize>,
    /// Basis inverse, `m x m` row-major.
    binv: Vec<f64>,
    pivots_since_refactor: usize,
    /// One entry per row: the basis before that row was pushed, if saved.
    saved: Vec<Option<SavedBasis>>,
    t_lo: f64,
    scale: f64,
    seed: u32,
    solves: u64,
    fallbacks: u64,
    iterations: u64,
}

impl DenseMarginOracle {
    /// An oracle with no rows over `domain`.
    pub fn new(domain: &Domain, seed: u32) -> Self {
        let n = domain.dim();
        let diameter = domain
            .lower()
            .iter()
            .zip(domain.upper())
            .map(|(l, h)| (h - l) * (h - l))
            .sum::<f64>()
            .sqrt();
        let t_lo = -diameter - 1.0;
        let mut lower = domain.lower().to_vec();
        let mut upper = domain.upper().to_vec();
        lower.push(t_lo);
        upper.push(domain.scale());
        let mut state = vec![VarState::Lower; n];
        state.push(VarState::Upper);
        let mut oracle = Self {
            domain: domain.clone(),
            n,
            rows: Vec::new(),
            offsets: Vec::new(),
            lower,
            upper,
            state,
            basic: Vec::new(),
            binv: Vec::new(),
            pivots_since_refactor: 0,
            saved: Vec::new(),
            t_lo,
            scale: domain.scale(),
            seed,
            solves: 0,
            fallbacks: 0,
            iterations: 0,
            permanent: 0,
        };
        for c in domain.constraints() {
            let normal: Vec<f64> = c.a.iter().map(|v| -v).collect();
            let (_, hi) = domain.range(normal.iter().copied(), c.b);
            oracle.append_row(&normal, c.b, 0.0, hi.max(0.0));
            oracle.permanent += 1;
        }
        oracle
    }

    /// Margin coefficient of row `i` (`-1` for pushed rows, `0` for the domain's).
    fn margin_coef(&self, i: usize) -> f64 {
        if i < self.permanent { 0.0 } else { -1.0 }
    }

    /// Adds the row `normal . x + coef t - s = -offset`, its slack basic with bounds
    /// `[0, slack_upper]`.
    fn append_row(&mut self, normal: &[f64], offset: f64, coef: f64, slack_upper: f64) {
        let m = self.m();
        // New slack: basic at position m. B' = [[B, 0], [beta, -1]] where beta holds the new
        // row's coefficients on the basic variables; B'^{-1} = [[B^{-1}, 0], [beta B^{-1}, -1]].
        let beta: Vec<f64> = self
            .basic
            .iter()
            .map(|&j| {
                if j < self.n {
                    normal[j]
                } else if j == self.n {
                    coef
                } else {
                    0.0
                }
            })
            .collect();
        let mut next = vec![0.0; (m + 1) * (m + 1)];
        for i in 0..m {
            next[i * (m + 1)..i * (m + 1) + m].copy_from_slice(&self.binv[i * m..(i + 1) * m]);
        }
        for k in 0..m {
            next[m * (m + 1) + k] = (0..m).map(|i| beta[i] * self.binv[i * m + k]).sum();
        }
        next[m * (m + 1) + m] = -1.0;
        self.binv = next;
        self.rows.extend_from_slice(normal);
        self.offsets.push(offset);
        self.lower.push(0.0);
        self.upper.push(slack_upper);
        self.state.push(VarState::Basic(m));
        self.basic.push(self.n + 1 + m);
    }

    /// The largest value of `normal . x + offset` over the box, in plain floating point (a
    /// slack's upper bound only needs to be generous: `T_LO` leaves a unit of room).
    fn box_max(&self, normal: &[f64], offset: f64) -> f64 {
        let (lower, upper) = (self.domain.lower(), self.domain.upper());
        let mut lanes = [0.0; 4];
        for (k, (&a, (&lo, &hi))) in normal.iter().zip(lower.iter().zip(upper)).enumerate() {
            lanes[k % 4] += (a * lo).max(a * hi);
        }
        offset + (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    }

    fn m(&self) -> usize {
        self.offsets.len()
    }

    fn t(&self) -> usize {
        self.n
    }

    fn slack(&self, row: usize) -> usize {
        self.n + 1 + row
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.n..(i + 1) * self.n]
    }

    /// Value of variable `j` at the current basis, whose basic values are `vb`.
    fn value(&self, vb: &[f64], j: usize) -> f64 {
        match self.state[j] {
            VarState::Basic(pos) => vb[pos],
            _ => self.bound_value(j),
        }
    }

    /// Value of a nonbasic variable.
    fn bound_value(&self, j: usize) -> f64 {
        match self.state[j] {
            VarState::Upper => self.upper[j],
            _ => self.lower[j],
        }
    }

    /// Column `j` of the constraint matrix, dense (`m` entries).
    fn column(&self, j: usize) -> Vec<f64> {
        let m = self.m();
        if j < self.n {
            (0..m).map(|i| self.rows[i * self.n + j]).collect()
        } else if j == self.n {
            (0..m).map(|i| self.margin_coef(i)).collect()
        } else {
            let mut c = vec![0.0; m];
            c[j - self.n - 1] = -1.0;
            c
        }
    }

    /// `B^{-1} v`.
    fn binv_times(&self, v: &[f64]) -> Vec<f64> {
        let m = self.m();
        (0..m)
            .map(|r| {
                self.binv[r * m..(r + 1) * m]
                    .iter()
                    .zip(v)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect()
    }

    /// Replaces the basis by all slacks (`B = -I`).
    fn reset_to_slack_basis(&mut self) {
        let m = self.m();
        for j in 0..=self.n {
            if matches!(self.state[j], VarState::Basic(_)) {
                self.state[j] = VarState::Lower;
            }
        }
        self.basic = (0..m).map(|i| self.slack(i)).collect();
        for (pos, i) in (0..m).enumerate() {
            let s = self.slack(i);
            self.state[s] = VarState::Basic(pos);
        }
        self.binv = vec![0.0; m * m];
        for i in 0..m {
            self.binv[i * m + i] = -1.0;
        }
        self.pivots_since_refactor = 0;
    }

    /// Recomputes `B^{-1}` from the basis columns (Gauss-Jordan, partial pivoting).
    /// Returns false if the basis is singular.
    fn refactor(&mut self) -> bool {
        let m = self.m();
        let mut a = vec![0.0; m * m];
        for (pos, &j) in self.basic.iter().enumerate() {
            for (i, v) in self.column(j).into_iter().enumerate() {
                a[i * m + pos] = v;
            }
        }
        let mut inv = vec![0.0; m * m];
        for i in 0..m {
            inv[i * m + i] = 1.0;
        }
        for col in 0..m {
            let pivot = (col..m)
                .max_by(|&x, &y| a[x * m + col].abs().total_cmp(&a[y * m + col].abs()))
                .expect("non-empty range");
            if a[pivot * m + col].abs() < 1e-12 {
                return false;
            }
            if pivot != col {
                for k in 0..m {
                    a.swap(pivot * m + k, col * m + k);
                    inv.swap(pivot * m + k, col * m + k);
                }
            }
            let p = a[col * m + col];
            for k in 0..m {
                a[col * m + k] /= p;
                inv[col * m + k] /= p;
            }
            for r in 0..m {
                if r != col {
                    let f = a[r * m + col];
                    if f != 0.0 {
                        for k in 0..m {
                            a[r * m + k] -= f * a[col * m + k];
                            inv[r * m + k] -= f * inv[col * m + k];
                        }
                    }
                }
            }
        }
        self.binv = inv;
        self.pivots_since_refactor = 0;
        true
    }

    /// Basis change at position `r` with entering column `w = B^{-1} A_q`.
    fn pivot(&mut self, r: usize, q: usize, w: &[f64]) {
        let m = self.m();
        let wr = w[r];
        for v in &mut self.binv[r * m..(r + 1) * m] {
            *v /= wr;
        }
        let pivot_row = self.binv[r * m..(r + 1) * m].to_vec();
        for (i, &f) in w.iter().enumerate() {
            if i != r && f != 0.0 {
                for (v, p) in self.binv[i * m..(i + 1) * m].iter_mut().zip(&pivot_row) {
                    *v -= f * p;
                }
            }
        }
        let leaving = self.basic[r];
        self.state[leaving] = VarState::Lower;
        self.basic[r] = q;
        self.state[q] = VarState::Basic(r);
        self.pivots_since_refactor += 1;
    }

    /// Removes basis position `p` and row/column `r` of `B^{-1}` (valid when the variable at
    /// `p` is the slack of row `r`: then column `r` of `B^{-1}` is `-e_p`).
    fn remove_basic_slack(&mut self, p: usize, r: usize) {
        let m = self.m();
        let mut next = Vec::with_capacity((m - 1) * (m - 1));
        for i in (0..m).filter(|&i| i != p) {
            for k in (0..m).filter(|&k| k != r) {
                next.push(self.binv[i * m + k]);
            }
        }
        self.binv = next;
        self.basic.remove(p);
        for (pos, &j) in self.basic.iter().enumerate() {
            self.state[j] = VarState::Basic(pos);
        }
    }

    /// Brings the margin `t` into the basis in place of the slack of the row with the
    /// smallest value at the current nonbasic point (`dots[i] = n_i . x_N`): `t` then equals
    /// that value and every other slack stays non-negative. Without it, all duals are 0 and
    /// the dual simplex would wander through degenerate pivots.
    fn crash_margin(&mut self, dots: &[f64]) {
        let t = self.t();
        if matches!(self.state[t], VarState::Basic(_)) || self.m() == self.permanent {
            return;
        }
        let Some(pos) = (self.permanent..self.m())
            .filter_map(|i| match self.state[self.slack(i)] {
                VarState::Basic(pos) => Some((dots[i] + self.offsets[i], pos)),
                _ => None,
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, pos)| pos)
        else {
            return;
        };
        let w = self.binv_times(&self.column(t));
        if w[pos].abs() > PIVOT_TOL {
            self.pivot(pos, t, &w);
        }
    }

    /// Solves from the current basis; `None` on numerical trouble. Stops early, with the
    /// current `t` as the margin, once `t` (an upper bound on the optimum while the basis is
    /// dual feasible) falls below `stop_below`, and with the current point once it is
    /// [`Self::good_enough`] for `accept_above`.
    fn dual_simplex(&mut self, stop_below: f64, accept_above: f64) -> Option<Witness> {
        let (n, m) = (self.n, self.m());
        if self.pivots_since_refactor >= REFACTOR_EVERY && !self.refactor() {
            return None;
        }
        let t = self.t();
        let permanent = self.permanent;
        self.upper[t] = if m == permanent {
            self.scale
        } else {
            (permanent..m)
                .map(|i| self.upper[self.slack(i)] + self.t_lo)
                .fold(f64::INFINITY, f64::min)
                .max(self.t_lo)
                + 1.0
        };
        // The x part of the nonbasic point (basic columns count 0) and every row's product
        // with it: the crash and the primal values share them.
        let x_nonbasic: Vec<f64> = (0..n)
            .map(|j| match self.state[j] {
                VarState::Basic(_) => 0.0,
                _ => self.bound_value(j),
            })
            .collect();
        let dots: Vec<f64> = (0..m)
            .map(|i| {
                self.row(i)
                    .iter()
                    .zip(&x_nonbasic)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        self.crash_margin(&dots);
        // Duals y = c_B B^{-1}: only t has a cost (-1).
        let y: Vec<f64> = match self.state[t] {
            VarState::Basic(p) => self.binv[p * m..(p + 1) * m].iter().map(|v| -v).collect(),
            _ => vec![0.0; m],
        };
        // Reduced costs of every variable (zero for basic ones).
        let mut d = vec![0.0; n + 1 + m];
        for (i, &yi) in y.iter().enumerate() {
            if yi != 0.0 {
                for (dj, a) in d[..n].iter_mut().zip(self.row(i)) {
                    *dj -= yi * a;
                }
            }
        }
        d[t] = -1.0 + y[permanent..].iter().sum::<f64>();
        for i in 0..m {
            d[n + 1 + i] = y[i];
        }
        let mut flipped = Vec::new();
        for (j, dj) in d.iter_mut().enumerate() {
            let flip = match self.state[j] {
                VarState::Basic(_) => {
                    *dj = 0.0;
                    None
                }
                VarState::Lower if *dj < -DUAL_TOL => Some(VarState::Upper),
                VarState::Upper if *dj > DUAL_TOL => Some(VarState::Lower),
                _ => None,
            };
            if let Some(state) = flip {
                self.state[j] = state;
                if j < n {
                    flipped.push(j);
                }
            }
        }
        // Primal values: v_B = B^{-1} (b - A_N v_N), b = -o. The crash moved only t, so the
        // x part is the one `dots` was computed at, but for the columns just flipped.
        let mut rhs: Vec<f64> = self
            .offsets
            .iter()
            .zip(&dots)
            .map(|(o, p)| -o - p)
            .collect();
        for &j in &flipped {
            let step = self.bound_value(j) - x_nonbasic[j];
            for (i, r) in rhs.iter_mut().enumerate() {
                *r -= self.rows[i * n + j] * step;
            }
        }
        if !matches!(self.state[t], VarState::Basic(_)) {
            let vt = self.bound_value(t);
            rhs[permanent..].iter_mut().for_each(|r| *r += vt);
        }
        for (i, r) in rhs.iter_mut().enumerate() {
            let s = self.slack(i);
            if !matches!(self.state[s], VarState::Basic(_)) {
                *r += self.bound_value(s);
            }
        }
        let mut vb = self.binv_times(&rhs);
        let tol = PRIMAL_TOL * self.scale.max(1.0);
        let max_iterations = 50 * (m + 10);
        let mut alpha = vec![0.0; n + 1 + m];
        // +1 at the lower bound, -1 at the upper bound, 0 basic: the ratio test and the dual
        // update then run as plain arithmetic over all columns.
        let mut side: Vec<f64> = self
            .state
            .iter()
            .map(|s| match s {
                VarState::Lower => 1.0,
                VarState::Upper => -1.0,
                VarState::Basic(_) => 0.0,
            })
            .collect();
        let mut candidates: Vec<(f64, usize)> = Vec::with_capacity(n + 1 + m);
        let mut steps: Vec<(usize, f64)> = Vec::with_capacity(m);
        for _ in 0..max_iterations {
            let t_now = self.value(&vb, t);
            if t_now < stop_below {
                return Some(Witness {
                    point: self.domain.center(),
                    margin: t_now,
                });
            }
            if t_now > accept_above
                && let Some(w) = self.good_enough(&vb, t_now, accept_above, &mut steps)
            {
                return Some(w);
            }
            // Leaving row: dual steepest edge, the largest violation^2 / |row of B^{-1}|^2
            // (exact weights: with few rows they cost O(m^2) to recompute).
            let mut leave = None;
            let mut best = 0.0;
            for (pos, &j) in self.basic.iter().enumerate() {
                let v = vb[pos];
                let violation = (self.lower[j] - v).max(v - self.upper[j]);
                if violation > tol {
                    let weight: f64 = self.binv[pos * m..(pos + 1) * m]
                        .iter()
                        .map(|b| b * b)
                        .sum();
                    let score = violation * violation / weight.max(1e-300);
                    if score > best {
                        best = score;
                        leave = Some(pos);
                    }
                }
            }
            let Some(r) = leave else {
                return Some(self.solution(&vb));
            };
            let p = self.basic[r];
            let below = vb[r] < self.lower[p];
            let target = if below { self.lower[p] } else { self.upper[p] };
            // Row r of the tableau for every nonbasic column.
            let rho = self.binv[r * m..(r + 1) * m].to_vec();
            alpha[..n].iter_mut().for_each(|a| *a = 0.0);
            for (i, &ri) in rho.iter().enumerate() {
                if ri != 0.0 {
                    for (a, v) in alpha[..n].iter_mut().zip(self.row(i)) {
                        *a += ri * v;
                    }
                }
            }
            alpha[t] = -rho[permanent..].iter().sum::<f64>();
            for i in 0..m {
                alpha[n + 1 + i] = -rho[i];
            }
            // Bound-flipping ratio test: walk the breakpoints d_j / alpha_j of the columns
            // that move v_p towards its target, in increasing order; each boxed column passed
            // is flipped to its other bound, which uses up |alpha_j| (u_j - l_j) of the
            // infeasibility; the column at which it is used up enters.
            // Columns that move v_p towards its target: at lower with alpha < 0 or at upper
            // with alpha > 0 when v_p is below, the opposite when above.
            // Branch-free: every column is written and the cursor advances over the kept
            // ones (about half of them, in no predictable order).
            let dir = if below { 1.0 } else { -1.0 };
            candidates.resize(alpha.len(), (0.0, 0));
            let mut kept = 0;
            for (j, ((&a, &sj), &dj)) in alpha.iter().zip(&side).zip(&d).enumerate() {
                candidates[kept] = (dj.abs() / a.abs(), j);
                kept += usize::from(dir * sj * a < -PIVOT_TOL);
            }
            candidates.truncate(kept);
            if candidates.is_empty() {
                // Dual unbounded: the boxed LP is infeasible, so the margin is below T_LO.
                return Some(Witness {
                    point: self.domain.center(),
                    margin: f64::NEG_INFINITY,
                });
            }
            // Walk the breakpoints in increasing ratio, ordering only as far as needed.
            let by_ratio = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0);
            let mut slope = (vb[r] - target).abs();
            let mut chosen = candidates.len() - 1;
            let mut ordered = 0;
            for i in 0..candidates.len() {
                if i == ordered {
                    let end = (ordered + 32).min(candidates.len());
                    if end < candidates.len() {
                        candidates[ordered..].select_nth_unstable_by(end - ordered - 1, by_ratio);
                    }
                    candidates[ordered..end].sort_unstable_by(by_ratio);
                    ordered = end;
                }
                let j = candidates[i].1;
                slope -= alpha[j].abs() * (self.upper[j] - self.lower[j]);
                if slope <= 0.0 {
                    chosen = i;
                    break;
                }
            }
            // Harris: among the breakpoints from `chosen` on within the tolerance-widened
            // smallest ratio, the largest pivot enters; the ones before `chosen` flip.
            let rest = &candidates[chosen..];
            let bound = rest
                .iter()
                .map(|&(_, j)| (d[j].abs() + DUAL_TOL) / alpha[j].abs())
                .fold(f64::INFINITY, f64::min);
            let q = rest
                .iter()
                .filter(|&&(t, _)| t <= bound)
                .max_by(|a, b| alpha[a.1].abs().total_cmp(&alpha[b.1].abs()))
                .map_or(rest[0].1, |&(_, j)| j);
            let flips: Vec<usize> = candidates[..chosen].iter().map(|&(_, j)| j).collect();
            if !flips.is_empty() {
                // v_B -= B^{-1} sum_j A_j (new_j - old_j)
                let mut shift = vec![0.0; m];
                for &j in &flips {
                    let step = match self.state[j] {
                        VarState::Lower => self.upper[j] - self.lower[j],
                        _ => self.lower[j] - self.upper[j],
                    };
                    self.state[j] = match self.state[j] {
                        VarState::Lower => VarState::Upper,
                        _ => VarState::Lower,
                    };
                    side[j] = -side[j];
                    if j < n {
                        for (i, s) in shift.iter_mut().enumerate() {
                            *s += self.rows[i * n + j] * step;
                        }
                    } else if j == n {
                        shift[permanent..].iter_mut().for_each(|s| *s -= step);
                    } else {
                        shift[j - n - 1] -= step;
                    }
                }
                for (v, s) in vb.iter_mut().zip(self.binv_times(&shift)) {
                    *v -= s;
                }
            }
            let w = self.binv_times(&self.column(q));
            if (w[r] - alpha[q]).abs() > 1e-6 * (1.0 + alpha[q].abs()) || w[r].abs() <= PIVOT_TOL {
                return None;
            }
            // Primal step: v_q moves by delta, v_p reaches its target.
            let delta = (vb[r] - target) / w[r];
            let entering_value = self.bound_value(q) + delta;
            for (v, wi) in vb.iter_mut().zip(&w) {
                *v -= delta * wi;
            }
            // Dual step.
            // (Basic columns have alpha = 0 except p, whose value is set just after.)
            let theta = d[q] / alpha[q];
            for (dj, aj) in d.iter_mut().zip(&alpha) {
                *dj -= theta * aj;
            }
            d[q] = 0.0;
            d[p] = -theta;
            self.pivot(r, q, &w);
            self.iterations += 1;
            side[q] = 0.0;
            side[p] = if below { 1.0 } else { -1.0 };
            self.state[p] = if below {
                VarState::Lower
            } else {
                VarState::Upper
            };
            vb[r] = entering_value;
        }
        None
    }

    /// The current point (its basic `x` clamped into the box), if its margin is above
    /// `accept_above` and at least [`ACCEPT_FRACTION`] of `t_now`, an upper bound on the
    /// optimum. Row `i`'s value is `t + s_i` before the clamping, so the estimate costs
    /// `O(m k)` for `k` clamped columns; the margin of an accepted point is recomputed at
    /// the point, as at the optimum. Domains with constraints are left to the optimum:
    /// their rows have no margin to estimate. `steps` is scratch space, kept by the caller
    /// across pivots.
    fn good_enough(
        &self,
        vb: &[f64],
        t_now: f64,
        accept_above: f64,
        steps: &mut Vec<(usize, f64)>,
    ) -> Option<Witness> {
        if self.permanent > 0 {
            return None;
        }
        let need = (ACCEPT_FRACTION * t_now).max(accept_above);
        // Row i's value is t + s_i; clamping the basic x into the box then moves it by
        // the row's product with the clamping steps.
        steps.clear();
        steps.extend(self.basic.iter().filter(|&&j| j < self.n).filter_map(|&j| {
            let v = self.value(vb, j);
            let step = v.clamp(self.lower[j], self.upper[j]) - v;
            (step != 0.0).then_some((j, step))
        }));
        let estimate = (0..self.m())
            .map(|i| {
                let row = self.row(i);
                t_now
                    + self.value(vb, self.slack(i))
                    + steps.iter().map(|&(j, step)| row[j] * step).sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min);
        if estimate.is_nan() || estimate <= need {
            return None;
        }
        let w = self.solution(vb);
        (w.margin > need).then_some(w)
    }

    /// Reads the point from the basis values and recomputes its margin exactly (NaN if a
    /// coordinate or a row's value is not a number: the search then decides the region
    /// exactly instead of trusting the other rows).
    fn solution(&self, vb: &[f64]) -> Witness {
        let mut point: Vec<f64> = (0..self.n).map(|j| self.value(vb, j)).collect();
        self.domain.clamp(&mut point);
        if !point.iter().all(|x| x.is_finite()) {
            return Witness {
                point,
                margin: f64::NAN,
            };
        }
        let margin = (self.permanent..self.m())
            .map(|i| {
                self.row(i)
                    .iter()
                    .zip(&point)
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    + self.offsets[i]
            })
            .fold(self.scale, |m, v| {
                if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    m.min(v)
                }
            });
        Witness { point, margin }
    }

    fn solve_with_highs(&mut self) -> Result<Witness, OracleError> {
        self.fallbacks += 1;
        let mut highs = HighsMarginOracle::new(&self.domain, self.seed)?;
        for i in self.permanent..self.m() {
            highs.push(&HalfSpace {
                normal: self.row(i).to_vec(),
                offset: self.offsets[i],
            })?;
        }
        let mut w = highs.solve()?;
        self.domain.clamp(&mut w.point);
        self.reset_to_slack_basis();
        Ok(w)
    }
}

impl MarginOracle for DenseMarginOracle {
    fn push(&mut self, half: &HalfSpace) -> Result<(), OracleError> {
        debug_assert_eq!(half.normal.len(), self.n);
        let m = self.m();
        self.saved.push((m < SAVE_BELOW_ROWS).then(|| SavedBasis {
            state: self.state.clone(),
            basic: self.basic.clone(),
            binv: self.binv.clone(),
            pivots_since_refactor: self.pivots_since_refactor,
        }));
        let hi = self.box_max(&half.normal, half.offset);
        self.append_row(&half.normal, half.offset, -1.0, (hi - self.t_lo).max(0.0));
        Ok(())
    }

    fn pop(&mut self) -> Result<(), OracleError> {
        let m = self.m();
        assert!(m > self.permanent, "pop on an empty oracle");
        let r = m - 1;
        if let Some(saved) = self.saved.pop().flatten() {
            self.rows.truncate(r * self.n);
            self.offsets.pop();
            self.lower.pop();
            self.upper.pop();
            self.state = saved.state;
            self.basic = saved.basic;
            self.binv = saved.binv;
            self.pivots_since_refactor = saved.pivots_since_refactor;
            return Ok(());
        }
        let s = self.slack(r);
        let p = match self.state[s] {
            VarState::Basic(p) => p,
            _ => {
                // Pivot the slack in where its column -(B^{-1})_{., r} is largest, keeping
                // the margin t basic when possible (with t nonbasic every dual is 0 and the
                // next solve starts fully degenerate).
                let w: Vec<f64> = (0..m).map(|i| -self.binv[i * m + r]).collect();
                let t = self.t();
                let q = (0..m)
                    .filter(|&i| self.basic[i] != t && w[i].abs() > PIVOT_TOL)
                    .max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()))
                    .or_else(|| (0..m).max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs())))
                    .expect("m > 0");
                if w[q].abs() <= PIVOT_TOL {
                    self.reset_to_slack_basis();
                } else {
                    self.pivot(q, s, &w);
                }
                match self.state[s] {
                    VarState::Basic(p) => p,
                    _ => unreachable!("the slack is basic after the pivot or reset"),
                }
            }
        };
        self.remove_basic_slack(p, r);
        self.rows.truncate(r * self.n);
        self.offsets.pop();
        self.lower.pop();
        self.upper.pop();
        self.state.pop();
        Ok(())
    }

    fn depth(&self) -> usize {
        self.m() - self.permanent
    }

    fn certificate(&self) -> Option<LpCertificate> {
        let m = self.m();
        let VarState::Basic(p) = self.state[self.t()] else {
            return None;
        };
        if self.binv.len() != m * m {
            return None;
        }
        Some(LpCertificate {
            duals: self.binv[p * m..(p + 1) * m].iter().map(|v| -v).collect(),
            tight_rows: (0..m)
                .filter(|&i| self.state[self.slack(i)] == VarState::Lower)
                .collect(),
            basic_cols: (0..self.n)
                .filter(|&j| matches!(self.state[j], VarState::Basic(_)))
                .collect(),
            at_upper: (0..self.n)
                .map(|j| self.state[j] == VarState::Upper)
                .collect(),
        })
    }

    fn solve(&mut self) -> Result<Witness, OracleError> {
        self.solve_above(f64::NEG_INFINITY)
    }

    fn solve_above(&mut self, threshold: f64) -> Result<Witness, OracleError> {
        self.solves += 1;
        // Stop a little below the threshold: the dual bound is exact only up to tolerances.
        let stop_below = threshold - PRIMAL_TOL * self.scale.max(1.0);
        let accept_above = if threshold == f64::NEG_INFINITY {
            f64::INFINITY
        } else {
            threshold
        };
        if let Some(w) = self.dual_simplex(stop_below, accept_above) {
            return Ok(w);
        }
        // Numerical trouble: refactorise once and retry, then hand the LP to HiGHS.
        if self.refactor()
            && let Some(w) = self.dual_simplex(stop_below, accept_above)
        {
            return Ok(w);
        }
        self.solve_with_highs()
    }

    fn solves(&self) -> u64 {
        self.solves
    }

    fn fallbacks(&self) -> u64 {
        self.fallbacks
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_triangle_example_and_warm_starts_through_pops() {
        let domain = Domain::unit_box(2);
        let mut lp = DenseMarginOracle::new(&domain, 0);
        assert!((lp.solve().unwrap().margin - 1.0).abs() < 1e-12);
        lp.push(&HalfSpace::new([-1.0, -1.0], 1.0, true)).unwrap();
        let w = lp.solve().unwrap();
        assert!(
            (w.margin - 1.0 / std::f64::consts::SQRT_2).abs() < 1e-9,
            "{w:?}"
        );
        lp.push(&HalfSpace::new([1.0, 1.0], -1.5, true)).unwrap();
        assert!(lp.solve().unwrap().margin < 0.0);
        lp.pop().unwrap();
        let w = lp.solve().unwrap();
        assert!(
            (w.margin - 1.0 / std::f64::consts::SQRT_2).abs() < 1e-9,
            "{w:?}"
        );
        lp.pop().unwrap();
        assert_eq!(lp.depth(), 0);
        assert_eq!(lp.fallbacks(), 0);
    }

    /// The domain's rows bound `x` without a margin: on the triangle `x + y <= 1/2` of the
    /// unit square, the half-plane `x > 0.4` keeps the wedge `0.4 < x <= 1/2 - y`, whose
    /// largest margin is 0.1 (at `(1/2, 0)`), and `x > 0.6` is empty; HiGHS agrees.
    #[test]
    fn domain_rows_bound_the_point_but_not_the_margin() {
        let domain = Domain::unit_box(2)
            .with_constraints(vec![crate::Constraint {
                a: vec![1.0, 1.0],
                b: 0.5,
            }])
            .unwrap();
        let mut dense = DenseMarginOracle::new(&domain, 0);
        let mut highs = HighsMarginOracle::new(&domain, 0).unwrap();
        assert_eq!((dense.depth(), highs.depth()), (0, 0));
        for oracle in [&mut dense as &mut dyn MarginOracle, &mut highs] {
            oracle
                .push(&HalfSpace::new([1.0, 0.0], -0.4, true))
                .unwrap();
            let w = oracle.solve().unwrap();
            assert!((w.margin - 0.1).abs() < 1e-9, "{w:?}");
            assert!(w.point[0] + w.point[1] <= 0.5 + 1e-9, "{w:?}");
            let cert = oracle.certificate().unwrap();
            assert_eq!(cert.duals.len(), 2);
            oracle
                .push(&HalfSpace::new([1.0, 0.0], -0.6, true))
                .unwrap();
            assert!(oracle.solve().unwrap().margin < -1e-3);
            oracle.pop().unwrap();
            oracle.pop().unwrap();
            assert_eq!(oracle.depth(), 0);
        }
    }

    /// A row that is not a number (an overflowed form) makes the margin NaN, whether the
    /// solve runs to the optimum or stops early, so that no verdict trusts the other rows.
    #[test]
    fn a_row_that_is_not_a_number_is_never_trusted() {
        let domain = Domain::unit_box(2);
        for early in [false, true] {
            let mut lp = DenseMarginOracle::new(&domain, 0);
            lp.push(&HalfSpace::new([1.0, 0.0], -0.25, true)).unwrap();
            lp.push(&HalfSpace {
                normal: vec![0.0, 1.0],
                offset: f64::NAN,
            })
            .unwrap();
            lp.push(&HalfSpace::new([0.0, 1.0], -0.25, true)).unwrap();
            let w = if early {
                lp.solve_above(1e-7)
            } else {
                lp.solve()
            }
            .unwrap();
            assert!(
                w.margin.is_nan() || w.margin <= 1e-7,
                "early {early}: {w:?}"
            );
        }
    }

    /// A seeded stream of uniform and normal draws.
    struct Stream(rand_chacha::ChaCha8Rng);

    impl Stream {
        fn seeded(seed: u64) -> Self {
            Self(rand::SeedableRng::seed_from_u64(seed))
        }
        fn next(&mut self) -> f64 {
            rand::Rng::random(&mut self.0)
        }
        fn normal(&mut self) -> f64 {
            let (u, v) = (self.next().max(1e-300), self.next());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
        /// A half-space whose hyperplane passes through a random point of `[-half, half]^n`.
        fn half_space(&mut self, n: usize, half: f64) -> HalfSpace {
            let normal: Vec<f64> = (0..n).map(|_| self.normal()).collect();
            let through: Vec<f64> = (0..n).map(|_| (self.next() * 2.0 - 1.0) * half).collect();
            let c = -normal.iter().zip(&through).map(|(a, b)| a * b).sum::<f64>();
            HalfSpace::new(normal, c, self.next() < 0.5)
        }
    }

    /// `solve_above` on one oracle against `solve` on another, pushed and popped alike:
    /// below the threshold both say so; above it, the early point is in the box, at its
    /// stated margin from every row, above the threshold and within [`ACCEPT_FRACTION`] of
    /// the optimum; and stopping there saves pivots.
    #[test]
    fn solve_above_stops_at_a_point_near_enough_the_optimum() {
        let mut rng = Stream::seeded(7);
        let (mut early, mut solves, mut full_pivots, mut early_pivots) = (0, 0, 0, 0);
        for n in [2usize, 5, 30, 100, 784] {
            let domain = Domain::uniform(n, -1.0, 1.0).unwrap();
            let threshold = 1e-7 * domain.scale();
            let mut full = DenseMarginOracle::new(&domain, 0);
            let mut fast = DenseMarginOracle::new(&domain, 0);
            let mut rows = Vec::new();
            for _ in 0..300 {
                if !rows.is_empty() && (rows.len() >= 20 || rng.next() < 0.4) {
                    full.pop().unwrap();
                    fast.pop().unwrap();
                    rows.pop();
                    continue;
                }
                let h = rng.half_space(n, 0.5);
                full.push(&h).unwrap();
                fast.push(&h).unwrap();
                rows.push(h);
                let best = full.solve().unwrap();
                let w = fast.solve_above(threshold).unwrap();
                solves += 1;
                if best.margin <= threshold {
                    assert!(w.margin <= threshold + 1e-9, "n {n}: {w:?} vs {best:?}");
                    continue;
                }
                assert!(
                    w.margin > threshold,
                    "n {n}: {} vs {}",
                    w.margin,
                    best.margin
                );
                assert!(w.margin <= best.margin + 1e-9, "n {n}: {w:?} vs {best:?}");
                assert!(w.margin >= ACCEPT_FRACTION * best.margin - 1e-9, "n {n}");
                assert!(w.point.iter().all(|x| (-1.0..=1.0).contains(x)), "n {n}");
                for row in &rows {
                    assert!(row.distance(&w.point) >= w.margin - 1e-9, "n {n}");
                }
                early += usize::from(w.margin < best.margin - 1e-9);
            }
            full_pivots += full.iterations();
            early_pivots += fast.iterations();
            assert_eq!((full.fallbacks(), fast.fallbacks()), (0, 0), "n {n}");
        }
        eprintln!("{early} early stops in {solves} solves; pivots {early_pivots} vs {full_pivots}");
        assert!(
            early * 10 > solves,
            "{early} early stops in {solves} solves"
        );
        assert!(
            early_pivots * 10 < full_pivots * 9,
            "{early_pivots} pivots against {full_pivots}"
        );
    }

    /// 10,000 region LPs in depth-first push/pop order, solved by both oracles in lockstep:
    /// same verdict (margin above the search tolerance) and margins within 1e-7 relative.
    #[test]
    fn agrees_with_highs_on_ten_thousand_region_lps() {
        let mut rng = Stream::seeded(0x5EED);
        let mut solves = 0;
        let mut feasible = 0;
        let mut fallbacks = 0;
        let dims = [1usize, 2, 3, 8, 30, 100, 784];
        let mut case = 0;
        while solves < 10_000 {
            let n = dims[case % dims.len()];
            case += 1;
            let half = if case % 3 == 0 { 1.0 } else { 0.5 };
            let domain = Domain::uniform(n, -half, half).unwrap();
            let tol = 1e-7 * domain.scale();
            let mut ours = DenseMarginOracle::new(&domain, 0);
            let mut highs = HighsMarginOracle::new(&domain, 0).unwrap();
            let steps = if n >= 100 { 40 } else { 200 };
            for _ in 0..steps {
                let depth = ours.depth();
                if depth > 0 && (depth >= 25 || rng.next() < 0.35) {
                    ours.pop().unwrap();
                    highs.pop().unwrap();
                    continue;
                }
                let h = rng.half_space(n, half);
                ours.push(&h).unwrap();
                highs.push(&h).unwrap();
                let a = ours.solve().unwrap();
                let b = highs.solve().unwrap();
                solves += 1;
                assert_eq!(
                    a.margin > tol,
                    b.margin > tol,
                    "n {n} depth {}: {} vs {}",
                    ours.depth(),
                    a.margin,
                    b.margin
                );
                if b.margin > -1.0 {
                    let scale = 1f64.max(a.margin.abs()).max(b.margin.abs());
                    assert!(
                        (a.margin - b.margin).abs() <= 1e-7 * scale,
                        "n {n}: {} vs {}",
                        a.margin,
                        b.margin
                    );
                }
                feasible += usize::from(b.margin > tol);
            }
            fallbacks += ours.fallbacks();
        }
        eprintln!("{feasible} feasible of {solves}; {fallbacks} HiGHS fallbacks");
        assert!(
            feasible > 2_000 && feasible < 9_000,
            "{feasible} feasible of {solves}"
        );
        assert!(fallbacks * 100 < solves, "{fallbacks} fallbacks");
    }
}
