//! The region-map sink: a [`MapResult`] drawn as PNG or SVG (plotters). Regions are filled
//! by region (a colour from the pattern's hash, so a region keeps its colour across runs) or
//! by class pieces with a legend; region boundaries, the domain's outline and its labelled
//! points are drawn over them.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use mipbound_experiment::files::replace_file;
use mipbound_experiment::map::MapResult;
use mipbound_experiment::polygon::Point;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plots::{COLORS, register_font};
use crate::values::ImageSize;

/// Image width when `--size` does not say.
const DEFAULT_WIDTH: u32 = 800;
/// Width of the class legend beside the map.
const LEGEND_WIDTH: u32 = 120;

/// Class fills: matplotlib's tab10, the plots' palette (after black) with pink, olive and
/// cyan added.
const TAB10: [RGBColor; 10] = [
    COLORS[1],
    COLORS[2],
    COLORS[3],
    COLORS[4],
    COLORS[5],
    COLORS[6],
    RGBColor(227, 119, 194),
    COLORS[7],
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Fill of a class: tab10, then the same ten halfway to white.
fn class_color(class: usize) -> RGBColor {
    let c = TAB10[class % TAB10.len()];
    if (class / TAB10.len()).is_multiple_of(2) {
        c
    } else {
        RGBColor(c.0 / 2 + 128, c.1 / 2 + 128, c.2 / 2 + 128)
    }
}

/// A light colour from the pattern's FNV-1a hash.
fn region_color(bits: &str) -> HSLColor {
    let hash = bits.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let hue = (hash % 3600) as f64 / 3600.0;
    let saturation = 0.45 + ((hash >> 16) % 30) as f64 / 100.0;
    let lightness = 0.62 + ((hash >> 32) % 18) as f64 / 100.0;
    HSLColor(hue, saturation, lightness)
}

/// The domain's bounding box.
fn bounds(result: &MapResult) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in &result.domain {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (lo, hi)
}

/// The image's pixel size: `--size`, else 800 wide and as high as the domain's shape asks.
fn pixels(result: &MapResult, size: Option<ImageSize>, by_class: bool) -> (u32, u32) {
    let width = size.map_or(DEFAULT_WIDTH, |s| s.width);
    if let Some(height) = size.and_then(|s| s.height) {
        return (width, height);
    }
    if result.dimension == 1 {
        return (width, (width / 4).max(160));
    }
    let (lo, hi) = bounds(result);
    let legend = if by_class { LEGEND_WIDTH } else { 0 };
    let plot = f64::from(width.saturating_sub(legend + 90).max(50));
    let aspect = ((hi[1] - lo[1]) / (hi[0] - lo[0])).clamp(0.25, 2.0);
    (width, (plot * aspect) as u32 + 100)
}

/// Writes the map as `path` (.png or .svg), replacing it atomically.
pub fn write_map(
    result: &MapResult,
    path: &Path,
    size: Option<ImageSize>,
    by_class: bool,
) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (w, h) = pixels(result, size, by_class);
    let bytes = match extension.as_deref() {
        Some("svg") => {
            register_font()?;
            let mut text = String::new();
            draw(
                SVGBackend::with_string(&mut text, (w, h)).into_drawing_area(),
                result,
                by_class,
                path,
            )?;
            text.into_bytes()
        }
        Some("png") => {
            register_font()?;
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            draw(
                BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area(),
                result,
                by_class,
                path,
            )?;
            encode_png(&rgb, w, h)?
        }
        _ => bail!(
            "--out {}: the image must be a .png or .svg file",
            path.display()
        ),
    };
    replace_file(path, &bytes)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Flat fills compress well: the smallest file is worth the few milliseconds.
    encoder.set_compression(png::Compression::Best);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder
        .write_header()
        .map_err(|e| anyhow!("encoding the PNG: {e}"))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| anyhow!("encoding the PNG: {e}"))?;
    writer
        .finish()
        .map_err(|e| anyhow!("encoding the PNG: {e}"))?;
    Ok(out)
}

