//! The run's observer: every measured candidate and tree node goes to the database as it
//! happens (committed before the search goes on), and progress drives the bar.

use colt_db::{Db, NewCandidate, Node, OutcomeKind, RunId};
use colt_search::{NodeEventKind, NodeInfo, Observer, Progress, TrialRecord};
use indicatif::ProgressBar;
use serde::Serialize;

/// More about a measured key than the engine's `Measurement`: min latency, GFLOP/s, message.
pub type Details = Box<dyn Fn(u64) -> Option<(Option<f64>, Option<f64>, String)>>;

/// How the progress bar shows the best value so far.
pub type ShowBest = Box<dyn Fn(f64) -> String>;

/// Where a search stands between two rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pause {
    /// Trials measured (replayed ones included).
    pub trials: u64,
    /// Measurement rounds done.
    pub rounds: u64,
    /// The best latency so far.
    pub best_us: Option<f64>,
}

/// Asked before every round after the first whether the search goes on (`true`: stop).
pub type Gate = Box<dyn FnMut(Pause) -> bool + Send>;

pub struct Recorder {
    pub db: Db,
    pub run: RunId,
    pub details: Details,
    pub show_best: ShowBest,
    pub bar: ProgressBar,
    /// First database error (the run goes on; the driver reports it).
    pub db_error: Option<String>,
    /// Trials observed, and those that failed for a tool reason (a compiler that cannot
    /// run, an I/O error): not the candidate's fault.
    pub trials: u64,
    pub tool_failures: u64,
    pub first_tool_error: Option<String>,
    /// Asked whether to stop before each round (`None`: never stop early).
    pub gate: Option<Gate>,
    /// Rounds done, and the best latency so far (for the gate).
    pub rounds: u64,
    pub best_us: Option<f64>,
}

impl Recorder {
    fn note(&mut self, r: colt_db::Result<()>) {
        if let Err(e) = r {
            self.db_error.get_or_insert(e.to_string());
        }
    }
}

impl<S: Serialize> Observer<S> for Recorder {
    fn measured(&mut self, t: &TrialRecord<S>) {
        let (min_us, gflops, message) =
            (self.details)(t.key).unwrap_or((None, None, t.detail.clone()));
        let ok = t.latency_us.is_some();
        self.trials += 1;
        if !ok && t.outcome.is_tool_failure() {
            self.tool_failures += 1;
            if self.first_tool_error.is_none() {
                self.first_tool_error = Some(format!("{}: {}", t.outcome, message));
            }
        }
        let cand = NewCandidate {
            key: t.key.to_string(),
            trace: serde_json::to_string(&t.state).expect("traces serialise"),
            predicted: t.predicted,
            outcome: if ok { OutcomeKind::Ok } else { t.outcome },
            latency_median_us: t.latency_us,
            latency_min_us: if ok { min_us.or(t.latency_us) } else { None },
            gflops: if ok { gflops } else { None },
            message: (!message.is_empty()).then_some(message),
            source: t.proposer.clone(),
        };
        let r = self.db.insert_candidate(self.run, &cand).map(|_| ());
        self.note(r);
    }

    fn node(&mut self, _kind: NodeEventKind, n: &NodeInfo<S>) {
        let node = Node {
            node_id: u64::from(n.id),
            parent: n.parent.map(u64::from),
            depth: n.depth,
            model: n.model.clone(),
            state: serde_json::to_string(&n.state).expect("traces serialise"),
            visits: u64::from(n.visits),
            value: n.value,
            predicted: Some(n.predicted),
            measured: n.measured_us.flatten(),
            terminal: n.terminal,
        };
        let r = self.db.upsert_node(self.run, &node);
        self.note(r);
    }

    fn should_stop(&mut self) -> bool {
        let pause = Pause {
            trials: self.trials,
            rounds: self.rounds,
            best_us: self.best_us,
        };
        self.gate.as_mut().is_some_and(|g| g(pause))
    }

    fn progress(&mut self, p: &Progress) {
        self.rounds += 1;
        self.best_us = p.best_us;
        self.bar.set_length(p.trials_total as u64);
        self.bar.set_position(p.trials as u64);
        let mut msg = match p.best_us {
            Some(v) => format!("best {}", (self.show_best)(v)),
            None => "no correct candidate yet".into(),
        };
        if p.llm_calls > 0 {
            let per: Vec<String> = p
                .calls_per_model
                .iter()
                .map(|(m, c)| format!("{m}:{c}"))
                .collect();
            msg.push_str(&format!(
                " | calls {} | tok {}/{} cached/{} out | ${:.4}",
                per.join(" "),
                p.tokens_in,
                p.tokens_cached,
                p.tokens_out,
                p.cost_usd
            ));
        }
        self.bar.set_message(msg);
    }
}
