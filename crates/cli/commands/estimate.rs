//! `mipbound estimate`: MIPBound lower bounds per XOR width, side by side, with the exact
//! count and the upper bounds in the same table.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar};
use mipbound_bounds::architecture::{HiddenActivations, architecture_upper_bound};
use mipbound_bounds::probabilistic::{LowerBound, alpha_for_confidence, mbound, tail_bound};
use mipbound_bounds::{BigUint, log2};
use mipbound_network::Pattern;
use mipbound_parity::XorWidth;
use mipbound_search::{
    CountRegions, Flow, Limits, RegionSearch, SearchSettings, SearchStatus, TrialOutcome,
    deadline_after, parallel,
};
use serde::Serialize;

use super::EXIT_INTERRUPTED;
use crate::args::EstimateArgs;
use crate::common::{interrupt_flag, load_network_and_domain, refuse_overwrite, threads};
use crate::progress;
use crate::report::{NetworkSummary, print_json, print_table, row};

const DEFAULT_CONFIDENCE: f64 = 0.99;

/// Most trials per width: past this the slack alpha of a 0.99 bound is below 1e-5, so more
/// trials cannot improve a bound, while each planned trial costs memory and output.
pub const MAX_TRIALS: usize = 1_000_000;

/// Most trials over all the widths.
pub const MAX_TOTAL_TRIALS: usize = 10_000_000;

/// One trial that started (a trial that never started has no entry: it counts at level 0).
#[derive(Serialize)]
pub struct TrialReport {
    pub trial: usize,
    pub stream: u64,
    pub level: u32,
    pub status: &'static str,
    pub seconds: f64,
    pub lp_solves: u64,
    pub regions_found: u64,
}

#[derive(Serialize, Clone)]
pub struct BoundReport {
    pub level: u32,
    pub alpha: f64,
    pub log2: f64,
    /// Smallest integer count allowed, as decimal text (`ceil(2^log2)`, at least 1).
    pub value: String,
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

