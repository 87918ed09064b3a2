//! `colt tune`: one tuning run, recorded in the tuning database as it goes; `--resume RUN`
//! continues a killed run (its recorded measurements and LLM answers are replayed, nothing
//! is measured or stored twice). Two search spaces share this driver and the search engine:
//! tensor-program schedules (`--space tensor`, the default) and LLVM pass orderings
//! (`--space llvm`).

pub(crate) mod interrupt;
mod llvm;
pub(crate) mod recorder;
mod replay;
pub(crate) mod summary;
pub(crate) mod tensor;

use crate::space::Space;
use crate::{config, out};
use anyhow::{Context, bail};
use colt_db::{Db, NewRun, OutcomeKind, RunId, RunStatus};
use colt_llvm::{OutputCheck, RunOptions};
use colt_sched::VectorTarget;
use colt_search::{LlmEnvironment, Measurement, RunResult, SearchConfig, Strategy};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use recorder::{Details, Recorder, ShowBest};
use replay::ReplayLlm;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use summary::{SearchSummary, TuneSummary};

/// Most measurements one run may ask for.
pub const MAX_TRIALS: usize = 100_000;

#[derive(clap::Args, Default)]
pub struct Args {
    /// tensor (schedules of a workload) or llvm (pass orderings of a C program). [default: tensor]
    #[arg(long, value_enum)]
    space: Option<Space>,
    /// Tensor space: a built-in workload name, with shape overrides if wanted
    /// (`matmul:M=197,N=768,K=768`: the --scale shapes with those replaced; `colt workloads`
    /// lists each one's shapes), or the path of a custom operator spec (.toml, at most 1 MiB;
    /// the run records its text).
    #[arg(long)]
    workload: Option<String>,
    /// LLVM space: the C file(s) with `main` (or one .ll file; at most 1 MiB each).
    #[arg(long, num_args = 1..)]
    program: Vec<PathBuf>,
    /// LLVM space: size (IR instruction count), runtime (CPU time) or memory (peak resident
    /// memory). [default: size]
    #[arg(long)]
    objective: Option<colt_llvm::Objective>,
    /// LLVM space: compiler flags of every build (start IR, baselines, the -O0 reference),
    /// e.g. "-DN=100 -Iinclude" (split at whitespace, no quoting).
    #[arg(long, allow_hyphen_values = true, value_name = "FLAGS")]
    cflags: Option<String>,
    /// LLVM space: linker flags of every build, e.g. "-lpthread".
    #[arg(long, allow_hyphen_values = true, value_name = "FLAGS")]
    ldflags: Option<String>,
    /// LLVM space: the program's command-line arguments (split at whitespace).
    #[arg(long = "args", allow_hyphen_values = true, value_name = "ARGS")]
    run_args: Option<String>,
    /// LLVM space: a file given to every run as standard input (default: /dev/null).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// LLVM space: which output must equal the -O0 build's: exact (default),
    /// "lines-matching REGEX" or "ignore-lines REGEX" (e.g. "ignore-lines ^time" for a
    /// program that prints its own timings).
    #[arg(long, value_name = "CHECK")]
    check: Option<String>,
    /// random | evolutionary | mcts | single-llm | colt [default: colt]
    #[arg(long)]
    strategy: Option<String>,
    /// Measurements in all, 1 to 100000. [default: 64]
    #[arg(long)]
    trials: Option<usize>,
    /// Any u64. [default: 1]
    #[arg(long)]
    seed: Option<u64>,
    /// Tensor space: ci or paper shapes of a built-in workload (not with a spec file).
    /// [default: ci]
    #[arg(long)]
    scale: Option<String>,
    /// colt.toml (at most 1 MiB): `[[models]]` (the LLM bucket) and `[search]` (SearchConfig
    /// fields).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The tuning database (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Continue run RUN of the database (a killed or interrupted one) with its recorded
    /// space, workload, strategy, trials, seed and config; a flag that differs from the
    /// recorded value is refused.
    #[arg(long, value_name = "RUN")]
    resume: Option<RunId>,
    /// With --resume: tune the input files (custom spec, C program) as the run recorded
    /// them, where the files on disk have changed since.
    #[arg(long)]
    use_recorded: bool,
    /// LLVM space: where to write the best pipeline and optimised .ll (default: colt-out/run-<RUN>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Tensor space: sample without the register-tile prior (which draws half of the
    /// tilings of reduction stages as register tiles sized for the compile target's vector
    /// registers; see `colt_sched::register`).
    #[arg(long)]
    no_register_prior: bool,
    /// Print a final JSON summary on stdout (no progress bar).
    #[arg(long)]
    json: bool,
}

