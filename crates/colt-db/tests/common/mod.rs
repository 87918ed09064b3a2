//! Shared test helpers: scratch directories under Cargo's target tmpdir and sample records.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use colt_db::{NewCandidate, NewLlmCall, NewRun, Node, OutcomeKind};

/// A fresh directory removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("colt-db-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn db(&self) -> PathBuf {
        self.0.join("nested/dir/tune.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn new_run(workload: &str, scale: &str) -> NewRun {
    NewRun {
        strategy: "colt".into(),
        workload: workload.into(),
        space: "tensor".into(),
        scale: scale.into(),
        seed: u64::MAX - 3,
        trials: 64,
        config: "[search]\nlambda = 0.5\n".into(),
        versions: "colt 0.1.0".into(),
        target: "x86_64 gcc-14 -O3".into(),
        inputs: [("spec.toml".to_string(), "name = \"x\"\n".to_string())].into(),
    }
}

pub fn candidate(key: &str, latency: Option<f64>) -> NewCandidate {
    NewCandidate {
        key: key.into(),
        trace: format!(r#"{{"version":1,"insts":[{{"prim":"split","key":"{key}"}}]}}"#),
        predicted: Some(0.25),
        outcome: if latency.is_some() {
            OutcomeKind::Ok
        } else {
            OutcomeKind::CompileError
        },
        latency_median_us: latency,
        latency_min_us: latency.map(|l| l * 0.9),
        gflops: latency.map(|l| 1000.0 / l),
        message: if latency.is_some() {
            None
        } else {
            Some("error: 'x' undeclared".into())
        },
        source: "evolutionary".into(),
    }
}

pub fn llm_call(seq: u64, model: &str, ok: bool) -> NewLlmCall {
    NewLlmCall {
        seq,
        model: model.into(),
        role: "expand".into(),
        ok,
        error_kind: if ok { None } else { Some("parse".into()) },
        latency_ms: 812.5,
        input_tokens: 1500,
        cached_tokens: 1024,
        output_tokens: 120,
        cost_usd: 0.0031,
        attempts: 1,
        prefix_hash: "9f86d081".into(),
        answer: "ACTION: tile(i, 32)\nNEXT: small\n".into(),
        action: if ok {
            Some(r#"{"tile":["i",32]}"#.into())
        } else {
            None
        },
        record: ok.then(|| format!(r#"{{"model":"{model}","seq":{seq}}}"#)),
    }
}

pub fn node(id: u64, parent: Option<u64>) -> Node {
    Node {
        node_id: id,
        parent,
        depth: parent.map_or(0, |_| 1),
        model: parent.map(|_| "large".into()),
        state: format!(r#"{{"trace":[{id}]}}"#),
        visits: 0,
        value: 0.0,
        predicted: None,
        measured: None,
        terminal: false,
    }
}
