//! A thin, index-based, safe layer over one HiGHS instance.
//!
//! The `highs` crate owns the instance (creation, options, destruction); `highs-sys` supplies
//! what its safe API lacks: rows and columns addressed by index, row deletion, bound and
//! cost changes on a live model, re-solving it warm, and reading status and solution.
//! Every instance runs with `threads = 1` and a fixed `random_seed`, so results are
//! reproducible.

use std::ffi::CString;
use std::os::raw::c_int;

use highs::{HighsModelStatus, RowProblem, Sense};
use highs_sys::HighsInt;

/// An error reported by HiGHS itself (not an infeasible or unbounded model: those are statuses).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OracleError {
    /// A HiGHS call returned an error status.
    #[error("HiGHS call {call} failed (status {status})")]
    Call {
        /// The C function called.
        call: &'static str,
        /// The HiGHS status it returned.
        status: i64,
    },
    /// The solver stopped with an error model status.
    #[error("HiGHS could not solve the model (model status {0:?})")]
    Solve(HighsModelStatus),
    /// A ReLU-only formulation was asked for a network with other activations.
    #[error("{0} is formulated for ReLU networks only")]
    ReluOnly(&'static str),
}

/// Outcome of a solve, as far as a caller needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpStatus {
    /// Solved to optimality.
    Optimal,
    /// No feasible point.
    Infeasible,
    /// Unbounded (or infeasible, when HiGHS cannot tell).
    Unbounded,
    /// A MIP found a solution better than the `objective_target` option and stopped.
    TargetReached,
    /// Stopped by the time limit or another limit before optimality.
    Stopped,
}

/// One HiGHS model edited in place and re-solved warm.
pub struct HighsLp {
    model: highs::Model,
    cols: usize,
    rows: usize,
    /// Copies of the column bounds and rows handed to HiGHS, for [`HighsLp::safe_bound`].
    col_bounds: Vec<(f64, f64)>,
    row_data: Vec<ShadowRow>,
}

/// A row as handed to HiGHS: `lower <= sum entries <= upper`.
struct ShadowRow {
    lower: f64,
    upper: f64,
    entries: Vec<(usize, f64)>,
}

// SAFETY: the HiGHS instance is owned exclusively by this value and never shared; HiGHS
// keeps no thread-affine state other than its task scheduler, which `threads = 1` avoids.
unsafe impl Send for HighsLp {}

fn check(call: &'static str, status: HighsInt) -> Result<(), OracleError> {
    // kHighsStatusError = -1; 0 = ok, 1 = warning.
    if status < 0 {
        Err(OracleError::Call {
            call,
            status: status.into(),
        })
    } else {
        Ok(())
    }
}

impl HighsLp {
    /// An empty model (no columns, no rows), maximising, quiet, one thread, fixed seed.
    pub fn new(seed: u32) -> Self {
        let mut model = RowProblem::default().optimise(Sense::Maximise);
        model.make_quiet();
        model.set_option("threads", 1);
        model.set_option("random_seed", (seed % (i32::MAX as u32)) as i32);
        Self {
            model,
            cols: 0,
            rows: 0,
            col_bounds: Vec::new(),
            row_data: Vec::new(),
        }
    }

    fn ptr(&mut self) -> *mut std::ffi::c_void {
        self.model.as_mut_ptr()
    }

    /// Sets a HiGHS option (see the HiGHS option list), e.g. `time_limit`.
    pub fn set_option_f64(&mut self, name: &str, value: f64) {
        self.model.set_option(name, value);
    }

    /// Sets an integer HiGHS option.
    pub fn set_option_i32(&mut self, name: &str, value: i32) {
        self.model.set_option(name, value);
    }