impl Args {
    fn space(&self) -> Space {
        self.space.unwrap_or_default()
    }
    fn strategy(&self) -> &str {
        self.strategy.as_deref().unwrap_or("colt")
    }
    fn objective(&self) -> colt_llvm::Objective {
        self.objective.unwrap_or_default()
    }

    /// Whether a build or run option of the LLVM space was given.
    fn has_llvm_options(&self) -> bool {
        self.cflags.is_some()
            || self.ldflags.is_some()
            || self.run_args.is_some()
            || self.stdin.is_some()
            || self.check.is_some()
    }

    /// The LLVM space's build and run options from the flags (a bad check or a missing
    /// standard-input file is an error).
    fn llvm_options(&self) -> anyhow::Result<RunOptions> {
        let words = |s: &Option<String>| s.as_deref().map(RunOptions::words).unwrap_or_default();
        let stdin = match &self.stdin {
            Some(p) if !p.is_file() => bail!("--stdin: {} is not a readable file", p.display()),
            Some(p) => Some(PathBuf::from(absolute(p))),
            None => None,
        };
        Ok(RunOptions {
            cflags: words(&self.cflags),
            ldflags: words(&self.ldflags),
            args: words(&self.run_args),
            stdin,
            check: match &self.check {
                Some(c) => c.parse()?,
                None => OutputCheck::Exact,
            },
        })
    }
}

/// The arguments of a run driven by another command (`colt model tune`): no progress bar
/// or messages of its own, the database at `db`.
pub(crate) fn quiet_args(db: PathBuf) -> Args {
    Args {
        json: true,
        db: Some(db),
        ..Args::default()
    }
}

/// The key of the LLVM space's build and run options (JSON) among a run's recorded inputs;
/// not a file (input keys of files are absolute paths).
const LLVM_OPTIONS_KEY: &str = "colt:llvm-options";

/// The key of the tensor space's sampling target (JSON: a `VectorTarget` or `null` for no
/// register prior) among a run's recorded inputs. A run recorded without it had no prior.
const VECTOR_TARGET_KEY: &str = "colt:vector-target";

/// The key of the lanes a tensor program's layout is built for (`colt_ir::layout_rewrites`)
/// among a run's recorded inputs. A run recorded without it was built for
/// [`colt_ir::DEFAULT_LANES`].
const LAYOUT_LANES_KEY: &str = "colt:layout-lanes";

/// The compile target's vector ISA and f32 lanes, from the compiler's predefined macros.
fn compile_target_isa() -> Option<(&'static str, i64)> {
    let (isa, lanes) = colt_measure::vector_isa(&colt_measure::Compiler::tuned())?;
    Some((isa, i64::from(lanes)))
}

/// The vector registers of `isa` (see [`compile_target_isa`]) that the sampler's register-tile
/// prior sizes tiles for.
fn vector_target(isa: Option<(&str, i64)>) -> Option<VectorTarget> {
    isa.and_then(|(isa, lanes)| VectorTarget::from_isa(isa, lanes))
}

/// The lanes a program is laid out for on `isa` (see [`compile_target_isa`]):
/// [`colt_ir::DEFAULT_LANES`] where the compiler names no vector ISA.
fn layout_lanes_of(isa: Option<(&str, i64)>) -> i64 {
    isa.map_or(colt_ir::DEFAULT_LANES, |(_, lanes)| lanes)
}

