//! The built library beyond the reference comparisons: exact weights, and a tuned kernel
//! substituted for a naive one (with extra temporaries in the arena).

mod common;

use colt_ir::{BinOp, BufId, Idx, Value, VarId};
use colt_onnx::library::KernelSource;
use colt_onnx::{Data, Graph, Model, Node, Op, Tensor, TensorId};
use common::{build_and_run, link_driver, model, rel_err, run_driver};

/// `y = x * w` elementwise on `n` values.
fn scale_graph(w: Vec<f32>) -> Graph {
    let n = w.len() as i64;
    let load = |b: u32| Value::load(BufId(b), vec![Idx::Var(VarId(0))]);
    let tensor = |name: &str, data| Tensor {
        name: name.into(),
        shape: vec![n],
        data,
    };
    Graph {
        name: "scale".into(),
        tensors: vec![
            tensor("x", None),
            tensor("w", Some(Data::F32(w))),
            tensor("y", None),
        ],
        inputs: vec![TensorId(0)],
        outputs: vec![TensorId(2)],
        nodes: vec![Node {
            name: "mul".into(),
            op_type: "Mul".into(),
            inputs: vec![TensorId(0), TensorId(1)],
            output: TensorId(2),
            op: Op::Elementwise(Value::bin(BinOp::Mul, load(0), load(1))),
        }],
    }
}

#[test]
fn weights_are_embedded_bit_exact() {
    let w = vec![
        1e-45, // the smallest subnormal
        -1.1754942e-38,
        f32::MIN_POSITIVE,
        f32::MAX,
        -f32::MAX,
        0.1,
        1.0 / 3.0,
        -2.718_281_7,
        123456.79,
        f32::EPSILON,
    ];
    let m = Model::new(scale_graph(w.clone()));
    let dir = tempfile::tempdir().unwrap();
    let out = build_and_run(&m, dir.path(), &[vec![1.0; w.len()]], false);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&out[0]), bits(&w));
}

#[test]
fn a_tuned_kernel_replaces_the_naive_one() {
    let (m, r) = model("mlp");
    let params = m.kernels[0].program.buffers.len();
    let dir = tempfile::tempdir().unwrap();
    let out = colt_onnx::build(&m, dir.path(), |k| {
        (k.index == 0).then(|| {
            let inner = colt_codegen::emit_c(&k.kernel.program.naive(), "inner_k0").unwrap();
            // The extra temporary is poisoned: were it to overlap a live tensor, the
            // outputs would be NaN.
            let code = format!(
                "{inner}\nvoid {}(float* const* bufs) {{\n    for (int i = 0; i < 1000; i++) bufs[{params}][i] = NAN;\n    inner_k0(bufs);\n}}\n",
                k.symbol
            );
            KernelSource { code, extra_temps: vec![1000] }
        })
    })
    .unwrap();
    assert_eq!(out.tuned, 1);
    assert!(out.arena_floats >= 1000);
    let model_c = std::fs::read_to_string(dir.path().join("kernels/k0.c")).unwrap();
    assert!(model_c.contains("inner_k0"));
    link_driver(dir.path());
    let x = r.get("x").unwrap().data.clone();
    let got = run_driver(&m, dir.path(), &[x], false);
    assert!(rel_err(&got[0], &r.role("output")[0].data) <= 1e-4);
}
