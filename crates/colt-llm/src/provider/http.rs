//! The one HTTP call both remote providers make: POST JSON, read the body whatever the
//! status, map transport failures to [`CallError`].

use std::time::Duration;

use serde_json::Value;

use super::{CallError, Reply, Secret, body_excerpt, read_key};

/// A finished exchange (any status).
pub(crate) struct HttpReply {
    pub status: u16,
    pub body: String,
    pub retry_after_ms: Option<u64>,
}

pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

fn map_err(e: ureq::Error, key: Option<&Secret>) -> CallError {
    match e {
        ureq::Error::Timeout(_) => CallError::Timeout,
        // An endless or huge body is the server's fault and would be as big again.
        ureq::Error::BodyExceedsLimit(limit) => CallError::Protocol(format!(
            "response body larger than {} MiB",
            limit / (1024 * 1024)
        )),
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            CallError::Timeout
        }
        e => {
            let s = e.to_string();
            CallError::Connection(key.map(|k| k.redact(&s)).unwrap_or(s))
        }
    }
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`), as milliseconds.
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<u64> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
    {
        return (ms.is_finite() && ms >= 0.0).then_some(ms as u64);
    }
    let s = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()?;
    (s.is_finite() && s >= 0.0).then_some((s * 1000.0) as u64)
}

/// The largest response body read; a joint action is a few hundred bytes, and a longer
/// body is refused without retry.
pub(crate) const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;

pub(crate) fn post_json(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    key: Option<&Secret>,
) -> Result<HttpReply, CallError> {
    let mut req = agent.post(url).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let mut resp = req.send(body.to_string()).map_err(|e| map_err(e, key))?;
    let status = resp.status().as_u16();
    let retry_after_ms = retry_after(resp.headers());
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_string()
        .map_err(|e| map_err(e, key))?;
    Ok(HttpReply {
        status,
        body,
        retry_after_ms,
    })
}

/// One call of a remote provider: the key named by `key_env` is read now and sent in the
/// header `auth` makes of it (next to `headers`), a non-2xx status is an error with the key
/// cleaned out, a 2xx body is parsed by `parse`, and the key is redacted from the answer.
pub(crate) fn call(
    agent: &ureq::Agent,
    url: &str,
    key_env: &Option<String>,
    mut headers: Vec<(&'static str, String)>,
    auth: fn(&Secret) -> (&'static str, String),
    body: &Value,
    parse: impl FnOnce(&str) -> Result<Reply, CallError>,
) -> Result<Reply, CallError> {
    let key = read_key(key_env)?;
    headers.extend(key.as_ref().map(auth));
    let r = post_json(agent, url, &headers, body, key.as_ref())?;
    if !(200..300).contains(&r.status) {
        return Err(status_error(&r, key.as_ref()));
    }
    let mut reply = parse(&r.body)?;
    if let Some(k) = &key {
        reply.text = k.redact(&reply.text);
    }
    Ok(reply)
}

/// A non-2xx reply as an error, the body excerpt cleaned of the key.
pub(crate) fn status_error(r: &HttpReply, key: Option<&Secret>) -> CallError {
    let clean = key
        .map(|k| k.redact(&r.body))
        .unwrap_or_else(|| r.body.clone());
    CallError::Http {
        status: r.status,
        body: body_excerpt(&clean, 300),
        retry_after_ms: r.retry_after_ms,
    }
}
