//! `colt model tune`: one trial budget spread over the kernels of a model by the task
//! scheduler (`schedule`), each kernel tuned as a spec workload by an ordinary tuning run
//! (`task`), recorded as a model run; `--resume` continues a killed one.

use super::drive::{Driver, Slot};
use super::schedule::{Scheduler, Settings};
use super::specs::{self, KernelSpec, SPEC_SCALE};
use crate::tune::interrupt::{mark_killed, resume_command};
use crate::tune::{Ctx, MAX_TRIALS, Resolved};
use crate::{config, out, tune};
use anyhow::{Context, bail};
use colt_db::{Db, ModelRunId, ModelTask, NewModelRun, NewModelTask, NewRun, RunId, RunStatus};
use colt_onnx::{ImportOptions, Model};
use colt_search::{SearchConfig, Strategy};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct TuneArgs {
    /// The ONNX model (with --resume: the model run's, which it recorded).
    model: Option<PathBuf>,
    /// Fix an input's shape (its dynamic dimensions): --shape x=1,3,224,224 (repeatable).
    #[arg(long = "shape", value_name = "NAME=D0,D1,..")]
    shapes: Vec<String>,
    /// Trials of the whole model, all kernels together, 1 to 100000. [default: 256]
    #[arg(long)]
    trials: Option<usize>,
    /// random | evolutionary | mcts | single-llm | colt [default: evolutionary]
    #[arg(long)]
    strategy: Option<String>,
    /// Any u64. [default: 1]
    #[arg(long)]
    seed: Option<u64>,
    /// colt.toml: `[[models]]` and `[search]` (its batch_size is the size of a round).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The tuning database (default: ~/.cache/colt/colt.db); the kernels' spec files go to
    /// specs/ beside it.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Continue model run MODEL_RUN (killed or interrupted) as recorded; a flag that
    /// differs from the recorded value is refused.
    #[arg(long, value_name = "MODEL_RUN")]
    resume: Option<ModelRunId>,
    /// Print the summary as JSON (no progress bar).
    #[arg(long)]
    json: bool,
}

/// A kernel to tune, before its run exists.
struct Planned {
    kernel: usize,
    label: String,
    count: usize,
    run: NewRun,
    resolved: Resolved,
}

/// A model run ready to drive.
struct Setup {
    db: Db,
    id: ModelRunId,
    spec: NewModelRun,
    slots: Vec<Slot>,
    sched: Scheduler,
    skipped: Vec<(usize, String)>,
}

pub fn run(a: TuneArgs) -> anyhow::Result<()> {
    let db_path =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let s = match a.resume {
        Some(id) => resume(&a, &db_path, id)?,
        None => create(&a, &db_path)?,
    };
    let runs: Vec<RunId> = s.slots.iter().map(|t| t.run).collect();
    let hint = resume_command("colt model tune", &db_path, a.db.is_some(), s.id);
    watch(&db_path, s.id, runs.clone(), hint.clone());
    if !a.json {
        eprintln!(
            "model run {}: {} on {} kernels of {}, {} trials, seed {} — database {}",
            s.id,
            s.spec.strategy,
            s.slots.len(),
            s.spec.model,
            s.spec.trials,
            s.spec.seed,
            db_path.display()
        );
    }
    let mut d = Driver::new(s.sched, s.slots, s.db, s.id, a.json)?;
    if let Err(e) = d.run() {
        let _ = kill(&db_path, s.id, &runs);
        return Err(e.context(format!("model run {} stopped (resume with: {hint})", s.id)));
    }
    let summary = summary(&d, &s.spec, &s.skipped);
    d.db.finish_model_run(s.id, &summary.to_string())?;
    if a.json {
        out::print_json(&summary);
    } else {
        print!("{}", text(&summary, a.db.as_deref()));
    }
    Ok(())
}

/// The `--shape` flags, by input name.
fn shapes(a: &TuneArgs) -> anyhow::Result<BTreeMap<String, Vec<i64>>> {
    a.shapes.iter().map(|s| super::shape(s)).collect()
}