    fn describe(&self) -> String {
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
#[derive(Serialize)]
pub struct WidthReport {
    pub xor: String,
    /// The trials that started, in trial order.
    pub trials: Vec<TrialReport>,
    pub levels: Vec<u32>,
    pub level_min: Option<u32>,
    pub level_median: Option<f64>,
    pub level_max: Option<u32>,
    pub lower_bound: Option<BoundReport>,
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

#[derive(Serialize)]
pub struct ExactReport {
    pub regions: u64,
    pub complete: bool,
    pub status: &'static str,
    pub seconds: f64,
    pub lp_solves: u64,
}

#[derive(Serialize)]
struct UpperBounds {
    /// The tightest architecture-only upper bound that applies (Serra et al. 2018 Theorem 1
    /// for ReLU), decimal.
    architecture: String,
    architecture_log2: f64,
    /// Which bound `architecture` is.
    architecture_name: &'static str,
    /// Whether the activation-based bound applies (ReLU networks only).
    activation_applies: bool,
    /// The activation-based bound (AAAI 2020) for these weights; `None` when skipped.
    activation: Option<String>,
    activation_log2: Option<f64>,
    activation_milps: Option<usize>,
    activation_seconds: Option<f64>,
    /// MILPs of the activation bound skipped at the end of `--time-limit` (each took its
    /// most conservative value, so the bound still holds, only looser).
    activation_milps_skipped: Option<usize>,
}

#[derive(Serialize, Debug)]
struct BestBound {
    xor: String,
    log2: f64,
    value: String,
    /// Union bound over the widths compared: 1 - sum of their failure probabilities.
    confidence: f64,
    /// How many widths were compared: those whose bound holds at the planned confidence.
    widths_compared: usize,
}

#[derive(Serialize)]
struct EstimateReport {
    command: &'static str,
    version: &'static str,
    network: NetworkSummary,
    seed: u64,
    trials_per_width: usize,
    alpha: f64,
    confidence: f64,
    threshold: usize,
    widths: Vec<WidthReport>,
    best_lower_bound: Option<BestBound>,
    exact: Option<ExactReport>,
    upper_bounds: UpperBounds,
    interrupted: bool,
    threads: usize,
    seconds: f64,
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
    Ok(Plan {
        alpha,
        threshold,
        failure: (-alpha * trials as f64).exp2(),
    })
}

/// Checks that optional time limits are non-negative numbers (huge ones mean no limit).
pub fn check_seconds(limits: &[(&str, Option<f64>)]) -> Result<()> {
    for (flag, value) in limits {
        if let Some(v) = value
            && (v.is_nan() || *v < 0.0)
        {
            bail!("{flag} must be a non-negative number of seconds");
        }
    }
    Ok(())
}

fn plan(args: &EstimateArgs) -> Result<Plan> {
    let plan = plan_from(
        args.trials,
        &args.widths,
        args.alpha,
        args.confidence,
        args.threshold,
    )?;
    check_seconds(&[
        ("--time-limit", args.time_limit),
        ("--trial-time-limit", args.trial_time_limit),
        ("--exact-time-limit", args.exact_time_limit),
        ("--bounds-time-limit", Some(args.bounds_time_limit)),
    ])?;
    super::bounds::check_milp_args(&args.milp)?;
    Ok(plan)
}

pub fn run(args: EstimateArgs) -> Result<ExitCode> {
    if let Some(path) = &args.csv {
        refuse_overwrite("--csv", path, &[&args.net.net])?;
    }
    let (net, domain) = load_network_and_domain(&args.net)?;
    let plan = plan(&args)?;
    let threads = threads(args.threads)?;
    let start = Instant::now();
    let settings = SearchSettings {
        seed: args.seed,
        lp: args.lp,
        ..SearchSettings::default()
    };
    let search = RegionSearch::new(&net, &domain, settings)?;
    // The CSV file is created only once the input is known to be good.
    let mut csv_writer = match &args.csv {
        Some(path) => Some(
            csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => None,
    };
    let interrupt = interrupt_flag();
    let relu = HiddenActivations::of(&net) == HiddenActivations::Relu;
    let activation_wanted = relu && !args.no_activation_bound;
    let deadline = args.time_limit.and_then(|s| deadline_after(start, s));
    // The budget covers the whole command: when the exact count or the activation bound
    // follows, the trials stop at TRIALS_SHARE of it and those get what is left.
    let trials_deadline = args.time_limit.and_then(|s| {
        let share = if args.exact || activation_wanted {
            TRIALS_SHARE
        } else {
            1.0
        };
        deadline_after(start, share * s)
    });

    let bars = MultiProgress::with_draw_target(progress::draw_target());
    let spec = TrialSpec {
        widths: &args.widths,
        trials: args.trials,
        seed: args.seed,
        trial_time_limit: args.trial_time_limit,
        deadline: trials_deadline,
    };
    let (widths, mut interrupted) = run_trials(&search, &spec, &plan, threads, &interrupt, &bars)?;
    let exact = if args.exact && !interrupted {
        let limits = Limits::time_limit(within(args.exact_time_limit, deadline))
            .with_interrupt(interrupt.clone());
        let e = run_exact(&search, threads, &limits, &bars)?;
        interrupted |= e.status == SearchStatus::Interrupted.name();
        Some(e)
    } else {
        None
    };
    bars.clear().ok();

    let activation = if !activation_wanted || interrupted {
        None
    } else {
        let budget = within(Some(args.bounds_time_limit), deadline);
        Some(super::bounds::activation(&net, &domain, &args.milp, budget)?.1)
    };
    let (architecture, architecture_name): (BigUint, _) = architecture_upper_bound(&net);
    let report = EstimateReport {
        command: "estimate",
        version: env!("CARGO_PKG_VERSION"),
        network: NetworkSummary::new(&args.net.net, &net, &domain),
        seed: args.seed,
        trials_per_width: args.trials,
        alpha: plan.alpha,
        confidence: 1.0 - plan.failure,
        threshold: plan.threshold,
        best_lower_bound: best_bound(&widths, 1.0 - plan.failure),
        widths,
        exact,
        upper_bounds: UpperBounds {
            architecture_log2: log2(&architecture),
            architecture: architecture.to_string(),
            architecture_name,
            activation_applies: relu,
            activation_log2: activation.as_ref().map(|a| a.log2),
            activation_milps: activation.as_ref().map(|a| a.milps),
            activation_seconds: activation.as_ref().map(|a| a.seconds),
            activation_milps_skipped: activation.as_ref().map(|a| a.milps_skipped),
            activation: activation.map(|a| a.bound),
        },
        interrupted,
        threads,
        seconds: start.elapsed().as_secs_f64(),
    };
    if let (Some(writer), Some(path)) = (csv_writer.as_mut(), &args.csv) {
        write_csv(writer, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&report);
    }
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
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
}

/// Runs every (width, trial) on `threads` threads; returns the per-width reports (in width
/// order, whatever the threads) and whether Ctrl-C stopped it.
///
/// The trial set is fixed before the run: every planned trial counts. Once Ctrl-C or the
/// deadline stops the run no trial starts; those that never started count at level 0, those
/// cut short at their witnessed level. Jobs go trial by trial across the widths, so a stop
/// leaves every width with (nearly) the same number of started trials.
pub fn run_trials(
    search: &RegionSearch<'_>,
    spec: &TrialSpec<'_>,
    plan: &Plan,
    threads: usize,
    interrupt: &Arc<AtomicBool>,
    bars: &MultiProgress,
) -> Result<(Vec<WidthReport>, bool)> {
    run_trials_observed(search, spec, plan, threads, interrupt, bars, |_| {})
}

/// [`run_trials`], calling `on_trial(job)` as each started trial ends (on its thread).
fn run_trials_observed(
    search: &RegionSearch<'_>,
    spec: &TrialSpec<'_>,
    plan: &Plan,
    threads: usize,
    interrupt: &Arc<AtomicBool>,
    bars: &MultiProgress,
    on_trial: impl Fn(usize) + Sync,
) -> Result<(Vec<WidthReport>, bool)> {
    let width_bars: Vec<ProgressBar> = spec
        .widths
        .iter()
        .map(|width| {
            let bar = bars.add(ProgressBar::new(spec.trials as u64));
            bar.set_style(progress::style(
                "xor {prefix:>5} {bar:30} {pos}/{len} trials {msg}",
            ));
            bar.set_prefix(width.to_string());
            bar
        })
        .collect();
    let nw = spec.widths.len();
    // Job j is trial j / nw of width j % nw; results come back in job order whatever the
    // threads.
    let jobs = nw * spec.trials;
    // Every trial gets the same share of what is left of the budget, so that no width is
    // starved; 15% is held back because a trial notices its deadline only between nodes.
    let share = spec.deadline.map(|d| {
        0.85 * d.saturating_duration_since(Instant::now()).as_secs_f64()
            / jobs.div_ceil(threads) as f64
    });
    let failed = AtomicBool::new(false);
    let stop = || {
        interrupt.load(Ordering::Relaxed)
            || failed.load(Ordering::Relaxed)
            || spec.deadline.is_some_and(|d| Instant::now() >= d)
    };
    let mut per_width: Vec<Vec<TrialReport>> = spec.widths.iter().map(|_| Vec::new()).collect();
    let mut levels: Vec<Vec<u32>> = spec.widths.iter().map(|_| Vec::new()).collect();
    let mut first_error = None;
    parallel::run_ordered_until(
        jobs,
        threads,
        stop,
        |job| {
            let (w, r) = (job % nw, job / nw);
            let width = spec.widths[w];
            let limits = Limits {
                deadline: trial_deadline(spec.deadline, spec.trial_time_limit, share),
                interrupt: Some(interrupt.clone()),
            };
            let outcome = search.run_trial(width, spec.seed, stream(width, r), &limits);
            match &outcome {
                Ok(o) => {
                    width_bars[w].inc(1);
                    width_bars[w].set_message(format!("last level {}", o.level));
                }
                Err(_) => failed.store(true, Ordering::Relaxed),
            }
            on_trial(job);
            outcome
        },
        |job, outcome: Option<Result<TrialOutcome, _>>| {
            let (w, r) = (job % nw, job / nw);
            match outcome {
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Some(Ok(o)) => {
                    levels[w].push(o.level);
                    per_width[w].push(TrialReport {
                        trial: r,
                        stream: stream(spec.widths[w], r),
                        level: o.level,
                        status: o.status.name(),
                        seconds: o.seconds,
                        lp_solves: o.stats.lp_solves,
                        regions_found: o.stats.regions,
                    });
                }
                // Never started: it counts, at level 0.
                None => levels[w].push(0),
            }
        },
    );
    if let Some(e) = first_error {
        return Err(e.into());
    }
    width_bars.iter().for_each(ProgressBar::finish);
    let widths = spec
        .widths
        .iter()
        .zip(per_width.into_iter().zip(levels))
        .map(|(&width, (trials, levels))| summarize(width, trials, levels, plan))
        .collect();
    Ok((widths, interrupt.load(Ordering::Relaxed)))
}

/// The exact count on `threads` threads (a lower bound when `limits` stop it).
pub fn run_exact(
    search: &RegionSearch<'_>,
    threads: usize,
    limits: &Limits,
    bars: &MultiProgress,
) -> Result<ExactReport> {
    let bar = bars.add(progress::counter("regions (exact count)"));
    let out = search.run_split(
        threads,
        || CountRegions {
            on_region: |_: &Pattern, _: &[f64]| {
                bar.inc(1);
                Flow::Continue
            },
        },
        limits,
        |_| {},
    )?;
    bar.finish_and_clear();
    Ok(ExactReport {
        regions: out.stats.regions,
        complete: out.is_exact(),
        status: out.status_name(),
        seconds: out.seconds,
        lp_solves: out.stats.lp_solves,
    })
}

/// The earliest of the trial's own limit, its share of the budget and the budget's end.
fn trial_deadline(
    global: Option<Instant>,
    per_trial: Option<f64>,
    share: Option<f64>,
) -> Option<Instant> {
    let now = Instant::now();
    [
        per_trial.and_then(|s| deadline_after(now, s)),
        share.and_then(|s| deadline_after(now, s)),
        global,
    ]
    .into_iter()
    .flatten()
    .min()
}

/// One width's report from its started trials and the levels of all its planned trials.
fn summarize(
    width: XorWidth,
    trials: Vec<TrialReport>,
    levels: Vec<u32>,
    plan: &Plan,
) -> WidthReport {
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
    WidthReport {
        xor: width.to_string(),
        level_min: sorted.first().copied(),
        level_median: median,
        level_max: sorted.last().copied(),
        // `levels` holds every planned trial, so the failure probability is the planned one.
        lower_bound: mbound(&levels, plan.alpha).map(|b| BoundReport::new(&b)),
        tail_bound: tail_bound(&levels, plan.threshold, plan.failure).map(|b| BoundReport::new(&b)),
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
fn best_bound(widths: &[WidthReport], confidence: f64) -> Option<BestBound> {
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

fn print_text(r: &EstimateReport) {
    let mut rows = r.network.rows();
    rows.push(row(
        "trials",
        format!(
            "{} per width; each width's bound holds with probability >= {:.4} (alpha {:.3}); tail bound: threshold {} of {}",
            r.trials_per_width, r.confidence, r.alpha, r.threshold, r.trials_per_width
        ),
    ));
    rows.push(row(
        "seed",
        format!(
            "{} (trial r of width k: ChaCha8 stream k * 2^32 + r)",
            r.seed
        ),
    ));
    print_table(&rows);
    println!();
    let header = [
        "",
        "levels min/med/max",
        "lower bound",
        "confidence",
        "tail bound",
        "s/trial",
        "LPs/trial",
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for w in &r.widths {
        let levels = match (w.level_min, w.level_median, w.level_max) {
            (Some(a), Some(m), Some(b)) => format!("{a}/{m}/{b}"),
            _ => "-".into(),
        };
        table.push(vec![
            format!("xor {}", w.xor),
            levels,
            w.lower_bound
                .as_ref()
                .map_or("-".into(), BoundReport::describe),
            w.lower_bound
                .as_ref()
                .map_or("-".into(), |b| format!("{:.4}", b.confidence)),
            w.tail_bound
                .as_ref()
                .map_or("-".into(), BoundReport::describe),
            format!("{:.3}", w.seconds_per_trial),
            format!("{:.0}", w.lp_solves_per_trial),
        ]);
    }
    if let Some(e) = &r.exact {
        let count = if e.complete {
            format!(
                "= {} (2^{:.2})",
                e.regions,
                (e.regions.max(1) as f64).log2()
            )
        } else {
            format!(">= {} ({})", e.regions, e.status)
        };
        table.push(vec![
            "exact".into(),
            "-".into(),
            count,
            if e.complete {
                "exact".into()
            } else {
                "-".into()
            },
            "-".into(),
            format!("{:.3}", e.seconds),
            e.lp_solves.to_string(),
        ]);
    }
    table.push(vec![
        "upper (arch.)".into(),
        "-".into(),
        format!(
            "<= {} (2^{:.2}, {})",
            r.upper_bounds.architecture,
            r.upper_bounds.architecture_log2,
            r.upper_bounds.architecture_name
        ),
        "proven".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    let u = &r.upper_bounds;
    table.push(
        match (
            &u.activation,
            u.activation_log2,
            u.activation_seconds,
            u.activation_milps,
        ) {
            (Some(v), Some(l), Some(s), Some(m)) => vec![
                "upper (activ.)".into(),
                "-".into(),
                match u.activation_milps_skipped {
                    Some(k) if k > 0 => {
                        format!("<= {v} (2^{l:.2}; {k} MILPs skipped at the time limit)")
                    }
                    _ => format!("<= {v} (2^{l:.2})"),
                },
                "HiGHS dual bds".into(),
                "-".into(),
                format!("{s:.3}"),
                format!("{m} MILPs"),
            ],
            _ => vec![
                "upper (activ.)".into(),
                "-".into(),
                if u.activation_applies {
                    "not computed".into()
                } else {
                    "not applicable (ReLU only)".into()
                },
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        },
    );
    crate::report::print_columns(&table);
    if let Some(b) = &r.best_lower_bound {
        println!();
        println!(
            "best lower bound: xor {}: 2^{:.2} = {} (holds with probability >= {:.4} after taking the best of {} widths)",
            b.xor, b.log2, b.value, b.confidence, b.widths_compared
        );
    }
    print_cut_short(r);
}

/// Which trials were cut short or never started, width by width, and what they count as.
fn print_cut_short(r: &EstimateReport) {
    let short: Vec<&WidthReport> = r
        .widths
        .iter()
        .filter(|w| w.cut_short_trials + w.never_started_trials > 0)
        .collect();
    if short.is_empty() {
        if r.interrupted {
            println!();
            println!("interrupted after every trial had finished: what follows them is partial");
        }
        return;
    }
    println!();
    println!(
        "{}: every width's bound uses all {} planned trials; a trial cut short counts at the level it witnessed, one never started at level 0, so the bounds keep their stated confidence",
        if r.interrupted {
            "interrupted"
        } else {
            "time limit"
        },
        r.trials_per_width
    );
    for w in short {
        let mut parts = Vec::new();
        for (status, by) in [
            ("time limit", "the time limit"),
            ("interrupted", "Ctrl-C"),
            ("stopped", "a stop"),
        ] {
            let cut: Vec<usize> = w
                .trials
                .iter()
                .filter(|t| t.status == status)
                .map(|t| t.trial)
                .collect();
            if !cut.is_empty() {
                parts.push(format!(
                    "{} cut short by {by} (trials {})",
                    cut.len(),
                    ranges(&cut)
                ));
            }
        }
        if w.never_started_trials > 0 {
            let first = w.levels.len() - w.never_started_trials;
            let last = w.levels.len() - 1;
            parts.push(format!(
                "{} never started (trials {})",
                w.never_started_trials,
                if first == last {
                    first.to_string()
                } else {
                    format!("{first}-{last}")
                }
            ));
        }
        println!("  xor {}: {}", w.xor, parts.join("; "));
    }
}

/// Sorted indices as ranges, `0-3, 5, 9-12`; after 8 ranges, `...`.
fn ranges(sorted: &[usize]) -> String {
    const SHOWN: usize = 8;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => runs.push((i, i)),
        }
    }
    let mut parts: Vec<String> = runs
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    if runs.len() > SHOWN {
        parts.push("...".into());
    }
    parts.join(", ")
}

#[derive(Serialize)]
struct CsvRow<'a> {
    network: &'a str,
    input_dim: usize,
    hidden_widths: String,
    domain: &'a str,
    seed: u64,
    xor: &'a str,
    trials: usize,
    alpha: f64,
    confidence: f64,
    threshold: usize,
    levels: String,
    level_min: Option<u32>,
    level_median: Option<f64>,
    level_max: Option<u32>,
    lower_bound_log2: Option<f64>,
    lower_bound: Option<&'a str>,
    tail_bound_log2: Option<f64>,
    tail_bound: Option<&'a str>,
    exhausted_trials: usize,
    seconds_per_trial: f64,
    lp_solves_per_trial: f64,
    exact_regions: Option<u64>,
    exact_complete: Option<bool>,
    exact_seconds: Option<f64>,
    upper_bound_architecture: &'a str,
    upper_bound_architecture_name: &'a str,
    upper_bound_activation: Option<&'a str>,
    cut_short_trials: usize,
    never_started_trials: usize,
}

fn write_csv(writer: &mut csv::Writer<std::fs::File>, r: &EstimateReport) -> Result<()> {
    // One string per list: a million levels must not cost a million allocations.
    let join = |v: &[u32]| {
        let mut out = String::with_capacity(3 * v.len());
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{x}");
        }
        out
    };
    let widths: Vec<u32> = r.network.hidden_widths.iter().map(|&w| w as u32).collect();
    for w in &r.widths {
        writer.serialize(CsvRow {
            network: &r.network.path,
            input_dim: r.network.input_dim,
            hidden_widths: join(&widths),
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
            upper_bound_architecture_name: r.upper_bounds.architecture_name,
            upper_bound_activation: r.upper_bounds.activation.as_deref(),
            cut_short_trials: w.cut_short_trials,
            never_started_trials: w.never_started_trials,
        })?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use indicatif::ProgressDrawTarget;
    use mipbound_formulation::Domain;
    use mipbound_network::Network;

    use super::*;

    const R: usize = 6;

    fn network() -> (Network, Domain) {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mlp-2-8-8-3.json");
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
        }
    }

    fn hidden() -> MultiProgress {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
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
        let flag = Arc::new(AtomicBool::new(true));
        let (reports, interrupted) =
            run_trials(&search, &spec(&widths), &plan, 2, &flag, &hidden()).unwrap();
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
        let never = Arc::new(AtomicBool::new(false));
        let (full, _) = run_trials(&search, &spec(&widths), &plan, 1, &never, &hidden()).unwrap();
        assert!(full.iter().all(|w| w.exhausted_trials == R));
        // A zero trial time limit cuts every trial at its first node: levels are witnessed.
        for (k, trial_time_limit) in [(1, None), (5, None), (8, None), (5, Some(0.0))] {
            let spec = TrialSpec {
                trial_time_limit,
                ..spec(&widths)
            };
            let flag = Arc::new(AtomicBool::new(false));
            let ended = AtomicUsize::new(0);
            let (reports, interrupted) =
                run_trials_observed(&search, &spec, &plan, 2, &flag, &hidden(), |_| {
                    if ended.fetch_add(1, Ordering::SeqCst) + 1 == k {
                        flag.store(true, Ordering::SeqCst);
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
                                assert!(["interrupted", "time limit"].contains(&t.status));
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

    #[test]
    fn cut_short_trials_print_as_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
        let spread: Vec<usize> = (0..20).map(|i| 2 * i).collect();
        assert_eq!(ranges(&spread), "0, 2, 4, 6, 8, 10, 12, 14, ...");
    }
}
