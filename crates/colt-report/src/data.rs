//! What a report shows, read once from the database and reduced to plain series.
//!
//! The plots and tables only format numbers; every reduction (best-so-far curves,
//! cumulative per-model accounting, the largest model's share, tree shape, failure
//! classes, Kendall τ of the cost model) lives here so it can be tested without drawing.

use crate::ReportError;
use colt_db::{
    CandidateRow, Db, LlmCallRow, ModelStats, Node, OutcomeKind, RunId, RunRow, RunStats,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A kernel on the roofline: (arithmetic intensity in FLOP/byte, GFLOP/s).
pub type RooflinePoint = (f64, f64);
/// The machine's roofline limits: (peak GFLOP/s, memory bandwidth GB/s).
pub type MachineRoof = (f64, f64);

/// Everything recorded about one run.
#[derive(Clone, Debug)]
pub struct RunData {
    /// The run's database row.
    pub row: RunRow,
    /// The `colt tune` summary, when the run finished and it parses as JSON.
    pub summary: Option<Value>,
    /// Its measured candidates.
    pub candidates: Vec<CandidateRow>,
    /// Its LLM calls.
    pub calls: Vec<LlmCallRow>,
    /// Its search-tree nodes.
    pub nodes: Vec<Node>,
    /// Its totals.
    pub stats: RunStats,
    /// Per-model LLM statistics, by model name.
    pub model_stats: BTreeMap<String, ModelStats>,
    /// Legend text: strategy, seed and run id (workload and scale too when the report
    /// mixes workloads).
    pub label: String,
    /// The share floor when the run's config sets none (see [`crate::Inputs`]).
    pub default_large_share_floor: f64,
    /// Kendall τ of (predicted, measured) (see [`crate::Inputs`]).
    pub rank_correlation: fn(&[f32], &[f32]) -> f64,
    /// Other tools' kernels for the run's workload and scale (see [`crate::Inputs`]).
    pub peers: Vec<crate::Peer>,
}

/// Read `runs` (duplicates dropped, order kept).
pub fn load(
    db: &Db,
    runs: &[RunId],
    inputs: &crate::Inputs<'_>,
) -> Result<Vec<RunData>, ReportError> {
    if runs.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for &id in runs {
        if !seen.insert(id) {
            continue;
        }
        let row = db.run(id)?;
        let summary = row
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .filter(Value::is_object);
        out.push(RunData {
            candidates: db.candidates(id)?,
            calls: db.llm_calls(id)?,
            nodes: db.nodes(id)?,
            stats: db.run_stats(id)?,
            model_stats: db.model_stats(id)?,
            summary,
            label: String::new(),
            default_large_share_floor: inputs.default_large_share_floor,
            rank_correlation: inputs.rank_correlation,
            peers: inputs
                .peers
                .iter()
                .filter(|p| p.workload == row.spec.workload && p.scale == row.spec.scale)
                .cloned()
                .collect(),
            row,
        });
    }
    let workloads: BTreeSet<(&str, &str)> = out
        .iter()
        .map(|r| (r.row.spec.workload.as_str(), r.row.spec.scale.as_str()))
        .collect();
    let mixed = workloads.len() > 1;
    let labels: Vec<String> = out
        .iter()
        .map(|r| {
            let s = &r.row.spec;
            let base = format!("{} seed {} (run {})", s.strategy, s.seed, r.row.id);
            if mixed {
                format!("{} {}: {base}", s.workload, s.scale)
            } else {
                base
            }
        })
        .collect();
    for (r, l) in out.iter_mut().zip(labels) {
        r.label = l;
    }
    Ok(out)
}

impl RunData {
    /// A number of the summary, if present and finite.
    pub fn summary_f64(&self, field: &str) -> Option<f64> {
        self.summary
            .as_ref()?
            .get(field)?
            .as_f64()
            .filter(|v| v.is_finite())
    }

    /// The best kernel on the roofline: (arithmetic intensity in FLOP/byte, GFLOP/s of
    /// its re-timed latency, else of the search's best), and the machine's (peak GFLOP/s,
    /// bandwidth GB/s) when the run knew them.
    pub fn roofline_point(&self) -> Option<(RooflinePoint, Option<MachineRoof>)> {
        let intensity = self.summary_f64("intensity_flop_per_byte")?;
        let best = self.summary_f64("best_gflops")?;
        let gflops = match (self.summary_f64("best_us"), self.summary_f64("retimed_us")) {
            (Some(b), Some(r)) if r > 0.0 => best * b / r,
            _ => best,
        };
        let m = self.summary.as_ref()?.get("machine");
        let f = |k: &str| m.and_then(|m| m.get(k)).and_then(|v| v.as_f64());
        Some((
            (intensity, gflops),
            f("peak_gflops").zip(f("bandwidth_gbs")),
        ))
    }

    /// Correct measurements in trial order: (trial number from 1, median µs).
    pub fn measured(&self) -> Vec<(u64, f64)> {
        self.candidates
            .iter()
            .filter(|c| c.candidate.outcome == OutcomeKind::Ok)
            .filter_map(|c| {
                c.candidate
                    .latency_median_us
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .map(|us| (c.seq + 1, us))
            })
            .collect()
    }

    /// Best latency so far after each trial that improved it, as a step curve:
    /// (trial, best µs) pairs, ending at the last trial.
    pub fn best_curve(&self) -> Vec<(u64, f64)> {
        let mut pts: Vec<(u64, f64)> = vec![];
        let mut best = f64::INFINITY;
        for (trial, us) in self.measured() {
            if us < best {
                if let Some(&(_, prev)) = pts.last() {
                    pts.push((trial, prev));
                }
                best = us;
                pts.push((trial, us));
            }
        }
        let last = self.candidates.last().map_or(0, |c| c.seq + 1);
        if let Some(&(t, b)) = pts.last()
            && last > t
        {
            pts.push((last, b));
        }
        pts
    }

    /// Fastest correct candidate of the run.
    pub fn best(&self) -> Option<&CandidateRow> {
        self.candidates
            .iter()
            .filter(|c| c.candidate.outcome == OutcomeKind::Ok)
            .filter(|c| {
                c.candidate
                    .latency_median_us
                    .is_some_and(|v| v.is_finite() && v > 0.0)
            })
            .min_by(|a, b| {
                a.candidate
                    .latency_median_us
                    .partial_cmp(&b.candidate.latency_median_us)
                    .expect("finite")
            })
    }

    /// Cost-model quality points: (predicted normalised throughput, measured throughput
    /// normalised to the run's best = 1) for correct candidates that had a prediction.
    pub fn predicted_vs_measured(&self) -> Vec<(f64, f64)> {
        let Some(best) = self.best().and_then(|b| b.candidate.latency_median_us) else {
            return vec![];
        };
        self.candidates
            .iter()
            .filter(|c| c.candidate.outcome == OutcomeKind::Ok)
            .filter_map(|c| {
                let p = c.candidate.predicted.filter(|p| p.is_finite())?;
                let us = c
                    .candidate
                    .latency_median_us
                    .filter(|v| v.is_finite() && *v > 0.0)?;
                Some((p, best / us))
            })
            .collect()
    }

    /// Kendall τ between predictions and measured throughput (None below two points).
    pub fn kendall_tau(&self) -> Option<f64> {
        let pts = self.predicted_vs_measured();
        if pts.len() < 2 {
            return None;
        }
        let pred: Vec<f32> = pts.iter().map(|p| p.0 as f32).collect();
        let truth: Vec<f32> = pts.iter().map(|p| p.1 as f32).collect();
        Some((self.rank_correlation)(&pred, &truth)).filter(|t| t.is_finite())
    }

    /// Models in the order of their first call.
    pub fn models(&self) -> Vec<String> {
        let mut v: Vec<String> = vec![];
        for c in &self.calls {
            if !v.contains(&c.call.model) {
                v.push(c.call.model.clone());
            }
        }
        v
    }

    /// Per model, cumulative (call number within the run from 1, value) after each of its
    /// calls; `value` picks what accumulates (1 per call, tokens, USD).
    pub fn cumulative_by_model(
        &self,
        value: impl Fn(&LlmCallRow) -> f64,
    ) -> BTreeMap<String, Vec<(f64, f64)>> {
        let mut out: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        for (i, c) in self.calls.iter().enumerate() {
            let s = sums.entry(c.call.model.as_str()).or_default();
            *s += value(c);
            out.entry(c.call.model.clone())
                .or_default()
                .push(((i + 1) as f64, *s));
        }
        out
    }

    /// The largest model of the bucket: by parameter count from the summary's model
    /// reports, else from the run's `[[models]]` config.
    pub fn largest_model(&self) -> Option<String> {
        let mut params: Vec<(f64, String)> = vec![];
        if let Some(models) = self
            .summary
            .as_ref()
            .and_then(|s| s.get("models"))
            .and_then(Value::as_object)
        {
            for (name, rep) in models {
                if let Some(p) = rep
                    .get("params")
                    .and_then(Value::as_f64)
                    .filter(|p| p.is_finite() && *p > 0.0)
                {
                    params.push((p, name.clone()));
                }
            }
        }
        if params.is_empty()
            && let Ok(doc) = self.row.spec.config.parse::<toml::Table>()
            && let Some(toml::Value::Array(models)) = doc.get("models")
        {
            for m in models {
                let name = m.get("name").and_then(toml::Value::as_str);
                let p = m.get("params").and_then(|v| match v {
                    toml::Value::String(s) => parse_params(s),
                    toml::Value::Integer(i) => Some(*i as f64),
                    toml::Value::Float(f) => Some(*f),
                    _ => None,
                });
                if let (Some(name), Some(p)) = (name, p) {
                    params.push((p, name.to_string()));
                }
            }
        }
        params
            .into_iter()
            .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
            .map(|p| p.1)
    }

    /// The largest model's share of calls so far, after each call: (call number, share).
    pub fn large_share_curve(&self) -> Option<Vec<(f64, f64)>> {
        let large = self.largest_model()?;
        let mut n_large = 0u64;
        Some(
            self.calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    n_large += u64::from(c.call.model == large);
                    ((i + 1) as f64, n_large as f64 / (i + 1) as f64)
                })
                .collect(),
        )
    }

    /// The share floor the policy enforced: `[search] large_share_floor` of the run's
    /// config, else the search default ([`crate::Inputs`]); None for runs without LLM calls.
    pub fn share_floor(&self) -> Option<f64> {
        if self.calls.is_empty() {
            return None;
        }
        let from_config = self
            .row
            .spec
            .config
            .parse::<toml::Table>()
            .ok()
            .and_then(|d| d.get("search")?.get("large_share_floor")?.as_float());
        Some(from_config.unwrap_or(self.default_large_share_floor))
    }

    /// Course-alteration calls: (call number, cumulative count, model, ok).
    pub fn course_alterations(&self) -> Vec<(f64, f64, String, bool)> {
        let mut n = 0.0;
        self.calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.call.role == "course_alteration")
            .map(|(i, c)| {
                n += 1.0;
                ((i + 1) as f64, n, c.call.model.clone(), c.call.ok)
            })
            .collect()
    }

    /// Tree nodes per depth.
    pub fn depth_histogram(&self) -> BTreeMap<u64, u64> {
        let mut h = BTreeMap::new();
        for n in &self.nodes {
            *h.entry(u64::from(n.depth)).or_default() += 1;
        }
        h
    }

    /// Number of internal nodes (nodes with children) per child count.
    pub fn branching_histogram(&self) -> BTreeMap<u64, u64> {
        let mut children: BTreeMap<u64, u64> = BTreeMap::new();
        for n in &self.nodes {
            if let Some(p) = n.parent {
                *children.entry(p).or_default() += 1;
            }
        }
        let mut h = BTreeMap::new();
        for c in children.values() {
            *h.entry(*c).or_default() += 1;
        }
        h
    }

    /// Candidates per failure outcome (every failure class, zeros included).
    pub fn failures(&self) -> BTreeMap<OutcomeKind, u64> {
        let mut h: BTreeMap<OutcomeKind, u64> = OutcomeKind::ALL
            .iter()
            .filter(|o| **o != OutcomeKind::Ok)
            .map(|o| (*o, 0))
            .collect();
        for c in &self.candidates {
            if let Some(n) = h.get_mut(&c.candidate.outcome) {
                *n += 1;
            }
        }
        h
    }

    /// Failed LLM calls per error kind.
    pub fn llm_errors(&self) -> BTreeMap<String, u64> {
        let mut h = BTreeMap::new();
        for c in self.calls.iter().filter(|c| !c.call.ok) {
            *h.entry(
                c.call
                    .error_kind
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            )
            .or_default() += 1;
        }
        h
    }
}

