"""mipbound: count and bound the linear regions of piecewise-linear neural networks.

The counting, estimating and bounding run in the Rust library that the ``mipbound``
command-line tool uses; this package converts arguments and results. Every command takes
a ``Network`` and keyword options named like the CLI's flags; every result has
attributes, ``to_dict()`` (the CLI's ``--json``), ``provenance`` and notebook tables.
``read_records`` reads the records of ``mipbound batch``/``study`` (``to_pandas()``), and
``mipbound.plots`` draws the study's charts with matplotlib.

>>> import numpy as np, mipbound
>>> net = mipbound.Network.from_arrays([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
>>> mipbound.count(net, domain=(-1, 1)).regions
4
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
from ._native import Network, __version__
from ._records import Records, read_records
from ._results import BoundsResult, CountResult, EstimateResult, InspectResult, Record, Result

__all__ = [
    "AffineMap",
    "BoundsResult",
    "CountResult",
    "EstimateResult",
    "InspectResult",
    "Network",
    "Record",
    "Records",
    "Region",
    "Regions",
    "Result",
    "StreamEnd",
    "__version__",
    "bounds",
    "count",
    "estimate",
    "inspect",
    "read_records",
    "regions",
]
