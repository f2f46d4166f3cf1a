//! mipbound's native JSON format.
//!
//! ```json
//! {
//!   "format": "mipbound-network",
//!   "version": 1,
//!   "input_dim": 2,
//!   "layers": [
//!     { "activation": "relu", "weights": [[1.0, -1.0], [0.5, 2.0]], "bias": [0.0, -0.5] },
//!     { "activation": "identity", "weights": [[1.0, 1.0]], "bias": [0.0] }
//!   ],
//!   "metadata": { "test_accuracy": 0.97 }
//! }
//! ```
//! `weights` has one row per unit (`[units][inputs]`, as PyTorch's `Linear.weight`).

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::{Activation, Layer, LoadErrorKind, Metadata, Network};

const FORMAT_TAG: &str = "mipbound-network";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonNetwork {
    format: String,
    version: u32,
    input_dim: usize,
    layers: Vec<JsonLayer>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    metadata: Metadata,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLayer {
    activation: String,
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

pub(super) fn read(bytes: &[u8]) -> Result<Network, LoadErrorKind> {
    let doc: JsonNetwork = serde_json::from_slice(bytes).map_err(|e| {
        LoadErrorKind::syntax(
            format!("line {} column {}", e.line(), e.column()),
            strip_position(&e.to_string()),
        )
    })?;
    if doc.format != FORMAT_TAG {
        return Err(LoadErrorKind::syntax(
            "format",
            format!("expected \"{FORMAT_TAG}\", found \"{}\"", doc.format),
        ));
    }
    if doc.version != VERSION {
        return Err(LoadErrorKind::unsupported(
            "version",
            format!(
                "version {} (this mipbound reads version {VERSION})",
                doc.version
            ),
        ));
    }
    let layers = doc
        .layers
        .into_iter()
        .enumerate()
        .map(|(index, layer)| to_layer(index, layer))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Network::new(doc.input_dim, layers)?.with_metadata(doc.metadata))
}

fn to_layer(index: usize, layer: JsonLayer) -> Result<Layer, LoadErrorKind> {
    let activation = match layer.activation.as_str() {
        "relu" => Activation::Relu,
        "identity" | "linear" => Activation::Identity,
        other => {
            return Err(LoadErrorKind::unsupported(
                format!("layers[{index}].activation"),
                format!("activation \"{other}\" (supported: relu, identity)"),
            ));
        }
    };
    let rows = layer.weights.len();
    let cols = layer.weights.first().map_or(0, Vec::len);
    if let Some((r, row)) = layer
        .weights
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != cols)
    {
        return Err(LoadErrorKind::syntax(
            format!("layers[{index}].weights"),
            format!("row {r} has {} entries but row 0 has {cols}", row.len()),
        ));
    }
    let flat: Vec<f64> = layer.weights.into_iter().flatten().collect();
    let weights = Array2::from_shape_vec((rows, cols), flat).expect("rows have equal length");
    Ok(Layer::new(weights, Array1::from(layer.bias), activation))
}

pub(super) fn write(net: &Network) -> Vec<u8> {
    let doc = JsonNetwork {
        format: FORMAT_TAG.to_string(),
        version: VERSION,
        input_dim: net.input_dim(),
        layers: net
            .layers()
            .iter()
            .map(|l| JsonLayer {
                activation: l.activation.name().to_string(),
                weights: l.weights.rows().into_iter().map(|r| r.to_vec()).collect(),
                bias: l.bias.to_vec(),
            })
            .collect(),
        metadata: net.metadata().clone(),
    };
    let mut out = serde_json::to_vec_pretty(&doc).expect("a network serialises");
    out.push(b'\n');
    out
}

/// serde_json appends " at line L column C"; the place is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::he_network;

    #[test]
    fn round_trip_is_exact() {
        let mut net = he_network(&[3, 5, 4, 2], 0.1, true, 1);
        net.metadata_mut()
            .insert("test_accuracy".into(), serde_json::json!(0.93));
        let back = read(&write(&net)).unwrap();
        assert_eq!(back, net);
    }

    #[test]
    fn errors_name_the_place() {
        let ragged = br#"{"format":"mipbound-network","version":1,"input_dim":2,
            "layers":[{"activation":"relu","weights":[[1,2],[3]],"bias":[0,0]}]}"#;
        assert_eq!(
            read(ragged).unwrap_err().to_string(),
            "layers[0].weights: row 1 has 1 entries but row 0 has 2"
        );
        let missing = br#"{"format":"mipbound-network","version":1,"input_dim":2,
            "layers":[{"activation":"relu","weights":[[1,2]]}]}"#;
        assert_eq!(
            read(missing).unwrap_err().to_string(),
            "line 2 column 61: missing field `bias`"
        );
    }
}
