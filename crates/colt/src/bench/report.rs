//! The benchmark table: one row per workload and trial budget, built from colt's runs (all
//! strategies and seeds) and the peers' results, printed three ways — a terminal table (one
//! line per strategy and peer), a CSV with the same lines, and JSON rows for scripts.
//!
//! Ratios exist only where both sides measured: a skipped or failed peer makes them null,
//! so a missing TVM can never read as a win.

use super::colt_run::{ColtRun, ModelUse};
use super::peer::PeerResult;
use crate::out;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// min / median / max of a sample (median of an even count: mean of the middle two).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(xs: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            min: v[0],
            median,
            max: v[n - 1],
            n,
        })
    }

    fn json(s: Option<Spread>) -> Value {
        s.map_or(
            Value::Null,
            |s| json!({"min": s.min, "median": s.median, "max": s.max, "n": s.n}),
        )
    }
}

/// All runs of one strategy (one per seed).
#[derive(Clone, Debug)]
pub struct StrategyRuns {
    pub strategy: String,
    pub runs: Vec<ColtRun>,
}

impl StrategyRuns {
    fn ok_runs(&self) -> impl Iterator<Item = &ColtRun> {
        self.runs.iter().filter(|r| r.ok())
    }
    pub fn best_us(&self) -> Option<Spread> {
        Spread::of(self.ok_runs().filter_map(|r| r.best_us))
    }
    pub fn wall_s(&self) -> Option<Spread> {
        Spread::of(self.ok_runs().filter_map(|r| r.wall_s))
    }
    /// `ok` when every seed ran; otherwise the first failure (with how many seeds failed).
    pub fn status(&self) -> String {
        let failed: Vec<&ColtRun> = self.runs.iter().filter(|r| !r.ok()).collect();
        match failed.first() {
            None => match self.runs.iter().find_map(|r| r.llm_note.as_ref()) {
                Some(note) => format!("ok; {note}"),
                None => "ok".into(),
            },
            Some(f) if failed.len() == 1 && self.runs.len() == 1 => f.status.clone(),
            Some(f) => format!("{} of {} seeds {}", failed.len(), self.runs.len(), f.status),
        }
    }
    fn llm(&self) -> (u64, u64, u64, u64, f64) {
        self.runs.iter().fold((0, 0, 0, 0, 0.0), |a, r| {
            (
                a.0 + r.llm_calls,
                a.1 + r.tokens_in,
                a.2 + r.tokens_cached,
                a.3 + r.tokens_out,
                a.4 + r.cost_usd,
            )
        })
    }
    fn trials_to_tvm(&self) -> Vec<Option<u64>> {
        self.ok_runs().map(|r| r.trials_to_tvm).collect()
    }
    /// Calls, tokens and USD per model, summed over the seeds.
    pub fn per_model(&self) -> BTreeMap<String, ModelUse> {
        let mut out: BTreeMap<String, ModelUse> = BTreeMap::new();
        for (name, u) in self.runs.iter().flat_map(|r| &r.models) {
            let t = out.entry(name.clone()).or_default();
            t.calls += u.calls;
            t.tokens_in += u.tokens_in;
            t.tokens_cached += u.tokens_cached;
            t.tokens_out += u.tokens_out;
            t.usd += u.usd;
        }
        out
    }
    /// The bench bucket's largest model's share of calls, over the seeds that made calls.
    pub fn largest_share(&self) -> Option<Spread> {
        Spread::of(self.ok_runs().filter_map(|r| r.largest_share))
    }
}

fn model_use_json(m: &BTreeMap<String, ModelUse>) -> Value {
    let mut o = Map::new();
    for (name, u) in m {
        o.insert(
            name.clone(),
            json!({"calls": u.calls, "tokens_in": u.tokens_in, "tokens_cached": u.tokens_cached, "tokens_out": u.tokens_out, "usd": u.usd}),
        );
    }
    Value::Object(o)
}

