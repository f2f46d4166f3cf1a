//! Convolutional networks: Xiong et al. (ICML 2020) Theorems 2 and 5, and their
//! piecewise-linear generalisation (catalogue B14-B16).
//!
//! One plain convolution (no padding or dilation, one group, equal strides) with `d_1`
//! filters has, at output position `q`, `d_1` units whose weights live on the receptive
//! field `S_q` (all input channels). With free weights, a set of units has independent
//! normals iff it satisfies Hall's condition: `t_q` units chosen at each position `q` can be
//! matched to distinct input coordinates of their fields. Xiong's count is
//! `R = sum_{t feasible} prod_q C(d_1, t_q) p^{t_q}` (`p` breakpoints per unit; `p = 1` is
//! Theorem 2, `p > 1` the derived B16). It is the number of independent unit subsets
//! (each choosing one of its `p` parallel hyperplanes), which bounds the regions of any
//! arrangement from above; shared weights can only add dependencies, so it is always an
//! upper bound. It is the exact maximum except where erratum E5 applies: 2-D single-channel
//! inputs with overlapping fields whose output grid covers the filter (e.g. 3x3x1 input,
//! two 2x2 filters: 256 by the formula, 255 at most).

use mipbound_network::ConvGeometry;
use num_bigint::BigUint;
use num_traits::{One, Zero};

use crate::analytic::{binomial, hu_zhang_theorem1};

/// Default budget of enumeration nodes for [`xiong_one_layer`] (about a second).
pub const DEFAULT_MAX_NODES: u64 = 5_000_000;

/// Returns true if and only if weight sharing makes Xiong's one-layer formula overcount
/// (erratum E5): one input channel, at least two filters, a 2-D filter, overlapping
/// receptive fields (stride below the filter size) and an output grid at least as large as
/// the filter, so that `b * a - a * b = 0` is a dependency Hall's condition does not see.
pub fn e5_applies(g: &ConvGeometry) -> bool {
    let (fh, fw) = g.kernel;
    g.in_channels == 1
        && g.out_channels >= 2
        && fh >= 2
        && fw >= 2
        && (g.stride.0 < fh || g.stride.1 < fw)
        && g.out_h() >= fh
        && g.out_w() >= fw
}

/// The input coordinates (over all channels) of each output position, row-major.
fn receptive_fields(g: &ConvGeometry) -> Vec<Vec<usize>> {
    let mut fields = Vec::with_capacity(g.out_h() * g.out_w());
    for oy in 0..g.out_h() {
        for ox in 0..g.out_w() {
            let mut field = Vec::new();
            for c in 0..g.in_channels {
                for ky in 0..g.kernel.0 {
                    for kx in 0..g.kernel.1 {
                        let (y, x) = (oy * g.stride.0 + ky, ox * g.stride.1 + kx);
                        field.push((c * g.in_h + y) * g.in_w + x);
                    }
                }
            }
            fields.push(field);
        }
    }
    fields
}

/// Enumerates the Hall-feasible demand vectors with an incremental bipartite matching
/// (positions' chosen units on one side, input coordinates on the other).
struct Enumeration<'a> {
    fields: &'a [Vec<usize>],
    /// Which position holds each input coordinate.
    owner: Vec<Option<usize>>,
    /// `C(d_1, t) p^t` for `t = 0..=d_1`.
    weights: Vec<BigUint>,
    nodes: u64,
    max_nodes: u64,
}

