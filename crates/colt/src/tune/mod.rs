//! `colt tune`: one tuning run, recorded in the tuning database as it goes; `--resume RUN`
//! continues a killed run (its recorded measurements and LLM answers are replayed, nothing
//! is measured or stored twice). Two search spaces share this driver and the search engine:
//! tensor-program schedules (`--space tensor`, the default) and LLVM pass orderings
//! (`--space llvm`).

mod llvm;
mod recorder;
mod replay;
mod tensor;

use crate::{config, out};
use anyhow::{Context, bail};
use colt_db::{Db, NewRun, RunId, RunStatus};
use colt_search::{Environment, Measurement, RunResult, SearchConfig, Strategy};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use recorder::{Details, Recorder, ShowBest};
use replay::ReplayLlm;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// tensor (schedules of a workload) or llvm (pass orderings of a C program).
    #[arg(long, default_value = "tensor")]
    space: String,
    /// Tensor space: a built-in workload name or the path of a custom operator spec (.toml).
    #[arg(long)]
    workload: Option<String>,
    /// LLVM space: the C file(s) with `main` (or one .ll file).
    #[arg(long, num_args = 1..)]
    program: Vec<PathBuf>,
    /// LLVM space: size (IR instruction count) or runtime.
    #[arg(long, default_value = "size")]
    objective: String,
    /// random | evolutionary | mcts | single-llm | colt
    #[arg(long, default_value = "colt")]
    strategy: String,
    /// Measurements in all.
    #[arg(long, default_value_t = 64)]
    trials: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Tensor space: ci or paper shapes.
    #[arg(long, default_value = "ci")]
    scale: String,
    /// colt.toml: `[[models]]` (the LLM bucket) and `[search]` (SearchConfig fields).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The tuning database (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Continue run RUN of the database (its space, workload, strategy, seed and config).
    #[arg(long, value_name = "RUN")]
    resume: Option<RunId>,
    /// LLVM space: where to write the best pipeline and optimised .ll (default: colt-out/run-<RUN>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a final JSON summary on stdout (no progress bar).
    #[arg(long)]
    json: bool,
}

/// The run being tuned: what the database stores as its identity. The LLVM space keeps the
/// program's files in `workload` (joined by `;`) and the objective in `scale`.
fn new_run(a: &Args, config_text: &str) -> anyhow::Result<NewRun> {
    let (workload, scale) = match a.space.as_str() {
        "tensor" => {
            let w = a
                .workload
                .clone()
                .context("--workload is required (or --resume RUN)")?;
            (w, out::scale(&a.scale)?.as_str().to_string())
        }
        "llvm" => {
            if a.program.is_empty() {
                bail!("--space llvm needs --program FILE.c (or --resume RUN)");
            }
            let files: Vec<String> = a
                .program
                .iter()
                .map(|p| {
                    std::path::absolute(p)
                        .unwrap_or(p.clone())
                        .display()
                        .to_string()
                })
                .collect();
            (
                files.join(";"),
                a.objective
                    .parse::<colt_llvm::Objective>()?
                    .as_str()
                    .to_string(),
            )
        }
        s => bail!("unknown space \"{s}\" (expected tensor or llvm)"),
    };
    Ok(NewRun {
        strategy: a.strategy.clone(),
        workload,
        space: a.space.clone(),
        scale,
        seed: a.seed,
        trials: a.trials as u64,
        config: config_text.to_string(),
        versions: format!("colt {}", env!("CARGO_PKG_VERSION")),
        target: out::target(),
    })
}

/// `[search]` of the config with strategy, trials and seed of the run.
fn search_config(spec: &NewRun) -> anyhow::Result<SearchConfig> {
    let doc: toml::Table = spec.config.parse().context("config")?;
    let mut t = match doc.get("search") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t.clone(),
        Some(_) => bail!("config: [search] must be a table"),
    };
    t.insert(
        "strategy".into(),
        toml::Value::String(spec.strategy.clone()),
    );
    t.insert("trials".into(), toml::Value::Integer(spec.trials as i64));
    t.insert("seed".into(), toml::Value::Integer(spec.seed as i64));
    let cfg: SearchConfig = t
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("config [search]: {}", e.message()))?;
    cfg.validate()?;
    Ok(cfg)
}

/// What every space hands the common driver.
pub(crate) struct Ctx {
    pub a: Args,
    pub db_path: PathBuf,
    pub db: Db,
    pub run: RunId,
    pub spec: NewRun,
    pub scfg: SearchConfig,
}

impl Ctx {
    pub fn say(&self, msg: &str) {
        if !self.a.json {
            eprintln!("{msg}");
        }
    }

    /// Measurements already recorded for this run (answered from the database on resume).
    pub fn known(&self) -> anyhow::Result<BTreeMap<u64, Measurement>> {
        let mut known = BTreeMap::new();
        for row in self.db.candidates(self.run)? {
            let c = row.candidate;
            let Ok(key) = c.key.parse::<u64>() else {
                continue;
            };
            let m = match c.latency_median_us {
                Some(v) if c.outcome == colt_db::Outcome::Ok => Measurement::ok(v),
                _ => Measurement::failed(c.outcome.as_str(), c.message.unwrap_or_default()),
            };
            known.insert(key, m);
        }
        if !known.is_empty() {
            self.say(&format!(
                "resuming: {} measurements on record are replayed, not re-measured",
                known.len()
            ));
        }
        Ok(known)
    }

