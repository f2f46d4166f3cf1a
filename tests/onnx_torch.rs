//! Real PyTorch exports (tests/data/torch/, made by scripts/make-torch-fixtures.py; the torch
//! version is in versions.json): the default `dynamo=True` export with its external data
//! file and the legacy `dynamo=False` export (Identity initialisers, Shape/Gather/Slice/
//! Concat/Mod chains, BatchNormalization) read as the same network, reproduce torch's
//! outputs, and give the same count, which matches exact interval or polygon splitting.

use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::formats::load;

use crate::exact::exact;
use crate::formats::data;
use crate::oracle::{count_1d, count_2d};

/// Name, input dimension, box side for the count, and the export variants.
type Model = (&'static str, usize, (f64, f64), &'static [&'static str]);

const MODELS: &[Model] = &[
    ("mlp", 2, (-2.0, 2.0), &["dynamo", "legacy"]),
    ("zero-bias-mlp", 2, (-2.0, 2.0), &["dynamo", "legacy"]),
    ("sawtooth", 1, (0.0, 1.0), &["dynamo", "legacy"]),
    ("leaky-mlp", 2, (-2.0, 2.0), &["dynamo", "legacy"]),
    ("hardtanh-mlp", 2, (-2.0, 2.0), &["dynamo", "legacy"]),
    ("bn-mlp", 2, (-2.0, 2.0), &["dynamo", "legacy"]),
    (
        "cnn",
        16,
        (-0.3, 0.3),
        &["dynamo", "legacy", "legacy-batch"],
    ),
];

fn exports(name: &str, variants: &[&str]) -> Vec<(String, Network)> {
    variants
        .iter()
        .map(|v| {
            let file = format!("torch/{name}.{v}.onnx");
            let net = load(&data(&file), None).unwrap_or_else(|e| panic!("{e}"));
            (file, net)
        })
        .collect()
}

#[test]
fn every_export_reproduces_torch_outputs() {
    for &(name, n0, _, variants) in MODELS {
        let text = std::fs::read_to_string(data(&format!("torch/{name}.outputs.json"))).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let parse =
            |key: &str| -> Vec<Vec<f64>> { serde_json::from_value(doc[key].clone()).unwrap() };
        let (inputs, outputs) = (parse("inputs"), parse("outputs"));
        assert_eq!(inputs.len(), 1000, "{name}");
        for (file, net) in exports(name, variants) {
            assert_eq!(net.input_dim(), n0, "{file}");
            for (x, expected) in inputs.iter().zip(&outputs) {
                let y = net.output(x);
                assert_eq!(y.len(), expected.len(), "{file}");
                for (a, b) in y.iter().zip(expected) {
                    assert!(
                        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                        "{file} at {x:?}: {y} vs {expected:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn both_exports_give_the_exact_count() {
    for &(name, n0, (lo, hi), variants) in MODELS {
        let domain = Domain::uniform(n0, lo, hi).unwrap();
        let nets = exports(name, variants);
        let counts: Vec<u64> = nets.iter().map(|(_, n)| exact(n, &domain)).collect();
        assert!(counts.iter().all(|&c| c == counts[0]), "{name}: {counts:?}");
        let exact = match n0 {
            1 => Some(count_1d(&nets[0].1, lo, hi)),
            2 => Some(count_2d(&nets[0].1, lo, hi)),
            _ => None,
        };
        if let Some(exact) = exact {
            assert_eq!(counts[0] as usize, exact, "{name}");
        }
        assert!(counts[0] > 1, "{name}");
    }
}

/// The details the exporters differ in: external data, Identity of an initialiser
/// (deduplicated zero biases and equal weights), BatchNorm folded into the Gemm before it.
#[test]
fn exporter_specific_graphs_read_as_the_same_layers() {
    let bytes = std::fs::read(data("torch/mlp.dynamo.onnx.data")).unwrap();
    assert!(
        !bytes.is_empty(),
        "the default export keeps weights in external data"
    );
    let nets = exports("zero-bias-mlp", &["dynamo", "legacy"]);
    assert_eq!(nets[0].1.layers(), nets[1].1.layers());
    assert!(nets[1].1.layers()[1].bias.iter().all(|&b| b == 0.0));
    let saw = exports("sawtooth", &["legacy"]);
    assert_eq!(saw[0].1.hidden_widths(), vec![2, 2, 2]);
    assert_eq!(saw[0].1.layers()[2].weights, saw[0].1.layers()[1].weights);
    // The sawtooth of depth 3 has 2^3 linear pieces on [0, 1], one pattern each.
    assert_eq!(count_1d(&saw[0].1, 0.0, 1.0), 8);
    let bn = exports("bn-mlp", &["dynamo", "legacy"]);
    assert_eq!(bn[1].1.hidden_widths(), vec![12, 12]);
    for (a, b) in bn[0].1.layers().iter().zip(bn[1].1.layers()) {
        let diff = (&a.weights - &b.weights)
            .mapv(f64::abs)
            .fold(0.0, |m: f64, &v| m.max(v));
        assert!(
            diff < 1e-5,
            "BatchNorm folded by mipbound and by torch differ by {diff}"
        );
    }
}
