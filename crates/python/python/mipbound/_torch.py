"""Walks a PyTorch ``nn.Sequential`` into ONNX-style operators for ``Network.from_torch``.

Layers are recognised by class name and their tensors read with
``.detach().cpu().numpy()``, so PyTorch is never imported here. Each layer becomes the ONNX
operator ``torch.onnx.export`` would write for it (``Linear`` is ``Gemm``, ``Conv2d`` is
``Conv``, ...); the native side lowers them with the same code that reads ONNX files. This
module only knows what each PyTorch layer means and which of its settings are supported.
"""

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

# (name, ONNX operator, attributes, constant inputs after the data)
Op = Tuple[str, str, Dict[str, Any], List[np.ndarray]]

SUPPORTED = (
    "Linear, Conv1d, Conv2d, ReLU, LeakyReLU, PReLU (one parameter), Hardtanh, ReLU6, "
    "MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d (eval mode), "
    "Flatten, Unflatten, Dropout, Identity, a trailing Softmax/LogSoftmax, nested Sequential"
)
DROPPED = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")
TRAILING = ("Softmax", "LogSoftmax")


def _array(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def _leaves(module: Any, path: str) -> Iterator[Tuple[str, Any]]:
    """The layers of a (nested) Sequential in order, with their dotted positions."""
    for name, child in module.named_children():
        position = f"{path}.{name}" if path else name
        if type(child).__name__ == "Sequential":
            yield from _leaves(child, position)
        else:
            yield position, child


def _pair(value: Any, dims: int) -> List[int]:
    if isinstance(value, (tuple, list)):
        return [int(v) for v in value]
    return [int(value)] * dims


class _Walker:
    def __init__(self, rank: Optional[int]):
        self.rank = rank  # dimensions of the data without the batch, once known
        self.ops: List[Op] = []

    def fail(self, where: str, message: str) -> ValueError:
        return ValueError(f"from_torch: module {where}: {message}")

    def need_rank(self, where: str, ranks: Sequence[int], what: str) -> None:
        if self.rank not in ranks:
            raise self.fail(where, f"needs {what}, the data has {self.rank} dimensions")

    def visit(self, where: str, layer: Any) -> None:
        kind = type(layer).__name__
        handler = getattr(self, "on_" + kind, None)
        if kind in DROPPED:
            return
        if handler is None:
            raise self.fail(where, f"unsupported layer {kind} (supported: {SUPPORTED})")
        handler(where, layer)

    def add(self, where: str, op: str, attrs: Optional[Dict[str, Any]] = None,
            tensors: Sequence[np.ndarray] = ()) -> None:
        self.ops.append((where, op, attrs or {}, list(tensors)))

    def on_Linear(self, where: str, layer: Any) -> None:
        self.need_rank(where, (1,), "a flat input (add nn.Flatten() before it)")
        tensors = [_array(layer.weight)]
        if layer.bias is not None:
            tensors.append(_array(layer.bias))
        self.add(where, "Gemm", {"transB": 1}, tensors)

    def conv(self, where: str, layer: Any, dims: int) -> None:
        self.need_rank(where, (dims + 1,), "a C x L input" if dims == 1 else "a C x H x W input")
        if layer.padding_mode != "zeros":
            raise self.fail(where, f"padding_mode '{layer.padding_mode}' (only 'zeros')")
        kernel = _pair(layer.kernel_size, dims)
        dilation = _pair(layer.dilation, dims)
        if layer.padding == "valid":
            begin = end = [0] * dims
        elif layer.padding == "same":
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            begin = [t // 2 for t in total]
            end = [t - b for t, b in zip(total, begin)]
        else:
            begin = end = _pair(layer.padding, dims)
        attrs = {
            "strides": _pair(layer.stride, dims),
            "pads": begin + end,
            "dilations": dilation,
            "group": int(layer.groups),
        }
        tensors = [_array(layer.weight)]
        if layer.bias is not None:
            tensors.append(_array(layer.bias))
        self.add(where, "Conv", attrs, tensors)

    def on_Conv1d(self, where: str, layer: Any) -> None:
        self.conv(where, layer, 1)

    def on_Conv2d(self, where: str, layer: Any) -> None:
        self.conv(where, layer, 2)

    def on_ReLU(self, where: str, layer: Any) -> None:
        self.add(where, "Relu")

    def on_LeakyReLU(self, where: str, layer: Any) -> None:
        self.add(where, "LeakyRelu", {"alpha": float(layer.negative_slope)})

    def on_PReLU(self, where: str, layer: Any) -> None:
        slope = _array(layer.weight).reshape(-1)
        if slope.size != 1:
            raise self.fail(where, f"PReLU with {slope.size} parameters (one is supported)")
        self.add(where, "PRelu", {}, [slope])

    def on_Hardtanh(self, where: str, layer: Any) -> None:
        bounds = [np.array(float(layer.min_val)), np.array(float(layer.max_val))]
        self.add(where, "Clip", {}, bounds)

    on_ReLU6 = on_Hardtanh

    def pool(self, where: str, layer: Any, dims: int, op: str) -> None:
        self.need_rank(where, (dims + 1,), "a C x L input" if dims == 1 else "a C x H x W input")
        if layer.ceil_mode:
            raise self.fail(where, "ceil_mode=True (only floor)")
        if any(_pair(layer.padding, dims)):
            raise self.fail(where, "padding (pooling without padding is supported)")
        kernel = _pair(layer.kernel_size, dims)
        stride = _pair(layer.stride if layer.stride is not None else kernel, dims)
        attrs: Dict[str, Any] = {"kernel_shape": kernel, "strides": stride}
        if op == "MaxPool":
            if layer.return_indices:
                raise self.fail(where, "return_indices=True")
            attrs["dilations"] = _pair(layer.dilation, dims)
        elif getattr(layer, "divisor_override", None) is not None:
            raise self.fail(where, "divisor_override")
        self.add(where, op, attrs)

    def on_MaxPool1d(self, where: str, layer: Any) -> None:
        self.pool(where, layer, 1, "MaxPool")

    def on_MaxPool2d(self, where: str, layer: Any) -> None:
        self.pool(where, layer, 2, "MaxPool")

    def on_AvgPool1d(self, where: str, layer: Any) -> None:
        self.pool(where, layer, 1, "AveragePool")

    def on_AvgPool2d(self, where: str, layer: Any) -> None:
        self.pool(where, layer, 2, "AveragePool")

    def batch_norm(self, where: str, layer: Any, ranks: Sequence[int]) -> None:
        self.need_rank(where, ranks, "the input shape BatchNorm expects")
        if layer.training:
            raise self.fail(where, "BatchNorm in training mode (call model.eval() first)")
        if layer.running_mean is None or layer.running_var is None:
            raise self.fail(where, "BatchNorm without running statistics")
        n = int(layer.num_features)
        scale = _array(layer.weight) if layer.weight is not None else np.ones(n)
        shift = _array(layer.bias) if layer.bias is not None else np.zeros(n)
        stats = [_array(layer.running_mean), _array(layer.running_var)]
        self.add(where, "BatchNormalization", {"epsilon": float(layer.eps)}, [scale, shift] + stats)

    def on_BatchNorm1d(self, where: str, layer: Any) -> None:
        self.batch_norm(where, layer, (1, 2))

    def on_BatchNorm2d(self, where: str, layer: Any) -> None:
        self.batch_norm(where, layer, (3,))

    def on_Flatten(self, where: str, layer: Any) -> None:
        if layer.start_dim != 1 or layer.end_dim != -1:
            raise self.fail(where, "Flatten other than start_dim=1, end_dim=-1")
        self.add(where, "Flatten", {"axis": 1})

    def on_Unflatten(self, where: str, layer: Any) -> None:
        rank = self.rank or 0
        dim = int(layer.dim)
        dim = dim + rank + 1 if dim < 0 else dim
        sizes = [int(s) for s in layer.unflattened_size]
        # Reshape's 0 copies a dimension in place; only the one after `dim` can follow.
        if not 1 <= dim <= rank or rank - dim > 1 or (rank - dim == 1 and -1 in sizes):
            raise self.fail(where, f"Unflatten of dimension {layer.dim} of {rank}")
        target = [0] * dim + sizes + ([-1] if rank - dim == 1 else [])
        self.add(where, "Reshape", {}, [np.array(target, dtype=np.float64)])

    def on_Softmax(self, where: str, layer: Any) -> None:
        self.add(where, "Softmax")

    on_LogSoftmax = on_Softmax

    def after(self, kind: str, layer: Any) -> None:
        """Updates the data's rank after a layer."""
        if kind in ("Linear", "Flatten"):
            self.rank = 1
        elif kind == "Unflatten":
            self.rank = (self.rank or 0) + len(layer.unflattened_size) - 1


def _input_shape(layers: List[Tuple[str, Any]]) -> List[int]:
    """The input shape of a network given without one: that of its first Linear or
    BatchNorm1d, if only layers that keep any shape come before."""
    for where, layer in layers:
        kind = type(layer).__name__
        if kind == "Linear":
            return [int(layer.in_features)]
        if kind == "BatchNorm1d":
            return [int(layer.num_features)]
        if kind not in DROPPED + ("ReLU", "LeakyReLU", "PReLU", "Hardtanh", "ReLU6", "Flatten"):
            raise ValueError(
                f"from_torch: module {where} ({kind}) comes before any Linear layer: "
                "give input_shape (without the batch, e.g. (1, 28, 28))"
            )
    raise ValueError("from_torch: the module has no Linear layer; give input_shape")


def to_ops(module: Any, input_shape: Optional[Sequence[int]] = None) -> Tuple[List[int], List[Op]]:
    """The input shape and the operators of an ``nn.Sequential`` (see the module doc)."""
    kind = type(module).__name__
    if kind != "Sequential":
        raise ValueError(f"from_torch: expected an nn.Sequential, found {kind}")
    layers = list(_leaves(module, ""))
    if input_shape is None:
        shape = _input_shape(layers)
    else:
        try:
            shape = [int(d) for d in input_shape]
        except TypeError:
            raise ValueError(f"from_torch: input_shape {input_shape!r} is not a tuple of ints")
        if not shape or min(shape) < 1:
            raise ValueError(f"from_torch: input_shape {tuple(shape)} must be positive sizes")
    walker = _Walker(len(shape))
    for where, layer in layers:
        kind = type(layer).__name__
        walker.visit(f"{where} ({kind})", layer)
        walker.after(kind, layer)
    return shape, walker.ops
