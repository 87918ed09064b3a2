//! colt-llvm: the second search space of colt — LLVM pass ordering with the real `opt`,
//! plugged into the same engine (`colt_search::run`) through the `Environment` trait.
//!
//! - [`tools`]: finding opt/clang/llc/llvm-link (LLVM 22 preferred, 14+ accepted) and gcc;
//! - [`passes`]: the pass vocabulary with optimization types, pipeline strings, validation
//!   against the `opt` in use;
//! - [`program`]: programs (C files, an `.ll`, embedded code), start IR, the -O0
//!   reference output, builds and checked runs;
//! - [`run`]: build flags, arguments, standard input and the streamed output check;
//! - [`sketch`]: structured random sequences and mutations;
//! - [`env`](mod@env): [`LlvmEnv`], the `Environment` (objectives `size`, `runtime`, `memory`);
//! - [`excerpt`]: the program's code as the LLM prompt shows it;
//! - [`ir`]: instruction counts, Autophase-style features, ELF `.text` size;
//! - [`baseline`]: clang -O0..-Oz and gcc -O3/-Os references;
//! - [`programs`]: the benchmark programs;
//! - [`retime`]: the final round-robin timing that picks the result of a timed objective;
//! - [`bench`](mod@bench): tuning helpers, ablation per optimization type, the benchmark report.

pub mod baseline;
pub mod bench;
pub mod env;
pub mod error;
pub mod excerpt;
pub mod ir;
pub mod passes;
pub mod program;
pub mod programs;
pub mod retime;
pub mod run;
pub mod sketch;
pub mod tools;

pub use bench::{BenchOptions, BenchReport, bench, bench_any, tune};
pub use env::{CandidateResult, EnvConfig, FeatureMode, LlvmEnv, Objective};
pub use error::LlvmError;
pub use passes::{OptType, PassVocab};
pub use program::Program;
pub use run::{OutputCheck, RunOptions};
pub use tools::Toolchain;
