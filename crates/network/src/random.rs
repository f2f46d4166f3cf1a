//! Seeded random networks, for tests, benchmarks and examples.
//!
//! Weights are He-initialised, `N(0, 2 / fan_in)`, biases `N(0, bias_std^2)`; every draw comes
//! from one `ChaCha8Rng` seeded with the given seed, so the same seed gives the same network.

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::{Activation, Layer, Network};

/// Builds a ReLU network with `widths = [n0, n1, ..., nL, (out)]`: every layer but the last
/// is ReLU when `output_layer` is true, every layer is ReLU otherwise.
///
/// # Panics
/// If `widths` has fewer than two entries or contains a zero.
pub fn he_network(widths: &[usize], bias_std: f64, output_layer: bool, seed: u64) -> Network {
    random_network(widths, &Activation::Relu, bias_std, output_layer, seed)
}

/// Like [`he_network`] with `activation` on every hidden layer; a rank-`k` maxout layer of
/// `n` units draws `k n` rows. ReLU gives exactly [`he_network`]'s network for each seed.
///
/// # Panics
/// If `widths` has fewer than two entries or contains a zero, or `activation` is invalid
/// (a maxout rank below 2).
pub fn random_network(
    widths: &[usize],
    activation: &Activation,
    bias_std: f64,
    output_layer: bool,
    seed: u64,
) -> Network {
    assert!(widths.len() >= 2 && widths.iter().all(|&w| w > 0));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bias = Normal::new(0.0, bias_std).expect("bias_std must be finite and >= 0");
    let count = widths.len() - 1;
    let layers = (0..count)
        .map(|l| {
            let activation = if output_layer && l + 1 == count {
                Activation::Identity
            } else {
                activation.clone()
            };
            let (fan_in, rows) = (widths[l], widths[l + 1] * activation.rank());
            let weight = Normal::new(0.0, (2.0 / fan_in as f64).sqrt()).expect("finite std");
            let w = Array2::from_shape_simple_fn((rows, fan_in), || weight.sample(&mut rng));
            let b = Array1::from_shape_simple_fn(rows, || bias.sample(&mut rng));
            Layer::new(w, b, activation)
        })
        .collect();
    Network::new(widths[0], layers).expect("random network is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_network_other_seed_other_network() {
        let a = he_network(&[3, 4, 2], 0.1, true, 7);
        let b = he_network(&[3, 4, 2], 0.1, true, 7);
        let c = he_network(&[3, 4, 2], 0.1, true, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.hidden_widths(), vec![4]);
        assert!(a.output_layer().is_some());
    }

    #[test]
    fn maxout_layers_draw_rank_rows_per_unit() {
        let net = random_network(&[3, 4, 5, 2], &Activation::Maxout { rank: 3 }, 0.1, true, 1);
        assert_eq!(net.hidden_widths(), vec![4, 5]);
        let rows: Vec<_> = net.layers().iter().map(|l| l.rows()).collect();
        assert_eq!(rows, vec![12, 15, 2]);
        assert_eq!(net.layers()[1].weights.ncols(), 4);
        assert_eq!(net.num_pattern_bits(), 2 * (4 + 5));
        let leaky = Activation::LeakyRelu { slope: 0.1 };
        let net = random_network(&[2, 3], &leaky, 0.1, false, 1);
        assert_eq!(net.hidden_layers()[0].activation, leaky);
        assert_eq!(
            random_network(&[3, 4, 2], &Activation::Relu, 0.1, true, 7),
            he_network(&[3, 4, 2], 0.1, true, 7)
        );
    }
}
