//! The model bucket: parsing, one-line errors naming model and field, φ_small, the largest
//! model, prices, defaults and the embedded fallback.

use colt_llm::{Bucket, ConfigError, ModelConfig, Prices, ProviderKind, RetryPolicy};
use proptest::prelude::*;

const BUCKET: &str = r#"
[search]
strategy = "colt"   # other tables of colt.toml are not the bucket's business

[[models]]
name = "gemma-3-270m"
provider = "local"
params = "270M"

[[models]]
name = "qwen3-8b"
provider = "openai"
endpoint = "http://127.0.0.1:8080/v1/"
model = "Qwen/Qwen3-8B"
params = 8e9
prices = { input = 0.05, output = 0.25 }
json_schema = true

[[models]]
name = "gpt-big"
provider = "openai"
model = "gpt-big-2025"
api_key_env = "OPENAI_API_KEY"
params = "1.8T"
prices = { input = 1.25, cached_input = 0.125, output = 10.0 }
max_output_tokens = 300
temperature = 0.3
timeout_s = 45
retry = { max_attempts = 5, base_backoff_ms = 200, max_backoff_ms = 8000 }
failed_calls_spend_budget = true
max_tokens_field = "max_completion_tokens"

[[models]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-5"
api_key_env = "ANTHROPIC_API_KEY"
params = "400B"
prices = { input = 3.0, cached_input = 0.3, cache_write = 3.75, output = 15.0 }
"#;

#[test]
fn a_full_bucket_parses_with_defaults() {
    let b = Bucket::from_toml_str(BUCKET).unwrap();
    assert_eq!(b.names(), ["gemma-3-270m", "qwen3-8b", "gpt-big", "claude"]);
    let local = b.model("gemma-3-270m").unwrap();
    assert_eq!(
        (local.provider, local.params, local.model.as_str()),
        (ProviderKind::Local, 270e6, "gemma-3-270m")
    );
    assert_eq!(local.prices.input + local.prices.output, 0.0);
    let q = b.model("qwen3-8b").unwrap();
    assert_eq!(q.endpoint, "http://127.0.0.1:8080/v1");
    assert!(q.json_schema && q.api_key_env.is_none());
    assert_eq!(
        q.prices.cached_input, 0.05,
        "cached input defaults to the input price"
    );
    assert_eq!(
        (
            q.max_output_tokens,
            q.timeout_s,
            q.retry.max_attempts,
            q.failed_calls_spend_budget
        ),
        (512, 60.0, 4, false)
    );
    let g = b.model("gpt-big").unwrap();
    assert_eq!(g.endpoint, "https://api.openai.com");
    assert_eq!(
        (g.prices.input, g.prices.cached_input, g.prices.output),
        (1.25, 0.125, 10.0)
    );
    assert_eq!(
        (g.max_output_tokens, g.temperature, g.timeout_s),
        (300, Some(0.3), 45.0)
    );
    assert_eq!(
        (
            g.retry.max_attempts,
            g.retry.base_backoff_ms,
            g.retry.max_backoff_ms
        ),
        (5, 200, 8000)
    );
    assert!(g.failed_calls_spend_budget);
    assert_eq!(g.max_tokens_field, "max_completion_tokens");
    let c = b.model("claude").unwrap();
    assert_eq!(
        (c.prices.cache_write, c.endpoint.as_str()),
        (3.75, "https://api.anthropic.com")
    );
}

#[test]
fn phi_small_and_largest() {
    let b = Bucket::from_toml_str(BUCKET).unwrap();
    assert_eq!(b.largest(), "gpt-big");
    assert_eq!(b.phi_small("gpt-big"), 0.0);
    assert_eq!(b.phi_small("gemma-3-270m"), 1.0);
    let (lmax, lmin) = (1.8e12f64.ln(), 270e6f64.ln());
    assert!((b.phi_small("qwen3-8b") - (lmax - 8e9f64.ln()) / (lmax - lmin)).abs() < 1e-12);
    assert!(b.phi_small("claude") < b.phi_small("qwen3-8b"));
    assert_eq!(b.phi_small("no-such-model"), 0.0);

    // Named explicitly: the model with the most parameters.
    let b = Bucket::from_toml_str(&format!("[bucket]\nlargest = \"gpt-big\"\n{BUCKET}")).unwrap();
    assert_eq!((b.largest(), b.phi_small("gpt-big")), ("gpt-big", 0.0));

    // Equal counts: φ_small is 0 for every model; the first is the largest.
    let two = "[[models]]\nname = \"a\"\nprovider = \"local\"\nparams = \"1B\"\n[[models]]\nname = \"b\"\nprovider = \"local\"\nparams = 1e9\n";
    let b = Bucket::from_toml_str(two).unwrap();
    assert_eq!(
        (b.phi_small("a"), b.phi_small("b"), b.largest()),
        (0.0, 0.0, "a")
    );
    // A tie for the most parameters may be named.
    let b = Bucket::from_toml_str(&format!("[bucket]\nlargest = \"b\"\n{two}")).unwrap();
    assert_eq!((b.largest(), b.phi_small("b")), ("b", 0.0));
}

/// φ_small is computed from parameter counts: a course-alteration target that is not the
/// biggest model would disagree with it (φ_small = 0 for another model), so the config is
/// refused with one line naming both models.
#[test]
fn largest_naming_a_smaller_model_is_refused() {
    let e = err(&format!("[bucket]\nlargest = \"claude\"\n{BUCKET}"));
    assert_eq!(
        e,
        r#"bucket: field "largest": "claude" (400B params) is not the model with the most parameters ("gpt-big", 1.8T); phi_small is computed from parameter counts, so name the biggest model or correct its params"#
    );
    // Also against the embedded default bucket (a colt.toml with only [bucket]).
    let e = Bucket::from_colt_toml("[bucket]\nlargest = \"smollm2-135m\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"smollm2-135m\" (135M params) is not the model with the most parameters (\"gemma-3-270m\", 270M)"),
        "{e}"
    );
    let b = Bucket::from_colt_toml("[bucket]\nlargest = \"gemma-3-270m\"\n").unwrap();
    assert_eq!(b.largest(), "gemma-3-270m");
}

