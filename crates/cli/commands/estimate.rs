//! `mipbound estimate`: MIPBound lower bounds per XOR width, side by side, with the exact
//! count and the upper bounds in the same table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use anyhow::bail;
use mipbound_experiment::estimate::EstimateSettings;
use mipbound_experiment::files::refuse_overwrite;
use mipbound_experiment::trial_checkpoint::{EstimateJob, estimate_job};

use super::finish;
use crate::args::EstimateArgs;
use crate::common::{input_files, load_problem, with_run};
use crate::estimate_table::print_text;
use crate::report::write_csv;

pub fn run(args: EstimateArgs) -> Result<ExitCode> {
    let files = input_files(&args.net);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    if let Some(path) = &args.csv {
        refuse_overwrite("--csv", path, &inputs)?;
    }
    if args.shard.is_some() && args.checkpoint.is_none() && args.resume.is_none() {
        bail!(
            "--shard needs --checkpoint FILE (or --resume FILE): the shard's result, which `merge --estimate` reads"
        );
    }
    if let Some(path) = &args.checkpoint {
        refuse_overwrite("--checkpoint", path, &inputs)?;
    }
    if let (Some(csv), Some(checkpoint)) =
        (&args.csv, args.checkpoint.as_ref().or(args.resume.as_ref()))
    {
        refuse_overwrite("--csv", csv, &[checkpoint])?;
    }
    let problem = load_problem(&args.net)?;
    let settings = EstimateSettings {
        widths: args.widths.clone(),
        trials: args.trials,
        confidence: args.confidence,
        alpha: args.alpha,
        threshold: args.threshold,
        seed: args.seed,
        time_limit: args.time_limit,
        trial_time_limit: args.trial_time_limit,
        exact: args.exact,
        exact_time_limit: args.exact_time_limit,
        lp: args.lp,
        activation_bound: !args.no_activation_bound,
        bounds_time_limit: args.bounds_time_limit,
        milp: (&args.milp).into(),
    };
    settings.plan()?;
    let job = EstimateJob {
        shard: args.shard,
        checkpoint: args.checkpoint.as_deref().or(args.resume.as_deref()),
        resume: args.resume.is_some(),
    };
    let result = with_run(args.threads, |run| {
        estimate_job(&problem, &settings, run, &job)
    })?;
    if let Some(path) = &args.csv {
        write_csv(path, &result.csv_rows())?;
    }
    finish(&result, args.json, result.interrupted, print_text)
}
