//! `mipbound count`: the exact number of regions (or "at least N" when stopped early).

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Result, bail};
use indicatif::ProgressBar;
use mipbound_bounds::architecture::architecture_upper_bound;
use mipbound_network::{Pattern, pattern_line};
use mipbound_search::{
    Flow, Limits, MAX_MARGIN_TOLERANCE, PatternHooks, RegionSearch, SearchSettings, SearchStatus,
};
use serde::Serialize;

use super::EXIT_INTERRUPTED;
use crate::args::CountArgs;
use crate::common::{
    PendingFile, interrupt_flag, load_network_and_domain, refuse_overwrite, threads,
};
use crate::progress;
use crate::report::{NetworkSummary, print_json, print_table, row};

#[derive(Serialize)]
struct CountReport {
    command: &'static str,
    version: &'static str,
    network: NetworkSummary,
    regions: u64,
    complete: bool,
    status: &'static str,
    seconds: f64,
    bound_seconds: f64,
    search_seconds: f64,
    lp_solves: u64,
    lp_solves_per_region: f64,
    bound_lp_solves: u64,
    infeasible_lps: u64,
    witness_reuses: u64,
    nodes: u64,
    rejected_witnesses: u64,
    /// LP verdicts inside the thin band, decided again in exact arithmetic.
    thin_verdicts: u64,
    /// Thin verdicts the exact check could not settle; the count is exact only if 0.
    undecided_verdicts: u64,
    lp_solver: &'static str,
    lp_fallbacks: u64,
    lp_seconds: f64,
    stable_units: Vec<StableUnits>,
    /// Serra et al. 2018 Theorem 1 for the architecture (decimal: it can exceed 64 bits).
    /// The tightest architecture-only upper bound that applies, and its name.
    upper_bound: String,
    upper_bound_name: &'static str,
    seed: u64,
    margin_tolerance: f64,
    patterns_file: Option<String>,
    threads: usize,
}

/// Stable units of one hidden layer over the domain.
#[derive(Serialize)]
pub struct StableUnits {
    /// Stably active.
    pub active: usize,
    /// Stably inactive.
    pub inactive: usize,
    /// Neither.
    pub unstable: usize,
}

/// Per-layer stable-unit counts from the search's bounds.
pub fn stable_units(bounds: &mipbound_formulation::UnitBounds) -> Vec<StableUnits> {
    bounds
        .stability_counts()
        .into_iter()
        .map(|(active, inactive, unstable)| StableUnits {
            active,
            inactive,
            unstable,
        })
        .collect()
}

/// One line per layer: `layer 1: 2 active, 0 inactive, 8 unstable`.
pub fn describe_stable(units: &[StableUnits]) -> String {
    units
        .iter()
        .enumerate()
        .map(|(l, s)| {
            format!(
                "layer {}: {} active, {} inactive, {} unstable",
                l + 1,
                s.active,
                s.inactive,
                s.unstable
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Hooks of one subtree: progress, and the subtree's pattern lines when they are written.
struct SubtreeHooks<'w> {
    bar: ProgressBar,
    lines: Option<Vec<String>>,
    widths: &'w [usize],
}

impl PatternHooks for SubtreeHooks<'_> {
    fn region(&mut self, pattern: &Pattern, _witness: &[f64]) -> Flow {
        self.bar.inc(1);
        if let Some(lines) = self.lines.as_mut() {
            lines.push(pattern_line(pattern, self.widths));
        }
        Flow::Continue
    }
}

pub fn run(args: CountArgs) -> Result<ExitCode> {
    if let Some(path) = &args.patterns {
        refuse_overwrite("--patterns", path, &[&args.net.net])?;
    }
    let (net, domain) = load_network_and_domain(&args.net)?;
    let band = args.margin_tolerance;
    if !(band > 0.0 && band <= MAX_MARGIN_TOLERANCE) {
        bail!("--margin-tolerance {band}: must lie in (0, {MAX_MARGIN_TOLERANCE:e}]");
    }
    if let Some(t) = args.time_limit
        && (t.is_nan() || t < 0.0)
    {
        bail!("--time-limit must be a non-negative number of seconds");
    }
    let settings = SearchSettings {
        margin_tolerance: args.margin_tolerance,
        tighten_bounds: !args.no_tighten,
        seed: args.seed,
        lp: args.lp,
        dynamic_order: !args.static_order,
    };
    let limits = Limits::time_limit(args.time_limit).with_interrupt(interrupt_flag());
    let search = RegionSearch::new(&net, &domain, settings)?;
    let threads = threads(args.threads)?;

    // The patterns go to a temporary file, moved over --patterns only when the count has
    // ended without an error: a failed run leaves an existing file as it was.
    let (pending, mut writer) = match &args.patterns {
        Some(path) => {
            let (pending, file) = PendingFile::create(path)?;
            (Some(pending), Some(BufWriter::new(file)))
        }
        None => (None, None),
    };
    let widths = net.layer_bits();
    let bar = progress::counter("regions");
    let keep_lines = writer.is_some();
    let mut write_error = None;
    let outcome = search.run_split(
        threads,
        || SubtreeHooks {
            bar: bar.clone(),
            lines: keep_lines.then(Vec::new),
            widths: &widths,
        },
        &limits,
        |hooks| {
            if let (Some(w), Some(lines)) = (writer.as_mut(), hooks.lines)
                && write_error.is_none()
            {
                for line in lines {
                    if let Err(e) = writeln!(w, "{line}") {
                        write_error = Some(e);
                        break;
                    }
                }
            }
        },
    )?;
    bar.finish_and_clear();
    if let Some(path) = &args.patterns {
        let flushed = writer.map_or(Ok(()), |mut w| w.flush());
        if let Some(e) = write_error.take().or(flushed.err()) {
            bail!("writing {}: {e}", path.display());
        }
    }
    if let Some(pending) = pending {
        pending.commit()?;
    }

    let stats = outcome.stats;
    let upper_bound = architecture_upper_bound(&net);
    let report = CountReport {
        command: "count",
        version: env!("CARGO_PKG_VERSION"),
        network: NetworkSummary::new(&args.net.net, &net, &domain),
        regions: stats.regions,
        complete: outcome.is_exact(),
        status: outcome.status_name(),
        seconds: search.bound_seconds() + outcome.seconds,
        bound_seconds: search.bound_seconds(),
        search_seconds: outcome.seconds,
        lp_solves: stats.lp_solves,
        lp_solves_per_region: stats.lp_solves as f64 / stats.regions.max(1) as f64,
        bound_lp_solves: search.bounds().lp_solves(),
        infeasible_lps: stats.infeasible_lps,
        witness_reuses: stats.witness_reuses,
        nodes: stats.nodes,
        rejected_witnesses: stats.rejected_witnesses,
        thin_verdicts: stats.thin_verdicts,
        undecided_verdicts: stats.undecided,
        lp_solver: args.lp.name(),
        lp_fallbacks: stats.lp_fallbacks,
        lp_seconds: stats.lp_seconds,
        stable_units: stable_units(search.bounds()),
        upper_bound: upper_bound.0.to_string(),
        upper_bound_name: upper_bound.1,
        seed: args.seed,
        margin_tolerance: args.margin_tolerance,
        patterns_file: args.patterns.as_ref().map(|p| p.display().to_string()),
        threads,
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&report);
    }
    Ok(match outcome.status {
        SearchStatus::Interrupted => ExitCode::from(EXIT_INTERRUPTED),
        _ => ExitCode::SUCCESS,
    })
}

fn print_text(r: &CountReport) {
    let mut rows = r.network.rows();
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
