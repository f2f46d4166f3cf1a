//! Which architecture bounds apply to a network, decided by its hidden activations.
//!
//! Serra et al.'s Theorem 1, the per-layer products and the activation-based bound rely on
//! inactive ReLUs being zero, so they hold for ReLU only; Hu & Zhang's bounds need the same
//! number of breakpoints `p` in every unit (leaky ReLU: `p = 1`); the maxout bound needs
//! one rank. The trivial product of pieces holds for everything.

use mipbound_network::{Activation, Network};
use num_bigint::BigUint;

use crate::analytic::{hu_zhang_theorem2, serra2018_maxout, serra2018_theorem1};

/// The hidden activations of a network, as far as the bounds care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenActivations {
    /// Every hidden layer is ReLU.
    Relu,
    /// Every hidden layer is scalar piecewise linear with this many breakpoints, not all
    /// ReLU (leaky ReLU, hard tanh, general PWL).
    Scalar {
        /// Breakpoints per unit.
        breakpoints: u64,
    },
    /// Every hidden layer is maxout of this rank.
    Maxout {
        /// Pieces per unit.
        rank: usize,
    },
    /// Anything else (mixed kinds or numbers of pieces).
    Mixed,
}

impl HiddenActivations {
    /// Classifies `net`'s hidden layers.
    pub fn of(net: &Network) -> Self {
        let kinds: Vec<Self> = net
            .hidden_layers()
            .iter()
            .map(|l| match &l.activation {
                Activation::Relu => Self::Relu,
                Activation::Maxout { rank } => Self::Maxout { rank: *rank },
                a => Self::Scalar {
                    breakpoints: a.breakpoints() as u64,
                },
            })
            .collect();
        let Some(&first) = kinds.first() else {
            return Self::Mixed;
        };
        let breakpoints = |k: Self| match k {
            Self::Relu => Some(1),
            Self::Scalar { breakpoints } => Some(breakpoints),
            _ => None,
        };
        if kinds.iter().all(|&k| k == first) {
            first
        } else if let Some(p) = breakpoints(first)
            && kinds.iter().all(|&k| breakpoints(k) == Some(p))
        {
            Self::Scalar { breakpoints: p }
        } else {
            Self::Mixed
        }
    }

    /// Breakpoints per unit, for ReLU and scalar PWL networks.
    pub fn breakpoints(self) -> Option<u64> {
        match self {
            Self::Relu => Some(1),
            Self::Scalar { breakpoints } => Some(breakpoints),
            _ => None,
        }
    }
}

/// `prod_l (pieces per unit)^(n_l)`: one region per pattern (`2^N` for ReLU).
pub fn trivial_pieces(net: &Network) -> BigUint {
    net.hidden_layers()
        .iter()
        .map(|l| BigUint::from(l.activation.options()).pow(l.width() as u32))
        .product()
}

/// The tightest architecture-only upper bound that applies to `net`, and its name:
/// Theorem 1 of Serra et al. 2018 for ReLU, Hu & Zhang's Theorem 2 for scalar PWL, the
/// maxout bound for maxout, the trivial product otherwise (or when it is smaller).
pub fn architecture_upper_bound(net: &Network) -> (BigUint, &'static str) {
    let (n0, widths) = (net.input_dim(), net.hidden_widths());
    let trivial = (trivial_pieces(net), "trivial product of pieces");
    let specific = match HiddenActivations::of(net) {
        HiddenActivations::Relu => Some((
            serra2018_theorem1(n0, &widths),
            "Serra et al. 2018, Theorem 1",
        )),
        HiddenActivations::Scalar { breakpoints } => Some((
            hu_zhang_theorem2(n0, &widths, breakpoints),
            "Hu & Zhang, Theorem 2",
        )),
        HiddenActivations::Maxout { rank } => Some((
            serra2018_maxout(n0, &widths, rank),
            "Serra et al. 2018, maxout bound",
        )),
        HiddenActivations::Mixed => None,
    };
    match specific {
        Some(s) if s.0 <= trivial.0 => s,
        _ => trivial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::Layer;
    use ndarray::{Array1, Array2};

    fn net(activations: &[Activation], rows: usize) -> Network {
        let mut inputs = 2;
        let layers = activations
            .iter()
            .map(|a| {
                let layer = Layer::new(
                    Array2::from_elem((rows, inputs), 0.5),
                    Array1::zeros(rows),
                    a.clone(),
                );
                inputs = rows / a.rank();
                layer
            })
            .collect();
        Network::new(2, layers).unwrap()
    }

    #[test]
    fn classification_and_choice_of_bound() {
        let relu = net(&[Activation::Relu, Activation::Relu], 3);
        assert_eq!(HiddenActivations::of(&relu), HiddenActivations::Relu);
        assert_eq!(
            architecture_upper_bound(&relu).0,
            serra2018_theorem1(2, &[3, 3])
        );

        let leaky = net(&[Activation::Relu, Activation::LeakyRelu { slope: 0.1 }], 3);
        assert_eq!(
            HiddenActivations::of(&leaky),
            HiddenActivations::Scalar { breakpoints: 1 }
        );
        assert_eq!(architecture_upper_bound(&leaky).1, "Hu & Zhang, Theorem 2");

        let tanh = net(&[Activation::hard_tanh(), Activation::hard_tanh()], 3);
        assert_eq!(
            HiddenActivations::of(&tanh),
            HiddenActivations::Scalar { breakpoints: 2 }
        );
        // R(2, 3) with p = 2 is 1 + 6 + 12 = 19 per layer.
        assert_eq!(architecture_upper_bound(&tanh).0, BigUint::from(19u32 * 19));
        assert_eq!(trivial_pieces(&tanh), BigUint::from(3u32.pow(6)));

        let maxout = net(&[Activation::Maxout { rank: 3 }], 6);
        assert_eq!(
            HiddenActivations::of(&maxout),
            HiddenActivations::Maxout { rank: 3 }
        );
        // min(sum_{j<=2} C(6, j) = 22, 3^2 = 9): the trivial bound wins.
        assert_eq!(
            architecture_upper_bound(&maxout),
            (BigUint::from(9u32), "trivial product of pieces")
        );

        let mixed = net(&[Activation::Relu, Activation::hard_tanh()], 3);
        assert_eq!(HiddenActivations::of(&mixed), HiddenActivations::Mixed);
        assert_eq!(architecture_upper_bound(&mixed).0, BigUint::from(8u32 * 27));
    }
}
