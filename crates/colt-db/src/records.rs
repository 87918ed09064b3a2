//! The plain records stored in the database.
//!
//! Inputs (`NewRun`, `NewCandidate`, `NewLlmCall`, `Node`) are what a caller knows when it
//! writes; rows (`RunRow`, `CandidateRow`, `LlmCallRow`) wrap an input with what the
//! database assigns (ids, sequence numbers, timestamps). Keeping the input whole inside
//! the row makes round trips checkable with `==` and keeps the two in step when a field
//! is added. Nothing here knows about tensors or LLM crates: traces, configs and parsed
//! actions are JSON or TOML text owned by the crates that produce them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use colt_outcome::OutcomeKind;
use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Type, ValueRef};

/// Id of a tuning run (SQLite rowid; never reused, even after deletions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for RunId {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(RunId)
            .ok_or_else(|| format!("run id '{s}' is not a positive integer"))
    }
}

/// Everything that identifies a run and makes it reproducible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRun {
    /// Search strategy name, e.g. "evolutionary", "colt".
    pub strategy: String,
    /// Workload (or program) name, e.g. "matmul".
    pub workload: String,
    /// Search space: "tensor" or "llvm" (not interpreted here).
    pub space: String,
    /// Workload scale, e.g. "ci" or "paper".
    pub scale: String,
    /// Master seed (any u64; stored bit-cast in an SQLite INTEGER).
    pub seed: u64,
    /// Trial budget (number of measurements).
    pub trials: u64,
    /// The configuration the run used (TOML or JSON text, stored verbatim).
    pub config: String,
    /// Version string(s) of colt and its parts.
    pub versions: String,
    /// Target description (CPU model, compiler, flags...).
    pub target: String,
    /// The input files the run tunes (a custom operator spec, a C program): path -> text,
    /// recorded so a resume can tell when one changed on disk, or tune the recorded copy.
    pub inputs: BTreeMap<String, String>,
}

/// Lifecycle of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunStatus {
    /// Started and not finished: in progress, or killed without a trace.
    Running,
    /// `finish_run` was called.
    Finished,
    /// Marked as killed (by a tool that knows the owning process is gone).
    Killed,
}

macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// The stable text stored in the database and shown in reports.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " '{}' (expected one of: {})"),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                s.parse().map_err(|e: String| FromSqlError::Other(e.into()))
            }
        }
    };
}

text_enum!(RunStatus, "run status", {
    Running => "running",
    Finished => "finished",
    Killed => "killed",
});

/// The outcome stored in column `idx` of `row`, by its name (older names are read as the
/// class they meant). `OutcomeKind` belongs to colt-outcome, so it is read here rather
/// than through `FromSql`.
pub(crate) fn get_outcome(row: &Row<'_>, idx: usize) -> rusqlite::Result<OutcomeKind> {
    let text: String = row.get(idx)?;
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into()))
}

/// A stored run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// The run's id.
    pub id: RunId,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// What the run was started with.
    pub spec: NewRun,
    /// Running, finished or killed.
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch, once the run ended.
    pub finished_at_ms: Option<i64>,
    /// Final summary JSON given to `finish_run`.
    pub summary: Option<String>,
}

/// One measured candidate, as the tuner knows it before it is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCandidate {
    /// Structural key (e.g. a hash in hex); unique within a run.
    pub key: String,
    /// The schedule trace, JSON text (validated as JSON, stored verbatim).
    pub trace: String,
    /// Cost-model prediction, if one was made.
    pub predicted: Option<f64>,
    /// How the measurement ended.
    pub outcome: OutcomeKind,
    /// Median latency in microseconds (normally only for `OutcomeKind::Ok`).
    pub latency_median_us: Option<f64>,
    /// Fastest timed repeat in microseconds.
    pub latency_min_us: Option<f64>,
    /// Throughput of the median run.
    pub gflops: Option<f64>,
    /// Diagnostic text: compiler error, mismatch description, ...
    pub message: Option<String>,
    /// Who proposed it: a model name or a strategy/policy name.
    pub source: String,
}

/// A stored candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateRow {
    /// The run it belongs to.
    pub run: RunId,
    /// Order of measurement within the run, 0, 1, 2, ... without gaps.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub measured_at_ms: i64,
    /// The candidate as given.
    pub candidate: NewCandidate,
}

/// One LLM call with all accounting fields of the LLM layer.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLlmCall {
    /// Order of the call within the run, chosen by the caller; unique within a run so a
    /// resumed run can look the call up instead of repeating it.
    pub seq: u64,
    /// The model called.
    pub model: String,
    /// "expand" or "course_alteration" (not interpreted here except for statistics).
    pub role: String,
    /// Whether the call gave a usable answer.
    pub ok: bool,
    /// Error class when `ok` is false (e.g. "timeout", "parse", "rate_limit").
    pub error_kind: Option<String>,
    /// Wall time of the call, retries included.
    pub latency_ms: f64,
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Prompt tokens served from a prefix cache.
    pub cached_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Price in USD.
    pub cost_usd: f64,
    /// Attempts made.
    pub attempts: u32,
    /// Hash of the stable prompt prefix (for cache-hit analysis).
    pub prefix_hash: String,
    /// The raw reply text (kept for the report and for replay).
    pub answer: String,
    /// The parsed action as JSON text, when the answer parsed.
    pub action: Option<String>,
    /// The LLM layer's complete call record as JSON, so a resumed run replays the call
    /// exactly (opaque here).
    pub record: Option<String>,
}

