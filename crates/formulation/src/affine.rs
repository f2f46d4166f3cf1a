//! Affine forms of pre-activations on a region.
//!
//! Once the activation states of every unit of layers `1..l-1` are fixed, each
//! pre-activation of layer `l` is an affine function of the input, `z = a · x + c`:
//! `A_1 = W_1, c_1 = b_1` and `A_l = W_l (S A_{l-1}[rows]) `, `c_l = W_l (S c_{l-1}[rows] +
//! o) + b_l`, where each unit of layer `l - 1` contributes the row its state selects (the
//! winner for maxout), scaled by the slope `S` of its piece and shifted by the offset `o`
//! (for ReLU: slope 1 if active, 0 if not; ICML 2018, Section 3).

use mipbound_network::{Layer, PostAffine};

use crate::rounding::{sum_error_bound, up};
use ndarray::{Array1, Array2, ArrayView1, Axis};

/// The pre-activations of one hidden layer as affine functions of the input on a region.
///
/// The forms are computed in floating point; each row carries a rigorous bound on how far
/// its coefficients (each of them) and its constant can be from the exact values, from the
/// a-priori error bound of the dot products that made them (see [`crate::rounding`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerForms {
    /// One row `a` per unit, `n0` columns.
    pub coeffs: Array2<f64>,
    /// One constant `c` per unit.
    pub constants: Array1<f64>,
    /// Per row: a bound on `|a_i - exact a_i|` for every coefficient.
    pub coeff_error: Array1<f64>,
    /// Per row: a bound on `|c - exact c|`.
    pub constant_error: Array1<f64>,
}

impl LayerForms {
    /// The first hidden layer: the forms are the layer's own weights and bias.
    pub fn first(layer: &Layer) -> Self {
        Self {
            coeffs: layer.weights.clone(),
            constants: layer.bias.clone(),
            coeff_error: Array1::zeros(layer.rows()),
            constant_error: Array1::zeros(layer.rows()),
        }
    }

    /// The next layer's forms given this layer's forms (`rank` rows per unit) and, for
    /// every unit of this layer, how its output depends on its rows on the region.
    pub fn next(&self, layer: &Layer, rank: usize, post: impl Fn(usize) -> PostAffine) -> Self {
        let units = self.coeffs.nrows() / rank;
        let mut used = Vec::new();
        let mut rows = Vec::new();
        let mut slopes = Vec::new();
        let mut offset = Array1::<f64>::zeros(layer.rows());
        let mut offsets = Vec::with_capacity(units);
        for u in 0..units {
            let p = post(u);
            offsets.push(p.offset);
            if p.offset != 0.0 {
                offset.scaled_add(p.offset, &layer.weights.column(u));
            }
            if p.slope != 0.0 {
                used.push(u);
                rows.push(u * rank + p.row);
                slopes.push(p.slope);
            }
        }
        let constants_base = &layer.bias + &offset;
        // The base `b + W o` is a sum of `units + 1` rounded products.
        let base_error: Array1<f64> = (0..layer.rows())
            .map(|r| {
                let magnitude = layer.bias[r].abs()
                    + layer
                        .weights
                        .row(r)
                        .iter()
                        .zip(&offsets)
                        .map(|(w, o)| (w * o).abs())
                        .sum::<f64>();
                sum_error_bound(units + 1, magnitude)
            })
            .collect();
        if used.is_empty() {
            return Self {
                coeffs: Array2::zeros((layer.rows(), self.coeffs.ncols())),
                constants: constants_base,
                coeff_error: Array1::zeros(layer.rows()),
                constant_error: base_error,
            };
        }
        let mut w = layer.weights.select(Axis(1), &used);
        for (mut col, &s) in w.columns_mut().into_iter().zip(&slopes) {
            if s != 1.0 {
                col *= s;
            }
        }
        // Row r's coefficient i is sum_k w_rk s_k A[k, i]: its error is at most
        // sum_k |w_rk s_k| (E_k + gamma |A[k, i]|) (propagated error, then the rounding of
        // the scaled weight and of the dot product), bounded over i by the row maxima.
        let terms = used.len() + 2;
        let prev_max: Vec<f64> = rows
            .iter()
            .map(|&k| {
                self.coeffs
                    .row(k)
                    .iter()
                    .fold(0.0, |m: f64, v| m.max(v.abs()))
            })
            .collect();
        let mut coeff_error = Array1::zeros(layer.rows());
        let mut constant_error = Array1::zeros(layer.rows());
        for r in 0..layer.rows() {
            let (mut propagated, mut magnitude) = (0.0, 0.0);
            let (mut c_propagated, mut c_magnitude) = (0.0, 0.0);
            for (j, &k) in rows.iter().enumerate() {
                let ws = w[[r, j]].abs();
                propagated += ws * self.coeff_error[k];
                magnitude += ws * prev_max[j];
                c_propagated += ws * self.constant_error[k];
                c_magnitude += ws * self.constants[k].abs();
            }
            coeff_error[r] = up(1.01 * propagated + sum_error_bound(terms, magnitude));
            constant_error[r] = up(1.01 * c_propagated
                + sum_error_bound(terms, c_magnitude + constants_base[r].abs())
                + base_error[r]);
        }
        Self {
            coeffs: w.dot(&self.coeffs.select(Axis(0), &rows)),
            constants: w.dot(&self.constants.select(Axis(0), &rows)) + &constants_base,
            coeff_error,
            constant_error,
        }
    }

