//! Bad inputs give one clear error line each, never a panic.

mod common;

use colt_onnx::{ImportOptions, OnnxError, import_bytes, import_file};
use common::models_dir;

fn one_line(e: &OnnxError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "not one line: {s}");
    s
}

fn mlp_bytes() -> Vec<u8> {
    std::fs::read(models_dir().join("mlp.onnx")).unwrap()
}

fn mlp_shapes() -> ImportOptions {
    ImportOptions {
        shapes: [("x".to_string(), vec![4, 64])].into(),
    }
}

#[test]
fn a_truncated_file_is_not_a_model() {
    let bytes = mlp_bytes();
    for cut in [bytes.len() / 2, bytes.len() - 3, 7] {
        let e = import_bytes(&bytes[..cut], "mlp-cut.onnx", &mlp_shapes()).unwrap_err();
        let s = one_line(&e);
        assert!(matches!(e, OnnxError::Decode { .. }), "{s}");
        assert!(s.starts_with("mlp-cut.onnx: not an ONNX model"), "{s}");
    }
}

#[test]
fn bytes_that_are_not_protobuf_are_not_a_model() {
    for junk in [&b""[..], b"hello, this is text", &[0xff; 64]] {
        let e = import_bytes(junk, "junk.onnx", &ImportOptions::default()).unwrap_err();
        assert!(
            one_line(&e).starts_with("junk.onnx: not an ONNX model ("),
            "{e}"
        );
    }
}

#[test]
fn a_missing_file_names_the_path() {
    let e = import_file(&models_dir().join("nope.onnx"), &ImportOptions::default()).unwrap_err();
    let s = one_line(&e);
    assert!(s.contains("nope.onnx") && s.contains("No such file"), "{s}");
}

#[test]
fn an_old_opset_is_refused_with_the_supported_range() {
    let e = import_file(
        &models_dir().join("bad-opset.onnx"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let s = one_line(&e);
    assert!(matches!(e, OnnxError::Opset { version: 7, .. }), "{s}");
    assert!(
        s.ends_with(
            "opset 7 of domain `ai.onnx` is not supported (colt-onnx reads ai.onnx opsets 13 to 25)"
        ),
        "{s}"
    );
}

#[test]
fn an_unsupported_operator_names_the_node_and_the_supported_ones() {
    let e = import_file(
        &models_dir().join("unsupported-op.onnx"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let s = one_line(&e);
    assert!(
        s.starts_with("node `hardmax_1`: operator Hardmax is not supported (supported: Abs, Add, "),
        "{s}"
    );
    for op in colt_onnx::import::SUPPORTED {
        assert!(s.contains(op), "{op} missing from {s}");
    }
}

#[test]
fn a_dynamic_dimension_needs_a_shape() {
    let e = import_bytes(&mlp_bytes(), "mlp.onnx", &ImportOptions::default()).unwrap_err();
    let s = one_line(&e);
    assert_eq!(
        s,
        "tensor `x`: dynamic dimensions [?, 64]: fix them with --shape x=D0,D1,.."
    );
}

#[test]
fn a_shape_must_name_an_input_and_fit_it() {
    let mut opts = mlp_shapes();
    opts.shapes.insert("y".into(), vec![1]);
    let e = import_bytes(&mlp_bytes(), "mlp.onnx", &opts).unwrap_err();
    assert_eq!(
        one_line(&e),
        "--shape names `y`, which is not a graph input (inputs: x)"
    );
    for bad in [vec![4, 32], vec![4], vec![0, 64]] {
        let opts = ImportOptions {
            shapes: [("x".to_string(), bad.clone())].into(),
        };
        let e = import_bytes(&mlp_bytes(), "mlp.onnx", &opts).unwrap_err();
        assert!(
            one_line(&e).contains("does not fit the declared dimensions [?, 64]"),
            "{bad:?}: {e}"
        );
    }
}
