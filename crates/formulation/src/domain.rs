//! The input domain X: an axis-aligned box, optionally cut by linear constraints
//! `a · x <= b` (a polytope inside the box).

/// Why a box is not a valid domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Lower and upper bound lists differ in length, or do not match the input dimension.
    #[error("the box has {found} dimensions but the network has {expected} inputs")]
    Dimension {
        /// Input dimension of the network.
        expected: usize,
        /// Dimension of the box.
        found: usize,
    },
    /// A bound is NaN or infinite.
    #[error("box bound {value} in dimension {dim} is not finite")]
    NonFinite {
        /// Coordinate.
        dim: usize,
        /// The bound.
        value: f64,
    },
    /// A bound is larger in magnitude than [`MAX_BOX_MAGNITUDE`].
    #[error("box bound {value:e} in dimension {dim} is beyond the supported magnitude 1e12")]
    TooLarge {
        /// Coordinate.
        dim: usize,
        /// The bound.
        value: f64,
    },
    /// A constraint row has the wrong length.
    #[error("constraint {row} has {found} coefficients but the domain has {expected} coordinates")]
    ConstraintDimension {
        /// Row index.
        row: usize,
        /// Coordinates of the domain.
        expected: usize,
        /// Coefficients given.
        found: usize,
    },
    /// A constraint coefficient or right-hand side is NaN, infinite or beyond
    /// [`MAX_BOX_MAGNITUDE`].
    #[error(
        "constraint {row} has the value {value}, which is not a finite number of magnitude at most 1e12"
    )]
    ConstraintValue {
        /// Row index.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A constraint row is all zeros.
    #[error("constraint {row} has only zero coefficients")]
    ZeroConstraint {
        /// Row index.
        row: usize,
    },
    /// No point lies provably strictly inside every constraint: the box cut by the
    /// constraints is empty or flat (see [`Domain::check_interior`]).
    #[error("{domain} is empty or flat: no point lies strictly inside every constraint")]
    NoInterior {
        /// The domain, described.
        domain: String,
    },
    /// The LP that looks for an interior point failed.
    #[error("could not check that {domain} has interior: {reason}")]
    InteriorCheck {
        /// The domain, described.
        domain: String,
        /// The solver's complaint.
        reason: String,
    },
    /// A side of the box is empty or flat, so the box has no interior.
    #[error("box side {dim} is [{lo}, {hi}]: the lower bound must be below the upper bound")]
    Empty {
        /// Coordinate.
        dim: usize,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}

/// The largest box bound accepted, in magnitude: beyond it the LPs' numbers leave the range
/// HiGHS handles (it treats 1e20 as infinite).
pub const MAX_BOX_MAGNITUDE: f64 = 1e12;

/// One linear constraint `a · x <= b` of a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// Coefficients, one per coordinate (not all zero).
    pub a: Vec<f64>,
    /// Right-hand side.
    pub b: f64,
}

impl Constraint {
    /// `b - a · x`: non-negative inside, the slack of `x`.
    pub fn slack(&self, x: &[f64]) -> f64 {
        self.b - self.a.iter().zip(x).map(|(a, x)| a * x).sum::<f64>()
    }
}

/// A box `lo_i <= x_i <= hi_i` with non-empty interior, cut by the linear constraints
/// [`Domain::constraints`] (none for a plain box).
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    lower: Vec<f64>,
    upper: Vec<f64>,
    constraints: Vec<Constraint>,
    /// The common side length when every side is equal (the usual uniform box).
    uniform_side: Option<f64>,
    /// `sum_i max(|lo_i|, |hi_i|)`, rounded up.
    reach: f64,
}

impl Domain {
    /// The box `[lo, hi]^dim`.
    pub fn uniform(dim: usize, lo: f64, hi: f64) -> Result<Self, DomainError> {
        Self::new(vec![lo; dim], vec![hi; dim])
    }

