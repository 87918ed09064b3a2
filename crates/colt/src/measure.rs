//! `colt measure`: the naive gcc/clang baselines and given traces or the best of N sampled
//! schedules, each compiled, checked against the reference and timed in the isolated worker.
//! With `--rounds R` the schedules are then timed again together in the same worker, R rounds
//! round-robin (each round starting one kernel further), so that a machine whose speed drifts
//! over minutes slows them alike: the way to compare kernels side by side on a shared VM.

use crate::out;
use anyhow::{Context, bail};
use colt_measure::{Outcome, OutcomeKind};
use colt_sched::Trace;
use colt_tensor::{Kernel, Session};
use rand::SeedableRng;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Most schedules `--random` measures in one call.
const MAX_RANDOM: usize = 10_000;
/// Most `--trace` files in one call.
const MAX_TRACES: usize = 256;
/// Most `--rounds`.
const MAX_ROUNDS: usize = 1000;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    w: out::WorkloadArg,
    /// Measure this schedule trace (JSON, at most 1 MiB); repeat the flag to measure several
    /// (at most 256) side by side.
    #[arg(long, conflicts_with = "random")]
    trace: Vec<PathBuf>,
    /// Measure N schedules sampled from the design space and report the best (N at most
    /// 10000).
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// Seed of the sampler and of the input data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the best schedule's trace here.
    #[arg(long, value_name = "FILE")]
    save_best: Option<PathBuf>,
    /// Timed repeats of each kernel (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeats: u32,
    /// Each repeat runs the kernel back to back for at least this long.
    #[arg(long, default_value_t = 1.0, value_name = "MS")]
    min_repeat_ms: f64,
    /// Time the schedules again together this many rounds, round-robin in one worker, and
    /// report each one's median over the rounds (1: the single measurement only).
    #[arg(long, default_value_t = 1, value_name = "R")]
    rounds: usize,
    /// Do not time the naive gcc/clang baselines (their fields are null): what `colt bench`
    /// uses to re-time a tuned kernel in a fresh process.
    #[arg(long)]
    skip_baselines: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let scale = a.w.scale()?;
    let program = a.w.program()?;
    let traces = schedules_to_measure(&a, &program)?;
    let kernels = traces
        .iter()
        .map(|t| Kernel::scheduled(&program, t))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot apply the trace")?;

    if a.repeats == 0 || !(a.min_repeat_ms.is_finite() && a.min_repeat_ms >= 0.0) {
        bail!("--repeats must be at least 1 and --min-repeat-ms a number of milliseconds >= 0");
    }
    if !(1..=MAX_ROUNDS).contains(&a.rounds) {
        bail!("--rounds must be between 1 and {MAX_ROUNDS}");
    }
    let config = colt_measure::MeasureConfig {
        repeats: a.repeats,
        min_repeat_ms: a.min_repeat_ms,
        ..out::measure_config(a.seed)?
    };
    let mut session = Session::new(&program, config)?;
    if !a.json {
        eprintln!(
            "measuring {}{} schedule(s) of {} ({scale})...",
            if a.skip_baselines {
                ""
            } else {
                "naive baselines and "
            },
            kernels.len(),
            program.name
        );
    }
    let base = (!a.skip_baselines).then(|| session.baselines());
    let mut outcomes = session.measure(&kernels.iter().collect::<Vec<_>>());
    if a.rounds > 1 {
        retime_together(&mut session, &kernels, &mut outcomes, a.rounds);
    }

    let best = best_outcome(&outcomes);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        *counts.entry(o.kind.as_str()).or_default() += 1;
    }
    if let (Some(path), Some((i, _))) = (&a.save_best, best) {
        std::fs::write(path, traces[i].to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let measured = Measured {
        program: &program,
        scale,
        base: base.as_ref(),
        schedules: kernels.len(),
        traces: &a.trace,
        rounds: a.rounds,
        outcomes: &outcomes,
        best,
        counts,
    };
    if a.json {
        measured.print_json(a.seed);
    } else {
        measured.print_text();
    }
    Ok(())
}

/// The correct kernels of `outcomes` timed together `rounds` rounds round-robin
/// ([`Session::time_rounds`]): each outcome's repeats become its rounds' medians, its median
/// and minimum their median and minimum (its GFLOP/s follows); one that fails in a round is
/// marked so.
fn retime_together(
    session: &mut Session,
    kernels: &[Kernel],
    outcomes: &mut [Outcome],
    rounds: usize,
) {
    let ok: Vec<usize> = (0..kernels.len())
        .filter(|&i| outcomes[i].is_ok())
        .collect();
    let together: Vec<&Kernel> = ok.iter().map(|&i| &kernels[i]).collect();
    for (&i, readings) in ok.iter().zip(session.time_rounds(&together, rounds)) {
        let o = &mut outcomes[i];
        let us = readings
            .as_deref()
            .and_then(colt_measure::stats::median)
            .filter(|us| *us > 0.0);
        match (us, readings) {
            (Some(us), Some(readings)) => {
                o.gflops = colt_measure::stats::gflops(kernels[i].flops as f64, us);
                o.median_us = Some(us);
                o.min_us = colt_measure::stats::min(&readings);
                o.repeats_us = readings;
            }
            _ => {
                // It crashed, timed out or answered wrongly in some round: no figure.
                o.kind = OutcomeKind::Missing;
                o.median_us = None;
                o.min_us = None;
                o.gflops = None;
                o.message = "failed in a round of the re-time together".into();
            }
        }
    }
}

/// The traces `--trace` or `--random` asks for (none without either).
fn schedules_to_measure(a: &Args, program: &colt_ir::Program) -> anyhow::Result<Vec<Trace>> {
    Ok(match (a.trace.as_slice(), a.random) {
        (t, _) if t.len() > MAX_TRACES => {
            bail!("{} --trace files is more than {MAX_TRACES}", t.len())
        }
        ([_, ..], _) => a
            .trace
            .iter()
            .map(|p| out::read_trace(p))
            .collect::<anyhow::Result<_>>()?,
        ([], Some(0)) => bail!("--random needs at least 1 schedule"),
        ([], Some(n)) if n > MAX_RANDOM => {
            bail!("--random {n} is more than {MAX_RANDOM} schedules; tune with `colt tune` instead")
        }
        ([], Some(n)) => sample(program, n, a.seed),
        ([], None) => vec![],
    })
}

/// The fastest correct outcome and its index.
fn best_outcome(outcomes: &[Outcome]) -> Option<(usize, &Outcome)> {
    outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_ok())
        .min_by(|a, b| {
            a.1.median_us
                .partial_cmp(&b.1.median_us)
                .expect("finite times")
        })
}

