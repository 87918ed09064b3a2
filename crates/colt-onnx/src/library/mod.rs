//! Building a model into one C library in a directory:
//!
//! - `kernels/k<i>.c`: kernel `i` (one per distinct task program), exporting
//!   `void model_k<i>(float* const* bufs)` with `bufs` in the order of the program's buffers
//!   (a spec's order: inputs, then each stage's output) followed by a tuned kernel's extra
//!   temporaries;
//! - `model.c`: the weights as C arrays (exact float literals), the static arena of the
//!   memory plan and `model_run`, which calls the kernels in task order;
//! - `model.h`: `int model_run(const float* const* inputs, float* const* outputs)` (0 on
//!   success, 1 on a null pointer), the input and output names and sizes;
//! - `libmodel.a`: all of it compiled with `colt_codegen::C_FLAGS` by `$CC` (link with
//!   `-fopenmp -lm`).
//!
//! Inputs and outputs are dense row-major float32 arrays of any alignment (kernels assume
//! 64-byte alignment, so an unaligned one is copied through the arena). `model_run` uses
//! one static arena: one call at a time.

mod compile;
mod csource;
pub mod plan;

pub use compile::{compile_library, link_program};

use crate::error::{OnnxError, Result, io, one_line};
use crate::tasks::{Kernel, Model};
use colt_ir::{BufKind, Func, Program};
use std::path::{Path, PathBuf};

/// The C of a kernel: it exports `void <symbol>(float* const* bufs)` with the symbol of
/// its [`KernelRef`], taking the program's buffers in order and then `extra_temps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSource {
    /// The C translation unit.
    pub code: String,
    /// Lengths (floats) of the temporaries it takes after the program's buffers (a
    /// schedule's packed copies); empty for the naive kernel.
    pub extra_temps: Vec<usize>,
}

impl KernelSource {
    /// The C of `func`, a schedule of `program` (a tuner's best kernel), exporting
    /// `symbol`: the program's buffers are its first parameters, in order, and the buffers
    /// it adds (packed copies) become extra temporaries. A function whose parameters are not
    /// so (another program's, or reordered) is an error.
    pub fn scheduled(program: &Program, func: &Func, symbol: &str) -> Result<KernelSource> {
        let fail = |msg: String| OnnxError::Build {
            what: format!("kernel {symbol} ({})", program.name),
            msg,
        };
        let own = program.buffers.len();
        if func.buffers.len() < own {
            return Err(fail(
                "the schedule has fewer buffers than the program".into(),
            ));
        }
        for (p, f) in program.buffers.iter().zip(&func.buffers) {
            if p.name != f.name || p.len() != f.len() {
                return Err(fail(format!(
                    "buffer {} of the schedule is not the program's {}",
                    f.name, p.name
                )));
            }
        }
        let mut slots = vec![];
        let mut extra_temps = vec![];
        for b in func.params() {
            let i = b.0 as usize;
            if i < own {
                slots.push(i);
            } else {
                slots.push(own + extra_temps.len());
                extra_temps.push(func.buffer(b).len());
            }
        }
        if slots.iter().enumerate().any(|(k, &i)| k != i) {
            return Err(fail(
                "the schedule takes the program's buffers in another order".into(),
            ));
        }
        let code =
            colt_codegen::emit_c(func, symbol).map_err(|e| fail(one_line(&e.to_string())))?;
        Ok(KernelSource { code, extra_temps })
    }
}

/// A kernel to build, as the caller's substitution sees it.
#[derive(Clone, Copy, Debug)]
pub struct KernelRef<'a> {
    /// Its index in [`Model::kernels`].
    pub index: usize,
    /// The kernel (its program is what a tuner schedules).
    pub kernel: &'a Kernel,
    /// The symbol its C must export.
    pub symbol: &'a str,
}

/// What [`build`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOutput {
    /// `model.h`.
    pub header: PathBuf,
    /// `model.c` and the kernels' C files.
    pub sources: Vec<PathBuf>,
    /// `libmodel.a`.
    pub library: PathBuf,
    /// Floats of the static arena.
    pub arena_floats: usize,
    /// How many kernels came from the substitution (the rest are naive).
    pub tuned: usize,
}

/// The symbol of kernel `i`.
pub fn kernel_symbol(i: usize) -> String {
    format!("model_k{i}")
}

/// Write the sources of `model` into `dir` and compile `libmodel.a` there. `tuned` may
/// give the C of any kernel (e.g. the best schedule found by a tuner); every other kernel
/// is the naive nest of its program.
pub fn build(
    model: &Model,
    dir: &Path,
    mut tuned: impl FnMut(KernelRef) -> Option<KernelSource>,
) -> Result<BuildOutput> {
    std::fs::create_dir_all(dir.join("kernels")).map_err(io(dir))?;
    let mut sources = vec![];
    let mut kernels = vec![];
    let mut n_tuned = 0;
    for (i, k) in model.kernels.iter().enumerate() {
        let symbol = kernel_symbol(i);
        let src = match tuned(KernelRef {
            index: i,
            kernel: k,
            symbol: &symbol,
        }) {
            Some(s) => {
                n_tuned += 1;
                s
            }
            None => naive(k, &symbol, i)?,
        };
        let path = dir.join("kernels").join(format!("k{i}.c"));
        std::fs::write(&path, &src.code).map_err(io(&path))?;
        sources.push(path);
        kernels.push(src);
    }
    let c = csource::Sources::new(model, &kernels);
    let header = dir.join("model.h");
    std::fs::write(&header, c.header()).map_err(io(&header))?;
    let main = dir.join("model.c");
    std::fs::write(&main, c.model_c()).map_err(io(&main))?;
    sources.insert(0, main);
    let library = compile_library(dir, &sources)?;
    Ok(BuildOutput {
        header,
        sources,
        library,
        arena_floats: c.arena_floats(),
        tuned: n_tuned,
    })
}

/// The naive kernel of `k`: its program lowered without a schedule.
fn naive(k: &Kernel, symbol: &str, i: usize) -> Result<KernelSource> {
    let code = colt_codegen::emit_c(&k.program.naive(), symbol).map_err(|e| OnnxError::Build {
        what: format!("kernel {i} ({})", k.label),
        msg: crate::error::one_line(&e.to_string()),
    })?;
    Ok(KernelSource {
        code,
        extra_temps: vec![],
    })
}

/// Lengths of a kernel's temporaries: the program's, then the extra ones.
fn temp_lens(k: &Kernel, src: &KernelSource) -> Vec<usize> {
    let own = k
        .program
        .buffers
        .iter()
        .filter(|b| matches!(b.kind, BufKind::Temp | BufKind::Local))
        .map(|b| b.len());
    own.chain(src.extra_temps.iter().copied()).collect()
}
