//! The final timing of a `colt bench` row, after every tune of the row has ended: each
//! contender's best kernel (every colt run's, TVM MetaSchedule's exported library, the numpy
//! call) is checked and timed in a fresh process of its own, round after round, in an order
//! reversed every other round (A B C, C B A, A B C, ...) so that a drift of the machine's speed
//! falls on every contender alike. All of them run on the same input buffers: colt's, written
//! once to files that the Python peers read. A contender's latency is the median of its
//! rounds; the rounds are kept for the spread.
//!
//! Timing a kernel inside the process that tuned it flatters or penalises it (TVM's best
//! re-timed inside `tune_tir`'s process was reported 1.4–1.9× slower than the same library in
//! a fresh process on an AVX2 machine; colt's worker placed buffers by its allocation
//! history), so the bench compares these figures, not the tools' own.

use super::peer::{self, PeerResult};
use super::report::StrategyRuns;
use anyhow::Context;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The input seed of every contender (colt's worker fills buffer `i` from it).
const INPUT_SEED: u64 = 1;
/// Timing of every contender, in each process: 5 repeats of at least 10 ms each (the
/// median reported), after one warm-up; longer than a tune's 1 ms repeats, as there is
/// one kernel to time per process.
const REPEATS: u32 = 5;
const MIN_REPEAT_MS: f64 = 10.0;

/// What the final timing of one row runs with.
pub struct Setup<'a> {
    /// The colt executable (`colt measure --skip-baselines` times a trace).
    pub exe: &'a Path,
    pub workload: &'a str,
    pub scale: &'a str,
    pub program: &'a colt_ir::Program,
    /// The peer request of the workload (shapes, repeats): see [`peer::request`].
    pub request: Value,
    pub tvm_python: Option<&'a Path>,
    pub numpy_python: Option<&'a Path>,
    /// Scratch space: inputs, traces, the compile cache of the colt processes.
    pub dir: &'a Path,
    pub rounds: usize,
}

/// One contender: how to time it once in a fresh process.
enum Who {
    /// A colt run's best schedule (the index of its strategy and run).
    Colt(usize, usize, PathBuf),
    /// TVM's exported best kernel.
    Tvm(PathBuf),
    Numpy,
}

/// Time every contender of the row `rounds` times and replace each one's `best_us` with the
/// median of its rounds. A contender that fails every round becomes `failed: final timing:
/// <why>`; one that fails some rounds keeps the others. Nothing happens with 0 rounds.
pub fn run(
    s: &Setup,
    runs: &mut [StrategyRuns],
    tvm: &mut PeerResult,
    tvm_lib: Option<&Path>,
    numpy: Option<&mut PeerResult>,
) -> anyhow::Result<()> {
    if s.rounds == 0 {
        return Ok(());
    }
    if tvm.ok() && tvm_lib.is_none() {
        // Its in-process figure beside everyone else's fresh-process ones would mislead.
        tvm.best_us = None;
        tvm.status = "failed: final timing: TVM's tuning exported no kernel library".into();
    }
    let inputs = write_inputs(s.program, &s.dir.join("inputs"))?;
    let who = contenders(s, runs, tvm, tvm_lib, numpy.as_deref())?;
    let mut times: Vec<Vec<Result<f64, String>>> = who.iter().map(|_| vec![]).collect();
    for round in 0..s.rounds {
        eprintln!(
            "bench: {} ({}): final timing, round {}/{} of {} contenders...",
            s.workload,
            s.scale,
            round + 1,
            s.rounds,
            who.len()
        );
        let order: Vec<usize> = if round % 2 == 0 {
            (0..who.len()).collect()
        } else {
            (0..who.len()).rev().collect()
        };
        for i in order {
            times[i].push(time_once(s, &who[i], &inputs));
        }
    }
    let mut numpy = numpy;
    for (w, t) in who.iter().zip(times) {
        let verdict = Verdict::of(t);
        match w {
            Who::Colt(si, ri, _) => {
                let r = &mut runs[*si].runs[*ri];
                verdict.apply(&mut r.best_us, &mut r.status, &mut r.final_rounds_us)
            }
            Who::Tvm(_) => {
                verdict.apply(&mut tvm.best_us, &mut tvm.status, &mut tvm.final_rounds_us)
            }
            Who::Numpy => {
                if let Some(n) = numpy.as_deref_mut() {
                    verdict.apply(&mut n.best_us, &mut n.status, &mut n.final_rounds_us)
                }
            }
        }
    }
    Ok(())
}

