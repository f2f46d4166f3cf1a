//! Domains beyond the box: the whole space, balls, and affine slices searched in u-space.

use mipbound_experiment::Problem;
use mipbound_experiment::count::{CountSettings, count};
use mipbound_experiment::domains::DomainSpec;
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_network::{Activation, Layer, Network};
use ndarray::{Array1, Array2};

use crate::activations::{kinds, random_net};
use crate::oracle::{count_2d, count_2d_keeping};

/// The complete count of a problem (2 threads).
pub fn regions(problem: &Problem) -> u64 {
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

/// `text` written to the file `name` in a new temporary folder: the folder (removed when
/// dropped) and the file's path.
pub fn write(name: &str, text: &str) -> (tempfile::TempDir, String) {
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
            let (_dir, path) = write("plane.txt", &points_text(&[&a, &b, &c]));
            let plane = over(
                &net,
                "0,1",
                &DomainSpec::parse(&format!("plane:{path}")).unwrap(),
            );
            assert!(plane.domain().constraints().is_empty(), "rows are implied");
            let by_hand = composed_by_hand(&net, &a, &plane_directions(&a, &b, &c));
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

/// Points as a point file's text: one per line, coordinates separated by spaces.
pub fn points_text(points: &[&[f64]]) -> String {
    points
        .iter()
        .map(|p| {
            p.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The directions `B - A` and `C - A` of the plane through A, B and C.
pub fn plane_directions(a: &[f64], b: &[f64], c: &[f64]) -> Vec<Vec<f64>> {
    [b, c]
        .iter()
        .map(|p| p.iter().zip(a).map(|(p, a)| p - a).collect())
        .collect()
}

/// The network with its first layer composed with `x = x0 + V u` by hand (`v[j]` the j-th
/// direction).
pub fn composed_by_hand(net: &Network, x0: &[f64], v: &[Vec<f64>]) -> Network {
    let n0 = net.input_dim();
    let v = Array2::from_shape_fn((n0, v.len()), |(i, j)| v[j][i]);
    let mut layers = net.layers().to_vec();
    let w = &layers[0].weights;
    layers[0] = Layer::new(
        w.dot(&v),
        &layers[0].bias + &w.dot(&Array1::from(x0.to_vec())),
        layers[0].activation.clone(),
    );
    Network::new(v.ncols(), layers).unwrap()
}

/// Convolutional networks (a 3x3 image, two 2x2 filters, then three 1x1 filters; with
/// ReLU, leaky ReLU, hard tanh and a 3-breakpoint PWL, and a leaky net with 2x2 max
/// pooling) on a plane and on a 3-D affine slice that leave the input box: the slice counts
/// equal the counts of the first layer composed with V by hand, over the u-box cut by every
/// input-box row written by hand: the polygon splitter's for the plane, the search's over
/// that polytope for the 3-D slice.
#[test]
fn affine_slices_of_convolutional_networks_count_as_the_composed_network() {
    use crate::activations::{conv_layer, geometry};
    use rand::SeedableRng;
    let mut nets = Vec::new();
    let mut all_kinds = vec![("relu", Activation::Relu)];
    all_kinds.extend(kinds().into_iter().filter(|(name, _)| *name != "maxout 3"));
    for (name, activation) in &all_kinds {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(40);
        let mut conv1 = conv_layer(
            geometry(1, 3, 3, 2, (2, 2), 1),
            activation.clone(),
            &mut rng,
        );
        let mut conv2 = conv_layer(
            geometry(2, 2, 2, 3, (1, 1), 1),
            activation.clone(),
            &mut rng,
        );
        // Steeper, so that hard tanh's breakpoints at -1 and 1 cross the slice.
        conv1.weights *= 4.0;
        conv2.weights *= 2.0;
        nets.push((
            name.to_string(),
            Network::new(9, vec![conv1, conv2]).unwrap(),
        ));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(41);
    let leaky = Activation::LeakyRelu { slope: 0.1 };
    let conv1 = conv_layer(geometry(1, 3, 3, 2, (2, 2), 1), leaky.clone(), &mut rng);
    let conv2 = conv_layer(geometry(2, 2, 2, 3, (1, 1), 1), leaky, &mut rng);
    let pool = Layer::new(
        Array2::eye(12),
        Array1::zeros(12),
        Activation::Maxout { rank: 4 },
    )
    .with_max_pool(geometry(3, 2, 2, 3, (2, 2), 2));
    nets.push((
        "leaky + max pooling".into(),
        Network::new(9, vec![conv1, conv2, pool]).unwrap(),
    ));
    let x0 = [0.5, 0.4, 0.6, 0.3, 0.5, 0.7, 0.45, 0.55, 0.35];
    let directions: Vec<Vec<f64>> = (0..3)
        .map(|j| {
            (0..9)
                .map(|i| 2.0 * (((i * 7 + j * 5) % 11) as f64 / 11.0 - 0.45))
                .collect()
        })
        .collect();
    // Input-box rows in u-space: x0_i + V_i u <= 1 and -(x0_i + V_i u) <= 0.
    let rows_of = |k: usize| -> Vec<(Vec<f64>, f64)> {
        (0..9)
            .flat_map(|i| {
                let d: Vec<f64> = (0..k).map(|j| directions[j][i]).collect();
                let minus = d.iter().map(|v| -v).collect();
                [(d, 1.0 - x0[i]), (minus, x0[i])]
            })
            .collect()
    };
    let lines = |k: usize| {
        let rows: Vec<&[f64]> = std::iter::once(&x0[..])
            .chain(directions[..k].iter().map(Vec::as_slice))
            .collect();
        points_text(&rows)
    };
    for (name, net) in &nets {
        for k in [2, 3] {
            let (_dir, path) = write("slice.txt", &lines(k));
            let slice = over(
                net,
                "0,1",
                &DomainSpec::parse(&format!("affine:{path}")).unwrap(),
            );
            assert!(
                !slice.domain().constraints().is_empty(),
                "{name}: the slice leaves the box"
            );
            let by_hand = composed_by_hand(net, &x0, &directions[..k]);
            let rows = rows_of(k);
            let expected = if k == 2 {
                let rows2: Vec<([f64; 2], f64)> =
                    rows.iter().map(|(a, b)| ([a[0], a[1]], *b)).collect();
                crate::oracle::count_2d_polygon(&by_hand, 0.0, 1.0, &rows2) as u64
            } else {
                let constraints = rows
                    .into_iter()
                    .map(|(a, b)| mipbound_formulation::Constraint { a, b })
                    .collect();
                let domain = mipbound_formulation::Domain::unit_box(k)
                    .with_constraints(constraints)
                    .unwrap();
                regions(&Problem::new(by_hand, domain, "<by hand>").unwrap())
            };
            assert!(expected >= 10, "{name} k {k}: {expected}");
            assert_eq!(regions(&slice), expected, "{name} k {k}");
        }
    }
}

/// A trained MNIST network (`mipbound train --widths 10,12`, test accuracy 0.919) on the
/// plane through three MNIST test images (the first three of the test split, digits 1, 8
/// and 2), inside [0, 1]^784: the count equals the polygon splitter's on the first layer
/// composed with V by hand, over the u-square clipped by every input-box row (660 of the
/// 1,568 are not constant on the plane); and all but a few of those rows are proven
/// implied and dropped from the search.
#[test]
fn a_plane_through_three_mnist_test_digits_counts_as_polygon_splitting() {
    let net =
        mipbound_network::formats::load(std::path::Path::new("tests/data/mnist-10-12.onnx"), None)
            .unwrap();
    let path = "tests/data/mnist-test-digits-0-1-2.txt";
    let text = std::fs::read_to_string(path).unwrap();
    let points: Vec<Vec<f64>> = text
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    let (a, b, c) = (&points[0], &points[1], &points[2]);
    let plane = over(
        &net,
        "0,1",
        &DomainSpec::parse(&format!("plane:{path}")).unwrap(),
    );
    let kept = plane.domain().constraints().len();
    assert!((1..=4).contains(&kept), "{}", plane.summary().domain);
    let v = plane_directions(a, b, c);
    let rows: Vec<([f64; 2], f64)> = (0..784)
        .flat_map(|i| {
            let d = [v[0][i], v[1][i]];
            [(d, 1.0 - a[i]), ([-d[0], -d[1]], a[i])]
        })
        .filter(|(d, _)| d != &[0.0, 0.0] && d != &[-0.0, -0.0])
        .collect();
    assert_eq!(rows.len(), 660, "rows of pixels not 0 in all three images");
    let by_hand = composed_by_hand(&net, a, &v);
    let expected = crate::oracle::count_2d_polygon(&by_hand, 0.0, 1.0, &rows);
    assert!(expected >= 20, "{expected}");
    assert_eq!(regions(&plane) as usize, expected);
}

/// On all of R^n0 the activation-based bound is not computed because the domain is
/// unbounded, and `bounds` says so (not "ReLU networks only", on a ReLU network); the
/// architecture bounds, which bound the regions of R^n0, are all printed.
#[test]
fn bounds_on_all_of_r_n0_say_why_the_activation_bound_is_missing() {
    use mipbound_experiment::catalogue::{MilpSettings, bounds};
    let net = random_net(2, &[6, 5], &Activation::Relu, 0.5, 77);
    let everywhere = over(&net, "0,1", &DomainSpec::Everywhere);
    let result = bounds(&everywhere, &MilpSettings::default(), None).unwrap();
    assert!(result.activation.is_none());
    let entry = |name: &str| result.bounds.iter().find(|b| b.name == name).unwrap();
    let activation = entry("activation-based");
    assert!(activation.value.is_none());
    assert!(
        activation.note.contains("needs a bounded domain"),
        "{}",
        activation.note
    );
    assert_eq!(entry("Theorem 1").value.as_deref(), Some("352"));
    let boxed = bounds(
        &over(&net, "0,1", &DomainSpec::InputBox),
        &MilpSettings::default(),
        None,
    )
    .unwrap();
    assert!(boxed.activation.is_some());
}
