//! One module per command; `run` dispatches.

mod batch;
mod bench_lp;
mod bounds;
mod convert;
mod count;
mod estimate;
mod formulate;
mod generate;
mod inspect;
mod local;
mod map;
mod merge;
mod study;
mod train;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Exit code of a run stopped by Ctrl-C (its partial result is printed first).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Prints a run's result, as one JSON line (`json`) or as `text` prints it, and gives the
/// exit code: [`EXIT_INTERRUPTED`] when Ctrl-C stopped the run.
fn finish<T: serde::Serialize>(
    result: &T,
    json: bool,
    interrupted: bool,
    text: impl FnOnce(&T),
) -> Result<ExitCode> {
    if json {
        crate::report::print_json(result)?;
    } else {
        text(result);
    }
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the command and returns the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Count(args) => count::run(args),
        Command::Estimate(args) => estimate::run(args),
        Command::Bounds(args) => bounds::run(args),
        Command::Map(args) => map::run(args),
        Command::Formulate(args) => formulate::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Convert(args) => convert::run(args),
        Command::BenchLp(args) => bench_lp::run(args),
        Command::Train(args) => train::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Study(args) => study::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Local(args) => local::run(args),
    }
}
