//! Checkpoints, plans and shards of one count.
//!
//! A count is cut into subtrees by a [`SearchPlan`] (`mipbound_search`). A [`Checkpoint`]
//! records which subtrees of the plan are done, with their statistics, under a
//! [`Fingerprint`] of everything that shapes the search tree and the plan's hash; it is
//! rewritten atomically (temporary file, fsync, rename) while the count runs, so that a
//! killed count resumes where it was. A [`PlanFile`] is a plan written once for several
//! shards: each shard counts the subtrees `i` with `i mod N == I` and records them in its
//! own checkpoint, and [`merge_counts`] sums the shards' checkpoints.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use anyhow::{Context, Result, bail};
use mipbound_search::{SearchOutcome, SearchPlan, SearchStats};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::VERSION;
use crate::count::CountSettings;
use crate::files::PendingFile;
use crate::problem::{Problem, network_hash};
use crate::shard::Shard;

/// The `format` of a plan file.
pub const PLAN_FORMAT: &str = "mipbound count plan";
/// The `format` of a checkpoint (or shard result) file.
pub const CHECKPOINT_FORMAT: &str = "mipbound count checkpoint";

/// Everything that shapes a count's search tree: two runs with equal fingerprints explore
/// the same tree (given the same plan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// SHA-256 of the network as given (its weights, external data files included).
    pub network: String,
    /// SHA-256 of what the search runs on: the (possibly composed) network and the domain's
    /// box and constraints.
    pub search: String,
    /// The domain's description, for people: not compared (it names files by the paths
    /// given, which may differ between machines; `search` covers the domain itself).
    pub domain: String,
    /// Margin LP solver.
    pub lp: String,
    /// Unit chosen at each node (else index order).
    pub dynamic_order: bool,
    /// LP bound tightening.
    pub tighten: bool,
    /// HiGHS's random_seed.
    pub seed: u64,
    /// Half-width of the thin band.
    pub margin_tolerance: f64,
    /// mipbound's version.
    pub version: String,
}

impl Fingerprint {
    /// The fingerprint of counting `problem` with `settings` (the time limit aside).
    pub fn of(problem: &Problem, settings: &CountSettings) -> Self {
        let mut h = Sha256::new();
        h.update(network_hash(problem.network()).as_bytes());
        let domain = problem.domain();
        for v in domain.lower().iter().chain(domain.upper()) {
            h.update(v.to_le_bytes());
        }
        for c in domain.constraints() {
            h.update(b"|");
            for v in c.a.iter().chain([&c.b]) {
                h.update(v.to_le_bytes());
            }
        }
        Self {
            network: problem.hash().to_string(),
            search: hex(&h.finalize()),
            domain: problem.summary().domain,
            lp: settings.lp.name().into(),
            dynamic_order: settings.dynamic_order,
            tighten: settings.tighten,
            seed: settings.seed,
            margin_tolerance: settings.margin_tolerance,
            version: VERSION.into(),
        }
    }

    /// What differs between two fingerprints, in words (empty when they are equal).
    pub fn differences(&self, other: &Fingerprint) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |differs: bool, what| {
            if differs {
                out.push(what);
            }
        };
        check(self.network != other.network, "network");
        check(
            self.network == other.network && self.search != other.search,
            "domain",
        );
        check(self.lp != other.lp, "LP solver");
        check(self.dynamic_order != other.dynamic_order, "unit order");
        check(self.tighten != other.tighten, "bound tightening");
        check(self.seed != other.seed, "seed");
        check(
            self.margin_tolerance != other.margin_tolerance,
            "margin tolerance",
        );
        check(self.version != other.version, "mipbound version");
        out.dedup();
        out
    }

    /// Refuses `other` (read from `path`, a `what`) unless it equals this fingerprint.
    fn require(&self, other: &Fingerprint, path: &Path, what: &str) -> Result<()> {
        refuse_differences(&self.differences(other), path, what, "count")
    }
}

