//! The call API the search uses: ask model `m` a [`Request`], get a [`CallRecord`] with
//! either a validated [`JointAction`] or a typed [`Failure`], and exactly what it cost.
//!
//! `LlmClient::call` takes `&self`: each model has its own small lock (health, statistics,
//! jitter generator) held only between attempts, never during a network call, so calls to
//! different models (or to one remote model) run in parallel from scoped threads.
//!
//! Resilience: retries with backoff on 429 / 5xx / timeouts / connection errors
//! (`Retry-After` honoured), none on other 4xx or unusable answers. After
//! `cooldown.after_failures` consecutive failed calls a model is set aside for
//! `cooldown.seconds`; calls in that window return `Failure::Unavailable` at once, so the
//! search goes on with the others. Every call, failed or refused, is recorded.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::config::{Bucket, Cooldown, ModelConfig};
use crate::parse::{AnswerError, parse_answer};
use crate::provider::{self, CallError, Finish, Provider, Timing, Usage};
use crate::retry::backoff_ms;
use crate::stats::{ModelStats, cost_usd};
use crate::vocab::{JointAction, Request, Role};

/// Why a call produced no joint action: an unusable answer ([`AnswerError`], serialized as
/// its own `kind`), a transport problem or a refusal, so that statistics can count them by
/// [`Failure::kind`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// A non-success HTTP status.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The status code.
        status: u16,
        /// The response body (shortened).
        body: String,
    },
    /// No answer within the model's timeout.
    #[error("timed out")]
    Timeout,
    /// The endpoint could not be reached.
    #[error("connection failed: {detail}")]
    Connection {
        /// The transport's message.
        detail: String,
    },
    /// The response is not what the protocol says.
    #[error("unexpected response: {detail}")]
    Protocol {
        /// What is wrong.
        detail: String,
    },
    /// The API key's environment variable is not set.
    #[error("environment variable {env} (API key) is not set")]
    MissingKey {
        /// The variable's name.
        env: String,
    },
    /// The provider cannot be used in this build or setup.
    #[error("provider unavailable: {detail}")]
    Unsupported {
        /// Why.
        detail: String,
    },
    /// Set aside after repeated failures; try again after `until_unix_ms`.
    #[error("model set aside after repeated failures; retry in {retry_in_ms} ms")]
    Unavailable {
        /// When the cool-down ends (Unix time, ms).
        until_unix_ms: u64,
        /// Milliseconds left until then.
        retry_in_ms: u64,
    },
    /// The model is not in the bucket.
    #[error("model \"{name}\" is not in the bucket")]
    NotInBucket {
        /// The name asked for.
        name: String,
    },
    /// The request cannot be answered validly (no action, no model name); nothing was sent.
    #[error("bad request: {detail}")]
    BadRequest {
        /// What is missing.
        detail: String,
    },
    /// The model answered, but not usably.
    #[error(transparent)]
    #[serde(untagged)]
    Answer(#[from] AnswerError),
}

impl Failure {
    /// A stable snake_case name for statistics and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Answer(e) => e.kind(),
            Failure::Http { .. } => "http",
            Failure::Timeout => "timeout",
            Failure::Connection { .. } => "connection",
            Failure::Protocol { .. } => "protocol",
            Failure::MissingKey { .. } => "missing_key",
            Failure::Unsupported { .. } => "unsupported",
            Failure::Unavailable { .. } => "unavailable",
            Failure::NotInBucket { .. } => "not_in_bucket",
            Failure::BadRequest { .. } => "bad_request",
        }
    }

    /// The model answered, but not usably (as opposed to: it could not be reached).
    pub fn is_invalid_answer(&self) -> bool {
        matches!(self, Failure::Answer(_))
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Failure {
        match e {
            CallError::Http { status, body, .. } => Failure::Http { status, body },
            CallError::Timeout => Failure::Timeout,
            CallError::Connection(detail) => Failure::Connection { detail },
            CallError::Protocol(detail) => Failure::Protocol { detail },
            CallError::MissingKey { env } => Failure::MissingKey { env },
            CallError::Unsupported(detail) => Failure::Unsupported { detail },
        }
    }
}

