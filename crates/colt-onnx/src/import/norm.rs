//! Softmax, LogSoftmax, LayerNormalization (its core, then scale and bias as an elementwise
//! node) and the Reduce operators.

use super::elementwise::map;
use super::{Cx, Importer, axis};
use crate::error::Result;
use crate::graph::TensorId;
use crate::ops::{LayerNorm, Op, Reduce, Softmax};
use colt_ir::{BinOp, Reducer, Value};

/// Softmax or LogSoftmax along `axis` (default -1).
pub(super) fn softmax(im: &mut Importer, cx: &Cx, log: bool) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let shape = im.shape(x);
    let axis = axis(cx, cx.attrs.int("axis", -1), shape.len())?;
    im.add(cx, Op::Softmax(Softmax { axis, log }), vec![x], shape)
}

/// LayerNormalization over the axes from `axis` (default -1) on, then `* Scale (+ B)`.
pub(super) fn layer_norm(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let (x, scale) = (im.input(cx, 0)?, im.input(cx, 1)?);
    let bias = im.opt_input(cx, 2)?;
    let shape = im.shape(x);
    let axis = axis(cx, cx.attrs.int("axis", -1), shape.len())?;
    let eps = cx.attrs.float("epsilon", 1e-5);
    let normed = im.add(cx, Op::LayerNorm(LayerNorm { axis, eps }), vec![x], shape)?;
    let mut ins = vec![normed, scale];
    ins.extend(bias);
    map(im, cx, &ins, |v| {
        let y = Value::bin(BinOp::Mul, v[0].clone(), v[1].clone());
        match v.get(2) {
            Some(b) => Value::bin(BinOp::Add, y, b.clone()),
            None => y,
        }
    })
}

/// ReduceMean, ReduceSum, ReduceMax, ReduceMin: axes from input 1 (from opset 18; ReduceSum
/// from 13) or the `axes` attribute; none given reduces every axis (or, with
/// `noop_with_empty_axes`, copies).
pub(super) fn reduce(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let shape = im.shape(x);
    let axes_from_input = op == "ReduceSum" || im.opset >= 18;
    let given = match axes_from_input {
        true if im.opt_input(cx, 1)?.is_some() => Some(im.const_i64(cx, 1)?),
        true => None,
        false => cx.attrs.ints("axes"),
    };
    let given = given.filter(|a| !a.is_empty());
    let mut axes: Vec<usize> = match given {
        Some(a) => a
            .iter()
            .map(|&a| axis(cx, a, shape.len()))
            .collect::<Result<_>>()?,
        None if cx.attrs.int("noop_with_empty_axes", 0) != 0 => {
            return map(im, cx, &[x], |v| v[0].clone());
        }
        None => (0..shape.len()).collect(),
    };
    axes.sort_unstable();
    axes.dedup();
    let r = Reduce {
        reducer: match op {
            "ReduceMax" => Reducer::Max,
            "ReduceMin" => Reducer::Min,
            _ => Reducer::Sum,
        },
        mean: op == "ReduceMean",
        axes,
        keepdims: cx.attrs.int("keepdims", 1) != 0,
    };
    let out = r.out_shape(&shape);
    im.add(cx, Op::Reduce(r), vec![x], out)
}
