//! The `Network` class: loading, building from numpy arrays or a PyTorch module, forward
//! passes and a description of the layers.

use std::path::PathBuf;
use std::sync::Arc;

use mipbound_network::formats::sequential::{Attribute, Constant, Op, from_ops};
use mipbound_network::formats::{self, Format};
use mipbound_network::{Activation, Layer, LayerKind, Network};
use ndarray::{Array, Array1, Array2, ArrayViewD, Axis, Dimension, Ix1, Ix2};
use numpy::{AllowTypeChange, IntoPyArray, PyArrayLikeDyn};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::errors::{kind_error, load_error, model_error, value_error};

/// A validated piecewise-linear network (see the package documentation).
#[pyclass(name = "Network", module = "mipbound", frozen, eq)]
pub struct PyNetwork {
    /// The network.
    pub net: Arc<Network>,
    /// Where it came from: the path as given, `<arrays>`, `<torch>` or `<bytes>` (the
    /// `path` of every result's network summary).
    pub source: String,
}

/// Networks are equal when their layers are (wherever they came from).
impl PartialEq for PyNetwork {
    fn eq(&self, other: &Self) -> bool {
        self.net == other.net
    }
}

impl PyNetwork {
    fn new(net: Network, source: impl Into<String>) -> Self {
        Self {
            net: Arc::new(net),
            source: source.into(),
        }
    }
}

/// An array-like as a float64 array (lists, any numeric dtype).
pub type ArrayLike<'py> = PyArrayLikeDyn<'py, f64, AllowTypeChange>;

fn parse_format(format: Option<&str>) -> PyResult<Option<Format>> {
    format
        .map(str::parse::<Format>)
        .transpose()
        .map_err(value_error)
}

/// `what` as an array of `ndim` dimensions, else a `ValueError` naming it.
pub fn array_like<'py>(value: &Bound<'py, PyAny>, what: &str) -> PyResult<ArrayLike<'py>> {
    value
        .extract::<ArrayLike<'py>>()
        .map_err(|e| value_error(format!("{what}: not an array of numbers ({e})")))
}

/// An array of a fixed number of dimensions, else a `ValueError` naming it.
pub fn fixed<D: Dimension>(view: ArrayViewD<'_, f64>, what: &str) -> PyResult<Array<f64, D>> {
    let shape = view.shape().to_vec();
    view.into_dimensionality::<D>()
        .map(|v| v.to_owned())
        .map_err(|_| {
            let ndim = D::NDIM.unwrap_or(0);
            value_error(format!(
                "{what}: expected a {ndim}-D array, found shape {shape:?}"
            ))
        })
}

/// One activation per layer: a list as given, or one spelling for every layer but the last,
/// which gets `output`.
fn activations(spec: &Bound<'_, PyAny>, output: &str, layers: usize) -> PyResult<Vec<Activation>> {
    let parse = |s: &str| s.parse::<Activation>().map_err(value_error);
    if let Ok(one) = spec.cast::<PyString>() {
        let hidden = parse(&one.to_cow()?)?;
        let last = parse(output)?;
        return Ok((0..layers)
            .map(|i| {
                if i + 1 == layers {
                    last.clone()
                } else {
                    hidden.clone()
                }
            })
            .collect());
    }
    let names: Vec<String> = spec.extract().map_err(|_| {
        value_error("activation: expected a string or a list of strings, one per layer")
    })?;
    if names.len() != layers {
        return Err(value_error(format!(
            "activation: {} names for {layers} layers",
            names.len()
        )));
    }
    names.iter().map(|n| parse(n)).collect()
}

/// The input shape and operators that `mipbound._torch.to_ops` makes of a PyTorch module.
fn torch_ops(
    py: Python<'_>,
    module: &Bound<'_, PyAny>,
    input_shape: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Vec<usize>, Vec<Op>)> {
    let walker = py.import("mipbound._torch")?;
    let (shape, items): (Vec<usize>, Vec<Bound<'_, PyAny>>) = walker
        .call_method1("to_ops", (module, input_shape))?
        .extract()?;
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let (name, op_type, attrs, tensors): (
            String,
            String,
            Bound<'_, PyDict>,
            Vec<Bound<'_, PyAny>>,
        ) = item.extract()?;
        let mut attributes = Vec::with_capacity(attrs.len());
        for (key, value) in attrs.iter() {
            let key: String = key.extract()?;
            let value = if let Ok(i) = value.extract::<i64>() {
                Attribute::Int(i)
            } else if let Ok(ints) = value.extract::<Vec<i64>>() {
                Attribute::Ints(ints)
            } else {
                Attribute::Float(value.extract::<f64>()?)
            };
            attributes.push((key, value));
        }
        let mut constants = Vec::with_capacity(tensors.len());
        for (i, t) in tensors.iter().enumerate() {
            let array = array_like(t, &format!("{name}: tensor {i}"))?;
            let view = array.as_array();
            constants.push(Constant {
                dims: view.shape().to_vec(),
                values: view.iter().copied().collect(),
            });
        }
        ops.push(Op {
            name,
            op_type,
            attributes,
            constants,
        });
    }
    Ok((shape, ops))
}

