//! Parameterised operator builders: each returns the naive [`Program`] for one shape.
//!
//! Conventions shared by every builder:
//! - row-major tensors; weights are laid out `[K, N]` (reduction dimension first) so that the
//!   innermost output dimension is the contiguous dimension of every input that has it;
//! - inputs first, then temps and outputs, in the order the kernel computes them;
//! - stage names are short and meaningful (`matmul`, `pad`, `conv`, `rowmax`, ...) and
//!   iteration variables are single letters, because both appear in LLM prompts and traces;
//! - program names are C identifiers (they become kernel names).
//!
//! Builders panic on shapes that make no sense (zero extents, a kernel larger than the padded
//! input); the named workloads in [`crate::workloads`] only use valid ones.

use colt_ir::IterKind::{Reduce as R, Spatial as S};
use colt_ir::{BinOp, Bound, BufId, BufKind, Idx, Program, Reducer, UnOp, Value};

fn ld(b: BufId, idx: &[&Idx]) -> Value {
    Value::load(b, idx.iter().map(|&i| i.clone()).collect())
}
fn mul(a: Value, b: Value) -> Value {
    Value::bin(BinOp::Mul, a, b)
}
fn add(a: Value, b: Value) -> Value {
    Value::bin(BinOp::Add, a, b)
}
fn sub(a: Value, b: Value) -> Value {
    Value::bin(BinOp::Sub, a, b)
}
fn div(a: Value, b: Value) -> Value {
    Value::bin(BinOp::Div, a, b)
}
/// The body of a sum-of-products stage: `out += a * b`.
fn dot(out: BufId, a: Value, b: Value) -> (BufId, Option<Reducer>, Value) {
    (out, Some(Reducer::Sum), mul(a, b))
}
fn c(i: i64) -> Idx {
    Idx::Const(i)
}

fn positive(what: &str, dims: &[i64]) {
    assert!(
        dims.iter().all(|&d| d > 0),
        "{what}: every extent must be positive, got {dims:?}"
    );
}

/// `C[i, j] += A[i, k] * B[k, j]` with `A: [m, k]`, `B: [k, n]`, `C: [m, n]`.
pub fn matmul(m: i64, n: i64, k: i64) -> Program {
    positive("matmul", &[m, n, k]);
    let mut p = Program::new("matmul");
    let a = p.add_buffer("A", vec![m, k], BufKind::Input);
    let b = p.add_buffer("B", vec![k, n], BufKind::Input);
    let out = p.add_buffer("C", vec![m, n], BufKind::Output);
    p.add_stage("matmul", &[("i", m, S), ("j", n, S), ("k", k, R)], |v| {
        let (i, j, k) = (&v[0], &v[1], &v[2]);
        dot(out, ld(a, &[i, k]), ld(b, &[k, j]))
    });
    p
}

/// `C[b, i, j] += A[b, i, k] * B[b, k, j]`: `batch` independent matmuls.
pub fn batch_matmul(batch: i64, m: i64, n: i64, k: i64) -> Program {
    positive("batch_matmul", &[batch, m, n, k]);
    let mut p = Program::new("batch_matmul");
    let a = p.add_buffer("A", vec![batch, m, k], BufKind::Input);
    let b = p.add_buffer("B", vec![batch, k, n], BufKind::Input);
    let out = p.add_buffer("C", vec![batch, m, n], BufKind::Output);
    p.add_stage(
        "bmm",
        &[("b", batch, S), ("i", m, S), ("j", n, S), ("k", k, R)],
        |v| {
            let (bb, i, j, k) = (&v[0], &v[1], &v[2], &v[3]);
            dot(out, ld(a, &[bb, i, k]), ld(b, &[bb, k, j]))
        },
    );
    p
}

/// Shape of a 2-D convolution (NCHW input, `[F, C, kernel, kernel]` weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dShape {
    /// Batch.
    pub n: i64,
    /// Input channels.
    pub c: i64,
    /// Input height.
    pub h: i64,
    /// Input width.
    pub w: i64,
    /// Output channels (filters).
    pub f: i64,
    /// Square kernel size.
    pub kernel: i64,
    /// Stride in both directions.
    pub stride: i64,
    /// Zero padding on each side.
    pub pad: i64,
}

