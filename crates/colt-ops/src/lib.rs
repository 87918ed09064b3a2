//! colt-ops: the operators colt tunes, as [`colt_ir::Program`]s.
//!
//! Three ways to get a program:
//! - a named workload at a [`Scale`] ([`build`], [`list`]): the fixed benchmark set, each
//!   with the model configuration its shape comes from;
//! - a parameterised builder ([`matmul`], [`conv2d`], [`attention`], ...) for any shape, which
//!   is what tests use to make small instances;
//! - a user-written TOML spec of tensors and tensor-comprehension stages
//!   ([`from_spec_str`], [`from_spec_file`]); see [`spec`] for the format. [`to_spec`] prints
//!   a program back as a spec.
//!
//! Every program follows the same conventions (row-major, weights `[K, N]`, short stage and
//! variable names, C-identifier program names); see [`builders`].

pub mod builders;
pub mod input;
mod lexer;
mod parser;
pub mod spec;
pub mod workloads;

pub use builders::{
    Conv2dShape, attention, batch_matmul, conv2d, dense, depthwise_conv2d, gemv, matmul,
    moe_experts, rmsnorm, softmax, swiglu_mlp,
};
pub use input::{MAX_INPUT_BYTES, read_input};
pub use spec::{from_spec_file, from_spec_file_for, from_spec_named, from_spec_str, to_spec};
pub use workloads::{build, build_for, info, list};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use thiserror::Error;

/// Problem size of the named workloads: `Ci` runs in seconds in tests and CI, `Paper` is the
/// shape reported in experiments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Small shapes that run in seconds (tests, CI).
    Ci,
    /// The shapes reported in experiments.
    Paper,
}

impl Scale {
    /// Both scales.
    pub const ALL: [Scale; 2] = [Scale::Ci, Scale::Paper];
    /// The lower-case name (`ci`, `paper`), as parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Ci => "ci",
            Scale::Paper => "paper",
        }
    }
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Scale, String> {
        match s {
            "ci" => Ok(Scale::Ci),
            "paper" => Ok(Scale::Paper),
            _ => Err(format!("unknown scale \"{s}\" (expected ci or paper)")),
        }
    }
}

/// A named workload at one scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkloadInfo {
    /// The workload's name.
    pub name: &'static str,
    /// One line on what it computes.
    pub description: &'static str,
    /// Where the shape comes from (model configuration, paper).
    pub source: &'static str,
    /// The shape parameters at this scale.
    pub shapes: BTreeMap<String, i64>,
    /// [`colt_ir::Program::flops`] of the built program.
    pub flops: u64,
}

/// Why no program was built.
#[derive(Debug, Error)]
pub enum OpsError {
    /// No built-in workload has this name.
    #[error("unknown workload \"{name}\"; known workloads: {known}")]
    UnknownWorkload {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// Shape overrides of a named workload (`matmul:M=197`) that are not valid.
    #[error("workload \"{workload}\": {msg}")]
    Shape {
        /// The workload as asked for, overrides included.
        workload: String,
        /// What is wrong.
        msg: String,
    },
    /// A malformed operator spec: `msg` is one line naming what and where.
    #[error("{}{msg}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
    Spec {
        /// The spec file, when the spec came from one.
        file: Option<PathBuf>,
        /// What is wrong, and where.
        msg: String,
    },
    /// [`to_spec`] was asked for a program the spec format cannot express.
    #[error("program \"{program}\" cannot be written as a spec: {msg}")]
    Unexpressible {
        /// The program's name.
        program: String,
        /// What the format cannot say, and where.
        msg: String,
    },
    /// A spec file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
