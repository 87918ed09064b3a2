//! The LLVM pass-ordering environment: states are pass sequences over one program.
//!
//! - apply (LLM actions): `append`, `insert`, `remove`, `replace`, `swap` on the sequence;
//! - the root and the first initial states are the objective's standard pipelines
//!   (`default<O3>` and `default<O2>` for run time and memory; `default<Oz>`, `default<Os>`
//!   and `default<O1>` for size), so that every strategy measures them first and the result
//!   is never worse than the best of them; further initial states and mutations:
//!   [`crate::sketch`];
//! - measurement: `opt -passes=<pipeline>` on the start IR (cached by start-IR hash and
//!   pipeline), the IR instruction count, then `llc` + link and a run whose output must equal
//!   the `-O0` build's (else `wrong_result`/`crash`/`timeout`, never a best); for
//!   `runtime` and `memory`, the medians of `repeats` timed runs. Builds and checks are
//!   cached by the hash of the optimised IR (two sequences giving the same IR are measured
//!   once).
//! - objective value, handed to the engine as `latency_us` (minimised): `size` = IR
//!   instructions; `runtime` = CPU µs; `memory` = peak resident KiB.
//! - features: Autophase-style features of the start IR plus the sequence's pass and
//!   optimization-type counts and positions; with [`FeatureMode::OptimizedIr`] also the
//!   features of the optimised IR (one `opt` run per new state, cached).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use colt_action::{ActionSpec, Transformation, Vocabulary};
use colt_search::{Environment, LlmEnvironment, Measurement, OutcomeKind, SearchRng};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{LlvmError, first_line};
use crate::ir;
use crate::passes::{self, OptType, PassVocab};
use crate::program::{self, Check, Prepared, Program};
use crate::sketch;
use crate::tools::Toolchain;

/// What the search minimises.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// IR instruction count (the `.text` bytes are recorded too).
    #[default]
    Size,
    /// Median CPU time of the program (µs).
    Runtime,
    /// Median peak resident memory of the program (KiB, `wait4`'s `ru_maxrss`).
    Memory,
}

impl Objective {
    /// The snake_case name, as serialized and parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Size => "size",
            Objective::Runtime => "runtime",
            Objective::Memory => "memory",
        }
    }

    /// Whether measuring needs timed runs (run time and memory) rather than one checked run.
    pub fn timed(self) -> bool {
        self != Objective::Size
    }

    /// The standard pipelines a search for this objective starts from, best guess first.
    ///
    /// For size, `-O1` too: it is often smaller than `-Oz` itself (LLVM 14 on the start IR
    /// of the bundled vector kernels: 57–71 instructions against `-Oz`'s 62–84; its loop
    /// unroller runs at the `O1` level where `-Oz`'s runs at `O2`).
    pub fn standard_pipelines(self) -> &'static [&'static str] {
        match self {
            Objective::Size => &["default<Oz>", "default<Os>", "default<O1>"],
            Objective::Runtime | Objective::Memory => &["default<O3>", "default<O2>"],
        }
    }
    /// Unit of the value handed to the engine.
    pub fn unit(self) -> &'static str {
        match self {
            Objective::Size => "IR instructions",
            Objective::Runtime => "µs",
            Objective::Memory => "KiB",
        }
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Objective {
    type Err = LlvmError;
    fn from_str(s: &str) -> Result<Objective, LlvmError> {
        match s.trim() {
            "size" => Ok(Objective::Size),
            "runtime" => Ok(Objective::Runtime),
            "memory" => Ok(Objective::Memory),
            _ => Err(LlvmError::UnknownObjective(s.to_string())),
        }
    }
}

/// Which features the cost model sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureMode {
    /// Start-IR features + sequence features: no tool run (the search scores hundreds of
    /// candidates per batch).
    #[default]
    Sequence,
    /// Also the features of the optimised IR (one cached `opt` run per new state).
    OptimizedIr,
}

/// Knobs of the environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvConfig {
    /// What the search minimises.
    pub objective: Objective,
    /// Timed runs per runtime measurement (median).
    pub repeats: usize,
    /// Which features the cost model sees.
    pub features: FeatureMode,
    /// Parallel builds in a batch (0 = the machine's parallelism, at most 4).
    pub jobs: usize,
}

