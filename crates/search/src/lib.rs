/*!
The region search of mipbound: a depth-first search over the activation states of the
hidden units, layer by layer, with an LP oracle deciding which partial patterns have a
region with non-empty interior in the domain (Serra, Tjandraatmadja & Ramalingam, ICML 2018).

# Brief overview

[`RegionSearch`] holds a network, its domain and the unit bounds found by tightening.
[`RegionSearch::run`] walks the patterns; every full pattern it reaches is a region,
verified by a forward pass at its witness point, and handed to the caller's
[`PatternHooks`]. The hooks can also veto unit states (`assign`) and declare the current
prefix dead (`consistent`): that is how XOR-constrained (hashed) searches share this code
path. [`count_regions`] is the exact count with no constraints.

Conventions: a unit is on the piece its pre-activations give (ReLU: active iff `> 0`; see
`Activation` for leaky ReLU, general piecewise-linear functions and maxout), and its piece is
written as bits of the pattern; a unit whose pre-activations are constant on a region (or
proven to stay on one piece over the domain) takes that piece and never splits the region. Memory is O(depth x n0): no set of patterns is kept.
Time limits and an interrupt flag stop the search between nodes ([`Limits`]); the outcome
then says so and its count is a lower bound.
*/
#![deny(missing_docs)]

mod dfs;
mod empty_proofs;
mod hashed;
mod line_witness;
pub mod parallel;
mod plan;

use dfs::Subproblem;

/// About how many subtrees [`RegionSearch::run_split`] cuts the search into.
pub const SPLIT_TARGET: usize = 256;

/// Where a search starts.
enum Start<'s> {
    /// At the root, exploring everything.
    Root,
    /// At the root, recording the nodes at this depth instead of exploring them.
    Cut(usize),
    /// At a recorded node.
    Subtree(&'s Subproblem),
}

pub use hashed::{TrialOutcome, xor_candidates};
pub use plan::{PlanStep, SearchPlan, SubtreeStart};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bitvec::prelude::BitVec;
use mipbound_formulation::{
    DenseMarginOracle, Domain, DomainError, ExactDomain, HighsMarginOracle, MarginOracle,
    OracleError, UnitBounds, Witness,
};
use mipbound_network::{Network, Pattern, UnitId};

/// Which LP solver answers the search's margin LPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LpBackend {
    /// mipbound's dense bounded dual simplex (falls back to HiGHS on numerical trouble).
    #[default]
    Dense,
    /// HiGHS, one warm model per search.
    Highs,
}

impl std::str::FromStr for LpBackend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dense" => Ok(LpBackend::Dense),
            "highs" => Ok(LpBackend::Highs),
            other => Err(format!("unknown LP solver '{other}' (use dense or highs)")),
        }
    }
}

impl LpBackend {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LpBackend::Dense => "dense",
            LpBackend::Highs => "highs",
        }
    }
}

/// Settings of a region search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// Half-width of the thin band. A margin LP's optimum (the largest distance of a point
    /// of the region to its hyperplanes, in unit-box coordinates `u = (x - lo) / (hi - lo)`)
    /// above it is trusted as non-empty interior, below its negative as empty; inside the
    /// band the verdict is decided again in exact arithmetic (see
    /// `mipbound_formulation::decide`). It changes speed, never the count. Must lie in
    /// `(0, MAX_MARGIN_TOLERANCE]`. [default: 1e-7]
    pub margin_tolerance: f64,
    /// Tighten unit bounds with LPs before searching (finds more stable units).
    /// [default: true]
    pub tighten_bounds: bool,
    /// Seed for HiGHS's `random_seed`. [default: 0]
    pub seed: u64,
    /// The margin LP solver. [default: dense]
    pub lp: LpBackend,
    /// In [`RegionSearch::run`], pick the next unit of a layer at each node (units that
    /// cannot cut the region first, then the one farthest from the witness) instead of the
    /// index order. [default: true]
    pub dynamic_order: bool,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            margin_tolerance: 1e-7,
            tighten_bounds: true,
            seed: 0,
            lp: LpBackend::Dense,
            dynamic_order: true,
        }
    }
}

/// The largest accepted [`SearchSettings::margin_tolerance`]: a band wider than this would
/// send most LPs to the slow exact check.
pub const MAX_MARGIN_TOLERANCE: f64 = 1e-3;

