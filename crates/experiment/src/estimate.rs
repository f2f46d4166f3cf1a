//! MIPBound estimates: random-XOR trials per width, their lower bounds with confidences,
//! and the exact count and upper bounds beside them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use mipbound_bounds::architecture::{HiddenActivations, architecture_upper_bound};
use mipbound_bounds::probabilistic::{LowerBound, alpha_for_confidence, mbound, tail_bound};
use mipbound_bounds::{BigUint, log2};
use mipbound_network::Pattern;
use mipbound_parity::XorWidth;
use mipbound_search::{
    CountRegions, Flow, Limits, LpBackend, RegionSearch, SearchSettings, SearchStatus,
    deadline_after, parallel,
};
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::catalogue::{MilpSettings, activation};
use crate::limits::{MAX_TOTAL_TRIALS, MAX_TRIALS, check_seconds};
use crate::problem::{NetworkSummary, Problem};
use crate::run::{Run, Task, TaskProgress};
use crate::shard::Shard;

/// Confidence of each width's bound when neither it nor alpha is given.
pub const DEFAULT_CONFIDENCE: f64 = 0.99;

/// One trial that started (a trial that never started has no entry: it counts at level 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    /// Trial index within its width.
    pub trial: usize,
    /// Its ChaCha8 stream.
    pub stream: u64,
    /// The level it reached (witnessed when cut short).
    pub level: u32,
    /// `complete`, `time limit`, `interrupted`, ...
    pub status: String,
    /// Seconds.
    pub seconds: f64,
    /// Margin LPs.
    pub lp_solves: u64,
    /// Regions found along the way.
    pub regions_found: u64,
}

/// A lower bound read off the trials' levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundReport {
    /// The level j of the bound 2^(j - alpha).
    pub level: u32,
    /// The slack alpha.
    pub alpha: f64,
    /// log2 of the bound.
    pub log2: f64,
    /// Smallest integer count allowed, as decimal text (`ceil(2^log2)`, at least 1).
    pub value: String,
    /// Probability that the bound holds.
    pub confidence: f64,
}

impl BoundReport {
    fn new(b: &LowerBound) -> Self {
        Self {
            level: b.level,
            alpha: b.alpha,
            log2: b.exponent,
            value: match b.min_count() {
                Some(n) => n.to_string(),
                None => format!("{:.3e}", b.exponent.exp2()),
            },
            confidence: b.confidence(),
        }
    }

    /// `2^7.50 = 182`, or `2^-0.50 (trivial: >= 1)`.
    pub fn describe(&self) -> String {
        if self.log2 <= 0.0 {
            format!("2^{:.2} (trivial: >= 1)", self.log2)
        } else {
            format!("2^{:.2} = {}", self.log2, self.value)
        }
    }
}

/// One XOR width's trials and bounds. Every planned trial counts: `levels` has one entry per
/// planned trial, in trial order; a trial cut short counts at its witnessed level, one that
/// never started at level 0 (neither exceeds the level the trial would have reached, so the
/// bounds keep the planned confidence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthReport {
    /// The XOR width, as printed.
    pub xor: String,
    /// The trials that started, in trial order.
    pub trials: Vec<TrialReport>,
    /// Every planned trial's level, in trial order.
    pub levels: Vec<u32>,
    /// Smallest level.
    pub level_min: Option<u32>,
    /// Median level.
    pub level_median: Option<f64>,
    /// Largest level.
    pub level_max: Option<u32>,
    /// The MBound lower bound 2^(min level - alpha).
    pub lower_bound: Option<BoundReport>,
    /// The binomial-tail lower bound.
    pub tail_bound: Option<BoundReport>,
    /// Trials run to the end: their level is the largest feasible prefix.
    pub exhausted_trials: usize,
    /// Trials stopped by a time limit or Ctrl-C: their level is witnessed.
    pub cut_short_trials: usize,
    /// Trials that never started (the last ones of the width): level 0.
    pub never_started_trials: usize,
    /// Over the trials that started.
    pub seconds_per_trial: f64,
    /// Over the trials that started.
    pub lp_solves_per_trial: f64,
}

/// The exact count beside the estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactReport {
    /// Regions found.
    pub regions: u64,
    /// Whether `regions` is the exact count.
    pub complete: bool,
    /// `complete`, `time limit`, `interrupted`, ...
    pub status: String,
    /// Seconds.
    pub seconds: f64,
    /// Margin LPs.
    pub lp_solves: u64,
}