/// One workload at one trial budget.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    pub scale: String,
    pub trials: usize,
    pub flops: f64,
    pub strategies: Vec<StrategyRuns>,
    pub tvm: PeerResult,
    /// `None` where no OpenBLAS figure applies to the workload.
    pub numpy: Option<PeerResult>,
    /// The machine's roofline bound for this workload (GFLOP/s), once the machine is measured.
    pub roofline_gflops: Option<f64>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Row {
    fn gflops(&self, us: Option<f64>) -> Option<f64> {
        us.filter(|&u| u > 0.0).map(|u| self.flops / u / 1e3)
    }

    /// The strategy with the lowest median best latency (the first on a tie).
    pub fn best_strategy(&self) -> Option<&StrategyRuns> {
        self.strategies
            .iter()
            .filter_map(|s| s.best_us().map(|b| (s, b.median)))
            .fold(
                None,
                |acc: Option<(&StrategyRuns, f64)>, (s, m)| match acc {
                    Some((_, bm)) if bm <= m => acc,
                    _ => Some((s, m)),
                },
            )
            .map(|(s, _)| s)
    }

    /// A latency's throughput over the machine's roofline bound for this workload.
    fn peak_fraction(&self, us: Option<f64>) -> Option<f64> {
        self.gflops(us)
            .zip(self.roofline_gflops)
            .map(|(g, b)| g / b)
    }

    fn openblas_us(&self) -> Option<f64> {
        self.numpy.as_ref().and_then(|n| n.best_us)
    }

    fn strategy_json(&self, s: &StrategyRuns) -> Value {
        let best = s.best_us();
        let wall = s.wall_s();
        let (calls, tin, tcached, tout, usd) = s.llm();
        let runs: Vec<Value> = s
            .runs
            .iter()
            .map(|r| {
                json!({"seed": r.seed, "status": r.status, "run": r.run, "best_us": r.best_us, "in_run_us": r.in_run_us,
                       "final_rounds_us": r.final_rounds_us, "search_best_us": r.search_best_us, "wall_s": r.wall_s,
                       "search_wall_s": r.search_wall_s, "peak_fraction": self.peak_fraction(r.best_us),
                       "naive_gcc_us": r.naive_gcc_us, "trials_to_tvm": r.trials_to_tvm, "llm_calls": r.llm_calls,
                       "tokens_in": r.tokens_in, "tokens_cached": r.tokens_cached, "tokens_out": r.tokens_out,
                       "cost_usd": r.cost_usd, "llm_note": r.llm_note, "effective_strategy": r.effective_strategy,
                       "largest_model_share": r.largest_share, "models": model_use_json(&r.models)})
            })
            .collect();
        json!({
            "status": s.status(),
            "best_us": Spread::json(best),
            "gflops": self.gflops(best.map(|b| b.median)),
            "peak_fraction": self.peak_fraction(best.map(|b| b.median)),
            "wall_s": Spread::json(wall),
            "latency_ratio_vs_tvm": ratio(best.map(|b| b.median), self.tvm.best_us),
            "wall_ratio_vs_tvm": ratio(wall.map(|w| w.median), self.tvm.wall_s),
            "trials_to_tvm": if self.tvm.ok() { json!(s.trials_to_tvm()) } else { Value::Null },
            "llm_calls": calls, "tokens_in": tin, "tokens_cached": tcached, "tokens_out": tout, "cost_usd": usd,
            "largest_model_share": Spread::json(s.largest_share()),
            "models": model_use_json(&s.per_model()),
            "runs": runs,
        })
    }

    /// The JSON row: the required fields first, then the details.
    pub fn to_json(&self) -> Value {
        let best = self.best_strategy();
        let colt_best = best.and_then(|s| s.best_us()).map(|b| b.median);
        let colt_wall = best.and_then(|s| s.wall_s()).map(|w| w.median);
        let openblas = self.openblas_us();
        let (calls, tin, tcached, tout, usd) = best.map_or((0, 0, 0, 0, 0.0), |s| s.llm());
        let mut strategies = Map::new();
        for s in &self.strategies {
            strategies.insert(s.strategy.clone(), self.strategy_json(s));
        }
        json!({
            "workload": self.workload,
            "scale": self.scale,
            "trials": self.trials,
            "flops": self.flops,
            "colt_strategy": best.map(|s| s.strategy.clone()),
            "colt_best_us": colt_best,
            "colt_gflops": self.gflops(colt_best),
            "colt_peak_fraction": self.peak_fraction(colt_best),
            "colt_wall_s": colt_wall,
            "colt_trials_to_tvm": best.filter(|_| self.tvm.ok()).map(|s| s.trials_to_tvm()),
            "tvm_status": self.tvm.status,
            "tvm_best_us": self.tvm.best_us,
            "tvm_gflops": self.gflops(self.tvm.best_us),
            "tvm_peak_fraction": self.peak_fraction(self.tvm.best_us),
            "tvm_in_run_us": self.tvm.in_run_us,
            "tvm_final_rounds_us": self.tvm.final_rounds_us,
            "tvm_wall_s": self.tvm.wall_s,
            "tvm_trials": self.tvm.trials,
            "latency_ratio_vs_tvm": ratio(colt_best, self.tvm.best_us),
            "wall_ratio_vs_tvm": ratio(colt_wall, self.tvm.wall_s),
            "openblas_us": openblas,
            "openblas_gflops": self.gflops(openblas),
            "openblas_peak_fraction": self.peak_fraction(openblas),
            "openblas_in_run_us": self.numpy.as_ref().and_then(|n| n.in_run_us),
            "openblas_final_rounds_us": self.numpy.as_ref().map(|n| n.final_rounds_us.clone()),
            "roofline_gflops": self.roofline_gflops,
            "colt_fraction_of_openblas": ratio(openblas, colt_best),
            "numpy_status": self.numpy.as_ref().map_or("not applicable".to_string(), |n| n.status.clone()),
            "llm_calls": calls, "tokens_in": tin, "tokens_cached": tcached, "tokens_out": tout, "cost_usd": usd,
            "strategies": strategies,
            "tvm": self.tvm.raw,
            "numpy": self.numpy.as_ref().map_or(Value::Null, |n| n.raw.clone()),
        })
    }

    /// The lines of this row in the terminal table and the CSV: one per strategy, TVM and
    /// numpy/OpenBLAS.
    pub fn lines(&self) -> Vec<Line> {
        let best_name = self.best_strategy().map(|s| s.strategy.clone());
        let mut v = vec![];
        for s in &self.strategies {
            let best = s.best_us();
            let wall = s.wall_s();
            let (calls, tin, tcached, tout, usd) = s.llm();
            let to_tvm = s.trials_to_tvm();
            v.push(Line {
                who: s.strategy.clone(),
                best_of_row: best_name.as_deref() == Some(s.strategy.as_str()),
                status: s.status(),
                best,
                gflops: self.gflops(best.map(|b| b.median)),
                latency_ratio: ratio(best.map(|b| b.median), self.tvm.best_us),
                wall,
                wall_ratio: ratio(wall.map(|w| w.median), self.tvm.wall_s),
                trials_to_tvm: if self.tvm.ok() && !to_tvm.is_empty() {
                    Some(to_tvm)
                } else {
                    None
                },
                llm: Some((calls, tin, tcached, tout, usd)),
                largest_share: s.largest_share(),
                per_model: s.per_model(),
            });
        }
        let peer = |who: &str, p: &PeerResult, with_wall: bool| Line {
            who: who.into(),
            best_of_row: false,
            status: p.status.clone(),
            best: p.best_us.and_then(|b| Spread::of([b])),
            gflops: self.gflops(p.best_us),
            latency_ratio: if with_wall {
                ratio(p.best_us, self.tvm.best_us)
            } else {
                None
            },
            wall: if with_wall {
                p.wall_s.and_then(|w| Spread::of([w]))
            } else {
                None
            },
            wall_ratio: if with_wall {
                ratio(p.wall_s, self.tvm.wall_s)
            } else {
                None
            },
            trials_to_tvm: None,
            llm: None,
            largest_share: None,
            per_model: BTreeMap::new(),
        };
        v.push(peer("tvm", &self.tvm, true));
        if let Some(n) = &self.numpy {
            v.push(peer("numpy-openblas", n, false));
        }
        v
    }
}

