//! Exact counts of networks beyond ReLU (leaky ReLU, hard tanh, a general PWL with three
//! breakpoints, rank-3 maxout, 1-D and 2-D convolutions) against the independent 1-D and
//! 2-D geometric counters, against Hu & Zhang's Theorem 1 in general position, and against
//! every applicable upper bound.

use std::collections::HashSet;

use mipbound_bounds::analytic::{hu_zhang_theorem1, serra2018_theorem1, zaslavsky};
use mipbound_bounds::architecture::{architecture_upper_bound, trivial_pieces};
use mipbound_bounds::cnn::{DEFAULT_MAX_NODES, xiong_one_layer, xiong_upper};
use mipbound_formulation::Domain;
use mipbound_network::{Activation, ConvGeometry, Layer, Network, Pattern, PiecewiseLinear};
use mipbound_search::{CountRegions, Flow, Limits, RegionSearch, SearchSettings, SearchStatus};
use ndarray::{Array1, Array2};
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::exact::{exact, skipped_lps_of_exact_2d_counts};
use crate::oracle::{count_1d, count_2d, count_grid_2d, solve};

/// The activations under test, by name.
pub fn kinds() -> Vec<(&'static str, Activation)> {
    vec![
        ("leaky", Activation::LeakyRelu { slope: 0.1 }),
        ("hard tanh", Activation::hard_tanh()),
        (
            "pwl p=3",
            Activation::Pwl(
                PiecewiseLinear::new(vec![-0.5, 0.0, 0.7], vec![0.3, -1.0, 1.5, 0.2], 0.2).unwrap(),
            ),
        ),
        ("maxout 3", Activation::Maxout { rank: 3 }),
    ]
}

/// Gaussian weights (He scale) and biases, `width * rank` rows per layer.
pub fn random_net(
    n0: usize,
    widths: &[usize],
    activation: &Activation,
    bias_std: f64,
    seed: u64,
) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inputs = n0;
    let layers = widths
        .iter()
        .map(|&w| {
            let rows = w * activation.rank();
            let scale = Normal::new(0.0, (2.0 / inputs as f64).sqrt()).unwrap();
            let bias = Normal::new(0.0, bias_std).unwrap();
            let layer = Layer::new(
                Array2::from_shape_fn((rows, inputs), |_| scale.sample(&mut rng)),
                Array1::from_shape_fn(rows, |_| bias.sample(&mut rng)),
                activation.clone(),
            );
            inputs = w;
            layer
        })
        .collect();
    Network::new(n0, layers).unwrap()
}

/// The count is at most every applicable architecture bound.
fn assert_within_bounds(net: &Network, count: u64, what: &str) {
    let count = BigUint::from(count);
    let (bound, name) = architecture_upper_bound(net);
    assert!(count <= bound, "{what}: {count} > {name} {bound}");
    assert!(
        count <= trivial_pieces(net),
        "{what}: above the trivial bound"
    );
}

#[test]
fn one_dimensional_counts_equal_breakpoint_counts_for_every_activation() {
    let cases: &[&[usize]] = &[&[3], &[4, 4], &[6, 3], &[3, 3, 3]];
    for (name, activation) in kinds() {
        let mut deep_foldings = 0;
        for (i, widths) in cases.iter().enumerate() {
            for seed in 0..3 {
                let net = random_net(1, widths, &activation, 0.7, 10 * i as u64 + seed);
                let domain = Domain::uniform(1, -2.0, 2.0).unwrap();
                let count = exact(&net, &domain);
                let what = format!("{name} {widths:?} seed {seed}");
                assert_eq!(count as usize, count_1d(&net, -2.0, 2.0), "{what}");
                assert_within_bounds(&net, count, &what);
                // The first layer alone makes at most n1 (options - 1) + 1 pieces.
                if count > (widths[0] * (activation.options() - 1) + 1) as u64 {
                    deep_foldings += 1;
                }
            }
        }
        assert!(
            deep_foldings >= 3,
            "{name}: the cases should include foldings"
        );
    }
}

/// The walked witnesses and the reused duals of the search skip LPs; on every activation
/// (maxout keys its reused rows by the competing piece) the counts still equal the polygon
/// oracle's while both fire.
#[test]
fn skipped_lps_change_no_count_for_any_activation() {
    for (name, activation) in kinds() {
        let cases = [[8usize, 6], [5, 5]];
        let (walked, proven) =
            skipped_lps_of_exact_2d_counts(cases.iter().enumerate().map(|(i, widths)| {
                let net = random_net(2, widths, &activation, 0.5, 4200 + i as u64);
                (net, format!("{name} {widths:?}"))
            }));
        assert!(
            walked > 20 && proven > 5,
            "{name}: walked {walked}, proven {proven}"
        );
    }
}

