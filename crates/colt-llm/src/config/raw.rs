//! The bucket's tables as serde reads and writes them, and their validation.
//!
//! [`RawModel`] and [`RawBucket`] mirror the file: every key optional, unknown keys refused
//! (`deny_unknown_fields`). The value types below ([`Text`], [`Flag`], [`Number`], ...)
//! read one TOML value each and say what is wrong in this crate's words (`expected a
//! number, found string`), never echoing the value (it could be a pasted key). An error
//! keeps its path (`prices.input`) through `serde_path_to_error`. Defaults that depend on
//! other fields (a provider's endpoint and timeout, `schedule_in_question`, ...) and the
//! cross-field checks are applied by [`RawModel::resolve`].
//!
//! The writers ([`ModelConfig::to_toml`], [`super::BucketConfig::to_toml`]) serialize the
//! same structs, so what is written is what is read.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use toml::{Table, Value};

use super::{
    BucketConfig, ConfigError, Cooldown, LocalSettings, ModelConfig, Prices, ProviderKind,
    RetryPolicy, berr, merr, parse_param_count,
};

/// Read a value as TOML and check it; the check's message is the error.
fn checked<'de, D, T>(d: D, check: impl FnOnce(Value) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    check(Value::deserialize(d)?).map_err(de::Error::custom)
}

/// A non-empty string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| match v {
            Value::String(s) if !s.trim().is_empty() => Ok(Text(s)),
            Value::String(_) => Err("expected a non-empty string".into()),
            v => Err(format!("expected a string, found {}", v.type_str())),
        })
    }
}

/// `true` or `false`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| match v {
            Value::Boolean(b) => Ok(Flag(b)),
            v => Err(format!("expected true or false, found {}", v.type_str())),
        })
    }
}

/// A finite, non-negative number (integer or float).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| {
            let x = match v {
                Value::Integer(i) => i as f64,
                Value::Float(f) => f,
                v => return Err(format!("expected a number, found {}", v.type_str())),
            };
            if x.is_finite() && x >= 0.0 {
                Ok(Number(x))
            } else {
                Err("expected a non-negative number".into())
            }
        })
    }
}

/// A non-negative integer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| match v {
            Value::Integer(i) if i >= 0 => Ok(Count(i as u64)),
            _ => Err("expected a non-negative integer".into()),
        })
    }
}

impl Serialize for Count {
    /// TOML integers are `i64`: a larger count is written as `i64::MAX`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(i64::try_from(self.0).unwrap_or(i64::MAX))
    }
}

/// An integer in `1..=u32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Positive(pub u32);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| match v {
            Value::Integer(i) if i >= 1 => u32::try_from(i)
                .map(Positive)
                .map_err(|_| "expected a positive integer".into()),
            _ => Err("expected a positive integer".into()),
        })
    }
}

/// A parameter count: see [`parse_param_count`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Params(pub f64);

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |v| {
            parse_param_count(&v)
                .map(Params)
                .ok_or_else(|| "expected a positive count (e.g. 270e6, \"270M\", \"8B\")".into())
        })
    }
}

/// A sub-table (`prices`, `retry`, `[bucket]`), read key by key so that an error inside it
/// keeps its path; anything else is `expected a table, found ...`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Nested<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NestedVisitor(PhantomData)).map(Nested)
    }
}

struct NestedVisitor<T>(PhantomData<T>);