/// The lanes a program is laid out for on this machine's compile target (`COLT_MARCH`
/// included), as `colt tune` records them.
pub(crate) fn layout_lanes() -> i64 {
    layout_lanes_of(compile_target_isa())
}

/// The sampling target a run recorded (`None`: no register prior).
fn recorded_vector_target(rec: &NewRun) -> anyhow::Result<Option<VectorTarget>> {
    match rec.inputs.get(VECTOR_TARGET_KEY) {
        Some(j) => serde_json::from_str(j).context("the run's recorded sampling target"),
        None => Ok(None),
    }
}

/// The lanes a run's program is laid out for, as it recorded them.
pub(crate) fn recorded_layout_lanes(rec: &NewRun) -> anyhow::Result<i64> {
    match rec.inputs.get(LAYOUT_LANES_KEY) {
        Some(j) => match j.parse::<i64>() {
            Ok(lanes) if lanes >= 1 => Ok(lanes),
            _ => bail!("the run's recorded layout lanes ({j:?}) are not a positive number"),
        },
        None => Ok(colt_ir::DEFAULT_LANES),
    }
}

/// The build and run options a run recorded (the defaults when none).
fn recorded_llvm_options(rec: &NewRun) -> anyhow::Result<RunOptions> {
    match rec.inputs.get(LLVM_OPTIONS_KEY) {
        Some(j) => serde_json::from_str(j).context("the run's recorded build and run options"),
        None => Ok(RunOptions::default()),
    }
}

/// The absolute form of a path as the run stores it.
fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or(p.to_path_buf())
        .display()
        .to_string()
}

/// Read an input file of the run (at most 1 MiB), naming what it is on error.
fn read_input(what: &str, path: &str) -> anyhow::Result<String> {
    colt_ops::read_input(Path::new(path)).with_context(|| format!("cannot read {what} {path}"))
}

/// The run being tuned: what the database stores as its identity, with the text of its
/// input files. The LLVM space keeps the program's files in `workload` (joined by `;`) and
/// the objective in `scale`.
fn new_run(a: &Args, config_text: &str) -> anyhow::Result<NewRun> {
    let mut inputs = BTreeMap::new();
    let (workload, scale) = match a.space() {
        Space::Tensor => {
            if a.has_llvm_options() {
                bail!(
                    "--cflags, --ldflags, --args, --stdin and --check apply to --space llvm only"
                );
            }
            let w = a
                .workload
                .clone()
                .context("--workload is required (or --resume RUN)")?;
            let scale = out::workload_scale(&w, a.scale.as_deref())?;
            let (w, recorded) = tensor_inputs(&w, !a.no_register_prior)?;
            inputs = recorded;
            (w, scale.as_str().to_string())
        }
        Space::Llvm => {
            if a.no_register_prior {
                bail!("--no-register-prior applies to --space tensor only");
            }
            if a.program.is_empty() {
                bail!("--space llvm needs --program FILE.c (or --resume RUN)");
            }
            let files: Vec<String> = a.program.iter().map(|p| absolute(p)).collect();
            for f in &files {
                inputs.insert(f.clone(), read_input("program file", f)?);
            }
            let options = a.llvm_options()?;
            if !options.is_default() {
                inputs.insert(LLVM_OPTIONS_KEY.into(), serde_json::to_string(&options)?);
            }
            (files.join(";"), a.objective().to_string())
        }
    };
    let trials = a.trials.unwrap_or(64);
    if trials == 0 || trials > MAX_TRIALS {
        bail!("--trials {trials} is out of range (1 to {MAX_TRIALS})");
    }
    Ok(NewRun {
        strategy: a.strategy().to_string(),
        workload,
        space: a.space().to_string(),
        scale,
        seed: a.seed.unwrap_or(1),
        trials: trials as u64,
        config: config_text.to_string(),
        versions: versions(),
        target: out::target(),
        inputs,
    })
}