/// The model's file, its hash, and its tasks with `shapes`.
fn load(path: &Path, shapes: &BTreeMap<String, Vec<i64>>) -> anyhow::Result<(Model, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let hash = colt_measure::compile::content_hash(&[&bytes]);
    let opts = ImportOptions {
        shapes: shapes.clone(),
    };
    let graph = colt_onnx::import_bytes(&bytes, &path.display().to_string(), &opts)?;
    Ok((Model::for_lanes(graph, tune::layout_lanes()), hash))
}

/// A new model run: the model's kernels as spec workloads, resolved (a bad one leaves
/// nothing behind), then recorded with one tuning run each.
fn create(a: &TuneArgs, db_path: &Path) -> anyhow::Result<Setup> {
    let path = a
        .model
        .as_deref()
        .context("give the ONNX model (or --resume MODEL_RUN)")?;
    let shapes = shapes(a)?;
    let (model, hash) = load(path, &shapes)?;
    let strategy = a.strategy.as_deref().unwrap_or("evolutionary");
    strategy.parse::<Strategy>()?;
    let trials = a.trials.unwrap_or(256);
    if trials == 0 || trials > MAX_TRIALS {
        bail!("--trials {trials} is out of range (1 to {MAX_TRIALS})");
    }
    let cfg = config::load(a.config.as_deref())?;
    let spec = NewModelRun {
        model: std::path::absolute(path)?.display().to_string(),
        model_hash: hash,
        shapes: serde_json::to_string(&shapes)?,
        strategy: strategy.to_string(),
        seed: a.seed.unwrap_or(1),
        trials: trials as u64,
        config: cfg.text.clone(),
        versions: tune::versions(),
        target: out::target(),
    };
    let (kernels, skipped) = specs::kernel_specs(&model, &specs::specs_dir(db_path));
    if kernels.is_empty() {
        let why: Vec<String> = skipped
            .iter()
            .map(|(k, w)| format!("kernel {k}: {w}"))
            .collect();
        bail!(
            "no kernel of {} can be tuned as a spec ({})",
            spec.model,
            why.join("; ")
        );
    }
    let mut planned = vec![];
    for k in &kernels {
        specs::write_spec(k)?;
        let run = task_run(&spec, k)?;
        planned.push(plan(&model, k.kernel, run, &cfg)?);
    }
    let p = Prepared::new(spec, planned, skipped)?;
    let db = Db::open(db_path)?;
    let new_tasks: Vec<NewModelTask> = p
        .planned
        .iter()
        .map(|p| NewModelTask {
            kernel: p.kernel as u64,
            run: p.run.clone(),
            label: p.label.clone(),
            count: p.count as u64,
        })
        .collect();
    let (id, tasks) = db.create_model_run(&p.spec, &new_tasks)?;
    ready(db_path, db, id, &tasks, p)
}

/// A model run resolved and checked, before its threads exist.
struct Prepared {
    spec: NewModelRun,
    scfg: SearchConfig,
    settings: Settings,
    planned: Vec<Planned>,
    skipped: Vec<(usize, String)>,
}

impl Prepared {
    /// The search config (that of the first task's run) and the settings, checked.
    fn new(
        spec: NewModelRun,
        planned: Vec<Planned>,
        skipped: Vec<(usize, String)>,
    ) -> anyhow::Result<Prepared> {
        let first = planned.first().context("the model run has no task")?;
        let scfg = tune::search_config(&first.run)?;
        let settings = settings(&spec, &scfg, planned.len())?;
        Ok(Prepared {
            spec,
            scfg,
            settings,
            planned,
            skipped,
        })
    }
}

/// Model run `id` (in `db`, with `tasks` stored) ready to drive.
fn ready(
    db_path: &Path,
    db: Db,
    id: ModelRunId,
    tasks: &[ModelTask],
    p: Prepared,
) -> anyhow::Result<Setup> {
    let slots = slots(db_path, &p.scfg, p.planned, tasks)?;
    let sched = scheduler(&slots, p.settings);
    Ok(Setup {
        db,
        id,
        spec: p.spec,
        slots,
        sched,
        skipped: p.skipped,
    })
}

