//! Shared helpers of the colt-ops integration tests: seeded inputs and running a program
//! through the reference interpreter.
#![allow(dead_code)]

use colt_ir::{BufKind, Program};
use colt_ops::{OpsError, from_spec_str};

/// The program of a spec that must be valid.
pub fn ok(text: &str) -> Program {
    from_spec_str(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The error of a spec that must be rejected: one line, naming no file.
pub fn err(text: &str) -> String {
    let e = from_spec_str(text).expect_err("spec should be rejected");
    assert!(matches!(e, OpsError::Spec { file: None, .. }));
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "error is not one line: {msg}");
    msg
}

/// Three tensors: inputs `A: [4, 3]`, `B: [3, 5]` and output `C: [4, 5]` (lines 2 to 5).
pub const HEAD: &str = r#"
[tensors]
A = { shape = [4, 3], role = "input" }
B = { shape = [3, 5], role = "input" }
C = { shape = [4, 5], role = "output" }
"#;

/// The error of a one-stage spec over [`HEAD`] with the TOML `more` after it (the compute
/// line is line 7 plus the lines of `more`).
pub fn stage_err_after(more: &str, compute: &str) -> String {
    err(&format!("{HEAD}{more}[[stage]]\ncompute = \"{compute}\"\n"))
}

/// `msg` contains every one of `parts`.
pub fn has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in: {msg}");
    }
}

/// Deterministic values in [-1, 1) from a 64-bit LCG (no RNG dependency needed).
pub fn fill(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 40) as f32) / ((1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Seeded inputs for every buffer (temps and outputs are zero).
pub fn inputs(p: &Program, seed: u64) -> Vec<Vec<f32>> {
    p.buffers
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if b.kind == BufKind::Input {
                fill(seed + i as u64, b.len())
            } else {
                vec![0.0; b.len()]
            }
        })
        .collect()
}

/// Run the naive nest of `p` on `bufs` and return all buffers.
pub fn run(p: &Program, mut bufs: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    colt_ir::interp::run(&p.naive(), &mut bufs);
    bufs
}

/// The buffer called `name` after running.
pub fn get<'a>(p: &Program, bufs: &'a [Vec<f32>], name: &str) -> &'a [f32] {
    &bufs[p
        .buffer_by_name(name)
        .unwrap_or_else(|| panic!("no buffer {name}"))
        .0 as usize]
}

pub fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

pub fn silu(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}
