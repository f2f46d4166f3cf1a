//! ONNX reader and writer for feed-forward ReLU networks.
//!
//! The reader follows the single data path from the graph input through the nodes (in the
//! file's topological order) and accumulates affine maps until an activation:
//! `Gemm` (alpha, beta, transA, transB), `MatMul`, `Add`/`Sub`/`Mul`/`Div` by a constant are
//! affine; `Relu` closes a hidden layer; `Flatten`, `Reshape`, `Squeeze`, `Unsqueeze`,
//! `Identity`, `Dropout` and `Cast` do not change the flat vector; a trailing `Softmax`,
//! `LogSoftmax` or `ArgMax` is ignored (it makes no linear regions). Weights come from
//! initializers or `Constant` nodes (`raw_data`, `float_data` or `double_data`; f32 or f64).
//! Nodes that do not touch the data path (shape arithmetic feeding a `Reshape`) are skipped.
//! Branching graphs and every other operator are rejected with the node's name.

use std::collections::{HashMap, HashSet};

use ndarray::{Array1, Array2};
use prost::Message;

use super::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto, attribute_type, data_type,
};
use crate::{Activation, Layer, LoadErrorKind, Metadata, Network};

/// Precision of the weights written to an ONNX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxPrecision {
    /// 32-bit floats, as PyTorch exports.
    F32,
    /// 64-bit floats: a write/read round trip is exact.
    F64,
}

const PASS_THROUGH: &[&str] = &[
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Dropout",
    "Cast",
];
const TRAILING: &[&str] = &["Softmax", "LogSoftmax", "ArgMax"];
const SUPPORTED: &str = "Gemm, MatMul, Add, Sub, Mul, Div, Relu, Flatten, Reshape, Squeeze, \
    Unsqueeze, Identity, Dropout, Cast, Constant, trailing Softmax/LogSoftmax/ArgMax";

/// A constant tensor, flattened in row-major order.
struct Tensor {
    dims: Vec<usize>,
    values: Vec<f64>,
}

pub(super) fn read(bytes: &[u8]) -> Result<Network, LoadErrorKind> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| LoadErrorKind::syntax("file", format!("not a valid ONNX protobuf ({e})")))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| LoadErrorKind::syntax("model", "has no graph"))?;
    let mut walker = Walker::new(graph)?;
    for (index, node) in graph.node.iter().enumerate() {
        walker.visit(index, node)?;
    }
    let net = walker.finish()?;
    Ok(net.with_metadata(read_metadata(&model.metadata_props)))
}

struct Walker {
    constants: HashMap<String, Tensor>,
    /// Name of the value that carries the data.
    current: String,
    /// Every data value already consumed by a node (a second consumer means branching).
    consumed: HashSet<String>,
    input_dim: Option<usize>,
    /// Flat width of `current`, once known.
    width: Option<usize>,
    /// Affine map from the last activation's output to `current` (None = identity).
    pending: Option<(Array2<f64>, Array1<f64>)>,
    layers: Vec<Layer>,
    /// Set once a trailing Softmax/LogSoftmax/ArgMax has been seen.
    trailing: Option<String>,
}

impl Walker {
    fn new(graph: &GraphProto) -> Result<Self, LoadErrorKind> {
        let mut constants = HashMap::new();
        for tensor in &graph.initializer {
            let place = format!("initializer '{}'", tensor.name);
            constants.insert(tensor.name.clone(), read_tensor(tensor, &place)?);
        }
        let input = graph
            .input
            .iter()
            .find(|v| !constants.contains_key(&v.name))
            .ok_or_else(|| LoadErrorKind::syntax("graph", "has no data input"))?;
        let input_dim = input_width(input);
        Ok(Self {
            constants,
            current: input.name.clone(),
            consumed: HashSet::new(),
            input_dim,
            width: input_dim,
            pending: None,
            layers: Vec::new(),
            trailing: None,
        })
    }