/// Maxout pieces that are parallel on some regions only: piece 1 of each second-layer unit
/// is piece 0 with other weights on three first-layer units, so where those are inactive
/// the two pieces are parallel and the option keeps fewer rows. The reused duals name rows
/// by competing piece, so they stay right across such paths; the count equals the polygon
/// oracle's while they fire.
#[test]
fn maxout_pieces_parallel_on_some_regions_count_exactly() {
    let nets = (0..3u64).map(|seed| {
        let relu = random_net(2, &[8], &Activation::Relu, 0.5, 4300 + seed);
        let mut rng = ChaCha8Rng::seed_from_u64(4400 + seed);
        let (units, rank) = (4, 3);
        let mut weights = Array2::<f64>::zeros((units * rank, 8));
        for u in 0..units {
            for j in 0..8 {
                let w: f64 = rng.random_range(-1.0..1.0);
                weights[[u * rank, j]] = w;
                weights[[u * rank + 1, j]] = if j < 3 {
                    rng.random_range(-1.0..1.0)
                } else {
                    w
                };
                weights[[u * rank + 2, j]] = rng.random_range(-1.0..1.0);
            }
        }
        let bias = Array1::from_shape_fn(units * rank, |_| rng.random_range(-0.5..0.5));
        let maxout = Layer::new(weights, bias, Activation::Maxout { rank });
        let net = Network::new(2, vec![relu.layers()[0].clone(), maxout]).unwrap();
        (net, format!("seed {seed}"))
    });
    let (walked, proven) = skipped_lps_of_exact_2d_counts(nets);
    assert!(
        walked > 10 && proven > 3,
        "walked {walked}, proven {proven}"
    );
}

#[test]
fn two_dimensional_counts_equal_polygon_counts_for_every_activation() {
    let cases: &[&[usize]] = &[&[5], &[4, 4], &[3, 3, 3]];
    for (name, activation) in kinds() {
        for (i, widths) in cases.iter().enumerate() {
            for seed in 0..2 {
                let net = random_net(2, widths, &activation, 0.5, 100 + 10 * i as u64 + seed);
                let domain = Domain::uniform(2, -1.5, 1.5).unwrap();
                let count = exact(&net, &domain);
                let what = format!("{name} {widths:?} seed {seed}");
                assert_eq!(count as usize, count_2d(&net, -1.5, 1.5), "{what}");
                let grid = count_grid_2d(&net, -1.5, 1.5, 300) as u64;
                assert!(
                    grid <= count && grid * 10 >= count * 7,
                    "{what}: grid {grid}, exact {count}"
                );
                assert!(count > widths[0] as u64, "{what}: only {count} regions");
                assert_within_bounds(&net, count, &what);
            }
        }
    }
}

/// Every intersection point of `n0` hyperplanes `w_u . x + b_u = e` (distinct units, any
/// breakpoint `e`), as the corner of a box that contains them all.
fn vertex_box(weights: &Array2<f64>, bias: &Array1<f64>, breakpoints: &[f64]) -> f64 {
    let (n1, n0) = weights.dim();
    let mut extent: f64 = 1.0;
    let mut choose = vec![0usize; n0];
    fn subsets(
        n: usize,
        k: usize,
        start: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == k {
            out.push(current.clone());
            return;
        }
        for i in start..n {
            current.push(i);
            subsets(n, k, i + 1, current, out);
            current.pop();
        }
    }
    let mut all = Vec::new();
    subsets(n1, n0, 0, &mut Vec::new(), &mut all);
    let p = breakpoints.len();
    for units in all {
        for code in 0..p.pow(n0 as u32) {
            let mut c = code;
            for slot in choose.iter_mut() {
                *slot = c % p;
                c /= p;
            }
            let a = units.iter().map(|&u| weights.row(u).to_vec()).collect();
            let rhs = units
                .iter()
                .zip(&choose)
                .map(|(&u, &e)| breakpoints[e] - bias[u])
                .collect();
            let x = solve(a, rhs).expect("general position");
            extent = x.iter().fold(extent, |m, v| m.max(v.abs()));
        }
    }
    1.5 * extent
}