/// Refuses a `what` read from `path` that belongs to another `run` (count, estimate):
/// `differ` names what differs (nothing: accepted).
pub(crate) fn refuse_differences(
    differ: &[&str],
    path: &Path,
    what: &str,
    run: &str,
) -> Result<()> {
    if !differ.is_empty() {
        bail!(
            "{}: a {what} of a different {run} (its {} differ{})",
            path.display(),
            differ.join(", "),
            if differ.len() == 1 { "s" } else { "" }
        );
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a plan's JSON, hexadecimal: what checkpoints and shards refer to.
pub fn plan_hash(plan: &SearchPlan) -> String {
    let mut h = Sha256::new();
    // Serialising plain structs of integers and strings cannot fail.
    h.update(serde_json::to_vec(plan).unwrap_or_default());
    hex(&h.finalize())
}

/// A plan written once for the shards of a count (`count --plan FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// [`PLAN_FORMAT`].
    pub format: String,
    /// The count it belongs to.
    pub fingerprint: Fingerprint,
    /// [`plan_hash`] of `plan`.
    pub plan_hash: String,
    /// Statistics of the top-of-tree search that made the plan (added once to the total).
    pub top: SearchStats,
    /// Seconds of that search.
    pub top_seconds: f64,
    /// The subtrees.
    pub plan: SearchPlan,
}

impl PlanFile {
    /// Wraps a plan made for `fingerprint`.
    pub fn new(
        fingerprint: Fingerprint,
        plan: SearchPlan,
        top: SearchStats,
        top_seconds: f64,
    ) -> Self {
        Self {
            format: PLAN_FORMAT.into(),
            plan_hash: plan_hash(&plan),
            fingerprint,
            top,
            top_seconds,
            plan,
        }
    }

    /// Writes the plan to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// Reads a plan file and checks that its plan matches its hash.
    pub fn read(path: &Path) -> Result<Self> {
        let plan: PlanFile = read_json(path, PLAN_FORMAT, "plan")?;
        if plan_hash(&plan.plan) != plan.plan_hash {
            bail!(
                "{}: the plan does not match its plan_hash (edited or damaged)",
                path.display()
            );
        }
        Ok(plan)
    }

    /// Refuses the plan (read from `path`) unless it was made for `fingerprint`.
    pub fn require(&self, fingerprint: &Fingerprint, path: &Path) -> Result<()> {
        fingerprint.require(&self.fingerprint, path, "plan")
    }
}

/// One finished subtree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtreeRecord {
    /// Its index in the plan.
    pub index: usize,
    /// Its statistics (`regions` is its count).
    pub stats: SearchStats,
    /// Wall-clock seconds it took.
    pub seconds: f64,
}

