//! Exact arithmetic for the verdicts a floating-point LP cannot be trusted with.
//!
//! A margin LP whose optimum lies in a thin band around zero is decided again here, on the
//! network as loaded: every `f64` weight is an exact dyadic rational, and so is every
//! affine form of a pattern (sums and products of dyadics, [`ExactForms`]). The question is
//! whether the open polyhedron `{x in X : a_u . x + c_u > 0 for every row u}` is non-empty:
//! - **yes**, proven by a point where every row is positive in exact arithmetic: the LP's
//!   witness, or the exact solution of the LP's final basis;
//! - **no**, proven by multipliers `y >= 0` (not all zero) with
//!   `max over X of sum_u y_u (a_u . x + c_u) <= 0` (Farkas): the LP's duals, or the exact
//!   duals of its final basis, which also settle patterns of exactly zero volume.
//!
//! If neither proof succeeds the verdict stays undecided and the caller must say so.
//!
//! Everything is computed in dyadic arithmetic (big-integer mantissas, power-of-two
//! exponents) and the basis is solved by fraction-free elimination, so no step needs a
//! greatest common divisor.

use mipbound_network::{Layer, PostAffine};

use crate::domain::{Constraint, Domain};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};

/// An exact dyadic rational `mant * 2^exp` (not normalised: equal values may have different
/// representations; equality compares values).
#[derive(Debug, Clone)]
pub struct Dyadic {
    mant: BigInt,
    exp: i64,
}

impl Dyadic {
    /// Zero.
    pub fn zero() -> Self {
        Self {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    /// The exact value of a finite `f64` (non-finite values map to zero; every parameter
    /// is checked finite when a network is loaded).
    pub fn from_f64(v: f64) -> Self {
        if !v.is_finite() || v == 0.0 {
            return Self::zero();
        }
        let bits = v.to_bits();
        let exp_bits = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if exp_bits == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_bits - 1075)
        };
        let tz = m.trailing_zeros();
        let mut mant = BigInt::from(m >> tz);
        if v < 0.0 {
            mant = -mant;
        }
        Self {
            mant,
            exp: e + i64::from(tz),
        }
    }

    /// The sum.
    pub fn add(&self, other: &Self) -> Self {
        if self.mant.is_zero() {
            return other.clone();
        }
        if other.mant.is_zero() {
            return self.clone();
        }
        // Not normalised: stripping trailing zeros after every sum costs more than the
        // few extra bits it saves.
        let exp = self.exp.min(other.exp);
        let mant = if self.exp == exp {
            &self.mant + (&other.mant << (other.exp - exp) as usize)
        } else {
            (&self.mant << (self.exp - exp) as usize) + &other.mant
        };
        Self { mant, exp }
    }

    /// The product.
    pub fn mul(&self, other: &Self) -> Self {
        if self.mant.is_zero() || other.mant.is_zero() {
            return Self::zero();
        }
        Self {
            mant: &self.mant * &other.mant,
            exp: self.exp + other.exp,
        }
    }

    /// The product with an `f64`.
    pub fn mul_f64(&self, v: f64) -> Self {
        self.mul(&Self::from_f64(v))
    }

    /// Returns true if and only if the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    /// Returns true if and only if the value is `> 0`.
    pub fn is_positive(&self) -> bool {
        self.mant.is_positive()
    }

    /// The nearest `f64` within 2 ulps (the mantissa is cut to 64 bits, then rounded):
    /// within `2^-51` of the value relative to it, or infinite/zero beyond `f64`'s range.
    pub fn to_f64(&self) -> f64 {
        use num_traits::ToPrimitive;
        if self.mant.is_zero() {
            return 0.0;
        }
        let bits = self.mant.bits() as i64;
        let (mant, exp) = if bits > 64 {
            (&self.mant >> (bits - 64) as usize, self.exp + bits - 64)
        } else {
            (self.mant.clone(), self.exp)
        };
        let m = mant.to_f64().unwrap_or(0.0);
        // Scale in steps that stay exact within the exponent range.
        let mut value = m;
        let mut e = exp;
        while e > 0 {
            let step = e.min(1000);
            value *= f64::powi(2.0, step as i32);
            e -= step;
        }
        while e < 0 {
            let step = (-e).min(1000);
            value *= f64::powi(2.0, -(step as i32));
            e += step;
        }
        value
    }

