//! From a lowered [`colt_ir::Func`] to what the measurer takes: C source (via
//! `colt-codegen`), the buffer list and the flop count.
//!
//! The rest of the crate speaks only C and [`BufSpec`]s; this module is the one bridge, so
//! that a caller goes `Func -> Candidate -> Outcome` in two calls:
//!
//! ```text
//! let reference = kernel::source(&program.naive())?;
//! let cand = kernel::candidate(&scheduled, Compiler::tuned(), program.flops() as f64)?;
//! let outcomes = measurer.measure_batch(&reference, &[cand]);
//! ```
//!
//! Buffers: `bufs[i]` is the `i`-th parameter of [`Func::params`] (inputs, outputs and
//! temporaries in buffer-table order). Schedules only append buffers (packed copies, caches
//! are locals), so a scheduled function's parameter list extends the naive one: the
//! reference reads the same inputs at the same indices and ignores the extra temporaries.

use colt_codegen::CodegenError;
use colt_ir::{BufKind, Func};

use crate::compile::{Compiler, DEFAULT_SYMBOL, Source};
use crate::inputs::{BufRole, BufSpec};
use crate::measure::Candidate;

/// The buffer list of `f`, in `bufs[i]` order.
pub fn buf_specs(f: &Func) -> Vec<BufSpec> {
    f.params()
        .into_iter()
        .map(|b| {
            let buf = f.buffer(b);
            let role = match buf.kind {
                BufKind::Input => BufRole::Input,
                BufKind::Output => BufRole::Output,
                BufKind::Temp | BufKind::Local => BufRole::Temp,
            };
            BufSpec::new(buf.name.clone(), buf.len(), role)
        })
        .collect()
}

/// The C of `f`, exporting [`DEFAULT_SYMBOL`].
pub fn source(f: &Func) -> Result<Source, CodegenError> {
    Ok(Source::new(colt_codegen::emit_c(f, DEFAULT_SYMBOL)?))
}

/// A candidate measuring `f` compiled with `compiler`; `flops` per run (for GFLOP/s).
pub fn candidate(f: &Func, compiler: Compiler, flops: f64) -> Result<Candidate, CodegenError> {
    Ok(Candidate {
        source: source(f)?,
        compiler,
        buffers: buf_specs(f),
        flops,
    })
}

/// The two seed baselines of a naive nest: `gcc -O3` and `clang -O3` (see
/// [`Compiler::gcc_o3`], [`Compiler::clang_o3`]), in that order.
pub fn baselines(naive: &Func, flops: f64) -> Result<[Candidate; 2], CodegenError> {
    Ok([
        candidate(naive, Compiler::gcc_o3(), flops)?,
        candidate(naive, Compiler::clang_o3(), flops)?,
    ])
}
