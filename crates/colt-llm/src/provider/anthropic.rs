//! The Anthropic Messages API. The stable prefix is the first `system` block marked
//! `cache_control: {type: "ephemeral"}` so later calls read it from the prompt cache; the
//! append-only record follows as text blocks split where this model's earlier prompts
//! ended, the last one marked too (Anthropic looks for cache hits at the block boundaries
//! before a breakpoint, so the record sent last time is read from the cache and only the
//! new lines are written); the volatile suffix is the user message. With `json_schema = true` the model is made
//! to call a tool whose input schema is the answer schema (tool_choice forced), and the
//! tool input becomes the answer text.

use serde_json::{Value, json};

use super::http;
use super::{CallError, Finish, Provider, Reply, Usage, timeout, url};
use crate::config::ModelConfig;
use crate::schema;
use crate::vocab::Request;

/// The `anthropic-version` header sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
const TOOL: &str = "joint_action";

/// The Anthropic Messages API, with the prefix marked for prompt caching.
#[derive(Debug)]
pub struct AnthropicProvider {
    cfg: ModelConfig,
    agent: ureq::Agent,
    /// The record sent last and the offsets where earlier records ended within it.
    sent: std::sync::Mutex<(String, Vec<usize>)>,
}

/// Record blocks kept apart at most (Anthropic checks about 20 block boundaries before a
/// breakpoint for a cache hit).
const MAX_RECORD_BLOCKS: usize = 16;

impl AnthropicProvider {
    /// A provider for `cfg` (the key is read at call time).
    pub fn new(cfg: &ModelConfig) -> AnthropicProvider {
        AnthropicProvider {
            agent: http::agent(timeout(cfg)),
            cfg: cfg.clone(),
            sent: Default::default(),
        }
    }

    /// Where to split `record` into blocks: the ends of the records sent before, while
    /// each extends the previous one (remembered for the next call).
    fn record_splits(&self, record: &str) -> Vec<usize> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let (last, splits) = &mut *sent;
        if record.starts_with(last.as_str()) {
            if !last.is_empty() && last.len() < record.len() {
                splits.push(last.len());
            }
        } else {
            splits.clear();
        }
        if splits.len() > MAX_RECORD_BLOCKS - 1 {
            splits.drain(..splits.len() - (MAX_RECORD_BLOCKS - 1));
        }
        *last = record.to_string();
        splits.clone()
    }

    /// The `system` blocks: the prefix, then the record in blocks (see the module docs).
    fn system_blocks(&self, req: &Request) -> Vec<Value> {
        let cached = |text: &str| json!({ "type": "text", "text": text, "cache_control": { "type": "ephemeral" } });
        let mut blocks = vec![cached(&req.prefix)];
        if req.record.is_empty() {
            return blocks;
        }
        let mut start = 0;
        for end in self.record_splits(&req.record) {
            blocks.push(json!({ "type": "text", "text": &req.record[start..end] }));
            start = end;
        }
        blocks.push(cached(&req.record[start..]));
        blocks
    }

    /// The request body (holds no key).
    pub fn body(&self, req: &Request) -> Value {
        let mut b = json!({
            "model": self.cfg.model,
            "max_tokens": self.cfg.max_output_tokens,
            "system": self.system_blocks(req),
            "messages": [ { "role": "user", "content": req.suffix } ],
        });
        if let Some(t) = self.cfg.temperature {
            b["temperature"] = json!(t.min(1.0));
        }
        if self.cfg.json_schema {
            b["tools"] = json!([{
                "name": TOOL,
                "description": "Submit the joint action: transformations to apply and the model that expands the child.",
                "input_schema": schema::json_schema(&req.vocabulary, &req.models, req.max_transformations),
            }]);
            b["tool_choice"] = json!({ "type": "tool", "name": TOOL });
        }
        b
    }
}

/// Read a 2xx Messages body: text blocks concatenated, or the forced tool's input.
pub fn parse_response(body: &str) -> Result<Reply, CallError> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Protocol(format!("response is not JSON ({e})")))?;
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::Protocol("no content in response".into()))?;
    let mut text = String::new();
    let mut structured = false;
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => {
                if let Some(input) = b.get("input") {
                    text = input.to_string();
                    structured = true;
                    break;
                }
            }
            _ => {}
        }
    }
    let finish = match v.get("stop_reason").and_then(Value::as_str) {
        Some("end_turn") | Some("stop_sequence") | Some("tool_use") | None => Finish::Stop,
        Some("max_tokens") => Finish::Length,
        Some(_) => Finish::Other,
    };
    let n = |k: &str| {
        v.get("usage")
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let (uncached, read, write) = (
        n("input_tokens"),
        n("cache_read_input_tokens"),
        n("cache_creation_input_tokens"),
    );
    let usage = Usage {
        input_tokens: uncached + read + write,
        cached_tokens: read,
        cache_write_tokens: write,
        output_tokens: n("output_tokens"),
    };
    Ok(Reply::remote(text, usage, finish, structured))
}

impl Provider for AnthropicProvider {
    fn complete(&self, req: &Request) -> Result<Reply, CallError> {
        http::call(
            &self.agent,
            &url(&self.cfg.endpoint, "messages"),
            &self.cfg.api_key_env,
            vec![("anthropic-version", ANTHROPIC_VERSION.to_string())],
            |k| ("x-api-key", k.0.clone()),
            &self.body(req),
            parse_response,
        )
    }
}
