"""Network.load, Network.from_arrays and errors (no torch needed)."""

import shutil

import numpy as np
import pytest

import mipbound
from mipbound import Network

from conftest import DATA


def forward(weights, biases, activations, x):
    """A plain numpy forward pass: the reference the native one is checked against."""
    h = np.asarray(x, dtype=float)
    for w, b, act in zip(weights, biases, activations):
        h = act(w @ h + b)
    return h


def relu(z):
    return np.maximum(z, 0.0)


RNG = np.random.default_rng(7)
W = [RNG.normal(size=(6, 3)), RNG.normal(size=(4, 6)), RNG.normal(size=(2, 4))]
B = [RNG.normal(size=6), RNG.normal(size=4), RNG.normal(size=2)]
POINTS = RNG.uniform(-3, 3, size=(50, 3))


def sawtooth(z):
    """pwl:-1/0/2:0.5/-1/2/0:1 written out: slopes 0.5, -1, 2, 0 with f(-1) = 1."""
    return np.where(
        z <= -1, 1 + 0.5 * (z + 1),
        np.where(z <= 0, 1 - (z + 1), np.where(z <= 2, 0 + 2 * z, 4.0)),
    )


SCALAR_KINDS = {
    "relu": relu,
    "leaky_relu:0.1": lambda z: np.where(z > 0, z, 0.1 * z),
    "leaky_relu:-0.5": lambda z: np.where(z > 0, z, -0.5 * z),
    "hardtanh": lambda z: np.clip(z, -1, 1),
    "relu6": lambda z: np.clip(z, 0, 6),
    "clip:-0.5:2": lambda z: np.clip(z, -0.5, 2),
    "pwl:-1/0/2:0.5/-1/2/0:1": sawtooth,
}


@pytest.mark.parametrize("kind", sorted(SCALAR_KINDS))
def test_from_arrays_scalar_activations(kind):
    net = Network.from_arrays(W, B, activation=kind)
    assert net.input_dim == 3
    assert net.hidden_widths == [6, 4]
    assert net.output_dim == 2
    assert net.parameters == sum(w.size for w in W) + sum(b.size for b in B)
    f = SCALAR_KINDS[kind]
    ident = lambda z: z
    expected = np.array([forward(W, B, [f, f, ident], x) for x in POINTS])
    np.testing.assert_allclose(net.output(POINTS), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.output(POINTS[0]), expected[0], rtol=1e-12, atol=1e-12)


def test_pattern_bits_are_thermometer_codes():
    net = Network.from_arrays([np.array([[1.0]])], [np.array([0.0])], activation=["hardtanh"])
    # Hard tanh has 2 breakpoints, so 2 bits per unit: [z > -1], [z > 1].
    assert net.pattern_bits == 2
    assert net.pattern([-2.0]).tolist() == [0, 0]
    assert net.pattern([0.0]).tolist() == [1, 0]
    assert net.pattern([3.0]).tolist() == [1, 1]
    assert net.output_dim is None


def test_from_arrays_maxout():
    # Rank 3: 3 consecutive rows per unit, 2 units.
    w1, b1 = RNG.normal(size=(6, 2)), RNG.normal(size=6)
    w2, b2 = RNG.normal(size=(1, 2)), RNG.normal(size=1)
    net = Network.from_arrays([w1, w2], [b1, b2], activation="maxout:3")
    assert net.hidden_widths == [2]
    assert net.pattern_bits == 4  # ceil(log2 3) bits per unit
    x = RNG.normal(size=(20, 2))
    z = x @ w1.T + b1
    h = z.reshape(20, 2, 3).max(axis=2)
    np.testing.assert_allclose(net.output(x), h @ w2.T + b2, rtol=1e-12)
    winners = z.reshape(20, 2, 3).argmax(axis=2)
    bits = net.pattern(x).reshape(20, 2, 2)
    np.testing.assert_array_equal(bits[:, :, 0] + 2 * bits[:, :, 1], winners)


def test_from_arrays_per_layer_list_folds_linear_layers():
    net = Network.from_arrays(W, B, activation=["relu", "identity", "leaky_relu:0.2"])
    # The identity layer is folded into the next one.
    assert net.hidden_widths == [6, 2]
    assert net.output_dim is None
    expected = forward(W, B, [relu, lambda z: z, lambda z: np.where(z > 0, z, 0.2 * z)], POINTS[3])
    np.testing.assert_allclose(net.output(POINTS[3]), expected, rtol=1e-12)


