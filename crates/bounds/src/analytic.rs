//! Architecture-only bounds on the number of activation regions of ReLU networks.
//!
//! Notation: input dimension `n0`, hidden widths `n_1..n_L`, `N = sum n_l`.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// Binomial coefficient `C(n, k)` (0 when `k > n`).
pub fn binomial(n: u64, k: u64) -> BigUint {
    if k > n {
        return BigUint::zero();
    }
    let k = k.min(n - k);
    let mut value = BigUint::one();
    for i in 0..k {
        // value * (n - i) / (i + 1) stays an integer at every step.
        value = value * (n - i) / (i + 1);
    }
    value
}

/// Zaslavsky (1975): `r(n, d) = sum_{i=0}^{d} C(n, i)`, the maximum number of regions of
/// `n` affine hyperplanes in `R^d`, attained in general position. For one ReLU layer of
/// `n_1` units on `n0` inputs, `r(n_1, n0)` is the exact maximum (Pascanu, Montufar &
/// Bengio 2014, Proposition 2).
pub fn zaslavsky(n: u64, d: u64) -> BigUint {
    (0..=d.min(n)).map(|i| binomial(n, i)).sum()
}

/// The trivial bound `2^N`: one region per activation pattern.
pub fn trivial(widths: &[usize]) -> BigUint {
    BigUint::one() << widths.iter().sum::<usize>()
}

/// Serra, Tjandraatmadja & Ramalingam (ICML 2018), Theorem 1:
/// `sum_{j in J} prod_l C(n_l, j_l)` with
/// `J = {j : 0 <= j_l <= min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)}`.
///
/// Computed as a dynamic programme over the running dimension cap
/// `c = min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1})` (state -> summed weight): for each
/// `j <= min(c, n_l)` the weight times `C(n_l, j)` moves to state `min(c, n_l - j)`.
/// Valid for every ReLU network; tight for one layer.
pub fn serra2018_theorem1(n0: usize, widths: &[usize]) -> BigUint {
    let mut states = vec![BigUint::zero(); n0 + 1];
    states[n0] = BigUint::one();
    for &n in widths {
        let mut next = vec![BigUint::zero(); n0 + 1];
        for (cap, weight) in states.iter().enumerate() {
            if weight.is_zero() {
                continue;
            }
            for j in 0..=cap.min(n) {
                next[cap.min(n - j)] += weight * binomial(n as u64, j as u64);
            }
        }
        states = next;
    }
    states.into_iter().sum()
}

/// Per-layer product with the input dimension (Raghu et al., ICML 2017, style):
/// `prod_l sum_{j=0}^{n0} C(n_l, j)`. On every region, layer `l` is an arrangement of `n_l`
/// hyperplanes in at most `n0` dimensions. Valid for every ReLU network.
pub fn raghu_product(n0: usize, widths: &[usize]) -> BigUint {
    widths
        .iter()
        .map(|&n| zaslavsky(n as u64, n0 as u64))
        .product()
}

/// Montufar (SampTA 2017): `prod_l sum_{j=0}^{d_l} C(n_l, j)` with
/// `d_l = min(n0, n_1, ..., n_{l-1})`: the image of a region after layer `l - 1` has at most
/// that dimension. Valid for every ReLU network.
pub fn montufar2017_product(n0: usize, widths: &[usize]) -> BigUint {
    let mut d = n0;
    let mut product = BigUint::one();
    for &n in widths {
        product *= zaslavsky(n as u64, d as u64);
        d = d.min(n);
    }
    product
}

/// Serra, Tjandraatmadja & Ramalingam (ICML 2018), maxout bound for rank-`k` units:
/// `prod_l sum_{j=0}^{d_l} C(k(k-1)/2 * n_l, j)`, `d_l = min(n0, n_1, ..., n_l)` (one rank-k
/// unit is delimited by at most `C(k, 2)` hyperplanes; erratum E1 of the catalogue fixes
/// the poster's garbled binomial). `k = 2` is [`montufar2017_product`].
pub fn serra2018_maxout(n0: usize, widths: &[usize], rank: usize) -> BigUint {
    let pairs = (rank * rank.saturating_sub(1) / 2) as u64;
    let mut d = n0;
    let mut product = BigUint::one();
    for &n in widths {
        d = d.min(n);
        product *= zaslavsky(pairs * n as u64, d as u64);
    }
    product
}

/// Hu & Zhang (arXiv 1810.13192 v1), Theorem 1: the maximum number of regions of one hidden
/// layer of `n1` units whose activation has `p` breakpoints, in closed form
/// `R(n0, n1) = sum_{k=0}^{n0} C(n1, k) p^k` (the printed double sum; `p = 1` is Zaslavsky).
/// Erratum E2: for `n1 <= n0` this is `(p+1)^n1`, not `(p+1)^n0` as printed.
pub fn hu_zhang_theorem1(n0: usize, n1: usize, breakpoints: u64) -> BigUint {
    (0..=n0.min(n1))
        .map(|k| binomial(n1 as u64, k as u64) * BigUint::from(breakpoints).pow(k as u32))
        .sum()
}