fn err(text: &str) -> String {
    let e = Bucket::from_toml_str(text).unwrap_err().to_string();
    assert!(!e.contains('\n'), "one line: {e:?}");
    e
}

fn model(body: &str) -> String {
    format!("[[models]]\nname = \"x\"\n{body}")
}

#[test]
fn bad_configs_are_one_line_naming_model_and_field() {
    let p = "provider = \"openai\"\nmodel = \"m\"\nparams = \"8B\"\nprices = { input = 1, output = 2 }\n";
    Bucket::from_toml_str(&model(p)).expect("the base case is fine");
    let cases: &[(&str, &str)] = &[
        (
            "model = \"m\"\nparams = 1",
            r#"model "x": field "provider": missing"#,
        ),
        (
            "provider = \"gemini\"\nparams = 1",
            r#"model "x": field "provider": unknown provider "gemini""#,
        ),
        (
            "provider = \"openai\"\nparams = 1\nprices = { input = 1, output = 2 }",
            r#"model "x": field "model": missing"#,
        ),
        (
            "provider = \"local\"",
            r#"model "x": field "params": missing"#,
        ),
        (
            "provider = \"local\"\nparams = \"lots\"",
            r#"model "x": field "params": expected a positive count"#,
        ),
        (
            "provider = \"local\"\nparams = -5",
            r#"model "x": field "params": expected a positive count"#,
        ),
        (
            "provider = \"openai\"\nmodel = \"m\"\nparams = 1",
            r#"model "x": field "prices": missing"#,
        ),
        (
            "provider = \"openai\"\nmodel = \"m\"\nparams = 1\nprices = { input = 1 }",
            r#"model "x": field "prices.output": missing"#,
        ),
        (
            "provider = \"openai\"\nmodel = \"m\"\nparams = 1\nprices = { input = -1, output = 1 }",
            r#"model "x": field "prices.input": expected a non-negative number"#,
        ),
        (
            "provider = \"openai\"\nmodel = \"m\"\nparams = 1\nprices = { input = 1, output = 1, extra = 2 }",
            r#"model "x": field "prices.extra": unknown field"#,
        ),
        (
            "provider = \"local\"\nparams = 1\ntimeout_s = 0",
            r#"model "x": field "timeout_s": expected a positive number"#,
        ),
        (
            "provider = \"local\"\nparams = 1\ntimeout_s = \"soon\"",
            r#"model "x": field "timeout_s": expected a number, found string"#,
        ),
        (
            "provider = \"local\"\nparams = 1\ntemperature = 3.5",
            r#"model "x": field "temperature": expected a number in 0..=2"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nmax_output_tokens = 0",
            r#"model "x": field "max_output_tokens": expected an integer in 1..=1000000"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nretry = { max_attempts = 0 }",
            r#"model "x": field "retry.max_attempts": expected an integer in 1..=100"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nretry = { base_backoff_ms = 100, max_backoff_ms = 10 }",
            r#"model "x": field "retry.max_backoff_ms": must be >= retry.base_backoff_ms"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nretry = 3",
            r#"model "x": field "retry": expected a table"#,
        ),
        (
            "provider = \"local\"\nparams = 1\njson_schema = \"yes\"",
            r#"model "x": field "json_schema": expected true or false"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nfailed_calls_spend_budget = 1",
            r#"model "x": field "failed_calls_spend_budget": expected true or false"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nendpoint = \"localhost:8080\"",
            r#"model "x": field "endpoint": expected an http:// or https:// URL"#,
        ),
        (
            "provider = \"local\"\nparams = 1\nmax_tokens_field = \"limit\"",
            r#"model "x": field "max_tokens_field""#,
        ),
        (
            "provider = \"local\"\nparams = 1\nn_ctx = 0",
            r#"model "x": field "n_ctx": expected a positive integer"#,
        ),
        (
            "provider = \"local\"\nparams = 1\ncolour = \"blue\"",
            r#"model "x": field "colour": unknown field"#,
        ),
    ];
    for (body, want) in cases {
        let e = err(&model(body));
        assert!(
            e.starts_with(want),
            "{body}\n  got:  {e}\n  want: {want}..."
        );
    }
}

