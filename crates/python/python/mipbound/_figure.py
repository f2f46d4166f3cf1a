"""Draws a ``MapResult`` with matplotlib (imported only here, when a figure is asked for)."""

import textwrap
from typing import Any

import numpy as np


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt  # type: ignore[import-untyped]
    except ImportError as err:
        raise ImportError(
            "MapResult.figure() needs matplotlib: pip install matplotlib "
            "(or pip install 'mipbound[plots]')"
        ) from err
    return plt


def draw_map(result: Any, ax: Any = None, *, edges: bool = True, labels: bool = True) -> Any:
    """The map's polygons filled by region (or by class for a map made with
    ``color="class"``), their boundaries and the labelled points, on ``ax`` (a new figure
    when None, its aspect from the domain's shape). Returns the figure."""
    plt = _pyplot()
    from matplotlib.collections import PolyCollection  # type: ignore[import-untyped]
    from matplotlib.patches import Patch  # type: ignore[import-untyped]

    domain = result.domain_polygon
    marks = [p.at for p in result.points] if labels else []
    # The view holds the domain and the labelled points (which a clipped slice may leave).
    lo = np.min([domain.min(axis=0), *marks], axis=0)
    hi = np.max([domain.max(axis=0), *marks], axis=0)
    span = hi - lo
    if ax is None:
        width = 6.0
        height = max(1.5, min(8.0, width * span[1] / span[0])) if span[0] > 0 else width
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    pieces = result.class_pieces
    by_class = result.to_dict().get("classes") is not None
    if by_class:
        cmap = plt.get_cmap("tab10")
        fills = PolyCollection([p.polygon for p in pieces], facecolors=[cmap(p.cls % 10) for p in pieces], edgecolors="none")
        ax.add_collection(fills)
        seen = sorted({p.cls for p in pieces})
        ax.legend(handles=[Patch(color=cmap(c % 10), label=f"class {c}") for c in seen], loc="upper right", fontsize="small")
    else:
        cmap = plt.get_cmap("tab20")
        polygons = result.polygons
        fills = PolyCollection(polygons, facecolors=[cmap(i % 20) for i in range(len(polygons))], edgecolors="none")
        ax.add_collection(fills)
    if edges:
        ax.add_collection(PolyCollection(result.polygons, facecolors="none", edgecolors="black", linewidths=0.4))
    ax.add_collection(PolyCollection([domain], facecolors="none", edgecolors="black", linewidths=1.0))
    if labels:
        for point in result.points:
            x, y = point.at
            ax.plot([x], [y], marker="o", color="black", markersize=4)
            ax.annotate(point.label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize="medium", weight="bold")
    pad = 0.02 * span
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_aspect("equal")
    x_name, y_name = result.axes
    ax.set_xlabel(x_name)
    if result.dimension == 1:
        ax.set_yticks([])
    else:
        ax.set_ylabel(y_name)
    d = result.to_dict()
    count = len(d["regions"]) if d["complete"] else f"at least {len(d['regions'])}"
    title = f"{count} regions: {d['network']['domain']}"
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize="small")
    return fig
