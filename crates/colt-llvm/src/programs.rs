//! The project's benchmark programs (`programs/*.c`, compiled into the crate): small C
//! programs, two or three per optimization type, each printing a checksum from `main`
//! and running 30-200 ms at -O0.

use crate::passes::OptType;
use crate::program::Program;

/// One benchmark program.
#[derive(Clone, Copy, Debug)]
pub struct Benchmark {
    /// Name (the file stem).
    pub name: &'static str,
    /// The optimization type it is written to exercise.
    pub opt_type: OptType,
    /// The C source.
    pub source: &'static str,
}

impl Benchmark {
    /// The benchmark as a [`Program`] to tune.
    pub fn program(&self) -> Program {
        Program::embedded(self.name, self.source)
    }
}

macro_rules! bench {
    ($name:literal, $t:expr) => {
        Benchmark {
            name: $name,
            opt_type: $t,
            source: include_str!(concat!("../programs/", $name, ".c")),
        }
    };
}

/// Every benchmark program, in report order.
pub const BENCHMARKS: &[Benchmark] = &[
    bench!("loop_crc32", OptType::LoopUnrolling),
    bench!("loop_matmul4", OptType::LoopUnrolling),
    bench!("loop_stencil", OptType::LoopUnrolling),
    bench!("call_vec3", OptType::FunctionInlining),
    bench!("call_fib", OptType::FunctionInlining),
    bench!("call_ops", OptType::FunctionInlining),
    bench!("const_config", OptType::ConstantPropagation),
    bench!("const_poly", OptType::ConstantPropagation),
    bench!("dce_debug", OptType::DeadCodeElimination),
    bench!("dce_unused", OptType::DeadCodeElimination),
    bench!("vec_saxpy", OptType::Vectorization),
    bench!("vec_blend", OptType::Vectorization),
    bench!("vec_dot", OptType::Vectorization),
];

/// A benchmark by name.
pub fn find(name: &str) -> Option<&'static Benchmark> {
    BENCHMARKS.iter().find(|b| b.name == name)
}
