//! The owned handle a run works on: a network, its domain, where it came from and a hash of
//! its content.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::formats::Format;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domains::{DomainSpec, InputMap, build, parse_input_box};

/// A network and the domain its regions are counted over.
///
/// The search may run on a transformed network: composed with the map of an affine slice,
/// or made homogeneous for the whole space (see [`crate::domains`]). [`Problem::network`]
/// and [`Problem::domain`] are what the search runs on, [`Problem::original`] the network
/// as given, and [`Problem::input_map`] takes search points back to its inputs.
#[derive(Debug, Clone)]
pub struct Problem {
    network: Network,
    domain: Domain,
    original: Network,
    map: InputMap,
    description: String,
    source: String,
    hash: String,
}

impl Problem {
    /// Wraps a network already in memory over a box; `source` says where it came from (a
    /// path, `<arrays>`, `<torch>`). The domain's dimension must be the network's.
    pub fn new(network: Network, domain: Domain, source: impl Into<String>) -> Result<Self> {
        domain.check_dim(network.input_dim())?;
        let hash = network_hash(&network);
        Ok(Self {
            original: network.clone(),
            network,
            description: domain.describe(),
            domain,
            map: InputMap::Identity,
            source: source.into(),
            hash,
        })
    }

    /// A network over the domain `spec` (see [`DomainSpec::parse`]) inside the input box
    /// `box_spec` (`LO,HI`, a file of two lines, or `none`).
    pub fn with_domain(
        network: Network,
        source: impl Into<String>,
        box_spec: &str,
        spec: &DomainSpec,
    ) -> Result<Self> {
        let input_box = match spec {
            DomainSpec::Everywhere => None,
            _ => parse_input_box(box_spec, network.input_dim())?,
        };
        let built = build(&network, input_box.as_ref(), spec)?;
        built.domain.check_dim(built.network.input_dim())?;
        Ok(Self {
            hash: network_hash(&network),
            original: network,
            network: built.network,
            domain: built.domain,
            map: built.map,
            description: built.description,
            source: source.into(),
        })
    }

    /// Reads a network file (format from the extension unless given) and the box `LO,HI`.
    pub fn load(path: &Path, format: Option<Format>, box_spec: &str) -> Result<Self> {
        Self::load_with_domain(path, format, box_spec, &DomainSpec::InputBox)
    }

    /// Reads a network file over the domain `spec` inside the input box `box_spec`.
    pub fn load_with_domain(
        path: &Path,
        format: Option<Format>,
        box_spec: &str,
        spec: &DomainSpec,
    ) -> Result<Self> {
        let network = mipbound_network::formats::load(path, format)?;
        Self::with_domain(network, path.display().to_string(), box_spec, spec)
    }

    /// The network the search runs on.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The domain the search runs on.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The network as given.
    pub fn original(&self) -> &Network {
        &self.original
    }

    /// Takes search points to the original network's inputs.
    pub fn input_map(&self) -> &InputMap {
        &self.map
    }

    /// Whether the domain is all of R^n0.
    pub fn is_everywhere(&self) -> bool {
        matches!(self.map, InputMap::Cone { .. })
    }

    /// The network whose architecture bounds hold on the domain: the composed network on a
    /// k-dimensional slice (its input dimension is k), the original one otherwise.
    pub fn bound_network(&self) -> &Network {
        match self.map {
            InputMap::Cone { .. } => &self.original,
            _ => &self.network,
        }
    }

    /// Where the network came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// SHA-256 of the network's content (layers, weights, activations; not its metadata),
    /// hexadecimal.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The summary every report starts with.
    pub fn summary(&self) -> NetworkSummary {
        NetworkSummary {
            path: self.source.clone(),
            hash: self.hash.clone(),
            input_dim: self.original.input_dim(),
            hidden_widths: self.original.hidden_widths(),
            parameters: self.original.num_parameters(),
            domain: self.description.clone(),
        }
    }
}

/// The network summary every report starts with (its provenance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// File as given, or `<arrays>`/`<torch>`.
    pub path: String,
    /// SHA-256 of the network's content, hexadecimal.
    pub hash: String,
    /// Input dimension.
    pub input_dim: usize,
    /// Hidden widths.
    pub hidden_widths: Vec<usize>,
    /// Number of weights and biases.
    pub parameters: usize,
    /// The domain, e.g. `[0, 1]^784`.
    pub domain: String,
}

/// SHA-256 over every layer's kind, geometry, activation and parameters, in order.
pub fn network_hash(net: &Network) -> String {
    let mut h = Sha256::new();
    h.update((net.input_dim() as u64).to_le_bytes());
    for layer in net.layers() {
        // Debug prints f64 as its shortest round-trip text: the same values, the same bytes.
        h.update(format!("{:?}|{:?}|", layer.kind, layer.activation).as_bytes());
        h.update((layer.weights.nrows() as u64).to_le_bytes());
        h.update((layer.weights.ncols() as u64).to_le_bytes());
        for v in layer.weights.iter().chain(layer.bias.iter()) {
            h.update(v.to_le_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses the box `LO,HI` for a network with `dim` inputs.
pub fn parse_box(spec: &str, dim: usize) -> Result<Domain> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let [lo, hi] = parts.as_slice() else {
        bail!("--box {spec}: expected LO,HI (for example --box 0,1 or --box -1,1)");
    };
    let parse = |s: &str| -> Result<f64> {
        s.parse::<f64>()
            .with_context(|| format!("--box {spec}: '{s}' is not a number"))
    };
    Domain::uniform(dim, parse(lo)?, parse(hi)?).with_context(|| format!("--box {spec}"))
}

/// `LO,HI` as a pair, checked as a box would be.
pub fn parse_box_pair(spec: &str) -> Result<[f64; 2]> {
    let d = parse_box(spec, 1)?;
    Ok([d.lower()[0], d.upper()[0]])
}
