//! `mipbound inspect`: layers, widths, parameters and stable units over the domain.

use std::process::ExitCode;

use anyhow::Result;
use mipbound_formulation::UnitBounds;
use mipbound_network::Metadata;
use serde::Serialize;

use super::count::{StableUnits, describe_stable, stable_units};
use crate::args::InspectArgs;
use crate::common::load_network_and_domain;
use crate::report::{NetworkSummary, print_json, print_table, row};

#[derive(Serialize)]
struct LayerInfo {
    kind: &'static str,
    inputs: usize,
    units: usize,
    activation: &'static str,
    parameters: usize,
}

#[derive(Serialize)]
struct InspectReport {
    command: &'static str,
    version: &'static str,
    network: NetworkSummary,
    layers: Vec<LayerInfo>,
    stable_units_interval: Vec<StableUnits>,
    stable_units_lp: Vec<StableUnits>,
    bound_lp_solves: u64,
    metadata: Metadata,
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let (net, domain) = load_network_and_domain(&args.net)?;
    let interval = UnitBounds::interval(&net, &domain);
    let tightened = UnitBounds::tightened(&net, &domain, 0)?;
    let report = InspectReport {
        command: "inspect",
        version: env!("CARGO_PKG_VERSION"),
        network: NetworkSummary::new(&args.net.net, &net, &domain),
        layers: net
            .layers()
            .iter()
            .map(|l| LayerInfo {
                kind: "dense",
                inputs: l.inputs(),
                units: l.width(),
                activation: l.activation.name(),
                parameters: l.weights.len() + l.bias.len(),
            })
            .collect(),
        stable_units_interval: stable_units(&interval),
        stable_units_lp: stable_units(&tightened),
        bound_lp_solves: tightened.lp_solves(),
        metadata: net.metadata().clone(),
    };
    if args.json {
        print_json(&report);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = report.network.rows();
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
