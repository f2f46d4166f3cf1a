//! Trial shards and checkpoints of `estimate`: merged shards give the single run's levels
//! and bounds; killed or interrupted estimates resume to the same result.

use std::process::{Command, Stdio};
use std::time::Duration;

use mipbound_experiment::Problem;
use mipbound_experiment::estimate::{EstimateResult, EstimateSettings, estimate};
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_experiment::shard::Shard;
use mipbound_experiment::trial_checkpoint::{
    EstimateJob, TrialCheckpoint, estimate_job, merge_trials,
};
use mipbound_formulation::Domain;
use mipbound_parity::XorWidth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::cli::{mipbound, stderr};
use crate::shards::{json_of, networks, recorded, shard_path, temporary, wait_for};

fn settings() -> EstimateSettings {
    EstimateSettings {
        widths: vec![XorWidth::Fixed(2), XorWidth::Fixed(3)],
        trials: 7,
        seed: 3,
        activation_bound: false,
        ..EstimateSettings::default()
    }
}

/// The widths of an estimate's JSON without the seconds, which differ between runs.
fn without_seconds(widths: &Value) -> Value {
    let mut widths = widths.clone();
    for w in widths.as_array_mut().unwrap() {
        w.as_object_mut().unwrap().remove("seconds_per_trial");
        for t in w["trials"].as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("seconds");
        }
    }
    widths
}

/// What must not change between a single run and its shards merged: every level, every
/// started trial but its seconds, and every bound.
fn invariant(r: &EstimateResult) -> Value {
    let widths = serde_json::to_value(&r.widths).unwrap();
    serde_json::json!([without_seconds(&widths), r.best_lower_bound])
}

/// For N = 1, 3 and 7 on six networks (ReLU, leaky ReLU, hard tanh, PWL, maxout, conv), the
/// shards merged give the single run's levels, trials and bounds; a shard alone reads no
/// bound off its part of the levels.
#[test]
fn merged_trial_shards_give_the_single_runs_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancelToken::new();
    let run = Run::quiet(2, &cancel);
    let settings = settings();
    for (name, net) in networks() {
        let n0 = net.input_dim();
        let problem =
            Problem::new(net, Domain::uniform(n0, -1.0, 1.0).unwrap(), "<arrays>").unwrap();
        let single = estimate(&problem, &settings, &run).unwrap();
        assert!(single.best_lower_bound.is_some(), "{name}");
        let levels: Vec<u32> = single
            .widths
            .iter()
            .flat_map(|w| w.levels.clone())
            .collect();
        assert!(levels.iter().any(|&l| l > 1), "{name}: {levels:?}");
        for n in [1, 3, 7] {
            let mut paths = Vec::new();
            for i in 0..n {
                let path = shard_path(dir.path(), i, n);
                let _ = std::fs::remove_file(&path);
                let job = EstimateJob {
                    shard: Some(Shard { index: i, count: n }),
                    checkpoint: Some(&path),
                    resume: false,
                };
                let shard = estimate_job(&problem, &settings, &run, &job).unwrap();
                for w in &shard.widths {
                    assert_eq!(w.levels.len(), (i..7).step_by(n).count(), "{name} {i}/{n}");
                    assert!(w.lower_bound.is_none() && w.tail_bound.is_none());
                }
                assert!(shard.best_lower_bound.is_none());
                assert!(TrialCheckpoint::read(&path).unwrap().complete);
                paths.push(path);
            }
            let merged = merge_trials(&paths).unwrap();
            assert_eq!(merged.shards, Some(n));
            assert_eq!(invariant(&merged), invariant(&single), "{name}: N = {n}");
            assert_eq!(
                merged.upper_bounds.architecture,
                single.upper_bounds.architecture
            );
        }
    }
}

