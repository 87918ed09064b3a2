//! What a run is asked to do: the strategy and every knob of the search, as one plain
//! serialisable struct (stored with the run in the database, readable from a `[search]`
//! table of `colt.toml`). Defaults follow the papers (λ = 0.5, c = √2, K = 2, ε = 0.05).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The search strategy (`--strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Sample random points and measure them.
    Random,
    /// MetaSchedule-like evolutionary search with a cost model.
    Evolutionary,
    /// The shared tree with cost-model-guided mutation proposals, no LLM.
    Mcts,
    /// One model proposes every expansion (Reasoning Compiler).
    SingleLlm,
    /// The bucket shares one tree (COLT).
    Colt,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 5] = [
        Strategy::Random,
        Strategy::Evolutionary,
        Strategy::Mcts,
        Strategy::SingleLlm,
        Strategy::Colt,
    ];

    /// The strategy's name (`single-llm`, ...), as parsed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::Evolutionary => "evolutionary",
            Strategy::Mcts => "mcts",
            Strategy::SingleLlm => "single-llm",
            Strategy::Colt => "colt",
        }
    }

    /// Whether the strategy calls LLMs.
    pub fn uses_llm(self) -> bool {
        matches!(self, Strategy::SingleLlm | Strategy::Colt)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = crate::SearchError;
    fn from_str(s: &str) -> Result<Strategy, crate::SearchError> {
        Strategy::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim() || x.as_str().replace('-', "_") == s.trim())
            .ok_or_else(|| crate::SearchError::UnknownStrategy(s.to_string()))
    }
}

/// Caps on LLM spending; `None` = unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budgets {
    /// Calls that spend budget (see `CallRecord::spends_budget`).
    pub llm_calls: Option<u64>,
    /// Input plus output tokens.
    pub tokens: Option<u64>,
    /// Price in USD.
    pub usd: Option<f64>,
}

/// What to do when an LLM budget is spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnBudget {
    /// Go on with cost-model-guided mutation (the method's behaviour).
    #[default]
    Fallback,
    /// End the run with `StopReason::Budget`.
    Stop,
}

/// How course alteration counts regressions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreakScope {
    /// One streak for all small models, as the reference implementation counts: a
    /// regression by any small model extends it, a non-regression by any resets it.
    #[default]
    Global,
    /// One streak per small model.
    PerModel,
}

/// What course alteration keeps of the two answers to the same question.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlterationKeep {
    /// Both children: the better one is marked as the pick and simulated first, the
    /// other joins the tree as its sibling with its own prediction, so neither paid-for
    /// answer is thrown away; UCT then treats them as any two siblings.
    #[default]
    Both,
    /// Only the better child, as the reference implementation does; the other answer is
    /// counted as wasted (`replaced` or `not_better`).
    Better,
}

