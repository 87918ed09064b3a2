//! Prompt and generation throughput of the local model.
//!
//! `cargo run --release -p colt-llm-local --example bench [-- n_threads [q4_0]]`
//! (`q4_0`: load the model file's Q4_0 conversion)

use colt_llm_local::{CompletionRequest, LocalModel, LocalModelConfig};

fn main() {
    let mut cfg = LocalModelConfig::default();
    if let Some(t) = std::env::args().nth(1) {
        cfg.n_threads = t.parse().expect("n_threads");
    }
    cfg.q4_0 = std::env::args().nth(2).is_some_and(|a| a == "q4_0");
    let t = std::time::Instant::now();
    let mut model = match LocalModel::load(&cfg) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "model {} ({} params), threads {}, load {:.0} ms",
        cfg.path.display(),
        model.param_count(),
        cfg.n_threads,
        t.elapsed().as_secs_f64() * 1e3
    );

    let prefix: String = (0..40)
        .map(|i| {
            format!(
                "for i{i} in 0..{} {{ A[i{i}] = B[i{i}] * {i}.0; }}\n",
                16 * (i + 1)
            )
        })
        .collect();
    let grammar = r#"root ::= "{\"transformations\":[" t ("," t)* "],\"next_model\":" ("\"a\"" | "\"b\"") "}"
t ::= "\"tile\"" | "\"unroll\"" | "\"vectorize\"" | "\"parallel\"""#;
    let cases = [
        ("cold prompt, free text", "Summary:", None, 64),
        ("warm prefix, free text", "In short:", None, 64),
        (
            "warm prefix, grammar",
            "Answer as JSON:",
            Some(grammar.to_string()),
            64,
        ),
    ];
    for (name, suffix, grammar, max_tokens) in cases {
        let req = CompletionRequest {
            prefix: prefix.clone(),
            record: String::new(),
            suffix: suffix.into(),
            grammar,
            max_tokens,
            temperature: 0.7,
            seed: 7,
            time_limit: None,
            forcing: None,
            ..CompletionRequest::default()
        };
        let c = model.complete(&req).expect("completion");
        println!(
            "{name:24} prompt {:4} tok (reused {:4}, evaluated {:4}) in {:7.1} ms = {:7.1} tok/s | \
             gen {:3} tok in {:7.1} ms = {:6.1} tok/s | {:?}",
            c.prompt_tokens,
            c.reused_tokens,
            c.evaluated_tokens,
            c.prompt_ms,
            c.evaluated_tokens as f64 / (c.prompt_ms / 1e3),
            c.output_tokens,
            c.gen_ms,
            c.output_tokens as f64 / (c.gen_ms / 1e3),
            c.finish,
        );
        println!("    {:?}", c.text);
    }
}
