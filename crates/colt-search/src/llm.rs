//! The port through which the engine asks models for joint actions.
//!
//! A trait rather than [`colt_llm::LlmClient`] itself so that the driver can wrap the
//! client (e.g. replaying recorded calls from the tuning database on `--resume`) and tests
//! can script answers. Every input the engine's decisions depend on arrives in the
//! returned [`CallRecord`] (a cool-down comes back as `Failure::Unavailable`), so a
//! replaying wrapper reproduces a run exactly; the engine never asks for wall-clock
//! state such as "is this model cooling down right now".

use colt_llm::{Bucket, CallRecord, LlmClient, Request};

/// Ask model `model` the request; always returns a record (failures included).
pub trait Llm {
    /// The models, their parameter counts (φ_small) and the largest one.
    fn bucket(&self) -> &Bucket;
    /// One call, with the client's retries and accounting.
    fn call(&mut self, model: &str, req: &Request) -> CallRecord;
    /// Several calls, at most `max_in_flight` at a time where the models allow it; the
    /// records come back in the order of `calls` (the engine applies them in that order,
    /// so the tree does not depend on which answer arrived first). Default: one after
    /// another.
    fn call_many(&mut self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        let _ = max_in_flight;
        calls.iter().map(|(m, r)| self.call(m, r)).collect()
    }
    /// Whether some model of the bucket gains from concurrent calls (a remote provider:
    /// network-bound). Embedded models share the CPU with the kernels and run one at a time.
    fn concurrent(&self) -> bool {
        false
    }
}

impl Llm for LlmClient {
    fn bucket(&self) -> &Bucket {
        LlmClient::bucket(self)
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        LlmClient::call(self, model, req)
    }
    fn call_many(&mut self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        LlmClient::call_many(self, calls, max_in_flight)
    }
    fn concurrent(&self) -> bool {
        LlmClient::bucket(self)
            .models()
            .iter()
            .any(|m| m.provider != colt_llm::ProviderKind::Local)
    }
}

impl<T: Llm + ?Sized> Llm for &mut T {
    fn bucket(&self) -> &Bucket {
        (**self).bucket()
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        (**self).call(model, req)
    }
    fn call_many(&mut self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        (**self).call_many(calls, max_in_flight)
    }
    fn concurrent(&self) -> bool {
        (**self).concurrent()
    }
}
