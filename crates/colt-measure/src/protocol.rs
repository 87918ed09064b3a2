//! The parent <-> worker protocol: newline-delimited JSON, one [`Request`] per line on the
//! worker's stdin, [`Reply`] lines on its stdout. Every reply echoes the request id. While a
//! request runs the worker sends `progress` replies after each phase (reference run, checked
//! run, each calibration step, each warm-up and timed repeat); the parent's deadline is a
//! per-phase deadline that restarts on each of them, so a hang is detected within one kernel
//! run's timeout however many repeats are requested. The last reply of a request carries
//! `done`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::inputs::BufSpec;

/// A loadable kernel: a shared object and the symbol to call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KernelRef {
    /// Path of the shared object.
    pub lib: PathBuf,
    /// The function to call.
    pub symbol: String,
}

/// Comparison tolerance: element-wise `|a - b| <= atol + rtol * |b|` with
/// `atol = atol_scale * mean(|ref|)` over the finite elements of each output buffer.
/// Non-finite values must match in kind (NaN with NaN, +inf with +inf).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance as a fraction of the mean magnitude of the reference output.
    pub atol_scale: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            rtol: 1e-3,
            atol_scale: 1e-3,
        }
    }
}

/// How to time a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Untimed repeats after calibration.
    pub warmup: u32,
    /// Timed repeats reported.
    pub repeats: u32,
    /// A repeat runs the kernel `number` times back to back, `number` chosen (doubling from
    /// 1) so that one repeat takes at least this long...
    pub min_repeat_ms: f64,
    /// ...but never more than this many runs.
    pub max_number: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            warmup: 1,
            repeats: 5,
            min_repeat_ms: 1.0,
            max_number: 1 << 20,
        }
    }
}

/// Establish the reference outputs for `(reference, seed, buffers)` (cached in the worker).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceSpec {
    /// The reference kernel.
    pub reference: KernelRef,
    /// The kernel's arguments, in order.
    pub buffers: Vec<BufSpec>,
    /// Seed of the input data.
    pub seed: u64,
}

/// Check (when a reference is given) and time one kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The kernel to run.
    pub kernel: KernelRef,
    /// The reference to check against (`None`: time only).
    pub reference: Option<KernelRef>,
    /// The kernel's arguments, in order.
    pub buffers: Vec<BufSpec>,
    /// Seed of the input data.
    pub seed: u64,
    /// How close the outputs must be to the reference's.
    pub tolerance: Tolerance,
    /// How to time the kernel.
    pub timing: Timing,
}

/// What a request asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Answer `ok` (liveness check).
    Ping,
    /// Compute and cache reference outputs.
    Reference(ReferenceSpec),
    /// Check and time a kernel.
    Run(RunSpec),
    /// Exit.
    Shutdown,
}

/// One line to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed in every reply.
    pub id: u64,
    /// What to do.
    pub op: Op,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done (and correct, when checked).
    Ok,
    /// The outputs are outside the tolerance.
    Wrong,
    /// The request failed; see `message`.
    Error,
}

/// The first element outside the tolerance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadElement {
    /// The output buffer's name.
    pub buffer: String,
    /// Element index within it.
    pub index: u64,
    /// As text so that NaN and inf survive JSON.
    pub got: String,
    /// The reference's value, as text.
    pub expected: String,
}

/// The final answer to a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// How the request ended.
    pub status: Status,
    /// Microseconds per kernel run of each timed repeat.
    #[serde(default)]
    pub repeats_us: Vec<f64>,
    /// Runs per repeat (0 when not timed).
    #[serde(default)]
    pub number: u64,
    /// Errors against the reference (absent without a check; `None` also when infinite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_abs_err: Option<f64>,
    /// Largest relative error (elements with a nonzero reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rel_err: Option<f64>,
    /// The first element outside the tolerance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadElement>,
    /// What went wrong (empty when nothing did).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Response {
    /// A bare `ok` response.
    pub fn ok() -> Self {
        Response {
            status: Status::Ok,
            ..Response::error("")
        }
    }
    /// An `error` response with this message.
    pub fn error(message: impl Into<String>) -> Self {
        Response {
            status: Status::Error,
            repeats_us: vec![],
            number: 0,
            max_abs_err: None,
            max_rel_err: None,
            first_bad: None,
            message: message.into(),
        }
    }
}

/// One line from the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id.
    pub id: u64,
    /// The phase just finished, while the request runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// The final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Response>,
}