    fn visit(&mut self, index: usize, node: &NodeProto) -> Result<(), LoadErrorKind> {
        let place = if node.name.is_empty() {
            format!("node #{index} ({})", node.op_type)
        } else {
            format!("node '{}' ({})", node.name, node.op_type)
        };
        let data_inputs: Vec<usize> = (0..node.input.len())
            .filter(|&i| node.input[i] == self.current || self.consumed.contains(&node.input[i]))
            .collect();
        if data_inputs.is_empty() {
            if node.op_type == "Constant" {
                self.read_constant_node(node, &place)?;
            }
            return Ok(());
        }
        if data_inputs.len() > 1 || node.input[data_inputs[0]] != self.current {
            return Err(LoadErrorKind::unsupported(
                place,
                "the data value is used twice (branching graphs are not supported)",
            ));
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("operator domain '{}'", node.domain),
            ));
        }
        let data = data_inputs[0];
        let op = node.op_type.as_str();
        if let Some(previous) = &self.trailing
            && !TRAILING.contains(&op)
        {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("an operator after the trailing {previous}"),
            ));
        }
        match op {
            "Gemm" => self.gemm(node, data, &place)?,
            "MatMul" => self.matmul(node, data, &place)?,
            "Add" | "Sub" | "Mul" | "Div" => self.elementwise(node, data, &place)?,
            "Relu" => self.close_layer(Activation::Relu, &place)?,
            _ if PASS_THROUGH.contains(&op) => {}
            _ if TRAILING.contains(&op) => self.trailing = Some(op.to_string()),
            _ => {
                return Err(LoadErrorKind::unsupported(
                    place,
                    format!("operator {op} (supported: {SUPPORTED})"),
                ));
            }
        }
        let output = node
            .output
            .first()
            .ok_or_else(|| LoadErrorKind::syntax(&place, "has no output"))?;
        self.consumed
            .insert(std::mem::replace(&mut self.current, output.clone()));
        Ok(())
    }

    fn read_constant_node(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let Some(tensor) = node.attribute.iter().find_map(|a| a.t.as_ref()) else {
            return Ok(()); // value_float & co. are only ever shape helpers here
        };
        let tensor = read_tensor(tensor, place)?;
        if let Some(name) = node.output.first() {
            self.constants.insert(name.clone(), tensor);
        }
        Ok(())
    }

    fn constant(
        &self,
        node: &NodeProto,
        input: usize,
        place: &str,
    ) -> Result<&Tensor, LoadErrorKind> {
        let name = node
            .input
            .get(input)
            .ok_or_else(|| LoadErrorKind::syntax(place, format!("missing input {input}")))?;
        self.constants.get(name).ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                format!("input '{name}' is neither an initializer nor a Constant"),
            )
        })
    }

    fn gemm(&mut self, node: &NodeProto, data: usize, place: &str) -> Result<(), LoadErrorKind> {
        let alpha = float_attribute(node, "alpha", 1.0);
        let beta = float_attribute(node, "beta", 1.0);
        let trans_a = int_attribute(node, "transA", 0) != 0;
        let trans_b = int_attribute(node, "transB", 0) != 0;
        let weights = match data {
            // Y = x · B' : B' is [in, out], the layer weight is B'^T.
            0 => {
                let b = matrix(self.constant(node, 1, place)?, place, "B")?;
                if trans_b { b } else { b.reversed_axes() }
            }
            // Y = A' · x : A' is [out, in].
            1 => {
                let a = matrix(self.constant(node, 0, place)?, place, "A")?;
                if trans_a { a.reversed_axes() } else { a }
            }
            _ => return Err(LoadErrorKind::unsupported(place, "data fed as the bias C")),
        };
        let weights = weights.mapv(|w| w * alpha);
        let units = weights.nrows();
        let bias = match node.input.get(2).filter(|name| !name.is_empty()) {
            Some(_) => {
                broadcast(self.constant(node, 2, place)?, units, place, "C")?.mapv(|c| c * beta)
            }
            None => Array1::zeros(units),
        };
        self.push_affine(weights, bias, place)
    }

    fn matmul(&mut self, node: &NodeProto, data: usize, place: &str) -> Result<(), LoadErrorKind> {
        let other = 1 - data;
        let m = matrix(self.constant(node, other, place)?, place, "weight")?;
        // x · M with M [in, out]  or  M · x with M [out, in].
        let weights = if data == 0 { m.reversed_axes() } else { m };
        let units = weights.nrows();
        self.push_affine(weights, Array1::zeros(units), place)
    }

    fn elementwise(
        &mut self,
        node: &NodeProto,
        data: usize,
        place: &str,
    ) -> Result<(), LoadErrorKind> {
        let width = self.width.ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                "an elementwise operation before any weight layer fixes the input size",
            )
        })?;
        let c = broadcast(
            self.constant(node, 1 - data, place)?,
            width,
            place,
            "constant",
        )?;
        let (mut w, mut b) = self
            .pending
            .take()
            .unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        match (node.op_type.as_str(), data) {
            ("Add", _) => b += &c,
            ("Sub", 0) => b -= &c,
            ("Sub", _) => {
                w.mapv_inplace(|v| -v);
                b = &c - &b;
            }
            ("Mul", _) => scale_rows(&mut w, &mut b, &c),
            ("Div", 0) => {
                if let Some(zero) = c.iter().position(|&v| v == 0.0) {
                    return Err(LoadErrorKind::syntax(
                        place,
                        format!("division by zero (entry {zero})"),
                    ));
                }
                scale_rows(&mut w, &mut b, &c.mapv(|v| 1.0 / v));
            }
            _ => {
                return Err(LoadErrorKind::unsupported(
                    place,
                    "a constant divided by the data (not affine)",
                ));
            }
        }
        self.pending = Some((w, b));
        Ok(())
    }

    /// Composes `weights · current + bias` onto the pending affine map.
    fn push_affine(
        &mut self,
        weights: Array2<f64>,
        bias: Array1<f64>,
        place: &str,
    ) -> Result<(), LoadErrorKind> {
        let inputs = weights.ncols();
        match self.width {
            Some(width) if width != inputs => {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!("weights take {inputs} inputs but the data has {width} values"),
                ));
            }
            None => self.input_dim = Some(inputs),
            _ => {}
        }
        self.width = Some(weights.nrows());
        self.pending = Some(match self.pending.take() {
            Some((w, b)) => (weights.dot(&w), weights.dot(&b) + bias),
            None => (weights, bias),
        });
        Ok(())
    }

    fn close_layer(&mut self, activation: Activation, place: &str) -> Result<(), LoadErrorKind> {
        let width = self.width.ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                "an activation before any weight layer fixes the input size",
            )
        })?;
        let (w, b) = self
            .pending
            .take()
            .unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        self.layers.push(Layer::new(w, b, activation));
        Ok(())
    }

    fn finish(mut self) -> Result<Network, LoadErrorKind> {
        if let Some((w, b)) = self.pending.take() {
            self.layers.push(Layer::new(w, b, Activation::Identity));
        }
        let input_dim = self.input_dim.unwrap_or(0);
        Ok(Network::new(input_dim, self.layers)?)
    }
}