    /// An integer.
    pub fn from_int(mant: BigInt) -> Self {
        Self { mant, exp: 0 }
    }

    /// Returns true if and only if the value is `< 0`.
    pub fn is_negative(&self) -> bool {
        self.mant.is_negative()
    }
}

impl PartialEq for Dyadic {
    fn eq(&self, other: &Self) -> bool {
        self.add(&other.mul_f64(-1.0)).is_zero()
    }
}

impl Eq for Dyadic {}

/// The pre-activations of one hidden layer as exact affine functions of the input on the
/// region of a pattern (the exact counterpart of [`crate::LayerForms`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactForms {
    /// One row `a` per pre-activation row, `n0` entries each.
    pub coeffs: Vec<Vec<Dyadic>>,
    /// One constant `c` per row.
    pub constants: Vec<Dyadic>,
}

impl ExactForms {
    /// The first hidden layer: its weights and bias.
    pub fn first(layer: &Layer) -> Self {
        Self {
            coeffs: layer
                .weights
                .rows()
                .into_iter()
                .map(|row| row.iter().map(|&w| Dyadic::from_f64(w)).collect())
                .collect(),
            constants: layer.bias.iter().map(|&b| Dyadic::from_f64(b)).collect(),
        }
    }

    /// The next layer's forms given this layer's (`rank` rows per unit) and each unit's
    /// output on its option, as in [`crate::LayerForms::next`].
    pub fn next(&self, layer: &Layer, rank: usize, post: impl Fn(usize) -> PostAffine) -> Self {
        let n0 = self.coeffs.first().map_or(0, Vec::len);
        let units = self.coeffs.len() / rank.max(1);
        // Each unit's output `h_u = slope * (a . x + c)[row] + offset` as an exact form.
        let outputs: Vec<(Option<Vec<Dyadic>>, Dyadic)> = (0..units)
            .map(|u| {
                let p = post(u);
                let row = u * rank + p.row;
                let constant = self.constants[row]
                    .mul_f64(p.slope)
                    .add(&Dyadic::from_f64(p.offset));
                let coeffs = (p.slope != 0.0).then(|| {
                    self.coeffs[row]
                        .iter()
                        .map(|a| a.mul_f64(p.slope))
                        .collect()
                });
                (coeffs, constant)
            })
            .collect();
        let mut coeffs = Vec::with_capacity(layer.rows());
        let mut constants = Vec::with_capacity(layer.rows());
        for (weights, &bias) in layer.weights.rows().into_iter().zip(&layer.bias) {
            let mut a = vec![Dyadic::zero(); n0];
            let mut c = Dyadic::from_f64(bias);
            for (&w, (h, hc)) in weights.iter().zip(&outputs) {
                if w == 0.0 {
                    continue;
                }
                let w = Dyadic::from_f64(w);
                c = c.add(&w.mul(hc));
                if let Some(h) = h {
                    for (ai, hi) in a.iter_mut().zip(h) {
                        if !hi.is_zero() {
                            *ai = ai.add(&w.mul(hi));
                        }
                    }
                }
            }
            coeffs.push(a);
            constants.push(c);
        }
        Self { coeffs, constants }
    }
}

/// One strict inequality `a . x + c > 0`, exact.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactRow {
    /// Coefficients, one per input.
    pub a: Vec<Dyadic>,
    /// Constant.
    pub c: Dyadic,
}

impl ExactRow {
    /// `sign * (form - level)`: the side `form > level` (`positive`) or `form < level`.
    pub fn side(a: &[Dyadic], c: &Dyadic, level: f64, positive: bool) -> Self {
        let c = c.add(&Dyadic::from_f64(-level));
        if positive {
            Self { a: a.to_vec(), c }
        } else {
            Self {
                a: a.iter().map(|v| v.mul_f64(-1.0)).collect(),
                c: c.mul_f64(-1.0),
            }
        }
    }

    /// `form_j - form_m > 0`.
    pub fn difference(aj: &[Dyadic], cj: &Dyadic, am: &[Dyadic], cm: &Dyadic) -> Self {
        Self {
            a: aj
                .iter()
                .zip(am)
                .map(|(p, q)| p.add(&q.mul_f64(-1.0)))
                .collect(),
            c: cj.add(&cm.mul_f64(-1.0)),
        }
    }

