//! Every malformed input gives one clean line on stderr that names the file and the problem,
//! exit code 2, no panic, and leaves existing output files alone.

use std::path::PathBuf;

use crate::cli::{mipbound, stderr};
use crate::formats::data;

const GOOD_LAYER: &str = r#"{"activation": "relu", "weights": [[1, 2], [3, 4]], "bias": [0, 1]}"#;

fn json_net(layers: &str) -> String {
    format!(
        r#"{{"format": "mipbound-network", "version": 1, "input_dim": 2, "layers": [{layers}]}}"#
    )
}

const DAT_HEAD: &str = "levels = 2;\nn = [2, 2, 1];\n";

/// (file name, contents, fragment the error must contain)
fn inline_cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "syntax.json",
            "{\"format\": ".into(),
            "line 1 column 11: EOF while parsing",
        ),
        (
            "empty.json",
            String::new(),
            "line 1 column 0: EOF while parsing",
        ),
        (
            "missing-bias.json",
            json_net(r#"{"activation": "relu", "weights": [[1, 2]]}"#),
            "missing field `bias`",
        ),
        (
            "ragged.json",
            json_net(r#"{"activation": "relu", "weights": [[1, 2], [3]], "bias": [0, 0]}"#),
            "layers[0].weights: row 1 has 1 entries but row 0 has 2",
        ),
        (
            "wrong-inputs.json",
            json_net(r#"{"activation": "relu", "weights": [[1, 2, 3]], "bias": [0]}"#),
            "layer 0: weights have 3 columns but its input has 2 values",
        ),
        (
            "bias-length.json",
            json_net(r#"{"activation": "relu", "weights": [[1, 2]], "bias": [0, 1]}"#),
            "layer 0: bias has 2 entries but the weights have 1 rows",
        ),
        (
            "chain.json",
            json_net(&format!(
                r#"{GOOD_LAYER}, {{"activation": "relu", "weights": [[1, 2, 3]], "bias": [0]}}"#
            )),
            "layer 1: weights have 3 columns but its input has 2 values",
        ),
        (
            "tanh.json",
            json_net(r#"{"activation": "tanh", "weights": [[1, 2]], "bias": [0]}"#),
            "layers[0].activation: unsupported: activation \"tanh\"",
        ),
        (
            "pwl-order.json",
            json_net(
                r#"{"activation": {"pwl": {"breakpoints": [1, 0], "slopes": [0, 1, 0], "value_at_first": 0}}, "weights": [[1, 2]], "bias": [0]}"#,
            ),
            "breakpoints must be strictly increasing",
        ),
        (
            "maxout-rows.json",
            json_net(
                r#"{"activation": {"maxout": {"rank": 2}}, "weights": [[1, 2], [3, 4], [5, 6]], "bias": [0, 0, 0]}"#,
            ),
            "layer 0: 3 rows do not split into maxout units of rank 2",
        ),
        (
            "conv-mismatch.json",
            json_net(
                r#"{"activation": "relu", "weights": [[1, 2]], "bias": [0], "conv": {"in_channels": 2, "in_h": 1, "in_w": 1, "out_channels": 1, "kernel": [1, 1], "stride": [1, 1], "pads": [0, 0, 0, 0], "dilation": [1, 1], "groups": 2}}"#,
            ),
            "layer 0: 2 input and 1 output channels do not split into 2 groups",
        ),
        (
            "no-layers.json",
            json_net(""),
            "the network is empty (no layers)",
        ),
        (
            "linear-only.json",
            json_net(r#"{"activation": "identity", "weights": [[1, 2]], "bias": [0]}"#),
            "no hidden piecewise-linear layer",
        ),
        (
            "overflow.json",
            json_net(r#"{"activation": "relu", "weights": [[1e999, 2]], "bias": [0]}"#),
            "number out of range",
        ),
        (
            "version.json",
            json_net(GOOD_LAYER).replace("\"version\": 1", "\"version\": 7"),
            "version: unsupported: version 7",
        ),
        (
            "zero-input.json",
            json_net(GOOD_LAYER).replace("\"input_dim\": 2", "\"input_dim\": 0"),
            "the input dimension is 0",
        ),
        (
            "levels.dat",
            "levels = 3;\nn = [2, 2, 1];\nW = [1,2\n,3,4\n,5,6\n];\nB = [0,0\n,1\n];\n".into(),
            "line 2: n has 3 entries but levels = 3 (line 1) needs 4",
        ),
        (
            "not-a-number.dat",
            format!("{DAT_HEAD}W = [1,2\n,3,abc\n,5,6\n];\nB = [0,0\n,1\n];\n"),
            "line 4: \"abc\" is not a number",
        ),
        (
            "row-length.dat",
            format!("{DAT_HEAD}W = [1,2\n,3\n,5,6\n];\nB = [0,0\n,1\n];\n"),
            "line 4: W: layer 1 row 1 has 1 values, expected 2",
        ),
        (
            "too-few.dat",
            format!("{DAT_HEAD}W = [1,2,3,4,5];\nB = [0,0\n,1\n];\n"),
            "W has 5 values, n requires 6 (2x2 + 1x2)",
        ),
        (
            "unclosed.dat",
            format!("{DAT_HEAD}W = [1,2\n,3,4\n,5,6\n"),
            "line 3: W = [ is never closed with ];",
        ),
        (
            "no-b.dat",
            format!("{DAT_HEAD}W = [1,2\n,3,4\n,5,6\n];\n"),
            "no `B = [...];` entry",
        ),
        (
            "nan.dat",
            format!("{DAT_HEAD}W = [1,2\n,3,NaN\n,5,6\n];\nB = [0,0\n,1\n];\n"),
            "layer 0: weight [1, 1] is NaN (all parameters must be finite)",
        ),
        (
            "inf.dat",
            format!("{DAT_HEAD}W = [1,2\n,3,4\n,5,6\n];\nB = [0,inf\n,1\n];\n"),
            "layer 0: bias [1] is inf (all parameters must be finite)",
        ),
        (
            "zero-width.dat",
            "levels = 2;\nn = [2, 0, 1];\nW = [];\nB = [\n,1\n];\n".into(),
            "layer 0: has 0 units",
        ),
        (
            "garbage.onnx",
            "this is not protobuf at all".into(),
            "not a valid ONNX protobuf",
        ),
        (
            "network.txt.bak",
            "whatever".into(),
            "cannot tell the format from the extension",
        ),
    ]
}

fn fixture_cases() -> Vec<(PathBuf, &'static str)> {
    vec![
        (
            data("bad/unsupported-op.onnx"),
            "node '/act/Tanh' (Tanh): unsupported: operator Tanh",
        ),
        (
            data("bad/branching.onnx"),
            "node '/residual/Add' (Add): unsupported: the data value is used twice",
        ),
        (
            data("bad/float16.onnx"),
            "initializer 'fc0.weight': unsupported: float16 weights",
        ),
        (
            data("bad/shape-mismatch.onnx"),
            "node '/fc1/Gemm' (Gemm): weights take 4 inputs but the data has 3 values",
        ),
        (data("bad/nan-weight.onnx"), "layer 0: weight [1, 0] is NaN"),
        (
            data("bad/external-data.onnx"),
            "initializer 'fc0.weight': external data file 'weights.bin': No such file",
        ),
        (data("bad/truncated.onnx"), "not a valid ONNX protobuf"),
        (
            data("bad/no-hidden-layer.onnx"),
            "no hidden piecewise-linear layer",
        ),
        (data("bad/empty-graph.onnx"), "the network is empty"),
        (
            data("bad/prelu-channels.onnx"),
            "node '/prelu1' (PRelu): unsupported: PRelu with several slopes",
        ),
        (
            data("bad/maxpool-pads.onnx"),
            "node '/maxpool2' (MaxPool): unsupported: MaxPool windows of different sizes",
        ),
        (
            data("bad/auto-pad.onnx"),
            "node '/conv0' (Conv): unsupported: auto_pad SAME_UPPER",
        ),
        (data("does-not-exist.onnx"), "No such file or directory"),
    ]
}

/// One line, `error: <file>: ...<fragment>...`, exit code 2, no panic.
fn assert_clean_error(args: &[&str], file: &str, fragment: &str) {
    let out = mipbound(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: expected one line, got: {err}"
    );
    assert!(
        err.starts_with(&format!("error: {file}")),
        "{args:?}: {err}"
    );
    assert!(
        err.contains(fragment),
        "{args:?}: expected '{fragment}' in: {err}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
}

#[test]
fn malformed_files_give_one_clean_line() {
    let dir = tempfile::tempdir().unwrap();
    let inline = inline_cases();
    let fixtures = fixture_cases();
    assert!(inline.len() + fixtures.len() >= 15);
    for (name, contents, fragment) in &inline {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let p = path.to_str().unwrap();
        assert_clean_error(&["count", p], p, fragment);
        assert_clean_error(&["inspect", p], p, fragment);
    }
    for (path, fragment) in &fixtures {
        let p = path.to_str().unwrap();
        assert_clean_error(&["count", p], p, fragment);
    }
}

#[test]
fn bad_domains_are_named() {
    let file = data("mlp-2-8-8-3.json");
    let f = file.to_str().unwrap();
    for (spec, fragment) in [
        (
            "1,0",
            "--box 1,0: box side 0 is [1, 0]: the lower bound must be below the upper bound",
        ),
        ("0", "--box 0: expected LO,HI"),
        ("a,1", "--box a,1: 'a' is not a number"),
        ("0,inf", "box bound inf in dimension 0 is not finite"),
    ] {
        assert_clean_error(&["count", f, "--box", spec], "--box", fragment);
    }
}

#[test]
fn a_bad_input_does_not_touch_an_existing_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let patterns = dir.path().join("patterns.txt");
    std::fs::write(&patterns, "earlier results\n").unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let out = mipbound(&[
        "count",
        bad.to_str().unwrap(),
        "--patterns",
        patterns.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&patterns).unwrap(),
        "earlier results\n"
    );
    let good = data("mlp-2-8-8-3.json");
    let out = mipbound(&[
        "count",
        good.to_str().unwrap(),
        "--box",
        "2,1",
        "--patterns",
        patterns.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&patterns).unwrap(),
        "earlier results\n"
    );
}
