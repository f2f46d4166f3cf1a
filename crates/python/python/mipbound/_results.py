"""Result objects: the CLI's ``--json`` output with attributes, tables and provenance.

A result keeps the JSON document the library produced (the same as ``mipbound <command>
--json``). ``to_dict()`` returns it with the big integers (upper bounds and bound values,
which the JSON writes as decimal text because they can exceed 64 bits) as Python ints.
"""

import copy
import html
import json
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

# Keys whose decimal-text values are big integers.
BIG_INTEGER_KEYS = frozenset({"upper_bound", "value", "architecture", "activation", "bound"})


def _ints(obj: Any, key: Optional[str] = None) -> Any:
    if isinstance(obj, dict):
        return {k: _ints(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ints(v, key) for v in obj]
    if key in BIG_INTEGER_KEYS and isinstance(obj, str) and obj.isdigit():
        return int(obj)
    return obj


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Record:
    """Read-only attributes over a dict; nested dicts are records too."""

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> List[str]:
        return sorted(set(self._data) | set(super().__dir__()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of the underlying dict."""
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._data.items())
        return f"Record({items})"


def _markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _html(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bound(b: Optional[Dict[str, Any]]) -> str:
    if b is None:
        return "-"
    if b["log2"] <= 0:
        return f"2^{b['log2']:.2f} (trivial: >= 1)"
    return f"2^{b['log2']:.2f} = {b['value']}"


Table = Tuple[str, Sequence[str], Sequence[Sequence[Any]]]


class Result(Record):
    """A command's result (see the subclasses)."""

    __slots__ = ()
    _summary: Tuple[str, ...] = ()

    def __init__(self, data: "str | Dict[str, Any]"):
        super().__init__(_ints(json.loads(data)) if isinstance(data, str) else data)

    @property
    def provenance(self) -> Dict[str, Any]:
        """What the result depends on: mipbound's version, the network's hash and source,
        the domain and the seed."""
        net = self._data["network"]
        return {
            "version": self._data["version"],
            "network_hash": net["hash"],
            "network": net["path"],
            "domain": net["domain"],
            "seed": self._data.get("seed"),
        }

    def _network_rows(self) -> List[Tuple[str, Any]]:
        net = self._data["network"]
        return [
            ("network", net["path"]),
            ("hash", net["hash"][:16]),
            ("input dim", net["input_dim"]),
            ("hidden widths", ", ".join(map(str, net["hidden_widths"]))),
            ("parameters", net["parameters"]),
            ("domain", net["domain"]),
        ]

    def _tables(self) -> List[Table]:
        return [("", ("", ""), self._network_rows())]

    def _repr_markdown_(self) -> str:
        parts = []
        for title, headers, rows in self._tables():
            if title:
                parts.append(f"**{title}**\n")
            parts.append(_markdown(headers, rows) + "\n")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        parts = []
        for title, headers, rows in self._tables():
            if title:
                parts.append(f"<p><b>{html.escape(title)}</b></p>")
            parts.append(_html(headers, rows))
        return "".join(parts)

    def __repr__(self) -> str:
        shown = [f"network={self._data['network']['path']!r}"]
        shown += [f"{k}={self._data[k]!r}" for k in self._summary if k in self._data]
        return f"{type(self).__name__}({', '.join(shown)})"


class CountResult(Result):
    """The exact count (``mipbound count --json``): ``regions``, ``complete``,
    ``status``, ``upper_bound``, timings and LP statistics."""

    __slots__ = ()
    _summary = ("regions", "complete", "status", "upper_bound", "seconds")

    def _tables(self) -> List[Table]:
        d = self._data
        regions = d["regions"] if d["complete"] else f"at least {d['regions']} ({d['status']})"
        rows = self._network_rows() + [
            ("regions", regions),
            ("upper bound", f"{d['upper_bound']} ({d['upper_bound_name']})"),
            ("seconds", f"{d['seconds']:.3f}"),
            ("lp solves", d["lp_solves"]),
            ("seed", d["seed"]),
        ]
        return [("", ("", ""), rows)]


class EstimateResult(Result):
    """MIPBound estimates (``mipbound estimate --json``): one entry per XOR width in
    ``widths`` (trial levels and lower bounds), ``best_lower_bound``, ``exact`` and
    ``upper_bounds``."""

    __slots__ = ()
    _summary = ("best_lower_bound", "interrupted", "seed", "seconds")

    def __repr__(self) -> str:
        d = self._data
        best = d["best_lower_bound"]
        shown = [
            f"network={d['network']['path']!r}",
            f"levels={ {w['xor']: w['levels'] for w in d['widths']} }",
            f"best_lower_bound={_bound(best) if best else None!r}",
        ]
        if d["exact"] is not None:
            shown.append(f"exact={d['exact']['regions']}")
        shown.append(f"upper_bound={d['upper_bounds']['architecture']}")
        shown.append(f"seed={d['seed']}")
        return f"EstimateResult({', '.join(shown)})"

    def _tables(self) -> List[Table]:
        d = self._data
        widths = [
            (
                w["xor"],
                " ".join(map(str, w["levels"])),
                _bound(w["lower_bound"]),
                _bound(w["tail_bound"]),
                f"{w['lower_bound']['confidence']:.4f}" if w["lower_bound"] else "-",
            )
            for w in d["widths"]
        ]
        up = d["upper_bounds"]
        summary = [("seed", d["seed"]), ("trials per width", d["trials_per_width"])]
        if d["best_lower_bound"] is not None:
            b = d["best_lower_bound"]
            summary.append(("best lower bound", f"{_bound(b)} (XOR {b['xor']}, confidence {b['confidence']:.4f})"))
        if d["exact"] is not None:
            e = d["exact"]
            summary.append(("exact count", e["regions"] if e["complete"] else f"at least {e['regions']} ({e['status']})"))
        summary.append(("upper bound", f"{up['architecture']} ({up['architecture_name']})"))
        if up.get("activation") is not None:
            summary.append(("activation bound", up["activation"]))
        return [
            ("", ("", ""), self._network_rows() + summary),
            ("XOR widths", ("xor", "levels", "lower bound", "tail bound", "confidence"), widths),
        ]

    def to_pandas(self) -> Any:
        """One row per XOR width and trial that started (requires pandas)."""
        import pandas as pd  # type: ignore[import-untyped]

        rows = [
            dict(xor=w["xor"], **t) for w in self._data["widths"] for t in w["trials"]
        ]
        return pd.DataFrame(rows)


class BoundsResult(Result):
    """Every bound of the catalogue (``mipbound bounds --json``): ``bounds`` (name, kind,
    value, log2, source, note) and the activation-based bound's report ``activation``."""

    __slots__ = ()

    def __repr__(self) -> str:
        d = self._data
        known = {b["name"]: b["value"] for b in d["bounds"] if b["value"] is not None}
        return f"BoundsResult(network={d['network']['path']!r}, bounds={known!r})"

    def _tables(self) -> List[Table]:
        rows = [
            (b["name"], b["kind"], "-" if b["value"] is None else b["value"],
             "-" if b["log2"] is None else f"{b['log2']:.2f}", b["source"], b["note"])
            for b in self._data["bounds"]
        ]
        headers = ("bound", "kind", "value", "log2", "source", "note")
        return [("", ("", ""), self._network_rows()), ("Bounds", headers, rows)]

    def to_pandas(self) -> Any:
        """One row per bound of the catalogue (requires pandas)."""
        import pandas as pd  # type: ignore[import-untyped]

        return pd.DataFrame(self._data["bounds"])


class InspectResult(Result):
    """A network's layers and stable units over the domain (``mipbound inspect --json``)."""

    __slots__ = ()

    def _tables(self) -> List[Table]:
        layers = [
            (i, l["kind"], l["inputs"], l["units"], l["activation"], l["parameters"])
            for i, l in enumerate(self._data["layers"])
        ]
        headers = ("layer", "kind", "inputs", "units", "activation", "parameters")
        return [("", ("", ""), self._network_rows()), ("Layers", headers, layers)]


class MapPoint(NamedTuple):
    """A labelled point of a map (a plane's ``A``, ``B``, ``C``; a segment's ``A``, ``B``)
    at ``at``, in map coordinates."""

    label: str
    at: np.ndarray


class ClassPiece(NamedTuple):
    """The part of region ``region`` where output ``cls`` wins: its polygon (an ``(m, 2)``
    array) and area."""

    region: int
    cls: int
    polygon: np.ndarray
    area: float


class MapResult(Result):
    """The regions of a 2-D domain as exact polygons (``mipbound map --json``).

    Coordinates are the map's: ``(u, v)`` on a plane, ``(x1, x2)`` on a 2-input box; a
    segment or a 1-input network is a strip (its interval times ``[0, h]``, ``h`` a tenth
    of its length, the second coordinate meaning nothing). ``regions`` holds each region's
    ``bits``, ``pieces``, ``witness``, ``polygon`` and ``area`` in the search order;
    ``polygons``, ``patterns``, ``areas``, ``points`` and ``class_pieces`` give them as
    numpy arrays and tuples, and ``figure()`` draws them with matplotlib.
    """

    __slots__ = ()
    _summary = ("complete", "status", "domain_area", "seconds")

    def __repr__(self) -> str:
        d = self._data
        return (
            f"MapResult(network={d['network']['path']!r}, domain={d['network']['domain']!r}, "
            f"regions={len(d['regions'])}, complete={d['complete']!r})"
        )

    @property
    def polygons(self) -> List[np.ndarray]:
        """Each region's polygon as an ``(m, 2)`` float array of its vertices,
        counter-clockwise, in the search order."""
        return [np.array(r["polygon"], dtype=np.float64).reshape(-1, 2) for r in self._data["regions"]]

    @property
    def patterns(self) -> List[str]:
        """Each region's pattern as its bit code (as ``count --patterns`` writes it)."""
        return [r["bits"] for r in self._data["regions"]]

    @property
    def areas(self) -> np.ndarray:
        """Each region's area."""
        return np.array([r["area"] for r in self._data["regions"]], dtype=np.float64)

    @property
    def covered_area(self) -> float:
        """The regions' summed area (``domain_area`` when complete, up to rounding)."""
        return float(self.areas.sum())

    @property
    def domain_polygon(self) -> np.ndarray:
        """The domain as an ``(m, 2)`` array of vertices."""
        return np.array(self._data["domain"], dtype=np.float64).reshape(-1, 2)

    @property
    def points(self) -> List[MapPoint]:
        """The labelled points (the slice's defining points; none on a box)."""
        return [MapPoint(p["label"], np.array(p["at"], dtype=np.float64)) for p in self._data["points"]]

    @property
    def class_pieces(self) -> List[ClassPiece]:
        """With ``color="class"``: every region split by the winning output, region by
        region (empty otherwise; ``classes`` is the number of classes)."""
        return [
            ClassPiece(r["index"], c["class"], np.array(c["polygon"], dtype=np.float64).reshape(-1, 2), c["area"])
            for r in self._data["regions"]
            for c in r.get("classes", [])
        ]

    def _tables(self) -> List[Table]:
        d = self._data
        regions = len(d["regions"]) if d["complete"] else f"at least {len(d['regions'])} ({d['status']})"
        rows = self._network_rows() + [
            ("regions", regions),
            ("area", f"{self.covered_area:.6f} of the domain's {d['domain_area']:.6f} covered"),
            ("seconds", f"{d['seconds']:.3f}"),
        ]
        return [("", ("", ""), rows)]

    def figure(self, ax: Any = None, *, edges: bool = True, labels: bool = True) -> Any:
        """Draws the map with matplotlib: each polygon filled (by region, or by class when
        the map was made with ``color="class"``), its boundary, and the labelled points.
        Draws into ``ax`` when given; returns the figure."""
        from ._figure import draw_map

        return draw_map(self, ax, edges=edges, labels=labels)


class LocalResult(Result):
    """Local region counts (``mipbound local --json``): ``points`` holds one report per
    point (or segment) with ``index``, ``label``, ``regions``, ``kind`` (``exact`` or
    ``lower bound (certain)``), ``complete``, ``status``, ``seconds``, ``unstable_units``,
    the MIPBound bound ``mipbound`` when a time limit stopped the count, and ``segment``
    in segments mode; ``summary`` holds the quantiles and the histogram."""

    __slots__ = ()
    _summary = ("mode", "radius", "interrupted", "seconds")

    def __repr__(self) -> str:
        d = self._data
        q = d["summary"]["regions"]
        median = None if q is None else q["median"]
        return (
            f"LocalResult(network={d['network']['path']!r}, mode={d['mode']!r}, "
            f"radius={d['radius']!r}, points={len(d['points'])}, median_regions={median!r})"
        )

    @property
    def rows(self) -> List[Dict[str, Any]]:
        """One dict per point, with the columns of ``mipbound local --csv`` (segments
        mode: those of ``--segments --csv``)."""
        out = []
        for p in self._data["points"]:
            m = p.get("mipbound") or {}
            s = p.get("segment")
            if s is None:
                row = dict(
                    index=p["index"], label=p["label"], regions=p["regions"], kind=p["kind"],
                    complete=p["complete"], status=p["status"], seconds=p["seconds"],
                    count_seconds=p["count_seconds"], unstable_units=p["unstable_units"],
                    mipbound_regions=m.get("value"), mipbound_log2=m.get("log2"),
                    mipbound_kind=m.get("kind"), mipbound_confidence=m.get("confidence"),
                    mipbound_xor=m.get("xor"), mipbound_seconds=m.get("seconds"),
                )
            else:
                row = dict(
                    segment=p["index"], **{"from": p["index"]}, to=p["index"] + 1,
                    from_label=p["label"], to_label=s["end_label"], regions=p["regions"],
                    kind=p["kind"], length=s["length"],
                    regions_per_unit_length=s["regions_per_unit_length"],
                    complete=p["complete"], status=p["status"], seconds=p["seconds"],
                    mipbound_regions=m.get("value"), mipbound_kind=m.get("kind"),
                )
            out.append(row)
        return out

    def _tables(self) -> List[Table]:
        d = self._data
        rows = self.rows
        headers = tuple(rows[0]) if rows else ("index",)
        summary = [("points", d["points_source"]), ("mode", d["mode"])]
        q = d["summary"]["regions"]
        if q is not None:
            summary.append(("regions", f"mean {q['mean']:.1f}, median {q['median']:.1f}, min {q['min']:.0f}, max {q['max']:.0f}"))
        return [
            ("", ("", ""), self._network_rows() + summary),
            ("Points", headers, [tuple(r.values()) for r in rows]),
        ]

    def to_pandas(self) -> Any:
        """One row per point (``rows``; requires pandas)."""
        import pandas as pd  # type: ignore[import-untyped]

        return pd.DataFrame(self.rows)
