"""Type stubs of the native module (the classes are re-exported by ``mipbound``)."""

from os import PathLike
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = npt.ArrayLike
PathType = Union[str, "PathLike[str]"]

class Network:
    """A validated piecewise-linear network."""

    @staticmethod
    def load(path: PathType, format: Optional[str] = None) -> "Network": ...
    @staticmethod
    def from_bytes(data: bytes, format: str) -> "Network": ...
    @staticmethod
    def from_arrays(
        weights: Sequence[ArrayLike],
        biases: Sequence[ArrayLike],
        activation: Union[str, Sequence[str], None] = None,
        output: str = "identity",
    ) -> "Network": ...
    @staticmethod
    def from_torch(module: Any, input_shape: Optional[Sequence[int]] = None) -> "Network": ...
    def to_bytes(self, format: str) -> bytes: ...
    def save(self, path: PathType, format: Optional[str] = None) -> None: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def hidden_widths(self) -> list[int]: ...
    @property
    def activations(self) -> list[str]: ...
    @property
    def output_dim(self) -> Optional[int]: ...
    @property
    def parameters(self) -> int: ...
    @property
    def pattern_bits(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def layers(self) -> list[dict[str, Any]]: ...
    @property
    def source(self) -> str: ...
    def output(self, x: ArrayLike) -> np.ndarray: ...
    def pattern(self, x: ArrayLike) -> np.ndarray: ...
    def __eq__(self, other: object) -> bool: ...

Domain = Union[str, Tuple[float, float]]

def count(
    net: Network,
    *,
    domain: Optional[Domain] = None,
    time_limit: Optional[float] = None,
    seed: Optional[int] = None,
    margin_tolerance: Optional[float] = None,
    tighten: Optional[bool] = None,
    lp: Optional[str] = None,
    dynamic_order: Optional[bool] = None,
    threads: Optional[int] = None,
) -> str: ...
def estimate(
    net: Network,
    *,
    domain: Optional[Domain] = None,
    xor: Optional[Sequence[Union[int, str]]] = None,
    trials: Optional[int] = None,
    confidence: Optional[float] = None,
    alpha: Optional[float] = None,
    threshold: Optional[int] = None,
    seed: Optional[int] = None,
    time_limit: Optional[float] = None,
    trial_time_limit: Optional[float] = None,
    exact: Optional[bool] = None,
    exact_time_limit: Optional[float] = None,
    lp: Optional[str] = None,
    activation_bound: Optional[bool] = None,
    bounds_time_limit: Optional[float] = None,
    milp_time_limit: Optional[float] = None,
    max_limits: Optional[int] = None,
    threads: Optional[int] = None,
) -> str: ...
def bounds(
    net: Network,
    *,
    domain: Optional[Domain] = None,
    time_limit: Optional[float] = None,
    milp_time_limit: Optional[float] = None,
    max_limits: Optional[int] = None,
) -> str: ...
def inspect(net: Network, *, domain: Optional[Domain] = None) -> str: ...

class RegionStream:
    """The regions of a network, one at a time, in the single-thread search order."""

    def __init__(
        self,
        net: Network,
        *,
        domain: Optional[Domain] = None,
        maps: bool = False,
        time_limit: Optional[float] = None,
        seed: Optional[int] = None,
        margin_tolerance: Optional[float] = None,
        tighten: Optional[bool] = None,
        lp: Optional[str] = None,
        dynamic_order: Optional[bool] = None,
    ) -> None: ...
    def __iter__(self) -> "RegionStream": ...
    def __next__(
        self,
    ) -> Tuple[List[int], str, np.ndarray, Optional[Tuple[np.ndarray, np.ndarray]]]: ...
    def close(self) -> None: ...
    @property
    def end(self) -> Optional[Tuple[int, bool, str]]: ...
