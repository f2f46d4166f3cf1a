//! The exact count: every region of the problem, or "at least N" when stopped early.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mipbound_bounds::architecture::architecture_upper_bound;
use mipbound_formulation::UnitBounds;
use mipbound_network::{Pattern, pattern_line};
use mipbound_search::{
    Flow, Limits, LpBackend, MAX_MARGIN_TOLERANCE, PatternHooks, RegionSearch, SPLIT_TARGET,
    SearchSettings, SearchStats, SearchStatus,
};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    Checkpoint, Fingerprint, PlanFile, Recorder, WriterLock, describe_shard, plan_hash,
};
use crate::problem::{NetworkSummary, Problem};
use crate::run::{Run, Task, TaskProgress};
use crate::shard::Shard;
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
    /// Options proven empty by the duals of an earlier LP, without an LP of their own.
    pub proven_empty: u64,
    /// Children given a witness by a walk from the parent's, without an LP.
    pub walked_witnesses: u64,
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
    /// Subtrees of the plan the search was cut into.
    pub subtrees: usize,
    /// Subtrees of this run's share (all of them, or its shard's) finished, resumed ones
    /// included.
    pub subtrees_done: usize,
    /// Subtrees taken as done from the checkpoint resumed.
    pub subtrees_resumed: usize,
    /// The shard counted (`I/N`), if any: then `regions` is the shard's share.
    pub shard: Option<String>,
    /// The checkpoint (or shard result) file written, if any.
    pub checkpoint_file: Option<String>,
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
    patterns: Option<&mut dyn Write>,
) -> Result<CountResult> {
    count_job(problem, settings, run, patterns, &CountJob::default())
}

/// Which part of a count to run and where to record it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountJob<'a> {
    /// A plan read from a plan file (with the file's path): the subtrees to cut the search
    /// into. `None`: the count makes its own plan of about [`SPLIT_TARGET`] subtrees.
    pub plan: Option<(&'a PlanFile, &'a Path)>,
    /// Count only the plan's subtrees `i` with `i mod N == I` (needs `plan`).
    pub shard: Option<Shard>,
    /// Record finished subtrees in this file (see [`crate::checkpoint`]).
    pub checkpoint: Option<&'a Path>,
    /// Continue from the checkpoint file instead of starting it afresh (a new run refuses
    /// an existing file).
    pub resume: bool,
}

/// Counts the regions of `problem`, or of one shard of its plan, recording finished
/// subtrees in a checkpoint and resuming from one as `job` says. A resumed count adds the
/// subtrees recorded before to those it counts: its total is exactly the uninterrupted
/// count's. `patterns` are refused when resuming a checkpoint with subtrees done (their
/// lines are not known).
pub fn count_job(
    problem: &Problem,
    settings: &CountSettings,
    run: &Run<'_>,
    mut patterns: Option<&mut dyn Write>,
    job: &CountJob<'_>,
) -> Result<CountResult> {
    settings.check()?;
    if job.shard.is_some() && job.plan.is_none() {
        bail!("--shard needs --plan FILE: the list of subtrees every shard shares");
    }
    if job.resume && job.checkpoint.is_none() {
        bail!("resuming needs a checkpoint file");
    }
    let mut lock = job
        .checkpoint
        .map(|path| WriterLock::acquire_for(path, job.resume))
        .transpose()?;
    let started = Instant::now();
    let net = problem.network();
    let limits = Limits::time_limit(settings.time_limit).with_interrupt(run.cancel.flag());
    let search = RegionSearch::new(net, problem.domain(), settings.search())?;
    let fingerprint = Fingerprint::of(problem, settings);
    let widths = net.layer_bits();
    let progress = run.progress.task(Task::Regions);
    let keep_lines = patterns.is_some();
    let make_hooks = || SubtreeHooks {
        progress: progress.as_ref(),
        lines: keep_lines.then(Vec::new),
        widths: &widths,
    };
    let mut summary = Summary {
        problem,
        settings,
        search: &search,
        threads: run.threads,
        shard: job.shard,
        checkpoint: job.checkpoint,
        subtrees: 0,
        done: 0,
        resumed: 0,
    };
    let (plan, top) = match job.plan {
        Some((file, path)) => {
            file.require(&fingerprint, path)?;
            search
                .check_plan(&file.plan)
                .with_context(|| path.display().to_string())?;
            (Cow::Borrowed(&file.plan), file.top)
        }
        None => {
            let (plan, outcome) = search.plan(SPLIT_TARGET, &mut make_hooks(), &limits)?;
            if !outcome.status.is_complete() {
                progress.finish();
                return Ok(summary.result(outcome.stats, outcome.status, started));
            }
            (Cow::Owned(plan), outcome.stats)
        }
    };
    let hash = plan_hash(&plan);
    let mut state = Checkpoint::new(fingerprint, hash, plan.subtrees.len(), job.shard, top);
    if let (true, Some(path)) = (job.resume, job.checkpoint) {
        let before = Checkpoint::read(path)?;
        state.require_same_run(&before, path)?;
        if keep_lines && !before.done.is_empty() {
            bail!(
                "--patterns cannot be used with --resume: the patterns of the {} subtrees done before are not known",
                before.done.len()
            );
        }
        state.top = before.top;
        state.done = before.done;
        state.complete = before.complete;
    }
    summary.subtrees = plan.subtrees.len();
    summary.resumed = state.done.len();
    let todo: Vec<usize> = (0..plan.subtrees.len())
        .filter(|&i| state.owns(i) && state.done.binary_search_by_key(&i, |r| r.index).is_err())
        .collect();
    let recorder = match (job.checkpoint, lock.take()) {
        (Some(path), Some(lock)) => Some(Recorder::start(path, state.clone(), lock)?),
        _ => None,
    };
    let mut write_error = None;
    let mut finished = 0;
    let outcome = std::thread::scope(|scope| {
        if let Some(r) = &recorder {
            scope.spawn(|| r.write_loop());
        }
        let outcome = search.run_subtrees(
            &plan,
            &todo,
            run.threads,
            make_hooks,
            &limits,
            |i, outcome| {
                // A stopped subtree is counted again on resume.
                if let Some(r) = &recorder
                    && outcome.status.is_complete()
                {
                    r.update(|c| c.record(i, outcome));
                }
            },
            |_, outcome, hooks| {
                if outcome.status.is_complete() {
                    finished += 1;
                }
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
        );
        if let Some(r) = &recorder {
            r.close();
        }
        outcome
    })?;
    progress.finish();
    if let Some(r) = recorder {
        r.finish()?;
    }
    if let Some(e) = write_error {
        return Err(e.into());
    }
    // This run's subtrees (finished or stopped) on top of what was done before.
    let mut stats = state.total();
    stats.add(&outcome.stats);
    summary.done = state.done.len() + finished;
    Ok(summary.result(stats, outcome.status, started))
}

/// What [`count_job`] reports besides the statistics.
struct Summary<'a> {
    problem: &'a Problem,
    settings: &'a CountSettings,
    search: &'a RegionSearch<'a>,
    threads: usize,
    shard: Option<Shard>,
    checkpoint: Option<&'a Path>,
    subtrees: usize,
    done: usize,
    resumed: usize,
}

