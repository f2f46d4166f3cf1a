//! Local region counts: the exact number of linear regions in the l-infinity ball of radius
//! R around each point, intersected with the input box.
//!
//! The ball around `x`, cut to the input box `[lo, hi]`, is itself a box,
//! `[max(lo_i, x_i - R), min(hi_i, x_i + R)]`, so each point's count is an ordinary exact
//! count ([`crate::count::count`]) over that box. When a per-point time limit stops it, the
//! regions found so far are a certain lower bound, and MIPBound trials
//! ([`crate::estimate::estimate`]) on the same ball add a probabilistic one.
//!
//! In segments mode the domains are instead the segments between consecutive points, each
//! searched in u-space as `--domain segment` is ([`crate::domains::segment`]): the number of
//! regions the segment crosses, and that number per unit (Euclidean) length.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_parity::XorWidth;
use serde::{Deserialize, Serialize};

use crate::count::{CountSettings, count};
use crate::distribution::{Histogram, Quantiles};
use crate::domains::segment;
use crate::estimate::{EstimateSettings, estimate};
use crate::points::Points;
use crate::problem::{NetworkSummary, Problem, network_hash};
use crate::run::{NoProgress, Run, Task};
use crate::{VERSION, limits};

/// The kind of an exact count.
pub const EXACT: &str = "exact";
/// The kind of a count stopped early: every region found is real.
pub const CERTAIN_LOWER_BOUND: &str = "lower bound (certain)";

/// Bins of the histogram of counts, at most.
const HISTOGRAM_BINS: usize = 20;

/// What a local run computes.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSettings {
    /// Radius R of the l-infinity balls (unused in segments mode).
    pub radius: f64,
    /// Count along the segments between consecutive points instead of in balls.
    pub segments: bool,
    /// The exact counts; `time_limit` is per point.
    pub count: CountSettings,
    /// The MIPBound trials run on a ball whose count the time limit stopped (widths,
    /// trials, confidence, seed, time budget per point); the exact count and the
    /// activation bound of an estimate are never run here.
    pub fallback: EstimateSettings,
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            radius: 0.01,
            segments: false,
            count: CountSettings::default(),
            fallback: EstimateSettings {
                widths: vec![XorWidth::Fixed(3)],
                confidence: Some(0.99),
                activation_bound: false,
                ..EstimateSettings::default()
            },
        }
    }
}

impl LocalSettings {
    /// Refuses settings no run can use.
    pub fn check(&self) -> Result<()> {
        let r = self.radius;
        let valid = r.is_finite() && r > 0.0;
        if !self.segments && !valid {
            bail!("--radius {r}: must be a finite number > 0");
        }
        self.count.check()?;
        self.fallback.plan()?;
        limits::check_seconds(&[("--time-limit", self.fallback.time_limit)])
    }

    fn fallback(&self) -> EstimateSettings {
        EstimateSettings {
            exact: false,
            activation_bound: false,
            ..self.fallback.clone()
        }
    }
}

/// The ball of radius `radius` around `point`, cut to the box `input` (`None`: not cut):
/// itself a box. Refused when a coordinate lies the radius or more outside the box.
pub fn ball(point: &[f64], radius: f64, input: Option<&Domain>) -> Result<Domain> {
    let mut lower: Vec<f64> = point.iter().map(|x| x - radius).collect();
    let mut upper: Vec<f64> = point.iter().map(|x| x + radius).collect();
    if let Some(input) = input {
        input.check_dim(point.len())?;
        for c in 0..point.len() {
            let (lo, hi) = (input.lower()[c], input.upper()[c]);
            lower[c] = lower[c].max(lo);
            upper[c] = upper[c].min(hi);
            if lower[c] >= upper[c] {
                bail!(
                    "coordinate {c} = {} lies at least the radius {radius} outside the input box [{lo}, {hi}]",
                    point[c]
                );
            }
        }
    }
    Ok(Domain::new(lower, upper)?)
}

