//! The high-level entry point: compile a batch in parallel, then check and time each
//! candidate sequentially in the worker, classifying every failure as an [`Outcome`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::compile::{Artifact, Compiler, Source, compile_jobs, default_jobs};
use crate::inputs::BufSpec;
use crate::protocol::{KernelRef, Op, ReferenceSpec, Response, RunSpec, Status, Timing, Tolerance};
use crate::runner::{MeasureError, RunReply, Runner, WorkerCommand};
use crate::stats;

/// How a measurement ended: the outcome class every crate shares (stable snake_case
/// names).
pub use colt_outcome::OutcomeKind;

/// The result of measuring one candidate. Times are microseconds per kernel run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// How the measurement ended.
    pub kind: OutcomeKind,
    /// Median of the timed repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_us: Option<f64>,
    /// Fastest timed repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_us: Option<f64>,
    /// Every timed repeat, in order.
    #[serde(default)]
    pub repeats_us: Vec<f64>,
    /// From the candidate's flop count and the median time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gflops: Option<f64>,
    /// Over finite element pairs of all outputs (present once the result was checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_abs_err: Option<f64>,
    /// Over finite element pairs whose reference value is non-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rel_err: Option<f64>,
    /// Kernel runs per timed repeat (0 when not timed).
    #[serde(default)]
    pub number: u64,
    /// Empty for `ok`; otherwise what went wrong (compiler stderr, signal, first bad element).
    #[serde(default)]
    pub message: String,
}

impl Outcome {
    /// A failure without measurements.
    pub fn failure(kind: OutcomeKind, message: impl Into<String>) -> Self {
        Outcome {
            kind,
            median_us: None,
            min_us: None,
            repeats_us: vec![],
            gflops: None,
            max_abs_err: None,
            max_rel_err: None,
            number: 0,
            message: message.into(),
        }
    }

    /// `unavailable` when the compiler does not exist here, `compile_error` otherwise.
    pub fn from_compile_error(e: &crate::compile::CompileError) -> Self {
        match e {
            crate::compile::CompileError::CompilerNotFound { .. } => {
                Outcome::failure(OutcomeKind::Unavailable, format!("not available: {e}"))
            }
            _ => Outcome::failure(OutcomeKind::CompileError, e.to_string()),
        }
    }

    /// Whether the kernel was correct and timed.
    pub fn is_ok(&self) -> bool {
        self.kind == OutcomeKind::Ok
    }

    /// The median latency of a correct, timed kernel; `None` for any failure.
    pub fn ok_median_us(&self) -> Option<f64> {
        self.is_ok().then_some(self.median_us).flatten()
    }

    /// Build from a worker response.
    pub fn from_response(r: Response, flops: f64) -> Self {
        let kind = match r.status {
            Status::Ok => OutcomeKind::Ok,
            Status::Wrong => OutcomeKind::WrongResult,
            Status::Error => OutcomeKind::Error,
        };
        let median_us = stats::median(&r.repeats_us);
        Outcome {
            kind,
            median_us,
            min_us: stats::min(&r.repeats_us),
            gflops: median_us.and_then(|m| stats::gflops(flops, m)),
            repeats_us: r.repeats_us,
            max_abs_err: r.max_abs_err,
            max_rel_err: r.max_rel_err,
            number: r.number,
            message: r.message,
        }
    }

    /// Classify a runner reply.
    pub fn from_reply(reply: RunReply, flops: f64) -> Self {
        match reply {
            RunReply::Done(r) => Outcome::from_response(r, flops),
            RunReply::Crash(m) => Outcome::failure(OutcomeKind::Crash, m),
            RunReply::Timeout(m) => Outcome::failure(OutcomeKind::Timeout, m),
            RunReply::Failed(m) => Outcome::failure(OutcomeKind::Error, m),
        }
    }
}

/// One kernel to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The C code.
    pub source: Source,
    /// The compiler and flags.
    pub compiler: Compiler,
    /// The kernel's arguments, in order.
    pub buffers: Vec<BufSpec>,
    /// Floating point operations of one run (for GFLOP/s; 0 = unknown).
    pub flops: f64,
}

