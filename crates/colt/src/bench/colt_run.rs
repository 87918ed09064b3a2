//! colt's side of the benchmark: each (strategy, seed) is one `colt tune --json` run of this
//! same executable, so the benchmark measures exactly what a user's `colt tune` does (and a
//! crash of one run cannot take the benchmark down). Its summary gives latency, wall time and
//! LLM accounting; the run's candidates in the database give the trials it took to reach
//! TVM's final latency.

use crate::tune::summary::TuneSummary;
use colt_db::{Db, OutcomeKind, RunId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `colt bench` passes through to every `colt tune`.
pub struct TuneSettings {
    pub exe: PathBuf,
    pub db: PathBuf,
}

/// What one model (or all of a run's models) did, as the bench reports it: calls, tokens, and USD from the
/// bench bucket's price table.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ModelUse {
    pub calls: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub usd: f64,
}

/// One `colt tune` run: its summary, or why there is none.
#[derive(Clone, Debug)]
pub struct ColtRun {
    pub seed: u64,
    pub status: String,
    pub run: Option<i64>,
    /// The best kernel's latency as the bench compares it: the median of its final timing
    /// (a fresh process per round, see [`super::final_timing`]) once that ran, else the
    /// tune's own re-timing after the search, else the search's best.
    pub best_us: Option<f64>,
    /// The tune's own re-timing of its best kernel (inside the tuning process).
    pub in_run_us: Option<f64>,
    /// The best latency the search itself measured (the minimum over its trials).
    pub search_best_us: Option<f64>,
    /// The final timing's rounds (µs, one fresh process each); empty when it did not run.
    pub final_rounds_us: Vec<f64>,
    /// The best kernel's schedule (to re-time it in a fresh process).
    pub best_trace: Option<colt_sched::Trace>,
    /// Wall time of the whole `colt tune` command (baselines and re-timing included).
    pub wall_s: Option<f64>,
    /// Wall time of the search alone.
    pub search_wall_s: Option<f64>,
    pub naive_gcc_us: Option<f64>,
    pub llm_calls: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    /// USD: the summary's, until [`ColtRun::price`] recomputes it from a price table.
    pub cost_usd: f64,
    /// Per model (every model of the run's bucket, called or not).
    pub models: BTreeMap<String, ModelUse>,
    /// The bench bucket's largest model's share of this run's calls (set by
    /// [`ColtRun::price`]; `None` without calls).
    pub largest_share: Option<f64>,
    /// The summary's `effective_strategy` (`single-llm` for a colt run on one model).
    pub effective_strategy: Option<String>,
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
            in_run_us: None,
            search_best_us: None,
            final_rounds_us: vec![],
            best_trace: None,
            wall_s: None,
            search_wall_s: None,
            naive_gcc_us: None,
            llm_calls: 0,
            tokens_in: 0,
            tokens_cached: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            models: BTreeMap::new(),
            largest_share: None,
            effective_strategy: None,
            trials_to_tvm: None,
            llm_note: None,
        }
    }

    /// Price the run with `bucket`'s price table (USD per model and in all) and compute the
    /// share of its calls that went to `bucket`'s largest model. A model the bucket does not
    /// know keeps the USD of the run's own summary.
    pub fn price(&mut self, bucket: &colt_llm::Bucket) {
        let mut total = 0.0;
        for (name, u) in &mut self.models {
            if let Some(m) = bucket.model(name) {
                let usage = colt_llm::Usage {
                    input_tokens: u.tokens_in,
                    cached_tokens: u.tokens_cached,
                    cache_write_tokens: 0,
                    output_tokens: u.tokens_out,
                };
                u.usd = colt_llm::cost_usd(&m.prices, &usage);
            }
            total += u.usd;
        }
        if !self.models.is_empty() {
            self.cost_usd = total;
        }
        let calls: u64 = self.models.values().map(|u| u.calls).sum();
        let largest = self.models.get(bucket.largest()).map_or(0, |u| u.calls);
        self.largest_share = (calls > 0).then(|| largest as f64 / calls as f64);
    }

    /// Read a `colt tune --json` summary.
    pub fn from_summary(seed: u64, s: &TuneSummary) -> ColtRun {
        let v = &s.search;
        let calls: u64 = v.llm_calls.values().sum();
        let tensor = s.tensor();
        let search_best_us = tensor.and_then(|t| t.best_us);
        let best_us = tensor.and_then(|t| t.retimed_us).or(search_best_us);
        let mut ok_calls = 0;
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        let mut models = BTreeMap::new();
        for (name, m) in &v.models {
            models.insert(
                name.clone(),
                ModelUse {
                    calls: v.llm_calls.get(name).copied().unwrap_or(m.calls),
                    tokens_in: m.tokens_in,
                    tokens_cached: m.tokens_cached,
                    tokens_out: m.tokens_out,
                    usd: m.cost_usd,
                },
            );
            ok_calls += m.ok;
            for (k, n) in &m.errors {
                *errors.entry(k.clone()).or_default() += n;
            }
        }
        let per_model = !v.models.is_empty();
        let llm_note = (per_model && calls > 0 && ok_calls == 0).then(|| {
            let e: Vec<String> = errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            format!(
                "all {calls} LLM calls failed ({}), the search fell back to its non-LLM policy",
                e.join(", ")
            )
        });
        ColtRun {
            seed,
            status: if best_us.is_some() {
                "ok".into()
            } else {
                "failed: no correct kernel was found".into()
            },
            run: Some(v.run),
            best_us,
            in_run_us: best_us,
            search_best_us,
            final_rounds_us: vec![],
            best_trace: tensor.and_then(|t| t.best_trace.clone()),
            // Summaries written before `command_wall_s` existed give the search's.
            wall_s: Some(if v.command_wall_s > 0.0 {
                v.command_wall_s
            } else {
                v.wall_s
            }),
            search_wall_s: Some(v.wall_s),
            naive_gcc_us: tensor.and_then(|t| t.naive_gcc_us),
            llm_calls: calls,
            tokens_in: v.llm.tokens_in,
            tokens_cached: v.llm.tokens_cached,
            tokens_out: v.llm.tokens_out,
            cost_usd: v.llm.cost_usd,
            models,
            largest_share: None,
            effective_strategy: Some(v.effective_strategy.to_string()),
            trials_to_tvm: None,
            llm_note,
        }
    }
}

