//! Loading networks and domains from arguments, and the Ctrl-C flag.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_network::Network;

use crate::args::NetArgs;

/// Reads and validates the network named by the arguments.
pub fn load_network(args: &NetArgs) -> Result<Network> {
    Ok(mipbound_network::formats::load(&args.net, args.format)?)
}

/// Parses `--box LO,HI` for a network with `dim` inputs.
pub fn parse_domain(spec: &str, dim: usize) -> Result<Domain> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let [lo, hi] = parts.as_slice() else {
        bail!("--box {spec}: expected LO,HI (for example --box 0,1 or --box -1,1)");
    };
    let parse = |s: &str| -> Result<f64> {
        s.parse::<f64>()
            .with_context(|| format!("--box {spec}: '{s}' is not a number"))
    };
    Domain::uniform(dim, parse(lo)?, parse(hi)?).with_context(|| format!("--box {spec}"))
}

/// Refuses an output path (given with `option`) that is one of the input files: writing it
/// would destroy the input. Compared by file identity (hard and symbolic links included)
/// and, for an output that does not exist yet, by canonical folder and name.
pub fn refuse_overwrite(option: &str, output: &Path, inputs: &[&Path]) -> Result<()> {
    // A network's external data files are inputs too.
    let companions: Vec<PathBuf> = inputs
        .iter()
        .flat_map(|input| mipbound_network::formats::companion_files(input))
        .collect();
    let every = inputs
        .iter()
        .copied()
        .chain(companions.iter().map(PathBuf::as_path));
    if let Some(input) = every.into_iter().find(|input| same_file(output, input)) {
        bail!(
            "{option} {}: that is the input file {}; writing it would destroy the input",
            output.display(),
            input.display()
        );
    }
    Ok(())
}

/// Whether two paths name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (ma.dev(), ma.ino()) == (mb.dev(), mb.ino());
        }
    }
    matches!((canonical(a), canonical(b)), (Some(ca), Some(cb)) if ca == cb)
}

/// The canonical path of `path`, or of its folder joined with its name if it does not exist.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(path) {
        return Some(c);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// Most weights and biases a network that mipbound makes (`generate`, `train`, `study`) may
/// have: 800 MB of f64. Larger widths are refused before anything is allocated.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// Weights and biases of a dense network with layer widths `widths` (input first), hidden
/// layers of `rank` rows per unit, the last layer linear if `output_layer`; `None` past
/// `usize`.
pub fn parameters(widths: &[usize], rank: usize, output_layer: bool) -> Option<usize> {
    let layers = widths.len().checked_sub(1)?;
    (0..layers).try_fold(0usize, |total, l| {
        let rank = if output_layer && l + 1 == layers {
            1
        } else {
            rank
        };
        let rows = widths[l + 1].checked_mul(rank)?;
        total.checked_add(rows.checked_mul(widths[l].checked_add(1)?)?)
    })
}

/// Refuses (naming `what`) a network with more than [`MAX_PARAMETERS`] parameters.
pub fn check_parameters(
    what: &str,
    widths: &[usize],
    rank: usize,
    output_layer: bool,
) -> Result<()> {
    match parameters(widths, rank, output_layer) {
        Some(n) if n <= MAX_PARAMETERS => Ok(()),
        _ => bail!(
            "{what}: a network of widths {widths:?} would have more than {MAX_PARAMETERS} weights and biases (the most mipbound makes)"
        ),
    }
}

/// Replaces `path` with `bytes` atomically: written to a temporary file beside it, synced,
/// then renamed over it, so that a failure (a full disk, Ctrl-C) leaves the old file whole.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let (pending, mut file) = PendingFile::create(path)?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    pending.commit()
}

/// An output file written beside its destination (`.NAME.tmp-PID`) and renamed over it only
/// by [`PendingFile::commit`]: a run that fails before leaves the old file as it was.
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Creates the temporary file for `dest`.
    pub fn create(dest: &Path) -> Result<(Self, std::fs::File)> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", dest.display()))?;
        let pending = Self {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        };
        Ok((pending, file))
    }

    /// Moves the finished file over its destination.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("writing {}", self.dest.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a leftover temporary file is harmless.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Loads the network and the domain together.
pub fn load_network_and_domain(args: &NetArgs) -> Result<(Network, Domain)> {
    let net = load_network(args)?;
    let domain = parse_domain(&args.domain, net.input_dim())?;
    Ok((net, domain))
}

/// The flag set by Ctrl-C: searches stop between nodes and the command reports what it has.
/// The handler is installed once per process, on first use.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler = Arc::clone(&flag);
        // Failing to install it only means Ctrl-C kills the process the default way.
        let _ = ctrlc::set_handler(move || handler.store(true, Ordering::Relaxed));
        flag
    }))
}

/// `--threads`, defaulting to every core; 0 is refused.
pub fn threads(requested: Option<usize>) -> Result<usize> {
    match requested {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(mipbound_search::parallel::default_threads()),
    }
}

#[cfg(test)]
mod tests {
    use super::parameters;

    #[test]
    fn parameters_are_counted_with_overflow_checks() {
        // 2x3 + 3 biases, then 3x1 + 1 (the output layer ignores the rank).
        assert_eq!(parameters(&[2, 3, 1], 1, true), Some(13));
        // maxout rank 2: 6 rows of 2 + 6 biases, then an output row of 3 + 1.
        assert_eq!(parameters(&[2, 3, 1], 2, true), Some(22));
        assert_eq!(
            parameters(&[4_294_967_296, 4_294_967_296, 1], 1, true),
            None
        );
        assert_eq!(parameters(&[2, usize::MAX, 1], 1, true), None);
        assert_eq!(parameters(&[2, 3, 1], usize::MAX, false), None);
    }
}
