//! `mipbound`: count and bound the linear regions of piecewise-linear neural networks.
//!
//! A thin front end: arguments (`args`, checked by `values`) become validated settings
//! (`common`, one module per command in `commands`), the experiment library
//! (`mipbound_experiment`) runs them, and the shared report sinks print the results: text
//! tables, JSON and CSV (`report`, printed through `output`), the plots (`plots`) and
//! region maps (`map_image`).
//! Progress bars (`progress`) observe the runs; Ctrl-C cancels them. No command module
//! imports another.

// User input must never reach a panic: errors are one line and exit code 2.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// Like std's `println!`, but stdout failures end the run cleanly (see `output`).
macro_rules! println {
    () => {
        $crate::output::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*), true)
    };
}

/// Like std's `print!`, but stdout failures end the run cleanly (see `output`).
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*), false)
    };
}

/// Like std's `eprintln!`, but a failing stderr is ignored instead of a panic.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::output::note(format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod common;
mod estimate_table;
mod map_image;
mod output;
mod plots;
mod progress;
mod report;
mod values;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::error_line(&format!("{err:#}"));
            ExitCode::from(output::EXIT_ERROR)
        }
    };
    output::finish(code)
}

/// Help and version are printed as clap prints them; a usage error becomes one line (the
/// message and clap's tips, without the usage block), exit code 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        // Failing to print the help (a closed pipe) leaves nothing else to do.
        let _ = err.print();
        return ExitCode::from(if err.use_stderr() {
            output::EXIT_ERROR
        } else {
            0
        });
    }
    let rendered = err.render().to_string();
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    let mut message = String::new();
    for part in parts {
        if !message.is_empty() {
            message.push_str(if message.ends_with(':') { " " } else { "; " });
        }
        message.push_str(part);
    }
    output::error_line(message.strip_prefix("error: ").unwrap_or(&message));
    ExitCode::from(output::EXIT_ERROR)
}
