//! The committed test models end to end: import, tasks, the interpreter and the compiled C
//! library against ONNX Runtime's results (max relative error ≤ 1e-4).

mod common;

use colt_onnx::Model;
use common::{Reference, link_driver, model, rel_err, run_driver};

const TOLERANCE: f64 = 1e-4;

/// The model's inputs as the reference gives them, in graph-input order.
fn inputs(m: &Model, r: &Reference) -> Vec<Vec<f32>> {
    m.graph
        .inputs
        .iter()
        .map(|&t| {
            r.get(&m.graph.tensor(t).name)
                .expect("reference input")
                .data
                .clone()
        })
        .collect()
}

/// Every task's result in the interpreter against ONNX Runtime's value of the same tensor;
/// returns the largest error.
fn check_tasks_in_interpreter(m: &Model, r: &Reference) -> f64 {
    let values = colt_onnx::run::interpret(m, &inputs(m, r)).unwrap();
    let mut worst = 0f64;
    let mut checked = 0;
    for task in &m.tasks {
        let name = &m.graph.tensor(task.output).name;
        let Some(want) = r.get(name) else { continue };
        let got = values[task.output.0].as_ref().unwrap();
        let e = rel_err(got, &want.data);
        assert!(e <= TOLERANCE, "task output `{name}`: relative error {e:e}");
        worst = worst.max(e);
        checked += 1;
    }
    assert!(
        checked >= m.tasks.len() / 2,
        "only {checked} of {} task outputs have a reference",
        m.tasks.len()
    );
    worst
}

/// Build the library, run it (aligned and unaligned arrays) and compare every output.
fn check_library(name: &str, m: &Model, r: &Reference) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    colt_onnx::build(m, dir.path(), |_| None).unwrap();
    link_driver(dir.path());
    let mut worst = 0f64;
    for unaligned in [false, true] {
        let outs = run_driver(m, dir.path(), &inputs(m, r), unaligned);
        for (&t, got) in m.graph.outputs.iter().zip(&outs) {
            let want = r.get(&m.graph.tensor(t).name).unwrap();
            let e = rel_err(got, &want.data);
            assert!(
                e <= TOLERANCE,
                "{name}: output `{}` relative error {e:e}",
                want.name
            );
            worst = worst.max(e);
        }
    }
    worst
}

fn end_to_end(name: &str) -> Model {
    let (m, r) = model(name);
    let interp = check_tasks_in_interpreter(&m, &r);
    let lib = check_library(name, &m, &r);
    eprintln!(
        "{name}: {} tasks, {} kernels; max relative error vs ONNX Runtime: interpreter {interp:.2e}, C library {lib:.2e}",
        m.tasks.len(),
        m.kernels.len()
    );
    m
}

fn labels(m: &Model) -> Vec<&str> {
    m.tasks
        .iter()
        .map(|t| m.kernels[t.kernel].label.as_str())
        .collect()
}

#[test]
fn mlp_matches_onnx_runtime() {
    let m = end_to_end("mlp");
    assert_eq!(labels(&m), ["Gemm+Relu", "MatMul+Add+Relu", "Gemm"]);
}

#[test]
fn cnn_matches_onnx_runtime() {
    let m = end_to_end("cnn");
    let l = labels(&m);
    assert!(l.contains(&"Conv+BatchNormalization+Relu"), "{l:?}");
    assert!(l.iter().any(|x| x.contains("MaxPool")), "{l:?}");
    // The layout rewrites (`colt_ir::layout_rewrites`), and the model still matches ONNX
    // Runtime above: the strided pools read unfolded copies; the stride-2 conv, whose rows
    // are narrower than a register, computes along its 32 output channels instead.
    let with = |prefix: &str| -> Vec<&str> {
        m.kernels
            .iter()
            .filter(|k| k.program.stages.iter().any(|s| s.name.contains(prefix)))
            .map(|k| k.label.as_str())
            .collect()
    };
    assert_eq!(with("unfold_"), ["MaxPool", "AveragePool"]);
    assert!(
        with("_out").iter().any(|l| l.starts_with("Conv")),
        "{:?}",
        with("_out")
    );
    // BatchNormalization folded: its scale is in the weights, its shift in the one
    // epilogue stage (relu(conv + shift)); the inputs are X, the weights and the shift.
    let bn: Vec<_> = m
        .kernels
        .iter()
        .filter(|k| k.label == "Conv+BatchNormalization+Relu")
        .collect();
    assert_eq!(bn.len(), 3);
    for k in bn {
        let inputs = k
            .program
            .buffers
            .iter()
            .filter(|b| b.kind == colt_ir::BufKind::Input)
            .count();
        assert_eq!(inputs, 3, "{}", k.program.name);
        let epilogue: Vec<_> = k
            .program
            .stages
            .iter()
            .filter(|s| s.reduce.is_none() && s.name != "pad")
            .collect();
        assert_eq!(epilogue.len(), 1);
    }
}

#[test]
fn transformer_matches_onnx_runtime() {
    let m = end_to_end("transformer");
    let l = labels(&m);
    assert!(l.contains(&"MatMul+Add+Mul+Div+Erf+Add+Mul"), "{l:?}");
}

#[test]
fn ops_match_onnx_runtime() {
    end_to_end("ops");
}

#[test]
fn identical_tasks_share_one_kernel() {
    let (m, _) = model("transformer");
    let l = labels(&m);
    eprintln!("{l:?}");
    // Q and V are the same projection with the same head split: one kernel, run twice; K's
    // split transposes differently (Kᵀ), so it is a kernel of its own.
    let proj: Vec<_> = m
        .kernels
        .iter()
        .filter(|k| k.label == "MatMul+Add+Reshape+Transpose")
        .collect();
    assert_eq!(proj.iter().map(|k| k.count).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(
        m.tasks.len(),
        m.kernels.iter().map(|k| k.count).sum::<usize>()
    );
    // The decomposed layer norm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then
    // Mul and Add) is recognised: the same kernel as LayerNormalization with its affine.
    let ln: Vec<_> = m
        .kernels
        .iter()
        .filter(|k| k.label.starts_with("LayerNormalization"))
        .collect();
    assert_eq!((ln.len(), ln[0].count), (1, 2), "{l:?}");
    assert_eq!(l.len(), 11);
}
