//! Hand-built ONNX graphs (tests/data/graphs/, made by scripts/make-graph-fixtures.py; not
//! PyTorch exports): malformed graphs are refused, never counted; external data is read
//! only from inside the model's folder and within the file; parameters and sizes are
//! checked before anything is allocated or solved.

use mipbound_network::formats::load;

use crate::formats::data;

/// The loader's one-line error for a fixture (asserting it fails).
fn error(file: &str) -> String {
    let err = load(&data(&format!("graphs/{file}")), None)
        .map(|net| panic!("{file} loaded as {:?}", net.hidden_widths()))
        .unwrap_err()
        .to_string();
    assert!(!err.contains('\n'), "{err}");
    assert!(err.contains(file), "{err}");
    err
}

#[test]
fn malformed_graphs_are_refused() {
    let reference = load(&data("graphs/mlp-10-10.onnx"), None).unwrap();
    assert_eq!(reference.hidden_widths(), vec![10, 10]);
    for (file, expected) in [
        // Read as [10] (38 regions on [-1, 1]^2 instead of 96) before.
        (
            "undefined-input.onnx",
            "node '/1/Gemm' (Gemm): input '/0/Relu_outptu_0' is undefined",
        ),
        (
            "out-of-order.onnx",
            "node '/0/Relu' (Relu): uses '/0/Gemm_output_0' before node '/0/Gemm' (Gemm) computes it (nodes out of topological order)",
        ),
        ("cycle.onnx", "node '/1/Gemm' (Gemm): is on a cycle"),
        (
            "output-not-from-input.onnx",
            "graph: unsupported: output 'const_out' is not computed from the input",
        ),
        (
            "gemm-trans-a.onnx",
            "node '/0/Gemm' (Gemm): Gemm shapes do not chain: the data (one row of values) is input A with transA = 1",
        ),
        (
            "gemm-bias-column.onnx",
            "node '/0/Gemm' (Gemm): Gemm shapes do not chain: C has shape [10, 1], the result is [1, 10]",
        ),
    ] {
        let err = error(file);
        assert!(err.contains(expected), "{file}: {err}");
    }
}

#[test]
fn parameters_and_sizes_are_checked() {
    for (file, expected) in [
        // Reached HiGHS ("Highs_addRow failed") before.
        (
            "leaky-huge-alpha.onnx",
            "node '/0/LeakyRelu' (LeakyRelu): alpha is 3.0000000054977558e38 (parameters must be finite, |v| <= 1e12)",
        ),
        // Counted (7 regions) before.
        (
            "leaky-nan-alpha.onnx",
            "node '/0/LeakyRelu' (LeakyRelu): alpha is NaN",
        ),
        ("clip-inf.onnx", "node '/0/Relu' (Clip): max is inf"),
        (
            "bfloat16.onnx",
            "initializer '0.weight': unsupported: tensor data type bfloat16",
        ),
        (
            "overflowing-dims.onnx",
            "initializer '0.weight': unsupported: shape [4294967296, 4294967296, 16] has more than 268435456 values",
        ),
        (
            "huge-width.onnx",
            "initializer '0.weight': unsupported: shape [1099511627776, 2] has more than 268435456 values",
        ),
    ] {
        let err = error(file);
        assert!(err.contains(expected), "{file}: {err}");
    }
}

#[test]
fn external_data_is_read_inside_the_model_folder_only() {
    let net = load(&data("graphs/external-ok.onnx"), None).unwrap();
    let bytes = std::fs::read(data("graphs/weights.bin")).unwrap();
    let expected: Vec<f64> = bytes[16..]
        .chunks_exact(4)
        .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    assert_eq!(
        net.layers()[0].weights.iter().copied().collect::<Vec<_>>(),
        expected
    );
    for (file, expected) in [
        (
            "external-escape.onnx",
            "initializer '0.weight': external data file '../graphs/weights.bin' is outside the model's folder",
        ),
        (
            "external-absolute.onnx",
            "initializer '0.weight': external data file '/tmp/mipbound-weights.bin' is outside the model's folder",
        ),
        (
            "external-past-end.onnx",
            "initializer '0.weight': external data in 'weights.bin' at offset 24, length 32 runs past the end of the file (48 bytes)",
        ),
        (
            "external-wrong-length.onnx",
            "initializer '0.weight': external data in 'weights.bin' has length 4, the tensor needs 32 bytes",
        ),
        (
            "external-missing.onnx",
            "initializer '0.weight': external data file 'no-such-file.bin': No such file",
        ),
    ] {
        let err = error(file);
        assert!(err.contains(expected), "{file}: {err}");
    }
}

/// `n = [...]` in weights.dat asking for 2^32 or 2^64 - 1 units: refused before allocation
/// (a 34 GB allocation and a panic before).
#[test]
fn huge_weights_dat_widths_are_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    for (width, expected) in [
        (
            "4294967296",
            "line 3: W has 2 values, n requires 12884901888",
        ),
        (
            "18446744073709551615",
            "W: the widths in n need more than 2^64 values",
        ),
    ] {
        let path = dir.path().join("huge.dat");
        let text = format!("levels = 2;\nn = [2, {width}, 1];\nW = [1, 2\n];\nB = [0\n,1\n];\n");
        std::fs::write(&path, text).unwrap();
        let err = load(&path, None).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
}
