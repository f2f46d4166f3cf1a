//! Domains beyond the box: the whole space, balls, and affine slices searched in u-space.

use mipbound_experiment::Problem;
use mipbound_experiment::count::{CountSettings, count};
use mipbound_experiment::domains::DomainSpec;
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_network::{Activation, Layer, Network};
use ndarray::{Array1, Array2};

use crate::activations::{kinds, random_net};
use crate::oracle::{count_2d, count_2d_keeping};

fn regions(problem: &Problem) -> u64 {
    let cancel = CancelToken::new();
    let r = count(
        problem,
        &CountSettings::default(),
        &Run::quiet(2, &cancel),
        None,
    )
    .unwrap();
    assert!(r.complete, "{}: {}", problem.summary().domain, r.status);
    r.regions
}

fn over(net: &Network, box_spec: &str, spec: &DomainSpec) -> Problem {
    Problem::with_domain(net.clone(), "<test>", box_spec, spec).unwrap()
}

fn binomial(n: u64, k: u64) -> u64 {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// One ReLU layer in general position cuts R^n0 into sum_{i <= n0} C(n1, i) regions.
#[test]
fn one_layer_in_general_position_has_the_arrangement_count_on_all_of_r_n0() {
    for n0 in 2..=4 {
        for (n1, seed) in [(6, 1), (10, 2)] {
            let net = random_net(n0, &[n1], &Activation::Relu, 1.0, seed);
            let expected: u64 = (0..=n0 as u64).map(|i| binomial(n1 as u64, i)).sum();
            let got = regions(&over(&net, "0,1", &DomainSpec::Everywhere));
            assert_eq!(got, expected, "n0 {n0}, n1 {n1}");
        }
    }
    // The example: n0 = 2, n1 = 10 gives 56.
    let net = random_net(2, &[10], &Activation::Relu, 1.0, 7);
    assert_eq!(regions(&over(&net, "0,1", &DomainSpec::Everywhere)), 56);
}

/// Deep 2-input nets of every activation: the count on all of R^2 equals the exact polygon
/// count over a box that holds every vertex, and enlarging that box 10x changes nothing.
#[test]
fn deep_two_input_nets_count_on_all_of_r2_as_on_a_large_enough_box() {
    let mut all_kinds = vec![("relu", Activation::Relu)];
    all_kinds.extend(kinds());
    for (name, activation) in all_kinds {
        for seed in 0..3 {
            let net = random_net(2, &[5, 4], &activation, 1.0, 100 + seed);
            let everywhere = regions(&over(&net, "0,1", &DomainSpec::Everywhere));
            // Slivers of these wide boxes are far below count_2d's relative area floor.
            let big = count_2d_keeping(&net, -1e4, 1e4, 1e-12) as u64;
            let bigger = count_2d_keeping(&net, -1e5, 1e5, 1e-12) as u64;
            let searched = regions(&over(&net, "-1e5,1e5", &DomainSpec::InputBox));
            assert_eq!(
                searched, bigger,
                "{name} seed {seed}: search vs oracle on the large box"
            );
            assert_eq!(
                big, bigger,
                "{name} seed {seed}: the box is not large enough"
            );
            assert_eq!(everywhere, big, "{name} seed {seed}");
        }
    }
}

/// Parallel lines: cells without a vertex (strips) are regions too.
#[test]
fn parallel_lines_give_strips_on_all_of_r2() {
    // x = 0, x = 1, x = 2 and y = 0: 4 strips cut in two.
    let weights =
        Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]).unwrap();
    let bias = Array1::from(vec![0.0, -1.0, -2.0, 0.0]);
    let net = Network::new(2, vec![Layer::new(weights, bias, Activation::Relu)]).unwrap();
    assert_eq!(regions(&over(&net, "0,1", &DomainSpec::Everywhere)), 8);
    // Only parallel lines: no vertex at all.
    let weights = Array2::from_shape_vec((3, 2), vec![1.0, 1.0, 2.0, 2.0, -1.0, -1.0]).unwrap();
    let bias = Array1::from(vec![0.0, -3.0, -5.0]);
    let net = Network::new(2, vec![Layer::new(weights, bias, Activation::Relu)]).unwrap();
    assert_eq!(regions(&over(&net, "0,1", &DomainSpec::Everywhere)), 4);
}

