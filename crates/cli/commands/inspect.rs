//! `mipbound inspect`: layers, widths, parameters and stable units over the domain.

use std::process::ExitCode;

use anyhow::Result;
use mipbound_formulation::UnitBounds;
use mipbound_network::{LayerKind, Metadata};
use serde::Serialize;

use super::count::{StableUnits, describe_stable, stable_units};
use crate::args::InspectArgs;
use crate::common::load_network_and_domain;
use crate::report::{NetworkSummary, print_json, print_table, row};

#[derive(Serialize)]
struct LayerInfo {
    kind: String,
    inputs: usize,
    units: usize,
    activation: String,
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
                kind: layer_kind(l),
                inputs: l.inputs(),
                units: l.width(),
                activation: l.activation.name(),
                parameters: l.parameters(),
            })
            .collect(),
        stable_units_interval: stable_units(&interval),
        stable_units_lp: stable_units(&tightened),
        bound_lp_solves: tightened.lp_solves(),
        metadata: net.metadata().clone(),
    };
    if args.json {
        print_json(&report)?;
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

/// "dense", or the convolution's or pooling's shape, e.g. "conv 1x8x8 -> 2x3x3 (3x3,
/// stride 2)".
fn layer_kind(layer: &mipbound_network::Layer) -> String {
    let shape = |g: &mipbound_network::ConvGeometry| {
        format!(
            "{}x{}x{} -> {}x{}x{} ({}x{}, stride {})",
            g.in_channels,
            g.in_h,
            g.in_w,
            g.out_channels,
            g.out_h(),
            g.out_w(),
            g.kernel.0,
            g.kernel.1,
            g.stride.0
        )
    };
    match &layer.kind {
        LayerKind::Dense => "dense".to_string(),
        LayerKind::Conv(g) => format!("conv {}", shape(g)),
        LayerKind::MaxPool(g) => format!("max pool {}", shape(g)),
    }
}
