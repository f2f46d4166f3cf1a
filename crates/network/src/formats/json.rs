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
//! `activation` is one of `"relu"`, `"identity"` (or `"linear"`), `"hardtanh"`, `"relu6"`,
//! `{"leaky_relu": {"slope": 0.01}}`, `{"clip": {"min": 0, "max": 6}}`,
//! `{"pwl": {"breakpoints": [e1, ..], "slopes": [s0, .., sp], "value_at_first": f(e1)}}` or
//! `{"maxout": {"rank": k}}` (then `k` consecutive rows per unit).
//! A layer may also record the convolution its weights come from, which the CNN bounds use
//! and loading checks against the weights (zero pattern and weight sharing):
//! `"conv": {"in_channels": 1, "in_h": 8, "in_w": 8, "out_channels": 2, "kernel": [3, 3],
//! "stride": [2, 2], "pads": [0, 0, 0, 0], "dilation": [1, 1], "groups": 1}` (pads are
//! top, left, bottom, right; `(c, y, x)` is index `(c * H + y) * W + x`), or, for a maxout
//! layer that selects each window's inputs, `"max_pool"` with the same fields.

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::{
    Activation, ConvGeometry, Layer, LayerKind, LoadErrorKind, Metadata, Network, PiecewiseLinear,
};

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
    activation: serde_json::Value,
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
    /// The convolution the weights come from (checked against them on loading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conv: Option<ConvGeometry>,
    /// The max pooling a maxout layer implements (checked likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_pool: Option<ConvGeometry>,
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

const ACTIVATIONS: &str = "relu, identity, hardtanh, relu6, leaky_relu, clip, pwl, maxout";

fn number(v: &serde_json::Value, key: &str, place: &str) -> Result<f64, LoadErrorKind> {
    v.get(key)
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| LoadErrorKind::syntax(place, format!("needs a number `{key}`")))
}

fn numbers(v: &serde_json::Value, key: &str, place: &str) -> Result<Vec<f64>, LoadErrorKind> {
    v.get(key)
        .and_then(serde_json::Value::as_array)
        .and_then(|a| {
            a.iter()
                .map(serde_json::Value::as_f64)
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| LoadErrorKind::syntax(place, format!("needs a list of numbers `{key}`")))
}

fn read_activation(value: &serde_json::Value, place: &str) -> Result<Activation, LoadErrorKind> {
    let bad = |what: String| LoadErrorKind::syntax(place, what);
    if let Some(name) = value.as_str() {
        return match name {
            "relu" => Ok(Activation::Relu),
            "identity" | "linear" => Ok(Activation::Identity),
            "hardtanh" => Ok(Activation::hard_tanh()),
            "relu6" => Activation::clip(0.0, 6.0).map_err(bad),
            other => Err(LoadErrorKind::unsupported(
                place,
                format!("activation \"{other}\" (supported: {ACTIVATIONS})"),
            )),
        };
    }
    let Some((kind, args)) = value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err(bad(format!(
            "expected a name or {{\"kind\": {{...}}}}, found {value}"
        )));
    };
    match kind.as_str() {
        "leaky_relu" => Ok(Activation::LeakyRelu {
            slope: number(args, "slope", place)?,
        }),
        "clip" => {
            Activation::clip(number(args, "min", place)?, number(args, "max", place)?).map_err(bad)
        }
        "pwl" => PiecewiseLinear::new(
            numbers(args, "breakpoints", place)?,
            numbers(args, "slopes", place)?,
            number(args, "value_at_first", place)?,
        )
        .map(Activation::Pwl)
        .map_err(bad),
        "maxout" => {
            let rank = args
                .get("rank")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            if rank < 2 {
                return Err(bad("maxout needs an integer `rank` >= 2".into()));
            }
            Ok(Activation::Maxout {
                rank: rank as usize,
            })
        }
        other => Err(LoadErrorKind::unsupported(
            place,
            format!("activation \"{other}\" (supported: {ACTIVATIONS})"),
        )),
    }
}