/// The instant `seconds` after `start`; `None` (no deadline) when that is beyond what the
/// clock can represent (1e19 s, 1e300 s, infinity). Negative seconds and NaN mean `start`.
pub fn deadline_after(start: Instant, seconds: f64) -> Option<Instant> {
    let seconds = if seconds > 0.0 { seconds } else { 0.0 };
    start.checked_add(Duration::try_from_secs_f64(seconds).ok()?)
}

/// When to stop early.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Stop when this flag becomes true (e.g. set by a Ctrl-C handler).
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Limits {
    /// Stop after `seconds` from now (no limit when `None`, or when the limit is beyond
    /// what the clock can represent, e.g. 1e300 or infinity).
    pub fn time_limit(seconds: Option<f64>) -> Self {
        Self {
            deadline: seconds.and_then(|s| deadline_after(Instant::now(), s)),
            interrupt: None,
        }
    }

    /// Also stop when `flag` is set.
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    fn reached(&self, now: Instant) -> Option<SearchStatus> {
        if self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            return Some(SearchStatus::Interrupted);
        }
        match self.deadline {
            Some(deadline) if now >= deadline => Some(SearchStatus::TimeLimit),
            _ => None,
        }
    }
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStatus {
    /// Every pattern was decided: the count is exact.
    Exhausted,
    /// The time limit hit first: the count is a lower bound.
    TimeLimit,
    /// The interrupt flag was set: the count is a lower bound.
    Interrupted,
    /// The hooks asked to stop.
    Stopped,
}

impl SearchStatus {
    /// Returns true if and only if the search explored every pattern.
    pub fn is_complete(self) -> bool {
        self == SearchStatus::Exhausted
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            SearchStatus::Exhausted => "complete",
            SearchStatus::TimeLimit => "time limit",
            SearchStatus::Interrupted => "interrupted",
            SearchStatus::Stopped => "stopped",
        }
    }
}

/// Counters of one search.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchStats {
    /// Regions found and verified.
    pub regions: u64,
    /// Margin LPs solved.
    pub lp_solves: u64,
    /// LPs that found no interior (pruned branches).
    pub infeasible_lps: u64,
    /// Options proven empty by the duals of an earlier LP, without an LP of their own.
    pub proven_empty: u64,
    /// Children given a witness by a walk from the parent's, without an LP.
    pub walked_witnesses: u64,
    /// Children certified by the parent's witness, without an LP.
    pub witness_reuses: u64,
    /// Search nodes visited.
    pub nodes: u64,
    /// Full patterns whose inherited witness could not be proven inside the region (each is
    /// then decided by a fresh LP and, if need be, exactly).
    pub rejected_witnesses: u64,
    /// LP verdicts whose margin fell inside the thin band and were decided again exactly.
    pub thin_verdicts: u64,
    /// Thin verdicts the exact check could not settle (treated as empty). The count is
    /// exact only when this is 0.
    pub undecided: u64,
    /// Rows of composed forms recomputed exactly because rounding could have spoiled them.
    pub refreshed_rows: u64,
    /// Margin LPs the dense solver handed to HiGHS after numerical trouble.
    pub lp_fallbacks: u64,
    /// Dual simplex pivots of the dense solver's margin LPs (0 with HiGHS).
    pub lp_iterations: u64,
    /// Wall-clock seconds spent in margin LP solves.
    pub lp_seconds: f64,
}

impl SearchStats {
    /// Adds another search's counters to these.
    pub fn add(&mut self, other: &SearchStats) {
        self.regions += other.regions;
        self.lp_solves += other.lp_solves;
        self.infeasible_lps += other.infeasible_lps;
        self.proven_empty += other.proven_empty;
        self.walked_witnesses += other.walked_witnesses;
        self.witness_reuses += other.witness_reuses;
        self.nodes += other.nodes;
        self.rejected_witnesses += other.rejected_witnesses;
        self.thin_verdicts += other.thin_verdicts;
        self.undecided += other.undecided;
        self.refreshed_rows += other.refreshed_rows;
        self.lp_fallbacks += other.lp_fallbacks;
        self.lp_iterations += other.lp_iterations;
        self.lp_seconds += other.lp_seconds;
    }
}

/// Whether to go on after a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep searching.
    Continue,
    /// End the search now.
    Stop,
}

