//! What `colt models list` and `colt models check` print: the bucket as a table, and a
//! live check of every model with two joint-action requests sharing one stable prefix
//! (the second shows how much of the prompt the provider reused from its cache).

use std::fmt::Write as _;

use serde::Serialize;

use crate::client::{CallRecord, LlmClient};
use crate::config::{Bucket, format_param_count};
use crate::schema::answer_format_instructions;
use crate::vocab::{ActionSpec, Request, Role, Vocabulary};

/// The bucket as a table: name, provider, model id, params, φ_small, prices per million
/// tokens (input / cached input / output), key status; `*` marks the largest model.
pub fn models_list(bucket: &Bucket) -> String {
    let largest = bucket.largest().to_string();
    let rows: Vec<[String; 9]> = bucket
        .models()
        .iter()
        .map(|m| {
            [
                format!("{}{}", m.name, if m.name == largest { " *" } else { "" }),
                m.provider.to_string(),
                m.model.clone(),
                format_param_count(m.params),
                format!("{:.3}", bucket.phi_small(&m.name)),
                format!("{:.3}", m.prices.input),
                format!("{:.3}", m.prices.cached_input),
                format!("{:.3}", m.prices.output),
                match &m.api_key_env {
                    None => "-".to_string(),
                    Some(env) if m.key_available() => format!("{env} (set)"),
                    Some(env) => format!("{env} (missing)"),
                },
            ]
        })
        .collect();
    let header = [
        "name",
        "provider",
        "model",
        "params",
        "phi_small",
        "$in/M",
        "$cached/M",
        "$out/M",
        "key",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            // Numbers right-aligned, text left-aligned.
            if (3..8).contains(&i) {
                let _ = write!(l, "{c:>w$}  ");
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        line(&mut out, &r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let _ = writeln!(
        out,
        "* largest model (course-alteration target); prices in USD per million tokens"
    );
    out
}

/// The bucket as JSON (`colt models list --json`): `{"largest": NAME, "models": [{"name",
/// "provider", "model", "params", "params_label", "phi_small", "largest", "prices": {"input",
/// "cached_input", "output", "cache_write"}, "api_key_env", "key_set"}]}` in config order.
/// Never holds a key: only the variable's name and whether it is set.
pub fn models_list_json(bucket: &Bucket) -> String {
    let largest = bucket.largest();
    let models: Vec<serde_json::Value> = bucket
        .models()
        .iter()
        .map(|m| {
            serde_json::json!({
                "name": m.name,
                "provider": m.provider.as_str(),
                "model": m.model,
                "params": m.params,
                "params_label": format_param_count(m.params),
                "phi_small": bucket.phi_small(&m.name),
                "largest": m.name == largest,
                "prices": {
                    "input": m.prices.input,
                    "cached_input": m.prices.cached_input,
                    "output": m.prices.output,
                    "cache_write": m.prices.cache_write,
                },
                "api_key_env": m.api_key_env,
                "key_set": m.api_key_env.is_none() || m.key_available(),
            })
        })
        .collect();
    serde_json::json!({ "largest": largest, "models": models }).to_string()
}

/// A small action vocabulary resembling the CPU search's, for checks and examples.
pub fn sample_vocabulary() -> Vocabulary {
    Vocabulary::new(vec![
        ActionSpec::new(
            "tile_spatial",
            "split a spatial loop into an outer and an inner loop of the given inner extent",
        )
        .param("loop", ["i", "j"])
        .param("inner", [4, 8, 16, 32, 64]),
        ActionSpec::new(
            "tile_reduction",
            "split the reduction loop k with the given inner extent",
        )
        .param("inner", [4, 8, 16, 32, 64]),
        ActionSpec::new(
            "reorder",
            "move the reduction loop outward or inward among the tiled loops",
        )
        .param("k_position", ["outer", "middle", "inner"]),
        ActionSpec::new(
            "parallel",
            "run the outermost fused spatial loops on all cores",
        )
        .param("fuse", [1, 2]),
        ActionSpec::new("vectorize", "vectorise the innermost spatial loop"),
        ActionSpec::new(
            "unroll",
            "unroll pragma on the inner loops with the given maximum step",
        )
        .param("max_step", [0, 16, 64, 512]),
        ActionSpec::new(
            "cache_write",
            "accumulate the output tile in a local buffer and write it back once",
        ),
    ])
}

const SAMPLE_PROGRAM: &str = "\
func matmul(A: f32[512, 512], B: f32[512, 512]) -> C: f32[512, 512] {
  for i in 0..512 {
    for j in 0..512 {
      C[i, j] = 0.0
      for k in 0..512 {
        C[i, j] = C[i, j] + A[i, k] * B[k, j]
      }
    }
  }
}
";

/// A realistic stable prefix (about 500 tokens): role, method, vocabulary, program,
/// models, answer format with an example.
pub fn sample_prefix(vocab: &Vocabulary, models: &[String]) -> String {
    format!(
        "You are a compiler expert tuning a tensor program for a CPU (x86-64, AVX2, 2 cores, \
         32 KiB L1d, 1 MiB L2). Several models of different sizes share one Monte Carlo search \
         tree over schedules. At every expansion one model reads the current schedule and \
         proposes a short sequence of schedule transformations to apply next, and names the \
         model that should expand the resulting schedule. Transformations never change what the \
         program computes; they change loop order, tiling, parallelism and vectorisation. \
         Good schedules keep the working set of the innermost tiles in L1, vectorise a \
         unit-stride loop, and parallelise an outer loop with enough iterations for every core. \
         Prefer small, well-founded steps: a child that is slower than its parent counts as a \
         regression for the proposing model. Choose the next model by difficulty: small models \
         for routine refinements, the largest one when the search seems stuck.\n\n\
         Workload: matrix multiplication C = A x B, 512 x 512 x 512, float32, row-major.\n\
         Program:\n{SAMPLE_PROGRAM}\n\
         Models: {}\n\n{}",
        models.join(", "),
        answer_format_instructions(vocab, models, 2),
    )
}

/// The volatile part for check call `n` (0 or 1).
pub fn sample_suffix(n: usize) -> String {
    match n {
        0 => "Current schedule (depth 0, predicted score 0.02, measured: none): no transformation yet.\n\
              Search progress: 0 of 64 trials. Recent expanders: none.\n"
            .to_string(),
        _ => "Current schedule (depth 1, predicted score 0.11, parent 0.02): tile_spatial(loop=j, inner=32), parallel(fuse=1).\n\
              Search progress: 8 of 64 trials. Recent expanders: the root was expanded by the first model.\n"
            .to_string(),
    }
}

/// One model's check: the `--json` fields, and the two records for a detailed print.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    /// The model's name in the bucket.
    pub name: String,
    /// Both answers parsed into valid joint actions.
    pub valid: bool,
    /// Latency of the second call (prefix warm).
    pub latency_ms: u64,
    /// Prompt tokens of the second call.
    pub prompt_tokens: u64,
    /// Prompt tokens of the second call served from the prefix cache.
    pub reused_tokens: u64,
    /// `reused_tokens / prompt_tokens` (0 when no prompt tokens were reported).
    pub reuse_share: f64,
    /// The model's parameter count, from the bucket.
    pub params: f64,
    /// The first failure, as one line (never holds a key).
    #[serde(skip)]
    pub error: Option<String>,
    /// Both call records, for the detailed print.
    #[serde(skip)]
    pub calls: Vec<CallRecord>,
}

/// Check every model of the bucket (in parallel, one thread per model).
pub fn models_check(bucket: &Bucket, seed: u64) -> Vec<CheckResult> {
    let client = LlmClient::new(bucket, seed);
    models_check_with(&client)
}

/// [`models_check`] with a given client (scripted providers in tests).
pub fn models_check_with(client: &LlmClient) -> Vec<CheckResult> {
    let names = client.bucket().names();
    let vocab = sample_vocabulary();
    let prefix = sample_prefix(&vocab, &names);
    std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let (vocab, prefix, names) = (&vocab, &prefix, &names);
                s.spawn(move || {
                    let calls: Vec<CallRecord> = (0..2)
                        .map(|n| {
                            let mut req = Request::new(
                                prefix.clone(),
                                sample_suffix(n),
                                vocab.clone(),
                                names.clone(),
                                Role::Expand,
                            );
                            req.max_transformations = 2;
                            req.seed = n as u64 + 1;
                            client.call(name, &req)
                        })
                        .collect();
                    let params = client.bucket().model(name).map_or(0.0, |m| m.params);
                    check_result(name, params, calls)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread"))
            .collect()
    })
}

fn check_result(name: &str, params: f64, calls: Vec<CallRecord>) -> CheckResult {
    let valid = calls.len() == 2 && calls.iter().all(CallRecord::is_ok);
    let error = calls
        .iter()
        .find_map(|c| c.outcome.as_ref().err().map(|e| e.to_string()));
    let last = calls.last();
    let prompt_tokens = last.map_or(0, |c| c.usage.input_tokens);
    let reused_tokens = last.map_or(0, |c| c.usage.cached_tokens);
    CheckResult {
        name: name.to_string(),
        valid,
        latency_ms: last.map_or(0, |c| c.latency_ms),
        prompt_tokens,
        reused_tokens,
        reuse_share: if prompt_tokens == 0 {
            0.0
        } else {
            reused_tokens as f64 / prompt_tokens as f64
        },
        params,
        error,
        calls,
    }
}

/// Exactly `{"models": [{"name", "valid", "latency_ms", "prompt_tokens", "reused_tokens",
/// "reuse_share", "params"}]}`.
/// Fields in that order, one line.
pub fn check_json(results: &[CheckResult]) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        models: &'a [CheckResult],
    }
    serde_json::to_string(&Out { models: results }).expect("check results serialise")
}

