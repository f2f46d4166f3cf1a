//! The depth-first search over activation patterns.
//!
//! Each position of the search decides one hidden unit's *option*: its piece for a scalar
//! piecewise-linear activation (ReLU: inactive / active), its winner for maxout. The region
//! of an option within the current region is cut out by a few half-spaces (`z > e_i` and
//! `z < e_{i+1}` for a piece, `z_j > z_m` for a maxout winner).
//!
//! Invariants of `explore(pos, witness)`:
//! - the units at positions `< pos` have an option in `chosen` and their bits in `pattern`;
//!   every one of them decided by a split has its option's half-spaces on the oracle's
//!   stack, in order (`rows[p]` of them at position `p`);
//! - `witness.point` lies in the region of that prefix at distance `witness.margin > tol`
//!   from each of those half-spaces;
//! - `forms[l]` and `region_bounds[l]` hold the affine forms and interval bounds of layer
//!   `l`'s pre-activation rows for the current prefix whenever a unit of layer `l` is at a
//!   position `<= pos`.
//!
//! The option the witness lies in, with margin `> tol`, inherits the witness (no LP); every
//! other possible option is decided by one margin LP. A full pattern is a region only if the
//! plain forward pass at its witness gives exactly the chosen options, strictly inside every
//! option that was split on.

use mipbound_formulation::{
    Domain, HalfSpace, Interval, LayerForms, MarginOracle, UnitBounds, Witness, possible_options,
    post_ranges,
};
use mipbound_network::{Activation, Network, Pattern, UnitId};

use crate::{Flow, Limits, PatternHooks, SearchError, SearchStats, SearchStatus};

/// One decision on a path: which unit, which option, how many half-spaces were pushed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decided {
    pub id: UnitId,
    pub option: usize,
    pub rows: usize,
}

/// A node of the search tree to be explored on its own: the decisions leading to it and a
/// witness point of its region.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Subproblem {
    pub decisions: Vec<Decided>,
    pub witness: Witness,
}

/// How one position's option is decided.
enum Decision {
    /// The option is the same on the whole region (constant form, stable unit, or bounds
    /// that allow one piece): no branching, no half-space.
    Fixed(usize),
    /// Several options may have interior points.
    Split(Vec<usize>),
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
    /// Interval bounds of each entered layer's rows over the current region (through the
    /// earlier layers' options), valid where `forms` is.
    pub region_bounds: Vec<Vec<Interval>>,
    /// The option of every unit on the current path, per layer.
    pub chosen: Vec<Vec<usize>>,
    pub pattern: Pattern,
    /// Half-spaces pushed at each position.
    pub rows: Vec<usize>,
    pub tol: f64,
    pub stats: SearchStats,
    pub status: Option<SearchStatus>,
    /// When set, nodes at this depth are recorded in `frontier` instead of explored.
    pub cut: Option<usize>,
    pub frontier: Vec<Subproblem>,
}

