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