/// Every knob of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// The search strategy.
    pub strategy: Strategy,
    /// Measurements in all (the first batch included).
    pub trials: usize,
    /// Seed of every random choice of the run.
    pub seed: u64,
    /// Candidates measured together; the cost model retrains after each batch.
    pub batch_size: usize,
    /// ε of the ε-greedy pick of what to measure (and of mutation-proposal picks).
    pub epsilon: f64,
    /// MA-UCT weight of φ_small.
    pub lambda: f64,
    /// MA-UCT exploration constant.
    pub c: f64,
    /// Course alteration after K consecutive small-model regressions (0 = off).
    pub course_alteration_k: u32,
    /// Whether the K regressions are counted over all small models together (`global`,
    /// the reference's rule) or per model (`per_model`).
    pub course_alteration_streak: StreakScope,
    /// Whether course alteration keeps both children or only the better one.
    pub course_alteration_keep: AlterationKeep,
    /// The largest model's minimum share of calls, enforced by the policy.
    pub large_share_floor: f64,
    /// The largest model's maximum share of calls (1 = no cap): an expansion that would
    /// lift it above the cap asks the smallest model instead, and a course alteration
    /// that would is skipped. The floor wins where the two disagree (the first calls of
    /// a run), so a run of 7 or more calls ends with a share between them.
    pub large_share_cap: f64,
    /// Caps on LLM spending.
    pub budgets: Budgets,
    /// What to do when a budget is spent.
    pub on_budget: OnBudget,
    /// single-llm: the model (default: the bucket's largest).
    pub single_llm_model: Option<String>,
    /// colt: the model assigned to the root (default: the smallest; the root is widened,
    /// so expanded, more often than any other node).
    pub root_model: Option<String>,
    /// Transformations per joint action, at most.
    pub max_transformations: usize,
    /// Tree strategies: at most this many expansions between two measurement batches
    /// (default: 4x the batch size). The cost model picks what to measure among them.
    pub expansions_per_batch: Option<usize>,
    /// LLM strategies: LLM calls per batch, at most. Default: half the batch size (which
    /// fills the share of a batch reserved for the models' proposals,
    /// `llm_measure_share`) when the bucket has a remote model, whose calls run
    /// concurrently; a quarter (rounded up) when every model is embedded, whose calls
    /// run one at a time on the cores the kernels are measured on. The batch's
    /// expansions end when this many children came from models and the round holds a
    /// batch of new children (the others are cost-model-guided mutations); failed answers
    /// fall back to mutation and the batch goes on (up to `expansions_per_batch`).
    pub llm_expansions_per_batch: Option<usize>,
    /// LLM strategies: share of each measurement batch reserved for the best-predicted
    /// model-proposed nodes (the rest: the best-predicted nodes of any origin).
    pub llm_measure_share: f64,
    /// Tree strategies: random samples measured with the root in the first batch to
    /// warm the cost model (default: batch size - 1).
    pub warmup_random: Option<usize>,
    /// Mutations in a rollout (scored by the cost model; 0 = none).
    pub rollout_depth: usize,
    /// Mutations scored by the cost model per fallback / MCTS expansion.
    pub mutation_candidates: usize,
    /// Progressive widening: a node may have `max(1, floor(widen_c * N^widen_alpha))`
    /// children.
    pub widen_c: f64,
    /// Progressive widening exponent.
    pub widen_alpha: f64,
    /// A leaf failing to expand this many times in a row is terminal.
    pub terminal_after_failures: u32,
    /// Evolutionary: population size.
    pub population: usize,
    /// Evolutionary: rounds of mutation and scoring per batch.
    pub generations: usize,
    /// Evolutionary: share of the population seeded from the best measured records.
    pub init_measured_ratio: f64,
    /// Evolutionary: probability that a child is a mutation (else a copy).
    pub mutate_prob: f64,
    /// End the run after this many seconds of wall time (checked between batches).
    pub max_wall_s: Option<f64>,
    /// LLM strategies: the shared search record's size (characters) at which it is
    /// compacted (0 = never). A token is about 2.5 characters of it (numbers and symbols):
    /// with the prefix, 6,000 keeps a prompt near 5,000 tokens, which an embedded model's
    /// 8,192-token context holds with room for the answer.
    pub record_budget_chars: usize,
    /// LLM strategies with a remote model in the bucket: expansions asked together, their
    /// calls concurrent (the answers are applied in a fixed order, so the tree does not
    /// depend on arrival order). 1 = one call at a time. Embedded models always run one
    /// at a time.
    pub llm_concurrency: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            strategy: Strategy::Colt,
            trials: 64,
            seed: 1,
            batch_size: 8,
            epsilon: 0.05,
            lambda: 0.5,
            c: std::f64::consts::SQRT_2,
            course_alteration_k: 2,
            course_alteration_streak: StreakScope::Global,
            course_alteration_keep: AlterationKeep::Both,
            large_share_floor: 0.2,
            large_share_cap: 0.35,
            budgets: Budgets::default(),
            on_budget: OnBudget::Fallback,
            single_llm_model: None,
            root_model: None,
            max_transformations: 3,
            expansions_per_batch: None,
            llm_expansions_per_batch: None,
            llm_measure_share: 0.5,
            warmup_random: None,
            rollout_depth: 3,
            mutation_candidates: 8,
            widen_c: 1.0,
            widen_alpha: 0.5,
            terminal_after_failures: 5,
            population: 32,
            generations: 3,
            init_measured_ratio: 0.2,
            mutate_prob: 0.85,
            max_wall_s: None,
            record_budget_chars: 6_000,
            llm_concurrency: 8,
        }
    }
}

impl SearchConfig {
    /// Defaults with the given strategy, trials and seed.
    pub fn new(strategy: Strategy, trials: usize, seed: u64) -> SearchConfig {
        SearchConfig {
            strategy,
            trials,
            seed,
            ..SearchConfig::default()
        }
    }

