//! Providers: one wire protocol each, behind [`Provider`]. A provider does one attempt;
//! retries, cool-downs, parsing and accounting live in the client.

use std::fmt;
#[cfg(feature = "http")]
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{ModelConfig, ProviderKind};
use crate::vocab::Request;

#[cfg(feature = "http")]
pub mod anthropic;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "http")]
pub mod openai;

/// Token counts of one attempt. `input_tokens` is the whole prompt, cached part included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Prompt tokens served from a prefix cache (OpenAI cached_tokens, Anthropic
    /// cache_read_input_tokens, llama.cpp reused KV entries).
    pub cached_tokens: u64,
    /// Prompt tokens written to a cache (Anthropic cache_creation_input_tokens).
    pub cache_write_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

impl Usage {
    /// Add `o`'s counts to these.
    pub fn add(&mut self, o: &Usage) {
        self.input_tokens += o.input_tokens;
        self.cached_tokens += o.cached_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.output_tokens += o.output_tokens;
    }
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// The model ended its answer.
    Stop,
    /// The output-token limit was hit.
    Length,
    /// Anything else the provider reported.
    Other,
}

/// One attempt's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The answer's text.
    pub text: String,
    /// Token counts.
    pub usage: Usage,
    /// Why generation stopped.
    pub finish: Finish,
    /// Whether decoding was constrained to the answer schema / grammar.
    pub structured: bool,
    /// Time split reported by the embedded model (remote providers: `None`).
    pub timing: Option<Timing>,
}

impl Reply {
    /// A remote provider's answer (no in-process timing).
    pub fn remote(text: String, usage: Usage, finish: Finish, structured: bool) -> Reply {
        Reply {
            text,
            usage,
            finish,
            structured,
            timing: None,
        }
    }
}

/// Prompt-evaluation and generation time of an in-process completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Prompt tokens actually evaluated (not reused from the KV cache).
    pub evaluated_tokens: u64,
    /// Prompt-evaluation time in milliseconds.
    pub prompt_ms: f64,
    /// Generation time in milliseconds.
    pub gen_ms: f64,
    /// Output tokens the answer's grammar forced (appended, not sampled).
    #[serde(default)]
    pub forced_tokens: u64,
}

/// One attempt's failure (before parsing).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// A non-success HTTP status.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The status code.
        status: u16,
        /// An excerpt of the response body.
        body: String,
        /// The server's `Retry-After` (or `retry-after-ms`), in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// No answer within the model's timeout.
    #[error("timed out")]
    Timeout,
    /// The endpoint could not be reached.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The response is not what the protocol says.
    #[error("unexpected response: {0}")]
    Protocol(String),
    /// The API key's environment variable is not set.
    #[error("environment variable {env} (API key) is not set")]
    MissingKey {
        /// The variable's name.
        env: String,
    },
    /// The provider cannot be used in this build or setup.
    #[error("provider unavailable: {0}")]
    Unsupported(String),
}

impl CallError {
    /// 429, 5xx, timeouts and connection failures are worth another attempt.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Http { status, .. } => *status == 429 || *status >= 500,
            CallError::Timeout | CallError::Connection(_) => true,
            _ => false,
        }
    }
}

/// One wire protocol. `Send + Sync` so that a client can call several models, and the
/// same remote model, from several threads; a provider with mutable state (the embedded
/// model) locks it inside.
pub trait Provider: Send + Sync + fmt::Debug {
    /// One attempt at answering `req`.
    fn complete(&self, req: &Request) -> Result<Reply, CallError>;
}

/// The provider for a configured model.
pub fn for_model(m: &ModelConfig) -> Box<dyn Provider> {
    match m.provider {
        #[cfg(feature = "http")]
        ProviderKind::OpenAi => Box::new(openai::OpenAiProvider::new(m)),
        #[cfg(feature = "http")]
        ProviderKind::Anthropic => Box::new(anthropic::AnthropicProvider::new(m)),
        #[cfg(not(feature = "http"))]
        ProviderKind::OpenAi | ProviderKind::Anthropic => Box::new(Missing(
            "colt-llm was built without the `http` feature (remote providers)".into(),
        )),
        #[cfg(feature = "local")]
        ProviderKind::Local => Box::new(local::LocalProvider::new(m)),
        #[cfg(not(feature = "local"))]
        ProviderKind::Local => Box::new(Missing(
            "colt-llm was built without the `local` feature (embedded llama.cpp model)".into(),
        )),
    }
}

/// A provider that cannot be built; every call fails without retry.
#[derive(Debug)]
pub struct Missing(pub String);

impl Provider for Missing {
    fn complete(&self, _req: &Request) -> Result<Reply, CallError> {
        Err(CallError::Unsupported(self.0.clone()))
    }
}

#[cfg(feature = "http")]
/// The key of a model, read from its environment variable at call time.
pub(crate) fn read_key(env: &Option<String>) -> Result<Option<Secret>, CallError> {
    match env {
        None => Ok(None),
        Some(name) => match std::env::var(name) {
            Ok(k) if !k.trim().is_empty() => Ok(Some(Secret(k.trim().to_string()))),
            _ => Err(CallError::MissingKey { env: name.clone() }),
        },
    }
}

#[cfg(feature = "http")]
/// A key that never prints.
pub(crate) struct Secret(pub String);

#[cfg(feature = "http")]
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(feature = "http")]
impl Secret {
    /// Remove the key from text that came back from a server (some echo it).
    pub fn redact(&self, s: &str) -> String {
        if self.0.len() >= 4 {
            s.replace(&self.0, "[redacted]")
        } else {
            s.to_string()
        }
    }
}

#[cfg(feature = "http")]
/// `{endpoint}/v1/{path}`, accepting endpoints given with or without `/v1`.
pub(crate) fn url(endpoint: &str, path: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    format!("{base}/v1/{path}")
}

#[cfg(feature = "http")]
pub(crate) fn timeout(m: &ModelConfig) -> Duration {
    Duration::from_secs_f64(m.timeout_s)
}

#[cfg(feature = "http")]
/// The first `n` characters of a body, for error messages.
pub(crate) fn body_excerpt(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() > n {
        format!("{}...", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}