/// What the caller plugs into a search: constraints on patterns and what to do with regions.
///
/// `bit` is a unit's index in the pattern (layer-major). Every successful `assign` is
/// matched by one `unassign` of the same bit, in stack order.
pub trait PatternHooks {
    /// The search wants to set `bit` to `active`; return false to forbid it.
    fn assign(&mut self, bit: usize, active: bool) -> bool {
        let _ = (bit, active);
        true
    }
    /// Undoes the last successful `assign` (of `bit`).
    fn unassign(&mut self, bit: usize) {
        let _ = bit;
    }
    /// Returns false when the assigned prefix can no longer lead to an accepted pattern
    /// (e.g. after constraints were added in [`PatternHooks::region`]).
    fn consistent(&self) -> bool {
        true
    }
    /// A verified region: its full pattern and a witness point inside it.
    fn region(&mut self, pattern: &Pattern, witness: &[f64]) -> Flow;
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// HiGHS failed.
    #[error(transparent)]
    Oracle(#[from] OracleError),
    /// The domain does not fit the network.
    #[error("domain: {0}")]
    Domain(#[from] DomainError),
    /// A setting is out of range.
    #[error("{0}")]
    Settings(String),
    /// The unit order is not a layer-contiguous permutation of the hidden units.
    #[error("unit order: {0}")]
    Order(String),
    /// A plan does not fit the network.
    #[error("plan: {0}")]
    Plan(String),
}

/// The result of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOutcome {
    /// How it ended.
    pub status: SearchStatus,
    /// What it did.
    pub stats: SearchStats,
    /// Wall-clock seconds of the search itself (bound tightening excluded).
    pub seconds: f64,
}

impl SearchOutcome {
    /// Returns true if and only if the count is exact: every pattern was decided and no
    /// thin LP verdict stayed undecided.
    pub fn is_exact(&self) -> bool {
        self.status.is_complete() && self.stats.undecided == 0
    }

    /// A short name for reports: the status's, or "undecided verdicts" when every pattern
    /// was decided but some thin verdict was not settled.
    pub fn status_name(&self) -> &'static str {
        if self.status.is_complete() && !self.is_exact() {
            "undecided verdicts"
        } else {
            self.status.name()
        }
    }
}

/// A network, its domain and its unit bounds, ready to be searched.
pub struct RegionSearch<'a> {
    net: &'a Network,
    domain: &'a Domain,
    bounds: UnitBounds,
    order: Vec<UnitId>,
    settings: SearchSettings,
    bound_seconds: f64,
    /// The margin LPs' domain: the unit box cut by the domain's constraints, image of the
    /// domain under `u = (x - lo) / (hi - lo)`.
    unit_domain: Domain,
    /// The domain in exact arithmetic, for thin verdicts.
    exact_domain: ExactDomain,
    /// A point strictly inside every constraint of the domain (the root's witness), and
    /// its unit-box image.
    inner: Vec<f64>,
    inner_unit: Vec<f64>,
}

impl<'a> RegionSearch<'a> {
    /// Checks the domain (its dimension, and by an LP that it has interior when
    /// constraints cut it) and computes the unit bounds (interval, then LP if enabled).
    pub fn new(
        net: &'a Network,
        domain: &'a Domain,
        settings: SearchSettings,
    ) -> Result<Self, SearchError> {
        domain.check_dim(net.input_dim())?;
        let band = settings.margin_tolerance;
        if !(band > 0.0 && band <= MAX_MARGIN_TOLERANCE) {
            return Err(SearchError::Settings(format!(
                "the margin tolerance must lie in (0, {MAX_MARGIN_TOLERANCE:e}], got {band}"
            )));
        }
        let inner = domain.check_interior()?;
        let no_interior = || DomainError::NoInterior {
            domain: domain.describe(),
        };
        let (unit_domain, _) = domain.unit_image().ok_or_else(no_interior)?;
        let exact_domain = ExactDomain::new(domain).ok_or_else(no_interior)?;
        let inner_unit = domain.to_unit(&inner);
        let start = Instant::now();
        let bounds = if settings.tighten_bounds {
            UnitBounds::tightened(net, domain, settings.seed as u32)?
        } else {
            UnitBounds::interval(net, domain)
        };
        let order = net
            .hidden_widths()
            .iter()
            .enumerate()
            .flat_map(|(layer, &w)| (0..w).map(move |unit| UnitId { layer, unit }))
            .collect();
        Ok(Self {
            net,
            domain,
            bounds,
            order,
            settings,
            bound_seconds: start.elapsed().as_secs_f64(),
            unit_domain,
            exact_domain,
            inner,
            inner_unit,
        })
    }