/// Refuses points of the wrong dimension or with non-finite coordinates (points read by
/// [`crate::points::PointSource::read`] are already checked).
fn check_points(points: &Points, dim: usize) -> Result<()> {
    if points.points.is_empty() {
        bail!("{}: holds no point", points.name);
    }
    for (i, p) in points.points.iter().enumerate() {
        if p.len() != dim {
            bail!(
                "{}: point {i} has {} coordinates but the network has {dim} inputs",
                points.name,
                p.len()
            );
        }
        if let Some(v) = p.iter().find(|v| !v.is_finite()) {
            bail!(
                "{}: point {i} has the non-finite coordinate {v}",
                points.name
            );
        }
    }
    Ok(())
}

/// The MIPBound lower bound of one ball.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackBound {
    /// The smallest count the bound allows, as decimal text (1 when trivial).
    pub value: String,
    /// Its log2 (the bound is `2^log2`).
    pub log2: f64,
    /// Probability that it holds.
    pub confidence: f64,
    /// `lower bound (p >= 0.99)`.
    pub kind: String,
    /// The XOR width that gave it.
    pub xor: String,
    /// Seconds of the trials.
    pub seconds: f64,
}

/// One point's local count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointReport {
    /// Index of the point (row of the file, or test image).
    pub index: usize,
    /// Its label, when known.
    pub label: Option<u8>,
    /// Regions found in the ball: all of them when `complete`.
    pub regions: u64,
    /// `exact` or `lower bound (certain)`.
    pub kind: String,
    /// Whether `regions` is the exact count.
    pub complete: bool,
    /// The count's status: `complete`, `time limit`, `interrupted`, `undecided verdicts`.
    pub status: String,
    /// Seconds for this point: count and MIPBound trials.
    pub seconds: f64,
    /// Seconds of the count.
    pub count_seconds: f64,
    /// Margin LPs of the count.
    pub lp_solves: u64,
    /// Hidden units whose sign is not proven constant on the ball (by the count's bounds).
    pub unstable_units: usize,
    /// The MIPBound lower bound, when the count was stopped by its time limit.
    pub mipbound: Option<FallbackBound>,
    /// Segments mode: the segment runs from point `index` to point `index + 1`.
    pub segment: Option<SegmentInfo>,
}

/// What a segment adds to its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// The label of its end point, when known (`label` is its start's).
    pub end_label: Option<u8>,
    /// Its Euclidean length.
    pub length: f64,
    /// `regions / length`.
    pub regions_per_unit_length: f64,
}

impl PointReport {
    /// The best lower bound this point has (the certain one or the MIPBound one), as log2.
    pub fn best_log2(&self) -> f64 {
        let certain = (self.regions.max(1) as f64).log2();
        self.mipbound
            .as_ref()
            .map_or(certain, |m| certain.max(m.log2))
    }
}

/// The summary of the counts and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalSummary {
    /// Points counted.
    pub points: usize,
    /// Of which exactly.
    pub exact: usize,
    /// Of which only to a certain lower bound (their `regions` is a lower bound, and so are
    /// the statistics below when this is not 0).
    pub lower_bounds: usize,
    /// Of the `regions` column.
    pub regions: Option<Quantiles>,
    /// Of the seconds per point.
    pub seconds: Option<Quantiles>,
    /// Segments mode: of the regions per unit length.
    pub regions_per_unit_length: Option<Quantiles>,
    /// Of the `regions` column.
    pub histogram: Histogram,
}

impl LocalSummary {
    /// The summary of `points`.
    pub fn of(points: &[PointReport]) -> Self {
        let regions: Vec<f64> = points.iter().map(|p| p.regions as f64).collect();
        let seconds: Vec<f64> = points.iter().map(|p| p.seconds).collect();
        let exact = points.iter().filter(|p| p.complete).count();
        let density: Vec<f64> = points
            .iter()
            .filter_map(|p| p.segment.as_ref().map(|s| s.regions_per_unit_length))
            .collect();
        Self {
            regions_per_unit_length: Quantiles::of(&density),
            points: points.len(),
            exact,
            lower_bounds: points.len() - exact,
            regions: Quantiles::of(&regions),
            seconds: Quantiles::of(&seconds),
            histogram: Histogram::of_counts(&regions, HISTOGRAM_BINS),
        }
    }
}

