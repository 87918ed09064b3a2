//! Tests against the real model. They need the GGUF file: `scripts/setup-model.sh`
//! installs it (or set `COLT_MODEL_PATH`); without it they fail and say so.

use colt_llm_local::{
    CompletionRequest, Finish, Forced, Forcing, LocalError, LocalModel, LocalModelConfig,
};

const GRAMMAR: &str = r#"
root  ::= "{\"transformations\":[" trans ("," trans)* "],\"next_model\":" model "}"
trans ::= "\"tile\"" | "\"unroll\"" | "\"vectorize\"" | "\"parallel\"" | "\"reorder\""
model ::= "\"a\"" | "\"b\""
"#;

const ALLOWED: [&str; 5] = ["tile", "unroll", "vectorize", "parallel", "reorder"];

fn load() -> LocalModel {
    let cfg = LocalModelConfig {
        n_ctx: 2048,
        ..LocalModelConfig::default()
    };
    assert!(
        cfg.path.is_file(),
        "the model is not installed at {}: run scripts/setup-model.sh (or set COLT_MODEL_PATH to the GGUF file)",
        cfg.path.display()
    );
    LocalModel::load(&cfg).expect("model loads")
}

/// A long, stable prefix (~400 tokens) so that the reuse ratio is meaningful.
fn long_prefix() -> String {
    let mut s = String::from(
        "You are a compiler scheduling assistant. Given a loop nest, answer with a JSON object \
         listing transformations to apply and which model should think next.\n\n",
    );
    for i in 0..12 {
        s.push_str(&format!(
            "for i{i} in 0..{n} {{ for j{i} in 0..{m} {{ C[i{i}, j{i}] += A[i{i}, k] * B[k, j{i}]; }} }}\n",
            n = 64 << (i % 4),
            m = 32 << (i % 3),
        ));
    }
    s.push_str(
        "\nExample answer: {\"transformations\":[\"tile\",\"vectorize\"],\"next_model\":\"b\"}\n\n",
    );
    s
}

fn check_answer(text: &str) {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let obj = v.as_object().expect("object");
    assert_eq!(obj.len(), 2, "{text}");
    let ts = obj["transformations"].as_array().expect("array");
    assert!(!ts.is_empty());
    for t in ts {
        assert!(ALLOWED.contains(&t.as_str().expect("string")), "{text}");
    }
    assert!(
        ["a", "b"].contains(&obj["next_model"].as_str().expect("string")),
        "{text}"
    );
}

#[test]
fn grammar_answer_and_prefix_reuse() {
    let mut model = load();
    assert!(model.param_count() > 200_000_000, "{}", model.param_count());

    let prefix = long_prefix();
    let req = CompletionRequest {
        prefix: prefix.clone(),
        record: String::new(),
        suffix: "Loop nest 1: answer:".into(),
        grammar: Some(GRAMMAR.into()),
        max_tokens: 64,
        temperature: 0.0,
        seed: 1,
        time_limit: None,
        forcing: None,
        ..CompletionRequest::default()
    };
    let first = model.complete(&req).expect("first completion");
    eprintln!("first: {first:?}");
    assert!(
        first.prompt_tokens >= 300,
        "prefix too short: {}",
        first.prompt_tokens
    );
    assert_eq!(first.reused_tokens, 0);
    assert_eq!(first.evaluated_tokens, first.prompt_tokens);
    assert_eq!(first.finish, Finish::Stop, "{first:?}");
    check_answer(&first.text);

    let second = model
        .complete(&CompletionRequest {
            suffix: "Loop nest 7: answer:".into(),
            temperature: 0.8,
            seed: 42,
            ..req.clone()
        })
        .expect("second completion");
    eprintln!("second: {second:?}");
    check_answer(&second.text);
    assert!(
        second.reused_tokens as f64 >= 0.8 * second.prompt_tokens as f64,
        "reused {} of {}",
        second.reused_tokens,
        second.prompt_tokens
    );
    assert_eq!(
        second.evaluated_tokens,
        second.prompt_tokens - second.reused_tokens
    );

    // The first prompt again: the cache holds the second call's prompt, so the prefix and
    // the common start of the suffix are reused; greedy decoding on a partly reused cache
    // gives the first call's answer.
    let third = model.complete(&req).expect("third completion");
    assert!(
        third.reused_tokens >= second.reused_tokens
            && third.reused_tokens < third.prompt_tokens - 1,
        "{third:?}"
    );
    assert_eq!(third.text, first.text);
    // And once more: now everything but the last prompt token is reused.
    let fourth = model.complete(&req).expect("fourth completion");
    assert_eq!(fourth.reused_tokens, fourth.prompt_tokens - 1);
    assert_eq!(fourth.evaluated_tokens, 1);
    assert_eq!(fourth.text, first.text);
}

