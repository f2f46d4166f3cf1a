//! Batches: every measurement (exact count, MIPBound trials, upper bounds) for many
//! networks, one record per network, appended as each finishes; a rerun skips the networks
//! already done. Shards split a batch over independent processes.

pub use crate::shard::Shard;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mipbound_bounds::analytic::serra2018_theorem1;
use mipbound_bounds::architecture::{HiddenActivations, architecture_upper_bound};
use mipbound_bounds::log2;
use mipbound_parity::XorWidth;
use mipbound_search::{Limits, RegionSearch, SearchSettings, SearchStatus};
use serde::{Deserialize, Serialize};

use crate::catalogue::{MilpSettings, activation};
use crate::domains::DomainSpec;
use crate::estimate::{Plan, TrialSpec, WidthReport, plan_from, run_exact, run_trials};
use crate::files::refuse_overwrite;
use crate::limits::check_seconds;
use crate::problem::{Problem, parse_box};
use crate::records::{
    BatchRecord, ExactRecord, WidthRecord, append_record, read_records, results_paths,
    write_records,
};
use crate::run::{Run, Task};

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
    /// The input box `[lo, hi]^n0`. [default: [0, 1]]
    pub domain: [f64; 2],
    /// A domain spec inside the input box (`--domain`); `None`: the input box.
    pub domain_spec: Option<String>,
}

impl BatchSettings {
    /// Checks the box and the domain spec.
    pub fn check_domain(&self) -> Result<()> {
        parse_box(&format!("{},{}", self.domain[0], self.domain[1]), 1)?;
        self.spec().map(|_| ())
    }

    fn spec(&self) -> Result<DomainSpec> {
        match &self.domain_spec {
            Some(spec) => DomainSpec::parse(spec),
            None => Ok(DomainSpec::InputBox),
        }
    }

    /// The network at `path` over the batch's domain.
    pub fn problem(&self, path: &Path) -> Result<Problem> {
        let box_spec = format!("{},{}", self.domain[0], self.domain[1]);
        Problem::load_with_domain(path, None, &box_spec, &self.spec()?)
    }
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
            domain_spec: None,
        }
    }
}

/// Everything a batch needs beyond the network list.
pub struct BatchRun<'a> {
    /// Measurement settings.
    pub settings: &'a BatchSettings,
    /// MILP settings of the activation bound.
    pub milp: &'a MilpSettings,
    /// Output folder.
    pub out: &'a Path,
    /// This process's shard.
    pub shard: Option<Shard>,
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
pub fn check_settings(s: &BatchSettings, milp: &MilpSettings) -> Result<(Vec<XorWidth>, Plan)> {
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
    milp.check()?;
    s.check_domain()?;
    Ok((widths, plan))
}

/// Receives the records of a batch as they are stored (the CLI mirrors them as CSV).
pub trait RecordSink {
    /// Every record stored so far (at the start, after the JSONL was repaired).
    fn restart(&mut self, records: &[BatchRecord]) -> Result<()>;
    /// One more record, just stored.
    fn append(&mut self, record: &BatchRecord) -> Result<()>;
}

