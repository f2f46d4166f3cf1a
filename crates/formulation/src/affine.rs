//! Affine forms of pre-activations on a region.
//!
//! Once the activation states of every unit of layers `1..l-1` are fixed, each
//! pre-activation of layer `l` is an affine function of the input, `z = a · x + c`:
//! `A_1 = W_1, c_1 = b_1` and `A_l = W_l D_{l-1} A_{l-1}`, `c_l = W_l D_{l-1} c_{l-1} + b_l`,
//! where `D` is the diagonal of active units (ICML 2018, Section 3).

use mipbound_network::Layer;
use ndarray::{Array1, Array2, ArrayView1, Axis};

/// The pre-activations of one hidden layer as affine functions of the input on a region.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerForms {
    /// One row `a` per unit, `n0` columns.
    pub coeffs: Array2<f64>,
    /// One constant `c` per unit.
    pub constants: Array1<f64>,
}

impl LayerForms {
    /// The first hidden layer: the forms are the layer's own weights and bias.
    pub fn first(layer: &Layer) -> Self {
        Self {
            coeffs: layer.weights.clone(),
            constants: layer.bias.clone(),
        }
    }

    /// The next layer's forms given this layer's forms and which of its units are active.
    pub fn next(&self, layer: &Layer, active: impl Fn(usize) -> bool) -> Self {
        let on: Vec<usize> = (0..self.coeffs.nrows()).filter(|&i| active(i)).collect();
        if on.is_empty() {
            return Self {
                coeffs: Array2::zeros((layer.width(), self.coeffs.ncols())),
                constants: layer.bias.clone(),
            };
        }
        let w = layer.weights.select(Axis(1), &on);
        Self {
            coeffs: w.dot(&self.coeffs.select(Axis(0), &on)),
            constants: w.dot(&self.constants.select(Axis(0), &on)) + &layer.bias,
        }
    }

    /// Number of units.
    pub fn width(&self) -> usize {
        self.coeffs.nrows()
    }

    /// The gradient `a` of a unit's pre-activation.
    pub fn gradient(&self, unit: usize) -> ArrayView1<'_, f64> {
        self.coeffs.row(unit)
    }

    /// The value `a · x + c` of a unit at `x`.
    pub fn value(&self, unit: usize, x: &[f64]) -> f64 {
        self.coeffs
            .row(unit)
            .iter()
            .zip(x)
            .map(|(a, x)| a * x)
            .sum::<f64>()
            + self.constants[unit]
    }

    /// Returns true if and only if the unit's pre-activation is constant on the region
    /// (every coefficient is exactly zero, e.g. all units feeding it are off).
    pub fn is_constant(&self, unit: usize) -> bool {
        self.coeffs.row(unit).iter().all(|&a| a == 0.0)
    }

    /// Euclidean norm of a unit's gradient.
    pub fn gradient_norm(&self, unit: usize) -> f64 {
        self.coeffs.row(unit).dot(&self.coeffs.row(unit)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::random::he_network;

    #[test]
    fn forms_match_the_forward_pass_on_the_region_of_a_point() {
        let net = he_network(&[3, 5, 4, 3], 0.3, false, 5);
        let x = [0.2, 0.7, 0.4];
        let z = net.pre_activations(&x);
        let layers = net.hidden_layers();
        let mut forms = LayerForms::first(&layers[0]);
        for l in 0..layers.len() {
            assert_eq!(forms.width(), z[l].len());
            for (u, &expected) in z[l].iter().enumerate() {
                assert!((forms.value(u, &x) - expected).abs() < 1e-12);
            }
            if l + 1 < layers.len() {
                forms = forms.next(&layers[l + 1], |i| z[l][i] > 0.0);
            }
        }
    }

    #[test]
    fn all_inactive_gives_constant_units() {
        let net = he_network(&[2, 3, 2], 0.1, false, 1);
        let forms =
            LayerForms::first(&net.hidden_layers()[0]).next(&net.hidden_layers()[1], |_| false);
        assert!(forms.is_constant(0) && forms.is_constant(1));
        assert_eq!(forms.constants, net.hidden_layers()[1].bias);
    }
}