/// The result of a local run; its JSON is `mipbound local --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalResult {
    /// `local`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network, and the balls as its domain.
    pub network: NetworkSummary,
    /// Where the points came from.
    pub points_source: String,
    /// Points given (more than `points` holds when interrupted).
    pub points_given: usize,
    /// `balls` or `segments`.
    pub mode: String,
    /// Radius of the l-infinity balls (balls mode).
    pub radius: Option<f64>,
    /// Time limit of each point's count.
    pub time_limit: Option<f64>,
    /// One report per point (segment) counted, in order.
    pub points: Vec<PointReport>,
    /// Their summary.
    pub summary: LocalSummary,
    /// Whether Ctrl-C (a cancel) stopped the run.
    pub interrupted: bool,
    /// Worker threads of each count.
    pub threads: usize,
    /// Seconds in all.
    pub seconds: f64,
}

impl LocalResult {
    /// One CSV row per point.
    pub fn csv_rows(&self) -> Vec<PointCsvRow<'_>> {
        self.points.iter().map(PointCsvRow::from).collect()
    }

    /// One CSV row per segment (segments mode; points mode gives none).
    pub fn segment_csv_rows(&self) -> Vec<SegmentCsvRow<'_>> {
        self.points
            .iter()
            .filter_map(|p| {
                let s = p.segment.as_ref()?;
                Some(SegmentCsvRow {
                    segment: p.index,
                    from: p.index,
                    to: p.index + 1,
                    from_label: p.label,
                    to_label: s.end_label,
                    regions: p.regions,
                    kind: &p.kind,
                    length: s.length,
                    regions_per_unit_length: s.regions_per_unit_length,
                    complete: p.complete,
                    status: &p.status,
                    seconds: p.seconds,
                    mipbound_regions: p.mipbound.as_ref().map(|m| m.value.as_str()),
                    mipbound_kind: p.mipbound.as_ref().map(|m| m.kind.as_str()),
                })
            })
            .collect()
    }
}

/// One CSV row of `mipbound local --segments --csv`.
#[derive(Debug, Serialize)]
pub struct SegmentCsvRow<'a> {
    /// Index of the segment (it runs from point `from` to point `to`).
    pub segment: usize,
    /// Its start point.
    pub from: usize,
    /// Its end point.
    pub to: usize,
    /// The start's label (empty when unknown).
    pub from_label: Option<u8>,
    /// The end's label (empty when unknown).
    pub to_label: Option<u8>,
    /// Regions crossed (a lower bound unless complete).
    pub regions: u64,
    /// `exact` or `lower bound (certain)`.
    pub kind: &'a str,
    /// Euclidean length of the segment.
    pub length: f64,
    /// `regions / length`.
    pub regions_per_unit_length: f64,
    /// Whether `regions` is exact.
    pub complete: bool,
    /// The count's status.
    pub status: &'a str,
    /// Seconds for the segment.
    pub seconds: f64,
    /// MIPBound: the smallest count allowed.
    pub mipbound_regions: Option<&'a str>,
    /// MIPBound: `lower bound (p >= ...)`.
    pub mipbound_kind: Option<&'a str>,
}

