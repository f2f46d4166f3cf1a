//! Progress display: indicatif bars on a terminal, nothing when stderr is piped or in CI.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// stderr at 10 Hz when it is a terminal and `CI` is unset; hidden otherwise.
pub fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
        ProgressDrawTarget::stderr_with_hz(10)
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner counting items.
pub fn counter(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, draw_target());
    let template = format!("{{spinner}} {{elapsed_precise}} {{human_pos}} {what} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
