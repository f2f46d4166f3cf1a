//! Standard output and the error line.
//!
//! std's `println!` panics when stdout fails. Here a reader that went away (`| head -1`,
//! EPIPE) ends the process quietly with exit code 0, as a SIGPIPE would without the noise,
//! and any other failure (`> /dev/full`) is one error line and exit code 2. The crate's
//! `println!`, `print!` and `eprintln!` macros (defined in main.rs) come here.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit code of every error.
pub const EXIT_ERROR: u8 = 2;

/// Writes formatted text to stdout, and a newline after it if `newline`.
pub fn write(args: fmt::Arguments<'_>, newline: bool) {
    let mut out = io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = written {
        drop(out);
        std::process::exit(i32::from(failed(&e)));
    }
}

/// Flushes stdout at the end of a run: the exit code to use instead of `code` if that fails.
pub fn finish(code: ExitCode) -> ExitCode {
    match io::stdout().lock().flush() {
        Ok(()) => code,
        Err(e) => ExitCode::from(failed(&e)),
    }
}

/// The exit code after stdout failed with `e`, its error line printed if it is not EPIPE.
fn failed(e: &io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        0
    } else {
        error_line(&format!("writing to standard output: {e}"));
        EXIT_ERROR
    }
}

/// Prints a line on stderr (progress notes); a failing stderr is ignored.
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Prints `error: MESSAGE` on stderr as one line, control characters escaped.
pub fn error_line(message: &str) {
    // Nothing better can be done when stderr itself fails.
    let _ = writeln!(io::stderr().lock(), "error: {}", one_line(message));
}

/// `text` on one line: newlines, tabs and other control characters (from file names or
/// file contents quoted in a message) become escapes such as `\n` and `\u{1b}`.
pub fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(one_line("a\nb\tc\u{1b}[31m\r"), "a\\nb\\tc\\u{1b}[31m\\r");
        assert_eq!(one_line("réseau ✓"), "réseau ✓");
        assert_eq!(one_line("\u{7f}\u{85}"), "\\u{7f}\\u{85}");
    }
}
