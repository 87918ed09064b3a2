//! colt-db: the tuning database.
//!
//! A tuning run is expensive (every candidate is compiled and timed, every LLM call costs
//! money), so its records go to an SQLite file as they happen: the run's identity (config,
//! seed, versions, target), each measured candidate, each LLM call with its accounting,
//! and the search tree's nodes; a whole model's tuning (`colt model tune`) adds a model run
//! with the task run of each kernel and the scheduler's rounds. That file is what `colt tune --resume` continues from
//! after a `kill -9`, what `colt runs` lists, and what `colt best` exports from.
//!
//! The crate stores plain data (strings, numbers, JSON text) and knows nothing about
//! tensors or LLM clients; the crates that produce traces and answers own their formats.
//!
//! ```
//! use colt_db::{Db, NewRun, NewCandidate, OutcomeKind};
//! let db = Db::open_in_memory().unwrap();
//! let run = db.create_run(&NewRun {
//!     strategy: "evolutionary".into(), workload: "matmul".into(), space: "tensor".into(),
//!     scale: "ci".into(), seed: 1, trials: 64, config: String::new(),
//!     versions: "colt 0.1.0".into(), target: "x86_64 gcc".into(), inputs: Default::default(),
//! }).unwrap();
//! let cand = NewCandidate {
//!     key: "a1b2".into(), trace: "[]".into(), predicted: Some(0.5), outcome: OutcomeKind::Ok,
//!     latency_median_us: Some(12.5), latency_min_us: Some(12.0), gflops: Some(3.2),
//!     message: None, source: "evolutionary".into(),
//! };
//! let (row, inserted) = db.insert_candidate(run, &cand).unwrap();
//! assert!(inserted && row.seq == 0);
//! let (again, inserted) = db.insert_candidate(run, &cand).unwrap();
//! assert!(!inserted && again == row);
//! ```

mod candidates;
mod db;
mod error;
mod llm_calls;
mod models;
mod nodes;
mod records;
mod schema;
mod stats;

/// How a candidate's measurement ended (the one outcome class of every crate).
pub use colt_outcome::OutcomeKind;
pub use db::{Db, DbOptions};
pub use error::{DbError, Result};
pub use models::NewModelTask;
pub use records::{
    BestFilter, CandidateRow, LlmCallRow, ModelRound, ModelRunId, ModelRunRow, ModelStats,
    ModelTask, NewCandidate, NewLlmCall, NewModelRun, NewRun, Node, RunId, RunRow, RunStats,
    RunStatus, SourceStats,
};
pub use schema::SCHEMA_VERSION;
