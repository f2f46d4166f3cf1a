//! The activation-based upper bound of Serra & Ramalingam (AAAI 2020) for trained weights.
//!
//! # What is computed
//!
//! For hidden layer `l` and a limit `k` on the number of active units of layer `l - 1`
//! (for `l = 1`, no limit), three numbers from MILPs on the big-M formulation over the
//! domain X, stable units fixed first:
//! - `A_l(k)`: the most units of layer `l` that can be active at once;
//! - `I_l(k)`: the units of layer `l` that can take both signs (`max z > 0` and `min z < 0`);
//!   only these can cut a region — the others are constant on it;
//! - `S_l(k)`: the units that are active wherever at most `k` units of `l - 1` are.
//!
//! Every solve uses HiGHS's proven dual bound, never its incumbent, and rounds towards the
//! conservative side (`A` up, "can take both signs" when in doubt), so a time-limited MILP
//! still gives a valid number. Fewer units in `S` or more in `I` only raise the bound.
//!
//! # The dynamic programme and why it is an upper bound
//!
//! `R(l, d, k)` bounds the number of regions that layers `l..L` cut out of one region `Q` of
//! layers `1..l-1` whose image has dimension `<= d` and on which at most `k` units of layer
//! `l - 1` are active:
//! ```text
//! R(L+1, d, k) = 1
//! R(l, d, k)   = sum_{j=0}^{min(d, I)} C(I, j) * R(l+1, min(d, a_j), a_j),
//!                a_j = min(S + I - j, A),   (A, I, S) = (A_l, I_l, S_l)(k)
//! bound        = R(1, n0, n0)
//! ```
//! On `Q`, at most `u <= I` hyperplanes of layer `l` cut it, in dimension `<= d`, so they
//! make at most `sum_{j<=d} C(u, j)` subregions (Zaslavsky), and at most `C(u, j)` of them
//! have exactly `j` of the cutting units inactive (distinct patterns). Such a subregion has
//! at most `S + (I - u) + (u - j) = S + I - j` active units in layer `l`, and at most `A`;
//! its image has dimension `<= min(d, a_j)`. `R(l+1, ., .)` is non-decreasing in both
//! arguments, and `a_j` decreases with `j`, so the worst case gives the `C(u, j)` budget to
//! `j = 0, 1, ..., d` in turn: the sum above (with `C(u, j) <= C(I, j)`). This is Serra et
//! al. 2018's argument with the cutting hyperplanes counted by `I` and the active units by
//! `S + I - j` and `A`.
//!
//! With `A = I = n_l` and `S = 0` it is exactly Theorem 1 of Serra et al. 2018. With
//! `S = A - I` it equals the catalogue's formula B13 (`k_l = A_l(k_{l-1}) - j_l`, erratum E4
//! applied). B13 alone, `k_l = A - j`, is **not** a bound when some units that can cut a
//! region cannot all be active together: for `n0 = 1`, layer 1 = `(x, -x)`, layer 2 =
//! `(|x| - 1/2, |x| - 1/4)` on `[-1, 1]`, the network has 6 regions, B13 with the true
//! `A_1 = 1, I_1 = 2` gives 5, this programme gives 9. Hence `S + I - j`.
//!
//! Values of `k` between the limits actually solved are rounded up to the next solved limit
//! (the MILPs only grow with `k`, and the programme is monotone), so a coarse grid of limits
//! stays sound.

use std::collections::HashMap;
use std::time::Instant;

use mipbound_formulation::{BigM, Domain, MilpBound, MilpStop, OracleError, Stability, UnitBounds};
use mipbound_network::{Network, UnitId};
use num_bigint::BigUint;
use num_traits::{One, Zero};

use crate::analytic::binomial;

/// Activity of one layer under a limit on the previous layer's active units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// `A`: most units active at once.
    pub active_max: usize,
    /// `I`: units that can take both signs.
    pub two_sided: usize,
    /// `S`: units active everywhere under the limit.
    pub stable_active: usize,
}

/// The activity of one hidden layer for a grid of limits `k` (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerActivity {
    /// The limits solved, ascending; the last one is unconstraining.
    pub limits: Vec<usize>,
    /// The activity at each limit.
    pub activity: Vec<Activity>,
}

impl LayerActivity {
    /// The activity for limit `k`: that of the smallest solved limit `>= k` (the last one
    /// when `k` exceeds them all, which is only valid when the last limit is unconstraining).
    pub fn at(&self, k: usize) -> Activity {
        let i = self.limits.partition_point(|&limit| limit < k);
        self.activity[i.min(self.activity.len() - 1)]
    }

    /// The same activity for every limit.
    pub fn uniform(activity: Activity) -> Self {
        Self {
            limits: vec![usize::MAX],
            activity: vec![activity],
        }
    }

