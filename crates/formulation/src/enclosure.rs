//! Rigorous enclosures of the pre-activations of a pattern at a point.

use mipbound_network::Network;

use crate::rounding::{down, mul_hi, mul_lo, point_dot_range, up};
use crate::tightening::{Interval, interval_dot};

/// Encloses every pre-activation row at `x` when each hidden unit is held on the option
/// `option(layer, unit)` (its output is that piece's `slope * z + offset`), in
/// outward-rounded arithmetic: the exact values of the pattern's affine forms at `x` lie
/// inside. Where `x` really has that pattern these are the network's pre-activations.
pub fn pattern_enclosure(
    net: &Network,
    x: &[f64],
    option: impl Fn(usize, usize) -> usize,
) -> Vec<Vec<Interval>> {
    let mut input: Vec<Interval> = x.iter().map(|&v| Interval { lo: v, hi: v }).collect();
    let mut out = Vec::with_capacity(net.hidden_layers().len());
    for (l, layer) in net.hidden_layers().iter().enumerate() {
        let z: Vec<Interval> = layer
            .weights
            .rows()
            .into_iter()
            .zip(&layer.bias)
            .map(|(row, &b)| match (l, row.as_slice()) {
                // The first layer sees the point itself: a plain dot product and its bound.
                (0, Some(row)) => {
                    let (lo, hi) = point_dot_range(b, row, x);
                    Interval { lo, hi }
                }
                _ => interval_dot(b, row, &input),
            })
            .collect();
        let a = &layer.activation;
        let rank = a.rank();
        input = (0..z.len() / rank)
            .map(|u| {
                let p = a.post(option(l, u));
                let iv = z[u * rank + p.row];
                let (lo, hi) = (mul_lo(p.slope, iv.lo, iv.hi), mul_hi(p.slope, iv.lo, iv.hi));
                if p.offset == 0.0 {
                    Interval { lo, hi }
                } else {
                    Interval {
                        lo: down(lo + p.offset),
                        hi: up(hi + p.offset),
                    }
                }
            })
            .collect();
        out.push(z);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_network::random::he_network;

    #[test]
    fn encloses_the_forward_pass_on_the_points_own_pattern() {
        let net = he_network(&[3, 6, 5, 2], 0.3, false, 4);
        let x = [0.3, -0.2, 0.9];
        let z = net.pre_activations(&x);
        let layers = net.hidden_layers();
        let enclosure = pattern_enclosure(&net, &x, |l, u| {
            let rank = layers[l].activation.rank();
            let rows = &z[l].as_slice().unwrap()[u * rank..(u + 1) * rank];
            layers[l].activation.state(rows)
        });
        for (zl, el) in z.iter().zip(&enclosure) {
            for (&v, iv) in zl.iter().zip(el) {
                assert!(
                    iv.lo <= v && v <= iv.hi && iv.hi - iv.lo < 1e-12,
                    "{v} {iv:?}"
                );
            }
        }
    }
}
