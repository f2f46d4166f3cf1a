//! The study's charts as data: every series of points with its labels, drawn by the CLI
//! (plotters, SVG and PNG) and by the Python package (matplotlib figures).

use serde::{Deserialize, Serialize};

use crate::records::BatchRecord;

/// One series of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// Index into the front end's palette (0: black, then a categorical palette).
    pub color: usize,
    /// Whether the points are joined by a line.
    pub joined: bool,
}

/// One chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// File stem (`regions-per-split`, ...).
    pub file: String,
    /// Title.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
    /// Whether the diagonal y = x is drawn (and both axes share a range).
    pub diagonal: bool,
}

/// The study's charts drawn from its records (`name` titles them): regions and bounds per
/// split, lower bounds against exact counts, MIPBound time against exact-count time, test
/// accuracy against regions.
pub fn charts(name: &str, records: &[BatchRecord]) -> Vec<Chart> {
    let widths: Vec<String> = records
        .first()
        .map(|r| r.mipbound.iter().map(|w| w.xor.clone()).collect())
        .unwrap_or_default();
    let by_split = |f: &dyn Fn(&BatchRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        let mut splits: Vec<usize> = records
            .iter()
            .filter_map(|r| r.hidden_widths.first().copied())
            .collect();
        splits.sort_unstable();
        splits.dedup();
        splits
            .into_iter()
            .filter_map(|n1| {
                let v: Vec<f64> = records
                    .iter()
                    .filter(|r| r.hidden_widths.first() == Some(&n1))
                    .filter_map(f)
                    .collect();
                (!v.is_empty()).then(|| (n1 as f64, v.iter().sum::<f64>() / v.len() as f64))
            })
            .collect()
    };
    let mut per_split = vec![Series {
        name: "exact (complete counts)".into(),
        points: by_split(&BatchRecord::exact_log2),
        color: 0,
        joined: true,
    }];
    for (i, k) in widths.iter().enumerate() {
        per_split.push(Series {
            name: format!("lower bound, xor {k}"),
            points: by_split(&|r: &BatchRecord| {
                r.mipbound.get(i)?.lower_bound_log2.map(|l| l.max(0.0))
            }),
            color: 1 + i % 4,
            joined: true,
        });
    }
    per_split.push(Series {
        name: "activation-based upper bound".into(),
        points: by_split(&|r: &BatchRecord| r.activation_bound_log2),
        color: 5,
        joined: true,
    });
    per_split.push(Series {
        name: "Theorem 1 upper bound".into(),
        points: by_split(&|r: &BatchRecord| r.theorem1_log2),
        color: 6,
        joined: true,
    });
    let lb_vs_exact = widths
        .iter()
        .enumerate()
        .map(|(i, k)| Series {
            name: format!("xor {k}"),
            points: records
                .iter()
                .filter_map(|r| {
                    Some((
                        r.exact_log2()?,
                        r.mipbound.get(i)?.lower_bound_log2?.max(0.0),
                    ))
                })
                .collect(),
            color: 1 + i % 4,
            joined: false,
        })
        .collect();
    let times = vec![Series {
        name: "one network".into(),
        points: records
            .iter()
            .filter_map(|r| {
                let e = r.exact.as_ref().filter(|e| e.complete)?;
                Some((
                    e.seconds.max(1e-3).log10(),
                    r.mipbound_seconds.max(1e-3).log10(),
                ))
            })
            .collect(),
        color: 1,
        joined: false,
    }];
    let accuracy = vec![Series {
        name: "one network".into(),
        points: records
            .iter()
            .filter_map(|r| Some((r.exact_log2()?, r.test_accuracy?)))
            .collect(),
        color: 3,
        joined: false,
    }];
    vec![
        Chart {
            file: "regions-per-split".into(),
            title: format!("{}: regions and bounds per split (means)", name),
            x_label: "n1 (first hidden layer; n2 = total - n1)".into(),
            y_label: "log2".into(),
            series: per_split,
            diagonal: false,
        },
        Chart {
            file: "lower-bound-vs-exact".into(),
            title: format!("{}: MIPBound lower bound vs exact count", name),
            x_label: "log2 exact regions".into(),
            y_label: "log2 lower bound".into(),
            series: lb_vs_exact,
            diagonal: true,
        },
        Chart {
            file: "time-mipbound-vs-exact".into(),
            title: format!("{}: MIPBound time vs exact-count time", name),
            x_label: "log10 seconds, exact count".into(),
            y_label: "log10 seconds, MIPBound (all widths)".into(),
            series: times,
            diagonal: true,
        },
        Chart {
            file: "accuracy-vs-regions".into(),
            title: format!("{}: test accuracy vs regions", name),
            x_label: "log2 exact regions".into(),
            y_label: "test accuracy".into(),
            series: accuracy,
            diagonal: false,
        },
    ]
}