    /// One entry per limit `0..=max_limit`, from a function of `k`.
    pub fn from_fn(max_limit: usize, f: impl Fn(usize) -> Activity) -> Self {
        Self {
            limits: (0..=max_limit).collect(),
            activity: (0..=max_limit).map(f).collect(),
        }
    }
}

/// The dynamic programme of the module doc: `R(1, n0, n0)`.
pub fn activation_bound(n0: usize, layers: &[LayerActivity]) -> BigUint {
    let mut memo = HashMap::new();
    regions_below(0, n0, n0, layers, &mut memo)
}

fn regions_below(
    l: usize,
    d: usize,
    k: usize,
    layers: &[LayerActivity],
    memo: &mut HashMap<(usize, usize, usize), BigUint>,
) -> BigUint {
    if l == layers.len() {
        return BigUint::one();
    }
    if let Some(v) = memo.get(&(l, d, k)) {
        return v.clone();
    }
    let act = layers[l].at(k);
    let mut total = BigUint::zero();
    for j in 0..=d.min(act.two_sided) {
        let a = (act.stable_active + act.two_sided - j).min(act.active_max);
        total += binomial(act.two_sided as u64, j as u64)
            * regions_below(l + 1, d.min(a), a, layers, memo);
    }
    memo.insert((l, d, k), total.clone());
    total
}

/// Settings of the MILP stage.
#[derive(Debug, Clone, PartialEq)]
pub struct EmpiricalSettings {
    /// Time limit of each MILP, in seconds; a stopped MILP contributes its dual bound.
    /// [default: 10]
    pub milp_time_limit: f64,
    /// Most limits `k` solved per layer (evenly spread, the largest always included).
    /// [default: 32]
    pub max_limits: usize,
    /// HiGHS `random_seed`. [default: 0]
    pub seed: u32,
    /// Stop solving at this instant: what is left takes its most conservative value
    /// (`A = n_l`, every undecided unit two-sided). [default: none]
    pub deadline: Option<Instant>,
}

impl Default for EmpiricalSettings {
    fn default() -> Self {
        Self {
            milp_time_limit: 10.0,
            max_limits: 32,
            seed: 0,
            deadline: None,
        }
    }
}

/// The activity of every hidden layer, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationProfile {
    /// One entry per hidden layer.
    pub layers: Vec<LayerActivity>,
    /// MILPs solved.
    pub milps: usize,
    /// MILPs stopped by the time limit (their dual bound was used).
    pub milps_stopped: usize,
    /// MILPs skipped because the overall deadline passed (conservative values used).
    pub milps_skipped: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl ActivationProfile {
    /// The bound `R(1, n0, n0)` for this profile.
    pub fn bound(&self, n0: usize) -> BigUint {
        activation_bound(n0, &self.layers)
    }
}

/// Relative tolerance of the sign tests on MILP bounds (HiGHS's tolerances are ~1e-6).
const SIGN_SLACK: f64 = 1e-6;

/// A solution with `z` beyond `+-SIGN_TARGET` settles a sign question at once.
const SIGN_TARGET: f64 = 1e-4;

