//! `colt bench`: colt side by side with TVM MetaSchedule and numpy/OpenBLAS on a named suite,
//! in one run on one machine. For every workload and trial budget it runs `colt tune` for
//! each strategy and seed, TVM's `ms.tune_tir` on the same computation with the same budget
//! (bench/tvm_peer.py in the virtualenv of scripts/setup-tvm), and times numpy; then prints
//! latency, GFLOP/s, tuning wall time, their ratios to TVM, trials to reach TVM's latency and
//! the LLM spend (terminal table, `--csv`, `--json`).
//!
//! Besides the search strategies, `--strategies` takes LLM configurations: `colt` (the
//! heterogeneous bucket), `colt-homogeneous` (the bucket's largest model alone, COLT's
//! policies on) and `single-llm:<model>`; each run reports calls, tokens and USD per model
//! (USD from the bucket's price table, with stand-in prices for the embedded models: see
//! [`strategies`]) and the largest model's share of calls.
//!
//! A peer that is absent or fails is reported as skipped/failed with null numbers.

mod colt_run;
mod final_timing;
mod llvm;
mod llvm_runs;
pub(crate) mod peer;
pub(crate) mod report;
pub(crate) mod strategies;
mod suite;

use crate::out;
use crate::space::Space;
use anyhow::{Context, bail};
use colt_run::TuneSettings;
use report::{Row, StrategyRuns};
use serde_json::json;
use std::path::PathBuf;
use suite::Suite;

#[derive(clap::Args)]
pub struct Args {
    /// tensor (colt vs TVM MetaSchedule) or llvm (pass ordering of C programs vs clang
    /// -O0…-Oz and gcc; the first --trials budget).
    #[arg(long, value_enum, default_value_t)]
    space: Space,
    /// llvm space: the programs, comma-separated: bundled names, .c files, `a.c+b.c` (one
    /// program of several files) or directories of .c files (default: all bundled ones).
    #[arg(long, value_delimiter = ',')]
    programs: Vec<String>,
    /// llvm space: objectives, comma-separated: size, runtime, memory (default: size,runtime).
    #[arg(long, value_delimiter = ',')]
    objectives: Vec<String>,
    /// default (the five serving layers at CI scale + matmul 1024^3) | tiny (matmul CI) | outside (mlp-up-proj, depthwise-conv, rmsnorm, gemv at CI scale: layers the search was not developed on).
    #[arg(long, default_value = "default")]
    suite: String,
    /// ci | paper: run every workload of the suite at this scale (default: the suite's own
    /// scales; the default suite's matmul is 1024^3 either way).
    #[arg(long)]
    scale: Option<String>,
    /// Rounds of the final timing: after a row's tunes, every contender's best kernel (each
    /// colt run's, TVM's, numpy's) is timed in a fresh process per round, the order reversed
    /// every other round, on the same inputs; the median is what the table compares
    /// (0: compare each tool's own timing instead).
    #[arg(long, default_value_t = 5)]
    final_rounds: usize,
    /// A TVM MetaSchedule run still going after this many seconds is stopped and its row
    /// kept, reported as timed out.
    #[arg(long, default_value_t = 7200, value_name = "S")]
    peer_timeout_s: u64,
    /// Only these workloads (default: all of the suite's): the suite's at its scale, any
    /// other built-in one at --scale (default ci), with shape overrides if wanted:
    /// `--workloads mlp-up-proj,matmul:M=197,N=768,K=768`.
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Trial budgets, comma-separated (default: 64,256; tiny: 8).
    #[arg(long, value_delimiter = ',')]
    trials: Vec<usize>,
    /// Seeds per strategy: runs seeds 1..=N and shows the spread (min/median/max).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Seeds for the strategies that call LLMs (single-llm, colt), whose runs are the slow
    /// ones (default: --seeds).
    #[arg(long, value_name = "N")]
    llm_seeds: Option<u64>,
    /// colt strategies, comma-separated (default: evolutionary,mcts,colt; tiny: evolutionary):
    /// random, evolutionary, mcts, single-llm, colt (the heterogeneous bucket),
    /// colt-homogeneous (the bucket's largest model alone), single-llm:<model>.
    #[arg(long, value_delimiter = ',')]
    strategies: Vec<String>,
    /// Do not run TVM (reported as skipped).
    #[arg(long)]
    skip_tvm: bool,
    /// The TVM virtualenv (default: $COLT_TVM_VENV, else <cache>/tvm-venv; see scripts/setup-tvm).
    #[arg(long, value_name = "DIR")]
    tvm_venv: Option<PathBuf>,
    /// Print `{"rows": [...]}` on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the table as CSV.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// colt.toml passed to every `colt tune`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The tuning database the runs are recorded in (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match a.space {
        Space::Tensor => {}
        Space::Llvm => return run_llvm(&a),
    }
    let suite: Suite = a.suite.parse().map_err(anyhow::Error::msg)?;
    let (budgets, names) = checked_budgets_and_strategies(&a, suite)?;
    let entries = selected_entries(&a, suite)?;
    // The bench's bucket (what `colt tune` would use), priced; the LLM configurations run on
    // configs written with it.
    let user_cfg = crate::config::load(a.config.as_deref())?;
    let (bucket, bucket_notes) = user_cfg.bucket()?;
    let (bucket, price_notes) = strategies::priced(bucket);
    let strategies = parse_strategies(&names, &bucket, &bucket_notes, &price_notes)?;
    let cfg_dir = tempfile::Builder::new()
        .prefix("colt-bench-config")
        .tempdir()
        .context("cannot create a config directory")?;
    let configs = strategies::write_configs(cfg_dir.path(), &user_cfg, &bucket, &strategies)?;
    let settings = TuneSettings {
        exe: std::env::current_exe().context("cannot locate the colt executable")?,
        db: a
            .db
            .clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db")),
    };
    let machine = print_machine_limits(&settings.db);
    let (tvm_python, numpy_python) = peer_pythons(&a);
    let final_dir = tempfile::Builder::new()
        .prefix("colt-bench-final")
        .tempdir()
        .context("cannot create a directory for the final timing")?;
    let bench = Bench {
        settings,
        bucket,
        strategies,
        configs,
        tvm_python,
        numpy_python,
        seeds: a.seeds,
        llm_seeds: a.llm_seeds,
        final_rounds: a.final_rounds,
        final_dir: final_dir.path().to_path_buf(),
        machine,
        peer_timeout: std::time::Duration::from_secs(a.peer_timeout_s),
    };
    let mut rows = vec![];
    for entry in entries {
        rows.extend(bench.entry_rows(&entry, &budgets)?);
    }
    write_report(&a, &rows, &bench.bucket, &price_notes)
}

