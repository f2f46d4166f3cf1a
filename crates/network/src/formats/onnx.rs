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

use ndarray::{Array1, Array2, Axis};
use prost::Message;

use super::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto, attribute_type, data_type,
};
use crate::{Activation, ConvGeometry, Layer, LoadErrorKind, Metadata, Network, PiecewiseLinear};

/// Precision of the weights written to an ONNX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxPrecision {
    /// 32-bit floats, as PyTorch exports.
    F32,
    /// 64-bit floats: a write/read round trip is exact.
    F64,
}

const PASS_THROUGH: &[&str] = &["Identity", "Dropout", "Cast"];
const TRAILING: &[&str] = &["Softmax", "LogSoftmax", "ArgMax"];
const SUPPORTED: &str = "Gemm, MatMul, Conv, Add, Sub, Mul, Div, Relu, LeakyRelu, PRelu, Clip, \
    MaxPool, ReduceMax (last axis), AveragePool, GlobalAveragePool, Flatten, Reshape, Squeeze, \
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
    constants: HashMap<String, Tensor>,
    /// Name of the value that carries the data.
    current: String,
    /// Every data value already consumed by a node (a second consumer means branching).
    consumed: HashSet<String>,
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
        let shape = input_shape(input);
        Ok(Self {
            constants,
            current: input.name.clone(),
            consumed: HashSet::new(),
            input_dim: shape.as_ref().map(|s| s.iter().product()),
            shape,
            pending: None,
            pending_kind: PendingKind::Diagonal,
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
            "LeakyRelu" => {
                let slope = float_attribute(node, "alpha", 0.01);
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
                self.close_layer(Activation::LeakyRelu { slope: slopes[0] }, &place)?;
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
        let width = self.width().ok_or_else(|| {
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
        let pair = |name: &str, default: usize| -> (usize, usize) {
            let v = ints_attribute(node, name);
            match (v.as_slice(), one_d) {
                ([a], true) => (1, *a as usize),
                ([a, b], false) => (*a as usize, *b as usize),
                _ => (if one_d { 1 } else { default }, default),
            }
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
        let pads = match (p.as_slice(), one_d) {
            ([], _) => [0; 4],
            ([l, r], true) => [0, *l as usize, 0, *r as usize],
            ([t, l, b, r], false) => [*t as usize, *l as usize, *b as usize, *r as usize],
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
            stride: pair("strides", 1),
            pads,
            dilation: pair("dilations", 1),
            groups: int_attribute(node, "group", 1).max(1) as usize,
        };
        geometry
            .check()
            .map_err(|m| LoadErrorKind::syntax(place, m))?;
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
            Some(_) => Some(broadcast(self.constant(node, 2, place)?, m, place, "B")?.to_vec()),
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
        let Some(width) = self.width() else {
            return Ok(());
        };
        let target = self.constant(node, 1, place)?.values.clone();
        let old = self.shape.clone().unwrap_or_default();
        let mut dims: Vec<i64> = target.iter().skip(1).map(|&v| v as i64).collect();
        for (i, d) in dims.iter_mut().enumerate() {
            if *d == 0 {
                *d = old.get(i).map_or(1, |&v| v as i64);
            }
        }
        let known: i64 = dims.iter().filter(|&&d| d > 0).product();
        if let Some(free) = dims.iter_mut().find(|d| **d < 0) {
            *free = width as i64 / known.max(1);
        }
        let shape: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
        if shape.iter().product::<usize>() != width || dims.iter().filter(|&&d| d < 0).count() > 1 {
            return Err(LoadErrorKind::syntax(
                place,
                format!("cannot reshape {width} values to {target:?}"),
            ));
        }
        self.shape = Some(shape);
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
        match (bound(1, "min")?, bound(2, "max")?) {
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

/// An ONNX activation operator and its named constant inputs.
type OnnxActivation = (&'static str, Vec<(&'static str, f64)>);

/// The ONNX operator of an activation and its constant inputs (Clip's bounds, PRelu's
/// slope, written as tensors so that they keep their f64 value).
fn activation_node(a: &Activation) -> Result<Option<OnnxActivation>, LoadErrorKind> {
    Ok(match a {
        Activation::Identity => None,
        Activation::Relu => Some(("Relu", vec![])),
        Activation::LeakyRelu { slope } => Some(("PRelu", vec![("slope", *slope)])),
        Activation::Pwl(f)
            if f.slopes() == [0.0, 1.0, 0.0] && f.value_at_first() == f.breakpoints()[0] =>
        {
            Some((
                "Clip",
                vec![("min", f.breakpoints()[0]), ("max", f.breakpoints()[1])],
            ))
        }
        other => {
            return Err(LoadErrorKind::unsupported(
                "network",
                format!(
                    "activation {} has no ONNX operator (use the JSON format)",
                    other.name()
                ),
            ));
        }
    })
}

/// Writes the network in PyTorch's export style: `Gemm(transB=1)` and its activation
/// (`Relu`, `PRelu` for leaky ReLU, `Clip`; maxout as `Reshape` to `[n, units, rank]` and
/// `ReduceMax` over the last axis) per layer; convolutions are written as `Gemm`.
pub(super) fn write(net: &Network, precision: OnnxPrecision) -> Result<Vec<u8>, LoadErrorKind> {
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let mut current = "input".to_string();
    for (i, layer) in net.layers().iter().enumerate() {
        let (w, b) = (format!("layers.{i}.weight"), format!("layers.{i}.bias"));
        initializers.push(tensor(
            &w,
            &[layer.rows(), layer.inputs()],
            layer.weights.iter(),
            precision,
        ));
        initializers.push(tensor(&b, &[layer.rows()], layer.bias.iter(), precision));
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
        if let Activation::Maxout { rank } = layer.activation {
            let shape = format!("layers.{i}.shape");
            initializers.push(TensorProto {
                dims: vec![3],
                data_type: data_type::INT64,
                name: shape.clone(),
                int64_data: vec![-1, layer.width() as i64, rank as i64],
                ..Default::default()
            });
            let reshaped = format!("reshape_{i}");
            nodes.push(plain_node("Reshape", i, vec![current, shape], &reshaped));
            let out = format!("act_{i}");
            let mut reduce = plain_node("ReduceMax", i, vec![reshaped], &out);
            reduce.attribute = vec![
                AttributeProto {
                    name: "axes".into(),
                    ints: vec![-1],
                    r#type: attribute_type::INTS,
                    ..Default::default()
                },
                AttributeProto {
                    name: "keepdims".into(),
                    i: 0,
                    r#type: attribute_type::INT,
                    ..Default::default()
                },
            ];
            nodes.push(reduce);
            current = out;
        } else if let Some((op, constants)) = activation_node(&layer.activation)? {
            let out = format!("act_{i}");
            let mut input = vec![current];
            for (name, v) in constants {
                let t = format!("layers.{i}.{name}");
                initializers.push(tensor(&t, &[], [v].iter(), precision));
                input.push(t);
            }
            nodes.push(plain_node(op, i, input, &out));
            current = out;
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
    Ok(model.encode_to_vec())
}

/// A node of layer `layer` without attributes.
fn plain_node(op: &str, layer: usize, input: Vec<String>, output: &str) -> NodeProto {
    NodeProto {
        input,
        output: vec![output.into()],
        name: format!("{op}_{layer}"),
        op_type: op.into(),
        attribute: vec![],
        domain: String::new(),
    }
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
