//! What a run returns and what observers see: measured trials, tree nodes, per-model
//! statistics, stopping reasons (as data, like egg's `StopReason`) and the time split.

use std::collections::BTreeMap;

use colt_action::Transformation;
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
    /// The snake_case name, as stored.
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
    /// Structural key of the state ([`crate::Environment::key`]).
    pub key: u64,
    /// The candidate.
    pub state: S,
    /// `None`: failed (see `outcome`).
    pub latency_us: Option<f64>,
    /// How the measurement ended.
    pub outcome: crate::OutcomeKind,
    /// Why it failed (empty when it did not).
    pub detail: String,
    /// The cost model's prediction when the candidate was picked (normalised
    /// throughput; `None` where the strategy used no prediction).
    pub predicted: Option<f64>,
    /// Who proposed it: a model name, `mutation`, `random`, `evolution`, `warmup`, `root`.
    pub proposer: String,
    /// The strategy that ran.
    pub strategy: Strategy,
    /// The tree node, for tree strategies.
    pub node: Option<u32>,
    /// Best latency after this trial.
    pub best_us: Option<f64>,
}

/// The best measured candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Best<S> {
    /// The candidate.
    pub state: S,
    /// Structural key of the state.
    pub key: u64,
    /// Its latency in µs.
    pub latency_us: f64,
    /// The trial that measured it.
    pub trial: usize,
}

/// One tree node, as observers and the final result see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo<S> {
    /// Node id (root: 0).
    pub id: u32,
    /// Parent id (`None` for the root).
    pub parent: Option<u32>,
    /// Depth in the tree (root: 0).
    pub depth: u32,
    /// Structural key of the state.
    pub key: u64,
    /// The node's state.
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
    /// Visits N.
    pub visits: u32,
    /// Mean backpropagated reward Q/N.
    pub value: f64,
    /// Consecutive failed expansions.
    pub expand_failures: u32,
    /// No more expansions are tried.
    pub terminal: bool,
    /// Created by a course alteration (the largest model's answer replaced the small one's).
    pub course_altered: bool,
}

/// What one model did in a run, as the search saw it (the client's own accounting is in
/// the call records). Fields absent from a stored report read as their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelReport {
    /// Parameter count, from the bucket.
    pub params: f64,
    /// φ_small of the model.
    pub phi_small: f64,
    /// Calls made (refused and failed ones included).
    pub calls: u64,
    /// Calls that gave a joint action.
    pub ok: u64,
    /// Calls to expand a node.
    pub expand_calls: u64,
    /// Calls to re-answer in a course alteration.
    pub course_alteration_calls: u64,
    /// Errors by kind: the client's failure kinds (`http`, `no_json`, `unavailable`, ...)
    /// and the engine's (`illegal_action`, `duplicate`, `failed_build`).
    pub errors: BTreeMap<String, u64>,
    /// Tree nodes this model created, and of those, how many beat their parent.
    pub children: u64,
    /// Of those, how many beat their parent.
    pub hits: u64,
    /// `hits / children` (0 without children).
    pub hit_rate: f64,
    /// Its proposals that were worse than their parent when made.
    pub regressions: u64,
    /// Course alterations its regression streaks triggered.
    pub course_alterations: u64,
    /// (Largest model) course alterations where its child replaced the small model's.
    pub course_alteration_wins: u64,
    /// (Largest model) calls the share floor redirected to it.
    pub floor_overrides: u64,
    /// (Largest model) calls the share cap kept from it: expansions of its nodes sent to
    /// the smallest model, and course alterations skipped.
    pub cap_overrides: u64,
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
    /// Calls that count against the LLM-call budget.
    pub budget_calls: u64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Prompt tokens served from a prefix cache.
    pub tokens_cached: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Spending in USD.
    pub cost_usd: f64,
    /// Total wall time of its calls in ms.
    pub latency_ms: u64,
}

/// Where the wall time went. `overhead_s` = wall − measure − LLM: the search itself
/// (cost model, mutations, features, prompts, bookkeeping, observer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    /// Wall time of the run in seconds.
    pub wall_s: f64,
    /// Of which measuring.
    pub measure_s: f64,
    /// Of which waiting for LLM calls.
    pub llm_s: f64,
    /// The rest: the search itself.
    pub overhead_s: f64,
}

/// What a run's LLM calls cost, over all models: in [`RunResult`] and in the tune summary
/// (flattened, so each is a field of its own on the wire).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmTotals {
    /// The largest model's share of calls (0 without calls).
    pub large_model_share: f64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Prompt tokens served from a prefix cache.
    pub tokens_cached: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Spending in USD.
    pub cost_usd: f64,
    /// Calls whose answer added no node, in all and by cause (sum over the models).
    pub wasted_calls: u64,
    /// Wasted calls by cause.
    pub wasted_by_cause: BTreeMap<String, u64>,
    /// Times the shared search record was compacted (each costs one full prompt
    /// evaluation per model).
    pub record_compactions: u32,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult<S> {
    /// The strategy that ran.
    pub strategy: Strategy,
    /// Why the run ended.
    pub stop: StopReason,
    /// Trials measured.
    pub trials: usize,
    /// The best measured candidate, if any succeeded.
    pub best: Option<Best<S>>,
    /// Every measured candidate, in order.
    pub history: Vec<TrialRecord<S>>,
    /// Per model of the bucket (empty without LLMs).
    pub models: BTreeMap<String, ModelReport>,
    /// LLM calls made, over all models.
    pub llm_calls: u64,
    /// What the calls cost, over all models.
    #[serde(flatten)]
    pub llm: LlmTotals,
    /// Where the wall time went.
    pub time: TimeSplit,
    /// The final tree (tree strategies; empty otherwise).
    pub tree: Vec<NodeInfo<S>>,
}

/// The best `k` distinct correct states of a search history, best first (by the search's
/// figure), each with that figure: the contenders of a final re-timing.
pub fn best_of<S: Clone + PartialEq>(history: &[TrialRecord<S>], k: usize) -> Vec<(S, f64)> {
    let mut ok: Vec<(&S, f64)> = history
        .iter()
        .filter_map(|t| t.latency_us.map(|v| (&t.state, v)))
        .collect();
    ok.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut out: Vec<(S, f64)> = Vec::new();
    for (s, v) in ok {
        if out.len() >= k {
            break;
        }
        if !out.iter().any(|(o, _)| o == s) {
            out.push((s.clone(), v));
        }
    }
    out
}

impl<S> RunResult<S> {
    /// Latency of the best candidate in µs, if any.
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
