//! Probabilistic lower bounds from hashed-trial levels (MBound: Gomes, Sabharwal & Selman,
//! AAAI 2006; as used by MIPBound, Serra & Ramalingam, AAAI 2020).
//!
//! Why they hold, for XORs of any width: let S be the set of regions (patterns) and
//! `H_1, H_2, ...` i.i.d. random XORs whose parity bits are uniform and independent of the
//! variables. A fixed pattern satisfies `H_1..H_j` with probability `2^-j`, so
//! `E |S ∩ H_1..H_j| = |S| 2^-j` and, by Markov, `p_j = P[some region satisfies
//! H_1..H_j] <= |S| 2^-j`. A trial's level `j_r` is the largest `j` with a region satisfying
//! `H_1..H_j` (or a witnessed level below it), so `P[j_r >= j] <= p_j`, and trials are
//! independent.
//!
//! - **MBound rule.** With `j* = min_r j_r` over `R` trials: if `|S| < 2^(j - alpha)` at the
//!   first such level `j0`, all `R` trials reached `j0` with probability `<= 2^(-alpha R)`.
//!   Hence `|S| >= 2^(j* - alpha)` with probability `>= 1 - 2^(-alpha R)`. No union bound
//!   over levels is needed because the prefixes are nested (`N_j` is non-increasing).
//! - **Binomial-tail rule** (threshold `c` fixed before the trials): with `N_j = #{r : j_r
//!   >= j}` and `j_c` the largest `j` with `N_j >= c`, `|S| >= 2^(j_c - alpha)` fails with
//!   probability `<= BinTail(R, 2^-alpha, c)`; `alpha` is the smallest value making that
//!   `<= delta`. With `c = R` this is the MBound rule.
//!
//! Short XORs give **no upper bound**: infeasibility at a level says nothing about `|S|`
//! without pairwise independence. Nothing here returns one.

/// `alpha` such that `2^(-alpha R) = 1 - confidence`.
pub fn alpha_for_confidence(confidence: f64, trials: usize) -> f64 {
    -(1.0 - confidence).log2() / trials as f64
}

/// A lower bound `count >= 2^exponent` holding with probability `>= 1 - failure`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowerBound {
    /// The level the bound is read at (`j*` or `j_c`).
    pub level: u32,
    /// The slack `alpha`.
    pub alpha: f64,
    /// `level - alpha`: the bound is `2^exponent` (trivial when `<= 0`).
    pub exponent: f64,
    /// Probability that the bound is wrong, at most.
    pub failure: f64,
}

impl LowerBound {
    /// Probability that the bound holds, at least.
    pub fn confidence(&self) -> f64 {
        1.0 - self.failure
    }

    /// The smallest integer count the bound allows: `ceil(2^exponent)`, at least 1; `None`
    /// when it does not fit in a `u128`.
    pub fn min_count(&self) -> Option<u128> {
        if self.exponent <= 0.0 {
            return Some(1);
        }
        if self.exponent >= 127.0 {
            return None;
        }
        Some(self.exponent.exp2().ceil() as u128)
    }
}

/// The MBound rule over trial levels with slack `alpha`; `None` without trials.
pub fn mbound(levels: &[u32], alpha: f64) -> Option<LowerBound> {
    let level = *levels.iter().min()?;
    Some(LowerBound {
        level,
        alpha,
        exponent: level as f64 - alpha,
        failure: (-alpha * levels.len() as f64).exp2(),
    })
}

