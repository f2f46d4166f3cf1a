//! Loading problems from arguments, and the Ctrl-C cancel token.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Result;
use mipbound_experiment::domains::DomainSpec;
use mipbound_experiment::run::threads;
use mipbound_experiment::{CancelToken, Problem, Run};

use crate::args::{MilpArgs, NetArgs};
use crate::progress::Bars;

/// Reads the network named by the arguments and its domain.
pub fn load_problem(args: &NetArgs) -> Result<Problem> {
    let spec = match &args.domain_spec {
        Some(spec) => DomainSpec::parse(spec)?,
        None => DomainSpec::InputBox,
    };
    Problem::load_with_domain(&args.file.net, args.file.format, &args.domain, &spec)
}

/// The files the arguments read (the network, a `--box` file, the `--domain` spec's
/// files), which no output may overwrite. Specs that do not parse name no file; their
/// error comes when the problem is loaded.
pub fn input_files(args: &NetArgs) -> Vec<PathBuf> {
    let mut files = vec![args.file.net.clone(), PathBuf::from(&args.domain)];
    if let Some(spec) = args
        .domain_spec
        .as_deref()
        .and_then(|s| DomainSpec::parse(s).ok())
    {
        files.extend(spec.files().into_iter().map(Path::to_path_buf));
    }
    files
}

/// The token Ctrl-C cancels: runs stop between nodes and the command reports what it has.
/// The handler is installed once per process, on first use.
pub fn ctrl_c() -> CancelToken {
    static TOKEN: OnceLock<CancelToken> = OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            let handler = token.clone();
            // Failing to install it only means Ctrl-C kills the process the default way.
            let _ = ctrlc::set_handler(move || handler.cancel());
            token
        })
        .clone()
}

/// Runs `f` on `--threads` threads, cancelled by Ctrl-C and observed by progress bars that
/// are cleared before it returns (so that the report follows on a clean terminal).
pub fn with_run<T>(
    requested_threads: Option<usize>,
    f: impl FnOnce(&Run<'_>) -> Result<T>,
) -> Result<T> {
    let cancel = ctrl_c();
    let bars = Bars::new();
    let run = Run {
        threads: threads(requested_threads)?,
        cancel: &cancel,
        progress: &bars,
    };
    f(&run)
}

impl From<&MilpArgs> for mipbound_experiment::catalogue::MilpSettings {
    fn from(args: &MilpArgs) -> Self {
        Self {
            milp_time_limit: args.milp_time_limit,
            max_limits: args.max_limits,
        }
    }
}