/// A stored LLM call.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmCallRow {
    /// The run it belongs to.
    pub run: RunId,
    /// Milliseconds since the Unix epoch.
    pub called_at_ms: i64,
    /// The call as given.
    pub call: NewLlmCall,
}

/// A search-tree node; written with `upsert_node` (insert or replace by id).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Node id, unique within the run.
    pub node_id: u64,
    /// Parent node id (`None` for the root).
    pub parent: Option<u64>,
    /// Depth in the tree (root: 0).
    pub depth: u32,
    /// The model (or policy) that created this node by expansion.
    pub model: Option<String>,
    /// The node's trace/state, JSON text.
    pub state: String,
    /// Visits.
    pub visits: u64,
    /// Mean backpropagated reward.
    pub value: f64,
    /// Cost-model prediction.
    pub predicted: Option<f64>,
    /// Measured latency in microseconds (`None`: not measured, or failed).
    pub measured: Option<f64>,
    /// No more expansions are tried.
    pub terminal: bool,
}

/// LLM accounting for one model within one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Calls whose role is "course_alteration".
    pub course_alterations: u64,
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Prompt tokens served from a prefix cache.
    pub cached_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Price in USD.
    pub cost_usd: f64,
    /// Summed call latency in milliseconds.
    pub latency_ms: f64,
    /// Attempts, retries included.
    pub attempts: u64,
}

/// Candidates proposed by one source within one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceStats {
    /// Candidates it proposed.
    pub proposed: u64,
    /// Of those, how many measured correct.
    pub ok: u64,
    /// Best median latency among them in microseconds.
    pub best_latency_us: Option<f64>,
}

/// Totals of one run, for `colt runs` and reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Candidates measured.
    pub candidates: u64,
    /// Only outcomes that occurred appear.
    pub by_outcome: std::collections::BTreeMap<OutcomeKind, u64>,
    /// Best median latency of a correct candidate in microseconds.
    pub best_latency_us: Option<f64>,
    /// LLM calls.
    pub llm_calls: u64,
    /// LLM calls that failed.
    pub llm_errors: u64,
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Prompt tokens served from a prefix cache.
    pub cached_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// LLM spending in USD.
    pub cost_usd: f64,
    /// Search-tree nodes stored.
    pub nodes: u64,
}

/// Which candidates `Db::best` considers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BestFilter {
    /// Only runs of this workload.
    pub workload: String,
    /// Only runs in this search space (`tensor`, `llvm`).
    pub space: String,
    /// Only runs at this scale (a best kernel at "ci" scale is not one at "paper" scale).
    pub scale: Option<String>,
    /// Only runs on this target.
    pub target: Option<String>,
}

impl BestFilter {
    /// All runs of `workload` in `space`, any scale and target.
    pub fn new(workload: impl Into<String>, space: impl Into<String>) -> Self {
        BestFilter {
            workload: workload.into(),
            space: space.into(),
            scale: None,
            target: None,
        }
    }
    /// Restrict to one scale.
    pub fn scale(mut self, scale: impl Into<String>) -> Self {
        self.scale = Some(scale.into());
        self
    }
    /// Restrict to one target.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
}

/// Id of a model run (`colt model tune`; SQLite rowid, never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelRunId(pub i64);

impl fmt::Display for ModelRunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ModelRunId {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        s.parse::<RunId>()
            .map(|r| ModelRunId(r.0))
            .map_err(|_| format!("model run id '{s}' is not a positive integer"))
    }
}

/// What identifies a model run: the model file, its shapes and the tuning budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewModelRun {
    /// The ONNX file (absolute path).
    pub model: String,
    /// The file's content hash (hex), so a resume can tell when it changed.
    pub model_hash: String,
    /// The fixed input shapes, JSON (`{"x": [1, 64]}`).
    pub shapes: String,
    /// Search strategy of every task.
    pub strategy: String,
    /// Master seed (any u64; stored bit-cast).
    pub seed: u64,
    /// Trials of the whole model (all tasks together).
    pub trials: u64,
    /// The configuration (colt.toml text, stored verbatim).
    pub config: String,
    /// Version string of colt.
    pub versions: String,
    /// Target description (CPU model, cores, -march).
    pub target: String,
}

/// A stored model run.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRunRow {
    /// The model run's id.
    pub id: ModelRunId,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// What it was started with.
    pub spec: NewModelRun,
    /// Running, finished or killed.
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch, once it ended.
    pub finished_at_ms: Option<i64>,
    /// Final summary JSON.
    pub summary: Option<String>,
}

/// A task of a model run: one distinct kernel and its tuning run.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelTask {
    /// The kernel's index in the model.
    pub kernel: u64,
    /// Its tuning run.
    pub run: RunId,
    /// The operators it fuses (`MatMul+Add+Gelu`).
    pub label: String,
    /// How many tasks of the model run it.
    pub count: u64,
    /// The naive kernel's latency (µs), once measured.
    pub naive_us: Option<f64>,
}

/// One measurement round the model scheduler gave a task.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRound {
    /// Order within the model run, 0, 1, 2, ...
    pub seq: u64,
    /// The kernel measured.
    pub kernel: u64,
    /// The kernel's trials after the round.
    pub trials: u64,
    /// The kernel's best latency after the round (µs; `None`: nothing correct yet).
    pub best_us: Option<f64>,
    /// When it was stored (milliseconds since the Unix epoch; ignored on insert).
    pub at_ms: i64,
}
