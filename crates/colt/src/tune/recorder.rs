//! The run's observer: every measured candidate and tree node goes to the database as it
//! happens (committed before the search goes on), and progress drives the bar.

use colt_db::{Db, NewCandidate, Node, Outcome as DbOutcome, RunId};
use colt_sched::Trace;
use colt_search::{NodeEventKind, NodeInfo, Observer, Progress, TrialRecord};
use colt_tensor::OutcomeLog;
use indicatif::ProgressBar;

pub struct Recorder {
    pub db: Db,
    pub run: RunId,
    pub outcomes: OutcomeLog,
    pub flops: f64,
    pub naive_gcc_us: Option<f64>,
    pub bar: ProgressBar,
    /// First database error (the run goes on; the driver reports it).
    pub db_error: Option<String>,
}

impl Recorder {
    fn note(&mut self, r: colt_db::Result<()>) {
        if let Err(e) = r {
            self.db_error.get_or_insert(e.to_string());
        }
    }
}

fn db_outcome(kind: &str) -> DbOutcome {
    kind.parse().unwrap_or(DbOutcome::Error)
}

impl Observer<Trace> for Recorder {
    fn measured(&mut self, t: &TrialRecord<Trace>) {
        let full = self.outcomes.lock().expect("outcome log").get(&t.key).cloned();
        let (min_us, gflops, message) = match &full {
            Some(o) => (o.min_us, o.gflops, o.message.clone()),
            None => (None, t.latency_us.map(|us| self.flops / us / 1e3), t.detail.clone()),
        };
        let ok = t.latency_us.is_some();
        let cand = NewCandidate {
            key: t.key.to_string(),
            trace: serde_json::to_string(&t.state).expect("traces serialise"),
            predicted: t.predicted,
            outcome: if ok { DbOutcome::Ok } else { db_outcome(&t.outcome) },
            latency_median_us: t.latency_us,
            latency_min_us: if ok { min_us.or(t.latency_us) } else { None },
            gflops: if ok { gflops } else { None },
            message: (!message.is_empty()).then_some(message),
            source: t.proposer.clone(),
        };
        let r = self.db.insert_candidate(self.run, &cand).map(|_| ());
        self.note(r);
    }

    fn node(&mut self, _kind: NodeEventKind, n: &NodeInfo<Trace>) {
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

    fn progress(&mut self, p: &Progress) {
        self.bar.set_length(p.trials_total as u64);
        self.bar.set_position(p.trials as u64);
        let mut msg = match p.best_us {
            Some(us) => format!(
                "best {} ({:.1} GFLOP/s{})",
                crate::out::us(Some(us)),
                self.flops / us / 1e3,
                self.naive_gcc_us.map_or(String::new(), |g| format!(", {:.1}x gcc", g / us))
            ),
            None => "no correct kernel yet".into(),
        };
        if p.llm_calls > 0 {
            let per: Vec<String> = p.calls_per_model.iter().map(|(m, c)| format!("{m}:{c}")).collect();
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