/// The contenders of the row, in a fixed order: colt's runs (strategy by strategy, seed by
/// seed), TVM, numpy. Each colt run's best schedule is written to a trace file.
fn contenders(
    s: &Setup,
    runs: &[StrategyRuns],
    tvm: &PeerResult,
    tvm_lib: Option<&Path>,
    numpy: Option<&PeerResult>,
) -> anyhow::Result<Vec<Who>> {
    let mut who = vec![];
    for (si, strategy) in runs.iter().enumerate() {
        for (ri, r) in strategy.runs.iter().enumerate() {
            if let (true, Some(trace)) = (r.ok(), &r.best_trace) {
                let path = s.dir.join(format!("trace-{si}-{ri}.json"));
                std::fs::write(&path, trace.to_json())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                who.push(Who::Colt(si, ri, path));
            }
        }
    }
    if let (true, Some(lib), Some(_)) = (tvm.ok(), tvm_lib, s.tvm_python) {
        who.push(Who::Tvm(lib.to_path_buf()));
    }
    if numpy.is_some_and(PeerResult::ok) && s.numpy_python.is_some() {
        who.push(Who::Numpy);
    }
    Ok(who)
}

/// One check-and-time of `who` in a fresh process: its median µs, or why not.
fn time_once(s: &Setup, who: &Who, inputs: &Path) -> Result<f64, String> {
    let mut req = s.request.clone();
    req["inputs_dir"] = json!(inputs);
    req["repeats"] = json!(REPEATS);
    req["min_repeat_ms"] = json!(MIN_REPEAT_MS);
    match who {
        Who::Colt(_, _, trace) => colt_time(s, trace),
        Who::Tvm(lib) => peer::tvm_time(s.tvm_python.expect("a TVM contender"), req, lib),
        Who::Numpy => {
            let n = peer::numpy(s.numpy_python.expect("a numpy contender"), req);
            n.best_us.ok_or(n.status)
        }
    }
}

/// `colt measure --trace T --skip-baselines --json` in a fresh process: the kernel is
/// compiled (from the row's shared cache after the first round), checked against the
/// reference and timed.
fn colt_time(s: &Setup, trace: &Path) -> Result<f64, String> {
    let mut cmd = Command::new(s.exe);
    cmd.env("COLT_CACHE", s.dir.join("cache"))
        .args(["measure", "--json", "--skip-baselines"])
        .args(["--workload", s.workload, "--scale", s.scale])
        .args(["--seed", &INPUT_SEED.to_string()])
        .args(["--repeats", &REPEATS.to_string()])
        .args(["--min-repeat-ms", &MIN_REPEAT_MS.to_string()])
        .arg("--trace")
        .arg(trace);
    let out = super::colt_run::run_tune(s.exe, &mut cmd)?;
    let v: Value =
        serde_json::from_slice(&out).map_err(|e| format!("colt measure printed no JSON ({e})"))?;
    match (v["correct"].as_bool(), v["best_us"].as_f64()) {
        (Some(true), Some(us)) => Ok(us),
        _ => Err(format!(
            "colt measure found the kernel incorrect or untimed ({})",
            v["outcomes"]
        )),
    }
}

