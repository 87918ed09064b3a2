//! The LLVM pass-ordering space of `colt tune`: pass sequences for a C program (with its
//! flags, arguments, standard input and output check), every candidate output-checked
//! against the -O0 build, compared with clang -O0…-Oz and gcc. For the timed objectives
//! (run time, memory) the result is chosen by a final round-robin timing of the search's
//! best few, the standard pipelines and `clang -O3` (see `colt_llvm::retime`).

use super::Ctx;
use super::summary::{Export, LlvmSummary, SpaceSummary, TuneSummary};
use anyhow::Context;
use colt_llvm::baseline::Baseline;
use colt_llvm::retime::{self, FinalChoice};
use colt_llvm::{EnvConfig, LlvmEnv, Objective, Program, Toolchain};
use colt_search::RunResult;
use std::path::{Path, PathBuf};

/// Rounds of the final round-robin timing.
const FINAL_ROUNDS: usize = 7;

pub fn run(ctx: Ctx) -> anyhow::Result<()> {
    let objective: Objective = ctx.spec.scale.parse()?;
    let files: Vec<PathBuf> = ctx.resolved.files.clone();
    let tools = Toolchain::discover()?;
    let program = Program::from_files(&files)?.with_options(ctx.resolved.llvm_options.clone())?;
    ctx.say(&format!(
        "LLVM tools: {}",
        tools.describe().lines().next().unwrap_or("")
    ));
    let mut env =
        LlvmEnv::new(tools, &program, EnvConfig::new(objective))?.with_known(ctx.known()?);
    ctx.say("building the clang -O0…-Oz and gcc baselines...");
    let mut baselines = colt_llvm::baseline::build_baselines(&env);
    if objective.timed() {
        time_baselines(&env, &mut baselines);
    }
    let unit = objective.unit();
    let show_best = Box::new(move |v: f64| format!("{v:.1} {unit}"));
    let details: super::recorder::Details = Box::new(|_| None);
    let run = ctx.run;
    let out_dir = ctx
        .a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("colt-out/run-{run}")));
    let (result, search, db, a, tool_failure) = ctx.drive(&mut env, details, show_best)?;

    let final_choice = final_timing(&mut env, &baselines, &result, a.json);
    // The result: the final timing's choice for a timed objective, else the search's best.
    let chosen: Option<(Vec<String>, f64)> = match final_choice.as_ref().and_then(|f| f.chosen()) {
        Some(c) => c.value.map(|v| (c.passes.clone(), v)),
        None => result
            .best
            .as_ref()
            .map(|b| (b.state.clone(), b.latency_us)),
    };
    let mut text = baseline_text(&baselines, objective);
    if let Some(f) = &final_choice {
        text += &final_text(f, unit);
    }
    let (export, best_text_bytes) =
        export_result(&mut env, chosen.as_ref(), &result, &out_dir, &mut text)?;
    let summary = TuneSummary {
        search,
        space: SpaceSummary::Llvm(Box::new(LlvmSummary {
            program: db.run(run)?.spec.workload,
            objective: objective.as_str().to_string(),
            best: result.best_us(),
            baselines: baselines
                .iter()
                .map(|b| (b.name.clone(), baseline_value(b, objective)))
                .collect(),
            best_text_bytes,
            baseline_text_bytes: baselines
                .iter()
                .map(|b| (b.name.clone(), b.text_bytes))
                .collect(),
            retimed_ratio: final_choice.as_ref().and_then(|f| f.ratio),
            final_timing: final_choice,
            export,
        })),
    };
    super::finish(&db, run, &summary, a.json, &result, &text, tool_failure)
}

/// For a timed objective with a result: the final round-robin timing of the search's best
/// few, the standard pipelines and clang -O3.
fn final_timing(
    env: &mut LlvmEnv,
    baselines: &[Baseline],
    result: &RunResult<Vec<String>>,
    json: bool,
) -> Option<FinalChoice> {
    if !env.objective().timed() || result.best.is_none() {
        return None;
    }
    if !json {
        eprintln!(
            "final timing: the best {} sequences, the standard pipelines and clang -O3, {FINAL_ROUNDS} rounds round-robin...",
            retime::SEARCH_CONTENDERS
        );
    }
    let o3 = baselines
        .iter()
        .find(|b| b.name == "clang -O3")
        .and_then(|b| b.exe.clone());
    let search_best = retime::best_of(&result.history, retime::SEARCH_CONTENDERS);
    Some(retime::final_choice(
        env,
        &search_best,
        o3.as_deref(),
        FINAL_ROUNDS,
    ))
}