/// One CSV row of `mipbound local --csv`.
#[derive(Debug, Serialize)]
pub struct PointCsvRow<'a> {
    /// Index of the point.
    pub index: usize,
    /// Its label (empty when unknown).
    pub label: Option<u8>,
    /// Regions in the ball (a lower bound unless complete).
    pub regions: u64,
    /// `exact` or `lower bound (certain)`.
    pub kind: &'a str,
    /// Whether `regions` is exact.
    pub complete: bool,
    /// The count's status.
    pub status: &'a str,
    /// Seconds for the point.
    pub seconds: f64,
    /// Seconds of the count.
    pub count_seconds: f64,
    /// Hidden units not proven stable on the ball.
    pub unstable_units: usize,
    /// MIPBound: the smallest count allowed.
    pub mipbound_regions: Option<&'a str>,
    /// MIPBound: log2 of the bound.
    pub mipbound_log2: Option<f64>,
    /// MIPBound: `lower bound (p >= ...)`.
    pub mipbound_kind: Option<&'a str>,
    /// MIPBound: probability that the bound holds.
    pub mipbound_confidence: Option<f64>,
    /// MIPBound: the XOR width.
    pub mipbound_xor: Option<&'a str>,
    /// MIPBound: seconds of the trials.
    pub mipbound_seconds: Option<f64>,
}

impl<'a> From<&'a PointReport> for PointCsvRow<'a> {
    fn from(p: &'a PointReport) -> Self {
        let m = p.mipbound.as_ref();
        Self {
            index: p.index,
            label: p.label,
            regions: p.regions,
            kind: &p.kind,
            complete: p.complete,
            status: &p.status,
            seconds: p.seconds,
            count_seconds: p.count_seconds,
            unstable_units: p.unstable_units,
            mipbound_regions: m.map(|m| m.value.as_str()),
            mipbound_log2: m.map(|m| m.log2),
            mipbound_kind: m.map(|m| m.kind.as_str()),
            mipbound_confidence: m.map(|m| m.confidence),
            mipbound_xor: m.map(|m| m.xor.as_str()),
            mipbound_seconds: m.map(|m| m.seconds),
        }
    }
}

/// `lower bound (p >= 0.99)`: the confidence rounded down to three decimals.
pub fn probabilistic_kind(confidence: f64) -> String {
    let floor = ((confidence * 1000.0) + 1e-9).floor() / 1000.0;
    format!("lower bound (p >= {floor})")
}

