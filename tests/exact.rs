//! Exact counts against independent oracles: 1-D breakpoints, 2-D polygons and grids,
//! Zaslavsky for one layer in general position, and Theorem 1 of Serra et al. 2018.

use mipbound_bounds::analytic::{serra2018_theorem1, zaslavsky};
use mipbound_formulation::Domain;
use mipbound_network::random::he_network;
use mipbound_network::{Activation, Layer, Network};
use mipbound_search::{Limits, SearchSettings, SearchStatus, count_regions};
use ndarray::{Array1, Array2, array};
use num_bigint::BigUint;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::oracle::{count_1d, count_2d, count_grid_2d, solve};

/// Exact count, asserting the search completed and no thin verdict stayed undecided.
pub fn exact(net: &Network, domain: &Domain) -> u64 {
    let out = count_regions(net, domain, SearchSettings::default(), &Limits::default()).unwrap();
    assert_eq!(out.status, SearchStatus::Exhausted);
    assert!(out.is_exact(), "undecided thin verdicts: {:?}", out.stats);
    out.stats.regions
}

/// Counts 2-D networks (each with a label for messages) over `[-2, 2]^2`, asserting that
/// each count is exact and equals the polygon oracle's; returns the children reached by
/// walks and the options proven empty by reused duals (the LPs the search skipped), summed.
pub fn skipped_lps_of_exact_2d_counts(
    nets: impl IntoIterator<Item = (Network, String)>,
) -> (u64, u64) {
    let domain = Domain::uniform(2, -2.0, 2.0).unwrap();
    let (mut walked, mut proven) = (0, 0);
    for (net, what) in nets {
        let out =
            count_regions(&net, &domain, SearchSettings::default(), &Limits::default()).unwrap();
        assert!(out.is_exact(), "{what}");
        assert_eq!(
            out.stats.regions as usize,
            count_2d(&net, -2.0, 2.0),
            "{what}"
        );
        walked += out.stats.walked_witnesses;
        proven += out.stats.proven_empty;
    }
    (walked, proven)
}

fn assert_below_theorem1(net: &Network, count: u64) {
    let bound = serra2018_theorem1(net.input_dim(), &net.hidden_widths());
    assert!(
        BigUint::from(count) <= bound,
        "{count} regions > Theorem 1 bound {bound}"
    );
}

#[test]
fn one_dimensional_counts_equal_breakpoint_counts() {
    let cases: &[(&[usize], f64, f64)] = &[
        (&[1, 3], -2.0, 2.0),
        (&[1, 6], -2.0, 2.0),
        (&[1, 5, 5], -1.0, 1.0),
        (&[1, 4, 4, 4], -3.0, 3.0),
        (&[1, 8, 6], -2.0, 2.0),
        (&[1, 10, 10, 10], -4.0, 4.0),
        (&[1, 3, 7, 2, 5], -2.0, 3.0),
    ];
    let mut nontrivial = 0;
    for (i, &(widths, lo, hi)) in cases.iter().enumerate() {
        for seed in 0..3 {
            let net = he_network(widths, 1.0, false, 100 * i as u64 + seed);
            let domain = Domain::uniform(1, lo, hi).unwrap();
            let count = exact(&net, &domain);
            assert_eq!(
                count as usize,
                count_1d(&net, lo, hi),
                "widths {widths:?} seed {seed}"
            );
            assert_below_theorem1(&net, count);
            if count > widths[1] as u64 + 1 {
                nontrivial += 1;
            }
        }
    }
    assert!(
        nontrivial >= 5,
        "the 1-D cases should include deep foldings"
    );
}

/// The zigzag network of bounds-catalogue B6: n0 = 1, widths [3; L], 4^L regions on
/// [-1, 3], attaining Theorem 1.
#[test]
fn zigzag_attains_theorem1_in_one_dimension() {
    for depth in 1..=4 {
        let mut layers = vec![Layer::new(
            array![[1.0], [1.0], [-1.0]],
            array![0.0, -1.0, 2.0],
            Activation::Relu,
        )];
        for _ in 1..depth {
            layers.push(Layer::new(
                array![[-12.0, 8.0, -8.0], [-12.0, 8.0, -8.0], [12.0, -8.0, 8.0]],
                array![19.0, 18.0, -17.0],
                Activation::Relu,
            ));
        }
        let net = Network::new(1, layers).unwrap();
        let count = exact(&net, &Domain::uniform(1, -1.0, 3.0).unwrap());
        let widths = vec![3; depth];
        assert_eq!(count, 4u64.pow(depth as u32));
        assert_eq!(BigUint::from(count), serra2018_theorem1(1, &widths));
        assert_eq!(count as usize, count_1d(&net, -1.0, 3.0));
    }
}

#[test]
fn two_dimensional_counts_equal_polygon_counts_and_bound_grid_counts() {
    let cases: &[(&[usize], f64, f64)] = &[
        (&[2, 5], 0.0, 1.0),
        (&[2, 6, 6], -1.0, 1.0),
        (&[2, 4, 4, 4], -1.0, 1.0),
        (&[2, 10, 5], -2.0, 2.0),
        (&[2, 8, 8, 3], 0.0, 1.0),
        (&[2, 12], -3.0, 3.0),
    ];
    for (i, &(widths, lo, hi)) in cases.iter().enumerate() {
        for seed in 0..2 {
            let net = he_network(widths, 0.5, false, 1000 + 10 * i as u64 + seed);
            let domain = Domain::uniform(2, lo, hi).unwrap();
            let count = exact(&net, &domain);
            assert_eq!(
                count as usize,
                count_2d(&net, lo, hi),
                "widths {widths:?} seed {seed}"
            );
            let grid = count_grid_2d(&net, lo, hi, 400);
            assert!(grid as u64 <= count, "grid found {grid} > {count}");
            assert!(
                grid as u64 * 10 >= count * 8,
                "grid {grid} far below {count}"
            );
            assert_below_theorem1(&net, count);
        }
    }
}

