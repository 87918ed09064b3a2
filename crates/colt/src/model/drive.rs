//! The loop of `colt model tune`: the scheduler picks a task, its thread measures one round,
//! the round is recorded, until the budget is spent; then every search is ended (each
//! task's run finished with its summary).

use super::schedule::Scheduler;
use super::task::{self, Event, Grant, Handle, TaskEnd};
use crate::out;
use crate::tune::Ctx;
use crate::tune::recorder::Pause;
use anyhow::{Context, bail};
use colt_db::{Db, ModelRound, ModelRunId, RunId};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::mpsc::{Receiver, Sender, channel};

/// One task of the model run: a distinct kernel and its tuning run.
pub struct Slot {
    /// The kernel's index in the model.
    pub kernel: usize,
    pub label: String,
    pub count: usize,
    pub run: RunId,
    /// The search's context, until its thread starts.
    pub ctx: Option<Ctx>,
    pub handle: Option<Handle>,
    /// How its search ended, once it did.
    pub end: Option<TaskEnd>,
    pub naive_us: Option<f64>,
}

/// What a round ended with.
enum Step {
    Paused(Pause),
    Done(TaskEnd),
}

/// The scheduler's loop over the task threads.
pub struct Driver {
    pub sched: Scheduler,
    pub slots: Vec<Slot>,
    pub db: Db,
    pub model_run: ModelRunId,
    events: Receiver<Event>,
    sender: Sender<Event>,
    bar: ProgressBar,
    seq: u64,
    /// The rounds on record (a resumed run replays them, and must make the same).
    recorded: Vec<ModelRound>,
}