fn title(result: &MapResult) -> String {
    let name = Path::new(&result.network.path).file_name().map_or_else(
        || result.network.path.clone(),
        |n| n.to_string_lossy().into(),
    );
    let n = result.regions.len();
    // A long domain description (a plane through named points) would not fit.
    let domain = &result.network.domain;
    let on = if domain.chars().count() <= 30 {
        format!(" on {domain}")
    } else {
        String::new()
    };
    if result.complete {
        format!("{name}: {n} regions{on}")
    } else {
        format!("{name}: at least {n} regions{on} ({})", result.status)
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    result: &MapResult,
    by_class: bool,
    path: &Path,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing {}: {e}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let (area, legend) = if by_class {
        let (a, l) = root.split_horizontally(w.saturating_sub(LEGEND_WIDTH));
        (a, Some(l))
    } else {
        (root.clone(), None)
    };
    let (lo, hi) = bounds(result);
    // Room around the domain for the labels of points on its edge.
    let room = if result.points.is_empty() { 0.01 } else { 0.07 };
    let pad = room * (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let strip = result.dimension == 1;
    let mut chart = ChartBuilder::on(&area)
        .caption(title(result), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(if strip { 10 } else { 60 })
        .build_cartesian_2d(lo[0] - pad..hi[0] + pad, lo[1] - pad..hi[1] + pad)
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh()
        .x_desc(result.axes[0].as_str())
        .label_style(("sans-serif", 14));
    if strip {
        mesh.y_labels(0);
    } else {
        mesh.y_desc(result.axes[1].as_str());
    }
    mesh.draw().map_err(err)?;
    let closed = |poly: &[Point]| -> Vec<(f64, f64)> {
        poly.iter()
            .chain(poly.first())
            .map(|p| (p[0], p[1]))
            .collect()
    };
    let pairs = |poly: &[Point]| -> Vec<(f64, f64)> { poly.iter().map(|p| (p[0], p[1])).collect() };
    // Uncovered ground (an incomplete map) stays grey.
    chart
        .draw_series([Polygon::new(
            pairs(&result.domain),
            RGBColor(225, 225, 225).filled(),
        )])
        .map_err(err)?;
    for region in &result.regions {
        if by_class {
            chart
                .draw_series(
                    region
                        .classes
                        .iter()
                        .map(|p| Polygon::new(pairs(&p.polygon), class_color(p.class).filled())),
                )
                .map_err(err)?;
        } else {
            chart
                .draw_series([Polygon::new(
                    pairs(&region.polygon),
                    region_color(&region.bits).filled(),
                )])
                .map_err(err)?;
        }
    }
    let boundary = if by_class {
        BLACK.mix(0.35).stroke_width(1)
    } else {
        BLACK.mix(0.7).stroke_width(1)
    };
    chart
        .draw_series(
            result
                .regions
                .iter()
                .map(|r| PathElement::new(closed(&r.polygon), boundary)),
        )
        .map_err(err)?;
    chart
        .draw_series([PathElement::new(
            closed(&result.domain),
            BLACK.stroke_width(2),
        )])
        .map_err(err)?;
    let centre = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
    for point in &result.points {
        let at = (point.at[0], point.at[1]);
        // The label sits outside the point, away from the domain's centre.
        let dx = if at.0 >= centre[0] { 8 } else { -20 };
        let dy = if at.1 >= centre[1] { -24 } else { 6 };
        chart
            .draw_series([EmptyElement::at(at)
                + Circle::new((0, 0), 5, BLACK.filled())
                + Circle::new((0, 0), 3, WHITE.filled())
                + Text::new(point.label.clone(), (dx, dy), ("sans-serif", 18))])
            .map_err(err)?;
    }
    if let Some(legend) = legend {
        draw_legend(&legend, &result.class_areas(), result.covered_area()).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The classes that win somewhere, each with its share of the covered area, as many as fit
/// the legend's height (then "...").
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    classes: &[(usize, f64)],
    covered: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.draw(&Text::new("class", (10, 40), ("sans-serif", 16)))?;
    let fits = ((area.dim_in_pixel().1 as i32 - 90) / 24).max(1) as usize;
    for (i, &(class, share)) in classes.iter().enumerate() {
        let y = 66 + 24 * i as i32;
        if i + 1 == fits && classes.len() > fits {
            area.draw(&Text::new("...", (10, y), ("sans-serif", 15)))?;
            break;
        }
        area.draw(&Rectangle::new(
            [(10, y), (28, y + 16)],
            class_color(class).filled(),
        ))?;
        area.draw(&Rectangle::new([(10, y), (28, y + 16)], BLACK))?;
        let percent = 100.0 * share / covered.max(f64::MIN_POSITIVE);
        area.draw(&Text::new(
            format!("{class}  {percent:.1}%"),
            (36, y + 1),
            ("sans-serif", 15),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mipbound_experiment::map::{MapPoint, MapRegion};
    use mipbound_experiment::polygon::rectangle;

    /// A plane's map: two regions of the unit square, points A, B, C marked and labelled.
    fn plane_map() -> MapResult {
        let region = |index: usize, lo: Point, hi: Point| MapRegion {
            index,
            bits: format!("{index}"),
            pieces: vec![index],
            witness: vec![0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])],
            polygon: rectangle(lo, hi),
            area: (hi[0] - lo[0]) * (hi[1] - lo[1]),
            classes: Vec::new(),
        };
        let point = |label: &str, at: Point| MapPoint {
            label: label.into(),
            at,
        };
        MapResult {
            command: "map".into(),
            version: "test".into(),
            network: mipbound_experiment::NetworkSummary {
                path: "plane.json".into(),
                hash: String::new(),
                input_dim: 784,
                hidden_widths: vec![1],
                parameters: 0,
                domain: "plane".into(),
            },
            dimension: 2,
            axes: ["u".into(), "v".into()],
            domain: rectangle([0.0, 0.0], [1.0, 1.0]),
            domain_area: 1.0,
            points: vec![
                point("A", [0.0, 0.0]),
                point("B", [1.0, 0.0]),
                point("C", [0.0, 1.0]),
            ],
            regions: vec![
                region(0, [0.0, 0.0], [0.4, 1.0]),
                region(1, [0.4, 0.0], [1.0, 1.0]),
            ],
            complete: true,
            status: "complete".into(),
            classes: None,
            seconds: 0.0,
        }
    }

    #[test]
    fn labelled_points_and_axes_are_drawn() {
        let dir = std::env::temp_dir().join(format!("mipbound-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("plane.svg");
        write_map(&plane_map(), &svg, None, false).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        let labels: Vec<String> = text
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect();
        for label in ["A", "B", "C", "u", "v"] {
            assert!(
                labels.iter().any(|l| l == label),
                "{label} not in {labels:?}"
            );
        }
        // Two regions and the grey ground, each a polygon.
        assert_eq!(text.matches("<polygon").count(), 3);
        let png = dir.join("plane.png");
        write_map(
            &plane_map(),
            &png,
            Some(ImageSize {
                width: 400,
                height: None,
            }),
            false,
        )
        .unwrap();
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