fn scale_rows(w: &mut Array2<f64>, b: &mut Array1<f64>, c: &Array1<f64>) {
    for (mut row, &s) in w.rows_mut().into_iter().zip(c) {
        row.mapv_inplace(|v| v * s);
    }
    *b *= c;
}

fn input_width(input: &ValueInfoProto) -> Option<usize> {
    let shape = input
        .r#type
        .as_ref()?
        .tensor_type
        .as_ref()?
        .shape
        .as_ref()?;
    let dims = &shape.dim;
    // The first of several dimensions is the batch.
    let features = if dims.len() >= 2 {
        &dims[1..]
    } else {
        &dims[..]
    };
    features
        .iter()
        .map(|d| d.dim_value.filter(|&v| v > 0).map(|v| v as usize))
        .product()
}

fn read_tensor(tensor: &TensorProto, place: &str) -> Result<Tensor, LoadErrorKind> {
    if tensor.data_location == 1 {
        return Err(LoadErrorKind::unsupported(
            place,
            "weights stored in external data files",
        ));
    }
    let dims: Vec<usize> = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| LoadErrorKind::syntax(place, "negative dimension"))?;
    let values: Vec<f64> = match tensor.data_type {
        data_type::FLOAT if !tensor.raw_data.is_empty() => chunks::<4>(&tensor.raw_data, place)?
            .map(|b| f32::from_le_bytes(b) as f64)
            .collect(),
        data_type::FLOAT => tensor.float_data.iter().map(|&v| v as f64).collect(),
        data_type::DOUBLE if !tensor.raw_data.is_empty() => chunks::<8>(&tensor.raw_data, place)?
            .map(f64::from_le_bytes)
            .collect(),
        data_type::DOUBLE => tensor.double_data.clone(),
        data_type::INT64 if !tensor.raw_data.is_empty() => chunks::<8>(&tensor.raw_data, place)?
            .map(|b| i64::from_le_bytes(b) as f64)
            .collect(),
        data_type::INT64 => tensor.int64_data.iter().map(|&v| v as f64).collect(),
        data_type::FLOAT16 => {
            return Err(LoadErrorKind::unsupported(
                place,
                "float16 weights (export in float32)",
            ));
        }
        other => {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("tensor data type {other}"),
            ));
        }
    };
    let expected: usize = dims.iter().product();
    if values.len() != expected {
        return Err(LoadErrorKind::syntax(
            place,
            format!(
                "shape {dims:?} needs {expected} values, found {}",
                values.len()
            ),
        ));
    }
    Ok(Tensor { dims, values })
}