/// The version string every run records.
pub(crate) fn versions() -> String {
    format!("colt {}", env!("CARGO_PKG_VERSION"))
}

/// A tensor-space workload as a run records it: a spec file by its absolute path, with its
/// text among the inputs, the register-tile prior's target (none without the prior) and the
/// lanes the program is laid out for (the compile target's).
pub(crate) fn tensor_inputs(
    w: &str,
    register_prior: bool,
) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let mut inputs = BTreeMap::new();
    let w = if out::is_spec_path(w) {
        let path = absolute(Path::new(w));
        inputs.insert(path.clone(), read_input("spec", &path)?);
        path
    } else {
        w.to_string()
    };
    let isa = compile_target_isa();
    let target = register_prior.then(|| vector_target(isa)).flatten();
    inputs.insert(VECTOR_TARGET_KEY.into(), serde_json::to_string(&target)?);
    inputs.insert(LAYOUT_LANES_KEY.into(), layout_lanes_of(isa).to_string());
    Ok((w, inputs))
}

/// The flags given with `--resume` that name a recorded field: (flag, value given, value
/// recorded).
fn given_flags(a: &Args, rec: &NewRun) -> anyhow::Result<Vec<(&'static str, String, String)>> {
    let mut given: Vec<(&str, String, String)> = vec![];
    if let Some(s) = a.space {
        given.push(("--space", s.to_string(), rec.space.clone()));
    }
    let space = rec.space.parse::<Space>().ok();
    // the recorded scale column: the tensor scale, or the LLVM objective ("-" in other spaces)
    let scale_in = |sp: Space| {
        if space == Some(sp) {
            rec.scale.as_str()
        } else {
            "-"
        }
        .to_string()
    };
    if let Some(s) = &a.strategy {
        given.push(("--strategy", s.clone(), rec.strategy.clone()));
    }
    if let Some(t) = a.trials {
        given.push(("--trials", t.to_string(), rec.trials.to_string()));
    }
    if let Some(s) = a.seed {
        given.push(("--seed", s.to_string(), rec.seed.to_string()));
    }
    if let Some(s) = &a.scale {
        if space == Some(Space::Tensor) {
            out::workload_scale(&rec.workload, Some(s))?;
        }
        given.push(("--scale", s.clone(), scale_in(Space::Tensor)));
    }
    if let Some(o) = &a.objective {
        given.push(("--objective", o.to_string(), scale_in(Space::Llvm)));
    }
    if let Some(w) = &a.workload {
        let stored = if out::is_spec_path(w) {
            absolute(Path::new(w))
        } else {
            w.clone()
        };
        let shown = if stored == rec.workload {
            rec.workload.clone()
        } else {
            w.clone()
        };
        given.push(("--workload", shown, rec.workload.clone()));
    }
    if !a.program.is_empty() {
        let files: Vec<String> = a.program.iter().map(|p| absolute(p)).collect();
        given.push(("--program", files.join(";"), rec.workload.clone()));
    }
    Ok(given)
}

/// With `--resume`: every flag given must agree with what the run recorded (a resumed run
/// that silently ignored `--trials 8` or another `--workload` would not be what was asked).
fn check_resume_flags(a: &Args, id: RunId, rec: &NewRun) -> anyhow::Result<()> {
    let given = given_flags(a, rec)?;
    if a.no_register_prior && recorded_vector_target(rec)?.is_some() {
        bail!(
            "--no-register-prior: run {id} was recorded with the register-tile prior; --resume continues a run as recorded (drop the flag, or start a new run)"
        );
    }
    if a.has_llvm_options() {
        let (now, then) = (a.llvm_options()?, recorded_llvm_options(rec)?);
        if now != then {
            bail!(
                "--cflags/--ldflags/--args/--stdin/--check give {} but run {id} was recorded with {}; --resume continues a run as recorded (drop them, or start a new run)",
                serde_json::to_string(&now)?,
                serde_json::to_string(&then)?
            );
        }
    }
    for (flag, value, recorded) in given {
        if value != recorded {
            bail!(
                "{flag} {value} conflicts with run {id}, which was recorded with {recorded}; --resume continues a run as recorded (drop the flag, or start a new run)"
            );
        }
    }
    if let Some(p) = &a.config {
        let text = config::load(Some(p))?.text;
        if text != rec.config {
            bail!(
                "--config {} differs from the config run {id} recorded; --resume continues a run with its recorded config (drop --config, or start a new run)",
                p.display()
            );
        }
    }
    Ok(())
}

