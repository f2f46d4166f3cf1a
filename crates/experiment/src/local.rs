//! Local region counts: the exact number of linear regions in the l-infinity ball of radius
//! R around each point, intersected with the input box.
//!
//! The ball around `x`, cut to the input box `[lo, hi]`, is itself a box,
//! `[max(lo_i, x_i - R), min(hi_i, x_i + R)]`, so each point's count is an ordinary exact
//! count ([`crate::count::count`]) over that box. When a per-point time limit stops it, the
//! regions found so far are a certain lower bound, and MIPBound trials
//! ([`crate::estimate::estimate`]) on the same ball add a probabilistic one.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_parity::XorWidth;
use serde::{Deserialize, Serialize};

use crate::count::{CountSettings, count};
use crate::distribution::{Histogram, Quantiles};
use crate::estimate::{EstimateSettings, estimate};
use crate::points::Points;
use crate::problem::{NetworkSummary, Problem};
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
    /// Radius R of the l-infinity balls.
    pub radius: f64,
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
        if !(r.is_finite() && r > 0.0) {
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

/// The ball of radius `radius` around `point`, cut to the box `input`: itself a box.
/// Refused when a coordinate lies farther than the radius outside the box.
pub fn ball(point: &[f64], radius: f64, input: &Domain) -> Result<Domain> {
    input.check_dim(point.len())?;
    let lower: Vec<f64> = point
        .iter()
        .zip(input.lower())
        .map(|(x, lo)| lo.max(x - radius))
        .collect();
    let upper: Vec<f64> = point
        .iter()
        .zip(input.upper())
        .map(|(x, hi)| hi.min(x + radius))
        .collect();
    if let Some(c) = (0..point.len()).find(|&c| lower[c] >= upper[c]) {
        bail!(
            "coordinate {c} = {} lies at least the radius {radius} outside the input box [{}, {}]",
            point[c],
            input.lower()[c],
            input.upper()[c]
        );
    }
    Ok(Domain::new(lower, upper)?)
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
    /// Of the `regions` column.
    pub histogram: Histogram,
}

impl LocalSummary {
    /// The summary of `points`.
    pub fn of(points: &[PointReport]) -> Self {
        let regions: Vec<f64> = points.iter().map(|p| p.regions as f64).collect();
        let seconds: Vec<f64> = points.iter().map(|p| p.seconds).collect();
        let exact = points.iter().filter(|p| p.complete).count();
        Self {
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
    /// The network and the input box.
    pub network: NetworkSummary,
    /// Where the points came from.
    pub points_source: String,
    /// Points given (more than `points` holds when interrupted).
    pub points_given: usize,
    /// Radius of the l-infinity balls.
    pub radius: f64,
    /// Time limit of each point's count.
    pub time_limit: Option<f64>,
    /// One report per point counted, in order.
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

/// Counts the regions in the ball around every point, in order. `problem`'s domain is the
/// input box the balls are cut to. A cancel stops the run after the point being counted
/// (whose partial count is kept as a certain lower bound); the result then holds the points
/// done so far.
pub fn local(
    problem: &Problem,
    points: &Points,
    settings: &LocalSettings,
    run: &Run<'_>,
) -> Result<LocalResult> {
    settings.check()?;
    if points.is_empty() {
        bail!("{}: no points", points.source);
    }
    points.check_dim(problem.network().input_dim())?;
    // Every ball is checked before the first count, not after hours of them.
    let balls = points
        .rows
        .iter()
        .enumerate()
        .map(|(i, x)| {
            ball(x, settings.radius, problem.domain())
                .with_context(|| format!("{}: point {i}", points.source))
        })
        .collect::<Result<Vec<Domain>>>()?;
    let start = Instant::now();
    let progress = run.progress.task(Task::Points {
        total: balls.len() as u64,
    });
    let fallback = settings.fallback();
    let mut reports = Vec::new();
    for (index, domain) in balls.into_iter().enumerate() {
        let near = Problem::new(problem.network().clone(), domain, problem.source())?;
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
        network: problem.summary(),
        points_source: points.source.clone(),
        points_given: points.len(),
        radius: settings.radius,
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
        let b = ball(&[0.05, 0.5, 0.98], 0.1, &unit).unwrap();
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
        assert!(close(b.lower(), &[0.0, 0.4, 0.88]));
        assert!(close(b.upper(), &[0.15, 0.6, 1.0]));
        let err = ball(&[0.5, 1.2, 0.5], 0.1, &unit).unwrap_err().to_string();
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
