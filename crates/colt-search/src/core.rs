//! State shared by every strategy: measured records (by key, failures included so they
//! are never picked again), the best so far, cost-model training, LLM accounting and the
//! time split. Strategies ([`SearchStrategy`]) decide *what* to measure; this module does
//! the measuring, in the one loop of every strategy ([`Core::run`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use colt_cost::CostModel;
use colt_llm::CallRecord;
use rand::SeedableRng;

use crate::config::{SearchConfig, Strategy};
use crate::env::{Environment, Measurement, OutcomeKind, SearchRng};
use crate::observer::{Observer, Progress};
use crate::result::{
    Best, LlmTotals, ModelReport, NodeInfo, RunResult, StopReason, TimeSplit, TrialRecord,
};
use crate::strategy::{Measured, Proposal, SearchStrategy};

/// A candidate about to be measured.
pub(crate) struct Candidate<S> {
    pub state: S,
    pub key: u64,
    pub features: Vec<f32>,
    pub predicted: Option<f64>,
    pub proposer: String,
    pub node: Option<u32>,
}

/// LLM spending so far (what the budgets are checked against).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Spend {
    pub calls: u64,
    pub budget_calls: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub usd: f64,
}

pub(crate) struct Core<'a, E: Environment> {
    pub env: &'a mut E,
    pub cost: &'a mut dyn CostModel,
    pub obs: &'a mut dyn Observer<E::State>,
    pub cfg: &'a SearchConfig,
    pub rng: SearchRng,
    /// key -> latency (`None` = failed).
    pub measured: BTreeMap<u64, Option<f64>>,
    pub failed: BTreeSet<u64>,
    train_x: Vec<Vec<f32>>,
    train_lat: Vec<Option<f64>>,
    pub best: Option<Best<E::State>>,
    pub history: Vec<TrialRecord<E::State>>,
    pub batches: usize,
    pub models: BTreeMap<String, ModelReport>,
    pub spend: Spend,
    /// Wall time of each call per model (for the median).
    latencies: BTreeMap<String, Vec<u64>>,
    pub record_compactions: u32,
    measure_time: Duration,
    llm_time: Duration,
    start: Instant,
    /// Whether to retrain the cost model after each batch.
    train: bool,
}

impl<'a, E: Environment> Core<'a, E> {
    /// Count one call of `model` that added no node, under `cause`.
    pub fn count_wasted(&mut self, model: &str, cause: &str) {
        *self
            .models
            .entry(model.to_string())
            .or_default()
            .wasted
            .entry(cause.to_string())
            .or_default() += 1;
    }

    pub fn new(
        cfg: &'a SearchConfig,
        env: &'a mut E,
        cost: &'a mut dyn CostModel,
        obs: &'a mut dyn Observer<E::State>,
    ) -> Self {
        Core {
            env,
            cost,
            obs,
            cfg,
            rng: SearchRng::seed_from_u64(cfg.seed),
            measured: BTreeMap::new(),
            failed: BTreeSet::new(),
            train_x: Vec::new(),
            train_lat: Vec::new(),
            best: None,
            history: Vec::new(),
            batches: 0,
            models: BTreeMap::new(),
            spend: Spend::default(),
            latencies: BTreeMap::new(),
            record_compactions: 0,
            measure_time: Duration::ZERO,
            llm_time: Duration::ZERO,
            start: Instant::now(),
            train: cfg.strategy != Strategy::Random,
        }
    }

    pub fn trials(&self) -> usize {
        self.history.len()
    }

    pub fn remaining(&self) -> usize {
        self.cfg.trials.saturating_sub(self.trials())
    }

    pub fn best_us(&self) -> Option<f64> {
        self.best.as_ref().map(|b| b.latency_us)
    }

    /// Normalised throughput of a latency against the best so far (0 for a failure).
    pub fn reward(&self, latency: Option<f64>) -> f64 {
        reward_against(latency, self.best_us())
    }

    /// Whether `key` was measured (or failed) before.
    pub fn is_known(&self, key: u64) -> bool {
        self.measured.contains_key(&key)
    }

    /// Cost-model predictions (a constant before training, as the model says).
    pub fn predict(&self, x: &[Vec<f32>]) -> Vec<f64> {
        if x.is_empty() {
            return Vec::new();
        }
        let p = self.cost.predict(x);
        (0..x.len())
            .map(|i| {
                p.get(i)
                    .copied()
                    .map_or(0.0, |v| if v.is_finite() { v as f64 } else { 0.0 })
            })
            .collect()
    }

    pub fn predict_one(&self, x: &[f32]) -> f64 {
        self.predict(&[x.to_vec()])[0]
    }