fn not_a_table<E: de::Error>(found: &str) -> E {
    E::custom(format!("expected a table, found {found}"))
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for NestedVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Err(not_a_table("boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Err(not_a_table("integer"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Err(not_a_table("integer"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Err(not_a_table("float"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
        Err(not_a_table("string"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        Err(not_a_table("array"))
    }
}

/// The field path of a serde error and its message; serde's `unknown field `k`, expected
/// one of `a`, `b`` becomes `unknown field (expected one of: a, b)` (the path names `k`).
fn path_and_message(e: &serde_path_to_error::Error<toml::de::Error>) -> (String, String) {
    let msg = e.inner().message();
    let message = match (
        msg.starts_with("unknown field `"),
        msg.rfind("`, expected "),
    ) {
        (true, Some(i)) => {
            let expected = msg[i + "`, expected ".len()..].replace('`', "");
            let expected = match expected.strip_prefix("one of ") {
                Some(list) => format!("one of: {list}"),
                None => expected,
            };
            format!("unknown field (expected {expected})")
        }
        _ => msg.to_string(),
    };
    (e.path().to_string().escape_debug().to_string(), message)
}

/// One `[[models]]` table as written. Its keys are the config's keys.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    name: Option<Text>,
    provider: Option<Text>,
    endpoint: Option<Text>,
    model: Option<Text>,
    api_key_env: Option<Text>,
    params: Option<Params>,
    prices: Option<Nested<RawPrices>>,
    max_output_tokens: Option<Count>,
    temperature: Option<Number>,
    timeout_s: Option<Number>,
    retry: Option<Nested<RawRetry>>,
    json_schema: Option<Flag>,
    max_tokens_field: Option<Text>,
    failed_calls_spend_budget: Option<Flag>,
    schedule_in_question: Option<Flag>,
    path: Option<Text>,
    q4_0: Option<Flag>,
    prefix_cache: Option<Flag>,
    n_ctx: Option<Positive>,
    n_threads: Option<Positive>,
    n_threads_batch: Option<Positive>,
    n_batch: Option<Positive>,
}

/// A model's `prices` table (USD per million tokens).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrices {
    input: Option<Number>,
    cached_input: Option<Number>,
    output: Option<Number>,
    cache_write: Option<Number>,
}

/// A model's `retry` table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    max_attempts: Option<Count>,
    base_backoff_ms: Option<Count>,
    max_backoff_ms: Option<Count>,
    max_retry_after_ms: Option<Count>,
}

/// The `[bucket]` table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBucket {
    largest: Option<Text>,
    cooldown_after_failures: Option<Positive>,
    cooldown_s: Option<Number>,
    cooldown_counts_invalid_answers: Option<Flag>,
}

/// Serialize a raw table; its values are strings, numbers, booleans and tables, which TOML
/// always holds.
pub(super) fn to_table<T: Serialize>(raw: &T) -> Table {
    Table::try_from(raw).expect("strings, numbers, booleans and tables are valid TOML")
}

impl RawModel {
    /// Deserialize the `index`-th `[[models]]` table; an error names the model (`#n` while
    /// its name is unusable) and the field.
    pub(super) fn read(index: usize, t: &Table) -> Result<RawModel, ConfigError> {
        serde_path_to_error::deserialize(t.clone()).map_err(|e| {
            let label = match t.get("name") {
                Some(Value::String(s)) if !s.trim().is_empty() => {
                    s.trim().escape_debug().to_string()
                }
                _ => format!("#{}", index + 1),
            };
            let (field, message) = path_and_message(&e);
            merr(&label, &field, message)
        })
    }

