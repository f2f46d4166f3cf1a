"""Type stubs of ``map`` and ``local`` (see ``_native.pyi`` for the other commands)."""

from typing import Any, Literal, Optional, Sequence, Tuple, Union, overload

import numpy.typing as npt

from ._commands import Domain
from ._native import Network
from ._results import LocalResult, MapResult

@overload
def map(
    net: Network,
    *,
    figure: Literal[False] = False,
    domain: Optional[Domain] = None,
    color: Literal["region", "class"] = "region",
    time_limit: Optional[float] = None,
    seed: Optional[int] = None,
    margin_tolerance: Optional[float] = None,
    tighten: Optional[bool] = None,
    lp: Optional[str] = None,
    dynamic_order: Optional[bool] = None,
) -> MapResult: ...
@overload
def map(
    net: Network,
    *,
    figure: Literal[True],
    domain: Optional[Domain] = None,
    color: Literal["region", "class"] = "region",
    time_limit: Optional[float] = None,
    seed: Optional[int] = None,
    margin_tolerance: Optional[float] = None,
    tighten: Optional[bool] = None,
    lp: Optional[str] = None,
    dynamic_order: Optional[bool] = None,
) -> Tuple[MapResult, Any]: ...  # the Figure: matplotlib is optional
def local(
    net: Network,
    points: npt.ArrayLike,
    *,
    domain: Optional[Domain] = ...,
    labels: Optional[npt.ArrayLike] = None,
    radius: Optional[float] = None,
    segments: bool = False,
    time_limit: Optional[float] = None,
    xor: Optional[Sequence[Union[int, str]]] = None,
    trials: Optional[int] = None,
    confidence: Optional[float] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> LocalResult: ...