    /// The unit box `[0, 1]^dim`, mipbound's default domain.
    pub fn unit_box(dim: usize) -> Self {
        Self::uniform(dim, 0.0, 1.0).expect("the unit box is valid")
    }

    /// A box from per-coordinate bounds.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Self, DomainError> {
        if lower.len() != upper.len() {
            return Err(DomainError::Dimension {
                expected: lower.len(),
                found: upper.len(),
            });
        }
        for (dim, (&lo, &hi)) in lower.iter().zip(&upper).enumerate() {
            for value in [lo, hi] {
                if !value.is_finite() {
                    return Err(DomainError::NonFinite { dim, value });
                }
                if value.abs() > MAX_BOX_MAGNITUDE {
                    return Err(DomainError::TooLarge { dim, value });
                }
            }
            if lo >= hi {
                return Err(DomainError::Empty { dim, lo, hi });
            }
        }
        let first = upper.first().zip(lower.first()).map(|(h, l)| h - l);
        let uniform_side =
            first.filter(|&side| lower.iter().zip(&upper).all(|(l, h)| h - l == side));
        let reach = lower.iter().zip(&upper).fold(0.0, |sum, (l, h)| {
            crate::rounding::up(sum + l.abs().max(h.abs()))
        });
        Ok(Self {
            lower,
            upper,
            constraints: Vec::new(),
            uniform_side,
            reach,
        })
    }

    /// The box cut by the constraints `a · x <= b`. Each row is checked (length, finite
    /// values, not all zero); whether the result still has interior is the caller's check
    /// (it takes an LP).
    pub fn with_constraints(mut self, constraints: Vec<Constraint>) -> Result<Self, DomainError> {
        for (row, c) in constraints.iter().enumerate() {
            if c.a.len() != self.dim() {
                return Err(DomainError::ConstraintDimension {
                    row,
                    expected: self.dim(),
                    found: c.a.len(),
                });
            }
            if let Some(&value) =
                c.a.iter()
                    .chain([&c.b])
                    .find(|v| !(v.is_finite() && v.abs() <= MAX_BOX_MAGNITUDE))
            {
                return Err(DomainError::ConstraintValue { row, value });
            }
            if c.a.iter().all(|&v| v == 0.0) {
                return Err(DomainError::ZeroConstraint { row });
            }
        }
        self.constraints = constraints;
        Ok(self)
    }

    /// Replaces the constraints by rows already checked (and describing the same set).
    pub(crate) fn set_constraints(&mut self, constraints: Vec<Constraint>) {
        self.constraints = constraints;
    }

    /// The constraints `a · x <= b` that cut the box (empty for a plain box).
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Whether `x` lies in the box and satisfies every constraint (no tolerance).
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(&self.lower)
                .zip(&self.upper)
                .all(|((v, lo), hi)| lo <= v && v <= hi)
            && self.constraints.iter().all(|c| c.slack(x) >= 0.0)
    }

    /// The same domain in unit-box coordinates `u = (x - lo) / (hi - lo)`: the unit box cut
    /// by each constraint rewritten in `u` and divided by the Euclidean norm of its
    /// coefficients there, with those norms (one per constraint). Margin LPs work on it;
    /// the exact re-decision uses the norms to turn the LP's duals into multipliers of the
    /// original rows. `None` if some constraint vanishes in `u` (underflow).
    pub fn unit_image(&self) -> Option<(Domain, Vec<f64>)> {
        let mut rows = Vec::with_capacity(self.constraints.len());
        let mut norms = Vec::with_capacity(self.constraints.len());
        for c in &self.constraints {
            // `a . x <= b` is the half-space `-a . x + b >= 0`.
            let (half, norm) = self.unit_half_space(c.a.iter().map(|v| -v), c.b, true)?;
            rows.push(Constraint {
                a: half.normal.iter().map(|v| -v).collect(),
                b: half.offset,
            });
            norms.push(norm);
        }
        let mut unit = Domain::unit_box(self.dim());
        unit.constraints = rows;
        Some((unit, norms))
    }

    /// Proves by an LP that the box cut by the constraints has non-empty interior, and
    /// returns a point strictly inside every constraint (in the closed box), as far from
    /// the constraints' hyperplanes as the LP finds (in unit-box coordinates). A plain box
    /// returns its centre. Errors when no such point can be proven (the domain is empty,
    /// flat, or thinner than rounding) or when the LP fails.
    pub fn check_interior(&self) -> Result<Vec<f64>, DomainError> {
        if self.constraints.is_empty() {
            return Ok(self.center());
        }
        let no_interior = || DomainError::NoInterior {
            domain: self.describe(),
        };
        let (unit, _) = self.unit_image().ok_or_else(no_interior)?;
        // Each constraint as a margin row over the plain unit box: the LP maximises the
        // smallest distance to the constraints' hyperplanes.
        let mut oracle = crate::DenseMarginOracle::new(&Domain::unit_box(self.dim()), 0);
        for c in unit.constraints() {
            let half = crate::HalfSpace {
                normal: c.a.iter().map(|v| -v).collect(),
                offset: c.b,
            };
            crate::MarginOracle::push(&mut oracle, &half).map_err(|e| self.check_failed(e))?;
        }
        let w = crate::MarginOracle::solve(&mut oracle).map_err(|e| self.check_failed(e))?;
        let x = self.from_unit(&w.point);
        if w.margin > 0.0 && self.proves_inside(&x, true) {
            Ok(x)
        } else {
            Err(no_interior())
        }
    }

    fn check_failed(&self, e: crate::OracleError) -> DomainError {
        DomainError::InteriorCheck {
            domain: self.describe(),
            reason: e.to_string(),
        }
    }

    /// Whether `x` provably lies in the closed box and satisfies every constraint
    /// (`strict`: with `a . x < b`), in outward-rounded arithmetic with an exact check when
    /// rounding leaves it open. False means "not proven".
    pub fn proves_inside(&self, x: &[f64], strict: bool) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(&self.lower)
                .zip(&self.upper)
                .all(|((v, lo), hi)| lo <= v && v <= hi)
            && self.constraints.iter().all(|c| {
                // The range of b - a . x at the point.
                let (lo, hi) =
                    crate::rounding::dot_range(c.b, c.a.iter().zip(x).map(|(&a, &v)| (-a, v, v)));
                if lo > 0.0 || (!strict && lo >= 0.0) {
                    return true;
                }
                if hi < 0.0 || (strict && hi <= 0.0) {
                    return false;
                }
                let slack = crate::exact::exact_slack(c, x);
                slack.is_positive() || (!strict && slack.is_zero())
            })
    }

    /// Checks that the box fits a network with `input_dim` inputs.
    pub fn check_dim(&self, input_dim: usize) -> Result<(), DomainError> {
        if self.dim() == input_dim {
            Ok(())
        } else {
            Err(DomainError::Dimension {
                expected: input_dim,
                found: self.dim(),
            })
        }
    }

    /// Number of coordinates.
    pub fn dim(&self) -> usize {
        self.lower.len()
    }

    /// Lower bounds.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// Upper bounds.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// The longest side; the scale of margins and tolerances.
    pub fn scale(&self) -> f64 {
        self.lower
            .iter()
            .zip(&self.upper)
            .map(|(lo, hi)| hi - lo)
            .fold(0.0, f64::max)
    }

    /// The centre of the box.
    pub fn center(&self) -> Vec<f64> {
        self.lower
            .iter()
            .zip(&self.upper)
            .map(|(lo, hi)| 0.5 * (lo + hi))
            .collect()
    }

    /// `sum_i max(|lo_i|, |hi_i|)` (rounded up): how far `sum_i |x_i|` can reach in the box.
    pub fn reach(&self) -> f64 {
        self.reach
    }

    /// The side lengths `hi_i - lo_i`.
    pub fn sides(&self) -> impl Iterator<Item = f64> + '_ {
        self.lower.iter().zip(&self.upper).map(|(lo, hi)| hi - lo)
    }

    /// The point `u` of the unit box that the affine map `x = lo + (hi - lo) u` sends to
    /// `x`. Margins are measured in these coordinates, so that they are scale-free per axis:
    /// a box `[0, 1e-3] x [0, 1e4]` is as easy as the unit square.
    pub fn to_unit(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(&self.lower)
            .zip(&self.upper)
            .map(|((v, lo), hi)| ((v - lo) / (hi - lo)).clamp(0.0, 1.0))
            .collect()
    }

    /// The point `x = lo + (hi - lo) u` of the box, for `u` in the unit box (clamped).
    pub fn from_unit(&self, u: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = u
            .iter()
            .zip(&self.lower)
            .zip(&self.upper)
            .map(|((v, lo), hi)| lo + (hi - lo) * v)
            .collect();
        self.clamp(&mut x);
        x
    }

    /// The half-space `sign (a · x + c) > 0` written in unit-box coordinates and normalised
    /// there, with the norm it was divided by (the Euclidean norm of `(a_i (hi_i - lo_i))`).
    /// Returns `None` if `a` is zero.
    pub fn unit_half_space(
        &self,
        a: impl IntoIterator<Item = f64>,
        c: f64,
        positive: bool,
    ) -> Option<(crate::HalfSpace, f64)> {
        let sign = if positive { 1.0 } else { -1.0 };
        let mut offset = c;
        let mut normal: Vec<f64> = a
            .into_iter()
            .zip(&self.lower)
            .zip(&self.upper)
            .map(|((ai, lo), hi)| {
                offset += ai * lo;
                ai * (hi - lo)
            })
            .collect();
        let norm = normal.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return None;
        }
        normal.iter_mut().for_each(|v| *v *= sign / norm);
        Some((
            crate::HalfSpace {
                normal,
                offset: sign * offset / norm,
            },
            norm,
        ))
    }

    /// The Euclidean norm of `(a_i (hi_i - lo_i))`: the length of the gradient of
    /// `a · x` in unit-box coordinates. `norm` is `|a|`, used when every side is equal.
    pub fn unit_norm(&self, a: impl IntoIterator<Item = f64>, norm: impl FnOnce() -> f64) -> f64 {
        match self.uniform_side {
            Some(side) => norm() * side,
            None => a
                .into_iter()
                .zip(self.sides())
                .map(|(ai, s)| (ai * s) * (ai * s))
                .sum::<f64>()
                .sqrt(),
        }
    }

    /// Moves `x` into the box (coordinate-wise clamp).
    pub fn clamp(&self, x: &mut [f64]) {
        for ((v, &lo), &hi) in x.iter_mut().zip(&self.lower).zip(&self.upper) {
            *v = v.clamp(lo, hi);
        }
    }

    /// Minimum and maximum of `a · x + c` over the box, rounded outwards (the exact range
    /// lies inside).
    pub fn range(&self, a: impl IntoIterator<Item = f64>, c: f64) -> (f64, f64) {
        crate::rounding::affine_range(a, c, &self.lower, &self.upper)
    }

    /// A short description: `[0, 1]^784` for uniform boxes, with the number of constraints
    /// that cut it.
    pub fn describe(&self) -> String {
        let uniform = self.lower.iter().all(|&v| v == self.lower[0])
            && self.upper.iter().all(|&v| v == self.upper[0]);
        let cube = if uniform && self.dim() > 0 {
            format!("[{}, {}]^{}", self.lower[0], self.upper[0], self.dim())
        } else {
            format!("box with {} sides", self.dim())
        };
        match self.constraints.len() {
            0 => cube,
            1 => format!("{cube} cut by 1 constraint"),
            n => format!("{cube} cut by {n} constraints"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_flat_and_nan_boxes() {
        assert_eq!(
            Domain::uniform(2, 1.0, 1.0).unwrap_err().to_string(),
            "box side 0 is [1, 1]: the lower bound must be below the upper bound"
        );
        assert!(matches!(
            Domain::uniform(1, f64::NAN, 1.0),
            Err(DomainError::NonFinite { .. })
        ));
    }

    fn cut(dim: usize, rows: &[(&[f64], f64)]) -> Result<Domain, DomainError> {
        Domain::unit_box(dim).with_constraints(
            rows.iter()
                .map(|(a, b)| Constraint {
                    a: a.to_vec(),
                    b: *b,
                })
                .collect(),
        )
    }

    #[test]
    fn interior_of_a_triangle_and_refusal_of_empty_and_flat_cuts() {
        // x + y <= 1/2: a triangle in the corner; the point found is strictly inside.
        let triangle = cut(2, &[(&[1.0, 1.0], 0.5)]).unwrap();
        let x = triangle.check_interior().unwrap();
        assert!(x[0] + x[1] < 0.5 && triangle.contains(&x), "{x:?}");
        assert!(triangle.proves_inside(&x, true));
        // x + y <= -1: empty. x <= 1/2 and x >= 1/2: flat.
        for rows in [
            vec![(&[1.0, 1.0][..], -1.0)],
            vec![(&[1.0, 0.0][..], 0.5), (&[-1.0, 0.0][..], -0.5)],
        ] {
            let d = cut(2, &rows).unwrap();
            let e = d.check_interior().unwrap_err();
            assert!(matches!(e, DomainError::NoInterior { .. }), "{e}");
            let message = e.to_string();
            assert!(message.contains("empty or flat") && !message.contains('\n'));
        }
        assert_eq!(
            cut(2, &[(&[1.0, 0.0], 0.5), (&[-1.0, 0.0], -0.5)])
                .unwrap()
                .check_interior()
                .unwrap_err()
                .to_string(),
            "[0, 1]^2 cut by 2 constraints is empty or flat: no point lies strictly inside \
             every constraint"
        );
        // A plain box: its centre.
        assert_eq!(
            Domain::unit_box(2).check_interior().unwrap(),
            vec![0.5, 0.5]
        );
    }

    #[test]
    fn unit_image_rescales_rows() {
        // 2 x <= 3 on [1, 3] x [0, 10]: in u, 2 (1 + 2 u0) <= 3, i.e. 4 u0 <= 1, normalised
        // to u0 <= 1/4 with norm 4.
        let d = Domain::new(vec![1.0, 0.0], vec![3.0, 10.0])
            .unwrap()
            .with_constraints(vec![Constraint {
                a: vec![2.0, 0.0],
                b: 3.0,
            }])
            .unwrap();
        let (unit, norms) = d.unit_image().unwrap();
        assert_eq!(norms, vec![4.0]);
        assert_eq!(unit.constraints()[0].a, vec![1.0, 0.0]);
        assert_eq!(unit.constraints()[0].b, 0.25);
        assert!(d.proves_inside(&[1.5, 7.0], false) && !d.proves_inside(&[1.6, 7.0], false));
        assert!(d.proves_inside(&[1.5, 7.0], false) && !d.proves_inside(&[1.5, 7.0], true));
    }

    #[test]
    fn range_of_affine_function() {
        let d = Domain::new(vec![0.0, -1.0], vec![1.0, 2.0]).unwrap();
        let (lo, hi) = d.range([2.0, -1.0], 0.5);
        assert!(lo <= -1.5 && lo > -1.5 - 1e-12, "{lo}");
        assert!((3.5..3.5 + 1e-12).contains(&hi), "{hi}");
        assert_eq!(d.describe(), "box with 2 sides");
        assert_eq!(Domain::unit_box(3).describe(), "[0, 1]^3");
    }
}
