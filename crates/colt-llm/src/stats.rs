//! Per-model accounting and cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::CallRecord;
use crate::config::Prices;
use crate::provider::Usage;

/// USD for one call: uncached input, cached input, cache writes and output each at their
/// own price (per million tokens).
pub fn cost_usd(p: &Prices, u: &Usage) -> f64 {
    let uncached = u
        .input_tokens
        .saturating_sub(u.cached_tokens)
        .saturating_sub(u.cache_write_tokens);
    (uncached as f64 * p.input
        + u.cached_tokens as f64 * p.cached_input
        + u.cache_write_tokens as f64 * p.cache_write
        + u.output_tokens as f64 * p.output)
        / 1e6
}

/// What one model did over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelStats {
    /// Calls asked of the model, refused ones (cool-down) included.
    pub calls: u64,
    /// Calls that gave a joint action.
    pub ok: u64,
    /// Calls that did not.
    pub failed: u64,
    /// Failures by kind (`no_json`, `http`, `timeout`, `unavailable`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Calls by role (`expand`, `course_alteration`).
    pub by_role: BTreeMap<String, u64>,
    /// HTTP / model attempts, retries included.
    pub attempts: u64,
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Prompt tokens served from a prefix cache.
    pub cached_tokens: u64,
    /// Prompt tokens written to a cache.
    pub cache_write_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Total price in USD.
    pub cost_usd: f64,
    /// Calls that count against the LLM-call budget.
    pub budget_calls: u64,
    /// Sum of call latencies in milliseconds.
    pub latency_ms_total: u64,
    /// Longest call latency in milliseconds.
    pub latency_ms_max: u64,
    /// Times the model was set aside for a cool-down.
    pub cooldowns: u64,
}

impl ModelStats {
    /// Count one call.
    pub fn record(&mut self, r: &CallRecord) {
        self.calls += 1;
        *self.by_role.entry(r.role.as_str().to_string()).or_default() += 1;
        match &r.outcome {
            Ok(_) => self.ok += 1,
            Err(e) => {
                self.failed += 1;
                *self.errors.entry(e.kind().to_string()).or_default() += 1;
            }
        }
        self.attempts += r.attempts as u64;
        self.input_tokens += r.usage.input_tokens;
        self.cached_tokens += r.usage.cached_tokens;
        self.cache_write_tokens += r.usage.cache_write_tokens;
        self.output_tokens += r.usage.output_tokens;
        self.cost_usd += r.cost_usd;
        self.budget_calls += r.spends_budget as u64;
        self.latency_ms_total += r.latency_ms;
        self.latency_ms_max = self.latency_ms_max.max(r.latency_ms);
    }

    /// Mean latency of the calls that reached the model.
    pub fn mean_latency_ms(&self) -> f64 {
        let reached = self.calls - self.errors.get("unavailable").copied().unwrap_or(0);
        if reached == 0 {
            0.0
        } else {
            self.latency_ms_total as f64 / reached as f64
        }
    }
}