    /// The validated model: required fields present, values in range, and the defaults,
    /// some of which depend on the provider.
    pub(super) fn resolve(self, index: usize) -> Result<ModelConfig, ConfigError> {
        let name = model_name(index, self.name)?;
        let m = name.as_str();
        let provider = provider_kind(m, self.provider)?;
        let endpoint = endpoint(m, provider, self.endpoint)?;
        let model = match (self.model, provider) {
            (Some(s), _) => s.0,
            (None, ProviderKind::Local) => name.clone(),
            (None, _) => return Err(merr(m, "model", "missing (the provider's model id)")),
        };
        let api_key_env = api_key_env(m, provider, self.api_key_env)?;
        let params = self
            .params
            .ok_or_else(|| merr(m, "params", "missing (parameter count, e.g. 8e9 or \"8B\")"))?
            .0;
        let prices = prices(m, provider, self.prices.map(|p| p.0))?;
        let (max_output_tokens, temperature, timeout_s) = limits(
            m,
            provider,
            self.max_output_tokens,
            self.temperature,
            self.timeout_s,
        )?;
        let retry = retry(m, self.retry.map(|r| r.0))?;
        let max_tokens_field = max_tokens_field(m, self.max_tokens_field)?;
        let flag = |f: Option<Flag>, default: bool| f.map_or(default, |f| f.0);
        let local = LocalSettings {
            path: self.path.map(|p| p.0),
            n_ctx: self.n_ctx.map(|n| n.0),
            n_threads: self.n_threads.map(|n| n.0),
            n_threads_batch: self.n_threads_batch.map(|n| n.0),
            n_batch: self.n_batch.map(|n| n.0),
            q4_0: flag(self.q4_0, false),
            prefix_cache: flag(self.prefix_cache, true),
        };
        Ok(ModelConfig {
            provider,
            endpoint,
            model,
            api_key_env,
            params,
            prices,
            max_output_tokens,
            temperature,
            timeout_s,
            retry,
            json_schema: flag(self.json_schema, false),
            max_tokens_field,
            failed_calls_spend_budget: flag(self.failed_calls_spend_budget, false),
            schedule_in_question: flag(self.schedule_in_question, provider != ProviderKind::Local),
            local,
            name,
        })
    }
}

/// The name, trimmed; only letters, digits and `- _ . : /` (it is used in file names and
/// answers).
fn model_name(index: usize, name: Option<Text>) -> Result<String, ConfigError> {
    let Some(Text(name)) = name else {
        return Err(merr(&format!("#{}", index + 1), "name", "missing"));
    };
    let name = name.trim().to_string();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
    {
        return Err(merr(
            &name.escape_debug().to_string(),
            "name",
            "use only letters, digits and - _ . : /",
        ));
    }
    Ok(name)
}

/// The provider: required, one of `openai`, `anthropic` and `local`.
fn provider_kind(m: &str, provider: Option<Text>) -> Result<ProviderKind, ConfigError> {
    match provider.as_ref().map(|p| p.0.as_str()) {
        Some("openai") => Ok(ProviderKind::OpenAi),
        Some("anthropic") => Ok(ProviderKind::Anthropic),
        Some("local") => Ok(ProviderKind::Local),
        Some(other) => Err(merr(
            m,
            "provider",
            format!(
                "unknown provider \"{}\" (expected openai, anthropic or local)",
                other.escape_debug()
            ),
        )),
        None => Err(merr(m, "provider", "missing (openai, anthropic or local)")),
    }
}

/// The endpoint as written (without a trailing `/`), else the provider's; none for `local`.
fn endpoint(m: &str, provider: ProviderKind, e: Option<Text>) -> Result<String, ConfigError> {
    Ok(match (e, provider) {
        (Some(Text(e)), _) => {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(merr(m, "endpoint", "expected an http:// or https:// URL"));
            }
            e.trim_end_matches('/').to_string()
        }
        (None, ProviderKind::OpenAi) => "https://api.openai.com".to_string(),
        (None, ProviderKind::Anthropic) => "https://api.anthropic.com".to_string(),
        (None, ProviderKind::Local) => String::new(),
    })
}

/// The key's variable name: letters, digits and `_` (a key pasted here is refused without
/// being echoed); required for Anthropic.
fn api_key_env(
    m: &str,
    provider: ProviderKind,
    env: Option<Text>,
) -> Result<Option<String>, ConfigError> {
    match env {
        Some(Text(env)) if env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Ok(Some(env))
        }
        Some(_) => Err(merr(
            m,
            "api_key_env",
            "expected the NAME of an environment variable (letters, digits, _), never the key",
        )),
        None if provider == ProviderKind::Anthropic => Err(merr(
            m,
            "api_key_env",
            "missing (e.g. \"ANTHROPIC_API_KEY\")",
        )),
        None => Ok(None),
    }
}

