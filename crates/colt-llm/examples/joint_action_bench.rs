//! Latency of one joint-action call to the embedded model through the call API, and its
//! prompt / generation speed and prefix reuse.
//!
//! `cargo run --release -p colt-llm --features local --example joint_action_bench [-- calls]`

use colt_llm::check::{sample_prefix, sample_vocabulary};
use colt_llm::{Bucket, LlmClient, Request, Role};

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .map_or(9, |n| n.parse().expect("number of calls"));
    let bucket = Bucket::default_local();
    let name = bucket.largest().to_string();
    let client = LlmClient::new(&bucket, 1);
    let vocab = sample_vocabulary();
    let models = bucket.names();
    let prefix = sample_prefix(&vocab, &models);
    let mut warm = Vec::new();
    let (mut eval_tok, mut eval_ms, mut gen_tok, mut gen_ms) = (0u64, 0f64, 0u64, 0f64);
    for i in 0..calls {
        let suffix = format!(
            "Current schedule (depth {}, predicted score 0.{:02}): tile_spatial(loop=j, inner=32).\nSearch progress: {} of 64 trials.\n",
            i % 4,
            10 + i,
            8 * i
        );
        let mut req = Request::new(
            prefix.clone(),
            suffix,
            vocab.clone(),
            models.clone(),
            Role::Expand,
        );
        req.max_transformations = 2;
        req.seed = i as u64;
        let r = client.call(&name, &req);
        let t = r.timing.unwrap_or_default();
        println!(
            "call {i}: {:6} ms  prompt {:4} (reused {:4}, evaluated {:3} in {:7.1} ms)  output {:3} in {:7.1} ms  {}",
            r.latency_ms,
            r.usage.input_tokens,
            r.usage.cached_tokens,
            t.evaluated_tokens,
            t.prompt_ms,
            r.usage.output_tokens,
            t.gen_ms,
            match &r.outcome {
                Ok(a) => a.to_json().to_string(),
                Err(e) => format!("error: {e}"),
            }
        );
        if i > 0 {
            warm.push(r.latency_ms);
            gen_tok += r.usage.output_tokens;
            gen_ms += t.gen_ms;
        }
        eval_tok += t.evaluated_tokens;
        eval_ms += t.prompt_ms;
    }
    warm.sort_unstable();
    if !warm.is_empty() {
        println!(
            "median latency of a warm-prefix call: {} ms over {} calls; prompt {:.0} tok/s, generation {:.1} tok/s",
            warm[warm.len() / 2],
            warm.len(),
            eval_tok as f64 / (eval_ms / 1e3),
            gen_tok as f64 / (gen_ms / 1e3)
        );
    }
}
