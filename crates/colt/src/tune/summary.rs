//! The summary of one `colt tune` run: printed by `--json`, stored with the run in the
//! database, and read back by `colt bench` (which runs `colt tune --json`). One type for
//! writer and reader, so a renamed or retyped field cannot go unnoticed on one side.
//!
//! On the wire it is one flat JSON object: the search's fields, `space`, and the fields of
//! that space. Every field is read with a default where absent, so a summary written by an
//! older colt still reads.

use std::collections::BTreeMap;

use colt_search::{LlmTotals, ModelReport, RunResult, StopReason, Strategy};
use serde::{Deserialize, Serialize};

/// Everything `colt tune` reports about a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneSummary {
    /// What every space reports: the search, its time and its LLM use.
    #[serde(flatten)]
    pub search: SearchSummary,
    /// The space (the `space` key) and what it reports.
    #[serde(flatten)]
    pub space: SpaceSummary,
}

/// The fields of the summary common to every space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchSummary {
    /// The run's id in the database.
    pub run: i64,
    /// The strategy asked for.
    pub strategy: Strategy,
    /// The strategy that ran (`single-llm` for a `colt` run on a bucket of one model).
    pub effective_strategy: Strategy,
    pub seed: u64,
    /// Why the search ended.
    pub stop: StopReason,
    /// Trials measured.
    pub trials: usize,
    /// Wall time of the search (measuring, LLM calls, bookkeeping).
    pub wall_s: f64,
    /// Wall time of the whole command, from its start to the summary: model loading, the
    /// naive baselines, the search and the final re-timing.
    pub command_wall_s: f64,
    pub measure_s: f64,
    pub llm_s: f64,
    /// Wall time neither measuring nor waiting for LLMs.
    pub search_overhead_s: f64,
    /// LLM calls per model.
    pub llm_calls: BTreeMap<String, u64>,
    /// What the calls cost, over all models (each a field of the summary).
    #[serde(flatten)]
    pub llm: LlmTotals,
    /// Per model of the bucket (empty without LLMs).
    pub models: BTreeMap<String, ModelReport>,
    /// LLM calls answered from the database on `--resume`.
    pub replayed_llm_calls: u64,
    /// Trials that failed for a tool reason, not the candidate's.
    pub tool_failures: u64,
}

impl Default for SearchSummary {
    fn default() -> Self {
        SearchSummary {
            run: 0,
            strategy: Strategy::Colt,
            effective_strategy: Strategy::Colt,
            seed: 0,
            stop: StopReason::TrialLimit,
            trials: 0,
            wall_s: 0.0,
            command_wall_s: 0.0,
            measure_s: 0.0,
            llm_s: 0.0,
            search_overhead_s: 0.0,
            llm_calls: BTreeMap::new(),
            llm: LlmTotals::default(),
            models: BTreeMap::new(),
            replayed_llm_calls: 0,
            tool_failures: 0,
        }
    }
}

impl SearchSummary {
    /// The search's part of the summary of `result`; the caller sets the run, seed and the
    /// counts only the driver knows.
    pub fn of<S>(result: &RunResult<S>) -> SearchSummary {
        SearchSummary {
            strategy: result.strategy,
            effective_strategy: result.strategy,
            stop: result.stop,
            trials: result.trials,
            wall_s: result.time.wall_s,
            measure_s: result.time.measure_s,
            llm_s: result.time.llm_s,
            search_overhead_s: result.time.overhead_s,
            llm_calls: result.calls_per_model(),
            llm: result.llm.clone(),
            models: result.models.clone(),
            ..SearchSummary::default()
        }
    }
}

/// The space of the run (the `space` key: `tensor` or `llvm`) with what it reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "space", rename_all = "lowercase")]
pub enum SpaceSummary {
    /// Schedules of a tensor workload.
    Tensor(Box<TensorSummary>),
    /// LLVM pass orderings of a C program.
    Llvm(Box<LlvmSummary>),
}

/// What a tensor-space run reports: the best kernel against the naive baselines and the
/// machine's roofline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TensorSummary {
    /// The workload's program name.
    pub workload: String,
    pub scale: String,
    /// The search's best latency (the minimum of its timings).
    pub best_us: Option<f64>,
    pub best_gflops: Option<f64>,
    /// The result's latency in the final timing: the search's best few kernels timed again
    /// together, round-robin, after the search; the best median is the result.
    pub retimed_us: Option<f64>,
    /// The search's rank of the kernel the final timing chose (1: the search's own best).
    pub retimed_rank: Option<usize>,
    pub naive_gcc_us: Option<f64>,
    pub naive_clang_us: Option<f64>,
    pub speedup_vs_gcc: Option<f64>,
    /// The result: the kernel the final timing chose (the search's best where there was none).
    pub best_trace: Option<colt_sched::Trace>,
    pub intensity_flop_per_byte: f64,
    /// This machine's limits, when the database holds them.
    pub machine: Option<colt_measure::MachineLimits>,
    pub roofline_gflops: Option<f64>,
    /// The best kernel's throughput over the roofline bound.
    pub peak_fraction: Option<f64>,
}

