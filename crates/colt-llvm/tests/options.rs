//! Real programs from elsewhere: flags, several files, arguments, standard input, output
//! checks for programs that print timings, the memory objective, the standard pipelines as
//! starting points and the final round-robin timing (real LLVM tools, 14+).

use std::path::{Path, PathBuf};

use colt_llvm::program::Program;
use colt_llvm::retime;
use colt_llvm::{
    EnvConfig, LlvmEnv, LlvmError, Objective, OutputCheck, RunOptions, Toolchain, bench, programs,
};
use colt_search::{NoObserver, OutcomeKind, SearchConfig, Strategy};

fn tools() -> Toolchain {
    Toolchain::discover()
        .expect("LLVM 14+ (opt, clang, llc, llvm-link) must be installed for these tests")
}

fn seq(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// Two files: `main.c` needs `-DN=...`, reads a number of repeats from argv[1] and numbers
/// from standard input, and prints a line with the time of day before its checksum.
fn timing_program(dir: &Path) -> Vec<PathBuf> {
    let a = dir.join("main.c");
    let b = dir.join("work.c");
    std::fs::write(
        &a,
        r#"/* Copyright (c) 2026 Somebody. All rights reserved. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
long work(long n);
int main(int argc, char **argv) {
    long k = argc > 1 ? atol(argv[1]) : 0;
    long s = 0, x;
    while (scanf("%ld", &x) == 1) s += x;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long r = work(N + k);
    printf("time %ld.%09ld\n", (long)ts.tv_sec, (long)ts.tv_nsec);
    printf("checksum %ld %ld\n", r, s);
    return 0;
}
"#,
    )
    .unwrap();
    std::fs::write(
        &b,
        "long work(long n) { long s = 0; for (long i = 0; i < n * 1000; i++) s += i % 7; return s; }\n",
    )
    .unwrap();
    vec![a, b]
}

fn options(dir: &Path, check: OutputCheck) -> RunOptions {
    let input = dir.join("input.txt");
    std::fs::write(&input, "1 2 3\n4\n").unwrap();
    RunOptions {
        cflags: RunOptions::words("-DN=20 -Wall"),
        ldflags: RunOptions::words("-lm"),
        args: vec!["5".into()],
        stdin: Some(input),
        check,
    }
}

#[test]
fn flags_arguments_and_standard_input_reach_every_build_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let files = timing_program(dir.path());
    // Without -DN the program does not build.
    let plain = Program::from_files(&files).unwrap();
    let e = LlvmEnv::new(tools(), &plain, EnvConfig::new(Objective::Size))
        .err()
        .expect("N is undefined without --cflags");
    assert!(e.to_string().contains("clang"), "{e}");
    let p = Program::from_files(&files)
        .unwrap()
        .with_options(options(dir.path(), "ignore-lines ^time".parse().unwrap()))
        .unwrap();
    let mut env = LlvmEnv::new(tools(), &p, EnvConfig::new(Objective::Runtime)).unwrap();
    let head = String::from_utf8_lossy(&env.prepared().expected.head).to_string();
    // work(25) = sum of i % 7 for i < 25000; stdin sums to 10.
    let want: i64 = (0..25_000i64).map(|i| i % 7).sum();
    assert!(
        head.contains(&format!("checksum {want} 10")),
        "N, argv and stdin all reach the run: {head}"
    );
    let r = env.evaluate(&seq(&["default<O3>"]), true);
    assert_eq!(r.outcome, OutcomeKind::Ok, "{}", r.detail);
    assert!(r.runtime_us.is_some());
    // The baselines take the same flags and runs.
    let baselines = colt_llvm::baseline::build_baselines(&env);
    for b in &baselines {
        assert_eq!(b.outcome, OutcomeKind::Ok, "{}: {}", b.name, b.detail);
    }
}

