//! The exact count: every region of the problem, or "at least N" when stopped early.

use std::io::Write;

use anyhow::{Result, bail};
use mipbound_bounds::architecture::architecture_upper_bound;
use mipbound_formulation::UnitBounds;
use mipbound_network::{Pattern, pattern_line};
use mipbound_search::{
    Flow, LpBackend, MAX_MARGIN_TOLERANCE, PatternHooks, RegionSearch, SearchSettings, SearchStatus,
};
use serde::{Deserialize, Serialize};

use crate::problem::{NetworkSummary, Problem};
use crate::run::{Run, Task, TaskProgress};
use crate::{VERSION, limits};

/// What changes the count's work (never its result, but for the time limit).
#[derive(Debug, Clone, PartialEq)]
pub struct CountSettings {
    /// Stop after this many seconds and report "at least N".
    pub time_limit: Option<f64>,
    /// Half-width of the thin band of LP margins decided again in exact arithmetic.
    pub margin_tolerance: f64,
    /// LP bound tightening before the search.
    pub tighten: bool,
    /// HiGHS's random_seed.
    pub seed: u64,
    /// Margin LP solver.
    pub lp: LpBackend,
    /// Choose the unit to split at each node (else index order).
    pub dynamic_order: bool,
}

impl Default for CountSettings {
    fn default() -> Self {
        let search = SearchSettings::default();
        Self {
            time_limit: None,
            margin_tolerance: search.margin_tolerance,
            tighten: search.tighten_bounds,
            seed: search.seed,
            lp: search.lp,
            dynamic_order: search.dynamic_order,
        }
    }
}

impl CountSettings {
    /// Refuses settings no count can run with.
    pub fn check(&self) -> Result<()> {
        let band = self.margin_tolerance;
        if !(band > 0.0 && band <= MAX_MARGIN_TOLERANCE) {
            bail!("--margin-tolerance {band}: must lie in (0, {MAX_MARGIN_TOLERANCE:e}]");
        }
        limits::check_seconds(&[("--time-limit", self.time_limit)])
    }

    /// The search's settings.
    pub fn search(&self) -> SearchSettings {
        SearchSettings {
            margin_tolerance: self.margin_tolerance,
            tighten_bounds: self.tighten,
            seed: self.seed,
            lp: self.lp,
            dynamic_order: self.dynamic_order,
        }
    }
}

/// The result of a count; its JSON is `mipbound count --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountResult {
    /// `count`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network and domain.
    pub network: NetworkSummary,
    /// Regions found: all of them when `complete`.
    pub regions: u64,
    /// Whether `regions` is the exact count.
    pub complete: bool,
    /// `complete`, `time limit`, `interrupted`, `undecided`, ...
    pub status: String,
    /// Seconds in all.
    pub seconds: f64,
    /// Seconds of bound tightening.
    pub bound_seconds: f64,
    /// Seconds of the search.
    pub search_seconds: f64,
    /// Margin LPs solved.
    pub lp_solves: u64,
    /// Margin LPs per region.
    pub lp_solves_per_region: f64,
    /// LPs of bound tightening.
    pub bound_lp_solves: u64,
    /// Margin LPs found infeasible.
    pub infeasible_lps: u64,
    /// Children certified by their parent's witness, without an LP.
    pub witness_reuses: u64,
    /// Search nodes.
    pub nodes: u64,
    /// Leaf witnesses rejected by the forward-pass check.
    pub rejected_witnesses: u64,
    /// LP verdicts inside the thin band, decided again in exact arithmetic.
    pub thin_verdicts: u64,
    /// Thin verdicts the exact check could not settle; the count is exact only if 0.
    pub undecided_verdicts: u64,
    /// `dense` or `highs`.
    pub lp_solver: String,
    /// Margin LPs handed from the dense solver to HiGHS.
    pub lp_fallbacks: u64,
    /// Dual simplex pivots of the dense solver's margin LPs (0 with `highs`).
    pub lp_iterations: u64,
    /// Seconds inside the LP solver.
    pub lp_seconds: f64,
    /// Stable units per hidden layer over the domain.
    pub stable_units: Vec<StableUnits>,
    /// The tightest architecture-only upper bound that applies (decimal: it can exceed 64
    /// bits).
    pub upper_bound: String,
    /// Its name.
    pub upper_bound_name: String,
    /// HiGHS's random_seed.
    pub seed: u64,
    /// The thin band's half-width.
    pub margin_tolerance: f64,
    /// Where the patterns were written, if anywhere.
    pub patterns_file: Option<String>,
    /// Worker threads.
    pub threads: usize,
}

