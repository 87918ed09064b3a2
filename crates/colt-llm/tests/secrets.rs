//! API keys: read from the environment and sent, but never found in `Debug` / `Display`
//! output, errors, call records (as serialised for the database), statistics, reports or
//! logs, even when the server echoes the key back. One test function, so that setting the
//! variable races with nothing.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use colt_llm::{Bucket, LlmClient};
use support::*;

const OPENAI_ENV: &str = "COLT_SECRET_TEST_OPENAI_KEY";
const ANTHROPIC_ENV: &str = "COLT_SECRET_TEST_ANTHROPIC_KEY";
const OPENAI_KEY: &str = "sk-test-OPENAI-SECRET-4f9c2b7e1d";
const ANTHROPIC_KEY: &str = "sk-ant-test-ANTHROPIC-SECRET-8a3e6c";

/// A log sink shared with the subscriber.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    for key in [OPENAI_KEY, ANTHROPIC_KEY] {
        assert!(!text.contains(key), "{what} contains a key:\n{text}");
        // Not even the distinctive middle part.
        assert!(
            !text.contains("SECRET-"),
            "{what} contains part of a key:\n{text}"
        );
    }
}

#[test]
fn keys_never_leak() {
    // SAFETY: the only test of this binary; nothing else runs yet.
    unsafe {
        std::env::set_var(OPENAI_ENV, OPENAI_KEY);
        std::env::set_var(ANTHROPIC_ENV, ANTHROPIC_KEY);
    }
    let sink = Sink::default();
    let writer = sink.clone();
    // Everything at TRACE, `log` records of the HTTP stack included, except the raw byte
    // dumps of `ureq_proto` that every program using this crate must switch off.
    let filter =
        tracing_subscriber::EnvFilter::new(format!("trace,{}", colt_llm::SAFE_LOG_DIRECTIVES));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let echo =
        |k: &str| format!(r#"{{"error": {{"message": "Incorrect API key provided: {k}"}}}}"#);
    let oa = ScriptServer::start(vec![
        Step::status(401, echo(OPENAI_KEY)),
        Step::status(500, echo(OPENAI_KEY)),
        Step::status(500, echo(OPENAI_KEY)),
        Step::ok(openai_answer(
            &format!(
                "Your key is {OPENAI_KEY}. {}",
                GOOD.replace("\"m\"", "\"oa\"")
            ),
            10,
            0,
            10,
            "stop",
        )),
        Step::ok(openai_answer(
            &format!(
                "{{\"transformations\": [{{\"action\": \"{OPENAI_KEY}\"}}], \"next_model\": \"oa\"}}"
            ),
            10,
            0,
            10,
            "stop",
        )),
        Step::ok(format!("not json {OPENAI_KEY}")),
    ]);
    let an = ScriptServer::start(vec![
        Step::status(401, echo(ANTHROPIC_KEY)),
        Step::status(529, echo(ANTHROPIC_KEY)),
        Step::status(529, echo(ANTHROPIC_KEY)),
        Step::ok(anthropic_text(
            &format!(
                "{{\"transformations\": [\"vectorize\"], \"next_model\": \"{ANTHROPIC_KEY}\"}}"
            ),
            5,
            0,
            0,
            5,
            "end_turn",
        )),
    ]);
    let toml = format!(
        "[[models]]\nname = \"oa\"\nprovider = \"openai\"\nendpoint = \"{}\"\nmodel = \"x\"\napi_key_env = \"{OPENAI_ENV}\"\nparams = 1e9\n\
         prices = {{ input = 1, output = 1 }}\nretry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 2 }}\n\
         [[models]]\nname = \"an\"\nprovider = \"anthropic\"\nendpoint = \"{}\"\nmodel = \"y\"\napi_key_env = \"{ANTHROPIC_ENV}\"\nparams = 1e10\n\
         prices = {{ input = 1, output = 1 }}\nretry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 2 }}\n\
         [[models]]\nname = \"gone\"\nprovider = \"openai\"\nendpoint = \"{}\"\nmodel = \"z\"\napi_key_env = \"{OPENAI_ENV}\"\nparams = 1e9\n\
         prices = {{ input = 1, output = 1 }}\nretry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 2 }}\n",
        oa.base,
        an.base,
        dead_endpoint(),
    );
    let bucket = Bucket::from_toml_str(&toml).unwrap();
    let client = LlmClient::new(&bucket, 9);
    let req = request(&["oa", "an", "gone"]);

    let mut records = Vec::new();
    for _ in 0..4 {
        records.push(client.call("oa", &req));
    }
    for _ in 0..3 {
        records.push(client.call("an", &req));
    }
    records.push(client.call("gone", &req));

    // The keys were used...
    assert_eq!(
        oa.seen()[0].header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(an.seen()[0].header("x-api-key"), Some(ANTHROPIC_KEY));
    // ...the calls failed or succeeded as scripted...
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r.outcome.as_ref().map_or_else(|e| e.kind(), |_| "ok"))
        .collect();
    assert_eq!(
        kinds,
        [
            "http",
            "http",
            "ok",
            "unknown_action",
            "http",
            "http",
            "unknown_model",
            "connection"
        ]
    );
    assert!(
        records[0]
            .outcome
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("[redacted]")
    );
    // (The fifth OpenAI step, garbage with the key, via a direct provider call below.)

    // ...and the keys appear nowhere.
    for (i, r) in records.iter().enumerate() {
        assert_clean(&format!("record {i} Debug"), &format!("{r:?}"));
        assert_clean(
            &format!("record {i} JSON"),
            &serde_json::to_string(r).unwrap(),
        );
        if let Err(e) = &r.outcome {
            assert_clean(&format!("record {i} error"), &e.to_string());
        }
    }
    let rec = client.call("oa", &req);
    assert!(
        matches!(rec.outcome, Err(colt_llm::Failure::Protocol { .. })),
        "{:?}",
        rec.outcome
    );
    assert_clean(
        "protocol error",
        &format!("{rec:?} {}", rec.outcome.as_ref().unwrap_err()),
    );

    assert_clean("client Debug", &format!("{client:?}"));
    assert_clean("bucket Debug", &format!("{bucket:?}"));
    assert_clean("bucket JSON", &serde_json::to_string(&bucket).unwrap());
    assert_clean(
        "stats",
        &format!(
            "{:?} {}",
            client.stats(),
            serde_json::to_string(&client.stats()).unwrap()
        ),
    );
    assert_clean("models list", &colt_llm::models_list(&bucket));

    // Direct provider errors too.
    for m in bucket.models() {
        let p = colt_llm::provider::for_model(m);
        assert_clean("provider Debug", &format!("{p:?}"));
    }
    let missing = colt_llm::CallError::MissingKey {
        env: OPENAI_ENV.into(),
    };
    assert_clean("missing key", &missing.to_string());

    // The check report (scripted answers exhausted: every call fails with a 418).
    let results = colt_llm::models_check_with(&client);
    assert_clean("check text", &colt_llm::check_text(&results));
    assert_clean("check json", &colt_llm::check_json(&results));

    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying LLM call"),
        "the logs were captured:\n{logs}"
    );
    assert!(
        logs.contains("ureq::run"),
        "the HTTP stack's logs were captured:\n{logs}"
    );
    assert_clean("logs", &logs);
}
