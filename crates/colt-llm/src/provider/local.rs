//! The embedded llama.cpp model (crate `colt-llm-local`), decoding constrained by the
//! GBNF grammar of the current vocabulary and model names, so every answer parses. The
//! answer is generated in the short form of [`crate::compact`] (a third of the JSON's
//! tokens) and turned into the JSON joint action; what that grammar forces after the
//! sampled text (the rest of a name, a stage's only value, the arrow) is appended without
//! sampling (jump-forward, [`crate::compact::forced`]). The model keeps the KV cache of the previous prompt: a call whose prompt starts with the
//! same stable prefix re-evaluates only the rest (`cached_tokens` = reused KV entries).
//!
//! The default model is a base (not instruction-tuned) model: the prompt is
//! `prefix + suffix + "\nAnswer: "`, and the prefix should end its instructions with an
//! example answer ([`crate::schema::answer_format_instructions`] does).

use std::sync::Mutex;

use colt_llm_local::{CompletionRequest, Forced, Forcing, LocalModel, LocalModelConfig};

use super::{CallError, Finish, Provider, Reply, Timing, Usage};
use crate::config::ModelConfig;
use crate::vocab::Request;
use crate::{compact, schema};

/// The embedded llama.cpp model, in process.
#[derive(Debug)]
pub struct LocalProvider {
    cfg: ModelConfig,
    /// Loaded on the first call.
    model: Mutex<Option<LocalModel>>,
}

impl LocalProvider {
    /// A provider for `cfg`; the model is loaded on the first call.
    pub fn new(cfg: &ModelConfig) -> LocalProvider {
        LocalProvider {
            cfg: cfg.clone(),
            model: Mutex::new(None),
        }
    }

    /// The model settings: defaults overridden by the model's `local` table.
    pub fn model_config(&self) -> LocalModelConfig {
        let mut c = LocalModelConfig::default();
        if let Some(p) = &self.cfg.local.path {
            c.path = p.into();
        }
        if let Some(n) = self.cfg.local.n_ctx {
            c.n_ctx = n;
        }
        if let Some(n) = self.cfg.local.n_threads {
            c.n_threads = n as i32;
        }
        if let Some(n) = self.cfg.local.n_threads_batch {
            c.n_threads_batch = n as i32;
        }
        if let Some(n) = self.cfg.local.n_batch {
            c.n_batch = n;
        }
        c.q4_0 = self.cfg.local.q4_0;
        if self.cfg.local.prefix_cache {
            c.kv_dir = c.path.parent().map(|d| d.join("kv"));
        }
        c
    }
}

/// The volatile part of the prompt, ending so that a base model continues with the JSON.
pub fn local_suffix(suffix: &str) -> String {
    let t = suffix.trim_end();
    if t.ends_with("Answer:") {
        format!("{t} ")
    } else {
        format!("{t}\nAnswer: ")
    }
}

impl Provider for LocalProvider {
    fn complete(&self, req: &Request) -> Result<Reply, CallError> {
        let mut guard = self.model.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let m = LocalModel::load(&self.model_config())
                .map_err(|e| CallError::Unsupported(e.to_string()))?;
            *guard = Some(m);
        }
        let model = guard.as_mut().expect("loaded");
        tracing::trace!(model = %self.cfg.name, prefix = %req.prefix, record = %req.record, suffix = %req.suffix, "local prompt");
        // The short answer form where every name and value can be written in it (see
        // `compact`); its instructions end the stable part so they are cached with it.
        let short = compact::usable(&req.vocabulary, &req.models);
        let grammar = if short {
            compact::gbnf(&req.vocabulary, &req.models, req.max_transformations)
        } else {
            schema::gbnf(&req.vocabulary, &req.models, req.max_transformations)
        };
        // Jump-forward: what the short form forces is appended, not sampled.
        let forcing = short.then(|| {
            let (vocab, models, max) = (
                req.vocabulary.clone(),
                req.models.clone(),
                req.max_transformations,
            );
            Forcing::new(move |so_far| {
                let (text, complete) = compact::forced(&vocab, &models, max, so_far);
                Forced { text, complete }
            })
        });
        let (stem, rest) = req.stem_and_rest();
        let creq = CompletionRequest {
            stem: stem.to_string(),
            prefix: format!("{rest}{}", compact::instructions(req.max_transformations)),
            record: req.record.clone(),
            suffix: local_suffix(&req.suffix),
            grammar: Some(grammar),
            max_tokens: self.cfg.max_output_tokens,
            temperature: self.cfg.temperature.unwrap_or(0.7) as f32,
            seed: (req.seed ^ (req.seed >> 32)) as u32,
            // Model loading is not counted; evaluation and generation are.
            time_limit: Some(super::timeout(&self.cfg)),
            forcing,
        };
        let c = model.complete(&creq).map_err(|e| match e {
            colt_llm_local::LocalError::Timeout { .. } => CallError::Timeout,
            colt_llm_local::LocalError::ContextOverflow { .. }
            | colt_llm_local::LocalError::Grammar(_) => CallError::Protocol(e.to_string()),
            e => CallError::Unsupported(e.to_string()),
        })?;
        let finish = match c.finish {
            colt_llm_local::Finish::Stop => Finish::Stop,
            colt_llm_local::Finish::Length => Finish::Length,
        };
        tracing::debug!(model = %self.cfg.name, prompt_tokens = c.prompt_tokens, reused = c.reused_tokens, evaluated = c.evaluated_tokens,
            output = c.output_tokens, forced = c.forced_tokens, prompt_ms = c.prompt_ms, gen_ms = c.gen_ms, "local completion");
        let text = if short {
            compact::to_json(&c.text, &req.vocabulary).unwrap_or(c.text)
        } else {
            c.text
        };
        Ok(Reply {
            text,
            usage: Usage {
                input_tokens: c.prompt_tokens as u64,
                cached_tokens: c.reused_tokens as u64,
                cache_write_tokens: 0,
                output_tokens: c.output_tokens as u64,
            },
            finish,
            structured: true,
            timing: Some(Timing {
                evaluated_tokens: c.evaluated_tokens as u64,
                prompt_ms: c.prompt_ms,
                gen_ms: c.gen_ms,
                forced_tokens: c.forced_tokens as u64,
            }),
        })
    }
}
