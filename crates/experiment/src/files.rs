//! Files a run writes: atomic replacement, and the refusal to overwrite an input.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
