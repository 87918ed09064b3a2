//! The search environment: everything the engine needs to know about a search space, and
//! nothing more.
//!
//! The engine never sees tensors, loops or compilers. An [`Environment`] hands it opaque
//! states (for tensor programs: a trace with its decisions), decision-level mutations (for
//! the non-LLM proposers, evolution and rollouts), features (for the cost model), a
//! structural key (for dedup) and a way to measure a batch. An [`LlmEnvironment`] adds
//! what the LLM strategies need: the actions valid for a state (for prompts and LLM
//! answers) and the text of prompts. A second environment (e.g. LLVM pass ordering) plugs
//! in by implementing these traits; the engine does not change.

use std::fmt::Debug;
use std::hash::Hash;

use colt_action::{ActionSpec, Transformation, Vocabulary};
pub use colt_outcome::OutcomeKind;
use serde::{Serialize, de::DeserializeOwned};

/// The one generator type the engine hands to environments (seeded, reproducible).
pub type SearchRng = rand_pcg::Pcg64;

/// The outcome of measuring one state.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Measurement {
    /// Latency in microseconds; `None` when the candidate failed (did not build, crashed,
    /// gave a wrong answer, timed out). A failed key is never measured again.
    pub latency_us: Option<f64>,
    /// How the measurement ended (`Ok` when `latency_us` is set).
    pub outcome: OutcomeKind,
    /// Free text for the database and reports (compiler message, statistics).
    pub detail: String,
}

impl Measurement {
    /// A correct candidate measured at `latency_us`.
    pub fn ok(latency_us: f64) -> Measurement {
        Measurement {
            latency_us: Some(latency_us),
            outcome: OutcomeKind::Ok,
            detail: String::new(),
        }
    }
    /// A candidate without a latency: how it ended, and the message that says why.
    pub fn failed(outcome: OutcomeKind, detail: impl Into<String>) -> Measurement {
        Measurement {
            latency_us: None,
            outcome,
            detail: detail.into(),
        }
    }
    /// A usable latency: present, finite and positive.
    pub fn usable_latency(&self) -> Option<f64> {
        self.latency_us.filter(|l| l.is_finite() && *l > 0.0)
    }
}

/// What [`LlmEnvironment::apply_partial`] made of an answer: the state after the legal steps,
/// those steps, and why each dropped one was illegal.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied<S> {
    /// The state after the legal steps.
    pub state: S,
    /// The steps applied, in order.
    pub kept: Vec<Transformation>,
    /// Why each dropped step was illegal, one line each.
    pub dropped: Vec<String>,
}

/// A search space with a measurer.
///
/// Every method but [`Environment::measure`] must be a pure function of its arguments
/// (and of `rng` where given): the engine's determinism (same seed, same measurements,
/// same LLM answers: same tree and traces) rests on it.
pub trait Environment {
    /// One point of the space (for tensor programs: a trace with its decisions).
    type State: Clone + Eq + Hash + Debug + Serialize + DeserializeOwned;

    /// The starting point of tree searches: the untransformed program (or the design
    /// space's default decisions). Its expansions are the first proposals.
    fn root(&self) -> Self::State;

    /// `n` random points of the space with real random decisions (not collapsed to the
    /// sketches); duplicates are allowed, the engine deduplicates by [`Environment::key`].
    fn initial_states(&self, n: usize, rng: &mut SearchRng) -> Vec<Self::State>;

    /// One decision-level mutation of `s` (MetaSchedule's mutators: change decisions,
    /// never the skeleton); `None` when no mutation applies.
    fn mutate(&self, s: &Self::State, rng: &mut SearchRng) -> Option<Self::State>;

    /// Cost-model features of `s` (fixed length per environment).
    fn features(&self, s: &Self::State) -> Vec<f32>;

    /// Structural hash: equal for states that build the same program.
    fn key(&self, s: &Self::State) -> u64;

    /// [`Environment::key`] and [`Environment::features`] together; environments where
    /// both derive from one costly lowering override it to lower once.
    fn key_features(&self, s: &Self::State) -> (u64, Vec<f32>) {
        (self.key(s), self.features(s))
    }

