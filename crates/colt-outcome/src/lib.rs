//! colt-outcome: how the measurement of one candidate ended, in one vocabulary.
//!
//! Every environment (tensor schedules, LLVM pass orderings), the search engine, the run
//! recorder and the tuning database speak of a measurement's end with one type,
//! [`OutcomeKind`], so that no crate translates another's names and a new class cannot
//! silently turn into `error` on the way to the database.
//!
//! It has a crate of its own because its users share no other dependency that could hold
//! it: colt-measure and colt-search sit on the IR and the LLM layer, colt-db on SQLite, and
//! none of them should pull in another's (SQLite into the search engine, the LLM client into
//! the database).
//!
//! The names are stable: they are stored in the database and printed in JSON. Names that
//! earlier versions wrote (`wrong_answer`, `build_error`) are still read, as the class they
//! meant.
//!
//! ```
//! use colt_outcome::OutcomeKind;
//! assert_eq!(OutcomeKind::WrongResult.to_string(), "wrong_result");
//! assert_eq!("wrong_answer".parse(), Ok(OutcomeKind::WrongResult));
//! assert_eq!(serde_json::to_string(&OutcomeKind::OptError).unwrap(), "\"opt_error\"");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How the measurement of one candidate ended. Serialised, stored and shown by its
/// snake_case name ([`OutcomeKind::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum OutcomeKind {
    /// Built, ran and gave the reference's answer (and was timed where the objective needs
    /// it).
    Ok,
    /// The output differs from the reference's (beyond the tolerance). Also read from the
    /// older name `wrong_answer`.
    WrongResult,
    /// The candidate died (a signal, a non-zero exit status) or could not be started.
    Crash,
    /// The candidate ran past its time limit.
    Timeout,
    /// The candidate's code did not compile or link (a C kernel; optimised LLVM IR to an
    /// executable). Also read from the older name `build_error`.
    CompileError,
    /// The schedule does not apply to the workload (tensor space).
    ScheduleError,
    /// `opt` rejected the pass pipeline (LLVM space).
    OptError,
    /// Correct, but without the value the objective needs (LLVM space).
    NoValue,
    /// The environment reported a latency that is not finite and positive.
    BadLatency,
    /// The environment returned no measurement for the candidate.
    Missing,
    /// A tool the measurement needs does not exist here (e.g. no clang): not the
    /// candidate's fault.
    Unavailable,
    /// Anything else that went wrong around the candidate (I/O, the measurement worker):
    /// not the candidate's fault.
    Error,
}

impl OutcomeKind {
    /// Every class, in declaration order (the order of reports and tables).
    pub const ALL: &'static [OutcomeKind] = &[
        OutcomeKind::Ok,
        OutcomeKind::WrongResult,
        OutcomeKind::Crash,
        OutcomeKind::Timeout,
        OutcomeKind::CompileError,
        OutcomeKind::ScheduleError,
        OutcomeKind::OptError,
        OutcomeKind::NoValue,
        OutcomeKind::BadLatency,
        OutcomeKind::Missing,
        OutcomeKind::Unavailable,
        OutcomeKind::Error,
    ];

    /// Names written by earlier versions, with the class each is read as.
    pub const OLD_NAMES: &'static [(&'static str, OutcomeKind)] = &[
        ("wrong_answer", OutcomeKind::WrongResult),
        ("build_error", OutcomeKind::CompileError),
    ];

    /// The stable snake_case name (stored in the database, printed in JSON and reports).
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::WrongResult => "wrong_result",
            OutcomeKind::Crash => "crash",
            OutcomeKind::Timeout => "timeout",
            OutcomeKind::CompileError => "compile_error",
            OutcomeKind::ScheduleError => "schedule_error",
            OutcomeKind::OptError => "opt_error",
            OutcomeKind::NoValue => "no_value",
            OutcomeKind::BadLatency => "bad_latency",
            OutcomeKind::Missing => "missing",
            OutcomeKind::Unavailable => "unavailable",
            OutcomeKind::Error => "error",
        }
    }

    /// Whether the candidate was measured correctly.
    pub fn is_ok(self) -> bool {
        self == OutcomeKind::Ok
    }

    /// A failure that says nothing about the candidate (a missing tool, an I/O error): a
    /// run whose every trial ends so measured nothing.
    pub fn is_tool_failure(self) -> bool {
        matches!(self, OutcomeKind::Unavailable | OutcomeKind::Error)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutcomeKind {
    type Err = String;

    /// The class of a current or an older name.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(k) = OutcomeKind::ALL.iter().find(|k| k.as_str() == s) {
            return Ok(*k);
        }
        if let Some((_, k)) = OutcomeKind::OLD_NAMES.iter().find(|(n, _)| *n == s) {
            return Ok(*k);
        }
        let names: Vec<&str> = OutcomeKind::ALL.iter().map(|k| k.as_str()).collect();
        Err(format!(
            "unknown outcome '{s}' (expected one of: {})",
            names.join(", ")
        ))
    }
}

impl From<OutcomeKind> for &'static str {
    fn from(k: OutcomeKind) -> &'static str {
        k.as_str()
    }
}

impl TryFrom<String> for OutcomeKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_text_and_json() {
        for k in OutcomeKind::ALL {
            assert_eq!(k.as_str().parse::<OutcomeKind>(), Ok(*k));
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<OutcomeKind>(&json).unwrap(), *k);
        }
        let mut names: Vec<&str> = OutcomeKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OutcomeKind::ALL.len(), "names are distinct");
    }

    #[test]
    fn old_names_are_read_as_their_class() {
        assert_eq!(
            "wrong_answer".parse::<OutcomeKind>(),
            Ok(OutcomeKind::WrongResult)
        );
        assert_eq!(
            serde_json::from_str::<OutcomeKind>("\"build_error\"").unwrap(),
            OutcomeKind::CompileError
        );
        for (old, _) in OutcomeKind::OLD_NAMES {
            assert!(
                OutcomeKind::ALL.iter().all(|k| k.as_str() != *old),
                "{old} is not written any more"
            );
        }
    }

    #[test]
    fn an_unknown_name_is_an_error_that_lists_the_names() {
        let e = "segfault".parse::<OutcomeKind>().unwrap_err();
        assert!(
            e.starts_with("unknown outcome 'segfault' (expected one of: ok, wrong_result,"),
            "{e}"
        );
        assert!(serde_json::from_str::<OutcomeKind>("\"segfault\"").is_err());
    }
}