/// Everything about one call, for the search, the database and the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The model called.
    pub model: String,
    /// Why it was called.
    pub role: Role,
    /// Wall time of the whole call, retries and backoff included.
    pub latency_ms: u64,
    /// Of which waiting between attempts.
    pub backoff_ms: u64,
    /// Tokens summed over attempts.
    pub usage: Usage,
    /// Price of the call in USD, from the model's prices.
    pub cost_usd: f64,
    /// Attempts made (0: refused without calling, e.g. during a cool-down).
    pub attempts: u32,
    /// The validated joint action, or why there is none.
    pub outcome: Result<JointAction, Failure>,
    /// The last answer's text (kept for the report; never holds a key).
    pub raw_text: Option<String>,
    /// Whether decoding was schema/grammar-constrained.
    pub structured: bool,
    /// Whether this call counts against the LLM-call budget (successes always do; failed
    /// ones as the model's `failed_calls_spend_budget` says; refusals never).
    pub spends_budget: bool,
    /// Embedded model only: evaluated prompt tokens and time split of the last attempt.
    pub timing: Option<Timing>,
}

impl CallRecord {
    /// Prompt tokens, cached ones included.
    pub fn input_tokens(&self) -> u64 {
        self.usage.input_tokens
    }
    /// Prompt tokens served from a prefix cache.
    pub fn cached_tokens(&self) -> u64 {
        self.usage.cached_tokens
    }
    /// Generated tokens.
    pub fn output_tokens(&self) -> u64 {
        self.usage.output_tokens
    }
    /// Whether the call gave a joint action.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

#[derive(Debug)]
struct Health {
    rng: Pcg64,
    consecutive_failures: u32,
    unavailable_until: Option<Instant>,
    stats: ModelStats,
}

#[derive(Debug)]
struct Slot {
    cfg: ModelConfig,
    provider: Box<dyn Provider>,
    health: Mutex<Health>,
}

/// The bucket at run time: one provider per model, health and statistics.
#[derive(Debug)]
pub struct LlmClient {
    bucket: Bucket,
    slots: BTreeMap<String, Slot>,
}

fn unix_ms(at: Instant) -> u64 {
    let now_i = Instant::now();
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ahead = at.saturating_duration_since(now_i);
    (now_s + ahead).as_millis() as u64
}

/// Why no valid answer to `req` could exist, if so.
fn request_problem(req: &Request) -> Option<String> {
    if req.vocabulary.actions.is_empty() {
        return Some("the action vocabulary is empty".into());
    }
    if req.models.is_empty() {
        return Some("no model name for next_model".into());
    }
    if req.max_transformations == 0 {
        return Some("max_transformations is 0".into());
    }
    // An action may come in several variants (e.g. one per stage); the same variant twice
    // is a caller's mistake.
    let actions = &req.vocabulary.actions;
    if let Some((_, a)) = actions
        .iter()
        .enumerate()
        .find(|(i, a)| actions[..*i].contains(a))
    {
        return Some(format!("action \"{}\" is listed twice", a.name));
    }
    if let Some(a) = req
        .vocabulary
        .actions
        .iter()
        .find(|a| a.params.iter().any(|p| p.choices.is_empty()))
    {
        return Some(format!(
            "action \"{}\" has a parameter without choices",
            a.name
        ));
    }
    None
}

impl LlmClient {
    /// Providers from the config; `seed` drives the backoff jitter (one generator per model).
    pub fn new(bucket: &Bucket, seed: u64) -> LlmClient {
        let providers = bucket
            .models()
            .iter()
            .map(|m| (m.name.clone(), provider::for_model(m)))
            .collect();
        LlmClient::with_providers(bucket, providers, seed)
    }

