//! Conv (with its bias as an elementwise node), MaxPool, AveragePool and the global pools.

use super::{Cx, Importer};
use crate::error::Result;
use crate::graph::TensorId;
use crate::ops::{Conv, Op, Pool, PoolKind, Reduce, Window};
use colt_ir::{BinOp, Idx, Reducer, Value, VarId};

/// The window of a 2-D Conv or pool from its attributes, for an input of spatial size
/// `hw` and a kernel of size `kernel`.
fn window(cx: &Cx, hw: [i64; 2], kernel: [i64; 2]) -> Result<Window> {
    let pair = |name: &str| -> Result<[i64; 2]> {
        match cx.attrs.ints(name).as_deref() {
            None => Ok([1, 1]),
            Some(&[a, b]) => Ok([a, b]),
            Some(v) => Err(cx.err(format!("{name} {v:?}: only 2-D windows are supported"))),
        }
    };
    let (strides, dilations) = (pair("strides")?, pair("dilations")?);
    if kernel
        .iter()
        .chain(&strides)
        .chain(&dilations)
        .any(|&v| v < 1)
    {
        return Err(cx.err(format!(
            "kernel {kernel:?}, strides {strides:?} and dilations {dilations:?} must be positive"
        )));
    }
    let mut w = Window {
        kernel,
        strides,
        pads: [0; 4],
        dilations,
    };
    match cx.attrs.string("auto_pad", "NOTSET").as_str() {
        "NOTSET" => {
            w.pads = match cx.attrs.ints("pads").as_deref() {
                None => [0; 4],
                Some(&[t, l, b, r]) if t.min(l).min(b).min(r) >= 0 => [t, l, b, r],
                Some(v) => {
                    return Err(cx.err(format!("pads {v:?}: four non-negative values expected")));
                }
            }
        }
        "VALID" => {}
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            for d in 0..2 {
                let out = (hw[d] + strides[d] - 1) / strides[d];
                let span = (kernel[d] - 1) * dilations[d] + 1;
                let total = ((out - 1) * strides[d] + span - hw[d]).max(0);
                let (small, big) = (total / 2, total - total / 2);
                let (begin, end) = if mode == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                };
                (w.pads[d], w.pads[d + 2]) = (begin, end);
            }
        }
        other => return Err(cx.err(format!("auto_pad {other:?}"))),
    }
    if cx.attrs.int("ceil_mode", 0) != 0 {
        return Err(cx.err("ceil_mode = 1 is not supported"));
    }
    Ok(w)
}

/// The input's shape, checked to be NCHW.
fn nchw(im: &Importer, cx: &Cx, x: TensorId) -> Result<Vec<i64>> {
    let s = im.shape(x);
    if s.len() != 4 {
        return Err(cx.err(format!(
            "input shape {s:?}: only 2-D (NCHW) inputs are supported"
        )));
    }
    Ok(s)
}

/// Conv: the convolution node, then `+ B[f]` when there is a bias.
pub(super) fn conv(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let (x, w) = (im.input(cx, 0)?, im.input(cx, 1)?);
    let (xs, ws) = (nchw(im, cx, x)?, im.shape(w));
    let group = cx.attrs.int("group", 1);
    if ws.len() != 4 || group < 1 || xs[1] != ws[1] * group || ws[0] % group != 0 {
        return Err(cx.err(format!(
            "weight {ws:?} does not fit input {xs:?} with group {group}"
        )));
    }
    let win = window(cx, [xs[2], xs[3]], [ws[2], ws[3]])?;
    let [oh, ow] = win.out_hw(xs[2], xs[3]).map_err(|e| cx.err(e))?;
    let op = Op::Conv(Conv { group, window: win });
    let y = im.add(cx, op, vec![x, w], vec![xs[0], ws[0], oh, ow])?;
    match im.opt_input(cx, 2)? {
        None => Ok(y),
        Some(b) => {
            if im.shape(b) != [ws[0]] {
                return Err(cx.err(format!(
                    "bias shape {:?}, expected [{}]",
                    im.shape(b),
                    ws[0]
                )));
            }
            let bias = crate::ops::arg(1, vec![Idx::Var(VarId(1))]);
            let shape = im.shape(y);
            let value = Value::bin(BinOp::Add, crate::ops::bcast_load(0, &shape, &shape), bias);
            im.add(cx, Op::Elementwise(value), vec![y, b], shape)
        }
    }
}

/// MaxPool or AveragePool over a 2-D window.
pub(super) fn pool(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let xs = nchw(im, cx, x)?;
    if cx.node.output.get(1).is_some_and(|o| !o.is_empty()) {
        return Err(cx.err("the Indices output is not supported"));
    }
    let kernel = match cx.attrs.ints("kernel_shape").as_deref() {
        Some(&[a, b]) => [a, b],
        other => return Err(cx.err(format!("kernel_shape {other:?}: two values expected"))),
    };
    let win = window(cx, [xs[2], xs[3]], kernel)?;
    let [oh, ow] = win.out_hw(xs[2], xs[3]).map_err(|e| cx.err(e))?;
    let kind = match op {
        "MaxPool" => PoolKind::Max,
        _ => PoolKind::Avg {
            count_include_pad: cx.attrs.int("count_include_pad", 0) != 0,
        },
    };
    let pool = Op::Pool(Pool { kind, window: win });
    im.add(cx, pool, vec![x], vec![xs[0], xs[1], oh, ow])
}

/// GlobalAveragePool and GlobalMaxPool: a reduction of every axis after the channels,
/// kept as extent 1.
pub(super) fn global_pool(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let xs = im.shape(x);
    if xs.len() < 3 {
        return Err(cx.err(format!(
            "input shape {xs:?}: N, C and spatial axes expected"
        )));
    }
    let avg = op == "GlobalAveragePool";
    let r = Reduce {
        reducer: if avg { Reducer::Sum } else { Reducer::Max },
        mean: avg,
        axes: (2..xs.len()).collect(),
        keepdims: true,
    };
    let shape = r.out_shape(&xs);
    im.add(cx, Op::Reduce(r), vec![x], shape)
}
