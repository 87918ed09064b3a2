//! End-to-end tests with the real LLVM tools found on this machine (LLVM 14+).
//!
//! Tests that change `$COLT_OPT` run under one lock: the environment is process-wide.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use colt_llvm::env::run_opt;
use colt_llvm::program::Program;
use colt_llvm::{EnvConfig, LlvmEnv, LlvmError, Objective, Toolchain, bench, programs};
use colt_search::{Environment, LlmEnvironment, NoObserver, OutcomeKind, SearchConfig, Strategy};

static ENV_LOCK: Mutex<()> = Mutex::new(());

fn tools() -> Toolchain {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    Toolchain::discover()
        .expect("LLVM 14+ (opt, clang, llc, llvm-link) must be installed for these tests")
}

fn seq(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn small_program() -> Program {
    programs::find("dce_unused").expect("benchmark").program()
}

#[test]
fn applying_a_sequence_equals_running_opt_by_hand() {
    let tools = tools();
    let env = LlvmEnv::new(
        tools.clone(),
        &small_program(),
        EnvConfig::new(Objective::Size),
    )
    .unwrap();
    let s = seq(&[
        "sroa",
        "instcombine",
        "licm",
        "indvars",
        "loop-deletion",
        "inline",
        "gvn",
        "globaldce",
    ]);
    let pipeline = env.pipeline(&s).unwrap();
    let via_env = env.optimize(&s).unwrap();
    // By hand: the start IR from clang, then opt with the same pipeline string.
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("p.c");
    std::fs::write(&c, programs::find("dce_unused").unwrap().source).unwrap();
    let start = dir.path().join("start.ll");
    let st = Command::new(&tools.clang)
        .args(colt_llvm::program::start_flags(Objective::Size))
        .arg(&c)
        .arg("-o")
        .arg(&start)
        .status()
        .unwrap();
    assert!(st.success());
    let out = dir.path().join("out.ll");
    let st = Command::new(&tools.opt)
        .arg("-S")
        .arg(format!("-passes={pipeline}"))
        .arg(&start)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let by_hand = std::fs::read_to_string(&out).unwrap();
    // The module id line names the input file; everything else must match.
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("; ModuleID") && !l.starts_with("source_filename"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&via_env), body(&by_hand));
    assert!(
        colt_llvm::ir::instruction_count(&via_env)
            < colt_llvm::ir::instruction_count(&env.prepared().start_ll)
    );
    // And the same through run_opt on the environment's own start file.
    assert_eq!(
        *via_env,
        run_opt(&tools.opt, &env.prepared().start_path(), &pipeline).unwrap()
    );
}

#[test]
fn measure_reports_size_and_checks_output() {
    let mut env = LlvmEnv::new(tools(), &small_program(), EnvConfig::new(Objective::Size)).unwrap();
    let s = seq(&["sroa", "instcombine", "simplifycfg", "gvn", "adce"]);
    let m = env.measure(std::slice::from_ref(&s));
    assert_eq!(m[0].outcome, OutcomeKind::Ok, "{}", m[0].detail);
    let r = env.results().values().next().unwrap().clone();
    assert_eq!(m[0].latency_us, r.ir_instructions.map(|n| n as f64));
    assert!(r.text_bytes.unwrap() > 0);
    // The same IR reached by a longer sequence is not rebuilt but gets the same numbers.
    let s2 = seq(&["sroa", "instcombine", "simplifycfg", "gvn", "adce", "dce"]);
    let m2 = env.measure(&[s2]);
    assert_eq!(m2[0].outcome, OutcomeKind::Ok);
}

