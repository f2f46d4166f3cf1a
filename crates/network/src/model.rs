use bitvec::prelude::{BitVec, Lsb0};
use ndarray::{Array1, Array2, ArrayView1};

use crate::{Activation, ConvGeometry, ModelError};

/// Largest magnitude of a weight, bias or activation parameter (slope, breakpoint, clip
/// bound) that a network may hold, checked when it is built (files included).
///
/// HiGHS refuses constraint coefficients of magnitude 1e15 or more and treats bounds from
/// 1e20 on as infinite; 1e12 leaves room for the products of weights and input bounds that
/// the formulations build. Trained networks are many orders of magnitude below it.
pub const MAX_PARAMETER: f64 = 1e12;

/// An activation pattern: one bit per hidden unit, layer-major, `true` = active (`z > 0`).
pub type Pattern = BitVec<u64, Lsb0>;

/// Free-form metadata carried with a network (accuracy, training settings, provenance).
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// One layer: `activation(weights · input + bias)`, weights of shape `[rows, inputs]`, one row
/// per unit (`rank` consecutive rows per unit for maxout).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The weight matrix, one row per unit.
    pub weights: Array2<f64>,
    /// The bias, one entry per unit.
    pub bias: Array1<f64>,
    /// The activation of every unit of the layer.
    pub activation: Activation,
    /// Where the affine map comes from (kept for reports and the CNN bounds).
    pub kind: LayerKind,
}

/// The structure behind a layer's affine map.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LayerKind {
    /// A general (fully connected) affine map.
    #[default]
    Dense,
    /// A convolution with this geometry (its weights are shared, see [`ConvGeometry::fits`]).
    Conv(ConvGeometry),
    /// Max pooling with this geometry, as a maxout layer whose rows select each window's
    /// inputs (see [`ConvGeometry::pool_fits`]).
    MaxPool(ConvGeometry),
}

impl Layer {
    /// Builds a layer (shapes are checked by [`Network::new`]).
    pub fn new(weights: Array2<f64>, bias: Array1<f64>, activation: Activation) -> Self {
        Self {
            weights,
            bias,
            activation,
            kind: LayerKind::Dense,
        }
    }

    /// Records the convolution the affine map comes from ([`Network::new`] checks it).
    pub fn with_conv(mut self, conv: ConvGeometry) -> Self {
        self.kind = LayerKind::Conv(conv);
        self
    }

    /// Records that the layer is max pooling ([`Network::new`] checks it).
    pub fn with_max_pool(mut self, pool: ConvGeometry) -> Self {
        self.kind = LayerKind::MaxPool(pool);
        self
    }

    /// The convolution behind the layer, if it is one.
    pub fn conv(&self) -> Option<&ConvGeometry> {
        match &self.kind {
            LayerKind::Conv(g) => Some(g),
            _ => None,
        }
    }

    /// Trainable parameters: shared kernels and biases for a convolution, none for max
    /// pooling, every weight and bias otherwise.
    pub fn parameters(&self) -> usize {
        match &self.kind {
            LayerKind::Dense => self.weights.len() + self.bias.len(),
            LayerKind::Conv(g) => g.parameters(),
            LayerKind::MaxPool(_) => 0,
        }
    }

    /// Number of units (rows of the weight matrix divided by the maxout rank).
    pub fn width(&self) -> usize {
        self.weights.nrows() / self.activation.rank()
    }

    /// Number of pre-activation rows.
    pub fn rows(&self) -> usize {
        self.weights.nrows()
    }

    /// Each unit's output given the layer's pre-activation rows.
    pub fn post_activation(&self, z: &Array1<f64>) -> Array1<f64> {
        let rank = self.activation.rank();
        let z = z.as_slice().expect("contiguous");
        Array1::from_iter(z.chunks(rank).map(|rows| self.activation.output(rows)))
    }

    /// Number of inputs (columns of the weight matrix).
    pub fn inputs(&self) -> usize {
        self.weights.ncols()
    }

    /// The pre-activation rows `weights · input + bias`.
    pub fn pre_activation(&self, input: ArrayView1<f64>) -> Array1<f64> {
        self.weights.dot(&input) + &self.bias
    }
}

/// A hidden unit: its layer among the hidden layers and its index in the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId {
    /// Hidden layer index (0 = first hidden layer).
    pub layer: usize,
    /// Unit index within the layer.
    pub unit: usize,
}

