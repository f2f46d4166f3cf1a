#!/usr/bin/env python3
"""Regenerates the hand-built ONNX graphs in tests/data/graphs/ (run from the repository
root). These are NOT PyTorch exports: each is a small valid MLP export, built with the
`onnx` package, then broken or stretched in one way to test one loader rule (malformed
graphs, external data paths, parameter ranges). The real exports are made by
scripts/make-torch-fixtures.py.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install onnx numpy
    /tmp/venv/bin/python scripts/make-graph-fixtures.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "tests/data/graphs"


def layers(widths, seed):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(0, np.sqrt(2 / a), size=(b, a)).astype(np.float32), rng.normal(0, 0.3, size=b).astype(np.float32))
        for a, b in zip(widths[:-1], widths[1:])
    ]


def mlp(widths, seed, activation="Relu", alpha=None):
    """Gemm(transB=1) + activation per hidden layer, as the legacy exporter writes it."""
    nodes, inits, current = [], [], "input"
    ls = layers(widths, seed)
    for i, (w, b) in enumerate(ls):
        inits += [numpy_helper.from_array(w, f"{i}.weight"), numpy_helper.from_array(b, f"{i}.bias")]
        out = f"/{i}/Gemm_output_0"
        nodes.append(helper.make_node("Gemm", [current, f"{i}.weight", f"{i}.bias"], [out], name=f"/{i}/Gemm", transB=1))
        current = out
        if i + 1 < len(ls):
            act = f"/{i}/act_output_0"
            kw = {} if alpha is None else {"alpha": alpha}
            nodes.append(helper.make_node(activation, [current], [act], name=f"/{i}/{activation}", **kw))
            current = act
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, widths[0]])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, widths[-1]])],
        inits,
    )
    return helper.make_model(graph, producer_name="make-graph-fixtures", opset_imports=[helper.make_opsetid("", 17)])


def save(model, name):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def node_named(model, name):
    return next(n for n in model.graph.node if n.name == name)


def malformed():
    # The reference network: 2 inputs, hidden [10, 10], 1 output.
    save(mlp([2, 10, 10, 1], 7), "mlp-10-10.onnx")

    # The second Gemm reads a value nothing defines (a typo in an edited graph).
    m = mlp([2, 10, 10, 1], 7)
    node_named(m, "/1/Gemm").input[0] = "/0/Relu_outptu_0"
    save(m, "undefined-input.onnx")

    # The first Relu listed before the Gemm that computes its input.
    m = mlp([2, 10, 10, 1], 7)
    nodes = list(m.graph.node)
    nodes[0], nodes[1] = nodes[1], nodes[0]
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    save(m, "out-of-order.onnx")

    # The second Gemm reads the second Relu's output: a cycle.
    m = mlp([2, 10, 10, 1], 7)
    m.graph.node[2].input[0] = "/1/act_output_0"
    m.graph.node[2].input[1] = "1.weight_sq"
    m.graph.initializer.append(numpy_helper.from_array(np.eye(10, dtype=np.float32), "1.weight_sq"))
    save(m, "cycle.onnx")

    # The graph output is a constant (Identity of an initializer), not computed from the input.
    m = mlp([2, 10, 10, 1], 7)
    m.graph.node.append(helper.make_node("Identity", ["2.bias"], ["const_out"], name="/const/Identity"))
    m.graph.output[0].name = "const_out"
    save(m, "output-not-from-input.onnx")

    # Gemm with transA = 1 on the data: [1, 2]^T is [2, 1], which does not chain with B.
    m = mlp([2, 10, 10, 1], 7)
    node_named(m, "/0/Gemm").attribute.append(helper.make_attribute("transA", 1))
    save(m, "gemm-trans-a.onnx")

    # Gemm bias C of shape [10, 1]: it broadcasts [1, 10] to [10, 10], not a layer.
    m = mlp([2, 10, 10, 1], 7)
    m.graph.initializer[1].dims[:] = [10, 1]
    save(m, "gemm-bias-column.onnx")


def parameters():
    for name, alpha in [("leaky-huge-alpha.onnx", 3e38), ("leaky-nan-alpha.onnx", float("nan"))]:
        save(mlp([2, 4, 1], 3, "LeakyRelu", alpha), name)
    m = mlp([2, 4, 1], 3, "Relu")
    relu = node_named(m, "/0/Relu")
    relu.op_type = "Clip"
    m.graph.initializer.extend([
        numpy_helper.from_array(np.array(-1.0, np.float32), "lo"),
        numpy_helper.from_array(np.array(np.inf, np.float32), "hi"),
    ])
    relu.input.extend(["lo", "hi"])
    save(m, "clip-inf.onnx")
    m = mlp([2, 4, 1], 3)
    m.graph.initializer[0].CopyFrom(helper.make_tensor("0.weight", TensorProto.BFLOAT16, [4, 2], np.zeros(8, np.uint16).tobytes(), raw=True))
    save(m, "bfloat16.onnx")
    # dims whose product overflows 64 bits.
    m = mlp([2, 4, 1], 3)
    m.graph.initializer[0].dims[:] = [2**32, 2**32, 16]
    save(m, "overflowing-dims.onnx")
    # A width of 2^40 in an otherwise tiny file.
    m = mlp([2, 4, 1], 3)
    m.graph.initializer[0].dims[:] = [2**40, 2]
    save(m, "huge-width.onnx")


def external():
    base = mlp([2, 4, 1], 5)
    w = numpy_helper.to_array(base.graph.initializer[0])
    payload = b"\0" * 16 + w.tobytes()
    with open(os.path.join(OUT, "weights.bin"), "wb") as f:
        f.write(payload)

    def with_location(name, entries):
        m = mlp([2, 4, 1], 5)
        t = m.graph.initializer[0]
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in entries:
            e = t.external_data.add()
            e.key, e.value = k, v
        save(m, name)

    n = str(len(w.tobytes()))
    with_location("external-ok.onnx", [("location", "weights.bin"), ("offset", "16"), ("length", n)])
    with_location("external-escape.onnx", [("location", "../graphs/weights.bin"), ("offset", "16"), ("length", n)])
    with_location("external-absolute.onnx", [("location", "/tmp/mipbound-weights.bin")])
    with_location("external-past-end.onnx", [("location", "weights.bin"), ("offset", "24"), ("length", n)])
    with_location("external-wrong-length.onnx", [("location", "weights.bin"), ("offset", "16"), ("length", "4")])
    with_location("external-missing.onnx", [("location", "no-such-file.bin")])


def main():
    os.makedirs(OUT, exist_ok=True)
    malformed()
    parameters()
    external()


if __name__ == "__main__":
    main()
