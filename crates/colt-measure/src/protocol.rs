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
    pub lib: PathBuf,
    pub symbol: String,
}

/// Comparison tolerance: element-wise `|a - b| <= atol + rtol * |b|` with
/// `atol = atol_scale * mean(|ref|)` over the finite elements of each output buffer.
/// Non-finite values must match in kind (NaN with NaN, +inf with +inf).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub rtol: f64,
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
    pub reference: KernelRef,
    pub buffers: Vec<BufSpec>,
    pub seed: u64,
}

/// Check (when a reference is given) and time one kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub kernel: KernelRef,
    pub reference: Option<KernelRef>,
    pub buffers: Vec<BufSpec>,
    pub seed: u64,
    pub tolerance: Tolerance,
    pub timing: Timing,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Ping,
    Reference(ReferenceSpec),
    Run(RunSpec),
    Shutdown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub op: Op,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Wrong,
    Error,
}

/// The first element outside the tolerance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadElement {
    pub buffer: String,
    pub index: u64,
    /// As text so that NaN and inf survive JSON.
    pub got: String,
    pub expected: String,
}

/// The final answer to a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: Status,
    #[serde(default)]
    pub repeats_us: Vec<f64>,
    /// Runs per repeat (0 when not timed).
    #[serde(default)]
    pub number: u64,
    /// Errors against the reference (absent without a check; `None` also when infinite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_abs_err: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rel_err: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadElement>,
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
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Response>,
}
