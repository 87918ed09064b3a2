//! One batch of good and deliberately broken kernels: each is classified and the batch goes on.

mod common;

use std::time::Instant;

use colt_measure::{Measurer, OutcomeKind, Source};
use common::*;

#[test]
fn broken_kernels_are_classified_and_the_batch_continues() {
    let ok = || cand(reference());
    let candidates = vec![
        ok(),
        cand(vadd_src(
            "",
            "if (i == 7) *(volatile float*)0 = 1.0f; c[i] = a[i] + b[i];",
        )),
        ok(),
        cand(vadd_src("", "if (i == 3) abort(); c[i] = a[i] + b[i];")),
        ok(),
        cand(vadd_src(
            "",
            "volatile int spin = 1; while (spin) {} c[i] = a[i] + b[i];",
        )),
        ok(),
        cand(vadd_src("", "c[i] = a[i] + b[i] + (i == 5 ? 1.0f : 0.0f);")),
        cand(vadd_src("", "if (i != 9) c[i] = a[i] + b[i];")),
        cand(vadd_src("", "c[i] = a[i] + b[i]")), // missing semicolon
        cand(Source::with_symbol(reference().code, "no_such_symbol")),
        // printf to stdout must not corrupt the protocol
        cand(vadd_src(
            "",
            "if (i == 0) { printf(\"hello from the kernel\\n\"); fflush(stdout); } c[i] = a[i] + b[i];",
        )),
        // OpenMP version, with fast-math friendly reassociation of a sum of three
        cand(vadd_src("", "c[i] = b[i] + a[i];")),
    ];
    let expected = [
        OutcomeKind::Ok,
        OutcomeKind::Crash,
        OutcomeKind::Ok,
        OutcomeKind::Crash,
        OutcomeKind::Ok,
        OutcomeKind::Timeout,
        OutcomeKind::Ok,
        OutcomeKind::WrongResult,
        OutcomeKind::WrongResult,
        OutcomeKind::CompileError,
        OutcomeKind::Error,
        OutcomeKind::Ok,
        OutcomeKind::Ok,
    ];
    let mut m = Measurer::new(config("batch")).unwrap();
    let start = Instant::now();
    let outcomes = m.measure_batch(&reference(), &candidates);
    let elapsed = start.elapsed();
    assert_eq!(outcomes.len(), candidates.len());
    for (i, (o, k)) in outcomes.iter().zip(expected).enumerate() {
        assert_eq!(o.kind, k, "candidate {i}: {o:#?}");
    }
    // Details of each class.
    assert!(
        outcomes[1].message.contains("SIGSEGV"),
        "{}",
        outcomes[1].message
    );
    assert!(
        outcomes[3].message.contains("SIGABRT"),
        "{}",
        outcomes[3].message
    );
    assert!(
        outcomes[5].message.contains("no progress"),
        "{}",
        outcomes[5].message
    );
    assert!(
        outcomes[7].message.contains("c[5]"),
        "{}",
        outcomes[7].message
    );
    assert!(outcomes[7].max_abs_err.unwrap() > 0.5);
    assert!(
        outcomes[8].message.contains("c[9]") && outcomes[8].message.contains("NaN"),
        "{}",
        outcomes[8].message
    );
    assert!(
        outcomes[9].message.contains("error"),
        "{}",
        outcomes[9].message
    );
    assert!(
        outcomes[10].message.contains("no_such_symbol"),
        "{}",
        outcomes[10].message
    );
    for o in outcomes.iter().filter(|o| o.is_ok()) {
        assert_eq!(o.repeats_us.len(), 3);
        let med = o.median_us.unwrap();
        assert!(med > 0.0 && med < 1e4, "implausible time {med} us");
        assert!(o.min_us.unwrap() <= med);
        assert!(o.gflops.unwrap() > 0.0);
        assert!(o.number >= 1);
        assert_eq!(o.max_abs_err, Some(0.0));
        assert!(o.message.is_empty());
    }
    // Three crashes/timeouts => the worker was respawned after each.
    assert_eq!(m.runner().spawns(), 4);
    assert!(elapsed.as_secs_f64() < 20.0, "batch took {elapsed:?}");
    // Outcomes serialise with stable snake_case kinds and round-trip.
    let json = serde_json::to_string(&outcomes).unwrap();
    assert!(json.contains("\"wrong_result\"") && json.contains("\"compile_error\""));
    let back: Vec<colt_measure::Outcome> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, outcomes);
}
