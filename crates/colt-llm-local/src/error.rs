//! Errors of the local model; each `Display` is one line.

use std::path::PathBuf;

/// What can go wrong when loading or running the local model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocalError {
    /// The GGUF file is not there.
    #[error(
        "local model not found at {}: run scripts/setup-model.sh (or set COLT_MODEL_PATH)",
        path.display()
    )]
    ModelMissing {
        /// Where the model was looked for.
        path: PathBuf,
    },
    /// llama.cpp could not load the model or create a context.
    #[error("cannot load local model: {0}")]
    Load(String),
    /// The GBNF grammar does not parse (or has no `root` rule).
    #[error("invalid GBNF grammar: {0}")]
    Grammar(String),
    /// Evaluation failed inside llama.cpp (or the model thread died).
    #[error("local model decode failed: {0}")]
    Decode(String),
    /// The request's time limit passed (the KV cache stays consistent).
    #[error("local completion exceeded its time limit of {ms} ms")]
    Timeout {
        /// The limit in milliseconds.
        ms: u64,
    },
    /// Prompt plus `max_tokens` does not fit in the context window.
    #[error("context overflow: needs {needed} tokens (prompt + max_tokens), context holds {n_ctx}")]
    ContextOverflow {
        /// Prompt plus `max_tokens`, in tokens.
        needed: u32,
        /// The context window, in tokens.
        n_ctx: u32,
    },
}
