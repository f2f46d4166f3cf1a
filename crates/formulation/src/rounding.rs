//! Outward-rounded arithmetic: every result encloses the exact real value.
//!
//! Each operation is computed rounded to nearest and then moved one ulp outwards
//! (`next_down` / `next_up`). Round-to-nearest is within half an ulp of the exact result,
//! so one ulp outwards always encloses it; this needs no change of the FPU rounding mode.
//! A result that overflows becomes infinite on the outer side, which stays valid.

/// A value rounded down past any rounding error of the operation that produced it.
pub fn down(v: f64) -> f64 {
    if v.is_nan() {
        f64::NEG_INFINITY
    } else {
        v.next_down()
    }
}

/// A value rounded up past any rounding error of the operation that produced it.
pub fn up(v: f64) -> f64 {
    if v.is_nan() {
        f64::INFINITY
    } else {
        v.next_up()
    }
}

/// Lower end of `a * [lo, hi]` (a scalar times an interval).
pub fn mul_lo(a: f64, lo: f64, hi: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else if a > 0.0 {
        down(a * lo)
    } else {
        down(a * hi)
    }
}

/// Upper end of `a * [lo, hi]`.
pub fn mul_hi(a: f64, lo: f64, hi: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else if a > 0.0 {
        up(a * hi)
    } else {
        up(a * lo)
    }
}

/// Upper end of the product of two intervals `[a_lo, a_hi] * [b_lo, b_hi]`.
pub fn interval_mul_hi(a_lo: f64, a_hi: f64, b_lo: f64, b_hi: f64) -> f64 {
    [a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi]
        .into_iter()
        .map(|p| if p.is_nan() { 0.0 } else { p })
        .fold(f64::NEG_INFINITY, f64::max)
        .next_up()
}

/// Encloses `c + sum_i a_i [lo_i, hi_i]`: the range of an affine function over a box,
/// rounded outwards.
pub fn affine_range(
    a: impl IntoIterator<Item = f64>,
    c: f64,
    lower: &[f64],
    upper: &[f64],
) -> (f64, f64) {
    let (mut lo, mut hi) = (c, c);
    for ((ai, &l), &u) in a.into_iter().zip(lower).zip(upper) {
        lo = down(lo + mul_lo(ai, l, u));
        hi = up(hi + mul_hi(ai, l, u));
    }
    (lo, hi)
}

/// Widens a value computed with a few rounded operations (an activation's output, a hull
/// line's intercept) by a margin that covers their rounding: 8 ulps of `scale` plus the
/// smallest normal number.
pub fn widen_down(v: f64, scale: f64) -> f64 {
    down(v - 8.0 * f64::EPSILON * scale.abs() - f64::MIN_POSITIVE)
}

/// See [`widen_down`].
pub fn widen_up(v: f64, scale: f64) -> f64 {
    up(v + 8.0 * f64::EPSILON * scale.abs() + f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_enclose_the_exact_value() {
        // 0.1 + 0.2 rounds to 0.30000000000000004 > 0.3 exactly; the enclosure holds both.
        let (lo, hi) = affine_range([1.0, 1.0], 0.0, &[0.1, 0.2], &[0.1, 0.2]);
        assert!(lo < 0.1 + 0.2 && hi >= 0.1 + 0.2);
        assert!(lo <= 0.3 && 0.3 <= hi);
        // Cancellation: 1e16 + 1 - 1e16 is 0 in floating point but 1 exactly.
        let (lo, hi) = affine_range(
            [1.0, 1.0, -1.0],
            0.0,
            &[1e16, 1.0, 1e16],
            &[1e16, 1.0, 1e16],
        );
        assert!(lo <= 1.0 && 1.0 <= hi, "[{lo}, {hi}]");
    }

    #[test]
    fn products_of_intervals() {
        assert!(interval_mul_hi(-2.0, 3.0, -5.0, 1.0) >= 10.0);
        assert_eq!(mul_lo(-2.0, 1.0, 3.0), down(-6.0));
        assert_eq!(mul_hi(0.0, f64::NEG_INFINITY, 1.0), 0.0);
        assert_eq!(down(f64::NAN), f64::NEG_INFINITY);
    }
}
