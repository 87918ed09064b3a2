//! The reference compilers every report compares against: clang -O0/-O1/-O2/-O3/-Os/-Oz
//! and gcc -O3/-Os.
//!
//! clang baselines produce IR with `clang -O<l> -emit-llvm -S` (per file, `llvm-link`ed),
//! whose instructions are counted, and then go through exactly the codegen of the
//! candidates (`llc -O3`, see [`crate::program::CODEGEN_FLAGS`]), so IR counts, `.text`
//! bytes and run times compare the IR pipelines only. For an `.ll` program the clang
//! baselines are `opt -passes=default<O<l>>` on the start IR. gcc baselines are gcc end to
//! end (`gcc -O<l> -c`, `.text` of the objects, linked by gcc); they have no IR count.
//! Every baseline's output is checked against the -O0 build like any candidate, and every
//! build takes the program's flags ([`crate::run::RunOptions`]).

use std::path::PathBuf;
use std::process::Command;

use colt_search::OutcomeKind;
use serde::{Deserialize, Serialize};

use crate::env::LlvmEnv;
use crate::error::LlvmError;
use crate::ir;
use crate::program::{self, Check, Prepared, RunStats, run_tool};

/// The clang levels reported.
pub const CLANG_LEVELS: &[&str] = &["O0", "O1", "O2", "O3", "Os", "Oz"];
/// The gcc levels reported.
pub const GCC_LEVELS: &[&str] = &["O3", "Os"];

/// One reference build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// `clang -O3`, `gcc -Os`, ...
    pub name: String,
    /// IR instructions of the build's IR (`None` for gcc).
    pub ir_instructions: Option<usize>,
    /// `.text` bytes of the object.
    pub text_bytes: Option<u64>,
    /// Run time in µs from the final round-robin timing.
    pub runtime_us: Option<f64>,
    /// Peak resident memory in KiB (median of the same runs).
    #[serde(default)]
    pub max_rss_kib: Option<f64>,
    /// `Ok`, or why the build does not count: it did not build (`CompileError`), gave
    /// another output than the `-O0` build (`WrongResult`), crashed or timed out.
    pub outcome: OutcomeKind,
    /// What went wrong (empty for `Ok`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The built executable, for the final timing (not serialized).
    #[serde(skip)]
    pub exe: Option<PathBuf>,
}

impl Baseline {
    fn failed(name: &str, outcome: OutcomeKind, detail: String) -> Baseline {
        Baseline {
            name: name.into(),
            ir_instructions: None,
            text_bytes: None,
            runtime_us: None,
            max_rss_kib: None,
            outcome,
            detail,
            exe: None,
        }
    }
}

/// Build every baseline for the environment's program and check its output. Run times are
/// filled in by [`time_all`].
pub fn build_baselines(env: &LlvmEnv) -> Vec<Baseline> {
    let mut out = Vec::new();
    for l in CLANG_LEVELS {
        let name = format!("clang -{l}");
        out.push(
            clang_baseline(env, l).unwrap_or_else(|e| {
                Baseline::failed(&name, OutcomeKind::CompileError, e.to_string())
            }),
        );
    }
    if env.tools().gcc.is_some() && !env.prepared().c_files.is_empty() {
        for l in GCC_LEVELS {
            let name = format!("gcc -{l}");
            out.push(gcc_baseline(env, l).unwrap_or_else(|e| {
                Baseline::failed(&name, OutcomeKind::CompileError, e.to_string())
            }));
        }
    }
    for b in &mut out {
        if let Some(exe) = &b.exe {
            let prog = env.prepared();
            match program::check_and_time(exe, prog, 1) {
                Ok(Check::Ok(_)) => {}
                Ok(c) => {
                    (b.outcome, b.detail) = c.outcome();
                    b.exe = None;
                }
                Err(e) => {
                    (b.outcome, b.detail) = (OutcomeKind::Crash, e.to_string());
                    b.exe = None;
                }
            }
        }
    }
    out
}

