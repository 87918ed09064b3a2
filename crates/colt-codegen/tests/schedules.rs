//! Snapshot tests of generated C for a few schedules, and the same schedules compiled with
//! `$CC` and run against the reference interpreter.

mod support;

use colt_ir::{BinOp, BufKind, CmpOp, Func, IterKind, Program, UnOp, Value};
use colt_sched::{Inst, LoopFactors, StageLoop};
use expect_test::{Expect, expect};
use support::*;

/// The kernel function only (the prelude has its own test), so snapshots stay short.
fn check(f: &Func, want: Expect) {
    let c = colt_codegen::emit_c(f, "colt_kernel").unwrap();
    let body = &c[c.find("void colt_kernel(float* const* bufs) {").unwrap()..];
    want.assert_eq(body);
}

fn naive_matmul() -> Func {
    colt_ops::matmul(4, 4, 4).naive()
}

/// `Trace::tiled_matmul`: B packed by 16 columns, a 2x16 register tile accumulated in a write
/// cache, parallel outer tile loop, vectorised inner loop, unrolled rows.
fn tiled_matmul(n: i64) -> Func {
    let p = colt_ops::matmul(n, n, n);
    colt_sched::apply_trace(&p, &colt_sched::Trace::tiled_matmul(n, 2, 16)).unwrap()
}

