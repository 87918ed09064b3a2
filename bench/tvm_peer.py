#!/usr/bin/env python3
"""The benchmark peers of `colt bench`: TVM MetaSchedule and numpy (OpenBLAS).

`colt bench` runs this script with the Python of the TVM virtualenv (scripts/setup-tvm) to
tune the same computation colt tunes, written here in TVMScript stage for stage after
crates/colt-ops/src/builders.rs, with the same trial budget, then to time the best kernel
with TVM's `time_evaluator` and check it against numpy. It also times a numpy
implementation of the layer (np.matmul, i.e. the bundled OpenBLAS, for every GEMM) as the
practical limit of a library call.

Input: one JSON object as argv[1], or on stdin when there is no argument:
    {"workload": "matmul", "shapes": {"M": 256, "N": 256, "K": 256},
     "trials": 64, "seed": 1,
     "tvm": true, "numpy": true,             # which peers to run (both by default)
     "num_cores": 2, "mcpu": null,           # null: all cores, the LLVM host CPU
     "trials_per_iter": 16,                  # MetaSchedule measurement batch
     "repeats": 5, "min_repeat_ms": 1.0,     # timing, as colt-measure times kernels
     "work_dir": null,                       # MetaSchedule's logs and database (kept if given)
     "inputs_dir": null,                     # read the inputs colt wrote there (manifest.json
                                             # + <i>.f32) instead of generating them
     "export": null,                         # write TVM's best kernel there (a shared library)
     "load": null}                           # no tuning: check and time the library exported
                                             # by an earlier run (a fresh process)
Output: exactly one JSON line on stdout (everything else goes to stderr):
    {"workload", "best_us", "wall_s", "correct", "trials", "valid_trials", "tuned_us",
     "max_rel_err", "target", "space", "openblas_us", "numpy_blas", "error"}
`best_us`/`wall_s`/`correct`/`trials` are null when TVM did not run; `error` says why
(one line). Exit status 0 whenever the JSON line was printed.

Timing follows colt-measure: one warm-up call, then `repeats` timed repeats that each run
the kernel back to back for at least `min_repeat_ms`; the median per-call time is reported.
Inputs are uniform in [-1, 1) from a seeded generator, or colt's own input buffers when
`inputs_dir` is given (so every contender of the final timing runs on the same data); the
reference is computed in float64.
"""

import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
import traceback

import numpy as np

# ---------------------------------------------------------------------------------------
# numpy reference implementations (float64 reference and the OpenBLAS timing)


def silu(x):
    return x / (1.0 + np.exp(-x))


def ref_matmul(A, B):
    return [A @ B]


def ref_batch_matmul(A, B):
    return [np.matmul(A, B)]


def ref_dense(act):
    def f(X, W, b):
        y = X @ W + b
        if act == "relu":
            y = np.maximum(y, 0)
        elif act == "silu":
            y = silu(y)
        return [y]

    return f


def ref_softmax(X):
    e = np.exp(X - X.max(axis=1, keepdims=True))
    return [e / e.sum(axis=1, keepdims=True)]


def ref_attention(Q, K, V):
    scale = Q.dtype.type(1.0 / math.sqrt(Q.shape[2]))
    s = np.matmul(Q, K.transpose(0, 2, 1))
    e = np.exp((s - s.max(axis=2, keepdims=True)) * scale)
    return [np.matmul(e, V) / e.sum(axis=2, keepdims=True)]


def ref_swiglu(X, Wg, Wu, Wd):
    return [(silu(X @ Wg) * (X @ Wu)) @ Wd]


def ref_moe(Xg, Wg, Wu, Wd, R):
    a = silu(np.matmul(Xg, Wg)) * np.matmul(Xg, Wu)
    return [np.matmul(a, Wd) * R[:, :, None]]


def ref_conv(shape):
    k, s, p = shape["kernel"], shape["stride"], shape["pad"]

    def f(X, W):
        xp = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p))) if p else X
        n, c, hp, wp = xp.shape
        ho, wo = (hp - k) // s + 1, (wp - k) // s + 1
        # im2col, one strided slice per kernel tap, then one GEMM with W as [f, c*k*k]
        cols = np.empty((c, k, k, n, ho, wo), dtype=X.dtype)
        for r in range(k):
            for q in range(k):
                cols[:, r, q] = xp[:, :, r : r + s * (ho - 1) + 1 : s, q : q + s * (wo - 1) + 1 : s].transpose(1, 0, 2, 3)
        y = W.reshape(W.shape[0], -1) @ cols.reshape(c * k * k, n * ho * wo)  # [f, n*ho*wo]
        return [y.reshape(-1, n, ho, wo).transpose(1, 0, 2, 3)]

    return f