/// Solves the MILPs of the module doc for every hidden layer.
///
/// Limits are taken in increasing order: a unit that can take both signs under limit `k`
/// can under every larger limit, so it is never solved again; a unit proven stable is
/// re-examined at the next limit. Sign questions stop at the first solution that settles
/// them (HiGHS's objective target); the answer "stable" needs the proven dual bound.
pub fn activation_profile(
    net: &Network,
    domain: &Domain,
    bounds: &UnitBounds,
    settings: &EmpiricalSettings,
) -> Result<ActivationProfile, OracleError> {
    let start = Instant::now();
    let mut profile = ActivationProfile {
        layers: Vec::new(),
        milps: 0,
        milps_stopped: 0,
        milps_skipped: 0,
        seconds: 0.0,
    };
    let widths = net.hidden_widths();
    for (l, &width) in widths.iter().enumerate() {
        let mut milp = BigM::new(net, domain, bounds, l + 1, settings.seed)?;
        let (limits, limit_row) = if l == 0 {
            (vec![net.input_dim()], None)
        } else {
            let previous = profile.layers[l - 1].activity.last().expect("solved");
            let top = previous.active_max.min(widths[l - 1]);
            (
                limit_grid(top, settings.max_limits),
                Some(milp.add_active_limit(l - 1, top)?),
            )
        };
        let global: Vec<Stability> = (0..width)
            .map(|unit| bounds.stability(UnitId { layer: l, unit }))
            .collect();
        let mut two_sided = vec![false; width];
        let mut activity = Vec::with_capacity(limits.len());
        for &k in &limits {
            if let Some(row) = limit_row {
                milp.set_active_limit(row, k)?;
            }
            let ds: Vec<(usize, f64)> = milp.units[l].iter().map(|c| (c.d, 1.0)).collect();
            milp.set_objective(&ds, true)?;
            let active_max = match solve(&mut milp, settings, &mut profile, true, None)? {
                Solved::Infeasible => {
                    // No point has at most k active units in the previous layer.
                    activity.push(Activity {
                        active_max: 0,
                        two_sided: 0,
                        stable_active: 0,
                    });
                    continue;
                }
                Solved::Bound(v) => ((v + SIGN_SLACK).floor().max(0.0) as usize).min(width),
                Solved::Skipped => width,
            };
            let mut stable_active = 0;
            for unit in 0..width {
                match global[unit] {
                    Stability::Active => stable_active += 1,
                    Stability::Inactive => {}
                    Stability::Unstable if two_sided[unit] => {}
                    Stability::Unstable => {
                        let z = milp.units[l][unit].z;
                        milp.set_objective(&[(z, 1.0)], true)?;
                        let max =
                            solve(&mut milp, settings, &mut profile, true, Some(SIGN_TARGET))?
                                .value(true);
                        if max <= -SIGN_SLACK * (1.0 + max.abs()) {
                            continue; // inactive wherever the limit holds
                        }
                        milp.set_objective(&[(z, 1.0)], false)?;
                        let min =
                            solve(&mut milp, settings, &mut profile, false, Some(-SIGN_TARGET))?
                                .value(false);
                        if min < SIGN_SLACK * (1.0 + min.abs()) {
                            two_sided[unit] = true;
                        } else {
                            stable_active += 1;
                        }
                    }
                }
            }
            activity.push(Activity {
                active_max,
                two_sided: two_sided.iter().filter(|&&t| t).count(),
                stable_active,
            });
        }
        profile.layers.push(LayerActivity { limits, activity });
    }
    profile.seconds = start.elapsed().as_secs_f64();
    Ok(profile)
}

/// What one MILP told.
enum Solved {
    Infeasible,
    /// The proven (dual) bound.
    Bound(f64),
    /// Not solved: the overall deadline had passed.
    Skipped,
}

impl Solved {
    /// The bound as a number for a sign test: infeasible tells nothing can reach either
    /// sign, skipped must allow both.
    fn value(&self, maximize: bool) -> f64 {
        match (self, maximize) {
            (Solved::Bound(v), _) => *v,
            (Solved::Infeasible, true) | (Solved::Skipped, false) => f64::NEG_INFINITY,
            (Solved::Infeasible, false) | (Solved::Skipped, true) => f64::INFINITY,
        }
    }
}

/// Solves the current objective within the per-MILP limit and the overall deadline.
fn solve(
    milp: &mut BigM,
    settings: &EmpiricalSettings,
    profile: &mut ActivationProfile,
    maximize: bool,
    target: Option<f64>,
) -> Result<Solved, OracleError> {
    let mut limit = settings.milp_time_limit;
    if let Some(deadline) = settings.deadline {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        if left <= 0.0 {
            profile.milps_skipped += 1;
            return Ok(Solved::Skipped);
        }
        limit = limit.min(left);
    }
    profile.milps += 1;
    match milp.solve_bound(limit, maximize, target)? {
        MilpBound::Infeasible => Ok(Solved::Infeasible),
        MilpBound::Bound { value, stop } => {
            profile.milps_stopped += usize::from(stop == MilpStop::TimeLimit);
            Ok(Solved::Bound(value))
        }
    }
}

