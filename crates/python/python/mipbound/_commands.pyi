"""Type stubs of the commands (see ``_native.pyi`` for what each option means)."""

from typing import Any, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._domains import Domain as DomainClass
from ._native import Network
from ._results import BoundsResult, CountResult, EstimateResult, InspectResult

# A domain class (Box, Polytope, Plane, Segment, Ball, Affine, Everywhere), or the box
# "LO,HI" / (lo, hi).
Domain = Union[DomainClass, str, Tuple[float, float]]

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
) -> CountResult: ...
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
) -> EstimateResult: ...
def bounds(
    net: Network,
    *,
    domain: Optional[Domain] = None,
    time_limit: Optional[float] = None,
    milp_time_limit: Optional[float] = None,
    max_limits: Optional[int] = None,
) -> BoundsResult: ...
def inspect(net: Network, *, domain: Optional[Domain] = None) -> InspectResult: ...

class AffineMap(NamedTuple):
    weights: np.ndarray
    bias: np.ndarray

class Region(NamedTuple):
    pieces: List[int]
    bits: str
    witness: np.ndarray
    map: Optional[AffineMap]

class StreamEnd(NamedTuple):
    regions: int
    complete: bool
    status: str

class Regions:
    def __iter__(self) -> Iterator[Region]: ...
    def __next__(self) -> Region: ...
    def close(self) -> None: ...
    @property
    def end(self) -> Optional[StreamEnd]: ...
    def __enter__(self) -> "Regions": ...
    def __exit__(self, *exc: Any) -> None: ...

def regions(
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
) -> Regions: ...
