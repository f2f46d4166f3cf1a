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
    Domain, HalfSpace, Interval, LayerForms, MarginOracle, Stability, UnitBounds, Witness,
};
use mipbound_network::{Network, Pattern, UnitId};

use crate::{Flow, Limits, PatternHooks, SearchError, SearchStats, SearchStatus};

/// One decision on a path: which unit, which state, whether its half-space was pushed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decided {
    pub id: UnitId,
    pub active: bool,
    pub row: bool,
}

/// A node of the search tree to be explored on its own: the decisions leading to it and a
/// witness point of its region.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Subproblem {
    pub decisions: Vec<Decided>,
    pub witness: Witness,
}

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
    /// Visiting order of the hidden units (with `dynamic`, only its layer boundaries count).
    pub order: &'a [UnitId],
    /// Choose the next unit of the current layer at each node instead of following `order`.
    pub dynamic: bool,
    /// The unit decided at each position on the current path.
    pub path: Vec<UnitId>,
    /// First position of each layer.
    pub layer_start: Vec<usize>,
    /// Whether the position is the first of its layer (where the layer's forms are built).
    pub enters_layer: Vec<bool>,
    pub forms: Vec<LayerForms>,
    /// Pre-activation bounds of each entered layer over the current region, by interval
    /// arithmetic through the earlier layers' states (valid where `forms` is).
    pub region_bounds: Vec<Vec<Interval>>,
    pub pattern: Pattern,
    /// Whether the unit at each position has a half-space on the stack.
    pub has_row: Vec<bool>,
    pub tol: f64,
    pub stats: SearchStats,
    pub status: Option<SearchStatus>,
    /// When set, nodes at this depth are recorded in `frontier` instead of explored.
    pub cut: Option<usize>,
    pub frontier: Vec<Subproblem>,
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
        if self.cut == Some(pos) {
            self.frontier.push(Subproblem {
                decisions: (0..pos)
                    .map(|p| {
                        let id = self.path[p];
                        Decided {
                            id,
                            active: self.pattern[self.net.pattern_index(id)],
                            row: self.has_row[p],
                        }
                    })
                    .collect(),
                witness: witness.clone(),
            });
            return Ok(());
        }
        if self.enters_layer[pos] {
            self.enter_layer(self.order[pos].layer);
        }
        let id = if self.dynamic {
            self.pick_unit(pos, witness)
        } else {
            self.order[pos]
        };
        self.path[pos] = id;
        let bit = self.net.pattern_index(id);
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

    /// Re-creates the state of a recorded node (forms, pattern, rows on the oracle) without
    /// solving anything, then explores below it.
    pub fn explore_subproblem(&mut self, sub: &Subproblem) -> Result<(), SearchError> {
        for (pos, d) in sub.decisions.iter().enumerate() {
            if self.enters_layer[pos] {
                self.enter_layer(self.order[pos].layer);
            }
            self.path[pos] = d.id;
            let bit = self.net.pattern_index(d.id);
            if !self.hooks.assign(bit, d.active) {
                return Ok(());
            }
            self.pattern.set(bit, d.active);
            self.has_row[pos] = d.row;
            if d.row {
                let forms = &self.forms[d.id.layer];
                let half = HalfSpace::new(
                    forms.gradient(d.id.unit).iter().copied(),
                    forms.constants[d.id.unit],
                    d.active,
                );
                self.oracle.push(&half)?;
            }
        }
        self.explore(sub.decisions.len(), &sub.witness)
    }

    /// The next unit of the current layer: one whose state is fixed on the region if any,
    /// otherwise the one whose hyperplane is farthest from the witness. A unit that does
    /// not cut the region costs an LP at every node where it is decided, so deciding the
    /// likely non-cutting units first, at fewer and larger regions, saves LPs.
    fn pick_unit(&self, pos: usize, witness: &Witness) -> UnitId {
        let layer = self.order[pos].layer;
        let start = self.layer_start[layer];
        let width = self.net.hidden_widths()[layer];
        let mut decided = vec![false; width];
        for id in &self.path[start..pos] {
            decided[id.unit] = true;
        }
        let forms = &self.forms[layer];
        let mut best = None;
        let mut farthest = f64::NEG_INFINITY;
        for unit in (0..width).filter(|&u| !decided[u]) {
            let id = UnitId { layer, unit };
            if matches!(self.decide(id), Decision::Fixed(_)) {
                return id;
            }
            let distance = forms.value(unit, &witness.point).abs() / forms.gradient_norm(unit);
            if distance > farthest {
                farthest = distance;
                best = Some(id);
            }
        }
        best.expect("an undecided unit remains in the layer")
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
        let bounds = self.layer_region_bounds(layer);
        if self.forms.len() > layer {
            self.forms[layer] = forms;
            self.region_bounds[layer] = bounds;
        } else {
            self.forms.push(forms);
            self.region_bounds.push(bounds);
        }
    }

    /// Interval bounds of layer `layer`'s pre-activations over the current region: inputs
    /// from the previous layer are `[max(0, lo), hi]` for its active units and 0 for the
    /// others, intersected with the global bounds.
    fn layer_region_bounds(&self, layer: usize) -> Vec<Interval> {
        let global = self.bounds.layer(layer);
        if layer == 0 {
            return global.to_vec();
        }
        let offset = self.net.pattern_index(UnitId {
            layer: layer - 1,
            unit: 0,
        });
        let post: Vec<Interval> = self.region_bounds[layer - 1]
            .iter()
            .enumerate()
            .map(|(i, iv)| {
                if self.pattern[offset + i] {
                    Interval {
                        lo: iv.lo.max(0.0),
                        hi: iv.hi.max(0.0),
                    }
                } else {
                    Interval { lo: 0.0, hi: 0.0 }
                }
            })
            .collect();
        let l = &self.net.hidden_layers()[layer];
        l.weights
            .rows()
            .into_iter()
            .zip(&l.bias)
            .zip(global)
            .map(|((row, &b), g)| {
                let (mut lo, mut hi) = (b, b);
                for (&w, iv) in row.iter().zip(&post) {
                    if w >= 0.0 {
                        lo += w * iv.lo;
                        hi += w * iv.hi;
                    } else {
                        lo += w * iv.hi;
                        hi += w * iv.lo;
                    }
                }
                Interval {
                    lo: lo.max(g.lo),
                    hi: hi.min(g.hi),
                }
            })
            .collect()
    }

    fn decide(&self, id: UnitId) -> Decision {
        let forms = &self.forms[id.layer];
        let c = forms.constants[id.unit];
        if forms.is_constant(id.unit) {
            return Decision::Fixed(c > 0.0);
        }
        match self.region_bounds[id.layer][id.unit].stability() {
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
                let lp_start = Instant::now();
                let mut child = self.oracle.solve_above(self.tol)?;
                self.stats.lp_seconds += lp_start.elapsed().as_secs_f64();
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
        self.path.iter().enumerate().all(|(pos, id)| {
            let value = z[id.layer][id.unit];
            let state = self.pattern[self.net.pattern_index(*id)];
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
        // Reading the clock (~25 ns) is negligible next to the work of a node.
        if let Some(status) = self.limits.reached(Instant::now()) {
            self.status = Some(status);
            return true;
        }
        false
    }
}