fn chunks<'a, const N: usize>(
    bytes: &'a [u8],
    place: &str,
) -> Result<impl Iterator<Item = [u8; N]> + 'a, LoadErrorKind> {
    if !bytes.len().is_multiple_of(N) {
        return Err(LoadErrorKind::syntax(
            place,
            format!("raw_data has {} bytes, not a multiple of {N}", bytes.len()),
        ));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| c.try_into().expect("exact chunk")))
}

fn matrix(tensor: &Tensor, place: &str, what: &str) -> Result<Array2<f64>, LoadErrorKind> {
    if tensor.dims.len() != 2 {
        return Err(LoadErrorKind::unsupported(
            place,
            format!(
                "{what} has shape {:?} (a 2-D weight matrix is needed)",
                tensor.dims
            ),
        ));
    }
    Ok(
        Array2::from_shape_vec((tensor.dims[0], tensor.dims[1]), tensor.values.clone())
            .expect("size checked when read"),
    )
}

fn broadcast(
    tensor: &Tensor,
    len: usize,
    place: &str,
    what: &str,
) -> Result<Array1<f64>, LoadErrorKind> {
    match tensor.values.len() {
        1 => Ok(Array1::from_elem(len, tensor.values[0])),
        n if n == len => Ok(Array1::from(tensor.values.clone())),
        n => Err(LoadErrorKind::syntax(
            place,
            format!("{what} has {n} values, expected 1 or {len}"),
        )),
    }
}

fn float_attribute(node: &NodeProto, name: &str, default: f64) -> f64 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.f as f64)
}

fn int_attribute(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.i)
}

fn read_metadata(props: &[StringStringEntryProto]) -> Metadata {
    props
        .iter()
        .map(|p| {
            let value = serde_json::from_str(&p.value)
                .unwrap_or_else(|_| serde_json::Value::String(p.value.clone()));
            (p.key.clone(), value)
        })
        .collect()
}

/// Writes the network in PyTorch's export style: `Gemm(transB=1)` + `Relu` per layer.
pub(super) fn write(net: &Network, precision: OnnxPrecision) -> Vec<u8> {
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let mut current = "input".to_string();
    for (i, layer) in net.layers().iter().enumerate() {
        let (w, b) = (format!("layers.{i}.weight"), format!("layers.{i}.bias"));
        initializers.push(tensor(
            &w,
            &[layer.width(), layer.inputs()],
            layer.weights.iter(),
            precision,
        ));
        initializers.push(tensor(&b, &[layer.width()], layer.bias.iter(), precision));
        let gemm_out = format!("gemm_{i}");
        nodes.push(NodeProto {
            input: vec![current, w, b],
            output: vec![gemm_out.clone()],
            name: format!("Gemm_{i}"),
            op_type: "Gemm".into(),
            attribute: vec![AttributeProto {
                name: "transB".into(),
                i: 1,
                r#type: attribute_type::INT,
                ..Default::default()
            }],
            domain: String::new(),
        });
        current = gemm_out;
        if layer.activation == Activation::Relu {
            let relu_out = format!("relu_{i}");
            nodes.push(NodeProto {
                input: vec![current],
                output: vec![relu_out.clone()],
                name: format!("Relu_{i}"),
                op_type: "Relu".into(),
                ..Default::default()
            });
            current = relu_out;
        }
    }
    let out_width = net.layers().last().map_or(0, Layer::width);
    let elem = match precision {
        OnnxPrecision::F32 => data_type::FLOAT,
        OnnxPrecision::F64 => data_type::DOUBLE,
    };
    let model = ModelProto {
        ir_version: 8,
        producer_name: "mipbound".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: String::new(),
        graph: Some(GraphProto {
            node: nodes,
            name: "mipbound".into(),
            initializer: initializers,
            input: vec![value_info("input", net.input_dim(), elem)],
            output: vec![value_info(&current, out_width, elem)],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        metadata_props: net
            .metadata()
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: k.clone(),
                value: v.to_string(),
            })
            .collect(),
    };
    model.encode_to_vec()
}

