//! `mipbound batch`: every measurement for many networks, one CSV row and one JSON record per
//! network, appended as each finishes; a rerun skips the networks already done.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar};
use mipbound_bounds::analytic::serra2018_theorem1;
use mipbound_bounds::architecture::{HiddenActivations, architecture_upper_bound};
use mipbound_bounds::log2;
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_parity::XorWidth;
use mipbound_search::{Limits, RegionSearch, SearchSettings, SearchStatus};
use serde::{Deserialize, Serialize};

use super::EXIT_INTERRUPTED;
use super::estimate::{
    Plan, TrialSpec, WidthReport, check_seconds, plan_from, run_exact, run_trials,
};
use crate::args::{BatchArgs, MilpArgs};
use crate::common::{interrupt_flag, parse_domain, refuse_overwrite, replace_file, threads};
use crate::progress;

/// The exact count of one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactRecord {
    /// Regions found.
    pub regions: u64,
    /// False when the time limit stopped the count ("at least").
    pub complete: bool,
    /// Seconds.
    pub seconds: f64,
    /// Margin LPs solved.
    pub lp_solves: u64,
}

/// MIPBound results for one XOR width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthRecord {
    /// `2`..`5` or `dense`.
    pub xor: String,
    /// Every trial's level.
    pub levels: Vec<u32>,
    /// log2 of the MBound lower bound.
    pub lower_bound_log2: Option<f64>,
    /// The smallest count it allows (decimal).
    pub lower_bound: Option<String>,
    /// Its confidence.
    pub confidence: Option<f64>,
    /// Seconds of all its trials together.
    pub seconds: f64,
    /// Margin LPs per trial.
    pub lp_solves_per_trial: f64,
}

/// Everything measured on one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Position in the full network list (shards keep the global index).
    pub index: usize,
    /// The network file as given.
    pub network: String,
    /// Input dimension.
    pub input_dim: usize,
    /// Hidden widths.
    pub hidden_widths: Vec<usize>,
    /// The hidden layers' activations (distinct names, `,`-separated).
    #[serde(default)]
    pub hidden_activation: Option<String>,
    /// The domain.
    pub domain: String,
    /// `test_accuracy` from the network's metadata.
    pub test_accuracy: Option<f64>,
    /// The exact count, unless skipped.
    pub exact: Option<ExactRecord>,
    /// MIPBound per XOR width.
    pub mipbound: Vec<WidthRecord>,
    /// Seconds of all trials.
    pub mipbound_seconds: f64,
    /// The activation-based upper bound (decimal), unless skipped (or not a ReLU network).
    pub activation_bound: Option<String>,
    /// Its log2.
    pub activation_bound_log2: Option<f64>,
    /// Seconds of its MILPs.
    pub activation_seconds: Option<f64>,
    /// Theorem 1 of Serra et al. 2018 (decimal); `None` if the network is not ReLU.
    pub theorem1: Option<String>,
    /// Its log2.
    pub theorem1_log2: Option<f64>,
    /// The tightest architecture-only upper bound that applies (decimal): Theorem 1 for
    /// ReLU, Hu & Zhang's Theorem 2 for scalar PWL activations, the maxout bound, ...
    #[serde(default)]
    pub architecture_bound: Option<String>,
    /// Its log2.
    #[serde(default)]
    pub architecture_bound_log2: Option<f64>,
    /// Its name.
    #[serde(default)]
    pub architecture_bound_name: Option<String>,
    /// Seconds of bound tightening.
    pub tightening_seconds: f64,
    /// Seed of this network's XOR streams (the batch seed plus the network's index).
    pub seed: u64,
    /// Trials per width.
    pub trials: usize,
    /// Confidence of each width's bound.
    pub confidence: f64,
}

impl BatchRecord {
    /// The narrowest hidden layer.
    pub fn narrowest(&self) -> usize {
        self.hidden_widths.iter().copied().min().unwrap_or(0)
    }

    /// log2 of the exact count, when it completed.
    pub fn exact_log2(&self) -> Option<f64> {
        self.exact
            .as_ref()
            .filter(|e| e.complete && e.regions > 0)
            .map(|e| (e.regions as f64).log2())
    }
}