/// `P[Binomial(n, p) >= c]`.
///
/// Sums only the terms that matter: from `c` away from the mode, until they fall below
/// `1e-17` of the sum (the terms shrink geometrically there), or the complement when `c` is
/// at or below the mode. That is `O(sqrt(n) + n p (1-p) / |c - n p|)` terms rather than `n`,
/// so a million trials cost milliseconds.
pub fn binomial_tail(n: usize, p: f64, c: usize) -> f64 {
    if c == 0 {
        return 1.0;
    }
    if c > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let odds = p / (1.0 - p);
    let mode = (((n + 1) as f64 * p).floor() as usize).min(n);
    if c > mode {
        // Upward from c: term(i + 1) / term(i) = (n - i) / (i + 1) * odds < 1.
        let log_first = log_pmf(n, p, c);
        let scaled = scaled_sum(c, n, |i| (n - i) as f64 / (i + 1) as f64 * odds, |i| i + 1);
        (log_first + scaled.ln()).exp().min(1.0)
    } else {
        // 1 - P[X <= c - 1], downward from c - 1: term(i - 1) / term(i) = i / (n - i + 1) / odds.
        let log_first = log_pmf(n, p, c - 1);
        let scaled = scaled_sum(
            c - 1,
            0,
            |i| i as f64 / (n - i + 1) as f64 / odds,
            |i| i - 1,
        );
        (1.0 - (log_first + scaled.ln()).exp()).clamp(0.0, 1.0)
    }
}

/// `ln P[Binomial(n, p) = i]`.
fn log_pmf(n: usize, p: f64, i: usize) -> f64 {
    let log_choose = libm::lgamma(n as f64 + 1.0)
        - libm::lgamma(i as f64 + 1.0)
        - libm::lgamma((n - i) as f64 + 1.0);
    log_choose + i as f64 * p.ln() + (n - i) as f64 * (-p).ln_1p()
}

/// `sum_k prod_{j < k} ratio(i_j)` for `i_0 = from`, `i_{j+1} = step(i_j)`, up to `to`: the
/// sum of a run of terms divided by its first one. Stops once a term is below `1e-17` of the
/// sum; `ratio` must stay below 1 (it does from the mode outwards).
fn scaled_sum(
    from: usize,
    to: usize,
    ratio: impl Fn(usize) -> f64,
    step: impl Fn(usize) -> usize,
) -> f64 {
    let (mut i, mut term, mut sum) = (from, 1.0f64, 1.0f64);
    while i != to && term > 1e-17 * sum {
        term *= ratio(i);
        i = step(i);
        sum += term;
    }
    sum
}