fn write_activation(a: &Activation) -> serde_json::Value {
    use serde_json::json;
    match a {
        Activation::Relu => json!("relu"),
        Activation::Identity => json!("identity"),
        Activation::LeakyRelu { slope } => json!({"leaky_relu": {"slope": slope}}),
        Activation::Maxout { rank } => json!({"maxout": {"rank": rank}}),
        Activation::Pwl(f) => json!({"pwl": {
            "breakpoints": f.breakpoints(),
            "slopes": f.slopes(),
            "value_at_first": f.value_at_first(),
        }}),
    }
}

fn to_layer(index: usize, layer: JsonLayer) -> Result<Layer, LoadErrorKind> {
    let activation = read_activation(&layer.activation, &format!("layers[{index}].activation"))?;
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
    let weights = Array2::from_shape_vec((rows, cols), flat)
        .map_err(|e| LoadErrorKind::syntax(format!("layers[{index}].weights"), e.to_string()))?;
    let built = Layer::new(weights, Array1::from(layer.bias), activation);
    Ok(match (layer.conv, layer.max_pool) {
        (Some(_), Some(_)) => {
            return Err(LoadErrorKind::syntax(
                format!("layers[{index}]"),
                "a layer cannot be both a convolution and max pooling",
            ));
        }
        (Some(g), None) => built.with_conv(g),
        (None, Some(g)) => built.with_max_pool(g),
        (None, None) => built,
    })
}

pub(super) fn write(net: &Network) -> Result<Vec<u8>, LoadErrorKind> {
    let doc = JsonNetwork {
        format: FORMAT_TAG.to_string(),
        version: VERSION,
        input_dim: net.input_dim(),
        layers: net
            .layers()
            .iter()
            .map(|l| JsonLayer {
                activation: write_activation(&l.activation),
                weights: l.weights.rows().into_iter().map(|r| r.to_vec()).collect(),
                bias: l.bias.to_vec(),
                conv: l.conv().cloned(),
                max_pool: match &l.kind {
                    LayerKind::MaxPool(g) => Some(g.clone()),
                    _ => None,
                },
            })
            .collect(),
        metadata: net.metadata().clone(),
    };
    let mut out = serde_json::to_vec_pretty(&doc)
        .map_err(|e| LoadErrorKind::syntax("network", e.to_string()))?;
    out.push(b'\n');
    Ok(out)
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
        let back = read(&write(&net).unwrap()).unwrap();
        assert_eq!(back, net);
    }

    #[test]
    fn every_activation_round_trips() {
        use ndarray::array;
        let activations = [
            Activation::LeakyRelu { slope: 0.05 },
            Activation::hard_tanh(),
            Activation::Pwl(
                PiecewiseLinear::new(vec![-1.0, 0.5, 2.0], vec![0.1, 1.0, -0.5, 0.0], -0.2)
                    .unwrap(),
            ),
        ];
        for a in activations {
            let net = Network::new(
                2,
                vec![Layer::new(
                    array![[1.0, 2.0], [0.5, -1.0]],
                    array![0.1, 0.2],
                    a.clone(),
                )],
            )
            .unwrap();
            assert_eq!(read(&write(&net).unwrap()).unwrap(), net, "{}", a.name());
        }
        let maxout = Network::new(
            1,
            vec![Layer::new(
                array![[1.0], [-1.0], [0.5]],
                array![0.0, 0.0, 0.3],
                Activation::Maxout { rank: 3 },
            )],
        )
        .unwrap();
        assert_eq!(maxout.hidden_widths(), vec![1]);
        assert_eq!(read(&write(&maxout).unwrap()).unwrap(), maxout);
        let bad = br#"{"format":"mipbound-network","version":1,"input_dim":1,
            "layers":[{"activation":{"maxout":{"rank":2}},"weights":[[1],[2],[3]],"bias":[0,0,0]}]}"#;
        assert_eq!(
            read(bad).unwrap_err().to_string(),
            "layer 0: 3 rows do not split into maxout units of rank 2 (rank >= 2)"
        );
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
