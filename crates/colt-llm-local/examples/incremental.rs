//! Incremental prompt evaluation as the search does it: a cached prefix + record, then a
//! new question. `incremental PREFIX RECORD SUFFIX1 SUFFIX2 [q4_0]` (files).
use colt_llm_local::{CompletionRequest, LocalModel, LocalModelConfig};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let read = |i: usize| std::fs::read_to_string(&a[i]).expect("file");
    let cfg = LocalModelConfig {
        q4_0: a.get(5).is_some_and(|x| x == "q4_0"),
        ..LocalModelConfig::default()
    };
    let mut model = LocalModel::load(&cfg).expect("load");
    let (prefix, record) = (read(1), read(2));
    for (i, suffix) in [read(3), read(4), read(3), read(4)].into_iter().enumerate() {
        let req = CompletionRequest {
            prefix: prefix.clone(),
            record: record.clone(),
            suffix,
            grammar: None,
            max_tokens: 1,
            temperature: 0.0,
            seed: 7,
            time_limit: None,
            forcing: None,
            ..CompletionRequest::default()
        };
        let c = model.complete(&req).expect("completion");
        println!(
            "call {i}: prompt {} reused {} evaluated {} in {:.0} ms = {:.0} tok/s",
            c.prompt_tokens,
            c.reused_tokens,
            c.evaluated_tokens,
            c.prompt_ms,
            c.evaluated_tokens as f64 / (c.prompt_ms / 1e3)
        );
    }
}
