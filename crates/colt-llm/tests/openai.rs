//! The OpenAI-compatible provider against a scripted chat-completions server on
//! 127.0.0.1: behaviour and accounting for good answers, 429 with Retry-After, 5xx, a
//! hanging response, garbage, truncated JSON, unknown names, cached-token usage, cool-down
//! and parallel calls.

mod support;

use std::time::Duration;

use colt_llm::{AnswerError, Bucket, CallRecord, Failure, LlmClient, Role};
use serde_json::json;
use support::*;

fn model_toml(base: &str, extra: &str) -> String {
    format!(
        "name = \"m\"\nprovider = \"openai\"\nendpoint = \"{base}\"\nmodel = \"test-model\"\nparams = \"8B\"\n\
         prices = {{ input = 2.0, cached_input = 0.5, output = 8.0 }}\ntimeout_s = 2\n\
         retry = {{ max_attempts = 3, base_backoff_ms = 1, max_backoff_ms = 4, max_retry_after_ms = 5000 }}\n{extra}"
    )
}

fn call_one(steps: Vec<Step>, extra: &str) -> (CallRecord, ScriptServer, LlmClient) {
    let server = ScriptServer::start(steps);
    let client = LlmClient::new(&bucket(&model_toml(&server.base, extra)), 1);
    let rec = client.call("m", &request(&["m"]));
    (rec, server, client)
}

fn cost(uncached: u64, cached: u64, out: u64) -> f64 {
    (uncached as f64 * 2.0 + cached as f64 * 0.5 + out as f64 * 8.0) / 1e6
}

fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn good_answer_is_parsed_and_accounted() {
    let (rec, server, client) =
        call_one(vec![Step::ok(openai_answer(GOOD, 1000, 0, 20, "stop"))], "");
    let a = rec.outcome.as_ref().expect("valid answer");
    assert_eq!(a.next_model, "m");
    assert_eq!(a.transformations.len(), 2);
    assert_eq!(a.transformations[0].action, "tile_spatial");
    assert_eq!(a.transformations[0].args["loop"], json!("j"));
    assert_eq!(a.transformations[0].args["inner"], json!(16));
    assert_eq!(a.transformations[1].action, "vectorize");
    assert_eq!((rec.attempts, rec.backoff_ms), (1, 0));
    assert_eq!(
        (
            rec.usage.input_tokens,
            rec.usage.cached_tokens,
            rec.usage.output_tokens
        ),
        (1000, 0, 20)
    );
    assert_close(rec.cost_usd, cost(1000, 0, 20));
    assert!(rec.spends_budget);
    assert!(!rec.structured);
    assert_eq!(rec.role, Role::Expand);
    assert_eq!(rec.raw_text.as_deref(), Some(GOOD));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/v1/chat/completions");
    assert!(
        seen[0].header("authorization").is_none(),
        "no key configured, none sent"
    );
    let body = seen[0].json();
    let req = request(&["m"]);
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": req.prefix})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": req.suffix})
    );
    assert_eq!(body["max_tokens"], 512);
    assert!(body.get("response_format").is_none());

    let stats = &client.stats()["m"];
    assert_eq!(
        (
            stats.calls,
            stats.ok,
            stats.failed,
            stats.attempts,
            stats.budget_calls
        ),
        (1, 1, 0, 1, 1)
    );
    assert_eq!((stats.input_tokens, stats.output_tokens), (1000, 20));
    assert_close(stats.cost_usd, cost(1000, 0, 20));
    assert_eq!(stats.by_role["expand"], 1);
}

