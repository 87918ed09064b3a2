//! 2-D convolution and pooling, NCHW. Padding is a `pad` stage materialising the padded
//! input (as `colt_ops::conv2d` does), so the window stage reads without guards.

use colt_ir::IterKind::{Reduce as R, Spatial as S};
use colt_ir::{BinOp, Bound, BufId, BufKind, Idx, IterKind, Program, Reducer, Value};

/// Window geometry shared by convolution and pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Kernel height and width.
    pub kernel: [i64; 2],
    /// Strides (height, width).
    pub strides: [i64; 2],
    /// Padding: top, left, bottom, right.
    pub pads: [i64; 4],
    /// Dilations (height, width).
    pub dilations: [i64; 2],
}

impl Window {
    /// Output height and width for an input of `h` × `w`, or why there is none.
    pub fn out_hw(&self, h: i64, w: i64) -> Result<[i64; 2], String> {
        let mut out = [0; 2];
        for (d, extent) in [h, w].into_iter().enumerate() {
            let span = (self.kernel[d] - 1) * self.dilations[d] + 1;
            let padded = extent + self.pads[d] + self.pads[d + 2];
            if span > padded || self.strides[d] < 1 {
                return Err(format!(
                    "window {:?} (dilations {:?}, strides {:?}) does not fit the padded input {h}×{w}",
                    self.kernel, self.dilations, self.strides
                ));
            }
            out[d] = (padded - span) / self.strides[d] + 1;
        }
        Ok(out)
    }

    /// Input row (`d = 0`) or column (`d = 1`) of the padded input read by output position
    /// `o` at window offset `r`.
    fn at(&self, d: usize, o: &Idx, r: &Idx) -> Idx {
        let scaled = |e: &Idx, c: i64| if c == 1 { e.clone() } else { e.clone() * c };
        scaled(o, self.strides[d]) + scaled(r, self.dilations[d])
    }
}

/// Convolution `Y[n, f, y, x] += P[n, g*C/G + c, y*s + r*d, x*s + q*d] * W[f, c, r, q]`
/// with `g = f / (F/G)`; `P` is the padded input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    /// Number of groups (the input channels for depthwise).
    pub group: i64,
    /// The window (its kernel is the weight's spatial shape).
    pub window: Window,
}

impl Conv {
    pub(crate) fn emit(&self, p: &mut Program, ins: &[BufId], out: BufId) {
        let (x, w) = (ins[0], ins[1]);
        let ws = p.buffer(w).shape.clone();
        let os = p.buffer(out).shape.clone();
        let src = pad(p, x, self.window.pads, 0.0);
        let (per_group_in, per_group_out) = (ws[1], os[1] / self.group);
        let win = self.window;
        let dims = [
            (os[0], S),
            (os[1], S),
            (os[2], S),
            (os[3], S),
            (ws[1], R),
            (ws[2], R),
            (ws[3], R),
        ];
        super::stage(p, "conv", &dims, |v| {
            let (n, f, c, r, q) = (&v[0], &v[1], &v[4], &v[5], &v[6]);
            let ch = match (self.group, per_group_in) {
                (1, _) => c.clone(),
                (_, 1) if per_group_out == 1 => f.clone(),
                (_, 1) => f.clone().div(per_group_out),
                _ => f.clone().div(per_group_out) * per_group_in + c.clone(),
            };
            let xin = Value::load(
                src,
                vec![n.clone(), ch, win.at(0, &v[2], r), win.at(1, &v[3], q)],
            );
            let wv = Value::load(w, vec![f.clone(), c.clone(), r.clone(), q.clone()]);
            (out, Some(Reducer::Sum), Value::bin(BinOp::Mul, xin, wv))
        });
    }
}

/// The pooling reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The window's maximum (padding never wins).
    Max,
    /// The window's mean.
    Avg {
        /// Divide by the whole window, padding included (else by its valid part).
        count_include_pad: bool,
    },
}

/// Max or average pooling over a window of each channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    /// Max or average.
    pub kind: PoolKind,
    /// The window.
    pub window: Window,
}

