"""mipbound: count and bound the linear regions of piecewise-linear neural networks.

The counting, estimating and bounding run in the Rust library that the ``mipbound``
command-line tool uses; this package converts arguments and results.

>>> import numpy as np, mipbound
>>> net = mipbound.Network.from_arrays([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
>>> net.hidden_widths
[2]
"""

from ._native import Network, __version__

__all__ = ["Network", "__version__"]
