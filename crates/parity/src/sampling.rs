//! Random XOR constraints and their i.i.d. sequences.

use std::fmt;
use std::str::FromStr;

use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The parity constraint `x_{vars[0]} xor ... xor x_{vars[k-1]} = parity`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XorConstraint {
    /// Distinct variable indices, sorted.
    pub vars: Vec<usize>,
    /// Required parity of the number of true variables.
    pub parity: bool,
}

impl XorConstraint {
    /// Returns true if and only if the assignment `value` satisfies the constraint.
    pub fn is_satisfied_by(&self, value: impl Fn(usize) -> bool) -> bool {
        self.vars.iter().fold(false, |acc, &v| acc ^ value(v)) == self.parity
    }
}

/// How many variables a random XOR involves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XorWidth {
    /// Exactly `k` distinct variables, chosen uniformly (all of them when fewer exist).
    Fixed(usize),
    /// Each variable independently with probability 1/2 (the "long" XORs of MBound).
    Dense,
}

impl fmt::Display for XorWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XorWidth::Fixed(k) => write!(f, "{k}"),
            XorWidth::Dense => f.write_str("dense"),
        }
    }
}

impl FromStr for XorWidth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "dense" => Ok(XorWidth::Dense),
            t => match t.parse::<usize>() {
                Ok(k) if (1..=64).contains(&k) => Ok(XorWidth::Fixed(k)),
                _ => Err(format!(
                    "XOR width '{t}' must be an integer from 1 to 64 or 'dense'"
                )),
            },
        }
    }
}

impl XorWidth {
    /// Draws one constraint over `candidates` (variable indices).
    pub fn draw(self, candidates: &[usize], rng: &mut impl Rng) -> XorConstraint {
        let mut vars: Vec<usize> = match self {
            XorWidth::Fixed(k) => {
                let k = k.min(candidates.len());
                index::sample(rng, candidates.len(), k)
                    .into_iter()
                    .map(|i| candidates[i])
                    .collect()
            }
            XorWidth::Dense => candidates
                .iter()
                .copied()
                .filter(|_| rng.random::<bool>())
                .collect(),
        };
        vars.sort_unstable();
        // Drawn after (and independently of) the variables: P[any fixed assignment
        // satisfies the constraint] = 1/2 exactly.
        let parity = rng.random::<bool>();
        XorConstraint { vars, parity }
    }
}

/// An i.i.d. sequence `H_1, H_2, ...` of random XORs over fixed candidate variables, drawn
/// lazily from one seeded ChaCha stream: the same (seed, stream) gives the same sequence.
#[derive(Debug, Clone)]
pub struct XorSequence {
    rng: ChaCha8Rng,
    width: XorWidth,
    candidates: Vec<usize>,
    drawn: Vec<XorConstraint>,
}

impl XorSequence {
    /// A sequence over `candidates` with its own ChaCha8 stream `stream` of `seed`.
    pub fn new(candidates: Vec<usize>, width: XorWidth, seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Self {
            rng,
            width,
            candidates,
            drawn: Vec::new(),
        }
    }

    /// The `i`-th constraint (0-based), drawing the sequence up to it if needed.
    pub fn get(&mut self, i: usize) -> &XorConstraint {
        while self.drawn.len() <= i {
            let next = self.width.draw(&self.candidates, &mut self.rng);
            self.drawn.push(next);
        }
        &self.drawn[i]
    }

    /// The width of every constraint.
    pub fn width(&self) -> XorWidth {
        self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For a fixed assignment, the fraction of random XORs it satisfies lies in the 99.9%
    /// binomial interval around 1/2 over 100k draws, for every width.
    #[test]
    fn any_fixed_assignment_satisfies_half_of_the_xors() {
        let n = 40;
        let candidates: Vec<usize> = (0..n).collect();
        let draws = 100_000;
        // Two-sided 99.9%: z = 3.2905; sd of the count = sqrt(n p (1-p)).
        let half_width = 3.2905 * (draws as f64 * 0.25).sqrt();
        let assignments: [fn(usize) -> bool; 3] = [|_| true, |_| false, |v| v % 3 == 0];
        for width in [1, 2, 3, 4, 5]
            .map(XorWidth::Fixed)
            .into_iter()
            .chain([XorWidth::Dense])
        {
            for (a, value) in assignments.iter().enumerate() {
                let mut seq = XorSequence::new(candidates.clone(), width, 2024, a as u64);
                let satisfied = (0..draws)
                    .filter(|&i| seq.get(i).is_satisfied_by(value))
                    .count() as f64;
                let gap = (satisfied - draws as f64 / 2.0).abs();
                assert!(
                    gap <= half_width,
                    "width {width}, assignment {a}: {satisfied} of {draws}"
                );
            }
        }
    }

    #[test]
    fn fixed_width_draws_distinct_sorted_candidates() {
        let candidates = vec![3, 7, 9, 12, 20];
        let mut seq = XorSequence::new(candidates.clone(), XorWidth::Fixed(3), 1, 0);
        for i in 0..200 {
            let xor = seq.get(i);
            assert_eq!(xor.vars.len(), 3);
            assert!(xor.vars.windows(2).all(|w| w[0] < w[1]));
            assert!(xor.vars.iter().all(|v| candidates.contains(v)));
        }
        // Fewer candidates than k: all of them.
        let mut short = XorSequence::new(vec![4, 5], XorWidth::Fixed(5), 1, 0);
        assert_eq!(short.get(0).vars, vec![4, 5]);
    }

    #[test]
    fn same_seed_same_sequence_other_stream_other_sequence() {
        let c: Vec<usize> = (0..30).collect();
        let mut a = XorSequence::new(c.clone(), XorWidth::Fixed(4), 9, 2);
        let mut b = XorSequence::new(c.clone(), XorWidth::Fixed(4), 9, 2);
        let mut d = XorSequence::new(c, XorWidth::Fixed(4), 9, 3);
        let first: Vec<XorConstraint> = (0..20).map(|i| a.get(i).clone()).collect();
        assert_eq!(first, (0..20).map(|i| b.get(i).clone()).collect::<Vec<_>>());
        assert_ne!(first, (0..20).map(|i| d.get(i).clone()).collect::<Vec<_>>());
    }

    #[test]
    fn parses_widths() {
        assert_eq!("3".parse::<XorWidth>().unwrap(), XorWidth::Fixed(3));
        assert_eq!("dense".parse::<XorWidth>().unwrap(), XorWidth::Dense);
        assert!("0".parse::<XorWidth>().is_err());
        assert!("x".parse::<XorWidth>().is_err());
    }
}
