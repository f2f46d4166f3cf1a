//! One count cut into subtrees: plans, shards, `merge --count`, checkpoints and resuming a
//! count killed with SIGKILL (also in the middle of a checkpoint write).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mipbound_experiment::Problem;
use mipbound_experiment::batch::Shard;
use mipbound_experiment::checkpoint::{Checkpoint, PlanFile, WriterLock, merge_counts};
use mipbound_experiment::count::{CountJob, CountSettings, count, count_job, plan_count};
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_formulation::Domain;
use mipbound_network::{Activation, Network};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::activations::{conv_layer, geometry, kinds, random_net};
use crate::cli::{mipbound, stderr};

/// ReLU, leaky ReLU, hard tanh, a three-breakpoint PWL, maxout and a 2-D convolution.
pub(crate) fn networks() -> Vec<(String, Network)> {
    let mut nets = vec![(
        "relu".to_string(),
        random_net(4, &[8, 8], &Activation::Relu, 0.3, 1),
    )];
    for (k, (name, activation)) in kinds().into_iter().enumerate() {
        let widths: &[usize] = if activation.rank() > 1 {
            &[4, 3]
        } else {
            &[6, 5]
        };
        nets.push((
            name.to_string(),
            random_net(3, widths, &activation, 0.3, 10 + k as u64),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let conv = Network::new(
        9,
        vec![
            conv_layer(geometry(1, 3, 3, 2, (2, 2), 1), Activation::Relu, &mut rng),
            conv_layer(geometry(2, 2, 2, 2, (1, 1), 1), Activation::Relu, &mut rng),
        ],
    )
    .unwrap();
    nets.push(("conv".to_string(), conv));
    nets
}

pub(crate) fn shard_path(dir: &Path, i: usize, n: usize) -> PathBuf {
    dir.join(format!("shard-{i}-of-{n}.json"))
}

/// For N = 1, 3 and 7 the shards' counts sum to the single run's, and `merge_counts` gives
/// that total with the same search statistics for every N (one plan, cut the same way).
#[test]
fn shard_counts_sum_to_the_single_count() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancelToken::new();
    let run = Run::quiet(2, &cancel);
    let settings = CountSettings::default();
    for (name, net) in networks() {
        let n0 = net.input_dim();
        let problem =
            Problem::new(net, Domain::uniform(n0, -1.0, 1.0).unwrap(), "<arrays>").unwrap();
        let single = count(&problem, &settings, &run, None).unwrap();
        assert!(single.complete, "{name}");
        assert!(single.regions > 20, "{name}: {}", single.regions);
        let plan = plan_count(&problem, &settings, &run, 40).unwrap();
        assert!(
            plan.plan.subtrees.len() >= 7,
            "{name}: {}",
            plan.plan.subtrees.len()
        );
        let plan_path = dir.path().join(format!("{name}.plan.json"));
        plan.write(&plan_path).unwrap();
        let plan = PlanFile::read(&plan_path).unwrap();
        let mut merged_stats = None;
        for n in [1, 3, 7] {
            let mut sum = 0;
            let mut paths = Vec::new();
            for i in 0..n {
                let path = shard_path(dir.path(), i, n);
                let _ = std::fs::remove_file(&path);
                let job = CountJob {
                    plan: Some((&plan, &plan_path)),
                    shard: Some(Shard { index: i, count: n }),
                    checkpoint: Some(&path),
                    resume: false,
                };
                let shard = count_job(&problem, &settings, &run, None, &job).unwrap();
                assert!(shard.complete, "{name} {i}/{n}");
                sum += shard.regions;
                paths.push(path);
            }
            assert_eq!(sum, single.regions, "{name}: N = {n}");
            let merged = merge_counts(&paths).unwrap();
            assert_eq!(merged.regions, single.regions, "{name}: N = {n}");
            assert!(merged.complete);
            assert_eq!(merged.shards, n);
            let mut stats = merged.stats;
            stats.lp_seconds = 0.0;
            match &merged_stats {
                None => merged_stats = Some(stats),
                Some(first) => assert_eq!(&stats, first, "{name}: N = {n}"),
            }
        }
    }
}

/// Merge names the shards that are missing or unfinished instead of giving a total, and
/// refuses shards of another count; a plan is refused for a count with other settings.
#[test]
fn merge_reports_missing_shards_and_refuses_other_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancelToken::new();
    let run = Run::quiet(1, &cancel);
    let net = random_net(3, &[6, 6], &Activation::Relu, 0.3, 5);
    let problem = Problem::new(net, Domain::unit_box(3), "<arrays>").unwrap();
    let settings = CountSettings::default();
    let plan = plan_count(&problem, &settings, &run, 20).unwrap();
    let plan_path = dir.path().join("plan.json");
    plan.write(&plan_path).unwrap();
    let shard = |i: usize, settings: &CountSettings| {
        let path = shard_path(dir.path(), i, 3);
        let job = CountJob {
            plan: Some((&plan, &plan_path)),
            shard: Some(Shard { index: i, count: 3 }),
            checkpoint: Some(&path),
            resume: false,
        };
        count_job(&problem, settings, &run, None, &job).map(|_| path)
    };
    let a = shard(0, &settings).unwrap();
    // A new run refuses an existing checkpoint, under its lock, in the library itself.
    let before = std::fs::read(&a).unwrap();
    let err = format!("{:#}", shard(0, &settings).unwrap_err());
    assert!(
        err.contains("the file exists; continue it with --resume"),
        "{err}"
    );
    assert_eq!(std::fs::read(&a).unwrap(), before);
    let c = shard(2, &settings).unwrap();
    let err = format!("{:#}", merge_counts(&[a.clone(), c.clone()]).unwrap_err());
    assert_eq!(err, "no total: shard 1/3 missing", "{err}");
    // An unfinished shard: its file with one subtree taken out.
    let mut partial = Checkpoint::read(&c).unwrap();
    partial.done.pop();
    partial.complete = false;
    let owned = partial.owned();
    let partial_path = dir.path().join("partial.json");
    std::fs::write(&partial_path, serde_json::to_vec(&partial).unwrap()).unwrap();
    // A shard of another count (other seed) is refused, naming its file.
    let other = CountSettings {
        seed: 9,
        ..CountSettings::default()
    };
    let err = format!("{:#}", shard(1, &other).unwrap_err());
    assert!(
        err.contains("plan.json: a plan of a different count (its seed differs)"),
        "{err}"
    );
    let b = shard(1, &settings).unwrap();
    let err = format!(
        "{:#}",
        merge_counts(&[a.clone(), b.clone(), partial_path]).unwrap_err()
    );
    assert!(
        err.starts_with(&format!(
            "no total: shard 2/3 unfinished ({} of {owned} subtrees",
            owned - 1
        )),
        "{err}"
    );
    let mut foreign = Checkpoint::read(&b).unwrap();
    foreign.fingerprint.margin_tolerance = 1e-6;
    let foreign_path = dir.path().join("foreign.json");
    std::fs::write(&foreign_path, serde_json::to_vec(&foreign).unwrap()).unwrap();
    let err = format!(
        "{:#}",
        merge_counts(&[a.clone(), foreign_path, c.clone()]).unwrap_err()
    );
    assert!(
        err.contains("foreign.json: a shard of a different count (its margin tolerance differs)"),
        "{err}"
    );
    // The CLI says the same in one line and exits with 2.
    let out = mipbound(&["merge", "--count", a.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).trim(), "error: no total: shard 1/3 missing");
    let out = mipbound(&[
        "merge",
        "--count",
        "--json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    let single = count(&problem, &settings, &run, None).unwrap();
    assert_eq!(merged["regions"].as_u64(), Some(single.regions));
}

/// The number of subtrees recorded in a checkpoint file, if it can be read.
pub(crate) fn recorded(path: &Path) -> Option<usize> {
    let text = std::fs::read(path).ok()?;
    let value: Value = serde_json::from_slice(&text).ok()?;
    Some(value["done"].as_array()?.len())
}

/// A temporary file of a checkpoint write in progress (`.NAME.tmp-PID`).
pub(crate) fn temporary(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".ckpt.json.tmp-"))
        })
}

