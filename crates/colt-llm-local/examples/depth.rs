//! Prompt-evaluation speed against the depth of the context already in the KV cache:
//! how much a long cached prefix slows the evaluation of the record lines added after it.
//!
//! `cargo run --release -p colt-llm-local --example depth -- MODEL.gguf [q4_0]`

use colt_llm_local::{CompletionRequest, LocalModel, LocalModelConfig};

fn main() {
    let mut cfg = LocalModelConfig::default();
    if let Some(p) = std::env::args().nth(1) {
        cfg.path = p.into();
    }
    cfg.q4_0 = std::env::args().nth(2).is_some_and(|a| a == "q4_0");
    let mut model = LocalModel::load(&cfg).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    println!("{} ({} params)", cfg.path.display(), model.param_count());
    let line = |i: usize| {
        format!(
            "n{i} from n{} by small: unroll(stage=s{}, step=64) | predicted 0.{:02}\n",
            i / 2,
            i % 7,
            i % 97
        )
    };
    // One token of answer: only the prompt's evaluation is of interest.
    let request = |record: &str| CompletionRequest {
        prefix: "Search record:\n".into(),
        record: record.to_string(),
        suffix: "Next:".into(),
        grammar: None,
        max_tokens: 1,
        temperature: 0.0,
        seed: 1,
        time_limit: None,
        forcing: None,
        ..CompletionRequest::default()
    };
    // Grow the cached record in steps; after each step evaluate the same number of new lines.
    let mut record = String::new();
    let mut next = 0;
    for depth_lines in [0usize, 40, 80, 120, 160, 200] {
        while next < depth_lines {
            record.push_str(&line(next));
            next += 1;
        }
        // Evaluate the record up to this depth (not timed), then time the new lines.
        let c0 = model.complete(&request(&record)).expect("warm");
        let mut grown = record.clone();
        for k in 0..10 {
            grown.push_str(&line(1000 + k));
        }
        let c = model.complete(&request(&grown)).expect("timed");
        println!(
            "depth {:5} tok: evaluated {:4} tok in {:7.1} ms = {:6.1} tok/s",
            c0.prompt_tokens,
            c.evaluated_tokens,
            c.prompt_ms,
            c.evaluated_tokens as f64 / (c.prompt_ms / 1e3)
        );
    }
}
