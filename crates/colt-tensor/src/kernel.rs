//! A schedule made concrete: the lowered function, its C source and the buffer list the
//! measurement worker allocates.

use colt_ir::{BufKind, Func, Program};
use colt_measure::{BufSpec, Source};
use colt_sched::{ScheduleError, Trace};

/// Symbol every generated kernel exports.
pub const KERNEL_SYMBOL: &str = "colt_kernel";

#[derive(Clone, Debug)]
pub struct Kernel {
    pub func: Func,
    pub source: Source,
    /// `bufs[i]` of the kernel, in parameter order.
    pub buffers: Vec<BufSpec>,
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
        Ok(Kernel::from_func(colt_sched::apply_trace(program, trace)?, program.flops()))
    }

    fn from_func(func: Func, flops: u64) -> Kernel {
        let code = colt_codegen::emit_c(&func, KERNEL_SYMBOL).expect("KERNEL_SYMBOL is a C identifier");
        let buffers = buffer_specs(&func);
        Kernel { func, source: Source::with_symbol(code, KERNEL_SYMBOL), buffers, flops }
    }
}

/// The worker's view of the function's parameters.
pub fn buffer_specs(func: &Func) -> Vec<BufSpec> {
    func.params()
        .into_iter()
        .map(|b| {
            let buf = func.buffer(b);
            match buf.kind {
                BufKind::Input => BufSpec::input(&buf.name, buf.len()),
                BufKind::Output => BufSpec::output(&buf.name, buf.len()),
                BufKind::Temp | BufKind::Local => BufSpec::temp(&buf.name, buf.len()),
            }
        })
        .collect()
}
