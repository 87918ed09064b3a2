//! `colt tune`: one tuning run of a workload with a search strategy, recorded in the tuning
//! database as it goes; `--resume RUN` continues a killed run (its recorded measurements
//! and LLM answers are replayed, nothing is measured or stored twice).

mod recorder;
mod replay;

use crate::{config, out};
use anyhow::{Context, bail};
use colt_db::{Db, NewRun, RunId, RunStatus};
use colt_search::{Measurement, SearchConfig, Strategy};
use colt_tensor::{Session, TensorEnv};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use recorder::Recorder;
use replay::ReplayLlm;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Built-in workload name or path of a custom operator spec (.toml).
    #[arg(long, required_unless_present = "resume")]
    workload: Option<String>,
    /// random | evolutionary | mcts | single-llm | colt
    #[arg(long, default_value = "colt")]
    strategy: String,
    /// Measurements in all.
    #[arg(long, default_value_t = 64)]
    trials: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "ci")]
    scale: String,
    /// colt.toml: `[[models]]` (the LLM bucket) and `[search]` (SearchConfig fields).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The tuning database (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Continue run RUN of the database (its workload, strategy, seed and config).
    #[arg(long, value_name = "RUN")]
    resume: Option<RunId>,
    /// Print a final JSON summary on stdout (no progress bar).
    #[arg(long)]
    json: bool,
}

/// The run being tuned: what the database stores as its identity.
fn new_run(a: &Args, config_text: &str) -> anyhow::Result<NewRun> {
    Ok(NewRun {
        strategy: a.strategy.clone(),
        workload: a.workload.clone().expect("clap requires --workload without --resume"),
        space: "tensor".into(),
        scale: out::scale(&a.scale)?.as_str().into(),
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
    t.insert("strategy".into(), toml::Value::String(spec.strategy.clone()));
    t.insert("trials".into(), toml::Value::Integer(spec.trials as i64));
    t.insert("seed".into(), toml::Value::Integer(spec.seed as i64));
    let cfg: SearchConfig = t.try_into().map_err(|e: toml::de::Error| anyhow::anyhow!("config [search]: {}", e.message()))?;
    cfg.validate()?;
    Ok(cfg)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let db_path = a.db.clone().unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let db = Db::open(&db_path)?;
    let (run_id, spec) = match a.resume {
        Some(id) => {
            let row = db.run(id)?;
            if row.spec.space != "tensor" {
                bail!("run {id} is a {} run, not a tensor-program run", row.spec.space);
            }
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
    let program = colt_tensor::resolve(&spec.workload, out::scale(&spec.scale)?)?;
    let flops = program.flops() as f64;

    let progress = |msg: &str| {
        if !a.json {
            eprintln!("{msg}");
        }
    };
    progress(&format!(
        "run {run_id}: {} on {} ({}), {} trials, seed {} — database {}",
        scfg.strategy,
        program.name,
        spec.scale,
        scfg.trials,
        scfg.seed,
        db_path.display()
    ));
    let mut session = Session::new(&program, out::measure_config(spec.seed)?)?;
    progress("measuring the naive gcc -O3 and clang -O3 baselines...");
    let base = session.baselines();
    let gcc_us = base.gcc.is_ok().then_some(base.gcc.median_us).flatten();
    let clang_us = base.clang.is_ok().then_some(base.clang.median_us).flatten();

    // Measurements already recorded for this run are answered from the database.
    let mut known = BTreeMap::new();
    for row in db.candidates(run_id)? {
        let c = row.candidate;
        let Ok(key) = c.key.parse::<u64>() else { continue };
        let m = match c.latency_median_us {
            Some(us) if c.outcome == colt_db::Outcome::Ok => Measurement::ok(us),
            _ => Measurement::failed(c.outcome.as_str(), c.message.unwrap_or_default()),
        };
        known.insert(key, m);
    }
    let resumed_measurements = known.len();
    let mut env = TensorEnv::new(program.clone(), session, out::target()).with_known(known);

    let mut llm = if scfg.strategy.uses_llm() {
        let (bucket, notes) = config::ConfigFile { path: None, text: spec.config.clone() }.bucket()?;
        notes.iter().for_each(|n| progress(&format!("note: {n}")));
        let client = colt_llm::LlmClient::new(&bucket, spec.seed);
        Some(ReplayLlm::new(client, Db::open(&db_path)?, run_id)?)
    } else {
        None
    };
    if resumed_measurements > 0 {
        progress(&format!("resuming: {resumed_measurements} measurements on record are replayed, not re-measured"));
    }

    let bar = if a.json { ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()) } else { ProgressBar::new(scfg.trials as u64) };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} trials  {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    let mut rec = Recorder {
        db,
        run: run_id,
        outcomes: env.outcomes(),
        flops,
        naive_gcc_us: gcc_us,
        bar: bar.clone(),
        db_error: None,
    };
    let mut cost = colt_cost::Gbdt::default();
    let result = colt_search::run(
        &scfg,
        &mut env,
        &mut cost,
        llm.as_mut().map(|l| l as &mut dyn colt_search::Llm),
        &mut rec,
    )?;
    bar.finish_and_clear();
    if let Some(e) = rec.db_error.as_ref().or(llm.as_ref().and_then(|l| l.db_error.as_ref())) {
        bail!("the tuning database could not record everything: {e}");
    }

    let best_us = result.best_us();
    let summary = json!({
        "run": run_id.0,
        "workload": program.name,
        "scale": spec.scale,
        "strategy": result.strategy.as_str(),
        "seed": spec.seed,
        "stop": result.stop.as_str(),
        "trials": result.trials,
        "best_us": best_us,
        "best_gflops": best_us.map(|us| flops / us / 1e3),
        "naive_gcc_us": gcc_us,
        "naive_clang_us": clang_us,
        "speedup_vs_gcc": gcc_us.zip(best_us).map(|(g, b)| g / b),
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
        "models": result.models,
        "replayed_llm_calls": llm.as_ref().map_or(0, |l| l.replayed),
        "best_trace": result.best.as_ref().map(|b| &b.state),
    });
    rec.db.finish_run(run_id, &summary.to_string())?;
    if a.json {
        out::print_json(&summary);
        return Ok(());
    }
    println!("run {run_id} ({}) finished: {}", result.strategy, result.stop.as_str());
    println!("naive gcc -O3    {}", out::us(gcc_us));
    println!("naive clang -O3  {}", out::us(clang_us));
    match (&result.best, best_us) {
        (Some(b), Some(us)) => {
            println!(
                "best             {}  {:.1} GFLOP/s{}  (trial {})",
                out::us(Some(us)),
                flops / us / 1e3,
                gcc_us.map_or(String::new(), |g| format!("  {:.1}x over naive gcc", g / us)),
                b.trial
            );
            println!("\n{}", colt_sched::describe(&program, &b.state));
        }
        _ => println!("no correct kernel was found"),
    }
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
    println!("export the kernel: colt best --workload {} --out DIR", spec.workload);
    Ok(())
}