/// `0..=top` when it has at most `count` values, else `count` values spread evenly, rounded
/// up, always including `top`.
fn limit_grid(top: usize, count: usize) -> Vec<usize> {
    let count = count.max(2);
    if top < count {
        return (0..=top).collect();
    }
    let mut grid: Vec<usize> = (0..count).map(|i| (i * top).div_ceil(count - 1)).collect();
    grid.dedup();
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::serra2018_theorem1;

    fn big(v: u64) -> BigUint {
        BigUint::from(v)
    }

    fn uniform(a: usize, i: usize, s: usize) -> LayerActivity {
        LayerActivity::uniform(Activity {
            active_max: a,
            two_sided: i,
            stable_active: s,
        })
    }

    /// The catalogue's formula B13 as printed in the poster (erratum E4: `j_{l-1}`) or fixed
    /// (`j_l`), with `A`, `I` constant in `k`: for the E4 check and the counterexample.
    fn b13(n0: usize, a: &[usize], i: &[usize], typo: bool) -> BigUint {
        fn rec(
            l: usize,
            cap: usize,
            j_prev: usize,
            a: &[usize],
            i: &[usize],
            typo: bool,
        ) -> BigUint {
            if l == a.len() {
                return BigUint::one();
            }
            (0..=cap.min(i[l]))
                .map(|j| {
                    let k = a[l].saturating_sub(if typo { j_prev } else { j });
                    binomial(i[l] as u64, j as u64) * rec(l + 1, cap.min(k), j, a, i, typo)
                })
                .sum()
        }
        rec(0, n0, 0, a, i, typo)
    }

    #[test]
    fn equals_theorem1_when_every_unit_is_two_sided() {
        for n0 in [1, 2, 3, 5, 784] {
            for widths in [
                vec![2, 2],
                vec![3, 3],
                vec![4, 4, 4],
                vec![10, 12],
                vec![16, 6],
                vec![8, 8, 8],
                vec![5, 1, 7],
            ] {
                let layers: Vec<LayerActivity> = widths.iter().map(|&n| uniform(n, n, 0)).collect();
                assert_eq!(
                    activation_bound(n0, &layers),
                    serra2018_theorem1(n0, &widths),
                    "{n0} {widths:?}"
                );
            }
        }
    }

    #[test]
    fn catalogue_toy_table_r6() {
        // S = A - I reproduces the catalogue's values (its B13 with k_l = A - j_l).
        let same = |w: &[usize], a: i64, i: i64| -> Vec<LayerActivity> {
            w.iter()
                .map(|&n| {
                    let (a, i) = ((n as i64 + a) as usize, (n as i64 + i) as usize);
                    uniform(a, i, a - i)
                })
                .collect()
        };
        assert_eq!(activation_bound(2, &same(&[2, 2], 0, 0)), big(11));
        assert_eq!(activation_bound(3, &same(&[4, 4, 4], 0, 0)), big(1631));
        assert_eq!(activation_bound(784, &same(&[10, 12], 0, 0)), big(1744436));
        assert_eq!(activation_bound(784, &same(&[16, 6], -2, -4)), big(16384));
        let constant = |a: usize, i: usize| vec![uniform(a, i, a - i); 3];
        assert_eq!(activation_bound(3, &constant(6, 4)), big(3375));
        assert_eq!(activation_bound(2, &constant(3, 3)), big(208));
        let growing: Vec<LayerActivity> = (0..3)
            .map(|_| {
                LayerActivity::from_fn(8, |k| Activity {
                    active_max: 8.min(2 * k),
                    two_sided: 8.min(2 * k),
                    stable_active: 0,
                })
            })
            .collect();
        assert_eq!(activation_bound(3, &growing), big(247998));
        // The same values from the literal B13 formula.
        assert_eq!(b13(2, &[3, 3, 3], &[3, 3, 3], false), big(208));
        assert_eq!(b13(3, &[6, 6, 6], &[4, 4, 4], false), big(3375));
    }

    #[test]
    fn erratum_e4_the_poster_index_does_not_reduce_to_theorem1() {
        assert_eq!(b13(2, &[2, 2], &[2, 2], false), big(11));
        assert_eq!(b13(2, &[2, 2], &[2, 2], true), big(16));
        assert_eq!(b13(3, &[4, 4, 4], &[4, 4, 4], true), big(2415));
        assert_eq!(b13(784, &[10, 12], &[10, 12], true), big(4180992));
        assert_eq!(b13(784, &[8, 8, 8], &[8, 8, 8], true), big(10035968));
    }

    /// Layer 1 = (x, -x), layer 2 = (|x| - 1/2, |x| - 1/4) on [-1, 1]: 6 regions
    /// ((-1,-1/2), (-1/2,-1/4), (-1/4,0), (0,1/4), (1/4,1/2), (1/2,1)). True activity:
    /// layer 1: A = 1, both units two-sided; layer 2: A = 2, both two-sided.
    #[test]
    fn b13_alone_undercounts_and_this_bound_does_not() {
        let exact = big(6);
        assert!(b13(1, &[1, 2], &[2, 2], false) < exact);
        assert_eq!(b13(1, &[1, 2], &[2, 2], false), big(5));
        let ours = activation_bound(1, &[uniform(1, 2, 0), uniform(2, 2, 0)]);
        assert!(ours >= exact, "{ours}");
        assert_eq!(ours, big(9));
    }

    #[test]
    fn rounding_limits_up_is_monotone() {
        assert_eq!(limit_grid(5, 32), vec![0, 1, 2, 3, 4, 5]);
        let grid = limit_grid(100, 5);
        assert_eq!(grid, vec![0, 25, 50, 75, 100]);
        let layer = LayerActivity {
            limits: vec![0, 4, 9],
            activity: [1, 2, 3]
                .map(|v| Activity {
                    active_max: v,
                    two_sided: v,
                    stable_active: 0,
                })
                .to_vec(),
        };
        assert_eq!(layer.at(0).active_max, 1);
        assert_eq!(layer.at(3).active_max, 2);
        assert_eq!(layer.at(9).active_max, 3);
        assert_eq!(layer.at(50).active_max, 3);
    }
}