impl Enumeration<'_> {
    /// Kuhn's augmenting path: gives one more input coordinate to position `q`.
    fn augment(&mut self, q: usize, visited: &mut [bool]) -> bool {
        for &i in &self.fields[q] {
            if visited[i] {
                continue;
            }
            visited[i] = true;
            let free = match self.owner[i] {
                None => true,
                Some(holder) => self.augment(holder, visited),
            };
            if free {
                self.owner[i] = Some(q);
                return true;
            }
        }
        false
    }

    /// Sum over the feasible demands of positions `q..` given the matching of the earlier
    /// ones; `None` when the node budget runs out. Leaves the matching as it found it.
    fn sum_from(&mut self, q: usize) -> Option<BigUint> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return None;
        }
        if q == self.fields.len() {
            return Some(BigUint::one());
        }
        let saved = self.owner.clone();
        let mut total = BigUint::zero();
        for t in 0..self.weights.len() {
            if t > 0 {
                let mut visited = vec![false; self.owner.len()];
                // Hall's condition is monotone: if t units do not fit, neither do more.
                if !self.augment(q, &mut visited) {
                    break;
                }
            }
            let Some(rest) = self.sum_from(q + 1) else {
                self.owner = saved;
                return None;
            };
            total += &self.weights[t] * rest;
        }
        self.owner = saved;
        Some(total)
    }
}

/// Xiong et al. Theorem 2 (`breakpoints = 1`) and its PWL generalisation B16: the formula
/// value for one plain convolution `g` with `g.out_channels` filters, or `None` if the
/// geometry is not plain or the enumeration needs more than `max_nodes` nodes. An upper
/// bound always; the exact maximum unless [`e5_applies`].
pub fn xiong_one_layer(g: &ConvGeometry, breakpoints: u64, max_nodes: u64) -> Option<BigUint> {
    if !g.is_plain() || g.check().is_err() {
        return None;
    }
    let fields = receptive_fields(g);
    let d1 = g.out_channels as u64;
    let weights = (0..=d1)
        .map(|t| binomial(d1, t) * BigUint::from(breakpoints).pow(t as u32))
        .collect();
    Enumeration {
        fields: &fields,
        owner: vec![None; g.inputs()],
        weights,
        nodes: 0,
        max_nodes,
    }
    .sum_from(0)
}

/// Xiong et al. Theorem 5, upper bound (and its PWL form): `R_{N''} * prod_{l>=2}
/// R(n0, n_l)`, with `R_{N''}` the one-layer value of the first layer `first` and
/// `R(n0, n) = sum_{i<=n0} C(n, i) p^i` for each later hidden layer of `later_widths` units
/// (any layers: each acts on at most `n0` dimensions per region). `None` when the first
/// layer's value is not available.
pub fn xiong_upper(
    first: &ConvGeometry,
    later_widths: &[usize],
    breakpoints: u64,
    max_nodes: u64,
) -> Option<BigUint> {
    let n0 = first.inputs();
    let mut value = xiong_one_layer(first, breakpoints, max_nodes)?;
    for &n in later_widths {
        value *= hu_zhang_theorem1(n0, n, breakpoints);
    }
    Some(value)
}

/// Xiong et al. Theorem 5, lower bound on the maximum over parameters of a ReLU CNN of
/// plain convolutions `layers`: `R_{N'} * prod_{l<L} floor(d_l / d_0)^(n_l^(1) n_l^(2) d_0)`.
/// Returns `N'` (the last layer's filters, shrunk to `d_0` channels, on an
/// `n_{L-1}^(1) x n_{L-1}^(2) x d_0` input) and the product; any number of regions `N'`
/// attains can stand for `R_{N'}`. `None` unless at least two layers, every layer plain,
/// the shapes chain and `d_l >= d_0`.
pub fn xiong_lower_parts(layers: &[ConvGeometry]) -> Option<(ConvGeometry, BigUint)> {
    let (last, earlier) = layers.split_last()?;
    let d0 = layers[0].in_channels;
    if earlier.is_empty() || layers.iter().any(|g| !g.is_plain()) {
        return None;
    }
    let chained = layers.windows(2).all(|w| {
        (w[0].out_channels, w[0].out_h(), w[0].out_w()) == (w[1].in_channels, w[1].in_h, w[1].in_w)
    });
    if !chained || earlier.iter().any(|g| g.out_channels < d0) {
        return None;
    }
    let reduced = ConvGeometry {
        in_channels: d0,
        ..last.clone()
    };
    let mut factor = BigUint::one();
    for g in earlier {
        factor *=
            BigUint::from((g.out_channels / d0) as u64).pow((g.out_h() * g.out_w() * d0) as u32);
    }
    Some((reduced, factor))
}