/// One layer of `n1` units with `p` breakpoints each, in general position, on a box holding
/// every vertex: exactly `sum_{k <= n0} C(n1, k) p^k` regions (Hu & Zhang, Theorem 1).
#[test]
fn one_pwl_layer_in_general_position_reaches_hu_zhang_theorem1() {
    let cases: &[(usize, usize, Activation)] = &[
        (2, 4, Activation::clip(-0.3, 0.8).unwrap()),
        (2, 5, kinds()[2].1.clone()),
        (3, 4, kinds()[2].1.clone()),
        (3, 5, Activation::hard_tanh()),
        (2, 6, Activation::LeakyRelu { slope: 0.2 }),
    ];
    for (seed, (n0, n1, activation)) in cases.iter().enumerate() {
        let net = random_net(*n0, &[*n1], activation, 1.0, 7000 + seed as u64);
        let layer = &net.hidden_layers()[0];
        let f = activation.scalar().unwrap();
        let half = vertex_box(&layer.weights, &layer.bias, f.breakpoints());
        let count = exact(&net, &Domain::uniform(*n0, -half, half).unwrap());
        let p = f.breakpoints().len() as u64;
        assert_eq!(
            BigUint::from(count),
            hu_zhang_theorem1(*n0, *n1, p),
            "n0 {n0}, n1 {n1}, p {p}"
        );
    }
}

/// A convolution layer from ONNX-layout weights `[filters, channels, kh, kw]`.
pub fn conv_layer(g: ConvGeometry, activation: Activation, rng: &mut ChaCha8Rng) -> Layer {
    let n = g.out_channels * g.in_channels * g.kernel.0 * g.kernel.1;
    let weight: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let bias: Vec<f64> = (0..g.out_channels)
        .map(|_| rng.random_range(-0.5..0.5))
        .collect();
    let (w, b) = g.dense(&weight, Some(&bias));
    Layer::new(w, b, activation).with_conv(g)
}

/// A convolution's geometry: `c` channels of `h x w`, `filters` kernels, no padding.
pub fn geometry(
    c: usize,
    h: usize,
    w: usize,
    filters: usize,
    kernel: (usize, usize),
    stride: usize,
) -> ConvGeometry {
    ConvGeometry {
        in_channels: c,
        in_h: h,
        in_w: w,
        out_channels: filters,
        kernel,
        stride: (stride, stride),
        pads: [0; 4],
        dilation: (1, 1),
        groups: 1,
    }
}

/// A 1-D convolutional network on a two-sample signal: 1x2 input, three 1x1 filters, then
/// two 1x2 filters. Two inputs, so the polygon counter checks it exactly.
#[test]
fn one_dimensional_convolutions_match_polygon_counts() {
    for (name, activation) in [
        ("relu", Activation::Relu),
        ("hard tanh", Activation::hard_tanh()),
    ] {
        for seed in 0..4 {
            let mut rng = ChaCha8Rng::seed_from_u64(50 + seed);
            let g1 = geometry(1, 1, 2, 3, (1, 1), 1);
            let g2 = geometry(3, 1, 2, 2, (1, 2), 1);
            let layers = vec![
                conv_layer(g1.clone(), activation.clone(), &mut rng),
                conv_layer(g2, activation.clone(), &mut rng),
            ];
            let net = Network::new(2, layers).unwrap();
            let count = exact(&net, &Domain::uniform(2, -3.0, 3.0).unwrap());
            let what = format!("{name} seed {seed}");
            assert_eq!(count as usize, count_2d(&net, -3.0, 3.0), "{what}");
            assert!(count >= 6, "{what}: {count}");
            assert_within_bounds(&net, count, &what);
            let p = activation.breakpoints() as u64;
            let xiong = xiong_upper(&g1, &[2], p, DEFAULT_MAX_NODES).unwrap();
            assert!(
                BigUint::from(count) <= xiong,
                "{what}: {count} > Xiong {xiong}"
            );
        }
    }
}

