//! Deterministic structural keys for deduplicating schedules across runs and processes.
//!
//! std's `DefaultHasher` is seeded per process, so keys use 64-bit FNV-1a over a canonical
//! text: the compact JSON of a trace (field order is fixed by the types), or the printed
//! lowered loop nest (two traces that lower to the same nest share that key).

use crate::error::Result;
use crate::trace::Trace;
use colt_ir::{Func, Program, func_str};

/// 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Key of a trace: equal traces (same workload, instructions and decisions) have equal keys.
pub fn trace_key(trace: &Trace) -> u64 {
    fnv1a(
        serde_json::to_string(trace)
            .expect("traces serialise")
            .as_bytes(),
    )
}

/// Key of a lowered loop nest (its printed form).
pub fn func_key(f: &Func) -> u64 {
    fnv1a(func_str(f).as_bytes())
}

/// Key of the loop nest a trace lowers to: traces that differ only in ways that do not change
/// the nest share it.
pub fn structural_key(program: &Program, trace: &Trace) -> Result<u64> {
    Ok(func_key(&crate::apply_trace(program, trace)?))
}