#[test]
fn a_key_in_place_of_the_variable_name_is_refused_without_echoing_it() {
    let e = err(&model(
        "provider = \"openai\"\nmodel = \"m\"\nparams = 1\nprices = { input = 1, output = 1 }\napi_key_env = \"sk-proj-AbC123\"",
    ));
    assert!(
        e.starts_with(
            r#"model "x": field "api_key_env": expected the NAME of an environment variable"#
        ),
        "{e}"
    );
    assert!(!e.contains("AbC123"), "{e}");
}

#[test]
fn bucket_level_errors() {
    assert_eq!(
        err(""),
        r#"bucket: field "models": missing: add at least one [[models]] entry"#
    );
    assert!(err("models = []").contains("the bucket is empty"));
    let one = "[[models]]\nname = \"a\"\nprovider = \"local\"\nparams = 1\n";
    assert_eq!(
        err(&format!("{one}{one}")),
        r#"model "a": field "name": defined twice"#
    );
    assert_eq!(
        err(&format!("[bucket]\nlargest = \"zz\"\n{one}")),
        r#"bucket: field "largest": "zz" is not a model of the bucket"#
    );
    assert!(
        err(&format!("[bucket]\ncooldown_s = -1\n{one}"))
            .starts_with(r#"bucket: field "cooldown_s""#)
    );
    assert!(
        err(&format!("[bucket]\nspeed = 1\n{one}"))
            .starts_with(r#"bucket: field "speed": unknown field"#)
    );
    assert!(
        err("[[models]]\nprovider = \"local\"")
            .starts_with(r##"model "#1": field "name": missing"##)
    );
    assert!(
        err("[[models]]\nname = \"a b\"\nprovider = \"local\"\nparams = 1")
            .starts_with(r#"model "a b": field "name""#)
    );
    let e = err("[[models]]\nname = \"a\"\nprovider = \"local\n");
    assert!(e.starts_with("config is not valid TOML: line 3:"), "{e}");
}

#[test]
fn cooldown_settings() {
    let b = Bucket::from_toml_str("[bucket]\ncooldown_after_failures = 5\ncooldown_s = 2.5\ncooldown_counts_invalid_answers = true\n[[models]]\nname = \"a\"\nprovider = \"local\"\nparams = 1\n").unwrap();
    let c = b.config.cooldown;
    assert_eq!(
        (c.after_failures, c.seconds, c.count_invalid_answers),
        (5, 2.5, true)
    );
    let d = Bucket::default_local().config.cooldown;
    assert_eq!(
        (d.after_failures, d.seconds, d.count_invalid_answers),
        (3, 60.0, false)
    );
}

#[test]
fn without_models_the_two_embedded_models_are_the_default() {
    let b = Bucket::from_colt_toml("[search]\nstrategy = \"colt\"\n").unwrap();
    assert_eq!(b, Bucket::default_local());
    assert_eq!(b.names(), ["smollm2-135m", "gemma-3-270m"]);
    assert!(b.models().iter().all(|m| m.provider == ProviderKind::Local));
    assert_eq!(b.largest(), "gemma-3-270m");
    let (small, large) = (
        b.model("smollm2-135m").unwrap(),
        b.model("gemma-3-270m").unwrap(),
    );
    assert_eq!((small.params, large.params), (135e6, 270e6));
    assert_eq!(
        (b.phi_small("smollm2-135m"), b.phi_small("gemma-3-270m")),
        (1.0, 0.0)
    );
    // Each has its own file: SmolLM2's is named (next to Gemma's in the colt cache
    // directory, unless $COLT_SMOLLM2_PATH says otherwise), Gemma's is the local crate's default.
    let path = small.local.path.as_deref().expect("SmolLM2's path");
    assert_eq!(
        std::path::Path::new(path),
        colt_llm::config::smollm2_model_path()
    );
    if std::env::var_os("COLT_SMOLLM2_PATH").is_none() {
        assert_eq!(
            std::path::Path::new(path),
            colt_llm::config::model_cache_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf")
        );
    }
    assert_eq!(large.local.path, None);
    let b = Bucket::from_colt_toml("[bucket]\ncooldown_s = 5\n").unwrap();
    assert_eq!((b.names().len(), b.config.cooldown.seconds), (2, 5.0));
    assert!(Bucket::from_colt_toml("[bucket]\nlargest = \"gpt\"\n").is_err());
    let (b, notes) = Bucket::load(None).unwrap();
    assert_eq!((b, notes.len()), (Bucket::default_local(), 0));
    let e = Bucket::load(Some(std::path::Path::new("/nonexistent/colt.toml"))).unwrap_err();
    assert!(
        matches!(e, ConfigError::Io { .. })
            && e.to_string()
                .starts_with("cannot read config /nonexistent/colt.toml"),
        "{e}"
    );
}

#[test]
fn models_without_their_key_are_dropped_and_the_embedded_model_fills_in() {
    let remote = "[[models]]\nname = \"r\"\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"COLT_TEST_NEVER_SET_KEY\"\nparams = 1e9\nprices = { input = 1, output = 1 }\n";
    let b = Bucket::from_toml_str(remote).unwrap();
    let (avail, notes) = b.available_or_local();
    assert_eq!(avail, Bucket::default_local());
    assert_eq!(
        notes[0],
        "model \"r\" skipped: environment variable COLT_TEST_NEVER_SET_KEY is not set"
    );

    assert!(
        notes[1].contains("using the embedded models"),
        "{}",
        notes[1]
    );

    let both = format!("{remote}[[models]]\nname = \"l\"\nprovider = \"local\"\nparams = 1e8\n");
    let (avail, notes) = Bucket::from_toml_str(&both).unwrap().available_or_local();
    assert_eq!((avail.names(), notes.len()), (vec!["l".to_string()], 1));
}

#[test]
fn a_bucket_written_as_toml_reads_back_unchanged() {
    for b in [
        Bucket::from_toml_str(BUCKET).unwrap(),
        Bucket::default_local(),
    ] {
        let text = toml::to_string(&b.config.to_toml()).unwrap();
        assert_eq!(Bucket::from_toml_str(&text).unwrap(), b, "{text}");
    }
    let mut b = Bucket::from_toml_str(BUCKET).unwrap();
    b.config.largest = Some("gpt-big".into());
    b.config.models[0].local.n_ctx = Some(4096);
    let text = toml::to_string(&b.config.to_toml()).unwrap();
    assert_eq!(Bucket::from_toml_str(&text).unwrap(), b, "{text}");
}

#[test]
fn models_list_json_of_the_default_bucket_has_two_sizes() {
    let v: serde_json::Value =
        serde_json::from_str(&colt_llm::models_list_json(&Bucket::default_local())).unwrap();
    assert_eq!(v["largest"], "gemma-3-270m");
    let ms = v["models"].as_array().unwrap();
    assert_eq!(ms.len(), 2);
    assert_eq!(
        (ms[0]["name"].as_str(), ms[0]["params"].as_f64()),
        (Some("smollm2-135m"), Some(135e6))
    );
    assert_eq!(
        (ms[1]["name"].as_str(), ms[1]["params"].as_f64()),
        (Some("gemma-3-270m"), Some(270e6))
    );
    assert_eq!(
        (ms[0]["largest"].as_bool(), ms[1]["largest"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(
        (ms[0]["phi_small"].as_f64(), ms[1]["phi_small"].as_f64()),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(
        (ms[0]["provider"].as_str(), ms[0]["params_label"].as_str()),
        (Some("local"), Some("135M"))
    );
    // Both embedded models load their Q4_0 conversions (llama.cpp's repacked kernels).
    assert!(
        Bucket::default_local()
            .config
            .models
            .iter()
            .all(|m| m.local.q4_0),
        "default bucket loads Q4_0 conversions"
    );
    let text = colt_llm::models_list(&Bucket::default_local());
    assert!(
        text.lines()
            .any(|l| l.starts_with("smollm2-135m ") && l.contains("135M")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("gemma-3-270m *") && l.contains("270M")),
        "{text}"
    );
}

#[test]
fn models_list_shows_phi_small_prices_and_the_largest() {
    let out = colt_llm::models_list(&Bucket::from_toml_str(BUCKET).unwrap());
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("name")
            && lines[0].contains("phi_small")
            && lines[0].contains("$cached/M")
    );
    let big = lines
        .iter()
        .find(|l| l.starts_with("gpt-big *"))
        .expect("largest marked");
    assert!(
        big.contains("1.8T")
            && big.contains("0.000")
            && big.contains("1.250")
            && big.contains("0.125")
            && big.contains("10.000"),
        "{big}"
    );
    let small = lines
        .iter()
        .find(|l| l.starts_with("gemma-3-270m"))
        .unwrap();
    assert!(small.contains("270M") && small.contains("1.000"), "{small}");
    assert!(out.contains("OPENAI_API_KEY"));
}

/// Serde refuses a key no struct has (`deny_unknown_fields`); the line names the key (with
/// its table) and lists the keys that are read there.
#[test]
fn an_unknown_field_is_refused_with_a_line_naming_it() {
    let base = "provider = \"openai\"\nmodel = \"m\"\nparams = 1\n";
    let prices = "prices = { input = 1, output = 2 }\n";
    assert_eq!(
        err(&model(&format!("{base}{prices}tempreature = 0.5"))),
        r#"model "x": field "tempreature": unknown field (expected one of: name, provider, endpoint, model, api_key_env, params, prices, max_output_tokens, temperature, timeout_s, retry, json_schema, max_tokens_field, failed_calls_spend_budget, schedule_in_question, path, q4_0, prefix_cache, n_ctx, n_threads, n_threads_batch, n_batch)"#
    );
    assert_eq!(
        err(&model(&format!(
            "{base}prices = {{ input = 1, output = 2, cached = 0.5 }}"
        ))),
        r#"model "x": field "prices.cached": unknown field (expected one of: input, cached_input, output, cache_write)"#
    );
    assert_eq!(
        err(&model(&format!("{base}{prices}retry = {{ attempts = 3 }}"))),
        r#"model "x": field "retry.attempts": unknown field (expected one of: max_attempts, base_backoff_ms, max_backoff_ms, max_retry_after_ms)"#
    );
    assert_eq!(
        err(&format!(
            "[bucket]\ncooldown = 5\n{}",
            model("provider = \"local\"\nparams = 1")
        )),
        r#"bucket: field "cooldown": unknown field (expected one of: largest, cooldown_after_failures, cooldown_s, cooldown_counts_invalid_answers)"#
    );
    // A model whose name is not usable yet is named by its place in the list.
    assert!(
        err("[[models]]\nprovider = \"local\"\nparams = 1\nsize = 2")
            .starts_with(r##"model "#1": field "size": unknown field (expected one of: name, "##)
    );
}

/// Every model of a bucket, written with `ModelConfig::to_toml` (as a table and as text),
/// reads back as the same model; so do the embedded defaults and a model with every
/// optional field set.
#[test]
fn a_model_written_as_toml_reads_back_unchanged() {
    let mut all = Bucket::from_toml_str(BUCKET).unwrap().config.models;
    all.extend(Bucket::default_local().config.models);
    let mut full = all[0].clone();
    full.endpoint = "http://127.0.0.1:8080".into();
    full.api_key_env = Some("LOCAL_KEY".into());
    full.local = colt_llm::config::LocalSettings {
        path: Some("/models/m.gguf".into()),
        n_ctx: Some(4096),
        n_threads: Some(4),
        n_threads_batch: Some(8),
        n_batch: Some(u32::MAX),
        q4_0: true,
        prefix_cache: false,
    };
    full.schedule_in_question = true;
    all.push(full);
    for m in all {
        assert_round_trip(&m);
    }
}

/// `m` written by `to_toml` reads back as `m`, from the table and from its text.
fn assert_round_trip(m: &ModelConfig) {
    let table = m.to_toml();
    assert_eq!(
        ModelConfig::from_table(0, &table).as_ref(),
        Ok(m),
        "{table}"
    );
    let text = toml::to_string(&table).unwrap();
    let back = ModelConfig::from_table(0, &text.parse().unwrap());
    assert_eq!(back.as_ref(), Ok(m), "{text}");
}

/// Valid models with every field drawn (optional ones present or not).
fn any_model() -> impl Strategy<Value = ModelConfig> {
    let who = (
        prop_oneof![
            Just(ProviderKind::OpenAi),
            Just(ProviderKind::Anthropic),
            Just(ProviderKind::Local)
        ],
        "[a-z0-9][a-z0-9._:/-]{0,12}",
        proptest::option::of("https?://[a-z]{1,8}(:[0-9]{2,4})?(/v1)?"),
        "[A-Za-z0-9][A-Za-z0-9/._-]{0,12}",
        proptest::option::of("[A-Z_][A-Z0-9_]{0,10}"),
        1.0f64..1e13,
    );
    let how = (
        [0.0f64..100.0, 0.0..100.0, 0.0..100.0, 0.0..100.0],
        1u32..=1_000_000,
        proptest::option::of(0.0f64..=2.0),
        0.001f64..1e4,
        (
            1u32..=100,
            0u64..1_000_000,
            0u64..1_000_000,
            0u64..10_000_000,
        ),
        any::<[bool; 6]>(),
    );
    let local = (
        proptest::option::of("[a-z/._-]{1,20}"),
        std::array::from_fn::<_, 4, _>(|_| proptest::option::of(1u32..=u32::MAX)),
    );
    (who, how, local).prop_map(|(who, how, local)| model_of(who, how, local))
}

/// Provider, name, endpoint, model id, key variable, parameter count.
type Who = (
    ProviderKind,
    String,
    Option<String>,
    String,
    Option<String>,
    f64,
);
/// Prices, output cap, temperature, timeout, retry, and six booleans.
type How = (
    [f64; 4],
    u32,
    Option<f64>,
    f64,
    (u32, u64, u64, u64),
    [bool; 6],
);
/// The embedded model's file and sizes.
type Local = (Option<String>, [Option<u32>; 4]);

/// A valid model from generated values (fixing the endpoint and the key variable that a
/// provider requires).
fn model_of(who: Who, how: How, local: Local) -> ModelConfig {
    let (provider, name, endpoint, model, api_key_env, params) = who;
    let (p, max_output_tokens, temperature, timeout_s, r, flags) = how;
    let endpoint = match (endpoint, provider) {
        (Some(e), _) => e,
        (None, ProviderKind::OpenAi) => "https://api.openai.com".into(),
        (None, ProviderKind::Anthropic) => "https://api.anthropic.com".into(),
        (None, ProviderKind::Local) => String::new(),
    };
    let api_key_env = match (api_key_env, provider) {
        (None, ProviderKind::Anthropic) => Some("ANTHROPIC_API_KEY".into()),
        (env, _) => env,
    };
    ModelConfig {
        name,
        provider,
        endpoint,
        model,
        api_key_env,
        params,
        prices: Prices {
            input: p[0],
            cached_input: p[1],
            output: p[2],
            cache_write: p[3],
        },
        max_output_tokens,
        temperature,
        timeout_s,
        retry: RetryPolicy {
            max_attempts: r.0,
            base_backoff_ms: r.1,
            max_backoff_ms: r.1 + r.2,
            max_retry_after_ms: r.3,
        },
        json_schema: flags[0],
        max_tokens_field: if flags[1] {
            "max_completion_tokens".into()
        } else {
            "max_tokens".into()
        },
        failed_calls_spend_budget: flags[2],
        schedule_in_question: flags[3],
        local: colt_llm::config::LocalSettings {
            path: local.0,
            n_ctx: local.1[0],
            n_threads: local.1[1],
            n_threads_batch: local.1[2],
            n_batch: local.1[3],
            q4_0: flags[4],
            prefix_cache: flags[5],
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any valid model survives `to_toml` then `from_table` (the writer and the reader
    /// serialize the same struct, so a field cannot be written under one name and read
    /// under another, or dropped by one of them).
    #[test]
    fn any_valid_model_round_trips_through_toml(m in any_model()) {
        assert_round_trip(&m);
    }
}