    /// Exact value at a floating-point point.
    pub fn value(&self, x: &[f64]) -> Dyadic {
        self.a
            .iter()
            .zip(x)
            .filter(|(a, _)| !a.is_zero())
            .fold(self.c.clone(), |acc, (a, &xi)| acc.add(&a.mul_f64(xi)))
    }
}

/// What a floating-point LP solve left behind that an exact proof can start from: its
/// final basis and duals, over the LP's rows in order: the domain's constraints first (see
/// [`ExactDomain`]), then the rows in the order they were pushed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LpCertificate {
    /// One dual value per row (either sign convention; both are tried).
    pub duals: Vec<f64>,
    /// Rows whose slack is nonbasic (at its bound): tight at the basic solution.
    pub tight_rows: Vec<usize>,
    /// Input coordinates that are basic (strictly inside their bounds).
    pub basic_cols: Vec<usize>,
    /// For each input coordinate: nonbasic at its upper bound.
    pub at_upper: Vec<bool>,
}

/// The exact verdict on an open polyhedron.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactVerdict {
    /// Some point of the domain satisfies every row strictly: non-empty interior.
    Interior,
    /// No point does (proven by a Farkas certificate): empty interior.
    Empty,
    /// Neither could be proven.
    Undecided,
}

/// The domain of an exact re-decision: a box and the closed rows `b - a . x >= 0` of a
/// [`Domain`]'s constraints, exact, each with the norm its margin-LP row was divided by
/// ([`Domain::unit_image`]). Its rows take part in both proofs: a point must satisfy them,
/// and an emptiness certificate may use them with any non-negative multiplier.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactDomain {
    lower: Vec<f64>,
    upper: Vec<f64>,
    rows: Vec<ExactRow>,
    weights: Vec<f64>,
}

impl ExactDomain {
    /// The exact form of `domain`; `None` if its unit image does not exist.
    pub fn new(domain: &Domain) -> Option<Self> {
        let (_, weights) = domain.unit_image()?;
        Some(Self {
            lower: domain.lower().to_vec(),
            upper: domain.upper().to_vec(),
            rows: domain.constraints().iter().map(constraint_row).collect(),
            weights,
        })
    }

    /// A plain box.
    pub fn from_box(lower: &[f64], upper: &[f64]) -> Self {
        Self {
            lower: lower.to_vec(),
            upper: upper.to_vec(),
            rows: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Number of constraint rows.
    pub fn constraints(&self) -> usize {
        self.rows.len()
    }
}

/// `b - a . x` as an exact row.
fn constraint_row(c: &Constraint) -> ExactRow {
    ExactRow {
        a: c.a.iter().map(|&v| Dyadic::from_f64(-v)).collect(),
        c: Dyadic::from_f64(c.b),
    }
}

/// `b - a . x` at a floating-point point, exactly.
pub(crate) fn exact_slack(c: &Constraint, x: &[f64]) -> Dyadic {
    constraint_row(c).value(x)
}

/// The rows of one decision as the LP saw them: the domain's closed rows (margin
/// coefficient 0), then the strict rows (margin coefficient `weights[u]`).
struct System<'a> {
    domain: &'a ExactDomain,
    strict: &'a [ExactRow],
    weights: &'a [f64],
}

impl System<'_> {
    /// Rows the LP saw.
    fn lp_rows(&self) -> usize {
        self.domain.rows.len() + self.weights.len()
    }

    /// Every row, LP order, then the strict rows the LP did not see.
    fn row(&self, u: usize) -> &ExactRow {
        let d = self.domain.rows.len();
        if u < d {
            &self.domain.rows[u]
        } else {
            &self.strict[u - d]
        }
    }

    fn len(&self) -> usize {
        self.domain.rows.len() + self.strict.len()
    }

    fn is_strict(&self, u: usize) -> bool {
        u >= self.domain.rows.len()
    }

    /// The coefficient of the margin `t` in LP row `u` (`row_u(x) - coef t >= 0`).
    fn margin_coef(&self, u: usize) -> f64 {
        if self.is_strict(u) {
            self.weights[u - self.domain.rows.len()]
        } else {
            0.0
        }
    }

    /// The norm LP row `u` was divided by.
    fn norm(&self, u: usize) -> f64 {
        let d = self.domain.rows.len();
        if u < d {
            self.domain.weights[u]
        } else {
            self.weights[u - d]
        }
    }

