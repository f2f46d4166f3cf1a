//! ONNX reader and writer for feed-forward piecewise-linear networks.
//!
//! The reader first checks the graph's structure (every input defined, nodes in
//! topological order, no cycle; see [`graph`]). It then follows the single data path from
//! the graph input through the nodes and accumulates affine maps until an activation:
//! `Gemm` (alpha, beta, transA, transB), `MatMul`, `Add`/`Sub`/`Mul`/`Div` by a constant and
//! `BatchNormalization` (inference mode) are affine; `Relu`, `LeakyRelu`, `PRelu`, `Clip`,
//! `MaxPool` and `ReduceMax` close a hidden layer; `Flatten`, `Reshape`, `Squeeze`,
//! `Unsqueeze`, `Identity`, `Dropout` and `Cast` do not change the flat vector; a trailing
//! `Softmax`, `LogSoftmax` or `ArgMax` is ignored (it makes no linear regions).
//!
//! Every node that does not touch the data is folded to a constant when it is read
//! ([`fold`]): initialisers (inline or in external data files, see [`tensor`]), `Constant`
//! nodes, `Identity` of an initialiser, and the shape arithmetic (`Shape` of the data, with
//! the batch taken as 1, `Gather`, `Slice`, `Concat`, ...) that `Flatten` and `Unflatten`
//! export to. A folded value that cannot be computed is an error only where it is used.
//! Branching graphs and every other operator are rejected with the node's name, and the
//! graph's output must be the end of the data path.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod fold;
mod graph;
mod ops;
mod tensor;
mod write;

use std::collections::HashMap;

use ndarray::{Array1, Array2, Axis};
use prost::Message;

use super::onnx_proto::{
    GraphProto, ModelProto, NodeProto, StringStringEntryProto, ValueInfoProto,
};
use crate::model::MAX_PARAMETER;
use crate::{Activation, ConvGeometry, Layer, LoadErrorKind, Metadata, Network, PiecewiseLinear};
use graph::node_place;
pub use ops::{Attribute, Constant, Op, from_ops};
pub(crate) use tensor::DataFolder;
use tensor::{Tensor, element_count, read_tensor};
pub(crate) use write::write;

/// Precision of the weights written to an ONNX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxPrecision {
    /// 32-bit floats, as PyTorch exports.
    F32,
    /// 64-bit floats: a write/read round trip is exact.
    F64,
}

/// Largest kernel, stride, padding, dilation or group count read from an ONNX file.
const MAX_WINDOW: usize = 1 << 16;

const PASS_THROUGH: &[&str] = &["Identity", "Dropout", "Cast"];
const TRAILING: &[&str] = &["Softmax", "LogSoftmax", "ArgMax"];
const SUPPORTED: &str = "Gemm, MatMul, Conv, Add, Sub, Mul, Div, BatchNormalization, Relu, \
    LeakyRelu, PRelu, Clip, MaxPool, ReduceMax (last axis), AveragePool, GlobalAveragePool, \
    Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout, Cast, trailing \
    Softmax/LogSoftmax/ArgMax, and shape arithmetic on constants";

/// The distinct `location`s of the model's external tensors (initializers and `Constant`
/// nodes), in order of first use; empty if the bytes are not a model.
pub(super) fn external_locations(bytes: &[u8]) -> Vec<String> {
    let Ok(model) = ModelProto::decode(bytes) else {
        return Vec::new();
    };
    let Some(graph) = model.graph.as_ref() else {
        return Vec::new();
    };
    let constants = graph
        .node
        .iter()
        .flat_map(|n| n.attribute.iter().filter_map(|a| a.t.as_ref()));
    let mut out: Vec<String> = Vec::new();
    for tensor in graph.initializer.iter().chain(constants) {
        let location = tensor
            .external_data
            .iter()
            .find(|e| e.key == "location")
            .map(|e| e.value.clone());
        if let Some(location) = location
            && !out.contains(&location)
        {
            out.push(location);
        }
    }
    out
}

/// Reads an ONNX model; external data files are looked up in `folder`.
pub(super) fn read(bytes: &[u8], folder: DataFolder<'_>) -> Result<Network, LoadErrorKind> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| LoadErrorKind::syntax("file", format!("not a valid ONNX protobuf ({e})")))?;
    read_model(&model, folder)
}

/// Reads a decoded ONNX model.
fn read_model(model: &ModelProto, folder: DataFolder<'_>) -> Result<Network, LoadErrorKind> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| LoadErrorKind::syntax("model", "has no graph"))?;
    graph::check(graph)?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);
    let mut walker = Walker::new(graph, folder, opset)?;
    for (index, node) in graph.node.iter().enumerate() {
        walker.visit(index, node)?;
    }
    let net = walker.finish(graph)?;
    Ok(net.with_metadata(read_metadata(&model.metadata_props)))
}

/// The structure of the pending affine map.
#[derive(Debug, Clone, PartialEq)]
enum PendingKind {
    /// Identity or elementwise (diagonal) operations only.
    Diagonal,
    /// One convolution, possibly with elementwise operations around it.
    Conv(ConvGeometry),
    /// Anything else.
    Dense,
}

struct Walker {
    /// Initialisers and folded values.
    constants: HashMap<String, Tensor>,
    /// Values that do not depend on the data but could not be folded: where and why.
    unfoldable: HashMap<String, String>,
    opset: i64,
    /// Name of the value that carries the data.
    current: String,
    /// Every data value already consumed by a node (a second consumer means branching),
    /// with its shape when known.
    consumed: HashMap<String, Option<Vec<usize>>>,
    input_dim: Option<usize>,
    /// Shape of `current` without the batch dimension (`[C, H, W]`, `[C, L]` or `[n]`), once
    /// known; the data is always handled flat, row-major.
    shape: Option<Vec<usize>>,
    /// Affine map from the last activation's output to `current` (None = identity).
    pending: Option<(Array2<f64>, Array1<f64>)>,
    /// What the pending map is made of, for the bounds that use convolution geometry.
    pending_kind: PendingKind,
    layers: Vec<Layer>,
    /// Set once a trailing Softmax/LogSoftmax/ArgMax has been seen.
    trailing: Option<String>,
}

