//! Where the model lives and how the llama.cpp context is sized.

use std::path::PathBuf;

/// File name of the default model (Gemma 3 270M base, Q4_K_M).
pub const DEFAULT_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// Settings for [`crate::LocalModel::load`].
#[derive(Debug, Clone, PartialEq)]
pub struct LocalModelConfig {
    /// Path to the GGUF file.
    pub path: PathBuf,
    /// Context window in tokens (prompt + generated). Default 8192: a prompt about a
    /// multi-stage workload (attention: five stages) is ~5,000 tokens with the answer.
    pub n_ctx: u32,
    /// CPU threads for generation (one token per step). Default: every core (at most 8):
    /// the tuner never times a kernel while it waits for the model, so the cores are free
    /// (measured on 2 quiet cores, `bench` example: Gemma 3 270M 22 → 33 tok/s, SmolLM2
    /// 135M 30 → 56 tok/s from 1 to 2 threads). ggml's threads spin at a barrier after
    /// every operation, so on a machine busy with other work, fewer threads than cores are
    /// faster (set `n_threads` in the model's config).
    pub n_threads: i32,
    /// CPU threads for prompt evaluation (batches of up to `n_batch` tokens: large matrix
    /// products, where the barrier costs little). Default: every core (at most 8); the
    /// tuner never measures kernels while it waits for the model (measured on 2 quiet
    /// cores: 16 CI-matmul COLT calls took 69 s with 1 thread, 46 s with 2).
    pub n_threads_batch: i32,
    /// Tokens per `llama_decode` call while evaluating a prompt.
    pub n_batch: u32,
    /// Load the Q4_0 conversion of `path` (made once, next to it; see [`crate::requant`])
    /// instead of the file itself.
    pub q4_0: bool,
    /// Folder where prompt states are kept between processes (see [`crate::kvstore`]);
    /// `None`: every process evaluates its first prompt in full.
    pub kv_dir: Option<PathBuf>,
}

impl Default for LocalModelConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        LocalModelConfig {
            path: default_model_path(),
            n_ctx: 8192,
            n_threads: i32::try_from(cores.clamp(1, 8)).unwrap_or(1),
            n_threads_batch: i32::try_from(cores.clamp(1, 8)).unwrap_or(1),
            n_batch: 512,
            q4_0: false,
            kv_dir: None,
        }
    }
}

/// `$COLT_MODEL_PATH` if set, else `$XDG_CACHE_HOME/colt/<file>` (or `~/.cache/colt/<file>`).
/// Keep in sync with `scripts/setup-model.sh`.
pub fn default_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("COLT_MODEL_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("colt").join(DEFAULT_MODEL_FILE)
}
