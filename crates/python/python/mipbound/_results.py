"""Result objects: the CLI's ``--json`` output with attributes, tables and provenance.

A result keeps the JSON document the library produced (the same as ``mipbound <command>
--json``). ``to_dict()`` returns it with the big integers (upper bounds and bound values,
which the JSON writes as decimal text because they can exceed 64 bits) as Python ints.
"""

import copy
import html
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

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
