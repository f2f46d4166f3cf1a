//! One MIPBound trial: a region search with XOR constraints added lazily (Serra &
//! Ramalingam, AAAI 2020).
//!
//! The trial owns an i.i.d. sequence `H_1, H_2, ...` of random XORs over the pattern bits of
//! the unstable units. Whenever the search reaches a region, its pattern satisfies every XOR
//! added so far (the search only reaches leaves the parity system allows), so that level is
//! witnessed; the next XORs of the sequence are then added, all of them kept, as long as the
//! pattern satisfies them, and the first one it violates ends the loop. The search goes on
//! where it was: what it refuted stays refuted under more constraints. When it is exhausted,
//! `H_1..H_{j+1}` has no region, so the level `j` it reports is exactly
//! `max { j : some region satisfies H_1..H_j }`, a function of the region set and of the
//! sequence only. Stopped early, the reported level is witnessed, hence no larger.
//!
//! The XORs are never conditioned on the patterns found: the sequence is drawn from its own
//! seeded stream, and looking ahead at it (to order the units) changes nothing about it.

use std::time::Instant;

use mipbound_formulation::Stability;
use mipbound_network::{Pattern, UnitId};
use mipbound_parity::{ParitySystem, XorSequence, XorWidth};

use crate::{Flow, Limits, PatternHooks, RegionSearch, SearchError, SearchStats, SearchStatus};

/// How many XORs of the sequence are looked at to order the units.
const ORDER_LOOKAHEAD: usize = 64;

/// The result of one hashed trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialOutcome {
    /// Deepest level witnessed: a region satisfying `H_1..H_level` was found.
    pub level: u32,
    /// `Exhausted`: `H_1..H_{level+1}` is proven to have no region. Otherwise the level is
    /// only witnessed.
    pub status: SearchStatus,
    /// Search counters of the trial.
    pub stats: SearchStats,
    /// Wall-clock seconds.
    pub seconds: f64,
}

struct XorHooks {
    system: ParitySystem,
    sequence: XorSequence,
    level: u32,
}

impl PatternHooks for XorHooks {
    fn assign(&mut self, bit: usize, active: bool) -> bool {
        self.system.assign(bit, active).is_ok()
    }

    fn unassign(&mut self, _bit: usize) {
        self.system.unassign();
    }

    fn consistent(&self) -> bool {
        self.system.is_consistent()
    }

    fn region(&mut self, pattern: &Pattern, _witness: &[f64]) -> Flow {
        let value = |v: usize| pattern[v];
        debug_assert!(
            self.system
                .constraints()
                .iter()
                .all(|x| x.is_satisfied_by(value))
        );
        let mut level = self.system.constraints().len();
        loop {
            let next = self.sequence.get(level).clone();
            let satisfied = next.is_satisfied_by(value);
            self.system.add(next);
            if !satisfied {
                break;
            }
            level += 1;
        }
        self.level = self.level.max(level as u32);
        Flow::Continue
    }
}

/// Pattern bits of the units that are not proven stable over the domain: the variables of
/// the XORs.
pub fn xor_candidates(search: &RegionSearch<'_>) -> Vec<usize> {
    let net = search.network();
    net.hidden_widths()
        .iter()
        .enumerate()
        .flat_map(|(layer, &w)| (0..w).map(move |unit| UnitId { layer, unit }))
        .filter(|&id| search.bounds().stability(id) == Stability::Unstable)
        .flat_map(|id| {
            let first = net.pattern_index(id);
            let bits = net.hidden_layers()[id.layer].activation.bits();
            first..first + bits
        })
        .collect()
}

impl RegionSearch<'_> {
    /// Runs one MIPBound trial with XORs of `width` drawn from stream `stream` of `seed`.
    pub fn run_trial(
        &self,
        width: XorWidth,
        seed: u64,
        stream: u64,
        limits: &Limits,
    ) -> Result<TrialOutcome, SearchError> {
        let start = Instant::now();
        let net = self.network();
        let mut sequence = XorSequence::new(xor_candidates(self), width, seed, stream);
        let order = self.xor_first_order(&mut sequence);
        let mut hooks = XorHooks {
            system: ParitySystem::new(net.num_pattern_bits()),
            sequence,
            level: 0,
        };
        let outcome = self.run_ordered(&order, &mut hooks, limits)?;
        Ok(TrialOutcome {
            level: hooks.level,
            status: outcome.status,
            stats: outcome.stats,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Within each layer, units in early XORs of the sequence first, so that parity
    /// conflicts prune before LPs are spent below them.
    fn xor_first_order(&self, sequence: &mut XorSequence) -> Vec<UnitId> {
        let net = self.network();
        let mut first_use = vec![usize::MAX; net.num_pattern_bits()];
        for i in 0..ORDER_LOOKAHEAD {
            for &v in &sequence.get(i).vars {
                first_use[v] = first_use[v].min(i);
            }
        }
        let unit_first_use = |id: UnitId| {
            let first = net.pattern_index(id);
            let bits = net.hidden_layers()[id.layer].activation.bits();
            first_use[first..first + bits]
                .iter()
                .copied()
                .min()
                .unwrap_or(usize::MAX)
        };
        let mut order = self.order().to_vec();
        // Stable sort: layers stay in order, ties keep the index order.
        order.sort_by_key(|&id| (id.layer, unit_first_use(id)));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSettings;
    use mipbound_formulation::Domain;
    use mipbound_network::random::he_network;
    use std::collections::HashSet;

    /// The level of an exhausted trial equals the brute-force maximum prefix of the XOR
    /// sequence that some region satisfies.
    #[test]
    fn exhausted_level_is_the_largest_feasible_prefix() {
        let net = he_network(&[2, 6, 5], 0.5, false, 3);
        let domain = Domain::uniform(2, -1.0, 1.0).unwrap();
        let search = RegionSearch::new(&net, &domain, SearchSettings::default()).unwrap();
        let mut regions: HashSet<Vec<bool>> = HashSet::new();
        search
            .run(
                &mut crate::CountRegions {
                    on_region: |p: &Pattern, _: &[f64]| {
                        regions.insert(p.iter().map(|b| *b).collect());
                        Flow::Continue
                    },
                },
                &Limits::default(),
            )
            .unwrap();
        assert!(regions.len() > 8);
        let mut levels = Vec::new();
        for width in [XorWidth::Fixed(2), XorWidth::Fixed(3), XorWidth::Dense] {
            for trial in 0..8 {
                let out = search
                    .run_trial(width, 11, trial, &Limits::default())
                    .unwrap();
                assert_eq!(out.status, SearchStatus::Exhausted);
                let mut seq = XorSequence::new(xor_candidates(&search), width, 11, trial);
                let mut expected = 0;
                loop {
                    let prefix: Vec<_> = (0..=expected).map(|i| seq.get(i).clone()).collect();
                    let feasible = regions
                        .iter()
                        .any(|r| prefix.iter().all(|x| x.is_satisfied_by(|v| r[v])));
                    if !feasible {
                        break;
                    }
                    expected += 1;
                }
                assert_eq!(out.level, expected as u32, "width {width} trial {trial}");
                levels.push(out.level);
            }
        }
        assert!(levels.iter().any(|&l| l >= 2), "{levels:?}");
    }
}
