#!/usr/bin/env python3
"""Regenerates the real PyTorch exports in tests/data/torch/ (run from the repository root).

Every model is exported twice, as a PyTorch user would:
  * `<name>.dynamo.onnx` with the default exporter (`dynamo=True`), its larger weights
    in `<name>.dynamo.onnx.data` (ONNX external data; the sawtooth's are all inline);
  * `<name>.legacy.onnx` with the TorchScript exporter (`dynamo=False`), which
    deduplicates equal parameters into `Identity` nodes and exports `Flatten` and
    `Unflatten` as `Shape`/`Gather`/`Slice`/`Concat` arithmetic.
`<name>.outputs.json` holds 1,000 random inputs and torch's outputs on them (computed in
float64 by a float64 copy of the float32 model). `versions.json` records the versions.

torch is several GB of wheels, so it is kept out of CI; only this script needs it:

    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch onnx onnxscript numpy
    /work/venv-torch/bin/python scripts/make-torch-fixtures.py
"""

import json
import os
import sys
import warnings

import numpy as np
import onnx
import onnxscript
import torch
from torch import nn

OUT = "tests/data/torch"
SAMPLES = 1000


def seeded(seed, model):
    """Deterministic float32 weights; biases drawn too (zeroed by the caller if wanted)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.6)
    return model


def mlp():
    return seeded(1, nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)))


def zero_bias_mlp():
    """Two zero bias vectors of the same size: the legacy exporter keeps one of them and
    feeds the other layer through an Identity node."""
    m = seeded(2, nn.Sequential(nn.Linear(2, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 2)))
    with torch.no_grad():
        m[0].bias.zero_()
        m[2].bias.zero_()
    return m


def sawtooth():
    """The tent map composed three times (Telgarsky): equal weights and biases in every
    layer, which the legacy exporter deduplicates."""
    layers = []
    for i in range(3):
        first = nn.Linear(1 if i == 0 else 2, 2)
        with torch.no_grad():
            if i == 0:
                first.weight.copy_(torch.tensor([[1.0], [1.0]]))
            else:
                first.weight.copy_(torch.tensor([[2.0, -4.0], [2.0, -4.0]]))
            first.bias.copy_(torch.tensor([0.0, -0.5]))
        layers += [first, nn.ReLU()]
    out = nn.Linear(2, 1)
    with torch.no_grad():
        out.weight.copy_(torch.tensor([[2.0, -4.0]]))
        out.bias.zero_()
    return nn.Sequential(*layers, out)


def leaky_mlp():
    return seeded(3, nn.Sequential(nn.Linear(2, 12), nn.LeakyReLU(0.1), nn.Linear(12, 10), nn.LeakyReLU(0.1), nn.Linear(10, 2)))


def hardtanh_mlp():
    return seeded(4, nn.Sequential(nn.Linear(2, 12), nn.Hardtanh(), nn.Linear(12, 12), nn.Hardtanh(-0.5, 1.0), nn.Linear(12, 2)))


def bn_mlp():
    """BatchNorm1d (inference mode, non-trivial running statistics) and Dropout."""
    m = seeded(5, nn.Sequential(nn.Linear(2, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 2)))
    with torch.no_grad():
        m[1].running_mean.copy_(torch.linspace(-0.3, 0.4, 12))
        m[1].running_var.copy_(torch.linspace(0.5, 2.0, 12))
    return m


def cnn():
    """A flat 16-value input, Unflatten to 1x4x4, Conv, BatchNorm2d, ReLU, Flatten, Linear."""
    m = seeded(6, nn.Sequential(
        nn.Unflatten(1, (1, 4, 4)),
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8, 16),
        nn.ReLU(),
        nn.Linear(16, 3),
    ))
    with torch.no_grad():
        m[2].running_mean.copy_(torch.tensor([0.1, -0.2]))
        m[2].running_var.copy_(torch.tensor([0.7, 1.3]))
    return m


MODELS = {
    "mlp": (mlp, 2),
    "zero-bias-mlp": (zero_bias_mlp, 2),
    "sawtooth": (sawtooth, 1),
    "leaky-mlp": (leaky_mlp, 2),
    "hardtanh-mlp": (hardtanh_mlp, 2),
    "bn-mlp": (bn_mlp, 2),
    "cnn": (cnn, 16),
}


def export(model, n0, name):
    x = torch.zeros(1, n0)
    base = os.path.join(OUT, name)
    for stale in (f"{base}.dynamo.onnx", f"{base}.dynamo.onnx.data", f"{base}.legacy.onnx"):
        if os.path.exists(stale):
            os.remove(stale)
    # The default exporter, called as a user would: tensors above a few hundred bytes go
    # to the external data file `<name>.dynamo.onnx.data`.
    torch.onnx.export(model, (x,), f"{base}.dynamo.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), f"{base}.legacy.onnx", dynamo=False)
    if name == "cnn":
        # A batch dimension left free: Unflatten's shape arithmetic reads it at run time.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (x,), f"{base}.legacy-batch.onnx", dynamo=False,
                input_names=["input"], dynamic_axes={"input": {0: "batch"}},
            )


def outputs(model, n0, name, seed):
    rng = np.random.default_rng(seed)
    lo, hi = (0.0, 1.0) if name == "sawtooth" else (-2.0, 2.0)
    inputs = np.round(rng.uniform(lo, hi, size=(SAMPLES, n0)), 3)
    double = model.double()
    with torch.no_grad():
        out = double(torch.tensor(inputs, dtype=torch.float64)).numpy()
    doc = {
        "inputs": [[float(f"{v:.3f}") for v in row] for row in inputs],
        "outputs": [[float(f"{v:.12g}") for v in row] for row in out],
    }
    with open(os.path.join(OUT, f"{name}.outputs.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, (make, n0)) in enumerate(MODELS.items()):
        model = make().eval()
        export(model, n0, name)
        outputs(model, n0, name, seed)
        data = os.path.join(OUT, f"{name}.dynamo.onnx.data")
        print(name, "exported, external data:", os.path.getsize(data) if os.path.exists(data) else None)
    versions = {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxscript": onnxscript.__version__,
        "python": sys.version.split()[0],
    }
    with open(os.path.join(OUT, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1)
        f.write("\n")
    print(versions)


if __name__ == "__main__":
    main()
