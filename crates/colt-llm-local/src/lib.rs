//! colt-llm-local: an embedded, in-process LLM (llama.cpp through `llama-cpp-2`) for
//! proposing schedule transformations without a server.
//!
//! The default model is Gemma 3 270M (base, Q4_K_M GGUF); `scripts/setup-model.sh` puts it
//! at [`default_model_path`]. [`LocalModel::complete`] keeps the KV cache between calls and
//! re-evaluates only the tokens after the longest common prefix with the previous prompt,
//! so keep the stable part of a prompt (instructions, program) first, in `prefix`.
//!
//! # Building llama-cpp-2
//!
//! - Needs `cmake`, a C++ compiler and libclang (bindgen); if libclang is not found set
//!   `LIBCLANG_PATH=/usr/lib/llvm-22/lib` (Debian packages `cmake libclang-22-dev clang-22`).
//! - The crate's default features are disabled: no `openmp` (ggml uses its own thread
//!   pool, no libgomp needed), no GPU backends (`cuda`, `vulkan`, ...). Only `common` is
//!   on: its C++ shims turn exceptions (e.g. from grammar parsing) into errors instead of
//!   aborting the process.
//! - llama.cpp compiles from source in the build script: several minutes on 2 cores, once.
//!   The workspace's `opt-level = 2` for dependencies applies to the Rust side only;
//!   cmake builds llama.cpp in Release mode anyway.
//!
//! # Logs
//!
//! llama.cpp's own logging is discarded; set `COLT_LLAMA_LOG=1` to route it to `tracing`.

mod config;
mod error;
pub mod kvstore;
mod model;
pub mod requant;

pub use config::{DEFAULT_MODEL_FILE, LocalModelConfig, default_model_path};
pub use error::LocalError;
pub use model::{Completion, CompletionRequest, Finish, Forced, Forcing, LocalModel};
