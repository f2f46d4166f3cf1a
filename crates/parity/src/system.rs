//! A system of XOR constraints under a partial assignment, with an undo trail.
//!
//! Invariants: `free[c]` is the number of unassigned variables of constraint `c` and
//! `acc[c]` the parity of its assigned ones; `trail` lists the assigned variables in
//! assignment order. The system is *consistent* when some completion of the assignment
//! satisfies every constraint; that is decided by Gauss-Jordan elimination of the
//! constraints restricted to the free variables (right-hand sides adjusted by the assigned
//! values), and cached until the assignment or the constraints change.

use std::cell::Cell;

use bitvec::prelude::{BitVec, Lsb0};

use crate::XorConstraint;

/// The assignment contradicts the constraints: no completion satisfies them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the XOR constraints have no solution under this assignment")]
pub struct Conflict;

/// What the constraints imply about the free variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propagation {
    /// No completion of the assignment satisfies every constraint.
    Conflict,
    /// Some completion does; these free variables have the same value in all of them.
    Consistent {
        /// `(variable, value)` pairs, by variable.
        forced: Vec<(usize, bool)>,
    },
}

type Row = BitVec<u64, Lsb0>;

/// XOR constraints over `num_vars` binary variables and a partial assignment.
#[derive(Debug, Clone)]
pub struct ParitySystem {
    num_vars: usize,
    constraints: Vec<XorConstraint>,
    rows: Vec<Row>,
    occurs: Vec<Vec<usize>>,
    free: Vec<usize>,
    acc: Vec<bool>,
    assigned: Row,
    value: Row,
    trail: Vec<usize>,
    consistent: Cell<Option<bool>>,
}

impl ParitySystem {
    /// No constraints, nothing assigned.
    pub fn new(num_vars: usize) -> Self {
        Self {
            num_vars,
            constraints: Vec::new(),
            rows: Vec::new(),
            occurs: vec![Vec::new(); num_vars],
            free: Vec::new(),
            acc: Vec::new(),
            assigned: BitVec::repeat(false, num_vars),
            value: BitVec::repeat(false, num_vars),
            trail: Vec::new(),
            consistent: Cell::new(Some(true)),
        }
    }

    /// Number of variables.
    pub fn num_vars(&self) -> usize {
        self.num_vars
    }

    /// The constraints added so far, in order.
    pub fn constraints(&self) -> &[XorConstraint] {
        &self.constraints
    }

    /// The value of a variable, if assigned.
    pub fn value(&self, var: usize) -> Option<bool> {
        self.assigned[var].then(|| self.value[var])
    }

    /// Number of assigned variables (the trail length).
    pub fn depth(&self) -> usize {
        self.trail.len()
    }

    /// Adds a constraint; it is kept for good and holds from now on, whatever is assigned.
    ///
    /// # Panics
    /// If a variable index is out of range.
    pub fn add(&mut self, xor: XorConstraint) {
        let c = self.constraints.len();
        let mut row: Row = BitVec::repeat(false, self.num_vars);
        let (mut free, mut acc) = (0, false);
        for &v in &xor.vars {
            assert!(v < self.num_vars, "variable {v} out of range");
            row.set(v, true);
            self.occurs[v].push(c);
            if self.assigned[v] {
                acc ^= self.value[v];
            } else {
                free += 1;
            }
        }
        self.rows.push(row);
        self.free.push(free);
        self.acc.push(acc);
        self.constraints.push(xor);
        self.consistent.set(None);
    }

    /// Assigns `var = value` if the constraints still have a solution; otherwise leaves the
    /// state unchanged and returns the conflict.
    ///
    /// # Panics
    /// If `var` is already assigned.
    pub fn assign(&mut self, var: usize, value: bool) -> Result<(), Conflict> {
        assert!(!self.assigned[var], "variable {var} assigned twice");
        self.assigned.set(var, true);
        self.value.set(var, value);
        self.trail.push(var);
        let mut unit_conflict = false;
        for &c in &self.occurs[var] {
            self.free[c] -= 1;
            self.acc[c] ^= value;
            unit_conflict |= self.free[c] == 0 && self.acc[c] != self.constraints[c].parity;
        }
        // A variable in no constraint changes nothing: the cached answer still holds.
        let known = self.consistent.get();
        let ok = !unit_conflict
            && if self.occurs[var].is_empty() && known.is_some() {
                known == Some(true)
            } else {
                self.reduce().is_some()
            };
        if ok {
            self.consistent.set(Some(true));
            Ok(())
        } else {
            self.unassign();
            Err(Conflict)
        }
    }

