//! `mipbound inspect`: layers, widths, parameters and stable units over the domain.

use std::process::ExitCode;

use anyhow::Result;
use mipbound_experiment::inspect::inspect;

use crate::args::InspectArgs;
use crate::common::load_problem;
use crate::report::{describe_stable, network_rows, print_json, print_table, row};

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let problem = load_problem(&args.net)?;
    let report = inspect(&problem)?;
    let net = problem.network();
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = network_rows(&report.network);
    let hidden = net.hidden_layers().len();
    for (i, l) in report.layers.iter().enumerate() {
        let name = if i < hidden {
            format!("layer {}", i + 1)
        } else {
            "output".to_string()
        };
        rows.push(row(
            &name,
            format!(
                "{} {} -> {}, {} ({} parameters)",
                l.kind, l.inputs, l.units, l.activation, l.parameters
            ),
        ));
    }
    rows.push(row(
        "stable (interval)",
        describe_stable(&report.stable_units_interval),
    ));
    rows.push(row(
        "stable (LP)",
        format!(
            "{} ({} LPs)",
            describe_stable(&report.stable_units_lp),
            report.bound_lp_solves
        ),
    ));
    for (key, value) in &report.metadata {
        rows.push(row(&format!("meta {key}"), value));
    }
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}
