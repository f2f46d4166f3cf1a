//! The plots, as SVG and PNG (plotters): the study's (regions and bounds per split, lower
//! bounds against exact counts, MIPBound time against exact-count time, accuracy against
//! regions) and bar charts (the histogram of `local`), on the same font, colours and axes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

use mipbound_experiment::charts::{Chart, charts};
use mipbound_experiment::records::BatchRecord;
use mipbound_experiment::study::StudyConfig;

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
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    if chart.diagonal {
        c.draw_series(LineSeries::new([(x0, x0), (x1, x1)], BLACK.mix(0.3)))
            .map_err(err)?;
    }
    for s in &chart.series {
        let color = COLORS[s.color % COLORS.len()];
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

/// Writes every chart as `dir/<name>.svg` and `dir/<name>.png`; returns how many files.
pub fn draw_all(config: &StudyConfig, records: &[BatchRecord], dir: &Path) -> Result<usize> {
    register_font()?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for chart in charts(&config.name, records) {
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

/// A histogram drawn as bars `[x0, x1] x [0, height]`.
pub struct BarChart {
    /// Title above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// `(x0, x1, height)` per bar.
    pub bars: Vec<(f64, f64, f64)>,
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &BarChart,
    file: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("drawing {file}: {e}");
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1) = range(chart.bars.iter().flat_map(|b| [b.0, b.1]));
    let top = chart.bars.iter().map(|b| b.2).fold(1.0, f64::max).ceil() + 1.0;
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0.0..top)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        // Whole numbers of points: no more ticks than there are, none between them.
        .y_labels((top as usize + 1).min(11))
        .y_label_formatter(&|v| match v.fract() == 0.0 {
            true => format!("{v:.0}"),
            false => String::new(),
        })
        .x_label_formatter(&|v| short(*v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let fill = COLORS[1];
    c.draw_series(
        chart
            .bars
            .iter()
            .map(|&(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], fill.mix(0.75).filled())),
    )
    .map_err(err)?;
    c.draw_series(
        chart
            .bars
            .iter()
            .map(|&(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], BLACK.stroke_width(1))),
    )
    .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// `v` with at most three decimals and no trailing zeros: `10`, `2.5`, `0.333`.
fn short(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".into(),
        t => t.into(),
    }
}

/// Draws `chart` to `path`: SVG or PNG by the extension (anything else is refused).
pub fn draw_bar_chart(chart: &BarChart, path: &Path) -> Result<()> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    register_font()?;
    match ext.as_deref() {
        Some("svg") => draw_bars(
            SVGBackend::new(path, (900, 600)).into_drawing_area(),
            chart,
            &file,
        ),
        Some("png") => draw_bars(
            BitMapBackend::new(path, (900, 600)).into_drawing_area(),
            chart,
            &file,
        ),
        _ => bail!("{file}: a plot is a .png or .svg file"),
    }
}