fn tensor<'a>(
    name: &str,
    dims: &[usize],
    values: impl Iterator<Item = &'a f64>,
    precision: OnnxPrecision,
) -> TensorProto {
    let (data_type, raw_data) = match precision {
        OnnxPrecision::F32 => (
            data_type::FLOAT,
            values.flat_map(|&v| (v as f32).to_le_bytes()).collect(),
        ),
        OnnxPrecision::F64 => (
            data_type::DOUBLE,
            values.flat_map(|&v| v.to_le_bytes()).collect(),
        ),
    };
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type,
        name: name.into(),
        raw_data,
        ..Default::default()
    }
}

fn value_info(name: &str, width: usize, elem_type: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        Dimension {
                            dim_value: None,
                            dim_param: Some("batch".into()),
                        },
                        Dimension {
                            dim_value: Some(width as i64),
                            dim_param: None,
                        },
                    ],
                }),
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::he_network;

    #[test]
    fn f64_round_trip_is_exact_and_keeps_metadata() {
        let mut net = he_network(&[5, 4, 3, 2], 0.1, true, 11);
        net.metadata_mut()
            .insert("test_accuracy".into(), serde_json::json!(0.5));
        assert_eq!(read(&write(&net, OnnxPrecision::F64)).unwrap(), net);
    }

    #[test]
    fn f32_round_trip_rounds_weights() {
        let net = he_network(&[3, 4, 2], 0.1, true, 2);
        let back = read(&write(&net, OnnxPrecision::F32)).unwrap();
        let (a, b) = (&net.layers()[0].weights, &back.layers()[0].weights);
        assert_eq!(b[[1, 2]], a[[1, 2]] as f32 as f64);
    }

    fn gemm_node(inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: format!("n_{output}"),
            op_type: "Gemm".into(),
            attribute: attrs,
            domain: String::new(),
        }
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: format!("n_{output}"),
            op_type: op.into(),
            ..Default::default()
        }
    }

    fn init(name: &str, dims: &[usize], values: &[f64]) -> TensorProto {
        TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            float_data: values.iter().map(|&v| v as f32).collect(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn model(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, input_dim: usize) -> Vec<u8> {
        ModelProto {
            graph: Some(GraphProto {
                node: nodes,
                initializer: inits,
                input: vec![value_info("x", input_dim, data_type::FLOAT)],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn gemm_attributes_matmul_add_and_trailing_softmax() {
        let attrs = vec![
            AttributeProto {
                name: "alpha".into(),
                f: 2.0,
                r#type: attribute_type::FLOAT,
                ..Default::default()
            },
            AttributeProto {
                name: "beta".into(),
                f: 0.5,
                r#type: attribute_type::FLOAT,
                ..Default::default()
            },
        ];
        // Gemm with transB = 0: B is [in, out] = [2, 3].
        let bytes = model(
            vec![
                node("Flatten", &["x"], "f"),
                gemm_node(&["f", "B", "C"], "g", attrs),
                node("Relu", &["g"], "r"),
                node("MatMul", &["r", "M"], "m"),
                node("Add", &["m", "d"], "a"),
                node("Softmax", &["a"], "s"),
            ],
            vec![
                init("B", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                init("C", &[3], &[2.0, 4.0, 6.0]),
                init("M", &[3, 1], &[1.0, -1.0, 0.5]),
                init("d", &[1], &[0.25]),
            ],
            2,
        );
        let net = read(&bytes).unwrap();
        let hidden = &net.hidden_layers()[0];
        assert_eq!(
            hidden.weights,
            ndarray::array![[2.0, 8.0], [4.0, 10.0], [6.0, 12.0]]
        );
        assert_eq!(hidden.bias, ndarray::array![1.0, 2.0, 3.0]);
        let out = net.output_layer().unwrap();
        assert_eq!(out.weights, ndarray::array![[1.0, -1.0, 0.5]]);
        assert_eq!(out.bias, ndarray::array![0.25]);
    }

    #[test]
    fn rejects_unknown_operators_and_branches_by_node_name() {
        let bytes = model(vec![node("Tanh", &["x"], "t")], vec![], 2);
        let err = read(&bytes).unwrap_err().to_string();
        assert!(
            err.starts_with("node 'n_t' (Tanh): unsupported: operator Tanh"),
            "{err}"
        );
        let bytes = model(
            vec![node("Relu", &["x"], "a"), node("Relu", &["x"], "b")],
            vec![],
            2,
        );
        let err = read(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "node 'n_b' (Relu): unsupported: the data value is used twice (branching graphs are not supported)"
        );
    }
}
