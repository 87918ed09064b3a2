//! Typed schedule errors: an illegal primitive is data, never a panic.

use thiserror::Error;

/// What kind of problem a [`ScheduleError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No stage has the given name.
    UnknownStage,
    /// The stage has no loop with the given name.
    UnknownLoop,
    /// The program has no buffer with the given name.
    UnknownBuffer,
    /// Factors that do not multiply to the extent, a bad unroll step, ...
    BadDecision,
    /// The primitive is not legal on this loop nest (would change the result or is unsupported).
    Illegal,
    /// A trace made for another workload or a newer trace format.
    WrongTrace,
    /// The lowered nest failed verification (a bug guard: reported, never executed).
    Invalid,
    /// The trace replays but is not in canonical sketch form, so its decisions cannot be edited.
    NotSketch,
}

/// `<instruction>: <what is wrong>`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{inst}: {msg}")]
pub struct ScheduleError {
    /// What kind of problem it is.
    pub kind: ErrorKind,
    /// The instruction in its short text form, e.g. `split(C, i, [4, 16])`.
    pub inst: String,
    /// What is wrong, one line.
    pub msg: String,
}

impl ScheduleError {
    /// An error of `kind` at instruction `inst`.
    pub fn new(kind: ErrorKind, inst: impl Into<String>, msg: impl Into<String>) -> Self {
        ScheduleError {
            kind,
            inst: inst.into(),
            msg: msg.into(),
        }
    }
}

/// The result of a schedule operation.
pub type Result<T> = std::result::Result<T, ScheduleError>;
