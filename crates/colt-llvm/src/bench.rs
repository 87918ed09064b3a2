//! Tuning helpers and the benchmark over the project's programs: per program the baselines
//! and the best sequence found by the engine for each objective, geometric means against
//! clang -Oz (size) and clang -O3 (run time), and the per-optimization-type table (which
//! pass families the best sequences use, and what each contributes, by ablation: the best
//! sequence without that family's passes, measured again).
//!
//! Run times in the report are not the search's own (the best of many noisy timings is
//! biased low): every baseline is timed again round-robin ([`crate::baseline::time_all`]),
//! and the runtime result is chosen by the final timing of [`crate::retime`] (the search's
//! best few, the standard pipelines and `clang -O3`, round-robin).

use std::collections::BTreeMap;
use std::path::PathBuf;

use colt_cost::Gbdt;
use colt_search::{Llm, NoObserver, Observer, OutcomeKind, RunResult, SearchConfig, Strategy};
use serde::{Deserialize, Serialize};

use crate::baseline::{self, Baseline};
use crate::env::{CandidateResult, EnvConfig, LlvmEnv, Objective};
use crate::error::LlvmError;
use crate::passes::OptType;
use crate::program::Program;
use crate::programs::{self, Benchmark};
use crate::retime::{self, FinalChoice};
use crate::tools::Toolchain;

/// Run the engine on an environment with a fresh GBDT cost model.
pub fn tune(
    env: &mut LlvmEnv,
    cfg: &SearchConfig,
    llm: Option<&mut dyn Llm>,
    obs: &mut dyn Observer<Vec<String>>,
) -> Result<RunResult<Vec<String>>, LlvmError> {
    let mut cost = Gbdt::default();
    Ok(colt_search::run(cfg, env, &mut cost, llm, obs)?)
}

/// What removing one optimization type's passes from a best sequence costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ablation {
    /// The optimization type removed.
    pub opt_type: OptType,
    /// Passes of this type in the best sequence.
    pub passes: usize,
    /// Objective value without them (`None`: the rest failed or nothing was left).
    pub value_without: Option<f64>,
    /// `value_without / best - 1` (positive: the family helped).
    pub loss: Option<f64>,
}

/// Ablate every optimization type present in `best` (objective of the environment).
pub fn ablate(env: &mut LlvmEnv, best: &[String]) -> Vec<Ablation> {
    let objective = env.objective();
    let timed = objective.timed();
    let base = env.evaluate(best, timed).value(objective);
    let mut out = Vec::new();
    for t in OptType::ALL {
        let type_of = |p: &String| env.pass_vocab().get(p).map(|i| i.opt_type);
        let n = best.iter().filter(|p| type_of(p) == Some(t)).count();
        if n == 0 {
            continue;
        }
        let rest: Vec<String> = best
            .iter()
            .filter(|p| type_of(p) != Some(t))
            .cloned()
            .collect();
        let value_without = if rest.is_empty() {
            env.evaluate(&[], timed).value(objective)
        } else {
            env.evaluate(&rest, timed).value(objective)
        };
        let loss = match (value_without, base) {
            (Some(w), Some(b)) if b > 0.0 => Some(w / b - 1.0),
            _ => None,
        };
        out.push(Ablation {
            opt_type: t,
            passes: n,
            value_without,
            loss,
        });
    }
    out
}

/// One objective's search on one program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuned {
    /// What was minimised.
    pub objective: Objective,
    /// The search strategy.
    pub strategy: Strategy,
    /// Trials run.
    pub trials: usize,
    /// Trials rejected (opt/build error, wrong answer, crash, timeout).
    pub failed_trials: usize,
    /// Trials whose output differed from the `-O0` build.
    pub wrong_answers: usize,
    /// Why the search stopped.
    pub stop: String,
    /// The best sequence, re-measured (output-checked).
    pub best: Option<CandidateResult>,
    /// Run time of the result in the final round-robin timing (runtime objective).
    pub final_runtime_us: Option<f64>,
    /// The final timing that chose the result (runtime objective).
    #[serde(default)]
    pub final_timing: Option<FinalChoice>,
    /// The search's best few sequences with its own figures (for the final timing).
    #[serde(skip)]
    pub top: Vec<(Vec<String>, f64)>,
    /// The cost of removing each optimization type from the best sequence.
    pub ablation: Vec<Ablation>,
}

