//! The search strategy interface, in the manner of TVM MetaSchedule's `SearchStrategy`: a
//! strategy proposes a batch of candidates and observes their measured results; the one
//! loop that measures, stops and counts dry rounds is [`Core::run`]. Random sampling and
//! evolution ([`crate::sample`]) and the tree strategies ([`crate::mcts`]: plain MCTS,
//! single-LLM, COLT) implement it.

use crate::core::{Candidate, Core};
use crate::env::Environment;
use crate::result::{NodeInfo, StopReason};

/// What a strategy proposes for the next measurement round.
pub(crate) enum Proposal<S> {
    /// Measure these (at most the `n` asked for). An empty batch is a dry round:
    /// [`crate::core::DRY_LIMIT`] of them in a row end the run as `SpaceExhausted`.
    Batch(Vec<Candidate<S>>),
    /// End the run now (a budget spent, the observer's interruption, nothing left).
    Stop(StopReason),
}

/// One measured candidate, as its strategy sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measured {
    /// The tree node the candidate stands for, if any.
    pub node: Option<u32>,
    /// Its latency; `None`: it failed.
    pub latency: Option<f64>,
}

/// What the tree strategies hand to the result when the run ends.
pub(crate) struct Finished<S> {
    /// The final tree (empty without one).
    pub tree: Vec<NodeInfo<S>>,
    /// The bucket's largest model, for its share of the calls.
    pub largest: Option<String>,
}

impl<S> Default for Finished<S> {
    fn default() -> Self {
        Finished {
            tree: Vec::new(),
            largest: None,
        }
    }
}

/// A search strategy: [`Core::run`] asks it for candidates, measures them (the records,
/// the best so far, the cost model's training are the core's) and tells it the results.
/// Stop checks between rounds (trials, wall time, the observer) and the count of dry
/// rounds are the core's too; a strategy stops the run itself only for reasons of its own.
pub(crate) trait SearchStrategy<E: Environment> {
    /// Candidates measured as the first batch, before the first stop check (the tree
    /// strategies: the root and the warm-up samples). Default: none.
    fn first_batch(&mut self, core: &mut Core<'_, E>) -> Vec<Candidate<E::State>> {
        let _ = core;
        Vec::new()
    }

    /// After the first batch was measured, observed and reported (the tree strategies:
    /// the warm-up samples join the tree). Default: nothing.
    fn after_first_batch(&mut self, core: &mut Core<'_, E>) {
        let _ = core;
    }

    /// The next batch, of at most `n` candidates (`n` ≥ 1: trials are left).
    fn propose(&mut self, core: &mut Core<'_, E>, n: usize) -> Proposal<E::State>;

    /// The results of the batch just measured, in its order (as many as were measured).
    /// Default: nothing (the core has recorded them).
    fn observe(&mut self, core: &mut Core<'_, E>, measured: &[Measured]) {
        let _ = (core, measured);
    }

    /// Tree nodes so far, for the progress events (0: no tree).
    fn tree_len(&self) -> usize {
        0
    }

    /// After the last round: what the result takes from the strategy.
    fn finish(self, core: &mut Core<'_, E>) -> Finished<E::State>
    where
        Self: Sized,
    {
        let _ = core;
        Finished::default()
    }
}