/// Measurement settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeasureConfig {
    /// Seed of the input data.
    pub seed: u64,
    /// Untimed repeats before the timed ones.
    pub warmup: u32,
    /// Timed repeats.
    pub repeats: u32,
    /// A repeat runs the kernel back to back until it lasts at least this long...
    pub min_repeat_ms: f64,
    /// ...with at most this many runs.
    pub max_number: u64,
    /// Longest a single kernel run (more precisely, one measurement phase: the reference
    /// run, the checked run, one calibration step, one repeat) may take before the worker is
    /// killed. Each phase gets `timeout_s + 4 * min_repeat_ms + 0.5 s` of slack-included time.
    pub timeout_s: f64,
    /// Relative tolerance: `|a - b| <= atol + rtol * |b|`.
    pub rtol: f64,
    /// Absolute tolerance as a fraction of the mean magnitude of the reference output:
    /// `atol = atol_scale * mean(|ref|)`, per output buffer.
    pub atol_scale: f64,
    /// Kernels are cached under `workdir/kernels`.
    pub workdir: PathBuf,
    /// `OMP_NUM_THREADS` of the worker (default: all cores).
    pub omp_threads: usize,
    /// Parallel compiles (default: all cores).
    pub compile_jobs: usize,
    /// Compiler of the reference kernel (default: [`Compiler::naive`]).
    pub reference_compiler: Compiler,
    /// The worker to run (default: [`WorkerCommand::locate`]).
    pub worker: Option<WorkerCommand>,
    /// Restart the worker after this many requests (bounds loaded libraries; 0 = never).
    pub recycle_after: u64,
}

impl Default for MeasureConfig {
    fn default() -> Self {
        MeasureConfig {
            seed: 0,
            warmup: 1,
            repeats: 5,
            min_repeat_ms: 1.0,
            max_number: 1 << 20,
            timeout_s: 10.0,
            rtol: 1e-3,
            atol_scale: 1e-3,
            workdir: std::env::temp_dir().join("colt-measure"),
            omp_threads: default_jobs(),
            compile_jobs: default_jobs(),
            reference_compiler: Compiler::naive(),
            worker: None,
            recycle_after: 2000,
        }
    }
}

impl MeasureConfig {
    /// The comparison tolerance of these settings.
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            rtol: self.rtol,
            atol_scale: self.atol_scale,
        }
    }
    /// The timing settings of these settings.
    pub fn timing(&self) -> Timing {
        Timing {
            warmup: self.warmup,
            repeats: self.repeats,
            min_repeat_ms: self.min_repeat_ms,
            max_number: self.max_number,
        }
    }
    /// The per-phase deadline.
    pub fn phase_timeout(&self) -> Duration {
        Duration::from_secs_f64(
            self.timeout_s.max(0.0) + 4.0 * self.min_repeat_ms.max(0.0) / 1e3 + 0.5,
        )
    }
    /// Where compiled kernels are cached (`<workdir>/kernels`).
    pub fn kernel_dir(&self) -> PathBuf {
        self.workdir.join("kernels")
    }
}

/// Compiles, checks and times candidates against a reference.
pub struct Measurer {
    config: MeasureConfig,
    runner: Runner,
}

impl Measurer {
    /// Locates the worker (it starts on first use).
    pub fn new(config: MeasureConfig) -> Result<Self, MeasureError> {
        let command = match &config.worker {
            Some(c) => c.clone(),
            None => WorkerCommand::locate()?,
        };
        let env = vec![(
            "OMP_NUM_THREADS".to_string(),
            config.omp_threads.max(1).to_string(),
        )];
        let mut runner = Runner::new(command, env);
        runner.recycle_after = config.recycle_after;
        Ok(Measurer { config, runner })
    }

    /// The settings.
    pub fn config(&self) -> &MeasureConfig {
        &self.config
    }

