"""Network.from_torch against torch.onnx.export of the same model (skipped without torch)."""

import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import mipbound  # noqa: E402
from mipbound import Network  # noqa: E402


def mlp():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 2))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(3, 4, 2, stride=2, groups=1, dilation=1), nn.ReLU()),
        nn.AvgPool2d(kernel_size=(1, 2)),
        nn.Flatten(),
        nn.Linear(8, 3),
    )


def leaky_hardtanh():
    return nn.Sequential(
        nn.Linear(4, 6),
        nn.LeakyReLU(0.1),
        nn.Dropout(0.5),
        nn.Linear(6, 5),
        nn.Hardtanh(-0.5, 1.5),
        nn.Identity(),
        nn.Linear(5, 4),
        nn.ReLU6(),
        nn.Linear(4, 4),
        nn.PReLU(),
        nn.Linear(4, 2),
    )


def conv1d_batchnorm():
    return nn.Sequential(
        nn.Linear(5, 12),
        nn.BatchNorm1d(12),
        nn.ReLU(),
        nn.Unflatten(1, (2, 6)),
        nn.Conv1d(2, 4, 3, padding=1, groups=2, dilation=1),
        nn.BatchNorm1d(4),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.AvgPool1d(3),
        nn.Flatten(),
        nn.Linear(4, 2),
    )


def tiny_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 1)
    )


MODELS = {
    "tiny_cnn": (tiny_cnn, (1, 3, 3)),
    "mlp": (mlp, None),
    "cnn": (cnn, (1, 8, 8)),
    "leaky_hardtanh": (leaky_hardtanh, None),
    "conv1d_batchnorm": (conv1d_batchnorm, None),
}


def build(name):
    make, shape = MODELS[name]
    torch.manual_seed(sum(map(ord, name)))
    model = make()
    for m in model.modules():
        # Non-trivial running statistics, so that folding BatchNorm is checked.
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
        if isinstance(m, nn.PReLU):
            m.weight.data.fill_(-0.3)
    model.eval()
    return model, shape


def exported(model, shape, tmp_path):
    x = torch.zeros((1,) + tuple(shape))
    path = tmp_path / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False)
    return Network.load(path)


def input_shape(model, shape):
    return shape if shape is not None else (model[0].in_features,)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_from_torch_matches_onnx_export_and_torch(name, tmp_path):
    model, shape = build(name)
    net = Network.from_torch(model, input_shape=shape)
    onnx = exported(model, input_shape(model, shape), tmp_path)
    assert net.input_dim == onnx.input_dim
    assert net.hidden_widths == onnx.hidden_widths
    assert net.activations == onnx.activations
    assert net.output_dim == onnx.output_dim
    assert [l["kind"] for l in net.layers] == [l["kind"] for l in onnx.layers]
    for mine, theirs in zip(net.layers, onnx.layers):
        # BatchNorm: torch folds in float32 when exporting, from_torch in float64.
        np.testing.assert_allclose(mine["weights"], theirs["weights"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mine["bias"], theirs["bias"], rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=(200, net.input_dim))
    with torch.no_grad():
        expected = model(torch.tensor(x, dtype=torch.float64).reshape((200,) + tuple(input_shape(model, shape))).to(torch.float32))
    np.testing.assert_allclose(net.output(x), onnx.output(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(net.output(x), expected.numpy(), rtol=1e-4, atol=1e-4)


def test_from_torch_weights_are_exact_without_batchnorm(tmp_path):
    model, _ = build("mlp")
    net = Network.from_torch(model)
    onnx = exported(model, (3,), tmp_path)
    assert net == onnx and net.hash == onnx.hash


def test_nested_sequential_names_positions_in_errors():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.GELU()), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"from_torch: module 1\.1 \(GELU\): unsupported layer GELU"):
        Network.from_torch(model)


@pytest.mark.parametrize(
    "model, shape, message",
    [
        (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), None, r"module 0 \(Conv2d\) comes before any Linear layer: give input_shape"),
        (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), nn.ReLU()), (1, 4, 4), r"module 0 \(Conv2d\): padding_mode 'reflect'"),
        (lambda: nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)), (1, 5, 5), r"module 2 \(MaxPool2d\): ceil_mode=True"),
        (lambda: nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.AvgPool2d(2, padding=1)), (1, 5, 5), r"module 2 \(AvgPool2d\): padding"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.PReLU(3)), None, r"module 1 \(PReLU\): PReLU with 3 parameters"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3).train(), nn.ReLU()), None, r"module 1 \(BatchNorm1d\): BatchNorm in training mode"),
        (lambda: nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Linear(3, 1)), (1, 4, 4), r"module 2 \(Linear\): needs a flat input"),
        (lambda: nn.Linear(2, 3), None, r"expected an nn.Sequential, found Linear"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1)), None, r"from_torch: node '2 \(Linear\)' \(Gemm\): weights take 4 inputs but the data has 3 values"),
    ],
)
def test_unsupported_layers_and_settings(model, shape, message):
    with pytest.raises(ValueError, match=message):
        Network.from_torch(model(), input_shape=shape)


@pytest.mark.parametrize("name", ["tiny_cnn", "mlp", "leaky_hardtanh", "conv1d_batchnorm"])
def test_from_torch_counts_equal_the_export_counts(name, tmp_path):
    model, shape = build(name)
    net = Network.from_torch(model, input_shape=shape)
    onnx = exported(model, input_shape(model, shape), tmp_path)
    mine = mipbound.count(net, domain=(-1, 1), threads=1)
    theirs = mipbound.count(onnx, domain=(-1, 1), threads=1)
    assert mine.complete and theirs.complete
    assert mine.regions == theirs.regions > 1
    assert mine.stable_units == theirs.stable_units
    assert mine.upper_bound == theirs.upper_bound
    assert mine.network.path == "<torch>"