/// `"8B"`, `"1T"`, `"270M"`, `"1.5b"`, `"7e9"` → a parameter count.
pub fn parse_params(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'B' | 'G' => (&s[..s.len() - 1], 1e9),
        'T' => (&s[..s.len() - 1], 1e12),
        _ => (s, 1.0),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .map(|v| v * mult)
        .filter(|v| v.is_finite() && *v > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_db::{LlmCallRow, NewCandidate, NewLlmCall, NewRun, RunStatus};

    fn run(
        latencies: &[Option<f64>],
        predicted: &[Option<f64>],
        calls: &[(&str, &str, bool)],
        config: &str,
    ) -> RunData {
        let spec = NewRun {
            strategy: "colt".into(),
            workload: "matmul".into(),
            space: "tensor".into(),
            scale: "ci".into(),
            seed: 1,
            trials: latencies.len() as u64,
            config: config.into(),
            versions: String::new(),
            target: String::new(),
            inputs: Default::default(),
        };
        let candidates = latencies
            .iter()
            .zip(predicted)
            .enumerate()
            .map(|(i, (l, p))| CandidateRow {
                run: RunId(1),
                seq: i as u64,
                measured_at_ms: 0,
                candidate: NewCandidate {
                    key: i.to_string(),
                    trace: "{}".into(),
                    predicted: *p,
                    outcome: if l.is_some() {
                        OutcomeKind::Ok
                    } else {
                        OutcomeKind::Crash
                    },
                    latency_median_us: *l,
                    latency_min_us: *l,
                    gflops: None,
                    message: None,
                    source: "random".into(),
                },
            })
            .collect();
        let calls = calls
            .iter()
            .enumerate()
            .map(|(i, (model, role, ok))| LlmCallRow {
                run: RunId(1),
                called_at_ms: 0,
                call: NewLlmCall {
                    seq: i as u64,
                    model: model.to_string(),
                    role: role.to_string(),
                    ok: *ok,
                    error_kind: (!ok).then(|| "no_json".to_string()),
                    latency_ms: 10.0,
                    input_tokens: 100,
                    cached_tokens: 0,
                    output_tokens: 10,
                    cost_usd: 0.5,
                    attempts: 1,
                    prefix_hash: String::new(),
                    answer: String::new(),
                    action: None,
                    record: None,
                },
            })
            .collect();
        RunData {
            row: RunRow {
                id: RunId(1),
                created_at_ms: 0,
                spec,
                status: RunStatus::Finished,
                finished_at_ms: None,
                summary: None,
            },
            summary: None,
            candidates,
            calls,
            nodes: vec![],
            stats: RunStats::default(),
            model_stats: BTreeMap::new(),
            label: "run 1".into(),
            default_large_share_floor: colt_search::SearchConfig::default().large_share_floor,
            rank_correlation: colt_cost::kendall_tau,
            peers: vec![],
        }
    }

    fn node(id: u64, parent: Option<u64>, depth: u32) -> Node {
        Node {
            node_id: id,
            parent,
            depth,
            model: None,
            state: "{}".into(),
            visits: 1,
            value: 0.0,
            predicted: None,
            measured: None,
            terminal: false,
        }
    }

    #[test]
    fn best_curve_steps_down_at_improvements_and_runs_to_the_last_trial() {
        let r = run(
            &[
                Some(5.0),
                Some(3.0),
                None,
                Some(4.0),
                Some(1.0),
                Some(2.0),
                None,
            ],
            &[None; 7],
            &[],
            "",
        );
        assert_eq!(
            r.best_curve(),
            vec![(1, 5.0), (2, 5.0), (2, 3.0), (5, 3.0), (5, 1.0), (7, 1.0)]
        );
        assert_eq!(r.best().map(|b| b.seq), Some(4));
        assert_eq!(r.failures()[&OutcomeKind::Crash], 2);
        assert_eq!(r.failures()[&OutcomeKind::Timeout], 0);
        assert!(!r.failures().contains_key(&OutcomeKind::Ok));
        let none = run(&[None, None], &[None; 2], &[], "");
        assert!(none.best_curve().is_empty() && none.best().is_none());
    }

    #[test]
    fn kendall_tau_is_one_for_a_perfect_ranking_and_minus_one_reversed() {
        let lat = [Some(10.0), Some(5.0), Some(2.0), Some(1.0)];
        let good = run(&lat, &[Some(0.1), Some(0.2), Some(0.5), Some(1.0)], &[], "");
        assert_eq!(
            good.predicted_vs_measured(),
            vec![(0.1, 0.1), (0.2, 0.2), (0.5, 0.5), (1.0, 1.0)]
        );
        assert!((good.kendall_tau().unwrap() - 1.0).abs() < 1e-9);
        let bad = run(&lat, &[Some(1.0), Some(0.5), Some(0.2), Some(0.1)], &[], "");
        assert!((bad.kendall_tau().unwrap() + 1.0).abs() < 1e-9);
        let one = run(&lat, &[Some(1.0), None, None, None], &[], "");
        assert_eq!(one.kendall_tau(), None);
    }

    #[test]
    fn per_model_accounting_and_large_share_follow_call_order() {
        let config = "[[models]]\nname = \"s\"\nparams = \"8B\"\n[[models]]\nname = \"l\"\nparams = \"1T\"\n[search]\nlarge_share_floor = 0.3\n";
        let calls = [
            ("s", "expand", true),
            ("l", "course_alteration", true),
            ("s", "expand", false),
            ("l", "expand", true),
        ];
        let r = run(&[], &[], &calls, config);
        assert_eq!(r.models(), vec!["s".to_string(), "l".to_string()]);
        let n = r.cumulative_by_model(|_| 1.0);
        assert_eq!(n["s"], vec![(1.0, 1.0), (3.0, 2.0)]);
        assert_eq!(n["l"], vec![(2.0, 1.0), (4.0, 2.0)]);
        let usd = r.cumulative_by_model(|c| c.call.cost_usd);
        assert_eq!(usd["l"].last(), Some(&(4.0, 1.0)));
        assert_eq!(r.largest_model().as_deref(), Some("l"));
        assert_eq!(
            r.large_share_curve().unwrap(),
            vec![(1.0, 0.0), (2.0, 0.5), (3.0, 1.0 / 3.0), (4.0, 0.5)]
        );
        assert_eq!(r.share_floor(), Some(0.3));
        assert_eq!(
            r.course_alterations(),
            vec![(2.0, 1.0, "l".to_string(), true)]
        );
        assert_eq!(r.llm_errors(), BTreeMap::from([("no_json".to_string(), 1)]));
        // The summary's parameter counts win over the config.
        let mut r2 = r.clone();
        r2.summary =
            Some(serde_json::json!({"models": {"s": {"params": 9e12}, "l": {"params": 1e9}}}));
        assert_eq!(r2.largest_model().as_deref(), Some("s"));
        let unknown = run(&[], &[], &calls, "");
        assert_eq!(unknown.largest_model(), None);
        assert!(unknown.large_share_curve().is_none());
        assert_eq!(
            unknown.share_floor(),
            Some(colt_search::SearchConfig::default().large_share_floor)
        );
    }

    #[test]
    fn tree_histograms_count_depths_and_children() {
        let mut r = run(&[], &[], &[], "");
        // 0 -> {1, 2, 3}; 1 -> {4}; 4 -> {5, 6}
        r.nodes = vec![
            node(0, None, 0),
            node(1, Some(0), 1),
            node(2, Some(0), 1),
            node(3, Some(0), 1),
            node(4, Some(1), 2),
            node(5, Some(4), 3),
            node(6, Some(4), 3),
        ];
        assert_eq!(
            r.depth_histogram(),
            BTreeMap::from([(0, 1), (1, 3), (2, 1), (3, 2)])
        );
        assert_eq!(
            r.branching_histogram(),
            BTreeMap::from([(1, 1), (2, 1), (3, 1)])
        );
    }

    #[test]
    fn params_parse_with_suffixes() {
        assert_eq!(parse_params("8B"), Some(8e9));
        assert_eq!(parse_params("1T"), Some(1e12));
        assert_eq!(parse_params("270m"), Some(270e6));
        assert_eq!(parse_params("1.5b"), Some(1.5e9));
        assert_eq!(parse_params("7e9"), Some(7e9));
        assert_eq!(parse_params("big"), None);
        assert_eq!(parse_params(""), None);
        assert_eq!(parse_params("-3B"), None);
    }
}