/// An append-only record between prefix and question: a call whose record extends the
/// previous call's evaluates only the new lines and the question, whatever the lines
/// hold (line-wise tokenisation keeps earlier tokens fixed).
#[test]
fn append_only_record_reuses_everything_before_the_new_lines() {
    let mut model = load();
    let lines: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "n{i} from n{} by small: unroll(stage=s{i}, step={}) | predicted 0.{i:02}\n",
                i / 2,
                16 << (i % 3)
            )
        })
        .collect();
    let ask = |model: &mut LocalModel, n: usize, q: &str| {
        model
            .complete(&CompletionRequest {
                prefix: long_prefix(),
                record: lines[..n].concat(),
                suffix: q.into(),
                max_tokens: 2,
                ..CompletionRequest::default()
            })
            .expect("completion")
    };
    let first = ask(&mut model, 30, "Question about n29:");
    let second = ask(&mut model, 40, "Question about n39:");
    // Everything the first call held up to its question (a few tokens) is reused.
    let held_before_question = first.prompt_tokens - 12;
    assert!(
        second.reused_tokens >= held_before_question,
        "{first:?}\n{second:?}"
    );
    assert!(
        second.evaluated_tokens < second.prompt_tokens / 3,
        "{second:?}"
    );
}

#[test]
fn free_text_stops_at_max_tokens_and_errors_are_typed() {
    let mut model = load();
    let req = CompletionRequest {
        prefix: "The quick brown fox".into(),
        max_tokens: 5,
        ..CompletionRequest::default()
    };
    let c = model.complete(&req).expect("completion");
    assert!(c.output_tokens <= 5);
    if c.finish == Finish::Length {
        assert_eq!(c.output_tokens, 5);
    }

    let bad = CompletionRequest {
        grammar: Some("root ::= (".into()),
        ..req.clone()
    };
    assert!(matches!(model.complete(&bad), Err(LocalError::Grammar(_))));

    let huge = CompletionRequest {
        max_tokens: 100_000,
        ..req.clone()
    };
    assert!(matches!(
        model.complete(&huge),
        Err(LocalError::ContextOverflow { n_ctx: 2048, .. })
    ));
    let slow = CompletionRequest {
        max_tokens: 200,
        time_limit: Some(std::time::Duration::ZERO),
        ..req.clone()
    };
    assert!(matches!(
        model.complete(&slow),
        Err(LocalError::Timeout { ms: 0 })
    ));
    // The model still works after errors.
    model.complete(&req).expect("completion after errors");
}

