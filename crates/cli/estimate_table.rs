//! The table of `mipbound estimate`, of one shard of it, and of `mipbound merge --estimate`.

use mipbound_experiment::estimate::{BoundReport, EstimateResult, WidthReport};
use mipbound_experiment::shard::Shard;

use crate::report::{network_rows, print_columns, print_table, row};

/// The table of an estimate, of a shard of one, or of merged shards.
pub fn print_text(r: &EstimateResult) {
    let mut rows = network_rows(&r.network);
    rows.push(row(
        "trials",
        format!(
            "{} per width; each width's bound holds with probability >= {:.4} (alpha {:.3}); tail bound: threshold {} of {}",
            r.trials_per_width, r.confidence, r.alpha, r.threshold, r.trials_per_width
        ),
    ));
    rows.push(row(
        "seed",
        format!(
            "{} (trial r of width k: ChaCha8 stream k * 2^32 + r)",
            r.seed
        ),
    ));
    if let Some(shard) = &r.shard {
        rows.push(row(
            "shard",
            format!(
                "{shard}: {} trials of every width; the bounds come from all the shards (`mipbound merge --estimate`)",
                planned_trials(r).len()
            ),
        ));
    }
    if let Some(n) = r.shards {
        rows.push(row(
            "shards",
            format!("{n} merged; seconds summed over their trials"),
        ));
    }
    if let Some(c) = &r.checkpoint_file {
        let done: usize = r.widths.iter().map(|w| w.trials.len()).sum();
        rows.push(row(
            "checkpoint",
            format!(
                "{c}: {done} trials ended ({} of them resumed) of the {}",
                r.trials_resumed,
                match &r.shard {
                    Some(_) => format!("shard's {}", planned_trials(r).len() * r.widths.len()),
                    None => format!("estimate's {}", r.trials_per_width * r.widths.len()),
                }
            ),
        ));
    }
    print_table(&rows);
    println!();
    let header = [
        "",
        "levels min/med/max",
        "lower bound",
        "confidence",
        "tail bound",
        "s/trial",
        "LPs/trial",
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for w in &r.widths {
        let levels = match (w.level_min, w.level_median, w.level_max) {
            (Some(a), Some(m), Some(b)) => format!("{a}/{m}/{b}"),
            _ => "-".into(),
        };
        table.push(vec![
            format!("xor {}", w.xor),
            levels,
            w.lower_bound
                .as_ref()
                .map_or("-".into(), BoundReport::describe),
            w.lower_bound
                .as_ref()
                .map_or("-".into(), |b| format!("{:.4}", b.confidence)),
            w.tail_bound
                .as_ref()
                .map_or("-".into(), BoundReport::describe),
            format!("{:.3}", w.seconds_per_trial),
            format!("{:.0}", w.lp_solves_per_trial),
        ]);
    }
    if let Some(e) = &r.exact {
        let count = if e.complete {
            format!(
                "= {} (2^{:.2})",
                e.regions,
                (e.regions.max(1) as f64).log2()
            )
        } else {
            format!(">= {} ({})", e.regions, e.status)
        };
        table.push(vec![
            "exact".into(),
            "-".into(),
            count,
            if e.complete {
                "exact".into()
            } else {
                "-".into()
            },
            "-".into(),
            format!("{:.3}", e.seconds),
            e.lp_solves.to_string(),
        ]);
    }
    table.push(vec![
        "upper (arch.)".into(),
        "-".into(),
        format!(
            "<= {} (2^{:.2}, {})",
            r.upper_bounds.architecture,
            r.upper_bounds.architecture_log2,
            r.upper_bounds.architecture_name
        ),
        "proven".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    let u = &r.upper_bounds;
    table.push(
        match (
            &u.activation,
            u.activation_log2,
            u.activation_seconds,
            u.activation_milps,
        ) {
            (Some(v), Some(l), Some(s), Some(m)) => vec![
                "upper (activ.)".into(),
                "-".into(),
                match u.activation_milps_skipped {
                    Some(k) if k > 0 => {
                        format!("<= {v} (2^{l:.2}; {k} MILPs skipped at the time limit)")
                    }
                    _ => format!("<= {v} (2^{l:.2})"),
                },
                "HiGHS dual bds".into(),
                "-".into(),
                format!("{s:.3}"),
                format!("{m} MILPs"),
            ],
            _ => vec![
                "upper (activ.)".into(),
                "-".into(),
                if u.activation_applies && (r.shard.is_some() || r.shards.is_some()) {
                    "not computed for shards (`mipbound bounds` computes it)".into()
                } else if u.activation_applies {
                    "not computed".into()
                } else {
                    "not applicable (ReLU only)".into()
                },
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        },
    );
    print_columns(&table);
    if let Some(b) = &r.best_lower_bound {
        println!();
        println!(
            "best lower bound: xor {}: 2^{:.2} = {} (holds with probability >= {:.4} after taking the best of {} widths)",
            b.xor, b.log2, b.value, b.confidence, b.widths_compared
        );
    }
    print_cut_short(r);
}

/// Which trials were cut short or never started, width by width, and what they count as.
fn print_cut_short(r: &EstimateResult) {
    let short: Vec<&WidthReport> = r
        .widths
        .iter()
        .filter(|w| w.cut_short_trials + w.never_started_trials > 0)
        .collect();
    if short.is_empty() {
        if r.interrupted {
            println!();
            println!("interrupted after every trial had finished: what follows them is partial");
        }
        return;
    }
    println!();
    println!(
        "{}: every width's bound uses all {} planned trials; a trial cut short counts at the level it witnessed, one never started at level 0, so the bounds keep their stated confidence",
        if r.interrupted {
            "interrupted"
        } else {
            "time limit"
        },
        r.trials_per_width
    );
    for w in short {
        let mut parts = Vec::new();
        for (status, by) in [
            ("time limit", "the time limit"),
            ("interrupted", "Ctrl-C"),
            ("stopped", "a stop"),
        ] {
            let cut: Vec<usize> = w
                .trials
                .iter()
                .filter(|t| t.status == status)
                .map(|t| t.trial)
                .collect();
            if !cut.is_empty() {
                parts.push(format!(
                    "{} cut short by {by} (trials {})",
                    cut.len(),
                    ranges(&cut)
                ));
            }
        }
        if w.never_started_trials > 0 {
            let mut started = vec![false; r.trials_per_width];
            for t in &w.trials {
                started[t.trial] = true;
            }
            let never: Vec<usize> = planned_trials(r)
                .into_iter()
                .filter(|&t| !started[t])
                .collect();
            parts.push(format!(
                "{} never started (trials {})",
                never.len(),
                ranges(&never)
            ));
        }
        println!("  xor {}: {}", w.xor, parts.join("; "));
    }
}

/// The trials of each width this run was to run: all, or its shard's.
fn planned_trials(r: &EstimateResult) -> Vec<usize> {
    let shard = r.shard.as_deref().and_then(|s| s.parse::<Shard>().ok());
    (0..r.trials_per_width)
        .filter(|&t| mipbound_experiment::shard::owns(shard, t))
        .collect()
}

/// Sorted indices as ranges, `0-3, 5, 9-12`; after 8 ranges, `...`.
fn ranges(sorted: &[usize]) -> String {
    const SHOWN: usize = 8;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => runs.push((i, i)),
        }
    }
    let mut parts: Vec<String> = runs
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    if runs.len() > SHOWN {
        parts.push("...".into());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn cut_short_trials_print_as_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
        let spread: Vec<usize> = (0..20).map(|i| 2 * i).collect();
        assert_eq!(ranges(&spread), "0, 2, 4, 6, 8, 10, 12, 14, ...");
    }
}