impl EnvConfig {
    /// Defaults for `objective`: 5 timed runs, sequence features, automatic jobs.
    pub fn new(objective: Objective) -> EnvConfig {
        EnvConfig {
            objective,
            repeats: 5,
            features: FeatureMode::Sequence,
            jobs: 0,
        }
    }
}

/// Everything measured about one candidate sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    /// The pass sequence.
    pub passes: Vec<String>,
    /// The `opt -passes=` string.
    pub pipeline: String,
    /// `Ok`, `OptError`, `CompileError` (the optimised IR did not build), `WrongResult`,
    /// `Crash` or `Timeout`.
    pub outcome: OutcomeKind,
    /// What went wrong (empty for `Ok`).
    pub detail: String,
    /// IR instructions after the passes.
    pub ir_instructions: Option<usize>,
    /// `.text` bytes of the built object.
    pub text_bytes: Option<u64>,
    /// Median µs (runtime and memory objectives, or when timed on purpose).
    pub runtime_us: Option<f64>,
    /// Median peak resident KiB (of the same timed runs).
    #[serde(default)]
    pub max_rss_kib: Option<f64>,
    /// FNV-1a hash of the optimised IR (equal IR builds once).
    pub ir_hash: Option<u64>,
}

impl CandidateResult {
    /// The value of `objective`, when the candidate is correct.
    pub fn value(&self, objective: Objective) -> Option<f64> {
        if self.outcome != OutcomeKind::Ok {
            return None;
        }
        match objective {
            Objective::Size => self.ir_instructions.map(|n| n as f64),
            Objective::Runtime => self.runtime_us,
            Objective::Memory => self.max_rss_kib,
        }
    }
}

/// Characters of program code the prompt shows at most.
const SOURCE_BUDGET: usize = 6000;

/// (input IR hash, pipeline) -> optimised IR, or opt's error line.
type OptCache = BTreeMap<(u64, String), Result<Arc<String>, String>>;

/// Build-and-check result of one optimised IR.
#[derive(Clone, Debug)]
struct Built {
    outcome: OutcomeKind,
    detail: String,
    text_bytes: Option<u64>,
    runtime_us: Option<f64>,
    max_rss_kib: Option<f64>,
}

/// The environment. See the module doc.
pub struct LlvmEnv {
    tools: Arc<Toolchain>,
    vocab: PassVocab,
    prog: Prepared,
    cfg: EnvConfig,
    /// (input IR hash, pipeline) -> optimised IR or opt's error line.
    opt_cache: Mutex<OptCache>,
    /// Optimised-IR hash -> build/check/timing.
    built: BTreeMap<u64, Built>,
    /// State key -> result, for everything measured by this process.
    log: BTreeMap<u64, CandidateResult>,
    known: BTreeMap<u64, Measurement>,
    start_features: Vec<f32>,
}

impl LlvmEnv {
    /// Prepare `program` (start IR, -O0 reference) with the pass vocabulary validated
    /// against `tools.opt`.
    pub fn new(tools: Toolchain, program: &Program, cfg: EnvConfig) -> Result<LlvmEnv, LlvmError> {
        let vocab = passes::validate(&tools.opt);
        if vocab.passes.is_empty() {
            return Err(LlvmError::ToolUnusable {
                tool: "opt".into(),
                path: tools.opt.clone(),
                message: "it rejected every pass of the vocabulary".into(),
            });
        }
        let prog = Prepared::new(&tools, program, cfg.objective)?;
        let start_features = ir::features(&prog.start_ll)
            .into_iter()
            .map(|x| x.ln_1p())
            .collect();
        Ok(LlvmEnv {
            tools: Arc::new(tools),
            vocab,
            prog,
            cfg,
            opt_cache: Mutex::new(BTreeMap::new()),
            built: BTreeMap::new(),
            log: BTreeMap::new(),
            known: BTreeMap::new(),
            start_features,
        })
    }

    /// Measurements recorded by an earlier process of the same run (`--resume`).
    pub fn with_known(mut self, known: BTreeMap<u64, Measurement>) -> LlvmEnv {
        self.known = known;
        self
    }

