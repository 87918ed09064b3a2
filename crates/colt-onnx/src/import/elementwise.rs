//! Elementwise operators: activations, arithmetic with broadcasting, Clip, Gelu, and
//! BatchNormalization folded into a per-channel scale and shift.

use super::{Cx, Importer, broadcast};
use crate::error::Result;
use crate::graph::{Data, TensorId};
use crate::ops::{Op, bcast_load};
use colt_ir::{BinOp, UnOp, Value};

fn un(op: UnOp, x: Value) -> Value {
    Value::un(op, x)
}
fn bin(op: BinOp, a: Value, b: Value) -> Value {
    Value::bin(op, a, b)
}
fn k(c: f32) -> Value {
    Value::Const(c)
}

/// Import `op` if it is elementwise; `None` when it is not one of this family.
pub(super) fn import(im: &mut Importer, cx: &Cx, op: &str) -> Result<Option<TensorId>> {
    let unary = |f: fn(Value) -> Value| move |a: &[Value]| f(a[0].clone());
    let t = match op {
        "Relu" => first(im, cx, unary(|x| un(UnOp::Relu, x)))?,
        "Sigmoid" => first(im, cx, unary(|x| un(UnOp::Sigmoid, x)))?,
        "Tanh" => first(im, cx, unary(|x| un(UnOp::Tanh, x)))?,
        "Exp" => first(im, cx, unary(|x| un(UnOp::Exp, x)))?,
        "Sqrt" => first(im, cx, unary(|x| un(UnOp::Sqrt, x)))?,
        "Neg" => first(im, cx, unary(|x| un(UnOp::Neg, x)))?,
        "Abs" => first(im, cx, unary(|x| un(UnOp::Abs, x)))?,
        "Log" => first(im, cx, unary(|x| un(UnOp::Log, x)))?,
        "Erf" => first(im, cx, unary(|x| un(UnOp::Erf, x)))?,
        "Reciprocal" => first(im, cx, unary(|x| bin(BinOp::Div, k(1.0), x)))?,
        "Identity" | "Dropout" => first(im, cx, unary(|x| x))?,
        "Gelu" => gelu(im, cx)?,
        "LeakyRelu" => {
            let alpha = cx.attrs.float("alpha", 0.01);
            first(im, cx, move |a: &[Value]| {
                let neg = bin(BinOp::Mul, k(alpha), bin(BinOp::Min, a[0].clone(), k(0.0)));
                bin(BinOp::Add, un(UnOp::Relu, a[0].clone()), neg)
            })?
        }
        "Clip" => clip(im, cx)?,
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "Sum" => arith(im, cx, op)?,
        "BatchNormalization" => batch_norm(im, cx)?,
        _ => return Ok(None),
    };
    Ok(Some(t))
}

/// An elementwise node over `inputs` broadcast together; `f` builds the value from one
/// operand per input (a float scalar constant is inlined as a literal).
pub(crate) fn map(
    im: &mut Importer,
    cx: &Cx,
    inputs: &[TensorId],
    f: impl FnOnce(&[Value]) -> Value,
) -> Result<TensorId> {
    let shapes: Vec<Vec<i64>> = inputs.iter().map(|&t| im.shape(t)).collect();
    let out = shapes
        .iter()
        .try_fold(vec![], |acc, s| broadcast(&acc, s))
        .map_err(|e| cx.err(e))?;
    let (mut kept, mut args) = (vec![], vec![]);
    for (&t, s) in inputs.iter().zip(&shapes) {
        match &im.g.tensor(t).data {
            Some(Data::F32(v)) if v.len() == 1 => args.push(k(v[0])),
            _ => {
                args.push(bcast_load(kept.len(), s, &out));
                kept.push(t);
            }
        }
    }
    im.add(cx, Op::Elementwise(f(&args)), kept, out)
}

/// A unary operator of the node's first input.
fn first(im: &mut Importer, cx: &Cx, f: impl FnOnce(&[Value]) -> Value) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    map(im, cx, &[x], f)
}

/// Add, Sub, Mul, Div, Pow (x², √x and x¹ by constant exponent), and the variadic
/// Max, Min, Sum.
fn arith(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let inputs: Vec<TensorId> = (0..cx.node.input.len())
        .map(|i| im.input(cx, i))
        .collect::<Result<_>>()?;
    if inputs.is_empty() || (!matches!(op, "Max" | "Min" | "Sum") && inputs.len() != 2) {
        return Err(cx.err(format!("{} inputs", inputs.len())));
    }
    let bop = match op {
        "Add" | "Sum" => BinOp::Add,
        "Sub" => BinOp::Sub,
        "Mul" => BinOp::Mul,
        "Div" => BinOp::Div,
        "Max" => BinOp::Max,
        "Min" => BinOp::Min,
        _ => BinOp::Pow,
    };
    map(im, cx, &inputs, |a| {
        if bop == BinOp::Pow {
            return pow(a[0].clone(), a[1].clone());
        }
        let mut it = a.iter().cloned();
        let first = it.next().expect("at least one input");
        it.fold(first, |acc, x| bin(bop, acc, x))
    })
}