/// The Mersenne prime `2^61 - 1`: independence is tested modulo it.
const PRIME: u64 = (1 << 61) - 1;

fn mul_mod(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % PRIME as u128) as u64
}

fn inverse_mod(a: u64) -> u64 {
    let (mut base, mut exp, mut out) = (a, PRIME - 2, 1);
    while exp > 0 {
        if exp & 1 == 1 {
            out = mul_mod(out, base);
        }
        base = mul_mod(base, base);
        exp >>= 1;
    }
    out
}

/// `sum over the subsets S of vectors that are linearly independent of p^|S|`, with
/// independence tested over GF(2^61 - 1). A set independent modulo a prime is independent
/// over the rationals, so this never exceeds the rational count. `None` past `max_nodes`.
pub fn independent_subsets(
    vectors: &[Vec<i64>],
    breakpoints: u64,
    max_nodes: u64,
) -> Option<BigUint> {
    fn reduce(basis: &[(usize, Vec<u64>)], mut v: Vec<u64>) -> Option<(usize, Vec<u64>)> {
        for (pivot, row) in basis {
            let f = v[*pivot];
            if f != 0 {
                for (x, r) in v.iter_mut().zip(row) {
                    *x = (*x + PRIME - mul_mod(f, *r)) % PRIME;
                }
            }
        }
        let pivot = v.iter().position(|&x| x != 0)?;
        let inv = inverse_mod(v[pivot]);
        Some((pivot, v.iter().map(|&x| mul_mod(x, inv)).collect()))
    }
    fn count(
        from: usize,
        vectors: &[Vec<u64>],
        basis: &mut Vec<(usize, Vec<u64>)>,
        p: &BigUint,
        nodes: &mut u64,
        max_nodes: u64,
    ) -> Option<BigUint> {
        *nodes += 1;
        if *nodes > max_nodes {
            return None;
        }
        let mut total = BigUint::one();
        for j in from..vectors.len() {
            if let Some(row) = reduce(basis, vectors[j].clone()) {
                basis.push(row);
                let below = count(j + 1, vectors, basis, p, nodes, max_nodes);
                basis.pop();
                total += p * below?;
            }
        }
        Some(total)
    }
    let residues: Vec<Vec<u64>> = vectors
        .iter()
        .map(|v| {
            v.iter()
                .map(|&x| x.rem_euclid(PRIME as i64) as u64)
                .collect()
        })
        .collect();
    let mut nodes = 0;
    count(
        0,
        &residues,
        &mut Vec::new(),
        &BigUint::from(breakpoints),
        &mut nodes,
        max_nodes,
    )
}

