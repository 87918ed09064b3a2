//! BatchNormalization folded into the Conv before it: a BatchNormalization imports as
//! `x * s + b` per channel (see `elementwise::batch_norm`); when `x` is the result of a Conv
//! (or of its bias) with constant weights that nothing else reads, the scale moves into the
//! weights (`W'[f] = W[f] * s[f]`) and the shift into the bias (`B' = B * s + b`, or a new
//! bias `b`), so the task's epilogue is the bias alone.

use crate::graph::{Data, Graph, Tensor, TensorId};
use crate::ops::{Op, bcast_load};
use colt_ir::{BinOp, Value};

/// Fold every BatchNormalization that follows a Conv with constant weights.
pub(super) fn fold_batch_norms(g: &mut Graph) {
    for i in 0..g.nodes.len() {
        if g.nodes[i].op_type == "BatchNormalization" {
            fold_one(g, i);
        }
    }
}

/// The node's `(x, scale, shift tensor, shift values)` when it is a batch norm of constants.
fn scale_shift(g: &Graph, i: usize) -> Option<(TensorId, Vec<f32>, TensorId, Vec<f32>)> {
    let [x, s, b] = g.nodes[i].inputs[..] else {
        return None;
    };
    let (scale, shift) = (g.tensor(s).f32_data()?, g.tensor(b).f32_data()?);
    Some((x, scale.to_vec(), b, shift.to_vec()))
}

/// True when node `reader` is the only use of `t`.
fn only_reader(g: &Graph, t: TensorId, reader: usize) -> bool {
    g.consumers(t) == [reader] && !g.outputs.contains(&t)
}

fn fold_one(g: &mut Graph, i: usize) -> Option<()> {
    let (x, scale, shift, sh) = scale_shift(g, i)?;
    let p = g.producer(x).filter(|_| only_reader(g, x, i))?;
    // the Conv itself, and its bias node when it has one
    let (conv, bias) = match &g.nodes[p].op {
        Op::Conv(_) => (p, None),
        Op::Elementwise(_) if g.nodes[p].op_type == "Conv" => {
            let y = g.nodes[p].inputs[0];
            (g.producer(y).filter(|_| only_reader(g, y, p))?, Some(p))
        }
        _ => return None,
    };
    let w = g.tensor(g.nodes[conv].inputs[1]).clone();
    let wd = w.f32_data()?;
    let per = wd.len() / scale.len();
    let bias_data = match bias {
        Some(b) => Some(g.tensor(g.nodes[b].inputs[1]).f32_data()?.to_vec()),
        None => None,
    };
    let folded: Vec<f32> = wd
        .iter()
        .enumerate()
        .map(|(k, &v)| v * scale[k / per])
        .collect();
    g.nodes[conv].inputs[1] = push(g, &w, "bn", w.shape.clone(), folded);
    let out = g.tensor(g.nodes[i].output).shape.clone();
    let copy = bcast_load(0, &out, &out);
    match (bias, bias_data) {
        (Some(b), Some(bd)) => {
            let merged = bd
                .iter()
                .zip(&scale)
                .zip(&sh)
                .map(|((&c, &s), &t)| c * s + t)
                .collect();
            let old = g.tensor(g.nodes[b].inputs[1]).clone();
            g.nodes[b].inputs[1] = push(g, &old, "bn", old.shape.clone(), merged);
            g.nodes[i].inputs = vec![x];
            g.nodes[i].op = Op::Elementwise(copy);
        }
        _ => {
            let sh = g.tensor(shift).shape.clone();
            g.nodes[i].op = Op::Elementwise(Value::bin(BinOp::Add, copy, bcast_load(1, &sh, &out)));
            g.nodes[i].inputs = vec![x, shift];
        }
    }
    Some(())
}

/// A new constant tensor named after `like`.
fn push(g: &mut Graph, like: &Tensor, suffix: &str, shape: Vec<i64>, data: Vec<f32>) -> TensorId {
    g.tensors.push(Tensor {
        name: format!("{}/{suffix}", like.name),
        shape,
        data: Some(Data::F32(data)),
    });
    TensorId(g.tensors.len() - 1)
}
