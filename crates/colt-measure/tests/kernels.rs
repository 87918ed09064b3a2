//! Other measurement paths: OpenMP matmul, baselines, temporaries, a broken reference.

mod common;

use colt_measure::{BufSpec, Candidate, Compiler, Measurer, OutcomeKind, Source};
use common::*;

const M: usize = 16;

fn matmul(pragma: &str) -> Source {
    Source::new(format!(
        "void colt_kernel(float* const* bufs) {{\n\
           const float* A = bufs[0]; const float* B = bufs[1]; float* C = bufs[2];\n\
           {pragma}\n\
           for (int i = 0; i < {M}; i++)\n\
             for (int j = 0; j < {M}; j++) {{\n\
               float acc = 0.0f;\n\
               for (int k = 0; k < {M}; k++) acc += A[i*{M}+k] * B[k*{M}+j];\n\
               C[i*{M}+j] = acc;\n\
             }}\n\
         }}\n"
    ))
}

fn matmul_specs() -> Vec<BufSpec> {
    vec![
        BufSpec::input("A", M * M),
        BufSpec::input("B", M * M),
        BufSpec::output("C", M * M),
    ]
}

#[test]
fn openmp_matmul_and_baselines_are_ok() {
    let flops = 2.0 * (M * M * M) as f64;
    let mk = |source, compiler| Candidate {
        source,
        compiler,
        buffers: matmul_specs(),
        flops,
    };
    let mut candidates = vec![
        mk(matmul("#pragma omp parallel for"), Compiler::tuned()),
        mk(matmul(""), Compiler::gcc_o3()),
    ];
    let clang = Compiler::clang_o3();
    let have_clang = clang.probe().is_ok();
    if have_clang {
        candidates.push(mk(matmul(""), clang));
    } else {
        eprintln!(
            "skipping the clang baseline: {}",
            clang.probe().unwrap_err()
        );
    }
    let mut m = Measurer::new(config("matmul")).unwrap();
    let outcomes = m.measure_batch(&matmul(""), &candidates);
    for o in &outcomes {
        assert_eq!(o.kind, OutcomeKind::Ok, "{o:#?}");
        assert!(o.gflops.unwrap() > 0.0);
        // fast-math reassociation stays well inside the tolerance
        assert!(o.max_rel_err.unwrap() < 1e-3);
    }
}

#[test]
fn temporaries_are_poisoned() {
    let specs = vec![
        BufSpec::input("a", N),
        BufSpec::output("c", N),
        BufSpec::temp("t", N),
    ];
    let reference = Source::new(format!(
        "void colt_kernel(float* const* bufs) {{ for (int i = 0; i < {N}; i++) bufs[1][i] = 2.0f * bufs[0][i]; }}"
    ));
    let good = Source::new(format!(
        "void colt_kernel(float* const* bufs) {{ float* t = bufs[2];\n\
           for (int i = 0; i < {N}; i++) t[i] = bufs[0][i];\n\
           for (int i = 0; i < {N}; i++) bufs[1][i] = t[i] + t[i]; }}"
    ));
    // accumulates into the workspace without initialising it
    let bad = Source::new(format!(
        "void colt_kernel(float* const* bufs) {{ float* t = bufs[2];\n\
           for (int i = 0; i < {N}; i++) t[i] += 2.0f * bufs[0][i];\n\
           for (int i = 0; i < {N}; i++) bufs[1][i] = t[i]; }}"
    ));
    let mk = |source| Candidate {
        source,
        compiler: Compiler::tuned(),
        buffers: specs.clone(),
        flops: 0.0,
    };
    let mut m = Measurer::new(config("temps")).unwrap();
    let out = m.measure_batch(&reference, &[mk(good), mk(bad)]);
    assert_eq!(out[0].kind, OutcomeKind::Ok, "{:#?}", out[0]);
    assert_eq!(out[0].gflops, None); // no flop count
    assert_eq!(out[1].kind, OutcomeKind::WrongResult, "{:#?}", out[1]);
    assert!(out[1].message.contains("NaN"));
}

#[test]
fn a_crashing_reference_is_reported_as_such() {
    let reference = vadd_src("", "*(volatile float*)0 = 1.0f;");
    let mut m = Measurer::new(config("badref")).unwrap();
    let out = m.measure_batch(
        &reference,
        &[cand(super_ok()), cand(vadd_src("", "syntax error"))],
    );
    assert_eq!(out[0].kind, OutcomeKind::Error, "{:#?}", out[0]);
    assert!(
        out[0].message.contains("reference kernel failed") && out[0].message.contains("SIGSEGV")
    );
    assert_eq!(out[1].kind, OutcomeKind::CompileError);

    // A reference that does not compile: candidates that compile are errors.
    let out = m.measure_batch(&vadd_src("", "oops"), &[cand(super_ok())]);
    assert_eq!(out[0].kind, OutcomeKind::Error);
    assert!(out[0].message.contains("reference failed to compile"));
}

