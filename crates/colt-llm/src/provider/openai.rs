//! OpenAI-compatible `/v1/chat/completions` (OpenAI, vLLM, Ollama, llama.cpp server,
//! hosted open-weight providers). System message = stable prefix + append-only record
//! (providers cache the longest common prefix automatically, so each call pays only for
//! the record lines added since the last), user message = volatile suffix. With `json_schema = true` the answer
//! is constrained by `response_format: {type: json_schema, strict: true}`.

use serde_json::{Value, json};

use super::http;
use super::{CallError, Finish, Provider, Reply, Usage, timeout, url};
use crate::config::ModelConfig;
use crate::schema;
use crate::vocab::Request;

/// An OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server, ...).
#[derive(Debug)]
pub struct OpenAiProvider {
    cfg: ModelConfig,
    agent: ureq::Agent,
}

impl OpenAiProvider {
    /// A provider for `cfg` (the key is read at call time).
    pub fn new(cfg: &ModelConfig) -> OpenAiProvider {
        OpenAiProvider {
            agent: http::agent(timeout(cfg)),
            cfg: cfg.clone(),
        }
    }

    /// The request body (public for tests and for logging; it holds no key).
    pub fn body(&self, req: &Request) -> Value {
        let mut b = json!({
            "model": self.cfg.model,
            "messages": [
                { "role": "system", "content": format!("{}{}", req.prefix, req.record) },
                { "role": "user", "content": req.suffix },
            ],
        });
        b[self.cfg.max_tokens_field.as_str()] = json!(self.cfg.max_output_tokens);
        if let Some(t) = self.cfg.temperature {
            b["temperature"] = json!(t);
        }
        if self.cfg.json_schema {
            b["response_format"] = schema::openai_response_format(
                &req.vocabulary,
                &req.models,
                req.max_transformations,
            );
        }
        b
    }
}

/// Read a 2xx chat-completions body.
pub fn parse_response(body: &str, structured: bool) -> Result<Reply, CallError> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Protocol(format!("response is not JSON ({e})")))?;
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| CallError::Protocol("no choices in response".into()))?;
    let msg = choice.get("message");
    let text = match msg.and_then(|m| m.get("content")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .concat(),
        _ => match msg.and_then(|m| m.get("refusal")).and_then(Value::as_str) {
            Some(r) => format!("[refusal] {r}"),
            None => String::new(),
        },
    };
    let finish = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("stop") | None => Finish::Stop,
        Some("length") => Finish::Length,
        Some(_) => Finish::Other,
    };
    let u = v.get("usage");
    let n = |path: &[&str]| -> u64 {
        let mut cur = u;
        for p in path {
            cur = cur.and_then(|c| c.get(*p));
        }
        cur.and_then(Value::as_u64).unwrap_or(0)
    };
    let usage = Usage {
        input_tokens: n(&["prompt_tokens"]),
        cached_tokens: n(&["prompt_tokens_details", "cached_tokens"]),
        cache_write_tokens: 0,
        output_tokens: n(&["completion_tokens"]),
    };
    Ok(Reply::remote(text, usage, finish, structured))
}

impl Provider for OpenAiProvider {
    fn complete(&self, req: &Request) -> Result<Reply, CallError> {
        http::call(
            &self.agent,
            &url(&self.cfg.endpoint, "chat/completions"),
            &self.cfg.api_key_env,
            Vec::new(),
            |k| ("authorization", format!("Bearer {}", k.0)),
            &self.body(req),
            |b| parse_response(b, self.cfg.json_schema),
        )
    }
}
