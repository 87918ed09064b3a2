//! `measure_limits`: the fields are sane, and the peak it reports is what ordinary
//! compiled code can reach: an independently written FMA-bound kernel (a register-blocked
//! GEMM micro-kernel over data in L1, plain C left to the compiler's vectoriser) measures within 2× of
//! the peak on one core, and not above it.

use colt_measure::{Compiler, measure_limits};
use std::process::Command;

const FMA_BOUND_C: &str = r##"
#include <stdio.h>
#include <time.h>
#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
#define R 6
#define NJ (2 * LANES)
#define K 256
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float A[K][R] __attribute__((aligned(64)));
static float B[K][NJ] __attribute__((aligned(64)));
static float C[R][NJ] __attribute__((aligned(64)));
typedef float vf __attribute__((vector_size(LANES * 4)));
/* A GEMM micro-kernel: an R x 2-vector tile of accumulators in registers (every access
   with a constant index once unrolled), K rank-1 updates from data in L1: a broadcast of
   A and two vector loads of B per row of FMAs. */
static void tile(void) {
    vf acc[R][2];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
        acc[r][0] = (vf){0};
        acc[r][1] = (vf){0};
    }
    for (int k = 0; k < K; k++) {
        vf b0 = *(const vf *)&B[k][0], b1 = *(const vf *)&B[k][LANES];
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            float a = A[k][r];
            acc[r][0] += a * b0;
            acc[r][1] += a * b1;
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
        *(vf *)&C[r][0] += acc[r][0];
        *(vf *)&C[r][LANES] += acc[r][1];
    }
}
int main(void) {
    for (int k = 0; k < K; k++) {
        for (int r = 0; r < R; r++) A[k][r] = 1e-3f * (k + r);
        for (int j = 0; j < NJ; j++) B[k][j] = 1e-3f * (k - j);
    }
    long iters = 1 << 10;
    double best = 0;
    for (int round = 0; round < 14; round++) {
        double t0 = now();
        for (long it = 0; it < iters; it++) {
            tile();
            __asm__ volatile("" ::: "memory");
        }
        double t = now() - t0;
        double g = 2.0 * R * NJ * K * (double)iters / t / 1e9;
        if (g > best) best = g;
        if (t < 0.1) iters *= 2;
    }
    float s = 0;
    for (int r = 0; r < R; r++) for (int j = 0; j < NJ; j++) s += C[r][j];
    printf("%f %f\n", best, s);
    return 0;
}
"##;

#[test]
fn the_machine_limits_are_sane_and_the_peak_is_reachable() {
    let dir = std::env::temp_dir().join(format!("colt-machine-test-{}", std::process::id()));
    let compiler = Compiler::tuned();
    let m = measure_limits(&compiler, &dir, Some(1 << 22)).expect("the probe runs");
    assert!(m.cores >= 1);
    assert!(
        ["avx512", "avx2", "avx", "sse", "scalar"].contains(&m.isa.as_str()),
        "{m:?}"
    );
    assert!(m.vector_lanes >= 1 && m.vector_lanes <= 16);
    assert!(m.peak_gflops_one_core > 0.5, "{m:?}");
    assert!(m.peak_gflops >= m.peak_gflops_one_core * 0.9, "{m:?}");
    assert!(
        m.peak_gflops <= m.peak_gflops_one_core * m.cores as f64 * 1.3,
        "{m:?}"
    );
    assert!(m.bandwidth_gbs > 0.1, "{m:?}");
    // The ridge point of any CPU of this decade lies between 0.5 and 200 FLOP/byte.
    let ridge = m.peak_gflops / m.bandwidth_gbs;
    assert!((0.5..200.0).contains(&ridge), "{m:?}");

    let src = dir.join("fma_bound.c");
    let exe = dir.join("fma_bound");
    std::fs::write(&src, FMA_BOUND_C).unwrap();
    let built = Command::new(&compiler.cc)
        .args(["-O3", "-march=native", "-std=gnu11", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let gflops: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
    println!(
        "{} ({}): peak {:.1} GFLOP/s on one core, {:.1} on {}; FMA-bound kernel {gflops:.1}; bandwidth {:.1} GB/s",
        m.cpu, m.isa, m.peak_gflops_one_core, m.peak_gflops, m.cores, m.bandwidth_gbs
    );
    assert!(
        gflops >= 0.5 * m.peak_gflops_one_core,
        "ordinary FMA-bound code reached {gflops:.1} GFLOP/s, under half the reported one-core peak {:.1}",
        m.peak_gflops_one_core
    );
    assert!(
        gflops <= 1.2 * m.peak_gflops_one_core,
        "ordinary code reached {gflops:.1} GFLOP/s, above the reported one-core peak {:.1}",
        m.peak_gflops_one_core
    );
    let _ = std::fs::remove_dir_all(&dir);
}
