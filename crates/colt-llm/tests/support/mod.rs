//! A scripted HTTP server on 127.0.0.1:0 for the provider tests: a real `tiny_http` server
//! that answers each request with the next step of its script (a status and body, a raw
//! byte string, or no answer at all for a while) and keeps what it was sent.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use colt_llm::{ActionSpec, Bucket, Request, Role, Vocabulary};
use tiny_http::{Header, Response, Server};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer with a status, a body and extra headers.
    Reply {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Answer after a delay.
    Delayed(Duration, Box<Step>),
    /// Say nothing for this long, then drop the connection.
    Hang(Duration),
    /// Write these bytes on the socket (a broken or truncated HTTP response) and close.
    Raw(Vec<u8>),
}

impl Step {
    pub fn ok(body: impl Into<String>) -> Step {
        Step::Reply {
            status: 200,
            body: body.into(),
            headers: Vec::new(),
        }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Step {
        Step::Reply {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }
    pub fn with_header(self, k: &str, v: &str) -> Step {
        match self {
            Step::Reply {
                status,
                body,
                mut headers,
            } => {
                headers.push((k.into(), v.into()));
                Step::Reply {
                    status,
                    body,
                    headers,
                }
            }
            other => other,
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

pub struct ScriptServer {
    pub base: String,
    server: Arc<Server>,
    script: Arc<Mutex<VecDeque<Step>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptServer {
    pub fn start(steps: Vec<Step>) -> ScriptServer {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let script = Arc::new(Mutex::new(VecDeque::from(steps)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (srv, sc, se) = (server.clone(), script.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            for mut rq in srv.incoming_requests() {
                let mut body = String::new();
                let _ = rq.as_reader().read_to_string(&mut body);
                let headers = rq
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect();
                se.lock().unwrap().push(Seen {
                    url: rq.url().to_string(),
                    headers,
                    body,
                });
                let step = sc
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or_else(|| Step::status(418, "script exhausted"));
                // Answer on a thread of its own so a hanging step does not hold the others.
                std::thread::spawn(move || serve(rq, step));
            }
        });
        ScriptServer {
            base: format!("http://127.0.0.1:{port}"),
            server,
            script,
            seen,
            thread: Some(thread),
        }
    }

    pub fn push(&self, step: Step) {
        self.script.lock().unwrap().push_back(step);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

fn serve(rq: tiny_http::Request, step: Step) {
    match step {
        Step::Reply {
            status,
            body,
            headers,
        } => {
            let mut resp = Response::from_string(body).with_status_code(status);
            resp.add_header(
                Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).unwrap(),
            );
            for (k, v) in headers {
                resp.add_header(Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
            }
            let _ = rq.respond(resp);
        }
        Step::Delayed(d, inner) => {
            std::thread::sleep(d);
            serve(rq, *inner);
        }
        Step::Hang(d) => {
            std::thread::sleep(d);
            drop(rq);
        }
        Step::Raw(bytes) => {
            let mut w = rq.into_writer();
            let _ = w.write_all(&bytes);
            let _ = w.flush();
        }
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An address where nothing listens (bound, then closed).
pub fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// The vocabulary the scripted answers use.
pub fn vocab() -> Vocabulary {
    Vocabulary::new(vec![
        ActionSpec::new("tile_spatial", "split a spatial loop")
            .param("loop", ["i", "j"])
            .param("inner", [8, 16, 32]),
        ActionSpec::new("vectorize", "vectorise the innermost loop"),
        ActionSpec::new("parallel", "parallelise outer loops").param("fuse", [1, 2]),
    ])
}

pub fn request(models: &[&str]) -> Request {
    let models: Vec<String> = models.iter().map(|s| s.to_string()).collect();
    let v = vocab();
    let prefix = format!(
        "You tune loops.\n{}",
        colt_llm::answer_format_instructions(&v, &models, 3)
    );
    Request::new(prefix, "Current schedule: none.", v, models, Role::Expand)
}

/// A one-model bucket from a TOML model table body (fields after `[[models]]`).
pub fn bucket(model_toml: &str) -> Bucket {
    Bucket::from_toml_str(&format!("[[models]]\n{model_toml}")).expect("test bucket parses")
}

/// A chat-completions body whose answer is `content`.
pub fn openai_answer(
    content: &str,
    prompt: u64,
    cached: u64,
    completion: u64,
    finish: &str,
) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": finish }],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": { "cached_tokens": cached }
        }
    })
    .to_string()
}

/// A Messages body with one text block.
pub fn anthropic_text(
    text: &str,
    input: u64,
    cache_read: u64,
    cache_write: u64,
    output: u64,
    stop: &str,
) -> String {
    serde_json::json!({
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{ "type": "text", "text": text }],
        "stop_reason": stop,
        "usage": {
            "input_tokens": input,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
            "output_tokens": output
        }
    })
    .to_string()
}

/// A Messages body whose answer is the forced tool's input.
pub fn anthropic_tool(
    input: serde_json::Value,
    input_tokens: u64,
    cache_read: u64,
    output: u64,
) -> String {
    serde_json::json!({
        "id": "msg_2",
        "type": "message",
        "role": "assistant",
        "content": [{ "type": "tool_use", "id": "toolu_1", "name": "joint_action", "input": input }],
        "stop_reason": "tool_use",
        "usage": { "input_tokens": input_tokens, "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": 0, "output_tokens": output }
    })
    .to_string()
}

pub const GOOD: &str = r#"{"transformations": [{"action": "tile_spatial", "loop": "j", "inner": 16}, {"action": "vectorize"}], "next_model": "m"}"#;