/// The subtrees of a plan a count (or one shard of it) has finished: a checkpoint while it
/// runs, its result when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// The count it belongs to.
    pub fingerprint: Fingerprint,
    /// [`plan_hash`] of the plan.
    pub plan_hash: String,
    /// Subtrees in the plan.
    pub subtrees: usize,
    /// The shard this file covers (`None`: every subtree).
    pub shard: Option<Shard>,
    /// Statistics of the top-of-tree search that made the plan.
    pub top: SearchStats,
    /// The finished subtrees, by index.
    pub done: Vec<SubtreeRecord>,
    /// Whether every subtree of the shard is done.
    pub complete: bool,
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new(
        fingerprint: Fingerprint,
        plan_hash: String,
        subtrees: usize,
        shard: Option<Shard>,
        top: SearchStats,
    ) -> Self {
        let mut c = Self {
            format: CHECKPOINT_FORMAT.into(),
            fingerprint,
            plan_hash,
            subtrees,
            shard,
            top,
            done: Vec::new(),
            complete: false,
        };
        c.complete = c.owned() == 0;
        c
    }

    /// Whether subtree `index` belongs to this checkpoint's shard.
    pub fn owns(&self, index: usize) -> bool {
        index < self.subtrees && crate::shard::owns(self.shard, index)
    }

    /// How many subtrees belong to the shard.
    pub fn owned(&self) -> usize {
        crate::shard::owned(self.shard, self.subtrees)
    }

    /// Records a finished subtree (once).
    pub fn record(&mut self, index: usize, outcome: &SearchOutcome) {
        if let Err(at) = self.done.binary_search_by_key(&index, |r| r.index) {
            self.done.insert(
                at,
                SubtreeRecord {
                    index,
                    stats: outcome.stats,
                    seconds: outcome.seconds,
                },
            );
        }
        self.complete = self.done.len() == self.owned();
    }

    /// The sum of the top search's and the finished subtrees' statistics.
    pub fn total(&self) -> SearchStats {
        let mut total = self.top;
        for r in &self.done {
            total.add(&r.stats);
        }
        total
    }

    /// Reads a checkpoint and checks that it is consistent (indices sorted, distinct and
    /// in its shard).
    pub fn read(path: &Path) -> Result<Self> {
        let c: Checkpoint = read_json(path, CHECKPOINT_FORMAT, "checkpoint")?;
        if let Some(s) = c.shard
            && (s.count == 0 || s.index >= s.count)
        {
            bail!(
                "{}: shard {}/{} is not a shard",
                path.display(),
                s.index,
                s.count
            );
        }
        for pair in c.done.windows(2) {
            if pair[0].index >= pair[1].index {
                bail!(
                    "{}: subtree {} is listed out of order or twice",
                    path.display(),
                    pair[1].index
                );
            }
        }
        if let Some(r) = c.done.iter().find(|r| !c.owns(r.index)) {
            bail!(
                "{}: subtree {} is not one of this file's subtrees",
                path.display(),
                r.index
            );
        }
        if c.complete != (c.done.len() == c.owned()) {
            bail!(
                "{}: 'complete' disagrees with the subtrees done",
                path.display()
            );
        }
        Ok(c)
    }

    /// Refuses a checkpoint read from `path` unless it belongs to the same count, plan and
    /// shard as `self`.
    pub fn require_same_run(&self, other: &Checkpoint, path: &Path) -> Result<()> {
        self.fingerprint
            .require(&other.fingerprint, path, "checkpoint")?;
        if self.shard != other.shard {
            bail!(
                "{}: a checkpoint of {}, this run is {}",
                path.display(),
                describe_shard(other.shard),
                describe_shard(self.shard)
            );
        }
        if self.plan_hash != other.plan_hash || self.subtrees != other.subtrees {
            bail!(
                "{}: a checkpoint of another plan of this count (plan {}, this run's {}); \
                 made from another plan file, or by a build or CPU whose plan step cut the tree \
                 differently (resume with the same binary, or count from a plan file written once)",
                path.display(),
                short(&other.plan_hash),
                short(&self.plan_hash)
            );
        }
        Ok(())
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// `shard I/N` or `the whole count`.
pub fn describe_shard(shard: Option<Shard>) -> String {
    match shard {
        Some(s) => format!("shard {}/{}", s.index, s.count),
        None => "the whole count".into(),
    }
}

/// Test hook: milliseconds to sleep between writing a checkpoint's temporary file and
/// renaming it, so that a test can kill a count in the middle of a write.
const PAUSE_ENV: &str = "MIPBOUND_TEST_CHECKPOINT_PAUSE_MS";

/// Writes `value` as JSON to `path` atomically: temporary file, fsync, rename.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let (pending, file) = PendingFile::create(path)?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer(&mut writer, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writer.write_all(b"\n"))
        .and_then(|()| writer.flush())
        .and_then(|()| writer.get_ref().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    drop(writer);
    pending.commit()
}

/// Reads a JSON file whose `format` field must be `format`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    format: &str,
    what: &str,
) -> Result<T> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_reader(BufReader::new(file))
        .with_context(|| format!("{}: not a {what} file (not JSON)", path.display()))?;
    let found = value.get("format").and_then(|f| f.as_str());
    if found != Some(format) {
        let hint = match found {
            Some(CHECKPOINT_FORMAT) => "; it is a count's checkpoint",
            Some(crate::trial_checkpoint::TRIAL_CHECKPOINT_FORMAT) => {
                "; it is an estimate's checkpoint"
            }
            _ => "",
        };
        bail!(
            "{}: not a {what} file (its format is not '{format}'){hint}",
            path.display()
        );
    }
    serde_json::from_value(value)
        .with_context(|| format!("{}: a broken {what} file", path.display()))
}

