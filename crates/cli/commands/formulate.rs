//! `mipbound formulate`: the counting MILP, written by HiGHS for another solver.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mipbound_bounds::architecture::HiddenActivations;
use mipbound_formulation::{BigM, UnitBounds};

use mipbound_experiment::files::refuse_overwrite;

use crate::args::FormulateArgs;
use crate::common::{input_files, load_problem};

pub fn run(args: FormulateArgs) -> Result<ExitCode> {
    let files = input_files(&args.net);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    refuse_overwrite("--out", &args.out, &inputs)?;
    let problem = load_problem(&args.net)?;
    if problem.is_everywhere() {
        bail!("--domain all: the big-M MILP needs finite bounds; give a bounded domain");
    }
    let (net, domain) = (problem.network(), problem.domain());
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("mps" | "lp")) {
        bail!("{}: the output must end in .mps or .lp", args.out.display());
    }
    if HiddenActivations::of(net) != HiddenActivations::Relu {
        bail!(
            "{}: the big-M counting MILP is written for ReLU networks only; count takes this network",
            args.net.file.net.display()
        );
    }
    let bounds = UnitBounds::tightened(net, domain, 0)?;
    let mut milp =
        BigM::new(net, domain, &bounds, usize::MAX, 0)?.with_margin(&bounds, domain.scale())?;
    milp.write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let counts = bounds.stability_counts();
    let unstable: usize = counts.iter().map(|c| c.2).sum();
    println!(
        "wrote {}: maximise the margin f over x in {}, {} binaries ({} unstable units, stable ones fixed); a pattern is a region iff f > 0",
        args.out.display(),
        domain.describe(),
        net.num_hidden_units(),
        unstable
    );
    Ok(ExitCode::SUCCESS)
}
