//! The study's plots, as SVG and PNG (plotters): regions and bounds per split, lower bounds
//! against exact counts, MIPBound time against exact-count time, accuracy against regions.

use std::path::Path;

use anyhow::{Context, Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

use mipbound_experiment::records::BatchRecord;
use mipbound_experiment::study::StudyConfig;

/// One series of points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    joined: bool,
}

/// One chart.
struct Chart {
    file: &'static str,
    title: String,
    x_label: &'static str,
    y_label: &'static str,
    series: Vec<Series>,
    diagonal: bool,
}

/// The plots' palette (black, then the matplotlib tab10 colours), shared with the map sink.
pub const COLORS: [RGBColor; 8] = [
    RGBColor(0, 0, 0),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers a TrueType font for plotters' text (`MIPBOUND_FONT` or a system DejaVu Sans).
pub fn register_font() -> Result<()> {
    let env = std::env::var("MIPBOUND_FONT").ok();
    let path = env
        .iter()
        .map(String::as_str)
        .chain(FONT_PATHS.iter().copied())
        .find(|p| Path::new(p).exists());
    let Some(path) = path else {
        bail!(
            "no TrueType font for the plots: install fonts-dejavu-core or set MIPBOUND_FONT to a .ttf file"
        );
    };
    let bytes: &'static [u8] = Box::leak(
        std::fs::read(path)
            .with_context(|| format!("reading {path}"))?
            .into_boxed_slice(),
    );
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow::anyhow!("{path}: not a usable TrueType font"))
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    (lo - pad, hi + pad)
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err =
        |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("drawing {}: {e}", chart.file);
    root.fill(&WHITE).map_err(err)?;
    let all = || chart.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = range(all().map(|p| p.0));
    let (mut y0, mut y1) = range(all().map(|p| p.1));
    if chart.diagonal {
        (x0, y0) = (x0.min(y0), x0.min(y0));
        (x1, y1) = (x1.max(y1), x1.max(y1));
    }
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    if chart.diagonal {
        c.draw_series(LineSeries::new([(x0, x0), (x1, x1)], BLACK.mix(0.3)))
            .map_err(err)?;
    }
    for s in &chart.series {
        let color = s.color;
        if s.joined {
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?;
        }
        c.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?
            .label(&s.name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

fn charts(config: &StudyConfig, records: &[BatchRecord]) -> Vec<Chart> {
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
        color: COLORS[0],
        joined: true,
    }];
    for (i, k) in widths.iter().enumerate() {
        per_split.push(Series {
            name: format!("lower bound, xor {k}"),
            points: by_split(&|r: &BatchRecord| {
                r.mipbound.get(i)?.lower_bound_log2.map(|l| l.max(0.0))
            }),
            color: COLORS[1 + i % 4],
            joined: true,
        });
    }
    per_split.push(Series {
        name: "activation-based upper bound".into(),
        points: by_split(&|r: &BatchRecord| r.activation_bound_log2),
        color: COLORS[5],
        joined: true,
    });
    per_split.push(Series {
        name: "Theorem 1 upper bound".into(),
        points: by_split(&|r: &BatchRecord| r.theorem1_log2),
        color: COLORS[6],
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
            color: COLORS[1 + i % 4],
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
        color: COLORS[1],
        joined: false,
    }];
    let accuracy = vec![Series {
        name: "one network".into(),
        points: records
            .iter()
            .filter_map(|r| Some((r.exact_log2()?, r.test_accuracy?)))
            .collect(),
        color: COLORS[3],
        joined: false,
    }];
    vec![
        Chart {
            file: "regions-per-split",
            title: format!("{}: regions and bounds per split (means)", config.name),
            x_label: "n1 (first hidden layer; n2 = total - n1)",
            y_label: "log2",
            series: per_split,
            diagonal: false,
        },
        Chart {
            file: "lower-bound-vs-exact",
            title: format!("{}: MIPBound lower bound vs exact count", config.name),
            x_label: "log2 exact regions",
            y_label: "log2 lower bound",
            series: lb_vs_exact,
            diagonal: true,
        },
        Chart {
            file: "time-mipbound-vs-exact",
            title: format!("{}: MIPBound time vs exact-count time", config.name),
            x_label: "log10 seconds, exact count",
            y_label: "log10 seconds, MIPBound (all widths)",
            series: times,
            diagonal: true,
        },
        Chart {
            file: "accuracy-vs-regions",
            title: format!("{}: test accuracy vs regions", config.name),
            x_label: "log2 exact regions",
            y_label: "test accuracy",
            series: accuracy,
            diagonal: false,
        },
    ]
}

/// Writes every chart as `dir/<name>.svg` and `dir/<name>.png`; returns how many files.
pub fn draw_all(config: &StudyConfig, records: &[BatchRecord], dir: &Path) -> Result<usize> {
    register_font()?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for chart in charts(config, records) {
        let svg = dir.join(format!("{}.svg", chart.file));
        draw(
            SVGBackend::new(&svg, (900, 600)).into_drawing_area(),
            &chart,
        )?;
        let png = dir.join(format!("{}.png", chart.file));
        draw(
            BitMapBackend::new(&png, (900, 600)).into_drawing_area(),
            &chart,
        )?;
        written += 2;
    }
    Ok(written)
}
