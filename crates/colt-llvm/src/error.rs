//! Typed errors of the LLVM environment: every one prints as one line naming the problem
//! (a missing tool says how to install it).

use std::path::PathBuf;

/// Why the LLVM environment could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LlvmError {
    /// A required LLVM tool was not found; `hint` tells how to get it.
    #[error("{tool} not found: {hint}")]
    ToolMissing {
        /// The tool's name.
        tool: String,
        /// How to install it or point colt to it.
        hint: String,
    },
    /// A tool was found but is too old or does not answer `--version`.
    #[error("{tool} at {path}: {message}")]
    ToolUnusable {
        /// The tool's name.
        tool: String,
        /// Where it was found.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A tool ran and failed (first line of its error output).
    #[error("{tool} failed: {message}")]
    ToolFailed {
        /// The tool's name.
        tool: String,
        /// The first line of its error output.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The program given to tune is unusable (no sources, unknown extension, no main, ...).
    #[error("program {name}: {message}")]
    Program {
        /// The program's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A pass name not in the vocabulary.
    #[error("unknown pass \"{0}\" (see `colt show --space llvm` for the vocabulary)")]
    UnknownPass(String),
    /// An objective other than `size`, `runtime` or `memory`.
    #[error("unknown objective \"{0}\" (expected size|runtime|memory)")]
    UnknownObjective(String),
    /// A build or run option that cannot be used (a bad `--check` regex, ...).
    #[error("{option}: {message}")]
    BadOption {
        /// The option, as the command line names it.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// A benchmark program name not in [`crate::programs::BENCHMARKS`].
    #[error("unknown benchmark program \"{0}\"")]
    UnknownBenchmark(String),
    /// The search engine failed.
    #[error(transparent)]
    Search(#[from] colt_search::SearchError),
}

impl LlvmError {
    /// An [`LlvmError::Io`] for `path`.
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