/// The upper bounds beside the estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpperBounds {
    /// The tightest architecture-only upper bound that applies (Serra et al. 2018 Theorem 1
    /// for ReLU), decimal.
    pub architecture: String,
    /// Its log2.
    pub architecture_log2: f64,
    /// Which bound `architecture` is.
    pub architecture_name: String,
    /// Whether the activation-based bound applies (ReLU networks only).
    pub activation_applies: bool,
    /// The activation-based bound (AAAI 2020) for these weights; `None` when skipped.
    pub activation: Option<String>,
    /// Its log2.
    pub activation_log2: Option<f64>,
    /// MILPs it solved.
    pub activation_milps: Option<usize>,
    /// Seconds of its MILPs.
    pub activation_seconds: Option<f64>,
    /// MILPs of the activation bound skipped at the end of `--time-limit` (each took its
    /// most conservative value, so the bound still holds, only looser).
    pub activation_milps_skipped: Option<usize>,
}

/// The largest lower bound among the widths, with its confidence after the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestBound {
    /// The width that gave it.
    pub xor: String,
    /// log2 of the bound.
    pub log2: f64,
    /// The smallest count it allows (decimal).
    pub value: String,
    /// Union bound over the widths compared: 1 - sum of their failure probabilities.
    pub confidence: f64,
    /// How many widths were compared: those whose bound holds at the planned confidence.
    pub widths_compared: usize,
}

/// The result of an estimate; its JSON is `mipbound estimate --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateResult {
    /// `estimate`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network and domain.
    pub network: NetworkSummary,
    /// Seed of the XOR streams.
    pub seed: u64,
    /// Planned trials per width.
    pub trials_per_width: usize,
    /// Slack alpha.
    pub alpha: f64,
    /// Confidence of each width's bound.
    pub confidence: f64,
    /// Threshold of the binomial-tail bound.
    pub threshold: usize,
    /// One entry per XOR width.
    pub widths: Vec<WidthReport>,
    /// The best lower bound over the widths.
    pub best_lower_bound: Option<BestBound>,
    /// The exact count, when asked for.
    pub exact: Option<ExactReport>,
    /// Upper bounds.
    pub upper_bounds: UpperBounds,
    /// Whether Ctrl-C (a cancel) stopped the run.
    pub interrupted: bool,
    /// Worker threads (0 in a merge of shards).
    pub threads: usize,
    /// Seconds in all (in a merge: the trials' seconds, summed over the shards).
    pub seconds: f64,
    /// The shard of the trials run (`I/N`), if any: then no bounds are read off, they come
    /// from the levels of all the shards (`mipbound merge --estimate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// How many shards were merged (`mipbound merge --estimate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<usize>,
    /// The checkpoint (or shard result) file written, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_file: Option<String>,
    /// Trials taken as done from the checkpoint resumed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub trials_resumed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Stream of trial `r` of a width: `k * 2^32 + r` (`dense` uses k = 0).
fn stream(width: XorWidth, trial: usize) -> u64 {
    let code = match width {
        XorWidth::Fixed(k) => k as u64,
        XorWidth::Dense => 0,
    };
    (code << 32) | trial as u64
}

/// The statistics settings fixed before the trials.
#[derive(Debug)]
pub struct Plan {
    /// Slack alpha of the MBound rule.
    pub alpha: f64,
    /// Threshold c of the binomial-tail rule.
    pub threshold: usize,
    /// Failure probability of each width's bound: 2^(-alpha R).
    pub failure: f64,
}

/// Checks the trial counts and fixes the statistics plan: alpha from `alpha` or from the
/// confidence, the tail threshold (default: half the trials, rounded up).
pub fn plan_from(
    trials: usize,
    widths: &[XorWidth],
    alpha: Option<f64>,
    confidence: Option<f64>,
    threshold: Option<usize>,
) -> Result<Plan> {
    if trials == 0 {
        bail!("--trials must be at least 1");
    }
    if widths.is_empty() {
        bail!("--xor needs at least one width");
    }
    if trials > MAX_TRIALS {
        bail!("--trials must be at most {MAX_TRIALS} (got {trials})");
    }
    if trials.saturating_mul(widths.len()) > MAX_TOTAL_TRIALS {
        bail!(
            "--trials ({trials}) times the number of --xor widths ({}) must be at most {MAX_TOTAL_TRIALS}",
            widths.len()
        );
    }
    let alpha = match (alpha, confidence) {
        (Some(a), _) if !(a.is_finite() && a > 0.0) => bail!("--alpha must be a positive number"),
        (Some(a), _) => a,
        (None, Some(c)) if !(c > 0.0 && c < 1.0) => {
            bail!("--confidence must be strictly between 0 and 1")
        }
        (None, c) => alpha_for_confidence(c.unwrap_or(DEFAULT_CONFIDENCE), trials),
    };
    let threshold = threshold.unwrap_or(trials.div_ceil(2));
    if threshold == 0 || threshold > trials {
        bail!("--threshold must be between 1 and --trials ({trials})");
    }
    Ok(Plan::new(alpha, threshold, trials))
}

