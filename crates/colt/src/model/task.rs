//! One task of `colt model tune`: the tuning run of one kernel, searched in a thread of its
//! own that pauses between rounds until the scheduler grants the next one.
//!
//! Only one task thread runs at a time (the others wait at their gate), so measurements
//! never overlap. The search is the one `colt tune` runs (`tune::tensor::search`): every
//! candidate is recorded in the task's run as it is measured, and a resumed model run
//! replays each task's recorded measurements, rebuilding the same search.

use crate::out;
use crate::tune::recorder::Pause;
use crate::tune::{Ctx, store_summary, tensor};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// What a task thread tells the scheduler.
pub enum Event {
    /// The naive nest's latency (gcc -O3), measured before the search.
    Naive { task: usize, us: Option<f64> },
    /// The search waits before its next round.
    Paused { task: usize, pause: Pause },
    /// The search ended (its run's summary stored), or failed.
    Done {
        task: usize,
        outcome: Result<TaskEnd, String>,
    },
}

/// How a task's search ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    /// Why (`interrupted` when the scheduler stopped it).
    pub stop: String,
    pub trials: usize,
    pub best_us: Option<f64>,
}

/// The scheduler's answer at a task's gate.
pub enum Grant {
    /// Measure one more round.
    Go,
    /// End the search.
    Stop,
}

/// A running task: where to send grants, and its thread.
pub struct Handle {
    pub grants: Sender<Grant>,
    pub thread: JoinHandle<()>,
}

/// Start the search of `ctx` (task `task`) in a thread of its own; it reports to `events`.
pub fn spawn(task: usize, mut ctx: Ctx, events: Sender<Event>) -> anyhow::Result<Handle> {
    let (grants, waiting): (Sender<Grant>, Receiver<Grant>) = channel();
    let gate_events = events.clone();
    ctx.gate = Some(Box::new(move |pause| {
        if gate_events.send(Event::Paused { task, pause }).is_err() {
            return true;
        }
        // A closed channel (the scheduler gone) stops the search too.
        !matches!(waiting.recv(), Ok(Grant::Go))
    }));
    let thread = std::thread::Builder::new()
        .name(format!("task-{task}"))
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                search(task, ctx, &events).map_err(|e| out::one_line(&e))
            }))
            .unwrap_or_else(|_| Err("the task's search panicked".into()));
            let _ = events.send(Event::Done { task, outcome });
        })?;
    Ok(Handle { grants, thread })
}

/// The task's search, to its end: its run's summary stored.
fn search(task: usize, ctx: Ctx, events: &Sender<Event>) -> anyhow::Result<TaskEnd> {
    let run = ctx.run;
    let s = tensor::search(ctx, false, |us| {
        let _ = events.send(Event::Naive { task, us });
    })?;
    store_summary(&s.db, run, &s.summary)?;
    if let Some(msg) = s.tool_failure {
        anyhow::bail!("run {run}: {msg}");
    }
    Ok(TaskEnd {
        stop: s.result.stop.as_str().to_string(),
        trials: s.result.trials,
        best_us: s.result.best_us(),
    })
}