impl CountResult {
    /// Whether Ctrl-C (a cancel) stopped the count.
    pub fn interrupted(&self) -> bool {
        self.status == SearchStatus::Interrupted.name()
    }
}

/// Stable units of one hidden layer over the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StableUnits {
    /// Stably active.
    pub active: usize,
    /// Stably inactive.
    pub inactive: usize,
    /// Neither.
    pub unstable: usize,
}

/// Per-layer stable-unit counts from a search's bounds.
pub fn stable_units(bounds: &UnitBounds) -> Vec<StableUnits> {
    bounds
        .stability_counts()
        .into_iter()
        .map(|(active, inactive, unstable)| StableUnits {
            active,
            inactive,
            unstable,
        })
        .collect()
}

/// Hooks of one subtree: progress, and the subtree's pattern lines when they are written.
struct SubtreeHooks<'w> {
    progress: &'w dyn TaskProgress,
    lines: Option<Vec<String>>,
    widths: &'w [usize],
}

impl PatternHooks for SubtreeHooks<'_> {
    fn region(&mut self, pattern: &Pattern, _witness: &[f64]) -> Flow {
        self.progress.advance(1);
        if let Some(lines) = self.lines.as_mut() {
            lines.push(pattern_line(pattern, self.widths));
        }
        Flow::Continue
    }
}

/// Counts the regions of `problem`. With `patterns`, every region's pattern is written to
/// it, one line each, in the single-thread search order; a failed write stops nothing but
/// is returned as the error once the count ends.
pub fn count(
    problem: &Problem,
    settings: &CountSettings,
    run: &Run<'_>,
    mut patterns: Option<&mut dyn Write>,
) -> Result<CountResult> {
    settings.check()?;
    let net = problem.network();
    let limits =
        mipbound_search::Limits::time_limit(settings.time_limit).with_interrupt(run.cancel.flag());
    let search = RegionSearch::new(net, problem.domain(), settings.search())?;
    let widths = net.layer_bits();
    let progress = run.progress.task(Task::Regions);
    let keep_lines = patterns.is_some();
    let mut write_error = None;
    let outcome = search.run_split(
        run.threads,
        || SubtreeHooks {
            progress: progress.as_ref(),
            lines: keep_lines.then(Vec::new),
            widths: &widths,
        },
        &limits,
        |hooks| {
            if let (Some(w), Some(lines)) = (patterns.as_mut(), hooks.lines)
                && write_error.is_none()
            {
                for line in lines {
                    if let Err(e) = writeln!(w, "{line}") {
                        write_error = Some(e);
                        break;
                    }
                }
            }
        },
    )?;
    progress.finish();
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let stats = outcome.stats;
    let (upper_bound, upper_bound_name) = architecture_upper_bound(problem.bound_network());
    Ok(CountResult {
        command: "count".into(),
        version: VERSION.into(),
        network: problem.summary(),
        regions: stats.regions,
        complete: outcome.is_exact(),
        status: outcome.status_name().into(),
        seconds: search.bound_seconds() + outcome.seconds,
        bound_seconds: search.bound_seconds(),
        search_seconds: outcome.seconds,
        lp_solves: stats.lp_solves,
        lp_solves_per_region: stats.lp_solves as f64 / stats.regions.max(1) as f64,
        bound_lp_solves: search.bounds().lp_solves(),
        infeasible_lps: stats.infeasible_lps,
        witness_reuses: stats.witness_reuses,
        nodes: stats.nodes,
        rejected_witnesses: stats.rejected_witnesses,
        thin_verdicts: stats.thin_verdicts,
        undecided_verdicts: stats.undecided,
        lp_solver: settings.lp.name().into(),
        lp_fallbacks: stats.lp_fallbacks,
        lp_iterations: stats.lp_iterations,
        lp_seconds: stats.lp_seconds,
        stable_units: stable_units(search.bounds()),
        upper_bound: upper_bound.to_string(),
        upper_bound_name: upper_bound_name.into(),
        seed: settings.seed,
        margin_tolerance: settings.margin_tolerance,
        patterns_file: None,
        threads: run.threads,
    })
}
