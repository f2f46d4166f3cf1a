//! Witnesses for the other side of a hyperplane found without an LP.
//!
//! At a split, the parent's witness lies on one side of the unit's hyperplane; the other
//! side needs a point with a margin from every half-space of the path. Walking from the
//! witness along the hyperplane's normal (restricted to the coordinates that can move
//! inside the box) changes every row's value linearly, so the best point on that ray is a
//! one-dimensional concave maximisation. When the parent's region reaches well across the
//! hyperplane, that point has a margin and the child needs no LP.

use mipbound_formulation::HalfSpace;

/// The point of the ray from `point` along `direction`'s normal (kept inside the box
/// `[lower, upper]`) that maximises the smallest value over `rows`, and that value, if it
/// is positive. Every row is `normal . x + offset`; the search passes the new row that the
/// witness violates most.
pub(crate) fn walk_across(
    rows: &[&HalfSpace],
    direction: &HalfSpace,
    point: &[f64],
    lower: &[f64],
    upper: &[f64],
) -> Option<(Vec<f64>, f64)> {
    // The direction: the normal where the box lets the point move that way, and how far
    // the point can go along it.
    let mut step = vec![0.0; point.len()];
    let mut reach = f64::INFINITY;
    for (j, &v) in direction.normal.iter().enumerate() {
        let room = if v > 0.0 {
            upper[j] - point[j]
        } else {
            point[j] - lower[j]
        };
        if v != 0.0 && room > 0.0 {
            step[j] = v;
            reach = reach.min(room / v.abs());
        }
    }
    if !(reach > 0.0 && reach.is_finite()) {
        return None;
    }
    // Row k along the ray: value[k] + s * slope[k].
    let lines: Vec<(f64, f64)> = rows
        .iter()
        .map(|h| (dot(&h.normal, point) + h.offset, dot(&h.normal, &step)))
        .collect();
    // The smallest line at s, and the slope of the smallest line there (the lowest slope
    // among ties): the concave minimum rises while that slope is positive.
    let lowest = |s: f64| {
        lines
            .iter()
            .fold((f64::INFINITY, f64::INFINITY), |(m, d), &(v, b)| {
                let y = v + s * b;
                if y < m || (y == m && b < d) {
                    (y, b)
                } else {
                    (m, d)
                }
            })
    };
    let (mut lo, mut hi) = (0.0, reach);
    if lowest(hi).1 >= 0.0 {
        lo = hi;
    } else {
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if lowest(mid).1 > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    let (best, value) = [lo, hi]
        .into_iter()
        .map(|s| (s, lowest(s).0))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("two candidates");
    // Each value above sums about 2n + 2 rounded terms: `a . x` and `s a . step` are each
    // at most sqrt(n) in absolute terms (unit normals; unit-box coordinates, which the step
    // keeps inside the box). For the lowest row the offset is at most that plus the value,
    // so twice the classic gamma bound covers its error. Any other row is computed above
    // the lowest by more than its own extra error (from a larger offset) once the lowest is
    // positive. The clamping of the point below moves it by rounding only.
    let n = point.len() as f64;
    let error = 4.0 * (2.0 * n + 4.0) * f64::EPSILON * (n.sqrt() + 1.0 + value.abs());
    let margin = value - error;
    if margin <= 0.0 {
        return None;
    }
    let x: Vec<f64> = point
        .iter()
        .zip(&step)
        .zip(lower.iter().zip(upper))
        .map(|((&x, &d), (&l, &h))| (x + best * d).clamp(l, h))
        .collect();
    Some((x, margin))
}

/// `a . b`, summed in four independent lanes (which the compiler can vectorise).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            lanes[k] += x[k] * y[k];
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn half(normal: &[f64], offset: f64) -> HalfSpace {
        HalfSpace {
            normal: normal.to_vec(),
            offset,
        }
    }

    #[test]
    fn the_walk_stops_where_the_smallest_row_is_largest() {
        // x > 0.2 (the parent's row) and the new row y > 0.5, from (0.5, 0.3): along y the
        // margin min(0.3, y - 0.5) is largest from y = 0.8 on, where it is 0.3.
        let old = half(&[1.0, 0.0], -0.2);
        let new = half(&[0.0, 1.0], -0.5);
        let (x, margin) =
            walk_across(&[&old, &new], &new, &[0.5, 0.3], &[0.0, 0.0], &[1.0, 1.0]).unwrap();
        assert!((margin - 0.3).abs() < 1e-12, "{margin}");
        assert_eq!(x[0], 0.5);
        assert!(x[1] >= 0.8 - 1e-12 && x[1] <= 1.0, "{x:?}");
    }

    #[test]
    fn a_row_that_closes_the_other_side_gives_no_point() {
        // y < 0.45 and y > 0.5 cannot both hold.
        let old = half(&[0.0, -1.0], 0.45);
        let new = half(&[0.0, 1.0], -0.5);
        assert_eq!(
            walk_across(&[&old, &new], &new, &[0.5, 0.3], &[0.0, 0.0], &[1.0, 1.0]),
            None
        );
    }

    #[test]
    fn coordinates_at_the_wrong_bound_do_not_move() {
        // From (1, 0.2), the normal (1, 1)/sqrt 2 can only move y: the point stays at x = 1.
        let s = 0.5f64.sqrt();
        let new = half(&[s, s], -s - 0.1);
        let (x, margin) = walk_across(&[&new], &new, &[1.0, 0.2], &[0.0, 0.0], &[1.0, 1.0])
            .expect("y can reach 1");
        assert_eq!(x[0], 1.0);
        assert!((margin - (s * (1.0 + x[1]) - s - 0.1)).abs() < 1e-12);
        assert!(margin > 0.0);
    }

    #[test]
    fn a_returned_point_is_in_the_box_with_its_margin_from_every_row() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut next = move || rng.random::<f64>();
        let (lower, upper) = ([0.0; 5], [1.0; 5]);
        let mut found = 0;
        for _ in 0..300 {
            let rows: Vec<HalfSpace> = (0..6)
                .map(|_| {
                    let v: Vec<f64> = (0..5).map(|_| next() * 2.0 - 1.0).collect();
                    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                    half(
                        &v.iter().map(|a| a / norm).collect::<Vec<_>>(),
                        0.6 * next() - 0.1,
                    )
                })
                .collect();
            let refs: Vec<&HalfSpace> = rows.iter().collect();
            let start: Vec<f64> = (0..5).map(|_| next()).collect();
            let Some((x, margin)) = walk_across(&refs, &rows[5], &start, &lower, &upper) else {
                continue;
            };
            found += 1;
            assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "{x:?}");
            for h in &rows {
                assert!(h.distance(&x) >= margin, "{} < {margin}", h.distance(&x));
            }
        }
        assert!(found > 20, "only {found} points found");
    }
}
