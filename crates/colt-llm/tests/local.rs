//! The embedded model (feature `local`) through the call API: a grammar-constrained joint
//! action over a small vocabulary, and a second call with the same stable prefix that
//! reuses the prefix's KV cache; `colt models check` on the default bucket of the two
//! embedded models. Needs the model files: `scripts/setup-model.sh` installs them (or set
//! `COLT_MODEL_PATH` / `COLT_SMOLLM2_PATH`); without them these tests fail and say so.
#![cfg(feature = "local")]

use colt_llm::{
    ActionSpec, Bucket, LlmClient, Request, Role, Vocabulary, answer_format_instructions,
    models_check,
};

fn require_model() {
    let path = colt_llm_local::default_model_path();
    assert!(
        path.is_file(),
        "the embedded model is not installed at {}: run scripts/setup-model.sh (or set COLT_MODEL_PATH to the GGUF file)",
        path.display()
    );
}

fn require_smollm2() {
    let path = colt_llm::config::smollm2_model_path();
    assert!(
        path.is_file(),
        "the small embedded model is not installed at {}: run scripts/setup-model.sh (or set COLT_SMOLLM2_PATH to the GGUF file)",
        path.display()
    );
}

fn vocab() -> Vocabulary {
    Vocabulary::new(vec![
        ActionSpec::new("tile", "split loop i into tiles of the given size")
            .param("size", [8, 16, 32]),
        ActionSpec::new("vectorize", "vectorise the innermost loop"),
        ActionSpec::new("parallel", "run the outer loop on all cores"),
        ActionSpec::new("unroll", "unroll the innermost loop").param("factor", [2, 4]),
    ])
}

#[test]
fn embedded_model_answers_a_valid_joint_action_and_reuses_the_prefix() {
    require_model();
    let bucket = Bucket::default_local();
    let models = vec!["gemma-3-270m".to_string(), "big-model".to_string()];
    let v = vocab();
    let prefix = format!(
        "You are a compiler expert. Propose schedule transformations for this loop nest and pick the model \
         that continues the search.\n\nfor i in 0..1024 {{ for j in 0..1024 {{ C[i, j] = A[i, j] * 2.0 }} }}\n\n{}",
        answer_format_instructions(&v, &models, 2)
    );
    let client = LlmClient::new(&bucket, 5);
    let mut req = Request::new(
        prefix,
        "Current schedule: untouched. Trials so far: 0.",
        v.clone(),
        models.clone(),
        Role::Expand,
    );
    req.max_transformations = 2;
    let first = client.call("gemma-3-270m", &req);
    eprintln!("first: {first:?}");
    let a = first
        .outcome
        .as_ref()
        .expect("grammar-constrained answer is valid");
    assert!((1..=2).contains(&a.transformations.len()));
    assert!(models.contains(&a.next_model));
    for t in &a.transformations {
        let spec = v.get(&t.action).expect("action of the vocabulary");
        assert_eq!(t.args.len(), spec.params.len());
    }
    assert!(first.structured);
    assert_eq!((first.attempts, first.cost_usd), (1, 0.0));
    assert!(
        first.usage.input_tokens > 100 && first.usage.output_tokens > 0,
        "{:?}",
        first.usage
    );
    let t = first.timing.expect("the embedded model reports its timing");
    assert_eq!(
        t.evaluated_tokens,
        first.usage.input_tokens - first.usage.cached_tokens
    );

    req.suffix =
        "Current schedule: tile(size=16). Trials so far: 4; the last one was 1.3x faster.".into();
    req.seed = 2;
    req.role = Role::CourseAlteration;
    let second = client.call("gemma-3-270m", &req);
    eprintln!("second: {second:?}");
    assert!(second.is_ok(), "{:?}", second.outcome);
    let (prompt, reused) = (second.usage.input_tokens, second.usage.cached_tokens);
    assert!(
        reused as f64 >= 0.8 * prompt as f64,
        "reused {reused} of {prompt} prompt tokens"
    );
    assert_eq!(second.timing.unwrap().evaluated_tokens, prompt - reused);
    let stats = &client.stats()["gemma-3-270m"];
    assert_eq!(
        (
            stats.ok,
            stats.by_role["expand"],
            stats.by_role["course_alteration"]
        ),
        (2, 1, 1)
    );
}

#[test]
fn models_check_with_the_default_bucket() {
    require_model();
    require_smollm2();
    let results = models_check(&Bucket::default_local(), 1);
    eprintln!("{}", colt_llm::check_text(&results));
    assert_eq!(results.len(), 2);
    for r in &results {
        assert!(r.valid, "{}: {:?}", r.name, r.error);
        assert!(
            r.reuse_share >= 0.8,
            "{}: reuse share {} ({} of {})",
            r.name,
            r.reuse_share,
            r.reused_tokens,
            r.prompt_tokens
        );
    }
    let json = colt_llm::check_json(&results);
    assert!(
        json.starts_with(r#"{"models":[{"name":"smollm2-135m","valid":true,"latency_ms":"#),
        "{json}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (
            v["models"][0]["params"].as_f64(),
            v["models"][1]["name"].as_str(),
            v["models"][1]["params"].as_f64()
        ),
        (Some(135e6), Some("gemma-3-270m"), Some(270e6))
    );
}