    /// The tools in use.
    pub fn tools(&self) -> &Toolchain {
        &self.tools
    }
    /// The passes offered.
    pub fn pass_vocab(&self) -> &PassVocab {
        &self.vocab
    }
    /// The program being tuned.
    pub fn prepared(&self) -> &Prepared {
        &self.prog
    }
    /// The environment's settings.
    pub fn config(&self) -> &EnvConfig {
        &self.cfg
    }
    /// What the search minimises.
    pub fn objective(&self) -> Objective {
        self.cfg.objective
    }
    /// Everything this process measured, by state key.
    pub fn results(&self) -> &BTreeMap<u64, CandidateResult> {
        &self.log
    }

    /// The `opt -passes=` string of a sequence.
    pub fn pipeline(&self, passes: &[String]) -> Result<String, LlvmError> {
        self.vocab.pipeline(passes)
    }

    /// The IR after running the sequence on the start IR (cached; the empty sequence is the
    /// start IR itself).
    pub fn optimize(&self, passes: &[String]) -> Result<Arc<String>, LlvmError> {
        let pipeline = self.pipeline(passes)?;
        if pipeline.is_empty() {
            return Ok(Arc::new(self.prog.start_ll.clone()));
        }
        let k = (self.prog.start_hash, pipeline.clone());
        if let Some(r) = self.opt_cache.lock().expect("opt cache").get(&k) {
            return r.clone().map_err(|m| LlvmError::ToolFailed {
                tool: "opt".into(),
                message: m,
            });
        }
        let r = run_opt(&self.tools.opt, &self.prog.start_path(), &pipeline).map(Arc::new);
        self.opt_cache
            .lock()
            .expect("opt cache")
            .insert(k, r.clone());
        r.map_err(|m| LlvmError::ToolFailed {
            tool: "opt".into(),
            message: m,
        })
    }

    /// Measure one sequence completely (IR count, `.text` bytes, output check, and run time
    /// and memory when the objective is timed or `time` is set).
    pub fn evaluate(&mut self, passes: &[String], time: bool) -> CandidateResult {
        let objective = if time && !self.cfg.objective.timed() {
            Objective::Runtime
        } else {
            self.cfg.objective
        };
        self.evaluate_batch(&[passes.to_vec()], objective).remove(0)
    }

    /// Write the exported result: `<dir>/pipeline.txt` (the `opt -passes=` string) and
    /// `<dir>/<program>.opt.ll` (the optimised IR). Returns (pipeline, ll path).
    pub fn export(
        &self,
        passes: &[String],
        dir: &Path,
    ) -> Result<(String, std::path::PathBuf), LlvmError> {
        let pipeline = self.pipeline(passes)?;
        let ll = self.optimize(passes)?;
        std::fs::create_dir_all(dir).map_err(|e| LlvmError::io(dir, e))?;
        let p = dir.join("pipeline.txt");
        std::fs::write(&p, format!("{pipeline}\n")).map_err(|e| LlvmError::io(&p, e))?;
        let llp = dir.join(format!("{}.opt.ll", self.prog.name));
        std::fs::write(&llp, ll.as_bytes()).map_err(|e| LlvmError::io(&llp, e))?;
        Ok((pipeline, llp))
    }