impl Plan {
    /// The plan of `trials` trials per width with slack `alpha` and tail threshold
    /// `threshold`.
    pub fn new(alpha: f64, threshold: usize, trials: usize) -> Self {
        Self {
            alpha,
            threshold,
            failure: (-alpha * trials as f64).exp2(),
        }
    }
}

/// What an estimate computes.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateSettings {
    /// XOR widths compared side by side.
    pub widths: Vec<XorWidth>,
    /// Trials per width.
    pub trials: usize,
    /// Confidence of each width's bound (alpha = -log2(1 - C) / trials).
    pub confidence: Option<f64>,
    /// Slack alpha (instead of a confidence).
    pub alpha: Option<f64>,
    /// Threshold of the binomial-tail bound [default: trials/2 rounded up].
    pub threshold: Option<usize>,
    /// Seed of the XOR streams.
    pub seed: u64,
    /// Time budget of the whole run.
    pub time_limit: Option<f64>,
    /// Time limit of each trial.
    pub trial_time_limit: Option<f64>,
    /// Also count exactly.
    pub exact: bool,
    /// Time limit of the exact count.
    pub exact_time_limit: Option<f64>,
    /// Margin LP solver of the trials and the exact count.
    pub lp: LpBackend,
    /// Compute the activation-based upper bound (ReLU networks).
    pub activation_bound: bool,
    /// Time budget of its MILPs.
    pub bounds_time_limit: f64,
    /// Settings of its MILPs.
    pub milp: MilpSettings,
}

impl Default for EstimateSettings {
    fn default() -> Self {
        Self {
            widths: (2..=5).map(XorWidth::Fixed).collect(),
            trials: 10,
            confidence: None,
            alpha: None,
            threshold: None,
            seed: 0,
            time_limit: None,
            trial_time_limit: None,
            exact: false,
            exact_time_limit: None,
            lp: LpBackend::Dense,
            activation_bound: true,
            bounds_time_limit: 120.0,
            milp: MilpSettings::default(),
        }
    }
}

impl EstimateSettings {
    /// Checks the settings and fixes the statistics plan.
    pub fn plan(&self) -> Result<Plan> {
        let plan = plan_from(
            self.trials,
            &self.widths,
            self.alpha,
            self.confidence,
            self.threshold,
        )?;
        check_seconds(&[
            ("--time-limit", self.time_limit),
            ("--trial-time-limit", self.trial_time_limit),
            ("--exact-time-limit", self.exact_time_limit),
            ("--bounds-time-limit", Some(self.bounds_time_limit)),
        ])?;
        self.milp.check()?;
        Ok(plan)
    }
}

/// Runs the trials of every width, then (unless cancelled) the exact count if asked for and
/// the upper bounds.
pub fn estimate(
    problem: &Problem,
    settings: &EstimateSettings,
    run: &Run<'_>,
) -> Result<EstimateResult> {
    estimate_part(problem, settings, run, None, &[], &|_, _| {})
}