/// Write the input buffers of `program`'s kernel as colt's worker fills them under
/// [`INPUT_SEED`]: `manifest.json` (`[{"name", "len", "param"}]`, inputs in parameter
/// order) and `<k>.f32` (raw little-endian f32) for the k-th input.
pub fn write_inputs(program: &colt_ir::Program, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let kernel = colt_tensor::Kernel::naive(program);
    let mut manifest = vec![];
    let inputs = kernel
        .buffers
        .iter()
        .enumerate()
        .filter(|(_, b)| b.role == colt_measure::BufRole::Input);
    for (k, (param, b)) in inputs.enumerate() {
        let values = colt_measure::inputs::input_values(INPUT_SEED, param, b.len);
        let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let path = dir.join(format!("{k}.f32"));
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        manifest.push(json!({"name": b.name, "len": b.len, "param": param}));
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, Value::Array(manifest).to_string())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(dir.to_path_buf())
}

/// A contender's rounds: the successful ones, and the first failure.
struct Verdict {
    ok: Vec<f64>,
    first_error: Option<String>,
}

impl Verdict {
    fn of(rounds: Vec<Result<f64, String>>) -> Verdict {
        let mut v = Verdict {
            ok: vec![],
            first_error: None,
        };
        for r in rounds {
            match r {
                Ok(us) => v.ok.push(us),
                Err(e) => {
                    v.first_error.get_or_insert(e);
                }
            }
        }
        v
    }

    /// The median of the successful rounds, or why there is none.
    fn median(&self) -> Result<f64, String> {
        super::report::Spread::of(self.ok.iter().copied())
            .map(|s| s.median)
            .ok_or_else(|| {
                format!(
                    "final timing: {}",
                    self.first_error.as_deref().unwrap_or("no round ran")
                )
            })
    }

    /// Set a contender's latency to the median of its rounds (or fail it, saying why) and
    /// keep the rounds.
    fn apply(self, best_us: &mut Option<f64>, status: &mut String, rounds: &mut Vec<f64>) {
        match self.median() {
            Ok(us) => *best_us = Some(us),
            Err(why) => {
                *best_us = None;
                *status = format!("failed: {why}");
            }
        }
        *rounds = self.ok;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_rounds_replaces_the_in_run_figure_and_total_failure_says_why() {
        let mut p = PeerResult {
            status: "ok".into(),
            best_us: Some(50.0),
            in_run_us: Some(50.0),
            ..Default::default()
        };
        let apply = |v: Verdict, p: &mut PeerResult| {
            v.apply(&mut p.best_us, &mut p.status, &mut p.final_rounds_us)
        };
        apply(
            Verdict::of(vec![Ok(30.0), Err("crashed".into()), Ok(10.0), Ok(20.0)]),
            &mut p,
        );
        assert_eq!((p.best_us, p.in_run_us), (Some(20.0), Some(50.0)));
        assert_eq!(p.final_rounds_us, vec![30.0, 10.0, 20.0]);
        assert!(p.ok());
        apply(
            Verdict::of(vec![Err("crashed".into()), Err("timeout".into())]),
            &mut p,
        );
        assert_eq!(p.best_us, None);
        assert_eq!(p.status, "failed: final timing: crashed");
    }

    #[test]
    fn inputs_are_written_as_the_worker_fills_them() {
        let program = colt_tensor::resolve("matmul", colt_ops::Scale::Ci).expect("matmul");
        let dir = tempfile::tempdir().expect("tempdir");
        let d = write_inputs(&program, dir.path()).expect("written");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap())
                .unwrap();
        let kernel = colt_tensor::Kernel::naive(&program);
        let inputs: Vec<(usize, &colt_measure::BufSpec)> = kernel
            .buffers
            .iter()
            .enumerate()
            .filter(|(_, b)| b.role == colt_measure::BufRole::Input)
            .collect();
        assert_eq!(manifest.as_array().unwrap().len(), inputs.len());
        assert!(inputs.len() >= 2, "matmul reads two matrices");
        for (k, (param, b)) in inputs.into_iter().enumerate() {
            let bytes = std::fs::read(d.join(format!("{k}.f32"))).unwrap();
            assert_eq!(bytes.len(), 4 * b.len);
            let mut filled = vec![0.0f32; b.len];
            colt_measure::inputs::fill_input(INPUT_SEED, param, &mut filled);
            let read: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(read, filled, "input {k} (param {param})");
            assert_eq!(manifest[k]["param"], param);
        }
    }
}