    /// [`Environment::mutate`] with the mutant's key and features; environments whose
    /// mutator already lowers the mutant override it to reuse that lowering.
    fn mutate_keyed(
        &self,
        s: &Self::State,
        rng: &mut SearchRng,
    ) -> Option<(Self::State, u64, Vec<f32>)> {
        let m = self.mutate(s, rng)?;
        let (k, f) = self.key_features(&m);
        Some((m, k, f))
    }

    /// Measure a batch; one [`Measurement`] per state, in order. A missing entry counts
    /// as a failure ([`OutcomeKind::Missing`]).
    fn measure(&mut self, batch: &[Self::State]) -> Vec<Measurement>;
}

/// What the LLM strategies (`single-llm`, `colt`) need of an environment beyond
/// [`Environment`]: the actions valid in a state (the vocabulary answers are parsed
/// against), applying them, and the text of prompts (the workload, the states). The
/// other strategies never use it.
///
/// Every method must be a pure function of its arguments, as in [`Environment`].
pub trait LlmEnvironment: Environment {
    /// The parameterised actions valid for `s`, with the admissible values of each
    /// parameter. LLM answers are parsed against it.
    fn vocabulary(&self, s: &Self::State) -> Vocabulary;
    /// [`LlmEnvironment::vocabulary`] for an LLM call: an environment that knows the key a
    /// single step leads to leaves out the values whose state's key `known` holds (a node
    /// already in the tree, a candidate that failed), since an answer of them would add
    /// nothing. Default: the plain vocabulary.
    fn vocabulary_avoiding(&self, s: &Self::State, known: &dyn Fn(u64) -> bool) -> Vocabulary {
        let _ = known;
        self.vocabulary(s)
    }

    /// Every action the environment may ever offer (names and one-line docs), for the
    /// stable prompt prefix. Parameters' choices may be left empty here: the
    /// state-specific choices go to the volatile part of the prompt.
    fn action_catalog(&self) -> Vec<ActionSpec> {
        self.vocabulary(&self.root()).actions
    }

    /// Apply a sequence of transformations, validating each; an illegal one is an `Err`
    /// naming it (the proposing model's error), never a panic.
    fn apply(
        &self,
        s: &Self::State,
        transformations: &[Transformation],
    ) -> Result<Self::State, String>;

    /// Apply the legal steps of an answer in order, dropping each illegal one (as the
    /// reference implementation does: one bad step does not waste the others). `Err`
    /// (the first step's complaint) when no step applies.
    fn apply_partial(
        &self,
        s: &Self::State,
        transformations: &[Transformation],
    ) -> Result<Applied<Self::State>, String> {
        let mut state = s.clone();
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for t in transformations {
            match self.apply(&state, std::slice::from_ref(t)) {
                Ok(next) => {
                    state = next;
                    kept.push(t.clone());
                }
                Err(e) => dropped.push(e),
            }
        }
        if kept.is_empty() {
            return Err(dropped
                .into_iter()
                .next()
                .unwrap_or_else(|| "no transformation".to_string()));
        }
        Ok(Applied {
            state,
            kept,
            dropped,
        })
    }

    /// The state for a prompt: program text and the decisions that made it.
    fn describe(&self, s: &Self::State) -> String;

    /// A compact description for the shared search record (one line per part of the
    /// state, e.g. per stage, so that a node can be shown as the lines that differ from
    /// its parent's); defaults to [`LlmEnvironment::describe`].
    fn describe_brief(&self, s: &Self::State) -> String {
        self.describe(s)
    }

    /// The workload for the stable prompt prefix (operator, shapes, target).
    fn prompt_prefix(&self) -> String;

    /// What the prompt says of the search space beyond its actions, the same for every
    /// workload of it (e.g. the table of LLVM passes); it goes into the prompt's stem,
    /// before the workload (see [`crate::prompt::prefix`]). Empty by default.
    fn prompt_space(&self) -> String {
        String::new()
    }

    /// How [`LlmEnvironment::describe_brief`] writes a state, for the prefix of the models
    /// whose questions show the acting node's state (empty: nothing to explain).
    fn schedule_legend(&self) -> String {
        String::new()
    }
}
