//! Typed errors of the LLVM environment: every one prints as one line naming the problem
//! (a missing tool says how to install it).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LlvmError {
    /// A required LLVM tool was not found; `hint` tells how to get it.
    #[error("{tool} not found: {hint}")]
    ToolMissing { tool: String, hint: String },
    /// A tool was found but is too old or does not answer `--version`.
    #[error("{tool} at {path}: {message}")]
    ToolUnusable {
        tool: String,
        path: PathBuf,
        message: String,
    },
    /// A tool ran and failed (first line of its error output).
    #[error("{tool} failed: {message}")]
    ToolFailed { tool: String, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// The program given to tune is unusable (no sources, unknown extension, no main, ...).
    #[error("program {name}: {message}")]
    Program { name: String, message: String },
    #[error("unknown pass \"{0}\" (see `colt show --space llvm` for the vocabulary)")]
    UnknownPass(String),
    #[error("unknown objective \"{0}\" (expected size|runtime)")]
    UnknownObjective(String),
    #[error("unknown benchmark program \"{0}\"")]
    UnknownBenchmark(String),
    #[error(transparent)]
    Search(#[from] colt_search::SearchError),
}

impl LlvmError {
    pub fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> LlvmError {
        LlvmError::Io {
            path: path.into(),
            message: e.to_string(),
        }
    }
}

/// The first non-empty line of a tool's error output (for one-line errors).
pub fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)");
    line.chars().take(300).collect()
}