impl Conv2dShape {
    /// Output height and width.
    pub fn out_hw(&self) -> (i64, i64) {
        (
            (self.h + 2 * self.pad - self.kernel) / self.stride + 1,
            (self.w + 2 * self.pad - self.kernel) / self.stride + 1,
        )
    }
}

/// With `pad > 0`, a `pad` stage materialising the zero-padded NCHW input
/// `P[n, c, h, w] = select(p <= h < H+p && p <= w < W+p, X[n, c, h-p, w-p], 0)` and the buffer
/// `P`; with `pad == 0`, `x` itself.
fn pad_input(p: &mut Program, x: BufId, [n, ch, h_in, w_in]: [i64; 4], pad: i64) -> BufId {
    if pad == 0 {
        return x;
    }
    let (hp, wp) = (h_in + 2 * pad, w_in + 2 * pad);
    let padded = p.add_buffer("P", vec![n, ch, hp, wp], BufKind::Temp);
    p.add_stage(
        "pad",
        &[("n", n, S), ("c", ch, S), ("h", hp, S), ("w", wp, S)],
        |v| {
            let (n, ch, h, w) = (&v[0], &v[1], &v[2], &v[3]);
            let guard = vec![
                Bound {
                    idx: h.clone(),
                    lo: pad,
                    hi: h_in + pad,
                },
                Bound {
                    idx: w.clone(),
                    lo: pad,
                    hi: w_in + pad,
                },
            ];
            let inner = ld(x, &[n, ch, &(h.clone() + c(-pad)), &(w.clone() + c(-pad))]);
            (
                padded,
                None,
                Value::Select(guard, Box::new(inner), Box::new(Value::Const(0.0))),
            )
        },
    );
    padded
}

/// Input row and column read by output `(y, x)` at window offset `(r, q)`: `y*stride + r`.
fn window(yy: &Idx, xx: &Idx, r: &Idx, q: &Idx, stride: i64) -> (Idx, Idx) {
    if stride == 1 {
        (yy.clone() + r.clone(), xx.clone() + q.clone())
    } else {
        (
            yy.clone() * stride + r.clone(),
            xx.clone() * stride + q.clone(),
        )
    }
}