    /// Undoes the most recent successful [`ParitySystem::assign`]; returns its variable.
    ///
    /// # Panics
    /// If nothing is assigned.
    pub fn unassign(&mut self) -> usize {
        let var = self.trail.pop().expect("unassign with an empty trail");
        let value = self.value[var];
        self.assigned.set(var, false);
        self.value.set(var, false);
        for &c in &self.occurs[var] {
            self.free[c] += 1;
            self.acc[c] ^= value;
        }
        if !self.occurs[var].is_empty() {
            self.consistent.set(None);
        }
        var
    }

    /// Returns true if and only if some completion of the assignment satisfies every
    /// constraint (Gauss-Jordan, cached).
    pub fn is_consistent(&self) -> bool {
        if let Some(known) = self.consistent.get() {
            return known;
        }
        let answer = self.reduce().is_some();
        self.consistent.set(Some(answer));
        answer
    }

    /// Conflict, or the free variables every solution agrees on (unit propagation and
    /// everything Gauss-Jordan elimination implies).
    pub fn propagate(&self) -> Propagation {
        match self.reduce() {
            None => Propagation::Conflict,
            Some(rows) => {
                let mut forced: Vec<(usize, bool)> = rows
                    .iter()
                    .filter(|(row, _)| row.count_ones() == 1)
                    .map(|(row, rhs)| (row.first_one().expect("one bit"), *rhs))
                    .collect();
                forced.sort_unstable();
                Propagation::Consistent { forced }
            }
        }
    }

