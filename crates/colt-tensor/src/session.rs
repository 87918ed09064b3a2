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

/// Refuse `program` when its buffers (each with a reference copy) do not fit in the memory
/// available now. Shapes are multiplied with checked arithmetic.
pub fn check_fits(program: &Program) -> Result<(), MeasureError> {
    let elements = program.buffers.iter().map(|b| {
        b.shape
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(u64::try_from(n).ok()?))
    });
    let bytes = elements
        .collect::<Option<Vec<u64>>>()
        .and_then(colt_measure::child::buffer_bytes);
    colt_measure::child::check_memory(bytes)
}

/// Measures the candidates of one program against its naive nest.
pub struct Session {
    naive: Kernel,
    measurer: Measurer,
    /// The configured time limit, which the limit never goes below.
    floor_timeout_s: f64,
}

impl Session {
    /// Locates the worker; nothing is compiled yet.
    ///
    /// The time limit of a kernel run starts generous enough for the naive nest on a slow,
    /// busy machine (20 s per GFLOP, at least `config.timeout_s`): the naive nest is the
    /// reference every candidate is checked against, and a 1024³ matmul runs it for seconds.
    /// A program whose buffers (with their reference copies) do not fit in the memory
    /// available is refused here, before any worker allocates them.
    pub fn new(program: &Program, mut config: SessionConfig) -> Result<Session, MeasureError> {
        check_fits(program)?;
        let floor_timeout_s = config.timeout_s;
        config.timeout_s = floor_timeout_s.max(20.0 * program.flops() as f64 / 1e9);
        Ok(Session {
            naive: Kernel::naive(program),
            measurer: Measurer::new(config)?,
            floor_timeout_s,
        })
    }

    /// The naive kernel (the correctness reference).
    pub fn naive(&self) -> &Kernel {
        &self.naive
    }

    /// Measure the naive nest under gcc -O3 and clang -O3 (checked against the reference).
    pub fn baselines(&mut self) -> Baselines {
        let cands: Vec<Candidate> = [Compiler::gcc_o3(), Compiler::clang_o3()]
            .into_iter()
            .map(|c| self.naive.candidate(c))
            .collect();
        let mut out = self
            .measurer
            .measure_batch(&self.naive.source, &cands)
            .into_iter();
        let base = Baselines {
            gcc: out.next().expect("two outcomes"),
            clang: out.next().expect("two outcomes"),
        };
        // From now on a run may take 5x the naive gcc nest (never less than the configured
        // floor): slower than that is a timeout, not a candidate worth minutes.
        if let Some(us) = base.gcc.ok_median_us() {
            self.measurer
                .set_timeout_s(self.floor_timeout_s.max(5.0 * us / 1e6));
        }
        base
    }

    /// Compile (in parallel), check and time scheduled kernels, in order.
    pub fn measure(&mut self, kernels: &[&Kernel]) -> Vec<Outcome> {
        let cands: Vec<Candidate> = kernels
            .iter()
            .map(|k| k.candidate(Compiler::tuned()))
            .collect();
        self.measurer.measure_batch(&self.naive.source, &cands)
    }

    /// Time `kernels` again together, `rounds` rounds round-robin, each round starting one
    /// kernel further (A B C, B C A, C A B, ...), so that the machine's drift over minutes
    /// hits them alike: a kernel's figure is the median of its rounds' medians; `None` for one
    /// that failed in any round. Compiles and reference outputs are cached: a round costs the
    /// kernels' runs.
    pub fn time_together(&mut self, kernels: &[&Kernel], rounds: usize) -> Vec<Option<f64>> {
        self.time_rounds(kernels, rounds)
            .into_iter()
            .map(|t| t.and_then(|v| colt_measure::stats::median(&v)))
            .collect()
    }

    /// [`Self::time_together`]'s readings: each kernel's median of every round, in round
    /// order; `None` for one that failed in any round.
    pub fn time_rounds(&mut self, kernels: &[&Kernel], rounds: usize) -> Vec<Option<Vec<f64>>> {
        let n = kernels.len();
        if n == 0 {
            // nothing to time: no round would run a kernel
            return vec![];
        }
        let mut times: Vec<Option<Vec<f64>>> = vec![Some(vec![]); n];
        for r in 0..rounds {
            let order: Vec<usize> = (0..n).map(|i| (i + r) % n).collect();
            let batch: Vec<&Kernel> = order.iter().map(|&i| kernels[i]).collect();
            for (&i, o) in order.iter().zip(self.measure(&batch)) {
                match (o.ok_median_us(), &mut times[i]) {
                    (Some(us), Some(v)) => v.push(us),
                    _ => times[i] = None,
                }
            }
        }
        times
    }
}
