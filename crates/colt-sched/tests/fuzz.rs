//! Fuzz harness of the trace parser and replay: mutated traces must parse to `Ok` or one
//! error line and replay to a program or one error line, never a panic or a stack overflow.
//!
//! Time-bounded: `COLT_FUZZ_SECS=600 cargo test -p colt-sched --test fuzz -- --nocapture`.

use colt_sched::{Trace, apply_trace, sample};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use std::time::{Duration, Instant};

fn secs() -> f64 {
    std::env::var("COLT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "0",
    "1",
    "-1",
    "7",
    "64",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e999",
    "null",
    "true",
    "\"split\"",
    "\"reorder\"",
    "\"fuse\"",
    "\"parallel\"",
    "\"vectorize\"",
    "\"unroll\"",
    "\"compute_at\"",
    "\"cache_write\"",
    "\"matmul\"",
    "\"i\"",
    "\"j\"",
    "\"k\"",
    "\"i0\"",
    "\"factors\"",
    "\"loop\"",
    "\"stage\"",
    "\"inst\"",
    " ",
    "\u{0}",
];

fn seeds() -> (colt_ir::Program, Vec<String>) {
    let mm = colt_ops::matmul(16, 32, 24);
    let traces = (0..8)
        .map(|s| sample(&mm, &mut Pcg64::seed_from_u64(s)).to_json())
        .collect();
    (mm, traces)
}

fn check(program: &colt_ir::Program, text: &str) {
    match Trace::from_json(text) {
        Ok(t) => match apply_trace(program, &t) {
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
        },
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
}

#[test]
fn fuzz_trace_parser_and_replay() {
    let (mm, traces) = seeds();
    let strategy = (
        0..traces.len(),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0usize..6,
                prop::sample::select(PIECES),
                1usize..4,
            ),
            1..10,
        ),
    );
    let mut runner = TestRunner::deterministic();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs());
    let mut n = 0u64;
    while Instant::now() < deadline {
        let (which, edits) = strategy.new_tree(&mut runner).unwrap().current();
        let mut s = traces[which].clone();
        for (pos, cut, piece, times) in edits {
            let mut pos = pos.index(s.len() + 1);
            while !s.is_char_boundary(pos) {
                pos -= 1;
            }
            let mut end = (pos + cut).min(s.len());
            while !s.is_char_boundary(end) {
                end += 1;
            }
            s.replace_range(pos..end, &piece.repeat(times));
        }
        check(&mm, &s);
        n += 1;
    }
    let el = start.elapsed().as_secs_f64();
    eprintln!(
        "fuzz traces: {n} executions in {el:.1} s ({:.0}/s)",
        n as f64 / el
    );
    assert!(n > 0);
}

#[test]
fn pathological_traces() {
    let (mm, _) = seeds();
    for text in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!(
            r#"{{"version": 1, "workload": "matmul", "insts": [{}]}}"#,
            vec![r#"{"inst": "split", "stage": "matmul", "loop": "i", "factors": [16, 1]}"#; 5000]
                .join(",")
        ),
    ] {
        check(&mm, &text);
    }
}