/// Hu & Zhang, Theorem 2 (deep PWL networks, `p` breakpoints per unit):
/// `prod_l R(d_l, n_l)`, `d_l = min(n0, n_1, ..., n_l)`. With `p = 1` it equals
/// [`montufar2017_product`]. (Their Theorem 3 is not a valid bound as printed: see erratum E3;
/// it is deliberately not offered.)
pub fn hu_zhang_theorem2(n0: usize, widths: &[usize], breakpoints: u64) -> BigUint {
    let mut d = n0;
    let mut product = BigUint::one();
    for &n in widths {
        d = d.min(n);
        product *= hu_zhang_theorem1(d, n, breakpoints);
    }
    product
}

/// Montufar, Pascanu, Cho & Bengio (NIPS 2014): some network of this architecture has at
/// least `prod_{l<L} floor(n_l/n0)^n0 * sum_{j<=n0} C(n_L, j)` regions. A statement about
/// the *maximum over parameters*, not about a given network; `None` unless `n_l >= n0` for
/// every layer (the construction needs it).
pub fn montufar2014_lower(n0: usize, widths: &[usize]) -> Option<BigUint> {
    construction_lower(n0, widths, 1, 0)
}

/// Serra, Tjandraatmadja & Ramalingam (ICML 2018): some network of this architecture has at
/// least `prod_{l<L} (floor(n_l/n0) + 1)^n0 * sum_{j<=n0} C(n_L, j)` regions. About the
/// maximum over parameters; `None` unless `n_l >= 3 n0` for every layer.
pub fn serra2018_lower(n0: usize, widths: &[usize]) -> Option<BigUint> {
    construction_lower(n0, widths, 3, 1)
}