    /// A bound on how far the row's value can be from the exact one anywhere in a box whose
    /// coordinates are at most `reach` in absolute value summed (`sum_i max(|lo_i|, |hi_i|)`).
    pub fn value_error(&self, row: usize, reach: f64) -> f64 {
        up(self.coeff_error[row] * reach + self.constant_error[row])
    }

    /// Number of rows (units times the maxout rank).
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
    /// (every coefficient is exactly zero, e.g. all units feeding it are off, and no
    /// rounding can hide a non-zero one).
    pub fn is_constant(&self, unit: usize) -> bool {
        self.coeff_error[unit] == 0.0 && self.coeffs.row(unit).iter().all(|&a| a == 0.0)
    }

    /// Returns true if and only if rows `a` and `b` have the same gradient, so that their
    /// difference is constant on the region (exactly so when both rows are exact).
    pub fn parallel(&self, a: usize, b: usize) -> bool {
        self.coeffs.row(a) == self.coeffs.row(b)
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
                let a = &layers[l].activation;
                forms = forms.next(&layers[l + 1], 1, |i| a.post(a.state(&[z[l][i]])));
            }
        }
    }

    #[test]
    fn all_inactive_gives_constant_units() {
        let net = he_network(&[2, 3, 2], 0.1, false, 1);
        let a = &net.hidden_layers()[0].activation;
        let forms =
            LayerForms::first(&net.hidden_layers()[0])
                .next(&net.hidden_layers()[1], 1, |_| a.post(0));
        assert!(forms.is_constant(0) && forms.is_constant(1));
        assert_eq!(forms.constants, net.hidden_layers()[1].bias);
    }
}

#[cfg(test)]
mod general_tests {
    use super::*;
    use mipbound_network::{Activation, Network, PiecewiseLinear};
    use ndarray::array;

    /// Forms through leaky, piecewise-linear and maxout layers match the forward pass.
    #[test]
    fn forms_through_every_activation_match_the_forward_pass() {
        let pwl = PiecewiseLinear::new(vec![-0.5, 0.3], vec![0.2, 1.0, -0.4], 0.1).unwrap();
        let net = Network::new(
            2,
            vec![
                Layer::new(
                    array![[1.0, -0.5], [0.3, 0.8], [-1.2, 0.4]],
                    array![0.1, -0.2, 0.3],
                    Activation::LeakyRelu { slope: 0.1 },
                ),
                Layer::new(
                    array![[0.5, -1.0, 0.7], [1.1, 0.2, -0.3]],
                    array![0.05, -0.1],
                    Activation::Pwl(pwl),
                ),
                Layer::new(
                    array![
                        [1.0, 0.5],
                        [-0.3, 0.9],
                        [0.6, -0.6],
                        [0.2, 0.2],
                        [-0.8, 0.1],
                        [0.4, 0.7]
                    ],
                    array![0.0, 0.1, -0.1, 0.2, 0.0, -0.2],
                    Activation::Maxout { rank: 3 },
                ),
                Layer::new(array![[1.0, -1.0]], array![0.0], Activation::Relu),
            ],
        )
        .unwrap();
        for x in [[0.2, 0.7], [-0.9, 0.4], [0.6, -0.8], [0.05, 0.05]] {
            let z = net.pre_activations(&x);
            let layers = net.hidden_layers();
            let mut forms = LayerForms::first(&layers[0]);
            for l in 0..layers.len() {
                for (r, &expected) in z[l].iter().enumerate() {
                    assert!(
                        (forms.value(r, &x) - expected).abs() < 1e-12,
                        "layer {l} row {r}"
                    );
                }
                if l + 1 < layers.len() {
                    let a = &layers[l].activation;
                    let rank = a.rank();
                    let zl = z[l].as_slice().unwrap();
                    forms = forms.next(&layers[l + 1], rank, |u| {
                        a.post(a.state(&zl[u * rank..(u + 1) * rank]))
                    });
                }
            }
        }
    }
}