    /// Why to stop before the next step, if any (trials, wall time, observer).
    pub fn stop_check(&mut self) -> Option<StopReason> {
        if self.remaining() == 0 {
            return Some(StopReason::TrialLimit);
        }
        if self
            .cfg
            .max_wall_s
            .is_some_and(|w| self.start.elapsed().as_secs_f64() >= w)
        {
            return Some(StopReason::TimeLimit);
        }
        if self.obs.should_stop() {
            return Some(StopReason::Interrupted);
        }
        None
    }

    /// Measure a batch (truncated to the trials left), record it, retrain the cost
    /// model; returns each candidate's latency (`None` = failed).
    pub fn measure(&mut self, mut batch: Vec<Candidate<E::State>>) -> Vec<Option<f64>> {
        batch.truncate(self.remaining());
        if batch.is_empty() {
            return Vec::new();
        }
        let states: Vec<E::State> = batch.iter().map(|c| c.state.clone()).collect();
        let t = Instant::now();
        let mut results = self.env.measure(&states);
        self.measure_time += t.elapsed();
        results.resize_with(batch.len(), || {
            Measurement::failed(
                OutcomeKind::Missing,
                "the measurer returned fewer results than candidates",
            )
        });
        let mut out = Vec::with_capacity(batch.len());
        for (c, m) in batch.into_iter().zip(results) {
            let lat = m.usable_latency();
            let outcome = if m.latency_us.is_some() && lat.is_none() {
                OutcomeKind::BadLatency
            } else {
                m.outcome
            };
            self.measured.insert(c.key, lat);
            if lat.is_none() {
                self.failed.insert(c.key);
            }
            let trial = self.history.len();
            if let Some(l) = lat
                && self.best_us().is_none_or(|b| l < b)
            {
                self.best = Some(Best {
                    state: c.state.clone(),
                    key: c.key,
                    latency_us: l,
                    trial,
                });
            }
            self.train_x.push(c.features);
            self.train_lat.push(lat);
            let rec = TrialRecord {
                trial,
                batch: self.batches,
                key: c.key,
                state: c.state,
                latency_us: lat,
                outcome,
                detail: m.detail,
                predicted: c.predicted,
                proposer: c.proposer,
                strategy: self.cfg.strategy,
                node: c.node,
                best_us: self.best_us(),
            };
            self.obs.measured(&rec);
            self.history.push(rec);
            out.push(lat);
        }
        self.batches += 1;
        if self.train {
            let y: Vec<f32> = self
                .train_lat
                .iter()
                .map(|l| self.reward(*l) as f32)
                .collect();
            self.cost.fit(&self.train_x, &y);
        }
        out
    }

    /// Account one LLM call (its wall time measured by the caller).
    pub fn account_call(&mut self, rec: &CallRecord, took: Duration) {
        self.llm_time += took;
        self.spend.calls += 1;
        self.spend.budget_calls += rec.spends_budget as u64;
        self.spend.tokens_in += rec.usage.input_tokens;
        self.spend.tokens_cached += rec.usage.cached_tokens;
        self.spend.tokens_out += rec.usage.output_tokens;
        self.spend.usd += rec.cost_usd;
        let m = self.models.entry(rec.model.clone()).or_default();
        m.calls += 1;
        match &rec.outcome {
            Ok(_) => m.ok += 1,
            Err(f) => *m.errors.entry(f.kind().to_string()).or_default() += 1,
        }
        match rec.role {
            colt_llm::Role::Expand => m.expand_calls += 1,
            colt_llm::Role::CourseAlteration => m.course_alteration_calls += 1,
        }
        m.budget_calls += rec.spends_budget as u64;
        m.tokens_in += rec.usage.input_tokens;
        m.tokens_cached += rec.usage.cached_tokens;
        m.tokens_out += rec.usage.output_tokens;
        m.cost_usd += rec.cost_usd;
        m.latency_ms += rec.latency_ms;
        m.tokens_evaluated += rec.timing.as_ref().map_or(
            rec.usage
                .input_tokens
                .saturating_sub(rec.usage.cached_tokens),
            |t| t.evaluated_tokens,
        );
        self.latencies
            .entry(rec.model.clone())
            .or_default()
            .push(rec.latency_ms);
    }

    /// Whether any LLM budget is spent.
    pub fn budget_exhausted(&self) -> bool {
        let b = &self.cfg.budgets;
        b.llm_calls.is_some_and(|c| self.spend.budget_calls >= c)
            || b.tokens
                .is_some_and(|t| self.spend.tokens_in + self.spend.tokens_out >= t)
            || b.usd.is_some_and(|u| self.spend.usd >= u)
    }

