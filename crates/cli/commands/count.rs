//! `mipbound count`: the exact number of regions (or "at least N" when stopped early).

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use mipbound_experiment::count::{CountResult, CountSettings, count};
use mipbound_experiment::files::{PendingFile, refuse_overwrite};

use super::finish;
use crate::args::CountArgs;
use crate::common::{load_problem, with_run};
use crate::report::{describe_stable, network_rows, print_table, row};

pub fn run(args: CountArgs) -> Result<ExitCode> {
    if let Some(path) = &args.patterns {
        refuse_overwrite("--patterns", path, &[&args.net.file.net])?;
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
            let result = count(&problem, &settings, run, Some(&mut writer)).map_err(about_file)?;
            writer
                .flush()
                .with_context(|| format!("writing {}", path.display()))?;
            drop(writer);
            pending.commit()?;
            Ok(result)
        }
        None => count(&problem, &settings, run, None),
    })?;
    result.patterns_file = args.patterns.as_ref().map(|p| p.display().to_string());
    finish(&result, args.json, result.interrupted(), print_text)
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
            "{} ({:.3} per region; {} infeasible; {} more for bound tightening; solver {}: {:.1} us per LP, {} HiGHS fallbacks)",
            r.lp_solves,
            r.lp_solves_per_region,
            r.infeasible_lps,
            r.bound_lp_solves,
            r.lp_solver,
            r.lp_seconds / r.lp_solves.max(1) as f64 * 1e6,
            r.lp_fallbacks
        ),
    ));
    rows.push(row(
        "witnesses",
        format!(
            "{} children certified without an LP; {} leaf witnesses re-checked",
            r.witness_reuses, r.rejected_witnesses
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
    rows.push(row("seed", r.seed));
    rows.push(row("threads", r.threads));
    print_table(&rows);
}
