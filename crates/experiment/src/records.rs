//! Batch records: everything measured on one network, stored one JSON object per line
//! (the source of truth) and mirrored as CSV rows.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::files::replace_file;
use crate::shard::Shard;

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

/// Appends one record to a JSONL file and syncs it.
pub fn append_record(jsonl: &Path, record: &BatchRecord) -> Result<()> {
    let mut j = OpenOptions::new()
        .create(true)
        .append(true)
        .open(jsonl)
        .with_context(|| format!("writing {}", jsonl.display()))?;
    writeln!(j, "{}", serde_json::to_string(record)?)
        .and_then(|()| j.sync_data())
        .with_context(|| format!("writing {}", jsonl.display()))?;
    Ok(())
}

/// Merges record lists: one record per network (identical duplicates are dropped, differing
/// ones refused), sorted by index.
pub fn merge(lists: Vec<Vec<BatchRecord>>) -> Result<Vec<BatchRecord>> {
    let mut merged: Vec<BatchRecord> = Vec::new();
    for record in lists.into_iter().flatten() {
        match merged.iter().find(|r| r.network == record.network) {
            Some(existing) if *existing == record => {}
            Some(_) => bail!("{} has two different records", record.network),
            None => merged.push(record),
        }
    }
    merged.sort_by(|a, b| a.index.cmp(&b.index).then(a.network.cmp(&b.network)));
    Ok(merged)
}

/// The XOR widths of merged records, refusing records measured with different widths.
pub fn common_widths(records: &[BatchRecord]) -> Result<Vec<String>> {
    let widths: Vec<String> = records
        .first()
        .map(|r| r.mipbound.iter().map(|w| w.xor.clone()).collect())
        .unwrap_or_default();
    if records
        .iter()
        .any(|r| r.mipbound.iter().map(|w| &w.xor).ne(widths.iter()))
    {
        bail!("the inputs were measured with different XOR widths");
    }
    Ok(widths)
}

/// The CSV header for the given XOR widths.
pub fn csv_header(widths: &[String]) -> Vec<String> {
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

/// The CSV row of one record.
pub fn csv_row(r: &BatchRecord) -> Vec<String> {
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