    /// Whether every strict row is positive and every closed row non-negative at `x`,
    /// inside the box.
    fn contains(&self, x: &[f64]) -> bool {
        let (lower, upper) = (&self.domain.lower, &self.domain.upper);
        x.iter()
            .zip(lower.iter().zip(upper))
            .all(|(v, (lo, hi))| lo <= v && v <= hi)
            && (0..self.len()).all(|u| {
                let v = self.row(u).value(x);
                v.is_positive() || (!self.is_strict(u) && v.is_zero())
            })
    }

    /// Whether multipliers `y` (LP order, non-negative, some strict one positive) prove
    /// emptiness: `max over the box of sum_u y_u row_u(x) <= 0`.
    fn refutes(&self, y: &[Dyadic]) -> bool {
        y.iter()
            .enumerate()
            .any(|(u, v)| self.is_strict(u) && v.is_positive())
            && !self.farkas_sup(y).is_positive()
    }

    /// `max over the box of sum_u y_u row_u(x)`, exactly (`y` may be shorter than the rows).
    fn farkas_sup(&self, y: &[Dyadic]) -> Dyadic {
        let (lower, upper) = (&self.domain.lower, &self.domain.upper);
        let mut r = vec![Dyadic::zero(); lower.len()];
        let mut total = Dyadic::zero();
        for (u, yu) in y.iter().enumerate() {
            if yu.is_zero() {
                continue;
            }
            let row = self.row(u);
            total = total.add(&yu.mul(&row.c));
            for (ri, a) in r.iter_mut().zip(&row.a) {
                if !a.is_zero() {
                    *ri = ri.add(&yu.mul(a));
                }
            }
        }
        for (i, ri) in r.iter().enumerate() {
            let bound = if ri.is_positive() { upper[i] } else { lower[i] };
            if !ri.is_zero() {
                total = total.add(&ri.mul_f64(bound));
            }
        }
        total
    }
}

/// Decides exactly whether `{x in domain : row(x) > 0 for every row}` is non-empty (then,
/// the domain being convex with interior, the set has interior in it).
///
/// `weights[u] > 0` are the row scalings of the LP that was solved (its margin constraint
/// was `row_u(x) >= weights[u] t`; the domain's rows had no margin), `witness` its optimal
/// point and `certificate` its final basis over the domain's rows then `rows`, `margin`
/// its optimum (it only orders the attempts); rows after `weights.len()` are extra rows the
/// LP did not see (checked at points, given zero multipliers).
pub fn decide(
    rows: &[ExactRow],
    weights: &[f64],
    domain: &ExactDomain,
    witness: &[f64],
    margin: f64,
    certificate: Option<&LpCertificate>,
) -> ExactVerdict {
    let system = System {
        domain,
        strict: rows,
        weights,
    };
    if system.contains(witness) {
        return ExactVerdict::Interior;
    }
    let Some(cert) = certificate else {
        return ExactVerdict::Undecided;
    };
    for sign in [1.0, -1.0] {
        let multipliers: Vec<Dyadic> = (0..system.lp_rows())
            .map(|u| {
                let y = sign * cert.duals.get(u).copied().unwrap_or(0.0) / system.norm(u);
                if y > 0.0 && y.is_finite() {
                    Dyadic::from_f64(y)
                } else {
                    Dyadic::zero()
                }
            })
            .collect();
        if system.refutes(&multipliers) {
            return ExactVerdict::Empty;
        }
    }
    let Some(basis) = Basis::new(&system, cert) else {
        return ExactVerdict::Undecided;
    };
    let interior = || basis.point_is_interior(&system) == Some(true);
    let empty = || {
        basis
            .duals(system.lp_rows())
            .is_some_and(|y| system.refutes(&y))
    };
    // Try first the proof the LP's margin points to: each costs one exact solve.
    let verdict = if margin > 0.0 {
        (interior(), false)
    } else {
        (false, empty())
    };
    match verdict {
        (true, _) => ExactVerdict::Interior,
        (_, true) => ExactVerdict::Empty,
        _ if margin > 0.0 && empty() => ExactVerdict::Empty,
        _ if margin <= 0.0 && interior() => ExactVerdict::Interior,
        _ => ExactVerdict::Undecided,
    }
}

