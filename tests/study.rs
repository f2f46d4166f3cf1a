//! Batch runs, shards, merge and the study pipeline, through the binary.

use std::path::Path;

use mipbound_bounds::analytic::{hu_zhang_theorem2, serra2018_maxout, serra2018_theorem1};
use num_bigint::BigUint;

use crate::cli::{mipbound, stderr, stdout};
use crate::formats::data;

const QUICK: &[&str] = &[
    "--xor",
    "3,5",
    "--trials",
    "3",
    "--confidence",
    "0.9",
    "--exact-time-limit",
    "30",
    "--bounds-time-limit",
    // The activation bound of mlp-2-8-8-3 takes 2.5 s alone; a budget it can overrun on a
    // loaded machine makes it looser, and the sharded and whole runs then disagree.
    "60",
    "--trial-time-limit",
    "10",
    "--box",
    "-2,2",
    "--threads",
    "2",
];

fn nets() -> Vec<String> {
    [
        "mlp-2-8-8-3.json",
        "mlp-3-6-5-2.json",
        "mlp-2-8-8-3.dat",
        "mlp-3-6-5-2-f64.onnx",
    ]
    .iter()
    .map(|f| data(f).display().to_string())
    .collect()
}

fn batch(out: &Path, extra: &[&str]) -> std::process::Output {
    let nets = nets();
    let mut args: Vec<&str> = vec!["batch"];
    args.extend(nets.iter().map(String::as_str));
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(QUICK);
    args.extend(extra);
    mipbound(&args)
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The fields that do not depend on timing.
fn facts(r: &serde_json::Value) -> serde_json::Value {
    let widths: Vec<serde_json::Value> = r["mipbound"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["levels"].clone())
        .collect();
    serde_json::json!([
        r["index"],
        r["network"],
        r["exact"]["regions"],
        widths,
        r["activation_bound"],
        r["theorem1"],
        r["seed"]
    ])
}

/// Leaky ReLU and maxout networks: no Theorem 1 or activation-based bound (ReLU only), the
/// architecture bound that applies instead; records written before these fields still load.
#[test]
fn batch_measures_other_activations_with_their_architecture_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut nets = Vec::new();
    for (name, spec) in [
        ("leaky", "leaky_relu:0.1"),
        ("maxout", "maxout:3"),
        ("relu", "relu"),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        let out = mipbound(&[
            "generate",
            "--widths",
            "2,5,4,2",
            "--seed",
            "3",
            "--activation",
            spec,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        nets.push(path.display().to_string());
    }
    let out = dir.path().join("out");
    let mut args = vec!["batch"];
    args.extend(nets.iter().map(String::as_str));
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(QUICK);
    let first = mipbound(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let all = records(&out.join("results.jsonl"));
    let expected = [
        (
            "leaky_relu(0.1)",
            hu_zhang_theorem2(2, &[5, 4], 1),
            "Hu & Zhang, Theorem 2",
        ),
        (
            "maxout(3)",
            serra2018_maxout(2, &[5, 4], 3),
            "Serra et al. 2018, maxout bound",
        ),
        (
            "relu",
            serra2018_theorem1(2, &[5, 4]),
            "Serra et al. 2018, Theorem 1",
        ),
    ];
    for (r, (activation, bound, name)) in all.iter().zip(expected) {
        assert_eq!(r["hidden_activation"], activation);
        assert_eq!(r["architecture_bound"], bound.to_string(), "{activation}");
        assert_eq!(r["architecture_bound_name"], name);
        let exact = r["exact"]["regions"].as_u64().unwrap();
        assert!(
            exact > 1 && BigUint::from(exact) <= bound,
            "{activation}: {exact}"
        );
        let relu = activation == "relu";
        assert_eq!(r["theorem1"].is_string(), relu, "{activation}");
        assert_eq!(r["activation_bound"].is_string(), relu, "{activation}");
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.contains(",ub_architecture,ub_architecture_log2,ub_architecture_name,"));
    assert!(csv.lines().nth(1).unwrap().contains(",leaky_relu(0.1),"));
    // A record from before the activation and architecture fields is read and kept.
    let mut old = all[0].clone();
    for key in [
        "hidden_activation",
        "architecture_bound",
        "architecture_bound_log2",
        "architecture_bound_name",
    ] {
        old.as_object_mut().unwrap().remove(key);
    }
    std::fs::write(out.join("results.jsonl"), format!("{old}\n")).unwrap();
    let rerun = mipbound(&args);
    assert!(
        stdout(&rerun).starts_with("2 networks measured, 1 already done"),
        "{}{}",
        stdout(&rerun),
        stderr(&rerun)
    );
    assert_eq!(records(&out.join("results.jsonl")).len(), 3);
}

#[test]
fn batch_records_every_network_and_resumes_after_an_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let first = batch(out, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let jsonl = out.join("results.jsonl");
    let all = records(&jsonl);
    assert_eq!(all.len(), 4);
    let regions: Vec<u64> = all
        .iter()
        .map(|r| r["exact"]["regions"].as_u64().unwrap())
        .collect();
    // The same network in two formats has the same count.
    assert_eq!(regions[0], regions[2]);
    assert_eq!(regions[1], regions[3]);
    for r in &all {
        assert!(r["exact"]["complete"].as_bool().unwrap());
        let exact = r["exact"]["regions"].as_u64().unwrap() as f64;
        let upper: f64 = r["activation_bound"].as_str().unwrap().parse().unwrap();
        assert!(exact <= upper);
        assert_eq!(r["mipbound"].as_array().unwrap().len(), 2);
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.starts_with(
        "network,index,input_dim,hidden_widths,hidden_activation,narrowest_width,test_accuracy,"
    ));
    // An interruption during the last network: its JSON line is torn and its CSV row missing.
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let keep: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(
        &jsonl,
        format!("{}\n{{\"index\": 3, \"netw", keep.join("\n")),
    )
    .unwrap();
    let rerun = batch(out, &[]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert!(
        stdout(&rerun).starts_with("1 networks measured, 3 already done"),
        "{}",
        stdout(&rerun)
    );
    let again = records(&jsonl);
    assert_eq!(again.len(), 4);
    assert_eq!(again[..3], all[..3]);
    assert_eq!(facts(&again[3]), facts(&all[3]));
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
}

#[test]
fn shards_partition_the_networks_and_merge_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    assert!(batch(&whole, &[]).status.success());
    let shards = dir.path().join("shards");
    let mut seen = Vec::new();
    let mut shard_records = Vec::new();
    for i in 0..3 {
        let spec = format!("{i}/3");
        let out = batch(&shards, &["--shard", &spec]);
        assert!(out.status.success(), "{}", stderr(&out));
        let rs = records(&shards.join(format!("results.shard-{i}-of-3.jsonl")));
        for r in &rs {
            assert_eq!(r["index"].as_u64().unwrap() % 3, i);
            seen.push(r["index"].as_u64().unwrap());
        }
        shard_records.extend(rs);
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3], "disjoint and covering");
    let merged_dir = dir.path().join("merged");
    let out = mipbound(&[
        "merge",
        shards.to_str().unwrap(),
        "--out",
        merged_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = records(&merged_dir.join("results.jsonl"));
    // Lossless: exactly the shards' records, in index order.
    shard_records.sort_by_key(|r| r["index"].as_u64().unwrap());
    assert_eq!(merged, shard_records);
    // And the same measurements as one unsharded run.
    let whole_records = records(&whole.join("results.jsonl"));
    assert_eq!(
        merged.iter().map(facts).collect::<Vec<_>>(),
        whole_records.iter().map(facts).collect::<Vec<_>>()
    );
    let csv = std::fs::read_to_string(merged_dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    // Merging twice the same inputs changes nothing.
    let twice = mipbound(&[
        "merge",
        shards.to_str().unwrap(),
        merged_dir.join("results.jsonl").to_str().unwrap(),
        "--out",
        merged_dir.to_str().unwrap(),
    ]);
    assert!(twice.status.success(), "{}", stderr(&twice));
    assert_eq!(records(&merged_dir.join("results.jsonl")), merged);
}

#[test]
fn bad_shards_and_manifests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = batch(dir.path(), &["--shard", "3/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("shard '3/3' must be I/N with 0 <= I < N"),
        "{}",
        stderr(&out)
    );
    let manifest = dir.path().join("list.txt");
    std::fs::write(&manifest, "# nothing\n\n").unwrap();
    let out = mipbound(&[
        "batch",
        "--manifest",
        manifest.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("lists no network"),
        "{}",
        stderr(&out)
    );
}

/// The whole study on the committed 20-digit fixture: train 3 networks (n1 + n2 = 4),
/// measure them, summarise and plot.
#[test]
fn tiny_study_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let config = dir.path().join("tiny.toml");
    std::fs::write(
        &config,
        format!(
            r#"name = "tiny"
out = "{}"
[data]
path = "{}"
test_fraction = 0.25
[family]
total_units = 4
networks_per_split = 1
[training]
epochs = 3
[batch]
exact_time_limit = 30
xor = ["3"]
trials = 3
confidence = 0.9
trial_time_limit = 10
bounds_time_limit = 5
[summary]
min_narrowest_width = 2
"#,
            out.display(),
            data("mnist-tiny/digits").display()
        ),
    )
    .unwrap();
    let run = mipbound(&["study", config.to_str().unwrap(), "--threads", "2"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.contains("| n1 | n2 | nets | accuracy |"), "{text}");
    assert!(
        text.contains("| log2 regions (exact, complete counts) |"),
        "{text}"
    );
    for split in ["n1-01-n2-03-r00", "n1-02-n2-02-r00", "n1-03-n2-01-r00"] {
        assert!(out.join("networks").join(format!("{split}.json")).exists());
        assert!(out.join("networks").join(format!("{split}.onnx")).exists());
    }
    assert_eq!(records(&out.join("results.jsonl")).len(), 3);
    for plot in [
        "regions-per-split",
        "lower-bound-vs-exact",
        "time-mipbound-vs-exact",
        "accuracy-vs-regions",
    ] {
        let svg = std::fs::read_to_string(out.join("plots").join(format!("{plot}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"));
        let png = std::fs::read(out.join("plots").join(format!("{plot}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["networks"], 3);
    assert_eq!(summary["splits"].as_array().unwrap().len(), 3);
    // A rerun trains and measures nothing.
    let rerun = mipbound(&["study", config.to_str().unwrap()]);
    assert!(
        stdout(&rerun).contains("0 networks trained, 0 measured, 3 already measured"),
        "{}",
        stdout(&rerun)
    );
}