impl Pool {
    pub(crate) fn emit(&self, p: &mut Program, ins: &[BufId], out: BufId) {
        let win = self.window;
        let os = p.buffer(out).shape.clone();
        let (fill, reducer, name) = match self.kind {
            PoolKind::Max => (f32::NEG_INFINITY, Reducer::Max, "maxpool"),
            PoolKind::Avg { .. } => (0.0, Reducer::Sum, "avgpool"),
        };
        let src = pad(p, ins[0], win.pads, fill);
        let scale = match self.kind {
            PoolKind::Avg { count_include_pad } if !count_include_pad && win.pads != [0; 4] => None,
            PoolKind::Avg { .. } => Some(1.0 / (win.kernel[0] * win.kernel[1]) as f32),
            PoolKind::Max => Some(1.0),
        };
        let sum = match scale {
            Some(_) => out,
            None => p.add_buffer("S", os.clone(), BufKind::Temp),
        };
        let mut dims = super::spatial(&os);
        dims.extend([(win.kernel[0], R), (win.kernel[1], R)]);
        super::stage(p, name, &dims, |v| {
            let (y, x) = (win.at(0, &v[2], &v[4]), win.at(1, &v[3], &v[5]));
            let load = Value::load(src, vec![v[0].clone(), v[1].clone(), y, x]);
            let value = match scale {
                Some(s) if s != 1.0 => Value::bin(BinOp::Mul, load, Value::Const(s)),
                _ => load,
            };
            (sum, Some(reducer), value)
        });
        if scale.is_none() {
            let ishape = p.buffer(ins[0]).shape.clone();
            average_valid(p, sum, out, win, [ishape[2], ishape[3]]);
        }
    }
}

/// `out = sum / count` where `count[y, x]` is the number of window positions inside the
/// unpadded `hw` input (AveragePool with `count_include_pad = 0`).
fn average_valid(p: &mut Program, sum: BufId, out: BufId, win: Window, hw: [i64; 2]) {
    let os = p.buffer(out).shape.clone();
    let count = p.add_buffer("N", vec![os[2], os[3]], BufKind::Temp);
    let dims: Vec<(i64, IterKind)> = vec![
        (os[2], S),
        (os[3], S),
        (win.kernel[0], R),
        (win.kernel[1], R),
    ];
    super::stage(p, "count", &dims, |v| {
        let guard = (0..2)
            .map(|d| Bound {
                idx: win.at(d, &v[d], &v[d + 2]) + Idx::Const(-win.pads[d]),
                lo: 0,
                hi: hw[d],
            })
            .collect();
        let one = Value::Select(
            guard,
            Box::new(Value::Const(1.0)),
            Box::new(Value::Const(0.0)),
        );
        (count, Some(Reducer::Sum), one)
    });
    super::stage(p, "mean", &super::spatial(&os), |v| {
        let s = Value::load(sum, v.to_vec());
        let c = Value::load(count, vec![v[2].clone(), v[3].clone()]);
        (out, None, Value::bin(BinOp::Div, s, c))
    });
}

/// With any padding, a `pad` stage writing `x` padded with `fill` into a new temporary
/// (`P[n, c, h, w] = select(inside, X[n, c, h - top, w - left], fill)`); else `x`.
fn pad(p: &mut Program, x: BufId, pads: [i64; 4], fill: f32) -> BufId {
    if pads == [0; 4] {
        return x;
    }
    let s = p.buffer(x).shape.clone();
    let padded = vec![
        s[0],
        s[1],
        s[2] + pads[0] + pads[2],
        s[3] + pads[1] + pads[3],
    ];
    let buf = p.add_buffer("P", padded.clone(), BufKind::Temp);
    super::stage(p, "pad", &super::spatial(&padded), |v| {
        let bound = |d: usize| Bound {
            idx: v[d + 2].clone(),
            lo: pads[d],
            hi: s[d + 2] + pads[d],
        };
        let inner = Value::load(
            x,
            vec![
                v[0].clone(),
                v[1].clone(),
                v[2].clone() + Idx::Const(-pads[0]),
                v[3].clone() + Idx::Const(-pads[1]),
            ],
        );
        let guarded = Value::Select(
            vec![bound(0), bound(1)],
            Box::new(inner),
            Box::new(Value::Const(fill)),
        );
        (buf, None, guarded)
    });
    buf
}