    /// Run the search on `env`, recording into the database; returns the result and the
    /// summary fields common to every space.
    pub fn drive<E: Environment>(
        self,
        env: &mut E,
        details: Details,
        show_best: ShowBest,
    ) -> anyhow::Result<(RunResult<E::State>, Value, Db, Args)> {
        let mut effective_strategy = self.scfg.strategy;
        let mut llm = if self.scfg.strategy.uses_llm() {
            let (bucket, notes) = config::ConfigFile {
                path: None,
                text: self.spec.config.clone(),
            }
            .bucket()?;
            notes.iter().for_each(|n| self.say(&format!("note: {n}")));
            if let Some(line) = single_llm_downgrade(self.scfg.strategy, &bucket) {
                // On stderr also with --json: a silent downgrade is what this guards against.
                eprintln!("{line}");
                effective_strategy = Strategy::SingleLlm;
            }
            let client = colt_llm::LlmClient::new(&bucket, self.spec.seed);
            Some(ReplayLlm::new(client, Db::open(&self.db_path)?, self.run)?)
        } else {
            None
        };
        let bar = if self.a.json {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(self.scfg.trials as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} trials  {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        let mut rec = Recorder {
            db: self.db,
            run: self.run,
            details,
            show_best,
            bar: bar.clone(),
            db_error: None,
        };
        let mut cost = colt_cost::Gbdt::default();
        let result = colt_search::run(
            &self.scfg,
            env,
            &mut cost,
            llm.as_mut().map(|l| l as &mut dyn colt_search::Llm),
            &mut rec,
        )?;
        bar.finish_and_clear();
        if let Some(e) = rec
            .db_error
            .as_ref()
            .or(llm.as_ref().and_then(|l| l.db_error.as_ref()))
        {
            bail!("the tuning database could not record everything: {e}");
        }
        let summary = json!({
            "run": self.run.0,
            "space": self.spec.space,
            "strategy": result.strategy.as_str(),
            "effective_strategy": effective_strategy.as_str(),
            "seed": self.spec.seed,
            "stop": result.stop.as_str(),
            "trials": result.trials,
            "wall_s": result.time.wall_s,
            "measure_s": result.time.measure_s,
            "llm_s": result.time.llm_s,
            "search_overhead_s": result.time.overhead_s,
            "llm_calls": result.calls_per_model(),
            "large_model_share": result.large_model_share,
            "tokens_in": result.tokens_in,
            "tokens_cached": result.tokens_cached,
            "tokens_out": result.tokens_out,
            "cost_usd": result.cost_usd,
            "wasted_calls": result.wasted_calls,
            "wasted_by_cause": result.wasted_by_cause,
            "record_compactions": result.record_compactions,
            "models": result.models,
            "replayed_llm_calls": llm.as_ref().map_or(0, |l| l.replayed),
        });
        Ok((result, summary, rec.db, self.a))
    }
}

/// The warning line when `--strategy colt` runs on a bucket of one model: φ_small is 0, the
/// largest model's share floor and course alteration never act, so the run is single-LLM
/// search (`effective_strategy` says so in the summary). `None` otherwise.
fn single_llm_downgrade(strategy: Strategy, bucket: &colt_llm::Bucket) -> Option<String> {
    (strategy == Strategy::Colt && bucket.models().len() == 1).then(|| {
        format!(
            "warning: the LLM bucket has one model ({}): this colt run is single-LLM search (COLT's phi_small, share floor and course alteration need models of different sizes)",
            bucket.models()[0].name
        )
    })
}

/// Store the summary, then print it (`--json`) or the human report (`text`).
pub(crate) fn finish<S>(
    db: &Db,
    run: RunId,
    summary: Value,
    json_out: bool,
    result: &RunResult<S>,
    text: &str,
) -> anyhow::Result<()> {
    db.finish_run(run, &summary.to_string())?;
    if json_out {
        out::print_json(&summary);
        return Ok(());
    }
    println!(
        "run {run} ({}) finished: {}",
        result.strategy,
        result.stop.as_str()
    );
    print!("{text}");
    println!(
        "time: {:.1} s wall, {:.1} s measuring, {:.1} s waiting for LLMs, {:.2} s search overhead",
        result.time.wall_s, result.time.measure_s, result.time.llm_s, result.time.overhead_s
    );
    if result.llm_calls > 0 {
        println!(
            "LLM: {} calls (largest model {:.0}%), {} tokens in ({} cached), {} out, ${:.4}",
            result.llm_calls,
            100.0 * result.large_model_share,
            result.tokens_in,
            result.tokens_cached,
            result.tokens_out,
            result.cost_usd
        );
        for (m, r) in &result.models {
            let errs: u64 = r.errors.values().sum();
            println!(
                "  {m}: {} calls, {} ok, {errs} errors, hit rate {:.2}, {} course alterations",
                r.calls, r.ok, r.hit_rate, r.course_alterations
            );
        }
    }
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let db_path =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let db = Db::open(&db_path)?;
    let (run, spec) = match a.resume {
        Some(id) => {
            let row = db.run(id)?;
            db.set_status(id, RunStatus::Running)?;
            (id, row.spec)
        }
        None => {
            a.strategy.parse::<Strategy>()?;
            let cfg = config::load(a.config.as_deref())?;
            let spec = new_run(&a, &cfg.text)?;
            search_config(&spec)?; // refuse a bad config before a run exists
            (db.create_run(&spec)?, spec)
        }
    };
    let scfg = search_config(&spec)?;
    let ctx = Ctx {
        a,
        db_path,
        db,
        run,
        spec,
        scfg,
    };
    ctx.say(&format!(
        "run {run}: {} on {} ({}), {} trials, seed {} — database {}",
        ctx.scfg.strategy,
        ctx.spec.workload,
        ctx.spec.scale,
        ctx.scfg.trials,
        ctx.scfg.seed,
        ctx.db_path.display()
    ));
    match ctx.spec.space.as_str() {
        "tensor" => tensor::run(ctx),
        "llvm" => llvm::run(ctx),
        s => bail!("run {run} is of an unknown space \"{s}\""),
    }
}
