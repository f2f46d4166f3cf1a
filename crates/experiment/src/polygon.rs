//! Convex polygons in the plane, cut by half-planes (Sutherland-Hodgman) in `f64`.
//!
//! The region maps ([`crate::map`]) are built from these: every region is its domain polygon
//! cut by the half-planes of its pieces.

/// A point `(u, v)`.
pub type Point = [f64; 2];

/// The closed half-plane `a . p + c >= 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalfPlane {
    /// Normal (pointing inside).
    pub a: [f64; 2],
    /// Constant.
    pub c: f64,
}

impl HalfPlane {
    /// `a . p + c`: non-negative inside.
    pub fn value(&self, p: Point) -> f64 {
        self.a[0] * p[0] + self.a[1] * p[1] + self.c
    }

    /// The opposite closed half-plane `a . p + c <= 0`.
    pub fn flipped(&self) -> Self {
        Self {
            a: [-self.a[0], -self.a[1]],
            c: -self.c,
        }
    }
}

/// The rectangle `[lo_0, hi_0] x [lo_1, hi_1]`, counter-clockwise from `lo`.
pub fn rectangle(lo: Point, hi: Point) -> Vec<Point> {
    vec![lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]]
}

/// The part of the convex polygon `poly` inside `h` (vertices in the same orientation);
/// empty when fewer than three vertices remain.
pub fn clip(poly: &[Point], h: &HalfPlane) -> Vec<Point> {
    let mut out = Vec::with_capacity(poly.len() + 1);
    for (i, &p) in poly.iter().enumerate() {
        let q = poly[(i + 1) % poly.len()];
        let (fp, fq) = (h.value(p), h.value(q));
        if fp >= 0.0 {
            out.push(p);
        }
        // A crossing strictly between the two vertices: a vertex on the line is kept above
        // and never duplicated here.
        if (fp > 0.0 && fq < 0.0) || (fp < 0.0 && fq > 0.0) {
            let t = fp / (fp - fq);
            out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
    }
    out.dedup();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    if out.len() < 3 {
        out.clear();
    }
    out
}

/// The area (shoelace formula, orientation ignored).
pub fn area(poly: &[Point]) -> f64 {
    signed_area(poly).abs()
}

/// The centroid of the polygon's area (the vertex mean for a degenerate one).
pub fn centroid(poly: &[Point]) -> Point {
    let n = poly.len();
    if n == 0 {
        return [f64::NAN, f64::NAN];
    }
    // Relative to the first vertex, to keep the cross products small.
    let o = poly[0];
    let (mut twice, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 1..n.saturating_sub(1) {
        let p = [poly[i][0] - o[0], poly[i][1] - o[1]];
        let q = [poly[i + 1][0] - o[0], poly[i + 1][1] - o[1]];
        let cross = p[0] * q[1] - q[0] * p[1];
        twice += cross;
        cx += cross * (p[0] + q[0]);
        cy += cross * (p[1] + q[1]);
    }
    if twice == 0.0 {
        let (sx, sy) = poly
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        return [sx / n as f64, sy / n as f64];
    }
    [o[0] + cx / (3.0 * twice), o[1] + cy / (3.0 * twice)]
}

/// Whether `p` lies in the convex polygon, up to `tolerance` (a distance) outside its edges.
pub fn contains(poly: &[Point], p: Point, tolerance: f64) -> bool {
    if poly.len() < 3 {
        return false;
    }
    let sign = if signed_area(poly) >= 0.0 { 1.0 } else { -1.0 };
    (0..poly.len()).all(|i| {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let edge = [b[0] - a[0], b[1] - a[1]];
        let length = edge[0].hypot(edge[1]);
        if length == 0.0 {
            return true;
        }
        let cross = edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0]);
        sign * cross / length >= -tolerance
    })
}

/// The signed area (positive counter-clockwise), summed over the fan from the first vertex:
/// relative coordinates keep a thin polygon's area from vanishing in the cancellation of
/// large products.
fn signed_area(poly: &[Point]) -> f64 {
    let Some(&o) = poly.first() else {
        return 0.0;
    };
    let mut twice = 0.0;
    for w in poly[1..].windows(2) {
        let (p, q) = (
            [w[0][0] - o[0], w[0][1] - o[1]],
            [w[1][0] - o[0], w[1][1] - o[1]],
        );
        twice += p[0] * q[1] - q[0] * p[1];
    }
    0.5 * twice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagonal_cut_halves_the_unit_square() {
        let square = rectangle([0.0, 0.0], [1.0, 1.0]);
        // x + y <= 1.
        let h = HalfPlane {
            a: [-1.0, -1.0],
            c: 1.0,
        };
        let lower = clip(&square, &h);
        let upper = clip(&square, &h.flipped());
        assert_eq!(lower.len(), 3);
        assert_eq!(upper.len(), 3);
        assert!((area(&lower) - 0.5).abs() < 1e-15);
        assert!((area(&upper) - 0.5).abs() < 1e-15);
        let c = centroid(&lower);
        assert!((c[0] - 1.0 / 3.0).abs() < 1e-15 && (c[1] - 1.0 / 3.0).abs() < 1e-15);
        assert!(contains(&lower, c, 0.0));
        assert!(!contains(&lower, [0.9, 0.9], 1e-9));
    }

    #[test]
    fn cuts_missing_or_touching_the_polygon() {
        let square = rectangle([0.0, 0.0], [2.0, 1.0]);
        let outside = HalfPlane {
            a: [1.0, 0.0],
            c: -3.0,
        };
        assert!(clip(&square, &outside).is_empty());
        assert_eq!(clip(&square, &outside.flipped()), square);
        // x <= 0 touches one edge only: nothing with area is left.
        let edge = HalfPlane {
            a: [-1.0, 0.0],
            c: 0.0,
        };
        assert!(clip(&square, &edge).is_empty());
        assert_eq!(area(&square), 2.0);
        assert_eq!(centroid(&square), [1.0, 0.5]);
    }
}
