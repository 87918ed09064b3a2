//! colt's side of the benchmark: each (strategy, seed) is one `colt tune --json` run of this
//! same executable, so the benchmark measures exactly what a user's `colt tune` does (and a
//! crash of one run cannot take the benchmark down). Its summary gives latency, wall time and
//! LLM accounting; the run's candidates in the database give the trials it took to reach
//! TVM's final latency.

use colt_db::{Db, Outcome, RunId};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `colt bench` passes through to every `colt tune`.
pub struct TuneSettings {
    pub exe: PathBuf,
    pub config: Option<PathBuf>,
    pub db: PathBuf,
}

/// One `colt tune` run: its summary, or why there is none.
#[derive(Clone, Debug)]
pub struct ColtRun {
    pub seed: u64,
    pub status: String,
    pub run: Option<i64>,
    /// The best kernel re-timed after the search (as TVM's best record is), else the
    /// search's best when the summary has no re-timing.
    pub best_us: Option<f64>,
    /// The best latency the search itself measured (the minimum over its trials).
    pub search_best_us: Option<f64>,
    pub wall_s: Option<f64>,
    pub naive_gcc_us: Option<f64>,
    pub llm_calls: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Measurements until the first kernel at least as fast as TVM's final one.
    pub trials_to_tvm: Option<u64>,
    /// Set when the run made LLM calls and none succeeded (e.g. `colt` without an API model
    /// and built without `--features local`): its result is then the fallback policy's.
    pub llm_note: Option<String>,
}

impl ColtRun {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }

    fn failed(seed: u64, reason: String) -> ColtRun {
        ColtRun {
            seed,
            status: format!("failed: {reason}"),
            run: None,
            best_us: None,
            search_best_us: None,
            wall_s: None,
            naive_gcc_us: None,
            llm_calls: 0,
            tokens_in: 0,
            tokens_cached: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            trials_to_tvm: None,
            llm_note: None,
        }
    }

    /// Read a `colt tune --json` summary.
    pub fn from_summary(seed: u64, v: &Value) -> ColtRun {
        let calls = match &v["llm_calls"] {
            Value::Object(m) => m.values().filter_map(Value::as_u64).sum(),
            other => other.as_u64().unwrap_or(0),
        };
        let search_best_us = v["best_us"].as_f64();
        let best_us = v["retimed_us"].as_f64().or(search_best_us);
        let mut ok_calls = 0;
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        let per_model = matches!(&v["models"], Value::Object(m) if !m.is_empty());
        if let Value::Object(models) = &v["models"] {
            for m in models.values() {
                ok_calls += m["ok"].as_u64().unwrap_or(0);
                if let Value::Object(errs) = &m["errors"] {
                    for (k, n) in errs {
                        *errors.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
                    }
                }
            }
        }
        let llm_note = (per_model && calls > 0 && ok_calls == 0).then(|| {
            let e: Vec<String> = errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            format!("all {calls} LLM calls failed ({}), the search fell back to its non-LLM policy", e.join(", "))
        });
        ColtRun {
            seed,
            status: if best_us.is_some() { "ok".into() } else { "failed: no correct kernel was found".into() },
            run: v["run"].as_i64(),
            best_us,
            search_best_us,
            wall_s: v["wall_s"].as_f64(),
            naive_gcc_us: v["naive_gcc_us"].as_f64(),
            llm_calls: calls,
            tokens_in: v["tokens_in"].as_u64().unwrap_or(0),
            tokens_cached: v["tokens_cached"].as_u64().unwrap_or(0),
            tokens_out: v["tokens_out"].as_u64().unwrap_or(0),
            cost_usd: v["cost_usd"].as_f64().unwrap_or(0.0),
            trials_to_tvm: None,
            llm_note,
        }
    }
}