/// [`estimate`] of the trials of `shard` (all when `None`), taking `done` as done before and
/// calling `on_trial` as each trial run ends (see [`run_trials`]). A shard gets no activation
/// bound and no lower bounds: those come from all the shards (`merge_trials`); the caller
/// refuses `--exact` with a shard.
pub(crate) fn estimate_part(
    problem: &Problem,
    settings: &EstimateSettings,
    run: &Run<'_>,
    shard: Option<Shard>,
    done: &[TrialRecord],
    on_trial: &(dyn Fn(&TrialRecord, bool) + Sync),
) -> Result<EstimateResult> {
    let plan = settings.plan()?;
    let start = Instant::now();
    let (net, domain) = (problem.network(), problem.domain());
    let search_settings = SearchSettings {
        seed: settings.seed,
        lp: settings.lp,
        ..SearchSettings::default()
    };
    let search = RegionSearch::new(net, domain, search_settings)?;
    let mut upper_bounds = architecture_bounds(problem);
    let activation_wanted =
        upper_bounds.activation_applies && settings.activation_bound && shard.is_none();
    let deadline = settings.time_limit.and_then(|s| deadline_after(start, s));
    // The budget covers the whole run: when the exact count or the activation bound
    // follows, the trials stop at TRIALS_SHARE of it and those get what is left.
    let trials_deadline = settings.time_limit.and_then(|s| {
        let share = if settings.exact || activation_wanted {
            TRIALS_SHARE
        } else {
            1.0
        };
        deadline_after(start, share * s)
    });
    let spec = TrialSpec {
        widths: &settings.widths,
        trials: settings.trials,
        seed: settings.seed,
        trial_time_limit: settings.trial_time_limit,
        deadline: trials_deadline,
        shard,
        done,
    };
    let (widths, mut interrupted) = run_trials_observed(&search, &spec, &plan, run, on_trial)?;
    let exact = if settings.exact && !interrupted {
        let limits = Limits::time_limit(within(settings.exact_time_limit, deadline))
            .with_interrupt(run.cancel.flag());
        let e = run_exact(&search, run, &limits)?;
        interrupted |= e.status == SearchStatus::Interrupted.name();
        Some(e)
    } else {
        None
    };
    let activation = if !activation_wanted || interrupted {
        None
    } else {
        let budget = within(Some(settings.bounds_time_limit), deadline);
        Some(activation(net, domain, &settings.milp, budget)?.1)
    };
    if let Some(a) = activation {
        upper_bounds.activation_log2 = Some(a.log2);
        upper_bounds.activation_milps = Some(a.milps);
        upper_bounds.activation_seconds = Some(a.seconds);
        upper_bounds.activation_milps_skipped = Some(a.milps_skipped);
        upper_bounds.activation = Some(a.bound);
    }
    Ok(EstimateResult {
        command: "estimate".into(),
        version: VERSION.into(),
        network: problem.summary(),
        seed: settings.seed,
        trials_per_width: settings.trials,
        alpha: plan.alpha,
        confidence: 1.0 - plan.failure,
        threshold: plan.threshold,
        best_lower_bound: best_bound(&widths, 1.0 - plan.failure),
        widths,
        exact,
        upper_bounds,
        interrupted,
        threads: run.threads,
        seconds: start.elapsed().as_secs_f64(),
        shard: shard.map(|s| format!("{}/{}", s.index, s.count)),
        shards: None,
        checkpoint_file: None,
        trials_resumed: done.len(),
    })
}

/// The architecture's upper bound, with no activation bound yet (`activation_applies` says
/// whether one can be computed: ReLU networks on a bounded domain).
pub(crate) fn architecture_bounds(problem: &Problem) -> UpperBounds {
    let (architecture, architecture_name): (BigUint, _) =
        architecture_upper_bound(problem.bound_network());
    UpperBounds {
        architecture_log2: log2(&architecture),
        architecture: architecture.to_string(),
        architecture_name: architecture_name.into(),
        activation_applies: HiddenActivations::of(problem.bound_network())
            == HiddenActivations::Relu
            && !problem.is_everywhere(),
        activation: None,
        activation_log2: None,
        activation_milps: None,
        activation_seconds: None,
        activation_milps_skipped: None,
    }
}

/// The part of `--time-limit` the trials get when the exact count or the activation bound
/// follows them.
const TRIALS_SHARE: f64 = 0.8;

/// A stage's own time limit, cut to what is left before the command's deadline.
fn within(limit: Option<f64>, deadline: Option<Instant>) -> Option<f64> {
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64());
    match (limit, left) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What trials to run.
pub struct TrialSpec<'a> {
    /// XOR widths, compared side by side.
    pub widths: &'a [XorWidth],
    /// Trials per width.
    pub trials: usize,
    /// Seed of the XOR streams.
    pub seed: u64,
    /// Time limit of each trial.
    pub trial_time_limit: Option<f64>,
    /// End of the budget of all the trials.
    pub deadline: Option<Instant>,
    /// Run only the trials `r` with `r mod N == I`, of every width (`None`: all of them).
    pub shard: Option<Shard>,
    /// Trials done before (from a checkpoint): reported as they were, not run again.
    pub done: &'a [TrialRecord],
}

/// One trial that ended, of width `width` (an index into the widths): what a checkpoint
/// keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialRecord {
    /// Index of its XOR width.
    pub width: usize,
    /// The trial.
    pub report: TrialReport,
}

/// Runs every (width, trial) on `run.threads` threads; returns the per-width reports (in
/// width order, whatever the threads) and whether a cancel stopped it.
///
/// The trial set is fixed before the run: every planned trial counts. Once a cancel or the
/// deadline stops the run no trial starts; those that never started count at level 0, those
/// cut short at their witnessed level. Jobs go trial by trial across the widths, so a stop
/// leaves every width with (nearly) the same number of started trials. With a shard, only
/// its trials run and are reported, without bounds (they come from all the shards' levels).
pub fn run_trials(
    search: &RegionSearch<'_>,
    spec: &TrialSpec<'_>,
    plan: &Plan,
    run: &Run<'_>,
) -> Result<(Vec<WidthReport>, bool)> {
    run_trials_observed(search, spec, plan, run, |_, _| {})
}

