//! Convolutions and pooling as dense affine maps on flattened `C x H x W` tensors.
//!
//! A convolution is affine, so the search and the formulation treat it as a (sparse) dense
//! layer; the geometry is kept beside the layer so that the bounds can use the weight
//! sharing (Xiong et al., ICML 2020). Indices are row-major: `(c, y, x) -> (c * H + y) * W + x`.
//! One-dimensional tensors `C x L` are `C x 1 x L`.

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// The shape of a convolution or pooling window applied to a `C x H x W` input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvGeometry {
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output channels (filters); equal to the input channels for pooling.
    pub out_channels: usize,
    /// Kernel `(height, width)`.
    pub kernel: (usize, usize),
    /// Stride `(vertical, horizontal)`.
    pub stride: (usize, usize),
    /// Zero padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Dilation `(vertical, horizontal)`.
    pub dilation: (usize, usize),
    /// Groups (channels are split into this many independent convolutions).
    pub groups: usize,
}

impl ConvGeometry {
    /// Checks the geometry; errors are one-line descriptions.
    pub fn check(&self) -> Result<(), String> {
        let zero = [
            self.in_channels,
            self.in_h,
            self.in_w,
            self.out_channels,
            self.kernel.0,
            self.kernel.1,
        ]
        .contains(&0)
            || [
                self.stride.0,
                self.stride.1,
                self.dilation.0,
                self.dilation.1,
                self.groups,
            ]
            .contains(&0);
        if zero {
            return Err(format!(
                "zero-sized convolution geometry: input {}x{}x{}, {} output channels, kernel {}x{}, stride {}x{}, dilation {}x{}, {} groups",
                self.in_channels,
                self.in_h,
                self.in_w,
                self.out_channels,
                self.kernel.0,
                self.kernel.1,
                self.stride.0,
                self.stride.1,
                self.dilation.0,
                self.dilation.1,
                self.groups
            ));
        }
        if !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return Err(format!(
                "{} input and {} output channels do not split into {} groups",
                self.in_channels, self.out_channels, self.groups
            ));
        }
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(format!(
                "a {}x{} kernel does not fit the {}x{} input",
                self.kernel.0, self.kernel.1, self.in_h, self.in_w
            ));
        }
        Ok(())
    }

    /// Output height.
    pub fn out_h(&self) -> usize {
        output_size(
            self.in_h,
            self.kernel.0,
            self.stride.0,
            self.pads[0] + self.pads[2],
            self.dilation.0,
        )
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        output_size(
            self.in_w,
            self.kernel.1,
            self.stride.1,
            self.pads[1] + self.pads[3],
            self.dilation.1,
        )
    }

    /// Number of input values.
    pub fn inputs(&self) -> usize {
        self.in_channels * self.in_h * self.in_w
    }

    /// Number of output values.
    pub fn outputs(&self) -> usize {
        self.out_channels * self.out_h() * self.out_w()
    }

    /// Returns true if and only if the geometry is the plain setting of Xiong et al.: no
    /// padding, no dilation, one group, the same stride both ways.
    pub fn is_plain(&self) -> bool {
        self.pads == [0; 4]
            && self.dilation == (1, 1)
            && self.groups == 1
            && self.stride.0 == self.stride.1
    }

    /// The input index under kernel offset `(ky, kx)` of output position `(oy, ox)`, if it
    /// is inside the input (outside is padding).
    fn input_at(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let y = (oy * self.stride.0 + ky * self.dilation.0).checked_sub(self.pads[0])?;
        let x = (ox * self.stride.1 + kx * self.dilation.1).checked_sub(self.pads[1])?;
        (y < self.in_h && x < self.in_w).then_some((y, x))
    }

    /// The convolution as a dense matrix `[outputs, inputs]` and bias, from ONNX weights
    /// `[M, C / groups, kh, kw]` (row-major) and a bias of `M` values (or none).
    pub fn dense(&self, weight: &[f64], bias: Option<&[f64]>) -> (Array2<f64>, Array1<f64>) {
        let (oh, ow) = (self.out_h(), self.out_w());
        let (kh, kw) = self.kernel;
        let per_group_in = self.in_channels / self.groups;
        let per_group_out = self.out_channels / self.groups;
        let mut w = Array2::zeros((self.outputs(), self.inputs()));
        let mut b = Array1::zeros(self.outputs());
        for m in 0..self.out_channels {
            let group = m / per_group_out;
            for oy in 0..oh {
                for ox in 0..ow {
                    let row = (m * oh + oy) * ow + ox;
                    b[row] = bias.map_or(0.0, |b| b[m]);
                    for cl in 0..per_group_in {
                        let c = group * per_group_in + cl;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                if let Some((y, x)) = self.input_at(oy, ox, ky, kx) {
                                    let k = ((m * per_group_in + cl) * kh + ky) * kw + kx;
                                    w[[row, (c * self.in_h + y) * self.in_w + x]] += weight[k];
                                }
                            }
                        }
                    }
                }
            }
        }
        (w, b)
    }

    /// Parameters of the convolution: the shared kernels and one bias per filter.
    pub fn parameters(&self) -> usize {
        self.out_channels * (self.in_channels / self.groups) * self.kernel.0 * self.kernel.1
            + self.out_channels
    }

    /// Returns true if and only if `(w, b)` is this convolution of some kernels and one bias
    /// per filter (the shapes, the zero pattern and the weight sharing all fit).
    pub fn fits(&self, w: &Array2<f64>, b: &Array1<f64>) -> bool {
        if w.dim() != (self.outputs(), self.inputs()) || b.len() != self.outputs() {
            return false;
        }
        let (oh, ow) = (self.out_h(), self.out_w());
        let (kh, kw) = self.kernel;
        let per_group_in = self.in_channels / self.groups;
        let per_group_out = self.out_channels / self.groups;
        let mut kernel = vec![0.0; self.out_channels * per_group_in * kh * kw];
        let mut bias = vec![0.0; self.out_channels];
        for m in 0..self.out_channels {
            bias[m] = b[m * oh * ow];
            let c0 = (m / per_group_out) * per_group_in;
            for cl in 0..per_group_in {
                for ky in 0..kh {
                    for kx in 0..kw {
                        // Any output position where this tap lands inside the input.
                        let tap = (0..oh)
                            .flat_map(|oy| (0..ow).map(move |ox| (oy, ox)))
                            .find_map(|(oy, ox)| {
                                Some(((m * oh + oy) * ow + ox, self.input_at(oy, ox, ky, kx)?))
                            });
                        if let Some((row, (y, x))) = tap {
                            let col = ((c0 + cl) * self.in_h + y) * self.in_w + x;
                            kernel[((m * per_group_in + cl) * kh + ky) * kw + kx] = w[[row, col]];
                        }
                    }
                }
            }
        }
        let (w2, b2) = self.dense(&kernel, Some(&bias));
        w2 == *w && b2 == *b
    }

    /// Returns true if and only if `(w, b)` selects, for each pooling window in turn, its
    /// inputs (one `1` per row, zero bias): the rows of a max-pooling maxout layer.
    pub fn pool_fits(&self, w: &Array2<f64>, b: &Array1<f64>) -> bool {
        let rows: Vec<usize> = self.windows().into_iter().flatten().collect();
        w.dim() == (rows.len(), self.inputs())
            && b.iter().all(|&v| v == 0.0)
            && rows.iter().enumerate().all(|(r, &i)| {
                w.row(r)
                    .iter()
                    .enumerate()
                    .all(|(j, &v)| v == if j == i { 1.0 } else { 0.0 })
            })
    }

    /// For pooling (`out_channels == in_channels`): each output's window, as input indices
    /// (padding positions left out).
    pub fn windows(&self) -> Vec<Vec<usize>> {
        let (oh, ow) = (self.out_h(), self.out_w());
        let mut out = Vec::with_capacity(self.outputs());
        for c in 0..self.in_channels {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut window = Vec::new();
                    for ky in 0..self.kernel.0 {
                        for kx in 0..self.kernel.1 {
                            if let Some((y, x)) = self.input_at(oy, ox, ky, kx) {
                                window.push((c * self.in_h + y) * self.in_w + x);
                            }
                        }
                    }
                    out.push(window);
                }
            }
        }
        out
    }
}

