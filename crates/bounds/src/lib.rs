/*!
Bounds on the number of linear (activation) regions of piecewise-linear networks (ReLU,
leaky ReLU, general PWL, maxout, convolutional), in exact
big integers ([`BigUint`]).

# Brief overview

- [`probabilistic`]: lower bounds from the levels of hashed (XOR) trials: the MBound
  rule and the binomial-tail rule, with the argument that makes them valid.
- [`analytic`]: architecture-only bounds in exact big integers (Zaslavsky, the trivial
  `2^N`, per-layer products, Serra, Tjandraatmadja & Ramalingam 2018 Theorem 1 as a dynamic
  programme, the maxout bound, Hu & Zhang Theorems 1-2) and the lower-bound constructions
  on the maximum over parameters (only where their conditions hold).
- [`architecture`]: which of those bounds apply to a network, by its hidden activations.
- [`cnn`]: Xiong et al.'s one-layer CNN count and multi-layer CNN bounds (and their
  piecewise-linear form), using the weight sharing kept beside convolutional layers.
- [`empirical`]: the activation-based upper bound of Serra & Ramalingam 2020 for the
  trained weights: MILPs (HiGHS, via `mipbound-formulation`) for `A_l(k)`, `I_l(k)`,
  `S_l(k)`, then a dynamic programme whose soundness argument is in the module doc.

Every bound counts activation regions (distinct patterns with non-empty interior), which is
what the region search counts; see `../shared/reference/bounds-catalogue.md` for sources,
conditions and reference values. Only [`empirical`] solves MILPs; nothing here searches
regions.
*/
#![deny(missing_docs)]

pub mod analytic;
pub mod architecture;
pub mod cnn;
pub mod empirical;
pub mod probabilistic;

pub use num_bigint::BigUint;

/// log2 of a big integer, accurate to about 1e-12 relative (0 maps to -inf).
pub fn log2(value: &BigUint) -> f64 {
    let bits = value.bits();
    if bits == 0 {
        return f64::NEG_INFINITY;
    }
    // Keep the top 64 bits: log2(v) = log2(top) + shift.
    let shift = bits.saturating_sub(64);
    let top: BigUint = value >> shift;
    let top = top.iter_u64_digits().next().unwrap_or(0) as f64;
    top.log2() + shift as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_of_big_values() {
        assert_eq!(log2(&BigUint::from(1u32)), 0.0);
        assert_eq!(log2(&BigUint::from(1024u32)), 10.0);
        let big = BigUint::from(3u32) << 200u32;
        assert!((log2(&big) - (200.0 + 3f64.log2())).abs() < 1e-12);
        assert_eq!(log2(&BigUint::from(0u32)), f64::NEG_INFINITY);
    }
}