def test_from_arrays_accepts_lists_and_float32():
    net = Network.from_arrays([[[1.0, -1.0]], np.array([[2.0]], dtype=np.float32)], [[0.5], [0]])
    assert net.output([1.0, 0.0]).tolist() == [3.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Network.from_arrays([np.ones((2, 2))], []), "1 weight matrices but 0 bias vectors"),
        (lambda: Network.from_arrays([np.ones(2)], [np.ones(2)], "relu"), "weights[0]: expected a 2-D array, found shape [2]"),
        (lambda: Network.from_arrays([np.ones((2, 2))], [np.ones(3)], ["relu"]), "layer 0: bias has 3 entries but the weights have 2 rows"),
        (lambda: Network.from_arrays([np.ones((2, 2))], [np.ones(2)], ["softplus"]), "unknown activation `softplus`"),
        (lambda: Network.from_arrays([np.ones((2, 2))], [np.ones(2)], ["relu", "relu"]), "activation: 2 names for 1 layers"),
        (lambda: Network.from_arrays([np.full((2, 2), np.nan)], [np.ones(2)], ["relu"]), "layer 0: weight [0, 0] is NaN"),
        (lambda: Network.from_arrays([np.ones((2, 2))], [np.ones(2)]), "no hidden piecewise-linear layer"),
        (lambda: Network.from_arrays([np.ones((3, 2))], [np.ones(3)], ["maxout:2"]), "3 rows do not split into maxout units of rank 2"),
        (lambda: Network.load(DATA / "mlp-2-8-8-3.json", format="xml"), "unknown format 'xml'"),
    ],
)
def test_bad_input_is_a_value_error_with_one_line(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


FORMATS = ["mlp-2-8-8-3.onnx", "mlp-2-8-8-3.json", "mlp-2-8-8-3.dat", "mlp-2-8-8-3-matmul.onnx"]


@pytest.mark.parametrize("name", FORMATS)
def test_load_every_format(name):
    net = Network.load(DATA / name)
    assert (net.input_dim, net.hidden_widths, net.output_dim) == (2, [8, 8], 3)
    assert net.activations == ["relu", "relu"]
    reference = Network.load(DATA / "mlp-2-8-8-3.json")
    # The files hold the same network (the ONNX ones in float32).
    np.testing.assert_allclose(net.output(POINTS[:, :2]), reference.output(POINTS[:, :2]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "name, widths",
    [
        ("cnn-8x8.onnx", None),
        ("conv1d-6.onnx", None),
        ("maxout-2-3x3.onnx", None),
        ("maxpool-maxout-2-3x2.onnx", None),
        ("image-ops.onnx", None),
        ("mlp-3-6-5-2-f64.onnx", [6, 5]),
    ],
)
def test_load_conv_pooling_and_maxout_files(name, widths):
    net = Network.load(DATA / name)
    if widths is not None:
        assert net.hidden_widths == widths
    assert net.parameters > 0
    assert len(net.hash) == 64
    # A JSON round trip keeps the network, its layer structure and its hash.
    back = Network.from_bytes(net.to_bytes("json"), "json")
    assert back == net and back.hash == net.hash


def test_format_override_and_save(tmp_path):
    path = tmp_path / "net.weights"
    shutil.copy(DATA / "mlp-2-8-8-3.dat", path)
    with pytest.raises(ValueError, match="cannot tell the format from the extension"):
        Network.load(path)
    net = Network.load(path, format="dat")
    net.save(tmp_path / "copy.json")
    assert Network.load(str(tmp_path / "copy.json")) == net


def test_unreadable_files_are_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.onnx: No such file or directory"):
        Network.load(tmp_path / "missing.onnx")
    with pytest.raises(OSError):
        Network.load(tmp_path, format="json")


def test_broken_files_are_value_errors():
    with pytest.raises(ValueError, match=r"truncated\.onnx: file: not a valid ONNX protobuf"):
        Network.load(DATA / "bad" / "truncated.onnx")


def test_layers_hash_and_repr():
    net = Network.from_arrays(W, B, activation="leaky_relu:0.1")
    layers = net.layers
    assert [l["activation"] for l in layers] == ["leaky_relu(0.1)", "leaky_relu(0.1)", "identity"]
    np.testing.assert_array_equal(layers[1]["weights"], W[1])
    other = Network.from_arrays(W, B, activation="leaky_relu:0.2")
    assert other.hash != net.hash and other != net
    assert Network.from_arrays(W, B, activation="leaky_relu:0.1").hash == net.hash
    assert repr(net) == (
        "Network(input_dim=3, hidden_widths=[6, 4], "
        "activations=['leaky_relu(0.1)', 'leaky_relu(0.1)'], output_dim=2, parameters=62)"
    )
    assert mipbound.__version__