fn kind_name(layer: &Layer) -> &'static str {
    match layer.kind {
        LayerKind::Dense => "dense",
        LayerKind::Conv(_) => "conv",
        LayerKind::MaxPool(_) => "max_pool",
    }
}

#[pymethods]
impl PyNetwork {
    /// Reads a network file: ONNX, `weights.dat` or mipbound's JSON, chosen by the
    /// extension unless `format` ("onnx", "dat" or "json") is given.
    #[staticmethod]
    #[pyo3(signature = (path, format=None))]
    fn load(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<Self> {
        let format = parse_format(format)?;
        let net = py
            .detach(|| formats::load(&path, format))
            .map_err(load_error)?;
        Ok(Self::new(net, path.display().to_string()))
    }

    /// Reads a network from bytes in the given format ("onnx", "dat" or "json").
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8], format: &str) -> PyResult<Self> {
        let format = format.parse::<Format>().map_err(value_error)?;
        let net = py
            .detach(|| formats::from_bytes(data, format))
            .map_err(kind_error)?;
        Ok(Self::new(net, "<bytes>"))
    }

    /// Builds a network from weight matrices (`[units, inputs]`, as `nn.Linear.weight`) and
    /// bias vectors. `activation` is one name for every layer but the last, which gets
    /// `output`, or a list with one name per layer: relu, identity, hardtanh, relu6,
    /// leaky_relu:SLOPE, clip:LO:HI, maxout:RANK (RANK consecutive rows per unit) or
    /// pwl:E1/E2/...:S0/S1/...[:VALUE_AT_E1].
    #[staticmethod]
    #[pyo3(signature = (weights, biases, activation=None, output="identity"))]
    fn from_arrays(
        py: Python<'_>,
        weights: Vec<Bound<'_, PyAny>>,
        biases: Vec<Bound<'_, PyAny>>,
        activation: Option<Bound<'_, PyAny>>,
        output: &str,
    ) -> PyResult<Self> {
        if weights.len() != biases.len() {
            return Err(value_error(format!(
                "{} weight matrices but {} bias vectors",
                weights.len(),
                biases.len()
            )));
        }
        let relu = PyString::new(py, "relu").into_any();
        let kinds = activations(activation.as_ref().unwrap_or(&relu), output, weights.len())?;
        let mut layers = Vec::with_capacity(weights.len());
        for (i, ((w, b), a)) in weights.iter().zip(&biases).zip(kinds).enumerate() {
            let w = fixed::<Ix2>(
                array_like(w, &format!("weights[{i}]"))?.as_array(),
                &format!("weights[{i}]"),
            )?;
            let b = fixed::<Ix1>(
                array_like(b, &format!("biases[{i}]"))?.as_array(),
                &format!("biases[{i}]"),
            )?;
            layers.push(Layer::new(w, b, a));
        }
        let input_dim = layers.first().map_or(0, Layer::inputs);
        let net = Network::new(input_dim, layers).map_err(model_error)?;
        Ok(Self::new(net, "<arrays>"))
    }

    /// Reads a PyTorch `nn.Sequential` (nested or not) without linking PyTorch: layers are
    /// recognised by class name and their tensors read with `.detach().cpu().numpy()`. A
    /// network that starts with a convolution needs `input_shape` (`(C, H, W)` or `(C, L)`,
    /// without the batch). Unsupported layers or settings raise a `ValueError` naming the
    /// module and its position.
    #[staticmethod]
    #[pyo3(signature = (module, input_shape=None))]
    fn from_torch(
        py: Python<'_>,
        module: &Bound<'_, PyAny>,
        input_shape: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (shape, ops) = torch_ops(py, module, input_shape)?;
        let net = py
            .detach(|| from_ops(&shape, &ops))
            .map_err(|e| value_error(format!("from_torch: {}", crate::errors::one_line(e))))?;
        Ok(Self::new(net, "<torch>"))
    }

    /// The network serialised in a format ("onnx", "dat" or "json").
    fn to_bytes<'py>(&self, py: Python<'py>, format: &str) -> PyResult<Bound<'py, PyBytes>> {
        let format = format.parse::<Format>().map_err(value_error)?;
        let bytes = formats::to_bytes(&self.net, format).map_err(kind_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the network; the format comes from `format` or the extension.
    #[pyo3(signature = (path, format=None))]
    fn save(&self, path: PathBuf, format: Option<&str>) -> PyResult<()> {
        let format = parse_format(format)?;
        formats::save(&self.net, &path, format).map_err(load_error)
    }

    /// The input dimension.
    #[getter]
    fn input_dim(&self) -> usize {
        self.net.input_dim()
    }

    /// Widths of the hidden (piecewise-linear) layers.
    #[getter]
    fn hidden_widths(&self) -> Vec<usize> {
        self.net.hidden_widths()
    }

    /// Activation name of each hidden layer.
    #[getter]
    fn activations(&self) -> Vec<String> {
        self.net
            .hidden_layers()
            .iter()
            .map(|l| l.activation.name())
            .collect()
    }

    /// Width of the linear output layer, or None if the last layer is a hidden one.
    #[getter]
    fn output_dim(&self) -> Option<usize> {
        self.net.output_layer().map(Layer::width)
    }

    /// Number of trainable parameters (shared kernels counted once).
    #[getter]
    fn parameters(&self) -> usize {
        self.net.num_parameters()
    }

    /// Length of an activation pattern in bits.
    #[getter]
    fn pattern_bits(&self) -> usize {
        self.net.num_pattern_bits()
    }

    /// SHA-256 (hex) of the network's content (layers, weights, activations; not its
    /// metadata): the `hash` every result's network summary records.
    #[getter]
    fn hash(&self) -> String {
        mipbound_experiment::problem::network_hash(&self.net)
    }

    /// Where the network came from: the path as given, `<arrays>`, `<torch>` or `<bytes>`.
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    /// Each layer after folding, as a dict: `weights`, `bias`, `activation` and `kind`
    /// ("dense", "conv" or "max_pool").
    #[getter]
    fn layers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for layer in self.net.layers() {
            let d = PyDict::new(py);
            d.set_item("weights", layer.weights.clone().into_pyarray(py))?;
            d.set_item("bias", layer.bias.clone().into_pyarray(py))?;
            d.set_item("activation", layer.activation.name())?;
            d.set_item("kind", kind_name(layer))?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The network's output at `x`: one input (1-D) or a batch (2-D, one input per row).
    fn output<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.per_input(py, x, |net, x| net.output(x))
    }

    /// The activation pattern at `x` (one 0/1 value per pattern bit, layer-major): one input
    /// (1-D) or a batch (2-D).
    fn pattern<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.per_input(py, x, |net, x| {
            net.pattern(x)
                .iter()
                .map(|b| if *b { 1.0 } else { 0.0 })
                .collect()
        })
    }

    fn __repr__(&self) -> String {
        let net = &self.net;
        format!(
            "Network(input_dim={}, hidden_widths={:?}, activations=[{}], output_dim={}, parameters={})",
            net.input_dim(),
            net.hidden_widths(),
            self.activations()
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", "),
            self.output_dim()
                .map_or_else(|| "None".to_string(), |d| d.to_string()),
            net.num_parameters()
        )
    }
}

impl PyNetwork {
    /// Applies `f` to one input or to each row of a batch.
    fn per_input<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        f: impl Fn(&Network, &[f64]) -> Array1<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let array = array_like(x, "x")?;
        let view = array.as_array();
        let n = self.net.input_dim();
        let shape = view.shape().to_vec();
        let bad = || {
            value_error(format!(
                "x: expected shape ({n},) or (batch, {n}), found {shape:?}"
            ))
        };
        match shape.as_slice() {
            [m] if *m == n => {
                let x: Vec<f64> = view.iter().copied().collect();
                Ok(f(&self.net, &x).into_pyarray(py).into_any())
            }
            [_, m] if *m == n => {
                let rows: Vec<Array1<f64>> = view
                    .axis_iter(Axis(0))
                    .map(|row| f(&self.net, &row.iter().copied().collect::<Vec<_>>()))
                    .collect();
                let width = rows.first().map_or(0, Array1::len);
                let flat: Vec<f64> = rows.into_iter().flatten().collect();
                let out = Array2::from_shape_vec((shape[0], width), flat)
                    .map_err(|e| value_error(e.to_string()))?;
                Ok(out.into_pyarray(py).into_any())
            }
            _ => Err(bad()),
        }
    }
}
