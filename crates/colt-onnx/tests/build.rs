//! The built library beyond the reference comparisons: exact weights, a tuned kernel
//! substituted for a naive one (with extra temporaries in the arena), and sampled schedules
//! of every kernel of the test models still matching ONNX Runtime.

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

/// Every kernel of the CNN and the transformer block replaced by a sampled schedule
/// (`KernelSource::scheduled`: packed copies become extra temporaries): the model still
/// matches ONNX Runtime.
#[test]
fn sampled_schedules_of_every_kernel_still_match_onnx_runtime() {
    use rand::SeedableRng;
    for (name, seed) in [("cnn", 3), ("transformer", 5), ("mlp", 7)] {
        let (m, r) = model(name);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let mut extra = 0;
        let dir = tempfile::tempdir().unwrap();
        let out = colt_onnx::build(&m, dir.path(), |k| {
            let trace = colt_sched::sample(&k.kernel.program, &mut rng);
            let func = colt_sched::apply_trace(&k.kernel.program, &trace).unwrap();
            let src = KernelSource::scheduled(&k.kernel.program, &func, k.symbol).unwrap();
            extra += src.extra_temps.len();
            Some(src)
        })
        .unwrap();
        assert_eq!(out.tuned, m.kernels.len());
        link_driver(dir.path());
        let inputs: Vec<Vec<f32>> = r.role("input").iter().map(|t| t.data.clone()).collect();
        let got = run_driver(&m, dir.path(), &inputs, false);
        for (g, want) in got.iter().zip(r.role("output")) {
            let e = rel_err(g, &want.data);
            assert!(
                e <= 1e-4,
                "{name}: {} off by {e:.2e} (seed {seed})",
                want.name
            );
        }
        if name == "transformer" {
            assert!(extra > 0, "no sampled schedule packed a copy (seed {seed})");
        }
    }
}

/// A schedule of another program is refused in one line, naming the buffer.
#[test]
fn a_schedule_of_another_program_is_refused() {
    let (m, _) = model("mlp");
    let (a, b) = (&m.kernels[0].program, &m.kernels[1].program);
    let func = colt_sched::apply_trace(b, &colt_sched::Trace::new(&b.name)).unwrap();
    let e = KernelSource::scheduled(a, &func, "model_k0").unwrap_err();
    let text = e.to_string();
    assert!(text.contains("model_k0") && !text.contains('\n'), "{text}");
}