/// Short content hash for messages.
fn short_hash(text: &str) -> String {
    colt_measure::compile::content_hash(&[text.as_bytes()])[..12].to_string()
}

/// With `--resume` (without `--use-recorded`): the input files on disk must be the ones the
/// run recorded, or one run would mix two programs.
fn check_inputs(id: RunId, rec: &NewRun) -> anyhow::Result<()> {
    // Keys of recorded options (`colt:...`) are not files.
    for (path, text) in rec.inputs.iter().filter(|(k, _)| !k.starts_with("colt:")) {
        match colt_ops::read_input(Path::new(path)) {
            Ok(now) if now == *text => {}
            Ok(now) => bail!(
                "run {id}: {path} changed since the run was recorded (content {} recorded, {} on disk); restore it, or resume with --use-recorded to tune the recorded copy",
                short_hash(text),
                short_hash(&now)
            ),
            Err(e) => bail!(
                "run {id}: cannot read {path} ({e}); restore it, or resume with --use-recorded to tune the recorded copy"
            ),
        }
    }
    Ok(())
}

/// Everything a run needs, resolved before it exists in the database (a bad workload, spec,
/// program or model bucket leaves no phantom run behind).
pub(crate) struct Resolved {
    /// Tensor space: the program.
    pub program: Option<colt_ir::Program>,
    /// LLVM space: the program files to build (recorded copies with --use-recorded).
    pub files: Vec<PathBuf>,
    /// LLVM space: how the program is built and run.
    pub llvm_options: RunOptions,
    /// Tensor space: the register-tile prior's target (as the run recorded it).
    pub vector_target: Option<VectorTarget>,
    /// Holds the recorded copies of the LLVM program files.
    _recorded: Option<tempfile::TempDir>,
    /// The model bucket, for the LLM strategies.
    pub bucket: Option<colt_llm::Bucket>,
    /// Notes about the bucket (skipped models; never a key).
    pub notes: Vec<String>,
}

pub(crate) fn resolve(
    spec: &NewRun,
    scfg: &SearchConfig,
    cfg: &config::ConfigFile,
    use_recorded: bool,
) -> anyhow::Result<Resolved> {
    let mut r = Resolved {
        program: None,
        files: vec![],
        llvm_options: RunOptions::default(),
        vector_target: None,
        _recorded: None,
        bucket: None,
        notes: vec![],
    };
    match spec.space.parse::<Space>()? {
        Space::Tensor => {
            let w = &spec.workload;
            let lanes = recorded_layout_lanes(spec)?;
            let program = match spec.inputs.get(w) {
                Some(text) => colt_ops::from_spec_named(text, Path::new(w), lanes)?,
                None => colt_tensor::resolve_for(w, out::scale(&spec.scale)?, lanes)?,
            };
            colt_tensor::check_fits(&program)?;
            r.program = Some(program);
            r.vector_target = recorded_vector_target(spec)?;
        }
        Space::Llvm => {
            let files: Vec<PathBuf> = spec.workload.split(';').map(PathBuf::from).collect();
            if use_recorded {
                // Build from the recorded text.
                let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
                for (i, f) in files.iter().enumerate() {
                    let sub = dir.path().join(i.to_string());
                    std::fs::create_dir_all(&sub)?;
                    let copy = sub.join(f.file_name().context("a program file has no name")?);
                    let text = spec
                        .inputs
                        .get(&f.display().to_string())
                        .with_context(|| format!("run recorded no copy of {}", f.display()))?;
                    std::fs::write(&copy, text)
                        .with_context(|| format!("cannot write {}", copy.display()))?;
                    r.files.push(copy);
                }
                r._recorded = Some(dir);
            } else {
                r.files = files;
            }
            r.llvm_options = recorded_llvm_options(spec)?;
            colt_llvm::Program::from_files(&r.files)?.with_options(r.llvm_options.clone())?;
            spec.scale.parse::<colt_llvm::Objective>()?;
        }
    }
    if scfg.strategy.uses_llm() {
        let (bucket, notes) = cfg.bucket()?;
        // Compilers and the measurement worker never see an API key.
        colt_measure::child::hide_env(bucket.models().iter().filter_map(|m| m.api_key_env.clone()));
        r.bucket = Some(bucket);
        r.notes = notes;
    }
    Ok(r)
}

