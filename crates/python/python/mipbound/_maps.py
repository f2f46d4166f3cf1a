"""``map`` (region polygons of a 2-D domain) and ``local`` (local region counts).

The native functions hold the options, their checks and their defaults (the CLI's); these
wrappers add the Python-side argument checks and wrap the JSON in result objects.
"""

from typing import Any

from . import _native
from ._commands import _command
from ._domains import Box, Domain
from ._results import LocalResult, MapResult

_map = _command(_native.map, MapResult)
_local = _command(_native.local, LocalResult)


def map(net: _native.Network, *, figure: bool = False, **options: Any) -> Any:  # noqa: A001
    """The regions of a 2-D domain as exact polygons, like ``mipbound map --json``.

    ``domain`` is a ``Plane``, a ``Segment`` (drawn as a strip), or the box of a 1- or
    2-input network (a ``Box``, "LO,HI" or (lo, hi); default [0, 1]^n0), possibly cut by a
    ``Polytope``. ``color="class"`` splits each region along the decision boundaries
    (``MapResult.class_pieces``). Search options: ``time_limit`` (then the map holds the
    regions found so far), ``seed``, ``margin_tolerance``, ``tighten``, ``lp``,
    ``dynamic_order``; the search runs on one thread, whose order is the regions' order.

    Returns a ``MapResult``; with ``figure=True``, ``(MapResult, matplotlib Figure)``.
    """
    result = _map(net, **options)
    if figure:
        return result, result.figure()
    return result


def local(net: _native.Network, points: Any, *, domain: Any = Box(0, 1), **options: Any) -> LocalResult:
    """Exact region counts in the l-infinity ball of radius ``radius`` around each point
    (``points``: an ``(n, n0)`` array), like ``mipbound local --json``; with
    ``segments=True``, the regions crossed along the segments between consecutive points
    instead (counts and per unit length).

    ``domain`` is the input box the balls are cut to: a ``Box`` (default ``Box(0, 1)``),
    "LO,HI", (lo, hi), or ``None`` for no cut. Options: ``labels`` (one int 0-255 per
    point), ``radius``, ``segments``, ``time_limit`` (per point: a stopped count is a
    certain lower bound and gets a MIPBound bound), ``xor``, ``trials``, ``confidence``,
    ``seed``, ``threads``.
    """
    if isinstance(domain, Domain) and not isinstance(domain, Box):
        raise ValueError(
            f"domain: local takes the input box the balls are cut to (a Box, \"LO,HI\", "
            f"(lo, hi) or None), not {type(domain).__name__}"
        )
    return _local(net, points, domain=domain, **options)