/// What one `colt measure` measured: the baselines and the schedules' outcomes.
struct Measured<'a> {
    program: &'a colt_ir::Program,
    scale: colt_ops::Scale,
    /// `None` with `--skip-baselines`.
    base: Option<&'a colt_tensor::Baselines>,
    /// How many schedules were measured.
    schedules: usize,
    /// The `--trace` files, in order (empty for `--random`).
    traces: &'a [PathBuf],
    /// Rounds of the re-time together (1: none).
    rounds: usize,
    outcomes: &'a [Outcome],
    best: Option<(usize, &'a Outcome)>,
    /// How many outcomes of each kind.
    counts: BTreeMap<&'a str, usize>,
}

impl Measured<'_> {
    /// The best schedule's speedup over the naive gcc -O3 baseline.
    fn speedup(&self) -> Option<f64> {
        let gcc_us = self.base.and_then(|b| b.gcc.ok_median_us());
        let best_us = self.best.and_then(|(_, o)| o.median_us);
        gcc_us.zip(best_us).map(|(g, b)| g / b)
    }

    fn print_json(&self, seed: u64) {
        let (program, base, best) = (self.program, self.base, self.best);
        // With schedules to measure, correct means the reported best was checked against the
        // reference; with none, that the baselines were.
        let correct = if self.schedules == 0 {
            base.is_some_and(|b| b.gcc.is_ok())
        } else {
            best.is_some()
        };
        out::print_json(&json!({
            "workload": program.name,
            "scale": self.scale.as_str(),
            "flops": program.flops(),
            "naive_gcc_us": base.and_then(|b| b.gcc.ok_median_us()),
            "naive_clang_us": base.and_then(|b| b.clang.ok_median_us()),
            "naive_gcc": base.map(|b| outcome_json(&b.gcc)),
            "naive_clang": base.map(|b| outcome_json(&b.clang)),
            "schedules": self.schedules,
            "best_us": best.and_then(|(_, o)| o.median_us),
            "best_min_us": best.and_then(|(_, o)| o.min_us),
            "best_gflops": best.and_then(|(_, o)| o.gflops),
            "best_index": best.map(|(i, _)| i),
            "speedup_vs_gcc": self.speedup(),
            "correct": correct,
            "outcomes": self.counts,
            "rounds": self.rounds,
            "schedules_measured": self.per_schedule_json(),
            "seed": seed,
        }));
    }

    /// Each schedule's outcome, in order, named by its `--trace` file where there is one, with
    /// its readings.
    fn per_schedule_json(&self) -> Vec<serde_json::Value> {
        self.outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut v = outcome_json(o);
                v["trace"] = json!(self.traces.get(i).map(|p| p.display().to_string()));
                // the timed repeats, or with --rounds each round's median
                v["repeats_us"] = json!(o.repeats_us);
                v
            })
            .collect()
    }

    fn print_text(&self) {
        let (program, scale) = (self.program, self.scale);
        println!(
            "{} ({scale}): {:.3} GFLOP",
            program.name,
            program.flops() as f64 / 1e9
        );
        match self.base {
            Some(b) => {
                row("naive gcc -O3", &b.gcc);
                row("naive clang -O3", &b.clang);
            }
            None => println!("naive baselines skipped"),
        }
        if let Some((i, o)) = self.best {
            let label = if self.schedules == 1 {
                "schedule".to_string()
            } else {
                format!("best of {} (#{i})", self.schedules)
            };
            row(&label, o);
            if let Some(s) = self.speedup() {
                println!("speedup over naive gcc -O3: {s:.2}x");
            }
        } else if self.schedules != 0 {
            println!("no schedule measured correctly");
            for o in self.outcomes.iter().filter(|o| !o.is_ok()).take(3) {
                println!("  {}: {}", o.kind, o.message.lines().next().unwrap_or(""));
            }
        }
        if self.traces.len() > 1 {
            for (p, o) in self.traces.iter().zip(self.outcomes) {
                row(&p.display().to_string(), o);
            }
            if self.rounds > 1 {
                println!(
                    "(median of {} rounds timed together, round-robin)",
                    self.rounds
                );
            }
        }
        if self.schedules != 0 {
            let c: Vec<String> = self
                .counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            println!("outcomes: {}", c.join(", "));
        }
    }
}

/// `n` schedules sampled from the design space with `seed`, duplicates dropped.
fn sample(program: &colt_ir::Program, n: usize, seed: u64) -> Vec<Trace> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = vec![];
    for _ in 0..n * 20 {
        if out.len() == n {
            break;
        }
        let t = colt_sched::sketch::sample(program, &mut rng);
        if seen.insert(t.to_json()) {
            out.push(t);
        }
    }
    out
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    json!({"kind": o.kind, "median_us": o.median_us, "min_us": o.min_us, "gflops": o.gflops,
           "message": o.message.lines().next().unwrap_or("")})
}

fn row(label: &str, o: &Outcome) {
    if o.kind == OutcomeKind::Ok {
        println!(
            "{label:<22} median {:>12}  min {:>12}  {:>8.2} GFLOP/s  correct",
            out::us(o.median_us),
            out::us(o.min_us),
            o.gflops.unwrap_or(0.0)
        );
    } else {
        println!(
            "{label:<22} {}: {}",
            o.kind,
            o.message.lines().next().unwrap_or("")
        );
    }
}
