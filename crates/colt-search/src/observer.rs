//! Events for the driver: it writes the tuning database and drives the progress bar from
//! them. The engine does no I/O of its own.

use std::collections::BTreeMap;

use colt_llm::{CallRecord, Role};

use crate::result::{NodeInfo, TrialRecord};

/// An LLM call made by the search.
#[derive(Clone, Debug)]
pub struct LlmCallEvent<'a> {
    /// The call as the client recorded it.
    pub record: &'a CallRecord,
    /// Why the model was asked.
    pub role: Role,
    /// The node being expanded.
    pub node: u32,
    /// The model the node was assigned to (differs from `record.model` for share-floor
    /// overrides and course alterations).
    pub assigned: &'a str,
    /// When the answer parsed but could not be used: `illegal_action`, `duplicate` or
    /// `failed_build`, with the detail.
    pub rejected: Option<(&'static str, String)>,
}

/// Why a node event fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeEventKind {
    /// The node joined the tree.
    Created,
    /// The node's candidate was measured.
    Measured,
}

/// Progress after each measurement batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Trials measured so far.
    pub trials: usize,
    /// Trials the run will measure in all.
    pub trials_total: usize,
    /// Measurement batches done.
    pub batch: usize,
    /// Best latency so far in µs.
    pub best_us: Option<f64>,
    /// LLM calls so far.
    pub llm_calls: u64,
    /// LLM calls so far, by model.
    pub calls_per_model: BTreeMap<String, u64>,
    /// Prompt tokens so far.
    pub tokens_in: u64,
    /// Prompt tokens served from a prefix cache so far.
    pub tokens_cached: u64,
    /// Generated tokens so far.
    pub tokens_out: u64,
    /// LLM spending so far in USD.
    pub cost_usd: f64,
    /// Nodes in the tree (tree strategies).
    pub tree_nodes: usize,
}

/// Receives the run's events; every method has a do-nothing default.
pub trait Observer<S> {
    /// A candidate was measured (its trial record, the best so far included).
    fn measured(&mut self, _trial: &TrialRecord<S>) {}
    /// An LLM call returned (successful or not).
    fn llm_call(&mut self, _call: &LlmCallEvent<'_>) {}
    /// A tree node was created or measured.
    fn node(&mut self, _kind: NodeEventKind, _node: &NodeInfo<S>) {}
    /// After each batch.
    fn progress(&mut self, _p: &Progress) {}
    /// Polled between expansions and batches; `true` ends the run (`Interrupted`).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// Ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<S> Observer<S> for NoObserver {}
