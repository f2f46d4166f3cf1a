"""Domains: where the regions are counted, estimated, bounded and drawn.

Each class is the Python form of one ``--domain`` spec of the CLI; every command takes one
as ``domain=``. Except for ``Box`` and ``Everywhere``, a domain lies inside an input box
``box=``: ``(lo, hi)`` numbers (the default ``(0, 1)`` is ``[0, 1]^n0``), a ``Box``, or
``None`` for no clipping, exactly as the CLI's ``--box LO,HI|FILE|none``.

Shapes are checked when a domain is made (a ``ValueError`` naming the argument); that the
points have the network's input dimension is checked when a command runs.
"""

from typing import Any, Optional, Tuple, Union

import numpy as np

Number = Union[int, float]
BoxLike = Union["Box", Tuple[Any, Any], None]


def _short(a: Any) -> str:
    """An array in a repr: its values when there are few, else its shape."""
    if isinstance(a, float):
        return repr(a)
    if a.size <= 6:
        return repr(a.tolist())
    return f"<array {a.shape}>"


def _array(value: Any, ndim: int, who: str, what: str) -> np.ndarray:
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {what} is not an array of numbers") from None
    if a.ndim != ndim:
        raise ValueError(f"{who}: {what} must be a {ndim}-D array; got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{who}: {what} is empty (shape {a.shape})")
    a.setflags(write=False)
    return a


def _points(who: str, **named: Any) -> np.ndarray:
    """Points of the same length, one per argument, as the rows of an array."""
    arrays = {name: _array(v, 1, who, name) for name, v in named.items()}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) > 1:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in arrays.items())
        raise ValueError(f"{who}: the points must have the same length; got {shapes}")
    return np.stack(list(arrays.values()))


def _input_box(box: Any, who: str) -> Optional["Box"]:
    if box is None or isinstance(box, Box):
        return box
    if isinstance(box, (tuple, list)) and len(box) == 2:
        return Box(*box)
    raise ValueError(f"{who}: box must be (lo, hi), a Box, or None (no clipping); got {box!r}")


class Domain:
    """A domain (see the subclasses)."""

    __slots__ = ()
    _kind = ""

    def _rows(self) -> Optional[np.ndarray]:
        return None

    def _radius(self) -> Optional[float]:
        return None

    def _box(self) -> Optional["Box"]:
        return getattr(self, "box", None)

    def _native_spec(self) -> Tuple[str, Optional[Tuple[Any, Any]], Optional[np.ndarray], Optional[float]]:
        """``(kind, box, rows, radius)`` for the native module."""
        box = self._box()
        bounds = None if box is None else (box.lo, box.hi)
        return (self._kind, bounds, self._rows(), self._radius())

    def _box_repr(self) -> str:
        box = self._box()
        return "None" if box is None else repr(box)


class Box(Domain):
    """The input box: ``[lo, hi]^n0`` for numbers, or per-coordinate bounds for 1-D arrays
    of the network's input dimension (``lo < hi`` in every coordinate). As a domain it is
    the CLI's ``--box`` without ``--domain``."""

    __slots__ = ("lo", "hi")
    _kind = "box"

    def __init__(self, lo: Any = 0.0, hi: Any = 1.0):
        if np.ndim(lo) == 0 and np.ndim(hi) == 0:
            try:
                self.lo: Union[float, np.ndarray] = float(lo)
                self.hi: Union[float, np.ndarray] = float(hi)
            except (TypeError, ValueError):
                raise ValueError(f"Box: lo and hi must be numbers or 1-D arrays; got {lo!r}, {hi!r}") from None
            return
        lo_a = _array(np.broadcast_to(lo, np.shape(hi)) if np.ndim(lo) == 0 else lo, 1, "Box", "lo")
        hi_a = _array(np.broadcast_to(hi, np.shape(lo)) if np.ndim(hi) == 0 else hi, 1, "Box", "hi")
        if lo_a.shape != hi_a.shape:
            raise ValueError(f"Box: lo and hi must have the same length; got shapes {lo_a.shape} and {hi_a.shape}")
        self.lo, self.hi = lo_a, hi_a

    def _box(self) -> "Box":
        return self

    def __repr__(self) -> str:
        return f"Box({_short(self.lo)}, {_short(self.hi)})"


class Everywhere(Domain):
    """All of R^n0 (the CLI's ``--domain all``): the cells of the (bent) hyperplane
    arrangement, bounded or not. The MILP and the activation-based bound need a bounded
    domain and refuse it."""

    __slots__ = ()
    _kind = "all"

    def __repr__(self) -> str:
        return "Everywhere()"


