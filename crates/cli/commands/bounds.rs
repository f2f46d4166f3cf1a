//! `mipbound bounds`: every applicable bound, its value, log2 and source, and the per-layer
//! activity table behind the activation-based bound.

use std::process::ExitCode;

use anyhow::Result;
use mipbound_experiment::catalogue::bounds;

use crate::args::BoundsArgs;
use crate::common::load_problem;
use crate::report::{network_rows, print_columns, print_json, print_table, row};

pub fn run(args: BoundsArgs) -> Result<ExitCode> {
    let problem = load_problem(&args.net)?;
    let report = bounds(&problem, &(&args.milp).into(), args.time_limit)?;
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = network_rows(&report.network);
    rows.push(row("bounds", &report.domain_note));
    rows.push(row("seed", "0 (HiGHS random_seed; no other randomness)"));
    print_table(&rows);
    println!();
    let mut table = vec![vec![
        "bound".to_string(),
        "kind".into(),
        "value".into(),
        "log2".into(),
        "source / note".into(),
    ]];
    for b in &report.bounds {
        table.push(vec![
            b.name.clone(),
            format!("{} ({})", b.kind, b.scope),
            b.value.clone().unwrap_or_else(|| "-".into()),
            b.log2.map_or("-".into(), |v| format!("{v:.2}")),
            format!("{}; {}", b.source, b.note),
        ]);
    }
    print_columns(&table);
    let Some(activation) = &report.activation else {
        return Ok(ExitCode::SUCCESS);
    };
    println!();
    println!("activation table (k = most active units in the previous layer):");
    let mut table = vec![vec![
        "layer".to_string(),
        "k".into(),
        "A_l(k)".into(),
        "I_l(k)".into(),
        "S_l(k)".into(),
    ]];
    for r in &activation.rows {
        table.push(vec![
            r.layer.to_string(),
            r.limit.map_or("any".into(), |k| format!("<= {k}")),
            r.active_max.to_string(),
            r.two_sided.to_string(),
            r.stable_active.to_string(),
        ]);
    }
    print_columns(&table);
    println!(
        "A: most units active at once; I: units that can take both signs (can cut a region); S: units always active"
    );
    Ok(ExitCode::SUCCESS)
}