impl Summary<'_> {
    fn result(&self, stats: SearchStats, status: SearchStatus, started: Instant) -> CountResult {
        let search = self.search;
        let search_seconds = started.elapsed().as_secs_f64();
        let exact = status.is_complete() && stats.undecided == 0;
        let status_name = if status.is_complete() && !exact {
            "undecided verdicts"
        } else {
            status.name()
        };
        let (upper_bound, upper_bound_name) =
            architecture_upper_bound(self.problem.bound_network());
        CountResult {
            command: "count".into(),
            version: VERSION.into(),
            network: self.problem.summary(),
            regions: stats.regions,
            complete: exact,
            status: status_name.into(),
            seconds: search.bound_seconds() + search_seconds,
            bound_seconds: search.bound_seconds(),
            search_seconds,
            lp_solves: stats.lp_solves,
            lp_solves_per_region: stats.lp_solves as f64 / stats.regions.max(1) as f64,
            bound_lp_solves: search.bounds().lp_solves(),
            infeasible_lps: stats.infeasible_lps,
            proven_empty: stats.proven_empty,
            walked_witnesses: stats.walked_witnesses,
            witness_reuses: stats.witness_reuses,
            nodes: stats.nodes,
            rejected_witnesses: stats.rejected_witnesses,
            thin_verdicts: stats.thin_verdicts,
            undecided_verdicts: stats.undecided,
            lp_solver: self.settings.lp.name().into(),
            lp_fallbacks: stats.lp_fallbacks,
            lp_iterations: stats.lp_iterations,
            lp_seconds: stats.lp_seconds,
            stable_units: stable_units(search.bounds()),
            upper_bound: upper_bound.to_string(),
            upper_bound_name: upper_bound_name.into(),
            seed: self.settings.seed,
            margin_tolerance: self.settings.margin_tolerance,
            patterns_file: None,
            threads: self.threads,
            subtrees: self.subtrees,
            subtrees_done: self.done,
            subtrees_resumed: self.resumed,
            shard: self.shard.map(|s| describe_shard(Some(s))),
            checkpoint_file: self.checkpoint.map(|p| p.display().to_string()),
        }
    }
}

/// Makes the plan of a count for shards: the search cut into at least `target` subtrees
/// where the tree allows (`count --plan FILE`). Fails when a limit stops the plan step.
pub fn plan_count(
    problem: &Problem,
    settings: &CountSettings,
    run: &Run<'_>,
    target: usize,
) -> Result<PlanFile> {
    settings.check()?;
    if target == 0 {
        bail!("--subtrees must be at least 1");
    }
    let limits = Limits::time_limit(settings.time_limit).with_interrupt(run.cancel.flag());
    let search = RegionSearch::new(problem.network(), problem.domain(), settings.search())?;
    let (plan, outcome) = search.plan(target, &mut AcceptAll, &limits)?;
    if !outcome.status.is_complete() {
        bail!(
            "the plan step was stopped ({}) before it finished; no plan written",
            outcome.status.name()
        );
    }
    Ok(PlanFile::new(
        Fingerprint::of(problem, settings),
        plan,
        outcome.stats,
        outcome.seconds,
    ))
}

/// Hooks that accept everything (the top of the tree finds no regions).
struct AcceptAll;

impl PatternHooks for AcceptAll {
    fn region(&mut self, _pattern: &Pattern, _witness: &[f64]) -> Flow {
        Flow::Continue
    }
}
