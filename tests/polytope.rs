//! Counts over polytope domains (a box cut by rows `a . x <= b`) against the independent
//! exact splitters of `oracle.rs`, started from the clipped polygon (2-D) or interval (1-D):
//! every activation kind, triangles, thin wedges, implied rows, rows parallel to the axes,
//! a row on a unit's hyperplane and random polytopes, with both LP solvers and 1 or 2
//! threads. Also MIPBound trials on a polytope, and the refusal of empty or flat ones.

use std::collections::HashSet;

use mipbound_bounds::probabilistic::{alpha_for_confidence, mbound};
use mipbound_formulation::{Constraint, Domain};
use mipbound_network::random::he_network;
use mipbound_network::{Activation, Network, Pattern};
use mipbound_parity::{XorSequence, XorWidth};
use mipbound_search::{
    CountRegions, Flow, Limits, LpBackend, RegionSearch, SearchSettings, SearchStatus,
    xor_candidates,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::activations::{kinds, random_net};
use crate::oracle::{clipped_square, count_1d, patterns_2d_polygon, polygon_area};

type Rows2 = Vec<([f64; 2], f64)>;

/// `[lo, hi]^n` cut by the rows.
fn polytope(n: usize, lo: f64, hi: f64, rows: &[(Vec<f64>, f64)]) -> Domain {
    Domain::uniform(n, lo, hi)
        .unwrap()
        .with_constraints(
            rows.iter()
                .map(|(a, b)| Constraint {
                    a: a.clone(),
                    b: *b,
                })
                .collect(),
        )
        .unwrap()
}

fn polygon(rows: &Rows2) -> Domain {
    let rows: Vec<(Vec<f64>, f64)> = rows.iter().map(|(a, b)| (a.to_vec(), *b)).collect();
    polytope(2, -1.0, 1.0, &rows)
}

/// The count of `net` over `domain` by `run_split`, asserted exact.
fn count(net: &Network, domain: &Domain, settings: &SearchSettings, threads: usize) -> u64 {
    count_of(net, domain, settings, threads, "")
}

fn count_of(
    net: &Network,
    domain: &Domain,
    settings: &SearchSettings,
    threads: usize,
    what: &str,
) -> u64 {
    let search = RegionSearch::new(net, domain, settings.clone()).unwrap();
    let make = || CountRegions {
        on_region: |_: &Pattern, _: &[f64]| Flow::Continue,
    };
    let out = search
        .run_split(threads, make, &Limits::default(), |_| {})
        .unwrap();
    assert!(out.is_exact(), "{what}: {out:?}");
    out.stats.regions
}

/// Every region's witness lies in the domain and has the region's pattern.
fn assert_witnesses_inside(net: &Network, domain: &Domain, what: &str) -> usize {
    let search = RegionSearch::new(net, domain, SearchSettings::default()).unwrap();
    let mut seen = 0;
    let mut hooks = CountRegions {
        on_region: |p: &Pattern, w: &[f64]| {
            assert!(
                domain.contains(w),
                "{what}: witness {w:?} outside the domain"
            );
            assert_eq!(&net.pattern(w), p, "{what}: witness {w:?}");
            seen += 1;
            Flow::Continue
        },
    };
    let out = search.run(&mut hooks, &Limits::default()).unwrap();
    assert!(out.is_exact());
    seen
}

/// Every count setting: both LP solvers, 1 and 2 threads; all equal to `expected`.
fn assert_counts(net: &Network, domain: &Domain, expected: usize, what: &str) {
    for lp in [LpBackend::Dense, LpBackend::Highs] {
        for threads in [1, 2] {
            let settings = SearchSettings {
                lp,
                ..SearchSettings::default()
            };
            let got = count_of(net, domain, &settings, threads, what);
            assert_eq!(
                got as usize,
                expected,
                "{what}: lp {} threads {threads}",
                lp.name()
            );
        }
    }
}

/// The fixed polygons of the 2-D tests, on `[-1, 1]^2`.
fn fixed_polygons() -> Vec<(&'static str, Rows2)> {
    vec![
        (
            "triangle",
            vec![([1.0, 1.0], 0.5), ([-1.0, 0.0], 0.9), ([0.0, -1.0], 0.9)],
        ),
        // |y| <= 0.05 x: a wedge of angle 0.1 with its apex at the origin.
        (
            "thin wedge",
            vec![([-0.05, 1.0], 0.0), ([-0.05, -1.0], 0.0)],
        ),
        (
            "implied rows",
            vec![([1.0, 1.0], 5.0), ([1.0, -2.0], 10.0), ([0.3, 0.4], 0.2)],
        ),
        (
            "axis-parallel rows",
            vec![([1.0, 0.0], 0.3), ([0.0, -1.0], 0.2), ([0.0, 2.0], 1.6)],
        ),
    ]
}

/// Random polygons: 3 to 5 lines through points of `[-0.6, 0.6]^2` in random directions,
/// each keeping the side of the origin, kept if the polygon has area above 0.2.
fn random_polygons(count: usize, seed: u64) -> Vec<Rows2> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    while out.len() < count {
        let k = rng.random_range(3..=5);
        let rows: Rows2 = (0..k)
            .map(|_| {
                let angle: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                let a = [angle.cos(), angle.sin()];
                let p = [rng.random_range(-0.6..0.6), rng.random_range(-0.6..0.6)];
                let b = a[0] * p[0] + a[1] * p[1];
                // Keep the origin's side.
                if b >= 0.0 {
                    (a, b)
                } else {
                    ([-a[0], -a[1]], -b)
                }
            })
            .collect();
        if polygon_area(&clipped_square(-1.0, 1.0, &rows)) > 0.2 {
            out.push(rows);
        }
    }
    out
}

