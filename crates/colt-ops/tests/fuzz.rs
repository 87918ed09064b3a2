//! Fuzz harness of the spec parser: mutated specs, random compute statements and random
//! bytes must each give `Ok` or one error line, never a panic or a stack overflow (which
//! aborts the test process).
//!
//! A time-bounded loop over proptest generators, so CI runs it briefly and a long run is
//! one variable away: `COLT_FUZZ_SECS=600 cargo test -p colt-ops --test fuzz -- --nocapture`
//! (it prints executions and executions/s).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::time::{Duration, Instant};

const SEED_SPEC: &str = r#"name = "mm"
[constants]
alpha = 0.5
[sizes]
N = 12
[tensors]
A = { shape = [16, 8], role = "input" }
B = { shape = [8, "N"], role = "input" }
T = { shape = [16, "N"], role = "temp" }
U = { shape = [16, 12], role = "temp" }
C = { shape = [16, 12], role = "output" }
[[stage]]
compute = "T[i, j] += alpha * A[i, k] * B[k, j]"
[[stage]]
compute = "U[i, j] = select(T[i, j] > 0, pad(T[i, j + 1]), erf(T[i, j])) + select(0 <= j - 1 < N && i >= 2, T[i, j - 1], pow(T[i, j], 2))"
[[stage]]
compute = "C[i, j] = max(U[i, j], 0) + exp(-U[i, j]) / (1 + U[i, (j + 1) % 12])"
extents = { k = "N - 4" }
"#;

const PIECES: &[&str] = &[
    "A",
    "B",
    "C",
    "T",
    "i",
    "j",
    "k",
    "[",
    "]",
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "=",
    "+=",
    "max=",
    "min=",
    "max",
    "exp",
    "silu",
    "select",
    "pad",
    "pow",
    "erf",
    "<",
    "<=",
    ">=",
    "==",
    "!=",
    "&&",
    "N",
    "[sizes]",
    "0",
    "1",
    "2.5",
    "1e308",
    "-9223372036854775808",
    "9223372036854775807",
    "alpha",
    " ",
    "\n",
    "\"",
    "{",
    "}",
    "shape",
    "role",
    "[[stage]]",
    "compute",
    "extents",
    "[tensors]",
    "#",
    "\u{0}",
    "é",
    "\u{202e}",
];

fn secs() -> f64 {
    std::env::var("COLT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// Run `check` on values of `strategy` until the time is up; returns the execution count.
fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value)) -> u64 {
    let mut runner = TestRunner::deterministic();
    let deadline = Instant::now() + Duration::from_secs_f64(secs());
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let v = strategy.new_tree(&mut runner).expect("generator").current();
        check(v);
        n += 1;
    }
    let s = start.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {name}: {n} executions in {s:.1} s ({:.0}/s)",
        n as f64 / s
    );
    n
}

fn check_spec(text: &str) {
    match colt_ops::from_spec_str(text) {
        Ok(p) => assert!(!p.stages.is_empty()),
        Err(e) => {
            let line = e.to_string();
            assert!(
                !line.contains('\n'),
                "multi-line error for {text:?}: {line}"
            );
        }
    }
}

/// Edits of the seed spec: (position, bytes removed, piece inserted) repeated.
fn mutated_spec() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            0..SEED_SPEC.len(),
            0usize..8,
            prop::sample::select(PIECES),
            1usize..6,
        ),
        1..12,
    )
    .prop_map(|edits| {
        let mut s = SEED_SPEC.to_string();
        for (pos, cut, piece, times) in edits {
            let mut pos = pos.min(s.len());
            while !s.is_char_boundary(pos) {
                pos -= 1;
            }
            let mut end = (pos + cut).min(s.len());
            while !s.is_char_boundary(end) {
                end += 1;
            }
            s.replace_range(pos..end, &piece.repeat(times));
        }
        s
    })
}

fn compute_statement() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..60).prop_map(|ps| {
        let body: String = ps.concat().replace(['"', '\n', '\\'], " ");
        format!(
            "[tensors]\nA = {{ shape = [16, 8], role = \"input\" }}\nB = {{ shape = [8, 12], role = \"input\" }}\nC = {{ shape = [16, 12], role = \"output\" }}\n[[stage]]\ncompute = \"C[i, j] {body}\"\n"
        )
    })
}

#[test]
fn fuzz_spec_parser_mutated_specs() {
    assert!(fuzz("mutated specs", mutated_spec(), |s| check_spec(&s)) > 0);
}

#[test]
fn fuzz_spec_parser_random_statements() {
    assert!(fuzz("random statements", compute_statement(), |s| check_spec(&s)) > 0);
}

#[test]
fn fuzz_spec_parser_random_bytes() {
    let bytes = prop::collection::vec(any::<u8>(), 0..512);
    assert!(
        fuzz("random bytes", bytes, |b| check_spec(
            &String::from_utf8_lossy(&b)
        )) > 0
    );
}

/// Deeply nested and very long inputs (the shapes that overflowed the stack) within 1 MiB.
#[test]
fn pathological_shapes_within_the_input_limit() {
    let head = "[tensors]\nA = { shape = [4], role = \"input\" }\nC = { shape = [4], role = \"output\" }\n[[stage]]\ncompute = \"C[i] = ";
    for body in [
        format!("A[i]{}", " + A[i]".repeat(100_000)),
        format!("A[i]{}", "*-A[i]".repeat(100_000)),
        format!("{}A[i]{}", "(".repeat(200_000), ")".repeat(200_000)),
        format!("{}A[i]", "-".repeat(500_000)),
        format!("{}A[i]{}", "exp(".repeat(100_000), ")".repeat(100_000)),
        format!("A[{}i{}]", "(".repeat(100_000), ")".repeat(100_000)),
    ] {
        let text = format!("{head}{body}\"\n");
        assert!(text.len() as u64 <= colt_ops::MAX_INPUT_BYTES * 2);
        check_spec(&text);
    }
    // Deep TOML nesting (arrays in the shape).
    let text = format!(
        "[tensors]\nA = {{ shape = {}1{}, role = \"input\" }}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    check_spec(&text);
}