/// `colt bench --space llvm`. With one non-LLM strategy, one seed, bundled programs, the
/// size and runtime objectives and no --csv/--db/--config, the in-process bench with its
/// per-optimization-type ablation table (`colt_llvm::bench`); otherwise one `colt tune` per
/// program, objective, strategy and seed ([`llvm_runs`]).
fn run_llvm(a: &Args) -> anyhow::Result<()> {
    let ignored: [(&str, bool); 4] = [
        ("--suite", a.suite != "default"),
        ("--workloads", !a.workloads.is_empty()),
        ("--skip-tvm", a.skip_tvm),
        ("--tvm-venv", a.tvm_venv.is_some()),
    ];
    let given: Vec<&str> = ignored.iter().filter(|f| f.1).map(|f| f.0).collect();
    if !given.is_empty() {
        bail!(
            "--space llvm does not take {} (--programs picks the programs)",
            given.join(", ")
        );
    }
    if a.trials.len() > 1 {
        bail!("--space llvm takes one --trials budget");
    }
    let trials = a.trials.first().copied().unwrap_or(64);
    let objectives: Vec<colt_llvm::Objective> = if a.objectives.is_empty() {
        vec![colt_llvm::Objective::Size, colt_llvm::Objective::Runtime]
    } else {
        a.objectives
            .iter()
            .map(|o| o.parse().with_context(|| format!("--objectives {o}")))
            .collect::<anyhow::Result<_>>()?
    };
    let names = if a.strategies.is_empty() {
        vec!["evolutionary".to_string()]
    } else {
        a.strategies.clone()
    };
    let user_cfg = crate::config::load(a.config.as_deref())?;
    let (bucket, bucket_notes) = user_cfg.bucket()?;
    let (bucket, price_notes) = strategies::priced(bucket);
    let strategies = parse_strategies(&names, &bucket, &bucket_notes, &price_notes)?;
    let in_process = strategies.len() == 1
        && !strategies[0].uses_llm()
        && a.seeds == 1
        && a.llm_seeds.is_none()
        && a.csv.is_none()
        && a.db.is_none()
        && a.config.is_none()
        && a.objectives.is_empty()
        && a.programs
            .iter()
            .all(|p| colt_llvm::programs::find(p).is_some());
    if in_process {
        return llvm::run(&names[0], trials, 1, a.programs.clone(), a.json);
    }
    let picked = LlvmPicked {
        trials,
        objectives,
        strategies,
        bucket,
        user_cfg,
    };
    run_llvm_runs(a, picked)
}

