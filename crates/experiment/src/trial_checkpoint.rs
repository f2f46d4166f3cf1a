//! Checkpoints and shards of an estimate's trials.
//!
//! The trials of an estimate are fixed before it runs (trial `r` of width `k` uses its own
//! ChaCha8 stream), so they need no plan: shard `I/N` runs the trials `r` with
//! `r mod N == I` of every width. A [`TrialCheckpoint`] records each trial that ended, under
//! a [`TrialFingerprint`] of everything that fixes the trials, rewritten atomically while
//! the estimate runs; a resumed estimate runs only the trials not recorded. A trial is
//! recorded when its level is final: it ran to the end, or its own `--trial-time-limit` cut
//! it (its witnessed level, as a single run reports it). A trial stopped by Ctrl-C, a Slurm
//! signal or the run's `--time-limit` is not recorded: it runs again on resume. [`merge_trials`]
//! reads the bounds off the union of the shards' levels: they are the single run's.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use mipbound_parity::XorWidth;
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::checkpoint::{
    Fingerprint, Recorder, WriterLock, describe_shard, impl_shard_file, read_json,
    read_shard_files, refuse_differences,
};
use crate::count::CountSettings;
use crate::estimate::{
    EstimateResult, EstimateSettings, Plan, TrialRecord, TrialReport, UpperBounds,
    architecture_bounds, best_bound, estimate_part, summarize,
};
use crate::limits::{MAX_TOTAL_TRIALS, MAX_TRIALS};
use crate::problem::{NetworkSummary, Problem};
use crate::run::Run;
use crate::shard::Shard;

/// The `format` of an estimate's checkpoint (or shard result) file.
pub const TRIAL_CHECKPOINT_FORMAT: &str = "mipbound estimate checkpoint";

/// Everything that fixes an estimate's trials and how their levels become bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialFingerprint {
    /// The search the trials run in: network, domain, LP solver, seed, version.
    pub search: Fingerprint,
    /// The XOR widths, in order.
    pub widths: Vec<String>,
    /// Planned trials per width.
    pub trials: usize,
    /// Slack alpha of the bounds.
    pub alpha: f64,
    /// Threshold of the binomial-tail bound.
    pub threshold: usize,
    /// Time limit of each trial.
    pub trial_time_limit: Option<f64>,
}

impl TrialFingerprint {
    /// The fingerprint of the trials of `settings` on `problem`, with the statistics `plan`.
    pub fn of(problem: &Problem, settings: &EstimateSettings, plan: &Plan) -> Self {
        let search = CountSettings {
            seed: settings.seed,
            lp: settings.lp,
            ..CountSettings::default()
        };
        Self {
            search: Fingerprint::of(problem, &search),
            widths: settings.widths.iter().map(ToString::to_string).collect(),
            trials: settings.trials,
            alpha: plan.alpha,
            threshold: plan.threshold,
            trial_time_limit: settings.trial_time_limit,
        }
    }

    /// What differs between two fingerprints, in words (empty when they are equal).
    pub fn differences(&self, other: &TrialFingerprint) -> Vec<&'static str> {
        let mut out = self.search.differences(&other.search);
        for (differs, what) in [
            (self.widths != other.widths, "XOR widths"),
            (self.trials != other.trials, "trials"),
            (self.alpha != other.alpha, "alpha (or confidence)"),
            (self.threshold != other.threshold, "tail threshold"),
            (
                self.trial_time_limit != other.trial_time_limit,
                "trial time limit",
            ),
        ] {
            if differs {
                out.push(what);
            }
        }
        out
    }

    fn require(&self, other: &TrialFingerprint, path: &Path, what: &str) -> Result<()> {
        refuse_differences(&self.differences(other), path, what, "estimate")
    }

    /// The statistics plan the fingerprint fixes.
    fn plan(&self) -> Plan {
        Plan::new(self.alpha, self.threshold, self.trials)
    }
}