/// A validated feed-forward piecewise-linear network in canonical shape `hidden+ output?`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    input_dim: usize,
    layers: Vec<Layer>,
    hidden: usize,
    /// First pattern bit of each hidden layer, then the pattern length.
    bit_offsets: Vec<usize>,
    metadata: Metadata,
}

impl Network {
    /// Validates the layers (non-empty, shapes chain, finite parameters, at least one hidden
    /// piecewise-linear layer) and folds every linear layer that is followed by another layer
    /// into it. Layer indices in errors are those of `layers` as given.
    pub fn new(input_dim: usize, layers: Vec<Layer>) -> Result<Self, ModelError> {
        if layers.is_empty() {
            return Err(ModelError::Empty);
        }
        if input_dim == 0 {
            return Err(ModelError::ZeroInput);
        }
        let mut expected = input_dim;
        for (index, layer) in layers.iter().enumerate() {
            check_layer(index, layer, expected)?;
            expected = layer.width();
        }
        let layers = fold_linear_layers(layers);
        for (index, layer) in layers.iter().enumerate() {
            check_values(index, layer)?;
        }
        let hidden = layers
            .iter()
            .take_while(|l| l.activation.is_piecewise())
            .count();
        if hidden == 0 {
            return Err(ModelError::NoHiddenLayer);
        }
        let mut bit_offsets = vec![0];
        for layer in &layers[..hidden] {
            let last = bit_offsets[bit_offsets.len() - 1];
            bit_offsets.push(last + layer.width() * layer.activation.bits());
        }
        Ok(Self {
            input_dim,
            layers,
            hidden,
            bit_offsets,
            metadata: Metadata::new(),
        })
    }

    /// Replaces the metadata.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// The metadata (accuracy, training settings, ...), possibly empty.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Mutable access to the metadata.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// The input dimension `n0`.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// All layers, hidden ones first, then the output layer if any.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The hidden (piecewise-linear) layers, whose units make the activation pattern.
    pub fn hidden_layers(&self) -> &[Layer] {
        &self.layers[..self.hidden]
    }

    /// The trailing linear output layer, if there is one.
    pub fn output_layer(&self) -> Option<&Layer> {
        self.layers.get(self.hidden)
    }

    /// Widths `n_1..n_L` of the hidden layers.
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.hidden_layers().iter().map(Layer::width).collect()
    }

    /// Total number of hidden units.
    pub fn num_hidden_units(&self) -> usize {
        self.hidden_layers().iter().map(Layer::width).sum()
    }

    /// Pattern bits of each hidden layer (units times bits per unit).
    pub fn layer_bits(&self) -> Vec<usize> {
        self.hidden_layers()
            .iter()
            .map(|l| l.width() * l.activation.bits())
            .collect()
    }

    /// Length of an activation pattern.
    pub fn num_pattern_bits(&self) -> usize {
        self.bit_offsets[self.hidden]
    }

    /// Number of weights and biases over all layers.
    pub fn num_parameters(&self) -> usize {
        self.layers.iter().map(Layer::parameters).sum()
    }

    /// Position of a hidden unit's first bit in a pattern (its bits are consecutive).
    pub fn pattern_index(&self, id: UnitId) -> usize {
        self.bit_offsets[id.layer] + id.unit * self.hidden_layers()[id.layer].activation.bits()
    }

    /// Pre-activation rows of every hidden layer at input `x` (plain forward pass).
    ///
    /// # Panics
    /// If `x.len()` differs from the input dimension.
    pub fn pre_activations(&self, x: &[f64]) -> Vec<Array1<f64>> {
        assert_eq!(x.len(), self.input_dim, "input has the wrong dimension");
        let mut h = Array1::from(x.to_vec());
        let mut out = Vec::with_capacity(self.hidden);
        for layer in self.hidden_layers() {
            let z = layer.pre_activation(h.view());
            h = layer.post_activation(&z);
            out.push(z);
        }
        out
    }

    /// The network's output at `x` (the last layer's post-activation).
    pub fn output(&self, x: &[f64]) -> Array1<f64> {
        assert_eq!(x.len(), self.input_dim, "input has the wrong dimension");
        let mut h = Array1::from(x.to_vec());
        for layer in &self.layers {
            h = layer.post_activation(&layer.pre_activation(h.view()));
        }
        h
    }

    /// The activation pattern at `x`: each unit's option in its bits (ReLU: `[z > 0]`),
    /// layer-major.
    pub fn pattern(&self, x: &[f64]) -> Pattern {
        let mut pattern = Pattern::new();
        for (layer, z) in self.hidden_layers().iter().zip(self.pre_activations(x)) {
            let a = &layer.activation;
            let z = z.as_slice().expect("contiguous");
            for rows in z.chunks(a.rank()) {
                let option = a.state(rows);
                pattern.extend((0..a.bits()).map(|b| a.option_bit(option, b)));
            }
        }
        pattern
    }
}

