//! The depth-first search over activation patterns.
//!
//! Invariants of `explore(pos, witness)`:
//! - the units at positions `< pos` have a state in `pattern`, and every one of them whose
//!   pre-activation is not constant on the region (and not proven stable over the box) has
//!   its half-space on the oracle's stack, in order;
//! - `witness.point` lies in the region of that prefix at distance `witness.margin > tol`
//!   from each of those half-spaces;
//! - `forms[l]` holds the affine forms of layer `l` for the current prefix whenever a unit of
//!   layer `l` is at a position `< pos` or `== pos`.
//!
//! A child whose state the witness already satisfies with margin `> tol` inherits the witness
//! (no LP); the other child is decided by one margin LP. A full pattern is a region only if
//! the plain forward pass at its witness gives exactly that pattern, strictly on the right
//! side of every hyperplane of the path.

use std::time::Instant;

use mipbound_formulation::{
    Domain, HalfSpace, LayerForms, MarginOracle, Stability, UnitBounds, Witness,
};
use mipbound_network::{Network, Pattern, UnitId};

use crate::{Flow, Limits, PatternHooks, SearchError, SearchStats, SearchStatus};

/// How one position's state is decided.
enum Decision {
    /// The state is the same on the whole region (constant form, stable unit, or the box
    /// lies on one side): no branching, no half-space.
    Fixed(bool),
    /// The hyperplane may cross the region.
    Split,
}

pub(crate) struct Dfs<'a, O, H> {
    pub net: &'a Network,
    pub domain: &'a Domain,
    pub bounds: &'a UnitBounds,
    pub oracle: O,
    pub hooks: &'a mut H,
    pub limits: &'a Limits,
    /// Visiting order of the hidden units.
    pub order: &'a [UnitId],
    /// Pattern index of the unit at each position.
    pub bits: Vec<usize>,
    /// Whether the position is the first of its layer (where the layer's forms are built).
    pub enters_layer: Vec<bool>,
    pub forms: Vec<LayerForms>,
    pub pattern: Pattern,
    /// Whether the unit at each position has a half-space on the stack.
    pub has_row: Vec<bool>,
    pub tol: f64,
    pub stats: SearchStats,
    pub status: Option<SearchStatus>,
    pub last_check: Instant,
}

impl<O: MarginOracle, H: PatternHooks> Dfs<'_, O, H> {
    pub fn explore(&mut self, pos: usize, witness: &Witness) -> Result<(), SearchError> {
        if self.should_stop() || !self.hooks.consistent() {
            return Ok(());
        }
        self.stats.nodes += 1;
        if pos == self.order.len() {
            return self.leaf(witness);
        }
        let id = self.order[pos];
        if self.enters_layer[pos] {
            self.enter_layer(id.layer);
        }
        let bit = self.bits[pos];
        match self.decide(id) {
            Decision::Fixed(state) => {
                if self.hooks.assign(bit, state) {
                    self.pattern.set(bit, state);
                    self.has_row[pos] = false;
                    self.explore(pos + 1, witness)?;
                    self.hooks.unassign(bit);
                }
            }
            Decision::Split => self.split(pos, id, bit, witness)?,
        }
        Ok(())
    }

    fn enter_layer(&mut self, layer: usize) {
        let layers = self.net.hidden_layers();
        let forms = if layer == 0 {
            LayerForms::first(&layers[0])
        } else {
            let offset = self.net.pattern_index(UnitId {
                layer: layer - 1,
                unit: 0,
            });
            let pattern = &self.pattern;
            self.forms[layer - 1].next(&layers[layer], |i| pattern[offset + i])
        };
        if self.forms.len() > layer {
            self.forms[layer] = forms;
        } else {
            self.forms.push(forms);
        }
    }

    fn decide(&self, id: UnitId) -> Decision {
        let forms = &self.forms[id.layer];
        let c = forms.constants[id.unit];
        if forms.is_constant(id.unit) {
            return Decision::Fixed(c > 0.0);
        }
        match self.bounds.stability(id) {
            Stability::Active => return Decision::Fixed(true),
            Stability::Inactive => return Decision::Fixed(false),
            Stability::Unstable => {}
        }
        let (lo, hi) = self
            .domain
            .range(forms.gradient(id.unit).iter().copied(), c);
        if hi <= 0.0 {
            Decision::Fixed(false)
        } else if lo > 0.0 {
            Decision::Fixed(true)
        } else {
            Decision::Split
        }
    }

    fn split(
        &mut self,
        pos: usize,
        id: UnitId,
        bit: usize,
        witness: &Witness,
    ) -> Result<(), SearchError> {
        let forms = &self.forms[id.layer];
        let value = forms.value(id.unit, &witness.point);
        let distance = value.abs() / forms.gradient_norm(id.unit);
        let witnessed = value > 0.0;
        let certified = distance > self.tol;
        for state in [witnessed, !witnessed] {
            if self.should_stop() {
                break;
            }
            if !self.hooks.assign(bit, state) {
                continue;
            }
            self.pattern.set(bit, state);
            self.has_row[pos] = true;
            let forms = &self.forms[id.layer];
            let half = HalfSpace::new(
                forms.gradient(id.unit).iter().copied(),
                forms.constants[id.unit],
                state,
            );
            self.oracle.push(&half)?;
            if state == witnessed && certified {
                self.stats.witness_reuses += 1;
                let child = Witness {
                    point: witness.point.clone(),
                    margin: witness.margin.min(distance),
                };
                self.explore(pos + 1, &child)?;
            } else {
                let mut child = self.oracle.solve()?;
                self.stats.lp_solves += 1;
                if child.margin > self.tol {
                    self.domain.clamp(&mut child.point);
                    self.explore(pos + 1, &child)?;
                } else {
                    self.stats.infeasible_lps += 1;
                }
            }
            self.oracle.pop()?;
            self.hooks.unassign(bit);
        }
        Ok(())
    }

    fn leaf(&mut self, witness: &Witness) -> Result<(), SearchError> {
        let mut point = witness.point.clone();
        if !self.verify(&point) {
            // An inherited witness can sit within rounding of a hyperplane: ask the LP for
            // the most central point of the full region and check that one.
            self.stats.lp_solves += 1;
            let mut fresh = self.oracle.solve()?;
            self.domain.clamp(&mut fresh.point);
            if fresh.margin <= self.tol || !self.verify(&fresh.point) {
                self.stats.rejected_witnesses += 1;
                return Ok(());
            }
            point = fresh.point;
        }
        self.stats.regions += 1;
        if self.hooks.region(&self.pattern, &point) == Flow::Stop {
            self.status = Some(SearchStatus::Stopped);
        }
        Ok(())
    }

    /// The forward pass at `x` gives the current pattern, strictly on the pattern's side of
    /// every hyperplane that was pushed.
    fn verify(&self, x: &[f64]) -> bool {
        let z = self.net.pre_activations(x);
        self.order.iter().enumerate().all(|(pos, id)| {
            let value = z[id.layer][id.unit];
            let state = self.pattern[self.bits[pos]];
            if self.has_row[pos] {
                if state { value > 0.0 } else { value < 0.0 }
            } else {
                state == (value > 0.0)
            }
        })
    }

    fn should_stop(&mut self) -> bool {
        if self.status.is_some() {
            return true;
        }
        // Reading the clock every node is cheap next to an LP, but not free: every 64 nodes.
        if self.stats.nodes.is_multiple_of(64) {
            self.last_check = Instant::now();
            if let Some(status) = self.limits.reached(self.last_check) {
                self.status = Some(status);
                return true;
            }
        }
        false
    }
}
