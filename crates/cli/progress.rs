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

/// The style of `template`, or indicatif's default if the template does not parse (the
/// templates are constants: a mistake shows as a plain bar, not as a failed run).
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A spinner counting items.
pub fn counter(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, draw_target());
    let template = format!("{{spinner}} {{elapsed_precise}} {{human_pos}} {what} {{msg}}");
    bar.set_style(style(&template));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
