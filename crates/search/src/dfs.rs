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
//! - `witness.point` lies in the region of that prefix at distance `witness.margin > band`
//!   (measured in unit-box coordinates, see `Domain::to_unit`)
//!   from each of those half-spaces;
//! - `forms[l]`, `region_bounds[l]` and `row_ranges[l]` hold the affine forms, interval
//!   bounds and ranges of layer `l`'s pre-activation rows for the current prefix whenever a
//!   unit of layer `l` is at a position `<= pos`.
//!
//! The option the witness lies in, with margin `> band`, inherits the witness (no LP); every
//! other possible option is decided by one margin LP, and an LP whose margin falls inside
//! the band `[-band, band]` is decided again exactly (`certify`). A full pattern is a region
//! only if an outward-rounded evaluation at its witness proves it strictly inside every
//! option that was split on, or the exact check proves it has interior.

use mipbound_formulation::{
    DenseMarginOracle, Domain, ExactDomain, ExactForms, ExactRow, ExactVerdict, HalfSpace,
    HighsMarginOracle, Interval, LayerForms, MarginOracle, UnitBounds, Witness, decide,
    interval_dot, pattern_enclosure, possible_options, post_ranges, rounding,
};
use mipbound_network::{Activation, Network, Pattern, UnitId};

use crate::empty_proofs::{EmptyProofs, RowKey};
use crate::line_witness::walk_across;
use crate::{Flow, Limits, PatternHooks, SearchError, SearchStats, SearchStatus};

/// A composed form whose rounding error bound exceeds this fraction of its own size is
/// recomputed exactly (see `refresh_unreliable_rows`).
const RELIABLE: f64 = 1e-9;

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

/// One constraint cutting an option out of a region, before it becomes a floating-point
/// half-space (for the LP) or an exact row (for a re-decision).
#[derive(Debug, Clone, Copy)]
enum RowSpec {
    /// `z[row] > level` (`above`) or `z[row] < level`.
    Level { row: usize, level: f64, above: bool },
    /// `z[winner] > z[other]` (maxout).
    Beats { winner: usize, other: usize },
}