impl Walker {
    fn new(graph: &GraphProto, folder: DataFolder<'_>, opset: i64) -> Result<Self, LoadErrorKind> {
        let mut constants = HashMap::new();
        for tensor in &graph.initializer {
            let place = format!("initializer '{}'", tensor.name.escape_debug());
            constants.insert(tensor.name.clone(), read_tensor(tensor, &place, folder)?);
        }
        let mut inputs = graph
            .input
            .iter()
            .filter(|v| !constants.contains_key(&v.name));
        let input = inputs
            .next()
            .ok_or_else(|| LoadErrorKind::syntax("graph", "has no data input"))?;
        let unfoldable = inputs
            .map(|v| {
                let why = format!(
                    "graph input '{}' is a second data input (one is supported)",
                    v.name.escape_debug()
                );
                (v.name.clone(), why)
            })
            .collect();
        let shape = input_shape(input);
        let input_dim = match &shape {
            Some(s) => Some(element_count(s, "graph input")?),
            None => None,
        };
        Ok(Self {
            constants,
            unfoldable,
            opset,
            current: input.name.clone(),
            consumed: HashMap::new(),
            input_dim,
            shape,
            pending: None,
            pending_kind: PendingKind::Diagonal,
            layers: Vec::new(),
            trailing: None,
        })
    }

    fn is_data(&self, name: &str) -> bool {
        name == self.current || self.consumed.contains_key(name)
    }