    /// Like [`LlmClient::new`] with the given providers (scripted ones in tests); a model
    /// without a provider gets the one from its config.
    pub fn with_providers(
        bucket: &Bucket,
        mut providers: BTreeMap<String, Box<dyn Provider>>,
        seed: u64,
    ) -> LlmClient {
        let slots = bucket
            .models()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let provider = providers
                    .remove(&m.name)
                    .unwrap_or_else(|| provider::for_model(m));
                let health = Health {
                    rng: Pcg64::seed_from_u64(
                        seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1)),
                    ),
                    consecutive_failures: 0,
                    unavailable_until: None,
                    stats: ModelStats::default(),
                };
                (
                    m.name.clone(),
                    Slot {
                        cfg: m.clone(),
                        provider,
                        health: Mutex::new(health),
                    },
                )
            })
            .collect();
        LlmClient {
            bucket: bucket.clone(),
            slots,
        }
    }

    /// The models the client calls.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    fn cooldown(&self) -> Cooldown {
        self.bucket.config.cooldown
    }

    /// Whether a call to `model` would be made now (not cooling down).
    pub fn is_available(&self, model: &str) -> bool {
        self.slots.get(model).is_some_and(|s| {
            let h = s.health.lock().unwrap_or_else(|e| e.into_inner());
            h.unavailable_until.is_none_or(|u| Instant::now() >= u)
        })
    }

    /// Models not cooling down, in config order.
    pub fn available_models(&self) -> Vec<String> {
        self.bucket
            .names()
            .into_iter()
            .filter(|m| self.is_available(m))
            .collect()
    }

    /// Statistics per model.
    pub fn stats(&self) -> BTreeMap<String, ModelStats> {
        self.slots
            .iter()
            .map(|(n, s)| {
                (
                    n.clone(),
                    s.health
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .stats
                        .clone(),
                )
            })
            .collect()
    }

    /// Several calls at once, the records in the order of `calls`. Calls to remote
    /// models run concurrently, at most `max_in_flight` at a time (each model's retries,
    /// cool-down and accounting as for [`LlmClient::call`]); calls to embedded models run
    /// one after another on one of those workers (they are CPU-bound: running two at
    /// once only slows both).
    pub fn call_many(&self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        let is_local = |m: &str| {
            self.slots
                .get(m)
                .is_some_and(|s| s.cfg.provider == crate::config::ProviderKind::Local)
        };
        let local: Vec<usize> = (0..calls.len())
            .filter(|&i| is_local(&calls[i].0))
            .collect();
        let remote: Vec<usize> = (0..calls.len())
            .filter(|&i| !is_local(&calls[i].0))
            .collect();
        let out: Vec<Mutex<Option<CallRecord>>> = calls.iter().map(|_| Mutex::new(None)).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = max_in_flight.max(1).min(remote.len());
        std::thread::scope(|scope| {
            if !local.is_empty() {
                scope.spawn(|| {
                    for &i in &local {
                        let rec = self.call(&calls[i].0, &calls[i].1);
                        *out[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(rec);
                    }
                });
            }
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(&i) = remote.get(k) else { break };
                        let rec = self.call(&calls[i].0, &calls[i].1);
                        *out[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(rec);
                    }
                });
            }
        });
        out.into_iter()
            .zip(calls)
            .map(|(slot, (m, r))| {
                slot.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or_else(|| self.call(m, r))
            })
            .collect()
    }

    /// Ask `model` for a joint action.
    pub fn call(&self, model: &str, req: &Request) -> CallRecord {
        let start = Instant::now();
        let mut rec = CallRecord {
            model: model.to_string(),
            role: req.role,
            latency_ms: 0,
            backoff_ms: 0,
            usage: Usage::default(),
            cost_usd: 0.0,
            attempts: 0,
            outcome: Err(Failure::NotInBucket {
                name: model.to_string(),
            }),
            raw_text: None,
            structured: false,
            spends_budget: false,
            timing: None,
        };
        let Some(slot) = self.slots.get(model) else {
            return rec;
        };
        if let Some(detail) = request_problem(req) {
            rec.outcome = Err(Failure::BadRequest { detail });
            slot.health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stats
                .record(&rec);
            return rec;
        }
        if refuse_while_cooling_down(slot, &mut rec) {
            return rec;
        }
        let outcome = attempt_with_retries(slot, model, req, &mut rec);
        rec.latency_ms = start.elapsed().as_millis() as u64;
        rec.cost_usd = cost_usd(&slot.cfg.prices, &rec.usage);
        rec.spends_budget = outcome.is_ok() || slot.cfg.failed_calls_spend_budget;
        self.settle(slot, model, outcome, &mut rec);
        rec
    }

    /// Update the model's health with the call's `outcome` (failure count, cool-down), store
    /// the outcome in `rec` and record the call in the model's statistics.
    fn settle(
        &self,
        slot: &Slot,
        model: &str,
        outcome: Result<JointAction, Failure>,
        rec: &mut CallRecord,
    ) {
        let cd = self.cooldown();
        let mut h = slot.health.lock().unwrap_or_else(|e| e.into_inner());
        match &outcome {
            Ok(_) => h.consecutive_failures = 0,
            Err(f) if f.is_invalid_answer() && !cd.count_invalid_answers => {}
            Err(_) => {
                h.consecutive_failures += 1;
                if h.consecutive_failures >= cd.after_failures {
                    h.unavailable_until =
                        Some(Instant::now() + Duration::from_secs_f64(cd.seconds));
                    h.stats.cooldowns += 1;
                    // The counter stays: after the cool-down one failed probe sets the
                    // model aside again; a success resets it.
                    tracing::warn!(
                        model,
                        seconds = cd.seconds,
                        "LLM set aside after repeated failures"
                    );
                }
            }
        }
        if outcome.is_ok() {
            h.unavailable_until = None;
        }
        rec.outcome = outcome;
        h.stats.record(rec);
    }
}

