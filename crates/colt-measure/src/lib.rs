//! colt-measure: compile generated C kernels, run them in an isolated worker process, check
//! them against a reference and time them.
//!
//! Apart from the [`kernel`] bridge this crate knows nothing about the IR. It receives C source text exporting
//! `void <symbol>(float* const* bufs)` and a list of [`BufSpec`]s (`bufs[i]` is buffer `i`,
//! 64-byte aligned, `len` floats). Inputs get deterministic random data
//! ([`inputs::fill_input`]), outputs and temporaries are NaN-poisoned before checked runs.
//!
//! - [`mod@compile`]: `cc` invocation, presets, content-hashed cache, parallel batches.
//! - [`protocol`]: the newline-delimited JSON spoken with the `colt-worker` binary.
//! - [`worker`]: the code that runs inside that binary (loading, checking, timing).
//! - [`runner`]: the parent side: spawn, per-phase deadline, crash/timeout, respawn.
//! - [`measure`]: [`Measurer::measure_batch`] and the [`Outcome`] records.
//! - [`kernel`]: from a `colt_ir::Func` to a [`Candidate`] (C via `colt-codegen`, buffers).
//! - [`stats`], [`inputs`]: helpers.
//!
//! A kernel can crash, hang, print, or compute garbage: each is an [`OutcomeKind`], never a
//! failure of the caller.

pub mod child;
pub mod compile;
pub mod inputs;
pub mod kernel;
pub mod machine;
pub mod measure;
pub mod protocol;
pub mod runner;
pub mod stats;
pub mod worker;

pub use compile::{
    Artifact, CompileError, Compiler, DEFAULT_SYMBOL, Source, compile, compile_batch,
};
pub use inputs::{BufRole, BufSpec};
pub use machine::{MachineLimits, machine_key, measure_limits, vector_isa};
pub use measure::{Candidate, MeasureConfig, Measurer, Outcome, OutcomeKind};
pub use protocol::{Timing, Tolerance};
pub use runner::{MeasureError, RunReply, Runner, WorkerCommand};
