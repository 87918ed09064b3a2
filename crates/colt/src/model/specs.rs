//! A model's kernels as custom-operator specs, the workloads their tuning runs record.
//!
//! Each kernel's program is printed as spec text by `colt_ops::to_spec` and written to
//! `<database dir>/specs/<program>-<hash>.toml`, named by its content: the same kernel in
//! any model (or a later run of the same one) is the same workload, so `colt best`, `colt
//! tune --resume` of a task and `colt model build` all find its records, and the database
//! and the files its runs name stay side by side.

use anyhow::Context;
use colt_db::{BestFilter, Db};
use colt_onnx::library::{KernelRef, KernelSource};
use colt_onnx::{Kernel, Model};
use std::path::{Path, PathBuf};

/// The scale every spec workload is recorded at (a spec fixes its own shapes).
pub const SPEC_SCALE: &str = "ci";

/// A kernel as a spec workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSpec {
    /// Its index in the model's kernels.
    pub kernel: usize,
    /// The spec text.
    pub text: String,
    /// The spec file (absolute).
    pub path: PathBuf,
}

/// `<database dir>/specs`, absolute.
pub fn specs_dir(db: &Path) -> PathBuf {
    let dir = db.parent().unwrap_or(Path::new("")).join("specs");
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The spec of kernel `i` of a model in `dir`, or why the format cannot express it.
pub fn kernel_spec(i: usize, k: &Kernel, dir: &Path) -> Result<KernelSpec, String> {
    let text = colt_ops::to_spec(&k.program).map_err(|e| e.to_string())?;
    let hash = colt_measure::compile::content_hash(&[text.as_bytes()]);
    let name = colt_codegen::names::sanitize(&k.program.name, "kernel");
    Ok(KernelSpec {
        kernel: i,
        path: dir.join(format!("{name}-{}.toml", &hash[..12])),
        text,
    })
}

/// The specs of every kernel of `m` the format can express, and the others with why not.
pub fn kernel_specs(m: &Model, dir: &Path) -> (Vec<KernelSpec>, Vec<(usize, String)>) {
    let (mut specs, mut skipped) = (vec![], vec![]);
    for (i, k) in m.kernels.iter().enumerate() {
        match kernel_spec(i, k, dir) {
            Ok(s) => specs.push(s),
            Err(why) => skipped.push((i, why)),
        }
    }
    (specs, skipped)
}

/// Write the spec file unless it already holds this text; a file there with other text is
/// an error (never overwritten: runs on record name it).
pub fn write_spec(s: &KernelSpec) -> anyhow::Result<()> {
    match std::fs::read_to_string(&s.path) {
        Ok(t) if t == s.text => return Ok(()),
        Ok(_) => anyhow::bail!(
            "{} holds another spec than kernel {}'s; move it away",
            s.path.display(),
            s.kernel
        ),
        Err(_) => {}
    }
    let dir = s.path.parent().expect("a spec file is in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = s
        .path
        .with_extension(format!("toml.{}", std::process::id()));
    std::fs::write(&tmp, &s.text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &s.path).with_context(|| format!("cannot write {}", s.path.display()))
}

/// Which kernel the build uses for a task, and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Choice {
    /// The kernel's index.
    pub kernel: usize,
    /// `tuned` (the best on record), or `naive` and why.
    pub source: String,
    /// The best tuned latency on record (µs), if any.
    pub best_us: Option<f64>,
    /// The naive nest's latency on record (µs), if any.
    pub naive_us: Option<f64>,
    /// The run and trial of the tuned kernel.
    pub run: Option<i64>,
}

impl Choice {
    /// Kernel `kernel` naive, for `why`.
    pub fn naive(kernel: usize, why: &str) -> Choice {
        Choice {
            kernel,
            source: why.into(),
            best_us: None,
            naive_us: None,
            run: None,
        }
    }
}

/// The best kernel on record for `k` when it beats the naive nest's latency on record (or
/// none is recorded), as the C of the model library; `None` keeps the naive kernel. The
/// choice says which and why.
pub fn best_source(
    db: &Db,
    dir: &Path,
    k: &KernelRef,
) -> anyhow::Result<(Option<KernelSource>, Choice)> {
    let mut choice = Choice::naive(k.index, "naive");
    let spec = match kernel_spec(k.index, k.kernel, dir) {
        Ok(s) => s,
        Err(why) => {
            choice.source = format!("naive (not a spec: {why})");
            return Ok((None, choice));
        }
    };
    let filter = BestFilter::new(spec.path.display().to_string(), "tensor").scale(SPEC_SCALE);
    let Some(best) = db.best(&filter)? else {
        choice.source = "naive (not tuned)".into();
        return Ok((None, choice));
    };
    choice.best_us = best.candidate.latency_median_us;
    choice.naive_us = db.recorded_naive_us(&filter)?;
    choice.run = Some(best.run.0);
    if let (Some(b), Some(n)) = (choice.best_us, choice.naive_us)
        && b >= n
    {
        choice.source = "naive (faster than the best tuned kernel)".into();
        return Ok((None, choice));
    }
    let trace = colt_sched::Trace::from_json(&best.candidate.trace)
        .with_context(|| format!("run {} trial {}: the recorded trace", best.run, best.seq))?;
    let func = colt_sched::apply_trace(&k.kernel.program, &trace)
        .with_context(|| format!("run {}: the recorded trace no longer applies", best.run))?;
    choice.source = "tuned".into();
    let src = KernelSource::scheduled(&k.kernel.program, &func, k.symbol)?;
    Ok((Some(src), choice))
}