/// The tuning run of kernel spec `k` of model run `spec`.
fn task_run(spec: &NewModelRun, k: &KernelSpec) -> anyhow::Result<NewRun> {
    let (workload, inputs) = tune::tensor_inputs(&k.path.display().to_string(), true)?;
    Ok(NewRun {
        strategy: spec.strategy.clone(),
        workload,
        space: "tensor".into(),
        scale: SPEC_SCALE.into(),
        seed: spec.seed,
        trials: spec.trials,
        config: spec.config.clone(),
        versions: tune::versions(),
        target: out::target(),
        inputs,
    })
}

/// Kernel `kernel` of `model` with its run resolved (program, sampling target, bucket).
fn plan(
    model: &Model,
    kernel: usize,
    run: NewRun,
    cfg: &config::ConfigFile,
) -> anyhow::Result<Planned> {
    let scfg = tune::search_config(&run)?;
    let resolved = tune::resolve(&run, &scfg, cfg, false)?;
    let k = &model.kernels[kernel];
    Ok(Planned {
        kernel,
        label: k.label.clone(),
        count: k.count,
        run,
        resolved,
    })
}

/// The scheduler's settings; the budget must hold a first round of every kernel.
fn settings(spec: &NewModelRun, scfg: &SearchConfig, kernels: usize) -> anyhow::Result<Settings> {
    // The tree strategies measure the root and their warm-up samples as their first batch.
    let first = match scfg.strategy {
        Strategy::Random | Strategy::Evolutionary => scfg.batch_size,
        _ => scfg.batch_size.max(1 + scfg.warmup()),
    };
    let trials = spec.trials as usize;
    if kernels * first > trials {
        bail!(
            "--trials {trials} cannot hold the warm-up, a first round of {first} trials for each of the {kernels} kernels ({} trials); give more trials or a smaller [search] batch_size",
            kernels * first
        );
    }
    Ok(Settings::new(trials, scfg.batch_size, first))
}

fn scheduler(slots: &[Slot], settings: Settings) -> Scheduler {
    let counts: Vec<usize> = slots.iter().map(|s| s.count).collect();
    Scheduler::new(&counts, settings)
}

/// The task slots: each planned kernel's search context, bound to its stored run; the LLM
/// strategies share one client.
fn slots(
    db_path: &Path,
    scfg: &SearchConfig,
    planned: Vec<Planned>,
    tasks: &[ModelTask],
) -> anyhow::Result<Vec<Slot>> {
    let client = match planned.first().and_then(|p| p.resolved.bucket.as_ref()) {
        Some(b) if scfg.strategy.uses_llm() => {
            Some(Arc::new(colt_llm::LlmClient::new(b, scfg.seed)))
        }
        _ => None,
    };
    let mut out = vec![];
    for (p, t) in planned.into_iter().zip(tasks) {
        let ctx = Ctx {
            a: tune::quiet_args(db_path.to_path_buf()),
            db_path: db_path.to_path_buf(),
            db: Db::open(db_path)?,
            run: t.run,
            scfg: tune::search_config(&p.run)?,
            spec: p.run,
            resolved: p.resolved,
            gate: None,
            client: client.clone(),
        };
        out.push(Slot {
            kernel: p.kernel,
            label: p.label,
            count: p.count,
            run: t.run,
            ctx: Some(ctx),
            handle: None,
            end: None,
            naive_us: t.naive_us,
        });
    }
    Ok(out)
}