    fn jobs(&self) -> usize {
        match self.cfg.jobs {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4),
            j => j,
        }
    }

    /// Optimise, build, check (in parallel), then time sequentially when `objective` is
    /// runtime.
    fn evaluate_batch(
        &mut self,
        batch: &[Vec<String>],
        objective: Objective,
    ) -> Vec<CandidateResult> {
        let (mut out, irs) = self.optimize_batch(batch);
        self.build_new(&out, &irs);
        if objective.timed() {
            self.time_built(&out);
        }
        for r in &mut out {
            if let Some(b) = r.ir_hash.and_then(|h| self.built.get(&h)) {
                r.outcome = b.outcome;
                r.text_bytes = b.text_bytes;
                r.runtime_us = b.runtime_us;
                r.max_rss_kib = b.max_rss_kib;
                if !b.detail.is_empty() {
                    r.detail = b.detail.clone();
                }
            }
        }
        out
    }

    /// Phase 1: opt (parallel over distinct pipelines). One result per sequence (IR size
    /// and hash, or the opt error) and its optimised IR.
    fn optimize_batch(
        &self,
        batch: &[Vec<String>],
    ) -> (Vec<CandidateResult>, Vec<Option<Arc<String>>>) {
        let mut out: Vec<CandidateResult> = Vec::with_capacity(batch.len());
        let mut irs: Vec<Option<Arc<String>>> = Vec::with_capacity(batch.len());
        let pipelines: Vec<Result<String, LlvmError>> =
            batch.iter().map(|s| self.pipeline(s)).collect();
        {
            let todo: Vec<&Vec<String>> = batch.iter().collect();
            let jobs = self.jobs();
            let this = self;
            std::thread::scope(|sc| {
                for chunk in todo.chunks(todo.len().div_ceil(jobs).max(1)) {
                    sc.spawn(move || {
                        for s in chunk {
                            let _ = this.optimize(s);
                        }
                    });
                }
            });
        }
        for (s, p) in batch.iter().zip(pipelines) {
            let mut r = CandidateResult {
                passes: s.clone(),
                pipeline: p.as_ref().map(|p| p.clone()).unwrap_or_default(),
                outcome: OutcomeKind::Ok,
                detail: String::new(),
                ir_instructions: None,
                text_bytes: None,
                runtime_us: None,
                max_rss_kib: None,
                ir_hash: None,
            };
            match p.and_then(|_| self.optimize(s)) {
                Ok(ll) => {
                    r.ir_instructions = Some(ir::instruction_count(&ll));
                    r.ir_hash = Some(ir::fnv1a(ll.as_bytes()));
                    irs.push(Some(ll));
                }
                Err(e) => {
                    r.outcome = OutcomeKind::OptError;
                    r.detail = e.to_string();
                    irs.push(None);
                }
            }
            out.push(r);
        }
        (out, irs)
    }

    /// Phase 2: build + one checked run per distinct new IR (parallel), kept in `built`.
    fn build_new(&mut self, out: &[CandidateResult], irs: &[Option<Arc<String>>]) {
        let mut new: BTreeMap<u64, Arc<String>> = BTreeMap::new();
        for (r, ll) in out.iter().zip(irs) {
            if let (Some(h), Some(ll)) = (r.ir_hash, ll)
                && !self.built.contains_key(&h)
            {
                new.insert(h, Arc::clone(ll));
            }
        }
        let items: Vec<(u64, Arc<String>)> = new.into_iter().collect();
        let jobs = self.jobs();
        let results: Mutex<Vec<(u64, Built)>> = Mutex::new(Vec::new());
        {
            let tools = &*self.tools;
            let prog = &self.prog;
            let results = &results;
            std::thread::scope(|sc| {
                for chunk in items.chunks(items.len().div_ceil(jobs).max(1)) {
                    sc.spawn(move || {
                        for (h, ll) in chunk {
                            let b = build_and_check(tools, prog, *h, ll);
                            results.lock().expect("results").push((*h, b));
                        }
                    });
                }
            });
        }
        for (h, b) in results.into_inner().expect("results") {
            self.built.insert(h, b);
        }
    }

    /// Phase 3: timing, one candidate after the other (each built, correct, untimed IR of
    /// `out` once).
    fn time_built(&mut self, out: &[CandidateResult]) {
        let mut hashes: Vec<u64> = out.iter().filter_map(|r| r.ir_hash).collect();
        hashes.dedup();
        for h in hashes {
            let Some(b) = self.built.get(&h) else {
                continue;
            };
            if b.outcome != OutcomeKind::Ok || b.runtime_us.is_some() {
                continue;
            }
            let exe = self.executable_of(h);
            let timed = program::check_and_time(&exe, &self.prog, self.cfg.repeats);
            let b = self.built.get_mut(&h).expect("present");
            match timed {
                Ok(Check::Ok(r)) => {
                    b.runtime_us = Some(r.cpu_us);
                    b.max_rss_kib = Some(r.max_rss_kib);
                }
                Ok(c) => set_failure(b, c),
                Err(e) => {
                    b.outcome = OutcomeKind::Crash;
                    b.detail = e.to_string();
                }
            }
        }
    }

    /// Where the executable of the optimised IR with hash `h` is built.
    fn executable_of(&self, h: u64) -> std::path::PathBuf {
        self.prog.dir.path().join(format!("c{h:016x}.exe"))
    }

    /// Build and output-check a sequence (IR count, `.text` bytes) without timing it,
    /// whatever the objective.
    pub fn check(&mut self, passes: &[String]) -> CandidateResult {
        self.evaluate_batch(&[passes.to_vec()], Objective::Size)
            .remove(0)
    }

    /// The built, output-checked executable of a sequence (built now if it was not), or why
    /// there is none.
    pub fn executable(&mut self, passes: &[String]) -> Result<std::path::PathBuf, String> {
        let r = self.check(passes);
        match (r.outcome, r.ir_hash) {
            (OutcomeKind::Ok, Some(h)) => Ok(self.executable_of(h)),
            _ => Err(format!("{}: {}", r.outcome.as_str(), r.detail)),
        }
    }

    /// The objective's standard pipelines the vocabulary has, as states.
    pub fn standard_states(&self) -> Vec<Vec<String>> {
        self.cfg
            .objective
            .standard_pipelines()
            .iter()
            .filter(|p| self.vocab.get(p).is_some())
            .map(|p| vec![p.to_string()])
            .collect()
    }

    fn seq_features(&self, s: &[String]) -> Vec<f32> {
        let n = self.vocab.passes.len();
        let mut per_pass = vec![0f32; n];
        let mut per_type = vec![0f32; OptType::ALL.len()];
        let mut first = vec![1f32; OptType::ALL.len()];
        let len = s.len().max(1) as f32;
        for (i, name) in s.iter().enumerate() {
            if let Some(k) = self.vocab.passes.iter().position(|p| &p.name == name) {
                per_pass[k] += 1.0;
                let t = self.vocab.passes[k].opt_type.index();
                per_type[t] += 1.0;
                first[t] = first[t].min(i as f32 / len);
            }
        }
        let mut f = self.start_features.clone();
        f.push(s.len() as f32);
        f.extend(per_pass);
        f.extend(per_type);
        f.extend(first);
        f
    }
}