/// Merge names missing and unfinished shards instead of giving bounds, and refuses shards
/// of another estimate and the files of a count.
#[test]
fn trial_merge_reports_missing_shards_and_refuses_other_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let net = "tests/data/mlp-2-8-8-3.json";
    let shard = |i: usize, seed: &str| {
        let path = dir.path().join(format!("s{i}-{seed}.json"));
        let out = mipbound(&[
            "estimate",
            net,
            "--box=-3,3",
            "--trials",
            "5",
            "--xor",
            "2,3",
            "--seed",
            seed,
            "--shard",
            &format!("{i}/3"),
            "--checkpoint",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        path.to_str().unwrap().to_string()
    };
    let (s0, s1, s2) = (shard(0, "1"), shard(1, "1"), shard(2, "1"));
    let other = shard(2, "2");
    let merge = |files: &[&str]| {
        let mut args = vec!["merge", "--estimate"];
        args.extend(files);
        let out = mipbound(&args);
        (out.status.code(), stderr(&out))
    };
    let (code, err) = merge(&[&s0, &s1]);
    assert_eq!(code, Some(2));
    assert_eq!(err.trim(), "error: no bounds: shard 2/3 missing");
    let (code, err) = merge(&[&s0, &s1, &other]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("a shard of a different estimate (its seed differs)"),
        "{err}"
    );
    let (_, err) = merge(&[&s0, &s0, &s2]);
    assert!(err.contains("are both shard 0/3"), "{err}");
    let merged = json_of(&mipbound(&["merge", "--estimate", "--json", &s0, &s1, &s2]));
    assert_eq!(merged["shards"], 3);
    assert_eq!(merged["widths"][0]["levels"].as_array().unwrap().len(), 5);
    // The whole run, and what it refuses.
    let single = json_of(&mipbound(&[
        "estimate",
        net,
        "--box=-3,3",
        "--trials",
        "5",
        "--xor",
        "2,3",
        "--seed",
        "1",
        "--json",
        "--no-activation-bound",
    ]));
    assert_eq!(merged["widths"][1]["levels"], single["widths"][1]["levels"]);
    assert_eq!(merged["best_lower_bound"], single["best_lower_bound"]);
    let (code, err) = {
        let out = mipbound(&["merge", "--count", &s0]);
        (out.status.code(), stderr(&out))
    };
    assert_eq!(code, Some(2));
    assert!(err.contains("it is an estimate's checkpoint"), "{err}");
    for (args, message) in [
        (
            vec!["--shard", "0/2"],
            "--shard needs --checkpoint FILE (or --resume FILE)",
        ),
        (
            vec!["--shard", "0/2", "--checkpoint", "x.json", "--exact"],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["estimate", net, "--box=-3,3"];
        all.extend(args);
        let out = mipbound(&all);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(message), "{err}");
    }
}

/// An estimate interrupted (as a Slurm signal does) after some trials ended keeps those
/// trials and not the ones it stopped; the resume runs the rest and gives the levels and
/// bounds of the uninterrupted run.
#[test]
fn an_interrupted_estimate_resumes_to_the_same_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.json");
    let (_, net) = networks().remove(0);
    let problem = Problem::new(net, Domain::uniform(4, -1.0, 1.0).unwrap(), "<arrays>").unwrap();
    let settings = EstimateSettings {
        trials: 40,
        ..settings()
    };
    let never = CancelToken::new();
    let single = estimate(&problem, &settings, &Run::quiet(2, &never)).unwrap();
    let cancel = CancelToken::new();
    let job = EstimateJob {
        shard: None,
        checkpoint: Some(&path),
        resume: false,
    };
    let stopped = std::thread::scope(|scope| {
        scope.spawn(|| {
            wait_for("a recorded trial", || {
                recorded(&path).is_some_and(|n| n >= 3)
            });
            cancel.cancel();
        });
        estimate_job(&problem, &settings, &Run::quiet(2, &cancel), &job).unwrap()
    });
    assert!(stopped.interrupted);
    let file = TrialCheckpoint::read(&path).unwrap();
    assert!(!file.complete);
    assert!(
        file.done.len() >= 3 && file.done.len() < 80,
        "{}",
        file.done.len()
    );
    assert!(file.done.iter().all(|t| t.report.status == "complete"));
    let err = estimate_job(&problem, &settings, &Run::quiet(2, &never), &job).unwrap_err();
    assert!(
        format!("{err:#}").contains("the file exists; continue it with --resume"),
        "{err:#}"
    );
    assert_eq!(
        TrialCheckpoint::read(&path).unwrap().done.len(),
        file.done.len()
    );
    let resumed = estimate_job(
        &problem,
        &settings,
        &Run::quiet(2, &never),
        &EstimateJob {
            resume: true,
            ..job
        },
    )
    .unwrap();
    assert_eq!(resumed.trials_resumed, file.done.len());
    assert_eq!(invariant(&resumed), invariant(&single));
    assert!(TrialCheckpoint::read(&path).unwrap().complete);
}