/// A human-readable check report, one block per model.
pub fn check_text(results: &[CheckResult]) -> String {
    let mut out = String::new();
    for r in results {
        let _ = writeln!(
            out,
            "{}: {}  latency {} ms  prompt {} tokens  reused {} ({:.0}%)  params {}",
            r.name,
            if r.valid { "valid" } else { "INVALID" },
            r.latency_ms,
            r.prompt_tokens,
            r.reused_tokens,
            r.reuse_share * 100.0,
            format_param_count(r.params)
        );
        for (i, c) in r.calls.iter().enumerate() {
            let answer = match &c.outcome {
                Ok(a) => a.to_json().to_string(),
                Err(e) => format!("error: {e}"),
            };
            let speed = c.timing.map(|t| {
                let p = if t.prompt_ms > 0.0 {
                    t.evaluated_tokens as f64 / (t.prompt_ms / 1e3)
                } else {
                    0.0
                };
                let g = if t.gen_ms > 0.0 {
                    c.usage.output_tokens as f64 / (t.gen_ms / 1e3)
                } else {
                    0.0
                };
                format!("  prompt {p:.0} tok/s, generation {g:.0} tok/s")
            });
            let _ = writeln!(
                out,
                "  call {}: {} ms, {} in ({} cached), {} out, ${:.6}, {} attempt(s){}\n    {}",
                i + 1,
                c.latency_ms,
                c.usage.input_tokens,
                c.usage.cached_tokens,
                c.usage.output_tokens,
                c.cost_usd,
                c.attempts,
                speed.unwrap_or_default(),
                answer
            );
        }
    }
    out
}