/// 2-D convolution, NCHW. With `pad > 0` a `pad` stage first materialises the zero-padded
/// input `P[n, c, h, w] = select(p <= h < H+p && p <= w < W+p, X[n, c, h-p, w-p], 0)`; then
/// `conv` computes `Y[n, f, y, x] += P[n, c, y*s + r, x*s + q] * W[f, c, r, q]`.
pub fn conv2d(s: Conv2dShape) -> Program {
    positive("conv2d", &[s.n, s.c, s.h, s.w, s.f, s.kernel, s.stride]);
    assert!(s.pad >= 0, "conv2d: padding must not be negative");
    let (hp, wp) = (s.h + 2 * s.pad, s.w + 2 * s.pad);
    assert!(
        s.kernel <= hp && s.kernel <= wp,
        "conv2d: kernel larger than the padded input"
    );
    let (ho, wo) = s.out_hw();
    let mut p = Program::new("conv2d");
    let x = p.add_buffer("X", vec![s.n, s.c, s.h, s.w], BufKind::Input);
    let wt = p.add_buffer("W", vec![s.f, s.c, s.kernel, s.kernel], BufKind::Input);
    let src = pad_input(&mut p, x, [s.n, s.c, s.h, s.w], s.pad);
    let y = p.add_buffer("Y", vec![s.n, s.f, ho, wo], BufKind::Output);
    let stride = s.stride;
    let iters = [
        ("n", s.n, S),
        ("f", s.f, S),
        ("y", ho, S),
        ("x", wo, S),
        ("c", s.c, R),
        ("r", s.kernel, R),
        ("q", s.kernel, R),
    ];
    p.add_stage("conv", &iters, |v| {
        let (n, f, yy, xx, ch, r, q) = (&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
        let (row, col) = window(yy, xx, r, q, stride);
        dot(y, ld(src, &[n, ch, &row, &col]), ld(wt, &[f, ch, r, q]))
    });
    p
}

/// Depthwise 2-D convolution, NCHW, one filter per channel (groups = channels, channel
/// multiplier 1): the shape's `f` must equal `c`. With `pad > 0` the same `pad` stage as
/// [`conv2d`]; then `conv` computes `Y[n, c, y, x] += P[n, c, y*s + r, x*s + q] * W[c, r, q]`
/// with `W: [c, kernel, kernel]`.
pub fn depthwise_conv2d(s: Conv2dShape) -> Program {
    positive(
        "depthwise_conv2d",
        &[s.n, s.c, s.h, s.w, s.kernel, s.stride],
    );
    assert_eq!(
        s.f, s.c,
        "depthwise_conv2d: output channels must equal input channels"
    );
    assert!(s.pad >= 0, "depthwise_conv2d: padding must not be negative");
    assert!(
        s.kernel <= s.h + 2 * s.pad && s.kernel <= s.w + 2 * s.pad,
        "depthwise_conv2d: kernel larger than the padded input"
    );
    let (ho, wo) = s.out_hw();
    let mut p = Program::new("depthwise_conv2d");
    let x = p.add_buffer("X", vec![s.n, s.c, s.h, s.w], BufKind::Input);
    let wt = p.add_buffer("W", vec![s.c, s.kernel, s.kernel], BufKind::Input);
    let src = pad_input(&mut p, x, [s.n, s.c, s.h, s.w], s.pad);
    let y = p.add_buffer("Y", vec![s.n, s.c, ho, wo], BufKind::Output);
    let stride = s.stride;
    let iters = [
        ("n", s.n, S),
        ("c", s.c, S),
        ("y", ho, S),
        ("x", wo, S),
        ("r", s.kernel, R),
        ("q", s.kernel, R),
    ];
    p.add_stage("conv", &iters, |v| {
        let (n, ch, yy, xx, r, q) = (&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
        let (row, col) = window(yy, xx, r, q, stride);
        dot(y, ld(src, &[n, ch, &row, &col]), ld(wt, &[ch, r, q]))
    });
    p
}

/// Dense layer with a bias-and-activation epilogue: `Z[i, j] += X[i, k] * W[k, j]` then
/// `Y[i, j] = act(Z[i, j] + b[j])` (`act = None`: bias only). `X: [m, k]`, `W: [k, n]`.
pub fn dense(m: i64, n: i64, k: i64, act: Option<UnOp>) -> Program {
    positive("dense", &[m, n, k]);
    let name = match act {
        Some(op) => format!("dense_bias_{}", op.name()),
        None => "dense_bias".to_string(),
    };
    let mut p = Program::new(name);
    let x = p.add_buffer("X", vec![m, k], BufKind::Input);
    let w = p.add_buffer("W", vec![k, n], BufKind::Input);
    let bias = p.add_buffer("b", vec![n], BufKind::Input);
    let z = p.add_buffer("Z", vec![m, n], BufKind::Temp);
    let y = p.add_buffer("Y", vec![m, n], BufKind::Output);
    p.add_stage("matmul", &[("i", m, S), ("j", n, S), ("k", k, R)], |v| {
        let (i, j, k) = (&v[0], &v[1], &v[2]);
        dot(z, ld(x, &[i, k]), ld(w, &[k, j]))
    });
    let epi = match act {
        Some(op) => format!("bias_{}", op.name()),
        None => "bias".to_string(),
    };
    p.add_stage(epi, &[("i", m, S), ("j", n, S)], |v| {
        let (i, j) = (&v[0], &v[1]);
        let pre = add(ld(z, &[i, j]), ld(bias, &[j]));
        (
            y,
            None,
            match act {
                Some(op) => Value::un(op, pre),
                None => pre,
            },
        )
    });
    p
}

/// Row softmax of `X: [rows, cols]` in four stages: `max` (row maximum), `exp`
/// (`exp(x - max)`), `sum` (row sum) and `norm` (divide by the sum).
pub fn softmax(rows: i64, cols: i64) -> Program {
    positive("softmax", &[rows, cols]);
    let mut p = Program::new("softmax");
    let x = p.add_buffer("X", vec![rows, cols], BufKind::Input);
    let mx = p.add_buffer("M", vec![rows], BufKind::Temp);
    let e = p.add_buffer("E", vec![rows, cols], BufKind::Temp);
    let sm = p.add_buffer("S", vec![rows], BufKind::Temp);
    let y = p.add_buffer("Y", vec![rows, cols], BufKind::Output);
    let row_col = [("i", rows, S), ("j", cols, R)];
    let both = [("i", rows, S), ("j", cols, S)];
    p.add_stage("max", &row_col, |v| {
        (mx, Some(Reducer::Max), ld(x, &[&v[0], &v[1]]))
    });
    p.add_stage("exp", &both, |v| {
        (
            e,
            None,
            Value::un(UnOp::Exp, sub(ld(x, &[&v[0], &v[1]]), ld(mx, &[&v[0]]))),
        )
    });
    p.add_stage("sum", &row_col, |v| {
        (sm, Some(Reducer::Sum), ld(e, &[&v[0], &v[1]]))
    });
    p.add_stage("norm", &both, |v| {
        (y, None, div(ld(e, &[&v[0], &v[1]]), ld(sm, &[&v[0]])))
    });
    p
}

/// RMSNorm of `X: [rows, cols]` with gain `g: [cols]`,
/// `Y[i, j] = X[i, j] / sqrt(mean_j(X[i, j]^2) + eps) * g[j]`, in three stages: `sumsq`
/// (row sum of squares), `rstd` (`1 / sqrt(S[i] / cols + eps)`, once per row) and `norm`
/// (`X[i, j] * R[i] * g[j]`).
pub fn rmsnorm(rows: i64, cols: i64, eps: f32) -> Program {
    positive("rmsnorm", &[rows, cols]);
    assert!(eps > 0.0, "rmsnorm: eps must be positive");
    let inv_cols = (1.0 / cols as f64) as f32;
    let mut p = Program::new("rmsnorm");
    let x = p.add_buffer("X", vec![rows, cols], BufKind::Input);
    let g = p.add_buffer("g", vec![cols], BufKind::Input);
    let sq = p.add_buffer("S", vec![rows], BufKind::Temp);
    let rs = p.add_buffer("R", vec![rows], BufKind::Temp);
    let y = p.add_buffer("Y", vec![rows, cols], BufKind::Output);
    p.add_stage("sumsq", &[("i", rows, S), ("j", cols, R)], |v| {
        let xv = ld(x, &[&v[0], &v[1]]);
        dot(sq, xv.clone(), xv)
    });
    p.add_stage("rstd", &[("i", rows, S)], |v| {
        let ms = add(
            mul(ld(sq, &[&v[0]]), Value::Const(inv_cols)),
            Value::Const(eps),
        );
        (rs, None, div(Value::Const(1.0), Value::un(UnOp::Sqrt, ms)))
    });
    p.add_stage("norm", &[("i", rows, S), ("j", cols, S)], |v| {
        let (i, j) = (&v[0], &v[1]);
        (y, None, mul(mul(ld(x, &[i, j]), ld(rs, &[i])), ld(g, &[j])))
    });
    p
}

/// Matrix-vector product `y[i] += W[i, k] * x[k]` with `W: [m, k]`, `x: [k]`, `y: [m]`.
/// Unlike the other builders the weight is `[out, in]` (the `nn.Linear` layout a decode step
/// reads), so the reduction runs along the contiguous dimension of `W`.
pub fn gemv(m: i64, k: i64) -> Program {
    positive("gemv", &[m, k]);
    let mut p = Program::new("gemv");
    let w = p.add_buffer("W", vec![m, k], BufKind::Input);
    let x = p.add_buffer("x", vec![k], BufKind::Input);
    let y = p.add_buffer("y", vec![m], BufKind::Output);
    p.add_stage("gemv", &[("i", m, S), ("k", k, R)], |v| {
        let (i, kk) = (&v[0], &v[1]);
        dot(y, ld(w, &[i, kk]), ld(x, &[kk]))
    });
    p
}

/// Multi-head attention without a mask, per head `O = softmax(Q Kᵀ / sqrt(d)) V`, with
/// `Q, K, V, O: [heads, seq, head_dim]`. Stages: `qk` scores, `rowmax`, `exp` (scaled and
/// shifted), `rowsum`, `pv` (unnormalised output) and `norm`.
pub fn attention(heads: i64, seq: i64, head_dim: i64) -> Program {
    positive("attention", &[heads, seq, head_dim]);
    let scale = (1.0 / (head_dim as f64).sqrt()) as f32;
    let mut p = Program::new("attention");
    let q = p.add_buffer("Q", vec![heads, seq, head_dim], BufKind::Input);
    let k = p.add_buffer("K", vec![heads, seq, head_dim], BufKind::Input);
    let v = p.add_buffer("V", vec![heads, seq, head_dim], BufKind::Input);
    let s = p.add_buffer("S", vec![heads, seq, seq], BufKind::Temp);
    let m = p.add_buffer("M", vec![heads, seq], BufKind::Temp);
    let e = p.add_buffer("E", vec![heads, seq, seq], BufKind::Temp);
    let z = p.add_buffer("Z", vec![heads, seq], BufKind::Temp);
    let ou = p.add_buffer("Ou", vec![heads, seq, head_dim], BufKind::Temp);
    let o = p.add_buffer("O", vec![heads, seq, head_dim], BufKind::Output);
    p.add_stage(
        "qk",
        &[
            ("h", heads, S),
            ("i", seq, S),
            ("j", seq, S),
            ("d", head_dim, R),
        ],
        |x| {
            let (h, i, j, d) = (&x[0], &x[1], &x[2], &x[3]);
            dot(s, ld(q, &[h, i, d]), ld(k, &[h, j, d]))
        },
    );
    p.add_stage(
        "rowmax",
        &[("h", heads, S), ("i", seq, S), ("j", seq, R)],
        |x| (m, Some(Reducer::Max), ld(s, &[&x[0], &x[1], &x[2]])),
    );
    p.add_stage(
        "exp",
        &[("h", heads, S), ("i", seq, S), ("j", seq, S)],
        |x| {
            let (h, i, j) = (&x[0], &x[1], &x[2]);
            let shifted = sub(ld(s, &[h, i, j]), ld(m, &[h, i]));
            (
                e,
                None,
                Value::un(UnOp::Exp, mul(shifted, Value::Const(scale))),
            )
        },
    );
    p.add_stage(
        "rowsum",
        &[("h", heads, S), ("i", seq, S), ("j", seq, R)],
        |x| (z, Some(Reducer::Sum), ld(e, &[&x[0], &x[1], &x[2]])),
    );
    p.add_stage(
        "pv",
        &[
            ("h", heads, S),
            ("i", seq, S),
            ("d", head_dim, S),
            ("j", seq, R),
        ],
        |x| {
            let (h, i, d, j) = (&x[0], &x[1], &x[2], &x[3]);
            dot(ou, ld(e, &[h, i, j]), ld(v, &[h, j, d]))
        },
    );
    p.add_stage(
        "norm",
        &[("h", heads, S), ("i", seq, S), ("d", head_dim, S)],
        |x| {
            let (h, i, d) = (&x[0], &x[1], &x[2]);
            (o, None, div(ld(ou, &[h, i, d]), ld(z, &[h, i])))
        },
    );
    p
}

/// SwiGLU feed-forward block: `G = X·Wg`, `U = X·Wu`, `A = silu(G) * U`, `Y = A·Wd`, with
/// `X: [tokens, hidden]`, `Wg, Wu: [hidden, inter]`, `Wd: [inter, hidden]`.
pub fn swiglu_mlp(tokens: i64, hidden: i64, inter: i64) -> Program {
    positive("swiglu_mlp", &[tokens, hidden, inter]);
    let mut p = Program::new("swiglu_mlp");
    let x = p.add_buffer("X", vec![tokens, hidden], BufKind::Input);
    let wg = p.add_buffer("Wg", vec![hidden, inter], BufKind::Input);
    let wu = p.add_buffer("Wu", vec![hidden, inter], BufKind::Input);
    let wd = p.add_buffer("Wd", vec![inter, hidden], BufKind::Input);
    let g = p.add_buffer("G", vec![tokens, inter], BufKind::Temp);
    let u = p.add_buffer("U", vec![tokens, inter], BufKind::Temp);
    let a = p.add_buffer("A", vec![tokens, inter], BufKind::Temp);
    let y = p.add_buffer("Y", vec![tokens, hidden], BufKind::Output);
    let proj = [("t", tokens, S), ("f", inter, S), ("h", hidden, R)];
    p.add_stage("gate", &proj, |v| {
        dot(g, ld(x, &[&v[0], &v[2]]), ld(wg, &[&v[2], &v[1]]))
    });
    p.add_stage("up", &proj, |v| {
        dot(u, ld(x, &[&v[0], &v[2]]), ld(wu, &[&v[2], &v[1]]))
    });
    p.add_stage("act", &[("t", tokens, S), ("f", inter, S)], |v| {
        (
            a,
            None,
            mul(
                Value::un(UnOp::Silu, ld(g, &[&v[0], &v[1]])),
                ld(u, &[&v[0], &v[1]]),
            ),
        )
    });
    p.add_stage(
        "down",
        &[("t", tokens, S), ("h", hidden, S), ("f", inter, R)],
        |v| dot(y, ld(a, &[&v[0], &v[2]]), ld(wd, &[&v[2], &v[1]])),
    );
    p
}

/// Routed-expert MoE block as a grouped GEMM: a SwiGLU MLP per expert over the tokens already
/// gathered for that expert, then each output row scaled by its routing weight.
/// `Xg: [experts, tokens, hidden]`, `Wg, Wu: [experts, hidden, inter]`,
/// `Wd: [experts, inter, hidden]`, `R: [experts, tokens]`, output `O: [experts, tokens, hidden]`.
/// The gather of tokens to experts and the scatter-add back are permutations outside the
/// kernel, as in grouped-GEMM MoE kernels.
pub fn moe_experts(experts: i64, tokens: i64, hidden: i64, inter: i64) -> Program {
    positive("moe_experts", &[experts, tokens, hidden, inter]);
    let mut p = Program::new("moe_experts");
    let x = p.add_buffer("Xg", vec![experts, tokens, hidden], BufKind::Input);
    let wg = p.add_buffer("Wg", vec![experts, hidden, inter], BufKind::Input);
    let wu = p.add_buffer("Wu", vec![experts, hidden, inter], BufKind::Input);
    let wd = p.add_buffer("Wd", vec![experts, inter, hidden], BufKind::Input);
    let r = p.add_buffer("R", vec![experts, tokens], BufKind::Input);
    let g = p.add_buffer("G", vec![experts, tokens, inter], BufKind::Temp);
    let u = p.add_buffer("U", vec![experts, tokens, inter], BufKind::Temp);
    let a = p.add_buffer("A", vec![experts, tokens, inter], BufKind::Temp);
    let y = p.add_buffer("Y", vec![experts, tokens, hidden], BufKind::Temp);
    let o = p.add_buffer("O", vec![experts, tokens, hidden], BufKind::Output);
    let proj = [
        ("e", experts, S),
        ("t", tokens, S),
        ("f", inter, S),
        ("h", hidden, R),
    ];
    p.add_stage("gate", &proj, |v| {
        let (e, t, f, h) = (&v[0], &v[1], &v[2], &v[3]);
        dot(g, ld(x, &[e, t, h]), ld(wg, &[e, h, f]))
    });
    p.add_stage("up", &proj, |v| {
        let (e, t, f, h) = (&v[0], &v[1], &v[2], &v[3]);
        dot(u, ld(x, &[e, t, h]), ld(wu, &[e, h, f]))
    });
    p.add_stage(
        "act",
        &[("e", experts, S), ("t", tokens, S), ("f", inter, S)],
        |v| {
            let (e, t, f) = (&v[0], &v[1], &v[2]);
            (
                a,
                None,
                mul(Value::un(UnOp::Silu, ld(g, &[e, t, f])), ld(u, &[e, t, f])),
            )
        },
    );
    p.add_stage(
        "down",
        &[
            ("e", experts, S),
            ("t", tokens, S),
            ("h", hidden, S),
            ("f", inter, R),
        ],
        |v| {
            let (e, t, h, f) = (&v[0], &v[1], &v[2], &v[3]);
            dot(y, ld(a, &[e, t, f]), ld(wd, &[e, f, h]))
        },
    );
    p.add_stage(
        "route",
        &[("e", experts, S), ("t", tokens, S), ("h", hidden, S)],
        |v| {
            let (e, t, h) = (&v[0], &v[1], &v[2]);
            (o, None, mul(ld(y, &[e, t, h]), ld(r, &[e, t])))
        },
    );
    p
}
