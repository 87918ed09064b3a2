//! A schedule made concrete: the lowered function, its C source and the buffer list the
//! measurement worker allocates (built by `colt_measure::kernel`).

use colt_ir::{Func, Program};
use colt_measure::{BufSpec, Candidate, Compiler, Source};
use colt_sched::{ScheduleError, Trace};

/// A lowered, emitted kernel ready to measure.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// The lowered loop nest.
    pub func: Func,
    /// Its C source.
    pub source: Source,
    /// `bufs[i]` of the kernel, in parameter order.
    pub buffers: Vec<BufSpec>,
    /// Floating-point operations of one run.
    pub flops: u64,
}

impl Kernel {
    /// The unscheduled loop nest of `program` (the semantic reference and the naive baselines).
    pub fn naive(program: &Program) -> Kernel {
        Kernel::from_func(program.naive(), program.flops())
    }

    /// Replay `trace` on `program` and lower it. A trace for another workload or an illegal
    /// primitive is a [`ScheduleError`].
    pub fn scheduled(program: &Program, trace: &Trace) -> Result<Kernel, ScheduleError> {
        Ok(Kernel::from_func(
            colt_sched::apply_trace(program, trace)?,
            program.flops(),
        ))
    }

    fn from_func(func: Func, flops: u64) -> Kernel {
        // Lowered functions are verified by colt-sched and the symbol is fixed, so emission
        // cannot fail here.
        let source = colt_measure::kernel::source(&func).expect("a lowered function emits C");
        let buffers = colt_measure::kernel::buf_specs(&func);
        Kernel {
            func,
            source,
            buffers,
            flops,
        }
    }

    /// What the measurer needs to compile this kernel with `compiler`.
    pub fn candidate(&self, compiler: Compiler) -> Candidate {
        Candidate {
            source: self.source.clone(),
            compiler,
            buffers: self.buffers.clone(),
            flops: self.flops as f64,
        }
    }
}

/// A recorded schedule made readable: what `colt best` and the report show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelText {
    /// The scheduled loop nest, printed.
    pub loop_nest: String,
    /// The transformations that led to it.
    pub history: String,
    /// The generated C.
    pub c_source: String,
}

/// Replay the recorded `trace_json` on `workload` at `scale` (a built-in name or a spec
/// path, as the run recorded it); the loop nest, history and C, or one line saying why not.
pub fn kernel_text(workload: &str, scale: &str, trace_json: &str) -> Result<KernelText, String> {
    let scale: colt_ops::Scale = scale.parse().map_err(|e: String| format!("scale: {e}"))?;
    let program =
        crate::resolve(workload, scale).map_err(|e| format!("workload {workload}: {e}"))?;
    let trace = Trace::from_json(trace_json).map_err(|e| format!("recorded trace: {e}"))?;
    let kernel = Kernel::scheduled(&program, &trace)
        .map_err(|e| format!("the recorded trace no longer applies: {e}"))?;
    Ok(KernelText {
        loop_nest: colt_ir::func_str(&kernel.func),
        history: colt_sched::describe(&program, &trace),
        c_source: kernel.source.code,
    })
}
