//! Shared test helpers: small workloads and the differential check against the naive nest.
#![allow(dead_code)]

use colt_ir::{BufKind, Func, Program, UnOp, interp};
use colt_ops::{
    Conv2dShape, attention, batch_matmul, conv2d, dense, matmul, moe_experts, softmax, swiglu_mlp,
};

/// Small instances of every operator family.
pub fn workloads() -> Vec<Program> {
    vec![
        matmul(8, 16, 12),
        batch_matmul(2, 4, 8, 6),
        conv2d(Conv2dShape {
            n: 1,
            c: 2,
            h: 5,
            w: 6,
            f: 4,
            kernel: 3,
            stride: 1,
            pad: 1,
        }),
        conv2d(Conv2dShape {
            n: 1,
            c: 2,
            h: 6,
            w: 6,
            f: 2,
            kernel: 3,
            stride: 2,
            pad: 0,
        }),
        dense(4, 16, 8, Some(UnOp::Relu)),
        dense(6, 8, 4, None),
        softmax(4, 16),
        attention(2, 4, 8),
        swiglu_mlp(4, 8, 12),
        moe_experts(2, 4, 8, 4),
    ]
}

/// Deterministic pseudo-random input data in [-1, 1).
fn data(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Run `f` whose first buffers are `p`'s; returns the outputs of `p`.
fn run(p: &Program, f: &Func) -> Vec<Vec<f32>> {
    let mut bufs: Vec<Vec<f32>> = f
        .buffers
        .iter()
        .enumerate()
        .map(|(i, b)| match b.kind {
            BufKind::Input => data(i as u64 + 1, b.len()),
            BufKind::Local => vec![],
            _ => vec![f32::NAN; b.len()],
        })
        .collect();
    interp::run(f, &mut bufs);
    p.buffers
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind == BufKind::Output)
        .map(|(i, _)| bufs[i].clone())
        .collect()
}

/// The scheduled nest computes what the naive nest computes (relative tolerance 1e-4).
pub fn check_equal(p: &Program, f: &Func) -> Result<(), String> {
    for (b, (x, y)) in run(p, &p.naive()).iter().zip(run(p, f)).enumerate() {
        for (i, (a, b2)) in x.iter().zip(&y).enumerate() {
            let tol = 1e-4 * a.abs().max(1.0);
            let diff = (a - b2).abs();
            if diff.is_nan() || diff > tol {
                return Err(format!(
                    "output {b} element {i}: naive {a} vs scheduled {b2}"
                ));
            }
        }
    }
    Ok(())
}
