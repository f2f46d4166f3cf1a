//! `mipbound batch`: every measurement for many networks, one CSV row and one JSON record per
//! network, appended as each finishes; a rerun skips the networks already done.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use mipbound_experiment::batch::{BatchRun, BatchSettings, read_manifest, run_batch};
use mipbound_experiment::files::refuse_overwrite;
use mipbound_experiment::problem::parse_box_pair;
use mipbound_experiment::records::results_paths;

use super::EXIT_INTERRUPTED;
use crate::args::BatchArgs;
use crate::common::with_run;
use crate::report::CsvRecords;

pub fn run(args: BatchArgs) -> Result<ExitCode> {
    let nets = match &args.manifest {
        Some(manifest) => {
            let (jsonl, csv_path) = results_paths(&args.out, args.shard);
            for output in [&jsonl, &csv_path] {
                refuse_overwrite("--out", output, &[manifest])?;
            }
            read_manifest(manifest)?
        }
        None if args.nets.is_empty() => bail!("give network files or --manifest FILE"),
        None => args.nets.clone(),
    };
    let settings = BatchSettings {
        exact_time_limit: (!args.no_exact).then_some(args.exact_time_limit),
        xor: args.xor.clone(),
        trials: args.trials,
        confidence: args.confidence,
        trial_time_limit: Some(args.trial_time_limit),
        bounds_time_limit: (!args.no_activation_bound).then_some(args.bounds_time_limit),
        seed: args.seed,
        domain: parse_box_pair(&args.domain)?,
        domain_spec: args.domain_spec.clone(),
    };
    let batch = BatchRun {
        settings: &settings,
        milp: &(&args.milp).into(),
        out: &args.out,
        shard: args.shard,
    };
    let started = Instant::now();
    let (jsonl, csv_path) = results_paths(&args.out, args.shard);
    let mut csv = CsvRecords {
        path: csv_path.clone(),
        widths: settings.xor.clone(),
    };
    let outcome = with_run(args.threads, |run| run_batch(&nets, &batch, run, &mut csv))?;
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
