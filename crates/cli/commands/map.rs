//! `mipbound map`: the regions of a 2-D domain as exact polygons, drawn as PNG or SVG.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use mipbound_experiment::count::CountSettings;
use mipbound_experiment::files::refuse_overwrite;
use mipbound_experiment::map::{MapResult, MapSettings, map};

use super::finish;
use crate::args::{MapArgs, MapColor};
use crate::common::{input_files, load_problem, with_run};
use crate::map_image::write_map;
use crate::report::{network_rows, print_table, row};

pub fn run(args: MapArgs) -> Result<ExitCode> {
    if args.out.is_none() && !args.json {
        bail!("map: give --out FILE.png|FILE.svg for the image, or --json for the polygons");
    }
    if let Some(out) = &args.out {
        let files = input_files(&args.net);
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        refuse_overwrite("--out", out, &inputs)?;
        let extension = out.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if !matches!(extension.to_ascii_lowercase().as_str(), "png" | "svg") {
            bail!(
                "--out {}: the image must be a .png or .svg file",
                out.display()
            );
        }
        // Found out now rather than after the search.
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            bail!(
                "--out {}: the folder {} does not exist",
                out.display(),
                dir.display()
            );
        }
    }
    let problem = load_problem(&args.net)?;
    let by_class = args.color == MapColor::Class;
    let settings = MapSettings {
        count: CountSettings {
            time_limit: args.time_limit,
            lp: args.lp,
            ..CountSettings::default()
        },
        classes: by_class,
    };
    let result = with_run(Some(1), |run| map(&problem, &settings, run))?;
    if let Some(out) = &args.out {
        write_map(&result, out, args.size, by_class)?;
    }
    finish(&result, args.json, result.interrupted(), |r| {
        print_text(r, args.out.as_deref())
    })
}

fn print_text(r: &MapResult, out: Option<&std::path::Path>) {
    let mut rows = network_rows(&r.network);
    rows.push(row(
        "regions",
        if r.complete {
            format!("{} (complete)", r.regions.len())
        } else {
            format!("at least {} ({})", r.regions.len(), r.status)
        },
    ));
    rows.push(row(
        "area",
        format!(
            "{:.6} of the domain's {:.6} covered",
            r.covered_area(),
            r.domain_area
        ),
    ));
    if let Some(classes) = r.classes {
        let pieces: usize = r.regions.iter().map(|g| g.classes.len()).sum();
        rows.push(row("classes", format!("{classes} ({pieces} class pieces)")));
    }
    if let Some(out) = out {
        rows.push(row("image", out.display()));
    }
    rows.push(row("seconds", format!("{:.3}", r.seconds)));
    print_table(&rows);
}
