//! `mipbound count`: the exact number of regions (or "at least N" when stopped early).

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mipbound_experiment::Problem;
use mipbound_experiment::checkpoint::PlanFile;
use mipbound_experiment::count::{CountJob, CountResult, CountSettings, count_job, plan_count};
use mipbound_experiment::files::{PendingFile, refuse_overwrite};
use serde::Serialize;

use super::finish;
use crate::args::CountArgs;
use crate::common::{input_files, load_problem, with_run};
use crate::report::{describe_stable, network_rows, print_table, row};

/// Subtrees `--plan` cuts the search into by default: many more than shards, so that the
/// shards' loads even out.
const PLAN_SUBTREES: usize = 4096;

pub fn run(args: CountArgs) -> Result<ExitCode> {
    let files = input_files(&args.net);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    if let Some(path) = &args.patterns {
        refuse_overwrite("--patterns", path, &inputs)?;
        if args.resume.is_some() {
            bail!(
                "--patterns cannot be used with --resume: the patterns of the subtrees done before the stop are not known"
            );
        }
    }
    if args.plan.is_some() && args.shard.is_none() {
        if args.checkpoint.is_some() || args.resume.is_some() || args.patterns.is_some() {
            bail!(
                "--plan FILE without --shard only writes the plan; --checkpoint, --resume and --patterns need --shard I/N"
            );
        }
    } else if args.shard.is_some() && args.checkpoint.is_none() && args.resume.is_none() {
        bail!(
            "--shard needs --checkpoint FILE (or --resume FILE): the shard's result, which `merge --count` reads"
        );
    }
    if let Some(path) = &args.checkpoint {
        refuse_overwrite("--checkpoint", path, &inputs)?;
        if let Some(plan) = &args.plan {
            refuse_overwrite("--checkpoint", path, &[plan])?;
        }
    }
    if let Some(plan) = &args.plan {
        refuse_overwrite("--plan", plan, &inputs)?;
    }
    let problem = load_problem(&args.net)?;
    let settings = CountSettings {
        time_limit: args.time_limit,
        margin_tolerance: args.margin_tolerance,
        tighten: !args.no_tighten,
        seed: args.seed,
        lp: args.lp,
        dynamic_order: !args.static_order,
    };
    settings.check()?;
    if let (Some(path), None) = (&args.plan, args.shard) {
        return write_plan(&args, &problem, &settings, path);
    }
    let plan = match &args.plan {
        Some(path) => Some((PlanFile::read(path)?, path.as_path())),
        None => None,
    };
    let job = CountJob {
        plan: plan.as_ref().map(|(file, path)| (file, *path)),
        shard: args.shard,
        checkpoint: args.checkpoint.as_deref().or(args.resume.as_deref()),
        resume: args.resume.is_some(),
    };
    // The patterns go to a temporary file, moved over --patterns only when the count has
    // ended without an error: a failed run leaves an existing file as it was.
    let mut result = with_run(args.threads, |run| match &args.patterns {
        Some(path) => {
            let (pending, file) = PendingFile::create(path)?;
            let mut writer = BufWriter::new(file);
            // Only the writer's errors are about the file.
            let about_file = |e: anyhow::Error| match e.is::<std::io::Error>() {
                true => e.context(format!("writing {}", path.display())),
                false => e,
            };
            let result =
                count_job(&problem, &settings, run, Some(&mut writer), &job).map_err(about_file)?;
            writer
                .flush()
                .with_context(|| format!("writing {}", path.display()))?;
            drop(writer);
            pending.commit()?;
            Ok(result)
        }
        None => count_job(&problem, &settings, run, None, &job),
    })?;
    result.patterns_file = args.patterns.as_ref().map(|p| p.display().to_string());
    finish(&result, args.json, result.interrupted(), print_text)
}

/// What `count --plan FILE` reports.
#[derive(Serialize)]
struct PlanReport {
    command: &'static str,
    plan_file: String,
    subtrees: usize,
    cut_depth: usize,
    plan_hash: String,
    nodes: u64,
    lp_solves: u64,
    seconds: f64,
}

fn write_plan(
    args: &CountArgs,
    problem: &Problem,
    settings: &CountSettings,
    path: &Path,
) -> Result<ExitCode> {
    let target = args.subtrees.unwrap_or(PLAN_SUBTREES);
    let plan = with_run(args.threads, |run| {
        plan_count(problem, settings, run, target)
    })?;
    plan.write(path)?;
    let report = PlanReport {
        command: "plan",
        plan_file: path.display().to_string(),
        subtrees: plan.plan.subtrees.len(),
        cut_depth: plan.plan.cut_depth,
        plan_hash: plan.plan_hash.clone(),
        nodes: plan.top.nodes,
        lp_solves: plan.top.lp_solves,
        seconds: plan.top_seconds,
    };
    finish(&report, args.json, false, |r| {
        print_table(&[
            row("plan", &r.plan_file),
            row(
                "subtrees",
                format!("{} at depth {}", r.subtrees, r.cut_depth),
            ),
            row(
                "top search",
                format!("{} nodes, {} LPs, {:.3} s", r.nodes, r.lp_solves, r.seconds),
            ),
            row("plan hash", &r.plan_hash),
        ])
    })
}

fn print_text(r: &CountResult) {
    let mut rows = network_rows(&r.network);
    rows.push(row("stable units", describe_stable(&r.stable_units)));
    rows.push(row(
        "regions",
        if r.complete {
            format!("{} (complete)", r.regions)
        } else {
            format!("at least {} ({})", r.regions, r.status)
        },
    ));
    rows.push(row(
        "upper bound",
        format!("{} ({})", r.upper_bound, r.upper_bound_name),
    ));
    rows.push(row(
        "seconds",
        format!(
            "{:.3} (bounds {:.3}, search {:.3})",
            r.seconds, r.bound_seconds, r.search_seconds
        ),
    ));
    rows.push(row(
        "lp solves",
        format!(
            "{} ({:.3} per region; {} infeasible; {} options proven empty without one; {} more for bound tightening; solver {}: {:.1} us per LP, {} HiGHS fallbacks)",
            r.lp_solves,
            r.lp_solves_per_region,
            r.infeasible_lps,
            r.proven_empty,
            r.bound_lp_solves,
            r.lp_solver,
            r.lp_seconds / r.lp_solves.max(1) as f64 * 1e6,
            r.lp_fallbacks
        ),
    ));
    rows.push(row(
        "witnesses",
        format!(
            "{} children certified without an LP, {} more reached by a walk; {} leaf witnesses re-checked",
            r.witness_reuses, r.walked_witnesses, r.rejected_witnesses
        ),
    ));
    rows.push(row(
        "thin LPs",
        format!(
            "{} LP margins within ±{:e} (unit-box coordinates) decided exactly; {} undecided",
            r.thin_verdicts, r.margin_tolerance, r.undecided_verdicts
        ),
    ));
    if let Some(p) = &r.patterns_file {
        rows.push(row("patterns", p));
    }
    if let Some(c) = &r.checkpoint_file {
        rows.push(row(
            "checkpoint",
            format!(
                "{c}: {} subtrees done ({} of them resumed) of the plan's {}{}",
                r.subtrees_done,
                r.subtrees_resumed,
                r.subtrees,
                r.shard
                    .as_ref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default(),
            ),
        ));
    }
    rows.push(row("seed", r.seed));
    rows.push(row("threads", r.threads));
    print_table(&rows);
}