# The `eps` of the rmsnorm workload: RMSNORM_EPS in crates/colt-ops/src/workloads.rs.
RMSNORM_EPS = 1e-5


def ref_depthwise(shape):
    k, s, p = shape["kernel"], shape["stride"], shape["pad"]

    def f(X, W):
        xp = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p))) if p else X
        n, c, hp, wp = xp.shape
        ho, wo = (hp - k) // s + 1, (wp - k) // s + 1
        # one strided slice per kernel tap, scaled per channel (no GEMM: one filter per channel)
        y = np.zeros((n, c, ho, wo), dtype=X.dtype)
        for r in range(k):
            for q in range(k):
                y += xp[:, :, r : r + s * (ho - 1) + 1 : s, q : q + s * (wo - 1) + 1 : s] * W[None, :, r, q, None, None]
        return [y]

    return f


def ref_rmsnorm(X, g):
    rstd = 1.0 / np.sqrt(np.mean(X * X, axis=1, keepdims=True) + X.dtype.type(RMSNORM_EPS))
    return [X * rstd * g]


def ref_gemv(W, x):
    return [W @ x]


# ---------------------------------------------------------------------------------------
# TVMScript definitions, stage for stage as crates/colt-ops/src/builders.rs


def tvm_funcs():
    """Builders of the TVMScript PrimFuncs (imported lazily: numpy-only runs need no TVM)."""
    from tvm.script import tirx as T

    def matmul(M, N, K):
        @T.prim_func(s_tir=True)
        def main(A: T.Buffer((M, K), "float32"), B: T.Buffer((K, N), "float32"), C: T.Buffer((M, N), "float32")):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            for i, j, k in T.grid(M, N, K):
                with T.sblock("matmul"):
                    vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                    with T.init():
                        C[vi, vj] = T.float32(0)
                    C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]

        return main

    def batch_matmul(Bt, M, N, K):
        @T.prim_func(s_tir=True)
        def main(
            A: T.Buffer((Bt, M, K), "float32"), B: T.Buffer((Bt, K, N), "float32"), C: T.Buffer((Bt, M, N), "float32")
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            for b, i, j, k in T.grid(Bt, M, N, K):
                with T.sblock("bmm"):
                    vb, vi, vj, vk = T.axis.remap("SSSR", [b, i, j, k])
                    with T.init():
                        C[vb, vi, vj] = T.float32(0)
                    C[vb, vi, vj] = C[vb, vi, vj] + A[vb, vi, vk] * B[vb, vk, vj]

        return main

    def dense(M, N, K, act):
        relu = act == "relu"

        @T.prim_func(s_tir=True)
        def main(
            X: T.Buffer((M, K), "float32"),
            W: T.Buffer((K, N), "float32"),
            b: T.Buffer((N,), "float32"),
            Y: T.Buffer((M, N), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            Z = T.alloc_buffer((M, N), "float32")
            for i, j, k in T.grid(M, N, K):
                with T.sblock("matmul"):
                    vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                    with T.init():
                        Z[vi, vj] = T.float32(0)
                    Z[vi, vj] = Z[vi, vj] + X[vi, vk] * W[vk, vj]
            for i, j in T.grid(M, N):
                with T.sblock("bias_act"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    Y[vi, vj] = T.Select(
                        relu,
                        T.max(Z[vi, vj] + b[vj], T.float32(0)),
                        (Z[vi, vj] + b[vj]) / (T.float32(1) + T.exp(-(Z[vi, vj] + b[vj]))),
                    )

        return main

    def softmax(R, C):
        @T.prim_func(s_tir=True)
        def main(X: T.Buffer((R, C), "float32"), Y: T.Buffer((R, C), "float32")):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            Mx = T.alloc_buffer((R,), "float32")
            E = T.alloc_buffer((R, C), "float32")
            S = T.alloc_buffer((R,), "float32")
            for i, j in T.grid(R, C):
                with T.sblock("max"):
                    vi, vj = T.axis.remap("SR", [i, j])
                    with T.init():
                        Mx[vi] = T.min_value("float32")
                    Mx[vi] = T.max(Mx[vi], X[vi, vj])
            for i, j in T.grid(R, C):
                with T.sblock("exp"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    E[vi, vj] = T.exp(X[vi, vj] - Mx[vi])
            for i, j in T.grid(R, C):
                with T.sblock("sum"):
                    vi, vj = T.axis.remap("SR", [i, j])
                    with T.init():
                        S[vi] = T.float32(0)
                    S[vi] = S[vi] + E[vi, vj]
            for i, j in T.grid(R, C):
                with T.sblock("norm"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    Y[vi, vj] = E[vi, vj] / S[vi]

        return main

    def attention(H, L, D):
        scale = float(np.float32(1.0 / math.sqrt(D)))

        @T.prim_func(s_tir=True)
        def main(
            Q: T.Buffer((H, L, D), "float32"),
            K: T.Buffer((H, L, D), "float32"),
            V: T.Buffer((H, L, D), "float32"),
            O: T.Buffer((H, L, D), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            S = T.alloc_buffer((H, L, L), "float32")
            M = T.alloc_buffer((H, L), "float32")
            E = T.alloc_buffer((H, L, L), "float32")
            Z = T.alloc_buffer((H, L), "float32")
            Ou = T.alloc_buffer((H, L, D), "float32")
            for h, i, j, d in T.grid(H, L, L, D):
                with T.sblock("qk"):
                    vh, vi, vj, vd = T.axis.remap("SSSR", [h, i, j, d])
                    with T.init():
                        S[vh, vi, vj] = T.float32(0)
                    S[vh, vi, vj] = S[vh, vi, vj] + Q[vh, vi, vd] * K[vh, vj, vd]
            for h, i, j in T.grid(H, L, L):
                with T.sblock("rowmax"):
                    vh, vi, vj = T.axis.remap("SSR", [h, i, j])
                    with T.init():
                        M[vh, vi] = T.min_value("float32")
                    M[vh, vi] = T.max(M[vh, vi], S[vh, vi, vj])
            for h, i, j in T.grid(H, L, L):
                with T.sblock("exp"):
                    vh, vi, vj = T.axis.remap("SSS", [h, i, j])
                    E[vh, vi, vj] = T.exp((S[vh, vi, vj] - M[vh, vi]) * T.float32(scale))
            for h, i, j in T.grid(H, L, L):
                with T.sblock("rowsum"):
                    vh, vi, vj = T.axis.remap("SSR", [h, i, j])
                    with T.init():
                        Z[vh, vi] = T.float32(0)
                    Z[vh, vi] = Z[vh, vi] + E[vh, vi, vj]
            for h, i, d, j in T.grid(H, L, D, L):
                with T.sblock("pv"):
                    vh, vi, vd, vj = T.axis.remap("SSSR", [h, i, d, j])
                    with T.init():
                        Ou[vh, vi, vd] = T.float32(0)
                    Ou[vh, vi, vd] = Ou[vh, vi, vd] + E[vh, vi, vj] * V[vh, vj, vd]
            for h, i, d in T.grid(H, L, D):
                with T.sblock("norm"):
                    vh, vi, vd = T.axis.remap("SSS", [h, i, d])
                    O[vh, vi, vd] = Ou[vh, vi, vd] / Z[vh, vi]

        return main

    def swiglu(Tk, Hd, F):
        @T.prim_func(s_tir=True)
        def main(
            X: T.Buffer((Tk, Hd), "float32"),
            Wg: T.Buffer((Hd, F), "float32"),
            Wu: T.Buffer((Hd, F), "float32"),
            Wd: T.Buffer((F, Hd), "float32"),
            Y: T.Buffer((Tk, Hd), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            G = T.alloc_buffer((Tk, F), "float32")
            U = T.alloc_buffer((Tk, F), "float32")
            A = T.alloc_buffer((Tk, F), "float32")
            for t, f, h in T.grid(Tk, F, Hd):
                with T.sblock("gate"):
                    vt, vf, vh = T.axis.remap("SSR", [t, f, h])
                    with T.init():
                        G[vt, vf] = T.float32(0)
                    G[vt, vf] = G[vt, vf] + X[vt, vh] * Wg[vh, vf]
            for t, f, h in T.grid(Tk, F, Hd):
                with T.sblock("up"):
                    vt, vf, vh = T.axis.remap("SSR", [t, f, h])
                    with T.init():
                        U[vt, vf] = T.float32(0)
                    U[vt, vf] = U[vt, vf] + X[vt, vh] * Wu[vh, vf]
            for t, f in T.grid(Tk, F):
                with T.sblock("act"):
                    vt, vf = T.axis.remap("SS", [t, f])
                    A[vt, vf] = G[vt, vf] / (T.float32(1) + T.exp(-G[vt, vf])) * U[vt, vf]
            for t, h, f in T.grid(Tk, Hd, F):
                with T.sblock("down"):
                    vt, vh, vf = T.axis.remap("SSR", [t, h, f])
                    with T.init():
                        Y[vt, vh] = T.float32(0)
                    Y[vt, vh] = Y[vt, vh] + A[vt, vf] * Wd[vf, vh]

        return main

    def moe(Ex, Tk, Hd, F):
        @T.prim_func(s_tir=True)
        def main(
            Xg: T.Buffer((Ex, Tk, Hd), "float32"),
            Wg: T.Buffer((Ex, Hd, F), "float32"),
            Wu: T.Buffer((Ex, Hd, F), "float32"),
            Wd: T.Buffer((Ex, F, Hd), "float32"),
            R: T.Buffer((Ex, Tk), "float32"),
            O: T.Buffer((Ex, Tk, Hd), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            G = T.alloc_buffer((Ex, Tk, F), "float32")
            U = T.alloc_buffer((Ex, Tk, F), "float32")
            A = T.alloc_buffer((Ex, Tk, F), "float32")
            Y = T.alloc_buffer((Ex, Tk, Hd), "float32")
            for e, t, f, h in T.grid(Ex, Tk, F, Hd):
                with T.sblock("gate"):
                    ve, vt, vf, vh = T.axis.remap("SSSR", [e, t, f, h])
                    with T.init():
                        G[ve, vt, vf] = T.float32(0)
                    G[ve, vt, vf] = G[ve, vt, vf] + Xg[ve, vt, vh] * Wg[ve, vh, vf]
            for e, t, f, h in T.grid(Ex, Tk, F, Hd):
                with T.sblock("up"):
                    ve, vt, vf, vh = T.axis.remap("SSSR", [e, t, f, h])
                    with T.init():
                        U[ve, vt, vf] = T.float32(0)
                    U[ve, vt, vf] = U[ve, vt, vf] + Xg[ve, vt, vh] * Wu[ve, vh, vf]
            for e, t, f in T.grid(Ex, Tk, F):
                with T.sblock("act"):
                    ve, vt, vf = T.axis.remap("SSS", [e, t, f])
                    A[ve, vt, vf] = G[ve, vt, vf] / (T.float32(1) + T.exp(-G[ve, vt, vf])) * U[ve, vt, vf]
            for e, t, h, f in T.grid(Ex, Tk, Hd, F):
                with T.sblock("down"):
                    ve, vt, vh, vf = T.axis.remap("SSSR", [e, t, h, f])
                    with T.init():
                        Y[ve, vt, vh] = T.float32(0)
                    Y[ve, vt, vh] = Y[ve, vt, vh] + A[ve, vt, vf] * Wd[ve, vf, vh]
            for e, t, h in T.grid(Ex, Tk, Hd):
                with T.sblock("route"):
                    ve, vt, vh = T.axis.remap("SSS", [e, t, h])
                    O[ve, vt, vh] = Y[ve, vt, vh] * R[ve, vt]

        return main

    def conv2d(s):
        Nb, C, H, W, F, Kk, St, P = (s[k] for k in ("N", "C", "H", "W", "F", "kernel", "stride", "pad"))
        Hp, Wp = H + 2 * P, W + 2 * P
        Ho, Wo = (Hp - Kk) // St + 1, (Wp - Kk) // St + 1
        if P == 0:

            @T.prim_func(s_tir=True)
            def main(
                X: T.Buffer((Nb, C, H, W), "float32"),
                Wt: T.Buffer((F, C, Kk, Kk), "float32"),
                Y: T.Buffer((Nb, F, Ho, Wo), "float32"),
            ):
                T.func_attr({"global_symbol": "main", "tirx.noalias": True})
                for n, f, y, x, c, r, q in T.grid(Nb, F, Ho, Wo, C, Kk, Kk):
                    with T.sblock("conv"):
                        vn, vf, vy, vx, vc, vr, vq = T.axis.remap("SSSSRRR", [n, f, y, x, c, r, q])
                        with T.init():
                            Y[vn, vf, vy, vx] = T.float32(0)
                        Y[vn, vf, vy, vx] = Y[vn, vf, vy, vx] + X[vn, vc, vy * St + vr, vx * St + vq] * Wt[vf, vc, vr, vq]

            return main

        @T.prim_func(s_tir=True)
        def main(
            X: T.Buffer((Nb, C, H, W), "float32"),
            Wt: T.Buffer((F, C, Kk, Kk), "float32"),
            Y: T.Buffer((Nb, F, Ho, Wo), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            Pd = T.alloc_buffer((Nb, C, Hp, Wp), "float32")
            for n, c, h, w in T.grid(Nb, C, Hp, Wp):
                with T.sblock("pad"):
                    vn, vc, vh, vw = T.axis.remap("SSSS", [n, c, h, w])
                    Pd[vn, vc, vh, vw] = T.if_then_else(
                        P <= vh and vh < H + P and P <= vw and vw < W + P,
                        X[vn, vc, vh - P, vw - P],
                        T.float32(0),
                    )
            for n, f, y, x, c, r, q in T.grid(Nb, F, Ho, Wo, C, Kk, Kk):
                with T.sblock("conv"):
                    vn, vf, vy, vx, vc, vr, vq = T.axis.remap("SSSSRRR", [n, f, y, x, c, r, q])
                    with T.init():
                        Y[vn, vf, vy, vx] = T.float32(0)
                    Y[vn, vf, vy, vx] = Y[vn, vf, vy, vx] + Pd[vn, vc, vy * St + vr, vx * St + vq] * Wt[vf, vc, vr, vq]

        return main

    def depthwise(s):
        Nb, C, H, W, Kk, St, P = (s[k] for k in ("N", "C", "H", "W", "kernel", "stride", "pad"))
        Hp, Wp = H + 2 * P, W + 2 * P
        Ho, Wo = (Hp - Kk) // St + 1, (Wp - Kk) // St + 1
        if P == 0:

            @T.prim_func(s_tir=True)
            def main(
                X: T.Buffer((Nb, C, H, W), "float32"),
                Wt: T.Buffer((C, Kk, Kk), "float32"),
                Y: T.Buffer((Nb, C, Ho, Wo), "float32"),
            ):
                T.func_attr({"global_symbol": "main", "tirx.noalias": True})
                for n, c, y, x, r, q in T.grid(Nb, C, Ho, Wo, Kk, Kk):
                    with T.sblock("conv"):
                        vn, vc, vy, vx, vr, vq = T.axis.remap("SSSSRR", [n, c, y, x, r, q])
                        with T.init():
                            Y[vn, vc, vy, vx] = T.float32(0)
                        Y[vn, vc, vy, vx] = Y[vn, vc, vy, vx] + X[vn, vc, vy * St + vr, vx * St + vq] * Wt[vc, vr, vq]

            return main

        @T.prim_func(s_tir=True)
        def main(
            X: T.Buffer((Nb, C, H, W), "float32"),
            Wt: T.Buffer((C, Kk, Kk), "float32"),
            Y: T.Buffer((Nb, C, Ho, Wo), "float32"),
        ):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            Pd = T.alloc_buffer((Nb, C, Hp, Wp), "float32")
            for n, c, h, w in T.grid(Nb, C, Hp, Wp):
                with T.sblock("pad"):
                    vn, vc, vh, vw = T.axis.remap("SSSS", [n, c, h, w])
                    Pd[vn, vc, vh, vw] = T.if_then_else(
                        P <= vh and vh < H + P and P <= vw and vw < W + P,
                        X[vn, vc, vh - P, vw - P],
                        T.float32(0),
                    )
            for n, c, y, x, r, q in T.grid(Nb, C, Ho, Wo, Kk, Kk):
                with T.sblock("conv"):
                    vn, vc, vy, vx, vr, vq = T.axis.remap("SSSSRR", [n, c, y, x, r, q])
                    with T.init():
                        Y[vn, vc, vy, vx] = T.float32(0)
                    Y[vn, vc, vy, vx] = Y[vn, vc, vy, vx] + Pd[vn, vc, vy * St + vr, vx * St + vq] * Wt[vc, vr, vq]

        return main

    def rmsnorm(R, C):
        inv_cols = float(np.float32(1.0 / C))
        eps = float(np.float32(RMSNORM_EPS))

        @T.prim_func(s_tir=True)
        def main(X: T.Buffer((R, C), "float32"), g: T.Buffer((C,), "float32"), Y: T.Buffer((R, C), "float32")):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            S = T.alloc_buffer((R,), "float32")
            Rs = T.alloc_buffer((R,), "float32")
            for i, j in T.grid(R, C):
                with T.sblock("sumsq"):
                    vi, vj = T.axis.remap("SR", [i, j])
                    with T.init():
                        S[vi] = T.float32(0)
                    S[vi] = S[vi] + X[vi, vj] * X[vi, vj]
            for i in T.serial(R):
                with T.sblock("rstd"):
                    vi = T.axis.remap("S", [i])
                    Rs[vi] = T.float32(1) / T.sqrt(S[vi] * T.float32(inv_cols) + T.float32(eps))
            for i, j in T.grid(R, C):
                with T.sblock("norm"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    Y[vi, vj] = X[vi, vj] * Rs[vi] * g[vj]

        return main

    def gemv(M, K):
        @T.prim_func(s_tir=True)
        def main(W: T.Buffer((M, K), "float32"), x: T.Buffer((K,), "float32"), y: T.Buffer((M,), "float32")):
            T.func_attr({"global_symbol": "main", "tirx.noalias": True})
            for i, k in T.grid(M, K):
                with T.sblock("gemv"):
                    vi, vk = T.axis.remap("SR", [i, k])
                    with T.init():
                        y[vi] = T.float32(0)
                    y[vi] = y[vi] + W[vi, vk] * x[vk]

        return main

    return {
        "matmul": matmul,
        "batch_matmul": batch_matmul,
        "dense": dense,
        "softmax": softmax,
        "attention": attention,
        "swiglu": swiglu,
        "moe": moe,
        "conv2d": conv2d,
        "depthwise": depthwise,
        "rmsnorm": rmsnorm,
        "gemv": gemv,
    }


# ---------------------------------------------------------------------------------------
# The workloads: input shapes, the TVM builder call and the numpy implementation


def workload(name, s):
    """(input shapes, output shape, tvm builder(funcs) -> PrimFunc, numpy fn) of `name`."""
    if name == "matmul":
        M, N, K = s["M"], s["N"], s["K"]
        return [(M, K), (K, N)], (M, N), lambda f: f["matmul"](M, N, K), ref_matmul
    if name == "batch_matmul":
        B, M, N, K = s["B"], s["M"], s["N"], s["K"]
        return [(B, M, K), (B, K, N)], (B, M, N), lambda f: f["batch_matmul"](B, M, N, K), ref_batch_matmul
    if name in ("dense-bias-relu", "dense-bias-silu"):
        M, N, K = s["M"], s["N"], s["K"]
        act = name.rsplit("-", 1)[1]
        return [(M, K), (K, N), (N,)], (M, N), lambda f: f["dense"](M, N, K, act), ref_dense(act)
    if name == "softmax":
        R, C = s["rows"], s["cols"]
        return [(R, C)], (R, C), lambda f: f["softmax"](R, C), ref_softmax
    if name in ("llama3-8b-attention", "flux-attention"):
        H, L, D = s["heads"], s["seq"], s["head_dim"]
        return [(H, L, D)] * 3, (H, L, D), lambda f: f["attention"](H, L, D), ref_attention
    if name == "llama4-scout-mlp":
        Tk, Hd, F = s["tokens"], s["hidden"], s["intermediate"]
        ins = [(Tk, Hd), (Hd, F), (Hd, F), (F, Hd)]
        return ins, (Tk, Hd), lambda f: f["swiglu"](Tk, Hd, F), ref_swiglu
    if name == "deepseek-r1-moe":
        E, Tk, Hd, F = s["experts"], s["tokens"], s["hidden"], s["intermediate"]
        ins = [(E, Tk, Hd), (E, Hd, F), (E, Hd, F), (E, F, Hd), (E, Tk)]
        return ins, (E, Tk, Hd), lambda f: f["moe"](E, Tk, Hd, F), ref_moe
    if name in ("conv2d", "flux-conv"):
        Hp, Wp = s["H"] + 2 * s["pad"], s["W"] + 2 * s["pad"]
        Ho, Wo = (Hp - s["kernel"]) // s["stride"] + 1, (Wp - s["kernel"]) // s["stride"] + 1
        ins = [(s["N"], s["C"], s["H"], s["W"]), (s["F"], s["C"], s["kernel"], s["kernel"])]
        return ins, (s["N"], s["F"], Ho, Wo), lambda f: f["conv2d"](s), ref_conv(s)
    if name == "mlp-up-proj":
        M, N, K = s["M"], s["N"], s["K"]
        return [(M, K), (K, N)], (M, N), lambda f: f["matmul"](M, N, K), ref_matmul
    if name == "depthwise-conv":
        Hp, Wp = s["H"] + 2 * s["pad"], s["W"] + 2 * s["pad"]
        Ho, Wo = (Hp - s["kernel"]) // s["stride"] + 1, (Wp - s["kernel"]) // s["stride"] + 1
        ins = [(s["N"], s["C"], s["H"], s["W"]), (s["C"], s["kernel"], s["kernel"])]
        return ins, (s["N"], s["C"], Ho, Wo), lambda f: f["depthwise"](s), ref_depthwise(s)
    if name == "rmsnorm":
        R, C = s["rows"], s["cols"]
        return [(R, C), (C,)], (R, C), lambda f: f["rmsnorm"](R, C), ref_rmsnorm
    if name == "gemv":
        M, K = s["M"], s["K"]
        return [(M, K), (K,)], (M,), lambda f: f["gemv"](M, K), ref_gemv
    raise ValueError(f"unknown workload {name!r}")


def time_call(fn, repeats, min_repeat_ms):
    """colt-measure's method: warm-up, then `repeats` repeats of >= min_repeat_ms; median µs."""
    fn()
    per_call = []
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - start
            if el * 1e3 >= min_repeat_ms:
                break
        per_call.append(el / n * 1e6)
    return statistics.median(per_call)


def close(out, ref):
    """(ok, max relative error) with colt-measure's tolerance: |a-b| <= atol + rtol*|b|."""
    ref = np.asarray(ref, dtype=np.float64)
    out = np.asarray(out, dtype=np.float64)
    atol = 1e-4 * float(np.mean(np.abs(ref))) + 1e-12
    ok = bool(np.all(np.abs(out - ref) <= atol + 1e-3 * np.abs(ref))) and bool(np.all(np.isfinite(out)))
    rel = float(np.max(np.abs(out - ref) / (np.abs(ref) + atol)))
    return ok, rel


def read_inputs(directory, shapes_in):
    """The input buffers colt wrote to `directory` (`manifest.json`: [{"name", "len"}], then
    `<i>.f32` raw little-endian float32), in colt's parameter order, shaped like `shapes_in`."""
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    if len(manifest) != len(shapes_in):
        raise ValueError(f"{directory}: {len(manifest)} input buffers, the workload has {len(shapes_in)}")
    out = []
    for i, (m, shape) in enumerate(zip(manifest, shapes_in)):
        x = np.fromfile(os.path.join(directory, f"{i}.f32"), dtype="<f4")
        if x.size != m["len"] or x.size != math.prod(shape):
            raise ValueError(f"input {i} ({m['name']}): {x.size} floats, the workload needs {math.prod(shape)}")
        out.append(x.reshape(shape))
    return out


def time_module(cfg, mod, out_shape, ref_out, inputs, res):
    """Check `mod["main"]` against the reference and time it with TVM's time_evaluator."""
    import tvm

    dev = tvm.cpu()
    args = [tvm.runtime.tensor(x, dev) for x in inputs] + [tvm.runtime.tensor(np.zeros(out_shape, "float32"), dev)]
    mod["main"](*args)  # warm-up and the checked run
    res["correct"], res["max_rel_err"] = close(args[-1].numpy(), ref_out)
    min_ms = max(1, math.ceil(float(cfg.get("min_repeat_ms", 1.0))))
    ev = mod.time_evaluator("main", dev, number=1, repeat=int(cfg.get("repeats", 5)), min_repeat_ms=min_ms)
    r = ev(*args)
    res["best_us"] = statistics.median(float(x) for x in r.results) * 1e6


def load_tvm(cfg, out_shape, ref_out, inputs, res):
    """Time the library an earlier run exported, in this fresh process."""
    import tvm

    t0 = time.perf_counter()
    time_module(cfg, tvm.runtime.load_module(cfg["load"]), out_shape, ref_out, inputs, res)
    res["wall_s"] = time.perf_counter() - t0


def host_mcpu():
    from tvm.target import codegen

    return str(codegen.llvm_get_system_cpu())


def run_tvm(cfg, shapes_in, out_shape, build, ref_out, inputs, res):
    import tvm
    from tvm.s_tir import meta_schedule as ms

    cores = int(cfg.get("num_cores") or os.cpu_count() or 1)
    mcpu = cfg.get("mcpu") or host_mcpu()
    target = tvm.target.Target({"kind": "llvm", "num-cores": cores, "mcpu": mcpu})
    res["target"] = {"kind": "llvm", "num-cores": cores, "mcpu": mcpu}
    trials = int(cfg["trials"])
    per_iter = int(cfg.get("trials_per_iter") or 16)
    mod = tvm.IRModule({"main": build(tvm_funcs())})
    space, res["space"] = design_space(mod, target, cores)
    t0 = time.perf_counter()
    keep = cfg.get("work_dir")  # kept for its logs when given, else a temporary directory
    with (contextlib.nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="colt-tvm-")) as wd:
        db = ms.tune_tir(
            mod,
            target,
            wd,
            max_trials_global=trials,
            num_trials_per_iter=min(per_iter, trials),
            num_tuning_cores=cores,
            space=space,
            # MetaSchedule's 30 s defaults fail every build on a loaded machine; a timeout is
            # not a property of the schedule, so give both plenty.
            builder=ms.builder.LocalBuilder(max_workers=cores, timeout_sec=float(cfg.get("build_timeout_s", 600))),
            runner=ms.runner.LocalRunner(timeout_sec=float(cfg.get("run_timeout_s", 300))),
            seed=int(cfg.get("seed", 1)),
        )
        res["wall_s"] = time.perf_counter() - t0
        records = db.get_all_tuning_records()
        res["trials"] = len(records)
        res["valid_trials"] = sum(1 for r in records if r.run_secs and all(float(x) < 1e9 for x in r.run_secs))
        top = db.get_top_k(db.commit_workload(mod), 1)
        if not top:
            raise RuntimeError("MetaSchedule found no valid schedule")
        sch = tvm.s_tir.Schedule(mod)
        top[0].trace.apply_to_schedule(sch, remove_postproc=False)
    res["tuned_us"] = float(np.mean([float(x) for x in top[0].run_secs])) * 1e6

    ex = tvm.compile(sch.mod, target=target)
    time_module(cfg, ex.mod, out_shape, ref_out, inputs, res)
    if cfg.get("export"):
        ex.export_library(cfg["export"])


def design_space(mod, target, cores):
    """MetaSchedule's default design space, or, where its rules fail on this PrimFunc (the
    write-cache variant of MultiLevelTiling breaks `reverse_compute_at` on layers with
    several GEMMs in one function), the same rules without the write cache."""
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.meta_schedule import schedule_rule as R

    def works(space):
        ctx = ms.TuneContext(mod=mod, target=target, space_generator=space, task_name="main", num_threads=cores)
        ctx.generate_design_space()

    try:
        works("post-order-apply")
        return "post-order-apply", "default"
    except Exception:  # noqa: BLE001 - a tvm.error.InternalError / ScheduleError
        print("tvm_peer: the default design space fails here; retrying without the write cache", file=sys.stderr)
    rules = [
        R.MultiLevelTiling(structure="SSRSRS", tile_binds=None, max_innermost_factor=64, vector_load_lens=None,
                           reuse_read=None, reuse_write=None)
        if type(r).__name__ == "MultiLevelTiling" else r
        for r in ms.ScheduleRule.create("llvm")
    ]
    space = ms.space_generator.PostOrderApply(sch_rules=rules, postprocs="llvm", mutator_probs="llvm")
    works(space)
    return space, "default rules without MultiLevelTiling's write cache"


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        return cfg["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - older numpy: no dict mode
        return "unknown"


def main():
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # TVM and its C++ logging print on stdout; only the JSON line may
    res = {"workload": None, "best_us": None, "wall_s": None, "correct": None, "trials": None,
           "valid_trials": None, "tuned_us": None, "max_rel_err": None, "target": None, "space": None,
           "openblas_us": None, "numpy_blas": None, "error": None}
    try:
        text = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
        cfg = json.loads(text)
        name = cfg["workload"]
        res["workload"] = name
        shapes_in, out_shape, build, ref = workload(name, {k: int(v) for k, v in cfg["shapes"].items()})
        rng = np.random.default_rng(int(cfg.get("seed", 1)))
        if cfg.get("inputs_dir"):
            inputs = read_inputs(cfg["inputs_dir"], shapes_in)
        else:
            inputs = [rng.uniform(-1.0, 1.0, size=s).astype("float32") for s in shapes_in]
        ref_out = ref(*[x.astype(np.float64) for x in inputs])[0]
        if cfg.get("numpy", True):
            res["numpy_blas"] = blas_name()
            res["openblas_us"] = time_call(
                lambda: ref(*inputs), int(cfg.get("repeats", 5)), float(cfg.get("min_repeat_ms", 1.0))
            )
        if cfg.get("load"):
            load_tvm(cfg, out_shape, ref_out, inputs, res)
        elif cfg.get("tvm", True):
            run_tvm(cfg, shapes_in, out_shape, build, ref_out, inputs, res)
    except Exception as e:  # noqa: BLE001 - reported as one line in the JSON
        traceback.print_exc(file=sys.stderr)
        res["error"] = (type(e).__name__ + ": " + str(e)).replace("\n", " ")[:500]
    sys.stderr.flush()
    sys.stdout.flush()
    os.write(real_stdout, (json.dumps(res) + "\n").encode())


if __name__ == "__main__":
    main()