/// Renders a pattern as a line of `0`/`1`, one character per bit, layers separated by a space
/// (`widths`: bits per layer, see [`Network::layer_bits`]).
pub fn pattern_line(pattern: &Pattern, widths: &[usize]) -> String {
    let mut line = String::with_capacity(pattern.len() + widths.len());
    let mut offset = 0;
    for (l, &w) in widths.iter().enumerate() {
        if l > 0 {
            line.push(' ');
        }
        for bit in &pattern[offset..offset + w] {
            line.push(if *bit { '1' } else { '0' });
        }
        offset += w;
    }
    line
}

fn check_layer(index: usize, layer: &Layer, expected_inputs: usize) -> Result<(), ModelError> {
    if let Activation::Maxout { rank } = layer.activation
        && (rank < 2 || !layer.rows().is_multiple_of(rank))
    {
        return Err(ModelError::Maxout {
            layer: index,
            rows: layer.rows(),
            rank,
        });
    }
    if layer.width() == 0 {
        return Err(ModelError::EmptyLayer { layer: index });
    }
    if layer.inputs() != expected_inputs {
        return Err(ModelError::InputShape {
            layer: index,
            expected: expected_inputs,
            found: layer.inputs(),
        });
    }
    if layer.bias.len() != layer.rows() {
        return Err(ModelError::BiasShape {
            layer: index,
            expected: layer.rows(),
            found: layer.bias.len(),
        });
    }
    check_values(index, layer)?;
    check_structure(index, layer)
}

/// Every weight, bias and activation parameter finite and within [`MAX_PARAMETER`].
fn check_values(index: usize, layer: &Layer) -> Result<(), ModelError> {
    let weights = layer
        .weights
        .indexed_iter()
        .map(|((r, c), &v)| (v, Where::Weight(r, c)));
    let bias = layer.bias.indexed_iter().map(|(i, &v)| (v, Where::Bias(i)));
    let activation: Vec<(f64, Where)> = match &layer.activation {
        Activation::LeakyRelu { slope } => vec![(*slope, Where::Named("leaky ReLU slope"))],
        Activation::Pwl(f) => f
            .breakpoints()
            .iter()
            .map(|&v| (v, Where::Named("activation breakpoint")))
            .chain(
                f.slopes()
                    .iter()
                    .map(|&v| (v, Where::Named("activation slope"))),
            )
            .chain([(f.value_at_first(), Where::Named("activation value"))])
            .collect(),
        _ => Vec::new(),
    };
    let bad = weights
        .chain(bias)
        .chain(activation)
        .find(|(v, _)| !(v.is_finite() && v.abs() <= MAX_PARAMETER));
    match bad {
        None => Ok(()),
        Some((value, place)) if !value.is_finite() => Err(ModelError::NonFinite {
            layer: index,
            what: place.to_string(),
            value,
        }),
        Some((value, place)) => Err(ModelError::TooLarge {
            layer: index,
            what: place.to_string(),
            value,
        }),
    }
}

/// Which parameter of a layer, for error messages.
enum Where {
    Weight(usize, usize),
    Bias(usize),
    Named(&'static str),
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Weight(r, c) => write!(f, "weight [{r}, {c}]"),
            Where::Bias(i) => write!(f, "bias [{i}]"),
            Where::Named(name) => f.write_str(name),
        }
    }
}

