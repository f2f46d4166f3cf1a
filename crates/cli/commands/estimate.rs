//! `mipbound estimate`: MIPBound lower bounds per XOR width, side by side, with the exact
//! count and the upper bounds in the same table.

use std::process::ExitCode;
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

#[derive(Serialize)]
pub struct WidthReport {
    pub xor: String,
    pub trials: Vec<TrialReport>,
    pub levels: Vec<u32>,
    pub level_min: Option<u32>,
    pub level_median: Option<f64>,
    pub level_max: Option<u32>,
    pub lower_bound: Option<BoundReport>,
    pub tail_bound: Option<BoundReport>,
    pub exhausted_trials: usize,
    pub seconds_per_trial: f64,
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
}

#[derive(Serialize)]
struct BestBound {
    xor: String,
    log2: f64,
    value: String,
    /// Union bound over the widths compared: 1 - sum of their failure probabilities.
    confidence: f64,
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
    let deadline = args.time_limit.and_then(|s| deadline_after(start, s));

    let bars = MultiProgress::with_draw_target(progress::draw_target());
    let spec = TrialSpec {
        widths: &args.widths,
        trials: args.trials,
        seed: args.seed,
        trial_time_limit: args.trial_time_limit,
        deadline,
    };
    let (widths, mut interrupted) = run_trials(&search, &spec, &plan, threads, &interrupt, &bars)?;
    let exact = if args.exact && !interrupted {
        let limits = Limits::time_limit(args.exact_time_limit).with_interrupt(interrupt.clone());
        let e = run_exact(&search, threads, &limits, &bars)?;
        interrupted |= e.status == SearchStatus::Interrupted.name();
        Some(e)
    } else {
        None
    };
    bars.clear().ok();

    let relu = HiddenActivations::of(&net) == HiddenActivations::Relu;
    let activation = if args.no_activation_bound || interrupted || !relu {
        None
    } else {
        Some(super::bounds::activation(&net, &domain, &args.milp, Some(args.bounds_time_limit))?.1)
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
        best_lower_bound: best_bound(&widths),
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
pub fn run_trials(
    search: &RegionSearch<'_>,
    spec: &TrialSpec<'_>,
    plan: &Plan,
    threads: usize,
    interrupt: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    bars: &MultiProgress,
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
    // One job per (width, trial); results come back in job order whatever the threads.
    let jobs = spec.widths.len() * spec.trials;
    // Every trial gets the same share of what is left of the budget, so that no width is
    // starved; 15% is held back because a trial notices its deadline only between nodes.
    let share = spec.deadline.map(|d| {
        0.85 * d.saturating_duration_since(Instant::now()).as_secs_f64()
            / jobs.div_ceil(threads) as f64
    });
    let mut per_width: Vec<Vec<TrialReport>> = spec.widths.iter().map(|_| Vec::new()).collect();
    let mut interrupted = false;
    let mut first_error = None;
    parallel::run_ordered(
        jobs,
        threads,
        |job| {
            let (w, r) = (job / spec.trials, job % spec.trials);
            let width = spec.widths[w];
            let limits = Limits {
                deadline: trial_deadline(spec.deadline, spec.trial_time_limit, share),
                interrupt: Some(interrupt.clone()),
            };
            let outcome = search.run_trial(width, spec.seed, stream(width, r), &limits);
            if let Ok(o) = &outcome
                && o.status != SearchStatus::Interrupted
            {
                width_bars[w].inc(1);
                width_bars[w].set_message(format!("last level {}", o.level));
            }
            outcome
        },
        |job, outcome: Result<TrialOutcome, _>| {
            let (w, r) = (job / spec.trials, job % spec.trials);
            match outcome {
                Err(e) => {
                    first_error.get_or_insert(e);
                }
                Ok(o) if o.status == SearchStatus::Interrupted => interrupted = true,
                Ok(o) => per_width[w].push(TrialReport {
                    trial: r,
                    stream: stream(spec.widths[w], r),
                    level: o.level,
                    status: o.status.name(),
                    seconds: o.seconds,
                    lp_solves: o.stats.lp_solves,
                    regions_found: o.stats.regions,
                }),
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
        .zip(per_width)
        .filter(|(_, trials)| !(interrupted && trials.is_empty()))
        .map(|(&width, trials)| summarize(width, trials, plan))
        .collect();
    Ok((widths, interrupted))
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
        complete: out.status.is_complete(),
        status: out.status.name(),
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

fn summarize(width: XorWidth, trials: Vec<TrialReport>, plan: &Plan) -> WidthReport {
    let levels: Vec<u32> = trials.iter().map(|t| t.level).collect();
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
    let per_trial = |total: f64| if n == 0 { 0.0 } else { total / n as f64 };
    WidthReport {
        xor: width.to_string(),
        level_min: sorted.first().copied(),
        level_median: median,
        level_max: sorted.last().copied(),
        // After Ctrl-C, n may be below the planned number of trials: the failure
        // probability is then computed for the n trials that finished.
        lower_bound: mbound(&levels, plan.alpha).map(|b| BoundReport::new(&b)),
        tail_bound: tail_bound(&levels, plan.threshold, plan.failure).map(|b| BoundReport::new(&b)),
        exhausted_trials: trials.iter().filter(|t| t.status == "complete").count(),
        seconds_per_trial: per_trial(trials.iter().map(|t| t.seconds).sum()),
        lp_solves_per_trial: per_trial(trials.iter().map(|t| t.lp_solves as f64).sum()),
        levels,
        trials,
    }
}

/// The largest MBound bound over the widths; its confidence by the union bound.
fn best_bound(widths: &[WidthReport]) -> Option<BestBound> {
    let bounds: Vec<(&WidthReport, &BoundReport)> = widths
        .iter()
        .filter_map(|w| w.lower_bound.as_ref().map(|b| (w, b)))
        .collect();
    let failure: f64 = bounds.iter().map(|(_, b)| 1.0 - b.confidence).sum();
    let (w, b) = bounds
        .into_iter()
        .max_by(|a, b| a.1.log2.total_cmp(&b.1.log2))?;
    Some(BestBound {
        xor: w.xor.clone(),
        log2: b.log2,
        value: b.value.clone(),
        confidence: (1.0 - failure).max(0.0),
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
            _ => "no trial finished".into(),
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
                format!("<= {v} (2^{l:.2})"),
                "proven".into(),
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
            b.xor,
            b.log2,
            b.value,
            b.confidence,
            r.widths.len()
        );
    }
    if r.interrupted {
        println!("interrupted: bounds use only the trials that finished");
    }
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
}

fn write_csv(writer: &mut csv::Writer<std::fs::File>, r: &EstimateReport) -> Result<()> {
    let join = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(";");
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
        })?;
    }
    writer.flush()?;
    Ok(())
}