/// [`run_trials`], calling `on_trial(record, last)` as each started trial ends (on its
/// thread); `last` says that its level is final: the trial ran to the end, or its own
/// `trial_time_limit` stopped it (not the budget's share or end, nor a cancel).
fn run_trials_observed(
    search: &RegionSearch<'_>,
    spec: &TrialSpec<'_>,
    plan: &Plan,
    run: &Run<'_>,
    on_trial: impl Fn(&TrialRecord, bool) + Sync,
) -> Result<(Vec<WidthReport>, bool)> {
    let owns = |r: usize| crate::shard::owns(spec.shard, r);
    let owned_trials = crate::shard::owned(spec.shard, spec.trials);
    let nw = spec.widths.len();
    let mut results: Vec<Vec<Option<TrialReport>>> = vec![vec![None; spec.trials]; nw];
    for d in spec.done {
        results[d.width][d.report.trial] = Some(d.report.clone());
    }
    let width_progress: Vec<Box<dyn TaskProgress>> = spec
        .widths
        .iter()
        .zip(&results)
        .map(|(width, done)| {
            let p = run.progress.task(Task::Trials {
                xor: width.to_string(),
                total: owned_trials as u64,
            });
            p.advance(done.iter().flatten().count() as u64);
            p
        })
        .collect();
    let (threads, interrupt) = (run.threads, run.cancel.flag());
    // Job j is trial j / nw of width j % nw; results come back in job order whatever the
    // threads.
    let todo: Vec<usize> = (0..nw * spec.trials)
        .filter(|&j| owns(j / nw) && results[j % nw][j / nw].is_none())
        .collect();
    // Every trial gets the same share of what is left of the budget, so that no width is
    // starved; 15% is held back because a trial notices its deadline only between nodes.
    let share = spec.deadline.map(|d| {
        0.85 * d.saturating_duration_since(Instant::now()).as_secs_f64()
            / todo.len().div_ceil(threads).max(1) as f64
    });
    let failed = AtomicBool::new(false);
    let stop = || {
        interrupt.load(Ordering::Relaxed)
            || failed.load(Ordering::Relaxed)
            || spec.deadline.is_some_and(|d| Instant::now() >= d)
    };
    let mut first_error = None;
    parallel::run_ordered_until(
        todo.len(),
        threads,
        stop,
        |k| {
            let (w, r) = (todo[k] % nw, todo[k] / nw);
            let width = spec.widths[w];
            let own = spec
                .trial_time_limit
                .and_then(|s| deadline_after(Instant::now(), s));
            let deadline = trial_deadline(spec.deadline, own, share);
            let limits = Limits {
                deadline,
                interrupt: Some(interrupt.clone()),
            };
            let o = match search.run_trial(width, spec.seed, stream(width, r), &limits) {
                Ok(o) => o,
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            width_progress[w].advance(1);
            width_progress[w].note(&format!("last level {}", o.level));
            let record = TrialRecord {
                width: w,
                report: TrialReport {
                    trial: r,
                    stream: stream(width, r),
                    level: o.level,
                    status: o.status.name().into(),
                    seconds: o.seconds,
                    lp_solves: o.stats.lp_solves,
                    regions_found: o.stats.regions,
                },
            };
            let last = match o.status {
                SearchStatus::Exhausted => true,
                SearchStatus::TimeLimit => own.is_some() && deadline == own,
                _ => false,
            };
            on_trial(&record, last);
            Ok(Some(record))
        },
        |_, outcome| match outcome {
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Some(Ok(Some(TrialRecord { width, report }))) => {
                let trial = report.trial;
                results[width][trial] = Some(report);
            }
            // Never started: it counts, at level 0.
            Some(Ok(None)) | None => {}
        },
    );
    if let Some(e) = first_error {
        return Err(e.into());
    }
    width_progress.iter().for_each(|p| p.finish());
    let with_bounds = spec.shard.is_none();
    let widths = spec
        .widths
        .iter()
        .zip(results)
        .map(|(&width, trials)| {
            let owned = trials
                .into_iter()
                .enumerate()
                .filter(|(r, _)| owns(*r))
                .map(|(_, t)| t);
            summarize(width, owned.collect(), plan, with_bounds)
        })
        .collect();
    Ok((widths, interrupt.load(Ordering::Relaxed)))
}

/// The exact count on `run.threads` threads (a lower bound when `limits` stop it).
pub fn run_exact(search: &RegionSearch<'_>, run: &Run<'_>, limits: &Limits) -> Result<ExactReport> {
    let progress = run.progress.task(Task::ExactRegions);
    let out = search.run_split(
        run.threads,
        || CountRegions {
            on_region: |_: &Pattern, _: &[f64]| {
                progress.advance(1);
                Flow::Continue
            },
        },
        limits,
        |_| {},
    )?;
    progress.finish();
    Ok(ExactReport {
        regions: out.stats.regions,
        complete: out.is_exact(),
        status: out.status_name().into(),
        seconds: out.seconds,
        lp_solves: out.stats.lp_solves,
    })
}

/// The earliest of the trial's own deadline, its share of the budget and the budget's end.
fn trial_deadline(
    global: Option<Instant>,
    own: Option<Instant>,
    share: Option<f64>,
) -> Option<Instant> {
    let share = share.and_then(|s| deadline_after(Instant::now(), s));
    [own, share, global].into_iter().flatten().min()
}

/// One width's report from its planned trials, in trial order (`None`: never started, it
/// counts at level 0). Without `with_bounds` (a shard's part of the trials) no bound is
/// read off.
pub(crate) fn summarize(
    width: XorWidth,
    planned: Vec<Option<TrialReport>>,
    plan: &Plan,
    with_bounds: bool,
) -> WidthReport {
    let levels: Vec<u32> = planned
        .iter()
        .map(|t| t.as_ref().map_or(0, |t| t.level))
        .collect();
    let trials: Vec<TrialReport> = planned.into_iter().flatten().collect();
    let mut sorted = levels.clone();
    sorted.sort_unstable();
    let n = sorted.len();
    let median = (n > 0).then(|| {
        if n % 2 == 1 {
            sorted[n / 2] as f64
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
        }
    });
    let started = trials.len();
    let per_trial = |total: f64| {
        if started == 0 {
            0.0
        } else {
            total / started as f64
        }
    };
    let exhausted = trials.iter().filter(|t| t.status == "complete").count();
    let (lower_bound, tail_bound) = if with_bounds {
        // `levels` holds every planned trial, so the failure probability is the planned one.
        (
            mbound(&levels, plan.alpha).map(|b| BoundReport::new(&b)),
            tail_bound(&levels, plan.threshold, plan.failure).map(|b| BoundReport::new(&b)),
        )
    } else {
        (None, None)
    };
    WidthReport {
        xor: width.to_string(),
        level_min: sorted.first().copied(),
        level_median: median,
        level_max: sorted.last().copied(),
        lower_bound,
        tail_bound,
        exhausted_trials: exhausted,
        cut_short_trials: started - exhausted,
        never_started_trials: n - started,
        seconds_per_trial: per_trial(trials.iter().map(|t| t.seconds).sum()),
        lp_solves_per_trial: per_trial(trials.iter().map(|t| t.lp_solves as f64).sum()),
        levels,
        trials,
    }
}

/// The largest MBound bound among the widths whose bound holds with probability at least
/// `confidence` (the planned one; a bound of lower confidence is never preferred, however
/// large); its confidence by the union bound over the widths compared.
pub fn best_bound(widths: &[WidthReport], confidence: f64) -> Option<BestBound> {
    let bounds: Vec<(&WidthReport, &BoundReport)> = widths
        .iter()
        .filter_map(|w| w.lower_bound.as_ref().map(|b| (w, b)))
        .filter(|(_, b)| b.confidence >= confidence - 1e-12)
        .collect();
    let failure: f64 = bounds.iter().map(|(_, b)| 1.0 - b.confidence).sum();
    let compared = bounds.len();
    let (w, b) = bounds
        .into_iter()
        .max_by(|a, b| a.1.log2.total_cmp(&b.1.log2))?;
    Some(BestBound {
        xor: w.xor.clone(),
        log2: b.log2,
        value: b.value.clone(),
        confidence: (1.0 - failure).max(0.0),
        widths_compared: compared,
    })
}

/// One CSV row of an estimate: one XOR width (`estimate --csv`).
#[derive(Debug, Serialize)]
pub struct WidthCsvRow<'a> {
    /// The network file.
    pub network: &'a str,
    /// Input dimension.
    pub input_dim: usize,
    /// Hidden widths, `;`-separated.
    pub hidden_widths: String,
    /// The domain.
    pub domain: &'a str,
    /// Seed of the XOR streams.
    pub seed: u64,
    /// The XOR width.
    pub xor: &'a str,
    /// Planned trials.
    pub trials: usize,
    /// Slack alpha.
    pub alpha: f64,
    /// Confidence of the width's bound.
    pub confidence: f64,
    /// Threshold of the tail bound.
    pub threshold: usize,
    /// Every trial's level, `;`-separated.
    pub levels: String,
    /// Smallest level.
    pub level_min: Option<u32>,
    /// Median level.
    pub level_median: Option<f64>,
    /// Largest level.
    pub level_max: Option<u32>,
    /// log2 of the MBound bound.
    pub lower_bound_log2: Option<f64>,
    /// The MBound bound.
    pub lower_bound: Option<&'a str>,
    /// log2 of the tail bound.
    pub tail_bound_log2: Option<f64>,
    /// The tail bound.
    pub tail_bound: Option<&'a str>,
    /// Trials run to the end.
    pub exhausted_trials: usize,
    /// Seconds per started trial.
    pub seconds_per_trial: f64,
    /// Margin LPs per started trial.
    pub lp_solves_per_trial: f64,
    /// The exact count, when run.
    pub exact_regions: Option<u64>,
    /// Whether it completed.
    pub exact_complete: Option<bool>,
    /// Its seconds.
    pub exact_seconds: Option<f64>,
    /// The architecture bound.
    pub upper_bound_architecture: &'a str,
    /// Its name.
    pub upper_bound_architecture_name: &'a str,
    /// The activation-based bound.
    pub upper_bound_activation: Option<&'a str>,
    /// Trials cut short.
    pub cut_short_trials: usize,
    /// Trials never started.
    pub never_started_trials: usize,
}

