//! What a run returns and what observers see: measured trials, tree nodes, per-model
//! statistics, stopping reasons (as data, like egg's `StopReason`) and the time split.

use std::collections::BTreeMap;

use colt_llm::Transformation;
use serde::{Deserialize, Serialize};

use crate::config::Strategy;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The requested number of trials was measured.
    TrialLimit,
    /// An LLM budget was spent and the config says `on_budget = "stop"`.
    Budget,
    /// No new candidate could be found (the space, or the tree, is exhausted).
    SpaceExhausted,
    /// `max_wall_s` passed.
    TimeLimit,
    /// The observer asked to stop.
    Interrupted,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::TrialLimit => "trial_limit",
            StopReason::Budget => "budget",
            StopReason::SpaceExhausted => "space_exhausted",
            StopReason::TimeLimit => "time_limit",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// One measured candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord<S> {
    /// 0-based trial index.
    pub trial: usize,
    /// 0-based measurement batch.
    pub batch: usize,
    pub key: u64,
    pub state: S,
    /// `None`: failed (see `outcome`).
    pub latency_us: Option<f64>,
    pub outcome: crate::OutcomeKind,
    pub detail: String,
    /// The cost model's prediction when the candidate was picked (normalised
    /// throughput; `None` where the strategy used no prediction).
    pub predicted: Option<f64>,
    /// Who proposed it: a model name, `mutation`, `random`, `evolution`, `warmup`, `root`.
    pub proposer: String,
    pub strategy: Strategy,
    /// The tree node, for tree strategies.
    pub node: Option<u32>,
    /// Best latency after this trial.
    pub best_us: Option<f64>,
}

/// The best measured candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Best<S> {
    pub state: S,
    pub key: u64,
    pub latency_us: f64,
    pub trial: usize,
}

/// One tree node, as observers and the final result see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo<S> {
    pub id: u32,
    pub parent: Option<u32>,
    pub depth: u32,
    pub key: u64,
    pub state: S,
    /// The model assigned to expand this node (`None` in plain MCTS).
    pub model: Option<String>,
    /// Who created it: a model name, `mutation` or `root`.
    pub proposer: String,
    /// The transformations that led from the parent to this node (empty for mutations).
    pub transformations: Vec<Transformation>,
    /// Current cost-model prediction (normalised throughput).
    pub predicted: f64,
    /// `Some(Some(us))` measured, `Some(None)` failed, `None` not measured.
    pub measured_us: Option<Option<f64>>,
    pub visits: u32,
    /// Mean backpropagated reward Q/N.
    pub value: f64,
    pub expand_failures: u32,
    pub terminal: bool,
    /// Created by a course alteration (the largest model's answer replaced the small one's).
    pub course_altered: bool,
}

/// What one model did in a run, as the search saw it (the client's own accounting is in
/// the call records). Fields absent from a stored report read as their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelReport {
    pub params: f64,
    pub phi_small: f64,
    /// Calls made (refused and failed ones included).
    pub calls: u64,
    pub ok: u64,
    pub expand_calls: u64,
    pub course_alteration_calls: u64,
    /// Errors by kind: the client's failure kinds (`http`, `no_json`, `unavailable`, ...)
    /// and the engine's (`illegal_action`, `duplicate`, `failed_build`).
    pub errors: BTreeMap<String, u64>,
    /// Tree nodes this model created, and of those, how many beat their parent.
    pub children: u64,
    pub hits: u64,
    pub hit_rate: f64,
    /// Its proposals that were worse than their parent when made.
    pub regressions: u64,
    /// Course alterations its regression streaks triggered.
    pub course_alterations: u64,
    /// (Largest model) course alterations where its child replaced the small model's.
    pub course_alteration_wins: u64,
    /// (Largest model) calls the share floor redirected to it.
    pub floor_overrides: u64,
    /// Expansions that asked this model and fell back to mutation.
    pub fallbacks: u64,
    /// Its answers that could not be used (did not parse, illegal, duplicate, known
    /// failure): what the prompt shows as its errors (transport failures are not).
    pub unusable: u64,
    /// Calls whose answer added no node to the tree, by cause (`provider_error`,
    /// `invalid_answer`, `illegal_action`, `duplicate`, `failed_build`, `replaced` by a
    /// course alteration, `not_better` than the small model's child it was to replace).
    pub wasted: BTreeMap<String, u64>,
    /// Invalid steps dropped from otherwise usable answers.
    pub dropped_steps: u64,
    /// Prompt tokens the provider evaluated (input − cached where it reports no more).
    pub tokens_evaluated: u64,
    /// Median wall time of its calls.
    pub median_latency_ms: f64,
    pub budget_calls: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub latency_ms: u64,
}

/// Where the wall time went. `overhead_s` = wall − measure − LLM: the search itself
/// (cost model, mutations, features, prompts, bookkeeping, observer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    pub wall_s: f64,
    pub measure_s: f64,
    pub llm_s: f64,
    pub overhead_s: f64,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult<S> {
    pub strategy: Strategy,
    pub stop: StopReason,
    pub trials: usize,
    pub best: Option<Best<S>>,
    /// Every measured candidate, in order.
    pub history: Vec<TrialRecord<S>>,
    /// Per model of the bucket (empty without LLMs).
    pub models: BTreeMap<String, ModelReport>,
    pub llm_calls: u64,
    /// The largest model's share of calls (0 without calls).
    pub large_model_share: f64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Calls whose answer added no node, in all and by cause (sum over the models).
    pub wasted_calls: u64,
    pub wasted_by_cause: BTreeMap<String, u64>,
    /// Times the shared search record was compacted (each costs one full prompt
    /// evaluation per model).
    pub record_compactions: u32,
    pub time: TimeSplit,
    /// The final tree (tree strategies; empty otherwise).
    pub tree: Vec<NodeInfo<S>>,
}

impl<S> RunResult<S> {
    pub fn best_us(&self) -> Option<f64> {
        self.best.as_ref().map(|b| b.latency_us)
    }
    /// Calls per model.
    pub fn calls_per_model(&self) -> BTreeMap<String, u64> {
        self.models
            .iter()
            .map(|(k, v)| (k.clone(), v.calls))
            .collect()
    }
}