#[test]
fn llm_actions_edit_the_sequence_and_bad_ones_are_errors() {
    let env = LlvmEnv::new(tools(), &small_program(), EnvConfig::new(Objective::Size)).unwrap();
    let s = seq(&["sroa", "gvn"]);
    let t = |j: serde_json::Value| -> colt_action::Transformation {
        let mut m: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_value(j).unwrap();
        let action = m.remove("action").unwrap().as_str().unwrap().to_string();
        colt_action::Transformation { action, args: m }
    };
    let out = env
        .apply(
            &s,
            &[
                t(serde_json::json!({"action": "append", "pass": "licm"})),
                t(serde_json::json!({"action": "swap", "at": 0})),
            ],
        )
        .unwrap();
    assert_eq!(out, seq(&["gvn", "sroa", "licm"]));
    assert!(
        env.apply(
            &s,
            &[t(
                serde_json::json!({"action": "append", "pass": "no-such-pass"})
            )]
        )
        .unwrap_err()
        .contains("unknown pass")
    );
    assert!(
        env.apply(&s, &[t(serde_json::json!({"action": "remove", "at": 7}))])
            .unwrap_err()
            .contains("out of range")
    );
    let vocab = env.vocabulary(&s);
    assert!(vocab.get("append").is_some() && vocab.get("remove").is_some());
    // Keys are stable and features have a fixed length.
    assert_eq!(env.key(&s), env.key(&s.clone()));
    assert_eq!(env.features(&s).len(), env.features(&out).len());
}

/// The prompt's space part (tools, pass table) is the same for every program, so the
/// embedded models' stored stem serves them all; the program and its source are in the
/// workload part only.
#[test]
fn the_prompt_space_is_the_same_for_every_program_and_the_workload_names_it() {
    let tools = tools();
    let env_of = |name: &str| {
        let p = programs::find(name).expect("benchmark").program();
        LlvmEnv::new(tools.clone(), &p, EnvConfig::new(Objective::Size)).unwrap()
    };
    let (a, b) = (env_of("dce_unused"), env_of("loop_crc32"));
    assert_eq!(a.prompt_space(), b.prompt_space());
    assert!(a.prompt_space().contains("Passes (name") && a.prompt_space().contains("licm"));
    assert!(!a.prompt_space().contains("dce_unused") && !a.prompt_space().contains("crc"));
    assert!(
        a.prompt_prefix().contains("dce_unused") && a.prompt_prefix().contains("Program source:")
    );
    assert!(b.prompt_prefix().contains("loop_crc32"));
}

/// A stand-in for `opt` that runs the real one and then deliberately miscompiles: every
/// `add` becomes `sub`.
fn miscompiling_opt(dir: &Path, real: &Path) -> PathBuf {
    let p = dir.join("bad-opt");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then exec {real} --version; fi\n\
         {real} \"$@\" | sed -e 's/ = add /= sub /g'\n",
        real = real.display()
    );
    std::fs::write(&p, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn a_miscompiling_opt_is_rejected_never_best() {
    let dir = tempfile::tempdir().unwrap();
    let real = tools().opt;
    let bad = miscompiling_opt(dir.path(), &real);
    let tools = {
        let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: tests touching the environment hold ENV_LOCK.
        unsafe { std::env::set_var("COLT_OPT", &bad) };
        let t = Toolchain::discover();
        unsafe { std::env::remove_var("COLT_OPT") };
        t.unwrap()
    };
    assert_eq!(tools.opt, bad);
    let mut env = LlvmEnv::new(tools, &small_program(), EnvConfig::new(Objective::Size)).unwrap();
    let s = seq(&["sroa", "instcombine", "gvn"]);
    let m = env.measure(std::slice::from_ref(&s));
    assert_eq!(m[0].outcome, OutcomeKind::WrongResult, "{}", m[0].detail);
    assert_eq!(m[0].latency_us, None);
    // Through the engine: every trial is rejected, so there is no best.
    let cfg = SearchConfig {
        batch_size: 4,
        population: 16,
        generations: 1,
        ..SearchConfig::new(Strategy::Evolutionary, 4, 3)
    };
    let run = bench::tune(&mut env, &cfg, None, &mut NoObserver).unwrap();
    assert!(run.best.is_none());
    assert!(run.history.iter().all(|r| r.latency_us.is_none()));
}

#[test]
fn missing_opt_is_one_clear_error() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: tests touching the environment hold ENV_LOCK.
    unsafe { std::env::set_var("COLT_OPT", "/nonexistent/opt-22") };
    let r = Toolchain::discover();
    unsafe { std::env::remove_var("COLT_OPT") };
    let e = r.unwrap_err();
    assert!(matches!(e, LlvmError::ToolMissing { .. }));
    let msg = e.to_string();
    assert!(!msg.contains('\n'));
    assert!(msg.starts_with("opt not found"), "{msg}");
    assert!(
        msg.contains("apt-get install llvm-22 clang-22")
            && msg.contains("$COLT_OPT")
            && msg.contains("LLVM 14+"),
        "{msg}"
    );
}