fn set_failure(b: &mut Built, c: Check) {
    if !matches!(c, Check::Ok(_)) {
        (b.outcome, b.detail) = c.outcome();
    }
}

/// `opt -S -passes=<pipeline> input`; the IR text or opt's first error line.
pub fn run_opt(opt: &Path, input: &Path, pipeline: &str) -> Result<String, String> {
    let out = Command::new(opt)
        .arg("-S")
        .arg(format!("-passes={pipeline}"))
        .arg(input)
        .arg("-o")
        .arg("-")
        .output()
        .map_err(|e| format!("cannot start {}: {e}", opt.display()))?;
    if !out.status.success() {
        return Err(first_line(&String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|_| "opt printed non-UTF-8 IR".to_string())
}

fn build_and_check(tools: &Toolchain, prog: &Prepared, h: u64, ll: &str) -> Built {
    let stem = prog.dir.path().join(format!("c{h:016x}"));
    let llp = stem.with_extension("ll");
    let fail = |outcome: OutcomeKind, detail: String| Built {
        outcome,
        detail,
        text_bytes: None,
        runtime_us: None,
        max_rss_kib: None,
    };
    if let Err(e) = std::fs::write(&llp, ll) {
        return fail(OutcomeKind::CompileError, e.to_string());
    }
    let built = match program::build_from_ll(tools, &llp, &stem, &prog.options.ldflags) {
        Ok(b) => b,
        Err(e) => return fail(OutcomeKind::CompileError, e.to_string()),
    };
    let mut b = Built {
        outcome: OutcomeKind::Ok,
        detail: String::new(),
        text_bytes: built.text_bytes,
        runtime_us: None,
        max_rss_kib: None,
    };
    match program::check_and_time(&built.exe, prog, 1) {
        Ok(Check::Ok(_)) => {}
        Ok(c) => set_failure(&mut b, c),
        Err(e) => {
            b.outcome = OutcomeKind::Crash;
            b.detail = e.to_string();
        }
    }
    b
}

fn pass_choices(vocab: &PassVocab) -> Vec<Value> {
    vocab.names().into_iter().map(Value::String).collect()
}

fn arg_str<'a>(t: &'a Transformation, k: &str) -> Result<&'a str, String> {
    t.args
        .get(k)
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("{} needs a string \"{k}\"", t.action))
}