/// An estimate killed with SIGKILL at seeded moments, once in the middle of a checkpoint
/// write, resumes to the uninterrupted run's levels and bounds; the killed write's
/// temporary file is removed by the resume.
#[cfg(unix)]
#[test]
fn estimates_killed_with_sigkill_resume_to_the_same_bounds() {
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
    let common = [
        "estimate",
        net,
        "--xor",
        "2,3",
        "--trials",
        "12",
        "--seed",
        "9",
        "--no-activation-bound",
        "--json",
    ];
    let reference = json_of(&mipbound(&[&common[..], &["--threads", "2"]].concat()));
    let ckpt = dir.path().join("ckpt.json");
    let ckpt_arg = ckpt.to_str().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2027);
    for round in 0..2 {
        let _ = std::fs::remove_file(&ckpt);
        let during_write = round == 1;
        let mut command = Command::new(env!("CARGO_BIN_EXE_mipbound"));
        command
            .args(common)
            .args(["--threads", "1", "--checkpoint", ckpt_arg])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if during_write {
            command.env("MIPBOUND_TEST_CHECKPOINT_PAUSE_MS", "300");
        }
        let mut child = command.spawn().unwrap();
        let after = rng.random_range(1..6);
        wait_for("a checkpoint", || {
            recorded(&ckpt).is_some_and(|n| n >= after)
        });
        if during_write {
            wait_for("a checkpoint write", || temporary(dir.path()).is_some());
        } else {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..50)));
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: finished before the kill"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let kept = recorded(&ckpt).unwrap();
        assert!(kept >= after && kept < 24, "round {round}: {kept}");
        let resumed = json_of(&mipbound(
            &[&common[..], &["--threads", "2", "--resume", ckpt_arg]].concat(),
        ));
        assert_eq!(resumed["trials_resumed"], kept, "round {round}");
        assert_eq!(
            without_seconds(&resumed["widths"]),
            without_seconds(&reference["widths"]),
            "round {round}"
        );
        assert_eq!(resumed["best_lower_bound"], reference["best_lower_bound"]);
        assert!(
            temporary(dir.path()).is_none(),
            "round {round}: the killed write's temporary file is left"
        );
    }
}

/// A trial's level is recorded only when it is final: a trial cut by its own
/// `--trial-time-limit` is kept at its witnessed level (a rerun would stop it the same way),
/// while trials cut by the run's `--time-limit` are left to run again on resume.
#[test]
fn only_final_trial_levels_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (_, net) = networks().remove(0);
    let problem = Problem::new(net, Domain::uniform(4, -1.0, 1.0).unwrap(), "<arrays>").unwrap();
    let never = CancelToken::new();
    let run = Run::quiet(2, &never);
    let own = dir.path().join("own.json");
    let own_limit = EstimateSettings {
        trial_time_limit: Some(0.0),
        ..settings()
    };
    let job = EstimateJob {
        shard: None,
        checkpoint: Some(&own),
        resume: false,
    };
    estimate_job(&problem, &own_limit, &run, &job).unwrap();
    let file = TrialCheckpoint::read(&own).unwrap();
    assert!(file.complete);
    assert_eq!(file.done.len(), 14);
    assert!(file.done.iter().all(|t| t.report.status == "time limit"));

    let budget = dir.path().join("budget.json");
    let budgeted = EstimateSettings {
        trials: 400,
        time_limit: Some(0.05),
        ..settings()
    };
    let result = estimate_job(
        &problem,
        &budgeted,
        &run,
        &EstimateJob {
            checkpoint: Some(&budget),
            ..job
        },
    )
    .unwrap();
    let exhausted: usize = result.widths.iter().map(|w| w.exhausted_trials).sum();
    let cut: usize = result.widths.iter().map(|w| w.cut_short_trials).sum();
    assert!(cut > 0, "no trial was cut by the budget");
    let file = TrialCheckpoint::read(&budget).unwrap();
    assert!(!file.complete);
    assert_eq!(file.done.len(), exhausted);
    assert!(file.done.iter().all(|t| t.report.status == "complete"));
}