impl<O: MarginOracle, H: PatternHooks> Dfs<'_, O, H> {
    fn activation(&self, layer: usize) -> &Activation {
        &self.net.hidden_layers()[layer].activation
    }

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
                            option: self.chosen[id.layer][id.unit],
                            rows: self.rows[p],
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
        match self.decide(id) {
            Decision::Fixed(option) => {
                if self.assign(id, option) {
                    self.rows[pos] = 0;
                    self.explore(pos + 1, witness)?;
                    self.unassign(id);
                }
            }
            Decision::Split(options) => self.split(pos, id, &options, witness)?,
        }
        Ok(())
    }

    /// Gives `id` its option's bits (all or none, through the hooks) and records it.
    fn assign(&mut self, id: UnitId, option: usize) -> bool {
        let first = self.net.pattern_index(id);
        let bits = self.activation(id.layer).bits();
        for b in 0..bits {
            let value = self.activation(id.layer).option_bit(option, b);
            if !self.hooks.assign(first + b, value) {
                for undo in (0..b).rev() {
                    self.hooks.unassign(first + undo);
                }
                return false;
            }
            self.pattern.set(first + b, value);
        }
        self.chosen[id.layer][id.unit] = option;
        true
    }

    fn unassign(&mut self, id: UnitId) {
        let first = self.net.pattern_index(id);
        for b in (0..self.activation(id.layer).bits()).rev() {
            self.hooks.unassign(first + b);
        }
    }

    /// Re-creates the state of a recorded node (forms, pattern, rows on the oracle) without
    /// solving anything, then explores below it.
    pub fn explore_subproblem(&mut self, sub: &Subproblem) -> Result<(), SearchError> {
        for (pos, d) in sub.decisions.iter().enumerate() {
            if self.enters_layer[pos] {
                self.enter_layer(self.order[pos].layer);
            }
            self.path[pos] = d.id;
            if !self.assign(d.id, d.option) {
                return Ok(());
            }
            self.rows[pos] = d.rows;
            if d.rows > 0 {
                for half in self.half_spaces(d.id, d.option).unwrap_or_default() {
                    self.oracle.push(&half)?;
                }
            }
        }
        self.explore(sub.decisions.len(), &sub.witness)
    }

    /// The unit's distance from the witness to the boundary of the option it lies in.
    fn witness_distance(&self, id: UnitId, witness: &Witness) -> (usize, f64) {
        let a = self.activation(id.layer);
        if a.rank() == 1 {
            // Scalar units (the common case, called for every candidate at every node): the
            // distance to the piece's breakpoints without building half-spaces.
            let forms = &self.forms[id.layer];
            let z = forms.value(id.unit, &witness.point);
            let option = a.state(&[z]);
            if let Some((lo, hi)) = a.piece_range(option) {
                if forms.is_constant(id.unit) {
                    return (option, f64::INFINITY);
                }
                return (option, (z - lo).min(hi - z) / forms.gradient_norm(id.unit));
            }
        }
        let option = self.witness_option(id, witness);
        let distance = self
            .half_spaces(id, option)
            .unwrap_or_default()
            .iter()
            .map(|h| h.distance(&witness.point))
            .fold(f64::INFINITY, f64::min);
        (option, distance)
    }

    fn witness_option(&self, id: UnitId, witness: &Witness) -> usize {
        let a = self.activation(id.layer);
        let rank = a.rank();
        let forms = &self.forms[id.layer];
        let z: Vec<f64> = (0..rank)
            .map(|r| forms.value(id.unit * rank + r, &witness.point))
            .collect();
        a.state(&z)
    }

    /// The next unit of the current layer: one whose option is fixed on the region if any,
    /// otherwise the one whose boundary is farthest from the witness. A unit that does not
    /// cut the region costs an LP at every node where it is decided, so deciding the likely
    /// non-cutting units first, at fewer and larger regions, saves LPs.
    fn pick_unit(&self, pos: usize, witness: &Witness) -> UnitId {
        let layer = self.order[pos].layer;
        let start = self.layer_start[layer];
        let width = self.net.hidden_widths()[layer];
        let mut decided = vec![false; width];
        for id in &self.path[start..pos] {
            decided[id.unit] = true;
        }
        let mut best = None;
        let mut farthest = f64::NEG_INFINITY;
        for unit in (0..width).filter(|&u| !decided[u]) {
            let id = UnitId { layer, unit };
            if matches!(self.decide(id), Decision::Fixed(_)) {
                return id;
            }
            let distance = self.witness_distance(id, witness).1;
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
            let a = &layers[layer - 1].activation;
            let chosen = &self.chosen[layer - 1];
            self.forms[layer - 1].next(&layers[layer], a.rank(), |u| a.post(chosen[u]))
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

    /// Interval bounds of layer `layer`'s rows over the current region: each unit of the
    /// previous layer contributes its output's range on its chosen option; intersected with
    /// the global bounds.
    fn layer_region_bounds(&self, layer: usize) -> Vec<Interval> {
        let global = self.bounds.layer(layer);
        if layer == 0 {
            return global.to_vec();
        }
        let prev = &self.net.hidden_layers()[layer - 1];
        let a = &prev.activation;
        let rank = a.rank();
        let rows = &self.region_bounds[layer - 1];
        let post: Vec<Interval> = self.chosen[layer - 1]
            .iter()
            .enumerate()
            .map(|(u, &option)| {
                let unit = &rows[u * rank..(u + 1) * rank];
                match a.piece_range(option) {
                    Some((lo, hi)) => {
                        let z = Interval {
                            lo: unit[0].lo.max(lo),
                            hi: unit[0].hi.min(hi),
                        };
                        if z.lo > z.hi {
                            return z;
                        }
                        post_ranges(a, &[z])[0]
                    }
                    None => unit[option],
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

    /// The options a unit can take on the current region, by its forms and bounds.
    fn decide(&self, id: UnitId) -> Decision {
        let a = self.activation(id.layer);
        let rank = a.rank();
        let forms = &self.forms[id.layer];
        let base = id.unit * rank;
        if (0..rank).all(|r| forms.is_constant(base + r)) {
            let constants = forms.constants.as_slice().expect("contiguous");
            return Decision::Fixed(a.state(&constants[base..base + rank]));
        }
        let range = |r: usize| {
            let row = base + r;
            let region = self.region_bounds[id.layer][row];
            let (lo, hi) = self
                .domain
                .range(forms.gradient(row).iter().copied(), forms.constants[row]);
            Interval {
                lo: region.lo.max(lo),
                hi: region.hi.min(hi),
            }
        };
        let options = if rank == 1 {
            possible_options(a, &[range(0)])
        } else {
            possible_options(a, &(0..rank).map(range).collect::<Vec<_>>())
        };
        match options.as_slice() {
            [only] => Decision::Fixed(*only),
            // Nothing fits (the bounds crossed): let the LPs decide among every option.
            [] => Decision::Split((0..a.options()).collect()),
            _ => Decision::Split(options),
        }
    }

    /// The half-spaces cutting an option out of the region, or `None` if it is empty (a
    /// maxout comparison with two identical pieces).
    fn half_spaces(&self, id: UnitId, option: usize) -> Option<Vec<HalfSpace>> {
        let a = self.activation(id.layer);
        let forms = &self.forms[id.layer];
        let rank = a.rank();
        let base = id.unit * rank;
        let gradient = |row: usize| forms.gradient(row);
        match a.piece_range(option) {
            Some((lo, hi)) => {
                if forms.is_constant(base) {
                    return Some(Vec::new());
                }
                let c = forms.constants[base];
                let mut out = Vec::new();
                if lo.is_finite() {
                    out.push(HalfSpace::new(gradient(base).iter().copied(), c - lo, true));
                }
                if hi.is_finite() {
                    out.push(HalfSpace::new(
                        gradient(base).iter().copied(),
                        c - hi,
                        false,
                    ));
                }
                Some(out)
            }
            None => {
                let j = base + option;
                let mut out = Vec::new();
                for m in (base..base + rank).filter(|&m| m != j) {
                    let d = &gradient(j) - &gradient(m);
                    let dc = forms.constants[j] - forms.constants[m];
                    if d.iter().all(|&v| v == 0.0) {
                        // Parallel rows: the higher one always wins, and of two identical
                        // rows the first (the tie rule of `Activation::state`).
                        if dc > 0.0 || (dc == 0.0 && j < m) {
                            continue;
                        }
                        return None;
                    }
                    out.push(HalfSpace::new(d.iter().copied(), dc, true));
                }
                Some(out)
            }
        }
    }

    fn split(
        &mut self,
        pos: usize,
        id: UnitId,
        options: &[usize],
        witness: &Witness,
    ) -> Result<(), SearchError> {
        let (witnessed, distance) = self.witness_distance(id, witness);
        let certified = distance > self.tol && options.contains(&witnessed);
        let order: Vec<usize> = std::iter::once(witnessed)
            .filter(|o| options.contains(o))
            .chain(options.iter().copied().filter(|&o| o != witnessed))
            .collect();
        for option in order {
            if self.should_stop() {
                break;
            }
            let Some(halves) = self.half_spaces(id, option) else {
                continue;
            };
            if !self.assign(id, option) {
                continue;
            }
            self.rows[pos] = halves.len();
            for half in &halves {
                self.oracle.push(half)?;
            }
            if option == witnessed && certified {
                self.stats.witness_reuses += 1;
                let child = Witness {
                    point: witness.point.clone(),
                    margin: witness.margin.min(distance),
                };
                self.explore(pos + 1, &child)?;
            } else {
                let lp_start = std::time::Instant::now();
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
            for _ in 0..halves.len() {
                self.oracle.pop()?;
            }
            self.unassign(id);
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

    /// The forward pass at `x` gives every chosen option, strictly inside the options that
    /// were split on (for a scalar unit `e_i < z < e_{i+1}`, for maxout a strict winner).
    fn verify(&self, x: &[f64]) -> bool {
        let z = self.net.pre_activations(x);
        self.path.iter().enumerate().all(|(pos, id)| {
            let a = self.activation(id.layer);
            let rank = a.rank();
            let rows =
                &z[id.layer].as_slice().expect("contiguous")[id.unit * rank..(id.unit + 1) * rank];
            let option = self.chosen[id.layer][id.unit];
            if a.state(rows) != option {
                return false;
            }
            if self.rows[pos] == 0 {
                return true;
            }
            match a.piece_range(option) {
                Some((lo, hi)) => rows[0] > lo && rows[0] < hi,
                None => {
                    let forms = &self.forms[id.layer];
                    let base = id.unit * rank;
                    (0..rank).all(|m| {
                        m == option
                            || rows[option] > rows[m]
                            || forms.parallel(base + option, base + m)
                    })
                }
            }
        })
    }

    fn should_stop(&mut self) -> bool {
        if self.status.is_some() {
            return true;
        }
        // Reading the clock (~25 ns) is negligible next to the work of a node.
        if let Some(status) = self.limits.reached(std::time::Instant::now()) {
            self.status = Some(status);
            return true;
        }
        false
    }
}
