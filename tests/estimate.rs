//! `mipbound estimate` under time limits: every planned trial counts, the budget holds
//! whatever the number of trials, and the text, JSON and CSV reports agree.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{mipbound, stderr, stdout};
use crate::formats::data;

const TRIALS: usize = 2_000;

fn numbers(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn median(levels: &[u64]) -> f64 {
    let mut s = levels.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2] as f64
    } else {
        (s[n / 2 - 1] + s[n / 2]) as f64 / 2.0
    }
}

/// `estimate` on 2 widths of `TRIALS` trials in 0.3 s: many trials are cut short or never
/// start. Returns stdout and the CSV rows by width.
fn time_limited(extra: &[&str]) -> (String, Vec<csv::StringRecord>, csv::StringRecord) {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("e.csv");
    let file = data("mlp-2-8-8-3.json");
    let trials = TRIALS.to_string();
    let mut args = vec![
        "estimate",
        file.to_str().unwrap(),
        "--box",
        "-3,3",
        "--xor",
        "2,3",
        "--trials",
        &trials,
        "--confidence",
        "0.9",
        "--time-limit",
        "0.3",
        "--no-activation-bound",
        "--csv",
        csv_path.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = mipbound(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    (stdout(&out), rows, header)
}

fn field<'a>(header: &csv::StringRecord, row: &'a csv::StringRecord, name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

#[test]
fn time_limited_json_and_csv_count_every_planned_trial() {
    let (json, rows, header) = time_limited(&["--json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let confidence = report["confidence"].as_f64().unwrap();
    assert!((confidence - 0.9).abs() < 1e-12);
    let mut unfinished = 0;
    for (w, row) in report["widths"].as_array().unwrap().iter().zip(&rows) {
        let levels = numbers(&w["levels"]);
        assert_eq!(levels.len(), TRIALS);
        let trials = w["trials"].as_array().unwrap();
        let (done, cut, never) = (
            w["exhausted_trials"].as_u64().unwrap() as usize,
            w["cut_short_trials"].as_u64().unwrap() as usize,
            w["never_started_trials"].as_u64().unwrap() as usize,
        );
        assert_eq!(done + cut + never, TRIALS);
        assert_eq!(trials.len(), TRIALS - never);
        unfinished += cut + never;
        let complete = trials.iter().filter(|t| t["status"] == "complete").count();
        assert_eq!(complete, done);
        for (r, &level) in levels.iter().enumerate() {
            match trials.get(r) {
                Some(t) => {
                    assert_eq!(t["trial"], r as u64);
                    assert_eq!(t["level"], level);
                }
                None => assert_eq!(level, 0),
            }
        }
        // Every aggregate is over all planned trials, at the planned confidence.
        let min = *levels.iter().min().unwrap();
        assert_eq!(w["level_min"], min);
        assert_eq!(w["level_max"], *levels.iter().max().unwrap());
        assert_eq!(w["level_median"].as_f64().unwrap(), median(&levels));
        assert_eq!(w["lower_bound"]["level"], min);
        assert!((w["lower_bound"]["confidence"].as_f64().unwrap() - confidence).abs() < 1e-15);
        let mut sorted = levels.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let threshold = report["threshold"].as_u64().unwrap() as usize;
        assert_eq!(w["tail_bound"]["level"], sorted[threshold - 1]);
        // The CSV row of the same run says the same.
        assert_eq!(field(&header, row, "xor"), w["xor"].as_str().unwrap());
        assert_eq!(field(&header, row, "trials"), TRIALS.to_string());
        let csv_levels: Vec<u64> = field(&header, row, "levels")
            .split(';')
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(csv_levels, levels);
        assert_eq!(field(&header, row, "exhausted_trials"), done.to_string());
        assert_eq!(field(&header, row, "cut_short_trials"), cut.to_string());
        assert_eq!(
            field(&header, row, "never_started_trials"),
            never.to_string()
        );
        assert_eq!(field(&header, row, "level_min"), min.to_string());
        let log2: f64 = field(&header, row, "lower_bound_log2").parse().unwrap();
        assert_eq!(log2, w["lower_bound"]["log2"].as_f64().unwrap());
    }
    assert!(
        unfinished > 0,
        "0.3 s cannot finish {TRIALS} trials per width"
    );
}

#[test]
fn time_limited_text_names_the_unfinished_trials_as_the_csv_counts_them() {
    let (text, rows, header) = time_limited(&[]);
    assert!(
        text.contains(&format!(
            "time limit: every width's bound uses all {TRIALS} planned trials"
        )),
        "{text}"
    );
    for row in &rows {
        let xor = field(&header, row, "xor");
        let median: f64 = field(&header, row, "level_median").parse().unwrap();
        let levels = format!(
            "{}/{median}/{}",
            field(&header, row, "level_min"),
            field(&header, row, "level_max")
        );
        let table_row = text
            .lines()
            .find(|l| l.starts_with(&format!("xor {xor} ")))
            .unwrap();
        assert!(table_row.contains(&levels), "{levels} not in {table_row}");
        let never: usize = field(&header, row, "never_started_trials").parse().unwrap();
        let cut: usize = field(&header, row, "cut_short_trials").parse().unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("  xor {xor}: ")))
            .unwrap_or_else(|| panic!("no line for xor {xor} in\n{text}"));
        if never > 0 {
            let expected = if never == 1 {
                format!("1 never started (trials {})", TRIALS - 1)
            } else {
                format!(
                    "{never} never started (trials {}-{})",
                    TRIALS - never,
                    TRIALS - 1
                )
            };
            assert!(line.contains(&expected), "{expected} not in {line}");
        }
        assert_eq!(
            line.contains("cut short by the time limit"),
            cut > 0,
            "{line}"
        );
    }
}

#[test]
fn a_million_trials_keep_a_one_second_budget() {
    let file = data("mlp-2-8-8-3.json");
    let f = file.to_str().unwrap();
    let start = Instant::now();
    let out = mipbound(&[
        "estimate",
        f,
        "--box",
        "-3,3",
        "--trials",
        "1000000",
        "--time-limit",
        "1",
    ]);
    let elapsed = start.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    // The bound asked for is 1 s + 2 s; 10 s leaves room for a loaded machine.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let text = stdout(&out);
    assert!(
        text.contains("every width's bound uses all 1000000 planned trials"),
        "{text}"
    );
    assert!(text.contains(" never started (trials "), "{text}");
    let out = mipbound(&["estimate", f, "--trials", "10000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--trials must be at most 1000000 (got 10000000)"),
        "{}",
        stderr(&out)
    );
}

/// Ctrl-C (SIGINT) in the middle of the trials: exit 130, every planned trial counted.
#[cfg(unix)]
#[test]
fn ctrl_c_keeps_every_planned_trial() {
    use std::process::{Command, Stdio};
    let file = data("example-784-8-6-10.onnx");
    let child = Command::new(env!("CARGO_BIN_EXE_mipbound"))
        .args([
            "estimate",
            file.to_str().unwrap(),
            "--trials",
            "200",
            "--no-activation-bound",
            "--time-limit",
            "60",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // 800 trials of about 30 ms each take far longer than this on 2 threads.
    std::thread::sleep(Duration::from_secs(2));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    let widths = report["widths"].as_array().unwrap();
    assert_eq!(widths.len(), 4);
    for w in widths {
        let levels = numbers(&w["levels"]);
        assert_eq!(levels.len(), 200);
        let never = w["never_started_trials"].as_u64().unwrap() as usize;
        assert!(never > 0);
        assert!(levels[200 - never..].iter().all(|&l| l == 0));
        assert_eq!(w["lower_bound"]["confidence"], report["confidence"]);
        assert_eq!(w["lower_bound"]["level"], *levels.iter().min().unwrap());
    }
    assert_eq!(report["best_lower_bound"]["widths_compared"], 4);
}