/// One line of the terminal table and the CSV.
pub struct Line {
    pub who: String,
    pub best_of_row: bool,
    pub status: String,
    pub best: Option<Spread>,
    pub gflops: Option<f64>,
    pub latency_ratio: Option<f64>,
    pub wall: Option<Spread>,
    pub wall_ratio: Option<f64>,
    pub trials_to_tvm: Option<Vec<Option<u64>>>,
    pub llm: Option<(u64, u64, u64, u64, f64)>,
    /// The largest model's share of calls (over the seeds that made calls).
    pub largest_share: Option<Spread>,
    /// Calls, tokens and USD per model, summed over the seeds.
    pub per_model: BTreeMap<String, ModelUse>,
}

fn opt(x: Option<f64>, prec: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.prec$}"))
}

fn spread_us(s: Option<Spread>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s.n == 1 => out::us(Some(s.median)),
        Some(s) => format!("{} [{:.1}-{:.1}]", out::us(Some(s.median)), s.min, s.max),
    }
}

fn spread_s(s: Option<Spread>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s.n == 1 => format!("{:.1}", s.median),
        Some(s) => format!("{:.1} [{:.1}-{:.1}]", s.median, s.min, s.max),
    }
}

fn to_tvm(t: &Option<Vec<Option<u64>>>) -> String {
    match t {
        None => "-".into(),
        Some(v) => v
            .iter()
            .map(|x| x.map_or("never".into(), |n| n.to_string()))
            .collect::<Vec<_>>()
            .join("/"),
    }
}

