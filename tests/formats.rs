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