#[test]
fn user_c_file_without_main_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("lib.c");
    std::fs::write(&c, "int f(int x) { return x + 1; }\n").unwrap();
    let p = Program::from_files(&[c]).unwrap();
    let e = LlvmEnv::new(tools(), &p, EnvConfig::new(Objective::Size))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no main"), "{e}");
    assert!(Program::from_files(&[dir.path().join("x.txt")]).is_err());
}

#[test]
fn two_c_files_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.c");
    let b = dir.path().join("b.c");
    std::fs::write(&a, "#include <stdio.h>\nint twice(int);\nint main(void){unsigned s=0;for(int i=0;i<1000;i++)s+=twice(i);printf(\"%u\\n\",s);return 0;}\n").unwrap();
    std::fs::write(&b, "int twice(int x){return 2*x;}\n").unwrap();
    let p = Program::from_files(&[a, b]).unwrap();
    let mut env = LlvmEnv::new(tools(), &p, EnvConfig::new(Objective::Runtime)).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&env.prepared().expected.head),
        "999000\n"
    );
    let r = env.evaluate(&seq(&["sroa", "inline", "instcombine"]), true);
    assert_eq!(r.outcome, OutcomeKind::Ok, "{}", r.detail);
    assert!(r.runtime_us.is_some());
}

fn tune_end_to_end(strategy: Strategy) {
    let mut env = LlvmEnv::new(
        tools(),
        &programs::find("const_poly").unwrap().program(),
        EnvConfig::new(Objective::Size),
    )
    .unwrap();
    let cfg = SearchConfig {
        batch_size: 4,
        population: 24,
        generations: 2,
        ..SearchConfig::new(strategy, 8, 5)
    };
    let run = bench::tune(&mut env, &cfg, None, &mut NoObserver).unwrap();
    assert_eq!(run.trials, 8);
    let best = run.best.expect("a correct candidate");
    let r = env.evaluate(&best.state, false);
    assert_eq!(r.outcome, OutcomeKind::Ok);
    assert_eq!(r.ir_instructions.map(|n| n as f64), Some(best.latency_us));
    // The exported pipeline reproduces the exported IR with opt by hand.
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, ll) = env.export(&best.state, dir.path()).unwrap();
    let again = run_opt(&env.tools().opt, &env.prepared().start_path(), &pipeline).unwrap();
    assert_eq!(std::fs::read_to_string(ll).unwrap(), again);
    let ab = bench::ablate(&mut env, &best.state);
    assert!(!ab.is_empty());
}

#[test]
fn tune_evolutionary_end_to_end() {
    tune_end_to_end(Strategy::Evolutionary);
}

#[test]
fn tune_mcts_end_to_end() {
    tune_end_to_end(Strategy::Mcts);
}

#[test]
fn every_benchmark_program_builds_and_prints_a_checksum() {
    let tools = tools();
    for b in programs::BENCHMARKS {
        let p =
            colt_llvm::program::Prepared::new(&tools, &b.program(), Objective::Runtime).unwrap();
        assert!(
            String::from_utf8_lossy(&p.expected.head).starts_with("checksum "),
            "{}",
            b.name
        );
    }
    assert!(programs::BENCHMARKS.len() >= 12);
}