/// Per program: baselines and the tuned results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramReport {
    /// Program name.
    pub program: String,
    /// The optimization type the program exercises.
    pub opt_type: OptType,
    /// The clang and gcc reference builds.
    pub baselines: Vec<Baseline>,
    /// The search for code size, if run.
    pub size: Option<Tuned>,
    /// The search for run time, if run.
    pub runtime: Option<Tuned>,
    /// The tuned results against clang's builds.
    #[serde(flatten)]
    pub vs_clang: VsClang,
}

/// A tuned result against clang's reference builds (`None`: that objective was not run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VsClang {
    /// Best IR instructions / clang -Oz IR instructions.
    pub size_vs_oz: Option<f64>,
    /// Best `.text` bytes (of the size-tuned sequence) / clang -Oz `.text` bytes.
    pub text_vs_oz: Option<f64>,
    /// Best run time / clang -O3 run time (same round-robin timing).
    pub runtime_vs_o3: Option<f64>,
}

impl VsClang {
    /// Each ratio's geometric mean over `all` (`None` where no result has it).
    pub fn geomean<'a>(all: impl Iterator<Item = &'a VsClang> + Clone) -> VsClang {
        let g = |f: fn(&VsClang) -> Option<f64>| {
            geomean(&all.clone().filter_map(f).collect::<Vec<_>>())
        };
        VsClang {
            size_vs_oz: g(|r| r.size_vs_oz),
            text_vs_oz: g(|r| r.text_vs_oz),
            runtime_vs_o3: g(|r| r.runtime_vs_o3),
        }
    }
}

/// One row of the per-optimization-type table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyRow {
    /// The optimization type.
    pub opt_type: OptType,
    /// Best sequences (of all programs and objectives) that use this type.
    pub used_by: usize,
    /// Mean passes of this type per best sequence.
    pub mean_passes: f64,
    /// Geometric-mean ratio (value without the family / best) over the size runs using it.
    pub size_contribution: Option<f64>,
    /// The same over the runtime runs using it.
    pub runtime_contribution: Option<f64>,
}

/// The whole benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// The tools and their versions, one line.
    pub tools: String,
    /// The search strategy.
    pub strategy: Strategy,
    /// Trials per search.
    pub trials: usize,
    /// Search seed.
    pub seed: u64,
    /// Timed runs per runtime measurement during the search.
    pub repeats: usize,
    /// How candidates and baselines are turned into executables.
    pub codegen: String,
    /// The geometric mean of each ratio over the programs.
    pub geomean: VsClang,
    /// Results whose output did not match -O0 (must be 0: such results are never best).
    pub unchecked_results: usize,
    /// One report per program.
    pub programs: Vec<ProgramReport>,
    /// One row per optimization type.
    pub families: Vec<FamilyRow>,
}

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    /// The engine's config (strategy, trials, seed, ...), used for every search.
    pub search: SearchConfig,
    /// The objectives searched, one search each.
    pub objectives: Vec<Objective>,
    /// Program names (empty: all of [`programs::BENCHMARKS`]).
    pub programs: Vec<String>,
    /// Timed runs per runtime measurement during the search.
    pub repeats: usize,
    /// Round-robin rounds of the final timing.
    pub final_repeats: usize,
}

impl BenchOptions {
    /// All programs, both objectives, 5 timed runs per measurement and 11 final rounds.
    pub fn new(strategy: Strategy, trials: usize, seed: u64) -> BenchOptions {
        BenchOptions {
            search: SearchConfig::new(strategy, trials, seed),
            objectives: vec![Objective::Size, Objective::Runtime],
            programs: Vec::new(),
            repeats: 5,
            final_repeats: 11,
        }
    }
}