/// The binomial-tail rule: threshold `c` (fixed in advance), target failure probability
/// `delta`. `None` without trials, or when `c` is 0 or exceeds the number of trials.
pub fn tail_bound(levels: &[u32], threshold: usize, delta: f64) -> Option<LowerBound> {
    let trials = levels.len();
    if threshold == 0 || threshold > trials {
        return None;
    }
    // The c-th largest level is the largest j reached by at least c trials.
    let mut levels = levels.to_vec();
    let (_, &mut level, _) = levels.select_nth_unstable_by(threshold - 1, |a, b| b.cmp(a));
    let failure_at = |alpha: f64| binomial_tail(trials, (-alpha).exp2(), threshold);
    let (mut lo, mut hi) = (0.0f64, 256.0f64);
    if failure_at(lo) <= delta {
        hi = lo;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if failure_at(mid) <= delta {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(LowerBound {
        level,
        alpha: hi,
        exponent: level as f64 - hi,
        failure: failure_at(hi),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbound_matches_the_formula_and_reference_numbers() {
        // alpha = 1, R = 7: 1 - 2^-7 = 99.2% (MBound paper's typical setting).
        let b = mbound(&[9, 7, 8, 12, 7, 10, 11], 1.0).unwrap();
        assert_eq!(b.level, 7);
        assert_eq!(b.exponent, 6.0);
        assert!((b.confidence() - (1.0 - 1.0 / 128.0)).abs() < 1e-15);
        assert_eq!(b.min_count(), Some(64));
        let alpha = alpha_for_confidence(0.99, 10);
        assert!((alpha - 0.6643856189774724).abs() < 1e-12);
        assert!((mbound(&[5; 10], alpha).unwrap().failure - 0.01).abs() < 1e-12);
        assert_eq!(mbound(&[], 1.0), None);
    }

    #[test]
    fn tail_rule_reproduces_the_reference_alphas() {
        // Counting notes §3.2 at delta = 0.05 (rounded up to two decimals there): R = 10 all
        // feasible -> 0.44; 8 of 10 -> 1.03; 5 of 10 -> 2.17; R = 20 with 15 of 20 -> 0.88.
        // Unrounded values from an independent exact-fraction computation in Python.
        let cases = [
            (10, 10, 0.44, 0.432193),
            (10, 8, 1.03, 1.020052),
            (10, 5, 2.17, 2.168505),
            (20, 15, 0.88, 0.877214),
        ];
        for (trials, c, rounded, exact) in cases {
            let levels = vec![4u32; trials];
            let b = tail_bound(&levels, c, 0.05).unwrap();
            assert!(
                (b.alpha - exact).abs() < 1e-5,
                "R {trials} c {c}: {}",
                b.alpha
            );
            assert!(b.alpha <= rounded && rounded - b.alpha < 0.01);
            assert!(b.failure <= 0.05 + 1e-12);
        }
        // c = R is the MBound rule.
        let levels = [6, 9, 7, 8, 6];
        let t = tail_bound(&levels, 5, 0.01).unwrap();
        let m = mbound(&levels, alpha_for_confidence(0.99, 5)).unwrap();
        assert!((t.alpha - m.alpha).abs() < 1e-9 && t.level == m.level);
        // The threshold picks the c-th largest level.
        assert_eq!(tail_bound(&[3, 9, 5, 7, 1], 2, 0.1).unwrap().level, 7);
        assert_eq!(tail_bound(&levels, 0, 0.1), None);
    }

    #[test]
    fn binomial_tail_values() {
        assert!((binomial_tail(10, 0.5, 10) - 0.5f64.powi(10)).abs() < 1e-15);
        assert!((binomial_tail(4, 0.5, 2) - 11.0 / 16.0).abs() < 1e-12);
        assert_eq!(binomial_tail(5, 0.3, 0), 1.0);
        assert_eq!(binomial_tail(5, 0.3, 6), 0.0);
    }

    /// `P[Binomial(n, p) >= c]` term by term, in the log domain (the definition).
    fn direct_tail(n: usize, p: f64, c: usize) -> f64 {
        let mut log_choose = 0.0;
        let mut total = 0.0;
        for i in 0..=n {
            if i > 0 {
                log_choose += ((n - i + 1) as f64 / i as f64).ln();
            }
            if i >= c {
                total += (log_choose + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp();
            }
        }
        total.min(1.0)
    }

    #[test]
    fn binomial_tail_matches_the_direct_sum() {
        for n in [1, 2, 7, 10, 33, 100, 1000, 5000] {
            for p in [1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1.0 - 1e-9] {
                for c in (1..=n).step_by((n / 40).max(1)).chain([n]) {
                    let (fast, direct) = (binomial_tail(n, p, c), direct_tail(n, p, c));
                    let close = (fast - direct).abs() <= 1e-9 * direct + 1e-14;
                    assert!(close, "n {n} p {p} c {c}: {fast} vs {direct}");
                }
            }
        }
    }

    #[test]
    fn tail_rule_over_a_million_trials() {
        // 2^-alpha of the trials reach the c-th largest level on average: with c = R / 2
        // and delta = 0.01, alpha is just above 1 and tends to it as R grows.
        let levels: Vec<u32> = (0..1_000_000).map(|i| (i % 20) as u32).collect();
        let b = tail_bound(&levels, 500_000, 0.01).unwrap();
        assert_eq!(b.level, 10);
        assert!(b.alpha > 1.0 && b.alpha < 1.01, "{}", b.alpha);
        assert!(b.failure <= 0.01 + 1e-12);
    }
}
