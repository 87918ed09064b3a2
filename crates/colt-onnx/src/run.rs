//! Running a model in Rust with colt's reference interpreter, task by task: the oracle the
//! compiled library is checked against, and the evaluator of constant subgraphs.

use crate::error::{OnnxError, Result};
use crate::graph::Data;
use crate::tasks::Model;
use colt_ir::{BufKind, Program};

/// Run `p` unscheduled ([`Program::naive`]) in the interpreter on `inputs` (one vector per
/// input buffer, in order); returns the output buffer.
pub fn interpret_program(p: &Program, inputs: Vec<Vec<f32>>) -> Vec<f32> {
    let mut bufs = inputs;
    for b in &p.buffers[bufs.len()..] {
        bufs.push(vec![0.0; b.len()]);
    }
    colt_ir::interp::run(&p.naive(), &mut bufs);
    let out = p
        .buffers
        .iter()
        .position(|b| b.kind == BufKind::Output)
        .expect("one output");
    std::mem::take(&mut bufs[out])
}

/// Run the whole model in the interpreter: `inputs` in graph-input order; returns the
/// value of every tensor (`None` for those never computed), indexed by tensor id.
pub fn interpret(model: &Model, inputs: &[Vec<f32>]) -> Result<Vec<Option<Vec<f32>>>> {
    let g = &model.graph;
    if inputs.len() != g.inputs.len() {
        return Err(OnnxError::Option(format!(
            "{} inputs given, the model has {}",
            inputs.len(),
            g.inputs.len()
        )));
    }
    let mut values: Vec<Option<Vec<f32>>> = g
        .tensors
        .iter()
        .map(|t| match &t.data {
            Some(Data::F32(v)) => Some(v.clone()),
            Some(Data::I64(v)) => Some(v.iter().map(|&x| x as f32).collect()),
            None => None,
        })
        .collect();
    for (&t, v) in g.inputs.iter().zip(inputs) {
        if v.len() != g.tensor(t).len() {
            return Err(OnnxError::Tensor {
                name: g.tensor(t).name.clone(),
                msg: format!(
                    "{} values given, its shape {:?} has {}",
                    v.len(),
                    g.tensor(t).shape,
                    g.tensor(t).len()
                ),
            });
        }
        values[t.0] = Some(v.clone());
    }
    for task in &model.tasks {
        let ins: Vec<Vec<f32>> = task
            .inputs
            .iter()
            .map(|t| values[t.0].clone().expect("computed before"))
            .collect();
        values[task.output.0] = Some(interpret_program(&model.kernels[task.kernel].program, ins));
    }
    Ok(values)
}

/// `max |got - want| / max |want|`, the infinity-norm relative error of `got` against
/// `want` (infinite when a difference is NaN; lengths must agree).
pub fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    let scale = want
        .iter()
        .fold(0f64, |m, &w| m.max(f64::from(w).abs()))
        .max(1e-30);
    let diff = got.iter().zip(want).fold(0f64, |m, (&g, &w)| {
        let d = (f64::from(g) - f64::from(w)).abs();
        if d.is_nan() { f64::INFINITY } else { m.max(d) }
    });
    diff / scale
}
