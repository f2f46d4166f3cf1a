//! A network's layers, widths, parameters and stable units over the domain.

use anyhow::Result;
use mipbound_formulation::UnitBounds;
use mipbound_network::{LayerKind, Metadata};
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::count::{StableUnits, stable_units};
use crate::problem::{NetworkSummary, Problem};

/// One layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// `dense`, or the convolution's or pooling's shape.
    pub kind: String,
    /// Inputs.
    pub inputs: usize,
    /// Units.
    pub units: usize,
    /// Activation name.
    pub activation: String,
    /// Weights and biases.
    pub parameters: usize,
}

/// The result of `inspect`; its JSON is `mipbound inspect --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectResult {
    /// `inspect`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network and domain.
    pub network: NetworkSummary,
    /// Every layer, the output layer last.
    pub layers: Vec<LayerInfo>,
    /// Stable units per hidden layer from interval bounds.
    pub stable_units_interval: Vec<StableUnits>,
    /// Stable units per hidden layer from LP-tightened bounds.
    pub stable_units_lp: Vec<StableUnits>,
    /// LPs of the tightening.
    pub bound_lp_solves: u64,
    /// The network file's metadata.
    pub metadata: Metadata,
}

/// Describes the problem's network and its stable units.
pub fn inspect(problem: &Problem) -> Result<InspectResult> {
    let (net, domain) = (problem.network(), problem.domain());
    let interval = UnitBounds::interval(net, domain);
    let tightened = UnitBounds::tightened(net, domain, 0)?;
    Ok(InspectResult {
        command: "inspect".into(),
        version: VERSION.into(),
        network: problem.summary(),
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
    })
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
