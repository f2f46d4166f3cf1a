//! The owned handle a run works on: a network, its domain, where it came from and a hash of
//! its content.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::formats::Format;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A network and the domain its regions are counted over.
#[derive(Debug, Clone)]
pub struct Problem {
    network: Network,
    domain: Domain,
    source: String,
    hash: String,
}

impl Problem {
    /// Wraps a network already in memory; `source` says where it came from (a path,
    /// `<arrays>`, `<torch>`). The domain's dimension must be the network's, and a domain
    /// cut by constraints must have interior ([`Domain::check_interior`]).
    pub fn new(network: Network, domain: Domain, source: impl Into<String>) -> Result<Self> {
        domain.check_dim(network.input_dim())?;
        domain.check_interior()?;
        let hash = network_hash(&network);
        Ok(Self {
            network,
            domain,
            source: source.into(),
            hash,
        })
    }

    /// Reads a network file (format from the extension unless given) and the box `LO,HI`.
    pub fn load(path: &Path, format: Option<Format>, box_spec: &str) -> Result<Self> {
        let network = mipbound_network::formats::load(path, format)?;
        let domain = parse_box(box_spec, network.input_dim())?;
        Self::new(network, domain, path.display().to_string())
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
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
            input_dim: self.network.input_dim(),
            hidden_widths: self.network.hidden_widths(),
            parameters: self.network.num_parameters(),
            domain: self.domain.describe(),
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
