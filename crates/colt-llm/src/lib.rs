//! colt-llm: everything between "the search wants a joint action from model m" and "here
//! is a validated answer plus exactly what it cost".
//!
//! - [`config`]: the model bucket (`[[models]]` in `colt.toml`), validation, φ_small.
//! - [`vocab`]: the action vocabulary given by the caller, the typed [`JointAction`],
//!   the [`Request`] (stable prefix + volatile suffix).
//! - [`schema`]: JSON Schema and GBNF grammar admitting exactly the valid answers.
//! - [`parse`]: the forgiving-on-syntax, strict-on-names answer parser.
//! - [`provider`]: OpenAI-compatible, Anthropic and (feature `local`) embedded llama.cpp.
//! - [`client`]: [`LlmClient::call`] with retries, cool-downs and accounting.
//! - [`stats`]: per-model statistics and cost.
//! - [`check`]: `colt models list` / `colt models check`.
//!
//! API keys are read from the environment at call time and never stored, printed or
//! recorded: configs hold only the variable's name.

pub mod check;
pub mod client;
pub mod compact;
pub mod config;
pub mod parse;
pub mod provider;
pub mod retry;
pub mod schema;
pub mod stats;
pub mod vocab;

/// `tracing` filter directives a program must add to its log filter (e.g.
/// `EnvFilter::new(format!("{user_filter},{SAFE_LOG_DIRECTIVES}"))`): the HTTP stack's
/// `ureq_proto` crate hex-dumps raw request bytes, API-key headers included, at TRACE
/// level. Everything else this crate and `ureq` log is free of keys (ureq redacts
/// sensitive headers in its own DEBUG lines).
pub const SAFE_LOG_DIRECTIVES: &str = "ureq_proto=off";

pub use check::{
    CheckResult, check_json, check_text, models_check, models_check_with, models_list,
    models_list_json,
};
pub use client::{CallRecord, Failure, LlmClient};
pub use config::{
    Bucket, BucketConfig, ConfigError, Cooldown, ModelConfig, Prices, ProviderKind, RetryPolicy,
};
pub use parse::{AnswerError, parse_answer};
pub use provider::{CallError, Finish, Provider, Reply, Timing, Usage};
pub use schema::{answer_format_instructions, example_answer, gbnf, json_schema};
pub use stats::{ModelStats, cost_usd};
pub use vocab::{ActionSpec, JointAction, ParamSpec, Request, Role, Transformation, Vocabulary};