    /// The unit bounds used to fix stable units.
    pub fn bounds(&self) -> &UnitBounds {
        &self.bounds
    }

    /// Seconds spent computing the unit bounds.
    pub fn bound_seconds(&self) -> f64 {
        self.bound_seconds
    }

    /// The network being searched.
    pub fn network(&self) -> &Network {
        self.net
    }

    /// The unit visiting order.
    pub fn order(&self) -> &[UnitId] {
        &self.order
    }

    /// Runs one depth-first search, calling `hooks` for every verified region. Layers are
    /// visited in order; within a layer the unit order is chosen at each node when
    /// [`SearchSettings::dynamic_order`] is set, else it is the index order.
    pub fn run<H: PatternHooks>(
        &self,
        hooks: &mut H,
        limits: &Limits,
    ) -> Result<SearchOutcome, SearchError> {
        self.run_inner(&self.order, self.settings.dynamic_order, hooks, limits)
    }

    /// Runs one depth-first search visiting the units in `order`: a permutation of the
    /// hidden units that keeps the layers in network order (units may be reordered within a
    /// layer, e.g. to decide XOR variables early).
    pub fn run_ordered<H: PatternHooks>(
        &self,
        order: &[UnitId],
        hooks: &mut H,
        limits: &Limits,
    ) -> Result<SearchOutcome, SearchError> {
        self.check_order(order)?;
        self.run_inner(order, false, hooks, limits)
    }

    fn run_inner<H: PatternHooks>(
        &self,
        order: &[UnitId],
        dynamic: bool,
        hooks: &mut H,
        limits: &Limits,
    ) -> Result<SearchOutcome, SearchError> {
        Ok(self.run_from(order, dynamic, hooks, limits, Start::Root)?.0)
    }

    /// Runs one search from `start` with the configured LP solver.
    fn run_from<H: PatternHooks>(
        &self,
        order: &[UnitId],
        dynamic: bool,
        hooks: &mut H,
        limits: &Limits,
        start: Start<'_>,
    ) -> Result<(SearchOutcome, Vec<Subproblem>), SearchError> {
        let seed = self.settings.seed as u32;
        match self.settings.lp {
            LpBackend::Dense => {
                let oracle = DenseMarginOracle::new(&self.unit_domain, seed);
                self.run_with(oracle, order, dynamic, hooks, limits, start)
            }
            LpBackend::Highs => {
                let oracle = HighsMarginOracle::new(&self.unit_domain, seed)?;
                self.run_with(oracle, order, dynamic, hooks, limits, start)
            }
        }
    }

    fn run_with<O: MarginOracle, H: PatternHooks>(
        &self,
        oracle: O,
        order: &[UnitId],
        dynamic: bool,
        hooks: &mut H,
        limits: &Limits,
        start: Start<'_>,
    ) -> Result<(SearchOutcome, Vec<Subproblem>), SearchError> {
        let started = Instant::now();
        let positions = order.len();
        let mut dfs = dfs::Dfs {
            net: self.net,
            domain: self.domain,
            unit_domain: &self.unit_domain,
            exact_domain: &self.exact_domain,
            inner_unit: &self.inner_unit,
            bounds: &self.bounds,
            oracle,
            hooks,
            limits,
            order,
            dynamic,
            path: order.to_vec(),
            layer_start: (0..self.net.hidden_layers().len())
                .map(|l| {
                    order
                        .iter()
                        .position(|id| id.layer == l)
                        .unwrap_or(positions)
                })
                .collect(),
            enters_layer: (0..positions)
                .map(|p| p == 0 || order[p - 1].layer != order[p].layer)
                .collect(),
            forms: Vec::with_capacity(self.net.hidden_layers().len()),
            exact_forms: Vec::new(),
            region_bounds: Vec::with_capacity(self.net.hidden_layers().len()),
            row_ranges: Vec::with_capacity(self.net.hidden_layers().len()),
            chosen: self
                .net
                .hidden_widths()
                .iter()
                .map(|&w| vec![0; w])
                .collect(),
            pattern: BitVec::repeat(false, self.net.num_pattern_bits()),
            rows: vec![0; positions],
            slack: vec![0.0; positions],
            band: self.settings.margin_tolerance,
            stats: SearchStats::default(),
            status: None,
            cut: None,
            frontier: Vec::new(),
            pushed: Vec::new(),
            empty_proofs: Default::default(),
        };
        let root = Witness {
            point: self.inner.clone(),
            margin: f64::INFINITY,
        };
        match start {
            Start::Root => dfs.explore(0, &root)?,
            Start::Cut(depth) => {
                dfs.cut = Some(depth);
                dfs.explore(0, &root)?;
            }
            Start::Subtree(sub) => dfs.explore_subproblem(sub)?,
        }
        dfs.stats.lp_fallbacks = dfs.oracle.fallbacks();
        dfs.stats.lp_iterations = dfs.oracle.iterations();
        Ok((
            SearchOutcome {
                status: dfs.status.unwrap_or(SearchStatus::Exhausted),
                stats: dfs.stats,
                seconds: started.elapsed().as_secs_f64(),
            },
            dfs.frontier,
        ))
    }