/// Integers joined by `;`, in one string: a million levels must not cost a million
/// allocations.
fn join<T: std::fmt::Display>(values: &[T]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(3 * values.len());
    for (i, x) in values.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{x}");
    }
    out
}

impl EstimateResult {
    /// One CSV row per XOR width.
    pub fn csv_rows(&self) -> Vec<WidthCsvRow<'_>> {
        let r = self;
        r.widths
            .iter()
            .map(|w| WidthCsvRow {
                network: &r.network.path,
                input_dim: r.network.input_dim,
                hidden_widths: join(&r.network.hidden_widths),
                domain: &r.network.domain,
                seed: r.seed,
                xor: &w.xor,
                trials: w.levels.len(),
                alpha: r.alpha,
                confidence: r.confidence,
                threshold: r.threshold,
                levels: join(&w.levels),
                level_min: w.level_min,
                level_median: w.level_median,
                level_max: w.level_max,
                lower_bound_log2: w.lower_bound.as_ref().map(|b| b.log2),
                lower_bound: w.lower_bound.as_ref().map(|b| b.value.as_str()),
                tail_bound_log2: w.tail_bound.as_ref().map(|b| b.log2),
                tail_bound: w.tail_bound.as_ref().map(|b| b.value.as_str()),
                exhausted_trials: w.exhausted_trials,
                seconds_per_trial: w.seconds_per_trial,
                lp_solves_per_trial: w.lp_solves_per_trial,
                exact_regions: r.exact.as_ref().map(|e| e.regions),
                exact_complete: r.exact.as_ref().map(|e| e.complete),
                exact_seconds: r.exact.as_ref().map(|e| e.seconds),
                upper_bound_architecture: &r.upper_bounds.architecture,
                upper_bound_architecture_name: &r.upper_bounds.architecture_name,
                upper_bound_activation: r.upper_bounds.activation.as_deref(),
                cut_short_trials: w.cut_short_trials,
                never_started_trials: w.never_started_trials,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use mipbound_formulation::Domain;
    use mipbound_network::Network;

    use super::*;
    use crate::run::CancelToken;

    const R: usize = 6;

    fn network() -> (Network, Domain) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/mlp-2-8-8-3.json");
        let net = mipbound_network::formats::load(&path, None).unwrap();
        (net, Domain::uniform(2, -3.0, 3.0).unwrap())
    }

    fn spec(widths: &[XorWidth]) -> TrialSpec<'_> {
        TrialSpec {
            widths,
            trials: R,
            seed: 4,
            trial_time_limit: None,
            deadline: None,
            shard: None,
            done: &[],
        }
    }

