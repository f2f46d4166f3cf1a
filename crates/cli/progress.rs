//! Progress bars on a terminal (stderr), nothing when piped or in CI: the CLI's observer of
//! library runs.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mipbound_experiment::{Progress, Task, TaskProgress};

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

/// One bar per task, stacked.
pub struct Bars(MultiProgress);

impl Bars {
    /// Bars on [`draw_target`].
    pub fn new() -> Self {
        Self(MultiProgress::with_draw_target(draw_target()))
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        // Nothing to do if the terminal is gone.
        let _ = self.0.clear();
    }
}

struct Bar {
    bar: ProgressBar,
    clear: bool,
}

impl TaskProgress for Bar {
    fn advance(&self, by: u64) {
        self.bar.inc(by);
    }

    fn note(&self, note: &str) {
        self.bar.set_message(note.to_string());
    }

    fn finish(&self) {
        if self.clear {
            self.bar.finish_and_clear();
        } else {
            self.bar.finish();
        }
    }
}

impl Progress for Bars {
    fn task(&self, task: Task) -> Box<dyn TaskProgress> {
        let (bar, clear) = match task {
            Task::Regions | Task::ExactRegions => {
                let what = if task == Task::Regions {
                    "regions"
                } else {
                    "regions (exact count)"
                };
                let bar = ProgressBar::new_spinner();
                bar.set_style(style(&format!(
                    "{{spinner}} {{elapsed_precise}} {{human_pos}} {what} {{msg}}"
                )));
                bar.enable_steady_tick(Duration::from_millis(200));
                (bar, true)
            }
            Task::Trials { xor, total } => {
                let bar = ProgressBar::new(total);
                bar.set_style(style("xor {prefix:>5} {bar:30} {pos}/{len} trials {msg}"));
                bar.set_prefix(xor);
                (bar, false)
            }
            Task::Points { total } => {
                let bar = ProgressBar::new(total);
                bar.set_style(style("points {bar:30} {pos}/{len} {msg}"));
                (bar, true)
            }
            Task::Networks { total } => {
                let bar = ProgressBar::new(total);
                bar.set_style(style("networks {bar:30} {pos}/{len} {msg}"));
                (bar, true)
            }
        };
        Box::new(Bar {
            bar: self.0.add(bar),
            clear,
        })
    }
}