#[test]
fn json_schema_flag_sends_response_format() {
    let (rec, server, _c) = call_one(
        vec![Step::ok(openai_answer(GOOD, 900, 0, 30, "stop"))],
        "json_schema = true\nmax_tokens_field = \"max_completion_tokens\"\nmax_output_tokens = 200\ntemperature = 0.2\n",
    );
    assert!(rec.is_ok(), "{:?}", rec.outcome);
    assert!(rec.structured);
    let body = server.seen()[0].json();
    let rf = &body["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["strict"], true);
    let schema = &rf["json_schema"]["schema"];
    assert_eq!(schema["properties"]["next_model"]["enum"], json!(["m"]));
    assert_eq!(schema["properties"]["transformations"]["maxItems"], 3);
    let names: Vec<&str> = schema["properties"]["transformations"]["items"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["properties"]["action"]["enum"][0].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tile_spatial", "vectorize", "parallel"]);
    assert_eq!(body["max_completion_tokens"], 200);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(body["temperature"], 0.2);
}

#[test]
fn rate_limit_then_success_honours_retry_after() {
    let steps = vec![
        Step::status(429, r#"{"error": {"message": "slow down"}}"#).with_header("Retry-After", "1"),
        Step::ok(openai_answer(GOOD, 100, 0, 10, "stop")),
    ];
    let (rec, server, client) = call_one(steps, "");
    assert!(rec.is_ok(), "{:?}", rec.outcome);
    assert_eq!(rec.attempts, 2);
    // Backoff here is at most 4 ms, so the wait is exactly the server's second.
    assert_eq!(rec.backoff_ms, 1000);
    assert!(rec.latency_ms >= rec.backoff_ms);
    assert_eq!(server.seen().len(), 2);
    assert_eq!(rec.usage.input_tokens, 100);
    let s = &client.stats()["m"];
    assert_eq!((s.calls, s.ok, s.attempts), (1, 1, 2));
}

#[test]
fn retry_after_ms_header_and_cap() {
    let steps = vec![
        Step::status(429, "{}").with_header("retry-after-ms", "250"),
        Step::ok(openai_answer(GOOD, 1, 0, 1, "stop")),
    ];
    let (rec, _s, _c) = call_one(steps, "");
    assert_eq!((rec.attempts, rec.backoff_ms), (2, 250));

    // A Retry-After of an hour is cut to max_retry_after_ms.
    let server = ScriptServer::start(vec![
        Step::status(503, "busy").with_header("Retry-After", "3600"),
        Step::ok(openai_answer(GOOD, 1, 0, 1, "stop")),
    ]);
    let toml = model_toml(&server.base, "")
        .replace("max_retry_after_ms = 5000", "max_retry_after_ms = 30");
    let client = LlmClient::new(&bucket(&toml), 1);
    let rec = client.call("m", &request(&["m"]));
    assert!(rec.is_ok());
    assert_eq!((rec.attempts, rec.backoff_ms), (2, 30));
}

#[test]
fn server_errors_are_retried_then_reported() {
    let steps = vec![
        Step::status(500, "oops 1"),
        Step::status(502, "oops 2"),
        Step::status(500, "oops 3"),
    ];
    let (rec, server, client) = call_one(steps, "");
    assert_eq!(
        rec.outcome,
        Err(Failure::Http {
            status: 500,
            body: "oops 3".into()
        })
    );
    assert_eq!(rec.attempts, 3);
    assert_eq!(server.seen().len(), 3);
    // Two waits: equal jitter of 1 ms then 2 ms.
    assert!((1..=3).contains(&rec.backoff_ms), "{}", rec.backoff_ms);
    assert_eq!(rec.usage, Default::default());
    assert_eq!(rec.cost_usd, 0.0);
    assert!(
        !rec.spends_budget,
        "failed calls spend no budget by default"
    );
    let s = &client.stats()["m"];
    assert_eq!(
        (s.calls, s.ok, s.failed, s.attempts, s.budget_calls),
        (1, 0, 1, 3, 0)
    );
    assert_eq!(s.errors["http"], 1);

    // 5xx then success: fine after three attempts.
    let (rec, _s, _c) = call_one(
        vec![
            Step::status(503, "a"),
            Step::status(504, "b"),
            Step::ok(openai_answer(GOOD, 5, 0, 5, "stop")),
        ],
        "",
    );
    assert!(rec.is_ok());
    assert_eq!(rec.attempts, 3);
}

#[test]
fn failed_calls_spend_budget_when_configured() {
    let (rec, _s, client) = call_one(
        vec![
            Step::status(500, "x"),
            Step::status(500, "x"),
            Step::status(500, "x"),
        ],
        "failed_calls_spend_budget = true\n",
    );
    assert!(!rec.is_ok());
    assert!(rec.spends_budget);
    assert_eq!(client.stats()["m"].budget_calls, 1);
}

#[test]
fn client_errors_are_not_retried() {
    let (rec, server, _c) = call_one(
        vec![
            Step::status(400, r#"{"error": "bad model"}"#),
            Step::ok(openai_answer(GOOD, 1, 0, 1, "stop")),
        ],
        "",
    );
    assert!(
        matches!(&rec.outcome, Err(Failure::Http { status: 400, body }) if body.contains("bad model")),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 1);
    assert_eq!(server.seen().len(), 1);
    assert_eq!(server.remaining(), 1);
}

#[test]
fn hanging_response_times_out_and_is_retried() {
    let server = ScriptServer::start(vec![
        Step::Hang(Duration::from_secs(3)),
        Step::Hang(Duration::from_secs(3)),
    ]);
    let toml = model_toml(&server.base, "")
        .replace("timeout_s = 2", "timeout_s = 0.3")
        .replace("max_attempts = 3", "max_attempts = 2");
    let client = LlmClient::new(&bucket(&toml), 1);
    let rec = client.call("m", &request(&["m"]));
    assert_eq!(rec.outcome, Err(Failure::Timeout));
    assert_eq!(rec.attempts, 2);
    assert_eq!(server.seen().len(), 2);
    assert_eq!(client.stats()["m"].errors["timeout"], 1);

    // A slow answer inside the timeout is fine.
    server.push(Step::Delayed(
        Duration::from_millis(50),
        Box::new(Step::ok(openai_answer(GOOD, 3, 0, 3, "stop"))),
    ));
    let rec = client.call("m", &request(&["m"]));
    assert!(rec.is_ok(), "{:?}", rec.outcome);
}

#[test]
fn garbage_is_a_protocol_error() {
    let (rec, _s, client) = call_one(vec![Step::ok("<html>502 Bad Gateway</html>")], "");
    assert!(
        matches!(&rec.outcome, Err(Failure::Protocol { detail }) if detail.contains("not JSON")),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 1);
    assert_eq!(client.stats()["m"].errors["protocol"], 1);

    let (rec, _s, _c) = call_one(vec![Step::ok(r#"{"object": "list", "data": []}"#)], "");
    assert!(
        matches!(&rec.outcome, Err(Failure::Protocol { detail }) if detail.contains("no choices")),
        "{:?}",
        rec.outcome
    );

    // An answer in prose without any JSON object.
    let (rec, _s, _c) = call_one(
        vec![Step::ok(openai_answer(
            "I would tile the j loop by 16.",
            50,
            0,
            9,
            "stop",
        ))],
        "",
    );
    assert_eq!(rec.outcome, Err(Failure::Answer(AnswerError::NoJson)));
    assert_eq!(rec.usage.output_tokens, 9);
    assert_close(rec.cost_usd, cost(50, 0, 9));
    assert!(!rec.spends_budget);
}

#[test]
fn a_huge_body_is_refused_once_without_retry() {
    // 50 MB of a JSON string: read up to the cap, then refused; not asked for again.
    let body = format!("{{\"choices\": \"{}\"}}", "x".repeat(50_000_000));
    let (rec, server, client) = call_one(vec![Step::ok(body.clone()), Step::ok(body)], "");
    assert!(
        matches!(&rec.outcome, Err(Failure::Protocol { detail }) if detail.contains("larger than 4 MiB")),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 1);
    assert_eq!(server.seen().len(), 1);
    assert_eq!(client.stats()["m"].errors["protocol"], 1);
}

#[test]
fn truncated_http_body_is_a_transport_failure_and_retried() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{\"choices\": [{\"mess".to_vec();
    let (rec, server, _c) = call_one(
        vec![
            Step::Raw(raw.clone()),
            Step::ok(openai_answer(GOOD, 10, 0, 10, "stop")),
        ],
        "",
    );
    assert!(rec.is_ok(), "{:?}", rec.outcome);
    assert_eq!(rec.attempts, 2);
    assert_eq!(server.seen().len(), 2);

    // Not HTTP at all.
    let (rec, _s, _c) = call_one(
        vec![Step::Raw(b"garbage garbage garbage\r\n\r\n".to_vec()); 3],
        "",
    );
    assert!(
        matches!(
            rec.outcome,
            Err(Failure::Connection { .. } | Failure::Timeout)
        ),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 3);
}

#[test]
fn truncated_answer_is_reported_and_accounted() {
    let text = r#"{"transformations": [{"action": "tile_spatial", "loop": "j", "inn"#;
    let (rec, _s, client) = call_one(
        vec![Step::ok(openai_answer(text, 700, 0, 512, "length"))],
        "",
    );
    assert_eq!(rec.outcome, Err(Failure::Answer(AnswerError::Truncated)));
    assert_eq!(rec.attempts, 1, "an unusable answer is not retried");
    assert_eq!(
        (rec.usage.input_tokens, rec.usage.output_tokens),
        (700, 512)
    );
    assert_close(rec.cost_usd, cost(700, 0, 512));
    assert_eq!(rec.raw_text.as_deref(), Some(text));
    assert_eq!(client.stats()["m"].errors["truncated"], 1);

    // Truncated even though the server says "stop".
    let (rec, _s, _c) = call_one(vec![Step::ok(openai_answer(text, 7, 0, 5, "stop"))], "");
    assert_eq!(rec.outcome, Err(Failure::Answer(AnswerError::Truncated)));
    // Cut off after a complete but insufficient prefix: still truncated (finish = length).
    let (rec, _s, _c) = call_one(
        vec![Step::ok(openai_answer(
            "Let me think step by step about",
            7,
            0,
            5,
            "length",
        ))],
        "",
    );
    assert_eq!(rec.outcome, Err(Failure::Answer(AnswerError::Truncated)));
}

#[test]
fn unknown_transformation_is_rejected() {
    let text = r#"{"transformations": [{"action": "fuse_everything"}], "next_model": "m"}"#;
    let (rec, server, client) =
        call_one(vec![Step::ok(openai_answer(text, 300, 0, 12, "stop"))], "");
    assert_eq!(
        rec.outcome,
        Err(Failure::Answer(AnswerError::UnknownAction {
            name: "fuse_everything".into()
        }))
    );
    assert_eq!(rec.attempts, 1);
    assert_eq!(server.seen().len(), 1);
    assert_close(rec.cost_usd, cost(300, 0, 12));
    let s = &client.stats()["m"];
    assert_eq!((s.failed, s.errors["unknown_action"]), (1, 1));

    // A known action with a value outside its choices.
    let text = r#"{"transformations": [{"action": "tile_spatial", "loop": "k", "inner": 16}], "next_model": "m"}"#;
    let (rec, _s, _c) = call_one(vec![Step::ok(openai_answer(text, 1, 0, 1, "stop"))], "");
    assert!(
        matches!(&rec.outcome, Err(Failure::Answer(AnswerError::BadParam { param, .. })) if param == "loop"),
        "{:?}",
        rec.outcome
    );
}

#[test]
fn unknown_next_model_is_rejected() {
    let text = r#"{"transformations": [{"action": "vectorize"}], "next_model": "gpt-9"}"#;
    let (rec, _s, client) = call_one(vec![Step::ok(openai_answer(text, 300, 0, 12, "stop"))], "");
    assert_eq!(
        rec.outcome,
        Err(Failure::Answer(AnswerError::UnknownModel {
            name: "gpt-9".into()
        }))
    );
    assert_eq!(client.stats()["m"].errors["unknown_model"], 1);
}

#[test]
fn usage_with_cached_tokens_is_priced_at_the_cached_rate() {
    let (rec, _s, client) = call_one(
        vec![Step::ok(openai_answer(GOOD, 1000, 800, 20, "stop"))],
        "",
    );
    assert!(rec.is_ok());
    assert_eq!(
        (rec.input_tokens(), rec.cached_tokens(), rec.output_tokens()),
        (1000, 800, 20)
    );
    assert_close(rec.cost_usd, cost(200, 800, 20));
    let s = &client.stats()["m"];
    assert_eq!((s.input_tokens, s.cached_tokens), (1000, 800));
}

#[test]
fn fenced_answer_with_prose_and_near_miss_names_is_accepted() {
    let text = "Sure! Here is my proposal:\n```json\n{\"transformations\": [{\"action\": \"Tile-Spatial\", \"Loop\": \"J\", \"inner\": \"32\",},], \"nextModel\": \"M\",}\n```\nThis should help.";
    let (rec, _s, _c) = call_one(vec![Step::ok(openai_answer(text, 10, 0, 10, "stop"))], "");
    let a = rec.outcome.expect("near-miss answer accepted");
    assert_eq!(
        a.to_json(),
        json!({"transformations": [{"action": "tile_spatial", "loop": "j", "inner": 32}], "next_model": "m"})
    );
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let client = LlmClient::new(&bucket(&model_toml(&dead_endpoint(), "")), 1);
    let rec = client.call("m", &request(&["m"]));
    assert!(
        matches!(rec.outcome, Err(Failure::Connection { .. })),
        "{:?}",
        rec.outcome
    );
    assert_eq!(rec.attempts, 3);
}

#[test]
fn missing_key_fails_without_sending() {
    let (rec, server, _c) = call_one(
        vec![Step::ok(openai_answer(GOOD, 1, 0, 1, "stop"))],
        "api_key_env = \"COLT_TEST_SURELY_UNSET_KEY\"\n",
    );
    assert_eq!(
        rec.outcome,
        Err(Failure::MissingKey {
            env: "COLT_TEST_SURELY_UNSET_KEY".into()
        })
    );
    assert_eq!(rec.attempts, 1);
    assert!(server.seen().is_empty());
}

#[test]
fn unknown_model_and_bad_request_are_refused_without_sending() {
    let (rec, server, client) = call_one(vec![], "");
    assert_eq!(
        rec.outcome,
        Err(Failure::Http {
            status: 418,
            body: "script exhausted".into()
        })
    );
    let r = client.call("other", &request(&["m"]));
    assert_eq!(
        (r.outcome, r.attempts),
        (
            Err(Failure::NotInBucket {
                name: "other".into()
            }),
            0
        )
    );
    let mut req = request(&["m"]);
    req.vocabulary.actions.clear();
    let r = client.call("m", &req);
    assert!(matches!(r.outcome, Err(Failure::BadRequest { .. })) && r.attempts == 0);
    let r = client.call("m", &request(&[]));
    assert!(matches!(r.outcome, Err(Failure::BadRequest { .. })) && r.attempts == 0);
    assert_eq!(server.seen().len(), 1);
}

fn two_model_bucket(bad: &str, good: &str, bucket_extra: &str) -> Bucket {
    let m = |name: &str, base: &str, params: &str| {
        format!(
            "[[models]]\nname = \"{name}\"\nprovider = \"openai\"\nendpoint = \"{base}\"\nmodel = \"x\"\nparams = \"{params}\"\n\
             prices = {{ input = 1.0, output = 1.0 }}\ntimeout_s = 2\nretry = {{ max_attempts = 1 }}\n"
        )
    };
    let text = format!(
        "[bucket]\ncooldown_after_failures = 2\ncooldown_s = 0.3\n{bucket_extra}\n{}{}",
        m("flaky", bad, "1B"),
        m("steady", good, "70B")
    );
    Bucket::from_toml_str(&text).unwrap()
}

#[test]
fn a_failing_model_is_set_aside_and_the_caller_is_told() {
    let bad = ScriptServer::start(vec![Step::status(500, "down"), Step::status(500, "down")]);
    let good = ScriptServer::start(vec![Step::ok(openai_answer(
        GOOD.replace("\"m\"", "\"steady\"").as_str(),
        1,
        0,
        1,
        "stop",
    ))]);
    let bucket = two_model_bucket(&bad.base, &good.base, "");
    let client = LlmClient::new(&bucket, 3);
    let req = request(&["flaky", "steady"]);
    assert!(matches!(
        client.call("flaky", &req).outcome,
        Err(Failure::Http { status: 500, .. })
    ));
    assert!(client.is_available("flaky"), "one failure is not enough");
    assert!(matches!(
        client.call("flaky", &req).outcome,
        Err(Failure::Http { status: 500, .. })
    ));
    assert!(!client.is_available("flaky"));
    assert_eq!(client.available_models(), ["steady"]);

    let r = client.call("flaky", &req);
    assert!(
        matches!(r.outcome, Err(Failure::Unavailable { retry_in_ms, .. }) if retry_in_ms <= 300),
        "{:?}",
        r.outcome
    );
    assert_eq!((r.attempts, r.spends_budget), (0, false));
    assert_eq!(bad.seen().len(), 2, "nothing sent while set aside");
    // The search goes on with the other model.
    assert!(client.call("steady", &req).is_ok());

    let s = &client.stats()["flaky"];
    assert_eq!((s.calls, s.failed, s.cooldowns), (3, 3, 1));
    assert_eq!((s.errors["http"], s.errors["unavailable"]), (2, 1));

    // After the cool-down the model is asked again; a success clears its record.
    std::thread::sleep(Duration::from_millis(400));
    assert!(client.is_available("flaky"));
    bad.push(Step::ok(openai_answer(
        GOOD.replace("\"m\"", "\"flaky\"").as_str(),
        1,
        0,
        1,
        "stop",
    )));
    assert!(client.call("flaky", &req).is_ok());
    assert_eq!(client.available_models(), ["flaky", "steady"]);
}

#[test]
fn invalid_answers_count_towards_cooldown_only_when_configured() {
    let junk = || Step::ok(openai_answer("no json here", 1, 0, 1, "stop"));
    let bad = ScriptServer::start(vec![junk(), junk(), junk()]);
    let client = LlmClient::new(&two_model_bucket(&bad.base, &dead_endpoint(), ""), 3);
    let req = request(&["flaky", "steady"]);
    for _ in 0..3 {
        assert_eq!(
            client.call("flaky", &req).outcome,
            Err(Failure::Answer(AnswerError::NoJson))
        );
    }
    assert!(client.is_available("flaky"));

    let bad = ScriptServer::start(vec![junk(), junk(), junk()]);
    let client = LlmClient::new(
        &two_model_bucket(
            &bad.base,
            &dead_endpoint(),
            "cooldown_counts_invalid_answers = true",
        ),
        3,
    );
    client.call("flaky", &req);
    client.call("flaky", &req);
    assert!(!client.is_available("flaky"));
    assert!(matches!(
        client.call("flaky", &req).outcome,
        Err(Failure::Unavailable { .. })
    ));
}

#[test]
fn parallel_calls_to_two_endpoints() {
    let slow = |name: &str| {
        Step::Delayed(
            Duration::from_millis(300),
            Box::new(Step::ok(openai_answer(
                &GOOD.replace("\"m\"", &format!("\"{name}\"")),
                10,
                0,
                10,
                "stop",
            ))),
        )
    };
    let a = ScriptServer::start(vec![slow("flaky")]);
    let b = ScriptServer::start(vec![slow("steady")]);
    let client = LlmClient::new(&two_model_bucket(&a.base, &b.base, ""), 3);
    let req = request(&["flaky", "steady"]);
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| client.call("flaky", &req));
        let hb = s.spawn(|| client.call("steady", &req));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_eq!(ra.outcome.unwrap().next_model, "flaky");
    assert_eq!(rb.outcome.unwrap().next_model, "steady");
    assert_eq!((a.seen().len(), b.seen().len()), (1, 1));
    let stats = client.stats();
    assert_eq!((stats["flaky"].ok, stats["steady"].ok), (1, 1));
}

#[test]
fn models_check_reports_two_calls_and_prefix_reuse() {
    // Second call: 600 of 750 prompt tokens served from the provider's cache.
    let server = ScriptServer::start(vec![
        Step::ok(openai_answer(GOOD, 740, 0, 20, "stop")),
        Step::ok(openai_answer(GOOD, 750, 600, 20, "stop")),
    ]);
    let client = LlmClient::new(&bucket(&model_toml(&server.base, "")), 1);
    let results = colt_llm::models_check_with(&client);
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert!(r.valid, "{:?}", r.error);
    assert_eq!((r.prompt_tokens, r.reused_tokens), (750, 600));
    assert_close(r.reuse_share, 0.8);
    let seen = server.seen();
    assert_eq!(
        seen[0].json()["messages"][0],
        seen[1].json()["messages"][0],
        "one shared prefix"
    );
    assert_ne!(seen[0].json()["messages"][1], seen[1].json()["messages"][1]);

    let v: serde_json::Value = serde_json::from_str(&colt_llm::check_json(&results)).unwrap();
    let keys: Vec<&str> = v["models"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "name",
        "valid",
        "latency_ms",
        "prompt_tokens",
        "reused_tokens",
        "reuse_share",
        "params",
    ];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(v["models"][0]["name"], "m");
    assert_eq!(v["models"][0]["valid"], true);
    assert_eq!(v["models"][0]["params"], 8e9);
    assert!(
        colt_llm::check_json(&results)
            .starts_with(r#"{"models":[{"name":"m","valid":true,"latency_ms":"#)
    );
    assert!(colt_llm::check_text(&results).contains("m: valid"));
}
