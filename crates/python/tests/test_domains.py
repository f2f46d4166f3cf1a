"""Domain classes, `map` and `local`: each Python run equals the CLI's `--json` on the same
network and the equivalent spec file, the maps tile their domains with polygons whose
inside has their pattern, and bad shapes raise a one-line ValueError."""

import sys

import numpy as np
import pytest

import mipbound
from mipbound import Affine, Ball, Box, Everywhere, Network, Plane, Polytope, Segment

from conftest import DATA, run_cli
from test_agreement import big_ints, without_timings

NET3 = DATA / "mlp-3-6-5-2.json"  # ReLU, 3 inputs
NET2 = DATA / "mlp-2-8-8-3.json"  # ReLU, 2 inputs

A3, B3, C3 = [0.1, 0.2, 0.9], [0.8, 0.1, 0.3], [0.3, 0.9, 0.6]


def write_points(path, rows):
    path.write_text("".join(" ".join(repr(float(v)) for v in row) + "\n" for row in rows))
    return path


def same(cli_doc, result, files=()):
    """Equal documents, timings excepted, with the spec files' names read as <arrays>."""
    doc = without_timings(big_ints(cli_doc))
    for f in files:
        doc["network"]["domain"] = doc["network"]["domain"].replace(str(f), "<arrays>")
    if "points_source" in doc:
        doc["points_source"] = "<arrays>"
    assert without_timings(result.to_dict()) == doc


def cases(tmp_path):
    """(domain object, CLI arguments, spec files) pairs for the 3-input network."""
    p = lambda name, rows: write_points(tmp_path / name, rows)  # noqa: E731
    lo, hi = [-0.5, 0.0, -1.0], [1.0, 0.5, 2.0]
    A = np.array([[1.0, 1.0, 1.0], [-1.0, 2.0, 0.0]])
    b = np.array([1.5, 0.5])
    directions = [[0.5, -0.5, 0.25], [0.0, 1.0, 1.0]]
    return [
        (Box(-1, 1), ["--box", "-1,1"], []),
        (Box(lo, hi), ["--box", p("box.txt", [lo, hi])], []),
        (Polytope(A, b), ["--domain", f"polytope:{p('poly.txt', np.column_stack([A, b]))}"], ["poly.txt"]),
        (Polytope(A, b, box=Box(lo, hi)), ["--box", p("box2.txt", [lo, hi]), "--domain", f"polytope:{p('poly2.txt', np.column_stack([A, b]))}"], ["poly2.txt"]),
        (Plane(A3, B3, C3), ["--domain", f"plane:{p('plane.txt', [A3, B3, C3])}"], ["plane.txt"]),
        (Plane(A3, B3, C3, box=None), ["--box", "none", "--domain", f"plane:{p('plane2.txt', [A3, B3, C3])}"], ["plane2.txt"]),
        (Segment([-0.5, 0.2, 0.9], [1.2, 0.4, 0.1]), ["--domain", f"segment:{p('seg.txt', [[-0.5, 0.2, 0.9], [1.2, 0.4, 0.1]])}"], ["seg.txt"]),
        (Ball(A3, 0.3), ["--domain", f"ball:{p('ball.txt', [A3])},0.3"], ["ball.txt"]),
        (Affine(B3, directions, box=(-1, 2)), ["--box", "-1,2", "--domain", f"affine:{p('affine.txt', [B3, *directions])}"], ["affine.txt"]),
        (Everywhere(), ["--domain", "all"], []),
    ]


def test_every_domain_class_counts_as_the_cli_spec(tmp_path):
    net = Network.load(NET3)
    kinds = set()
    for domain, args, files in cases(tmp_path):
        kinds.add(type(domain).__name__)
        doc = run_cli("count", NET3, *args, "--threads", "1")
        result = mipbound.count(net, domain=domain, threads=1)
        same(doc, result, [tmp_path / f for f in files])
        assert result.complete and result.regions == doc["regions"] > 1, domain
        assert result.provenance["domain"] == result.network.domain
    assert kinds == {"Box", "Polytope", "Plane", "Segment", "Ball", "Affine", "Everywhere"}


