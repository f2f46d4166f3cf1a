/*!
XOR-parity hashing for MIPBound (Serra & Ramalingam, AAAI 2020; MBound, Gomes, Sabharwal &
Selman, AAAI 2006): random parity constraints over binary variables and the incremental
GF(2) reasoning a depth-first search needs to respect them.

# Brief overview

- [`XorConstraint`]: `x_{i1} xor ... xor x_{ik} = parity`.
- [`XorWidth`] and [`XorSequence`]: an i.i.d. sequence of random XORs drawn from a seeded
  ChaCha stream. A width-`k` XOR picks `k` distinct variables uniformly at random and,
  independently, a uniform parity bit; the `Dense` width includes each variable with
  probability 1/2. Because the parity bit is uniform and independent of the variables, any
  fixed assignment satisfies each XOR with probability exactly 1/2, whatever `k` is: that is
  the only property the MBound lower bound needs.
- [`ParitySystem`]: the XORs added so far and a partial assignment with an undo trail.
  Assigning a variable updates per-constraint counters (unit propagation: a constraint with
  one free variable forces it; with none, it is satisfied or in conflict), and, when the
  variable occurs in a constraint, Gauss-Jordan elimination of the system restricted to the
  free variables decides whether any completion satisfies every XOR and which variables
  are implied. Constraints can be added at any time, including mid-search.

This crate knows nothing about networks or LPs: variables are plain indices.
*/
#![deny(missing_docs)]

mod sampling;
mod system;

pub use sampling::{XorConstraint, XorSequence, XorWidth};
pub use system::{Conflict, ParitySystem, Propagation};