/// Every pattern the search finds, with its count.
fn patterns(net: &Network, domain: &Domain) -> HashSet<Vec<bool>> {
    let search = RegionSearch::new(net, domain, SearchSettings::default()).unwrap();
    let mut found = HashSet::new();
    let out = search
        .run(
            &mut CountRegions {
                on_region: |p: &Pattern, _: &[f64]| {
                    found.insert(p.iter().map(|b| *b).collect::<Vec<bool>>());
                    Flow::Continue
                },
            },
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(out.status, SearchStatus::Exhausted);
    assert_eq!(out.stats.regions as usize, found.len());
    found
}

/// A 2-D convolution on a 3x3 single-channel image with two 2x2 filters: the eight normals
/// have rank 7 (weight sharing, erratum E5), so the arrangement has 255 regions, one fewer
/// than Xiong's formula (256). On a box holding every vertex flat the search finds all 255;
/// random points never show a pattern it missed.
#[test]
fn two_dimensional_convolution_has_the_weight_sharing_count() {
    let g = geometry(1, 3, 3, 2, (2, 2), 1);
    assert_eq!(
        xiong_one_layer(&g, 1, DEFAULT_MAX_NODES),
        Some(BigUint::from(256u32))
    );
    for seed in 0..3 {
        let mut rng = ChaCha8Rng::seed_from_u64(900 + seed);
        let layer = conv_layer(g.clone(), Activation::Relu, &mut rng);
        // The vertex flats: 7 of the 8 hyperplanes; their minimum-norm points.
        let (w, b) = (&layer.weights, &layer.bias);
        let mut extent: f64 = 1.0;
        for skip in 0..8 {
            let rows: Vec<usize> = (0..8).filter(|&r| r != skip).collect();
            let gram = rows
                .iter()
                .map(|&i| rows.iter().map(|&j| w.row(i).dot(&w.row(j))).collect())
                .collect();
            let y = solve(gram, rows.iter().map(|&i| -b[i]).collect()).expect("rank 7");
            for col in 0..9 {
                let x: f64 = rows.iter().zip(&y).map(|(&i, yi)| w[[i, col]] * yi).sum();
                extent = extent.max(x.abs());
            }
        }
        let net = Network::new(9, vec![layer]).unwrap();
        let half = 1.5 * extent;
        let domain = Domain::uniform(9, -half, half).unwrap();
        let found = patterns(&net, &domain);
        assert_eq!(found.len(), 255, "seed {seed}");
        assert!(BigUint::from(255u32) <= serra2018_theorem1(9, &[8]));
        assert_eq!(zaslavsky(8, 9), BigUint::from(256u32));
        for _ in 0..20_000 {
            let x: Vec<f64> = (0..9).map(|_| rng.random_range(-half..half)).collect();
            let p: Vec<bool> = net.pattern(&x).iter().map(|b| *b).collect();
            assert!(found.contains(&p), "seed {seed}: sampled pattern missed");
        }
    }
}

/// Two 2-D convolutions (3x3 image, 2x2 filters twice) with leaky ReLU, then max pooling
/// written as maxout: random points never show a pattern the search missed, and the count
/// respects the bounds.
#[test]
fn deep_two_dimensional_convolutions_and_pooling_cover_every_sampled_pattern() {
    for seed in 0..2 {
        let mut rng = ChaCha8Rng::seed_from_u64(1300 + seed);
        let leaky = Activation::LeakyRelu { slope: 0.1 };
        let g1 = geometry(1, 3, 3, 2, (2, 2), 1);
        let g2 = geometry(2, 2, 2, 3, (1, 1), 1);
        let conv1 = conv_layer(g1.clone(), leaky.clone(), &mut rng);
        let conv2 = conv_layer(g2, leaky.clone(), &mut rng);
        let domain = Domain::unit_box(9);
        let net = Network::new(9, vec![conv1.clone(), conv2.clone()]).unwrap();
        let found = patterns(&net, &domain);
        let count = found.len() as u64;
        assert_within_bounds(&net, count, "conv-conv");
        let xiong = xiong_upper(&g1, &[12], 1, DEFAULT_MAX_NODES).unwrap();
        assert!(BigUint::from(count) <= xiong);
        for _ in 0..20_000 {
            let x: Vec<f64> = (0..9).map(|_| rng.random()).collect();
            let p: Vec<bool> = net.pattern(&x).iter().map(|b| *b).collect();
            assert!(found.contains(&p), "seed {seed}: sampled pattern missed");
        }
        // 2x2 max pooling over each channel of conv2's output: one rank-4 maxout unit per
        // channel whose rows pick the channel's four values.
        let mut select = Array2::zeros((12, 12));
        for r in 0..12 {
            select[[r, r]] = 1.0;
        }
        let pool = Layer::new(select, Array1::zeros(12), Activation::Maxout { rank: 4 })
            .with_max_pool(geometry(3, 2, 2, 3, (2, 2), 2));
        let pooled = Network::new(9, vec![conv1, conv2, pool]).unwrap();
        let found = patterns(&pooled, &domain);
        assert!(found.len() as u64 >= count, "pooling cannot merge regions");
        assert_within_bounds(&pooled, found.len() as u64, "conv-conv-pool");
        for _ in 0..20_000 {
            let x: Vec<f64> = (0..9).map(|_| rng.random()).collect();
            let p: Vec<bool> = pooled.pattern(&x).iter().map(|b| *b).collect();
            assert!(
                found.contains(&p),
                "seed {seed}: sampled pooled pattern missed"
            );
        }
    }
}