/// A write cache over a row of C without other tiling.
fn cache_write_matmul() -> Func {
    let p = colt_ops::matmul(4, 8, 4);
    schedule(
        &p,
        vec![
            Inst::Reorder {
                stage: s("matmul"),
                order: vec![s("i"), s("k"), s("j")],
            },
            Inst::CacheWrite(StageLoop {
                stage: s("matmul"),
                loop_: s("i"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("matmul"),
                loop_: s("j"),
            }),
        ],
    )
}

/// Softmax with `exp` inlined into its two consumers and parallel rows.
fn softmax() -> Func {
    let p = colt_ops::softmax(4, 16);
    schedule(
        &p,
        vec![
            Inst::ComputeInline { stage: s("exp") },
            Inst::Parallel(StageLoop {
                stage: s("max"),
                loop_: s("i"),
            }),
            Inst::Parallel(StageLoop {
                stage: s("norm"),
                loop_: s("i"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("norm"),
                loop_: s("j"),
            }),
        ],
    )
}

/// Dense + bias + ReLU: the matmul computed inside the epilogue's row loop.
fn dense_epilogue() -> Func {
    let p = colt_ops::dense(4, 16, 8, Some(UnOp::Relu));
    schedule(
        &p,
        vec![
            Inst::ComputeAt {
                stage: s("matmul"),
                consumer: s("bias_relu"),
                loop_: s("i"),
            },
            Inst::Parallel(StageLoop {
                stage: s("bias_relu"),
                loop_: s("i"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("bias_relu"),
                loop_: s("j"),
            }),
        ],
    )
}

#[test]
fn snapshot_naive_matmul() {
    check(
        &naive_matmul(),
        expect![[r#"
            void colt_kernel(float* const* bufs) {
                float* restrict A = (float*)__builtin_assume_aligned(bufs[0], 64);
                float* restrict B = (float*)__builtin_assume_aligned(bufs[1], 64);
                float* restrict C = (float*)__builtin_assume_aligned(bufs[2], 64);
                for (int64_t i = 0; i < 4; ++i) {
                    for (int64_t j = 0; j < 4; ++j) {
                        // block matmul_init
                        C[i*4 + j] = 0.0f;
                    }
                }
                for (int64_t i = 0; i < 4; ++i) {
                    for (int64_t j = 0; j < 4; ++j) {
                        {
                            float C_r[1] __attribute__((aligned(64)));  // local C_r: f32[1]
                            // block C_promote
                            C_r[0] = C[i*4 + j];
                            for (int64_t k = 0; k < 4; ++k) {
                                // block matmul
                                C_r[0] += A[i*4 + k] * B[k*4 + j];
                            }
                            // block C_demote
                            C[i*4 + j] = C_r[0];
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn snapshot_tiled_parallel_vectorised_matmul() {
    check(
        &tiled_matmul(32),
        expect![[r#"
            void colt_kernel(float* const* bufs) {
                float* restrict A = (float*)__builtin_assume_aligned(bufs[0], 64);
                float* restrict B = (float*)__builtin_assume_aligned(bufs[1], 64);
                float* restrict C = (float*)__builtin_assume_aligned(bufs[2], 64);
                float* restrict B_p = (float*)__builtin_assume_aligned(bufs[3], 64);
                #pragma omp parallel for schedule(static)
                for (int64_t o = 0; o < 2; ++o) {
                    for (int64_t d1 = 0; d1 < 32; ++d1) {
                        COLT_SIMD(16, 1)
                        for (int64_t v = 0; v < 16; ++v) {
                            // block pack_B
                            B_p[o*512 + d1*16 + v] = B[d1*32 + o*16 + v];
                        }
                    }
                }
                #pragma omp parallel for schedule(static)
                for (int64_t j0 = 0; j0 < 2; ++j0) {
                    for (int64_t i0 = 0; i0 < 16; ++i0) {
                        {
                            float C_c[32] __attribute__((aligned(64)));  // local C_c: f32[2, 16]
                            for (int64_t matmul_init0 = 0; matmul_init0 < 2; ++matmul_init0) {
                                COLT_SIMD(16, 1)
                                for (int64_t matmul_init1 = 0; matmul_init1 < 16; ++matmul_init1) {
                                    // block matmul_init
                                    C_c[matmul_init0*16 + matmul_init1] = 0.0f;
                                }
                            }
                            for (int64_t k = 0; k < 32; ++k) {
                                COLT_UNROLL(2)
                                for (int64_t i1 = 0; i1 < 2; ++i1) {
                                    COLT_SIMD(16, 1)
                                    for (int64_t j1 = 0; j1 < 16; ++j1) {
                                        // block matmul [i = i0*2 + i1, j = j0*16 + j1]
                                        C_c[i1*16 + j1] += A[i0*64 + i1*32 + k] * B_p[j0*512 + k*16 + j1];
                                    }
                                }
                            }
                            for (int64_t matmul_write0 = 0; matmul_write0 < 2; ++matmul_write0) {
                                COLT_SIMD(16, 1)
                                for (int64_t matmul_write1 = 0; matmul_write1 < 16; ++matmul_write1) {
                                    // block matmul_write
                                    C[i0*64 + matmul_write0*32 + j0*16 + matmul_write1] = C_c[matmul_write0*16 + matmul_write1];
                                }
                            }
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn snapshot_cache_write() {
    check(
        &cache_write_matmul(),
        expect![[r#"
            void colt_kernel(float* const* bufs) {
                float* restrict A = (float*)__builtin_assume_aligned(bufs[0], 64);
                float* restrict B = (float*)__builtin_assume_aligned(bufs[1], 64);
                float* restrict C = (float*)__builtin_assume_aligned(bufs[2], 64);
                for (int64_t i = 0; i < 4; ++i) {
                    {
                        float C_c[8] __attribute__((aligned(64)));  // local C_c: f32[1, 8]
                        COLT_SIMD(8, 1)
                        for (int64_t matmul_init1 = 0; matmul_init1 < 8; ++matmul_init1) {
                            // block matmul_init
                            C_c[matmul_init1] = 0.0f;
                        }
                        for (int64_t k = 0; k < 4; ++k) {
                            COLT_SIMD(8, 1)
                            for (int64_t j = 0; j < 8; ++j) {
                                // block matmul
                                C_c[j] += A[i*4 + k] * B[k*8 + j];
                            }
                        }
                        COLT_SIMD(8, 1)
                        for (int64_t matmul_write1 = 0; matmul_write1 < 8; ++matmul_write1) {
                            // block matmul_write
                            C[i*8 + matmul_write1] = C_c[matmul_write1];
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn snapshot_softmax_inlined_exp() {
    check(
        &softmax(),
        expect![[r#"
            void colt_kernel(float* const* bufs) {
                float* restrict X = (float*)__builtin_assume_aligned(bufs[0], 64);
                float* restrict M = (float*)__builtin_assume_aligned(bufs[1], 64);
                float* restrict E = (float*)__builtin_assume_aligned(bufs[2], 64);
                float* restrict S = (float*)__builtin_assume_aligned(bufs[3], 64);
                float* restrict Y = (float*)__builtin_assume_aligned(bufs[4], 64);
                #pragma omp parallel for schedule(static)
                for (int64_t i = 0; i < 4; ++i) {
                    // block max_init
                    M[i] = -INFINITY;
                    {
                        float M_r[1] __attribute__((aligned(64)));  // local M_r: f32[1]
                        // block M_promote
                        M_r[0] = M[i];
                        for (int64_t j = 0; j < 16; ++j) {
                            // block max
                            M_r[0] = colt_max(M_r[0], X[i*16 + j]);
                        }
                        // block M_demote
                        M[i] = M_r[0];
                    }
                }
                for (int64_t i_3 = 0; i_3 < 4; ++i_3) {
                    // block sum_init
                    S[i_3] = 0.0f;
                    {
                        float S_r[1] __attribute__((aligned(64)));  // local S_r: f32[1]
                        // block S_promote
                        S_r[0] = S[i_3];
                        for (int64_t j_3 = 0; j_3 < 16; ++j_3) {
                            // block sum
                            S_r[0] += expf(X[i_3*16 + j_3] - M[i_3]);
                        }
                        // block S_demote
                        S[i_3] = S_r[0];
                    }
                }
                #pragma omp parallel for schedule(static)
                for (int64_t i_4 = 0; i_4 < 4; ++i_4) {
                    COLT_SIMD(16, 1)
                    for (int64_t j_4 = 0; j_4 < 16; ++j_4) {
                        // block norm
                        Y[i_4*16 + j_4] = expf(X[i_4*16 + j_4] - M[i_4]) / S[i_4];
                    }
                }
            }
        "#]],
    );
}

#[test]
fn snapshot_dense_fused_epilogue() {
    check(
        &dense_epilogue(),
        expect![[r#"
            void colt_kernel(float* const* bufs) {
                float* restrict X = (float*)__builtin_assume_aligned(bufs[0], 64);
                float* restrict W = (float*)__builtin_assume_aligned(bufs[1], 64);
                float* restrict b = (float*)__builtin_assume_aligned(bufs[2], 64);
                float* restrict Z = (float*)__builtin_assume_aligned(bufs[3], 64);
                float* restrict Y = (float*)__builtin_assume_aligned(bufs[4], 64);
                #pragma omp parallel for schedule(static)
                for (int64_t i_2 = 0; i_2 < 4; ++i_2) {
                    {
                        float Z_l[16] __attribute__((aligned(64)));  // local Z_l: f32[1, 16]
                        for (int64_t j_ = 0; j_ < 16; ++j_) {
                            // block matmul_init
                            Z_l[j_] = 0.0f;
                            for (int64_t k = 0; k < 8; ++k) {
                                // block matmul [i = i_2, j = j_]
                                Z_l[j_] += X[i_2*8 + k] * W[k*16 + j_];
                            }
                        }
                        COLT_SIMD(16, 1)
                        for (int64_t j_2 = 0; j_2 < 16; ++j_2) {
                            // block bias_relu
                            Y[i_2*16 + j_2] = colt_max(Z_l[j_2] + b[j_2], 0.0f);
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn compiled_schedules_match_the_interpreter() {
    assert_matches_interpreter(&naive_matmul(), "naive");
    assert_matches_interpreter(&tiled_matmul(32), "tiled");
    assert_matches_interpreter(&cache_write_matmul(), "cache");
    assert_matches_interpreter(&softmax(), "softmax");
    assert_matches_interpreter(&dense_epilogue(), "dense");
}

/// Splits of every loop by every divisor pair, with the inner loop vectorised and the outer
/// one parallel: the emitted C agrees with the interpreter (exercises index simplification
/// through bindings, `/` and `%` of fused loops).
#[test]
fn split_fuse_variants_match_the_interpreter() {
    let p = colt_ops::matmul(6, 12, 4);
    let mut n = 0;
    for jf in [2, 3, 4, 6] {
        for fuse in [false, true] {
            let mut insts = vec![
                Inst::Split(LoopFactors {
                    stage: s("matmul"),
                    loop_: s("j"),
                    factors: vec![12 / jf, jf],
                }),
                Inst::Reorder {
                    stage: s("matmul"),
                    order: vec![s("i"), s("j0"), s("k"), s("j1")],
                },
            ];
            if fuse {
                insts.push(Inst::ParallelOuter {
                    stage: s("matmul"),
                    n: 2,
                });
            } else {
                insts.push(Inst::Parallel(StageLoop {
                    stage: s("matmul"),
                    loop_: s("i"),
                }));
            }
            insts.push(Inst::Vectorize(StageLoop {
                stage: s("matmul"),
                loop_: s("j1"),
            }));
            insts.push(Inst::AutoUnroll {
                stage: s("matmul"),
                max_step: 16,
            });
            let f = schedule(&p, insts);
            assert_matches_interpreter(&f, &format!("split{jf}{fuse}"));
            n += 1;
        }
    }
    assert_eq!(n, 8);
}

/// One output per unary operator, `pow` and a data select per comparison, over `X, Y: [4, 16]`
/// in [-1, 1): `log`, `sqrt` and `rsqrt` read `|X| + 0.5`, `pow` raises it to `2Y`, the
/// others read `3X`; `select(X[i, j] op X[i, 0], X[i, j], Y[i, j])` is equal on column 0.
fn every_operator() -> Program {
    let mut p = Program::new("ops");
    let x = p.add_buffer("X", vec![4, 16], BufKind::Input);
    let y = p.add_buffer("Y", vec![4, 16], BufKind::Input);
    let iters = [("i", 4, IterKind::Spatial), ("j", 16, IterKind::Spatial)];
    let load = |b, v: &[colt_ir::Idx]| Value::load(b, v.to_vec());
    let positive = |v: &[colt_ir::Idx]| {
        Value::bin(
            BinOp::Add,
            Value::un(UnOp::Abs, load(x, v)),
            Value::Const(0.5),
        )
    };
    for op in UnOp::ALL {
        let out = p.add_buffer(format!("o_{}", op.name()), vec![4, 16], BufKind::Output);
        p.add_stage(op.name(), &iters, |v| {
            let arg = match op {
                UnOp::Log | UnOp::Sqrt | UnOp::Rsqrt => positive(v),
                _ => Value::bin(BinOp::Mul, Value::Const(3.0), load(x, v)),
            };
            (out, None, Value::un(op, arg))
        });
    }
    let out = p.add_buffer("o_pow", vec![4, 16], BufKind::Output);
    p.add_stage("pow", &iters, |v| {
        let e = Value::bin(BinOp::Mul, Value::Const(2.0), load(y, v));
        (out, None, Value::bin(BinOp::Pow, positive(v), e))
    });
    for op in CmpOp::ALL {
        let out = p.add_buffer(format!("o_{op:?}"), vec![4, 16], BufKind::Output);
        p.add_stage(format!("cmp_{op:?}"), &iters, |v| {
            let first = load(x, &[v[0].clone(), colt_ir::Idx::Const(0)]);
            (
                out,
                None,
                Value::compare(op, load(x, v), first, load(x, v), load(y, v)),
            )
        });
    }
    p
}

#[test]
fn every_operator_compiles_to_what_the_interpreter_computes() {
    let p = every_operator();
    assert_matches_interpreter(&p.naive(), "ops-naive");
    let vectorised: Vec<Inst> = p
        .stages
        .iter()
        .map(|st| {
            Inst::Vectorize(StageLoop {
                stage: st.name.clone(),
                loop_: s("j"),
            })
        })
        .collect();
    let f = schedule(&p, vectorised);
    assert_matches_interpreter(&f, "ops-vector");
    let c = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    for call in ["erff(", "logf(", "fabsf(", "powf(", "1.0f / sqrtf(", " >= "] {
        assert!(c.contains(call), "{call} missing from\n{c}");
    }
    // `!=` picks Y on column 0, where X[i, j] is X[i, 0], and X everywhere else
    let out = interpret(&p.naive(), 7);
    let ne = p.buffer_by_name("o_Ne").unwrap().0 as usize;
    let (xs, ys) = (&out[0], &out[1]);
    assert_eq!(out[ne][0], ys[0]);
    assert_eq!(out[ne][1], xs[1]);
}

/// A two-token product whose write cache (2 x 1024) is larger than the register file, with
/// the reduction blocked by 16 inside each 64-wide column block: the accumulators of one
/// column block are promoted across the 16-step reduction loop and the result still matches.
#[test]
fn accumulators_are_promoted_across_an_inner_reduction_loop() {
    let p = colt_ops::matmul(2, 2048, 64);
    let split = |l: &str, factors| split("matmul", l, factors);
    let f = schedule(
        &p,
        vec![
            split("j", vec![2, 16, 64]),
            split("k", vec![4, 16]),
            Inst::Reorder {
                stage: s("matmul"),
                order: ["j0", "k0", "j1", "k1", "i", "j2"].map(s).to_vec(),
            },
            Inst::CacheWrite(StageLoop {
                stage: s("matmul"),
                loop_: s("j0"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("matmul"),
                loop_: s("j2"),
            }),
        ],
    );
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    assert!(code.contains("float C_c_r[128]"), "{code}");
    assert!(code.contains("C_c_r[i*64 + j2] += "), "{code}");
    assert_eq!(code.matches("block C_c_promote").count(), 1, "{code}");
    assert_matches_interpreter(&f, "promoted");
}

/// Sampled schedules (with the AVX-512 register prior, so register and blocked tiles are
/// among them) of small products, a two-token MLP and softmax compile to C that matches the
/// interpreter, promoted accumulators included.
#[test]
fn sampled_schedules_match_the_interpreter() {
    use rand::SeedableRng;
    let target = colt_sched::VectorTarget::from_isa("avx512", 16);
    let programs = [
        colt_ops::matmul(2, 512, 64),
        colt_ops::matmul(16, 64, 48),
        colt_ops::swiglu_mlp(2, 64, 128),
        colt_ops::softmax(8, 64),
    ];
    let mut promoted = 0;
    for p in &programs {
        for seed in 0..8 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let t = colt_sched::sample_for(p, target, &mut rng);
            let f = colt_sched::apply_trace(p, &t).unwrap();
            let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
            promoted += usize::from(code.contains("_promote"));
            assert_matches_interpreter(&f, &format!("{}-{seed}", p.name));
        }
    }
    assert!(
        promoted >= 3,
        "only {promoted} of 32 kernels promote an accumulator"
    );
}

/// The accumulators of a blocked register tile (`support::blocked_unrolled_tile`) are
/// promoted across the *unrolled* reduction block too (before, only a rolled loop qualified,
/// and gcc stored every accumulator after every FMA of the unrolled chain), gcc is told to
/// keep the copies as loops, and the kernel still matches the interpreter.
#[test]
fn accumulators_are_promoted_across_an_unrolled_reduction_block() {
    let f = blocked_unrolled_tile();
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    assert!(code.contains("COLT_UNROLL(16)\n"), "{code}");
    assert!(code.contains("float C_c_r[64]"), "{code}");
    assert!(code.contains("C_c_r[i3*16 + j3] += "), "{code}");
    assert!(
        code.contains("#pragma GCC optimize(\"no-tree-loop-distribute-patterns\")"),
        "{code}"
    );
    assert_matches_interpreter(&f, "promoted-unrolled");
    // without a promotion (the write cache is the register tile), no pragma
    let plain = colt_codegen::emit_c(&cache_write_matmul(), "colt_kernel").unwrap();
    assert!(!plain.contains("GCC optimize"), "{plain}");
}

/// A row minimum over the last dimension, `m[i] = min_j X[i, j]` (no built-in uses `min`).
fn row_min(rows: i64, cols: i64) -> Program {
    let mut p = Program::new("row_min");
    let x = p.add_buffer("X", vec![rows, cols], BufKind::Input);
    let m = p.add_buffer("m", vec![rows], BufKind::Output);
    p.add_stage(
        "min",
        &[
            ("i", rows, IterKind::Spatial),
            ("j", cols, IterKind::Reduce),
        ],
        |v| (m, Some(colt_ir::Reducer::Min), Value::load(x, v.to_vec())),
    );
    p
}

/// A reduction loop innermost, vectorised, becomes an `omp simd reduction` into a scalar
/// accumulator (sum, max and min), inside a write cache and an unrolled row loop too; the
/// compiled kernels match the interpreter, a row of 37 (no whole vector) included.
#[test]
fn innermost_reduction_loops_vectorise_as_reductions() {
    let p = row_min(6, 37);
    let f = schedule(
        &p,
        vec![
            split("min", "i", vec![3, 2]),
            Inst::CacheWrite(StageLoop {
                stage: s("min"),
                loop_: s("i0"),
            }),
            Inst::Unroll(StageLoop {
                stage: s("min"),
                loop_: s("i1"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("min"),
                loop_: s("j"),
            }),
        ],
    );
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    assert!(code.contains("COLT_SIMD_REDUCE(min, 16, 2)"), "{code}");
    assert!(code.contains("colt_acc = colt_min(colt_acc, X["), "{code}");
    assert!(code.contains("= colt_acc;"), "{code}");
    assert_matches_interpreter(&f, "row-min");
    // sampled row reductions (softmax's max and sum, RMSNorm's sum of squares) with the
    // AVX-512 prior: the reduce-inner draws vectorise both operators and match
    use rand::SeedableRng;
    let target = colt_sched::VectorTarget::from_isa("avx512", 16);
    let mut seen = (0, 0);
    for p in [colt_ops::softmax(6, 80), colt_ops::rmsnorm(5, 48, 1e-5)] {
        for seed in 0..10 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let t = colt_sched::sample_for(&p, target, &mut rng);
            let f = colt_sched::apply_trace(&p, &t).unwrap();
            let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
            seen.0 += usize::from(code.contains("COLT_SIMD_REDUCE(max,"));
            seen.1 += usize::from(code.contains("COLT_SIMD_REDUCE(+,"));
            assert_matches_interpreter(&f, &format!("{}-reduce-{seed}", p.name));
        }
    }
    assert!(
        seen.0 >= 3 && seen.1 >= 6,
        "vector reductions drawn: {seen:?}"
    );
}
