//! A measuring session for one program: the naive nest is the correctness reference of every
//! candidate (compiled with `$CC -O3`), and the same nest compiled by `gcc -O3` and `clang -O3`
//! gives the baselines every speedup is reported against.

use crate::kernel::Kernel;
use colt_ir::Program;
use colt_measure::{Candidate, Compiler, MeasureConfig, MeasureError, Measurer, Outcome};

/// Settings of a session (measurement settings of colt-measure).
pub type SessionConfig = MeasureConfig;

/// The naive loop nest under the two seed compilers of the paper's tables.
#[derive(Clone, Debug)]
pub struct Baselines {
    /// "GCC -O3": the naive nest compiled by `gcc -O3 -march=native`.
    pub gcc: Outcome,
    /// "LLVM -O3": the naive nest compiled by `clang -O3 -march=native` (clang-22 or
    /// `$COLT_CLANG`); a compile-error outcome when no clang is installed.
    pub clang: Outcome,
}

pub struct Session {
    naive: Kernel,
    measurer: Measurer,
}

impl Session {
    /// Locates the worker; nothing is compiled yet.
    pub fn new(program: &Program, config: SessionConfig) -> Result<Session, MeasureError> {
        Ok(Session { naive: Kernel::naive(program), measurer: Measurer::new(config)? })
    }

    pub fn naive(&self) -> &Kernel {
        &self.naive
    }

    /// Measure the naive nest under gcc -O3 and clang -O3 (checked against the reference).
    pub fn baselines(&mut self) -> Baselines {
        let cands: Vec<Candidate> =
            [Compiler::gcc_o3(), Compiler::clang_o3()].into_iter().map(|c| self.naive.candidate(c)).collect();
        let mut out = self.measurer.measure_batch(&self.naive.source, &cands).into_iter();
        Baselines { gcc: out.next().expect("two outcomes"), clang: out.next().expect("two outcomes") }
    }

    /// Compile (in parallel), check and time scheduled kernels, in order.
    pub fn measure(&mut self, kernels: &[&Kernel]) -> Vec<Outcome> {
        let cands: Vec<Candidate> = kernels.iter().map(|k| k.candidate(Compiler::tuned())).collect();
        self.measurer.measure_batch(&self.naive.source, &cands)
    }
}
