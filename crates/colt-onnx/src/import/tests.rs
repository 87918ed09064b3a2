//! Import errors on hand-built models: each is one line naming what is wrong.

use super::{ImportOptions, import_bytes};
use crate::proto::tensor_shape_proto::{Dimension, dimension};
use crate::proto::type_proto::{self, Tensor as TensorType};
use crate::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use prost::Message;

fn value(name: &str, elem: i32, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    let tensor = TensorType {
        elem_type: Some(elem),
        shape: Some(TensorShapeProto { dim }),
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: v.to_vec(),
        r#type: Some(7),
        ..Default::default()
    }
}

fn node(op: &str, ins: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: vec!["y".into()],
        name: Some(format!("{}_0", op.to_lowercase())),
        op_type: Some(op.into()),
        attribute: attrs,
        ..Default::default()
    }
}

fn init(name: &str, dims: &[i64], ty: i32, f: Vec<f32>, i: Vec<i64>) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(ty),
        float_data: f,
        int64_data: i,
        ..Default::default()
    }
}

/// The error of importing a model of `nodes` over the float input `x` of shape `[2, 6]`.
fn error(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, inputs: Vec<ValueInfoProto>) -> String {
    let graph = GraphProto {
        node: nodes,
        name: Some("g".into()),
        initializer: inits,
        input: inputs,
        output: vec![value("y", 1, &[])],
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: Some(10),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(20),
        }],
        graph: Some(graph),
        ..Default::default()
    };
    let e = import_bytes(&model.encode_to_vec(), "m.onnx", &ImportOptions::default()).unwrap_err();
    let s = e.to_string();
    assert!(!s.contains('\n'), "{s}");
    s
}

fn x() -> Vec<ValueInfoProto> {
    vec![value("x", 1, &[2, 6])]
}

#[test]
fn bad_shapes_and_windows_are_errors() {
    let reshape = |dims: Vec<i64>| {
        let shape = init("s", &[2], 7, vec![], dims);
        error(vec![node("Reshape", &["x", "s"], vec![])], vec![shape], x())
    };
    assert_eq!(
        reshape(vec![-1, -1]),
        "node `reshape_0` (Reshape): cannot reshape [2, 6] to [12, -1]"
    );
    let e = reshape(vec![-2, -6]);
    assert_eq!(
        e,
        "node `reshape_0` (Reshape): result shape [-2, -6] has a dimension below 1"
    );
    let w = init("w", &[4, 3], 1, vec![0.0; 12], vec![]);
    let e = error(vec![node("MatMul", &["x", "w"], vec![])], vec![w], x());
    assert!(
        e.starts_with("node `matmul_0` (MatMul): inner dimensions differ: [2, 6] · [4, 3]"),
        "{e}"
    );
    let img = vec![value("x", 1, &[1, 1, 4, 4])];
    let pool = node("MaxPool", &["x"], vec![ints("kernel_shape", &[0, 2])]);
    assert!(error(vec![pool], vec![], img.clone()).contains("kernel [0, 2]"));
    let w = init("w", &[2, 3, 3, 3], 1, vec![0.0; 54], vec![]);
    let e = error(vec![node("Conv", &["x", "w"], vec![])], vec![w], img);
    assert!(
        e.contains("weight [2, 3, 3, 3] does not fit input [1, 1, 4, 4] with group 1"),
        "{e}"
    );
}

#[test]
fn unknown_tensors_types_and_domains_are_errors() {
    let e = error(vec![node("Relu", &["z"], vec![])], vec![], x());
    assert!(
        e.contains("input `z` is not a graph input, an initializer or an earlier node's output"),
        "{e}"
    );
    let e = error(vec![], vec![], vec![value("x", 7, &[2])]);
    assert_eq!(
        e,
        "tensor `x`: graph input has element type INT64 (colt-onnx compiles float32 graphs)"
    );
    let d = init("d", &[1], 11, vec![], vec![]);
    assert!(error(vec![], vec![d], x()).contains("tensor `d`: element type DOUBLE"));
    let mut ext = init("e", &[1], 1, vec![], vec![]);
    ext.data_location = Some(1);
    assert!(error(vec![], vec![ext], x()).contains("external data is not supported"));
    let mut fused = node("FusedGemm", &["x"], vec![]);
    fused.domain = Some("com.microsoft".into());
    assert!(
        error(vec![fused], vec![], x())
            .starts_with("node `fusedgemm_0`: operator com.microsoft::FusedGemm is not supported")
    );
    assert_eq!(
        error(vec![], vec![], x()),
        "tensor `y`: graph output is not computed by any node"
    );
}
