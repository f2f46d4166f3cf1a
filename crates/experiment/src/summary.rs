//! The study summary: correlations of region counts and bounds with test accuracy, and a
//! per-split table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::records::BatchRecord;
use crate::study::StudyConfig;

/// Pearson's correlation coefficient; `None` with fewer than 3 points or no spread.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 3 || n != ys.len() {
        return None;
    }
    let (mx, my) = (mean(xs), mean(ys));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Ranks from 1, ties sharing their average rank.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation: Pearson on the ranks.
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    pearson(&ranks(xs), &ranks(ys))
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn mean_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| mean(&v))
}

/// Correlations of one quantity with test accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// What is correlated with accuracy.
    pub quantity: String,
    /// Over every network with both values.
    pub pearson: Option<f64>,
    /// Idem, ranks.
    pub spearman: Option<f64>,
    /// Networks used.
    pub n: usize,
    /// Over the networks whose narrowest layer is at least the configured width.
    pub pearson_wide: Option<f64>,
    /// Idem, ranks.
    pub spearman_wide: Option<f64>,
    /// Networks used.
    pub n_wide: usize,
}

/// Means over the networks of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRow {
    /// First hidden width.
    pub n1: usize,
    /// Second hidden width.
    pub n2: usize,
    /// Networks measured.
    pub networks: usize,
    /// Mean test accuracy.
    pub accuracy: Option<f64>,
    /// Networks whose exact count completed.
    pub exact_complete: usize,
    /// Mean log2 of the completed exact counts.
    pub exact_log2: Option<f64>,
    /// Mean log2 of the MBound lower bound, per XOR width.
    pub lower_bound_log2: Vec<(String, Option<f64>)>,
    /// Mean log2 of the activation-based upper bound.
    pub activation_log2: Option<f64>,
    /// log2 of Theorem 1 (the same for the whole split).
    pub theorem1_log2: Option<f64>,
    /// Mean seconds of the exact counts.
    pub exact_seconds: Option<f64>,
    /// Mean seconds of MIPBound (all widths).
    pub mipbound_seconds: Option<f64>,
}

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyReport {
    /// Study name.
    pub name: String,
    /// Networks in the results.
    pub networks: usize,
    /// Width threshold of the "wide" correlations.
    pub min_narrowest_width: usize,
    /// One row per quantity.
    pub correlations: Vec<Correlation>,
    /// One row per split.
    pub splits: Vec<SplitRow>,
}

/// A quantity read off a record.
type Quantity = Box<dyn Fn(&BatchRecord) -> Option<f64>>;

/// Every quantity correlated with accuracy: its name and its value on a record.
fn quantities(records: &[BatchRecord]) -> Vec<(String, Quantity)> {
    let mut q: Vec<(String, Quantity)> = vec![(
        "log2 regions (exact, complete counts)".into(),
        Box::new(BatchRecord::exact_log2),
    )];
    let widths: Vec<String> = records
        .first()
        .map(|r| r.mipbound.iter().map(|w| w.xor.clone()).collect())
        .unwrap_or_default();
    for (i, k) in widths.into_iter().enumerate() {
        q.push((
            format!("log2 lower bound, xor {k}"),
            Box::new(move |r: &BatchRecord| r.mipbound.get(i).and_then(|w| w.lower_bound_log2)),
        ));
    }
    q.push((
        "log2 activation-based upper bound".into(),
        Box::new(|r: &BatchRecord| r.activation_bound_log2),
    ));
    q.push((
        "log2 Theorem 1 upper bound".into(),
        Box::new(|r: &BatchRecord| r.theorem1_log2),
    ));
    q
}

