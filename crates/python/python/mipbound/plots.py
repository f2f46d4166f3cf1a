"""The study's plots as matplotlib figures (matplotlib is an optional dependency).

The charts' data comes from the library, as for the CLI's SVG/PNG plots: regions and
bounds per split, lower bounds against exact counts, MIPBound time against exact-count
time, and test accuracy against regions. Each function takes a ``results.jsonl`` path (or
the ``Records`` read from it) and returns a ``matplotlib.figure.Figure``.
"""

import json
import os
from typing import Any, Dict, Union

from . import _native
from ._records import Records

Source = Union[str, "os.PathLike[str]", Records]
# Black, then a categorical palette (the CLI's colours).
PALETTE = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"]


def _path(source: Source) -> str:
    return source.path if isinstance(source, Records) else os.fspath(source)


def _figure(chart: Dict[str, Any]) -> Any:
    from matplotlib.figure import Figure  # type: ignore[import-not-found]

    figure = Figure(figsize=(9, 6))
    ax = figure.subplots()
    for s in chart["series"]:
        if not s["points"]:
            continue
        xs, ys = zip(*s["points"])
        color = PALETTE[s["color"] % len(PALETTE)]
        ax.plot(xs, ys, "o-" if s["joined"] else "o", color=color, label=s["name"], markersize=4)
    if chart["diagonal"]:
        lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
        hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
        ax.plot([lo, hi], [lo, hi], color="black", alpha=0.3)
    ax.set_title(chart["title"])
    ax.set_xlabel(chart["x_label"])
    ax.set_ylabel(chart["y_label"])
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")
    return figure


def study_figures(source: Source, name: str = "study") -> Dict[str, Any]:
    """Every chart of the study, by file stem (``regions-per-split``, ...)."""
    charts = json.loads(_native.study_charts(_path(source), name))
    return {c["file"]: _figure(c) for c in charts}


def _one(stem: str, doc: str) -> Any:
    def plot(source: Source, name: str = "study") -> Any:
        return study_figures(source, name)[stem]

    plot.__name__ = stem.replace("-", "_")
    plot.__doc__ = doc
    return plot


regions_per_split = _one("regions-per-split", "Regions and bounds per split (means), log2.")
lower_bound_vs_exact = _one("lower-bound-vs-exact", "MIPBound lower bounds against exact counts.")
time_vs_exact = _one("time-mipbound-vs-exact", "MIPBound time against exact-count time.")
accuracy_vs_regions = _one("accuracy-vs-regions", "Test accuracy against exact regions.")