#[test]
fn a_printed_timing_line_fails_the_exact_check_and_passes_when_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let files = timing_program(dir.path());
    let exact = Program::from_files(&files)
        .unwrap()
        .with_options(options(dir.path(), OutputCheck::Exact))
        .unwrap();
    let mut env = LlvmEnv::new(tools(), &exact, EnvConfig::new(Objective::Size)).unwrap();
    let r = env.evaluate(&seq(&["sroa", "instcombine"]), false);
    assert_eq!(r.outcome, OutcomeKind::WrongResult, "{r:?}");
    assert!(r.detail.contains("printed \"time "), "{}", r.detail);
    let lenient = Program::from_files(&files)
        .unwrap()
        .with_options(options(dir.path(), "ignore-lines ^time ".parse().unwrap()))
        .unwrap();
    let mut env = LlvmEnv::new(tools(), &lenient, EnvConfig::new(Objective::Size)).unwrap();
    let r = env.evaluate(&seq(&["sroa", "instcombine"]), false);
    assert_eq!(r.outcome, OutcomeKind::Ok, "{}", r.detail);
    // Checking only the checksum line works too; a regex that keeps nothing is refused.
    let only = Program::from_files(&files)
        .unwrap()
        .with_options(options(
            dir.path(),
            "lines-matching ^checksum".parse().unwrap(),
        ))
        .unwrap();
    let mut env = LlvmEnv::new(tools(), &only, EnvConfig::new(Objective::Size)).unwrap();
    assert_eq!(
        env.evaluate(&seq(&["sroa"]), false).outcome,
        OutcomeKind::Ok
    );
    let nothing = Program::from_files(&files)
        .unwrap()
        .with_options(options(dir.path(), "lines-matching ^nope".parse().unwrap()))
        .unwrap();
    let e = LlvmEnv::new(tools(), &nothing, EnvConfig::new(Objective::Size))
        .err()
        .expect("nothing to check");
    assert!(e.to_string().contains("leaves no line"), "{e}");
}

#[test]
fn a_missing_stdin_file_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let files = timing_program(dir.path());
    let e = Program::from_files(&files)
        .unwrap()
        .with_options(RunOptions {
            stdin: Some(dir.path().join("absent.txt")),
            ..RunOptions::default()
        })
        .unwrap_err();
    assert!(matches!(e, LlvmError::BadOption { .. }), "{e}");
    assert!(e.to_string().contains("--stdin") && e.to_string().contains("absent.txt"));
}

#[test]
fn the_memory_objective_sees_what_the_program_allocates() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("alloc.c");
    // 64 MiB, every page touched; the volatile pointer keeps any pipeline from removing it.
    std::fs::write(
        &c,
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    size_t n = (size_t)64 << 20;
    char *p = malloc(n);
    if (!p) return 1;
    memset(p, 1, n);
    char *volatile keep = p;
    long s = 0;
    for (size_t i = 0; i < n; i += 4096) s += keep[i];
    printf("checksum %ld\n", s);
    free(p);
    return 0;
}
"#,
    )
    .unwrap();
    let p = Program::from_files(&[c]).unwrap();
    let mut env = LlvmEnv::new(tools(), &p, EnvConfig::new(Objective::Memory)).unwrap();
    let r = env.evaluate(&seq(&["default<O2>"]), false);
    assert_eq!(r.outcome, OutcomeKind::Ok, "{}", r.detail);
    let kib = r.value(Objective::Memory).expect("a memory figure");
    assert!(
        (65_536.0..65_536.0 + 24_576.0).contains(&kib),
        "peak resident memory {kib} KiB for a 64 MiB allocation"
    );
}

