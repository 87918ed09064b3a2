//! Test support: build schedules from compact instruction lists, compile emitted C with `$CC`
//! and run it in a child process on seeded inputs, run the interpreter on the same inputs.
#![allow(dead_code)]

use colt_ir::{BufKind, Func, Program};
use colt_sched::{Inst, LoopFactors, StageLoop, Trace};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// `split(stage, loop, factors)`.
pub fn split(stage: &str, loop_: &str, factors: Vec<i64>) -> Inst {
    Inst::Split(LoopFactors {
        stage: s(stage),
        loop_: s(loop_),
        factors,
    })
}

pub fn s(x: &str) -> String {
    x.to_string()
}

pub fn schedule(p: &Program, insts: Vec<Inst>) -> Func {
    let mut t = Trace::new(p.name.clone());
    t.insts = insts;
    colt_sched::apply_trace(p, &t).unwrap_or_else(|e| panic!("schedule failed: {e}"))
}

/// Deterministic inputs in [-1, 1) (a small LCG; only needs to be the same on both sides).
pub fn inputs(f: &Func, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    f.buffers
        .iter()
        .map(|b| match b.kind {
            BufKind::Input => (0..b.len())
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 40) as f32) / (1u64 << 24) as f32 * 2.0 - 1.0
                })
                .collect(),
            BufKind::Local => vec![],
            _ => vec![f32::NAN; b.len()],
        })
        .collect()
}

/// The interpreter's outputs (one vector per buffer; empty for locals).
pub fn interpret(f: &Func, seed: u64) -> Vec<Vec<f32>> {
    let mut bufs = inputs(f, seed);
    colt_ir::interp::run(f, &mut bufs);
    bufs
}

fn cc() -> String {
    std::env::var("CC")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cc".into())
}

pub use colt_codegen::C_FLAGS as FLAGS;

/// Compile the emitted C with a small driver and run it: parameters are read from stdin
/// (raw f32, in `Func::params` order) and written back to stdout after the kernel ran.
pub fn run_c(f: &Func, seed: u64, tag: &str) -> Vec<Vec<f32>> {
    let code = colt_codegen::emit_c(f, "colt_kernel").expect("emits");
    let params = f.params();
    let lens: Vec<usize> = params.iter().map(|&b| f.buffer(b).len()).collect();
    let mut driver = String::from(
        "#include <stdio.h>\n#include <stdlib.h>\nvoid colt_kernel(float* const* bufs);\nint main(void) {\n",
    );
    driver.push_str(&format!("    float* bufs[{}];\n", lens.len().max(1)));
    for (i, n) in lens.iter().enumerate() {
        let bytes = (n * 4).div_ceil(64) * 64;
        driver.push_str(&format!(
            "    bufs[{i}] = aligned_alloc(64, {bytes}); if (fread(bufs[{i}], 4, {n}, stdin) != {n}) return 3;\n"
        ));
    }
    driver.push_str("    colt_kernel(bufs);\n");
    for (i, n) in lens.iter().enumerate() {
        driver.push_str(&format!("    fwrite(bufs[{i}], 4, {n}, stdout);\n"));
    }
    driver.push_str("    return 0;\n}\n");
    let dir: PathBuf =
        std::env::temp_dir().join(format!("colt-codegen-test-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (kc, dc, exe) = (dir.join("kernel.c"), dir.join("driver.c"), dir.join("run"));
    std::fs::write(&kc, &code).unwrap();
    std::fs::write(&dc, driver).unwrap();
    let out = Command::new(cc())
        .args(FLAGS)
        .arg("-o")
        .arg(&exe)
        .arg(&kc)
        .arg(&dc)
        .arg("-lm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compile failed:\n{}\n{code}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = inputs(f, seed);
    let mut stdin = vec![];
    for &b in &params {
        for x in &all[b.0 as usize] {
            stdin.extend_from_slice(&x.to_le_bytes());
        }
    }
    let mut child = Command::new(&exe)
        .env("OMP_NUM_THREADS", "2")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kernel run failed: {:?}", out.status);
    let floats: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let mut res: Vec<Vec<f32>> = f.buffers.iter().map(|_| vec![]).collect();
    let mut off = 0;
    for (&b, &n) in params.iter().zip(&lens) {
        res[b.0 as usize] = floats[off..off + n].to_vec();
        off += n;
    }
    res
}

/// Outputs of `f` compiled agree with the interpreter: `|a - b| <= 1e-4 + 1e-3 |b|`.
pub fn assert_matches_interpreter(f: &Func, tag: &str) {
    let want = interpret(f, 7);
    let got = run_c(f, 7, tag);
    for (b, buf) in f.buffers.iter().enumerate() {
        if buf.kind != BufKind::Output {
            continue;
        }
        for (i, (x, y)) in got[b].iter().zip(&want[b]).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 + 1e-3 * y.abs(),
                "{tag}: {}[{i}] = {x}, interpreter says {y}\n{}",
                buf.name,
                colt_codegen::emit_c(f, "colt_kernel").unwrap()
            );
        }
    }
}

/// A blocked register tile: 4 rows × 16 columns side by side in a 4 × 512 write cache, the
/// reduction in blocks of 16 that auto-unroll fully unrolls (the shape of the register
/// prior's blocked tiles).
pub fn blocked_unrolled_tile() -> Func {
    let p = colt_ops::matmul(16, 512, 256);
    let split = |l: &str, factors| split("matmul", l, factors);
    let order = ["i0", "j0", "i1", "j1", "k0", "i2", "j2", "k1", "i3", "j3"];
    schedule(
        &p,
        vec![
            split("i", vec![2, 2, 1, 4]),
            split("j", vec![1, 1, 32, 16]),
            split("k", vec![16, 16]),
            Inst::Reorder {
                stage: s("matmul"),
                order: order.map(s).to_vec(),
            },
            Inst::CacheWrite(StageLoop {
                stage: s("matmul"),
                loop_: s("j1"),
            }),
            Inst::ParallelOuter {
                stage: s("matmul"),
                n: 1,
            },
            Inst::Vectorize(StageLoop {
                stage: s("matmul"),
                loop_: s("j3"),
            }),
            Inst::AutoUnroll {
                stage: s("matmul"),
                max_step: 64,
            },
        ],
    )
}