/// A number of regions that one convolution `g` attains: the independent subsets (weighted
/// by `p^|S|`) of the hyperplane normals of seeded random integer kernels in `[-1000, 1000]`.
/// With generic biases the layer has exactly that many regions, so it is a lower bound on
/// the maximum over parameters, and it sees the weight sharing that Xiong's formula misses
/// (3x3x1 input, two 2x2 filters: 255). `None` past `max_nodes`.
pub fn attained_one_layer(
    g: &ConvGeometry,
    breakpoints: u64,
    seed: u64,
    max_nodes: u64,
) -> Option<BigUint> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let taps = g.out_channels * (g.in_channels / g.groups) * g.kernel.0 * g.kernel.1;
    let kernel: Vec<f64> = (0..taps)
        .map(|_| rng.random_range(-1000..=1000) as f64)
        .collect();
    let (w, _) = g.dense(&kernel, None);
    let normals: Vec<Vec<i64>> = w
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&x| x as i64).collect())
        .collect();
    independent_subsets(&normals, breakpoints, max_nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::zaslavsky;

    /// `in_h x in_w x channels` input, `filters` filters of `fh x fw`, stride `s`.
    fn conv(
        in_h: usize,
        in_w: usize,
        channels: usize,
        fh: usize,
        fw: usize,
        s: usize,
        filters: usize,
    ) -> ConvGeometry {
        ConvGeometry {
            in_channels: channels,
            in_h,
            in_w,
            out_channels: filters,
            kernel: (fh, fw),
            stride: (s, s),
            pads: [0; 4],
            dilation: (1, 1),
            groups: 1,
        }
    }

    fn value(g: &ConvGeometry, p: u64) -> u64 {
        let v = xiong_one_layer(g, p, DEFAULT_MAX_NODES).expect("within budget");
        u64::try_from(v).expect("small")
    }

    /// bounds-catalogue B14 and the table "formula vs exact arrangement count".
    #[test]
    fn one_layer_reference_values() {
        assert_eq!(value(&conv(1, 4, 1, 1, 2, 1, 2), 1), 55);
        assert_eq!(value(&conv(1, 3, 1, 1, 2, 1, 3), 1), 40);
        assert_eq!(value(&conv(1, 4, 1, 1, 2, 1, 3), 1), 217);
        assert_eq!(value(&conv(1, 5, 1, 1, 2, 1, 2), 1), 200);
        assert_eq!(value(&conv(1, 5, 1, 1, 3, 1, 2), 1), 63);
        assert_eq!(value(&conv(2, 2, 2, 1, 1, 1, 3), 1), 2401);
        assert_eq!(value(&conv(4, 4, 1, 2, 2, 2, 2), 1), 256);
        assert_eq!(value(&conv(3, 3, 1, 2, 2, 1, 2), 1), 256);
        assert_eq!(value(&conv(3, 3, 1, 2, 2, 1, 3), 1), 4013);
        assert_eq!(value(&conv(3, 4, 1, 2, 2, 1, 2), 1), 4096);
        assert_eq!(value(&conv(3, 3, 2, 2, 2, 1, 3), 1), 4096);
        assert_eq!(value(&conv(4, 4, 1, 3, 3, 1, 2), 1), 256);
        assert_eq!(value(&conv(2, 3, 1, 2, 2, 1, 3), 1), 64);
        assert_eq!(value(&conv(4, 4, 1, 2, 2, 1, 2), 1), 262121);
        // B16, p = 2.
        assert_eq!(value(&conv(1, 3, 1, 1, 2, 1, 2), 2), 65);
        assert_eq!(value(&conv(1, 4, 1, 1, 2, 1, 2), 2), 441);
        // One position covering the input: Zaslavsky.
        assert_eq!(
            BigUint::from(value(&conv(2, 3, 1, 2, 3, 1, 5), 1)),
            zaslavsky(5, 6)
        );
    }

    #[test]
    fn e5_flags_exactly_the_overcounting_cases() {
        for (g, flagged) in [
            (conv(3, 3, 1, 2, 2, 1, 2), true),
            (conv(3, 3, 1, 2, 2, 1, 3), true),
            (conv(3, 4, 1, 2, 2, 1, 2), true),
            (conv(3, 3, 1, 2, 2, 1, 1), false),
            (conv(3, 3, 2, 2, 2, 1, 2), false),
            (conv(4, 4, 1, 3, 3, 1, 2), false),
            (conv(1, 5, 1, 1, 2, 1, 2), false),
            (conv(2, 3, 1, 2, 2, 1, 3), false),
            (conv(4, 4, 1, 2, 2, 2, 2), false),
        ] {
            assert_eq!(e5_applies(&g), flagged, "{g:?}");
        }
    }

    /// bounds-catalogue B15 reference table.
    #[test]
    fn multi_layer_reference_values() {
        let first = conv(4, 4, 1, 2, 2, 1, 2);
        let upper = |later: &[usize]| xiong_upper(&first, later, 1, DEFAULT_MAX_NODES).unwrap();
        assert_eq!(upper(&[8]), BigUint::from(67_102_976u64));
        assert_eq!(upper(&[16]), BigUint::from(17_178_361_856u64));
        let lower = |layers: &[ConvGeometry]| {
            let (n_prime, factor) = xiong_lower_parts(layers).unwrap();
            xiong_one_layer(&n_prime, 1, DEFAULT_MAX_NODES).unwrap() * factor
        };
        assert_eq!(
            lower(&[first.clone(), conv(3, 3, 2, 2, 2, 1, 2)]),
            BigUint::from(131_072u64)
        );
        assert_eq!(
            lower(&[first.clone(), conv(3, 3, 2, 2, 2, 1, 4)]),
            BigUint::from(25_065_984u64)
        );

        let line = [
            conv(1, 6, 1, 1, 2, 1, 2),
            conv(1, 5, 2, 1, 2, 1, 2),
            conv(1, 4, 2, 1, 2, 1, 2),
        ];
        let upper = xiong_upper(&line[0], &[8, 6], 1, DEFAULT_MAX_NODES).unwrap();
        assert_eq!(upper, BigUint::from(11_460_800u64));
        assert_eq!(
            xiong_one_layer(&line[0], 1, DEFAULT_MAX_NODES),
            Some(BigUint::from(725u32))
        );
        assert_eq!(lower(&line), BigUint::from(28_160u64));
        // With R_N' attained by a network (255 instead of 256, erratum E5): 130560.
        let (n_prime, factor) =
            xiong_lower_parts(&[first.clone(), conv(3, 3, 2, 2, 2, 1, 2)]).unwrap();
        let attained = attained_one_layer(&n_prime, 1, 0, DEFAULT_MAX_NODES).unwrap();
        assert_eq!(attained * factor, BigUint::from(130_560u64));
        // Shapes that do not chain.
        assert!(xiong_lower_parts(&[line[0].clone(), line[0].clone()]).is_none());
    }

    /// The catalogue's "true maximum" column: independent normal subsets of shared kernels.
    #[test]
    fn attained_counts_see_the_weight_sharing() {
        for (g, formula, attained) in [
            (conv(3, 3, 1, 2, 2, 1, 2), 256u64, 255u64),
            (conv(3, 3, 1, 2, 2, 1, 3), 4013, 3998),
            (conv(3, 4, 1, 2, 2, 1, 2), 4096, 4061),
            (conv(3, 3, 2, 2, 2, 1, 2), 256, 256),
            (conv(1, 4, 1, 1, 2, 1, 3), 217, 217),
            (conv(1, 5, 1, 1, 2, 1, 2), 200, 200),
            (conv(2, 3, 1, 2, 2, 1, 3), 64, 64),
        ] {
            assert_eq!(value(&g, 1), formula, "{g:?}");
            for seed in 0..3 {
                let a = attained_one_layer(&g, 1, seed, DEFAULT_MAX_NODES).unwrap();
                assert_eq!(a, BigUint::from(attained), "{g:?} seed {seed}");
            }
        }
        // p = 2 in 1-D: the B16 values.
        let a = attained_one_layer(&conv(1, 4, 1, 1, 2, 1, 2), 2, 0, DEFAULT_MAX_NODES).unwrap();
        assert_eq!(a, BigUint::from(441u32));
        // Dependent vectors are not counted: {e1, e2, e1 + e2} has 7 independent subsets.
        let v = vec![vec![1, 0], vec![0, 1], vec![1, 1]];
        assert_eq!(independent_subsets(&v, 1, 100), Some(BigUint::from(7u32)));
    }

    #[test]
    fn budget_and_geometry_limits() {
        assert_eq!(xiong_one_layer(&conv(4, 4, 1, 2, 2, 1, 2), 1, 100), None);
        let mut padded = conv(3, 3, 1, 2, 2, 1, 2);
        padded.pads = [1; 4];
        assert_eq!(xiong_one_layer(&padded, 1, DEFAULT_MAX_NODES), None);
    }
}