    /// Runs the search as about [`SPLIT_TARGET`] independent subtrees on `threads` threads.
    ///
    /// The tree is cut at the smallest depth with at least that many nodes (found by
    /// searching the top of the tree, which is cheap: [`RegionSearch::plan`]); each node
    /// below the cut is explored with its own hooks from `make_hooks` and its own LP oracle
    /// ([`RegionSearch::run_subtrees`]); `on_subtree` receives the hooks of each subtree in
    /// tree order. The split does not depend on `threads`, so counts and statistics are the
    /// same for every thread count.
    pub fn run_split<H, M, D>(
        &self,
        threads: usize,
        make_hooks: M,
        limits: &Limits,
        mut on_subtree: D,
    ) -> Result<SearchOutcome, SearchError>
    where
        H: PatternHooks + Send,
        M: Fn() -> H + Sync,
        D: FnMut(H),
    {
        let started = Instant::now();
        if self.order.len() < 2 {
            let mut hooks = make_hooks();
            let outcome = self.run(&mut hooks, limits)?;
            on_subtree(hooks);
            return Ok(outcome);
        }
        let (plan, mut total) = self.plan(SPLIT_TARGET, &mut make_hooks(), limits)?;
        if !total.status.is_complete() {
            return Ok(total);
        }
        let all: Vec<usize> = (0..plan.subtrees.len()).collect();
        let rest = self.run_subtrees(
            &plan,
            &all,
            threads,
            make_hooks,
            limits,
            |_, _| {},
            |_, _, hooks| on_subtree(hooks),
        )?;
        total.stats.add(&rest.stats);
        total.status = rest.status;
        total.seconds = started.elapsed().as_secs_f64();
        Ok(total)
    }

    /// Cuts the search tree into at least `target` subtrees where it can: searches the top
    /// of the tree at depths 1, 2, ... until one has `target` nodes or the next depth would
    /// reach the leaves. `hooks` see the top search (no region is found there). Returns the
    /// plan and the top search's outcome; when that is not complete (a limit stopped it),
    /// the plan is partial and must not be used. A network with fewer than two hidden units
    /// gets one subtree, the whole search.
    pub fn plan<H: PatternHooks>(
        &self,
        target: usize,
        hooks: &mut H,
        limits: &Limits,
    ) -> Result<(SearchPlan, SearchOutcome), SearchError> {
        let order = &self.order;
        if order.len() < 2 {
            let root = Subproblem {
                decisions: Vec::new(),
                witness: Witness {
                    point: self.inner.clone(),
                    margin: f64::INFINITY,
                },
            };
            let plan = SearchPlan {
                cut_depth: 0,
                subtrees: vec![SubtreeStart::from_subproblem(&root)],
            };
            let outcome = SearchOutcome {
                status: SearchStatus::Exhausted,
                stats: SearchStats::default(),
                seconds: 0.0,
            };
            return Ok((plan, outcome));
        }
        let dynamic = self.settings.dynamic_order;
        let mut cut = 1;
        loop {
            let (outcome, frontier) =
                self.run_from(order, dynamic, hooks, limits, Start::Cut(cut))?;
            if frontier.len() >= target || cut + 1 >= order.len() || !outcome.status.is_complete() {
                let plan = SearchPlan {
                    cut_depth: cut,
                    subtrees: frontier.iter().map(SubtreeStart::from_subproblem).collect(),
                };
                return Ok((plan, outcome));
            }
            cut += 1;
        }
    }