/// Prices: required except for `local` (free); `cached_input` and `cache_write` default to
/// `input`.
fn prices(m: &str, provider: ProviderKind, p: Option<RawPrices>) -> Result<Prices, ConfigError> {
    let Some(p) = p else {
        if provider == ProviderKind::Local {
            return Ok(Prices::default());
        }
        return Err(merr(
            m,
            "prices",
            "missing (USD per million tokens: { input, cached_input, output }; zeros for a free endpoint)",
        ));
    };
    let input = p.input.ok_or_else(|| merr(m, "prices.input", "missing"))?.0;
    let output = p
        .output
        .ok_or_else(|| merr(m, "prices.output", "missing"))?
        .0;
    Ok(Prices {
        input,
        cached_input: p.cached_input.map_or(input, |x| x.0),
        output,
        cache_write: p.cache_write.map_or(input, |x| x.0),
    })
}

/// The output cap (default 512), the temperature (none by default) and the timeout of an
/// attempt (default 600 s for `local`, 60 s otherwise).
fn limits(
    m: &str,
    provider: ProviderKind,
    max_output_tokens: Option<Count>,
    temperature: Option<Number>,
    timeout_s: Option<Number>,
) -> Result<(u32, Option<f64>, f64), ConfigError> {
    let max_output_tokens = match max_output_tokens.map_or(512, |c| c.0) {
        n @ 1..=1_000_000 => n as u32,
        _ => {
            return Err(merr(
                m,
                "max_output_tokens",
                "expected an integer in 1..=1000000",
            ));
        }
    };
    let temperature = temperature.map(|t| t.0);
    if temperature.is_some_and(|t| t > 2.0) {
        return Err(merr(m, "temperature", "expected a number in 0..=2"));
    }
    let default_timeout = if provider == ProviderKind::Local {
        600.0
    } else {
        60.0
    };
    let timeout_s = timeout_s.map_or(default_timeout, |t| t.0);
    if timeout_s <= 0.0 {
        return Err(merr(
            m,
            "timeout_s",
            "expected a positive number of seconds",
        ));
    }
    Ok((max_output_tokens, temperature, timeout_s))
}

/// OpenAI's name of the output-length field (default `max_tokens`).
fn max_tokens_field(m: &str, field: Option<Text>) -> Result<String, ConfigError> {
    let field = field.map_or("max_tokens".to_string(), |f| f.0);
    if !matches!(field.as_str(), "max_tokens" | "max_completion_tokens") {
        return Err(merr(
            m,
            "max_tokens_field",
            "expected \"max_tokens\" or \"max_completion_tokens\"",
        ));
    }
    Ok(field)
}

/// The retry policy: [`RetryPolicy::default`] with the fields written replaced.
fn retry(m: &str, r: Option<RawRetry>) -> Result<RetryPolicy, ConfigError> {
    let d = RetryPolicy::default();
    let Some(r) = r else { return Ok(d) };
    let max_attempts = match r.max_attempts.map_or(u64::from(d.max_attempts), |a| a.0) {
        a @ 1..=100 => a as u32,
        _ => {
            return Err(merr(
                m,
                "retry.max_attempts",
                "expected an integer in 1..=100",
            ));
        }
    };
    let retry = RetryPolicy {
        max_attempts,
        base_backoff_ms: r.base_backoff_ms.map_or(d.base_backoff_ms, |b| b.0),
        max_backoff_ms: r.max_backoff_ms.map_or(d.max_backoff_ms, |b| b.0),
        max_retry_after_ms: r.max_retry_after_ms.map_or(d.max_retry_after_ms, |b| b.0),
    };
    if retry.max_backoff_ms < retry.base_backoff_ms {
        return Err(merr(
            m,
            "retry.max_backoff_ms",
            "must be >= retry.base_backoff_ms",
        ));
    }
    Ok(retry)
}