    /// Every width keeps all `R` planned trials, and its bounds are read from all of them
    /// at the planned confidence.
    fn assert_every_planned_trial_counts(widths: &[WidthReport], plan: &Plan) {
        assert_eq!(widths.len(), 2);
        for w in widths {
            assert_eq!(w.levels.len(), R, "xor {}", w.xor);
            assert_eq!(
                w.exhausted_trials + w.cut_short_trials + w.never_started_trials,
                R
            );
            assert_eq!(w.trials.len(), R - w.never_started_trials);
            let lower = w.lower_bound.as_ref().unwrap();
            assert_eq!(lower.level, *w.levels.iter().min().unwrap());
            assert!((lower.confidence - (1.0 - plan.failure)).abs() < 1e-15);
            assert!(w.tail_bound.is_some());
        }
    }

    #[test]
    fn interrupt_before_the_trials_counts_every_planned_trial_at_level_0() {
        let (net, domain) = network();
        let search = RegionSearch::new(&net, &domain, SearchSettings::default()).unwrap();
        let widths = [XorWidth::Fixed(2), XorWidth::Fixed(3)];
        let plan = plan_from(R, &widths, None, Some(0.9), None).unwrap();
        let cancel = CancelToken::new();
        cancel.cancel();
        let (reports, interrupted) =
            run_trials(&search, &spec(&widths), &plan, &Run::quiet(2, &cancel)).unwrap();
        assert!(interrupted);
        assert_every_planned_trial_counts(&reports, &plan);
        for w in &reports {
            assert_eq!(w.levels, vec![0; R]);
            assert_eq!(w.never_started_trials, R);
        }
    }