fn check_structure(index: usize, layer: &Layer) -> Result<(), ModelError> {
    let error = |message: String| ModelError::Structure {
        layer: index,
        message,
    };
    match &layer.kind {
        LayerKind::Dense => Ok(()),
        LayerKind::Conv(g) => {
            g.check().map_err(error)?;
            if g.fits(&layer.weights, &layer.bias) {
                Ok(())
            } else {
                Err(error(format!(
                    "the weights are not a {}x{} convolution {}x{}x{} -> {}x{}x{} with shared kernels",
                    g.kernel.0,
                    g.kernel.1,
                    g.in_channels,
                    g.in_h,
                    g.in_w,
                    g.out_channels,
                    g.out_h(),
                    g.out_w()
                )))
            }
        }
        LayerKind::MaxPool(g) => {
            g.check().map_err(error)?;
            let rank = g.kernel.0 * g.kernel.1;
            if layer.activation != (Activation::Maxout { rank })
                || !g.pool_fits(&layer.weights, &layer.bias)
            {
                return Err(error(format!(
                    "max pooling {}x{} needs a maxout({rank}) layer selecting each window's inputs",
                    g.kernel.0, g.kernel.1
                )));
            }
            Ok(())
        }
    }
}

/// Composes every identity layer with the layer after it, leaving at most a trailing one.
fn fold_linear_layers(layers: Vec<Layer>) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::with_capacity(layers.len());
    let mut pending: Option<Layer> = None;
    for layer in layers {
        let layer = match pending.take() {
            // The composition is no longer the convolution it may have been.
            Some(linear) => Layer::new(
                layer.weights.dot(&linear.weights),
                layer.weights.dot(&linear.bias) + &layer.bias,
                layer.activation,
            ),
            None => layer,
        };
        if layer.activation.is_piecewise() {
            out.push(layer);
        } else {
            pending = Some(layer);
        }
    }
    out.extend(pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn relu(w: Array2<f64>, b: Array1<f64>) -> Layer {
        Layer::new(w, b, Activation::Relu)
    }

    #[test]
    fn folds_linear_layers_between_hidden_layers() {
        let net = Network::new(
            2,
            vec![
                relu(array![[1.0, 0.0], [0.0, 1.0]], array![0.0, 0.0]),
                Layer::new(
                    array![[2.0, 0.0], [0.0, 3.0]],
                    array![1.0, 1.0],
                    Activation::Identity,
                ),
                relu(array![[1.0, -1.0]], array![0.5]),
                Layer::new(array![[1.0]], array![0.0], Activation::Identity),
            ],
        )
        .unwrap();
        assert_eq!(net.hidden_widths(), vec![2, 1]);
        let folded = &net.hidden_layers()[1];
        assert_eq!(folded.weights, array![[2.0, -3.0]]);
        assert_eq!(folded.bias, array![0.5]);
        // Same function as before folding: x = (1, 2) -> h1 = (1, 2) -> (3, 7) -> 3 - 7 + 0.5 < 0.
        assert_eq!(net.output(&[1.0, 2.0]), array![0.0]);
        assert_eq!(net.output(&[3.0, 1.0]), array![3.0 * 2.0 + 1.0 - 4.0 + 0.5]);
    }

    #[test]
    fn pattern_uses_strict_positivity() {
        let net = Network::new(1, vec![relu(array![[1.0], [1.0]], array![0.0, -1.0])]).unwrap();
        assert_eq!(pattern_line(&net.pattern(&[0.0]), &[2]), "00");
        assert_eq!(pattern_line(&net.pattern(&[1.0]), &[2]), "10");
        assert_eq!(pattern_line(&net.pattern(&[1.5]), &[2]), "11");
    }

    #[test]
    fn validation_names_layer_and_problem() {
        let bad = Network::new(2, vec![relu(array![[1.0, f64::NAN]], array![0.0])]);
        assert_eq!(
            bad.unwrap_err().to_string(),
            "layer 0: weight [0, 1] is NaN (all parameters must be finite)"
        );
        let bad = Network::new(3, vec![relu(array![[1.0, 2.0]], array![0.0])]);
        assert_eq!(
            bad.unwrap_err(),
            ModelError::InputShape {
                layer: 0,
                expected: 3,
                found: 2
            }
        );
        let linear_only = Network::new(
            1,
            vec![Layer::new(array![[1.0]], array![0.0], Activation::Identity)],
        );
        assert_eq!(linear_only.unwrap_err(), ModelError::NoHiddenLayer);
    }
}