impl RowSpec {
    /// Names the constraint among its option's, the same on every path (a maxout option
    /// keeps fewer rows where two pieces are parallel): 0 for the lower level, 1 for the
    /// upper, the competing piece for maxout.
    fn key_index(&self, rank: usize) -> usize {
        match *self {
            RowSpec::Level { above, .. } => usize::from(!above),
            RowSpec::Beats { other, .. } => other % rank,
        }
    }
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
    /// The domain in unit-box coordinates, constraints included (what the oracles see).
    pub unit_domain: &'a Domain,
    /// The domain in exact arithmetic, for thin verdicts.
    pub exact_domain: &'a ExactDomain,
    /// A point strictly inside the domain's constraints, in unit-box coordinates.
    pub inner_unit: &'a [f64],
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
    /// Exact counterparts of `forms`, built on demand by `certify` and dropped from layer
    /// `l` on whenever `forms[l]` is rebuilt.
    pub exact_forms: Vec<ExactForms>,
    /// Interval bounds of each entered layer's rows over the current region (through the
    /// earlier layers' options), valid where `forms` is.
    pub region_bounds: Vec<Vec<Interval>>,
    /// Each entered layer's rows' ranges over the current region: `region_bounds`
    /// intersected with the form's range over the domain's box, widened by the form's
    /// rounding bound. Computed once per layer entry (a range over the box costs O(n0)).
    pub row_ranges: Vec<Vec<Interval>>,
    /// The option of every unit on the current path, per layer.
    pub chosen: Vec<Vec<usize>>,
    pub pattern: Pattern,
    /// Half-spaces pushed at each position.
    pub rows: Vec<usize>,
    /// At each position, a bound (in margin units) on how far the rounding of the composed
    /// forms can move the pushed half-spaces: LP margins are trusted only beyond it.
    pub slack: Vec<f64>,
    /// Half-width of the thin band: LP margins (in unit-box coordinates) within it are
    /// decided again exactly; margins above it are trusted, below it pruned.
    pub band: f64,
    pub stats: SearchStats,
    pub status: Option<SearchStatus>,
    /// When set, nodes at this depth are recorded in `frontier` instead of explored.
    pub cut: Option<usize>,
    pub frontier: Vec<Subproblem>,
    /// The half-spaces on the oracle's stack above the domain's rows, with their keys.
    pub pushed: Vec<(RowKey, HalfSpace)>,
    /// Duals of earlier LPs that found an option empty, tried before its next LP.
    pub empty_proofs: EmptyProofs,
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
                let (halves, slack) = self
                    .half_spaces_with_slack(d.id, d.option)
                    .unwrap_or_default();
                self.slack[pos] = slack;
                for (index, half) in halves {
                    self.push_row(d.id, d.option, index, half)?;
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
                let norm = self
                    .domain
                    .unit_norm(forms.gradient(id.unit).iter().copied(), || {
                        forms.gradient_norm(id.unit)
                    });
                return (option, (z - lo).min(hi - z) / norm);
            }
        }
        let option = self.witness_option(id, witness);
        let u = self.domain.to_unit(&witness.point);
        let distance = self
            .half_spaces(id, option)
            .unwrap_or_default()
            .iter()
            .map(|h| h.distance(&u))
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
        self.exact_forms.truncate(layer);
        if self.forms.len() > layer {
            self.forms[layer] = forms;
            self.region_bounds[layer] = bounds;
        } else {
            self.forms.push(forms);
            self.region_bounds.push(bounds);
        }
        self.refresh_unreliable_rows(layer);
        let ranges = self.layer_row_ranges(layer);
        if self.row_ranges.len() > layer {
            self.row_ranges[layer] = ranges;
        } else {
            self.row_ranges.push(ranges);
        }
    }

    /// The ranges of `row_ranges[layer]` for the layer's current forms and region bounds.
    fn layer_row_ranges(&self, layer: usize) -> Vec<Interval> {
        let forms = &self.forms[layer];
        let reach = self.domain.reach();
        (0..forms.width())
            .map(|row| {
                let region = self.region_bounds[layer][row];
                let (lo, hi) = self
                    .domain
                    .range(forms.gradient(row).iter().copied(), forms.constants[row]);
                // The composed forms carry the rounding of a few matrix products: widen by
                // its rigorous bound before trusting them to fix a unit.
                let guard = forms.value_error(row, reach);
                Interval {
                    lo: region.lo.max(lo - guard),
                    hi: region.hi.min(hi + guard),
                }
            })
            .collect()
    }

    /// Replaces the rows of `forms[layer]` whose rounding error bound is not small
    /// relative to the row (cancellation) by their exact values rounded to `f64`, so that no
    /// decision rests on a form that rounding has made wrong.
    fn refresh_unreliable_rows(&mut self, layer: usize) {
        let reach = self.domain.reach();
        let forms = &self.forms[layer];
        let unreliable: Vec<usize> = (0..forms.width())
            .filter(|&r| {
                let scale = forms
                    .gradient(r)
                    .iter()
                    .fold(0.0, |m: f64, v| m.max(v.abs()));
                forms.coeff_error[r] > RELIABLE * scale
                    || forms.constant_error[r]
                        > RELIABLE * (forms.constants[r].abs() + scale * reach)
            })
            .collect();
        if unreliable.is_empty() {
            return;
        }
        self.stats.refreshed_rows += unreliable.len() as u64;
        self.ensure_exact_forms(layer);
        let exact = &self.exact_forms[layer];
        let forms = &mut self.forms[layer];
        for r in unreliable {
            let mut largest: f64 = 0.0;
            for (a, e) in forms.coeffs.row_mut(r).iter_mut().zip(&exact.coeffs[r]) {
                *a = e.to_f64();
                largest = largest.max(a.abs());
            }
            forms.constants[r] = exact.constants[r].to_f64();
            // Each value is within 2 ulps of the exact one (see `Dyadic::to_f64`).
            forms.coeff_error[r] = rounding::widen_up(0.0, 0.25 * largest);
            forms.constant_error[r] = rounding::widen_up(0.0, 0.25 * forms.constants[r]);
            if largest == 0.0 && exact.coeffs[r].iter().all(|v| v.is_zero()) {
                forms.coeff_error[r] = 0.0;
            }
        }
    }

    /// Builds the exact forms of layers `..= last` for the current path (cached).
    fn ensure_exact_forms(&mut self, last: usize) {
        let layers = self.net.hidden_layers();
        for l in self.exact_forms.len()..=last {
            let forms = if l == 0 {
                ExactForms::first(&layers[0])
            } else {
                let a = &layers[l - 1].activation;
                let chosen = &self.chosen[l - 1];
                self.exact_forms[l - 1].next(&layers[l], a.rank(), |u| a.post(chosen[u]))
            };
            self.exact_forms.push(forms);
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
                let iv = interval_dot(b, row, &post);
                Interval {
                    lo: iv.lo.max(g.lo),
                    hi: iv.hi.min(g.hi),
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
        let range = |r: usize| self.row_ranges[id.layer][base + r];
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

    /// The constraints cutting an option out of the region, or `None` if it is empty (a
    /// maxout comparison with two identical pieces).
    fn option_rows(&self, id: UnitId, option: usize) -> Option<Vec<RowSpec>> {
        let a = self.activation(id.layer);
        let forms = &self.forms[id.layer];
        let rank = a.rank();
        let base = id.unit * rank;
        match a.piece_range(option) {
            Some((lo, hi)) => {
                if forms.is_constant(base) {
                    return Some(Vec::new());
                }
                let mut out = Vec::new();
                if lo.is_finite() {
                    out.push(RowSpec::Level {
                        row: base,
                        level: lo,
                        above: true,
                    });
                }
                if hi.is_finite() {
                    out.push(RowSpec::Level {
                        row: base,
                        level: hi,
                        above: false,
                    });
                }
                Some(out)
            }
            None => {
                let j = base + option;
                let mut out = Vec::new();
                for m in (base..base + rank).filter(|&m| m != j) {
                    if forms.parallel(j, m) {
                        // Parallel rows: the higher one always wins, and of two identical
                        // rows the first (the tie rule of `Activation::state`).
                        let dc = forms.constants[j] - forms.constants[m];
                        if dc > 0.0 || (dc == 0.0 && j < m) {
                            continue;
                        }
                        return None;
                    }
                    out.push(RowSpec::Beats {
                        winner: j,
                        other: m,
                    });
                }
                Some(out)
            }
        }
    }

    /// The affine function `a . x + c` that must be positive for a constraint.
    fn spec_form(&self, layer: usize, spec: RowSpec) -> (Vec<f64>, f64) {
        let forms = &self.forms[layer];
        match spec {
            RowSpec::Level { row, level, above } => {
                let sign = if above { 1.0 } else { -1.0 };
                let a = forms.gradient(row).iter().map(|v| sign * v).collect();
                (a, sign * (forms.constants[row] - level))
            }
            RowSpec::Beats { winner, other } => {
                let d = &forms.gradient(winner) - &forms.gradient(other);
                (d.to_vec(), forms.constants[winner] - forms.constants[other])
            }
        }
    }

    /// A constraint as a half-space normalised in unit-box coordinates, with its norm (the
    /// weight of its row in the margin LP).
    fn spec_half_space(&self, layer: usize, spec: RowSpec) -> (HalfSpace, f64) {
        let (a, c) = self.spec_form(layer, spec);
        self.domain
            .unit_half_space(a, c, true)
            // A zero gradient only reaches here when a form is constant, which
            // `option_rows` turns into no constraint; keep the LP well-formed anyway.
            .unwrap_or_else(|| {
                let normal = vec![0.0; self.domain.dim()];
                (HalfSpace { normal, offset: c }, 1.0)
            })
    }

    /// The half-spaces cutting an option out of the region (unit-box coordinates), or
    /// `None` if it is empty.
    fn half_spaces(&self, id: UnitId, option: usize) -> Option<Vec<HalfSpace>> {
        self.half_spaces_with_slack(id, option)
            .map(|(halves, _)| halves.into_iter().map(|(_, half)| half).collect())
    }

    /// [`Self::half_spaces`], each with its [`RowSpec::key_index`], and the largest
    /// distance (in margin units) by which the rounding of the forms can have moved any of
    /// them.
    fn half_spaces_with_slack(
        &self,
        id: UnitId,
        option: usize,
    ) -> Option<(Vec<(usize, HalfSpace)>, f64)> {
        let specs = self.option_rows(id, option)?;
        let rank = self.activation(id.layer).rank();
        let forms = &self.forms[id.layer];
        let reach = self.domain.reach();
        let mut slack: f64 = 0.0;
        let mut halves = Vec::with_capacity(specs.len());
        for spec in specs {
            let (half, weight) = self.spec_half_space(id.layer, spec);
            let error = match spec {
                RowSpec::Level { row, .. } => forms.value_error(row, reach),
                RowSpec::Beats { winner, other } => {
                    forms.value_error(winner, reach) + forms.value_error(other, reach)
                }
            };
            slack = slack.max(error / weight);
            halves.push((spec.key_index(rank), half));
        }
        Some((halves, slack))
    }

    /// Decides exactly whether the region of the path up to position `end` (exclusive),
    /// whose half-spaces are on the oracle's stack, has non-empty interior, from the LP's
    /// witness `x` and its final basis.
    fn certify(&mut self, end: usize, x: &[f64], margin: f64) -> ExactVerdict {
        if self.verify_prefix(end, x) {
            return ExactVerdict::Interior;
        }
        let last = (0..end).map(|p| self.path[p].layer).max().unwrap_or(0);
        self.ensure_exact_forms(last);
        let exact = &self.exact_forms;
        let mut rows = Vec::new();
        let mut weights = Vec::new();
        let mut specs = Vec::new();
        for p in 0..end {
            if self.rows[p] == 0 {
                continue;
            }
            let id = self.path[p];
            let option = self.chosen[id.layer][id.unit];
            let forms = &exact[id.layer];
            for spec in self.option_rows(id, option).unwrap_or_default() {
                rows.push(match spec {
                    RowSpec::Level { row, level, above } => {
                        ExactRow::side(&forms.coeffs[row], &forms.constants[row], level, above)
                    }
                    RowSpec::Beats { winner, other } => ExactRow::difference(
                        &forms.coeffs[winner],
                        &forms.constants[winner],
                        &forms.coeffs[other],
                        &forms.constants[other],
                    ),
                });
                weights.push(self.spec_half_space(id.layer, spec).1);
                specs.push((id.layer, spec));
            }
        }
        if rows.len() != self.oracle.depth() {
            return ExactVerdict::Undecided;
        }
        let certificate = self.oracle.certificate();
        let verdict = decide(
            &rows,
            &weights,
            self.exact_domain,
            x,
            margin,
            certificate.as_ref(),
        );
        if verdict != ExactVerdict::Undecided {
            return verdict;
        }
        self.zoomed_certify(&rows, &specs, x)
    }

    /// Last resorts for a thin verdict the first exact check left open: the margin LP
    /// solved again by HiGHS over the whole domain (its basis and duals can settle either
    /// way), then by the dense solver over ever smaller boxes around the LP's point, where
    /// the region is no longer thin relative to the box (interior found in a sub-box is
    /// interior in the domain; an empty sub-box proves nothing).
    fn zoomed_certify(
        &self,
        rows: &[ExactRow],
        specs: &[(usize, RowSpec)],
        x: &[f64],
    ) -> ExactVerdict {
        if let Ok(oracle) = HighsMarginOracle::new(self.unit_domain, 0) {
            let verdict = self.certify_over(oracle, self.domain, self.exact_domain, rows, specs);
            if verdict != ExactVerdict::Undecided {
                return verdict;
            }
        }
        let (lower, upper) = (self.domain.lower(), self.domain.upper());
        for zoom in [1e-3, 1e-6, 1e-9] {
            let (sub_lo, sub_hi): (Vec<f64>, Vec<f64>) = (0..x.len())
                .map(|i| {
                    let r = zoom * (upper[i] - lower[i]);
                    ((x[i] - r).max(lower[i]), (x[i] + r).min(upper[i]))
                })
                .unzip();
            // The sub-box keeps the domain's constraints (it may miss them entirely: then
            // its LP finds nothing, which proves nothing).
            let Some((sub, sub_unit, sub_exact)) = Domain::new(sub_lo, sub_hi)
                .and_then(|d| d.with_constraints(self.domain.constraints().to_vec()))
                .ok()
                .and_then(|d| {
                    let (unit, _) = d.unit_image()?;
                    let exact = ExactDomain::new(&d)?;
                    Some((d, unit, exact))
                })
            else {
                continue;
            };
            let oracle = DenseMarginOracle::new(&sub_unit, 0);
            if self.certify_over(oracle, &sub, &sub_exact, rows, specs) == ExactVerdict::Interior {
                return ExactVerdict::Interior;
            }
        }
        ExactVerdict::Undecided
    }

    /// Solves the path's margin LP over `box_` with `oracle` (no rows pushed, over the
    /// unit image of `box_`) and decides the exact rows over `exact` (`box_` exactly) from
    /// its point and basis.
    fn certify_over<O2: MarginOracle>(
        &self,
        mut oracle: O2,
        box_: &Domain,
        exact: &ExactDomain,
        rows: &[ExactRow],
        specs: &[(usize, RowSpec)],
    ) -> ExactVerdict {
        let mut weights = Vec::with_capacity(specs.len());
        for &(layer, spec) in specs {
            let (a, c) = self.spec_form(layer, spec);
            let Some((half, weight)) = box_.unit_half_space(a, c, true) else {
                return ExactVerdict::Undecided;
            };
            if oracle.push(&half).is_err() {
                return ExactVerdict::Undecided;
            }
            weights.push(weight);
        }
        let Ok(w) = oracle.solve() else {
            return ExactVerdict::Undecided;
        };
        let point = box_.from_unit(&w.point);
        let certificate = oracle.certificate();
        decide(
            rows,
            &weights,
            exact,
            &point,
            w.margin,
            certificate.as_ref(),
        )
    }

    /// Moves an LP witness (unit-box coordinates, margin `t > 0`) towards the domain's inner
    /// point by at most `t / 2`: the region's rows, normalised in these coordinates, keep a
    /// margin of `t / 2`, while the domain's rows, which have no margin in the LP and are
    /// often tight at its optimum, gain a slack that rounding cannot undo. The point then
    /// passes the domain check of [`Self::verify`] instead of costing an exact check.
    fn pull_inside(&self, mut w: Witness) -> Witness {
        if self.unit_domain.constraints().is_empty() || w.margin.is_nan() || w.margin <= 0.0 {
            return w;
        }
        let distance = w
            .point
            .iter()
            .zip(self.inner_unit)
            .map(|(a, b)| (b - a) * (b - a))
            .sum::<f64>()
            .sqrt();
        if distance == 0.0 || !distance.is_finite() {
            return w;
        }
        let step = (0.5 * w.margin / distance).min(1.0);
        for (u, c) in w.point.iter_mut().zip(self.inner_unit) {
            *u += step * (c - *u);
        }
        w.margin -= step * distance;
        w
    }

    /// Solves the margin LP of the path up to `end` and decides whether its region has
    /// non-empty interior: a margin above the band is trusted, one below it pruned, and one
    /// inside it decided exactly. Returns the witness when the region has interior.
    fn decide_region(&mut self, end: usize, full: bool) -> Result<Option<Witness>, SearchError> {
        // The LP saw the floating-point forms; the exact ones may differ by the slack.
        let trusted = self.trusted_margin(end);
        let lp_start = std::time::Instant::now();
        // Stopping as soon as the margin is proven below the band is what keeps LPs of empty
        // regions cheap (their dual simplex is most degenerate near 0).
        let mut result = if full {
            self.oracle.solve()
        } else {
            self.oracle.solve_above(trusted)
        };
        if !full
            && let Ok(w) = &result
            && w.margin.abs() <= trusted
        {
            // Stopped early, or at an optimum inside the band: the exact check needs the
            // optimal basis.
            result = self.oracle.solve();
            self.stats.lp_solves += 1;
        }
        self.stats.lp_seconds += lp_start.elapsed().as_secs_f64();
        self.stats.lp_solves += 1;
        let mut child = self.pull_inside(result?);
        child.point = self.domain.from_unit(&child.point);
        if child.margin > trusted {
            return Ok(Some(child));
        }
        if child.margin < -trusted {
            return Ok(None);
        }
        self.stats.thin_verdicts += 1;
        match self.certify(end, &child.point, child.margin) {
            ExactVerdict::Interior => Ok(Some(child)),
            ExactVerdict::Empty => Ok(None),
            ExactVerdict::Undecided => {
                self.stats.undecided += 1;
                Ok(None)
            }
        }
    }

    /// Pushes a half-space of `id`'s option on the oracle and on `pushed`.
    fn push_row(
        &mut self,
        id: UnitId,
        option: usize,
        index: usize,
        half: HalfSpace,
    ) -> Result<(), SearchError> {
        self.oracle.push(&half)?;
        self.pushed.push((RowKey { id, option, index }, half));
        Ok(())
    }

    /// The margin threshold below which the region of the path up to `end` (exclusive) is
    /// pruned: the band, widened by the rounding slack of the forms.
    fn trusted_margin(&self, end: usize) -> f64 {
        let slack = (0..end)
            .filter(|&p| self.rows[p] > 0)
            .map(|p| self.slack[p])
            .fold(0.0, f64::max);
        self.band + slack
    }

    /// Whether remembered duals prove the option just pushed for `id` empty, as an LP
    /// pruning it would.
    fn proven_empty(&self, end: usize, id: UnitId, option: usize) -> bool {
        self.empty_proofs.proves_empty(
            id,
            option,
            &self.pushed,
            self.unit_domain.lower(),
            self.unit_domain.upper(),
            -self.trusted_margin(end),
        )
    }

    /// A witness for the option whose `new` half-spaces were just pushed, found by walking
    /// from the parent's witness across the most violated of them (see [`walk_across`]),
    /// if its margin is trusted as an LP's would be.
    fn walk_witness(&self, end: usize, new: usize, witness: &Witness) -> Option<Witness> {
        if !self.unit_domain.constraints().is_empty() || new == 0 {
            return None;
        }
        let u = self.domain.to_unit(&witness.point);
        let rows: Vec<&HalfSpace> = self.pushed.iter().map(|(_, h)| h).collect();
        let direction = rows[rows.len() - new..]
            .iter()
            .min_by(|a, b| a.distance(&u).total_cmp(&b.distance(&u)))?;
        let (point, margin) = walk_across(
            &rows,
            direction,
            &u,
            self.unit_domain.lower(),
            self.unit_domain.upper(),
        )?;
        (margin > self.trusted_margin(end)).then(|| Witness {
            point: self.domain.from_unit(&point),
            margin,
        })
    }

    /// Keeps the duals of the LP that just found `id`'s option empty.
    fn remember_empty(&mut self, id: UnitId, option: usize) {
        if let Some(certificate) = self.oracle.certificate() {
            let keys: Vec<RowKey> = self.pushed.iter().map(|(key, _)| *key).collect();
            let permanent = certificate.duals.len().saturating_sub(keys.len());
            self.empty_proofs
                .remember(id, option, &keys, &certificate.duals, permanent);
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
        let certified = distance > self.band && options.contains(&witnessed);
        let order: Vec<usize> = std::iter::once(witnessed)
            .filter(|o| options.contains(o))
            .chain(options.iter().copied().filter(|&o| o != witnessed))
            .collect();
        for option in order {
            if self.should_stop() {
                break;
            }
            let Some((halves, slack)) = self.half_spaces_with_slack(id, option) else {
                continue;
            };
            if !self.assign(id, option) {
                continue;
            }
            self.rows[pos] = halves.len();
            self.slack[pos] = slack;
            let new_rows = halves.len();
            for (index, half) in halves {
                self.push_row(id, option, index, half)?;
            }
            if option == witnessed && certified {
                self.stats.witness_reuses += 1;
                let child = Witness {
                    point: witness.point.clone(),
                    margin: witness.margin.min(distance),
                };
                self.explore(pos + 1, &child)?;
            } else if let Some(child) = self.walk_witness(pos + 1, new_rows, witness) {
                self.stats.walked_witnesses += 1;
                self.explore(pos + 1, &child)?;
            } else if self.proven_empty(pos + 1, id, option) {
                self.stats.proven_empty += 1;
            } else if let Some(child) = self.decide_region(pos + 1, false)? {
                self.explore(pos + 1, &child)?;
            } else {
                self.stats.infeasible_lps += 1;
                self.remember_empty(id, option);
            }
            for _ in 0..new_rows {
                self.oracle.pop()?;
                self.pushed.pop();
            }
            self.unassign(id);
        }
        Ok(())
    }

    fn leaf(&mut self, witness: &Witness) -> Result<(), SearchError> {
        let mut point = witness.point.clone();
        if !self.verify(&point) {
            // The witness sits within rounding of a hyperplane: ask the LP for the most
            // central point of the full region and check that one, exactly if need be.
            self.stats.rejected_witnesses += 1;
            let lp_start = std::time::Instant::now();
            let result = self.oracle.solve();
            self.stats.lp_seconds += lp_start.elapsed().as_secs_f64();
            self.stats.lp_solves += 1;
            let fresh = self.pull_inside(result?);
            let margin = fresh.margin;
            let fresh = self.domain.from_unit(&fresh.point);
            if self.verify(&fresh) {
                point = fresh;
            } else {
                self.stats.thin_verdicts += 1;
                match self.certify(self.order.len(), &fresh, margin) {
                    // Proven interior exactly: count it with the LP's point.
                    ExactVerdict::Interior => point = fresh,
                    ExactVerdict::Empty => return Ok(()),
                    ExactVerdict::Undecided => {
                        self.stats.undecided += 1;
                        return Ok(());
                    }
                }
            }
        }
        self.stats.regions += 1;
        if self.hooks.region(&self.pattern, &point) == Flow::Stop {
            self.status = Some(SearchStatus::Stopped);
        }
        Ok(())
    }

    /// Proves that `x` lies in the region of the full pattern: with every unit held on its
    /// chosen option, the enclosures of the pre-activations (outward-rounded, so they
    /// contain the exact values) lie strictly inside every option that was split on (for a
    /// scalar unit `e_i < z < e_{i+1}`, for maxout a strict winner) and meet the closed
    /// piece of every unit fixed by its bounds; and that `x` satisfies the domain's
    /// constraints. False means "not proven", not "outside".
    fn verify(&self, x: &[f64]) -> bool {
        self.verify_prefix(self.order.len(), x)
    }

    /// [`Self::verify`] for the units at positions `< end` (the later layers' options are
    /// irrelevant to them: a pre-activation depends on the earlier layers only).
    fn verify_prefix(&self, end: usize, x: &[f64]) -> bool {
        if !self.domain.constraints().is_empty() && !self.domain.proves_inside(x, false) {
            return false;
        }
        let chosen = &self.chosen;
        let z = pattern_enclosure(self.net, x, |l, u| chosen[l][u]);
        self.path[..end].iter().enumerate().all(|(pos, id)| {
            let a = self.activation(id.layer);
            let rank = a.rank();
            let rows = &z[id.layer][id.unit * rank..(id.unit + 1) * rank];
            let option = self.chosen[id.layer][id.unit];
            let split = self.rows[pos] > 0;
            match a.piece_range(option) {
                Some((lo, hi)) => {
                    let z = rows[0];
                    if split {
                        z.lo > lo && z.hi < hi
                    } else {
                        z.hi > lo && z.lo <= hi
                    }
                }
                None => {
                    let forms = &self.forms[id.layer];
                    let base = id.unit * rank;
                    (0..rank).all(|m| {
                        m == option
                            || forms.parallel(base + option, base + m)
                            || if split {
                                rows[option].lo > rows[m].hi
                            } else {
                                rows[option].hi >= rows[m].lo
                            }
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