/// One layer of `n1` random hyperplanes in R^n0 over a box containing every vertex of the
/// arrangement has exactly Zaslavsky's sum_{i <= n0} C(n1, i) regions.
#[test]
fn one_layer_in_general_position_reaches_zaslavsky() {
    use rand_distr::{Distribution, Normal};
    for &(n0, n1, seed) in &[
        (2usize, 8usize, 1u64),
        (2, 12, 2),
        (3, 7, 3),
        (3, 9, 4),
        (4, 6, 5),
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let w = Array2::from_shape_simple_fn((n1, n0), || normal.sample(&mut rng));
        let b = Array1::from_shape_simple_fn(n1, || normal.sample(&mut rng));
        // Every vertex: the intersection of n0 of the hyperplanes.
        let mut reach: f64 = 1.0;
        for subset in subsets(n1, n0) {
            let a = subset.iter().map(|&i| w.row(i).to_vec()).collect();
            let rhs = subset.iter().map(|&i| -b[i]).collect();
            let x = solve(a, rhs).expect("general position");
            reach = x.iter().fold(reach, |m, v| m.max(v.abs()));
        }
        let bound = (reach * 1.5).ceil();
        let net = Network::new(n0, vec![Layer::new(w, b, Activation::Relu)]).unwrap();
        // Also on boxes far larger than the arrangement: its cells are then thin relative
        // to the box, and none may be lost.
        for side in [bound, 1e4, 1e6] {
            let count = exact(&net, &Domain::uniform(n0, -side, side).unwrap());
            assert_eq!(
                BigUint::from(count),
                zaslavsky(n1 as u64, n0 as u64),
                "n0 {n0} n1 {n1} box +-{side}"
            );
        }
    }
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    if n < k {
        return vec![];
    }
    let mut with_last: Vec<Vec<usize>> = subsets(n - 1, k - 1)
        .into_iter()
        .map(|mut s| {
            s.push(n - 1);
            s
        })
        .collect();
    with_last.extend(subsets(n - 1, k));
    with_last
}

#[test]
fn counts_never_exceed_theorem1_in_higher_dimensions() {
    for n0 in 3..=6 {
        for (i, widths) in [vec![6, 6], vec![5, 4, 3], vec![8, 2, 8]]
            .into_iter()
            .enumerate()
        {
            let mut all = vec![n0];
            all.extend(&widths);
            let net = he_network(&all, 0.5, false, 50 * n0 as u64 + i as u64);
            let count = exact(&net, &Domain::uniform(n0, -1.0, 1.0).unwrap());
            assert!(count >= 1);
            assert_below_theorem1(&net, count);
        }
    }
}

/// A time limit stops the search with a lower bound that never exceeds the exact count.
#[test]
fn time_limited_count_is_a_lower_bound() {
    let net = he_network(&[4, 12, 12], 0.5, false, 77);
    let domain = Domain::uniform(4, -1.0, 1.0).unwrap();
    let full = exact(&net, &domain);
    let cut = count_regions(
        &net,
        &domain,
        SearchSettings::default(),
        &Limits::time_limit(Some(0.0)),
    )
    .unwrap();
    assert_eq!(cut.status, SearchStatus::TimeLimit);
    assert!(cut.stats.regions < full);
}

/// Both LP solvers and both unit orders find the same regions.
#[test]
fn lp_solvers_and_unit_orders_agree() {
    use mipbound_search::LpBackend;
    for (i, widths) in [
        vec![2, 8, 8],
        vec![5, 10, 6],
        vec![30, 8, 6],
        vec![1, 6, 6, 6],
    ]
    .iter()
    .enumerate()
    {
        let net = he_network(widths, 0.4, false, 900 + i as u64);
        let domain = Domain::uniform(widths[0], -1.0, 1.0).unwrap();
        let mut counts = Vec::new();
        for lp in [LpBackend::Dense, LpBackend::Highs] {
            for dynamic_order in [true, false] {
                let settings = SearchSettings {
                    lp,
                    dynamic_order,
                    ..SearchSettings::default()
                };
                let out = count_regions(&net, &domain, settings, &Limits::default()).unwrap();
                assert_eq!(out.stats.rejected_witnesses, 0);
                assert_eq!(out.stats.lp_fallbacks, 0);
                counts.push(out.stats.regions);
            }
        }
        assert!(
            counts.iter().all(|&c| c == counts[0]),
            "{widths:?}: {counts:?}"
        );
    }
}

/// The LPs the search skips (children given a witness by a walk from their parent's,
/// options proven empty by an earlier LP's duals) change no count: the 2-D nets are
/// counted as the polygon oracle counts them while both shortcuts fire many times.
#[test]
fn skipped_lps_change_no_count() {
    let cases = [vec![2, 10, 8], vec![2, 12, 6, 4], vec![2, 8, 8, 8]];
    let (walked, proven) =
        skipped_lps_of_exact_2d_counts(cases.iter().enumerate().map(|(i, widths)| {
            let net = he_network(widths, 0.5, false, 4100 + i as u64);
            (net, format!("{widths:?}"))
        }));
    assert!(
        walked > 50 && proven > 10,
        "walked {walked}, proven {proven}"
    );
}