/// The 2-input test networks: ReLU (two shapes) and every other activation kind.
fn networks_2d() -> Vec<(String, Network)> {
    let mut nets = vec![
        (
            "relu 8-8".to_string(),
            he_network(&[2, 8, 8], 0.5, false, 3),
        ),
        (
            "relu 6-6-6".to_string(),
            he_network(&[2, 6, 6, 6], 0.5, false, 4),
        ),
    ];
    for (i, (name, activation)) in kinds().into_iter().enumerate() {
        nets.push((
            name.to_string(),
            quantized(&random_net(2, &[5, 4], &activation, 0.5, 40 + i as u64)),
        ));
    }
    nets
}

/// The network with every parameter rounded to a multiple of `2^-12`, so that the
/// difference of two maxout rows (the tie a domain row is put on) is exact in `f64`.
fn quantized(net: &Network) -> Network {
    let q = |v: f64| (v * 4096.0).round() / 4096.0;
    let layers = net
        .hidden_layers()
        .iter()
        .map(|l| {
            mipbound_network::Layer::new(l.weights.mapv(q), l.bias.mapv(q), l.activation.clone())
        })
        .collect();
    Network::new(net.input_dim(), layers).unwrap()
}

/// The row `w . x <= -b` of the first hidden layer's first hyperplane (for maxout, the tie
/// of its first two pieces; exact for the quantized nets), as the network holds it.
fn unit_row(net: &Network) -> ([f64; 2], f64) {
    let layer = &net.hidden_layers()[0];
    let w = layer.weights.row(0);
    if layer.activation.rank() == 1 {
        ([w[0], w[1]], -layer.bias[0])
    } else {
        let v = layer.weights.row(1);
        ([w[0] - v[0], w[1] - v[1]], layer.bias[1] - layer.bias[0])
    }
}

