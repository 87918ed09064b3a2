//! The operators a graph node computes, at colt's level, and their emission as stages of a
//! [`Program`].
//!
//! ONNX operators map onto few kinds: everything without a reduction (arithmetic with
//! broadcasting, activations, folded batch norm, and the views Transpose, Reshape, Slice,
//! Concat, Gather on constant indices) is one [`Op::Elementwise`] value; the rest are the
//! *anchors* of fusion, one variant each. An ONNX node with a bias or an affine tail (Gemm,
//! Conv with bias, LayerNormalization with scale) imports as an anchor node followed by an
//! elementwise node, so every epilogue fuses the same way.

mod conv;
mod elementwise;
mod matmul;
mod reduce;

pub use conv::{Conv, Pool, PoolKind, Window};
pub use matmul::MatMul;
pub use reduce::{LayerNorm, Reduce, Softmax};

pub(crate) use elementwise::{arg, bcast_load, emit_elementwise, is_view};

use colt_ir::IterKind::{Reduce as R, Spatial as S};
use colt_ir::{BufId, Idx, IterKind, Program, Reducer, Value};

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `Y[v0, .., vn] = value`: `VarId(d)` in the value's indices stands for output dimension
    /// `d` and a load of `BufId(i)` reads the node's `i`-th input.
    Elementwise(Value),
    /// Matrix product with numpy batch broadcasting (MatMul, the product of Gemm).
    MatMul(MatMul),
    /// 2-D convolution, NCHW, grouped or depthwise (without bias).
    Conv(Conv),
    /// Max or average pooling, NCHW.
    Pool(Pool),
    /// Sum, mean, max or min over axes (ReduceMean, GlobalAveragePool, ...).
    Reduce(Reduce),
    /// Softmax or log-softmax along one axis.
    Softmax(Softmax),
    /// `(x - mean) / sqrt(var + eps)` over the trailing axes (LayerNormalization's core).
    LayerNorm(LayerNorm),
}

impl Op {
    /// True for an operator with a reduction: the anchor of a fused task.
    pub fn is_anchor(&self) -> bool {
        !matches!(self, Op::Elementwise(_))
    }

    /// Short lower-case name used for stages and task names.
    pub fn stage_name(&self) -> &'static str {
        match self {
            Op::Elementwise(v) if is_view(v) => "copy",
            Op::Elementwise(_) => "map",
            Op::MatMul(_) => "matmul",
            Op::Conv(_) => "conv",
            Op::Pool(p) => match p.kind {
                PoolKind::Max => "maxpool",
                PoolKind::Avg { .. } => "avgpool",
            },
            Op::Reduce(_) => "reduce",
            Op::Softmax(_) => "softmax",
            Op::LayerNorm(_) => "layernorm",
        }
    }

    /// Add the stages computing `out` from `ins` (buffers of `p`) to `p`; temporaries the
    /// operator needs are added as `Temp` buffers. Returns the number of stages added.
    pub(crate) fn emit(&self, p: &mut Program, ins: &[BufId], out: BufId) -> usize {
        let before = p.stages.len();
        match self {
            Op::Elementwise(v) => emit_elementwise(p, v, ins, out),
            Op::MatMul(m) => m.emit(p, ins, out),
            Op::Conv(c) => c.emit(p, ins, out),
            Op::Pool(q) => q.emit(p, ins, out),
            Op::Reduce(r) => r.emit(p, ins[0], out),
            Op::Softmax(s) => s.emit(p, ins[0], out),
            Op::LayerNorm(l) => l.emit(p, ins[0], out),
        }
        p.stages.len() - before
    }
}

/// Iteration variable names: spatial ones first from `i`, reduction ones from `r`.
fn var_name(kind: IterKind, k: usize) -> String {
    const SPATIAL: &[&str] = &["i", "j", "k", "l", "m", "n"];
    const REDUCE: &[&str] = &["r", "s", "t", "u", "v", "w"];
    let names = if kind == S { SPATIAL } else { REDUCE };
    match names.get(k) {
        Some(n) => n.to_string(),
        None => format!("{}{k}", names[0]),
    }
}

/// A stage over `dims` (extent and kind, in loop order) built by `f` from the variables.
pub(crate) fn stage(
    p: &mut Program,
    name: &str,
    dims: &[(i64, IterKind)],
    f: impl FnOnce(&[Idx]) -> (BufId, Option<Reducer>, Value),
) {
    let (mut ns, mut nr) = (0, 0);
    let names: Vec<String> = dims
        .iter()
        .map(|&(_, k)| {
            let c = if k == S { &mut ns } else { &mut nr };
            *c += 1;
            var_name(k, *c - 1)
        })
        .collect();
    let iters: Vec<(&str, i64, IterKind)> = names
        .iter()
        .zip(dims)
        .map(|(n, &(e, k))| (n.as_str(), e, k))
        .collect();
    p.add_stage(name, &iters, f);
}

/// Spatial dimensions over `shape`.
pub(crate) fn spatial(shape: &[i64]) -> Vec<(i64, IterKind)> {
    shape.iter().map(|&e| (e, S)).collect()
}

/// `shape` with `axes` removed (`[1]` when nothing is left).
pub(crate) fn without(shape: &[i64], axes: &[usize]) -> Vec<i64> {
    let kept: Vec<i64> = (0..shape.len())
        .filter(|d| !axes.contains(d))
        .map(|d| shape[d])
        .collect();
    if kept.is_empty() { vec![1] } else { kept }
}

/// The iteration domain of a reduction of `shape` over `axes`: the kept dimensions
/// (spatial), then the reduced ones; and, per input dimension, its variable's position.
pub(crate) fn reduction_domain(
    shape: &[i64],
    axes: &[usize],
) -> (Vec<(i64, IterKind)>, Vec<usize>) {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let mut dims: Vec<(i64, IterKind)> = kept.iter().map(|&d| (shape[d], S)).collect();
    if kept.is_empty() {
        dims.push((1, S));
    }
    let first_reduce = dims.len();
    dims.extend(axes.iter().map(|&d| (shape[d], R)));
    let pos = (0..shape.len())
        .map(|d| match axes.iter().position(|&a| a == d) {
            Some(k) => first_reduce + k,
            None => kept.iter().position(|&x| x == d).unwrap_or(0),
        })
        .collect();
    (dims, pos)
}

/// A load of `b` at the variables `v[pos[d]]` for each dimension `d`.
pub(crate) fn load_at(b: BufId, v: &[Idx], pos: &[usize]) -> Value {
    Value::load(b, pos.iter().map(|&k| v[k].clone()).collect())
}

/// A load of `b` at the first `n` variables (of the `[1]` buffer at 0 when `n == 0`).
pub(crate) fn load_prefix(b: BufId, v: &[Idx], n: usize) -> Value {
    if n == 0 {
        return Value::load(b, vec![Idx::Const(0)]);
    }
    Value::load(b, v[..n].to_vec())
}