fn arg_index(t: &Transformation, k: &str, bound: usize) -> Result<usize, String> {
    let i = t
        .args
        .get(k)
        .and_then(|v| v.as_u64())
        .ok_or_else(|| format!("{} needs an integer \"{k}\"", t.action))? as usize;
    if i >= bound {
        return Err(format!(
            "{}: \"{k}\" = {i} is out of range 0..{bound}",
            t.action
        ));
    }
    Ok(i)
}

impl Environment for LlvmEnv {
    type State = Vec<String>;

    fn root(&self) -> Vec<String> {
        // The empty sequence is the unoptimised program, which single edits cannot bring
        // near a real pipeline: the root is the objective's standard pipeline (else the
        // sketch's sample for seed 0, as for tensors).
        if let Some(s) = self.standard_states().into_iter().next() {
            return s;
        }
        let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(0);
        sketch::sample(&self.vocab, self.cfg.objective, &mut rng)
    }

    /// The standard pipelines first (every strategy measures them), then sketch samples.
    fn initial_states(&self, n: usize, rng: &mut SearchRng) -> Vec<Vec<String>> {
        let mut out = self.standard_states();
        out.truncate(n);
        while out.len() < n {
            out.push(sketch::sample(&self.vocab, self.cfg.objective, rng));
        }
        out
    }

    fn mutate(&self, s: &Vec<String>, rng: &mut SearchRng) -> Option<Vec<String>> {
        sketch::mutate(&self.vocab, s, rng)
    }

    fn features(&self, s: &Vec<String>) -> Vec<f32> {
        let mut f = self.seq_features(s);
        if self.cfg.features == FeatureMode::OptimizedIr {
            match self.optimize(s) {
                Ok(ll) => f.extend(ir::features(&ll).into_iter().map(|x| x.ln_1p())),
                Err(_) => f.extend(std::iter::repeat_n(0.0, ir::feature_count())),
            }
        }
        f
    }

    fn key(&self, s: &Vec<String>) -> u64 {
        ir::fnv1a(format!("llvm:{}", s.join(",")).as_bytes())
    }

    fn measure(&mut self, batch: &[Vec<String>]) -> Vec<Measurement> {
        let keys: Vec<u64> = batch.iter().map(|s| self.key(s)).collect();
        let mut out: Vec<Option<Measurement>> =
            keys.iter().map(|k| self.known.get(k).cloned()).collect();
        let todo: Vec<usize> = (0..batch.len()).filter(|&i| out[i].is_none()).collect();
        let states: Vec<Vec<String>> = todo.iter().map(|&i| batch[i].clone()).collect();
        let objective = self.cfg.objective;
        let results = self.evaluate_batch(&states, objective);
        for (i, r) in todo.into_iter().zip(results) {
            let detail = format!(
                "ir_instructions={} text_bytes={} runtime_us={} max_rss_kib={} pipeline={}{}",
                r.ir_instructions.map_or("-".into(), |n| n.to_string()),
                r.text_bytes.map_or("-".into(), |n| n.to_string()),
                r.runtime_us.map_or("-".into(), |n| format!("{n:.1}")),
                r.max_rss_kib.map_or("-".into(), |n| format!("{n:.0}")),
                r.pipeline,
                if r.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.detail)
                }
            );
            out[i] = Some(match r.value(objective) {
                Some(v) => Measurement {
                    latency_us: Some(v),
                    outcome: OutcomeKind::Ok,
                    detail,
                },
                None => Measurement::failed(
                    if r.outcome == OutcomeKind::Ok {
                        OutcomeKind::NoValue
                    } else {
                        r.outcome
                    },
                    detail,
                ),
            });
            self.log.insert(keys[i], r);
        }
        out.into_iter()
            .map(|m| m.expect("every entry filled"))
            .collect()
    }
}

impl LlmEnvironment for LlvmEnv {
    fn vocabulary(&self, s: &Vec<String>) -> Vocabulary {
        let passes = pass_choices(&self.vocab);
        let n = s.len();
        let idx = |k: usize| (0..k).map(|i| Value::from(i as u64)).collect::<Vec<_>>();
        let mut out = vec![
            ActionSpec::new("append", "append a pass at the end of the sequence")
                .param("pass", passes.clone()),
        ];
        if n < sketch::MAX_LEN {
            out.push(
                ActionSpec::new("insert", "insert a pass before position `at` (0-based)")
                    .param("pass", passes.clone())
                    .param("at", idx(n + 1)),
            );
        }
        if n > 1 {
            out.push(
                ActionSpec::new("remove", "remove the pass at position `at`").param("at", idx(n)),
            );
        }
        if n > 0 {
            out.push(
                ActionSpec::new("replace", "replace the pass at position `at`")
                    .param("at", idx(n))
                    .param("pass", passes),
            );
        }
        if n > 1 {
            out.push(
                ActionSpec::new("swap", "swap the passes at positions `at` and `at`+1")
                    .param("at", idx(n - 1)),
            );
        }
        Vocabulary::new(out)
    }