/// A `[search]` deserialisation error on one line, naming the field by its path
/// (`budgets.usd`), as `serde_path_to_error` tracks it.
fn search_error(e: serde_path_to_error::Error<toml::de::Error>) -> String {
    let field = e.path().to_string();
    let msg = e
        .inner()
        .message()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if field == "." || msg.contains(&format!("`{field}`")) {
        msg
    } else {
        format!("field {field}: {msg}")
    }
}

/// `[search]` of the config with strategy, trials and seed of the run.
pub(crate) fn search_config(spec: &NewRun) -> anyhow::Result<SearchConfig> {
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
    // TOML integers are i64: the seed (any u64) is set after deserialising.
    t.insert("seed".into(), toml::Value::Integer(0));
    // "config [search]: field lambda: invalid type: string ..."
    let mut cfg: SearchConfig = serde_path_to_error::deserialize(toml::Value::Table(t))
        .map_err(|e| anyhow::anyhow!("config [search]: {}", search_error(e)))?;
    cfg.seed = spec.seed;
    cfg.validate()?;
    Ok(cfg)
}

/// What the driver hands back to a space: the run's result, the search's part of its
/// summary, the database and arguments, and why every trial failed for a tool reason (if
/// so).
pub(crate) type Driven<S> = (RunResult<S>, SearchSummary, Db, Args, Option<String>);

/// What every space hands the common driver.
pub(crate) struct Ctx {
    pub a: Args,
    pub db_path: PathBuf,
    pub db: Db,
    pub run: RunId,
    pub spec: NewRun,
    pub scfg: SearchConfig,
    pub resolved: Resolved,
    /// Asked between rounds whether the search goes on (`colt model tune`'s scheduler).
    pub gate: Option<recorder::Gate>,
    /// The LLM client to use (shared by the tasks of a model); a new one when `None`.
    pub client: Option<Arc<colt_llm::LlmClient>>,
}

impl Ctx {
    pub fn say(&self, msg: &str) {
        if !self.a.json {
            eprintln!("{msg}");
        }
    }