/// Keeps a checkpoint file up to date while work finishes on worker threads: an update is
/// cheap (it changes the state and marks it dirty), a writer thread
/// ([`Recorder::write_loop`]) rewrites the file whenever it is dirty, so writes never block
/// the search and coalesce when work finishes faster than the disk. The recorder holds the
/// file's [`WriterLock`] until it is dropped.
pub struct Recorder<T> {
    path: PathBuf,
    state: Mutex<RecorderState<T>>,
    wake: Condvar,
    pause_ms: u64,
    _lock: WriterLock,
}

struct RecorderState<T> {
    value: T,
    dirty: bool,
    closing: bool,
    error: Option<anyhow::Error>,
}

impl<T: Serialize> Recorder<T> {
    /// Writes `value` to `path` once (so that errors show before the work starts) and
    /// returns the recorder, which keeps `lock` (taken on `path`).
    pub fn start(path: &Path, value: T, lock: WriterLock) -> Result<Self> {
        let pause_ms = std::env::var(PAUSE_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        write_json(path, &value)?;
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new(RecorderState {
                value,
                dirty: false,
                closing: false,
                error: None,
            }),
            wake: Condvar::new(),
            pause_ms,
            _lock: lock,
        })
    }

    fn lock(&self) -> MutexGuard<'_, RecorderState<T>> {
        // A panic elsewhere cannot leave the state half-updated: every update is one call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the recorded value; the writer rewrites the file soon after.
    pub fn update(&self, change: impl FnOnce(&mut T)) {
        let mut state = self.lock();
        change(&mut state.value);
        state.dirty = true;
        self.wake.notify_all();
    }

    /// Rewrites the file whenever it is dirty, until [`Recorder::close`] and the last write.
    pub fn write_loop(&self) {
        let mut state = self.lock();
        loop {
            while !state.dirty && !state.closing {
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if !state.dirty {
                return;
            }
            state.dirty = false;
            let bytes = serde_json::to_vec(&state.value);
            drop(state);
            let result = match bytes {
                Ok(bytes) => write_bytes(&self.path, &bytes, self.pause_ms),
                Err(e) => Err(e.into()),
            };
            state = self.lock();
            if let Err(e) = result {
                state.error.get_or_insert(e);
            }
        }
    }

    /// Lets the writer finish after its last write.
    pub fn close(&self) {
        self.lock().closing = true;
        self.wake.notify_all();
    }

    /// The value as recorded, or the first write error.
    pub fn finish(self) -> Result<T> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.value),
        }
    }
}

/// The right to write one checkpoint file: an exclusive lock on `.NAME.lock` beside it, held
/// until dropped (the operating system releases it when the process dies, so a killed run
/// leaves no stale lock). Taking it also removes the temporary files (`.NAME.tmp-PID`) that
/// killed writers left behind.
pub struct WriterLock {
    /// `None` on a file system without locks: the run goes on unguarded.
    _file: Option<std::fs::File>,
}

impl WriterLock {
    /// Takes the lock of the checkpoint `path`, or says that another run holds it.
    pub fn acquire(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("{}: cannot create its lock file", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "{}: another run is writing this checkpoint (it holds {}); stop it first",
                path.display(),
                lock_path.display()
            ),
            // A file system without locks (some cluster mounts): checkpoints still work,
            // without the guard against a second writer.
            Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                return Ok(Self { _file: None });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock it", path.display()));
            }
        }
        remove_stale_temporaries(path, &name);
        Ok(Self { _file: Some(file) })
    }

    /// Takes the lock of the checkpoint `path` for a new run (the file must not exist) or
    /// for a resumed one. Checked under the lock, so that a run that wrote the file just
    /// before cannot lose it to a new run started at the same moment.
    pub fn acquire_for(path: &Path, resume: bool) -> Result<Self> {
        let lock = Self::acquire(path)?;
        if !resume && path.exists() {
            bail!(
                "--checkpoint {}: the file exists; continue it with --resume {0}, or remove it",
                path.display()
            );
        }
        Ok(lock)
    }
}