/// What `colt bench --space llvm` resolved from its flags.
struct LlvmPicked {
    trials: usize,
    objectives: Vec<colt_llvm::Objective>,
    strategies: Vec<strategies::BenchStrategy>,
    bucket: colt_llm::Bucket,
    user_cfg: crate::config::ConfigFile,
}

/// The LLVM bench over `colt tune` runs ([`llvm_runs`]): rows, CSV, JSON or the table.
fn run_llvm_runs(a: &Args, p: LlvmPicked) -> anyhow::Result<()> {
    let LlvmPicked {
        trials,
        objectives,
        strategies,
        bucket,
        user_cfg,
    } = p;
    let tmp = tempfile::Builder::new()
        .prefix("colt-bench-llvm")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let programs = llvm_runs::resolve_programs(&a.programs, tmp.path())?;
    let configs = strategies::write_configs(tmp.path(), &user_cfg, &bucket, &strategies)?;
    let bench = llvm_runs::LlvmBench {
        exe: std::env::current_exe().context("cannot locate the colt executable")?,
        db: a
            .db
            .clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db")),
        trials,
        seeds: a.seeds,
        llm_seeds: a.llm_seeds,
        objectives,
        strategies: strategies.into_iter().zip(configs).collect(),
    };
    let rows = bench.run(&programs, a.json);
    if let Some(path) = &a.csv {
        std::fs::write(path, llvm_runs::csv(&rows))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if a.json {
        out::print_json(&json!({
            "rows": rows,
            "geomeans": llvm_runs::geomeans(&rows),
            "trials": trials,
        }));
    } else {
        print!("{}", llvm_runs::table(&rows));
    }
    Ok(())
}

/// The trial budgets and strategy names of a tensor bench (the suite's defaults where the
/// command line gives none), after checking the budgets, seeds and `--config`.
fn checked_budgets_and_strategies(
    a: &Args,
    suite: Suite,
) -> anyhow::Result<(Vec<usize>, Vec<String>)> {
    let budgets = if a.trials.is_empty() {
        suite.default_trials()
    } else {
        a.trials.clone()
    };
    if budgets.contains(&0) {
        bail!("--trials: every budget must be at least 1");
    }
    let names = if a.strategies.is_empty() {
        suite.default_strategies()
    } else {
        a.strategies.clone()
    };
    if a.seeds == 0 || a.llm_seeds == Some(0) {
        bail!("--seeds and --llm-seeds must be at least 1");
    }
    if let Some(c) = &a.config
        && !c.is_file()
    {
        bail!("cannot read config {}", c.display());
    }
    Ok((budgets, names))
}

/// Parse the `--strategies` names against the bench's bucket; prints the bucket's and the
/// price table's notes when one of them calls LLMs.
fn parse_strategies(
    names: &[String],
    bucket: &colt_llm::Bucket,
    bucket_notes: &[String],
    price_notes: &[String],
) -> anyhow::Result<Vec<strategies::BenchStrategy>> {
    let mut strategies = vec![];
    for s in names {
        strategies.push(strategies::parse(s, bucket).with_context(|| format!("--strategies {s}"))?);
    }
    if strategies.iter().any(|s| s.uses_llm()) {
        bucket_notes
            .iter()
            .chain(price_notes)
            .for_each(|n| eprintln!("bench: note: {n}"));
    }
    Ok(strategies)
}

/// Print the machine's limits (measured once and kept in the database `db`): they put every
/// tune of the bench on a roofline (`peak_fraction` in its summary).
fn print_machine_limits(db: &std::path::Path) -> Option<colt_measure::MachineLimits> {
    match crate::machine::limits(db, false) {
        Ok((m, _)) => {
            eprintln!(
                "bench: machine: {} ({}, {} cores): peak {:.1} GFLOP/s, bandwidth {:.1} GB/s",
                m.cpu, m.isa, m.cores, m.peak_gflops, m.bandwidth_gbs
            );
            Some(m)
        }
        Err(e) => {
            eprintln!("bench: machine limits not measured: {e:#}");
            None
        }
    }
}

/// The Python that runs TVM (an error saying why TVM is skipped) and the one that times numpy.
fn peer_pythons(a: &Args) -> (Result<PathBuf, String>, Result<PathBuf, String>) {
    let venv = peer::venv_dir(a.tvm_venv.as_deref());
    let venv_py = peer::venv_python(&venv);
    let tvm_python: Result<PathBuf, String> = if a.skip_tvm {
        Err("--skip-tvm".into())
    } else {
        venv_py.clone()
    };
    let numpy_python = peer::numpy_python(venv_py.as_deref().ok());
    if let Err(why) = &tvm_python {
        eprintln!("bench: TVM skipped: {why}");
    }
    (tvm_python, numpy_python)
}

/// The entries `--workloads` selects (the suite's, all of them without it), in the order
/// given: a workload of the suite at the suite's scale (or `--scale`), any other built-in
/// workload — shape overrides allowed, `matmul:M=197,K=768` — at `--scale` (default ci).
/// A workload that does not resolve is an error naming it.
fn selected_entries(a: &Args, suite: Suite) -> anyhow::Result<Vec<suite::Entry>> {
    let scale = a.scale.as_deref().map(out::scale).transpose()?;
    let entries = suite.entries_at(scale);
    if a.workloads.is_empty() {
        return Ok(entries);
    }
    workload_list(&a.workloads)
        .into_iter()
        .map(|w| {
            if let Some(e) = entries.iter().find(|e| e.workload == w) {
                return Ok(e.clone());
            }
            let scale = scale.unwrap_or(colt_ops::Scale::Ci);
            colt_ops::workloads::info(&w, scale).map_err(|e| {
                let known: Vec<&str> = entries.iter().map(|e| e.workload.as_str()).collect();
                anyhow::anyhow!(
                    "--workloads: {e} (the {} suite has: {}; any built-in workload may be named)",
                    a.suite,
                    known.join(", ")
                )
            })?;
            Ok(suite::Entry { workload: w, scale })
        })
        .collect()
}

/// `--workloads` split at its commas, the shape overrides of a workload put back together:
/// `matmul:M=197,K=768,gemv` is `matmul:M=197,K=768` and `gemv` (a name has no `=`).
fn workload_list(parts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for p in parts {
        match out.last_mut() {
            Some(last) if p.contains('=') && !p.contains(':') && last.contains(':') => {
                last.push(',');
                last.push_str(p);
            }
            _ => out.push(p.clone()),
        }
    }
    out
}

/// A workload as a file-name part: overrides' `:`, `=` and `,` become `_`.
fn file_part(workload: &str) -> String {
    workload
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The contenders of one row's final timing.
struct Contenders<'a> {
    colt: &'a mut [StrategyRuns],
    tvm: &'a mut peer::PeerResult,
    /// Where TVM's tuning exported its best kernel (absent when it did not).
    tvm_lib: &'a std::path::Path,
    numpy: Option<&'a mut peer::PeerResult>,
}

/// Everything a tensor bench runs with, once the command line is checked.
struct Bench {
    settings: TuneSettings,
    bucket: colt_llm::Bucket,
    strategies: Vec<strategies::BenchStrategy>,
    /// The config of each strategy (see [`strategies::write_configs`]).
    configs: Vec<Option<PathBuf>>,
    tvm_python: Result<PathBuf, String>,
    numpy_python: Result<PathBuf, String>,
    seeds: u64,
    llm_seeds: Option<u64>,
    /// Rounds of the final timing (0: none).
    final_rounds: usize,
    /// Scratch space of the final timing (TVM's exported kernels, inputs, traces).
    final_dir: PathBuf,
    /// The machine's limits (for each row's roofline bound), when measured.
    machine: Option<colt_measure::MachineLimits>,
    /// The longest a TVM run may take.
    peer_timeout: std::time::Duration,
}

impl Bench {
    /// The rows of one suite entry: numpy once, then colt and TVM for every trial budget.
    fn entry_rows(&self, entry: &suite::Entry, budgets: &[usize]) -> anyhow::Result<Vec<Row>> {
        let workload = entry.workload.as_str();
        // The peers know the layer by its base name and take its shapes (overrides applied).
        let info = colt_ops::workloads::info(workload, entry.scale)?;
        let scale = entry.scale.as_str();
        let program = colt_tensor::resolve(workload, entry.scale)?;
        let roofline_gflops = self
            .machine
            .as_ref()
            .map(|m| m.bound_gflops(program.intensity()));
        let numpy = suite::gemm_like(info.name).then(|| match &self.numpy_python {
            Ok(py) => {
                eprintln!("bench: {workload} ({scale}): numpy/OpenBLAS...");
                peer::numpy(py, peer::request(info.name, &info.shapes, 1, 1))
            }
            Err(why) => peer::PeerResult::skipped(why.clone()),
        });
        let mut rows = vec![];
        for &trials in budgets {
            let mut per_strategy = self.colt_runs(workload, scale, trials);
            let tvm_lib = self
                .final_dir
                .join(format!("{}-{scale}-{trials}-tvm.so", file_part(workload)));
            let mut tvm = self.tvm_run(workload, &info, scale, trials, &tvm_lib);
            if let Some(target) = tvm.best_us {
                self.record_trials_to_tvm(&mut per_strategy, target)?;
            }
            let mut numpy = numpy.clone();
            let contenders = Contenders {
                colt: &mut per_strategy,
                tvm: &mut tvm,
                tvm_lib: &tvm_lib,
                numpy: numpy.as_mut(),
            };
            self.final_timing(entry, &info, &program, contenders)?;
            if !tvm.ok() {
                eprintln!(
                    "bench: {workload} ({scale}), {trials} trials: TVM {}",
                    tvm.status
                );
            }
            rows.push(Row {
                workload: workload.to_string(),
                scale: scale.to_string(),
                trials,
                flops: info.flops as f64,
                strategies: per_strategy,
                tvm,
                numpy,
                roofline_gflops,
            });
        }
        Ok(rows)
    }

    /// Time every contender of a row again in fresh processes (see [`final_timing`]).
    fn final_timing(
        &self,
        entry: &suite::Entry,
        info: &colt_ops::WorkloadInfo,
        program: &colt_ir::Program,
        c: Contenders,
    ) -> anyhow::Result<()> {
        let dir = self.final_dir.join(format!(
            "{}-{}",
            file_part(&entry.workload),
            entry.scale.as_str()
        ));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let setup = final_timing::Setup {
            exe: &self.settings.exe,
            workload: &entry.workload,
            scale: entry.scale.as_str(),
            program,
            request: peer::request(info.name, &info.shapes, 1, 1),
            tvm_python: self.tvm_python.as_deref().ok(),
            numpy_python: self.numpy_python.as_deref().ok(),
            dir: &dir,
            rounds: self.final_rounds,
        };
        let lib = c.tvm_lib.is_file().then_some(c.tvm_lib);
        final_timing::run(&setup, c.colt, c.tvm, lib, c.numpy)
    }

    /// `colt tune` of `workload` with every strategy and seed, on a budget of `trials`.
    fn colt_runs(&self, workload: &str, scale: &str, trials: usize) -> Vec<StrategyRuns> {
        let mut per_strategy = vec![];
        for (strategy, config) in self.strategies.iter().zip(&self.configs) {
            let mut runs = vec![];
            for seed in 1..=seeds_for(strategy.uses_llm(), self.seeds, self.llm_seeds) {
                eprintln!(
                    "bench: {workload} ({scale}), {trials} trials: colt {} seed {seed}...",
                    strategy.label
                );
                let mut run = colt_run::tune(
                    &self.settings,
                    config.as_deref(),
                    workload,
                    scale,
                    strategy.tune.as_str(),
                    trials,
                    seed,
                );
                if strategy.uses_llm() {
                    run.price(&self.bucket);
                }
                runs.push(run);
            }
            per_strategy.push(StrategyRuns {
                strategy: strategy.label.clone(),
                runs,
            });
        }
        per_strategy
    }

    /// TVM MetaSchedule on `workload` with a budget of `trials` (skipped without its Python).
    fn tvm_run(
        &self,
        workload: &str,
        info: &colt_ops::WorkloadInfo,
        scale: &str,
        trials: usize,
        export: &std::path::Path,
    ) -> peer::PeerResult {
        match &self.tvm_python {
            Ok(py) => {
                eprintln!("bench: {workload} ({scale}), {trials} trials: TVM MetaSchedule...");
                let export = (self.final_rounds > 0).then_some(export);
                let req = peer::request(info.name, &info.shapes, trials, 1);
                peer::tvm(py, req, export, Some(self.peer_timeout))
            }
            Err(why) => peer::PeerResult::skipped(why.clone()),
        }
    }

    /// Fill in, for every successful colt run, the trials it took to reach TVM's latency.
    fn record_trials_to_tvm(
        &self,
        per_strategy: &mut [StrategyRuns],
        target: f64,
    ) -> anyhow::Result<()> {
        for s in per_strategy {
            for r in s.runs.iter_mut().filter(|r| r.ok()) {
                if let Some(run) = r.run {
                    r.trials_to_tvm = colt_run::trials_to_reach(&self.settings.db, run, target)?;
                }
            }
        }
        Ok(())
    }
}

/// Write the CSV (with `--csv`), then print the rows as JSON (`--json`) or as a table.
fn write_report(
    a: &Args,
    rows: &[Row],
    bucket: &colt_llm::Bucket,
    price_notes: &[String],
) -> anyhow::Result<()> {
    if let Some(path) = &a.csv {
        std::fs::write(path, report::csv(rows))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if a.json {
        let prices: serde_json::Map<String, serde_json::Value> = bucket
            .models()
            .iter()
            .map(|m| (m.name.clone(), json!({"params": m.params, "input": m.prices.input, "cached_input": m.prices.cached_input, "output": m.prices.output})))
            .collect();
        out::print_json(&json!({
            "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "bucket": {"largest": bucket.largest(), "prices_usd_per_million_tokens": prices, "price_notes": price_notes},
        }));
    } else {
        report::print_table(rows);
        price_notes.iter().for_each(|n| println!("USD: {n}"));
    }
    Ok(())
}

/// How many seeds a strategy runs: `llm_seeds` (when given) for the strategies that call
/// LLMs, `seeds` for the others.
fn seeds_for(uses_llm: bool, seeds: u64, llm_seeds: Option<u64>) -> u64 {
    if uses_llm {
        llm_seeds.unwrap_or(seeds)
    } else {
        seeds
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shape_overrides_survive_the_comma_split_of_workloads() {
        let parts: Vec<String> = ["matmul:M=197", "K=768", "gemv", "conv2d:stride=2", "F=8"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            super::workload_list(&parts),
            ["matmul:M=197,K=768", "gemv", "conv2d:stride=2,F=8"]
        );
        assert_eq!(super::workload_list(&["gemv".into()]), ["gemv"]);
        assert_eq!(super::file_part("matmul:M=197,K=768"), "matmul_M_197_K_768");
        assert_eq!(super::file_part("mlp-up-proj"), "mlp-up-proj");
    }

    #[test]
    fn llm_seeds_apply_only_to_the_strategies_that_call_llms() {
        use super::seeds_for;
        let b = colt_llm::Bucket::default_local();
        let llm = |s: &str| super::strategies::parse(s, &b).unwrap().uses_llm();
        assert_eq!(
            [
                seeds_for(llm("evolutionary"), 3, Some(1)),
                seeds_for(llm("mcts"), 3, Some(1)),
                seeds_for(llm("random"), 3, None)
            ],
            [3, 3, 3]
        );
        assert_eq!(
            [
                seeds_for(llm("colt"), 3, Some(1)),
                seeds_for(llm("single-llm"), 3, Some(2)),
                seeds_for(llm("colt"), 3, None)
            ],
            [1, 2, 3]
        );
        assert_eq!(
            [
                seeds_for(llm("colt-homogeneous"), 3, Some(1)),
                seeds_for(llm("single-llm:smollm2-135m"), 3, Some(1))
            ],
            [1, 1]
        );
    }
}