    pub fn progress(&mut self, tree_nodes: usize) {
        let p = Progress {
            trials: self.trials(),
            trials_total: self.cfg.trials,
            batch: self.batches,
            best_us: self.best_us(),
            llm_calls: self.spend.calls,
            calls_per_model: self
                .models
                .iter()
                .map(|(k, v)| (k.clone(), v.calls))
                .collect(),
            tokens_in: self.spend.tokens_in,
            tokens_cached: self.spend.tokens_cached,
            tokens_out: self.spend.tokens_out,
            cost_usd: self.spend.usd,
            tree_nodes,
        };
        self.obs.progress(&p);
    }

    /// Run `strategy` to its end and make the result: the measurement loop of every
    /// strategy.
    pub fn run<S: SearchStrategy<E>>(mut self, mut strategy: S) -> RunResult<E::State> {
        let stop = self.search(&mut strategy);
        let done = strategy.finish(&mut self);
        self.finish(stop, done.tree, done.largest.as_deref())
    }

    /// The first batch, then rounds until a stop check, the strategy or [`DRY_LIMIT`] dry
    /// rounds in a row end the run.
    fn search<S: SearchStrategy<E>>(&mut self, strategy: &mut S) -> StopReason {
        let first = strategy.first_batch(self);
        if !first.is_empty() {
            self.round(strategy, first);
        }
        strategy.after_first_batch(self);
        let mut dry = 0;
        loop {
            if let Some(s) = self.stop_check() {
                return s;
            }
            let n = self.cfg.batch_size.min(self.remaining());
            match strategy.propose(self, n) {
                Proposal::Stop(s) => return s,
                Proposal::Batch(batch) if batch.is_empty() => {
                    dry += 1;
                    if dry >= DRY_LIMIT {
                        return StopReason::SpaceExhausted;
                    }
                }
                Proposal::Batch(batch) => {
                    dry = 0;
                    self.round(strategy, batch);
                }
            }
        }
    }

    /// Measure a batch, tell the strategy the results, report progress.
    fn round<S: SearchStrategy<E>>(&mut self, strategy: &mut S, batch: Vec<Candidate<E::State>>) {
        let nodes: Vec<Option<u32>> = batch.iter().map(|c| c.node).collect();
        let latencies = self.measure(batch);
        let measured: Vec<Measured> = nodes
            .into_iter()
            .zip(latencies)
            .map(|(node, latency)| Measured { node, latency })
            .collect();
        strategy.observe(self, &measured);
        self.progress(strategy.tree_len());
    }

    /// The result; `largest` names the bucket's largest model (for the share).
    fn finish(
        mut self,
        stop: StopReason,
        tree: Vec<NodeInfo<E::State>>,
        largest: Option<&str>,
    ) -> RunResult<E::State> {
        let mut wasted_by_cause: BTreeMap<String, u64> = BTreeMap::new();
        for (name, m) in &mut self.models {
            if let Some(l) = self.latencies.get_mut(name).filter(|l| !l.is_empty()) {
                l.sort_unstable();
                let k = l.len();
                m.median_latency_ms = if k % 2 == 1 {
                    l[k / 2] as f64
                } else {
                    (l[k / 2 - 1] + l[k / 2]) as f64 / 2.0
                };
            }
            for (cause, n) in &m.wasted {
                *wasted_by_cause.entry(cause.clone()).or_default() += n;
            }
        }
        let wall = self.start.elapsed().as_secs_f64();
        let measure_s = self.measure_time.as_secs_f64();
        let llm_s = self.llm_time.as_secs_f64();
        let large = largest
            .and_then(|l| self.models.get(l))
            .map_or(0, |m| m.calls);
        RunResult {
            strategy: self.cfg.strategy,
            stop,
            trials: self.history.len(),
            best: self.best,
            history: self.history,
            models: self.models,
            llm_calls: self.spend.calls,
            llm: LlmTotals {
                large_model_share: if self.spend.calls == 0 {
                    0.0
                } else {
                    large as f64 / self.spend.calls as f64
                },
                tokens_in: self.spend.tokens_in,
                tokens_cached: self.spend.tokens_cached,
                tokens_out: self.spend.tokens_out,
                cost_usd: self.spend.usd,
                wasted_calls: wasted_by_cause.values().sum(),
                wasted_by_cause,
                record_compactions: self.record_compactions,
            },
            time: TimeSplit {
                wall_s: wall,
                measure_s,
                llm_s,
                overhead_s: (wall - measure_s - llm_s).max(0.0),
            },
            tree,
        }
    }
}

/// Consecutive measurement rounds that found no new candidate before a search counts the
/// space as exhausted ([`Core::run`]).
pub(crate) const DRY_LIMIT: usize = 3;

/// Normalised throughput of `latency` against `best` (0 for a failure or no best yet).
pub(crate) fn reward_against(latency: Option<f64>, best: Option<f64>) -> f64 {
    match (latency, best) {
        (Some(l), Some(b)) if l > 0.0 => (b / l).clamp(0.0, 1.0),
        _ => 0.0,
    }
}
