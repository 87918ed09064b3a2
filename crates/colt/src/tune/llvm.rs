//! The LLVM pass-ordering space of `colt tune`: pass sequences for a C program, every
//! candidate output-checked against the -O0 build, compared with clang -O0…-Oz and gcc.

use super::Ctx;
use super::summary::{Export, LlvmSummary, SpaceSummary, TuneSummary};
use anyhow::Context;
use colt_llvm::{EnvConfig, LlvmEnv, Objective, Program, Toolchain};
use std::path::PathBuf;

pub fn run(ctx: Ctx) -> anyhow::Result<()> {
    let objective: Objective = ctx.spec.scale.parse()?;
    let files: Vec<PathBuf> = ctx.resolved.files.clone();
    let tools = Toolchain::discover()?;
    let program = Program::from_files(&files)?;
    ctx.say(&format!(
        "LLVM tools: {}",
        tools.describe().lines().next().unwrap_or("")
    ));
    let mut env =
        LlvmEnv::new(tools, &program, EnvConfig::new(objective))?.with_known(ctx.known()?);
    ctx.say("building the clang -O0…-Oz and gcc baselines...");
    let mut baselines = colt_llvm::baseline::build_baselines(&env);
    if objective == Objective::Runtime {
        let idx: Vec<usize> = (0..baselines.len())
            .filter(|&i| baselines[i].exe.is_some())
            .collect();
        let exes: Vec<PathBuf> = idx
            .iter()
            .map(|&i| baselines[i].exe.clone().expect("filtered"))
            .collect();
        let prog = env.prepared();
        let times = colt_llvm::baseline::time_all(&exes, &prog.expected, 5, prog.run_limit());
        for (i, t) in idx.into_iter().zip(times) {
            baselines[i].runtime_us = t;
        }
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

    let mut text = String::new();
    for b in &baselines {
        text += &format!(
            "{:<10} {}\n",
            b.name,
            baseline_value(b, objective).map_or("-".to_string(), |v| format!("{v:.1} {unit}"))
        );
    }
    let mut export = None;
    if let Some(best) = &result.best {
        let (pipeline, ll) = env
            .export(&best.state, &out_dir)
            .with_context(|| format!("cannot export to {}", out_dir.display()))?;
        text += &format!(
            "best       {:.1} {unit} (trial {})\npipeline   opt -passes='{pipeline}'\noptimised  {}\n",
            best.latency_us,
            best.trial,
            ll.display()
        );
        export = Some(Export {
            pipeline,
            ll: ll.display().to_string(),
            passes: best.state.clone(),
        });
    } else {
        text += "no correct pass sequence was found\n";
    }
    let summary = TuneSummary {
        search,
        space: SpaceSummary::Llvm(LlvmSummary {
            program: db.run(run)?.spec.workload,
            objective: objective.as_str().to_string(),
            best: result.best_us(),
            baselines: baselines
                .iter()
                .map(|b| (b.name.clone(), baseline_value(b, objective)))
                .collect(),
            export,
        }),
    };
    super::finish(&db, run, &summary, a.json, &result, &text, tool_failure)
}

fn baseline_value(b: &colt_llvm::baseline::Baseline, objective: Objective) -> Option<f64> {
    match objective {
        Objective::Size => b.ir_instructions.map(|n| n as f64),
        Objective::Runtime => b.runtime_us,
    }
}