/// The LP's final basis as an exact square system: for each tight row `u`,
/// `sum_{i free} a_ui x_i - w_u t = -(c_u + sum_{i fixed} a_ui b_i)` (`w_u = 0` for the
/// domain's rows), nonbasic coordinates at their bounds `b_i`.
struct Basis<'a> {
    tight: &'a [usize],
    free: &'a [usize],
    /// Each row's value with the free coordinates at zero.
    fixed_values: Vec<Dyadic>,
    m: Vec<Vec<Dyadic>>,
}

impl<'a> Basis<'a> {
    fn new(system: &System<'_>, cert: &'a LpCertificate) -> Option<Self> {
        let (lower, upper) = (&system.domain.lower, &system.domain.upper);
        let (tight, free) = (cert.tight_rows.as_slice(), cert.basic_cols.as_slice());
        let n = lower.len();
        if tight.is_empty()
            || tight.len() != free.len() + 1
            || tight.iter().any(|&u| u >= system.lp_rows())
            || free.iter().any(|&i| i >= n)
        {
            return None;
        }
        let mut is_free = vec![false; n];
        free.iter().for_each(|&i| is_free[i] = true);
        let fixed_values = (0..system.len())
            .map(|u| {
                let row = system.row(u);
                (0..n).filter(|&i| !is_free[i] && !row.a[i].is_zero()).fold(
                    row.c.clone(),
                    |acc, i| {
                        let at_upper = cert.at_upper.get(i).copied().unwrap_or(false);
                        let b = if at_upper { upper[i] } else { lower[i] };
                        acc.add(&row.a[i].mul_f64(b))
                    },
                )
            })
            .collect();
        let m = tight
            .iter()
            .map(|&u| {
                let row = system.row(u);
                let mut eq: Vec<Dyadic> = free.iter().map(|&i| row.a[i].clone()).collect();
                eq.push(Dyadic::from_f64(-system.margin_coef(u)));
                eq
            })
            .collect();
        Some(Self {
            tight,
            free,
            fixed_values,
            m,
        })
    }

    /// Whether the basic solution `(x, t)` has `t > 0`, lies in the box and satisfies every
    /// strict row strictly and every domain row (`None` if the basis is singular).
    fn point_is_interior(&self, system: &System<'_>) -> Option<bool> {
        let (lower, upper) = (&system.domain.lower, &system.domain.upper);
        let k = self.tight.len();
        let rhs: Vec<Dyadic> = self
            .tight
            .iter()
            .map(|&u| self.fixed_values[u].mul_f64(-1.0))
            .collect();
        let (num, det) = solve_fraction_free(&self.m, &rhs)?;
        // x_i = num_i / det: compare everything multiplied by |det|.
        let sign = if det.is_positive() { 1.0 } else { -1.0 };
        let scaled = |v: &BigInt| Dyadic::from_int(v.clone()).mul_f64(sign);
        if !scaled(&num[k - 1]).is_positive() {
            return Some(false);
        }
        let abs_det = Dyadic::from_int(det.abs());
        for (col, &i) in self.free.iter().enumerate() {
            let x = scaled(&num[col]);
            let above_lo = x.add(&abs_det.mul_f64(-lower[i]));
            let below_hi = abs_det.mul_f64(upper[i]).add(&x.mul_f64(-1.0));
            if above_lo.is_negative() || below_hi.is_negative() {
                return Some(false);
            }
        }
        Some((0..system.len()).all(|u| {
            let row = system.row(u);
            let v = self
                .free
                .iter()
                .enumerate()
                .fold(self.fixed_values[u].mul(&abs_det), |acc, (col, &i)| {
                    acc.add(&row.a[i].mul(&scaled(&num[col])))
                });
            v.is_positive() || (!system.is_strict(u) && v.is_zero())
        }))
    }

    /// The exact duals of the basis scaled by a positive number (zero off the tight rows),
    /// from `M^T y = (0, ..., 0, -1)`: the free coordinates' reduced costs vanish and
    /// `sum_u y_u w_u = 1`. `None` if singular or some dual is negative.
    fn duals(&self, len: usize) -> Option<Vec<Dyadic>> {
        let k = self.tight.len();
        let transposed: Vec<Vec<Dyadic>> = (0..k)
            .map(|col| (0..k).map(|eq| self.m[eq][col].clone()).collect())
            .collect();
        let mut target = vec![Dyadic::zero(); k];
        target[k - 1] = Dyadic::from_f64(-1.0);
        let (num, det) = solve_fraction_free(&transposed, &target)?;
        let sign = if det.is_positive() { 1.0 } else { -1.0 };
        let mut y = vec![Dyadic::zero(); len];
        for (&u, v) in self.tight.iter().zip(num) {
            let v = Dyadic::from_int(v).mul_f64(sign);
            if v.is_negative() {
                return None;
            }
            y[u] = v;
        }
        Some(y)
    }
}

