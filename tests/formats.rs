//! The same network read from ONNX (Gemm and MatMul styles), weights.dat and JSON, all
//! written by an independent generator (scripts/make-fixtures.py), is the same network and
//! has the same count; and mipbound's own writers round-trip exactly.

use std::path::{Path, PathBuf};

use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::formats::{Format, load, save};
use mipbound_search::{Limits, SearchSettings, count_regions};

use crate::oracle::count_2d;

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn regions(net: &Network, domain: &Domain) -> u64 {
    count_regions(net, domain, SearchSettings::default(), &Limits::default())
        .unwrap()
        .stats
        .regions
}

#[test]
fn four_files_one_network_one_count() {
    let files = [
        "mlp-2-8-8-3.json",
        "mlp-2-8-8-3.dat",
        "mlp-2-8-8-3.onnx",
        "mlp-2-8-8-3-matmul.onnx",
    ];
    let nets: Vec<Network> = files
        .iter()
        .map(|f| load(&data(f), None).unwrap())
        .collect();
    for (net, file) in nets.iter().zip(&files).skip(1) {
        assert_eq!(
            net.layers(),
            nets[0].layers(),
            "{file} differs from the JSON file"
        );
    }
    assert_eq!(nets[0].hidden_widths(), vec![8, 8]);
    assert_eq!(nets[0].metadata()["test_accuracy"], serde_json::json!(0.5));
    assert_eq!(nets[1].metadata()["test_accuracy"], serde_json::json!(0.5));
    for domain in [Domain::unit_box(2), Domain::uniform(2, -3.0, 3.0).unwrap()] {
        let counts: Vec<u64> = nets.iter().map(|n| regions(n, &domain)).collect();
        assert!(counts.iter().all(|&c| c == counts[0]), "{counts:?}");
        let (lo, hi) = (domain.lower()[0], domain.upper()[0]);
        assert_eq!(counts[0] as usize, count_2d(&nets[0], lo, hi));
    }
}

#[test]
fn f64_onnx_matches_json() {
    let onnx = load(&data("mlp-3-6-5-2-f64.onnx"), None).unwrap();
    let json = load(&data("mlp-3-6-5-2.json"), None).unwrap();
    assert_eq!(onnx.layers(), json.layers());
    assert_eq!(onnx.input_dim(), 3);
}

#[test]
fn own_writers_round_trip_every_format() {
    let net = load(&data("mlp-2-8-8-3.json"), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("a.onnx", Format::Onnx),
        ("a.dat", Format::WeightsDat),
        ("a.json", Format::Json),
    ] {
        let path = dir.path().join(name);
        save(&net, &path, None).unwrap();
        let back = load(&path, Some(format)).unwrap();
        assert_eq!(back.layers(), net.layers(), "{name}");
        assert_eq!(back.metadata(), net.metadata(), "{name}");
    }
}

/// The ONNX reference evaluator's outputs at the inputs recorded by make-fixtures.py.
fn reference_cases(name: &str) -> Vec<(Vec<f64>, Vec<f64>)> {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (floats(&c["input"]), floats(&c["output"])))
        .collect()
}

fn assert_matches_reference(net: &Network, cases: &[(Vec<f64>, Vec<f64>)], what: &str) {
    assert!(!cases.is_empty());
    for (x, expected) in cases {
        let y = net.output(x);
        assert_eq!(y.len(), expected.len(), "{what}");
        for (a, b) in y.iter().zip(expected) {
            // float32 reference arithmetic.
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{what}: {a} vs {b}"
            );
        }
    }
}

/// Convolutions (stride, padding, dilation, groups, 1-D), leaky ReLU, PReLU, ReLU6,
/// max pooling and PyTorch-style maxout (ReduceMax, MaxPool1d over features) and average
/// pooling load into networks whose forward pass is the
/// ONNX reference evaluator's, keep their structure, and round-trip through JSON.
#[test]
fn image_networks_match_the_onnx_reference_evaluator() {
    use mipbound_network::{Activation, LayerKind};
    let dir = tempfile::tempdir().unwrap();
    for (file, expected_kinds) in [
        ("cnn-8x8", &["conv relu", "conv relu"][..]),
        (
            "image-ops",
            &[
                "conv leaky_relu(0.10000000149011612)",
                "pool maxout(4)",
                "conv pwl(2 breakpoints)",
            ],
        ),
        (
            "conv1d-6",
            &["conv leaky_relu(0.20000000298023224)", "conv relu"],
        ),
    ] {
        let net = load(&data(&format!("{file}.onnx")), None).unwrap();
        let kinds: Vec<String> = net
            .hidden_layers()
            .iter()
            .map(|l| {
                let kind = match l.kind {
                    LayerKind::Dense => "dense",
                    LayerKind::Conv(_) => "conv",
                    LayerKind::MaxPool(_) => "pool",
                };
                format!("{kind} {}", l.activation.name())
            })
            .collect();
        assert_eq!(kinds, expected_kinds, "{file}");
        let cases = reference_cases(&format!("{file}.expected.json"));
        assert_matches_reference(&net, &cases, file);
        if net.input_dim() == 2 {
            let domain = Domain::uniform(2, -2.0, 2.0).unwrap();
            assert_eq!(
                regions(&net, &domain) as usize,
                count_2d(&net, -2.0, 2.0),
                "{file}"
            );
        }
        let json = dir.path().join(format!("{file}.json"));
        save(&net, &json, None).unwrap();
        let back = load(&json, None).unwrap();
        assert_eq!(back, net, "{file}: JSON round trip");
        let dat = dir.path().join(format!("{file}.dat"));
        let relu_only = net
            .hidden_layers()
            .iter()
            .all(|l| l.activation == Activation::Relu);
        let saved = save(&net, &dat, None);
        assert_eq!(
            saved.is_ok(),
            relu_only,
            "{file}: weights.dat holds ReLU networks only"
        );
        if let Err(e) = saved {
            assert!(
                e.to_string()
                    .contains("weights.dat holds ReLU networks only"),
                "{e}"
            );
        }
    }
    let cnn = load(&data("cnn-8x8.onnx"), None).unwrap();
    assert_eq!((cnn.input_dim(), cnn.hidden_widths()), (64, vec![18, 12]));
    // 2 * 9 + 2 and 3 * 2 * 4 + 3 shared parameters, then a 12 -> 10 Gemm.
    assert_eq!(cnn.num_parameters(), 20 + 27 + 130);
}

/// A recorded convolution that does not describe the weights is refused.
#[test]
fn json_convolutions_are_checked_against_the_weights() {
    let good = r#"{"format":"mipbound-network","version":1,"input_dim":3,"layers":[
        {"activation":"relu","weights":[[1,2,0],[0,1,2]],"bias":[0.5,0.5],
         "conv":{"in_channels":1,"in_h":1,"in_w":3,"out_channels":1,"kernel":[1,2],
                 "stride":[1,1],"pads":[0,0,0,0],"dilation":[1,1],"groups":1}}]}"#;
    let net = mipbound_network::formats::from_bytes(good.as_bytes(), Format::Json).unwrap();
    assert!(net.hidden_layers()[0].conv().is_some());
    let unshared = good.replace("[0,1,2]", "[0,1,3]");
    let err = mipbound_network::formats::from_bytes(unshared.as_bytes(), Format::Json).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a 1x2 convolution 1x1x3 -> 1x1x2 with shared kernels"),
        "{err}"
    );
}
