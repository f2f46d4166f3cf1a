"""The CLI and the Python package agree: the same network through `mipbound ... --json`
and through mipbound.count/estimate/bounds gives the same counts, bounds and trial
levels for the same seed (timings excepted), on networks covering every activation kind
and every file format."""

import re

import numpy as np
import pytest

import mipbound
from mipbound import Network

from conftest import DATA, run_cli

FILES = [
    "mlp-2-8-8-3.onnx",  # ReLU, ONNX (float32)
    "mlp-2-8-8-3.dat",  # weights.dat
    "mlp-2-8-8-3.json",  # JSON
    "mlp-3-6-5-2-f64.onnx",  # ONNX float64
    "maxout-2-3x3.onnx",  # maxout
    "maxpool-maxout-2-3x2.onnx",  # max pooling
    "conv1d-6.onnx",  # 1-D convolution
    "torch/cnn.legacy.onnx",  # 2-D convolution and pooling from torch
    "torch/leaky-mlp.legacy.onnx",  # leaky ReLU
    "torch/hardtanh-mlp.legacy.onnx",  # hard tanh
    "torch/sawtooth.legacy.onnx",  # general piecewise-linear (clip chains)
    "torch/bn-mlp.legacy.onnx",  # BatchNorm folded
]

# Activation kinds without a fixture file: built from arrays and saved as JSON.
SPECS = ["relu6", "clip:-0.5:0.5", "pwl:-0.5/0/0.5:1/-1/2/0.5:0", "leaky_relu:-0.3", "maxout:3"]


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    paths = [DATA / f for f in FILES]
    rng = np.random.default_rng(3)
    for i, spec in enumerate(SPECS):
        rank = int(spec.split(":")[1]) if spec.startswith("maxout") else 1
        w = [rng.normal(size=(6 * rank, 2)), rng.normal(size=(5 * rank, 6)), rng.normal(size=(2, 5))]
        b = [rng.normal(size=6 * rank), rng.normal(size=5 * rank), rng.normal(size=2)]
        path = folder / f"generated-{i}.json"
        Network.from_arrays(w, b, activation=spec).save(path)
        paths.append(path)
    return paths


def without_timings(doc):
    """The document without wall-clock fields (every key naming seconds, and the
    activation bound's note "N MILPs in T s")."""
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if "seconds" not in k}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    if isinstance(doc, str):
        return re.sub(r" in [0-9.]+ s\b", " in T s", doc)
    return doc


def big_ints(doc, key=None):
    """The CLI's decimal-text big integers as ints, as to_dict() gives them."""
    if isinstance(doc, dict):
        return {k: big_ints(v, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [big_ints(v, key) for v in doc]
    if key in ("upper_bound", "value", "architecture", "activation", "bound") and isinstance(doc, str) and doc.isdigit():
        return int(doc)
    return doc


def same(cli_doc, result):
    assert without_timings(result.to_dict()) == without_timings(big_ints(cli_doc))


def test_every_activation_kind_and_format_is_covered(networks):
    kinds = set()
    for path in networks:
        kinds.update(a.split("(")[0] for a in Network.load(path).activations)
    assert kinds == {"relu", "leaky_relu", "pwl", "maxout"}
    assert {p.suffix for p in networks} == {".onnx", ".dat", ".json"}
    assert len(networks) >= 12


def test_count_agrees(networks, cli):
    for path in networks:
        doc = cli("count", path, "--threads", "1", "--seed", "3")
        result = mipbound.count(Network.load(str(path)), threads=1, seed=3)
        same(doc, result)
        assert result.complete and result.regions == doc["regions"] > 0


def test_count_options_agree(cli):
    path = DATA / "torch" / "leaky-mlp.legacy.onnx"
    doc = cli("count", path, "--box", "-1,2", "--no-tighten", "--static-order", "--lp", "highs", "--margin-tolerance", "1e-6", "--threads", "2")
    result = mipbound.count(
        Network.load(str(path)), domain=(-1, 2), tighten=False, dynamic_order=False, lp="highs", margin_tolerance=1e-6, threads=2
    )
    same(doc, result)
    assert result.network.domain == "[-1, 2]^2"


def test_estimate_agrees(networks, cli):
    for path in networks:
        doc = cli("estimate", path, "--xor", "2,3,dense", "--trials", "4", "--seed", "11", "--exact", "--threads", "1", "--bounds-time-limit", "30")
        result = mipbound.estimate(
            Network.load(str(path)), xor=[2, 3, "dense"], trials=4, seed=11, exact=True, threads=1, bounds_time_limit=30
        )
        same(doc, result)
        assert [w.levels for w in result.widths] == [w["levels"] for w in doc["widths"]]
        assert result.exact.regions == doc["exact"]["regions"]


def test_estimate_options_agree(cli):
    path = DATA / "mlp-2-8-8-3.json"
    doc = cli("estimate", path, "--box", "-1,1", "--xor", "4", "--trials", "6", "--alpha", "0.5", "--threshold", "2", "--seed", "2", "--no-activation-bound", "--trial-time-limit", "100", "--threads", "2")
    result = mipbound.estimate(
        Network.load(str(path)), domain="-1,1", xor=[4], trials=6, alpha=0.5, threshold=2, seed=2,
        activation_bound=False, trial_time_limit=100, threads=2,
    )
    same(doc, result)
    doc = cli("estimate", path, "--xor", "3", "--trials", "3", "--confidence", "0.9", "--max-limits", "4", "--milp-time-limit", "5")
    result = mipbound.estimate(Network.load(str(path)), xor=[3], trials=3, confidence=0.9, max_limits=4, milp_time_limit=5)
    same(doc, result)


def test_bounds_agree(networks, cli):
    for path in networks:
        doc = cli("bounds", path, "--time-limit", "30")
        result = mipbound.bounds(Network.load(str(path)), time_limit=30)
        same(doc, result)
    doc = cli("bounds", DATA / "mlp-2-8-8-3.onnx", "--box", "-1,1", "--max-limits", "3", "--milp-time-limit", "2")
    result = mipbound.bounds(Network.load(str(DATA / "mlp-2-8-8-3.onnx")), domain=(-1, 1), max_limits=3, milp_time_limit=2)
    same(doc, result)


def test_inspect_agrees(networks, cli):
    for path in networks[:3]:
        same(cli("inspect", path), mipbound.inspect(Network.load(str(path))))


def test_regions_follow_the_single_thread_search_order(tmp_path):
    for name in ("mlp-2-8-8-3.onnx", "maxout-2-3x3.onnx", "torch/sawtooth.legacy.onnx"):
        path = DATA / name
        patterns = tmp_path / "patterns.txt"
        doc = run_cli("count", path, "--threads", "1", "--patterns", patterns)
        lines = patterns.read_text().splitlines()
        with mipbound.regions(Network.load(path)) as stream:
            bits = [r.bits for r in stream]
            assert stream.end == (doc["regions"], True, "complete")
        assert bits == lines and len(bits) == doc["regions"]
