//! colt-search: the search engine of colt, over an [`Environment`] it knows nothing else
//! about.
//!
//! Strategies ([`Strategy`]): `random`, `evolutionary` (MetaSchedule-like, the strongest
//! non-LLM baseline), `mcts` (the shared tree with cost-model-guided mutations),
//! `single-llm` (one model proposes, Reasoning Compiler) and `colt` (a bucket of models
//! shares one tree: joint actions, model-aware UCT, course alteration, a share floor for
//! the largest model, budgets with fallback to mutation).
//!
//! - [`env`]: the [`Environment`] trait (states, actions, apply, mutate, features,
//!   measure, describe-for-prompt).
//! - [`llm`]: the [`Llm`] port (implemented for `colt_llm::LlmClient`; wrap it to replay).
//! - [`config`]: [`SearchConfig`] with the papers' defaults.
//! - [`policy`]: MA-UCT, progressive widening, share floor, regression streaks.
//! - [`prompt`]: stable prefix, the shared append-only search record, a short question.
//! - [`observer`]: events for the database and the progress bar.
//! - [`result`]: [`RunResult`], [`StopReason`], per-model reports, the time split.
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
mod tree;

use colt_cost::CostModel;

pub use config::{AlterationKeep, Budgets, OnBudget, SearchConfig, Strategy, StreakScope};
pub use env::{Applied, Environment, Measurement, SearchRng};
pub use llm::Llm;
pub use observer::{LlmCallEvent, NoObserver, NodeEventKind, Observer, Progress};
pub use result::{Best, ModelReport, NodeInfo, RunResult, StopReason, TimeSplit, TrialRecord};

/// Why a run could not start. One line naming the problem.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("unknown strategy \"{0}\" (expected random|evolutionary|mcts|single-llm|colt)")]
    UnknownStrategy(String),
    #[error("search config: field \"{field}\": {message}")]
    Config { field: String, message: String },
    #[error("strategy {0} needs LLMs, but no model bucket was given")]
    NoLlm(Strategy),
    #[error(
        "search config: field \"{field}\": model \"{name}\" is not in the bucket (models: {known})"
    )]
    UnknownModel {
        field: String,
        name: String,
        known: String,
    },
}

/// Run one search.
///
/// `llm` is required for `single-llm` and `colt` and ignored otherwise. The cost model is
/// retrained after every measured batch (labels: normalised throughput, failures 0).
pub fn run<E: Environment>(
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
        Strategy::Random => {
            let stop = sample::run_random(&mut core);
            core.finish(stop, Vec::new(), None)
        }
        Strategy::Evolutionary => {
            let stop = sample::run_evolutionary(&mut core);
            core.finish(stop, Vec::new(), None)
        }
        Strategy::Mcts => {
            let (stop, tree, _) = mcts::run_tree(&mut core, mcts::Mode::Mcts, None, None);
            core.finish(stop, tree, None)
        }
        Strategy::SingleLlm => {
            let llm = llm.ok_or(SearchError::NoLlm(cfg.strategy))?;
            let model = cfg
                .single_llm_model
                .clone()
                .unwrap_or_else(|| llm.bucket().largest().to_string());
            let (stop, tree, largest) =
                mcts::run_tree(&mut core, mcts::Mode::Single(model), Some(llm), None);
            core.finish(stop, tree, largest.as_deref())
        }
        Strategy::Colt => {
            let (stop, tree, largest) =
                mcts::run_tree(&mut core, mcts::Mode::Colt, llm, cfg.root_model.clone());
            core.finish(stop, tree, largest.as_deref())
        }
    };
    Ok(result)
}