/// Measures every network of `nets` this shard owns and has not measured yet, appending one
/// record per network to the shard's JSONL file (and to `sink`) as each finishes.
pub fn run_batch(
    nets: &[PathBuf],
    batch: &BatchRun<'_>,
    run: &Run<'_>,
    sink: &mut dyn RecordSink,
) -> Result<BatchOutcome> {
    let s = batch.settings;
    let (widths, plan) = check_settings(s, batch.milp)?;
    let (jsonl, csv_path) = results_paths(batch.out, batch.shard);
    for output in [&jsonl, &csv_path] {
        let inputs: Vec<&Path> = nets.iter().map(PathBuf::as_path).collect();
        refuse_overwrite("--out", output, &inputs)?;
    }
    let mut done = read_records(&jsonl)?;
    let todo: Vec<usize> = (0..nets.len())
        .filter(|&i| crate::shard::owns(batch.shard, i))
        .collect();
    // Every network still to measure is read before the results are touched: a bad one
    // stops the batch with the files as they were.
    for &i in &todo {
        let name = nets[i].display().to_string();
        if !done.iter().any(|r| r.network == name) {
            s.problem(&nets[i])?;
        }
    }
    std::fs::create_dir_all(batch.out)
        .with_context(|| format!("creating {}", batch.out.display()))?;
    // Repair: the CSV always mirrors the JSONL records (the source of truth).
    write_records(&jsonl, &done)?;
    sink.restart(&done)?;
    let overall = run.progress.task(Task::Networks {
        total: todo.len() as u64,
    });
    let mut outcome = BatchOutcome {
        measured: 0,
        skipped: 0,
        interrupted: false,
    };
    for i in todo {
        let name = nets[i].display().to_string();
        if done.iter().any(|r| r.network == name) {
            outcome.skipped += 1;
            overall.advance(1);
            continue;
        }
        overall.note(&name);
        let Some(record) = measure(i, &nets[i], batch, &widths, &plan, run)? else {
            outcome.interrupted = true;
            break;
        };
        append_record(&jsonl, &record)?;
        sink.append(&record)?;
        done.push(record);
        outcome.measured += 1;
        overall.advance(1);
    }
    overall.finish();
    Ok(outcome)
}

/// Measures one network; `None` if Ctrl-C stopped it (nothing is recorded then).
fn measure(
    index: usize,
    path: &Path,
    batch: &BatchRun<'_>,
    widths: &[XorWidth],
    plan: &Plan,
    run: &Run<'_>,
) -> Result<Option<BatchRecord>> {
    let s = batch.settings;
    // Each network has its own XOR streams: the same sequences for every network would
    // tie their estimates together.
    let seed = s.seed.wrapping_add(index as u64);
    let problem = s.problem(path)?;
    let (net, domain) = (problem.network(), problem.domain());
    let bound_net = problem.bound_network();
    let relu =
        HiddenActivations::of(bound_net) == HiddenActivations::Relu && !problem.is_everywhere();
    let settings = SearchSettings {
        seed,
        ..SearchSettings::default()
    };
    let search = RegionSearch::new(net, domain, settings)?;
    let exact = match s.exact_time_limit {
        Some(limit) => {
            let limits = Limits::time_limit(Some(limit)).with_interrupt(run.cancel.flag());
            let e = run_exact(&search, run, &limits)?;
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
        shard: None,
        done: &[],
    };
    let (reports, interrupted) = run_trials(&search, &spec, plan, run)?;
    if interrupted {
        return Ok(None);
    }
    let mipbound_seconds = started.elapsed().as_secs_f64();
    let activation = match s.bounds_time_limit {
        Some(budget) if relu => Some(activation(net, domain, batch.milp, Some(budget))?.1),
        _ => None,
    };
    let theorem1 =
        relu.then(|| serra2018_theorem1(bound_net.input_dim(), &bound_net.hidden_widths()));
    let (architecture, architecture_name) = architecture_upper_bound(bound_net);
    let original = problem.original();
    let mut activations: Vec<String> = Vec::new();
    for layer in original.hidden_layers() {
        let name = layer.activation.name();
        if !activations.contains(&name) {
            activations.push(name);
        }
    }
    Ok(Some(BatchRecord {
        index,
        network: path.display().to_string(),
        input_dim: original.input_dim(),
        hidden_widths: original.hidden_widths(),
        hidden_activation: Some(activations.join(",")),
        domain: problem.summary().domain,
        test_accuracy: original
            .metadata()
            .get("test_accuracy")
            .and_then(|v| v.as_f64()),
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

/// The networks listed in a manifest: one path per line, relative to the manifest's folder;
/// `#` starts a comment.
pub fn read_manifest(manifest: &Path) -> Result<Vec<PathBuf>> {
    {
        {
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
    }
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
