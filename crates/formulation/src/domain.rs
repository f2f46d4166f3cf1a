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
