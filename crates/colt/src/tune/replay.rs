//! The LLM port of a tuning run: every call is recorded in the database (with the complete
//! call record), and a resumed run replays the recorded calls in order instead of asking the
//! models again. The search is deterministic given its measurements and answers, so the
//! replayed prefix of the run rebuilds the same tree, and the run goes on live from there.

use colt_db::{Db, NewLlmCall, RunId};
use colt_llm::{Bucket, CallRecord, Request};
use colt_search::Llm;
use std::collections::VecDeque;
use std::sync::Arc;

/// An LLM client shared by several searches (the tasks of `colt model tune`, which run one
/// at a time); a tune of its own holds the only handle.
pub struct SharedLlm(pub Arc<colt_llm::LlmClient>);

impl Llm for SharedLlm {
    fn bucket(&self) -> &Bucket {
        self.0.bucket()
    }
    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        self.0.call(model, req)
    }
    fn call_many(&mut self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        self.0.call_many(calls, max_in_flight)
    }
    fn concurrent(&self) -> bool {
        // As `LlmClient`'s own: a remote model in the bucket.
        (self.0.bucket().models().iter()).any(|m| m.provider != colt_llm::ProviderKind::Local)
    }
}

pub struct ReplayLlm<L> {
    inner: L,
    db: Db,
    run: RunId,
    recorded: VecDeque<CallRecord>,
    next_seq: u64,
    pub replayed: u64,
    /// First database error (the run goes on; the driver reports it).
    pub db_error: Option<String>,
}

impl<L: Llm> ReplayLlm<L> {
    pub fn new(inner: L, db: Db, run: RunId) -> anyhow::Result<Self> {
        let mut recorded = VecDeque::new();
        for row in db.llm_calls(run)? {
            let text = row.call.record.as_deref().unwrap_or("");
            let rec: CallRecord = serde_json::from_str(text).map_err(|e| {
                anyhow::anyhow!(
                    "run {run}: LLM call {} cannot be replayed: {e}",
                    row.call.seq
                )
            })?;
            recorded.push_back(rec);
        }
        Ok(ReplayLlm {
            inner,
            db,
            run,
            recorded,
            next_seq: 0,
            replayed: 0,
            db_error: None,
        })
    }

    fn store(&mut self, req: &Request, rec: &CallRecord) {
        let call = NewLlmCall {
            seq: self.next_seq,
            model: rec.model.clone(),
            role: rec.role.as_str().to_string(),
            ok: rec.is_ok(),
            error_kind: rec.outcome.as_ref().err().map(|f| f.kind().to_string()),
            latency_ms: rec.latency_ms as f64,
            input_tokens: rec.input_tokens(),
            cached_tokens: rec.cached_tokens(),
            output_tokens: rec.output_tokens(),
            cost_usd: rec.cost_usd,
            attempts: rec.attempts,
            prefix_hash: format!("{:016x}", colt_sched::key::fnv1a(req.prefix.as_bytes())),
            answer: rec.raw_text.clone().unwrap_or_default(),
            action: rec.outcome.as_ref().ok().map(|a| a.to_json().to_string()),
            record: Some(serde_json::to_string(rec).expect("call records serialise")),
        };
        if let Err(e) = self.db.insert_llm_call(self.run, &call) {
            self.db_error.get_or_insert(e.to_string());
        }
    }
}

impl<L: Llm> Llm for ReplayLlm<L> {
    fn bucket(&self) -> &Bucket {
        self.inner.bucket()
    }

    fn concurrent(&self) -> bool {
        self.inner.concurrent()
    }

    /// Recorded answers first (in order), the rest live and concurrently; stored in the
    /// order of `calls` either way, so a resumed run replays the same sequence.
    fn call_many(&mut self, calls: &[(String, Request)], max_in_flight: usize) -> Vec<CallRecord> {
        let mut out: Vec<Option<CallRecord>> = vec![None; calls.len()];
        let mut live = Vec::new();
        for (i, (model, req)) in calls.iter().enumerate() {
            match self.recorded.pop_front() {
                Some(r) if live.is_empty() && r.model == *model && r.role == req.role => {
                    self.replayed += 1;
                    out[i] = Some(r);
                }
                Some(_) => {
                    self.recorded.clear();
                    live.push(i);
                }
                None => live.push(i),
            }
        }
        if !live.is_empty() {
            let asks: Vec<(String, Request)> = live.iter().map(|&i| calls[i].clone()).collect();
            for (i, rec) in live.iter().zip(self.inner.call_many(&asks, max_in_flight)) {
                out[*i] = Some(rec);
            }
        }
        let mut recs = Vec::with_capacity(calls.len());
        for ((_, req), rec) in calls.iter().zip(out) {
            let rec = rec.expect("every call answered");
            self.store(req, &rec);
            self.next_seq += 1;
            recs.push(rec);
        }
        recs
    }

    fn call(&mut self, model: &str, req: &Request) -> CallRecord {
        let rec = match self.recorded.pop_front() {
            Some(r) if r.model == model && r.role == req.role => {
                self.replayed += 1;
                r
            }
            // The replay diverged (a different config or bucket): go live from here.
            Some(_) => {
                self.recorded.clear();
                self.inner.call(model, req)
            }
            None => self.inner.call(model, req),
        };
        // Idempotent by sequence number: a replayed call is already stored.
        self.store(req, &rec);
        self.next_seq += 1;
        rec
    }
}