    /// Range checks; the first problem as one line naming the field.
    pub fn validate(&self) -> Result<(), crate::SearchError> {
        const AT_LEAST_1: &str = "expected at least 1";
        const UNIT: &str = "expected a number in 0..=1";
        const NON_NEGATIVE: &str = "expected a non-negative number";
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let usd_ok = self.budgets.usd.is_none_or(|u| u.is_finite() && u >= 0.0);
        let llm_expansions_ok = self
            .llm_expansions_per_batch
            .is_none_or(|l| l <= self.expansions());
        // (field, whether its value is in range, the range), in the order reported
        let checks = [
            ("trials", self.trials > 0, AT_LEAST_1),
            ("batch_size", self.batch_size > 0, AT_LEAST_1),
            ("epsilon", unit(self.epsilon), UNIT),
            ("lambda", unit(self.lambda), UNIT),
            ("c", self.c.is_finite() && self.c >= 0.0, NON_NEGATIVE),
            ("large_share_floor", unit(self.large_share_floor), UNIT),
            (
                "large_share_cap",
                unit(self.large_share_cap) && self.large_share_cap >= self.large_share_floor,
                "expected a number in 0..=1, at least large_share_floor",
            ),
            ("budgets.usd", usd_ok, NON_NEGATIVE),
            (
                "max_transformations",
                self.max_transformations > 0,
                AT_LEAST_1,
            ),
            (
                "expansions_per_batch",
                self.expansions_per_batch != Some(0),
                AT_LEAST_1,
            ),
            (
                "llm_expansions_per_batch",
                llm_expansions_ok,
                "expected at most expansions_per_batch",
            ),
            ("llm_measure_share", unit(self.llm_measure_share), UNIT),
            (
                "mutation_candidates",
                self.mutation_candidates > 0,
                AT_LEAST_1,
            ),
            (
                "widen_c",
                positive(self.widen_c),
                "expected a positive number",
            ),
            ("widen_alpha", unit(self.widen_alpha), UNIT),
            (
                "terminal_after_failures",
                self.terminal_after_failures > 0,
                AT_LEAST_1,
            ),
            ("population", self.population > 0, AT_LEAST_1),
            ("init_measured_ratio", unit(self.init_measured_ratio), UNIT),
            ("mutate_prob", unit(self.mutate_prob), UNIT),
            ("llm_concurrency", self.llm_concurrency > 0, AT_LEAST_1),
            (
                "max_wall_s",
                self.max_wall_s.is_none_or(positive),
                "expected a positive number of seconds",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((field, _, message)) => Err(crate::SearchError::Config {
                field: field.to_string(),
                message: message.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Expansions between measurement batches for tree strategies.
    pub fn expansions(&self) -> usize {
        self.expansions_per_batch.unwrap_or(4 * self.batch_size)
    }

    /// Expansions per batch that ask an LLM (LLM strategies); `remote`: the bucket has a
    /// model whose calls run concurrently (see `llm_expansions_per_batch`).
    pub fn llm_expansions(&self, remote: bool) -> usize {
        let share = if remote { 2 } else { 4 };
        self.llm_expansions_per_batch
            .unwrap_or(self.batch_size.div_ceil(share))
            .min(self.expansions())
    }

    /// Random samples in the first batch of tree strategies.
    pub fn warmup(&self) -> usize {
        self.warmup_random
            .unwrap_or(self.batch_size.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_round_trips_through_its_name() {
        for s in Strategy::ALL {
            assert_eq!(s.as_str().parse::<Strategy>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(
            "single_llm".parse::<Strategy>().unwrap(),
            Strategy::SingleLlm
        );
        let e = "greedy".parse::<Strategy>().unwrap_err().to_string();
        assert!(
            e.contains("greedy") && e.contains("random|evolutionary|mcts|single-llm|colt"),
            "{e}"
        );
    }

    #[test]
    fn embedded_buckets_ask_a_quarter_of_the_batch_remote_ones_half() {
        let c = SearchConfig::default();
        assert_eq!((c.llm_expansions(false), c.llm_expansions(true)), (2, 4));
        let c = SearchConfig {
            batch_size: 5,
            ..SearchConfig::default()
        };
        assert_eq!((c.llm_expansions(false), c.llm_expansions(true)), (2, 3));
        let c = SearchConfig {
            llm_expansions_per_batch: Some(7),
            expansions_per_batch: Some(6),
            ..SearchConfig::default()
        };
        assert_eq!((c.llm_expansions(false), c.llm_expansions(true)), (6, 6));
    }

    #[test]
    fn validate_names_the_field() {
        let c = SearchConfig {
            epsilon: 1.5,
            ..SearchConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("epsilon"));
        let c = SearchConfig {
            batch_size: 0,
            ..SearchConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("batch_size"));
        SearchConfig::default().validate().unwrap();
    }

    #[test]
    fn partial_config_from_json_keeps_defaults_and_rejects_unknown_fields() {
        let c: SearchConfig =
            serde_json::from_str(r#"{"strategy": "mcts", "trials": 10, "budgets": {"usd": 1.5}}"#)
                .unwrap();
        assert_eq!(c.strategy, Strategy::Mcts);
        assert_eq!(c.trials, 10);
        assert_eq!(c.budgets.usd, Some(1.5));
        assert_eq!(c.lambda, 0.5);
        assert!(serde_json::from_str::<SearchConfig>(r#"{"lamda": 0.3}"#).is_err());
    }
}