/// One line per baseline with its value for the objective.
fn baseline_text(baselines: &[Baseline], objective: Objective) -> String {
    let unit = objective.unit();
    baselines
        .iter()
        .map(|b| {
            let v = baseline_value(b, objective);
            format!(
                "{:<10} {}\n",
                b.name,
                v.map_or("-".to_string(), |v| format!("{v:.1} {unit}"))
            )
        })
        .collect()
}

/// Write the result's pipeline and IR to `out_dir` and say so in `text`; the export and the
/// result's `.text` bytes.
fn export_result(
    env: &mut LlvmEnv,
    chosen: Option<&(Vec<String>, f64)>,
    result: &RunResult<Vec<String>>,
    out_dir: &Path,
    text: &mut String,
) -> anyhow::Result<(Option<Export>, Option<u64>)> {
    let Some((passes, value)) = chosen else {
        *text += "no correct pass sequence was found\n";
        return Ok((None, None));
    };
    let unit = env.objective().unit();
    let (pipeline, ll) = env
        .export(passes, out_dir)
        .with_context(|| format!("cannot export to {}", out_dir.display()))?;
    // Built and checked only: a timed objective's `evaluate` would time it again.
    let best_text_bytes = env.check(passes).text_bytes;
    let trial = result
        .history
        .iter()
        .find(|t| &t.state == passes)
        .map_or("not a search trial".to_string(), |t| {
            format!("trial {}", t.trial)
        });
    *text += &format!(
        "best       {value:.1} {unit} ({trial})\npipeline   opt -passes='{pipeline}'\noptimised  {}\n",
        ll.display()
    );
    let export = Export {
        pipeline,
        ll: ll.display().to_string(),
        passes: passes.clone(),
    };
    Ok((Some(export), best_text_bytes))
}

/// The baselines' run time and memory, timed round-robin before the search.
fn time_baselines(env: &LlvmEnv, baselines: &mut [Baseline]) {
    let idx: Vec<usize> = (0..baselines.len())
        .filter(|&i| baselines[i].exe.is_some())
        .collect();
    let exes: Vec<PathBuf> = idx
        .iter()
        .filter_map(|&i| baselines[i].exe.clone())
        .collect();
    let times = colt_llvm::baseline::time_all(&exes, env.prepared(), 5);
    for (i, t) in idx.into_iter().zip(times) {
        baselines[i].runtime_us = t.map(|t| t.cpu_us);
        baselines[i].max_rss_kib = t.map(|t| t.max_rss_kib);
    }
}

/// The final timing, one line per contender and the ratio to clang -O3.
fn final_text(f: &FinalChoice, unit: &str) -> String {
    let mut t = format!("final timing ({} rounds, medians):\n", f.rounds);
    for (i, c) in f.contenders.iter().enumerate() {
        t += &format!(
            "  {:<28} {}{}{}\n",
            c.origin,
            c.value
                .map_or("failed".into(), |v| format!("{v:.1} {unit}")),
            c.search_value
                .map_or(String::new(), |v| format!(" (search: {v:.1})")),
            if f.chosen == Some(i) {
                "  <- chosen"
            } else {
                ""
            }
        );
    }
    if let Some(r) = f.reference {
        t += &format!("  {:<28} {r:.1} {unit}\n", "clang -O3");
    }
    if let Some(r) = f.ratio {
        t += &format!("  chosen / clang -O3: {r:.3}\n");
    }
    t
}

fn baseline_value(b: &Baseline, objective: Objective) -> Option<f64> {
    match objective {
        Objective::Size => b.ir_instructions.map(|n| n as f64),
        Objective::Runtime => b.runtime_us,
        Objective::Memory => b.max_rss_kib,
    }
}