/// Counts the regions of `network` (read from `source`) in the ball around every point, in
/// order, each ball cut to `input_box` (`None`: not cut). A cancel stops the run after the
/// point being counted (whose partial count is kept as a certain lower bound); the result
/// then holds the points done so far.
pub fn local(
    network: &Network,
    source: &str,
    input_box: Option<&Domain>,
    points: &Points,
    settings: &LocalSettings,
    run: &Run<'_>,
) -> Result<LocalResult> {
    settings.check()?;
    check_points(points, network.input_dim())?;
    // Every domain is checked before the first count, not after hours of them.
    let domains = if settings.segments {
        if points.points.len() < 2 {
            bail!("{}: --segments needs at least two points", points.name);
        }
        points
            .points
            .windows(2)
            .enumerate()
            .map(|(i, ab)| {
                let what = format!("{}: segment from point {i} to point {}", points.name, i + 1);
                // The box is convex: a segment between two of its points needs no clipping
                // (and no rows that only rounding would fail to show implied).
                let clip = input_box.filter(|b| !(b.contains(&ab[0]) && b.contains(&ab[1])));
                let built = segment(network, clip, &ab[0], &ab[1], what)?;
                Problem::from_built(network.clone(), source, built)
            })
            .collect::<Result<Vec<Problem>>>()?
    } else {
        points
            .points
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let domain = ball(x, settings.radius, input_box)
                    .with_context(|| format!("{}: point {i}", points.name))?;
                Problem::new(network.clone(), domain, source)
            })
            .collect::<Result<Vec<Problem>>>()?
    };
    let start = Instant::now();
    let progress = run.progress.task(Task::Points {
        total: domains.len() as u64,
    });
    let fallback = settings.fallback();
    let mut reports = Vec::new();
    for (index, near) in domains.into_iter().enumerate() {
        let counted = count(&near, &settings.count, run, None)?;
        let interrupted = counted.interrupted();
        let mipbound = if counted.complete || interrupted {
            None
        } else {
            let quiet = Run {
                progress: &NoProgress,
                ..*run
            };
            let e = estimate(&near, &fallback, &quiet)?;
            e.best_lower_bound.map(|b| FallbackBound {
                kind: probabilistic_kind(b.confidence),
                value: if b.log2 <= 0.0 { "1".into() } else { b.value },
                log2: b.log2,
                confidence: b.confidence,
                xor: b.xor,
                seconds: e.seconds,
            })
        };
        let report = PointReport {
            index,
            label: points.labels.as_ref().and_then(|l| l.get(index).copied()),
            regions: counted.regions,
            kind: if counted.complete {
                EXACT
            } else {
                CERTAIN_LOWER_BOUND
            }
            .into(),
            complete: counted.complete,
            status: counted.status.clone(),
            seconds: counted.seconds + mipbound.as_ref().map_or(0.0, |m| m.seconds),
            count_seconds: counted.seconds,
            lp_solves: counted.lp_solves,
            unstable_units: counted.stable_units.iter().map(|s| s.unstable).sum(),
            segment: settings.segments.then(|| {
                let (a, b) = (&points.points[index], &points.points[index + 1]);
                let length = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f64>()
                    .sqrt();
                SegmentInfo {
                    end_label: points
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(index + 1).copied()),
                    length,
                    regions_per_unit_length: counted.regions as f64 / length,
                }
            }),
            mipbound,
        };
        progress.advance(1);
        progress.note(&format!("point {index}: {} regions", report.regions));
        reports.push(report);
        if interrupted || run.cancel.is_cancelled() {
            break;
        }
    }
    progress.finish();
    Ok(LocalResult {
        command: "local".into(),
        version: VERSION.into(),
        network: NetworkSummary {
            path: source.into(),
            hash: network_hash(network),
            input_dim: network.input_dim(),
            hidden_widths: network.hidden_widths(),
            parameters: network.num_parameters(),
            domain: format!(
                "{}, {}",
                if settings.segments {
                    format!(
                        "the {} segments between consecutive points",
                        points.points.len() - 1
                    )
                } else {
                    format!(
                        "l-infinity balls of radius {} around {} points",
                        settings.radius,
                        points.points.len()
                    )
                },
                input_box.map_or("not cut (no input box)".into(), |b| format!(
                    "cut to the input box {}",
                    b.describe()
                ))
            ),
        },
        points_source: points.name.clone(),
        points_given: points.points.len(),
        mode: if settings.segments {
            "segments"
        } else {
            "balls"
        }
        .into(),
        radius: (!settings.segments).then_some(settings.radius),
        time_limit: settings.count.time_limit,
        summary: LocalSummary::of(&reports),
        interrupted: run.cancel.is_cancelled(),
        points: reports,
        threads: run.threads,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balls_are_cut_to_the_box() {
        let unit = Domain::unit_box(3);
        let b = ball(&[0.05, 0.5, 0.98], 0.1, Some(&unit)).unwrap();
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
        assert!(close(b.lower(), &[0.0, 0.4, 0.88]));
        assert!(close(b.upper(), &[0.15, 0.6, 1.0]));
        let free = ball(&[0.5, 1.2, 0.5], 0.1, None).unwrap();
        assert!(close(free.upper(), &[0.6, 1.3, 0.6]));
        let err = ball(&[0.5, 1.2, 0.5], 0.1, Some(&unit))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "coordinate 1 = 1.2 lies at least the radius 0.1 outside the input box [0, 1]"
        );
        assert_eq!(probabilistic_kind(0.99), "lower bound (p >= 0.99)");
        assert_eq!(probabilistic_kind(0.9606), "lower bound (p >= 0.96)");
        assert_eq!(
            probabilistic_kind(1.0 - 1.0 / 128.0),
            "lower bound (p >= 0.992)"
        );
    }
}
