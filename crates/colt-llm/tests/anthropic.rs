//! The Anthropic Messages provider against a scripted server on 127.0.0.1: prompt caching
//! on the stable prefix, the forced-tool structured mode, retries, timeouts, garbage,
//! truncation, unknown names and cache-read / cache-write accounting.

mod support;

use std::sync::Once;
use std::time::Duration;

use colt_llm::{AnswerError, CallRecord, Failure, LlmClient};
use serde_json::json;
use support::*;

const KEY_ENV: &str = "COLT_TEST_ANTHROPIC_KEY";
const KEY: &str = "test-anthropic-key-0123456789";

fn set_key() {
    static ONCE: Once = Once::new();
    // SAFETY: set once, before any request of this test binary reads it; every reader
    // goes through std::env, which serialises access.
    ONCE.call_once(|| unsafe { std::env::set_var(KEY_ENV, KEY) });
}

fn model_toml(base: &str, extra: &str) -> String {
    format!(
        "name = \"m\"\nprovider = \"anthropic\"\nendpoint = \"{base}\"\nmodel = \"claude-test\"\napi_key_env = \"{KEY_ENV}\"\n\
         params = \"200B\"\nprices = {{ input = 3.0, cached_input = 0.3, cache_write = 3.75, output = 15.0 }}\ntimeout_s = 2\n\
         retry = {{ max_attempts = 3, base_backoff_ms = 1, max_backoff_ms = 4 }}\n{extra}"
    )
}

fn call_one(steps: Vec<Step>, extra: &str) -> (CallRecord, ScriptServer, LlmClient) {
    set_key();
    let server = ScriptServer::start(steps);
    let client = LlmClient::new(&bucket(&model_toml(&server.base, extra)), 1);
    let rec = client.call("m", &request(&["m"]));
    (rec, server, client)
}

fn cost(uncached: u64, read: u64, write: u64, out: u64) -> f64 {
    (uncached as f64 * 3.0 + read as f64 * 0.3 + write as f64 * 3.75 + out as f64 * 15.0) / 1e6
}

fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn good_answer_with_cache_control_on_the_prefix() {
    let (rec, server, client) = call_one(
        vec![Step::ok(anthropic_text(GOOD, 40, 0, 900, 25, "end_turn"))],
        "",
    );
    let a = rec.outcome.as_ref().expect("valid answer");
    assert_eq!(a.transformations.len(), 2);
    assert_eq!(rec.attempts, 1);
    // input_tokens counts the whole prompt: uncached + cache reads + cache writes.
    assert_eq!(
        (
            rec.usage.input_tokens,
            rec.usage.cached_tokens,
            rec.usage.cache_write_tokens,
            rec.usage.output_tokens
        ),
        (940, 0, 900, 25)
    );
    assert_close(rec.cost_usd, cost(40, 0, 900, 25));
    assert!(rec.spends_budget && !rec.structured);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/v1/messages");
    assert_eq!(seen[0].header("x-api-key"), Some(KEY));
    assert_eq!(seen[0].header("anthropic-version"), Some("2023-06-01"));
    assert!(seen[0].header("authorization").is_none());
    let body = seen[0].json();
    let req = request(&["m"]);
    assert_eq!(body["model"], "claude-test");
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": req.prefix, "cache_control": {"type": "ephemeral"}}])
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": req.suffix}])
    );
    assert!(body.get("tools").is_none());

    let s = &client.stats()["m"];
    assert_eq!(
        (s.calls, s.ok, s.input_tokens, s.cache_write_tokens),
        (1, 1, 940, 900)
    );
}

#[test]
fn cache_read_tokens_are_priced_at_the_cached_rate() {
    let (rec, _s, client) = call_one(
        vec![Step::ok(anthropic_text(GOOD, 40, 900, 0, 25, "end_turn"))],
        "",
    );
    assert!(rec.is_ok());
    assert_eq!((rec.input_tokens(), rec.cached_tokens()), (940, 900));
    assert_close(rec.cost_usd, cost(40, 900, 0, 25));
    assert_eq!(client.stats()["m"].cached_tokens, 900);
}

#[test]
fn json_schema_flag_forces_the_answer_tool() {
    let answer = json!({"transformations": [{"action": "parallel", "fuse": 2}], "next_model": "m"});
    let (rec, server, _c) = call_one(
        vec![Step::ok(anthropic_tool(answer.clone(), 30, 700, 15))],
        "json_schema = true\ntemperature = 1.5\n",
    );
    let a = rec.outcome.as_ref().expect("tool answer");
    assert_eq!(a.to_json(), answer);
    assert!(rec.structured);
    let body = server.seen()[0].json();
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "joint_action"})
    );
    assert_eq!(body["tools"][0]["name"], "joint_action");
    assert_eq!(
        body["tools"][0]["input_schema"]["properties"]["next_model"]["enum"],
        json!(["m"])
    );
    assert_eq!(body["temperature"], 1.0, "Anthropic temperatures stop at 1");
}