class Polytope(Domain):
    """The polytope ``{x : A x <= b}`` inside the input box ``box`` (the CLI's
    ``--domain polytope:FILE``, whose rows are ``[A | b]``). ``A`` is ``(m, n0)``, ``b``
    has ``m`` values. It must have interior, and ``box`` must be given (not ``None``), as
    for the CLI."""

    __slots__ = ("A", "b", "box")
    _kind = "polytope"

    def __init__(self, A: Any, b: Any, box: BoxLike = (0, 1)):
        self.A = _array(A, 2, "Polytope", "A")
        self.b = _array(np.atleast_1d(b) if np.ndim(b) == 0 else b, 1, "Polytope", "b")
        if self.b.shape[0] != self.A.shape[0]:
            raise ValueError(
                f"Polytope: A has {self.A.shape[0]} rows but b has {self.b.shape[0]} values"
            )
        self.box = _input_box(box, "Polytope")

    def _rows(self) -> np.ndarray:
        return np.column_stack([self.A, self.b])

    def __repr__(self) -> str:
        return f"Polytope(A={_short(self.A)}, b={_short(self.b)}, box={self._box_repr()})"


class Ball(Domain):
    """The l-infinity ball of radius ``radius`` around ``center`` (n0 values), cut to the
    input box ``box`` (the CLI's ``--domain ball:FILE,RADIUS``)."""

    __slots__ = ("center", "radius", "box")
    _kind = "ball"

    def __init__(self, center: Any, radius: Number, box: BoxLike = (0, 1)):
        self.center = _array(center, 1, "Ball", "center")
        try:
            r = float(radius)
        except (TypeError, ValueError):
            raise ValueError(f"Ball: radius must be a number; got {radius!r}") from None
        if not (np.isfinite(r) and r > 0):
            raise ValueError(f"Ball: radius must be a positive finite number; got {r}")
        self.radius = r
        self.box = _input_box(box, "Ball")

    def _rows(self) -> np.ndarray:
        return self.center[None, :]

    def _radius(self) -> float:
        return self.radius

    def __repr__(self) -> str:
        return f"Ball(center={_short(self.center)}, radius={self.radius!r}, box={self._box_repr()})"


class Segment(Domain):
    """The segment ``x = a + u (b - a)``, ``u`` in [0, 1], inside the input box ``box``
    (the CLI's ``--domain segment:FILE``). It is searched in ``u``; ``map`` draws it as a
    strip."""

    __slots__ = ("a", "b", "box")
    _kind = "segment"

    def __init__(self, a: Any, b: Any, box: BoxLike = (0, 1)):
        rows = _points("Segment", a=a, b=b)
        self.a, self.b = rows[0], rows[1]
        self.box = _input_box(box, "Segment")

    def _rows(self) -> np.ndarray:
        return np.stack([self.a, self.b])

    def __repr__(self) -> str:
        return f"Segment(a={_short(self.a)}, b={_short(self.b)}, box={self._box_repr()})"


class Plane(Domain):
    """The plane ``x = a + u (b - a) + v (c - a)``, ``(u, v)`` in [0, 1]^2, inside the
    input box ``box`` (the CLI's ``--domain plane:FILE``). It is searched in ``(u, v)``;
    ``map`` draws it with ``a``, ``b``, ``c`` at (0, 0), (1, 0), (0, 1)."""

    __slots__ = ("a", "b", "c", "box")
    _kind = "plane"

    def __init__(self, a: Any, b: Any, c: Any, box: BoxLike = (0, 1)):
        rows = _points("Plane", a=a, b=b, c=c)
        self.a, self.b, self.c = rows[0], rows[1], rows[2]
        self.box = _input_box(box, "Plane")

    def _rows(self) -> np.ndarray:
        return np.stack([self.a, self.b, self.c])

    def __repr__(self) -> str:
        return (
            f"Plane(a={_short(self.a)}, b={_short(self.b)}, c={_short(self.c)}, "
            f"box={self._box_repr()})"
        )


class Affine(Domain):
    """The affine slice ``x = origin + directions.T @ u``, ``u`` in [0, 1]^k, inside the
    input box ``box`` (the CLI's ``--domain affine:FILE``). ``origin`` has n0 values,
    ``directions`` is ``(k, n0)``, one direction per row, linearly independent."""

    __slots__ = ("origin", "directions", "box")
    _kind = "affine"

    def __init__(self, origin: Any, directions: Any, box: BoxLike = (0, 1)):
        self.origin = _array(origin, 1, "Affine", "origin")
        self.directions = _array(directions, 2, "Affine", "directions")
        if self.directions.shape[1] != self.origin.size:
            raise ValueError(
                f"Affine: directions must have one row of {self.origin.size} values (the "
                f"origin's length) per direction; got shape {self.directions.shape}"
            )
        self.box = _input_box(box, "Affine")

    def _rows(self) -> np.ndarray:
        return np.vstack([self.origin[None, :], self.directions])

    def __repr__(self) -> str:
        return (
            f"Affine(origin={_short(self.origin)}, directions={_short(self.directions)}, "
            f"box={self._box_repr()})"
        )