/// Correlations and the per-split table.
pub fn summarize(config: &StudyConfig, records: &[BatchRecord]) -> StudyReport {
    let wide = config.summary.min_narrowest_width;
    let correlations = quantities(records)
        .into_iter()
        .map(|(name, value)| {
            let pairs = |filter: &dyn Fn(&BatchRecord) -> bool| -> (Vec<f64>, Vec<f64>) {
                records
                    .iter()
                    .filter(|r| filter(r))
                    .filter_map(|r| Some((value(r)?, r.test_accuracy?)))
                    .unzip()
            };
            let (xs, ys) = pairs(&|_| true);
            let (wx, wy) = pairs(&|r| r.narrowest() >= wide);
            Correlation {
                quantity: name,
                pearson: pearson(&xs, &ys),
                spearman: spearman(&xs, &ys),
                n: xs.len(),
                pearson_wide: pearson(&wx, &wy),
                spearman_wide: spearman(&wx, &wy),
                n_wide: wx.len(),
            }
        })
        .collect();
    let mut splits: Vec<(usize, usize)> = records
        .iter()
        .filter(|r| r.hidden_widths.len() == 2)
        .map(|r| (r.hidden_widths[0], r.hidden_widths[1]))
        .collect();
    splits.sort_unstable();
    splits.dedup();
    let splits = splits
        .into_iter()
        .map(|(n1, n2)| {
            let group: Vec<&BatchRecord> = records
                .iter()
                .filter(|r| r.hidden_widths == [n1, n2])
                .collect();
            let widths: Vec<String> = group[0].mipbound.iter().map(|w| w.xor.clone()).collect();
            SplitRow {
                n1,
                n2,
                networks: group.len(),
                accuracy: mean_of(group.iter().filter_map(|r| r.test_accuracy)),
                exact_complete: group.iter().filter(|r| r.exact_log2().is_some()).count(),
                exact_log2: mean_of(group.iter().filter_map(|r| r.exact_log2())),
                lower_bound_log2: widths
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let m = mean_of(group.iter().filter_map(|r| {
                            r.mipbound
                                .get(i)
                                .and_then(|w| w.lower_bound_log2)
                                .map(|l| l.max(0.0))
                        }));
                        (k.clone(), m)
                    })
                    .collect(),
                activation_log2: mean_of(group.iter().filter_map(|r| r.activation_bound_log2)),
                theorem1_log2: group[0].theorem1_log2,
                exact_seconds: mean_of(
                    group
                        .iter()
                        .filter_map(|r| r.exact.as_ref().map(|e| e.seconds)),
                ),
                mipbound_seconds: mean_of(group.iter().map(|r| r.mipbound_seconds)),
            }
        })
        .collect();
    StudyReport {
        name: config.name.clone(),
        networks: records.len(),
        min_narrowest_width: wide,
        correlations,
        splits,
    }
}

fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// The summary as Markdown tables.
pub fn markdown(config: &StudyConfig, r: &StudyReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {} networks\n", r.name, r.networks);
    let _ = writeln!(
        s,
        "Correlation with test accuracy (Pearson r / Spearman rho, n networks); \"wide\": narrowest layer >= {}.\n",
        r.min_narrowest_width
    );
    let _ = writeln!(
        s,
        "| quantity | Pearson | Spearman | n | Pearson (wide) | Spearman (wide) | n (wide) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for c in &r.correlations {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.quantity,
            cell(c.pearson, 3),
            cell(c.spearman, 3),
            c.n,
            cell(c.pearson_wide, 3),
            cell(c.spearman_wide, 3),
            c.n_wide
        );
    }
    let widths: Vec<String> = r
        .splits
        .first()
        .map(|row| {
            row.lower_bound_log2
                .iter()
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\nPer split (means; log2 values; lower bounds at confidence {} per width):\n",
        config.batch.confidence
    );
    let mut header = "| n1 | n2 | nets | accuracy | exact (complete) | log2 exact |".to_string();
    for k in &widths {
        header.push_str(&format!(" LB xor {k} |"));
    }
    header.push_str(" UB activation | UB Thm 1 | exact s | MIPBound s |");
    let _ = writeln!(s, "{header}");
    let _ = writeln!(
        s,
        "{}",
        "|---".repeat(header.matches('|').count() - 1) + "|"
    );
    for row in &r.splits {
        let mut line = format!(
            "| {} | {} | {} | {} | {}/{} | {} |",
            row.n1,
            row.n2,
            row.networks,
            cell(row.accuracy, 4),
            row.exact_complete,
            row.networks,
            cell(row.exact_log2, 2)
        );
        for (_, v) in &row.lower_bound_log2 {
            line.push_str(&format!(" {} |", cell(*v, 2)));
        }
        line.push_str(&format!(
            " {} | {} | {} | {} |",
            cell(row.activation_log2, 2),
            cell(row.theorem1_log2, 2),
            cell(row.exact_seconds, 1),
            cell(row.mipbound_seconds, 1)
        ));
        let _ = writeln!(s, "{line}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlations_of_known_data() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((pearson(&xs, &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&xs, &[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // Monotone but not linear: Spearman 1, Pearson below 1.
        let ys = [1.0, 4.0, 9.0, 16.0, 100.0];
        assert!((spearman(&xs, &ys).unwrap() - 1.0).abs() < 1e-12);
        assert!(pearson(&xs, &ys).unwrap() < 0.95);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        // scipy.stats.pearsonr([1,2,3,4,5],[2,1,4,3,5]) = 0.8
        assert!((pearson(&xs, &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap() - 0.8).abs() < 1e-12);
    }
}