    /// This machine's limits, when the database holds them (`colt machine` stores them).
    pub fn machine_limits(&self) -> Option<colt_measure::MachineLimits> {
        let key = colt_measure::machine_key(&colt_measure::Compiler::tuned());
        crate::machine::stored(&self.db, &key)
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
                Some(v) if c.outcome == OutcomeKind::Ok => Measurement::ok(v),
                _ => Measurement::failed(c.outcome, c.message.unwrap_or_default()),
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

    /// The bucket's client wrapped to record (and on resume replay) every call, and the
    /// strategy the run really is (a one-model bucket makes `colt` single-LLM search, said on
    /// stderr). `None` for a strategy without LLMs.
    fn replay_llm(&mut self) -> anyhow::Result<(Option<ReplayLlm<replay::SharedLlm>>, Strategy)> {
        let mut effective_strategy = self.scfg.strategy;
        let Some(bucket) = self.resolved.bucket.take() else {
            return Ok((None, effective_strategy));
        };
        let notes = std::mem::take(&mut self.resolved.notes);
        notes.iter().for_each(|n| self.say(&format!("note: {n}")));
        if let Some(line) = no_llm_call_note(&self.scfg) {
            // On stderr also with --json: the run would look like a broken bucket.
            eprintln!("{line}");
        }
        if let Some(line) = single_llm_downgrade(self.scfg.strategy, &bucket) {
            // On stderr also with --json: a silent downgrade is what this guards against.
            eprintln!("{line}");
            effective_strategy = Strategy::SingleLlm;
        }
        let client = self
            .client
            .take()
            .unwrap_or_else(|| Arc::new(colt_llm::LlmClient::new(&bucket, self.spec.seed)));
        let shared = replay::SharedLlm(client);
        let llm = ReplayLlm::new(shared, Db::open(&self.db_path)?, self.run)?;
        Ok((Some(llm), effective_strategy))
    }

    /// Run the search on `env`, recording into the database; returns the result and the
    /// summary fields common to every space.
    pub fn drive<E: LlmEnvironment>(
        mut self,
        env: &mut E,
        details: Details,
        show_best: ShowBest,
    ) -> anyhow::Result<Driven<E::State>> {
        let (mut llm, effective_strategy) = self.replay_llm()?;
        let bar = progress_bar(self.a.json, self.scfg.trials);
        let mut rec = Recorder {
            db: self.db,
            run: self.run,
            details,
            show_best,
            bar: bar.clone(),
            db_error: None,
            trials: 0,
            tool_failures: 0,
            first_tool_error: None,
            gate: self.gate.take(),
            rounds: 0,
            best_us: None,
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
        let summary = SearchSummary {
            run: self.run.0,
            effective_strategy,
            seed: self.spec.seed,
            replayed_llm_calls: llm.as_ref().map_or(0, |l| l.replayed),
            tool_failures: rec.tool_failures,
            ..SearchSummary::of(&result)
        };
        // Every trial failed for a tool reason: the run measured nothing and must not
        // look like a search that found no good kernel.
        let tool_failure = (rec.trials > 0 && rec.tool_failures == rec.trials).then(|| {
            format!(
                "every one of the {} trials failed for a tool reason, not a candidate's (first: {})",
                rec.trials,
                rec.first_tool_error.clone().unwrap_or_default()
            )
        });
        Ok((result, summary, rec.db, self.a, tool_failure))
    }
}

/// The trial progress bar (hidden with `--json`).
fn progress_bar(json: bool, trials: usize) -> ProgressBar {
    let bar = if json {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
    } else {
        ProgressBar::new(trials as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} trials  {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

/// The note when the first batch (the root and the random warm-up samples) takes the
/// whole trial budget of an LLM strategy, so no model is ever asked. `None` otherwise.
fn no_llm_call_note(scfg: &SearchConfig) -> Option<String> {
    let first = 1 + scfg.warmup();
    (scfg.trials <= first).then(|| {
        format!(
            "note: --trials {} is used up by the first batch (the root and {} random warm-up samples): no LLM call will be made; give --trials more than {first} (or set [search] warmup_random)",
            scfg.trials,
            scfg.warmup()
        )
    })
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

/// Store the summary, then print it (`--json`) or the human report (`text`). A run whose
/// every trial failed for a tool reason is an error (exit status 1) after that.
pub(crate) fn finish<S>(
    db: &Db,
    run: RunId,
    summary: &TuneSummary,
    json_out: bool,
    result: &RunResult<S>,
    text: &str,
    tool_failure: Option<String>,
) -> anyhow::Result<()> {
    let summary = store_summary(db, run, summary)?;
    print_report(&summary, json_out, result, text);
    match tool_failure {
        Some(msg) => bail!("run {run}: {msg}"),
        None => Ok(()),
    }
}

/// Mark `run` finished with `summary` (the whole command's wall time set now); the summary
/// as stored.
pub(crate) fn store_summary(db: &Db, run: RunId, summary: &TuneSummary) -> anyhow::Result<Value> {
    let mut summary = summary.clone();
    summary.search.command_wall_s = out::command_wall_s();
    let summary = summary.to_json();
    db.finish_run(run, &summary.to_string())?;
    Ok(summary)
}

fn print_report<S>(summary: &Value, json_out: bool, result: &RunResult<S>, text: &str) {
    let run = &summary["run"];
    if json_out {
        out::print_json(summary);
        return;
    }
    println!(
        "run {run} ({}) finished: {}",
        result.strategy,
        result.stop.as_str()
    );
    print!("{text}");
    println!(
        "time: {:.1} s wall ({:.1} s the whole command), {:.1} s measuring, {:.1} s waiting for LLMs, {:.2} s search overhead",
        result.time.wall_s,
        summary["command_wall_s"].as_f64().unwrap_or(0.0),
        result.time.measure_s,
        result.time.llm_s,
        result.time.overhead_s
    );
    if result.llm_calls > 0 {
        println!(
            "LLM: {} calls (largest model {:.0}%), {} tokens in ({} cached), {} out, ${:.4}",
            result.llm_calls,
            100.0 * result.llm.large_model_share,
            result.llm.tokens_in,
            result.llm.tokens_cached,
            result.llm.tokens_out,
            result.llm.cost_usd
        );
        for (m, r) in &result.models {
            let errs: u64 = r.errors.values().sum();
            println!(
                "  {m}: {} calls, {} ok, {errs} errors, hit rate {:.2}, {} course alterations",
                r.calls, r.ok, r.hit_rate, r.course_alterations
            );
        }
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let db_path =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let (db, run, spec, scfg, resolved) = match a.resume {
        Some(id) => {
            let db = Db::open(&db_path)?;
            let row = db.run(id)?;
            if row.status == RunStatus::Finished {
                bail!(
                    "run {id} is finished; there is nothing to resume (colt report {id} shows it; start a new run to tune again)"
                );
            }
            check_resume_flags(&a, id, &row.spec)?;
            if !a.use_recorded {
                check_inputs(id, &row.spec)?;
            }
            let scfg = search_config(&row.spec)?;
            let cfg = config::ConfigFile::recorded(id, &row.spec.config);
            let resolved = resolve(&row.spec, &scfg, &cfg, a.use_recorded)?;
            db.set_status(id, RunStatus::Running)?;
            (db, id, row.spec, scfg, resolved)
        }
        None => {
            if a.use_recorded {
                bail!("--use-recorded goes with --resume RUN");
            }
            a.strategy().parse::<Strategy>()?;
            let cfg = config::load(a.config.as_deref())?;
            let spec = new_run(&a, &cfg.text)?;
            let scfg = search_config(&spec)?;
            // Everything resolves before the run exists: a bad workload, spec, program or
            // model bucket leaves no phantom `running` run behind.
            let resolved = resolve(&spec, &scfg, &cfg, false)?;
            let db = Db::open(&db_path)?;
            let run = db.create_run(&spec)?;
            (db, run, spec, scfg, resolved)
        }
    };
    interrupt::watch(&db_path, a.db.is_some(), run);
    let ctx = Ctx {
        a,
        db_path,
        db,
        run,
        spec,
        scfg,
        resolved,
        gate: None,
        client: None,
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
    let explicit_db = ctx.a.db.is_some();
    let db_path = ctx.db_path.clone();
    let result = match ctx.spec.space.parse::<Space>() {
        Ok(Space::Tensor) => tensor::run(ctx),
        Ok(Space::Llvm) => llvm::run(ctx),
        Err(e) => Err(e.context(format!("run {run} is of an unknown space"))),
    };
    // A run that stopped on an error is not left `running`: it is killed, and resumable.
    result.map_err(|e| match interrupt::mark_killed(&db_path, run) {
        Ok(true) => e.context(format!(
            "run {run} stopped (resume with: {})",
            interrupt::resume_hint(&db_path, explicit_db, run)
        )),
        _ => e,
    })
}