/// The trials an estimate (or one shard of it) has finished: a checkpoint while it runs, its
/// result when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialCheckpoint {
    /// [`TRIAL_CHECKPOINT_FORMAT`].
    pub format: String,
    /// The estimate it belongs to.
    pub fingerprint: TrialFingerprint,
    /// The shard this file covers (`None`: every trial).
    pub shard: Option<Shard>,
    /// The network and domain, as the estimate reports them.
    pub network: NetworkSummary,
    /// The architecture's upper bound (the activation bound is not part of the trials).
    pub upper_bounds: UpperBounds,
    /// The trials that ended, by trial then width.
    pub done: Vec<TrialRecord>,
    /// Whether every trial of the shard is done.
    pub complete: bool,
}

impl TrialCheckpoint {
    fn owns(&self, trial: usize) -> bool {
        trial < self.fingerprint.trials && crate::shard::owns(self.shard, trial)
    }

    /// How many trials (over all widths) belong to the shard.
    pub fn owned(&self) -> usize {
        crate::shard::owned(self.shard, self.fingerprint.trials) * self.fingerprint.widths.len()
    }

    fn key(record: &TrialRecord) -> (usize, usize) {
        (record.report.trial, record.width)
    }

    /// Records a trial that ended (once).
    pub fn record(&mut self, record: &TrialRecord) {
        let key = Self::key(record);
        if let Err(at) = self.done.binary_search_by_key(&key, Self::key) {
            self.done.insert(at, record.clone());
        }
        self.complete = self.done.len() == self.owned();
    }

    /// Reads a checkpoint and checks that it is consistent (trials sorted, distinct, of its
    /// widths and in its shard).
    pub fn read(path: &Path) -> Result<Self> {
        let c: TrialCheckpoint = read_json(path, TRIAL_CHECKPOINT_FORMAT, "trials checkpoint")?;
        if let Some(s) = c.shard
            && (s.count == 0 || s.index >= s.count)
        {
            bail!(
                "{}: shard {}/{} is not a shard",
                path.display(),
                s.index,
                s.count
            );
        }
        let f = &c.fingerprint;
        if f.trials > MAX_TRIALS || f.trials.saturating_mul(f.widths.len()) > MAX_TOTAL_TRIALS {
            bail!(
                "{}: {} trials of {} widths is more than an estimate runs",
                path.display(),
                f.trials,
                f.widths.len()
            );
        }
        for pair in c.done.windows(2) {
            if Self::key(&pair[0]) >= Self::key(&pair[1]) {
                bail!(
                    "{}: trial {} is listed out of order or twice",
                    path.display(),
                    pair[1].report.trial
                );
            }
        }
        if let Some(r) = c
            .done
            .iter()
            .find(|r| !c.owns(r.report.trial) || r.width >= c.fingerprint.widths.len())
        {
            bail!(
                "{}: trial {} of width {} is not one of this file's trials",
                path.display(),
                r.report.trial,
                r.width
            );
        }
        if c.complete != (c.done.len() == c.owned()) {
            bail!(
                "{}: 'complete' disagrees with the trials done",
                path.display()
            );
        }
        Ok(c)
    }
}

/// Which trials to run and where to record them.
#[derive(Debug, Clone, Copy, Default)]
pub struct EstimateJob<'a> {
    /// Run only the trials `r` with `r mod N == I` of every width (needs `checkpoint`).
    pub shard: Option<Shard>,
    /// Record the trials that end in this file.
    pub checkpoint: Option<&'a Path>,
    /// Continue from the checkpoint file instead of starting it afresh (a new run refuses
    /// an existing file).
    pub resume: bool,
}

