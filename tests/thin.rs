//! Thin regions are counted and zero-volume patterns are not, whatever the box's scale:
//! margin LPs whose optimum falls in the thin band are decided again in exact arithmetic.
//! Each network is built so that its exact count is known by hand.

use mipbound_formulation::Domain;
use mipbound_network::{Activation, Layer, Network};
use mipbound_search::{Limits, SearchOutcome, SearchSettings, count_regions};
use ndarray::{Array1, Array2};

use crate::cli::{mipbound, stderr};

fn net(input_dim: usize, hidden: Layer) -> Network {
    let width = hidden.width();
    let output = Layer::new(
        Array2::from_elem((1, width), 1.0),
        Array1::zeros(1),
        Activation::Identity,
    );
    Network::new(input_dim, vec![hidden, output]).unwrap()
}

fn layer(rows: &[&[f64]], bias: &[f64], activation: Activation) -> Layer {
    let cols = rows[0].len();
    let weights = Array2::from_shape_vec(
        (rows.len(), cols),
        rows.iter().flat_map(|r| r.iter().copied()).collect(),
    )
    .unwrap();
    Layer::new(weights, Array1::from(bias.to_vec()), activation)
}

fn count(net: &Network, domain: &Domain) -> SearchOutcome {
    let out = count_regions(net, domain, SearchSettings::default(), &Limits::default()).unwrap();
    assert!(out.is_exact(), "not exact: {out:?}");
    out
}

/// The relative widths of the thin regions, and 0 for an exactly degenerate one.
const WIDTHS: [f64; 4] = [1e-6, 1e-8, 1e-10, 0.0];

#[test]
fn thin_relu_triangles_count_and_concurrent_lines_do_not() {
    // Lines x = 1/2, y = 1/2 and x + y = 1 + w on the unit square: 7 regions (a small
    // triangle of side w) when w > 0, 6 when the lines meet in one point.
    for w in WIDTHS {
        let hidden = layer(
            &[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]],
            &[-0.5, -0.5, -(1.0 + w)],
            Activation::Relu,
        );
        let out = count(&net(2, hidden), &Domain::unit_box(2));
        let expected = if w > 0.0 { 7 } else { 6 };
        assert_eq!(out.stats.regions, expected, "width {w}");
    }
}

#[test]
fn thin_relu_slabs_count_and_coincident_hyperplanes_do_not() {
    // Two parallel ReLU hyperplanes x + y = 1 and x + y = 1 + w cut by x - y = 0 on the
    // square [-3, 3]^2: 6 regions when w > 0, 4 when the two coincide.
    for w in WIDTHS {
        let hidden = layer(
            &[&[1.0, 1.0], &[1.0, 1.0], &[1.0, -1.0]],
            &[-1.0, -(1.0 + 6.0 * w), 0.0],
            Activation::Relu,
        );
        let out = count(&net(2, hidden), &Domain::uniform(2, -3.0, 3.0).unwrap());
        let expected = if w > 0.0 { 6 } else { 4 };
        assert_eq!(out.stats.regions, expected, "width {w}");
    }
}

#[test]
fn thin_hard_tanh_pieces_count_and_touching_breakpoints_do_not() {
    // Two hard-tanh units on [0, 1]: the first has its upper breakpoint at x = 1/2, the
    // second its lower breakpoint at x = 1/2 + w. Pieces: below both, first linear,
    // (first top and second bottom: the thin piece), second linear, above both: 5 regions
    // when w > 0, 4 when the breakpoints coincide. k = 2^20 makes each linear piece 2^-19
    // wide and every coordinate exact.
    let k = f64::powi(2.0, 20);
    for w in WIDTHS {
        let hidden = layer(
            &[&[k], &[k]],
            &[1.0 - 0.5 * k, -1.0 - (0.5 + w) * k],
            Activation::hard_tanh(),
        );
        let out = count(&net(1, hidden), &Domain::unit_box(1));
        let expected = if w > 0.0 { 5 } else { 4 };
        assert_eq!(out.stats.regions, expected, "width {w}");
    }
}

#[test]
fn thin_maxout_pieces_count_and_touching_pieces_do_not() {
    // max(x, 1 - x, 1/2 + w/2) on [-3, 3]: the constant piece wins on a window of width w
    // around 1/2 (3 regions) when w > 0, and only touches at one point (2 regions) when
    // w = 0. Widths are relative to the box side 6.
    for w in WIDTHS {
        let w = 6.0 * w;
        let hidden = layer(
            &[&[1.0], &[-1.0], &[0.0]],
            &[0.0, 1.0, 0.5 + 0.5 * w],
            Activation::Maxout { rank: 3 },
        );
        let out = count(&net(1, hidden), &Domain::uniform(1, -3.0, 3.0).unwrap());
        let expected = if w > 0.0 { 3 } else { 2 };
        assert_eq!(out.stats.regions, expected, "width {w}");
    }
}