    fn action_catalog(&self) -> Vec<ActionSpec> {
        ["append", "insert", "remove", "replace", "swap"]
            .iter()
            .map(|a| {
                let doc = match *a {
                    "append" => "append a pass (any pass of the list) at the end of the sequence",
                    "insert" => "insert a pass before position `at` (0-based)",
                    "remove" => "remove the pass at position `at`",
                    "replace" => "replace the pass at position `at` by another pass",
                    _ => "swap the passes at positions `at` and `at`+1",
                };
                ActionSpec::new(a, doc)
            })
            .collect()
    }

    fn apply(&self, s: &Vec<String>, ts: &[Transformation]) -> Result<Vec<String>, String> {
        let mut t = s.clone();
        for tr in ts {
            let pass = |k: &str| -> Result<String, String> {
                let p = arg_str(tr, k)?;
                self.vocab
                    .get(p)
                    .map(|i| i.name.clone())
                    .ok_or_else(|| format!("unknown pass \"{p}\""))
            };
            match tr.action.as_str() {
                "append" => t.push(pass("pass")?),
                "insert" => {
                    let at = arg_index(tr, "at", t.len() + 1)?;
                    t.insert(at, pass("pass")?);
                }
                "remove" => {
                    let at = arg_index(tr, "at", t.len())?;
                    t.remove(at);
                }
                "replace" => {
                    let at = arg_index(tr, "at", t.len())?;
                    t[at] = pass("pass")?;
                }
                "swap" => {
                    let at = arg_index(tr, "at", t.len().saturating_sub(1))?;
                    t.swap(at, at + 1);
                }
                other => {
                    return Err(format!(
                        "unknown action \"{other}\" (expected append|insert|remove|replace|swap)"
                    ));
                }
            }
            if t.len() > sketch::MAX_LEN {
                return Err(format!(
                    "the sequence would exceed {} passes",
                    sketch::MAX_LEN
                ));
            }
        }
        if t.is_empty() {
            return Err("the sequence would be empty".into());
        }
        Ok(t)
    }

    fn describe(&self, s: &Vec<String>) -> String {
        let mut d = format!("pass sequence ({} passes):\n", s.len());
        for (i, p) in s.iter().enumerate() {
            let t = self.vocab.get(p).map_or("?", |i| i.opt_type.as_str());
            d.push_str(&format!("  {i}. {p} [{t}]\n"));
        }
        d.push_str(&format!(
            "pipeline: {}\n",
            self.pipeline(s).unwrap_or_default()
        ));
        d
    }

    fn prompt_prefix(&self) -> String {
        // Each file's code without its opening licence comment, the likely hot parts first
        // when it is long (see `crate::excerpt`).
        let files: Vec<String> = self
            .prog
            .c_files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let budget = SOURCE_BUDGET / files.len().max(1);
        let src = files
            .iter()
            .map(|f| crate::excerpt::excerpt(f, budget))
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "LLVM pass ordering for program {} ({} IR instructions before optimisation), objective {} ({}, lower is better).\n\
             Every candidate must print exactly what the -O0 build prints.\nProgram source:\n{}",
            self.prog.name,
            ir::instruction_count(&self.prog.start_ll),
            self.cfg.objective.as_str(),
            self.cfg.objective.unit(),
            src
        )
    }

    /// The tools and the pass table: the same for every program.
    fn prompt_space(&self) -> String {
        format!(
            "LLVM pass ordering. Tools: {}.\n\
             A state is a sequence of passes; it runs as one `opt -passes=` pipeline on the start IR.\n\
             Passes (name, optimization type, level, what it does):\n{}",
            self.tools.opt_version,
            self.vocab.table(),
        )
    }
}
