//! Reductions over axes, softmax and layer normalization.

use super::{load_at, load_prefix, reduction_domain, spatial, stage, without};
use colt_ir::{BinOp, BufId, BufKind, IterKind, Program, Reducer, UnOp, Value};

/// A reduction of some axes: `out[kept] reduce= X[..]` (times `1/n` for a mean).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduce {
    /// Sum (mean too), max or min.
    pub reducer: Reducer,
    /// Divide the sum by the number of reduced elements.
    pub mean: bool,
    /// The reduced axes, ascending.
    pub axes: Vec<usize>,
    /// Keep each reduced axis as a dimension of extent 1.
    pub keepdims: bool,
}

impl Reduce {
    /// The output shape for an input of shape `x`.
    pub fn out_shape(&self, x: &[i64]) -> Vec<i64> {
        if self.keepdims {
            let mut s = x.to_vec();
            for &a in &self.axes {
                s[a] = 1;
            }
            return s;
        }
        without(x, &self.axes)
    }

    pub(crate) fn emit(&self, p: &mut Program, x: BufId, out: BufId) {
        let xs = p.buffer(x).shape.clone();
        let os = p.buffer(out).shape.clone();
        let n: i64 = self.axes.iter().map(|&a| xs[a]).product();
        let (dims, pos) = match self.keepdims {
            true => keep_domain(&xs, &os, &self.axes),
            false => reduction_domain(&xs, &self.axes),
        };
        let (reducer, mean) = (self.reducer, self.mean);
        stage(p, "reduce", &dims, |v| {
            let load = load_at(x, v, &pos);
            let value = match mean {
                true => Value::bin(BinOp::Mul, load, Value::Const((1.0 / n as f64) as f32)),
                false => load,
            };
            (out, Some(reducer), value)
        });
    }
}

/// The domain of a reduction that keeps its axes: the output's dimensions (spatial, extent 1
/// at the reduced axes), then the reduced ones; per input dimension its variable.
fn keep_domain(xs: &[i64], os: &[i64], axes: &[usize]) -> (Vec<(i64, IterKind)>, Vec<usize>) {
    let mut dims = spatial(os);
    dims.extend(axes.iter().map(|&a| (xs[a], IterKind::Reduce)));
    let pos = (0..xs.len())
        .map(|d| match axes.iter().position(|&a| a == d) {
            Some(k) => os.len() + k,
            None => d,
        })
        .collect();
    (dims, pos)
}

/// Softmax (or log-softmax) along `axis`, in four stages: `max`, `exp` (of `x - max`),
/// `sum`, `norm` (divide by the sum; log-softmax: `x - max - log(sum)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// The normalised axis.
    pub axis: usize,
    /// LogSoftmax.
    pub log: bool,
}

impl Softmax {
    pub(crate) fn emit(&self, p: &mut Program, x: BufId, out: BufId) {
        let xs = p.buffer(x).shape.clone();
        let axes = [self.axis];
        let row = without(&xs, &axes);
        let (dims, pos) = reduction_domain(&xs, &axes);
        // the row index of element `v` of the full shape: every dimension but the axis
        let rpos: Vec<usize> = (0..xs.len()).filter(|&d| d != self.axis).collect();
        let at_row = |b: BufId, v: &[colt_ir::Idx]| match rpos.is_empty() {
            true => load_prefix(b, v, 0),
            false => load_at(b, v, &rpos),
        };
        let mx = p.add_buffer("M", row.clone(), BufKind::Temp);
        let e = p.add_buffer("E", xs.clone(), BufKind::Temp);
        let sm = p.add_buffer("Z", row, BufKind::Temp);
        let all = spatial(&xs);
        let full = |v: &[colt_ir::Idx]| Value::load(x, v.to_vec());
        stage(p, "rowmax", &dims, |v| {
            (mx, Some(Reducer::Max), load_at(x, v, &pos))
        });
        let shifted = |v: &[colt_ir::Idx]| Value::bin(BinOp::Sub, full(v), at_row(mx, v));
        stage(p, "exp", &all, |v| {
            (e, None, Value::un(UnOp::Exp, shifted(v)))
        });
        stage(p, "rowsum", &dims, |v| {
            (sm, Some(Reducer::Sum), load_at(e, v, &pos))
        });
        let log = self.log;
        stage(p, "norm", &all, |v| {
            let value = match log {
                false => Value::bin(BinOp::Div, Value::load(e, v.to_vec()), at_row(sm, v)),
                true => Value::bin(BinOp::Sub, shifted(v), Value::un(UnOp::Log, at_row(sm, v))),
            };
            (out, None, value)
        });
    }
}

/// Layer normalization's core over axes `axis..`: `mean`, `var` (two-pass), `rstd`
/// (`1 / sqrt(var + eps)`, once per row) and `norm` (`(x - mean) * rstd`). Scale and bias
/// are the elementwise node that follows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm {
    /// The first normalised axis.
    pub axis: usize,
    /// Added to the variance.
    pub eps: f32,
}

impl LayerNorm {
    pub(crate) fn emit(&self, p: &mut Program, x: BufId, out: BufId) {
        let xs = p.buffer(x).shape.clone();
        let axes: Vec<usize> = (self.axis..xs.len()).collect();
        let n: i64 = axes.iter().map(|&a| xs[a]).product();
        let inv = Value::Const((1.0 / n as f64) as f32);
        let row = without(&xs, &axes);
        let (dims, pos) = reduction_domain(&xs, &axes);
        let mean = p.add_buffer("Mu", row.clone(), BufKind::Temp);
        let var = p.add_buffer("Var", row.clone(), BufKind::Temp);
        let rstd = p.add_buffer("R", row.clone(), BufKind::Temp);
        let k = self.axis;
        let centered = |v: &[colt_ir::Idx], at: &[usize]| {
            Value::bin(BinOp::Sub, load_at(x, v, at), load_prefix(mean, v, k))
        };
        stage(p, "mean", &dims, |v| {
            (
                mean,
                Some(Reducer::Sum),
                Value::bin(BinOp::Mul, load_at(x, v, &pos), inv.clone()),
            )
        });
        stage(p, "var", &dims, |v| {
            let d = centered(v, &pos);
            let sq = Value::bin(BinOp::Mul, d.clone(), d);
            (
                var,
                Some(Reducer::Sum),
                Value::bin(BinOp::Mul, sq, inv.clone()),
            )
        });
        let eps = self.eps;
        stage(p, "rstd", &spatial(&row), |v| {
            let s = Value::un(
                UnOp::Sqrt,
                Value::bin(BinOp::Add, Value::load(var, v.to_vec()), Value::Const(eps)),
            );
            (rstd, None, Value::bin(BinOp::Div, Value::Const(1.0), s))
        });
        let ident: Vec<usize> = (0..xs.len()).collect();
        stage(p, "norm", &spatial(&xs), |v| {
            (
                out,
                None,
                Value::bin(BinOp::Mul, centered(v, &ident), load_prefix(rstd, v, k)),
            )
        });
    }
}
