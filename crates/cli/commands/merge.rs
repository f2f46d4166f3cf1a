//! `mipbound merge`: the union of shard results: batch records (one per network, in index
//! order), a count's shards (`--count`) or an estimate's trial shards (`--estimate`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use mipbound_experiment::checkpoint::{MergedCount, merge_counts};
use mipbound_experiment::records::{
    common_widths, csv_header, csv_row, merge, read_records_strict, results_paths, write_records,
};
use mipbound_experiment::trial_checkpoint::merge_trials;

use crate::args::MergeArgs;
use crate::report::{print_json, print_table, row, write_csv_table};

/// The JSONL files named, or found as `results*.jsonl` in the folders named.
fn inputs(args: &MergeArgs) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .and_then(|entries| {
                    entries
                        .map(|e| e.map(|e| e.path()))
                        .collect::<std::io::Result<Vec<_>>>()
                })
                .with_context(|| format!("reading {}", input.display()))?
                .into_iter()
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("results") && n.ends_with(".jsonl"))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{}: holds no results*.jsonl", input.display());
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Every input is read, whole, before the output is written (atomically): a missing or
/// unreadable input, or a line that is not a record, leaves the output folder as it was.
/// The output may be one of the inputs (`merge OUT --out OUT` after sharded runs).
pub fn run(args: MergeArgs) -> Result<ExitCode> {
    if args.count {
        return merge_count_shards(&args);
    }
    if args.estimate {
        let merged = merge_trials(&args.inputs)?;
        if args.json {
            print_json(&merged)?;
        } else {
            crate::estimate_table::print_text(&merged);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        bail!("merge: --json needs --count or --estimate");
    }
    let Some(out) = &args.out else {
        bail!("merge: --out FOLDER is required for batch records");
    };
    let files = inputs(&args)?;
    let lists = files
        .iter()
        .map(|f| read_records_strict(f))
        .collect::<Result<Vec<_>>>()?;
    let merged = merge(lists)?;
    if merged.is_empty() {
        bail!("the inputs hold no records; nothing to merge");
    }
    let widths = common_widths(&merged)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (jsonl, csv) = results_paths(out, None);
    write_records(&jsonl, &merged)?;
    let rows: Vec<Vec<String>> = merged.iter().map(csv_row).collect();
    write_csv_table(&csv, &csv_header(&widths), &rows)?;
    println!(
        "merged {} records from {} files into {} and {}",
        merged.len(),
        files.len(),
        jsonl.display(),
        csv.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The sum of a count's shard files (`merge --count`).
fn merge_count_shards(args: &MergeArgs) -> Result<ExitCode> {
    let merged = merge_counts(&args.inputs)?;
    if args.json {
        print_json(&merged)?;
    } else {
        print_text(&merged);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(m: &MergedCount) {
    let f = &m.fingerprint;
    print_table(&[
        row("network", format!("sha256 {}", f.network)),
        row("domain", &f.domain),
        row(
            "regions",
            if m.complete {
                format!("{} (complete)", m.regions)
            } else {
                format!("{} ({})", m.regions, m.status)
            },
        ),
        row(
            "shards",
            format!(
                "{} ({} subtrees, plan {})",
                m.shards,
                m.subtrees,
                &m.plan_hash[..12]
            ),
        ),
        row(
            "lp solves",
            format!("{} ({} nodes)", m.stats.lp_solves, m.stats.nodes),
        ),
        row("cpu seconds", format!("{:.3}", m.cpu_seconds)),
        row("seed", f.seed),
    ]);
}