    /// The shape of a data value with its batch dimension (taken as 1).
    fn data_shape(&self, name: &str, place: &str) -> Result<Vec<usize>, LoadErrorKind> {
        let shape = if name == self.current {
            self.shape.as_ref()
        } else {
            self.consumed.get(name).and_then(Option::as_ref)
        };
        let shape = shape.ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                "Shape of the data needs a static input shape (give the graph input fixed dimensions)",
            )
        })?;
        Ok(std::iter::once(1).chain(shape.iter().copied()).collect())
    }

    /// Evaluates a node that does not touch the data (a failure is kept until the value is
    /// used).
    fn fold(&mut self, node: &NodeProto, place: &str) {
        let mut inputs = Vec::with_capacity(node.input.len());
        let mut blocked = None;
        for name in &node.input {
            if name.is_empty() {
                inputs.push(None);
            } else if let Some(t) = self.constants.get(name) {
                inputs.push(Some(t));
            } else {
                blocked = Some(self.unfoldable.get(name).cloned().unwrap_or_else(|| {
                    format!("{place}: input '{}' is not a constant", name.escape_debug())
                }));
                break;
            }
        }
        let result = match blocked {
            Some(why) => Err(why),
            None => fold::fold(node, &inputs, self.opset, place).map_err(|e| e.to_string()),
        };
        let outputs = node.output.iter().filter(|o| !o.is_empty());
        match result {
            Ok(tensor) => {
                let mut outputs = outputs;
                if let Some(first) = outputs.next() {
                    self.constants.insert(first.clone(), tensor);
                }
                for other in outputs {
                    let why = format!("{place}: a second output of a folded node");
                    self.unfoldable.insert(other.clone(), why);
                }
            }
            Err(why) => {
                for out in outputs {
                    self.unfoldable.insert(out.clone(), why.clone());
                }
            }
        }
    }

    fn visit(&mut self, index: usize, node: &NodeProto) -> Result<(), LoadErrorKind> {
        let place = node_place(index, node);
        let data_inputs: Vec<usize> = (0..node.input.len())
            .filter(|&i| self.is_data(&node.input[i]))
            .collect();
        if node.op_type == "Shape" && data_inputs == [0] {
            let dims = self.data_shape(&node.input[0], &place)?;
            let shape = fold::shape_of(&dims, node, &place)?;
            if let Some(out) = node.output.first() {
                self.constants.insert(out.clone(), shape);
            }
            return Ok(());
        }
        if data_inputs.is_empty() {
            self.fold(node, &place);
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
                format!("operator domain '{}'", node.domain.escape_debug()),
            ));
        }
        let data = data_inputs[0];
        let shape_before = self.shape.clone();
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
            "BatchNormalization" => self.batch_norm(node, data, &place)?,
            "Relu" => self.close_layer(Activation::Relu, &place)?,
            "LeakyRelu" => {
                let slope = float_attribute(node, "alpha", 0.01);
                check_parameter(slope, "alpha", &place)?;
                self.close_layer(Activation::LeakyRelu { slope }, &place)?;
            }
            "PRelu" => {
                let slopes = &self.constant(node, 1, &place)?.values;
                if slopes.is_empty() || slopes.iter().any(|&s| s != slopes[0]) {
                    return Err(LoadErrorKind::unsupported(
                        &place,
                        "PRelu with several slopes (one slope per layer is supported)",
                    ));
                }
                let slope = slopes[0];
                check_parameter(slope, "slope", &place)?;
                self.close_layer(Activation::LeakyRelu { slope }, &place)?;
            }
            "Clip" => {
                let activation = self.clip(node, &place)?;
                self.close_layer(activation, &place)?;
            }
            "Conv" => self.conv(node, &place)?,
            "MaxPool" => self.max_pool(node, &place)?,
            "AveragePool" | "GlobalAveragePool" => self.average_pool(node, &place)?,
            "Flatten" => self.shape = self.width().map(|w| vec![w]),
            "Reshape" => self.reshape(node, &place)?,
            "Squeeze" | "Unsqueeze" => self.squeeze(node, &place)?,
            "ReduceMax" => self.reduce_max(node, &place)?,
            "Dropout" => self.dropout(node, &place)?,
            _ if PASS_THROUGH.contains(&op) => {}
            _ if TRAILING.contains(&op) => self.trailing = Some(op.to_string()),
            _ => {
                return Err(LoadErrorKind::unsupported(
                    place,
                    format!("operator {} (supported: {SUPPORTED})", op.escape_debug()),
                ));
            }
        }
        let output = node
            .output
            .first()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| LoadErrorKind::syntax(&place, "has no output"))?;
        for other in node.output.iter().skip(1).filter(|o| !o.is_empty()) {
            let why = format!("{place}: a second output of a node on the data path");
            self.unfoldable.insert(other.clone(), why);
        }
        let previous = std::mem::replace(&mut self.current, output.clone());
        self.consumed.insert(previous, shape_before);
        Ok(())
    }

    /// The constant input `input` of `node`.
    fn constant(
        &self,
        node: &NodeProto,
        input: usize,
        place: &str,
    ) -> Result<&Tensor, LoadErrorKind> {
        let name = node
            .input
            .get(input)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| LoadErrorKind::syntax(place, format!("missing input {input}")))?;
        if let Some(t) = self.constants.get(name) {
            return Ok(t);
        }
        let shown = name.escape_debug();
        Err(match self.unfoldable.get(name) {
            Some(why) => LoadErrorKind::unsupported(
                place,
                format!("input '{shown}' is not a constant ({why})"),
            ),
            None => LoadErrorKind::unsupported(
                place,
                format!("input '{shown}' is computed from the data (a constant is needed)"),
            ),
        })
    }

    /// Dropout in inference mode is the identity.
    fn dropout(&self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let training = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(_) => self
                .constant(node, 2, place)?
                .values
                .iter()
                .any(|&v| v != 0.0),
            None => false,
        };
        if training {
            return Err(LoadErrorKind::unsupported(
                place,
                "Dropout in training mode",
            ));
        }
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, data: usize, place: &str) -> Result<(), LoadErrorKind> {
        let alpha = float_attribute(node, "alpha", 1.0);
        let beta = float_attribute(node, "beta", 1.0);
        let trans_a = int_attribute(node, "transA", 0) != 0;
        let trans_b = int_attribute(node, "transB", 0) != 0;
        // The data is one row [1, n] (data as A) or, transposed, one column (data as B).
        let weights = match (data, trans_a, trans_b) {
            // Y = x · B' : B' is [in, out], the layer weight is B'^T.
            (0, false, _) => {
                let b = matrix(self.constant(node, 1, place)?, place, "B")?;
                if trans_b { b } else { b.reversed_axes() }
            }
            // Y = A' · x^T : A' is [out, in].
            (1, _, true) => {
                let a = matrix(self.constant(node, 0, place)?, place, "A")?;
                if trans_a { a.reversed_axes() } else { a }
            }
            (0, true, _) | (1, _, false) => {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!(
                        "Gemm shapes do not chain: the data (one row of values) is input {} with {}",
                        if data == 0 { "A" } else { "B" },
                        if data == 0 {
                            "transA = 1"
                        } else {
                            "transB = 0"
                        }
                    ),
                ));
            }
            _ => return Err(LoadErrorKind::unsupported(place, "data fed as the bias C")),
        };
        let weights = weights.mapv(|w| w * alpha);
        let units = weights.nrows();
        let bias = match node.input.get(2).filter(|name| !name.is_empty()) {
            Some(_) => {
                let c = self.constant(node, 2, place)?;
                // C broadcasts to Y: [1, units] (data as A) or [units, 1] (data as B).
                let y = if data == 0 { [1, units] } else { [units, 1] };
                let values = fold::spread(c, &y, place).map_err(|_| {
                    LoadErrorKind::syntax(
                        place,
                        format!(
                            "Gemm shapes do not chain: C has shape {:?}, the result is {y:?}",
                            c.dims
                        ),
                    )
                })?;
                Array1::from(values).mapv(|c| c * beta)
            }
            None => Array1::zeros(units),
        };
        self.push_affine(weights, bias, place)
    }

    fn matmul(&mut self, node: &NodeProto, data: usize, place: &str) -> Result<(), LoadErrorKind> {
        if data == 1 {
            return Err(LoadErrorKind::unsupported(
                place,
                "the data as MatMul's second input (x · W with the data first is supported)",
            ));
        }
        let m = matrix(self.constant(node, 1, place)?, place, "weight")?;
        // x · M with M [in, out].
        let weights = m.reversed_axes();
        let units = weights.nrows();
        self.push_affine(weights, Array1::zeros(units), place)
    }

    /// The constant input `input` spread over the data's values (numpy broadcasting
    /// against `[1, shape...]`; the data's shape must not grow).
    fn per_value(
        &self,
        node: &NodeProto,
        input: usize,
        place: &str,
    ) -> Result<Array1<f64>, LoadErrorKind> {
        let shape = self.shape.clone().ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                "an elementwise operation before any weight layer fixes the input size",
            )
        })?;
        let c = self.constant(node, input, place)?;
        let data: Vec<usize> = std::iter::once(1).chain(shape.iter().copied()).collect();
        let dims = fold::broadcast_dims(&c.dims, &data, place)?;
        if dims.iter().product::<usize>() != data.iter().product::<usize>() {
            return Err(LoadErrorKind::unsupported(
                place,
                format!(
                    "a constant of shape {:?} would broadcast the data {data:?} to {dims:?}",
                    c.dims
                ),
            ));
        }
        let values = fold::spread(c, &dims, place)?;
        Ok(Array1::from(values))
    }

    fn elementwise(
        &mut self,
        node: &NodeProto,
        data: usize,
        place: &str,
    ) -> Result<(), LoadErrorKind> {
        let c = self.per_value(node, 1 - data, place)?;
        let width = c.len();
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

    /// BatchNormalization in inference mode: `scale (x - mean) / sqrt(var + eps) + B` per
    /// channel (axis 1), an affine map folded into the pending one.
    fn batch_norm(
        &mut self,
        node: &NodeProto,
        data: usize,
        place: &str,
    ) -> Result<(), LoadErrorKind> {
        if data != 0 || int_attribute(node, "training_mode", 0) != 0 {
            return Err(LoadErrorKind::unsupported(
                place,
                "BatchNormalization in training mode or on a constant",
            ));
        }
        let shape = self.shape.clone().ok_or_else(|| {
            LoadErrorKind::unsupported(place, "BatchNormalization before the input size is known")
        })?;
        let channels = shape.first().copied().unwrap_or(1);
        let inner: usize = shape.iter().skip(1).product();
        let epsilon = float_attribute(node, "epsilon", 1e-5);
        let mut per_channel = Vec::with_capacity(4);
        for (input, what) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
            let t = self.constant(node, input, place)?;
            if t.values.len() != channels {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!(
                        "{what} has {} values for {channels} channels",
                        t.values.len()
                    ),
                ));
            }
            per_channel.push(t.values.clone());
        }
        let mut gain = Vec::with_capacity(channels);
        let mut shift = Vec::with_capacity(channels);
        let [scale, bias, mean, var] = per_channel.as_slice() else {
            return Err(LoadErrorKind::syntax(place, "missing inputs"));
        };
        for c in 0..channels {
            let (s, b, mean, var) = (scale[c], bias[c], mean[c], var[c]);
            let g = s / (var + epsilon).sqrt();
            if !(var + epsilon > 0.0 && g.is_finite()) {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!(
                        "channel {c}: var + epsilon = {} is not positive",
                        var + epsilon
                    ),
                ));
            }
            gain.push(g);
            shift.push(b - mean * g);
        }
        let width = channels * inner;
        let expand = |v: &[f64]| Array1::from_iter((0..width).map(|i| v[i / inner.max(1)]));
        let (mut w, mut b) = self
            .pending
            .take()
            .unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        scale_rows(&mut w, &mut b, &expand(&gain));
        b += &expand(&shift);
        self.pending = Some((w, b));
        Ok(())
    }
    fn width(&self) -> Option<usize> {
        self.shape.as_ref().map(|s| s.iter().product())
    }

    /// Composes `weights · current + bias` onto the pending affine map; the data becomes
    /// flat with `weights.nrows()` values (callers may set a finer shape after).
    fn push_affine(
        &mut self,
        weights: Array2<f64>,
        bias: Array1<f64>,
        place: &str,
    ) -> Result<(), LoadErrorKind> {
        let inputs = weights.ncols();
        match self.width() {
            Some(width) if width != inputs => {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!("weights take {inputs} inputs but the data has {width} values"),
                ));
            }
            None => self.input_dim = Some(inputs),
            _ => {}
        }
        if let Some((w, _)) = &self.pending {
            element_count(&[weights.nrows(), w.ncols()], place)?;
        }
        self.shape = Some(vec![weights.nrows()]);
        self.pending_kind = PendingKind::Dense;
        self.pending = Some(match self.pending.take() {
            Some((w, b)) => (weights.dot(&w), weights.dot(&b) + bias),
            None => (weights, bias),
        });
        Ok(())
    }

    /// `[C, H, W]` of the current data (`[C, L]` is `[C, 1, L]`).
    fn image_shape(&self, place: &str) -> Result<[usize; 3], LoadErrorKind> {
        match self.shape.as_deref() {
            Some(&[c, h, w]) => Ok([c, h, w]),
            Some(&[c, l]) => Ok([c, 1, l]),
            other => Err(LoadErrorKind::unsupported(
                place,
                format!("needs a C x H x W or C x L input, the data has shape {other:?}"),
            )),
        }
    }

    /// Window geometry from the ONNX attributes of Conv and the pooling operators.
    fn window(
        &self,
        node: &NodeProto,
        input: [usize; 3],
        out_channels: usize,
        kernel: (usize, usize),
        one_d: bool,
        place: &str,
    ) -> Result<ConvGeometry, LoadErrorKind> {
        let size = |name: &str, v: i64| -> Result<usize, LoadErrorKind> {
            usize::try_from(v)
                .ok()
                .filter(|&v| v <= MAX_WINDOW)
                .ok_or_else(|| {
                    LoadErrorKind::syntax(place, format!("{name} {v} is not in 0..={MAX_WINDOW}"))
                })
        };
        let pair = |name: &str, default: usize| -> Result<(usize, usize), LoadErrorKind> {
            let v = ints_attribute(node, name);
            Ok(match (v.as_slice(), one_d) {
                ([a], true) => (1, size(name, *a)?),
                ([a, b], false) => (size(name, *a)?, size(name, *b)?),
                _ => (if one_d { 1 } else { default }, default),
            })
        };
        let auto_pad = string_attribute(node, "auto_pad");
        if !matches!(auto_pad.as_str(), "" | "NOTSET" | "VALID") {
            return Err(LoadErrorKind::unsupported(
                place,
                format!("auto_pad {auto_pad} (give explicit pads)"),
            ));
        }
        if int_attribute(node, "ceil_mode", 0) != 0 {
            return Err(LoadErrorKind::unsupported(place, "ceil_mode = 1"));
        }
        let p = ints_attribute(node, "pads");
        let pad = |v: &i64| size("pads", *v);
        let pads = match (p.as_slice(), one_d) {
            ([], _) => [0; 4],
            ([l, r], true) => [0, pad(l)?, 0, pad(r)?],
            ([t, l, b, r], false) => [pad(t)?, pad(l)?, pad(b)?, pad(r)?],
            _ => {
                return Err(LoadErrorKind::syntax(
                    place,
                    format!("pads {p:?} do not match the input rank"),
                ));
            }
        };
        let geometry = ConvGeometry {
            in_channels: input[0],
            in_h: input[1],
            in_w: input[2],
            out_channels,
            kernel,
            stride: pair("strides", 1)?,
            pads,
            dilation: pair("dilations", 1)?,
            groups: size("group", int_attribute(node, "group", 1).max(1))?,
        };
        if kernel.0.max(kernel.1) > MAX_WINDOW {
            return Err(LoadErrorKind::syntax(
                place,
                format!("kernel {kernel:?} is larger than {MAX_WINDOW}"),
            ));
        }
        geometry
            .check()
            .map_err(|m| LoadErrorKind::syntax(place, m))?;
        element_count(&[geometry.outputs(), geometry.inputs()], place)?;
        Ok(geometry)
    }

    fn conv(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        if node.input.first() != Some(&self.current) {
            return Err(LoadErrorKind::unsupported(
                place,
                "the data must be Conv's first input",
            ));
        }
        let input = self.image_shape(place)?;
        let weight = self.constant(node, 1, place)?;
        let (m, kernel, one_d) = match weight.dims.as_slice() {
            &[m, _, kh, kw] => (m, (kh, kw), false),
            &[m, _, k] => (m, (1, k), true),
            d => {
                return Err(LoadErrorKind::unsupported(
                    place,
                    format!("weight shape {d:?}"),
                ));
            }
        };
        let geometry = self.window(node, input, m, kernel, one_d, place)?;
        if weight.dims[1] * geometry.groups != input[0] {
            return Err(LoadErrorKind::syntax(
                place,
                format!(
                    "weights expect {} input channels, the data has {}",
                    weight.dims[1] * geometry.groups,
                    input[0]
                ),
            ));
        }
        let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(_) => {
                let b = self.constant(node, 2, place)?;
                if b.values.len() != m {
                    return Err(LoadErrorKind::syntax(
                        place,
                        format!("B has {} values for {m} output channels", b.values.len()),
                    ));
                }
                Some(b.values.clone())
            }
            None => None,
        };
        let (w, b) = geometry.dense(&weight.values, bias.as_deref());
        let kind = match self.pending_kind {
            PendingKind::Diagonal => PendingKind::Conv(geometry.clone()),
            _ => PendingKind::Dense,
        };
        self.push_affine(w, b, place)?;
        self.pending_kind = kind;
        self.shape = Some(vec![
            geometry.out_channels,
            geometry.out_h(),
            geometry.out_w(),
        ]);
        Ok(())
    }

    fn pool_geometry(&self, node: &NodeProto, place: &str) -> Result<ConvGeometry, LoadErrorKind> {
        let input = self.image_shape(place)?;
        let (kernel, one_d) = if node.op_type == "GlobalAveragePool" {
            ((input[1], input[2]), input[1] == 1)
        } else {
            match ints_attribute(node, "kernel_shape").as_slice() {
                [k] => ((1, *k as usize), true),
                [a, b] => ((*a as usize, *b as usize), false),
                other => {
                    return Err(LoadErrorKind::syntax(
                        place,
                        format!("kernel_shape {other:?}"),
                    ));
                }
            }
        };
        self.window(node, input, input[0], kernel, one_d, place)
    }

    /// Max pooling is maxout: each output is the maximum of its window's values, each an
    /// affine function of the last activation's output.
    fn max_pool(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let g = self.pool_geometry(node, place)?;
        let windows = g.windows();
        let rank = windows[0].len();
        if rank < 2 || windows.iter().any(|w| w.len() != rank) {
            return Err(LoadErrorKind::unsupported(
                place,
                "MaxPool windows of different sizes (padding) or of size 1",
            ));
        }
        let width = g.inputs();
        let pending = self.pending.take();
        let selection = pending.is_none();
        let (w, b) = pending.unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        let rows: Vec<usize> = windows.into_iter().flatten().collect();
        let mut layer = Layer::new(
            w.select(Axis(0), &rows),
            b.select(Axis(0), &rows),
            Activation::Maxout { rank },
        );
        if selection {
            layer = layer.with_max_pool(g.clone());
        }
        self.layers.push(layer);
        self.pending_kind = PendingKind::Diagonal;
        self.shape = Some(vec![g.out_channels, g.out_h(), g.out_w()]);
        Ok(())
    }

    /// Reshape to the target shape (its batch entry dropped; `0` copies, `-1` infers).
    fn reshape(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let Some(old) = self.shape.clone() else {
            return Ok(());
        };
        let target = fold::ints(self.constant(node, 1, place)?, place)?;
        let data: Vec<usize> = std::iter::once(1).chain(old).collect();
        let allow_zero = int_attribute(node, "allowzero", 0) != 0;
        let dims = fold::reshape_dims(&data, &target, allow_zero, place)?;
        // The batch (1) stays first; a target without one keeps the flat values as well.
        self.shape = Some(match dims.split_first() {
            Some((1, rest)) if !rest.is_empty() => rest.to_vec(),
            _ => dims,
        });
        Ok(())
    }

    /// The `axes` of a Squeeze, Unsqueeze or Reduce node: an attribute before opset 13, the
    /// constant second input since.
    fn axes(&self, node: &NodeProto, place: &str) -> Result<Vec<i64>, LoadErrorKind> {
        let axes = ints_attribute(node, "axes");
        if axes.is_empty() && node.input.get(1).is_some_and(|n| !n.is_empty()) {
            let values = &self.constant(node, 1, place)?.values;
            return Ok(values.iter().map(|&v| v as i64).collect());
        }
        Ok(axes)
    }

    /// Squeeze / Unsqueeze: removes or inserts size-1 dimensions (axes count the batch).
    fn squeeze(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let Some(mut shape) = self.shape.clone() else {
            return Ok(());
        };
        let axes = self.axes(node, place)?;
        let bad = || {
            LoadErrorKind::unsupported(place, format!("axes {axes:?} of the batch or out of range"))
        };
        if node.op_type == "Unsqueeze" {
            let rank = (shape.len() + 1 + axes.len()) as i64;
            let mut positions: Vec<i64> = axes
                .iter()
                .map(|&a| if a < 0 { a + rank } else { a })
                .collect();
            positions.sort_unstable();
            for a in positions {
                if a < 1 || a as usize > shape.len() + 1 {
                    return Err(bad());
                }
                shape.insert(a as usize - 1, 1);
            }
        } else if axes.is_empty() {
            shape.retain(|&d| d != 1);
        } else {
            let rank = (shape.len() + 1) as i64;
            let mut positions: Vec<i64> = axes
                .iter()
                .map(|&a| if a < 0 { a + rank } else { a })
                .collect();
            positions.sort_unstable();
            for a in positions.into_iter().rev() {
                if a < 1 || shape.get(a as usize - 1) != Some(&1) {
                    return Err(bad());
                }
                shape.remove(a as usize - 1);
            }
        }
        if shape.is_empty() {
            shape.push(1);
        }
        self.shape = Some(shape);
        Ok(())
    }

    /// ReduceMax over the last axis (PyTorch's `x.view(n, units, k).max(-1)`): a maxout layer
    /// of rank `k`, each unit the maximum of `k` consecutive values.
    fn reduce_max(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let shape = self.shape.clone().unwrap_or_default();
        let axes = self.axes(node, place)?;
        let last = shape.len() as i64;
        let rank = match (axes.as_slice(), shape.last()) {
            ([a], Some(&k)) if (*a == -1 || *a == last) && k >= 2 => k,
            _ => {
                return Err(LoadErrorKind::unsupported(
                    place,
                    format!(
                        "ReduceMax over axes {axes:?} of shape {shape:?} (only the last axis, of size >= 2, is a maxout)"
                    ),
                ));
            }
        };
        let width = shape.iter().product::<usize>();
        let (w, b) = self
            .pending
            .take()
            .unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        self.layers
            .push(Layer::new(w, b, Activation::Maxout { rank }));
        self.pending_kind = PendingKind::Diagonal;
        let mut out = shape[..shape.len() - 1].to_vec();
        if int_attribute(node, "keepdims", 1) != 0 {
            out.push(1);
        }
        self.shape = Some(if out.is_empty() { vec![1] } else { out });
        Ok(())
    }

    /// Average pooling is linear (padding not counted unless count_include_pad = 1).
    fn average_pool(&mut self, node: &NodeProto, place: &str) -> Result<(), LoadErrorKind> {
        let g = self.pool_geometry(node, place)?;
        let include_pad = int_attribute(node, "count_include_pad", 0) != 0;
        let full = g.kernel.0 * g.kernel.1;
        let mut m = Array2::zeros((g.outputs(), g.inputs()));
        for (row, window) in g.windows().into_iter().enumerate() {
            let count = if include_pad { full } else { window.len() };
            for i in window {
                m[[row, i]] = 1.0 / count as f64;
            }
        }
        let out = vec![g.out_channels, g.out_h(), g.out_w()];
        let rows = m.nrows();
        self.push_affine(m, Array1::zeros(rows), place)?;
        self.shape = Some(out);
        Ok(())
    }

    /// Clip(min, max): bounds from inputs 1 and 2 (opset 11+) or attributes (older).
    fn clip(&self, node: &NodeProto, place: &str) -> Result<Activation, LoadErrorKind> {
        let bound = |input: usize, attribute: &str| -> Result<Option<f64>, LoadErrorKind> {
            if node.input.get(input).is_some_and(|n| !n.is_empty()) {
                let t = self.constant(node, input, place)?;
                return match t.values.as_slice() {
                    [v] => Ok(Some(*v)),
                    _ => Err(LoadErrorKind::unsupported(
                        place,
                        "a Clip bound that is not a scalar",
                    )),
                };
            }
            Ok(node
                .attribute
                .iter()
                .find(|a| a.name == attribute)
                .map(|a| a.f as f64))
        };
        let bad = |m: String| LoadErrorKind::syntax(place, m);
        let (min, max) = (bound(1, "min")?, bound(2, "max")?);
        for (v, what) in [(min, "min"), (max, "max")] {
            if let Some(v) = v {
                check_parameter(v, what, place)?;
            }
        }
        match (min, max) {
            (Some(lo), Some(hi)) => Activation::clip(lo, hi).map_err(bad),
            (Some(lo), None) => PiecewiseLinear::new(vec![lo], vec![0.0, 1.0], lo)
                .map(Activation::Pwl)
                .map_err(bad),
            (None, Some(hi)) => PiecewiseLinear::new(vec![hi], vec![1.0, 0.0], hi)
                .map(Activation::Pwl)
                .map_err(bad),
            (None, None) => Err(LoadErrorKind::unsupported(place, "Clip without bounds")),
        }
    }

    fn close_layer(&mut self, activation: Activation, place: &str) -> Result<(), LoadErrorKind> {
        let width = self.width().ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                "an activation before any weight layer fixes the input size",
            )
        })?;
        let (w, b) = self
            .pending
            .take()
            .unwrap_or_else(|| (Array2::eye(width), Array1::zeros(width)));
        let mut layer = Layer::new(w, b, activation);
        if let PendingKind::Conv(g) = std::mem::replace(&mut self.pending_kind, PendingKind::Diagonal)
            // Elementwise operations around the convolution can break the weight sharing.
            && g.fits(&layer.weights, &layer.bias)
        {
            layer = layer.with_conv(g);
        }
        self.layers.push(layer);
        Ok(())
    }

    /// The network read; every graph output must be the end of the data path.
    fn finish(mut self, graph: &GraphProto) -> Result<Network, LoadErrorKind> {
        for output in &graph.output {
            let name = output.name.as_str();
            let shown = name.escape_debug();
            if name == self.current {
                continue;
            }
            let message = if self.consumed.contains_key(name) {
                format!(
                    "output '{shown}' is an intermediate value (only the end of the data path can be an output)"
                )
            } else {
                format!("output '{shown}' is not computed from the input")
            };
            return Err(LoadErrorKind::unsupported("graph", message));
        }
        if let Some((w, b)) = self.pending.take() {
            self.layers.push(Layer::new(w, b, Activation::Identity));
        }
        let input_dim = self.input_dim.unwrap_or(0);
        let net = Network::new(input_dim, self.layers)?;
        if graph.output.is_empty() {
            return Err(LoadErrorKind::syntax("graph", "has no output"));
        }
        Ok(net)
    }
}

