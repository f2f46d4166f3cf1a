/*!
The formulation of region counting over HiGHS: what the linear programs are and how they
are solved.

# Brief overview

- [`Domain`]: the input domain X: a box (default `[0, 1]^n0`), optionally cut by linear
  constraints `a . x <= b`. Every LP below keeps those rows (with no margin), and
  [`Domain::check_interior`] proves by an LP that X has interior.
- [`LayerForms`]: each pre-activation as an affine function `a · x + c` of the input once
  the pattern of the earlier layers is fixed.
- [`UnitBounds`]: interval and LP-tightened bounds on every pre-activation over X (the
  LPs relax each activation by the convex hull of its graph), hence the units that stay on
  one piece.
- [`HighsLp`]: a thin, index-based safe wrapper over one HiGHS instance (`threads = 1`,
  fixed `random_seed`): add and delete rows, change bounds and costs, re-solve warm, read
  status and solution. It is the only place this workspace calls HiGHS.
- [`BigM`]: the big-M MILP of a ReLU network (stable units fixed), optionally with ICML
  2018's margin `f`; solved for proven dual bounds or written as MPS/LP.
- [`exact`](ExactForms): exact dyadic forms and the exact re-decision ([`decide`]) of
  margin LPs whose optimum lies in the thin band around zero.
- [`rounding`]: outward-rounded arithmetic for rigorous interval bounds.
- [`MarginOracle`]: the LP oracle of the region search, maximising the margin `t` of a
  stack of normalised half-spaces; a region has non-empty interior iff `t > 0`. Two
  implementations: [`DenseMarginOracle`], a dense bounded dual simplex warm-started across
  pushes and pops (the default), and [`HighsMarginOracle`] on one warm HiGHS model (also the
  dense oracle's fallback on numerical trouble).

This crate does not search (see `mipbound-search`) and does not bound (`mipbound-bounds`).
*/
#![deny(missing_docs)]

mod affine;
mod dense_lp;
mod domain;
mod enclosure;
mod exact;
mod highs_lp;
mod milp;
mod oracle;
mod redundancy;
pub mod rounding;
mod tightening;

pub use affine::LayerForms;
pub use dense_lp::DenseMarginOracle;
pub use domain::{Constraint, Domain, DomainError, MAX_BOX_MAGNITUDE};
pub use enclosure::pattern_enclosure;
pub use exact::{Dyadic, ExactDomain, ExactForms, ExactRow, ExactVerdict, LpCertificate, decide};
pub use highs_lp::{HighsLp, LpStatus, OracleError};
pub use milp::{BigM, MilpBound, MilpStop, UnitColumns};
pub use oracle::{HalfSpace, HighsMarginOracle, MarginOracle, Witness};
pub use tightening::{
    Interval, Stability, UnitBounds, hull, interval_dot, possible_options, post_ranges,
};
