//! colt-tensor: the tensor-program environment.
//!
//! Joins the compiler core into the one operation the rest of colt needs: *workload + trace →
//! measured outcome*. It resolves a workload (built-in name or custom spec file), replays a
//! schedule trace on it, emits C, and measures it with the isolated worker next to the naive
//! GCC -O3 / LLVM -O3 baselines. The search environment for tensor programs (what `colt tune`
//! hands to the search engine) lives here too, so `colt-search` never sees a tensor.
//!
//! - [`workload`]: name or spec path → [`colt_ir::Program`].
//! - [`kernel`]: program + trace → lowered function, C source, buffer list.
//! - [`session`]: a measuring session: reference, baselines, batches of traces.
//! - [`env`](mod@env): [`TensorEnv`], the `colt_search::Environment` of tensor programs.

pub mod env;
pub mod kernel;
pub mod session;
pub mod workload;

pub use env::{OutcomeLog, TensorEnv};
pub use kernel::{Kernel, KernelText, kernel_text};
pub use session::{Baselines, Session, SessionConfig, check_fits};
pub use workload::{WorkloadError, resolve, resolve_for};
