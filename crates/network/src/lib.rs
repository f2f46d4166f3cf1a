/*!
The network model of mipbound: what a piecewise-linear network *is*, how it maps an input to
an activation pattern, and how it is read from and written to files.

# Brief overview

A [`Network`] is an input dimension plus a list of [`Layer`]s. Each layer is an affine map
(`weights`, `bias`) followed by an [`Activation`]. The layers whose activation is piecewise
linear but not linear (ReLU, leaky ReLU, general piecewise-linear functions such as hard
tanh or clip, maxout) are the *hidden* layers: their units define the activation pattern and
hence the linear regions. A trailing [`Activation::Identity`] layer is
the output layer; it makes no regions. A layer may also record the convolution or max
pooling its affine map comes from ([`LayerKind`], [`ConvGeometry`]): convolutions are
affine, so they are stored as (sparse) dense weights, and the geometry, checked against the
weights, is kept for the CNN bounds and for reports. Linear layers between hidden layers are folded into
the next layer when the network is built, so every network has the canonical shape
`hidden+ output?`.

The [`Network::pattern`] of an input writes every hidden unit's piece in bits, layer-major
(a ReLU unit is active iff its pre-activation is strictly positive; see [`Activation`] for
the other kinds). It is computed
by a plain forward pass and is what every region the search reports is checked against.

Formats (see [`formats`]): ONNX as exported by PyTorch, including convolutions, pooling
and the piecewise-linear activation operators (read with our own `prost` messages), the `weights.dat` text format of Serra's group, and mipbound's own JSON.
Every loader validates what it reads and reports a [`LoadError`] naming the file, the place
(line, layer or node) and the problem.

This crate knows nothing about linear programming, search or bounds.

# Example
```
use mipbound_network::{Activation, Layer, Network};
use ndarray::array;

let net = Network::new(
    1,
    vec![
        Layer::new(array![[1.0], [-1.0]], array![-0.5, 0.25], Activation::Relu),
        Layer::new(array![[1.0, 1.0]], array![0.0], Activation::Identity),
    ],
)?;
assert_eq!(net.hidden_widths(), vec![2]);
assert_eq!(net.pattern(&[0.0]).iter().map(|b| *b).collect::<Vec<_>>(), vec![false, true]);
# Ok::<(), mipbound_network::ModelError>(())
```
*/
#![deny(missing_docs)]

mod activation;
pub mod conv;
mod error;
pub mod formats;
mod model;
pub mod random;

pub use activation::{Activation, PiecewiseLinear, PostAffine};
pub use conv::ConvGeometry;
pub use error::{LoadError, LoadErrorKind, ModelError};
pub use model::{
    Layer, LayerKind, MAX_PARAMETER, Metadata, Network, Pattern, UnitId, pattern_line,
};
