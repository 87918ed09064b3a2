//! From scheduled `colt_ir::Func`s to outcomes: naive reference, baselines, schedules, seeds.

mod common;

use colt_measure::{Compiler, Measurer, OutcomeKind, kernel};
use colt_sched::{Inst, StageLoop, Trace};
use common::config;

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn scheduled_funcs_measure_correct_against_the_naive_reference() {
    let n = 64;
    let p = colt_ops::matmul(n, n, n);
    let flops = p.flops() as f64;
    let naive = p.naive();
    let tiled = colt_sched::apply_trace(&p, &Trace::tiled_matmul(n, 4, 32)).unwrap();
    let reference = kernel::source(&naive).unwrap();
    let [gcc, clang] = kernel::baselines(&naive, flops).unwrap();
    let cand = kernel::candidate(&tiled, Compiler::tuned(), flops).unwrap();
    // the packed copy is an extra temporary after the naive parameters
    assert_eq!(cand.buffers[..3], gcc.buffers[..]);
    assert_eq!(cand.buffers.len(), 4);
    let mut m = Measurer::new(config("ir")).unwrap();
    let out = m.measure_batch(&reference, &[gcc, clang, cand]);
    for (i, o) in out.iter().enumerate() {
        if i == 1 && o.kind == OutcomeKind::Unavailable {
            continue; // no clang on this machine: a clear outcome, checked elsewhere
        }
        assert_eq!(o.kind, OutcomeKind::Ok, "candidate {i}: {o:#?}");
        assert!(o.max_rel_err.unwrap() < 1e-3);
        assert!(o.gflops.unwrap() > 0.0 && o.min_us.unwrap() <= o.median_us.unwrap());
    }
}

#[test]
fn softmax_schedule_and_wrong_schedule_are_told_apart() {
    let p = colt_ops::softmax(8, 64);
    let naive = p.naive();
    let mut t = Trace::new("softmax");
    t.insts = vec![
        Inst::ComputeInline { stage: s("exp") },
        Inst::Parallel(StageLoop {
            stage: s("norm"),
            loop_: s("i"),
        }),
        Inst::Vectorize(StageLoop {
            stage: s("norm"),
            loop_: s("j"),
        }),
    ];
    let good = colt_sched::apply_trace(&p, &t).unwrap();
    // a corrupted schedule: drop the normalisation's division (still valid C)
    let mut bad = good.clone();
    fn strip_div(body: &mut [colt_ir::Stmt]) {
        for st in body {
            match st {
                colt_ir::Stmt::Loop(l) => strip_div(&mut l.body),
                colt_ir::Stmt::Alloc { body, .. } => strip_div(body),
                colt_ir::Stmt::Block(b) if b.name == "norm" => {
                    if let colt_ir::Value::Binary(_, a, _) = b.value.clone() {
                        b.value = *a;
                    }
                }
                colt_ir::Stmt::Block(_) => {}
            }
        }
    }
    strip_div(&mut bad.body);
    let flops = p.flops() as f64;
    let mut m = Measurer::new(config("softmax")).unwrap();
    let out = m.measure_batch(
        &kernel::source(&naive).unwrap(),
        &[
            kernel::candidate(&good, Compiler::tuned(), flops).unwrap(),
            kernel::candidate(&bad, Compiler::tuned(), flops).unwrap(),
        ],
    );
    assert_eq!(out[0].kind, OutcomeKind::Ok, "{:#?}", out[0]);
    assert_eq!(out[1].kind, OutcomeKind::WrongResult, "{:#?}", out[1]);
    assert!(out[1].message.contains("Y["), "{}", out[1].message);
}

#[test]
fn seeded_inputs_make_measurements_deterministic() {
    let p = colt_ops::matmul(16, 16, 16);
    let naive = p.naive();
    let tiled = colt_sched::apply_trace(&p, &Trace::tiled_matmul(16, 2, 16)).unwrap();
    let reference = kernel::source(&naive).unwrap();
    let cand = kernel::candidate(&tiled, Compiler::tuned(), 0.0).unwrap();
    let errs = |seed: u64| {
        let mut cfg = config(&format!("seed{seed}"));
        cfg.seed = seed;
        let mut m = Measurer::new(cfg).unwrap();
        let o = m
            .measure_batch(&reference, std::slice::from_ref(&cand))
            .remove(0);
        assert_eq!(o.kind, OutcomeKind::Ok, "{o:#?}");
        (o.max_abs_err.unwrap(), o.max_rel_err.unwrap())
    };
    // same seed, same inputs, same (bit-identical) errors; another seed, other inputs
    assert_eq!(errs(5), errs(5));
    let a = colt_measure::inputs::input_values(5, 0, 256);
    assert_eq!(a, colt_measure::inputs::input_values(5, 0, 256));
    assert_ne!(a, colt_measure::inputs::input_values(6, 0, 256));
}

/// The 1024^3 figures of the report (not a pass/fail test; timings are printed):
/// `cargo test -p colt-measure --release --test ir -- --ignored --nocapture matmul_1024`.
#[test]
#[ignore]
fn matmul_1024_figures() {
    let n = 1024;
    let p = colt_ops::matmul(n, n, n);
    let flops = p.flops() as f64;
    let naive = p.naive();
    let mut cands = kernel::baselines(&naive, flops).unwrap().to_vec();
    let shapes = [(8, 32), (4, 64), (16, 32), (8, 64)];
    for (mr, nr) in shapes {
        let f = colt_sched::apply_trace(&p, &Trace::tiled_matmul(n, mr, nr)).unwrap();
        cands.push(kernel::candidate(&f, Compiler::tuned(), flops).unwrap());
    }
    let mut cfg = config("m1024");
    cfg.timeout_s = 60.0;
    cfg.repeats = 5;
    cfg.min_repeat_ms = 50.0;
    let mut m = Measurer::new(cfg).unwrap();
    let out = m.measure_batch(&kernel::source(&naive).unwrap(), &cands);
    let names: Vec<String> = [
        "naive gcc -O3".to_string(),
        format!("naive {} -O3", cands[1].compiler.cc),
    ]
    .into_iter()
    .chain(
        shapes
            .iter()
            .map(|(a, b)| format!("tiled {a}x{b} ({})", Compiler::tuned().cc)),
    )
    .collect();
    for (name, o) in names.iter().zip(&out) {
        println!(
            "{name:>28}: {:<12} median {:>10.1} us  min {:>10.1} us  {:>7.2} GFLOP/s  max rel err {:.1e}",
            o.kind.as_str(),
            o.median_us.unwrap_or(f64::NAN),
            o.min_us.unwrap_or(f64::NAN),
            o.gflops.unwrap_or(f64::NAN),
            o.max_rel_err.unwrap_or(f64::NAN)
        );
    }
}