/// Model run `id` as recorded, to continue: the same model file (by content), the same
/// kernels (by spec text), every flag given equal to the recorded one.
fn resume(a: &TuneArgs, db_path: &Path, id: ModelRunId) -> anyhow::Result<Setup> {
    let db = Db::open(db_path)?;
    let row = db.model_run(id)?;
    if row.status == RunStatus::Finished {
        bail!(
            "model run {id} is finished; there is nothing to resume (start a new one to tune again)"
        );
    }
    check_flags(a, id, &row.spec)?;
    let spec = row.spec;
    let shapes: BTreeMap<String, Vec<i64>> =
        serde_json::from_str(&spec.shapes).context("the recorded shapes")?;
    let (model, hash) =
        load(Path::new(&spec.model), &shapes).with_context(|| format!("model run {id}"))?;
    if hash != spec.model_hash {
        bail!(
            "model run {id}: {} changed since the run was recorded (content {} recorded, {} on disk)",
            spec.model,
            &spec.model_hash[..12],
            &hash[..12]
        );
    }
    let cfg = config::ConfigFile {
        path: None,
        text: spec.config.clone(),
        origin: Some(format!("recorded with model run {id}")),
    };
    let tasks = db.model_tasks(id)?;
    let mut planned = vec![];
    for t in &tasks {
        let run = recorded_task(&db, &model, t)?;
        planned.push(plan(&model, t.kernel as usize, run, &cfg)?);
    }
    let skipped = specs::kernel_specs(&model, &specs::specs_dir(db_path)).1;
    let p = Prepared::new(spec, planned, skipped)?;
    db.set_model_status(id, RunStatus::Running)?;
    for t in &tasks {
        db.set_status(t.run, RunStatus::Running)?;
    }
    ready(db_path, db, id, &tasks, p)
}

/// The recorded run of task `t`, checked against the model's kernel now (its spec file
/// restored where it is missing).
fn recorded_task(db: &Db, model: &Model, t: &ModelTask) -> anyhow::Result<NewRun> {
    let run = db.run(t.run)?.spec;
    let k = model
        .kernels
        .get(t.kernel as usize)
        .with_context(|| format!("the model has no kernel {} (run {})", t.kernel, t.run))?;
    let now = colt_ops::to_spec(&k.program)?;
    if run.inputs.get(&run.workload) != Some(&now) {
        bail!(
            "kernel {} of the model is not the spec run {} recorded (colt-onnx splits the model differently now, or lays it out for other vector registers than the run recorded); start a new model run",
            t.kernel,
            t.run
        );
    }
    specs::write_spec(&KernelSpec {
        kernel: t.kernel as usize,
        text: now,
        path: PathBuf::from(&run.workload),
    })?;
    Ok(run)
}

/// With `--resume`: every flag given must be what the model run recorded.
fn check_flags(a: &TuneArgs, id: ModelRunId, rec: &NewModelRun) -> anyhow::Result<()> {
    let mut given: Vec<(&str, String, String)> = vec![];
    if let Some(m) = &a.model {
        let abs = std::path::absolute(m)?.display().to_string();
        given.push(("MODEL", abs, rec.model.clone()));
    }
    if !a.shapes.is_empty() {
        given.push((
            "--shape",
            serde_json::to_string(&shapes(a)?)?,
            rec.shapes.clone(),
        ));
    }
    if let Some(t) = a.trials {
        given.push(("--trials", t.to_string(), rec.trials.to_string()));
    }
    if let Some(s) = &a.strategy {
        given.push(("--strategy", s.clone(), rec.strategy.clone()));
    }
    if let Some(s) = a.seed {
        given.push(("--seed", s.to_string(), rec.seed.to_string()));
    }
    if let Some(p) = &a.config
        && config::load(Some(p))?.text != rec.config
    {
        bail!(
            "--config {} differs from the config model run {id} recorded; drop it, or start a new model run",
            p.display()
        );
    }
    for (flag, value, recorded) in given {
        if value != recorded {
            bail!(
                "{flag} {value} conflicts with model run {id}, which was recorded with {recorded}; --resume continues a run as recorded (drop the flag, or start a new model run)"
            );
        }
    }
    Ok(())
}

/// Mark the model run and its task runs killed (those still running).
fn kill(db_path: &Path, id: ModelRunId, runs: &[RunId]) -> anyhow::Result<()> {
    let db = Db::open(db_path)?;
    if db.model_run(id)?.status == RunStatus::Running {
        db.set_model_status(id, RunStatus::Killed)?;
    }
    for r in runs {
        mark_killed(db_path, *r)?;
    }
    Ok(())
}