fn write(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// An l-infinity ball is the box with the clipped per-coordinate bounds.
#[test]
fn a_ball_counts_as_the_clipped_box() {
    let net = random_net(2, &[6, 5], &Activation::Relu, 0.5, 11);
    let (_dir, point) = write("p.txt", "0.9, 0.2\n");
    let ball = over(
        &net,
        "0,1",
        &DomainSpec::parse(&format!("ball:{point},0.3")).unwrap(),
    );
    let clipped = Problem::new(
        net.clone(),
        mipbound_formulation::Domain::new(vec![0.6, 0.0], vec![1.0, 0.5]).unwrap(),
        "<test>",
    )
    .unwrap();
    assert_eq!(regions(&ball), regions(&clipped));
    // Without clipping the ball is [0.6, 1.2] x [-0.1, 0.5].
    let free = over(
        &net,
        "none",
        &DomainSpec::parse(&format!("ball:{point},0.3")).unwrap(),
    );
    assert_eq!(free.domain().upper(), &[1.2, 0.5]);
}

/// The first layer composed with V by hand: the count on the slice equals the count of the
/// composed k-input network over the u-box (here every input-box row is implied).
#[test]
fn affine_slices_count_as_the_composed_network() {
    let mut all_kinds = vec![("relu", Activation::Relu)];
    all_kinds.extend(kinds());
    for (name, activation) in all_kinds {
        for seed in 0..3 {
            let net = random_net(4, &[6, 5], &activation, 0.5, 300 + seed);
            // A plane through three interior points: x = A + u (B - A) + v (C - A).
            let (a, b, c) = (
                [0.3, 0.4, 0.5, 0.6],
                [0.7, 0.2, 0.45, 0.3],
                [0.35, 0.8, 0.1, 0.55],
            );
            let text = [a, b, c]
                .iter()
                .map(|p| p.map(|v| v.to_string()).join(" "))
                .collect::<Vec<_>>()
                .join("\n");
            let (_dir, path) = write("plane.txt", &text);
            let plane = over(
                &net,
                "0,1",
                &DomainSpec::parse(&format!("plane:{path}")).unwrap(),
            );
            assert!(plane.domain().constraints().is_empty(), "rows are implied");
            let mut layers = net.layers().to_vec();
            let w = &layers[0].weights;
            let v = Array2::from_shape_fn((4, 2), |(i, j)| [b, c][j][i] - a[i]);
            let composed = Layer::new(
                w.dot(&v),
                &layers[0].bias + &w.dot(&Array1::from(a.to_vec())),
                layers[0].activation.clone(),
            );
            layers[0] = composed;
            let by_hand = Network::new(2, layers).unwrap();
            let expected = count_2d(&by_hand, 0.0, 1.0) as u64;
            assert_eq!(regions(&plane), expected, "{name} seed {seed}");
        }
    }
}

#[test]
fn bad_domain_specs_get_one_line_errors() {
    let net = random_net(3, &[4], &Activation::Relu, 0.5, 1);
    let (_d1, collinear) = write("c.txt", "0 0 0\n0.5 0.5 0.5\n1 1 1\n");
    let (_d2, two) = write("t.txt", "0.1 0.2 0.3\n0.1 0.2 0.3\n");
    let (_d3, short) = write("s.txt", "0.1 0.2\n");
    let (_d4, nan) = write("n.txt", "0.1 NaN 0.3\n");
    let cases = [
        (format!("plane:{collinear}"), "collinear"),
        (format!("segment:{two}"), "coincide"),
        (
            format!("ball:{short},0.1"),
            "has 2 coordinates but the network has 3 inputs",
        ),
        (format!("ball:{nan},0.1"), "non-finite"),
        (format!("ball:{collinear},0"), "radius must be a positive"),
        (
            "ball:/nonexistent/p.txt,0.1".to_string(),
            "reading /nonexistent/p.txt",
        ),
        ("circle:x".to_string(), "expected all, polytope:FILE"),
    ];
    for (spec, expected) in cases {
        let err = DomainSpec::parse(&spec)
            .and_then(|s| Problem::with_domain(net.clone(), "<test>", "0,1", &s))
            .err()
            .unwrap_or_else(|| panic!("{spec} was accepted"));
        let message = format!("{err:#}");
        assert!(message.contains(expected), "{spec}: {message}");
        assert!(!message.contains('\n'), "{spec}: {message}");
    }
}

/// The region stream on all of R^2 and on a plane gives the original network's patterns
/// at witnesses in its input space.
#[test]
fn region_streams_speak_of_the_original_network() {
    use std::sync::Arc;

    use mipbound_experiment::regions::RegionStream;
    use mipbound_network::pattern_line;

    let net = random_net(2, &[4, 3], &Activation::Relu, 1.0, 21);
    let (_dir, path) = write("plane.txt", "0.2 0.3\n0.6 0.35\n0.25 0.7\n");
    for spec in [
        DomainSpec::Everywhere,
        DomainSpec::parse(&format!("plane:{path}")).unwrap(),
    ] {
        let problem = over(&net, "0,1", &spec);
        let expected = regions(&problem);
        let stream = RegionStream::start(
            Arc::new(problem),
            &CountSettings::default(),
            true,
            CancelToken::new(),
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for r in stream {
            assert_eq!(r.witness.len(), 2);
            assert_eq!(
                pattern_line(&net.pattern(&r.witness), &net.layer_bits()),
                r.bits
            );
            let map = r.map.unwrap();
            let y = map.weights.dot(&Array1::from(r.witness.clone())) + &map.bias;
            let out = net.output(&r.witness);
            assert!(
                y.iter()
                    .zip(out.iter())
                    .all(|(a, b)| (a - b).abs() < 1e-9 * (1.0 + b.abs()))
            );
            assert!(seen.insert(r.bits));
        }
        assert_eq!(seen.len() as u64, expected, "{spec:?}");
    }
}