impl From<&ModelConfig> for RawModel {
    /// Every field of the model (so the reader's defaults do not matter), except what is
    /// empty or the local settings' defaults.
    fn from(c: &ModelConfig) -> RawModel {
        let text = |s: &str| Some(Text(s.to_string()));
        let flag = |b: bool| Some(Flag(b));
        let p = &c.prices;
        let r = &c.retry;
        RawModel {
            name: text(&c.name),
            provider: text(c.provider.as_str()),
            endpoint: (!c.endpoint.is_empty()).then(|| Text(c.endpoint.clone())),
            model: text(&c.model),
            api_key_env: c.api_key_env.as_deref().and_then(text),
            params: Some(Params(c.params)),
            prices: Some(Nested(RawPrices {
                input: Some(Number(p.input)),
                cached_input: Some(Number(p.cached_input)),
                output: Some(Number(p.output)),
                cache_write: Some(Number(p.cache_write)),
            })),
            max_output_tokens: Some(Count(u64::from(c.max_output_tokens))),
            temperature: c.temperature.map(Number),
            timeout_s: Some(Number(c.timeout_s)),
            retry: Some(Nested(RawRetry {
                max_attempts: Some(Count(u64::from(r.max_attempts))),
                base_backoff_ms: Some(Count(r.base_backoff_ms)),
                max_backoff_ms: Some(Count(r.max_backoff_ms)),
                max_retry_after_ms: Some(Count(r.max_retry_after_ms)),
            })),
            json_schema: flag(c.json_schema),
            max_tokens_field: text(&c.max_tokens_field),
            failed_calls_spend_budget: flag(c.failed_calls_spend_budget),
            schedule_in_question: flag(c.schedule_in_question),
            path: c.local.path.as_deref().and_then(text),
            q4_0: c.local.q4_0.then_some(Flag(true)),
            prefix_cache: (!c.local.prefix_cache).then_some(Flag(false)),
            n_ctx: c.local.n_ctx.map(Positive),
            n_threads: c.local.n_threads.map(Positive),
            n_threads_batch: c.local.n_threads_batch.map(Positive),
            n_batch: c.local.n_batch.map(Positive),
        }
    }
}

impl RawBucket {
    /// Deserialize the `[bucket]` value; an error names the field (`bucket` itself when it
    /// is not a table).
    pub(super) fn read(v: &Value) -> Result<RawBucket, ConfigError> {
        serde_path_to_error::deserialize(v.clone())
            .map(|b: Nested<RawBucket>| b.0)
            .map_err(|e| {
                let (field, message) = path_and_message(&e);
                berr(
                    if e.path().iter().next().is_none() {
                        "bucket"
                    } else {
                        &field
                    },
                    message,
                )
            })
    }

    /// The course-alteration target and the cool-down, defaults filled in.
    pub(super) fn resolve(self) -> (Option<String>, Cooldown) {
        let d = Cooldown::default();
        let cooldown = Cooldown {
            after_failures: self
                .cooldown_after_failures
                .map_or(d.after_failures, |n| n.0),
            seconds: self.cooldown_s.map_or(d.seconds, |s| s.0),
            count_invalid_answers: self
                .cooldown_counts_invalid_answers
                .map_or(d.count_invalid_answers, |f| f.0),
        };
        (self.largest.map(|l| l.0), cooldown)
    }
}

impl From<&BucketConfig> for RawBucket {
    /// Every field of the `[bucket]` table but an unset `largest`.
    fn from(b: &BucketConfig) -> RawBucket {
        let c = &b.cooldown;
        RawBucket {
            largest: b.largest.as_ref().map(|l| Text(l.clone())),
            cooldown_after_failures: Some(Positive(c.after_failures)),
            cooldown_s: Some(Number(c.seconds)),
            cooldown_counts_invalid_answers: Some(Flag(c.count_invalid_answers)),
        }
    }
}