/// Run `colt tune --json` for one strategy (what `--strategy` gets) and seed, with `config`.
///
/// Each run gets a fresh, empty cache directory (`COLT_CACHE`): the kernels an earlier run
/// compiled are not reused, so the tuning wall time compared with TVM's (which starts cold)
/// includes every compile. The embedded model's file is found through its own path.
pub fn tune(
    s: &TuneSettings,
    config: Option<&Path>,
    workload: &str,
    scale: &str,
    strategy: &str,
    trials: usize,
    seed: u64,
) -> ColtRun {
    let cache = match tempfile::Builder::new()
        .prefix("colt-bench-cache")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            return ColtRun::failed(seed, format!("cannot create a fresh cache directory: {e}"));
        }
    };
    let mut cmd = Command::new(&s.exe);
    cmd.env("COLT_CACHE", cache.path());
    cmd.args([
        "tune",
        "--json",
        "--workload",
        workload,
        "--scale",
        scale,
        "--strategy",
        strategy,
    ]);
    cmd.args(["--trials", &trials.to_string(), "--seed", &seed.to_string()]);
    cmd.arg("--db").arg(&s.db);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = match run_tune(&s.exe, &mut cmd) {
        Ok(o) => o,
        Err(why) => return ColtRun::failed(seed, why),
    };
    match serde_json::from_slice::<TuneSummary>(&out) {
        Ok(v) => ColtRun::from_summary(seed, &v),
        Err(e) => ColtRun::failed(seed, format!("colt tune printed no JSON summary ({e})")),
    }
}

/// Run a `colt` command of `exe` (`tune`, `measure`): its stdout, or why it failed (the last line of its
/// error output, without the `error: ` prefix).
pub fn run_tune(exe: &Path, cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(last.trim_start_matches("error: ").to_string());
    }
    Ok(out.stdout)
}

/// Trials (1-based, in measurement order) until a correct kernel was at least as fast as
/// `target_us`; `None` when the run never got there.
pub fn trials_to_reach(db: &Path, run: i64, target_us: f64) -> anyhow::Result<Option<u64>> {
    let db = Db::open(db)?;
    let rows = db.candidates(RunId(run))?;
    Ok(first_at_or_below(
        rows.iter().map(|r| {
            let c = &r.candidate;
            if c.outcome == OutcomeKind::Ok {
                c.latency_median_us
            } else {
                None
            }
        }),
        target_us,
    ))
}