/// The terminal table.
pub fn print_table(rows: &[Row]) {
    println!(
        "{:<20} {:<5} {:>6}  {:<23} {:>24} {:>8} {:>7} {:>18} {:>7} {:>9} {:>6} {:>7} {:>15} {:>8}  status",
        "workload",
        "scale",
        "trials",
        "who",
        "best latency",
        "GFLOP/s",
        "vs TVM",
        "tuning wall s",
        "vs TVM",
        "to TVM",
        "calls",
        "large%",
        "tokens in/out",
        "USD"
    );
    for r in rows {
        for l in r.lines() {
            let (calls, toks, usd) = match l.llm {
                Some((c, i, _, o, u)) => (c.to_string(), format!("{i}/{o}"), format!("{u:.4}")),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let share = l
                .largest_share
                .map_or("-".into(), |s| format!("{:.0}", 100.0 * s.median));
            println!(
                "{:<20} {:<5} {:>6}  {:<23} {:>24} {:>8} {:>7} {:>18} {:>7} {:>9} {:>6} {:>7} {:>15} {:>8}  {}",
                r.workload,
                r.scale,
                r.trials,
                format!("{}{}", l.who, if l.best_of_row { " *" } else { "" }),
                spread_us(l.best),
                opt(l.gflops, 1),
                opt(l.latency_ratio, 2),
                spread_s(l.wall),
                opt(l.wall_ratio, 2),
                to_tvm(&l.trials_to_tvm),
                calls,
                share,
                toks,
                usd,
                l.status
            );
        }
    }
    let rounds = rows
        .iter()
        .flat_map(|r| {
            let colt = r.strategies.iter().flat_map(|s| &s.runs);
            colt.map(|x| x.final_rounds_us.len())
                .chain([r.tvm.final_rounds_us.len()])
        })
        .max()
        .unwrap_or(0);
    if rounds > 0 {
        println!(
            "best latency: the median of up to {rounds} rounds of the final timing (each kernel checked and timed in a fresh process per round, the order reversed every other round, same inputs); tuning wall: the whole command"
        );
    }
    println!(
        "* colt's best strategy of the row; vs TVM: colt / TVM (below 1 is better); to TVM: trials until colt's kernel was at least as fast as TVM's (per seed); large%: the largest model's share of calls (median); USD from the bucket's price table"
    );
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `name=value;name=value` over the models (empty without models).
fn per_model_field(m: &BTreeMap<String, ModelUse>, f: impl Fn(&ModelUse) -> String) -> String {
    csv_field(
        &m.iter()
            .map(|(n, u)| format!("{n}={}", f(u)))
            .collect::<Vec<_>>()
            .join(";"),
    )
}

/// The CSV: a header and the same lines as the terminal table.
pub fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "workload,scale,trials,who,best_of_row,status,seeds,best_us_min,best_us_median,best_us_max,gflops,\
         latency_ratio_vs_tvm,wall_s_median,wall_ratio_vs_tvm,trials_to_tvm,llm_calls,tokens_in,tokens_cached,tokens_out,cost_usd,\
         largest_share_median,calls_per_model,tokens_in_cached_out_per_model,usd_per_model\n",
    );
    let o = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        for l in r.lines() {
            let (calls, tin, tc, tout, usd) = match l.llm {
                Some((c, i, ca, ou, u)) => (
                    c.to_string(),
                    i.to_string(),
                    ca.to_string(),
                    ou.to_string(),
                    format!("{u}"),
                ),
                None => Default::default(),
            };
            let fields = [
                csv_field(&r.workload),
                r.scale.clone(),
                r.trials.to_string(),
                csv_field(&l.who),
                l.best_of_row.to_string(),
                csv_field(&l.status),
                l.best.map_or(0, |b| b.n).to_string(),
                o(l.best.map(|b| b.min)),
                o(l.best.map(|b| b.median)),
                o(l.best.map(|b| b.max)),
                o(l.gflops),
                o(l.latency_ratio),
                o(l.wall.map(|w| w.median)),
                o(l.wall_ratio),
                if l.trials_to_tvm.is_some() {
                    to_tvm(&l.trials_to_tvm)
                } else {
                    String::new()
                },
                calls,
                tin,
                tc,
                tout,
                usd,
                o(l.largest_share.map(|s| s.median)),
                per_model_field(&l.per_model, |u| u.calls.to_string()),
                per_model_field(&l.per_model, |u| {
                    format!("{}/{}/{}", u.tokens_in, u.tokens_cached, u.tokens_out)
                }),
                per_model_field(&l.per_model, |u| format!("{}", u.usd)),
            ];
            s.push_str(&fields.join(","));
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, best: Option<f64>, wall: f64) -> ColtRun {
        let mut r = ColtRun::from_summary(
            seed,
            &crate::bench::colt_run::tests::summary(
                json!({"run": seed, "best_us": best, "wall_s": wall, "llm_calls": {}}),
            ),
        );
        r.trials_to_tvm = Some(seed * 3);
        r
    }

    fn row(tvm: PeerResult) -> Row {
        Row {
            workload: "matmul".into(),
            scale: "ci".into(),
            trials: 8,
            flops: 2e6,
            strategies: vec![
                StrategyRuns {
                    strategy: "evolutionary".into(),
                    runs: vec![run(1, Some(10.0), 2.0), run(2, Some(30.0), 4.0)],
                },
                StrategyRuns {
                    strategy: "mcts".into(),
                    runs: vec![run(1, Some(15.0), 1.0), run(2, None, 1.0)],
                },
            ],
            tvm,
            numpy: None,
            roofline_gflops: Some(100.0),
        }
    }

    #[test]
    fn llm_configuration_rows_report_share_tokens_and_usd_per_model() {
        use super::super::colt_run::tests::two_model_run;
        let r = Row {
            workload: "flux-conv".into(),
            scale: "ci".into(),
            trials: 64,
            flops: 2e6,
            strategies: vec![
                StrategyRuns {
                    strategy: "colt".into(),
                    runs: vec![
                        two_model_run(1, 6, 2),
                        two_model_run(2, 3, 1),
                        two_model_run(3, 8, 2),
                    ],
                },
                StrategyRuns {
                    strategy: "single-llm:gemma-3-270m".into(),
                    runs: vec![two_model_run(1, 0, 8)],
                },
            ],
            tvm: PeerResult::skipped("--skip-tvm"),
            numpy: None,
            roofline_gflops: None,
        };
        let v = r.to_json();
        let colt = &v["strategies"]["colt"];
        assert_eq!(colt["largest_model_share"]["median"], 0.25);
        assert_eq!(
            (
                colt["largest_model_share"]["min"].as_f64(),
                colt["largest_model_share"]["max"].as_f64()
            ),
            (Some(0.2), Some(0.25))
        );
        assert_eq!(colt["models"]["smollm2-135m"]["calls"], 17);
        assert_eq!(colt["models"]["gemma-3-270m"]["tokens_in"], 5000);
        let usd: f64 = ["smollm2-135m", "gemma-3-270m"]
            .iter()
            .map(|m| colt["models"][m]["usd"].as_f64().unwrap())
            .sum();
        assert!(
            (colt["cost_usd"].as_f64().unwrap() - usd).abs() < 1e-12,
            "the total is the sum over models"
        );
        assert_eq!(colt["runs"][0]["largest_model_share"], 0.25);
        assert_eq!(colt["runs"][0]["effective_strategy"], "colt");
        assert_eq!(
            v["strategies"]["single-llm:gemma-3-270m"]["largest_model_share"]["median"],
            1.0
        );
        let text = csv(&[r]);
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("flux-conv,ci,64,colt,"), "{line}");
        assert!(line.contains(",0.25,gemma-3-270m=5;smollm2-135m=17,gemma-3-270m=5000/4000/250;smollm2-135m=17000/13600/850,gemma-3-270m=0."), "{line}");
    }

    #[test]
    fn spread_median_of_even_and_odd_samples() {
        assert_eq!(
            Spread::of([3.0, 1.0, 2.0]),
            Some(Spread {
                min: 1.0,
                median: 2.0,
                max: 3.0,
                n: 3
            })
        );
        assert_eq!(Spread::of([4.0, 1.0]).unwrap().median, 2.5);
        assert_eq!(Spread::of(std::iter::empty()), None);
    }

    #[test]
    fn best_strategy_by_median_and_ratios_against_tvm() {
        let tvm = PeerResult {
            status: "ok".into(),
            best_us: Some(20.0),
            wall_s: Some(10.0),
            trials: Some(8),
            raw: Value::Null,
            ..Default::default()
        };
        let v = row(tvm).to_json();
        // evolutionary's median is 20, mcts' (one ok seed) is 15.
        assert_eq!(v["colt_strategy"], "mcts");
        assert_eq!(v["colt_best_us"], 15.0);
        assert_eq!(v["latency_ratio_vs_tvm"], 0.75);
        assert_eq!(v["wall_ratio_vs_tvm"], 0.1);
        assert_eq!(v["strategies"]["evolutionary"]["best_us"]["median"], 20.0);
        assert!(
            v["strategies"]["mcts"]["status"]
                .as_str()
                .unwrap()
                .starts_with("1 of 2 seeds failed")
        );
        assert_eq!(v["numpy_status"], "not applicable");
        assert!(v["openblas_us"].is_null());
        // 2 MFLOP in 15 µs is 133.3 GFLOP/s: 1.33 of a 100 GFLOP/s bound.
        let pf = v["colt_peak_fraction"].as_f64().unwrap();
        assert!((pf - 2e6 / 15.0 / 1e3 / 100.0).abs() < 1e-12, "{pf}");
        assert_eq!(v["tvm_peak_fraction"], 2e6 / 20.0 / 1e3 / 100.0);
    }

    #[test]
    fn a_skipped_tvm_leaves_every_comparison_null() {
        let v = row(PeerResult::skipped("--skip-tvm")).to_json();
        for k in [
            "tvm_best_us",
            "tvm_wall_s",
            "latency_ratio_vs_tvm",
            "wall_ratio_vs_tvm",
            "tvm_gflops",
        ] {
            assert!(v[k].is_null(), "{k} should be null: {}", v[k]);
        }
        assert_eq!(v["tvm_status"], "skipped: --skip-tvm");
        let r = row(PeerResult::skipped("--skip-tvm"));
        assert!(
            r.lines()
                .iter()
                .all(|l| l.latency_ratio.is_none() && l.trials_to_tvm.is_none())
        );
        let text = csv(&[r]);
        assert_eq!(text.lines().count(), 1 + 3);
        assert!(
            text.lines()
                .nth(3)
                .unwrap()
                .starts_with("matmul,ci,8,tvm,false,skipped: --skip-tvm,0,")
        );
    }
}