/// Jump-forward: text the grammar forces is appended, not sampled, and generation ends
/// once the answer is complete; the answer is one the grammar admits either way.
#[test]
fn forced_text_is_appended_without_sampling() {
    const ANSWERS: [&str; 2] = [
        "{\"next_model\":\"small-model-number-one\"}",
        "{\"next_model\":\"bigger-model-number-two\"}",
    ];
    let grammar = format!(
        "root ::= {}",
        ANSWERS
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let forcing = Forcing::new(|so_far: &str| {
        let c: Vec<&str> = ANSWERS
            .iter()
            .copied()
            .filter(|a| a.starts_with(so_far))
            .collect();
        let Some(first) = c.first() else {
            return Forced::default();
        };
        let mut len = first.len();
        for a in &c[1..] {
            len = first
                .bytes()
                .zip(a.bytes())
                .take(len)
                .take_while(|(x, y)| x == y)
                .count();
        }
        Forced {
            text: first[so_far.len().min(len)..len].to_string(),
            complete: c.len() == 1,
        }
    });
    let mut model = load();
    let req = CompletionRequest {
        prefix: long_prefix(),
        suffix: "Which model should think next? Answer:".into(),
        grammar: Some(grammar),
        max_tokens: 48,
        ..CompletionRequest::default()
    };
    let plain = model.complete(&req).expect("plain");
    let jumped = model
        .complete(&CompletionRequest {
            forcing: Some(forcing),
            ..req.clone()
        })
        .expect("forced");
    eprintln!("plain: {plain:?}\nforced: {jumped:?}");
    for c in [&plain, &jumped] {
        assert!(ANSWERS.contains(&c.text.as_str()), "{c:?}");
        assert_eq!(c.finish, Finish::Stop, "{c:?}");
    }
    assert_eq!(plain.forced_tokens, 0);
    // `{"next_model":"` is forced at once, and after the first letter of a name the rest.
    assert!(jumped.forced_tokens >= 4, "{jumped:?}");
    assert!(
        jumped.output_tokens - jumped.forced_tokens <= 3,
        "sampled only where the answers differ: {jumped:?}"
    );
    assert!(plain.output_tokens >= 8, "{plain:?}");
}

#[test]
fn two_models_in_one_process_and_send() {
    let a = load();
    let mut b = load();
    let handle = std::thread::spawn(move || {
        let mut a = a;
        let req = CompletionRequest {
            prefix: "1, 2, 3,".into(),
            max_tokens: 3,
            ..Default::default()
        };
        a.complete(&req).map(|c| c.output_tokens)
    });
    let req = CompletionRequest {
        prefix: "a, b, c,".into(),
        max_tokens: 3,
        ..Default::default()
    };
    b.complete(&req).expect("model b");
    handle.join().unwrap().expect("model a on another thread");
}

#[test]
fn missing_model_is_model_missing() {
    let cfg = LocalModelConfig {
        path: "/nonexistent/colt/model.gguf".into(),
        ..LocalModelConfig::default()
    };
    let err = LocalModel::load(&cfg).unwrap_err();
    assert!(
        matches!(&err, LocalError::ModelMissing { path } if path == &cfg.path),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("scripts/setup-model.sh") && !msg.contains('\n'),
        "{msg}"
    );
}

/// The Q4_0 conversion is made once, next to the source, loads, and answers; a second
/// load reuses the file. A missing source is one clear error.
#[test]
fn q4_0_conversion_is_made_once_and_loads() {
    use colt_llm_local::requant::{ensure_q4_0, q4_0_path};
    let src =
        colt_llm_local::default_model_path().with_file_name("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        src.is_file(),
        "SmolLM2 is not installed at {}: run scripts/setup-model.sh",
        src.display()
    );
    let dir = std::env::temp_dir().join(format!("colt-q4_0-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("small.Q4_1.gguf");
    std::fs::copy(&src, &copy).unwrap();
    let made = ensure_q4_0(&copy, 2).expect("conversion");
    assert_eq!(made, q4_0_path(&copy));
    assert_eq!(made.file_name().unwrap(), "small.Q4_1.q4_0.gguf");
    let size = std::fs::metadata(&made).unwrap().len();
    assert!(size > 1_000_000 && size < std::fs::metadata(&copy).unwrap().len());
    let stamp = std::fs::metadata(&made).unwrap().modified().unwrap();
    assert_eq!(ensure_q4_0(&copy, 2).unwrap(), made);
    assert_eq!(std::fs::metadata(&made).unwrap().modified().unwrap(), stamp);
    // Nothing but the source and the conversion is left in the folder.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    let cfg = LocalModelConfig {
        path: copy.clone(),
        n_ctx: 1024,
        q4_0: true,
        ..LocalModelConfig::default()
    };
    let mut m = LocalModel::load(&cfg).expect("converted model loads");
    let c = m
        .complete(&CompletionRequest {
            prefix: "Pick one: tile, unroll.".into(),
            suffix: "\nAnswer: ".into(),
            grammar: Some(GRAMMAR.into()),
            max_tokens: 48,
            ..CompletionRequest::default()
        })
        .expect("completion");
    assert!(c.text.starts_with("{\"transformations\":["), "{}", c.text);

    let missing = dir.join("absent.gguf");
    assert!(matches!(
        ensure_q4_0(&missing, 1),
        Err(LocalError::ModelMissing { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One call in a new context loaded with `cfg`.
fn ask(cfg: &LocalModelConfig, req: &CompletionRequest, what: &str) -> colt_llm_local::Completion {
    LocalModel::load(cfg).unwrap().complete(req).expect(what)
}

/// An empty prompt-state folder for the test named `tag`, the 2048-token configuration of
/// the installed model, and the same with that folder as its store.
fn state_store(tag: &str) -> (std::path::PathBuf, LocalModelConfig, LocalModelConfig) {
    let dir = std::env::temp_dir().join(format!("colt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = LocalModelConfig {
        n_ctx: 2048,
        ..LocalModelConfig::default()
    };
    assert!(
        base.path.is_file(),
        "the model is not installed at {}",
        base.path.display()
    );
    let with_store = LocalModelConfig {
        kv_dir: Some(dir.clone()),
        ..base.clone()
    };
    (dir, base, with_store)
}

/// A second process (here: a second context) with the same prompt prefix loads the
/// first one's stored state instead of evaluating the prefix, and answers exactly as a
/// context that evaluated everything; a state whose tokens do not match is ignored.
#[test]
fn a_stored_prompt_state_is_reused_by_the_next_context_and_answers_the_same() {
    let (dir, base, with_store) = state_store("kvstate");
    let req = |suffix: &str| CompletionRequest {
        prefix: long_prefix(),
        record: "n1 measured 10 us\nn2 measured 8 us\n".into(),
        suffix: suffix.into(),
        grammar: Some(GRAMMAR.into()),
        max_tokens: 48,
        ..CompletionRequest::default()
    };
    let first = ask(&with_store, &req("Loop nest 3, answer:"), "first call");
    assert_eq!(first.reused_tokens, 0);
    let states: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(states.len(), 1, "one state stored");

    let second = ask(&with_store, &req("Loop nest 5, answer:"), "second call");
    assert!(
        second.reused_tokens > 300,
        "the prefix and record come from the stored state: {second:?}"
    );
    let fresh = ask(&base, &req("Loop nest 5, answer:"), "fresh call");
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(
        second.text, fresh.text,
        "a restored state answers as a fresh one"
    );

    // A corrupt state is dropped and the prompt evaluated in full.
    let path = states[0].path();
    std::fs::write(&path, b"not a state").unwrap();
    let third = ask(
        &with_store,
        &req("Loop nest 5, answer:"),
        "call after a corrupt state",
    );
    assert_eq!(third.reused_tokens, 0);
    assert_eq!(third.text, fresh.text);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The stem (what the prompts of every workload share) is stored apart from the prefix:
/// a later process asking about another workload loads it and evaluates only its own
/// prefix, record and question, and answers as a context that evaluated everything.
#[test]
fn a_stored_stem_state_serves_the_first_call_about_another_workload() {
    let (dir, base, with_store) = state_store("kvstem");
    let req = |workload: &str| CompletionRequest {
        stem: long_prefix(),
        prefix: format!("Workload {workload}: C[i, j] += A[i, k] * B[k, j] over 0..256.\n"),
        record: "n1 measured 10 us\n".into(),
        suffix: "Loop nest 2, answer:".into(),
        grammar: Some(GRAMMAR.into()),
        max_tokens: 48,
        ..CompletionRequest::default()
    };
    let first = ask(&with_store, &req("matmul"), "first call");
    assert_eq!(first.reused_tokens, 0);
    assert_eq!(first.evaluated_tokens, first.prompt_tokens);
    let stored = || std::fs::read_dir(&dir).unwrap().flatten().count();
    assert_eq!(stored(), 2, "the stem's state and the prefix's");

    let other = ask(
        &with_store,
        &req("batched matmul"),
        "call about another workload",
    );
    let fresh = ask(&base, &req("batched matmul"), "fresh call");
    assert!(
        other.reused_tokens > 300 && other.reused_tokens + 20 < other.prompt_tokens,
        "the stem comes from its stored state, the workload is evaluated: {other:?}"
    );
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(
        other.text, fresh.text,
        "a restored stem answers as a fresh one"
    );
    assert_eq!(stored(), 3, "the new prefix's state is stored too");
    std::fs::remove_dir_all(&dir).unwrap();
}