/// Ctrl-C or SIGTERM: the model run and its task runs are marked killed (every record
/// before is committed), compilers killed, and the line that resumes it printed.
fn watch(db_path: &Path, id: ModelRunId, runs: Vec<RunId>, hint: String) {
    let db_path = db_path.to_path_buf();
    let installed = ctrlc::set_handler(move || {
        colt_measure::child::cleanup();
        let marked = match kill(&db_path, id, &runs) {
            Ok(()) => format!("model run {id} marked killed"),
            Err(e) => format!("model run {id} could not be marked killed ({e})"),
        };
        eprintln!("\ninterrupted: {marked}; resume with: {hint}");
        std::process::exit(130);
    });
    if let Err(e) = installed {
        tracing::warn!("cannot install the SIGINT/SIGTERM handler: {e}");
    }
}

/// The model run's summary: per task its trials, rounds, naive and tuned latency and
/// share of the model's estimated time.
fn summary(d: &Driver, spec: &NewModelRun, skipped: &[(usize, String)]) -> Value {
    let tasks: Vec<Value> = d
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "kernel": s.kernel, "operators": s.label, "count": s.count, "run": s.run.0,
                "trials": d.sched.trials(i), "rounds": d.sched.rounds(i),
                "naive_us": s.naive_us, "best_us": s.end.as_ref().and_then(|e| e.best_us),
                "latency_us": d.sched.latency(i), "share": d.sched.share(i),
                "stop": s.end.as_ref().map(|e| e.stop.clone()),
            })
        })
        .collect();
    let naive: f64 = d
        .slots
        .iter()
        .filter_map(|s| s.naive_us.map(|n| n * s.count as f64))
        .sum();
    let skipped: Vec<Value> = skipped
        .iter()
        .map(|(k, why)| json!({"kernel": k, "reason": why}))
        .collect();
    json!({
        "model_run": d.model_run.0, "model": spec.model, "model_hash": spec.model_hash,
        "shapes": serde_json::from_str::<Value>(&spec.shapes).unwrap_or(Value::Null),
        "strategy": spec.strategy, "seed": spec.seed, "budget": spec.trials,
        "trials": d.sched.used(), "rounds": d.sched.rounds_total(),
        "estimated_naive_us": naive, "estimated_tuned_us": d.sched.model_us(),
        "wall_s": out::command_wall_s(), "tasks": tasks, "skipped": skipped,
    })
}

/// The summary for people.
fn text(v: &Value, db: Option<&Path>) -> String {
    let mut t = format!(
        "model run {} ({}, seed {}) finished: {} of {} trials in {} rounds, {:.0} s\n",
        v["model_run"],
        v["strategy"].as_str().unwrap_or(""),
        v["seed"],
        v["trials"],
        v["budget"],
        v["rounds"],
        v["wall_s"].as_f64().unwrap_or(0.0)
    );
    t += &format!(
        "{:>6} {:>5} {:<36} {:>5} {:>6} {:>10} {:>10} {:>6}\n",
        "kernel", "count", "operators", "run", "trials", "naive", "best", "share"
    );
    for k in v["tasks"].as_array().into_iter().flatten() {
        t += &format!(
            "{:>6} {:>5} {:<36} {:>5} {:>6} {:>10} {:>10} {:>5.1}%\n",
            k["kernel"].to_string(),
            k["count"].to_string(),
            k["operators"].as_str().unwrap_or(""),
            k["run"].to_string(),
            k["trials"].to_string(),
            out::us(k["naive_us"].as_f64()),
            out::us(k["latency_us"].as_f64()),
            100.0 * k["share"].as_f64().unwrap_or(0.0)
        );
    }
    for s in v["skipped"].as_array().into_iter().flatten() {
        t += &format!(
            "kernel {} is not tuned: {}\n",
            s["kernel"],
            s["reason"].as_str().unwrap_or("")
        );
    }
    let (n, b) = (
        v["estimated_naive_us"].as_f64(),
        v["estimated_tuned_us"].as_f64(),
    );
    t += &format!(
        "model time (sum of count × latency): naive {} -> tuned {}\n",
        out::us(n),
        out::us(b)
    );
    let db = db.map_or(String::new(), |p| format!(" --db {}", p.display()));
    t += &format!(
        "build it: colt model build {} --out DIR{db}\n",
        v["model"].as_str().unwrap_or("MODEL")
    );
    t
}