    #[test]
    fn interrupt_after_some_trials_counts_every_planned_trial_at_its_witnessed_level() {
        let (net, domain) = network();
        let search = RegionSearch::new(&net, &domain, SearchSettings::default()).unwrap();
        let widths = [XorWidth::Fixed(2), XorWidth::Fixed(3)];
        let plan = plan_from(R, &widths, None, Some(0.9), None).unwrap();
        let never = CancelToken::new();
        let (full, _) = run_trials(&search, &spec(&widths), &plan, &Run::quiet(1, &never)).unwrap();
        assert!(full.iter().all(|w| w.exhausted_trials == R));
        // A zero trial time limit cuts every trial at its first node: levels are witnessed.
        for (k, trial_time_limit) in [(1, None), (5, None), (8, None), (5, Some(0.0))] {
            let spec = TrialSpec {
                trial_time_limit,
                ..spec(&widths)
            };
            let cancel = CancelToken::new();
            let ended = AtomicUsize::new(0);
            let (reports, interrupted) =
                run_trials_observed(&search, &spec, &plan, &Run::quiet(2, &cancel), |_, _| {
                    if ended.fetch_add(1, Ordering::SeqCst) + 1 == k {
                        cancel.cancel();
                    }
                })
                .unwrap();
            assert!(interrupted);
            assert_every_planned_trial_counts(&reports, &plan);
            let started: usize = reports.iter().map(|w| w.trials.len()).sum();
            // The k-th trial to end stops the run: at most one more (on the other thread)
            // had started; trials go trial by trial across the widths.
            assert!((k..=k + 1).contains(&started), "k {k}: {started} started");
            assert!(reports.iter().all(|w| w.never_started_trials > 0));
            for (w, reference) in reports.iter().zip(&full) {
                for (r, &level) in w.levels.iter().enumerate() {
                    match w.trials.get(r) {
                        Some(t) => {
                            assert_eq!(t.trial, r);
                            assert_eq!(t.level, level);
                            if t.status == "complete" {
                                assert_eq!(level, reference.levels[r]);
                            } else {
                                assert!(["interrupted", "time limit"].contains(&t.status.as_str()));
                                assert!(level <= reference.levels[r]);
                            }
                            if trial_time_limit.is_some() {
                                assert_ne!(t.status, "complete");
                            }
                        }
                        None => assert_eq!(level, 0, "never started: level 0"),
                    }
                }
            }
        }
    }

    fn width_with_bound(xor: &str, log2: f64, confidence: f64) -> WidthReport {
        WidthReport {
            xor: xor.into(),
            trials: Vec::new(),
            levels: Vec::new(),
            level_min: None,
            level_median: None,
            level_max: None,
            lower_bound: Some(BoundReport {
                level: log2.ceil() as u32,
                alpha: 0.5,
                log2,
                value: log2.exp2().ceil().to_string(),
                confidence,
            }),
            tail_bound: None,
            exhausted_trials: 0,
            cut_short_trials: 0,
            never_started_trials: 0,
            seconds_per_trial: 0.0,
            lp_solves_per_trial: 0.0,
        }
    }

    #[test]
    fn best_bound_never_prefers_a_bound_below_the_planned_confidence() {
        let widths = [
            width_with_bound("2", 12.5, 0.23),
            width_with_bound("3", 6.5, 0.989),
            width_with_bound("4", 7.5, 0.989),
        ];
        let best = best_bound(&widths, 0.989).unwrap();
        assert_eq!(best.xor, "4");
        assert_eq!(best.log2, 7.5);
        assert_eq!(best.widths_compared, 2);
        assert!((best.confidence - 0.978).abs() < 1e-12);
        assert!(best_bound(&widths[..1], 0.989).is_none());
    }

    #[test]
    fn trial_counts_are_bounded() {
        let one = [XorWidth::Fixed(3)];
        assert!(plan_from(MAX_TRIALS, &one, None, None, None).is_ok());
        let err = plan_from(MAX_TRIALS + 1, &one, None, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--trials must be at most 1000000 (got 1000001)"
        );
        let many: Vec<XorWidth> = (1..=11).map(XorWidth::Fixed).collect();
        let err = plan_from(MAX_TRIALS, &many, None, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--trials (1000000) times the number of --xor widths (11) must be at most 10000000"
        );
    }
}