/// An activation parameter must be finite and within [`MAX_PARAMETER`].
fn check_parameter(value: f64, what: &str, place: &str) -> Result<(), LoadErrorKind> {
    if value.is_finite() && value.abs() <= MAX_PARAMETER {
        Ok(())
    } else {
        Err(LoadErrorKind::syntax(
            place,
            format!(
                "{what} is {} (parameters must be finite, |v| <= {MAX_PARAMETER:e})",
                if value.abs() >= 1e6 {
                    format!("{value:e}")
                } else {
                    value.to_string()
                }
            ),
        ))
    }
}

fn scale_rows(w: &mut Array2<f64>, b: &mut Array1<f64>, c: &Array1<f64>) {
    for (mut row, &s) in w.rows_mut().into_iter().zip(c) {
        row.mapv_inplace(|v| v * s);
    }
    *b *= c;
}

/// The input's shape without the batch (the first of several dimensions); `None` when a
/// dimension is unknown.
fn input_shape(input: &ValueInfoProto) -> Option<Vec<usize>> {
    let shape = input
        .r#type
        .as_ref()?
        .tensor_type
        .as_ref()?
        .shape
        .as_ref()?;
    let dims = &shape.dim;
    let features = if dims.len() >= 2 {
        &dims[1..]
    } else {
        &dims[..]
    };
    features
        .iter()
        .map(|d| d.dim_value.filter(|&v| v > 0).map(|v| v as usize))
        .collect()
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
    Array2::from_shape_vec((tensor.dims[0], tensor.dims[1]), tensor.values.clone())
        .map_err(|e| LoadErrorKind::syntax(place, format!("{what}: {e}")))
}