    /// Checks that `plan` fits this search's network and unit order (see
    /// [`SearchPlan::check`]).
    pub fn check_plan(&self, plan: &SearchPlan) -> Result<(), SearchError> {
        plan.check(self.net, &self.order).map_err(SearchError::Plan)
    }

    /// Explores the subtrees `indices` of `plan` on `threads` threads, each with its own
    /// hooks from `make_hooks` and its own LP oracle. `on_finished(i, outcome)` is called on
    /// the worker thread as soon as subtree `i` ends, in whatever order they end (to record
    /// progress); `on_subtree(i, outcome, hooks)` is called on this thread in the order of
    /// `indices`. Once `limits` are reached no further subtree starts; the ones running stop
    /// between nodes. Returns the sum over the subtrees that ran: its status is the first
    /// status that is not complete (in the order of `indices`), or the limit's when
    /// subtrees were left out.
    #[allow(clippy::too_many_arguments)]
    pub fn run_subtrees<H, M, F, D>(
        &self,
        plan: &SearchPlan,
        indices: &[usize],
        threads: usize,
        make_hooks: M,
        limits: &Limits,
        on_finished: F,
        mut on_subtree: D,
    ) -> Result<SearchOutcome, SearchError>
    where
        H: PatternHooks + Send,
        M: Fn() -> H + Sync,
        F: Fn(usize, &SearchOutcome) + Sync,
        D: FnMut(usize, &SearchOutcome, H),
    {
        self.check_plan(plan)?;
        if let Some(&i) = indices.iter().find(|&&i| i >= plan.subtrees.len()) {
            return Err(SearchError::Plan(format!(
                "subtree {i} does not exist (the plan has {})",
                plan.subtrees.len()
            )));
        }
        let started = Instant::now();
        let mut total = SearchOutcome {
            status: SearchStatus::Exhausted,
            stats: SearchStats::default(),
            seconds: 0.0,
        };
        let mut first_error = None;
        parallel::run_ordered_until(
            indices.len(),
            threads,
            || limits.reached(Instant::now()).is_some(),
            |k| {
                let i = indices[k];
                let mut hooks = make_hooks();
                let start = plan.subtrees[i].to_subproblem();
                let result = self
                    .run_from(
                        &self.order,
                        self.settings.dynamic_order,
                        &mut hooks,
                        limits,
                        Start::Subtree(&start),
                    )
                    .map(|(outcome, _)| outcome);
                if let Ok(outcome) = &result {
                    on_finished(i, outcome);
                }
                (result, hooks)
            },
            |k, done| match done {
                Some((Ok(outcome), hooks)) => {
                    total.stats.add(&outcome.stats);
                    if total.status.is_complete() {
                        total.status = outcome.status;
                    }
                    on_subtree(indices[k], &outcome, hooks);
                }
                Some((Err(e), _)) => {
                    first_error.get_or_insert(e);
                }
                None => {
                    if total.status.is_complete() {
                        total.status = limits
                            .reached(Instant::now())
                            .unwrap_or(SearchStatus::Interrupted);
                    }
                }
            },
        );
        if let Some(e) = first_error {
            return Err(e);
        }
        total.seconds = started.elapsed().as_secs_f64();
        Ok(total)
    }

    fn check_order(&self, order: &[UnitId]) -> Result<(), SearchError> {
        let widths = self.net.hidden_widths();
        let mut seen = vec![Vec::new(); widths.len()];
        let mut last_layer = 0;
        for id in order {
            if id.layer >= widths.len() || id.unit >= widths[id.layer] {
                return Err(SearchError::Order(format!("{id:?} is not a hidden unit")));
            }
            if id.layer < last_layer {
                return Err(SearchError::Order("layers must be visited in order".into()));
            }
            last_layer = id.layer;
            seen[id.layer].push(id.unit);
        }
        for (layer, units) in seen.iter_mut().enumerate() {
            units.sort_unstable();
            if *units != (0..widths[layer]).collect::<Vec<_>>() {
                return Err(SearchError::Order(format!(
                    "layer {layer} is not visited exactly once per unit"
                )));
            }
        }
        Ok(())
    }
}