fn super_ok() -> Source {
    reference()
}

#[test]
fn missing_compiler_is_a_clear_unavailable_outcome() {
    let mut m = Measurer::new(config("nocc")).unwrap();
    let c = Candidate {
        compiler: Compiler::naive().with_cc("clang-does-not-exist-99"),
        ..cand(reference())
    };
    let out = m.measure_batch(&reference(), &[c]);
    assert_eq!(out[0].kind, OutcomeKind::Unavailable);
    assert!(
        out[0].message.starts_with("not available"),
        "{}",
        out[0].message
    );
    assert!(
        out[0].message.contains("clang-does-not-exist-99"),
        "{}",
        out[0].message
    );
    assert!(out[0].message.contains("COLT_CLANG"), "{}", out[0].message);
}

/// Not a pass/fail check: prints the per-candidate overhead of the measurement machinery
/// (`cargo test -p colt-measure --release --test kernels -- --ignored --nocapture overhead`).
#[test]
#[ignore]
fn overhead() {
    use std::time::Instant;
    let mut cfg = config("overhead");
    cfg.repeats = 5;
    cfg.min_repeat_ms = 1.0;
    let n = 40;
    let candidates: Vec<_> = (0..n)
        .map(|i| {
            cand(vadd_src(
                &format!("/* variant {i} */"),
                "c[i] = a[i] + b[i];",
            ))
        })
        .collect();
    let mut m = Measurer::new(cfg).unwrap();
    let t = Instant::now();
    let out = m.measure_batch(&reference(), &candidates);
    let cold = t.elapsed().as_secs_f64();
    assert!(out.iter().all(|o| o.is_ok()));
    let t = Instant::now();
    let out = m.measure_batch(&reference(), &candidates);
    let warm = t.elapsed().as_secs_f64();
    assert!(out.iter().all(|o| o.is_ok()));
    let timed_ms: f64 = out
        .iter()
        .map(|o| (o.number as f64) * o.median_us.unwrap() * 7.0 / 1e3)
        .sum();
    let mut quick = config("overhead");
    quick.repeats = 1;
    quick.warmup = 0;
    quick.min_repeat_ms = 0.0;
    let mut q = Measurer::new(quick).unwrap();
    q.measure_batch(&reference(), &candidates);
    let t = Instant::now();
    let out_q = q.measure_batch(&reference(), &candidates);
    let bare = t.elapsed().as_secs_f64();
    assert!(out_q.iter().all(|o| o.is_ok() && o.number == 1));
    println!(
        "fixed overhead (cached compile, 1 run + 1 calibration run + 1 timed run): {:.3} ms/candidate",
        bare * 1e3 / n as f64
    );
    println!(
        "{n} candidates: cold (compile + run) {:.1} ms/candidate, cached compile {:.2} ms/candidate \
         of which ~{:.2} ms kernel time (warmup + repeats)",
        cold * 1e3 / n as f64,
        warm * 1e3 / n as f64,
        timed_ms / n as f64
    );
}

#[test]
fn clang_baseline_falls_back_and_reports_unavailable() {
    // The preset finds some clang when one is installed ...
    let clang = Compiler::clang_o3();
    assert!(clang.cc.contains("clang"), "{}", clang.cc);
    assert_eq!(clang.flags, Compiler::naive().flags);
    // ... takes the first name that runs ...
    let names = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let picked = Compiler::naive().with_first_available(&names(&["no-such-clang-1", "cc"]));
    assert_eq!(picked.cc, "cc");
    // ... and with none, measuring gives a clear `unavailable` outcome, not a crash.
    let none =
        Compiler::naive().with_first_available(&names(&["no-such-clang-1", "no-such-clang-2"]));
    assert_eq!(none.cc, "no-such-clang-1");
    let mut m = Measurer::new(config("noclang")).unwrap();
    let out = m.measure_batch(
        &reference(),
        &[Candidate {
            compiler: none,
            ..cand(reference())
        }],
    );
    assert_eq!(out[0].kind, OutcomeKind::Unavailable, "{:#?}", out[0]);
    assert!(out[0].message.contains("not available") && out[0].message.contains("no-such-clang-1"));
}
