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
            text += &format!("re-timed         {}\n", out::us(t.retimed_us));
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
    let best = result.best.as_ref().map(|b| &b.state);
    let retimed_us = best
        .filter(|_| retime)
        .and_then(|b| retime_best(&mut env, &program, b));
    let summary = TuneSummary {
        search,
        space: SpaceSummary::Tensor(Box::new(TensorSummary {
            scale,
            best_trace: best.cloned(),
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

/// The best kernel timed once more after the search, the way a peer's best record is
/// re-timed: the search's best is the minimum of many noisy timings and so flatters it.
/// `None` when the kernel fails now (it was checked before).
fn retime_best(env: &mut TensorEnv, program: &colt_ir::Program, best: &Trace) -> Option<f64> {
    let kernel = Kernel::scheduled(program, best).ok()?;
    env.session().measure(&[&kernel]).pop()?.ok_median_us()
}
