//! colt-sched: schedules as data.
//!
//! - [`Schedule`]: per-stage loop state and the primitives (split, reorder, fuse, parallel,
//!   vectorize, unroll, auto-unroll, compute-at, compute-inline, compute-with, cache-write,
//!   pack, partition).
//! - [`Trace`]: the instructions with their decisions; versioned JSON; deterministic replay.
//! - [`lower`](Schedule::lower): schedule -> verified `colt_ir::Func`.
//! - [`sketch`]: CPU design-space rules (multi-level tiling SSRSRS, auto-inline, parallel /
//!   vectorize / unroll) and seeded random sampling of traces.
//! - [`mutate`](mod@mutate): decision mutators (tile size, unroll, parallel, compute location).
//! - [`actions`]: a small vocabulary of validated decision edits for LLM proposers, and the
//!   prompt description of a trace.
//! - [`key`]: deterministic structural keys (FNV-1a) for deduplication.

pub mod actions;
pub mod batch;
pub mod error;
pub mod group;
pub mod key;
pub mod lower;
pub mod mutate;
pub mod partition;
pub mod region;
pub mod register;
pub mod sketch;
pub mod state;
pub mod trace;

pub use actions::{
    Action, ActionChoice, Choices, VOCABULARY, apply_action, choices, describe, random_action,
};
pub use error::{ErrorKind, ScheduleError};
pub use key::{func_key, structural_key, trace_key};
pub use mutate::{Mutator, MutatorProbs, mutate};
pub use register::VectorTarget;
pub use sketch::{
    Placement, Sketch, StageDecision, sample, sample_for, try_sample, try_sample_for,
};
pub use state::{Attach, SLoop, Schedule, StageSched};
pub use trace::{Inst, LoopFactors, StageLoop, TRACE_VERSION, Trace};

/// Replay a trace and lower it in one step.
pub fn apply_trace(program: &colt_ir::Program, trace: &Trace) -> error::Result<colt_ir::Func> {
    Schedule::replay(program, trace)?.lower()
}