/// The settings of one batch (also what a study's `[batch]` table holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchSettings {
    /// Time limit of each exact count; `None` skips the exact count. [default: 600]
    pub exact_time_limit: Option<f64>,
    /// XOR widths. [default: [2, 3, 4, 5]]
    pub xor: Vec<String>,
    /// Trials per width. [default: 10]
    pub trials: usize,
    /// Confidence of each width's lower bound. [default: 0.99]
    pub confidence: f64,
    /// Time limit of each trial. [default: 60]
    pub trial_time_limit: Option<f64>,
    /// Time budget of the activation-based bound's MILPs; `None` skips it. [default: 120]
    pub bounds_time_limit: Option<f64>,
    /// Seed of the XOR streams; network `i` of the list uses `seed + i`. [default: 0]
    pub seed: u64,
    /// The box `[lo, hi]^n0`. [default: [0, 1]]
    pub domain: [f64; 2],
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            exact_time_limit: Some(600.0),
            xor: ["2", "3", "4", "5"].map(String::from).to_vec(),
            trials: 10,
            confidence: 0.99,
            trial_time_limit: Some(60.0),
            bounds_time_limit: Some(120.0),
            seed: 0,
            domain: [0.0, 1.0],
        }
    }
}

/// `I/N`: this process handles the networks whose index is `I` modulo `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard '{s}' must be I/N, e.g. 0/4"))?;
        let (index, count) = (i.trim().parse::<usize>(), n.trim().parse::<usize>());
        match (index, count) {
            (Ok(index), Ok(count)) if count > 0 && index < count => Ok(Shard { index, count }),
            _ => Err(format!("shard '{s}' must be I/N with 0 <= I < N")),
        }
    }
}

impl Shard {
    /// Returns true if and only if network `index` belongs to this shard.
    pub fn owns(self, index: usize) -> bool {
        index % self.count == self.index
    }

    /// File-name suffix: `.shard-I-of-N`.
    pub fn suffix(self) -> String {
        format!(".shard-{}-of-{}", self.index, self.count)
    }
}

/// The results files of a batch in `dir` (per shard when sharded).
pub fn results_paths(dir: &Path, shard: Option<Shard>) -> (PathBuf, PathBuf) {
    let suffix = shard.map(Shard::suffix).unwrap_or_default();
    (
        dir.join(format!("results{suffix}.jsonl")),
        dir.join(format!("results{suffix}.csv")),
    )
}

/// Reads the records of a JSONL file, ignoring a last line cut short by an interruption;
/// no file means no records yet.
pub fn read_records(path: &Path) -> Result<Vec<BatchRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_jsonl(path, true)
}

/// Reads the records of a JSONL file that must exist and hold only whole records.
pub fn read_records_strict(path: &Path) -> Result<Vec<BatchRecord>> {
    read_jsonl(path, false)
}

fn read_jsonl(path: &Path, allow_torn_tail: bool) -> Result<Vec<BatchRecord>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    let mut records = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<BatchRecord>(line) {
            Ok(r) => records.push(r),
            // A torn last line: that network is redone.
            Err(_) if allow_torn_tail && i + 1 == lines.len() => {}
            Err(e) => bail!(
                "{}: line {}: not a batch record ({e})",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(records)
}

/// Writes `records` as `path` (JSONL), replacing it atomically.
pub fn write_records(path: &Path, records: &[BatchRecord]) -> Result<()> {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    replace_file(path, out.as_bytes())
}

/// The CSV header for the given XOR widths.
fn csv_header(widths: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        "network",
        "index",
        "input_dim",
        "hidden_widths",
        "hidden_activation",
        "narrowest_width",
        "test_accuracy",
        "exact_regions",
        "exact_complete",
        "exact_log2",
        "exact_seconds",
    ]
    .map(String::from)
    .to_vec();
    for k in widths {
        h.extend([
            format!("lb_xor{k}_log2"),
            format!("lb_xor{k}"),
            format!("levels_xor{k}"),
            format!("seconds_xor{k}"),
        ]);
    }
    h.extend(
        [
            "mipbound_seconds",
            "ub_activation",
            "ub_activation_log2",
            "activation_seconds",
            "ub_theorem1",
            "ub_theorem1_log2",
            "ub_architecture",
            "ub_architecture_log2",
            "ub_architecture_name",
            "tightening_seconds",
            "seed",
            "trials",
            "confidence",
        ]
        .map(String::from),
    );
    h
}