/// Refuse at once while the model is cooling down: sets `rec`'s outcome to
/// [`Failure::Unavailable`], records it and returns true.
fn refuse_while_cooling_down(slot: &Slot, rec: &mut CallRecord) -> bool {
    let mut h = slot.health.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(until) = h.unavailable_until {
        let now = Instant::now();
        if now < until {
            rec.outcome = Err(Failure::Unavailable {
                until_unix_ms: unix_ms(until),
                retry_in_ms: (until - now).as_millis() as u64,
            });
            h.stats.record(rec);
            return true;
        }
    }
    false
}

/// Call the provider until it answers or fails for good (the model's retry policy, with
/// backoff), adding attempts, usage and waits to `rec`; the outcome of the last attempt.
fn attempt_with_retries(
    slot: &Slot,
    model: &str,
    req: &Request,
    rec: &mut CallRecord,
) -> Result<JointAction, Failure> {
    let policy = slot.cfg.retry;
    loop {
        rec.attempts += 1;
        let result = slot.provider.complete(req);
        match result {
            Ok(reply) => return answer_outcome(reply, req, rec),
            Err(e) => {
                if !e.retryable() || rec.attempts >= policy.max_attempts {
                    return Err(Failure::from(e));
                }
                let retry_after = match &e {
                    CallError::Http { retry_after_ms, .. } => *retry_after_ms,
                    _ => None,
                };
                let wait = {
                    let mut h = slot.health.lock().unwrap_or_else(|e| e.into_inner());
                    backoff_ms(&policy, rec.attempts, retry_after, &mut h.rng)
                };
                tracing::debug!(model, attempt = rec.attempts, wait_ms = wait, error = %e, "retrying LLM call");
                rec.backoff_ms += wait;
                std::thread::sleep(Duration::from_millis(wait));
            }
        }
    }
}

/// Parse a provider's reply into the call's outcome, keeping its usage, text and timing in
/// `rec`; an unusable answer cut off by the token limit is [`AnswerError::Truncated`].
fn answer_outcome(
    reply: provider::Reply,
    req: &Request,
    rec: &mut CallRecord,
) -> Result<JointAction, Failure> {
    rec.usage.add(&reply.usage);
    rec.structured = reply.structured;
    rec.timing = reply.timing;
    let parsed = parse_answer(
        &reply.text,
        &req.vocabulary,
        &req.models,
        req.max_transformations,
    );
    rec.raw_text = Some(reply.text);
    match parsed {
        Ok(a) => Ok(a),
        Err(AnswerError::NoJson | AnswerError::BadShape { .. } | AnswerError::Truncated)
            if reply.finish == Finish::Length =>
        {
            Err(Failure::Answer(AnswerError::Truncated))
        }
        Err(e) => Err(Failure::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded calls (the database, `--resume`) keep reading: an answer failure is written
    /// as its own `kind`, as before it was wrapped, and reads back.
    #[test]
    fn an_answer_failure_keeps_its_wire_form() {
        for (f, json) in [
            (
                Failure::Answer(AnswerError::NoJson),
                r#"{"kind":"no_json"}"#,
            ),
            (
                Failure::Answer(AnswerError::UnknownModel { name: "m".into() }),
                r#"{"kind":"unknown_model","name":"m"}"#,
            ),
            (Failure::Timeout, r#"{"kind":"timeout"}"#),
        ] {
            assert_eq!(serde_json::to_string(&f).unwrap(), json);
            assert_eq!(serde_json::from_str::<Failure>(json).unwrap(), f);
        }
        let f = Failure::Answer(AnswerError::Truncated);
        assert_eq!((f.kind(), f.is_invalid_answer()), ("truncated", true));
        assert!(!Failure::Timeout.is_invalid_answer());
        assert!(f.to_string().contains("cut off"));
    }
}