impl Driver {
    /// A driver of `slots` (their threads not started); `quiet`: no progress bar.
    pub fn new(
        mut sched: Scheduler,
        slots: Vec<Slot>,
        db: Db,
        model_run: ModelRunId,
        quiet: bool,
    ) -> anyhow::Result<Driver> {
        // A resumed run schedules with the naive latencies it recorded, not new timings.
        for (i, s) in slots.iter().enumerate() {
            sched.set_naive(i, s.naive_us);
        }
        let recorded = db.model_rounds(model_run)?;
        let (sender, events) = channel();
        let bar = if quiet {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(sched.settings().budget as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} trials  {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        Ok(Driver {
            sched,
            slots,
            db,
            model_run,
            events,
            sender,
            bar,
            seq: 0,
            recorded,
        })
    }

    /// Every round the scheduler gives, then the end of every search. On an error the
    /// searches are stopped (their threads joined) before it is returned.
    pub fn run(&mut self) -> anyhow::Result<()> {
        let rounds = self.rounds();
        let ended = match rounds {
            Ok(()) => self.stop_all(),
            Err(_) => {
                self.abort();
                Ok(())
            }
        };
        self.bar.finish_and_clear();
        rounds.and(ended)
    }

    fn rounds(&mut self) -> anyhow::Result<()> {
        while let Some(i) = self.sched.next() {
            self.round(i)?;
        }
        Ok(())
    }

    /// One round of task `i` (its thread started first if needed), recorded.
    fn round(&mut self, i: usize) -> anyhow::Result<()> {
        let step = if self.slots[i].handle.is_none() {
            let ctx = self.slots[i].ctx.take().context("a task started twice")?;
            self.slots[i].handle = Some(task::spawn(i, ctx, self.sender.clone())?);
            // A tree search measures its first batch before its first pause; the others
            // pause first.
            match self.wait(i)? {
                Step::Paused(p) if p.rounds == 0 => self.go(i)?,
                step => step,
            }
        } else {
            self.go(i)?
        };
        let (trials, best_us) = match step {
            Step::Paused(p) => (p.trials as usize, p.best_us),
            Step::Done(end) => {
                let r = (end.trials, end.best_us);
                self.finished(i, end);
                r
            }
        };
        self.sched.observe(i, trials, best_us);
        let round = ModelRound {
            seq: self.seq,
            kernel: self.slots[i].kernel as u64,
            trials: trials as u64,
            best_us,
            at_ms: 0,
        };
        self.record(round)?;
        self.seq += 1;
        self.show(i);
        Ok(())
    }

    /// Store a round; a round on record must be the one replayed (the search and the
    /// scheduler are deterministic given the recorded measurements).
    fn record(&mut self, round: ModelRound) -> anyhow::Result<()> {
        match self.recorded.get(round.seq as usize) {
            Some(r) if (r.kernel, r.trials) != (round.kernel, round.trials) => bail!(
                "model run {}: round {} replayed as kernel {} at {} trials, recorded as kernel {} at {}; the replay diverged",
                self.model_run,
                round.seq,
                round.kernel,
                round.trials,
                r.kernel,
                r.trials
            ),
            Some(_) => Ok(()),
            None => {
                self.db.insert_model_round(self.model_run, &round)?;
                Ok(())
            }
        }
    }

    /// Grant task `i` a round and wait for it.
    fn go(&mut self, i: usize) -> anyhow::Result<Step> {
        self.grant(i, Grant::Go)?;
        self.wait(i)
    }

    fn grant(&self, i: usize, g: Grant) -> anyhow::Result<()> {
        let h = self.slots[i]
            .handle
            .as_ref()
            .context("a task not started")?;
        h.grants
            .send(g)
            .map_err(|_| anyhow::anyhow!("task {i}'s search is gone"))
    }

    /// Task `i`'s next pause or end (the naive latency it reports on the way is kept).
    fn wait(&mut self, i: usize) -> anyhow::Result<Step> {
        loop {
            match self.events.recv().context("every task's search is gone")? {
                Event::Naive { task, us } => self.naive(task, us)?,
                Event::Paused { task, pause } if task == i => return Ok(Step::Paused(pause)),
                Event::Done { task, outcome } if task == i => {
                    if let Some(h) = self.slots[i].handle.take() {
                        let _ = h.thread.join();
                    }
                    let k = &self.slots[i];
                    return outcome.map(Step::Done).map_err(|e| {
                        anyhow::anyhow!("kernel {} ({}), run {}: {e}", k.kernel, k.label, k.run)
                    });
                }
                Event::Paused { task, .. } | Event::Done { task, .. } => {
                    bail!("task {task} reported while task {i} had the turn")
                }
            }
        }
    }

    /// The naive latency a task measured: kept unless one is on record already.
    fn naive(&mut self, task: usize, us: Option<f64>) -> anyhow::Result<()> {
        if self.slots[task].naive_us.is_some() {
            return Ok(());
        }
        self.sched.set_naive(task, us);
        self.slots[task].naive_us = us;
        if let Some(us) = us {
            let kernel = self.slots[task].kernel as u64;
            self.db.set_model_task_naive(self.model_run, kernel, us)?;
        }
        Ok(())
    }

    fn finished(&mut self, i: usize, end: TaskEnd) {
        self.sched.retire(i);
        self.slots[i].end = Some(end);
    }

    /// End every search still paused, in task order, and wait for each.
    fn stop_all(&mut self) -> anyhow::Result<()> {
        for i in 0..self.slots.len() {
            if self.slots[i].handle.is_none() {
                continue;
            }
            self.grant(i, Grant::Stop)?;
            match self.wait(i)? {
                Step::Done(end) => self.finished(i, end),
                Step::Paused(_) => bail!("task {i} went on after it was stopped"),
            }
        }
        Ok(())
    }

    /// Stop every thread without waiting for its turn: a closed grant channel ends its
    /// search at its gate.
    fn abort(&mut self) {
        for s in &mut self.slots {
            if let Some(h) = s.handle.take() {
                drop(h.grants);
                let _ = h.thread.join();
            }
        }
    }

    fn show(&self, i: usize) {
        let s = &self.slots[i];
        self.bar.set_position(self.sched.used() as u64);
        self.bar.set_message(format!(
            "kernel {} {}: {} (naive {}) | model ≈ {}",
            s.kernel,
            s.label,
            out::us(self.sched.latency(i)),
            out::us(s.naive_us),
            out::us(Some(self.sched.model_us()))
        ));
    }
}