#[test]
fn a_box_with_sides_of_very_different_lengths_loses_nothing() {
    // Three cuts across x in [0, 1e-3] and two across y in [0, 1e4]: 4 x 3 = 12 regions.
    let hidden = layer(
        &[
            &[1.0, 0.0],
            &[1.0, 0.0],
            &[1.0, 0.0],
            &[0.0, 1.0],
            &[0.0, 1.0],
        ],
        &[-0.25e-3, -0.5e-3, -0.75e-3, -2500.0, -5000.0],
        Activation::Relu,
    );
    let domain = Domain::new(vec![0.0, 0.0], vec![1e-3, 1e4]).unwrap();
    assert_eq!(count(&net(2, hidden), &domain).stats.regions, 12);
}

#[test]
fn thin_verdicts_are_reported() {
    let hidden = layer(
        &[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]],
        &[-0.5, -0.5, -1.0],
        Activation::Relu,
    );
    let out = count(&net(2, hidden), &Domain::unit_box(2));
    assert!(out.stats.thin_verdicts >= 1, "{:?}", out.stats);
    assert_eq!(out.stats.undecided, 0);
}

#[test]
fn the_margin_tolerance_is_bounded() {
    for bad in ["1", "0", "-1e-7", "nan"] {
        let out = mipbound(&[
            "count",
            "tests/data/mlp-2-8-8-3.json",
            &format!("--margin-tolerance={bad}"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(err.contains("--margin-tolerance"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn near_stable_units_are_never_declared_stable() {
    // h = relu(x) on [0, 1], then z = h - 1 + eps: its maximum over the box is exactly
    // fl(eps - 1) + 1 (at x = 1). For eps > 0 the unit is active on a sliver at the right
    // end (2 regions); for eps <= 0 it is stably inactive (1 region).
    for eps in [1e-6, 1e-9, 1e-12, f64::powi(2.0, -50), 0.0, -1e-12] {
        let bias = eps - 1.0;
        let true_max = bias + 1.0; // exact: both are near 1
        let first = layer(&[&[1.0]], &[0.0], Activation::Relu);
        let second = layer(&[&[1.0]], &[bias], Activation::Relu);
        let output = Layer::new(
            Array2::from_elem((1, 1), 1.0),
            Array1::zeros(1),
            Activation::Identity,
        );
        let network = Network::new(1, vec![first, second, output]).unwrap();
        let domain = Domain::unit_box(1);
        let bounds = mipbound_formulation::UnitBounds::tightened(&network, &domain, 0).unwrap();
        let iv = bounds.layer(1)[0];
        assert!(
            iv.hi >= true_max,
            "eps {eps}: upper bound {} < {true_max}",
            iv.hi
        );
        let expected = if true_max > 0.0 { 2 } else { 1 };
        assert_eq!(
            count(&network, &domain).stats.regions,
            expected,
            "eps {eps}"
        );
    }
}

#[test]
fn rounding_in_composed_forms_loses_no_region() {
    // Second-layer forms whose float value cancels to the wrong gradient (found by review):
    // a unit fixed as constant, a region pruned by a clearly negative LP margin, and a
    // unit fixed by its range. Exact counts by exact rational splitting of [lo, hi].
    let cases = [
        (
            "cancellation-fixed-unit.json",
            "-0.5,0.5",
            &[][..],
            "2 (complete)",
        ),
        (
            "cancellation-lp-prune.json",
            "0.1,0.5",
            &[][..],
            "3 (complete)",
        ),
        (
            "cancellation-range-guard.json",
            "-0.5,0.5",
            &["--no-tighten"][..],
            "2 (complete)",
        ),
        (
            "cancellation-range-guard.json",
            "-0.5,0.5",
            &[][..],
            "2 (complete)",
        ),
    ];
    for (file, domain, extra, expected) in cases {
        let path = format!("tests/data/thin/{file}");
        let mut args = vec!["count", &path, "--box", domain];
        args.extend_from_slice(extra);
        let out = mipbound(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            text.contains(&format!("regions       {expected}")),
            "{file} {extra:?}: {text}{}",
            stderr(&out)
        );
    }
}