fn first_at_or_below(latencies: impl Iterator<Item = Option<f64>>, target_us: f64) -> Option<u64> {
    latencies
        .enumerate()
        .find(|(_, l)| l.is_some_and(|us| us <= target_us))
        .map(|(i, _)| i as u64 + 1)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::space::Space;
    use serde_json::{Value, json};

    /// A tensor run's summary with the fields of `v` (the others at their defaults).
    pub(crate) fn summary(mut v: Value) -> TuneSummary {
        v["space"] = json!(Space::Tensor);
        serde_json::from_value(v).expect("a summary")
    }

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
        let r = ColtRun::from_summary(2, &summary(v));
        assert!(r.ok());
        assert_eq!(
            (r.run, r.llm_calls, r.tokens_in, r.seed),
            (Some(7), 7, 100, 2)
        );
        assert_eq!(r.llm_note, None);
        assert_eq!((r.best_us, r.search_best_us), (Some(12.5), Some(12.5)));
        let retimed = ColtRun::from_summary(
            2,
            &summary(json!({"run": 7, "best_us": 12.5, "retimed_us": 13.0})),
        );
        assert_eq!(
            (retimed.best_us, retimed.search_best_us),
            (Some(13.0), Some(12.5)),
            "TVM is compared with the re-timed best"
        );
        let none = ColtRun::from_summary(1, &summary(json!({"run": 1, "best_us": null})));
        assert!(!none.ok() && none.status.starts_with("failed"));
        let dead = json!({"run": 3, "best_us": 9.0, "llm_calls": {"gemma": 8},
                          "models": {"gemma": {"ok": 0, "errors": {"unavailable": 5, "unsupported": 3}}}});
        let note = ColtRun::from_summary(1, &summary(dead))
            .llm_note
            .expect("every call failed");
        assert!(
            note.contains("all 8 LLM calls failed (unavailable: 5, unsupported: 3)"),
            "{note}"
        );
    }

    /// A colt run on the two embedded models, priced with the bench's stand-in prices.
    pub(crate) fn two_model_run(seed: u64, small_calls: u64, large_calls: u64) -> ColtRun {
        let m = |calls: u64| json!({"calls": calls, "ok": calls, "errors": {}, "tokens_in": calls * 1000, "tokens_cached": calls * 800, "tokens_out": calls * 50, "cost_usd": 0.0});
        let v = json!({"run": seed, "best_us": 10.0, "retimed_us": 11.0, "wall_s": 5.0, "effective_strategy": "colt",
                       "llm_calls": {"smollm2-135m": small_calls, "gemma-3-270m": large_calls},
                       "models": {"smollm2-135m": m(small_calls), "gemma-3-270m": m(large_calls)},
                       "tokens_in": (small_calls + large_calls) * 1000, "cost_usd": 0.0});
        let mut r = ColtRun::from_summary(seed, &summary(v));
        r.price(&crate::bench::strategies::priced(colt_llm::Bucket::default_local()).0);
        r
    }

    #[test]
    fn a_run_is_priced_from_the_bucket_and_the_largest_share_counted() {
        let r = two_model_run(1, 6, 2);
        assert_eq!(r.effective_strategy.as_deref(), Some("colt"));
        let small = &r.models["smollm2-135m"];
        assert_eq!(
            (
                small.calls,
                small.tokens_in,
                small.tokens_cached,
                small.tokens_out
            ),
            (6, 6000, 4800, 300)
        );
        // smollm2-135m at $0.25 / $0.025 / $2.00: 1200 uncached, 4800 cached, 300 out.
        let want_small = (1200.0 * 0.25 + 4800.0 * 0.025 + 300.0 * 2.0) / 1e6;
        // gemma-3-270m at $1.75 / $0.175 / $14.00: 400 uncached, 1600 cached, 100 out.
        let want_large = (400.0 * 1.75 + 1600.0 * 0.175 + 100.0 * 14.0) / 1e6;
        assert!((small.usd - want_small).abs() < 1e-12, "{}", small.usd);
        assert!((r.models["gemma-3-270m"].usd - want_large).abs() < 1e-12);
        assert!((r.cost_usd - (want_small + want_large)).abs() < 1e-12);
        assert_eq!(r.largest_share, Some(0.25));
        // No calls: no share; a model outside the bucket keeps its summary's USD.
        let mut idle = ColtRun::from_summary(
            1,
            &summary(json!({"run": 1, "best_us": 1.0, "llm_calls": {"x": 0},
            "models": {"x": {"calls": 0, "ok": 0, "tokens_in": 0, "cost_usd": 0.5}}})),
        );
        idle.price(&colt_llm::Bucket::default_local());
        assert_eq!((idle.largest_share, idle.cost_usd), (None, 0.5));
    }
}
