//! Summaries of a list of numbers: mean, quantiles, and a histogram.

use serde::{Deserialize, Serialize};

/// Mean, quantiles and extremes of a non-empty list of numbers. Quantiles interpolate
/// linearly between order statistics (numpy's default, Hyndman & Fan type 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// How many numbers.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest.
    pub min: f64,
    /// 10% quantile.
    pub p10: f64,
    /// 25% quantile (first quartile).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// 75% quantile (third quartile).
    pub q3: f64,
    /// 90% quantile.
    pub p90: f64,
    /// Largest.
    pub max: f64,
}

impl Quantiles {
    /// The summary of `values`, or `None` when there are none (or one is NaN).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| quantile(&sorted, p);
        Some(Self {
            n: sorted.len(),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            min: sorted[0],
            p10: q(0.1),
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            p90: q(0.9),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The `p` quantile of sorted, non-empty `sorted` (type 7).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Bins of equal width, on a linear or a log10 scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `linear` or `log10`: the scale the bins are equal on (the edges are in the values'
    /// own units either way).
    pub scale: String,
    /// The bins, left to right; each holds the values in `[lo, hi)`, the last one `[lo, hi]`.
    pub bins: Vec<Bin>,
}

/// One bin of a [`Histogram`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Left edge.
    pub lo: f64,
    /// Right edge.
    pub hi: f64,
    /// How many values fall in it.
    pub count: usize,
}

impl Histogram {
    /// A histogram of counts (non-negative integers as `f64`): on a log10 scale when they are
    /// all positive and span more than a factor of 50, else on a linear scale with bins of
    /// a whole width. At most `max_bins` bins (at least 1).
    pub fn of_counts(values: &[f64], max_bins: usize) -> Self {
        let max_bins = max_bins.max(1);
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            return Self {
                scale: "linear".into(),
                bins: Vec::new(),
            };
        }
        if lo > 0.0 && hi / lo > 50.0 {
            let (a, b) = (lo.log10(), hi.log10());
            let width = (b - a) / max_bins as f64;
            let edges: Vec<f64> = (0..=max_bins)
                .map(|i| 10f64.powf(a + width * i as f64))
                .collect();
            let mut bins = bins_from(&edges);
            for &v in values {
                let i = (((v.log10() - a) / width) as usize).min(max_bins - 1);
                bins[i].count += 1;
            }
            // The edges are exact at both ends whatever the rounding of powf.
            bins[0].lo = lo;
            bins[max_bins - 1].hi = hi;
            return Self {
                scale: "log10".into(),
                bins,
            };
        }
        let span = (hi - lo).floor() as usize + 1;
        let width = span.div_ceil(max_bins).max(1) as f64;
        let n = ((hi - lo) / width).floor() as usize + 1;
        let edges: Vec<f64> = (0..=n).map(|i| lo + width * i as f64).collect();
        let mut bins = bins_from(&edges);
        for &v in values {
            bins[(((v - lo) / width) as usize).min(n - 1)].count += 1;
        }
        Self {
            scale: "linear".into(),
            bins,
        }
    }
}

fn bins_from(edges: &[f64]) -> Vec<Bin> {
    edges
        .windows(2)
        .map(|w| Bin {
            lo: w[0],
            hi: w[1],
            count: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.1, 0.25, 0.5, 0.75, 0.9]) = 1.4, 2, 3, 4, 7.6
        let q = Quantiles::of(&[10.0, 2.0, 4.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            (q.min, q.q1, q.median, q.q3, q.max),
            (1.0, 2.0, 3.0, 4.0, 10.0)
        );
        assert!((q.p10 - 1.4).abs() < 1e-12 && (q.p90 - 7.6).abs() < 1e-12);
        assert_eq!(q.mean, 4.0);
        assert_eq!(Quantiles::of(&[]), None);
        let one = Quantiles::of(&[7.0]).unwrap();
        assert_eq!((one.q1, one.median, one.p90), (7.0, 7.0, 7.0));
    }

    #[test]
    fn histograms_hold_every_value_once() {
        let small = Histogram::of_counts(&[3.0, 4.0, 4.0, 8.0], 20);
        assert_eq!(small.scale, "linear");
        let counts: Vec<usize> = small.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 2, 0, 0, 0, 1]);
        assert_eq!((small.bins[0].lo, small.bins[5].hi), (3.0, 9.0));
        let wide = Histogram::of_counts(&[10.0, 100.0, 1000.0, 10000.0], 3);
        assert_eq!(wide.scale, "log10");
        let counts: Vec<usize> = wide.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 1, 2]);
        assert_eq!((wide.bins[0].lo, wide.bins[2].hi), (10.0, 10000.0));
        let coarse = Histogram::of_counts(&[0.0, 99.0], 10);
        assert_eq!(coarse.bins.len(), 10);
        assert_eq!(coarse.bins.iter().map(|b| b.count).sum::<usize>(), 2);
        assert!(Histogram::of_counts(&[], 5).bins.is_empty());
    }
}
