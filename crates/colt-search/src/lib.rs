//! colt-search: the search engine of colt, over an [`Environment`] it knows nothing else
//! about.
//!
//! Strategies ([`Strategy`]): `random`, `evolutionary` (MetaSchedule-like, the strongest
//! non-LLM baseline), `mcts` (the shared tree with cost-model-guided mutations),
//! `single-llm` (one model proposes, Reasoning Compiler) and `colt` (a bucket of models
//! shares one tree: joint actions, model-aware UCT, course alteration, a share floor for
//! the largest model, budgets with fallback to mutation).
//!
//! - [`env`](mod@env): the [`Environment`] trait (states, mutate, features, key, measure) and its
//!   sub-trait [`LlmEnvironment`] for the LLM strategies (actions, apply,
//!   describe-for-prompt).
//! - [`llm`]: the [`Llm`] port (implemented for `colt_llm::LlmClient`; wrap it to replay).
//! - [`config`]: [`SearchConfig`] with the papers' defaults.
//! - [`policy`]: MA-UCT, progressive widening, share floor, regression streaks.
//! - [`prompt`]: stable prefix, the shared append-only search record, a short question.
//! - [`observer`]: events for the database and the progress bar.
//! - [`result`]: [`RunResult`], [`StopReason`], per-model reports, the time split.
//!
//! Each strategy implements one internal interface in the manner of TVM MetaSchedule's
//! `SearchStrategy` (propose a batch of candidates, observe their measured results); the
//! measuring, the stop checks and the dry-round count are one loop shared by all.
//!
//! The engine does no I/O, reads no clock for decisions and iterates no hash map: the same
//! seed, config, measurements and LLM answers give the same tree and traces.

pub mod config;
mod core;
pub mod env;
pub mod llm;
mod mcts;
pub mod observer;
pub mod policy;
pub mod prompt;
mod record;
pub mod result;
mod sample;
mod strategy;
mod tree;

use colt_cost::CostModel;

pub use config::{AlterationKeep, Budgets, OnBudget, SearchConfig, Strategy, StreakScope};
pub use env::{Applied, Environment, LlmEnvironment, Measurement, OutcomeKind, SearchRng};
pub use llm::Llm;
pub use observer::{LlmCallEvent, NoObserver, NodeEventKind, Observer, Progress};
pub use result::{
    Best, LlmTotals, ModelReport, NodeInfo, RunResult, StopReason, TimeSplit, TrialRecord, best_of,
};

/// Why a run could not start. One line naming the problem.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// No strategy has this name.
    #[error("unknown strategy \"{0}\" (expected random|evolutionary|mcts|single-llm|colt)")]
    UnknownStrategy(String),
    /// A config field has a bad value.
    #[error("search config: field \"{field}\": {message}")]
    Config {
        /// The field's name.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The strategy needs LLMs and no bucket was given.
    #[error("strategy {0} needs LLMs, but no model bucket was given")]
    NoLlm(Strategy),
    /// A config field names a model that is not in the bucket.
    #[error(
        "search config: field \"{field}\": model \"{name}\" is not in the bucket (models: {known})"
    )]
    UnknownModel {
        /// The field's name.
        field: String,
        /// The model named.
        name: String,
        /// The bucket's model names, comma-separated.
        known: String,
    },
}

/// Run one search.
///
/// `llm` is required for `single-llm` and `colt` and ignored otherwise. The cost model is
/// retrained after every measured batch (labels: normalised throughput, failures 0).
/// The environment must be an [`LlmEnvironment`] since the strategy is chosen at run
/// time; only `single-llm` and `colt` use that side of it.
pub fn run<E: LlmEnvironment>(
    cfg: &SearchConfig,
    env: &mut E,
    cost: &mut dyn CostModel,
    llm: Option<&mut dyn Llm>,
    obs: &mut dyn Observer<E::State>,
) -> Result<RunResult<E::State>, SearchError> {
    cfg.validate()?;
    let check = |field: &str,
                 name: &Option<String>,
                 llm: &Option<&mut dyn Llm>|
     -> Result<(), SearchError> {
        if let (Some(name), Some(l)) = (name, llm)
            && l.bucket().model(name).is_none()
        {
            return Err(SearchError::UnknownModel {
                field: field.to_string(),
                name: name.clone(),
                known: l.bucket().names().join(", "),
            });
        }
        Ok(())
    };
    if cfg.strategy.uses_llm() {
        if llm.is_none() {
            return Err(SearchError::NoLlm(cfg.strategy));
        }
        check("single_llm_model", &cfg.single_llm_model, &llm)?;
        check("root_model", &cfg.root_model, &llm)?;
    }
    let mut core = core::Core::new(cfg, env, cost, obs);
    let result = match cfg.strategy {
        Strategy::Random => core.run(sample::Random),
        Strategy::Evolutionary => core.run(sample::Evolutionary),
        Strategy::Mcts => core.run(mcts::TreeSearch::mcts()),
        Strategy::SingleLlm | Strategy::Colt => {
            let llm = llm.ok_or(SearchError::NoLlm(cfg.strategy))?;
            let (mode, root_model) = match cfg.strategy {
                Strategy::SingleLlm => {
                    let model = (cfg.single_llm_model.clone())
                        .unwrap_or_else(|| llm.bucket().largest().to_string());
                    (mcts::Mode::Single(model), None)
                }
                _ => (mcts::Mode::Colt, cfg.root_model.clone()),
            };
            let tree = mcts::TreeSearch::with_llm(&mut core, mode, llm, root_model);
            core.run(tree)
        }
    };
    Ok(result)
}