/// Removes `.NAME.tmp-*` beside `path`: with the writer lock held, any such file is a
/// killed writer's unfinished rewrite.
fn remove_stale_temporaries(path: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            // Best effort: a leftover temporary file is harmless.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn write_bytes(path: &Path, bytes: &[u8], pause_ms: u64) -> Result<()> {
    let (pending, mut file) = PendingFile::create(path)?;
    file.write_all(bytes)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    drop(file);
    if pause_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
    }
    pending.commit()
}

/// Checks that `shards` (one per file, read from `paths`; `None` is the whole, shard 0/1)
/// are shards of one N, each at most once; returns N and, for each shard, its file.
fn shard_slots(shards: &[Option<Shard>], paths: &[PathBuf]) -> Result<(usize, Vec<Option<usize>>)> {
    let whole = Shard { index: 0, count: 1 };
    let count = shards.first().copied().flatten().unwrap_or(whole).count;
    let mut by_shard: Vec<Option<usize>> = vec![None; count];
    for (k, (shard, path)) in shards.iter().zip(paths).enumerate() {
        let shard = shard.unwrap_or(whole);
        if shard.count != count {
            bail!(
                "{}: shard {}/{}, but {} is a shard of {count}",
                path.display(),
                shard.index,
                shard.count,
                paths[0].display()
            );
        }
        if let Some(other) = by_shard[shard.index].replace(k) {
            bail!(
                "{} and {} are both shard {}/{count}",
                paths[other].display(),
                path.display(),
                shard.index
            );
        }
    }
    Ok((count, by_shard))
}

/// A shard file of a count or of an estimate, as a merge sees it.
pub(crate) trait ShardFile {
    /// The shard the file holds (`None`: the whole run).
    fn shard(&self) -> Option<Shard>;
    /// Units (subtrees or trials) done.
    fn done_len(&self) -> usize;
    /// Units the shard owns.
    fn owned_len(&self) -> usize;
    /// Whether every owned unit is done.
    fn is_complete(&self) -> bool;
}

/// The shard files of one run, read and slotted: `files[k]` was read from `paths[k]`, and
/// `by_shard[i]` is the file of shard `i` of N.
pub(crate) struct ShardFiles<F> {
    pub files: Vec<F>,
    pub by_shard: Vec<Option<usize>>,
}

/// Reads the shard files `paths`, refuses any file that `same_run` rejects against the
/// first, and slots them by shard (each shard at most once).
pub(crate) fn read_shard_files<F: ShardFile>(
    paths: &[PathBuf],
    read: impl Fn(&Path) -> Result<F>,
    same_run: impl Fn(&F, &F, &Path) -> Result<()>,
) -> Result<ShardFiles<F>> {
    if paths.is_empty() {
        bail!("no shard files to merge");
    }
    let files = paths.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
    for (file, path) in files.iter().zip(paths) {
        same_run(&files[0], file, path)?;
    }
    let shards: Vec<Option<Shard>> = files.iter().map(ShardFile::shard).collect();
    let (_, by_shard) = shard_slots(&shards, paths)?;
    Ok(ShardFiles { files, by_shard })
}

impl<F: ShardFile> ShardFiles<F> {
    /// N.
    pub fn count(&self) -> usize {
        self.by_shard.len()
    }

    /// The files in shard order.
    pub fn in_shard_order(&self) -> impl Iterator<Item = (usize, &F)> {
        self.by_shard.iter().flatten().map(|&k| (k, &self.files[k]))
    }