#[test]
fn the_search_starts_from_the_standard_pipelines_and_never_ends_worse() {
    let program = programs::find("const_poly").unwrap().program();
    let mut env = LlvmEnv::new(tools(), &program, EnvConfig::new(Objective::Size)).unwrap();
    // Like for like with clang -Oz: the start IR carries -Oz's function attributes.
    assert!(env.prepared().start_ll.contains("minsize"));
    let oz = env.evaluate(&seq(&["default<Oz>"]), false);
    let baselines = colt_llvm::baseline::build_baselines(&env);
    let clang_oz = baselines
        .iter()
        .find(|b| b.name == "clang -Oz")
        .and_then(|b| b.ir_instructions)
        .unwrap();
    assert_eq!(
        oz.ir_instructions,
        Some(clang_oz),
        "default<Oz> on the start IR is clang -Oz"
    );
    // On vec_blend -O1 is smaller than -Oz: every strategy must measure it too and end no
    // worse than the best standard pipeline.
    let program = programs::find("vec_blend").unwrap().program();
    let mut env = LlvmEnv::new(tools(), &program, EnvConfig::new(Objective::Size)).unwrap();
    let standard = env.standard_states();
    assert_eq!(standard.len(), 3, "{standard:?}");
    let size = |env: &mut LlvmEnv, s: &Vec<String>| {
        let r = env.evaluate(s, false);
        r.value(Objective::Size)
            .unwrap_or_else(|| panic!("{s:?}: {}", r.detail))
    };
    let best_standard = standard
        .iter()
        .map(|s| size(&mut env, s))
        .fold(f64::INFINITY, f64::min);
    assert!(
        best_standard < size(&mut env, &seq(&["default<Oz>"])),
        "vec_blend: a standard pipeline beats -Oz"
    );
    for strategy in [Strategy::Random, Strategy::Evolutionary, Strategy::Mcts] {
        let mut env = LlvmEnv::new(tools(), &program, EnvConfig::new(Objective::Size)).unwrap();
        let cfg = SearchConfig {
            batch_size: 4,
            population: 16,
            generations: 2,
            ..SearchConfig::new(strategy, 6, 3)
        };
        let run = bench::tune(&mut env, &cfg, None, &mut NoObserver).unwrap();
        for s in &standard {
            assert!(
                run.history.iter().any(|t| &t.state == s),
                "{strategy:?} measured {s:?}"
            );
        }
        let best = run.best.expect("a correct candidate").latency_us;
        assert!(
            best <= best_standard,
            "{strategy:?}: {best} > the best standard pipeline's {best_standard}"
        );
    }
}

#[test]
fn the_final_timing_chooses_among_the_search_and_the_standard_pipelines() {
    let program = programs::find("dce_unused").unwrap().program();
    let mut env = LlvmEnv::new(tools(), &program, EnvConfig::new(Objective::Runtime)).unwrap();
    let search = vec![(seq(&["sroa", "instcombine"]), 1.0)];
    let f = retime::final_choice(&mut env, &search, None, 3);
    let origins: Vec<&str> = f.contenders.iter().map(|c| c.origin.as_str()).collect();
    assert_eq!(origins, ["search #1", "default<O3>", "default<O2>"]);
    assert!(f.contenders.iter().all(|c| c.value.is_some()), "{f:?}");
    let chosen = f.chosen().expect("a choice");
    let min = f
        .contenders
        .iter()
        .filter_map(|c| c.value)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen.value, Some(min));
    assert!(f.ratio.is_none(), "no reference was timed");
    // best_of keeps distinct sequences, best first.
    let history = vec![
        trial(0, &["a"], Some(5.0)),
        trial(1, &["b"], Some(3.0)),
        trial(2, &["b"], Some(4.0)),
        trial(3, &["c"], None),
    ];
    let best = retime::best_of(&history, 3);
    assert_eq!(best, vec![(seq(&["b"]), 3.0), (seq(&["a"]), 5.0)]);
}

fn trial(i: usize, s: &[&str], v: Option<f64>) -> colt_search::TrialRecord<Vec<String>> {
    colt_search::TrialRecord {
        trial: i,
        batch: 0,
        key: i as u64,
        state: seq(s),
        latency_us: v,
        outcome: if v.is_some() {
            OutcomeKind::Ok
        } else {
            OutcomeKind::WrongResult
        },
        detail: String::new(),
        predicted: None,
        proposer: "test".into(),
        strategy: Strategy::Random,
        node: None,
        best_us: None,
    }
}