fn float_attribute(node: &NodeProto, name: &str, default: f64) -> f64 {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.f as f64)
}

fn ints_attribute(node: &NodeProto, name: &str) -> Vec<i64> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or_else(Vec::new, |a| a.ints.clone())
}

fn string_attribute(node: &NodeProto, name: &str) -> String {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map_or_else(String::new, |a| String::from_utf8_lossy(&a.s).into_owned())
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

#[cfg(test)]
mod tests {
    use super::super::onnx_proto::{AttributeProto, TensorProto, attribute_type, data_type};
    use super::*;
    use crate::random::he_network;
    use write::value_info;

    fn read(bytes: &[u8]) -> Result<Network, LoadErrorKind> {
        super::read(bytes, DataFolder(None))
    }

    #[test]
    fn f64_round_trip_is_exact_and_keeps_metadata() {
        let mut net = he_network(&[5, 4, 3, 2], 0.1, true, 11);
        net.metadata_mut()
            .insert("test_accuracy".into(), serde_json::json!(0.5));
        assert_eq!(
            read(&write(&net, OnnxPrecision::F64).unwrap()).unwrap(),
            net
        );
    }

    #[test]
    fn f32_round_trip_rounds_weights() {
        let net = he_network(&[3, 4, 2], 0.1, true, 2);
        let back = read(&write(&net, OnnxPrecision::F32).unwrap()).unwrap();
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
        let last = nodes
            .last()
            .map_or("x".to_string(), |n| n.output[0].clone());
        ModelProto {
            graph: Some(GraphProto {
                node: nodes,
                initializer: inits,
                input: vec![value_info("x", input_dim, data_type::FLOAT)],
                output: vec![value_info(&last, 1, data_type::FLOAT)],
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

    fn ints_init(name: &str, values: &[i64]) -> TensorProto {
        TensorProto {
            dims: vec![values.len() as i64],
            data_type: data_type::INT64,
            int64_data: values.to_vec(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn attr_int(name: &str, i: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            i,
            r#type: attribute_type::INT,
            ..Default::default()
        }
    }

    /// A 2-3-1 MLP whose second bias is an Identity of the first (legacy deduplication).
    #[test]
    fn identity_of_an_initializer_is_folded() {
        let bytes = model(
            vec![
                node("Identity", &["b0"], "b1"),
                gemm_node(&["x", "W0", "b0"], "g0", vec![attr_int("transB", 1)]),
                node("Relu", &["g0"], "r0"),
                gemm_node(&["r0", "W1", "b1"], "g1", vec![attr_int("transB", 1)]),
                node("Relu", &["g1"], "r1"),
                gemm_node(&["r1", "W2"], "g2", vec![attr_int("transB", 1)]),
            ],
            vec![
                init("W0", &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                init("b0", &[3], &[0.0, 0.0, 0.0]),
                init(
                    "W1",
                    &[3, 3],
                    &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                ),
                init("W2", &[1, 3], &[1.0, 1.0, 1.0]),
            ],
            2,
        );
        let net = read(&bytes).unwrap();
        assert_eq!(net.hidden_widths(), vec![3, 3]);
        assert_eq!(net.layers()[1].bias, ndarray::array![0.0, 0.0, 0.0]);
    }

    /// Unflatten as the legacy exporter writes it: Shape, Gather, Unsqueeze, Concat with
    /// constants, Reshape; then Flatten's Shape/Slice/Concat arithmetic.
    #[test]
    fn shape_arithmetic_is_folded() {
        let bytes = model(
            vec![
                node("Shape", &["x"], "s"),
                {
                    let mut g = node("Gather", &["s", "zero"], "batch");
                    g.attribute.push(attr_int("axis", 0));
                    g
                },
                node("Unsqueeze", &["batch", "axes0"], "batch1"),
                {
                    let mut c = node("Concat", &["batch1", "chw"], "target");
                    c.attribute.push(attr_int("axis", 0));
                    c
                },
                node("Reshape", &["x", "target"], "img"),
                node("Relu", &["img"], "r"),
                node("Shape", &["r"], "s2"),
                node("Slice", &["s2", "zero1", "one1"], "n"),
                {
                    let mut c = node("Concat", &["n", "minus1"], "flat_shape");
                    c.attribute.push(attr_int("axis", 0));
                    c
                },
                node("Reshape", &["r", "flat_shape"], "flat"),
                gemm_node(&["flat", "W"], "y", vec![attr_int("transB", 1)]),
            ],
            vec![
                TensorProto {
                    data_type: data_type::INT64,
                    int64_data: vec![0],
                    name: "zero".into(),
                    ..Default::default()
                },
                ints_init("axes0", &[0]),
                ints_init("chw", &[1, 2, 2]),
                ints_init("zero1", &[0]),
                ints_init("one1", &[1]),
                ints_init("minus1", &[-1]),
                init("W", &[1, 4], &[1.0, -1.0, 2.0, -2.0]),
            ],
            4,
        );
        let net = read(&bytes).unwrap();
        assert_eq!(net.input_dim(), 4);
        assert_eq!(net.hidden_widths(), vec![4]);
    }

    /// BatchNormalization after a Gemm is folded into it; Dropout (inference) is dropped.
    #[test]
    fn batch_norm_and_dropout_are_folded() {
        let mut bn = node("BatchNormalization", &["g", "s", "b", "m", "v"], "n");
        bn.attribute.push(AttributeProto {
            name: "epsilon".into(),
            f: 0.0,
            r#type: attribute_type::FLOAT,
            ..Default::default()
        });
        let bytes = model(
            vec![
                gemm_node(&["x", "W", "c"], "g", vec![attr_int("transB", 1)]),
                bn,
                node("Dropout", &["n"], "d"),
                node("Relu", &["d"], "r"),
                gemm_node(&["r", "W2"], "y", vec![attr_int("transB", 1)]),
            ],
            vec![
                init("W", &[2, 1], &[1.0, 2.0]),
                init("c", &[2], &[1.0, -1.0]),
                init("s", &[2], &[2.0, 1.0]),
                init("b", &[2], &[0.5, 0.0]),
                init("m", &[2], &[1.0, 0.0]),
                init("v", &[2], &[4.0, 0.25]),
                init("W2", &[1, 2], &[1.0, 1.0]),
            ],
            1,
        );
        let net = read(&bytes).unwrap();
        // Unit 0: 2 (x + 1 - 1) / 2 + 0.5 = x + 0.5; unit 1: (2x - 1) / 0.5 = 4x - 2.
        assert_eq!(net.layers()[0].weights, ndarray::array![[1.0], [4.0]]);
        assert_eq!(net.layers()[0].bias, ndarray::array![0.5, -2.0]);
    }

    /// The issue's example: one undefined middle input made a [10, 10] network read as [10].
    #[test]
    fn malformed_graphs_are_refused() {
        let layer = |i: &str, o: &str, w: &str| gemm_node(&[i, w], o, vec![attr_int("transB", 1)]);
        let inits = || {
            vec![
                init("W0", &[2, 2], &[1.0, 2.0, 3.0, 4.0]),
                init("W1", &[2, 2], &[1.0, -1.0, 1.0, 1.0]),
                init("W2", &[1, 2], &[1.0, 1.0]),
            ]
        };
        let good = vec![
            layer("x", "g0", "W0"),
            node("Relu", &["g0"], "r0"),
            layer("r0", "g1", "W1"),
            node("Relu", &["g1"], "r1"),
            layer("r1", "y", "W2"),
        ];
        assert_eq!(
            read(&model(good.clone(), inits(), 2))
                .unwrap()
                .hidden_widths(),
            vec![2, 2]
        );
        let mut undefined = good.clone();
        undefined[2].input[0] = "r9".into();
        let err = read(&model(undefined, inits(), 2)).unwrap_err().to_string();
        assert_eq!(
            err,
            "node 'n_g1' (Gemm): input 'r9' is undefined (no graph input, initializer or node computes it)"
        );
        let mut swapped = good.clone();
        swapped.swap(0, 1);
        let err = read(&model(swapped, inits(), 2)).unwrap_err().to_string();
        assert!(err.contains("nodes out of topological order"), "{err}");
        let mut cycle = good.clone();
        cycle[2].input[0] = "r1".into();
        let err = read(&model(cycle, inits(), 2)).unwrap_err().to_string();
        assert!(
            err.starts_with("node 'n_g1' (Gemm): is on a cycle"),
            "{err}"
        );
        let mut twice = good.clone();
        twice[3].output[0] = "g0".into();
        let err = read(&model(twice, inits(), 2)).unwrap_err().to_string();
        assert!(err.contains("already computed by node 'n_g0'"), "{err}");
    }

    #[test]
    fn activation_parameters_are_checked() {
        for (alpha, shown) in [(3e38, "e38 "), (f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
            let bytes = model(
                vec![
                    gemm_node(&["x", "W"], "g", vec![attr_int("transB", 1)]),
                    {
                        let mut n = node("LeakyRelu", &["g"], "r");
                        n.attribute.push(AttributeProto {
                            name: "alpha".into(),
                            f: alpha as f32,
                            r#type: attribute_type::FLOAT,
                            ..Default::default()
                        });
                        n
                    },
                    gemm_node(&["r", "W"], "y", vec![attr_int("transB", 1)]),
                ],
                vec![init("W", &[1, 1], &[1.0])],
                1,
            );
            let err = read(&bytes).unwrap_err().to_string();
            assert!(
                err.starts_with("node 'n_r' (LeakyRelu): alpha is ") && err.contains("|v| <= 1e12"),
                "{err}"
            );
            assert!(err.contains(shown), "{err}");
        }
    }
}
