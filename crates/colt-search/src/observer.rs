//! Events for the driver: it writes the tuning database and drives the progress bar from
//! them. The engine does no I/O of its own.

use std::collections::BTreeMap;

use colt_llm::{CallRecord, Role};

use crate::result::{NodeInfo, TrialRecord};

/// An LLM call made by the search.
#[derive(Clone, Debug)]
pub struct LlmCallEvent<'a> {
    pub record: &'a CallRecord,
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
    Created,
    Measured,
}

/// Progress after each measurement batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub trials: usize,
    pub trials_total: usize,
    pub batch: usize,
    pub best_us: Option<f64>,
    pub llm_calls: u64,
    pub calls_per_model: BTreeMap<String, u64>,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
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