    /// Change the per-phase kernel time limit (e.g. once the naive baseline's time is known).
    pub fn set_timeout_s(&mut self, timeout_s: f64) {
        self.config.timeout_s = timeout_s;
    }

    /// The underlying worker manager (e.g. to count respawns).
    pub fn runner(&mut self) -> &mut Runner {
        &mut self.runner
    }

    /// Compile the reference and all candidates in parallel, then check and time each
    /// candidate in order. Never fails as a whole: every problem is an outcome.
    pub fn measure_batch(&mut self, reference: &Source, candidates: &[Candidate]) -> Vec<Outcome> {
        let mut jobs = vec![(reference, &self.config.reference_compiler)];
        jobs.extend(candidates.iter().map(|c| (&c.source, &c.compiler)));
        let mut compiled =
            compile_jobs(&jobs, &self.config.kernel_dir(), self.config.compile_jobs).into_iter();
        let reference = compiled.next().expect("reference job");
        let compiled: Vec<_> = compiled.collect();

        let reference = match reference {
            Ok(a) => a,
            Err(e) => {
                let msg = format!("reference failed to compile: {e}");
                return compiled
                    .into_iter()
                    .map(|c| match c {
                        Err(e) => Outcome::from_compile_error(&e),
                        Ok(_) => Outcome::failure(OutcomeKind::Error, msg.clone()),
                    })
                    .collect();
            }
        };
        let reference_ref = KernelRef {
            lib: reference.path.clone(),
            symbol: reference.symbol.clone(),
        };

        // Establish the reference outputs once per buffer layout, so that a failing
        // reference is reported as such rather than blamed on a candidate.
        let mut reference_status: BTreeMap<&[BufSpec], Option<String>> = BTreeMap::new();
        for (c, a) in candidates.iter().zip(&compiled) {
            if a.is_err() || reference_status.contains_key(c.buffers.as_slice()) {
                continue;
            }
            let op = Op::Reference(ReferenceSpec {
                reference: reference_ref.clone(),
                buffers: c.buffers.clone(),
                seed: self.config.seed,
            });
            let failure = match self.runner.request(op, self.config.phase_timeout()) {
                RunReply::Done(r) if r.status == Status::Ok => None,
                RunReply::Done(r) => Some(r.message),
                RunReply::Crash(m) => Some(format!("crashed: {m}")),
                RunReply::Timeout(m) => Some(format!("timed out: {m}")),
                RunReply::Failed(m) => Some(m),
            };
            reference_status.insert(
                &c.buffers,
                failure.map(|m| format!("reference kernel failed: {m}")),
            );
        }

        let mut outcomes = Vec::with_capacity(candidates.len());
        for (c, a) in candidates.iter().zip(compiled) {
            let outcome = match a {
                Err(e) => Outcome::from_compile_error(&e),
                Ok(artifact) => match reference_status.get(c.buffers.as_slice()) {
                    Some(Some(msg)) => Outcome::failure(OutcomeKind::Error, msg.clone()),
                    _ => self.run_artifact(&artifact, Some(&reference_ref), c),
                },
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    fn run_artifact(
        &mut self,
        artifact: &Artifact,
        reference: Option<&KernelRef>,
        c: &Candidate,
    ) -> Outcome {
        let op = Op::Run(RunSpec {
            kernel: KernelRef {
                lib: artifact.path.clone(),
                symbol: artifact.symbol.clone(),
            },
            reference: reference.cloned(),
            buffers: c.buffers.clone(),
            seed: self.config.seed,
            tolerance: self.config.tolerance(),
            timing: self.config.timing(),
        });
        Outcome::from_reply(
            self.runner.request(op, self.config.phase_timeout()),
            c.flops,
        )
    }

    /// Time already compiled kernels without checking them.
    pub fn time_artifact(
        &mut self,
        artifact: &Artifact,
        buffers: &[BufSpec],
        flops: f64,
    ) -> Outcome {
        let c = Candidate {
            source: Source::new(String::new()),
            compiler: Compiler::naive(),
            buffers: buffers.to_vec(),
            flops,
        };
        self.run_artifact(artifact, None, &c)
    }
}
