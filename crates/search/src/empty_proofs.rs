//! Emptiness proofs reused across nodes, to skip the margin LPs of options that do not meet
//! the region.
//!
//! Most LPs that find no interior test the same unit again at a node close to the previous
//! one: the two paths share most of their half-spaces. An LP that finds an option empty ends
//! with duals `y >= 0` on the path's rows; for any weights `y >= 0` and any point of the
//! region with margin `t` (every row `h_k(x) >= t`),
//! `t <= max over the box of sum_k y_k h_k(x) / sum_k y_k`.
//! So the last duals that proved an option empty, put on the rows of the current path that
//! carry the same keys, bound its margin at the next node where it is tested. Evaluated with
//! a rigorous bound on rounding, a bound below the search's threshold proves the option
//! empty, exactly as the LP's verdict would; a weaker bound proves nothing and the LP runs.

use std::collections::HashMap;

use mipbound_formulation::HalfSpace;
use mipbound_network::UnitId;

/// Which half-space a row of the path is: the unit decided, its option, and which of the
/// option's half-spaces (see `RowSpec::key_index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RowKey {
    pub id: UnitId,
    pub option: usize,
    pub index: usize,
}

/// How many proofs are kept per (unit, option), most recent first.
const KEEP: usize = 2;

/// Non-negative weights on the rows of a path, by key.
type Weights = Vec<(RowKey, f64)>;

/// The last duals that proved each (unit, option) empty, keyed by the rows they weigh.
#[derive(Debug, Default)]
pub(crate) struct EmptyProofs {
    weights: HashMap<(UnitId, usize), Vec<Weights>>,
}

impl EmptyProofs {
    /// Remembers the duals of an LP that found `(id, option)` empty. `rows` are the keys of
    /// the oracle's pushed rows, in order; `duals` has one value per oracle row, the first
    /// `permanent` for the domain's constraints (not kept: they hold on every path).
    pub fn remember(
        &mut self,
        id: UnitId,
        option: usize,
        rows: &[RowKey],
        duals: &[f64],
        permanent: usize,
    ) {
        let Some(pushed) = duals.get(permanent..) else {
            return;
        };
        if pushed.len() != rows.len() {
            return;
        }
        // The solver's sign convention is not fixed: the duals of the margin rows sum to
        // +-1, and the sign that makes the sum positive is the one of the bound.
        let sign = if pushed.iter().sum::<f64>() >= 0.0 {
            1.0
        } else {
            -1.0
        };
        let weights: Weights = rows
            .iter()
            .zip(pushed)
            .map(|(&key, &y)| (key, sign * y))
            .filter(|&(_, y)| y > 0.0 && y.is_finite())
            .collect();
        if weights.is_empty() {
            return;
        }
        let kept = self.weights.entry((id, option)).or_default();
        kept.retain(|w| *w != weights);
        kept.insert(0, weights);
        kept.truncate(KEEP);
    }

    /// Whether the remembered duals of `(id, option)` prove that no point of the box
    /// satisfying the rows of `path` has a margin above `threshold` (a negative number).
    /// `lower` and `upper` are the box in the rows' coordinates.
    pub fn proves_empty(
        &self,
        id: UnitId,
        option: usize,
        path: &[(RowKey, HalfSpace)],
        lower: &[f64],
        upper: &[f64],
        threshold: f64,
    ) -> bool {
        let Some(kept) = self.weights.get(&(id, option)) else {
            return false;
        };
        kept.iter()
            .any(|weights| bounds_below(weights, path, lower, upper, threshold))
    }
}

