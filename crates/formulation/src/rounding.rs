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

/// Encloses `c + sum_i a_i [lo_i, hi_i]`: the range of an affine function over a box.
pub fn affine_range(
    a: impl IntoIterator<Item = f64>,
    c: f64,
    lower: &[f64],
    upper: &[f64],
) -> (f64, f64) {
    dot_range(
        c,
        a.into_iter()
            .zip(lower.iter().zip(upper))
            .map(|(ai, (&l, &u))| (ai, l, u)),
    )
}

/// Encloses `c + sum_i a_i [lo_i, hi_i]` for terms `(a_i, lo_i, hi_i)`: one weighted sum of
/// intervals, as interval propagation, box ranges and enclosures at a point all need.
///
/// Computed in plain floating point, then widened by the a-priori bound on the rounding
/// error of a sum of `n` rounded products (Higham, *Accuracy and Stability of Numerical
/// Algorithms*, 3.1): at most `gamma_{n+1} sum |terms|`, `gamma_k = k u / (1 - k u)`, plus
/// one smallest subnormal per term for underflow. This is as rigorous as rounding every
/// operation outwards and several times faster on long rows. Zero weights are skipped (a
/// zero times an infinite end is no term).
pub fn dot_range(c: f64, terms: impl IntoIterator<Item = (f64, f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi, mut magnitude) = (c, c, c.abs());
    let mut count = 1usize;
    for (a, l, u) in terms {
        if a == 0.0 {
            continue;
        }
        let (p, q) = (a * l, a * u);
        lo += p.min(q);
        hi += p.max(q);
        magnitude += p.abs().max(q.abs());
        count += 1;
    }
    let error = sum_error_bound(count, magnitude);
    (down(lo - error), up(hi + error))
}

/// Encloses `c + a . x` at a point `x`: [`dot_range`] with every interval a single point,
/// summed in four lanes (which the compiler can vectorise). The error bound holds for any
/// order of summation, since no term takes part in more than `n` additions.
pub fn point_dot_range(c: f64, a: &[f64], x: &[f64]) -> (f64, f64) {
    debug_assert_eq!(a.len(), x.len());
    let (mut sum, mut magnitude) = ([0.0; 4], [0.0; 4]);
    let (a4, x4) = (a.chunks_exact(4), x.chunks_exact(4));
    let (a_tail, x_tail) = (a4.remainder(), x4.remainder());
    for (p, q) in a4.zip(x4) {
        for k in 0..4 {
            let term = p[k] * q[k];
            sum[k] += term;
            magnitude[k] += term.abs();
        }
    }
    let mut value = c + ((sum[0] + sum[1]) + (sum[2] + sum[3]));
    let mut size = c.abs() + ((magnitude[0] + magnitude[1]) + (magnitude[2] + magnitude[3]));
    for (p, q) in a_tail.iter().zip(x_tail) {
        value += p * q;
        size += (p * q).abs();
    }
    let error = sum_error_bound(a.len() + 1, size);
    (down(value - error), up(value + error))
}

/// An upper bound on the total rounding error of a floating-point sum of `terms` rounded
/// products whose absolute values add up to `magnitude` (itself computed in floating
/// point): `2 (terms + 1) eps * magnitude`, padded, plus underflow.
pub fn sum_error_bound(terms: usize, magnitude: f64) -> f64 {
    let k = terms as f64 + 1.0;
    // 2 k u / (1 - k u) <= 2.01 k u for k u < 1e-3; eps = 2u. The extra factor covers the
    // rounding of `magnitude` itself.
    let gamma = 1.01 * k * f64::EPSILON;
    up(gamma * magnitude * (1.0 + gamma) + k * f64::from_bits(1))
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
    fn point_dot_ranges_enclose_cancelling_sums() {
        // Exact value 1 + 3 = 4 for every arrangement of the cancelling pair, in lanes or
        // in the tail, with a constant that cancels too.
        for shift in 0..6 {
            let mut a = vec![0.0; 9];
            let mut x = vec![1.0; 9];
            a[shift] = 1e16;
            a[shift + 1] = 1.0;
            a[shift + 3] = -1e16;
            x[shift + 1] = 3.0;
            let (lo, hi) = point_dot_range(1.0, &a, &x);
            assert!(lo <= 4.0 && 4.0 <= hi, "{lo} {hi} at {shift}");
            let (dlo, dhi) = dot_range(1.0, a.iter().zip(&x).map(|(&w, &v)| (w, v, v)));
            assert!(dlo <= 4.0 && 4.0 <= dhi);
            // Both bounds are of the size of the cancelled terms' rounding, not more.
            assert!(hi - lo < 1e4 && dhi - dlo < 1e4, "{lo} {hi}");
        }
    }

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
