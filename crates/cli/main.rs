//! `mipbound`: count and bound the linear regions of piecewise-linear neural networks.
//!
//! This binary only orchestrates: arguments (`args`), loading and settings (`common`),
//! one module per command (`commands`), progress bars (`progress`), reports (`report`), and
//! the study's summary statistics (`summary`) and plots (`plots`).
//! Counting, bounding and formats live in the library crates.

mod args;
mod commands;
mod common;
mod plots;
mod progress;
mod report;
mod summary;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