fn output_size(input: usize, kernel: usize, stride: usize, pad: usize, dilation: usize) -> usize {
    let span = dilation * (kernel - 1) + 1;
    if input + pad < span {
        0
    } else {
        (input + pad - span) / stride + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(
        c: usize,
        h: usize,
        w: usize,
        m: usize,
        k: usize,
        s: usize,
        p: usize,
    ) -> ConvGeometry {
        ConvGeometry {
            in_channels: c,
            in_h: h,
            in_w: w,
            out_channels: m,
            kernel: (k, k),
            stride: (s, s),
            pads: [p; 4],
            dilation: (1, 1),
            groups: 1,
        }
    }

    /// The dense matrix applied to an input equals a direct convolution.
    #[test]
    fn dense_matches_direct_convolution() {
        let g = geometry(2, 4, 5, 3, 3, 2, 1);
        g.check().unwrap();
        assert_eq!((g.out_h(), g.out_w()), (2, 3));
        let weight: Vec<f64> = (0..3 * 2 * 9).map(|i| (i as f64 * 0.37).sin()).collect();
        let bias = [0.1, -0.2, 0.3];
        let (w, b) = g.dense(&weight, Some(&bias));
        let input: Vec<f64> = (0..g.inputs()).map(|i| (i as f64 * 0.11).cos()).collect();
        let out = w.dot(&Array1::from(input.clone())) + &b;
        for m in 0..3 {
            for oy in 0..2 {
                for ox in 0..3 {
                    let mut v = bias[m];
                    for c in 0..2 {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (y, x) =
                                    ((oy * 2 + ky) as isize - 1, (ox * 2 + kx) as isize - 1);
                                if y >= 0 && x >= 0 && y < 4 && x < 5 {
                                    v += weight[((m * 2 + c) * 3 + ky) * 3 + kx]
                                        * input[(c * 4 + y as usize) * 5 + x as usize];
                                }
                            }
                        }
                    }
                    assert!((out[(m * 2 + oy) * 3 + ox] - v).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn fits_recognises_convolutions_and_pooling() {
        let mut g = geometry(2, 4, 5, 4, 3, 2, 1);
        g.groups = 2;
        let weight: Vec<f64> = (0..4 * 9).map(|i| (i as f64 * 0.7).cos()).collect();
        let (w, b) = g.dense(&weight, Some(&[0.1, 0.2, 0.3, 0.4]));
        assert!(g.fits(&w, &b));
        assert_eq!(g.parameters(), 4 * 9 + 4);
        let mut broken = w.clone();
        broken[[0, 0]] += 1.0;
        assert!(!g.fits(&broken, &b));
        let mut shifted = b.clone();
        shifted[1] += 1.0;
        assert!(!g.fits(&w, &shifted));
        let pool = geometry(1, 4, 4, 1, 2, 2, 0);
        let rows: Vec<usize> = pool.windows().into_iter().flatten().collect();
        let mut select = Array2::zeros((16, 16));
        for (r, &i) in rows.iter().enumerate() {
            select[[r, i]] = 1.0;
        }
        assert!(pool.pool_fits(&select, &Array1::zeros(16)));
        assert!(!pool.pool_fits(&Array2::eye(16), &Array1::zeros(16)));
    }

    #[test]
    fn pooling_windows_and_bad_geometry() {
        let g = geometry(1, 4, 4, 1, 2, 2, 0);
        assert_eq!(
            g.windows(),
            vec![
                vec![0, 1, 4, 5],
                vec![2, 3, 6, 7],
                vec![8, 9, 12, 13],
                vec![10, 11, 14, 15]
            ]
        );
        assert!(geometry(1, 2, 2, 1, 3, 1, 0).check().is_err());
        let mut grouped = geometry(3, 4, 4, 4, 2, 1, 0);
        grouped.groups = 2;
        assert!(grouped.check().is_err());
    }
}
