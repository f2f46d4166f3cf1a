//! The `mipbound` binary end to end: reports, files, exit codes.

use std::process::{Command, Output};

use crate::formats::data;

pub fn mipbound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mipbound"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn count_json_has_the_contract_fields() {
    let file = data("mlp-2-8-8-3.onnx");
    let report = json(&mipbound(&[
        "count",
        file.to_str().unwrap(),
        "--json",
        "--box",
        "-3,3",
    ]));
    let lib = crate::formats::data("mlp-2-8-8-3.json");
    let net = mipbound_network::formats::load(&lib, None).unwrap();
    let expected = crate::oracle::count_2d(&net, -3.0, 3.0) as u64;
    assert_eq!(report["regions"], expected);
    assert_eq!(report["complete"], true);
    assert!(report["seconds"].as_f64().unwrap() >= 0.0);
    assert!(report["lp_solves"].as_u64().unwrap() > 0);
    assert_eq!(report["rejected_witnesses"], 0);
    assert_eq!(report["seed"], 0);
    assert_eq!(
        report["network"]["hidden_widths"],
        serde_json::json!([8, 8])
    );
}

#[test]
fn count_text_and_patterns_file() {
    let dir = tempfile::tempdir().unwrap();
    let patterns = dir.path().join("patterns.txt");
    let file = data("mlp-2-8-8-3.json");
    let out = mipbound(&[
        "count",
        file.to_str().unwrap(),
        "--box",
        "-3,3",
        "--patterns",
        patterns.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let net = mipbound_network::formats::load(&file, None).unwrap();
    let expected = crate::oracle::count_2d(&net, -3.0, 3.0);
    assert!(
        text.contains(&format!("regions       {expected} (complete)")),
        "{text}"
    );
    assert!(text.contains("seed          0"), "{text}");
    let lines: Vec<String> = std::fs::read_to_string(&patterns)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), expected);
    let distinct: std::collections::HashSet<&String> = lines.iter().collect();
    assert_eq!(distinct.len(), expected);
    assert!(
        lines
            .iter()
            .all(|l| l.len() == 17 && l.as_bytes()[8] == b' ')
    );
}

#[test]
fn time_limit_reports_at_least() {
    let file = data("mlp-3-6-5-2.json");
    let out = mipbound(&[
        "count",
        file.to_str().unwrap(),
        "--time-limit",
        "0",
        "--json",
    ]);
    let report = json(&out);
    assert_eq!(report["complete"], false);
    assert_eq!(report["status"], "time limit");
    let text = stdout(&mipbound(&[
        "count",
        file.to_str().unwrap(),
        "--time-limit",
        "0",
    ]));
    assert!(text.contains("at least"), "{text}");
}