fn construction_lower(n0: usize, widths: &[usize], factor: usize, extra: usize) -> Option<BigUint> {
    let (&last, rest) = widths.split_last()?;
    if n0 == 0 || widths.iter().any(|&n| n < factor * n0) {
        return None;
    }
    let folds: BigUint = rest
        .iter()
        .map(|&n| BigUint::from((n / n0 + extra) as u64).pow(n0 as u32))
        .product();
    Some(folds * zaslavsky(last as u64, n0 as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(v: u64) -> BigUint {
        BigUint::from(v)
    }

    /// Literal sum over J, for cross-checking the dynamic programme.
    fn theorem1_by_enumeration(n0: usize, widths: &[usize]) -> BigUint {
        fn rec(l: usize, cap: usize, widths: &[usize]) -> BigUint {
            if l == widths.len() {
                return BigUint::one();
            }
            let n = widths[l];
            (0..=cap.min(n))
                .map(|j| binomial(n as u64, j as u64) * rec(l + 1, cap.min(n - j), widths))
                .sum()
        }
        rec(0, n0, widths)
    }

    #[test]
    fn catalogue_reference_values() {
        assert_eq!(zaslavsky(22, 2), big(254));
        assert_eq!(zaslavsky(12, 3), big(299));
        assert_eq!(zaslavsky(22, 784), big(4194304));
        assert_eq!(serra2018_theorem1(2, &[2, 2]), big(11));
        assert_eq!(serra2018_theorem1(3, &[4, 4, 4]), big(1631));
        assert_eq!(serra2018_theorem1(784, &[10, 12]), big(1744436));
        assert_eq!(serra2018_theorem1(784, &[8, 8, 8]), big(5900722));
        assert_eq!(serra2018_theorem1(1, &[3, 1, 3]), big(20));
        assert_eq!(trivial(&[10, 12]), big(4194304));
        // The n1 + n2 = 22 family of ICML 2018 (bounds-catalogue / counting notes §2.1).
        let family = [
            23, 254, 1794, 9109, 35443, 110056, 280600, 600370, 1097790, 1744436,
        ];
        for (n1, &expected) in (1..=10).zip(&family) {
            assert_eq!(
                serra2018_theorem1(784, &[n1, 22 - n1]),
                big(expected),
                "n1 = {n1}"
            );
        }
    }

    #[test]
    fn catalogue_products_and_constructions() {
        // Table R1 / R2 of the bounds catalogue.
        assert_eq!(raghu_product(2, &[10, 12]), big(4424));
        assert_eq!(raghu_product(784, &[10, 12]), big(4194304));
        assert_eq!(raghu_product(3, &[8, 8, 8]), big(804357));
        assert_eq!(montufar2017_product(784, &[10, 12]), big(4180992));
        assert_eq!(montufar2017_product(784, &[4, 4, 4]), big(4096));
        assert_eq!(montufar2014_lower(2, &[10, 12]), Some(big(1975)));
        assert_eq!(montufar2014_lower(1, &[8, 8, 8]), Some(big(576)));
        assert_eq!(montufar2014_lower(784, &[10, 12]), None);
        assert_eq!(montufar2014_lower(3, &[2, 2]), None);
        assert_eq!(serra2018_lower(2, &[10, 12]), Some(big(2844)));
        assert_eq!(serra2018_lower(1, &[4, 4, 4]), Some(big(125)));
        assert_eq!(serra2018_lower(3, &[10, 12]), Some(big(19136)));
        assert_eq!(serra2018_lower(3, &[16, 6]), None);
        assert_eq!(serra2018_lower(1, &[2, 2]), None);
        // Ordering invariants of the catalogue.
        for n0 in [1, 2, 3, 784] {
            for w in [
                vec![2, 2],
                vec![3, 3],
                vec![4, 4, 4],
                vec![10, 12],
                vec![16, 6],
                vec![8, 8, 8],
            ] {
                let t1 = serra2018_theorem1(n0, &w);
                assert!(t1 <= montufar2017_product(n0, &w));
                assert!(montufar2017_product(n0, &w) <= raghu_product(n0, &w));
                assert!(raghu_product(n0, &w) <= trivial(&w));
                for lower in [montufar2014_lower(n0, &w), serra2018_lower(n0, &w)]
                    .into_iter()
                    .flatten()
                {
                    assert!(lower <= t1, "n0 {n0} {w:?}");
                }
            }
        }
    }

    #[test]
    fn maxout_and_hu_zhang_tables() {
        // Table R3 (maxout, rank k).
        assert_eq!(serra2018_maxout(2, &[2, 2], 3), big(484));
        assert_eq!(serra2018_maxout(1, &[3, 3], 4), big(361));
        assert_eq!(serra2018_maxout(2, &[4, 4, 4], 3), big(493039));
        assert_eq!(serra2018_maxout(3, &[8, 8, 8], 4), big(6303943189817));
        assert_eq!(
            serra2018_maxout(784, &[10, 12], 4),
            "59162318704782680853864".parse::<BigUint>().unwrap()
        );
        assert_eq!(
            serra2018_maxout(784, &[8, 8, 8], 4),
            "100658143656623049217850375".parse::<BigUint>().unwrap()
        );
        // Table R4 (one layer, p breakpoints).
        for (n0, n1, values) in [
            (1, 3, [4, 7, 10]),
            (2, 3, [7, 19, 37]),
            (3, 5, [26, 131, 376]),
            (3, 12, [299, 2049, 6571]),
        ] {
            for (p, &v) in (1..=3).zip(&values) {
                assert_eq!(
                    hu_zhang_theorem1(n0, n1, p),
                    big(v),
                    "n0 {n0} n1 {n1} p {p}"
                );
            }
        }
        assert_eq!(hu_zhang_theorem1(784, 10, 3), big(1048576));
        // E2: n1 <= n0 gives (p+1)^n1.
        assert_eq!(hu_zhang_theorem1(3, 2, 2), big(9));
        // Table R5 (deep, p breakpoints).
        assert_eq!(hu_zhang_theorem2(2, &[10, 12], 2), big(58089));
        assert_eq!(hu_zhang_theorem2(3, &[16, 6], 3), big(11276806));
        assert_eq!(hu_zhang_theorem2(784, &[10, 12], 3), big(14805904654336));
        assert_eq!(hu_zhang_theorem2(1, &[8, 8, 8], 2), big(4913));
        for n0 in [1, 2, 3, 784] {
            for w in [vec![2, 2], vec![4, 4, 4], vec![10, 12], vec![16, 6]] {
                assert_eq!(serra2018_maxout(n0, &w, 2), montufar2017_product(n0, &w));
                assert_eq!(hu_zhang_theorem2(n0, &w, 1), montufar2017_product(n0, &w));
            }
            for n1 in 1..12 {
                assert_eq!(
                    hu_zhang_theorem1(n0, n1, 1),
                    zaslavsky(n1 as u64, n0 as u64)
                );
            }
        }
    }

    #[test]
    fn dynamic_programme_equals_enumeration_and_one_layer_is_zaslavsky() {
        for n0 in 1..=4 {
            for widths in [
                vec![2, 2],
                vec![3, 1, 3],
                vec![4, 2, 5],
                vec![1, 3],
                vec![5, 5, 5],
            ] {
                assert_eq!(
                    serra2018_theorem1(n0, &widths),
                    theorem1_by_enumeration(n0, &widths)
                );
            }
            for n1 in 1..=9 {
                assert_eq!(
                    serra2018_theorem1(n0, &[n1]),
                    zaslavsky(n1 as u64, n0 as u64)
                );
            }
        }
    }
}
