//! Views and data movement as elementwise nodes whose loads carry the index mapping:
//! Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Expand, Slice, Concat, and Gather with
//! constant indices.

use super::{Cx, Importer, axis, broadcast};
use crate::error::Result;
use crate::graph::TensorId;
use crate::ops::{Op, arg, bcast_load};
use colt_ir::{Bound, Idx, Value, VarId};

fn var(d: usize) -> Idx {
    Idx::Var(VarId(d as u32))
}

/// Import one of the view operators.
pub(super) fn import(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let xs = im.shape(x);
    match op {
        "Transpose" => {
            let perm = cx
                .attrs
                .ints("perm")
                .unwrap_or_else(|| (0..xs.len() as i64).rev().collect());
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if sorted != (0..xs.len() as i64).collect::<Vec<_>>() {
                return Err(cx.err(format!(
                    "perm {perm:?} is not a permutation of the {} axes",
                    xs.len()
                )));
            }
            let mut idx = vec![Idx::Const(0); xs.len()];
            for (d, &p) in perm.iter().enumerate() {
                idx[p as usize] = var(d);
            }
            let out = perm.iter().map(|&p| xs[p as usize]).collect();
            im.add(cx, Op::Elementwise(arg(0, idx)), vec![x], out)
        }
        "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
            let out = reshaped(im, cx, op, &xs)?;
            reshape(im, cx, x, out)
        }
        "Expand" => {
            let shape = im.const_i64(cx, 1)?;
            let out = broadcast(&xs, &shape).map_err(|e| cx.err(e))?;
            im.add(cx, Op::Elementwise(bcast_load(0, &xs, &out)), vec![x], out)
        }
        "Slice" => slice(im, cx, x, &xs),
        "Concat" => concat(im, cx),
        _ => gather(im, cx, x, &xs),
    }
}

/// `x` read as `out`: the row-major flat index of each output element, split by the
/// input's strides (floor division and modulo, simplified away in the task programs).
pub(crate) fn reshape(im: &mut Importer, cx: &Cx, x: TensorId, out: Vec<i64>) -> Result<TensorId> {
    let xs = im.shape(x);
    if out.iter().product::<i64>() != xs.iter().product::<i64>() {
        return Err(cx.err(format!("cannot reshape {xs:?} to {out:?}")));
    }
    let mut flat = Idx::Const(0);
    let mut stride = 1;
    for d in (0..out.len()).rev() {
        flat = flat + var(d) * stride;
        stride *= out[d];
    }
    let mut idx = vec![];
    stride = 1;
    for d in (0..xs.len()).rev() {
        let e = if stride == 1 {
            flat.clone()
        } else {
            flat.clone().div(stride)
        };
        idx.push(if d == 0 { e } else { e.rem(xs[d]) });
        stride *= xs[d];
    }
    idx.reverse();
    im.add(cx, Op::Elementwise(arg(0, idx)), vec![x], out)
}

/// The target shape of Reshape, Flatten, Squeeze or Unsqueeze.
fn reshaped(im: &Importer, cx: &Cx, op: &str, xs: &[i64]) -> Result<Vec<i64>> {
    let total: i64 = xs.iter().product();
    let axes = |rank: usize| -> Result<Option<Vec<usize>>> {
        raw_axes(im, cx)?
            .map(|a| a.iter().map(|&a| axis(cx, a, rank)).collect())
            .transpose()
    };
    Ok(match op {
        "Flatten" => {
            let a = cx.attrs.int("axis", 1);
            let a = if a == xs.len() as i64 {
                a as usize
            } else {
                axis(cx, a, xs.len())?
            };
            vec![xs[..a].iter().product(), xs[a..].iter().product()]
        }
        "Squeeze" => match axes(xs.len())? {
            Some(a) => (0..xs.len())
                .filter(|d| !a.contains(d))
                .map(|d| xs[d])
                .collect(),
            None => xs.iter().copied().filter(|&e| e != 1).collect(),
        },
        "Unsqueeze" => {
            let n = xs.len() + raw_axes(im, cx)?.map_or(0, |a| a.len());
            let a = axes(n)?.ok_or_else(|| cx.err("axes are missing"))?;
            let mut it = xs.iter();
            (0..xs.len() + a.len())
                .map(|d| {
                    if a.contains(&d) {
                        1
                    } else {
                        *it.next().unwrap_or(&1)
                    }
                })
                .collect()
        }
        _ => {
            let spec = im.const_i64(cx, 1)?;
            let mut out: Vec<i64> = spec
                .iter()
                .enumerate()
                .map(|(d, &e)| {
                    if e == 0 && cx.attrs.int("allowzero", 0) == 0 {
                        xs.get(d).copied().unwrap_or(0)
                    } else {
                        e
                    }
                })
                .collect();
            if let Some(p) = out.iter().position(|&e| e == -1) {
                let known: i64 = out.iter().filter(|&&e| e != -1).product();
                out[p] = if known > 0 { total / known } else { 0 };
            }
            out
        }
    })
}

/// The axes of Squeeze or Unsqueeze: constant input 1 (from opset 13) or the attribute.
fn raw_axes(im: &Importer, cx: &Cx) -> Result<Option<Vec<i64>>> {
    match im.opt_input(cx, 1)? {
        Some(_) => im.const_i64(cx, 1).map(Some),
        None => Ok(cx.attrs.ints("axes")),
    }
}