#[test]
fn two_input_counts_on_polygons_equal_exact_polygon_splitting() {
    let random = random_polygons(4, 2026);
    let mut checked = 0;
    let mut cut_changes_count = 0;
    for (name, net) in networks_2d() {
        let mut cases: Vec<(String, Rows2)> = fixed_polygons()
            .into_iter()
            .map(|(n, r)| (n.to_string(), r))
            .collect();
        cases.extend(
            random
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("random polygon {i}"), r.clone())),
        );
        // A row on a first-layer hyperplane: the unit (or maxout tie) never changes sides
        // inside, and the LPs meet the coincident row as a margin of exactly 0.
        cases.push((
            "unit hyperplane".into(),
            vec![unit_row(&net), ([1.0, 1.0], 1.2)],
        ));
        for (case, rows) in cases {
            let what = format!("{name} on {case}");
            let domain = polygon(&rows);
            let expected = patterns_2d_polygon(&net, -1.0, 1.0, &rows).len();
            assert!(expected >= 1, "{what}");
            let whole = patterns_2d_polygon(&net, -1.0, 1.0, &[]).len();
            cut_changes_count += usize::from(whole != expected);
            assert_counts(&net, &domain, expected, &what);
            assert_eq!(
                assert_witnesses_inside(&net, &domain, &what),
                expected,
                "{what}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 9);
    assert!(cut_changes_count >= 45, "{cut_changes_count} of {checked}");
}

/// Without LP tightening the coincident row is not known to fix the unit: the LPs of its
/// far side have margin exactly 0, and only a Farkas certificate that uses the domain
/// row's dual proves them empty.
#[test]
fn a_row_on_a_unit_hyperplane_is_decided_exactly() {
    let mut thin = 0;
    for (name, net) in networks_2d() {
        let rows = vec![unit_row(&net), ([-1.0, 0.0], 0.7)];
        let domain = polygon(&rows);
        let expected = patterns_2d_polygon(&net, -1.0, 1.0, &rows).len();
        for lp in [LpBackend::Dense, LpBackend::Highs] {
            let settings = SearchSettings {
                lp,
                tighten_bounds: false,
                ..SearchSettings::default()
            };
            let search = RegionSearch::new(&net, &domain, settings.clone()).unwrap();
            let out = search
                .run(
                    &mut CountRegions {
                        on_region: |_: &Pattern, _: &[f64]| Flow::Continue,
                    },
                    &Limits::default(),
                )
                .unwrap();
            assert!(out.is_exact(), "{name} {}: {out:?}", lp.name());
            assert_eq!(out.stats.regions as usize, expected, "{name} {}", lp.name());
            thin += out.stats.thin_verdicts;
        }
    }
    assert!(thin >= 12, "{thin} thin verdicts");
}

/// The interval `[lo, hi]` cut by rows `a x <= b`.
fn clip_interval(lo: f64, hi: f64, rows: &[(f64, f64)]) -> (f64, f64) {
    rows.iter().fold((lo, hi), |(l, h), &(a, b)| {
        if a > 0.0 {
            (l, h.min(b / a))
        } else {
            (l.max(b / a), h)
        }
    })
}

#[test]
fn one_input_counts_on_intervals_equal_breakpoint_counts() {
    let mut nets = vec![("relu".to_string(), he_network(&[1, 6, 6], 0.5, false, 8))];
    for (i, (name, activation)) in kinds().into_iter().enumerate() {
        nets.push((
            name.to_string(),
            random_net(1, &[4, 4], &activation, 0.5, 60 + i as u64),
        ));
    }
    for (name, net) in nets {
        let layer = &net.hidden_layers()[0];
        // A breakpoint of the first unit, as a row `w x <= -b` (dyadic-exact sides only).
        let w = layer.weights[[0, 0]];
        let on_unit = (w, -layer.bias[0]);
        let cases: Vec<(&str, Vec<(f64, f64)>)> = vec![
            ("two rows", vec![(2.0, 0.6), (-1.0, 0.5)]),
            ("implied row", vec![(1.0, 3.0), (-4.0, 2.0)]),
            ("unit breakpoint", vec![on_unit]),
            ("narrow", vec![(1.0, 0.1), (-1.0, -0.05)]),
        ];
        for (case, rows) in cases {
            let what = format!("{name} on {case}");
            let (lo, hi) = clip_interval(-1.0, 1.0, &rows);
            if hi - lo < 1e-3 {
                continue;
            }
            let full: Vec<(Vec<f64>, f64)> = rows.iter().map(|&(a, b)| (vec![a], b)).collect();
            let domain = polytope(1, -1.0, 1.0, &full);
            assert_counts(&net, &domain, count_1d(&net, lo, hi), &what);
        }
    }
}

#[test]
fn empty_and_flat_polytopes_are_refused_in_one_line() {
    let net = he_network(&[2, 4], 0.5, false, 1);
    let cases: [(&str, Rows2); 3] = [
        ("empty", vec![([1.0, 1.0], -3.0)]),
        ("flat", vec![([1.0, -1.0], 0.0), ([-1.0, 1.0], 0.0)]),
        (
            "empty triangle",
            vec![([1.0, 0.0], 0.2), ([-1.0, 0.0], -0.3), ([0.0, 1.0], 0.5)],
        ),
    ];
    for (name, rows) in cases {
        let domain = polygon(&rows);
        let Err(e) = RegionSearch::new(&net, &domain, SearchSettings::default()) else {
            panic!("{name}: accepted");
        };
        let message = e.to_string();
        assert!(
            message.contains("empty or flat") && !message.contains('\n'),
            "{name}: {message}"
        );
        assert!(message.contains("cut by"), "{name}: {message}");
        let problem = mipbound_experiment::Problem::new(net.clone(), domain, "net.json");
        let message = problem.unwrap_err().to_string();
        assert!(message.contains("empty or flat"), "{name}: {message}");
    }
}

/// MIPBound on a triangle: every exhausted trial's level is exactly the largest prefix of
/// its XOR sequence that some region satisfies, with the regions taken from the
/// independent polygon splitter; and for fixed seeds the MBound lower bound at confidence
/// 0.9 never exceeds log2 of the exact count.
#[test]
fn mipbound_trials_on_a_polytope_match_the_exact_region_set() {
    let net = he_network(&[2, 8, 8], 0.5, false, 7);
    let rows = fixed_polygons()[0].1.clone();
    let domain = polygon(&rows);
    let regions: HashSet<Vec<bool>> = patterns_2d_polygon(&net, -1.0, 1.0, &rows);
    let search = RegionSearch::new(&net, &domain, SearchSettings::default()).unwrap();
    assert_eq!(
        count(&net, &domain, &SearchSettings::default(), 1) as usize,
        regions.len()
    );
    let log2_exact = (regions.len() as f64).log2();
    let alpha = alpha_for_confidence(0.9, 5);
    let mut levels_seen = Vec::new();
    for seed in 0..12u64 {
        let width = [XorWidth::Fixed(2), XorWidth::Fixed(3), XorWidth::Dense][seed as usize % 3];
        let mut levels = Vec::new();
        for trial in 0..5 {
            let out = search
                .run_trial(width, seed, trial, &Limits::default())
                .unwrap();
            assert_eq!(out.status, SearchStatus::Exhausted);
            let mut sequence = XorSequence::new(xor_candidates(&search), width, seed, trial);
            let mut expected = 0;
            loop {
                let prefix: Vec<_> = (0..=expected).map(|i| sequence.get(i).clone()).collect();
                if !regions
                    .iter()
                    .any(|r| prefix.iter().all(|x| x.is_satisfied_by(|v| r[v])))
                {
                    break;
                }
                expected += 1;
            }
            assert_eq!(out.level, expected as u32, "seed {seed} trial {trial}");
            levels.push(out.level);
        }
        let lower = mbound(&levels, alpha).unwrap();
        assert!(
            lower.exponent <= log2_exact,
            "seed {seed}: 2^{} > {}",
            lower.exponent,
            regions.len()
        );
        levels_seen.extend(levels);
    }
    assert!(levels_seen.iter().any(|&l| l >= 3), "{levels_seen:?}");
}

/// Witness points of a polytope search stay inside it even where the LP optimum sits on a
/// constraint (the wedge's apex region).
#[test]
fn wedge_witnesses_stay_inside() {
    // One ReLU layer whose lines are y = 0 and x = 0.5 inside the wedge |y| <= 0.05 x.
    let net = Network::new(
        2,
        vec![mipbound_network::Layer::new(
            ndarray::array![[0.0, 1.0], [1.0, 0.0]],
            ndarray::array![0.0, -0.5],
            Activation::Relu,
        )],
    )
    .unwrap();
    let rows = fixed_polygons()[1].1.clone();
    let domain = polygon(&rows);
    assert_eq!(patterns_2d_polygon(&net, -1.0, 1.0, &rows).len(), 4);
    assert_counts(&net, &domain, 4, "wedge");
    assert_eq!(assert_witnesses_inside(&net, &domain, "wedge"), 4);
}

/// In 8 dimensions, rows `c x_i <= c h_i` and `-c x_i <= -c l_i` (scaled by `c`) cut the
/// box `[-1, 1]^8` to the box `[l, h]`, and rows far outside change nothing: the counts
/// equal the plain-box counts (an independent check in a dimension without a geometric
/// oracle), with both LP solvers.
#[test]
fn rows_that_make_a_smaller_box_count_as_that_box() {
    let mut rng = ChaCha8Rng::seed_from_u64(88);
    for seed in 0..2 {
        let net = he_network(&[8, 8, 6], 0.5, false, 90 + seed);
        let n = 8;
        let (mut lo, mut hi) = (vec![-1.0; n], vec![1.0; n]);
        let mut rows = Vec::new();
        for i in 0..n {
            let unit = |k: usize| (0..n).map(move |j| if j == k { 1.0 } else { 0.0 });
            let c = [1.0, 3.0, 0.25][i % 3];
            let a: Vec<f64> = unit(i).map(|v| c * v).collect();
            if i % 4 != 3 {
                hi[i] = rng.random_range(0.0..0.8);
                rows.push((a.clone(), c * hi[i]));
            }
            if i % 2 == 0 {
                lo[i] = rng.random_range(-0.8..-0.1);
                rows.push((a.iter().map(|v| -v).collect(), -c * lo[i]));
            }
        }
        // Implied: the sum of all coordinates is at most 8 on the box.
        rows.push((vec![1.0; n], 8.0));
        let domain = polytope(n, -1.0, 1.0, &rows);
        let sub = Domain::new(lo.clone(), hi.clone()).unwrap();
        let expected = count(&net, &sub, &SearchSettings::default(), 1);
        assert!(expected > 20, "seed {seed}: {expected}");
        assert_counts(&net, &domain, expected as usize, &format!("seed {seed}"));
        // Only implied rows: the whole box's count.
        let implied = polytope(n, -1.0, 1.0, &[(vec![1.0; n], 8.0), (vec![-1.0; n], 8.5)]);
        let whole = count(
            &net,
            &Domain::uniform(n, -1.0, 1.0).unwrap(),
            &SearchSettings::default(),
            1,
        );
        assert_counts(
            &net,
            &implied,
            whole as usize,
            &format!("seed {seed} implied"),
        );
    }
}

/// `--domain polytope:FILE` end to end: the count equals the polygon splitter's; an empty
/// polytope file gets one line naming the domain.
#[test]
fn polytope_spec_files_count_and_refuse() {
    use mipbound_experiment::Problem;
    use mipbound_experiment::domains::DomainSpec;
    let net = random_net(2, &[8, 6], &Activation::Relu, 0.1, 21);
    let rows: Rows2 = vec![([1.0, 1.0], 1.2), ([-1.0, 2.0], 0.9), ([0.5, -1.0], 0.3)];
    let text: String = rows
        .iter()
        .map(|(a, b)| format!("{} {} {b}\n", a[0], a[1]))
        .collect();
    let (_dir, path) = crate::domains::write("rows.txt", &text);
    let spec = DomainSpec::parse(&format!("polytope:{path}")).unwrap();
    let problem = Problem::with_domain(net.clone(), "<test>", "0,1", &spec).unwrap();
    let expected = crate::oracle::count_2d_polygon(&net, 0.0, 1.0, &rows);
    assert!(expected > 5, "{expected}");
    assert_eq!(crate::domains::regions(&problem) as usize, expected);
    let (_dir, empty) = crate::domains::write("empty.txt", "1 1 -0.5\n");
    let spec = DomainSpec::parse(&format!("polytope:{empty}")).unwrap();
    let err = Problem::with_domain(net.clone(), "<test>", "0,1", &spec).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("empty or flat") && message.contains("empty.txt"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    // A row without b (two values for a 2-input net) is named as a row, not as a point.
    let (_dir, short) = crate::domains::write("short.txt", "1 1\n");
    let spec = DomainSpec::parse(&format!("polytope:{short}")).unwrap();
    let err = Problem::with_domain(net, "<test>", "0,1", &spec).unwrap_err();
    assert!(
        format!("{err:#}").ends_with(
            "short.txt: row 0 has 2 values but a row needs 3 (2 coefficients, one per input, then b)"
        ),
        "{err:#}"
    );
}

/// Planes whose u-square leaves the input box: the box's rows that are not implied cut
/// the u-square, and the count equals the polygon splitter's on the composed network
/// (first layer times V, by hand) over the u-square clipped by every input-box row.
#[test]
fn clipped_planes_count_as_the_composed_network_on_the_clipped_polygon() {
    use mipbound_experiment::Problem;
    use mipbound_experiment::domains::DomainSpec;
    let mut all_kinds = vec![("relu", Activation::Relu)];
    all_kinds.extend(kinds());
    let (a, b, c) = (
        [0.3, 0.9, 0.5, 0.1],
        [1.2, 0.7, 0.45, 0.3],
        [0.35, 1.4, -0.3, 0.55],
    );
    let (_dir, path) =
        crate::domains::write("plane.txt", &crate::domains::points_text(&[&a, &b, &c]));
    let spec = DomainSpec::parse(&format!("plane:{path}")).unwrap();
    // x_i = a_i + u (b_i - a_i) + v (c_i - a_i) in [0, 1].
    let rows: Rows2 = (0..4)
        .flat_map(|i| {
            let d = [b[i] - a[i], c[i] - a[i]];
            [(d, 1.0 - a[i]), ([-d[0], -d[1]], a[i])]
        })
        .collect();
    // The search keeps exactly the rows that are edges of the clipped polygon (the others
    // are proven implied): its edges that do not lie on a side of the u-square.
    let polygon = crate::oracle::clipped_square(0.0, 1.0, &rows);
    let on_side = |p: [f64; 2], q: [f64; 2]| {
        (0..2).any(|d| {
            [0.0, 1.0]
                .iter()
                .any(|s| (p[d] - s).abs() < 1e-12 && (q[d] - s).abs() < 1e-12)
        })
    };
    let cutting_edges = (0..polygon.len())
        .filter(|&i| !on_side(polygon[i], polygon[(i + 1) % polygon.len()]))
        .count();
    assert!(cutting_edges >= 2, "{polygon:?}");
    for (name, activation) in all_kinds {
        for seed in 0..2 {
            let net = quantized(&random_net(4, &[8, 6], &activation, 0.1, 700 + seed));
            let plane = Problem::with_domain(net.clone(), "<test>", "0,1", &spec).unwrap();
            assert_eq!(
                plane.domain().constraints().len(),
                cutting_edges,
                "{}",
                plane.domain().describe()
            );
            let by_hand = crate::domains::composed_by_hand(
                &net,
                &a,
                &crate::domains::plane_directions(&a, &b, &c),
            );
            let expected = crate::oracle::count_2d_polygon(&by_hand, 0.0, 1.0, &rows);
            assert!(expected >= 4, "{name} seed {seed}: {expected}");
            assert_eq!(
                crate::domains::regions(&plane) as usize,
                expected,
                "{name} seed {seed}"
            );
        }
    }
}