    /// Refuses a merge with shards missing or unfinished, naming them all in shard order
    /// (`units`: "subtrees" or "trials"; `no_result`: what the merge then cannot give).
    pub fn require_all(&self, paths: &[PathBuf], units: &str, no_result: &str) -> Result<()> {
        let count = self.count();
        let problems: Vec<String> = self
            .by_shard
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match *slot {
                None => Some(format!("shard {index}/{count} missing")),
                Some(k) if !self.files[k].is_complete() => Some(format!(
                    "shard {index}/{count} unfinished ({} of {} {units}, {})",
                    self.files[k].done_len(),
                    self.files[k].owned_len(),
                    paths[k].display()
                )),
                Some(_) => None,
            })
            .collect();
        if !problems.is_empty() {
            bail!("{no_result}: {}", problems.join("; "));
        }
        Ok(())
    }
}

/// Implements [`ShardFile`] for a checkpoint type with `shard`, `done` and `complete` fields
/// and an `owned()` method.
macro_rules! impl_shard_file {
    ($file:ty) => {
        impl $crate::checkpoint::ShardFile for $file {
            fn shard(&self) -> Option<$crate::shard::Shard> {
                self.shard
            }
            fn done_len(&self) -> usize {
                self.done.len()
            }
            fn owned_len(&self) -> usize {
                self.owned()
            }
            fn is_complete(&self) -> bool {
                self.complete
            }
        }
    };
}
pub(crate) use impl_shard_file;

impl_shard_file!(Checkpoint);

/// The sum of the shards of one count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedCount {
    /// `merge`.
    pub command: String,
    /// The count's fingerprint.
    pub fingerprint: Fingerprint,
    /// [`plan_hash`] of its plan.
    pub plan_hash: String,
    /// Shards (N).
    pub shards: usize,
    /// Subtrees in the plan.
    pub subtrees: usize,
    /// Regions: the exact count when `complete`.
    pub regions: u64,
    /// Every subtree covered and no thin verdict undecided.
    pub complete: bool,
    /// `complete`, or `undecided verdicts`.
    pub status: String,
    /// Seconds of the plan step and every subtree, summed over the shards.
    pub cpu_seconds: f64,
    /// Everything the searches did, summed.
    pub stats: SearchStats,
}

/// Sums the shard files of one count. Refuses files of different counts or plans, two
/// files for one shard, and a subtree covered twice; when shards are missing or
/// unfinished, the error names them instead of giving a total.
pub fn merge_counts(paths: &[PathBuf]) -> Result<MergedCount> {
    let set = read_shard_files(paths, Checkpoint::read, |first, file, path| {
        first
            .fingerprint
            .require(&file.fingerprint, path, "shard")?;
        if file.plan_hash != first.plan_hash || file.subtrees != first.subtrees {
            bail!(
                "{}: a shard of another plan than {}",
                path.display(),
                paths[0].display()
            );
        }
        Ok(())
    })?;
    let (files, count) = (&set.files, set.count());
    let first = &files[0];
    let mut covered = vec![false; first.subtrees];
    for (k, file) in set.in_shard_order() {
        for r in &file.done {
            if std::mem::replace(&mut covered[r.index], true) {
                bail!(
                    "{}: subtree {} is covered twice",
                    paths[k].display(),
                    r.index
                );
            }
        }
    }
    set.require_all(paths, "subtrees", "no total")?;
    let mut stats = first.top;
    let mut cpu_seconds = 0.0;
    for file in files {
        for r in &file.done {
            stats.add(&r.stats);
            cpu_seconds += r.seconds;
        }
    }
    let complete = stats.undecided == 0;
    Ok(MergedCount {
        command: "merge".into(),
        fingerprint: first.fingerprint.clone(),
        plan_hash: first.plan_hash.clone(),
        shards: count,
        subtrees: first.subtrees,
        regions: stats.regions,
        complete,
        status: if complete {
            "complete"
        } else {
            "undecided verdicts"
        }
        .into(),
        cpu_seconds,
        stats,
    })
}