/// Whether the weights, put on the rows of `path` with the same keys, bound the margin
/// over the box below `threshold`.
fn bounds_below(
    weights: &[(RowKey, f64)],
    path: &[(RowKey, HalfSpace)],
    lower: &[f64],
    upper: &[f64],
    threshold: f64,
) -> bool {
    let n = lower.len();
    let mut combined = vec![0.0; n];
    let mut offset = 0.0;
    // Bounds the size of every product and sum below, for the rounding error: the normals
    // have unit length, so |a|_1 <= sqrt(n).
    let widest = lower
        .iter()
        .chain(upper)
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let row_size = (n as f64).sqrt() * widest;
    let mut magnitude = 0.0;
    let mut total = 0.0;
    let mut used = 0usize;
    for &(key, y) in weights {
        let Some((_, half)) = path.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        for (c, a) in combined.iter_mut().zip(&half.normal) {
            *c += y * a;
        }
        offset += y * half.offset;
        magnitude += y * (row_size + half.offset.abs());
        total += y;
        used += 1;
    }
    if used == 0 || total <= 0.0 {
        return false;
    }
    let mut bound = offset;
    for ((c, lo), hi) in combined.iter().zip(lower).zip(upper) {
        bound += (c * lo).max(c * hi);
    }
    // Each sum above has at most `used + n + 1` terms, each rounded once or twice: the
    // classic bound gamma_k <= 2 k eps on the accumulated magnitude, doubled for safety.
    let error = 4.0 * (used + n + 2) as f64 * f64::EPSILON * magnitude;
    // `total` is within a relative `(used + 1) eps` of the weights' exact sum, and the
    // division rounds once more: pad the ratio by four times that, whatever its sign.
    let ratio = (bound + error) / total;
    let pad = 4.0 * (used + 2) as f64 * f64::EPSILON * ratio.abs() + f64::MIN_POSITIVE;
    ratio.is_finite() && ratio + pad < threshold
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn key(unit: usize, option: usize) -> RowKey {
        RowKey {
            id: UnitId { layer: 0, unit },
            option,
            index: 0,
        }
    }

    fn half(normal: &[f64], offset: f64) -> HalfSpace {
        HalfSpace {
            normal: normal.to_vec(),
            offset,
        }
    }

    #[test]
    fn duals_of_one_path_prove_the_same_rows_empty_and_nothing_else() {
        // On [0, 1]^2: x > 0.6 and x < 0.4 cannot both hold; the duals 1/2, 1/2 bound the
        // margin by max (0.5 * (x - 0.6) + 0.5 * (0.4 - x)) = -0.1.
        let target = UnitId { layer: 0, unit: 1 };
        let mut proofs = EmptyProofs::default();
        let rows = [key(0, 1), key(1, 0)];
        proofs.remember(target, 0, &rows, &[-0.5, -0.5], 0);
        let (lo, hi) = ([0.0, 0.0], [1.0, 1.0]);
        let empty = [
            (rows[0], half(&[1.0, 0.0], -0.6)),
            (rows[1], half(&[-1.0, 0.0], 0.4)),
        ];
        assert!(proofs.proves_empty(target, 0, &empty, &lo, &hi, -0.099));
        // The bound is -0.1 exactly: a threshold below it is not proven.
        assert!(!proofs.proves_empty(target, 0, &empty, &lo, &hi, -0.101));
        // Another path where the first row is x > 0.3: the rows meet, nothing is proven.
        let meeting = [
            (rows[0], half(&[1.0, 0.0], -0.3)),
            (rows[1], half(&[-1.0, 0.0], 0.4)),
        ];
        assert!(!proofs.proves_empty(target, 0, &meeting, &lo, &hi, -1e-9));
        // Another option of the unit has no proof.
        assert!(!proofs.proves_empty(target, 1, &empty, &lo, &hi, -1e-9));
    }

    #[test]
    fn a_row_missing_from_the_path_drops_out_of_the_bound() {
        let target = UnitId { layer: 0, unit: 2 };
        let mut proofs = EmptyProofs::default();
        let rows = [key(0, 1), key(1, 0)];
        proofs.remember(target, 1, &rows, &[0.5, 0.5], 0);
        // Only x < 0.4 is on this path: alone it bounds the margin by 0.4 on the box.
        let path = [(rows[1], half(&[-1.0, 0.0], 0.4))];
        assert!(!proofs.proves_empty(target, 1, &path, &[0.0, 0.0], &[1.0, 1.0], -1e-9));
    }

    #[test]
    fn every_proof_is_a_true_bound_on_random_rows() {
        // Random rows in [0, 1]^3 and random weights: whenever a proof is claimed, no
        // sampled point of the box has a margin above the threshold.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut next = move || rng.random::<f64>();
        let (lo, hi) = ([0.0; 3], [1.0; 3]);
        let mut claimed = 0;
        for _ in 0..400 {
            let rows: Vec<(RowKey, HalfSpace)> = (0..4)
                .map(|u| {
                    let v: Vec<f64> = (0..3).map(|_| next() * 2.0 - 1.0).collect();
                    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                    let normal: Vec<f64> = v.iter().map(|a| a / norm).collect();
                    (key(u, 0), half(&normal, next() - 0.9))
                })
                .collect();
            let keys: Vec<RowKey> = rows.iter().map(|r| r.0).collect();
            let duals: Vec<f64> = (0..4).map(|_| next()).collect();
            let target = UnitId { layer: 1, unit: 0 };
            let mut proofs = EmptyProofs::default();
            proofs.remember(target, 0, &keys, &duals, 0);
            let threshold = -0.05;
            if !proofs.proves_empty(target, 0, &rows, &lo, &hi, threshold) {
                continue;
            }
            claimed += 1;
            for _ in 0..2000 {
                let x = [next(), next(), next()];
                let margin = rows
                    .iter()
                    .map(|(_, h)| h.distance(&x))
                    .fold(f64::INFINITY, f64::min);
                assert!(margin < threshold, "{margin} at {x:?}");
            }
        }
        assert!(claimed > 20, "only {claimed} proofs claimed");
    }
}