/// Solves the square system `m x = rhs` exactly, without fractions: every equation is
/// scaled to integers, then fraction-free Gauss-Jordan elimination (Bareiss/Montante) gives
/// `x_i = num_i / det`. `None` if the matrix is singular.
fn solve_fraction_free(m: &[Vec<Dyadic>], rhs: &[Dyadic]) -> Option<(Vec<BigInt>, BigInt)> {
    let k = rhs.len();
    let mut a: Vec<Vec<BigInt>> = m
        .iter()
        .zip(rhs)
        .map(|(row, r)| {
            let entries: Vec<&Dyadic> = row.iter().chain(std::iter::once(r)).collect();
            let base = entries
                .iter()
                .filter(|d| !d.is_zero())
                .map(|d| d.exp)
                .min()
                .unwrap_or(0);
            entries
                .iter()
                .map(|d| {
                    if d.is_zero() {
                        BigInt::zero()
                    } else {
                        &d.mant << (d.exp - base) as usize
                    }
                })
                .collect()
        })
        .collect();
    let mut prev = BigInt::one();
    for p in 0..k {
        let pivot = (p..k).find(|&r| !a[r][p].is_zero())?;
        a.swap(p, pivot);
        for i in (0..k).filter(|&i| i != p) {
            for j in (0..=k).filter(|&j| j != p) {
                let v = (&a[i][j] * &a[p][p] - &a[i][p] * &a[p][j]) / &prev;
                a[i][j] = v;
            }
            a[i][p] = BigInt::zero();
        }
        prev = a[p][p].clone();
    }
    // Every diagonal entry now equals the last pivot (the determinant up to sign).
    Some((a.iter().map(|row| row[k].clone()).collect(), prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &[f64], c: f64) -> ExactRow {
        ExactRow {
            a: a.iter().map(|&v| Dyadic::from_f64(v)).collect(),
            c: Dyadic::from_f64(c),
        }
    }

    #[test]
    fn dyadics_are_exact() {
        let a = Dyadic::from_f64(0.1);
        let b = Dyadic::from_f64(0.2);
        let c = Dyadic::from_f64(0.3);
        // 0.1 + 0.2 != 0.3 exactly in binary, and the difference is tiny but not zero.
        let d = a.add(&b).add(&c.mul_f64(-1.0));
        assert!(d.is_positive());
        assert_eq!(
            Dyadic::from_f64(1e16)
                .add(&Dyadic::from_f64(1.0))
                .add(&Dyadic::from_f64(-1e16)),
            Dyadic::from_f64(1.0)
        );
        assert_eq!(
            Dyadic::from_f64(-0.75).mul_f64(4.0),
            Dyadic::from_int(BigInt::from(-3))
        );
        assert!(Dyadic::from_f64(f64::MIN_POSITIVE / 8.0).is_positive());
    }

    #[test]
    fn a_thin_slab_is_interior_and_a_flat_one_is_empty() {
        let (lo, hi) = ([0.0], [1.0]);
        // x > 0.5 and x < 0.5 + 1e-12: interior, found at the midpoint witness.
        let slab = [row(&[1.0], -0.5), row(&[-1.0], 0.5 + 1e-12)];
        let mid = 0.5 + 0.5e-12;
        assert_eq!(
            decide(
                &slab,
                &[1.0, 1.0],
                &ExactDomain::from_box(&lo, &hi),
                &[mid],
                1e-12,
                None
            ),
            ExactVerdict::Interior
        );
        // x > 0.5 and x < 0.5: empty; the witness 0.5 fails, the duals (1, 1) prove it.
        let flat = [row(&[1.0], -0.5), row(&[-1.0], 0.5)];
        let cert = LpCertificate {
            duals: vec![0.5, 0.5],
            tight_rows: vec![0, 1],
            basic_cols: vec![0],
            at_upper: vec![false],
        };
        assert_eq!(
            decide(
                &flat,
                &[1.0, 1.0],
                &ExactDomain::from_box(&lo, &hi),
                &[0.5],
                0.0,
                None
            ),
            ExactVerdict::Undecided
        );
        assert_eq!(
            decide(
                &flat,
                &[1.0, 1.0],
                &ExactDomain::from_box(&lo, &hi),
                &[0.5],
                0.0,
                Some(&cert)
            ),
            ExactVerdict::Empty
        );
    }

    /// `x > 1/2` inside the domain `x <= 1/2` of `[0, 1]`: empty, and only a certificate
    /// that uses the domain row's dual proves it. Moved by one ulp it has interior, found
    /// by the basis solution (the witness `1/2` fails).
    #[test]
    fn domain_rows_take_part_in_both_proofs() {
        let domain = Domain::unit_box(1)
            .with_constraints(vec![Constraint {
                a: vec![1.0],
                b: 0.5,
            }])
            .unwrap();
        let exact = ExactDomain::new(&domain).unwrap();
        assert_eq!(exact.constraints(), 1);
        // LP rows: domain `-x >= -1/2` (dual 1), then `x - 1/2 >= t` (dual 1); t and x basic,
        // both rows tight.
        let cert = LpCertificate {
            duals: vec![1.0, 1.0],
            tight_rows: vec![0, 1],
            basic_cols: vec![0],
            at_upper: vec![false],
        };
        let rows = [row(&[1.0], -0.5)];
        assert_eq!(
            decide(&rows, &[1.0], &exact, &[0.5], 0.0, Some(&cert)),
            ExactVerdict::Empty
        );
        // Without the domain's dual the sum over the box is positive: no proof from the
        // floating-point duals; the exact basis duals still find it.
        let no_domain_dual = LpCertificate {
            duals: vec![0.0, 1.0],
            ..cert.clone()
        };
        assert_eq!(
            decide(&rows, &[1.0], &exact, &[0.5], 0.0, Some(&no_domain_dual)),
            ExactVerdict::Empty
        );
        // Over the plain box the same row has interior.
        assert_eq!(
            decide(
                &rows,
                &[1.0],
                &ExactDomain::from_box(&[0.0], &[1.0]),
                &[0.75],
                0.25,
                None
            ),
            ExactVerdict::Interior
        );
        let domain = Domain::unit_box(1)
            .with_constraints(vec![Constraint {
                a: vec![1.0],
                b: 0.5f64.next_up(),
            }])
            .unwrap();
        let exact = ExactDomain::new(&domain).unwrap();
        assert_eq!(
            decide(&rows, &[1.0], &exact, &[0.5], 1e-17, Some(&cert)),
            ExactVerdict::Interior
        );
        // A witness outside the domain row is not accepted.
        assert_eq!(
            decide(&rows, &[1.0], &exact, &[0.75], 0.25, None),
            ExactVerdict::Undecided
        );
    }

    #[test]
    fn exactly_concurrent_lines_leave_no_interior() {
        // Three lines through (1/3, 1/3) bounding a triangle of zero area, with weights
        // that make the floating-point duals inexact: x > 1/3', y > 1/3', x + y < 2/3'
        // where 1/3' = fl(1/3) and 2/3' = 2 * fl(1/3) exactly.
        let third = 1.0 / 3.0;
        let rows = [
            row(&[1.0, 0.0], -third),
            row(&[0.0, 1.0], -third),
            row(&[-1.0, -1.0], 2.0 * third),
        ];
        let w = [1.0, 1.0, 2f64.sqrt()];
        let cert = LpCertificate {
            duals: vec![0.29, 0.29, 0.41],
            tight_rows: vec![0, 1, 2],
            basic_cols: vec![0, 1],
            at_upper: vec![false, false],
        };
        let v = decide(
            &rows,
            &w,
            &ExactDomain::from_box(&[0.0, 0.0], &[1.0, 1.0]),
            &[third, third],
            0.0,
            Some(&cert),
        );
        assert_eq!(v, ExactVerdict::Empty);
        // Moved apart by one ulp the triangle has interior, and the basis solution finds it.
        let rows = [
            row(&[1.0, 0.0], -third),
            row(&[0.0, 1.0], -third),
            row(&[-1.0, -1.0], (2.0 * third).next_up()),
        ];
        let v = decide(
            &rows,
            &w,
            &ExactDomain::from_box(&[0.0, 0.0], &[1.0, 1.0]),
            &[third, third],
            -1e-17,
            Some(&cert),
        );
        assert_eq!(v, ExactVerdict::Interior);
    }
}