/// What an LLVM-space run reports: the best value against the compilers' levels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LlvmSummary {
    /// The program's files, joined by `;`.
    pub program: String,
    /// `size`, `runtime` or `memory`.
    pub objective: String,
    /// The search's own best value (IR instructions, µs or KiB; for the timed objectives
    /// the minimum of noisy timings, see `final_timing`).
    pub best: Option<f64>,
    /// The objective's value of each baseline (`clang -Oz`, `gcc -O3`, ...).
    pub baselines: BTreeMap<String, Option<f64>>,
    /// `.text` bytes of the exported result.
    pub best_text_bytes: Option<u64>,
    /// `.text` bytes of each baseline.
    pub baseline_text_bytes: BTreeMap<String, Option<u64>>,
    /// Timed objectives: the result's median over clang -O3's in the final round-robin
    /// timing.
    pub retimed_ratio: Option<f64>,
    /// Timed objectives: the final timing that chose the result.
    pub final_timing: Option<colt_llvm::retime::FinalChoice>,
    /// Where the result's pipeline was written.
    pub export: Option<Export>,
}

/// The best pass sequence of an LLVM run, as written to disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// The `opt -passes=` string.
    pub pipeline: String,
    /// The optimised `.ll` file.
    pub ll: String,
    pub passes: Vec<String>,
}

impl TuneSummary {
    /// The summary as a JSON value (keys in sorted order, as printed and stored).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("summaries serialise")
    }

    /// The tensor space's part, for a tensor run.
    pub fn tensor(&self) -> Option<&TensorSummary> {
        match &self.space {
            SpaceSummary::Tensor(t) => Some(t.as_ref()),
            SpaceSummary::Llvm(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Space;

    fn keys(v: &serde_json::Value) -> Vec<String> {
        v.as_object().expect("object").keys().cloned().collect()
    }

    const SEARCH_KEYS: &str = "command_wall_s cost_usd effective_strategy large_model_share llm_calls llm_s \
        measure_s models record_compactions replayed_llm_calls run search_overhead_s seed space \
        stop strategy tokens_cached tokens_in tokens_out tool_failures trials wall_s \
        wasted_by_cause wasted_calls";

    /// The keys `colt tune --json` printed when the summary was built with `json!`.
    #[test]
    fn the_summary_keeps_its_keys() {
        // the summary of `space` has the search's keys and `extra`
        let check = |space: SpaceSummary, extra: &str| {
            let summary = TuneSummary {
                search: SearchSummary::default(),
                space,
            };
            let mut want: Vec<&str> = SEARCH_KEYS.split_whitespace().collect();
            want.extend(extra.split_whitespace());
            want.sort();
            assert_eq!(keys(&summary.to_json()), want);
            summary
        };
        let tensor = check(
            SpaceSummary::Tensor(Box::default()),
            "workload scale best_us best_gflops retimed_us retimed_rank naive_gcc_us naive_clang_us \
             speedup_vs_gcc best_trace intensity_flop_per_byte machine roofline_gflops \
             peak_fraction",
        );
        let llvm = check(
            SpaceSummary::Llvm(Box::default()),
            "program objective best baselines best_text_bytes baseline_text_bytes retimed_ratio \
             final_timing export",
        );
        // The `space` key holds the space's name, as `--space` and the database have it.
        assert_eq!(llvm.to_json()["space"], Space::Llvm.to_string());
        assert_eq!(tensor.to_json()["space"], Space::Tensor.to_string());
    }

    #[test]
    fn a_summary_round_trips_and_reads_with_missing_fields() {
        let s = TuneSummary {
            search: SearchSummary {
                run: 3,
                strategy: Strategy::Colt,
                effective_strategy: Strategy::SingleLlm,
                llm_calls: BTreeMap::from([("m".to_string(), 4)]),
                ..SearchSummary::default()
            },
            space: SpaceSummary::Tensor(Box::new(TensorSummary {
                best_us: Some(12.5),
                ..TensorSummary::default()
            })),
        };
        let text = s.to_json().to_string();
        assert!(
            text.contains("\"effective_strategy\":\"single-llm\""),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<TuneSummary>(&text).unwrap(), s);
        let old = serde_json::json!({"run": 2, "space": Space::Llvm, "best": 7.0});
        let old: TuneSummary = serde_json::from_value(old).unwrap();
        assert_eq!(old.search.run, 2);
        assert_eq!(
            old.space,
            SpaceSummary::Llvm(Box::new(LlvmSummary {
                best: Some(7.0),
                ..LlvmSummary::default()
            }))
        );
    }
}