def test_estimate_bounds_inspect_and_regions_take_domains(tmp_path):
    net = Network.load(NET3)
    plane = write_points(tmp_path / "plane.txt", [A3, B3, C3])
    doc = run_cli("bounds", NET3, "--domain", f"plane:{plane}", "--time-limit", "30")
    same(doc, mipbound.bounds(net, domain=Plane(A3, B3, C3), time_limit=30), [plane])
    ball = write_points(tmp_path / "ball.txt", [A3])
    doc = run_cli("estimate", NET3, "--domain", f"ball:{ball},0.3", "--xor", "2", "--trials", "3", "--seed", "5", "--threads", "1", "--exact")
    result = mipbound.estimate(net, domain=Ball(A3, 0.3), xor=[2], trials=3, seed=5, threads=1, exact=True)
    same(doc, result, [ball])
    assert result.exact.regions == doc["exact"]["regions"] > 1
    poly = write_points(tmp_path / "poly.txt", [[1.0, 1.0, 1.0, 1.5]])
    same(run_cli("inspect", NET3, "--domain", f"polytope:{poly}"), mipbound.inspect(net, domain=Polytope([[1, 1, 1]], [1.5])), [poly])
    # The region stream over a plane: witnesses in the network's input space, on the plane.
    a, b, c = map(np.array, (A3, B3, C3))
    patterns = []
    for region in mipbound.regions(net, domain=Plane(a, b, c)):
        x = region.witness
        uv, *_ = np.linalg.lstsq(np.column_stack([b - a, c - a]), x - a, rcond=None)
        assert np.allclose(a + np.column_stack([b - a, c - a]) @ uv, x, atol=1e-9)
        assert np.array_equal(net.pattern(x), region.pieces)
        patterns.append(region.bits)
    assert len(patterns) == mipbound.count(net, domain=Plane(a, b, c)).regions == len(set(patterns))


def test_old_domain_forms_are_boxes():
    net = Network.load(NET3)
    counts = {mipbound.count(net, domain=d, threads=1).regions for d in ["-1,1", (-1, 1), Box(-1, 1), Box([-1] * 3, [1] * 3)]}
    assert len(counts) == 1
    assert mipbound.count(net, domain=Box([-1] * 3, [1] * 3)).network.domain == "[-1, 1]^3"


def test_a_ball_counts_as_the_clipped_box_and_an_affine_slice_as_the_composed_network():
    net = Network.load(NET3)
    center = np.array([0.95, 0.1, 0.5])
    ball = mipbound.count(net, domain=Ball(center, 0.3), threads=1)
    box = mipbound.count(net, domain=Box(np.clip(center - 0.3, 0, 1), np.clip(center + 0.3, 0, 1)), threads=1)
    assert ball.regions == box.regions > 1
    # The first layer composed with V by hand, over u in [0, 1]^2 (no input box).
    x0, V = np.array(B3), np.array([[0.5, -0.5, 0.25], [0.0, 1.0, 1.0]])
    layers = net.layers
    w = [np.asarray(l["weights"]) for l in layers]
    bias = [np.asarray(l["bias"]) for l in layers]
    composed = Network.from_arrays([w[0] @ V.T, *w[1:]], [bias[0] + w[0] @ x0, *bias[1:]])
    by_hand = mipbound.count(composed, domain=(0, 1), threads=1)
    sliced = mipbound.count(net, domain=Affine(x0, V, box=None), threads=1)
    assert sliced.regions == by_hand.regions > 1


def check_tiling(m, regions):
    """The polygons tile the domain and each polygon's centroid has its pattern."""
    assert m.complete and len(m.polygons) == len(m.patterns) == regions
    assert abs(m.areas.sum() - m.domain_area) <= 1e-9 * m.domain_area
    assert all(p.shape[1] == 2 and p.shape[0] >= 3 for p in m.polygons)
    for poly, area in zip(m.polygons, m.areas):
        x, y = poly[:, 0], poly[:, 1]
        shoelace = 0.5 * (x @ np.roll(y, -1) - y @ np.roll(x, -1))
        assert shoelace == pytest.approx(area, rel=1e-9, abs=1e-15) and area > 0


def check_classes(m, net, to_x):
    """Each region's class pieces cover it, and the network's argmax inside each piece is
    its class."""
    pieces = m.class_pieces
    assert len(pieces) >= len(m.polygons)
    for region, area in enumerate(m.areas):
        assert sum(p.area for p in pieces if p.region == region) == pytest.approx(area, rel=1e-9)
    for p in pieces:
        assert int(np.argmax(net.output(to_x(p.polygon.mean(axis=0))))) == p.cls


def test_map_of_a_box_tiles_it_with_the_patterns_of_the_regions():
    net = Network.load(NET2)
    m = mipbound.map(net, domain=Box(-1, 1), color="class")
    same(run_cli("map", NET2, "--box", "-1,1", "--color", "class"), m)
    check_tiling(m, mipbound.count(net, domain=(-1, 1)).regions)
    assert m.domain_area == pytest.approx(4.0, rel=1e-15) and len(m.polygons) > 50
    for poly, region in zip(m.polygons, m.regions):
        assert np.array_equal(net.pattern(poly.mean(axis=0)), region.pieces)
    assert m.points == [] and list(m.axes) == ["x1", "x2"]
    # Some regions hold two classes: the decision boundary cuts them.
    assert m.classes == 3 and {p.cls for p in m.class_pieces} == {1, 2}
    assert len(m.class_pieces) > len(m.polygons)
    check_classes(m, net, lambda x: x)