/// Runs an estimate, or one shard of its trials, recording trials as they end and resuming
/// from a checkpoint as `job` says. A complete resumed run reports the same levels and
/// bounds as an uninterrupted one.
pub fn estimate_job(
    problem: &Problem,
    settings: &EstimateSettings,
    run: &Run<'_>,
    job: &EstimateJob<'_>,
) -> Result<EstimateResult> {
    let Some(path) = job.checkpoint else {
        if job.shard.is_some() {
            bail!(
                "--shard needs --checkpoint FILE (or --resume FILE): the shard's result, which `merge --estimate` reads"
            );
        }
        if job.resume {
            bail!("resuming needs a checkpoint file");
        }
        return estimate_part(problem, settings, run, None, &[], &|_, _| {});
    };
    let plan = settings.plan()?;
    if job.shard.is_some() && settings.exact {
        bail!(
            "--exact cannot be used with --shard: count exactly with `count --plan FILE --shard I/N`"
        );
    }
    let lock = WriterLock::acquire_for(path, job.resume)?;
    let fingerprint = TrialFingerprint::of(problem, settings, &plan);
    let mut state = TrialCheckpoint {
        format: TRIAL_CHECKPOINT_FORMAT.into(),
        fingerprint,
        shard: job.shard,
        network: problem.summary(),
        upper_bounds: architecture_bounds(problem),
        done: Vec::new(),
        complete: false,
    };
    state.complete = state.owned() == 0;
    if job.resume {
        let before = TrialCheckpoint::read(path)?;
        state
            .fingerprint
            .require(&before.fingerprint, path, "checkpoint")?;
        if before.shard != state.shard {
            bail!(
                "{}: a checkpoint of {}, this run is {}",
                path.display(),
                describe_shard(before.shard),
                describe_shard(state.shard)
            );
        }
        state.done = before.done;
        state.complete = before.complete;
    }
    let done = state.done.clone();
    let recorder = Recorder::start(path, state, lock)?;
    let result = std::thread::scope(|scope| {
        scope.spawn(|| recorder.write_loop());
        let on_trial = |record: &TrialRecord, last: bool| {
            if last {
                recorder.update(|c| c.record(record));
            }
        };
        let result = estimate_part(problem, settings, run, job.shard, &done, &on_trial);
        recorder.close();
        result
    });
    recorder.finish()?;
    let mut result = result?;
    result.checkpoint_file = Some(path.display().to_string());
    Ok(result)
}

impl_shard_file!(TrialCheckpoint);

/// Reads the bounds off the union of the trial levels of all the shards of one estimate:
/// the levels and bounds of the single run. Refuses files of different estimates, two files
/// for one shard and a trial covered twice; when shards are missing or unfinished, the
/// error names them instead of giving bounds.
pub fn merge_trials(paths: &[PathBuf]) -> Result<EstimateResult> {
    let set = read_shard_files(paths, TrialCheckpoint::read, |first, file, path| {
        first.fingerprint.require(&file.fingerprint, path, "shard")
    })?;
    let (files, count) = (&set.files, set.count());
    let first = &files[0];
    let f = &first.fingerprint;
    let widths = f
        .widths
        .iter()
        .map(|w| w.parse::<XorWidth>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", paths[0].display()))?;
    let mut results: Vec<Vec<Option<TrialReport>>> = vec![vec![None; f.trials]; widths.len()];
    for (k, file) in set.in_shard_order() {
        for r in &file.done {
            if results[r.width][r.report.trial]
                .replace(r.report.clone())
                .is_some()
            {
                bail!(
                    "{}: trial {} of width {} is covered twice",
                    paths[k].display(),
                    r.report.trial,
                    f.widths[r.width]
                );
            }
        }
    }
    set.require_all(paths, "trials", "no bounds")?;
    let plan = f.plan();
    let seconds = results.iter().flatten().flatten().map(|t| t.seconds).sum();
    let widths: Vec<_> = widths
        .into_iter()
        .zip(results)
        .map(|(width, trials)| summarize(width, trials, &plan, true))
        .collect();
    Ok(EstimateResult {
        command: "merge".into(),
        version: VERSION.into(),
        network: first.network.clone(),
        seed: f.search.seed,
        trials_per_width: f.trials,
        alpha: plan.alpha,
        confidence: 1.0 - plan.failure,
        threshold: plan.threshold,
        best_lower_bound: best_bound(&widths, 1.0 - plan.failure),
        widths,
        exact: None,
        upper_bounds: first.upper_bounds.clone(),
        interrupted: false,
        threads: 0,
        seconds,
        shard: None,
        shards: Some(count),
        checkpoint_file: None,
        trials_resumed: 0,
    })
}
