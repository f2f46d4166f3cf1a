//! The loaders never panic: every fixture in tests/data, truncated, bit-flipped or with long
//! runs of digits (30,000 inputs, seeded ChaCha), is read by its loader inside
//! `catch_unwind`; an error is fine, a panic is not.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use mipbound_network::formats::{Format, from_bytes, load};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::formats::data;

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixtures(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn truncated_and_bit_flipped_fixtures_never_panic() {
    let mut files = Vec::new();
    fixtures(&data(""), &mut files);
    files.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut inputs = 0;
    let per_file = 30_000 / files.len() + 1;
    for file in &files {
        let original = std::fs::read(file).unwrap();
        // Network files in their format; every other file in each format.
        let formats = match Format::from_path(file) {
            Some(f) if !file.to_string_lossy().ends_with("outputs.json") => vec![f],
            _ => vec![Format::Onnx, Format::Json, Format::WeightsDat],
        };
        for i in 0..per_file {
            let mut bytes = original.clone();
            if i % 3 == 0 || bytes.is_empty() {
                let keep = rng.random_range(0..=bytes.len());
                bytes.truncate(keep);
            }
            if i % 5 == 4 && !bytes.is_empty() {
                // A run of 9s after a digit: huge widths, dimensions and counts.
                if let Some(at) = (0..bytes.len())
                    .map(|_| rng.random_range(0..bytes.len()))
                    .take(64)
                    .find(|&at| bytes[at].is_ascii_digit())
                {
                    let run = rng.random_range(5..25);
                    bytes.splice(at..at, std::iter::repeat_n(b'9', run));
                }
            } else if i % 3 != 0 && !bytes.is_empty() {
                for _ in 0..rng.random_range(1..=8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] ^= 1 << rng.random_range(0..8);
                }
            }
            for &format in &formats {
                let result = catch_unwind(AssertUnwindSafe(|| from_bytes(&bytes, format)));
                assert!(
                    result.is_ok(),
                    "{} mutation {i} panicked the {format} loader",
                    file.display()
                );
                inputs += 1;
            }
        }
    }
    assert!(inputs >= 30_000, "{inputs}");
}

/// The same through `load`, with the external data file beside the model: the model or its
/// data file truncated or bit-flipped.
#[test]
fn mutated_external_data_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let pairs = [
        ("torch/mlp.dynamo.onnx", "mlp.dynamo.onnx.data"),
        ("torch/cnn.dynamo.onnx", "cnn.dynamo.onnx.data"),
        ("graphs/external-ok.onnx", "weights.bin"),
    ];
    for (model, data_name) in pairs {
        let model_bytes = std::fs::read(data(model)).unwrap();
        let folder = data(model).parent().unwrap().to_path_buf();
        let data_bytes = std::fs::read(folder.join(data_name)).unwrap();
        for i in 0..300 {
            let (mut m, mut d) = (model_bytes.clone(), data_bytes.clone());
            let target = if i % 2 == 0 { &mut m } else { &mut d };
            if i % 3 == 0 {
                let keep = rng.random_range(0..=target.len());
                target.truncate(keep);
            } else if !target.is_empty() {
                let at = rng.random_range(0..target.len());
                target[at] ^= 1 << rng.random_range(0..8);
            }
            let path = dir.path().join("model.onnx");
            std::fs::write(&path, &m).unwrap();
            std::fs::write(dir.path().join(data_name), &d).unwrap();
            let result = catch_unwind(AssertUnwindSafe(|| load(&path, None)));
            assert!(result.is_ok(), "{model} mutation {i} panicked");
        }
    }
}