#[test]
fn rate_limit_then_success_honours_retry_after() {
    let steps = vec![
        Step::status(
            429,
            r#"{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}"#,
        )
        .with_header("retry-after", "1"),
        Step::ok(anthropic_text(GOOD, 10, 0, 0, 5, "end_turn")),
    ];
    let (rec, server, _c) = call_one(steps, "");
    assert!(rec.is_ok(), "{:?}", rec.outcome);
    assert_eq!((rec.attempts, rec.backoff_ms), (2, 1000));
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn overloaded_is_retried_then_reported() {
    let over = || {
        Step::status(
            529,
            r#"{"type": "error", "error": {"type": "overloaded_error"}}"#,
        )
    };
    let (rec, server, client) = call_one(vec![over(), over(), over()], "");
    assert!(
        matches!(&rec.outcome, Err(Failure::Http { status: 529, body }) if body.contains("overloaded_error")),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 3);
    assert_eq!(server.seen().len(), 3);
    assert!(!rec.spends_budget);
    assert_eq!(client.stats()["m"].errors["http"], 1);

    let (rec, _s, _c) = call_one(
        vec![
            Step::status(500, "x"),
            Step::ok(anthropic_text(GOOD, 1, 0, 0, 1, "end_turn")),
        ],
        "",
    );
    assert_eq!((rec.is_ok(), rec.attempts), (true, 2));
}

#[test]
fn bad_request_is_not_retried() {
    let (rec, server, _c) = call_one(
        vec![Step::status(
            400,
            r#"{"error": {"type": "invalid_request_error"}}"#,
        )],
        "",
    );
    assert!(matches!(
        rec.outcome,
        Err(Failure::Http { status: 400, .. })
    ));
    assert_eq!((rec.attempts, server.seen().len()), (1, 1));
}

#[test]
fn hanging_response_times_out() {
    set_key();
    let server = ScriptServer::start(vec![
        Step::Hang(Duration::from_secs(3)),
        Step::Hang(Duration::from_secs(3)),
    ]);
    let toml = model_toml(&server.base, "")
        .replace("timeout_s = 2", "timeout_s = 0.3")
        .replace("max_attempts = 3", "max_attempts = 2");
    let client = LlmClient::new(&bucket(&toml), 1);
    let rec = client.call("m", &request(&["m"]));
    assert_eq!((rec.outcome, rec.attempts), (Err(Failure::Timeout), 2));
}

#[test]
fn garbage_and_missing_content_are_protocol_errors() {
    let (rec, _s, _c) = call_one(vec![Step::ok("not json at all")], "");
    assert!(
        matches!(rec.outcome, Err(Failure::Protocol { .. })),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 1);
    let (rec, _s, _c) = call_one(
        vec![Step::ok(
            r#"{"type": "message", "usage": {"input_tokens": 3}}"#,
        )],
        "",
    );
    assert!(
        matches!(&rec.outcome, Err(Failure::Protocol { detail }) if detail.contains("no content")),
        "{:?}",
        rec.outcome
    );
}

#[test]
fn truncated_answer_is_reported_and_accounted() {
    let text = r#"{"transformations": [{"action": "parallel", "fu"#;
    let (rec, _s, client) = call_one(
        vec![Step::ok(anthropic_text(
            text,
            100,
            800,
            0,
            512,
            "max_tokens",
        ))],
        "",
    );
    assert_eq!(rec.outcome, Err(Failure::Answer(AnswerError::Truncated)));
    assert_eq!(rec.attempts, 1);
    assert_close(rec.cost_usd, cost(100, 800, 0, 512));
    assert_eq!(client.stats()["m"].errors["truncated"], 1);
}

#[test]
fn unknown_transformation_and_model_are_rejected() {
    let t = r#"Here you go: {"transformations": [{"action": "rewrite_in_assembly"}], "next_model": "m"}"#;
    let (rec, _s, _c) = call_one(
        vec![Step::ok(anthropic_text(t, 1, 0, 0, 1, "end_turn"))],
        "",
    );
    assert_eq!(
        rec.outcome,
        Err(Failure::Answer(AnswerError::UnknownAction {
            name: "rewrite_in_assembly".into()
        }))
    );

    let t = r#"{"transformations": [{"action": "vectorize"}], "next_model": "claude-opus-99"}"#;
    let (rec, _s, client) = call_one(
        vec![Step::ok(anthropic_text(t, 1, 0, 0, 1, "end_turn"))],
        "failed_calls_spend_budget = true\n",
    );
    assert_eq!(
        rec.outcome,
        Err(Failure::Answer(AnswerError::UnknownModel {
            name: "claude-opus-99".into()
        }))
    );
    assert!(rec.spends_budget);
    assert_eq!(client.stats()["m"].budget_calls, 1);
}

#[test]
fn anthropic_requires_a_key_variable() {
    let text = "[[models]]\nname = \"c\"\nprovider = \"anthropic\"\nmodel = \"claude\"\nparams = 1e11\nprices = { input = 3, output = 15 }\n";
    let err = colt_llm::Bucket::from_toml_str(text)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "model \"c\": field \"api_key_env\": missing (e.g. \"ANTHROPIC_API_KEY\")"
    );
}