/// Run `colt tune --json` for one strategy and seed.
///
/// Each run gets a fresh, empty cache directory (`COLT_CACHE`): the kernels an earlier run
/// compiled are not reused, so the tuning wall time compared with TVM's (which starts cold)
/// includes every compile. The embedded model's file is found through its own path.
pub fn tune(s: &TuneSettings, workload: &str, scale: &str, strategy: &str, trials: usize, seed: u64) -> ColtRun {
    let cache = match tempfile::Builder::new().prefix("colt-bench-cache").tempdir() {
        Ok(d) => d,
        Err(e) => return ColtRun::failed(seed, format!("cannot create a fresh cache directory: {e}")),
    };
    let mut cmd = Command::new(&s.exe);
    cmd.env("COLT_CACHE", cache.path());
    cmd.args(["tune", "--json", "--workload", workload, "--scale", scale, "--strategy", strategy]);
    cmd.args(["--trials", &trials.to_string(), "--seed", &seed.to_string()]);
    cmd.arg("--db").arg(&s.db);
    if let Some(c) = &s.config {
        cmd.arg("--config").arg(c);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => return ColtRun::failed(seed, format!("cannot run {}: {e}", s.exe.display())),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return ColtRun::failed(seed, last.trim_start_matches("error: ").to_string());
    }
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(v) => ColtRun::from_summary(seed, &v),
        Err(e) => ColtRun::failed(seed, format!("colt tune printed no JSON summary ({e})")),
    }
}

/// Trials (1-based, in measurement order) until a correct kernel was at least as fast as
/// `target_us`; `None` when the run never got there.
pub fn trials_to_reach(db: &Path, run: i64, target_us: f64) -> anyhow::Result<Option<u64>> {
    let db = Db::open(db)?;
    let rows = db.candidates(RunId(run))?;
    Ok(first_at_or_below(rows.iter().map(|r| {
        let c = &r.candidate;
        if c.outcome == Outcome::Ok { c.latency_median_us } else { None }
    }), target_us))
}

fn first_at_or_below(latencies: impl Iterator<Item = Option<f64>>, target_us: f64) -> Option<u64> {
    latencies.enumerate().find(|(_, l)| l.is_some_and(|us| us <= target_us)).map(|(i, _)| i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trials_to_reach_counts_failed_measurements_too() {
        let l = [Some(50.0), None, Some(20.0), Some(9.0), Some(5.0)];
        assert_eq!(first_at_or_below(l.into_iter(), 10.0), Some(4));
        assert_eq!(first_at_or_below(l.into_iter(), 50.0), Some(1));
        assert_eq!(first_at_or_below(l.into_iter(), 1.0), None);
    }

    #[test]
    fn summary_sums_llm_calls_over_models() {
        let v = json!({"run": 7, "best_us": 12.5, "wall_s": 3.0, "llm_calls": {"a": 3, "b": 4},
                       "tokens_in": 100, "tokens_cached": 80, "tokens_out": 9, "cost_usd": 0.25});
        let r = ColtRun::from_summary(2, &v);
        assert!(r.ok());
        assert_eq!((r.run, r.llm_calls, r.tokens_in, r.seed), (Some(7), 7, 100, 2));
        assert_eq!(r.llm_note, None);
        assert_eq!((r.best_us, r.search_best_us), (Some(12.5), Some(12.5)));
        let retimed = ColtRun::from_summary(2, &json!({"run": 7, "best_us": 12.5, "retimed_us": 13.0}));
        assert_eq!((retimed.best_us, retimed.search_best_us), (Some(13.0), Some(12.5)), "TVM is compared with the re-timed best");
        let none = ColtRun::from_summary(1, &json!({"run": 1, "best_us": null}));
        assert!(!none.ok() && none.status.starts_with("failed"));
        let dead = json!({"run": 3, "best_us": 9.0, "llm_calls": {"gemma": 8},
                          "models": {"gemma": {"ok": 0, "errors": {"unavailable": 5, "unsupported": 3}}}});
        let note = ColtRun::from_summary(1, &dead).llm_note.expect("every call failed");
        assert!(note.contains("all 8 LLM calls failed (unavailable: 5, unsupported: 3)"), "{note}");
    }
}
