//! The tensor-program space of `colt tune`: schedules of one workload, measured next to the
//! naive gcc -O3 / clang -O3 baselines.

use super::summary::{SpaceSummary, TensorSummary, TuneSummary};
use super::{Args, Ctx};
use crate::out;
use colt_db::Db;
use colt_sched::Trace;
use colt_search::RunResult;
use colt_tensor::{Kernel, Session, TensorEnv};

/// A tensor run whose search has ended: what `colt tune` prints, and `colt model tune`
/// keeps for each task.
pub(crate) struct Searched {
    pub result: RunResult<Trace>,
    pub summary: TuneSummary,
    pub db: Db,
    pub a: Args,
    /// Why every trial failed for a tool reason, if so.
    pub tool_failure: Option<String>,
    pub program: colt_ir::Program,
}

pub fn run(ctx: Ctx) -> anyhow::Result<()> {
    let (run, workload) = (ctx.run, ctx.spec.workload.clone());
    let s = search(ctx, true, |_| {})?;
    let t = match &s.summary.space {
        SpaceSummary::Tensor(t) => t,
        SpaceSummary::Llvm(_) => unreachable!("a tensor run has a tensor summary"),
    };
    let (gcc_us, flops) = (t.naive_gcc_us, s.program.flops() as f64);
    let mut text = format!(
        "naive gcc -O3    {}\nnaive clang -O3  {}\n",
        out::us(gcc_us),
        out::us(t.naive_clang_us)
    );
    match (&s.result.best, t.best_us) {
        (Some(b), Some(us)) => {
            text += &format!(
                "best             {}  {:.1} GFLOP/s{}  (trial {})\n\n{}\n",
                out::us(Some(us)),
                flops / us / 1e3,
                gcc_us.map_or(String::new(), |g| format!(
                    "  {:.1}x over naive gcc",
                    g / us
                )),
                b.trial,
                colt_sched::describe(&s.program, &b.state)
            );
            let chosen = match t.retimed_rank {
                Some(1) => "  (the search's best: fastest of its best few timed again)".into(),
                Some(r) => format!("  (the search's #{r}: fastest of its best few timed again)"),
                None => String::new(),
            };
            text += &format!("re-timed         {}{chosen}\n", out::us(t.retimed_us));
            text += &format!("export the kernel: colt best --workload {workload} --out DIR\n");
        }
        _ => text += "no correct kernel was found\n",
    }
    let json = s.a.json;
    super::finish(
        &s.db,
        run,
        &s.summary,
        json,
        &s.result,
        &text,
        s.tool_failure,
    )
}

/// Measure the naive baselines (`on_naive` hears the gcc one), run the search and make
/// the summary; with `retime`, the best kernel is timed once more after the search.
pub(crate) fn search(
    mut ctx: Ctx,
    retime: bool,
    on_naive: impl FnOnce(Option<f64>),
) -> anyhow::Result<Searched> {
    let program = ctx
        .resolved
        .program
        .take()
        .expect("a tensor run resolves its program");
    let flops = program.flops() as f64;
    let mut session = Session::new(&program, out::measure_config(ctx.spec.seed)?)?;
    ctx.say("measuring the naive gcc -O3 and clang -O3 baselines...");
    let base = session.baselines();
    let gcc_us = base.gcc.ok_median_us();
    let clang_us = base.clang.ok_median_us();
    on_naive(gcc_us);

    let mut env = TensorEnv::new(program.clone(), session, out::target())
        .with_known(ctx.known()?)
        .with_vector_target(ctx.resolved.vector_target);
    let log = env.outcomes();
    let details = Box::new(move |key: u64| {
        log.lock()
            .expect("outcome log")
            .get(&key)
            .map(|o| (o.min_us, o.gflops, o.message.clone()))
    });
    let show_best = Box::new(move |us: f64| {
        format!(
            "{} ({:.1} GFLOP/s{})",
            out::us(Some(us)),
            flops / us / 1e3,
            gcc_us.map_or(String::new(), |g| format!(", {:.1}x gcc", g / us))
        )
    });
    // The roofline: this machine's limits when `colt machine` (or `colt bench`) stored
    // them in the database; measuring them here would add seconds to every tune.
    let limits = ctx.machine_limits();
    let scale = ctx.spec.scale.clone();
    let (result, search, db, a, tool_failure) = ctx.drive(&mut env, details, show_best)?;

    let best_us = result.best_us();
    let chosen = if retime {
        final_choice(&mut env, &program, &result.history)
    } else {
        None
    };
    let best_trace = match &chosen {
        Some(c) => Some(c.trace.clone()),
        None => result.best.as_ref().map(|b| b.state.clone()),
    };
    let retimed_us = chosen.as_ref().map(|c| c.us);
    let summary = TuneSummary {
        search,
        space: SpaceSummary::Tensor(Box::new(TensorSummary {
            scale,
            best_trace,
            retimed_rank: chosen.map(|c| c.rank),
            naive_clang_us: clang_us,
            ..figures(&program, best_us, retimed_us, gcc_us, limits)
        })),
    };
    Ok(Searched {
        result,
        summary,
        db,
        a,
        tool_failure,
        program,
    })
}