/// Geometric mean of the finite positive values (`None` if there are none).
pub fn geomean(xs: &[f64]) -> Option<f64> {
    let xs: Vec<f64> = xs
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect();
    if xs.is_empty() {
        return None;
    }
    Some((xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
}

fn tuned(
    env: &mut LlvmEnv,
    cfg: &SearchConfig,
    obs: &mut dyn Observer<Vec<String>>,
) -> Result<Tuned, LlvmError> {
    let run = tune(env, cfg, None, obs)?;
    let failed = run
        .history
        .iter()
        .filter(|r| r.latency_us.is_none())
        .count();
    let wrong = run
        .history
        .iter()
        .filter(|r| r.outcome == OutcomeKind::WrongResult)
        .count();
    let (best, ablation) = match &run.best {
        Some(b) => {
            let timed = env.objective().timed();
            let r = env.evaluate(&b.state, timed);
            let ab = ablate(env, &b.state);
            (Some(r), ab)
        }
        None => (None, Vec::new()),
    };
    Ok(Tuned {
        objective: env.objective(),
        strategy: cfg.strategy,
        trials: run.trials,
        failed_trials: failed,
        wrong_answers: wrong,
        stop: run.stop.as_str().to_string(),
        best,
        final_runtime_us: None,
        final_timing: None,
        top: retime::best_of(&run.history, retime::SEARCH_CONTENDERS),
        ablation,
    })
}

/// Benchmark one program: baselines, one search per objective, final timing.
pub fn bench_program(
    tools: &Toolchain,
    bench: &Benchmark,
    opts: &BenchOptions,
    obs: &mut dyn Observer<Vec<String>>,
) -> Result<ProgramReport, LlvmError> {
    bench_any(tools, &bench.program(), bench.opt_type, opts, obs)
}

/// Benchmark any program (e.g. a user's C file); `opt_type` only labels the report.
pub fn bench_any(
    tools: &Toolchain,
    program: &Program,
    opt_type: OptType,
    opts: &BenchOptions,
    obs: &mut dyn Observer<Vec<String>>,
) -> Result<ProgramReport, LlvmError> {
    let mut size_env = LlvmEnv::new(
        tools.clone(),
        program,
        EnvConfig {
            repeats: opts.repeats,
            ..EnvConfig::new(Objective::Size)
        },
    )?;
    let mut baselines = baseline::build_baselines(&size_env);
    let size = if opts.objectives.contains(&Objective::Size) {
        Some(tuned(&mut size_env, &opts.search, obs)?)
    } else {
        None
    };
    let mut rt_env = LlvmEnv::new(
        tools.clone(),
        program,
        EnvConfig {
            repeats: opts.repeats,
            ..EnvConfig::new(Objective::Runtime)
        },
    )?;
    let mut runtime = if opts.objectives.contains(&Objective::Runtime) {
        Some(tuned(&mut rt_env, &opts.search, obs)?)
    } else {
        None
    };
    final_timing(&size_env, opts, &mut baselines);
    if let Some(t) = runtime.as_mut().filter(|t| !t.top.is_empty()) {
        let o3 = baselines
            .iter()
            .find(|b| b.name == "clang -O3")
            .and_then(|b| b.exe.clone());
        let f = retime::final_choice(&mut rt_env, &t.top, o3.as_deref(), opts.final_repeats);
        t.final_runtime_us = f.chosen().and_then(|c| c.value);
        t.final_timing = Some(f);
    }
    let base = |name: &str| baselines.iter().find(|b| b.name == name);
    let size_vs_oz = size
        .as_ref()
        .and_then(|t| t.best.as_ref())
        .and_then(|b| b.ir_instructions)
        .zip(base("clang -Oz").and_then(|b| b.ir_instructions))
        .map(|(a, o)| a as f64 / o as f64);
    let text_vs_oz = size
        .as_ref()
        .and_then(|t| t.best.as_ref())
        .and_then(|b| b.text_bytes)
        .zip(base("clang -Oz").and_then(|b| b.text_bytes))
        .map(|(a, o)| a as f64 / o as f64);
    let runtime_vs_o3 = runtime
        .as_ref()
        .and_then(|t| t.final_timing.as_ref())
        .and_then(|f| f.ratio);
    Ok(ProgramReport {
        program: program.name.clone(),
        opt_type,
        baselines,
        size,
        runtime,
        vs_clang: VsClang {
            size_vs_oz,
            text_vs_oz,
            runtime_vs_o3,
        },
    })
}

/// Round-robin timing of every baseline; sets their `runtime_us` and `max_rss_kib`.
fn final_timing(size_env: &LlvmEnv, opts: &BenchOptions, baselines: &mut [Baseline]) {
    let mut exes: Vec<PathBuf> = Vec::new();
    let mut slots: Vec<Option<usize>> = Vec::new();
    for b in baselines.iter() {
        slots.push(b.exe.as_ref().map(|e| {
            exes.push(e.clone());
            exes.len() - 1
        }));
    }
    let times = baseline::time_all(&exes, size_env.prepared(), opts.final_repeats);
    for (b, s) in baselines.iter_mut().zip(&slots) {
        let r = s.and_then(|i| times[i]);
        b.runtime_us = r.map(|r| r.cpu_us);
        b.max_rss_kib = r.map(|r| r.max_rss_kib);
    }
}

/// The per-optimization-type table over program reports.
pub fn family_table(reports: &[ProgramReport]) -> Vec<FamilyRow> {
    let tuned: Vec<&Tuned> = reports
        .iter()
        .flat_map(|r| [r.size.as_ref(), r.runtime.as_ref()])
        .flatten()
        .filter(|t| t.best.is_some())
        .collect();
    OptType::ALL
        .iter()
        .map(|&t| {
            let mut used = 0;
            let mut passes = 0;
            let mut size = Vec::new();
            let mut rt = Vec::new();
            for tu in &tuned {
                if let Some(a) = tu.ablation.iter().find(|a| a.opt_type == t) {
                    used += 1;
                    passes += a.passes;
                    if let Some(l) = a.loss {
                        match tu.objective {
                            Objective::Size => size.push(1.0 + l),
                            Objective::Runtime => rt.push(1.0 + l),
                            Objective::Memory => {}
                        }
                    }
                }
            }
            FamilyRow {
                opt_type: t,
                used_by: used,
                mean_passes: if tuned.is_empty() {
                    0.0
                } else {
                    passes as f64 / tuned.len() as f64
                },
                size_contribution: geomean(&size),
                runtime_contribution: geomean(&rt),
            }
        })
        .collect()
}

/// Run the benchmark; `progress` gets one line per finished program.
pub fn bench(
    tools: &Toolchain,
    opts: &BenchOptions,
    progress: &mut dyn FnMut(&ProgramReport),
) -> Result<BenchReport, LlvmError> {
    let list: Vec<&Benchmark> = if opts.programs.is_empty() {
        programs::BENCHMARKS.iter().collect()
    } else {
        opts.programs
            .iter()
            .map(|n| programs::find(n).ok_or_else(|| LlvmError::UnknownBenchmark(n.clone())))
            .collect::<Result<_, _>>()?
    };
    let mut reports = Vec::new();
    for b in list {
        let r = bench_program(tools, b, opts, &mut NoObserver)?;
        progress(&r);
        reports.push(r);
    }
    Ok(report_of(tools, opts, reports))
}

/// Assemble the report (geometric means and the family table) from program reports.
pub fn report_of(
    tools: &Toolchain,
    opts: &BenchOptions,
    programs: Vec<ProgramReport>,
) -> BenchReport {
    let unchecked = programs
        .iter()
        .flat_map(|p| [p.size.as_ref(), p.runtime.as_ref()])
        .flatten()
        .filter(|t| {
            t.best
                .as_ref()
                .is_some_and(|b| b.outcome != OutcomeKind::Ok)
        })
        .count();
    BenchReport {
        tools: tools.describe(),
        strategy: opts.search.strategy,
        trials: opts.search.trials,
        seed: opts.search.seed,
        repeats: opts.repeats,
        codegen: format!(
            "llc {} + clang link, for candidates and clang baselines alike",
            crate::program::CODEGEN_FLAGS.join(" ")
        ),
        geomean: VsClang::geomean(programs.iter().map(|p| &p.vs_clang)),
        unchecked_results: unchecked,
        families: family_table(&programs),
        programs,
    }
}

fn opt_f(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.digits$}"))
}

impl BenchReport {
    /// Human-readable tables: per program, then per optimization type.
    pub fn table(&self) -> String {
        let mut s = format!(
            "tools: {}\ncodegen: {}\nstrategy {} · {} trials · seed {}\n\n",
            self.tools, self.codegen, self.strategy, self.trials, self.seed
        );
        s.push_str(&format!(
            "{:<14} {:>7} {:>7} {:>7} {:>9} {:>10} {:>10} {:>10} {:>9}\n",
            "program",
            "IR -Oz",
            "IR colt",
            "ratio",
            "text/Oz",
            "µs -O3",
            "µs gcc-O3",
            "µs colt",
            "ratio"
        ));
        for p in &self.programs {
            let base = |n: &str| p.baselines.iter().find(|b| b.name == n);
            s.push_str(&format!(
                "{:<14} {:>7} {:>7} {:>7} {:>9} {:>10} {:>10} {:>10} {:>9}\n",
                p.program,
                base("clang -Oz")
                    .and_then(|b| b.ir_instructions)
                    .map_or("-".into(), |n| n.to_string()),
                p.size
                    .as_ref()
                    .and_then(|t| t.best.as_ref())
                    .and_then(|b| b.ir_instructions)
                    .map_or("-".into(), |n| n.to_string()),
                opt_f(p.vs_clang.size_vs_oz, 3),
                opt_f(p.vs_clang.text_vs_oz, 3),
                opt_f(base("clang -O3").and_then(|b| b.runtime_us), 0),
                opt_f(base("gcc -O3").and_then(|b| b.runtime_us), 0),
                opt_f(p.runtime.as_ref().and_then(|t| t.final_runtime_us), 0),
                opt_f(p.vs_clang.runtime_vs_o3, 3),
            ));
        }
        s.push_str(&format!(
            "\ngeomean_size_vs_Oz {}   geomean_text_vs_Oz {}   geomean_runtime_vs_O3 {}   unchecked results {}\n\n",
            opt_f(self.geomean.size_vs_oz, 3),
            opt_f(self.geomean.text_vs_oz, 3),
            opt_f(self.geomean.runtime_vs_o3, 3),
            self.unchecked_results
        ));
        s.push_str(&format!(
            "{:<22} {:>8} {:>12} {:>18} {:>20}\n",
            "optimization type", "used by", "passes/seq", "size w/o ÷ best", "runtime w/o ÷ best"
        ));
        for f in &self.families {
            s.push_str(&format!(
                "{:<22} {:>8} {:>12.2} {:>18} {:>20}\n",
                f.opt_type.as_str(),
                f.used_by,
                f.mean_passes,
                opt_f(f.size_contribution, 3),
                opt_f(f.runtime_contribution, 3)
            ));
        }
        s
    }
}

/// Collect the best results per key that failed the output check (for tests): a map from
/// state key to outcome of every rejected candidate.
pub fn rejected(env: &LlvmEnv) -> BTreeMap<u64, OutcomeKind> {
    env.results()
        .iter()
        .filter(|(_, r)| r.outcome != OutcomeKind::Ok)
        .map(|(k, r)| (*k, r.outcome))
        .collect()
}
