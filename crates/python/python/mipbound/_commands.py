"""The commands: each calls the native library run and wraps its JSON in a result object.

The native functions hold the options, their checks and their defaults (the library's, the
same as the CLI's); see their signatures in ``_native.pyi``.
"""

import functools
from typing import Any, Callable, Iterator, NamedTuple, Optional, Type, TypeVar

import numpy as np

from . import _native
from ._results import BoundsResult, CountResult, EstimateResult, InspectResult, Result

R = TypeVar("R", bound=Result)


def _command(native: Callable[..., str], result: Type[R]) -> Callable[..., R]:
    @functools.wraps(native)
    def run(net: _native.Network, *args: Any, **options: Any) -> R:
        try:
            return result(native(net, *args, **options))
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "partial_result", None)
            if isinstance(partial, str):
                interrupt.partial_result = result(partial)
            raise

    return run


count = _command(_native.count, CountResult)
estimate = _command(_native.estimate, EstimateResult)
bounds = _command(_native.bounds, BoundsResult)
inspect = _command(_native.inspect, InspectResult)


class AffineMap(NamedTuple):
    """The network's output on a region: ``y = weights @ x + bias``."""

    weights: np.ndarray
    bias: np.ndarray


class Region(NamedTuple):
    """One region: each hidden unit's piece (ReLU: 1 active, 0 inactive; maxout: the
    winning row), the pattern's bit code (as ``count --patterns`` writes it), a point
    inside the region, and the affine map when asked for."""

    pieces: list
    bits: str
    witness: np.ndarray
    map: Optional[AffineMap]


class StreamEnd(NamedTuple):
    """How a region stream ended: regions handed out, whether that is all of them, and
    the search's status."""

    regions: int
    complete: bool
    status: str


class Regions:
    """An iterator over the regions of a network, in the single-thread search order.

    The search runs on its own thread and waits while no region is taken, so memory does
    not grow with the number of regions. ``end`` says how the search ended once the
    iteration is over or ``close()`` was called; the iterator is also a context manager
    that closes it.
    """

    def __init__(self, stream: _native.RegionStream):
        self._stream = stream

    def __iter__(self) -> Iterator[Region]:
        return self

    def __next__(self) -> Region:
        raw = next(self._stream)
        pieces, bits, witness, affine = raw
        return Region(pieces, bits, witness, None if affine is None else AffineMap(*affine))

    def close(self) -> None:
        """Stops the search."""
        self._stream.close()

    @property
    def end(self) -> Optional[StreamEnd]:
        """How the search ended, or None while it runs."""
        end = self._stream.end
        return None if end is None else StreamEnd(*end)

    def __enter__(self) -> "Regions":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def regions(net: _native.Network, **options: Any) -> Regions:
    """Streams the regions of ``net`` one by one (see ``Regions``). Options: ``domain``,
    ``maps`` (attach each region's affine map) and those of ``count`` that change the
    search (``time_limit``, ``seed``, ``margin_tolerance``, ``tighten``, ``lp``,
    ``dynamic_order``)."""
    return Regions(_native.RegionStream(net, **options))