/// Hooks that count regions and optionally pass each pattern on.
pub struct CountRegions<F: FnMut(&Pattern, &[f64]) -> Flow> {
    /// Called for each region.
    pub on_region: F,
}

impl<F: FnMut(&Pattern, &[f64]) -> Flow> PatternHooks for CountRegions<F> {
    fn region(&mut self, pattern: &Pattern, witness: &[f64]) -> Flow {
        (self.on_region)(pattern, witness)
    }
}

/// The exact number of regions of `net` in `domain` (a lower bound if `limits` stop it).
pub fn count_regions(
    net: &Network,
    domain: &Domain,
    settings: SearchSettings,
    limits: &Limits,
) -> Result<SearchOutcome, SearchError> {
    let search = RegionSearch::new(net, domain, settings)?;
    search.run(
        &mut CountRegions {
            on_region: |_: &Pattern, _: &[f64]| Flow::Continue,
        },
        limits,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::{Activation, Layer};
    use ndarray::array;

    /// Limits beyond the clock's range mean no limit instead of a panic.
    #[test]
    fn huge_time_limits_mean_no_limit() {
        for huge in [1e19, 1e300, f64::INFINITY, f64::MAX] {
            assert!(Limits::time_limit(Some(huge)).deadline.is_none(), "{huge}");
        }
        let now = Instant::now();
        assert_eq!(deadline_after(now, 0.0), Some(now));
        assert_eq!(deadline_after(now, -1.0), Some(now));
        assert_eq!(
            deadline_after(now, 2.5),
            Some(now + Duration::from_millis(2500))
        );
        assert!(Limits::time_limit(Some(3600.0)).deadline.is_some());
    }

    /// Two lines crossing inside the unit square: 4 regions; three lines through one
    /// point in general directions: 6 regions.
    #[test]
    fn counts_simple_arrangements() {
        let cross = Network::new(
            2,
            vec![Layer::new(
                array![[1.0, 0.0], [0.0, 1.0]],
                array![-0.5, -0.5],
                Activation::Relu,
            )],
        )
        .unwrap();
        let domain = Domain::unit_box(2);
        let out = count_regions(
            &cross,
            &domain,
            SearchSettings::default(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(out.stats.regions, 4);
        assert_eq!(out.status, SearchStatus::Exhausted);
        assert_eq!(out.stats.rejected_witnesses, 0);

        let star = Network::new(
            2,
            vec![Layer::new(
                array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                array![-0.5, -0.5, -1.0],
                Activation::Relu,
            )],
        )
        .unwrap();
        let out = count_regions(
            &star,
            &domain,
            SearchSettings::default(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(out.stats.regions, 6);
    }

    /// Second-layer unit fed only by a unit that is off on half the domain: constant there.
    #[test]
    fn constant_units_do_not_split() {
        let net = Network::new(
            1,
            vec![
                Layer::new(array![[1.0]], array![-0.5], Activation::Relu),
                Layer::new(array![[1.0], [-1.0]], array![-0.25, 0.1], Activation::Relu),
            ],
        )
        .unwrap();
        // x < 0.5: h = 0, units (z = -0.25, z = 0.1) -> pattern 0 | 0 1.
        // x > 0.5: h = x - 0.5; unit a active iff h > 0.25 (x > 0.75), unit b iff h < 0.1 (x < 0.6).
        // Patterns: [0,0.5): 0|01, (0.5,0.6): 1|01, (0.6,0.75): 1|00, (0.75,1]: 1|10.
        let out = count_regions(
            &net,
            &Domain::unit_box(1),
            SearchSettings::default(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(out.stats.regions, 4);
    }

    #[test]
    fn interrupt_flag_stops_early() {
        let net = mipbound_network::random::he_network(&[2, 8, 8], 0.3, false, 1);
        let flag = Arc::new(AtomicBool::new(true));
        let limits = Limits::default().with_interrupt(flag);
        let out = count_regions(
            &net,
            &Domain::unit_box(2),
            SearchSettings::default(),
            &limits,
        )
        .unwrap();
        assert_eq!(out.status, SearchStatus::Interrupted);
        assert_eq!(out.stats.regions, 0);
    }
}
