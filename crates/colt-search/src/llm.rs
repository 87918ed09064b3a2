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
}

impl Llm for LlmClient {
    fn bucket(&self) -> &Bucket {
        LlmClient::bucket(self)
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        LlmClient::call(self, model, req)
    }
}

impl<T: Llm + ?Sized> Llm for &mut T {
    fn bucket(&self) -> &Bucket {
        (**self).bucket()
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        (**self).call(model, req)
    }
}

impl<T: Llm + ?Sized> Llm for Box<T> {
    fn bucket(&self) -> &Bucket {
        (**self).bucket()
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        (**self).call(model, req)
    }
}