#[test]
fn inspect_lists_layers_and_stable_units() {
    let file = data("mlp-2-8-8-3.dat");
    let out = mipbound(&["inspect", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .map(|l| l[key.len()..].trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        line("layer 1 "),
        "dense 2 -> 8, relu (24 parameters)",
        "{text}"
    );
    assert_eq!(
        line("output "),
        "dense 8 -> 3, identity (27 parameters)",
        "{text}"
    );
    assert_eq!(line("meta test_accuracy "), "0.5", "{text}");
    let report = json(&mipbound(&[
        "inspect",
        file.to_str().unwrap(),
        "--json",
        "--box",
        "-100,100",
    ]));
    let lp = &report["stable_units_lp"];
    assert_eq!(lp[0]["unstable"], 8);
    assert_eq!(
        lp[1]["active"].as_u64().unwrap()
            + lp[1]["inactive"].as_u64().unwrap()
            + lp[1]["unstable"].as_u64().unwrap(),
        8
    );
}

#[test]
fn generate_then_convert_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("g.json");
    let onnx_path = dir.path().join("g.onnx");
    let out = mipbound(&[
        "generate",
        "--widths",
        "3,5,4,2",
        "--seed",
        "9",
        "--out",
        json_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = mipbound(&[
        "convert",
        json_path.to_str().unwrap(),
        "--out",
        onnx_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let a = mipbound_network::formats::load(&json_path, None).unwrap();
    let b = mipbound_network::formats::load(&onnx_path, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a,
        mipbound_network::random::he_network(&[3, 5, 4, 2], 0.1, true, 9)
            .with_metadata(a.metadata().clone())
    );
    let c1 = json(&mipbound(&["count", json_path.to_str().unwrap(), "--json"]));
    let c2 = json(&mipbound(&["count", onnx_path.to_str().unwrap(), "--json"]));
    assert_eq!(c1["regions"], c2["regions"]);
}

#[test]
fn generate_draws_every_activation_and_counts_match_breakpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.json");
    let p = path.to_str().unwrap();
    for spec in [
        "leaky_relu:0.2",
        "hardtanh",
        "clip:-0.3:0.4",
        "maxout:3",
        "pwl:-0.4/0/0.3:0.5/1/-1/0.2",
    ] {
        let out = mipbound(&[
            "generate",
            "--widths",
            "1,6,5,1",
            "--seed",
            "4",
            "--activation",
            spec,
            "--out",
            p,
        ]);
        assert!(out.status.success(), "{spec}: {}", stderr(&out));
        let net = mipbound_network::formats::load(&path, None).unwrap();
        let activation: mipbound_network::Activation = spec.parse().unwrap();
        let expected =
            mipbound_network::random::random_network(&[1, 6, 5, 1], &activation, 0.1, true, 4);
        assert_eq!(
            net,
            expected.with_metadata(net.metadata().clone()),
            "{spec}"
        );
        let report = json(&mipbound(&["count", p, "--json", "--box", "-2,2"]));
        let breakpoints = crate::oracle::count_1d(&net, -2.0, 2.0) as u64;
        assert!(breakpoints > 6, "{spec}: only {breakpoints} regions");
        assert_eq!(report["regions"], breakpoints, "{spec}");
        // ONNX holds every kind but a general PWL: the same network comes back.
        let onnx = dir.path().join("g.onnx");
        let out = mipbound(&["convert", p, "--out", onnx.to_str().unwrap()]);
        if spec.starts_with("pwl") {
            assert_eq!(out.status.code(), Some(2));
            assert!(
                stderr(&out).contains("has no ONNX operator"),
                "{}",
                stderr(&out)
            );
        } else {
            assert!(out.status.success(), "{spec}: {}", stderr(&out));
            assert_eq!(
                mipbound_network::formats::load(&onnx, None).unwrap(),
                net,
                "{spec}"
            );
        }
    }
    let out = mipbound(&[
        "generate",
        "--widths",
        "1,3,1",
        "--activation",
        "tanh",
        "--out",
        p,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown activation `tanh`"));
}

#[test]
fn estimate_is_reproducible_and_reports_every_width() {
    let file = data("mlp-2-8-8-3.json");
    let f = file.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("estimate.csv");
    let args = |seed: &'static str| {
        vec![
            "estimate",
            f,
            "--box",
            "-3,3",
            "--xor",
            "2,5,dense",
            "--trials",
            "4",
            "--confidence",
            "0.9",
            "--seed",
            seed,
            "--exact",
            "--json",
        ]
    };
    let a = json(&mipbound(&args("5")));
    let b = json(&mipbound(&args("5")));
    let c = json(&mipbound(&args("6")));
    let levels = |r: &serde_json::Value| -> Vec<serde_json::Value> {
        r["widths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["levels"].clone())
            .collect()
    };
    assert_eq!(levels(&a), levels(&b));
    assert_ne!(levels(&a), levels(&c));
    assert_eq!(a["seed"], 5);
    let widths = a["widths"].as_array().unwrap();
    assert_eq!(widths.len(), 3);
    assert_eq!(widths[2]["xor"], "dense");
    let alpha = a["alpha"].as_f64().unwrap();
    assert!((alpha - (-(0.1f64).log2() / 4.0)).abs() < 1e-12);
    for w in widths {
        let lv: Vec<u64> = w["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(lv.len(), 4);
        let min = *lv.iter().min().unwrap() as f64;
        assert!((w["lower_bound"]["log2"].as_f64().unwrap() - (min - alpha)).abs() < 1e-12);
        assert!((w["lower_bound"]["confidence"].as_f64().unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(w["exhausted_trials"], 4);
    }
    let net = mipbound_network::formats::load(&file, None).unwrap();
    assert_eq!(
        a["exact"]["regions"],
        crate::oracle::count_2d(&net, -3.0, 3.0) as u64
    );
    assert_eq!(a["upper_bounds"]["architecture"], "1369");
    assert_eq!(
        a["upper_bounds"]["architecture_name"],
        "Serra et al. 2018, Theorem 1"
    );
    let activation: u64 = a["upper_bounds"]["activation"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let exact = a["exact"]["regions"].as_u64().unwrap();
    assert!(
        exact <= activation && activation <= 1369,
        "{exact} {activation}"
    );
    let skipped = json(&mipbound(&[
        "estimate",
        f,
        "--xor",
        "3",
        "--trials",
        "2",
        "--no-activation-bound",
        "--json",
    ]));
    assert!(skipped["upper_bounds"]["activation"].is_null());

    let out = mipbound(&[
        "estimate",
        f,
        "--box",
        "-3,3",
        "--xor",
        "3,4",
        "--trials",
        "3",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "xor 3",
        "xor 4",
        "upper (arch.)",
        "Serra et al. 2018, Theorem 1",
        "<= 1369",
        "best lower bound: xor",
    ] {
        assert!(text.contains(needle), "missing '{needle}' in:\n{text}");
    }
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("network,input_dim,hidden_widths,domain,seed,xor,trials,alpha"));
    assert!(
        lines[1].contains(",3,3,") && lines[2].contains(",4,3,"),
        "{csv_text}"
    );
}

#[test]
fn estimate_rejects_bad_settings() {
    let file = data("mlp-2-8-8-3.json");
    let f = file.to_str().unwrap();
    for (args, fragment) in [
        (
            vec!["--confidence", "1.5"],
            "--confidence must be strictly between 0 and 1",
        ),
        (vec!["--trials", "0"], "--trials must be at least 1"),
        (
            vec!["--threshold", "20"],
            "--threshold must be between 1 and --trials (10)",
        ),
        (vec!["--alpha=-1"], "--alpha must be a positive number"),
    ] {
        let mut all = vec!["estimate", f];
        all.extend(args);
        let out = mipbound(&all);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(fragment), "{}", stderr(&out));
    }
    let out = mipbound(&["estimate", f, "--xor", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("XOR width '0' must be an integer from 1 to 64"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bounds_lists_every_bound_and_the_activity_table() {
    let file = data("mlp-2-8-8-3.json");
    let f = file.to_str().unwrap();
    let report = json(&mipbound(&["bounds", f, "--box", "-3,3", "--json"]));
    let bounds = report["bounds"].as_array().unwrap();
    let value = |name: &str| -> Option<String> {
        bounds
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("no bound {name}"))["value"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(value("Theorem 1").as_deref(), Some("1369"));
    assert_eq!(value("trivial").as_deref(), Some("65536"));
    assert_eq!(value("Zaslavsky"), None);
    assert_eq!(value("maxout bound"), None);
    // n0 = 2, widths [8, 8]: both constructions apply (n_l >= 3 n0).
    assert_eq!(value("Montufar 2014 construction").as_deref(), Some("592"));
    assert_eq!(value("Serra 2018 construction").as_deref(), Some("925"));
    let activation: u64 = value("activation-based").unwrap().parse().unwrap();
    let net = mipbound_network::formats::load(&file, None).unwrap();
    let exact = crate::oracle::count_2d(&net, -3.0, 3.0) as u64;
    assert!(exact <= activation && activation <= 1369);
    let rows = report["activation"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["layer"], 1);
    assert!(rows[0]["limit"].is_null());
    assert!(rows.iter().skip(1).all(|r| r["layer"] == 2));
    let text = stdout(&mipbound(&["bounds", f, "--box", "-3,3"]));
    for needle in [
        "Theorem 1",
        "activation-based",
        "A_l(k)",
        "not applicable: needs maxout units",
        "Xiong one-layer CNN",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

#[test]
fn formulate_writes_an_mps_and_an_lp_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("mlp-2-8-8-3.json");
    for name in ["model.mps", "model.lp"] {
        let out_path = dir.path().join(name);
        let out = mipbound(&[
            "formulate",
            file.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(&out_path).unwrap();
        for needle in ["x_0", "z_1_0", "d_2_7", "f"] {
            assert!(text.contains(needle), "{name} lacks {needle}");
        }
    }
    let out = mipbound(&["formulate", file.to_str().unwrap(), "--out", "model.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the output must end in .mps or .lp"));
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("mlp-3-6-5-2.json");
    let f = file.to_str().unwrap();
    let mut counts = Vec::new();
    let mut files = Vec::new();
    for threads in ["1", "2", "3"] {
        let patterns = dir.path().join(format!("p{threads}.txt"));
        let r = json(&mipbound(&[
            "count",
            f,
            "--box",
            "-2,2",
            "--threads",
            threads,
            "--json",
            "--patterns",
            patterns.to_str().unwrap(),
        ]));
        counts.push((
            r["regions"].clone(),
            r["lp_solves"].clone(),
            r["nodes"].clone(),
        ));
        files.push(std::fs::read_to_string(&patterns).unwrap());
    }
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
    assert!(files.iter().all(|p| *p == files[0]));
    assert_eq!(
        files[0].lines().count() as u64,
        counts[0].0.as_u64().unwrap()
    );
    let levels = |threads: &str| {
        let r = json(&mipbound(&[
            "estimate",
            f,
            "--box",
            "-2,2",
            "--trials",
            "6",
            "--xor",
            "2,4",
            "--threads",
            threads,
            "--no-activation-bound",
            "--exact",
            "--json",
        ]));
        let lv: Vec<serde_json::Value> = r["widths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["levels"].clone())
            .collect();
        (lv, r["exact"]["regions"].clone())
    };
    assert_eq!(levels("1"), levels("2"));
}

/// A leaky-ReLU / ReLU 1-D convolutional network end to end: the count, the architecture
/// bound that applies, Xiong's bound, and no ReLU-only bound.
#[test]
fn convolutional_leaky_network_through_the_cli() {
    use mipbound_bounds::cnn::{DEFAULT_MAX_NODES, xiong_upper};
    let file = data("conv1d-6.onnx");
    let f = file.to_str().unwrap();
    let net = mipbound_network::formats::load(&file, None).unwrap();
    let exact = mipbound_search::count_regions(
        &net,
        &mipbound_formulation::Domain::unit_box(6),
        mipbound_search::SearchSettings::default(),
        &mipbound_search::Limits::default(),
    )
    .unwrap()
    .stats
    .regions;
    let count = json(&mipbound(&["count", f, "--json"]));
    assert_eq!(count["regions"], exact);
    assert_eq!(count["upper_bound_name"], "Hu & Zhang, Theorem 2");

    let report = json(&mipbound(&["bounds", f, "--json"]));
    assert!(report["activation"].is_null());
    let bounds = report["bounds"].as_array().unwrap();
    let entry = |name: &str| bounds.iter().find(|b| b["name"] == name).unwrap().clone();
    let g = net.hidden_layers()[0].conv().unwrap();
    let xiong = xiong_upper(g, &[9], 1, DEFAULT_MAX_NODES).unwrap();
    assert_eq!(entry("Xiong CNN upper")["value"], xiong.to_string());
    assert!(entry("Theorem 1")["value"].is_null());
    assert_eq!(
        entry("activation-based")["note"],
        "not applicable: ReLU networks only"
    );
    for name in ["trivial", "Hu & Zhang Thm 2", "Xiong CNN upper"] {
        let value: u64 = entry(name)["value"].as_str().unwrap().parse().unwrap();
        assert!(exact <= value, "{name}: {value} < {exact}");
    }

    let estimate = json(&mipbound(&[
        "estimate", f, "--json", "--trials", "4", "--xor", "3",
    ]));
    assert_eq!(estimate["upper_bounds"]["activation_applies"], false);
    assert!(estimate["upper_bounds"]["activation"].is_null());
    let lower = estimate["best_lower_bound"]["log2"].as_f64().unwrap();
    assert!(
        lower > 0.0 && lower <= (exact as f64).log2(),
        "{lower} vs {exact}"
    );
    let text = stdout(&mipbound(&["estimate", f, "--trials", "2", "--xor", "3"]));
    assert!(text.contains("not applicable (ReLU only)"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let out = mipbound(&[
        "formulate",
        f,
        "--out",
        dir.path().join("m.lp").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("written for ReLU networks only"),
        "{}",
        stderr(&out)
    );
}

/// Hard tanh units write two monotone bits each in the patterns file.
#[test]
fn hard_tanh_patterns_are_thermometer_codes() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("tanh.json");
    std::fs::write(
        &net,
        r#"{"format": "mipbound-network", "version": 1, "input_dim": 2, "layers": [
            {"activation": "hardtanh", "weights": [[2, 1], [-1, 3], [1.5, -2]], "bias": [0.1, -0.2, 0.3]}]}"#,
    )
    .unwrap();
    let patterns = dir.path().join("patterns.txt");
    let report = json(&mipbound(&[
        "count",
        net.to_str().unwrap(),
        "--box",
        "-2,2",
        "--json",
        "--patterns",
        patterns.to_str().unwrap(),
    ]));
    let loaded = mipbound_network::formats::load(&net, None).unwrap();
    let expected = crate::oracle::count_2d(&loaded, -2.0, 2.0);
    assert_eq!(report["regions"], expected as u64);
    let text = std::fs::read_to_string(&patterns).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected);
    for line in &lines {
        assert_eq!(line.len(), 6, "{line}");
        for unit in line.as_bytes().chunks(2) {
            assert_ne!(unit, b"01", "not a thermometer code: {line}");
        }
    }
    // Three units with two breakpoints: more regions than three lines could make (7).
    assert!(expected > 7, "{expected}");
}

/// The PyTorch-style CNN fixture: Xiong's bounds with the weight-sharing correction.
#[test]
fn cnn_bounds_use_attained_one_layer_counts() {
    let file = data("cnn-8x8.onnx");
    let report = json(&mipbound(&[
        "bounds",
        file.to_str().unwrap(),
        "--json",
        "--time-limit",
        "30",
    ]));
    let bounds = report["bounds"].as_array().unwrap();
    let entry = |name: &str| bounds.iter().find(|b| b["name"] == name).unwrap().clone();
    // 2 filters 3x3 stride 2 on 8x8, then 3 filters 2x2: every pattern of 18 + 12 units.
    assert_eq!(entry("Xiong CNN upper")["value"], "1073741824");
    // N' = 3 filters 2x2 on 3x3x1: 3998 regions attained (formula 4013, erratum E5), times
    // floor(2/1)^(3 * 3) = 512.
    let lower = entry("Xiong CNN construction");
    assert_eq!(lower["value"], "2046976");
    assert!(lower["note"].as_str().unwrap().contains("R_N' = 3998"));
    assert!(lower["note"].as_str().unwrap().contains("formula: 4013"));
    assert_eq!(entry("Theorem 1")["value"], "966105422");
}