fn clang_baseline(env: &LlvmEnv, level: &str) -> Result<Baseline, LlvmError> {
    let tools = env.tools();
    let prog = env.prepared();
    let dir = prog.dir.path();
    let ll = dir.join(format!("base-clang-{level}.ll"));
    if prog.c_files.is_empty() {
        let pipeline = format!("default<{level}>");
        let text = crate::env::run_opt(&tools.opt, &prog.start_path(), &pipeline).map_err(|m| {
            LlvmError::ToolFailed {
                tool: "opt".into(),
                message: m,
            }
        })?;
        std::fs::write(&ll, text).map_err(|e| LlvmError::io(&ll, e))?;
    } else {
        let mut parts = Vec::new();
        for (i, c) in prog.c_files.iter().enumerate() {
            let p = dir.join(format!("base-clang-{level}-{i}.ll"));
            run_tool(
                "clang",
                Command::new(&tools.clang)
                    .arg(format!("-{level}"))
                    .args(["-w", "-emit-llvm", "-S"])
                    .args(&prog.options.cflags)
                    .arg(c)
                    .arg("-o")
                    .arg(&p),
            )?;
            parts.push(p);
        }
        program::join_ll(tools, &parts, &ll, |e| e)?;
    }
    let text = std::fs::read_to_string(&ll).map_err(|e| LlvmError::io(&ll, e))?;
    let built = program::build_from_ll(
        tools,
        &ll,
        &dir.join(format!("base-clang-{level}")),
        &prog.options.ldflags,
    )?;
    Ok(Baseline {
        name: format!("clang -{level}"),
        ir_instructions: Some(ir::instruction_count(&text)),
        text_bytes: built.text_bytes,
        runtime_us: None,
        max_rss_kib: None,
        outcome: OutcomeKind::Ok,
        detail: String::new(),
        exe: Some(built.exe),
    })
}

fn gcc_baseline(env: &LlvmEnv, level: &str) -> Result<Baseline, LlvmError> {
    let tools = env.tools();
    let gcc = tools.gcc.as_ref().expect("checked by the caller");
    let prog = env.prepared();
    let dir = prog.dir.path();
    let mut objs = Vec::new();
    let mut text = 0;
    for (i, c) in prog.c_files.iter().enumerate() {
        let o = dir.join(format!("base-gcc-{level}-{i}.o"));
        run_tool(
            "gcc",
            Command::new(gcc)
                .arg(format!("-{level}"))
                .args(["-w", "-c"])
                .args(&prog.options.cflags)
                .arg(c)
                .arg("-o")
                .arg(&o),
        )?;
        let bytes = std::fs::read(&o).map_err(|e| LlvmError::io(&o, e))?;
        text += ir::elf_text_bytes(&bytes).unwrap_or(0);
        objs.push(o);
    }
    let exe = dir.join(format!("base-gcc-{level}.exe"));
    run_tool(
        "gcc",
        Command::new(gcc)
            .args(&objs)
            .arg("-lm")
            .args(&prog.options.ldflags)
            .arg("-o")
            .arg(&exe),
    )?;
    Ok(Baseline {
        name: format!("gcc -{level}"),
        ir_instructions: None,
        text_bytes: Some(text),
        runtime_us: None,
        max_rss_kib: None,
        outcome: OutcomeKind::Ok,
        detail: String::new(),
        exe: Some(exe),
    })
}

/// Time executables of `prog` round-robin (`repeats` rounds, so that machine noise hits
/// all alike, A/B/A/B...); the medians of each, `None` for a failed one.
pub fn time_all(exes: &[PathBuf], prog: &Prepared, repeats: usize) -> Vec<Option<RunStats>> {
    let mut runs: Vec<Option<Vec<RunStats>>> = vec![Some(Vec::new()); exes.len()];
    for _ in 0..repeats.max(1) {
        for (i, exe) in exes.iter().enumerate() {
            let Some(rs) = runs[i].as_mut() else {
                continue;
            };
            match program::check_and_time(exe, prog, 1) {
                Ok(Check::Ok(r)) => rs.push(r),
                _ => runs[i] = None,
            }
        }
    }
    runs.into_iter()
        .map(|r| {
            r.map(|r| {
                let mut cpu: Vec<f64> = r.iter().map(|x| x.cpu_us).collect();
                let mut rss: Vec<f64> = r.iter().map(|x| x.max_rss_kib).collect();
                RunStats {
                    cpu_us: program::median(&mut cpu),
                    max_rss_kib: program::median(&mut rss),
                }
            })
        })
        .collect()
}
