//! A scripted OpenAI-compatible server on 127.0.0.1 that answers well, then garbage, then
//! 429s, then dies mid-run: the run completes and every fault shows in the per-model
//! statistics.

mod common;

use std::thread;

use colt_search::{NoObserver, SearchConfig, StopReason, Strategy, run};
use common::{Knn, Toy, acting_state, bucket, greedy_answer};

fn reply(text: &str) -> String {
    serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 400, "completion_tokens": 25, "prompt_tokens_details": {"cached_tokens": 300}},
    })
    .to_string()
}

/// Serve 15 requests: 8 greedy answers, 3 that are not JSON, then 429s; then close the
/// socket. Returns the model of each request served.
fn serve_script(server: tiny_http::Server, script_toy: Toy) -> thread::JoinHandle<Vec<String>> {
    thread::spawn(move || {
        let mut served = Vec::new();
        for n in 1..=15 {
            // Bounded: a run that asks fewer than 15 times must fail the count below, not hang.
            let Ok(Some(mut req)) = server.recv_timeout(std::time::Duration::from_secs(20)) else {
                break;
            };
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let user = v["messages"][1]["content"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let model = v["model"].as_str().unwrap_or("").to_string();
            let json =
                tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                    .unwrap();
            let resp = match n {
                1..=8 => {
                    let s = acting_state(&user).unwrap_or_else(|| vec![0; 6]);
                    let next = if n % 2 == 0 { "small" } else { "big" };
                    tiny_http::Response::from_string(reply(&greedy_answer(&script_toy, &s, next)))
                        .with_header(json)
                }
                9..=11 => tiny_http::Response::from_string(reply(
                    "Sorry, I cannot help with loop nests today.",
                ))
                .with_header(json),
                _ => {
                    tiny_http::Response::from_string("{\"error\": {\"message\": \"rate limited\"}}")
                        .with_status_code(429)
                        .with_header(json)
                }
            };
            served.push(model);
            let _ = req.respond(resp);
        }
        // Dropping the server closes the socket: later calls fail to connect.
        drop(server);
        served
    })
}

#[test]
fn a_dying_garbage_and_rate_limited_endpoint_never_stops_the_run() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let toy = Toy::new(6, 8);
    let handle = serve_script(server, toy.clone());

    let endpoint = format!("http://127.0.0.1:{port}");
    let b = bucket(&[("small", "1B"), ("big", "70B")], &endpoint);
    let mut client = colt_llm::LlmClient::new(&b, 3);
    let mut toy_env = toy;
    // One call at a time: the script answers in the order the calls come (the concurrent
    // path has its own test in concurrent.rs).
    let mut c = SearchConfig::new(Strategy::Colt, 32, 2);
    c.llm_concurrency = 1;
    c.llm_expansions_per_batch = Some(8);
    let r = run(
        &c,
        &mut toy_env,
        &mut Knn::default(),
        Some(&mut client),
        &mut NoObserver,
    )
    .unwrap();
    let served = handle.join().unwrap();
    assert_eq!(served.len(), 15);

    assert_eq!(r.stop, StopReason::TrialLimit);
    assert_eq!(r.trials, 32);
    let ok: u64 = r.models.values().map(|m| m.ok).sum();
    assert_eq!(ok, 8, "{:#?}", r.models);
    let errors = |kind: &str| {
        r.models
            .values()
            .map(|m| m.errors.get(kind).copied().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(errors("no_json"), 3, "{:#?}", r.models);
    assert!(errors("http") >= 1, "{:#?}", r.models);
    assert!(
        errors("connection") + errors("unavailable") >= 1,
        "{:#?}",
        r.models
    );
    assert!(r.models.values().map(|m| m.fallbacks).sum::<u64>() >= r.llm_calls - 8);
    // Accounting reached the report: tokens and money of the answered calls.
    assert!(r.llm.tokens_in >= 8 * 400 && r.llm.tokens_cached >= 8 * 300);
    assert!(r.llm.cost_usd > 0.0);
    // The client's own statistics agree on the calls made.
    let client_calls: u64 = client.stats().values().map(|s| s.calls).sum();
    assert_eq!(client_calls, r.llm_calls);
}
