//! Workload resolution: a built-in name (`matmul`, `llama3-8b-attention`, ...) at a scale, or
//! the path of a custom operator spec (`*.toml`).

use colt_ir::Program;
use colt_ops::{OpsError, Scale};
use std::path::Path;
use thiserror::Error;

/// A workload that could not be resolved: an unknown name or a bad spec file.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct WorkloadError(#[from] OpsError);

/// `spec` names a built-in workload, or is a path to a TOML operator spec (anything ending
/// in `.toml` or naming an existing file). The scale applies to built-in workloads only. The
/// layout is for no target in particular ([`colt_ir::DEFAULT_LANES`]; see [`resolve_for`]).
pub fn resolve(spec: &str, scale: Scale) -> Result<Program, WorkloadError> {
    resolve_for(spec, scale, colt_ir::DEFAULT_LANES)
}

/// [`resolve`] laid out for vector registers of `lanes` f32 values
/// ([`colt_ir::layout_rewrites`]).
pub fn resolve_for(spec: &str, scale: Scale, lanes: i64) -> Result<Program, WorkloadError> {
    let path = Path::new(spec);
    if spec.ends_with(".toml") || path.is_file() {
        return Ok(colt_ops::from_spec_file_for(path, lanes)?);
    }
    Ok(colt_ops::build_for(spec, scale, lanes)?)
}