/// Polls `until` every few milliseconds for at most 60 s.
pub(crate) fn wait_for(what: &str, mut until: impl FnMut() -> bool) {
    let start = Instant::now();
    while !until() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited too long for {what}"
        );
        std::thread::sleep(Duration::from_millis(3));
    }
}

pub(crate) fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The fields of a count's JSON that must not change when it is cut and resumed.
fn invariant(report: &Value) -> Vec<(String, Value)> {
    [
        "regions",
        "complete",
        "lp_solves",
        "nodes",
        "infeasible_lps",
        "witness_reuses",
        "thin_verdicts",
        "subtrees",
        "subtrees_done",
    ]
    .iter()
    .map(|k| (k.to_string(), report[*k].clone()))
    .collect()
}

/// A count of a few seconds is killed with SIGKILL at seeded moments after checkpoints
/// were written, once in the middle of a write (between the temporary file and the
/// rename); each resume gives the identical count and statistics.
#[cfg(unix)]
#[test]
fn resumes_after_sigkill_give_the_identical_count() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    let out = mipbound(&[
        "generate",
        "--widths",
        "7,16,16,1",
        "--seed",
        "3",
        "--out",
        net.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let net = net.to_str().unwrap();
    let reference = json_of(&mipbound(&["count", net, "--json", "--threads", "2"]));
    assert_eq!(reference["regions"], 93858);
    let ckpt = dir.path().join("ckpt.json");
    let ckpt_arg = ckpt.to_str().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for round in 0..3 {
        let _ = std::fs::remove_file(&ckpt);
        let during_write = round == 2;
        let mut command = Command::new(env!("CARGO_BIN_EXE_mipbound"));
        command
            .args(["count", net, "--threads", "1", "--checkpoint", ckpt_arg])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if during_write {
            command.env("MIPBOUND_TEST_CHECKPOINT_PAUSE_MS", "300");
        }
        let mut child = command.spawn().unwrap();
        let after = rng.random_range(1..60);
        wait_for("a checkpoint", || {
            recorded(&ckpt).is_some_and(|n| n >= after)
        });
        if during_write {
            wait_for("a checkpoint write", || temporary(dir.path()).is_some());
        } else {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: finished before the kill"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let kept = recorded(&ckpt).unwrap();
        assert!(kept >= after && kept < 411, "round {round}: {kept}");
        if during_write {
            assert!(
                temporary(dir.path()).is_some(),
                "the kill came after the rename"
            );
        }
        let resumed = json_of(&mipbound(&[
            "count",
            net,
            "--json",
            "--threads",
            "2",
            "--resume",
            ckpt_arg,
        ]));
        assert_eq!(resumed["subtrees_resumed"], kept, "round {round}");
        assert!(
            temporary(dir.path()).is_none(),
            "round {round}: the killed write's temporary file is left"
        );
        assert_eq!(invariant(&resumed), invariant(&reference), "round {round}");
        let file = Checkpoint::read(&ckpt).unwrap();
        assert!(file.complete);
        assert_eq!(file.total().regions, 93858);
    }
    // A second writer of the same checkpoint is refused while the first holds its lock.
    let held = WriterLock::acquire(&ckpt).unwrap();
    let out = mipbound(&["count", net, "--resume", ckpt_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ckpt.json: another run is writing this checkpoint"),
        "{err}"
    );
    drop(held);
    // Resuming with other settings is refused in one line naming the file.
    let out = mipbound(&["count", net, "--seed", "4", "--resume", ckpt_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ckpt.json: a checkpoint of a different count (its seed differs)"),
        "{err}"
    );
    let out = mipbound(&["count", net, "--checkpoint", ckpt_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ckpt.json: the file exists; continue it with --resume"),
        "{err}"
    );
}

/// `--patterns` with shards: each shard writes its own subtrees' patterns, and together
/// the shards' files hold every line of the single run's file exactly once. With
/// `--resume` it is refused in one line.
#[test]
fn shard_patterns_hold_every_region_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let net = path("net.json");
    let out = mipbound(&[
        "generate", "--widths", "4,8,8,1", "--seed", "7", "--out", &net,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let single = json_of(&mipbound(&[
        "count",
        &net,
        "--json",
        "--patterns",
        &path("all.txt"),
    ]));
    let plan = path("plan.json");
    let out = mipbound(&["count", &net, "--plan", &plan, "--subtrees", "30", "--json"]);
    let report = json_of(&out);
    assert!(report["subtrees"].as_u64().unwrap() >= 30, "{report}");
    let mut lines = Vec::new();
    let mut sum = 0;
    for i in 0..3 {
        let shard = format!("{i}/3");
        let report = json_of(&mipbound(&[
            "count",
            &net,
            "--plan",
            &plan,
            "--shard",
            &shard,
            "--json",
            "--checkpoint",
            &path(&format!("s{i}.json")),
            "--patterns",
            &path(&format!("p{i}.txt")),
        ]));
        assert_eq!(report["shard"], format!("shard {i}/3"));
        sum += report["regions"].as_u64().unwrap();
        let text = std::fs::read_to_string(path(&format!("p{i}.txt"))).unwrap();
        assert_eq!(
            text.lines().count() as u64,
            report["regions"].as_u64().unwrap()
        );
        lines.extend(text.lines().map(str::to_string));
    }
    assert_eq!(Some(sum), single["regions"].as_u64());
    let mut all: Vec<String> = std::fs::read_to_string(path("all.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    all.sort();
    lines.sort();
    assert_eq!(lines, all);
    let distinct: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len());
    let out = mipbound(&[
        "count",
        &net,
        "--plan",
        &plan,
        "--shard",
        "0/3",
        "--resume",
        &path("s0.json"),
        "--patterns",
        &path("again.txt"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: --patterns cannot be used with --resume: the patterns of the subtrees done before the stop are not known"
    );
    // A shard's checkpoint is not the whole count's, nor one of another plan.
    let out = mipbound(&["count", &net, "--resume", &path("s0.json")]);
    assert!(
        stderr(&out).contains("s0.json: a checkpoint of shard 0/3, this run is the whole count"),
        "{}",
        stderr(&out)
    );
    let mut other = Checkpoint::read(Path::new(&path("s1.json"))).unwrap();
    other.plan_hash = "0".repeat(64);
    std::fs::write(path("s1.json"), serde_json::to_vec(&other).unwrap()).unwrap();
    let out = mipbound(&[
        "count",
        &net,
        "--plan",
        &plan,
        "--shard",
        "1/3",
        "--resume",
        &path("s1.json"),
    ]);
    assert!(
        stderr(&out)
            .contains("s1.json: a checkpoint of another plan of this count (plan 000000000000"),
        "{}",
        stderr(&out)
    );
    // A shard needs a file for its result; a plan step takes no checkpoint.
    let out = mipbound(&["count", &net, "--plan", &plan, "--shard", "0/3"]);
    assert!(
        stderr(&out).contains("--shard needs --checkpoint FILE"),
        "{}",
        stderr(&out)
    );
    let out = mipbound(&[
        "count",
        &net,
        "--plan",
        &plan,
        "--checkpoint",
        &path("c.json"),
    ]);
    assert!(
        stderr(&out).contains("--plan FILE without --shard only writes the plan"),
        "{}",
        stderr(&out)
    );
}