def test_map_of_a_plane_agrees_with_the_cli_and_the_network(tmp_path):
    net = Network.load(NET3)
    plane = Plane(A3, B3, C3, box=Box([0.0, 0.0, 0.35], [1.0, 1.0, 1.0]))
    files = [write_points(tmp_path / "plane.txt", [A3, B3, C3]), write_points(tmp_path / "box.txt", [[0.0, 0.0, 0.35], [1.0, 1.0, 1.0]])]
    m = mipbound.map(net, domain=plane, color="class")
    doc = run_cli("map", NET3, "--box", files[1], "--domain", f"plane:{files[0]}", "--color", "class")
    same(doc, m, files[:1])
    # The box cuts the plane (coordinate 3 of A is 0.9, of B 0.3): the domain is not the square.
    assert 0.1 < m.domain_area < 1.0
    check_tiling(m, mipbound.count(net, domain=plane).regions)
    a, b, c = map(np.array, (A3, B3, C3))
    to_x = lambda uv: a + uv[0] * (b - a) + uv[1] * (c - a)  # noqa: E731
    for poly, region in zip(m.polygons, m.regions):
        assert np.array_equal(net.pattern(to_x(poly.mean(axis=0))), region.pieces)
    assert [(p.label, p.at.tolist()) for p in m.points] == [("A", [0.0, 0.0]), ("B", [1.0, 0.0]), ("C", [0.0, 1.0])]
    assert m.classes == 2 and {p.cls for p in m.class_pieces} == {1}
    check_classes(m, net, to_x)


def test_map_of_a_segment_is_a_strip(tmp_path):
    net = Network.load(NET3)
    seg = Segment([-0.5, 0.2, 0.9], [1.2, 0.4, 0.1])
    m = mipbound.map(net, domain=seg)
    path = write_points(tmp_path / "seg.txt", [[-0.5, 0.2, 0.9], [1.2, 0.4, 0.1]])
    same(run_cli("map", NET3, "--domain", f"segment:{path}"), m, [path])
    assert m.dimension == 1
    check_tiling(m, mipbound.count(net, domain=seg).regions)
    # x1 = -0.5 + 1.7 u leaves [0, 1] at u = 0.5 / 1.7 and 1.5 / 1.7: the strip is cut
    # there; it is a tenth of the u interval [0, 1] high.
    lo, hi = m.domain_polygon.min(axis=0), m.domain_polygon.max(axis=0)
    assert lo[0] == pytest.approx(0.5 / 1.7, rel=1e-12) and hi[0] == pytest.approx(1.5 / 1.7, rel=1e-12)
    assert (lo[1], hi[1]) == (0.0, pytest.approx(0.1, rel=1e-15))


def test_map_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    net = Network.load(NET3)
    m, fig = mipbound.map(net, domain=Plane(A3, B3, C3), color="class", figure=True)
    ax = fig.axes[0]
    fills = ax.collections[0]
    assert len(fills.get_paths()) == len(m.class_pieces)
    assert len(ax.collections[1].get_paths()) == len(m.polygons)
    assert [t.get_text() for t in ax.texts] == ["A", "B", "C"]
    assert ax.get_title().startswith(f"{len(m.polygons)} regions")
    out = tmp_path / "map.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000
    fig2 = mipbound.map(Network.load(NET2)).figure()
    assert len(fig2.axes[0].collections[0].get_paths()) == mipbound.count(Network.load(NET2)).regions
    # A clipped segment's strip: A (u = 0) and B (u = 1) lie outside it but are shown.
    _, fig3 = mipbound.map(net, domain=Segment([-0.5, 0.2, 0.9], [1.2, 0.4, 0.1]), figure=True)
    left, right = fig3.axes[0].get_xlim()
    assert left < 0.0 and right > 1.0 and [t.get_text() for t in fig3.axes[0].texts] == ["A", "B"]


def test_map_figure_without_matplotlib(monkeypatch):
    m = mipbound.map(Network.load(NET2))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib: pip install matplotlib"):
        m.figure()


