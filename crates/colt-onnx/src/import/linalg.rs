//! MatMul, and Gemm as a product node followed by its `alpha`/`beta`/`C` epilogue.

use super::elementwise::map;
use super::{Cx, Importer};
use crate::error::Result;
use crate::graph::TensorId;
use crate::ops::{MatMul, Op};
use colt_ir::{BinOp, Value};

/// Import MatMul or Gemm.
pub(super) fn import(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let (a, b) = (im.input(cx, 0)?, im.input(cx, 1)?);
    let mm = match op {
        "Gemm" => MatMul {
            trans_a: cx.attrs.int("transA", 0) != 0,
            trans_b: cx.attrs.int("transB", 0) != 0,
        },
        _ => MatMul::default(),
    };
    let (sa, sb) = (im.shape(a), im.shape(b));
    if op == "Gemm" && (sa.len() != 2 || sb.len() != 2) {
        return Err(cx.err(format!("Gemm needs 2-D operands, got {sa:?} and {sb:?}")));
    }
    let shape = mm.out_shape(&sa, &sb).map_err(|e| cx.err(e))?;
    let product = im.add(cx, Op::MatMul(mm), vec![a, b], shape)?;
    if op != "Gemm" {
        return Ok(product);
    }
    let alpha = cx.attrs.float("alpha", 1.0);
    let beta = cx.attrs.float("beta", 1.0);
    let c = im.opt_input(cx, 2)?;
    let scaled = |x: Value, s: f32| match s {
        1.0 => x,
        s => Value::bin(BinOp::Mul, Value::Const(s), x),
    };
    match c {
        Some(c) if beta != 0.0 => map(im, cx, &[product, c], |v| {
            Value::bin(
                BinOp::Add,
                scaled(v[0].clone(), alpha),
                scaled(v[1].clone(), beta),
            )
        }),
        _ if alpha != 1.0 => map(im, cx, &[product], |v| scaled(v[0].clone(), alpha)),
        _ => Ok(product),
    }
}
