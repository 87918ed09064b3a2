//! The worker process and protocol directly.

mod common;

use std::time::Duration;

use colt_measure::compile::compile;
use colt_measure::protocol::{KernelRef, Op, RunSpec, Status, Timing, Tolerance};
use colt_measure::runner::{MeasureError, WORKER_ENV};
use colt_measure::{Compiler, RunReply, Runner, Source, WorkerCommand};
use common::*;

fn runner() -> Runner {
    Runner::new(
        WorkerCommand::new(env!("CARGO_BIN_EXE_colt-worker")),
        vec![],
    )
}

fn run_op(lib: &KernelRef, reference: Option<&KernelRef>) -> Op {
    Op::Run(RunSpec {
        kernel: lib.clone(),
        reference: reference.cloned(),
        buffers: vadd_specs(),
        seed: 3,
        tolerance: Tolerance::default(),
        timing: Timing {
            warmup: 0,
            repeats: 2,
            min_repeat_ms: 0.1,
            max_number: 1000,
        },
    })
}

fn build(src: &Source, dir: &std::path::Path) -> KernelRef {
    let a = compile(src, &Compiler::naive(), dir).unwrap();
    KernelRef {
        lib: a.path,
        symbol: a.symbol,
    }
}

#[test]
fn ping_timeout_respawn() {
    let dir = workdir("runner");
    let good = build(&reference(), &dir);
    let hang = build(&vadd_src("", "volatile int s = 1; while (s) {}"), &dir);
    let mut r = runner();
    let t = Duration::from_secs(1);
    assert!(matches!(r.request(Op::Ping, t), RunReply::Done(d) if d.status == Status::Ok));
    match r.request(run_op(&good, Some(&good)), t) {
        RunReply::Done(d) => {
            assert_eq!(d.status, Status::Ok, "{d:?}");
            assert_eq!(d.repeats_us.len(), 2);
            assert!(d.number >= 1 && d.number <= 1000);
        }
        other => panic!("{other:?}"),
    }
    let t0 = std::time::Instant::now();
    assert!(matches!(
        r.request(run_op(&hang, None), Duration::from_millis(300)),
        RunReply::Timeout(_)
    ));
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(r.request(run_op(&good, None), t), RunReply::Done(d) if d.status == Status::Ok)
    );
    assert_eq!(r.spawns(), 2);
    // a missing library is an error reply, not a crash
    let missing = KernelRef {
        lib: dir.join("nope.so"),
        symbol: "colt_kernel".into(),
    };
    match r.request(run_op(&missing, None), t) {
        RunReply::Done(d) => {
            assert!(d.status == Status::Error && d.message.contains("cannot load"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.spawns(), 2);
}

#[test]
fn recycling_replaces_the_worker() {
    let mut r = runner();
    r.recycle_after = 2;
    for _ in 0..5 {
        assert!(matches!(
            r.request(Op::Ping, Duration::from_secs(2)),
            RunReply::Done(_)
        ));
    }
    assert_eq!(r.spawns(), 3);
}

#[test]
fn missing_worker_binary() {
    let mut r = Runner::new(WorkerCommand::new("/nonexistent/colt-worker"), vec![]);
    assert!(matches!(
        r.request(Op::Ping, Duration::from_secs(1)),
        RunReply::Failed(_)
    ));
    let msg = MeasureError::WorkerNotFound {
        searched: "x".into(),
    }
    .to_string();
    assert!(msg.contains("cargo build -p colt-measure") && msg.contains(WORKER_ENV));
}