fn csv_row(r: &BatchRecord) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut row = vec![
        r.network.clone(),
        r.index.to_string(),
        r.input_dim.to_string(),
        r.hidden_widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(";"),
        opt(r.hidden_activation.clone()),
        r.narrowest().to_string(),
        opt(r.test_accuracy.map(|a| a.to_string())),
        opt(r.exact.as_ref().map(|e| e.regions.to_string())),
        opt(r.exact.as_ref().map(|e| e.complete.to_string())),
        opt(r.exact_log2().map(|l| format!("{l:.4}"))),
        opt(r.exact.as_ref().map(|e| format!("{:.3}", e.seconds))),
    ];
    for w in &r.mipbound {
        row.extend([
            opt(w.lower_bound_log2.map(|l| format!("{l:.4}"))),
            opt(w.lower_bound.clone()),
            w.levels
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(";"),
            format!("{:.3}", w.seconds),
        ]);
    }
    row.extend([
        format!("{:.3}", r.mipbound_seconds),
        opt(r.activation_bound.clone()),
        opt(r.activation_bound_log2.map(|l| format!("{l:.4}"))),
        opt(r.activation_seconds.map(|s| format!("{s:.3}"))),
        opt(r.theorem1.clone()),
        opt(r.theorem1_log2.map(|l| format!("{l:.4}"))),
        opt(r.architecture_bound.clone()),
        opt(r.architecture_bound_log2.map(|l| format!("{l:.4}"))),
        opt(r.architecture_bound_name.clone()),
        format!("{:.3}", r.tightening_seconds),
        r.seed.to_string(),
        r.trials.to_string(),
        r.confidence.to_string(),
    ]);
    row
}

/// Rewrites the CSV from the records (keeps the two files consistent after an interruption),
/// replacing it atomically.
pub fn write_csv(path: &Path, widths: &[String], records: &[BatchRecord]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(csv_header(widths))?;
    for r in records {
        w.write_record(csv_row(r))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?;
    replace_file(path, &bytes)
}

/// Appends one record to both files and flushes them.
fn append(jsonl: &Path, csv_path: &Path, record: &BatchRecord) -> Result<()> {
    let mut j = OpenOptions::new()
        .create(true)
        .append(true)
        .open(jsonl)
        .with_context(|| format!("writing {}", jsonl.display()))?;
    writeln!(j, "{}", serde_json::to_string(record)?)?;
    j.sync_data()?;
    let file = OpenOptions::new()
        .append(true)
        .open(csv_path)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(csv_row(record))?;
    w.flush()?;
    Ok(())
}

/// Everything a batch needs beyond the network list.
pub struct BatchRun<'a> {
    /// Measurement settings.
    pub settings: &'a BatchSettings,
    /// MILP settings of the activation bound.
    pub milp: &'a MilpArgs,
    /// Output folder.
    pub out: &'a Path,
    /// This process's shard.
    pub shard: Option<Shard>,
    /// Worker threads.
    pub threads: usize,
}

/// Outcome of a batch.
pub struct BatchOutcome {
    /// Networks measured now.
    pub measured: usize,
    /// Networks skipped because their record already existed.
    pub skipped: usize,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
}

