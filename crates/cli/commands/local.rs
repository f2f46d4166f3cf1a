//! `mipbound local`: the exact number of regions in the l-infinity ball around each point
//! (the local region count), one row per point, a summary and a histogram.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mipbound_experiment::count::CountSettings;
use mipbound_experiment::distribution::Quantiles;
use mipbound_experiment::domains::parse_input_box;
use mipbound_experiment::estimate::EstimateSettings;
use mipbound_experiment::files::refuse_overwrite;
use mipbound_experiment::local::{LocalResult, LocalSettings, local};
use mipbound_experiment::points::PointSource;

use super::finish;
use crate::args::LocalArgs;
use crate::common::with_run;
use crate::plots::{BarChart, draw_bar_chart};
use crate::report::{network_rows, print_columns, print_table, row, write_csv};

pub fn run(args: LocalArgs) -> Result<ExitCode> {
    let mut inputs: Vec<&Path> = vec![&args.file.net, Path::new(&args.input_box)];
    inputs.extend(args.points.as_deref());
    if let Some(path) = &args.csv {
        refuse_overwrite("--csv", path, &inputs)?;
    }
    if let Some(path) = &args.plot {
        refuse_overwrite("--plot", path, &inputs)?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case("png") && !ext.eq_ignore_ascii_case("svg") {
            bail!("--plot {}: expected a .png or .svg file", path.display());
        }
    }
    let settings = LocalSettings {
        radius: args.radius.unwrap_or(0.0),
        segments: args.segments,
        count: CountSettings {
            time_limit: args.time_limit,
            seed: args.seed,
            ..CountSettings::default()
        },
        fallback: EstimateSettings {
            widths: args.widths.clone(),
            trials: args.trials,
            confidence: Some(args.confidence),
            seed: args.seed,
            time_limit: args.time_limit,
            activation_bound: false,
            ..EstimateSettings::default()
        },
    };
    settings.check()?;
    let network = args.file.load()?;
    let dim = network.input_dim();
    let input_box = parse_input_box(&args.input_box, dim)?;
    let points = match (&args.points, &args.data, args.n) {
        (Some(path), _, _) => PointSource::File(path.clone())
            .read(dim)
            .context("--points")?,
        (None, Some(_), Some(0)) => bail!("--n must be at least 1"),
        (None, Some(dir), Some(n)) => PointSource::Mnist {
            dir: dir.clone(),
            indices: (0..n).collect(),
        }
        .read(dim)
        .with_context(|| format!("--data {} --n {n}", dir.display()))?,
        _ => bail!("give --points FILE or --data DIR --n N"),
    };
    let source = args.file.net.display().to_string();
    let result = with_run(args.threads, |run| {
        local(
            &network,
            &source,
            input_box.as_ref(),
            &points,
            &settings,
            run,
        )
    })?;
    if let Some(path) = &args.csv {
        if args.segments {
            write_csv(path, &result.segment_csv_rows())?;
        } else {
            write_csv(path, &result.csv_rows())?;
        }
    }
    if let Some(path) = &args.plot {
        draw_bar_chart(&histogram(&result), path)?;
    }
    finish(&result, args.json, result.interrupted, print_text)
}

/// The histogram of the counts, on the scale its bins were made on.
fn histogram(r: &LocalResult) -> BarChart {
    let h = &r.summary.histogram;
    let log = h.scale == "log10";
    let x = |v: f64| if log { v.log10() } else { v };
    let partial = if r.summary.lower_bounds > 0 {
        format!(" ({} lower bounds)", r.summary.lower_bounds)
    } else {
        String::new()
    };
    let (title, what) = match r.radius {
        Some(radius) => (
            format!(
                "Regions in the l-inf ball of radius {radius} around {} points{partial}",
                r.summary.points
            ),
            "regions in the ball",
        ),
        None => (
            format!(
                "Regions crossed along {} segments{partial}",
                r.summary.points
            ),
            "regions along the segment",
        ),
    };
    BarChart {
        title,
        x_label: if log {
            format!("log10 {what}")
        } else {
            what.into()
        },
        y_label: "points".into(),
        bars: h
            .bins
            .iter()
            .map(|b| (x(b.lo), x(b.hi), b.count as f64))
            .collect(),
    }
}

fn describe(q: &Option<Quantiles>, digits: usize) -> String {
    match q {
        Some(q) => format!(
            "mean {:.d$}, median {:.d$}, quartiles {:.d$} / {:.d$}, 10%-90% {:.d$} - {:.d$}, min {:.d$}, max {:.d$}",
            q.mean,
            q.median,
            q.q1,
            q.q3,
            q.p10,
            q.p90,
            q.min,
            q.max,
            d = digits
        ),
        None => "-".into(),
    }
}

fn print_text(r: &LocalResult) {
    let mut rows = network_rows(&r.network);
    rows.push(row("points", &r.points_source));
    if let Some(t) = r.time_limit {
        rows.push(row("time limit", format!("{t} s per count")));
    }
    print_table(&rows);
    println!();
    let labels = r.points.iter().any(|p| p.label.is_some());
    let segments = r.mode == "segments";
    let mut header = vec![if segments { "segment" } else { "point" }];
    if labels {
        header.push("label");
    }
    header.extend(["regions", "kind", "seconds"]);
    header.push(if segments {
        "length, regions per unit"
    } else {
        "unstable units"
    });
    header.push("MIPBound");
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for p in &r.points {
        let label = |l: Option<u8>| l.map_or("-".into(), |l| l.to_string());
        let mut cells = match &p.segment {
            Some(_) => vec![format!("{} -> {}", p.index, p.index + 1)],
            None => vec![p.index.to_string()],
        };
        if labels {
            cells.push(match &p.segment {
                Some(s) => format!("{} -> {}", label(p.label), label(s.end_label)),
                None => label(p.label),
            });
        }
        cells.extend([
            p.regions.to_string(),
            if p.complete {
                p.kind.clone()
            } else {
                format!("{} ({})", p.kind, p.status)
            },
            format!("{:.3}", p.seconds),
            match &p.segment {
                Some(s) => format!("{:.4}, {:.3}", s.length, s.regions_per_unit_length),
                None => p.unstable_units.to_string(),
            },
            p.mipbound.as_ref().map_or("-".into(), |m| {
                format!("{} (2^{:.2}, {}, xor {})", m.value, m.log2, m.kind, m.xor)
            }),
        ]);
        table.push(cells);
    }
    print_columns(&table);
    println!();
    let s = &r.summary;
    let (counted, given) = match segments {
        true => ("segments counted", r.points_given.saturating_sub(1)),
        false => ("points counted", r.points_given),
    };
    let mut rows = vec![row(
        counted,
        format!(
            "{} of {given} ({} exact, {} certain lower bounds)",
            s.points, s.exact, s.lower_bounds
        ),
    )];
    rows.push(row(
        if s.lower_bounds > 0 {
            "regions (lower bounds)"
        } else {
            "regions"
        },
        describe(&s.regions, 1),
    ));
    if segments {
        rows.push(row(
            "regions per unit length",
            describe(&s.regions_per_unit_length, 3),
        ));
    }
    rows.push(row(
        if segments {
            "seconds per segment"
        } else {
            "seconds per point"
        },
        describe(&s.seconds, 3),
    ));
    rows.push(row(
        "seconds",
        format!("{:.3} in all ({} threads per count)", r.seconds, r.threads),
    ));
    print_table(&rows);
    if r.interrupted {
        println!();
        println!(
            "interrupted: {} of {given} counted (the last one's count is a certain lower bound if it was cut short)",
            s.points
        );
    }
}
