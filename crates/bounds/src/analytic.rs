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