/// Checks a batch's settings; returns its XOR widths and its statistics plan.
pub fn check_settings(s: &BatchSettings, milp: &MilpArgs) -> Result<(Vec<XorWidth>, Plan)> {
    let widths: Vec<XorWidth> = s
        .xor
        .iter()
        .map(|w| w.parse::<XorWidth>().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    let plan = plan_from(s.trials, &widths, None, Some(s.confidence), None)?;
    check_seconds(&[
        ("exact_time_limit", s.exact_time_limit),
        ("trial_time_limit", s.trial_time_limit),
        ("bounds_time_limit", s.bounds_time_limit),
    ])?;
    super::bounds::check_milp_args(milp)?;
    parse_domain(&format!("{},{}", s.domain[0], s.domain[1]), 1)?;
    Ok((widths, plan))
}

/// Measures every network of `nets` this shard owns and has not measured yet.
pub fn run_batch(nets: &[PathBuf], run: &BatchRun<'_>) -> Result<BatchOutcome> {
    let s = run.settings;
    let (widths, plan) = check_settings(s, run.milp)?;
    let (jsonl, csv_path) = results_paths(run.out, run.shard);
    for output in [&jsonl, &csv_path] {
        let inputs: Vec<&Path> = nets.iter().map(PathBuf::as_path).collect();
        refuse_overwrite("--out", output, &inputs)?;
    }
    let mut done = read_records(&jsonl)?;
    let todo: Vec<usize> = (0..nets.len())
        .filter(|&i| run.shard.is_none_or(|sh| sh.owns(i)))
        .collect();
    // Every network still to measure is read before the results are touched: a bad one
    // stops the batch with the files as they were.
    for &i in &todo {
        let name = nets[i].display().to_string();
        if !done.iter().any(|r| r.network == name) {
            let net = mipbound_network::formats::load(&nets[i], None)?;
            parse_domain(&format!("{},{}", s.domain[0], s.domain[1]), net.input_dim())?;
        }
    }
    std::fs::create_dir_all(run.out).with_context(|| format!("creating {}", run.out.display()))?;
    // Repair: the CSV always mirrors the JSONL records (the source of truth).
    write_records(&jsonl, &done)?;
    write_csv(&csv_path, &s.xor, &done)?;
    let interrupt = interrupt_flag();
    let bars = MultiProgress::with_draw_target(progress::draw_target());
    let overall = bars.add(ProgressBar::new(todo.len() as u64));
    overall.set_style(progress::style("networks {bar:30} {pos}/{len} {msg}"));
    let mut outcome = BatchOutcome {
        measured: 0,
        skipped: 0,
        interrupted: false,
    };
    for i in todo {
        let name = nets[i].display().to_string();
        if done.iter().any(|r| r.network == name) {
            outcome.skipped += 1;
            overall.inc(1);
            continue;
        }
        overall.set_message(name.clone());
        let Some(record) = measure(i, &nets[i], run, &widths, &plan, &interrupt, &bars)? else {
            outcome.interrupted = true;
            break;
        };
        append(&jsonl, &csv_path, &record)?;
        done.push(record);
        outcome.measured += 1;
        overall.inc(1);
    }
    overall.finish_and_clear();
    bars.clear().ok();
    Ok(outcome)
}

/// Measures one network; `None` if Ctrl-C stopped it (nothing is recorded then).
fn measure(
    index: usize,
    path: &Path,
    run: &BatchRun<'_>,
    widths: &[XorWidth],
    plan: &Plan,
    interrupt: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    bars: &MultiProgress,
) -> Result<Option<BatchRecord>> {
    let s = run.settings;
    // Each network has its own XOR streams: the same sequences for every network would
    // tie their estimates together.
    let seed = s.seed.wrapping_add(index as u64);
    let net: Network = mipbound_network::formats::load(path, None)?;
    let relu = HiddenActivations::of(&net) == HiddenActivations::Relu;
    let domain: Domain =
        parse_domain(&format!("{},{}", s.domain[0], s.domain[1]), net.input_dim())?;
    let settings = SearchSettings {
        seed,
        ..SearchSettings::default()
    };
    let search = RegionSearch::new(&net, &domain, settings)?;
    let exact = match s.exact_time_limit {
        Some(limit) => {
            let limits = Limits::time_limit(Some(limit)).with_interrupt(interrupt.clone());
            let e = run_exact(&search, run.threads, &limits, bars)?;
            if e.status == SearchStatus::Interrupted.name() {
                return Ok(None);
            }
            Some(ExactRecord {
                regions: e.regions,
                complete: e.complete,
                seconds: e.seconds,
                lp_solves: e.lp_solves,
            })
        }
        None => None,
    };
    let started = Instant::now();
    let spec = TrialSpec {
        widths,
        trials: s.trials,
        seed,
        trial_time_limit: s.trial_time_limit,
        deadline: None,
    };
    let (reports, interrupted) = run_trials(&search, &spec, plan, run.threads, interrupt, bars)?;
    if interrupted {
        return Ok(None);
    }
    let mipbound_seconds = started.elapsed().as_secs_f64();
    let activation = match s.bounds_time_limit {
        Some(budget) if relu => {
            Some(super::bounds::activation(&net, &domain, run.milp, Some(budget))?.1)
        }
        _ => None,
    };
    let theorem1 = relu.then(|| serra2018_theorem1(net.input_dim(), &net.hidden_widths()));
    let (architecture, architecture_name) = architecture_upper_bound(&net);
    let mut activations: Vec<String> = Vec::new();
    for layer in net.hidden_layers() {
        let name = layer.activation.name();
        if !activations.contains(&name) {
            activations.push(name);
        }
    }
    Ok(Some(BatchRecord {
        index,
        network: path.display().to_string(),
        input_dim: net.input_dim(),
        hidden_widths: net.hidden_widths(),
        hidden_activation: Some(activations.join(",")),
        domain: domain.describe(),
        test_accuracy: net.metadata().get("test_accuracy").and_then(|v| v.as_f64()),
        exact,
        mipbound: reports.iter().map(width_record).collect(),
        mipbound_seconds,
        activation_bound_log2: activation.as_ref().map(|a| a.log2),
        activation_seconds: activation.as_ref().map(|a| a.seconds),
        activation_bound: activation.map(|a| a.bound),
        theorem1_log2: theorem1.as_ref().map(log2),
        theorem1: theorem1.map(|t| t.to_string()),
        architecture_bound_log2: Some(log2(&architecture)),
        architecture_bound: Some(architecture.to_string()),
        architecture_bound_name: Some(architecture_name.to_string()),
        tightening_seconds: search.bound_seconds(),
        seed,
        trials: s.trials,
        confidence: 1.0 - plan.failure,
    }))
}

fn width_record(w: &WidthReport) -> WidthRecord {
    WidthRecord {
        xor: w.xor.clone(),
        levels: w.levels.clone(),
        lower_bound_log2: w.lower_bound.as_ref().map(|b| b.log2),
        lower_bound: w.lower_bound.as_ref().map(|b| b.value.clone()),
        confidence: w.lower_bound.as_ref().map(|b| b.confidence),
        seconds: w.seconds_per_trial * w.levels.len() as f64,
        lp_solves_per_trial: w.lp_solves_per_trial,
    }
}

/// The networks named on the command line, or listed in a manifest (one path per line,
/// relative to the manifest's folder; `#` starts a comment).
fn network_list(args: &BatchArgs) -> Result<Vec<PathBuf>> {
    match &args.manifest {
        Some(manifest) => {
            let text = std::fs::read_to_string(manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            let base = manifest.parent().unwrap_or(Path::new("."));
            let nets: Vec<PathBuf> = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(|l| base.join(l))
                .collect();
            if nets.is_empty() {
                bail!("{}: lists no network", manifest.display());
            }
            Ok(nets)
        }
        None if args.nets.is_empty() => bail!("give network files or --manifest FILE"),
        None => Ok(args.nets.clone()),
    }
}

pub fn run(args: BatchArgs) -> Result<ExitCode> {
    let nets = network_list(&args)?;
    if let Some(manifest) = &args.manifest {
        let (jsonl, csv_path) = results_paths(&args.out, args.shard);
        for output in [&jsonl, &csv_path] {
            refuse_overwrite("--out", output, &[manifest])?;
        }
    }
    let settings = BatchSettings {
        exact_time_limit: (!args.no_exact).then_some(args.exact_time_limit),
        xor: args.xor.clone(),
        trials: args.trials,
        confidence: args.confidence,
        trial_time_limit: Some(args.trial_time_limit),
        bounds_time_limit: (!args.no_activation_bound).then_some(args.bounds_time_limit),
        seed: args.seed,
        domain: parse_box_pair(&args.domain)?,
    };
    let run = BatchRun {
        settings: &settings,
        milp: &args.milp,
        out: &args.out,
        shard: args.shard,
        threads: threads(args.threads)?,
    };
    let started = Instant::now();
    let outcome = run_batch(&nets, &run)?;
    let (jsonl, csv_path) = results_paths(&args.out, args.shard);
    println!(
        "{} networks measured, {} already done, in {:.1} s; results in {} and {}",
        outcome.measured,
        outcome.skipped,
        started.elapsed().as_secs_f64(),
        jsonl.display(),
        csv_path.display()
    );
    if outcome.interrupted {
        println!("interrupted: the network in progress was not recorded; rerun to continue");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// `LO,HI` as a pair, checked as a domain would be.
pub fn parse_box_pair(spec: &str) -> Result<[f64; 2]> {
    let d = parse_domain(spec, 1)?;
    Ok([d.lower()[0], d.upper()[0]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition() {
        let s: Shard = "1/4".parse().unwrap();
        assert_eq!((s.index, s.count), (1, 4));
        assert!(s.owns(5) && !s.owns(4));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        for n in 1..6 {
            let shards: Vec<Shard> = (0..n).map(|i| Shard { index: i, count: n }).collect();
            for net in 0..20 {
                assert_eq!(shards.iter().filter(|s| s.owns(net)).count(), 1);
            }
        }
    }
}