    /// The constraints restricted to the free variables, in reduced row echelon form, or
    /// `None` if they are inconsistent.
    fn reduce(&self) -> Option<Vec<(Row, bool)>> {
        let free_mask = !self.assigned.clone();
        let mut pivots: Vec<(usize, Row, bool)> = Vec::new();
        for (c, row) in self.rows.iter().enumerate() {
            let mut rhs = self.constraints[c].parity ^ self.acc[c];
            if self.free[c] == 0 {
                if rhs {
                    return None;
                }
                continue;
            }
            let mut row = row.clone();
            row &= &free_mask;
            for (p, prow, prhs) in &pivots {
                if row[*p] {
                    row ^= prow;
                    rhs ^= *prhs;
                }
            }
            match row.first_one() {
                None if rhs => return None,
                None => {}
                Some(p) => {
                    for (_, prow, prhs) in pivots.iter_mut() {
                        if prow[p] {
                            *prow ^= &row;
                            *prhs ^= rhs;
                        }
                    }
                    pivots.push((p, row, rhs));
                }
            }
        }
        Some(pivots.into_iter().map(|(_, row, rhs)| (row, rhs)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{XorSequence, XorWidth};

    /// Brute force over all completions: None if none satisfies, else the forced variables.
    fn brute_force(
        n: usize,
        xors: &[XorConstraint],
        partial: &[Option<bool>],
    ) -> Option<Vec<(usize, bool)>> {
        let mut seen_true = vec![false; n];
        let mut seen_false = vec![false; n];
        let mut any = false;
        for bits in 0u32..(1 << n) {
            let value = |v: usize| bits >> v & 1 == 1;
            if partial
                .iter()
                .enumerate()
                .any(|(v, p)| p.is_some_and(|p| p != value(v)))
            {
                continue;
            }
            if xors.iter().all(|x| x.is_satisfied_by(value)) {
                any = true;
                for v in 0..n {
                    if value(v) {
                        seen_true[v] = true;
                    } else {
                        seen_false[v] = true;
                    }
                }
            }
        }
        any.then(|| {
            (0..n)
                .filter(|&v| partial[v].is_none() && seen_true[v] != seen_false[v])
                .map(|v| (v, seen_true[v]))
                .collect()
        })
    }

    #[test]
    fn gauss_jordan_agrees_with_brute_force() {
        let mut checked_forced = 0;
        let mut checked_conflicts = 0;
        for case in 0..400u64 {
            let n = 4 + (case % 9) as usize; // 4..=12 variables
            let m = 1 + (case % 7) as usize;
            let width = [
                XorWidth::Fixed(2),
                XorWidth::Fixed(3),
                XorWidth::Fixed(5),
                XorWidth::Dense,
            ][(case % 4) as usize];
            let mut seq = XorSequence::new((0..n).collect(), width, case, 0);
            let xors: Vec<XorConstraint> = (0..m).map(|i| seq.get(i).clone()).collect();
            let mut system = ParitySystem::new(n);
            for x in &xors {
                system.add(x.clone());
            }
            // Assign a pseudo-random prefix, checking after each step.
            let mut partial = vec![None; n];
            let mut state = case.wrapping_mul(0x9E3779B97F4A7C15) | 1;
            for v in (0..n).filter(|&v| !(v as u64 + case).is_multiple_of(3)) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let value = state & 1 == 1;
                let mut trial = partial.clone();
                trial[v] = Some(value);
                let expected = brute_force(n, &xors, &trial);
                match system.assign(v, value) {
                    Ok(()) => {
                        let forced = expected.expect("assign accepted an unsatisfiable assignment");
                        partial = trial;
                        assert!(system.is_consistent());
                        assert_eq!(
                            system.propagate(),
                            Propagation::Consistent {
                                forced: forced.clone()
                            }
                        );
                        checked_forced += forced.len();
                    }
                    Err(Conflict) => {
                        assert!(
                            expected.is_none(),
                            "assign rejected a satisfiable assignment"
                        );
                        checked_conflicts += 1;
                        assert_eq!(system.value(v), None);
                    }
                }
            }
        }
        assert!(
            checked_forced > 100 && checked_conflicts > 50,
            "{checked_forced} {checked_conflicts}"
        );
    }

    #[test]
    fn unit_propagation_forces_the_last_free_variable() {
        let mut s = ParitySystem::new(3);
        s.add(XorConstraint {
            vars: vec![0, 1, 2],
            parity: true,
        });
        s.assign(0, true).unwrap();
        s.assign(1, true).unwrap();
        assert_eq!(
            s.propagate(),
            Propagation::Consistent {
                forced: vec![(2, true)]
            }
        );
        assert_eq!(s.assign(2, false), Err(Conflict));
        s.assign(2, true).unwrap();
    }

    #[test]
    fn implied_constraints_propagate_through_elimination() {
        // x0 ^ x1 ^ x2 = 0 and x0 ^ x1 ^ x3 = 1 imply x2 ^ x3 = 1; with x2 = 1, x3 = 0 is
        // forced although neither constraint alone has one free variable.
        let mut s = ParitySystem::new(4);
        s.add(XorConstraint {
            vars: vec![0, 1, 2],
            parity: false,
        });
        s.add(XorConstraint {
            vars: vec![0, 1, 3],
            parity: true,
        });
        s.assign(2, true).unwrap();
        assert_eq!(
            s.propagate(),
            Propagation::Consistent {
                forced: vec![(3, false)]
            }
        );
        assert_eq!(s.assign(3, true), Err(Conflict));
    }

    #[test]
    fn undo_restores_state_and_late_constraints_stay() {
        let mut s = ParitySystem::new(6);
        s.add(XorConstraint {
            vars: vec![0, 3],
            parity: true,
        });
        let before = (s.propagate(), s.is_consistent());
        s.assign(0, false).unwrap();
        s.assign(5, true).unwrap();
        s.assign(1, true).unwrap();
        // A constraint added mid-search that the current assignment violates.
        s.add(XorConstraint {
            vars: vec![1, 5],
            parity: true,
        });
        assert!(!s.is_consistent());
        assert_eq!(s.unassign(), 1);
        assert!(s.is_consistent());
        assert_eq!(
            s.propagate(),
            Propagation::Consistent {
                forced: vec![(1, false), (3, true)]
            }
        );
        assert_eq!(s.unassign(), 5);
        assert_eq!(s.unassign(), 0);
        assert_eq!(s.depth(), 0);
        assert_eq!(s.constraints().len(), 2);
        // Back at the start, with the late constraint still there.
        assert_eq!(before.0, Propagation::Consistent { forced: vec![] });
        assert!(before.1 && s.is_consistent());
        assert_eq!(s.propagate(), Propagation::Consistent { forced: vec![] });
        assert!((0..6).all(|v| s.value(v).is_none()));
    }

    #[test]
    fn contradictory_constraints_conflict_at_once() {
        let mut s = ParitySystem::new(3);
        s.add(XorConstraint {
            vars: vec![0, 1],
            parity: true,
        });
        s.add(XorConstraint {
            vars: vec![0, 1],
            parity: false,
        });
        assert!(!s.is_consistent());
        assert_eq!(s.assign(2, true), Err(Conflict));
        // An empty constraint with parity 1 is unsatisfiable; with parity 0 it is vacuous.
        let mut t = ParitySystem::new(2);
        t.add(XorConstraint {
            vars: vec![],
            parity: false,
        });
        assert!(t.is_consistent());
        t.add(XorConstraint {
            vars: vec![],
            parity: true,
        });
        assert!(!t.is_consistent());
    }
}
