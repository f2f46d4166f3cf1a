//! Independent region counters for the tests: exact geometry in 1-D and 2-D, and grids.
//! None of them uses an LP or the search crate: they split intervals and convex polygons
//! by the hyperplanes of each layer and read each piece's pattern from the forward pass.

use std::collections::HashSet;

use mipbound_network::{Activation, Network};

/// Affine map `x -> alpha x + beta` of a layer's output on a piece (`alpha` is units x n0).
#[derive(Clone)]
struct AffineMap {
    alpha: Vec<Vec<f64>>,
    beta: Vec<f64>,
}

impl AffineMap {
    fn identity(n0: usize) -> Self {
        let alpha = (0..n0)
            .map(|i| (0..n0).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        Self {
            alpha,
            beta: vec![0.0; n0],
        }
    }

    /// The pre-activations of `layer` as affine maps: (gradients, constants).
    fn through(&self, layer: &mipbound_network::Layer) -> (Vec<Vec<f64>>, Vec<f64>) {
        let n0 = self.alpha.first().map_or(0, Vec::len);
        let mut grads = Vec::new();
        let mut consts = Vec::new();
        for (row, &b) in layer.weights.rows().into_iter().zip(&layer.bias) {
            let mut g = vec![0.0; n0];
            let mut c = b;
            for (j, &w) in row.iter().enumerate() {
                for (k, gk) in g.iter_mut().enumerate() {
                    *gk += w * self.alpha[j][k];
                }
                c += w * self.beta[j];
            }
            grads.push(g);
            consts.push(c);
        }
        (grads, consts)
    }

    /// The layer's output map on a piece where unit `u` takes option `options[u]`.
    fn after(
        grads: &[Vec<f64>],
        consts: &[f64],
        activation: &Activation,
        options: &[usize],
    ) -> Self {
        let rank = activation.rank();
        let (alpha, beta) = options
            .iter()
            .enumerate()
            .map(|(u, &option)| {
                let post = activation.post(option);
                let row = u * rank + post.row;
                let g = grads[row].iter().map(|v| post.slope * v).collect();
                (g, post.slope * consts[row] + post.offset)
            })
            .unzip();
        Self { alpha, beta }
    }
}

/// The affine functions whose signs decide the units' options: `z - e_i` for each breakpoint
/// of a scalar activation, `z_j - z_m` for each pair of a maxout unit's rows.
fn cuts(grads: &[Vec<f64>], consts: &[f64], activation: &Activation) -> Vec<(Vec<f64>, f64)> {
    match activation.scalar() {
        Some(f) => grads
            .iter()
            .zip(consts)
            .flat_map(|(g, &c)| f.breakpoints().iter().map(move |&e| (g.clone(), c - e)))
            .collect(),
        None => {
            let rank = activation.rank();
            let mut out = Vec::new();
            for unit in 0..grads.len() / rank {
                for j in 0..rank {
                    for m in j + 1..rank {
                        let (a, b) = (unit * rank + j, unit * rank + m);
                        let g = grads[a].iter().zip(&grads[b]).map(|(x, y)| x - y).collect();
                        out.push((g, consts[a] - consts[b]));
                    }
                }
            }
            out
        }
    }
}

/// Each unit's option at `x`, from the layer's affine forms.
fn options_at(
    grads: &[Vec<f64>],
    consts: &[f64],
    activation: &Activation,
    x: &[f64],
) -> Vec<usize> {
    let z: Vec<f64> = grads
        .iter()
        .zip(consts)
        .map(|(g, &c)| dot(g, x) + c)
        .collect();
    z.chunks(activation.rank())
        .map(|rows| activation.state(rows))
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn pattern_key(net: &Network, x: &[f64]) -> Vec<bool> {
    net.pattern(x).iter().map(|b| *b).collect()
}

/// Exact number of distinct activation patterns of a 1-input network on `[lo, hi]`, by
/// splitting intervals at every breakpoint (and maxout tie), layer by layer.
pub fn count_1d(net: &Network, lo: f64, hi: f64) -> usize {
    assert_eq!(net.input_dim(), 1);
    let min_width = 1e-12 * (hi - lo);
    let mut pieces = vec![(lo, hi, AffineMap::identity(1))];
    for layer in net.hidden_layers() {
        let mut next = Vec::new();
        for (a, b, map) in pieces {
            let (grads, consts) = map.through(layer);
            let mut cuts: Vec<f64> = cuts(&grads, &consts, &layer.activation)
                .into_iter()
                .filter(|(g, _)| g[0] != 0.0)
                .map(|(g, c)| -c / g[0])
                .filter(|&x| x > a && x < b)
                .collect();
            cuts.sort_by(f64::total_cmp);
            let ends: Vec<f64> = std::iter::once(a)
                .chain(cuts)
                .chain(std::iter::once(b))
                .collect();
            for w in ends.windows(2) {
                if w[1] - w[0] <= min_width {
                    continue;
                }
                let mid = 0.5 * (w[0] + w[1]);
                let options = options_at(&grads, &consts, &layer.activation, &[mid]);
                let map = AffineMap::after(&grads, &consts, &layer.activation, &options);
                next.push((w[0], w[1], map));
            }
        }
        pieces = next;
    }
    let patterns: HashSet<Vec<bool>> = pieces
        .iter()
        .map(|(a, b, _)| pattern_key(net, &[0.5 * (a + b)]))
        .collect();
    patterns.len()
}

type Polygon = Vec<[f64; 2]>;

fn area(poly: &Polygon) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (p, q) = (poly[i], poly[(i + 1) % n]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum::<f64>()
        .abs()
        * 0.5
}

/// Sutherland-Hodgman: the part of a convex polygon where `sign * (g . p + c) >= 0`.
fn clip(poly: &Polygon, g: &[f64], c: f64, sign: f64) -> Polygon {
    let value = |p: [f64; 2]| sign * (g[0] * p[0] + g[1] * p[1] + c);
    let mut out = Vec::new();
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let (vp, vq) = (value(p), value(q));
        if vp >= 0.0 {
            out.push(p);
        }
        if (vp > 0.0 && vq < 0.0) || (vp < 0.0 && vq > 0.0) {
            let t = vp / (vp - vq);
            out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
    }
    out
}

fn centroid(poly: &Polygon) -> [f64; 2] {
    let n = poly.len() as f64;
    let (x, y) = poly
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [x / n, y / n]
}

/// Exact number of distinct activation patterns of a 2-input network on `[lo, hi]^2`, by
/// splitting convex polygons with every unit's lines (breakpoints, maxout ties), layer
/// by layer.
pub fn count_2d(net: &Network, lo: f64, hi: f64) -> usize {
    count_2d_keeping(net, lo, hi, 1e-14 * (hi - lo) * (hi - lo))
}

/// [`count_2d`], keeping every piece larger than `min_area` (pieces below it are taken for
/// rounding slivers).
pub fn count_2d_keeping(net: &Network, lo: f64, hi: f64, min_area: f64) -> usize {
    assert_eq!(net.input_dim(), 2);
    let square: Polygon = vec![[lo, lo], [hi, lo], [hi, hi], [lo, hi]];
    let mut cells = vec![(square, AffineMap::identity(2))];
    for layer in net.hidden_layers() {
        let mut next = Vec::new();
        for (poly, map) in cells {
            let (grads, consts) = map.through(layer);
            let mut pieces = vec![poly];
            for (g, c) in cuts(&grads, &consts, &layer.activation) {
                if g[0] == 0.0 && g[1] == 0.0 {
                    continue;
                }
                pieces = pieces
                    .iter()
                    .flat_map(|p| [clip(p, &g, c, 1.0), clip(p, &g, c, -1.0)])
                    .filter(|p| p.len() >= 3 && area(p) > min_area)
                    .collect();
            }
            for piece in pieces {
                let m = centroid(&piece);
                let options = options_at(&grads, &consts, &layer.activation, &m);
                next.push((
                    piece,
                    AffineMap::after(&grads, &consts, &layer.activation, &options),
                ));
            }
        }
        cells = next;
    }
    let patterns: HashSet<Vec<bool>> = cells
        .iter()
        .map(|(poly, _)| {
            let m = centroid(poly);
            pattern_key(net, &m)
        })
        .collect();
    patterns.len()
}

/// Distinct patterns at the centres of an `n x n` grid on `[lo, hi]^2` (a lower bound).
pub fn count_grid_2d(net: &Network, lo: f64, hi: f64, n: usize) -> usize {
    let step = (hi - lo) / n as f64;
    let mut patterns = HashSet::new();
    for i in 0..n {
        for j in 0..n {
            let x = [lo + (i as f64 + 0.5) * step, lo + (j as f64 + 0.5) * step];
            patterns.insert(pattern_key(net, &x));
        }
    }
    patterns.len()
}

/// Solves a small square linear system by Gaussian elimination with partial pivoting.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (v, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}
