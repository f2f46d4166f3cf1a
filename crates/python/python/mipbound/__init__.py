"""mipbound: count and bound the linear regions of piecewise-linear neural networks.

The counting, estimating and bounding run in the Rust library that the ``mipbound``
command-line tool uses; this package converts arguments and results. Every command takes
a ``Network`` and keyword options named like the CLI's flags; every result has
attributes, ``to_dict()`` (the CLI's ``--json``), ``provenance`` and notebook tables.
``domain=`` takes a domain class: ``Box``, ``Polytope``, ``Plane``, ``Segment``, ``Ball``,
``Affine`` or ``Everywhere`` (the CLI's ``--box`` and ``--domain`` specs). ``map`` gives the
exact region polygons of a 2-D domain as numpy arrays (and a matplotlib figure), ``local``
the exact region counts in l-infinity balls around points. ``read_records`` reads the
records of ``mipbound batch``/``study`` (``to_pandas()``), and ``mipbound.plots`` draws the
study's charts with matplotlib.

>>> import numpy as np, mipbound
>>> net = mipbound.Network.from_arrays([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
>>> mipbound.count(net, domain=(-1, 1)).regions
4
>>> plane = mipbound.Plane([-1, -1], [1, -1], [-1, 1], box=(-1, 1))
>>> m = mipbound.map(net, domain=plane)
>>> len(m.polygons), round(m.covered_area, 12)
(4, 1.0)
"""

from ._commands import (
    AffineMap,
    Region,
    Regions,
    StreamEnd,
    bounds,
    count,
    estimate,
    inspect,
    regions,
)
from ._domains import Affine, Ball, Box, Domain, Everywhere, Plane, Polytope, Segment
from ._maps import local, map
from ._native import Network, __version__
from ._records import Records, read_records
from ._results import (
    BoundsResult,
    ClassPiece,
    CountResult,
    EstimateResult,
    InspectResult,
    LocalResult,
    MapPoint,
    MapResult,
    Record,
    Result,
)

__all__ = [
    "Affine",
    "AffineMap",
    "Ball",
    "BoundsResult",
    "Box",
    "ClassPiece",
    "CountResult",
    "Domain",
    "EstimateResult",
    "Everywhere",
    "InspectResult",
    "LocalResult",
    "MapPoint",
    "MapResult",
    "Network",
    "Plane",
    "Polytope",
    "Record",
    "Records",
    "Region",
    "Regions",
    "Result",
    "Segment",
    "StreamEnd",
    "__version__",
    "bounds",
    "count",
    "estimate",
    "inspect",
    "local",
    "map",
    "read_records",
    "regions",
]
