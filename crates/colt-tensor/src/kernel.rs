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