fn pow(x: Value, e: Value) -> Value {
    match e {
        Value::Const(1.0) => x,
        Value::Const(2.0) => bin(BinOp::Mul, x.clone(), x),
        Value::Const(0.5) => un(UnOp::Sqrt, x),
        e => bin(BinOp::Pow, x, e),
    }
}

/// `0.5 x (1 + erf(x / √2))`, or with `approximate = "tanh"`
/// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
fn gelu(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let tanh = match cx.attrs.string("approximate", "none").as_str() {
        "none" => false,
        "tanh" => true,
        other => return Err(cx.err(format!("approximate = {other:?} (none or tanh)"))),
    };
    first(im, cx, |a| {
        let x = a[0].clone();
        let inner = if tanh {
            let cube = bin(BinOp::Mul, bin(BinOp::Mul, x.clone(), x.clone()), x.clone());
            let arg = bin(BinOp::Add, x.clone(), bin(BinOp::Mul, k(0.044715), cube));
            un(
                UnOp::Tanh,
                bin(
                    BinOp::Mul,
                    k((2.0 / std::f64::consts::PI).sqrt() as f32),
                    arg,
                ),
            )
        } else {
            un(
                UnOp::Erf,
                bin(BinOp::Mul, x.clone(), k(std::f32::consts::FRAC_1_SQRT_2)),
            )
        };
        bin(
            BinOp::Mul,
            bin(BinOp::Mul, k(0.5), x),
            bin(BinOp::Add, k(1.0), inner),
        )
    })
}

/// `min(max(x, lo), hi)` with the bounds from constant inputs 1 and 2 (each optional).
fn clip(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let bound = |i: usize| -> Result<Option<f32>> {
        match im.opt_input(cx, i)? {
            None => Ok(None),
            Some(t) => match im.g.tensor(t).f32_data() {
                Some([v]) => Ok(Some(*v)),
                _ => Err(cx.err(format!("bound {i} must be a float scalar constant"))),
            },
        }
    };
    let (lo, hi) = (bound(1)?, bound(2)?);
    first(im, cx, |a| {
        let x = lo.map_or(a[0].clone(), |l| bin(BinOp::Max, a[0].clone(), k(l)));
        hi.map_or(x.clone(), |h| bin(BinOp::Min, x, k(h)))
    })
}

/// Inference BatchNormalization as `x * s + b` with the constants
/// `s = scale / sqrt(var + eps)` and `b = bias - mean * s` per channel (dimension 1).
fn batch_norm(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    if cx.attrs.int("training_mode", 0) != 0 {
        return Err(cx.err("training_mode = 1 (colt-onnx imports inference graphs)"));
    }
    let x = im.input(cx, 0)?;
    let param = |i: usize| -> Result<Vec<f32>> {
        let t = im.input(cx, i)?;
        im.g.tensor(t)
            .f32_data()
            .map(<[f32]>::to_vec)
            .ok_or_else(|| cx.err(format!("input {i} must be a float constant")))
    };
    let (scale, bias, mean, var) = (param(1)?, param(2)?, param(3)?, param(4)?);
    let eps = f64::from(cx.attrs.float("epsilon", 1e-5));
    let rank = im.shape(x).len();
    let c = im.shape(x).get(1).copied().unwrap_or(0);
    if rank < 2
        || [&scale, &bias, &mean, &var]
            .iter()
            .any(|v| v.len() as i64 != c)
    {
        return Err(cx.err(format!(
            "parameters do not match the {c} channels of {:?}",
            im.shape(x)
        )));
    }
    let s: Vec<f32> = (0..scale.len())
        .map(|i| (f64::from(scale[i]) / (f64::from(var[i]) + eps).sqrt()) as f32)
        .collect();
    let b: Vec<f32> = (0..s.len())
        .map(|i| (f64::from(bias[i]) - f64::from(mean[i]) * f64::from(s[i])) as f32)
        .collect();
    let mut shape = vec![c];
    shape.resize(rank - 1, 1);
    let st = im.constant(&format!("{}/scale", cx.name), shape.clone(), Data::F32(s));
    let bt = im.constant(&format!("{}/shift", cx.name), shape, Data::F32(b));
    map(im, cx, &[x, st, bt], |a| {
        bin(
            BinOp::Add,
            bin(BinOp::Mul, a[0].clone(), a[1].clone()),
            a[2].clone(),
        )
    })
}