    /// Number of columns.
    pub fn num_cols(&self) -> usize {
        self.cols
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// Adds a column with objective `cost` and bounds; returns its index.
    pub fn add_col(&mut self, cost: f64, lower: f64, upper: f64) -> Result<usize, OracleError> {
        // SAFETY: valid instance; no row entries are passed (count 0, null pointers allowed).
        let status = unsafe {
            highs_sys::Highs_addCol(
                self.ptr(),
                cost,
                lower,
                upper,
                0,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        check("Highs_addCol", status)?;
        self.col_bounds.push((lower, upper));
        self.cols += 1;
        Ok(self.cols - 1)
    }

    /// Marks a column as integer (for MILPs).
    pub fn set_integer(&mut self, col: usize) -> Result<(), OracleError> {
        // SAFETY: valid instance and column index.
        let status = unsafe {
            highs_sys::Highs_changeColIntegrality(self.ptr(), col as HighsInt, 1 as HighsInt)
        };
        check("Highs_changeColIntegrality", status)
    }

    /// Adds the row `lower <= sum values[k] * x[cols[k]] <= upper`; returns its index.
    pub fn add_row(
        &mut self,
        lower: f64,
        upper: f64,
        cols: &[usize],
        values: &[f64],
    ) -> Result<usize, OracleError> {
        debug_assert_eq!(cols.len(), values.len());
        let index: Vec<HighsInt> = cols.iter().map(|&c| c as HighsInt).collect();
        // SAFETY: valid instance; `index` and `values` have the same length, passed as count.
        let status = unsafe {
            highs_sys::Highs_addRow(
                self.ptr(),
                lower,
                upper,
                index.len() as HighsInt,
                index.as_ptr(),
                values.as_ptr(),
            )
        };
        check("Highs_addRow", status)?;
        self.row_data.push(ShadowRow {
            lower,
            upper,
            entries: cols.iter().copied().zip(values.iter().copied()).collect(),
        });
        self.rows += 1;
        Ok(self.rows - 1)
    }

    /// Deletes the last `count` rows.
    pub fn pop_rows(&mut self, count: usize) -> Result<(), OracleError> {
        if count == 0 {
            return Ok(());
        }
        assert!(count <= self.rows, "popping more rows than there are");
        let from = (self.rows - count) as HighsInt;
        let to = (self.rows - 1) as HighsInt;
        // SAFETY: valid instance and an in-range row interval.
        let status = unsafe { highs_sys::Highs_deleteRowsByRange(self.ptr(), from, to) };
        check("Highs_deleteRowsByRange", status)?;
        self.rows -= count;
        self.row_data.truncate(self.rows);
        Ok(())
    }

    /// Changes a row's bounds.
    pub fn set_row_bounds(
        &mut self,
        row: usize,
        lower: f64,
        upper: f64,
    ) -> Result<(), OracleError> {
        // SAFETY: valid instance and row index.
        let status =
            unsafe { highs_sys::Highs_changeRowBounds(self.ptr(), row as HighsInt, lower, upper) };
        check("Highs_changeRowBounds", status)?;
        self.row_data[row].lower = lower;
        self.row_data[row].upper = upper;
        Ok(())
    }

    /// Names a column (used by [`HighsLp::write_model`]).
    pub fn set_col_name(&mut self, col: usize, name: &str) -> Result<(), OracleError> {
        let name = CString::new(name).map_err(|_| OracleError::Call {
            call: "Highs_passColName (name contains NUL)",
            status: -1,
        })?;
        // SAFETY: valid instance, column index and NUL-terminated name.
        let status =
            unsafe { highs_sys::Highs_passColName(self.ptr(), col as HighsInt, name.as_ptr()) };
        check("Highs_passColName", status)
    }

    /// Names a row (used by [`HighsLp::write_model`]).
    pub fn set_row_name(&mut self, row: usize, name: &str) -> Result<(), OracleError> {
        let name = CString::new(name).map_err(|_| OracleError::Call {
            call: "Highs_passRowName (name contains NUL)",
            status: -1,
        })?;
        // SAFETY: valid instance, row index and NUL-terminated name.
        let status =
            unsafe { highs_sys::Highs_passRowName(self.ptr(), row as HighsInt, name.as_ptr()) };
        check("Highs_passRowName", status)
    }

    /// Changes a column's bounds.
    pub fn set_col_bounds(
        &mut self,
        col: usize,
        lower: f64,
        upper: f64,
    ) -> Result<(), OracleError> {
        // SAFETY: valid instance and column index.
        let status =
            unsafe { highs_sys::Highs_changeColBounds(self.ptr(), col as HighsInt, lower, upper) };
        check("Highs_changeColBounds", status)?;
        self.col_bounds[col] = (lower, upper);
        Ok(())
    }

    /// Changes a column's objective coefficient.
    pub fn set_col_cost(&mut self, col: usize, cost: f64) -> Result<(), OracleError> {
        // SAFETY: valid instance and column index.
        let status = unsafe { highs_sys::Highs_changeColCost(self.ptr(), col as HighsInt, cost) };
        check("Highs_changeColCost", status)
    }

    /// Maximise (`true`) or minimise (`false`).
    pub fn set_maximize(&mut self, maximize: bool) -> Result<(), OracleError> {
        // ObjSense: 1 = minimise, -1 = maximise.
        let sense: HighsInt = if maximize { -1 } else { 1 };
        // SAFETY: valid instance.
        let status = unsafe { highs_sys::Highs_changeObjectiveSense(self.ptr(), sense) };
        check("Highs_changeObjectiveSense", status)
    }

    /// Solves (warm from the previous basis when there is one). The `time_limit` option,
    /// if set, applies to this solve alone (HiGHS's run clock is reset first).
    pub fn solve(&mut self) -> Result<LpStatus, OracleError> {
        // SAFETY: valid instance.
        let run = unsafe {
            highs_sys::Highs_zeroAllClocks(self.ptr());
            highs_sys::Highs_run(self.ptr())
        };
        // SAFETY: valid instance.
        let raw = unsafe { highs_sys::Highs_getModelStatus(self.model.as_ptr()) };
        let status =
            HighsModelStatus::try_from(c_int::from(raw)).map_err(|_| OracleError::Call {
                call: "Highs_getModelStatus",
                status: raw.into(),
            })?;
        match status {
            HighsModelStatus::Optimal => Ok(LpStatus::Optimal),
            HighsModelStatus::Infeasible => Ok(LpStatus::Infeasible),
            HighsModelStatus::Unbounded | HighsModelStatus::UnboundedOrInfeasible => {
                Ok(LpStatus::Unbounded)
            }
            HighsModelStatus::ObjectiveTarget => Ok(LpStatus::TargetReached),
            HighsModelStatus::ReachedTimeLimit
            | HighsModelStatus::ReachedIterationLimit
            | HighsModelStatus::ReachedSolutionLimit
            | HighsModelStatus::ReachedInterrupt
            | HighsModelStatus::ObjectiveBound => Ok(LpStatus::Stopped),
            other => {
                check("Highs_run", run)?;
                Err(OracleError::Solve(other))
            }
        }
    }

    /// The objective value of the last solve.
    pub fn objective(&self) -> f64 {
        // SAFETY: valid instance.
        unsafe { highs_sys::Highs_getObjectiveValue(self.model.as_ptr()) }
    }

    /// A HiGHS double info value, e.g. `mip_dual_bound`.
    pub fn info_f64(&self, name: &str) -> Option<f64> {
        let name = CString::new(name).ok()?;
        let mut value = 0.0;
        // SAFETY: valid instance, NUL-terminated name, valid out pointer.
        let status = unsafe {
            highs_sys::Highs_getDoubleInfoValue(self.model.as_ptr(), name.as_ptr(), &mut value)
        };
        (status >= 0).then_some(value)
    }

    /// The column values of the last solve.
    pub fn primal(&self) -> Vec<f64> {
        self.solution().0
    }

    /// The row duals of the last solve.
    pub fn row_duals(&self) -> Vec<f64> {
        self.solution().1
    }

    /// A rigorous upper bound on `max sum coef * x[col]` over the model's rows and column
    /// bounds (integrality ignored), from the row duals `y` of the last solve: for any `y`,
    /// `c . x = y . (A x) + (c - A^T y) . x`, and each term is bounded over the row and
    /// column bounds in outward-rounded arithmetic (Neumaier & Shcherbina, 2004). It holds
    /// however inexact `y` is; a `y` close to optimal makes it close to the optimum. Both
    /// signs of `y` are tried, so HiGHS's sign convention does not matter. Infinite when no
    /// finite bound follows (e.g. an unbounded column with a non-zero reduced cost).
    pub fn safe_bound(&self, objective: &[(usize, f64)]) -> f64 {
        let y = self.row_duals();
        let plus = self.safe_bound_with(objective, &y, 1.0);
        let minus = self.safe_bound_with(objective, &y, -1.0);
        plus.min(minus)
    }

    fn safe_bound_with(&self, objective: &[(usize, f64)], duals: &[f64], sign: f64) -> f64 {
        use crate::rounding::{down, interval_mul_hi, up};
        // Reduced costs r = c - A^T y as intervals.
        let mut r_lo = vec![0.0; self.cols];
        let mut r_hi = vec![0.0; self.cols];
        for &(col, coef) in objective {
            r_lo[col] = down(r_lo[col] + coef);
            r_hi[col] = up(r_hi[col] + coef);
        }
        let mut total = 0.0;
        for (row, &dual) in self.row_data.iter().zip(duals) {
            let y = sign * dual;
            // A multiplier whose side of the row is unbounded would give an infinite term;
            // dropping it (y = 0) keeps the bound valid.
            let side = if y > 0.0 {
                row.upper
            } else if y < 0.0 {
                row.lower
            } else {
                continue;
            };
            if !side.is_finite() {
                continue;
            }
            total = up(total + up(y * side));
            for &(col, a) in &row.entries {
                let p = y * a;
                r_lo[col] = down(r_lo[col] - up(p));
                r_hi[col] = up(r_hi[col] - down(p));
            }
        }
        for (j, &(l, u)) in self.col_bounds.iter().enumerate() {
            if r_lo[j] == 0.0 && r_hi[j] == 0.0 {
                continue;
            }
            total = up(total + interval_mul_hi(r_lo[j], r_hi[j], l, u));
        }
        if total.is_nan() { f64::INFINITY } else { total }
    }

    /// The basis statuses of the last solve, columns then rows (HiGHS's
    /// `kHighsBasisStatus`: 0 lower, 1 basic, 2 upper, 3 zero, 4 nonbasic).
    pub fn basis(&self) -> (Vec<HighsInt>, Vec<HighsInt>) {
        let mut cols: Vec<HighsInt> = vec![0; self.cols];
        let mut rows: Vec<HighsInt> = vec![0; self.rows];
        // SAFETY: valid instance; each buffer has the model's column or row count.
        unsafe {
            highs_sys::Highs_getBasis(self.model.as_ptr(), cols.as_mut_ptr(), rows.as_mut_ptr());
        }
        (cols, rows)
    }

    fn solution(&self) -> (Vec<f64>, Vec<f64>) {
        let mut cols = vec![0.0; self.cols];
        let mut col_dual = vec![0.0; self.cols];
        let mut rows = vec![0.0; self.rows];
        let mut row_dual = vec![0.0; self.rows];
        // SAFETY: valid instance; every buffer has the model's column or row count.
        unsafe {
            highs_sys::Highs_getSolution(
                self.model.as_ptr(),
                cols.as_mut_ptr(),
                col_dual.as_mut_ptr(),
                rows.as_mut_ptr(),
                row_dual.as_mut_ptr(),
            );
        }
        (cols, row_dual)
    }

    /// Writes the model with HiGHS's writer; the extension picks the format (`.mps`, `.lp`).
    pub fn write_model(&mut self, path: &std::path::Path) -> Result<(), OracleError> {
        let name =
            CString::new(path.to_string_lossy().as_bytes()).map_err(|_| OracleError::Call {
                call: "Highs_writeModel (path contains NUL)",
                status: -1,
            })?;
        // SAFETY: valid instance and NUL-terminated path.
        let status = unsafe { highs_sys::Highs_writeModel(self.ptr(), name.as_ptr()) };
        check("Highs_writeModel", status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_edits_and_resolves() {
        // max x + y  s.t.  x + 2y <= 4, 3x + y <= 6, x, y in [0, 10]  ->  (1.6, 1.2), 2.8
        let mut lp = HighsLp::new(0);
        let x = lp.add_col(1.0, 0.0, 10.0).unwrap();
        let y = lp.add_col(1.0, 0.0, 10.0).unwrap();
        lp.add_row(f64::NEG_INFINITY, 4.0, &[x, y], &[1.0, 2.0])
            .unwrap();
        lp.add_row(f64::NEG_INFINITY, 6.0, &[x, y], &[3.0, 1.0])
            .unwrap();
        assert_eq!(lp.solve().unwrap(), LpStatus::Optimal);
        assert!((lp.objective() - 2.8).abs() < 1e-9);
        let p = lp.primal();
        assert!((p[0] - 1.6).abs() < 1e-9 && (p[1] - 1.2).abs() < 1e-9);
        // Drop the second row: optimum moves to (4, 0) -> 4 (x bounded by row 1 only).
        lp.pop_rows(1).unwrap();
        assert_eq!(lp.solve().unwrap(), LpStatus::Optimal);
        assert!((lp.objective() - 4.0).abs() < 1e-9);
        // An infeasible row.
        lp.add_row(20.0, f64::INFINITY, &[x, y], &[1.0, 1.0])
            .unwrap();
        assert_eq!(lp.solve().unwrap(), LpStatus::Infeasible);
        lp.pop_rows(1).unwrap();
        lp.set_maximize(false).unwrap();
        lp.set_col_bounds(y, 1.0, 10.0).unwrap();
        assert_eq!(lp.solve().unwrap(), LpStatus::Optimal);
        assert!((lp.objective() - 1.0).abs() < 1e-9);
    }
}