/// Slice with constant starts, ends, axes and steps (inputs 1 to 4).
fn slice(im: &mut Importer, cx: &Cx, x: TensorId, xs: &[i64]) -> Result<TensorId> {
    let (starts, ends) = (im.const_i64(cx, 1)?, im.const_i64(cx, 2)?);
    let axes = match im.opt_input(cx, 3)? {
        Some(_) => im.const_i64(cx, 3)?,
        None => (0..starts.len() as i64).collect(),
    };
    let steps = match im.opt_input(cx, 4)? {
        Some(_) => im.const_i64(cx, 4)?,
        None => vec![1; starts.len()],
    };
    let (mut out, mut idx): (Vec<i64>, Vec<Idx>) = (xs.to_vec(), (0..xs.len()).map(var).collect());
    for (k, &first) in starts.iter().enumerate() {
        let a = axis(cx, *axes.get(k).unwrap_or(&0), xs.len())?;
        let (n, step) = (xs[a], *steps.get(k).unwrap_or(&1));
        if step == 0 {
            return Err(cx.err("a step of 0"));
        }
        let wrap = |v: i64| if v < 0 { v + n } else { v };
        let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
        let start = wrap(first).clamp(lo.max(0), hi);
        let end = wrap(*ends.get(k).unwrap_or(&n)).clamp(lo, hi);
        let len = ((end - start) as f64 / step as f64).ceil().max(0.0) as i64;
        if len == 0 {
            return Err(cx.err(format!("the slice of axis {a} is empty")));
        }
        out[a] = len;
        idx[a] = var(a) * step + Idx::Const(start);
    }
    im.add(cx, Op::Elementwise(arg(0, idx)), vec![x], out)
}

/// Concat along `axis`: each input's range of the axis, chosen by a guard.
fn concat(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let ins: Vec<TensorId> = (0..cx.node.input.len())
        .map(|i| im.input(cx, i))
        .collect::<Result<_>>()?;
    let shapes: Vec<Vec<i64>> = ins.iter().map(|&t| im.shape(t)).collect();
    let a = axis(cx, cx.attrs.int("axis", 0), shapes[0].len())?;
    let mut out = shapes[0].clone();
    out[a] = 0;
    let mut parts = vec![];
    for (i, s) in shapes.iter().enumerate() {
        let same = s.len() == out.len() && (0..s.len()).all(|d| d == a || s[d] == out[d]);
        if !same {
            return Err(cx.err(format!(
                "input {i} has shape {s:?}, which does not concatenate with {:?}",
                shapes[0]
            )));
        }
        let mut idx: Vec<Idx> = (0..s.len()).map(var).collect();
        idx[a] = var(a) + Idx::Const(-out[a]);
        parts.push((out[a], s[a], arg(i, idx)));
        out[a] += s[a];
    }
    let value = parts
        .into_iter()
        .rev()
        .fold(Value::Const(0.0), |rest, (lo, n, load)| {
            let guard = Bound {
                idx: var(a),
                lo,
                hi: lo + n,
            };
            Value::Select(vec![guard], Box::new(load), Box::new(rest))
        });
    im.add(cx, Op::Elementwise(value), ins, out)
}

/// Gather along `axis` with constant indices: each run of consecutive indices is one
/// guarded affine load.
fn gather(im: &mut Importer, cx: &Cx, x: TensorId, xs: &[i64]) -> Result<TensorId> {
    let a = axis(cx, cx.attrs.int("axis", 0), xs.len())?;
    let ind_t = im.input(cx, 1)?;
    let ind_shape = im.shape(ind_t);
    let n = xs[a];
    let ind: Vec<i64> = im
        .const_i64(cx, 1)?
        .iter()
        .map(|&i| if i < 0 { i + n } else { i })
        .collect();
    if let Some(bad) = ind.iter().find(|&&i| !(0..n).contains(&i)) {
        return Err(cx.err(format!(
            "index {bad} is out of range for axis {a} of extent {n}"
        )));
    }
    let q = ind_shape.len();
    let mut out = xs[..a].to_vec();
    out.extend(&ind_shape);
    out.extend(&xs[a + 1..]);
    let (mut flat, mut stride) = (Idx::Const(0), 1);
    for j in (0..q).rev() {
        flat = flat + var(a + j) * stride;
        stride *= ind_shape[j];
    }
    let load = |at: Idx| {
        let mut idx: Vec<Idx> = (0..a).map(var).collect();
        idx.push(at);
        idx.extend((a + 1..xs.len()).map(|d| var(d - 1 + q)));
        arg(0, idx)
    };
    let mut runs: Vec<(i64, i64, i64)> = vec![]; // (first position, length, first index)
    for (pos, &i) in ind.iter().enumerate() {
        match runs.last_mut() {
            Some((p, len, first)) if *first + *len == i && *p + *len == pos as i64 => *len += 1,
            _ => runs.push((pos as i64, 1, i)),
        }
    }
    let value = match runs.as_slice() {
        [(p, _, first)] => load(flat.clone() + Idx::Const(first - p)),
        _ => runs
            .iter()
            .rev()
            .fold(Value::Const(0.0), |rest, &(p, len, first)| {
                let guard = Bound {
                    idx: flat.clone(),
                    lo: p,
                    hi: p + len,
                };
                Value::Select(
                    vec![guard],
                    Box::new(load(flat.clone() + Idx::Const(first - p))),
                    Box::new(rest),
                )
            }),
    };
    im.add(cx, Op::Elementwise(value), vec![x], out)
}