/// The summary's figures of the best kernel of `program`: GFLOP/s, speedup over naive gcc,
/// and its place under the roofline of `machine` (the re-timed latency where there is one).
fn figures(
    program: &colt_ir::Program,
    best_us: Option<f64>,
    retimed_us: Option<f64>,
    gcc_us: Option<f64>,
    machine: Option<colt_measure::MachineLimits>,
) -> TensorSummary {
    let flops = program.flops() as f64;
    let intensity = program.intensity();
    let bound = machine.as_ref().map(|m| m.bound_gflops(intensity));
    TensorSummary {
        workload: program.name.clone(),
        best_us,
        best_gflops: best_us.map(|us| flops / us / 1e3),
        retimed_us,
        naive_gcc_us: gcc_us,
        speedup_vs_gcc: gcc_us.zip(best_us).map(|(g, b)| g / b),
        intensity_flop_per_byte: intensity,
        roofline_gflops: bound,
        peak_fraction: bound
            .zip(retimed_us.or(best_us))
            .map(|(b, us)| (flops / us / 1e3) / b),
        machine,
        ..TensorSummary::default()
    }
}

/// Kernels of the search's best that the final timing times again.
const FINAL_CONTENDERS: usize = 3;
/// Round-robin rounds of the final timing.
const FINAL_ROUNDS: usize = 3;

/// The kernel the final timing chose: its trace, its median there and its search rank.
struct Chosen {
    trace: Trace,
    us: f64,
    rank: usize,
}

/// The final timing of a tensor run: the search's best [`FINAL_CONTENDERS`] kernels timed
/// again together, [`FINAL_ROUNDS`] rounds round-robin, and the best median chosen. The
/// search's best figure is the minimum of many timings taken minutes apart on a machine whose
/// speed drifts, so it favours a kernel timed in a quiet minute over a faster one timed in a
/// busy one; timed side by side, the faster one wins (as the LLVM space's final timing does,
/// `colt_llvm::retime`). `None` when none of them runs correctly now (each was checked before).
fn final_choice(
    env: &mut TensorEnv,
    program: &colt_ir::Program,
    history: &[colt_search::TrialRecord<Trace>],
) -> Option<Chosen> {
    let top = colt_search::best_of(history, FINAL_CONTENDERS);
    let kernels: Vec<(usize, Kernel)> = top
        .iter()
        .enumerate()
        .filter_map(|(i, (t, _))| Some((i, Kernel::scheduled(program, t).ok()?)))
        .collect();
    let refs: Vec<&Kernel> = kernels.iter().map(|(_, k)| k).collect();
    let times = env.session().time_together(&refs, FINAL_ROUNDS);
    kernels
        .iter()
        .zip(times)
        .filter_map(|((i, _), us)| Some((*i, us?)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(i, us)| Chosen {
            trace: top[i].0.clone(),
            us,
            rank: i + 1,
        })
}