def test_local_agrees_with_the_cli_and_with_ball_counts(tmp_path):
    net = Network.load(NET2)
    points = np.array([[0.2, 0.3], [0.5, 0.5], [0.95, 0.1], [0.6, 0.9]])
    labels = [3, 1, 4, 1]
    path = write_points(tmp_path / "points.txt", points)
    result = mipbound.local(net, points, labels=labels, radius=0.1, threads=1)
    doc = run_cli("local", NET2, "--points", path, "--radius", "0.1", "--threads", "1")
    for p in doc["points"]:
        p["label"] = labels[p["index"]]
    same(doc, result)
    assert [r["label"] for r in result.rows] == labels
    for x, row in zip(points, result.rows):
        assert row["kind"] == "exact" and row["complete"]
        assert row["regions"] == mipbound.count(net, domain=Ball(x, 0.1), threads=1).regions
    assert result.summary.points == 4 and result.summary.regions.max == max(r["regions"] for r in result.rows)
    # Not cut by the input box, and the segments between consecutive points.
    same(run_cli("local", NET2, "--points", path, "--radius", "0.1", "--box", "none", "--threads", "1"),
         mipbound.local(net, points, radius=0.1, domain=None, threads=1))
    seg = mipbound.local(net, points, segments=True, threads=1)
    same(run_cli("local", NET2, "--points", path, "--segments", "--threads", "1"), seg)
    for i, row in enumerate(seg.rows):
        assert row["regions"] == mipbound.count(net, domain=Segment(points[i], points[i + 1]), threads=1).regions
    pd = pytest.importorskip("pandas")
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame["regions"]) == [r["regions"] for r in result.rows]


def one_line_value_error(call, *needles):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and all(n in message for n in needles), message


def test_bad_shapes_and_domains_raise_one_line():
    net3, net2 = Network.load(NET3), Network.load(NET2)
    one_line_value_error(lambda: Plane([0, 0, 0], [1, 0], [0, 1, 0]), "Plane", "same length", "b (2,)")
    one_line_value_error(lambda: Segment([[0, 0]], [1, 1]), "Segment", "a", "1-D")
    one_line_value_error(lambda: Polytope([1, 1], [1]), "Polytope", "A", "2-D")
    one_line_value_error(lambda: Polytope([[1, 1], [1, 0]], [1]), "Polytope", "2 rows", "1 values")
    one_line_value_error(lambda: Ball([0.5, 0.5], 0), "Ball", "radius", "positive")
    one_line_value_error(lambda: Affine([0, 0, 0], [[1, 0]]), "Affine", "directions", "(1, 2)")
    one_line_value_error(lambda: Box([0, 0], [1, 1, 1]), "Box", "same length")
    one_line_value_error(lambda: Plane(A3, B3, C3, box=3), "Plane", "box")
    one_line_value_error(lambda: mipbound.count(net3, domain=Plane([0, 0], [1, 0], [0, 1])), "<arrays>: point 0 has 2 coordinates but the network has 3 inputs")
    one_line_value_error(lambda: mipbound.count(net3, domain=Plane(A3, A3, C3)), "collinear")
    one_line_value_error(lambda: mipbound.count(net3, domain=Box([0, 0], [1, 1])), "Box lo", "2 values", "3 inputs")
    one_line_value_error(lambda: mipbound.count(net3, domain=Box(1, 0)), "Box", "lower bound must be below")
    one_line_value_error(lambda: mipbound.count(net3, domain=[1, 2, 3]), "domain: expected")
    one_line_value_error(lambda: mipbound.map(net3), "map draws 2-D domains", "3 inputs")
    one_line_value_error(lambda: mipbound.map(net2, color="pattern"), "color")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, 0.5]], radius=0.1, domain=Plane(A3, B3, C3)), "local", "Plane")
    one_line_value_error(lambda: mipbound.local(net2, [0.5, 0.5], radius=0.1), "points", "2-D")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, 0.5]]), "radius")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, 0.5, 0.5]], radius=0.1), "3 coordinates", "2 inputs")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, 0.5]], labels=[1, 2], radius=0.1), "labels", "2 labels for 1 points")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, 0.5], [1.5, 0.5]], radius=0.1), "point 1", "outside the input box")
    one_line_value_error(lambda: mipbound.local(net2, [[0.5, np.nan]], radius=0.1), "non-finite")


def test_reprs():
    assert repr(Box(0, 1)) == "Box(0.0, 1.0)"
    assert repr(Plane([0, 0], [1, 0], [0, 1], box=None)) == "Plane(a=[0.0, 0.0], b=[1.0, 0.0], c=[0.0, 1.0], box=None)"
    assert repr(Ball(np.zeros(784), 0.1)) == "Ball(center=<array (784,)>, radius=0.1, box=Box(0.0, 1.0))"
    assert repr(Everywhere()) == "Everywhere()"
