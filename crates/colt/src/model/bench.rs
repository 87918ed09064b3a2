//! `colt model bench`: the model built untuned (every kernel naive) and tuned (the best
//! kernels on record), each linked with a timing driver, and ONNX Runtime (bench/ort_peer.py
//! in the virtualenv of scripts/setup-onnxruntime), all on the same seeded inputs written to
//! one file. Every round runs each contender once in a fresh process, the order reversed
//! every other round, so a drift of the machine falls on all of them alike; a contender's
//! latency is the median of its rounds. Both colt builds are checked against ONNX Runtime's
//! outputs (against colt's interpreter when ONNX Runtime is not installed).

use super::Source;
use crate::bench::peer;
use crate::bench::report::Spread;
use crate::out;
use anyhow::{Context, bail};
use colt_onnx::Model;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ONNX Runtime peer, the same file as bench/ort_peer.py of the repository.
const ORT_SCRIPT: &str = include_str!("../../../../bench/ort_peer.py");
/// The timing driver linked with each build.
const DRIVER: &str = include_str!("driver.c");

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    source: Source,
    /// The tuning database the tuned build's kernels come from (default:
    /// ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Rounds: each contender timed once per round in a fresh process.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Timed repeats in each process (the median per-call time is its result).
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Each repeat calls the model back to back for at least this long.
    #[arg(long, default_value_t = 2.0)]
    min_repeat_ms: f64,
    /// Seed of the inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the builds, inputs and outputs in this directory (default: a temporary one).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// One contender of the bench.
struct Contender {
    /// `colt-untuned`, `colt-tuned` or `onnxruntime`.
    name: &'static str,
    /// The linked driver (colt), or `None` for ONNX Runtime.
    exe: Option<PathBuf>,
    /// Where its process writes the outputs.
    outputs: PathBuf,
    /// Each round's per-call median (µs), or why it failed.
    rounds: Vec<Result<f64, String>>,
    /// The last successful process's JSON answer.
    last: Value,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    if a.rounds == 0 || a.repeats == 0 || a.min_repeat_ms.is_nan() || a.min_repeat_ms < 0.0 {
        bail!("--rounds and --repeats must be at least 1 and --min-repeat-ms not negative");
    }
    let m = super::load(&a.source)?;
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dir = a.out.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let inputs = write_inputs(&m, &dir, a.seed)?;
    let db =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let (untuned, _) = build(&m, &dir.join("untuned"), None)?;
    let (tuned, choices) = build(&m, &dir.join("tuned"), Some(&db))?;
    let mut who = vec![colt("colt-untuned", untuned), colt("colt-tuned", tuned)];
    let python = ort_python();
    match &python {
        Ok(_) => who.push(Contender {
            name: "onnxruntime",
            exe: None,
            outputs: dir.join("ort.out.bin"),
            rounds: vec![],
            last: Value::Null,
        }),
        Err(why) => eprintln!("{why}; timing colt only"),
    }
    let request = ort_request(&a, &m, &dir)?;
    for round in 0..a.rounds {
        if !a.json {
            eprintln!("round {}/{}...", round + 1, a.rounds);
        }
        let mut order: Vec<usize> = (0..who.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let c = &mut who[i];
            let r = match &c.exe {
                Some(exe) => time_colt(exe, &c.outputs, &a),
                None => time_ort(python.as_ref().expect("a peer"), &request),
            };
            c.rounds.push(r.map(|v| {
                let us = v["median_us"].as_f64().unwrap_or(f64::NAN);
                c.last = v;
                us
            }));
        }
    }
    let summary = summary(&a, &m, &who, &choices, &inputs)?;
    if a.json {
        out::print_json(&summary);
    } else {
        print!("{}", text(&summary));
    }
    Ok(())
}

fn colt(name: &'static str, exe: PathBuf) -> Contender {
    let outputs = exe.with_file_name("out.bin");
    Contender {
        name,
        exe: Some(exe),
        outputs,
        rounds: vec![],
        last: Value::Null,
    }
}

/// The model's inputs (seeded, uniform in [-1, 1) as colt's measurer fills buffers), back
/// to back in `dir/inputs.bin`; returned in memory too.
fn write_inputs(m: &Model, dir: &Path, seed: u64) -> anyhow::Result<Vec<Vec<f32>>> {
    let g = &m.graph;
    let values: Vec<Vec<f32>> = g
        .inputs
        .iter()
        .enumerate()
        .map(|(j, &t)| colt_measure::inputs::input_values(seed, j, g.tensor(t).len()))
        .collect();
    let bytes: Vec<u8> = values
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let path = dir.join("inputs.bin");
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(values)
}

/// Build `m` in `dir` (tuned from the database at `db`, or all naive) and link the timing
/// driver; the driver and what was chosen for each kernel.
fn build(m: &Model, dir: &Path, db: Option<&Path>) -> anyhow::Result<(PathBuf, Vec<Value>)> {
    let (mut sources, choices) = super::kernel_sources(m, db)?;
    colt_onnx::build(m, dir, |k| sources[k.index].take())
        .with_context(|| format!("building {}", dir.display()))?;
    let exe = colt_onnx::library::link_program(dir, "run", DRIVER)?;
    Ok((exe, choices))
}

/// Threads of both runtimes: the machine's cores.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One fresh process of a colt build's timing driver: its JSON answer.
fn time_colt(exe: &Path, outputs: &Path, a: &BenchArgs) -> Result<Value, String> {
    let dir = exe.parent().expect("a file in a directory");
    let out = Command::new(exe)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", threads().to_string())
        .arg(
            dir.parent()
                .expect("the bench directory")
                .join("inputs.bin"),
        )
        .arg(outputs)
        .arg(a.repeats.to_string())
        .arg(a.min_repeat_ms.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!("{} exited with {}", exe.display(), out.status));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{} printed no JSON ({e})", exe.display()))
}

/// The Python of the ONNX Runtime virtualenv, or the line that says why there is none.
fn ort_python() -> Result<PathBuf, String> {
    let venv = std::env::var_os("COLT_ONNX_VENV")
        .filter(|v| !v.is_empty())
        .map_or_else(|| out::cache_dir().join("onnx-venv"), PathBuf::from);
    peer::python_in(&venv).ok_or_else(|| {
        format!(
            "ONNX Runtime: no virtualenv at {} (install it with scripts/setup-onnxruntime)",
            venv.display()
        )
    })
}

/// The peer's request (see bench/ort_peer.py).
fn ort_request(a: &BenchArgs, m: &Model, dir: &Path) -> anyhow::Result<Value> {
    let g = &m.graph;
    let tensors = |ts: &[colt_onnx::TensorId]| -> Vec<Value> {
        ts.iter()
            .map(|&t| json!({"name": g.tensor(t).name, "shape": g.tensor(t).shape}))
            .collect()
    };
    Ok(json!({
        "model": std::path::absolute(&a.source.model)?,
        "inputs": dir.join("inputs.bin"), "input_tensors": tensors(&g.inputs),
        "outputs": dir.join("ort.out.bin"), "output_tensors": tensors(&g.outputs),
        "threads": threads(), "repeats": a.repeats, "min_repeat_ms": a.min_repeat_ms,
    }))
}

/// One fresh ONNX Runtime process: its JSON answer, or why nothing was timed.
fn time_ort(python: &Path, request: &Value) -> Result<Value, String> {
    let limit = Some(std::time::Duration::from_secs(600));
    let (v, _) = peer::call_script(python, "ort_peer.py", ORT_SCRIPT, request, limit)?;
    match v["error"].as_str() {
        Some(e) => Err(format!("onnxruntime: {e}")),
        None => Ok(v),
    }
}

/// The bench's result: each contender's rounds and median, both colt builds' error against
/// the reference outputs, and the tuned build's kernels with their share of the model's
/// estimated time.
fn summary(
    a: &BenchArgs,
    m: &Model,
    who: &[Contender],
    choices: &[Value],
    inputs: &[Vec<f32>],
) -> anyhow::Result<Value> {
    let ort = who.iter().find(|c| c.exe.is_none());
    let ort_ok = ort.is_some_and(|c| c.rounds.iter().any(Result::is_ok));
    let (reference, want) = match ort {
        Some(c) if ort_ok => ("onnxruntime", read_outputs(m, &c.outputs)?),
        _ => ("colt interpreter", interpreted(m, inputs)?),
    };
    let ort_us = ort.and_then(|c| Spread::of(c.rounds.iter().flatten().copied()));
    let mut contenders = vec![];
    for c in who {
        let spread = Spread::of(c.rounds.iter().flatten().copied());
        let err = match (&c.exe, spread) {
            (Some(_), Some(_)) => Some(max_rel_err(&read_outputs(m, &c.outputs)?, &want)),
            _ => None,
        };
        contenders.push(json!({
            "name": c.name, "median_us": spread.map(|s| s.median),
            "min_us": spread.map(|s| s.min), "max_us": spread.map(|s| s.max),
            "rounds_us": c.rounds.iter().flatten().collect::<Vec<_>>(),
            "failed_rounds": c.rounds.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>(),
            "vs_onnxruntime": spread.zip(ort_us).map(|(s, o)| s.median / o.median),
            "vs_onnxruntime_paired": ort.and_then(|o| paired(c, o)),
            "max_rel_err": err, "last": c.last,
        }));
    }
    Ok(json!({
        "model": a.source.model, "inputs_seed": a.seed, "rounds": a.rounds,
        "repeats": a.repeats, "min_repeat_ms": a.min_repeat_ms, "threads": threads(),
        "target": out::target(), "reference": reference,
        "onnxruntime": match (ort, ort_ok) {
            (None, _) => json!(ort_python().err()),
            (Some(c), false) => json!(format!("failed: {}", first_error(c))),
            (Some(_), true) => json!("ok"),
        },
        "contenders": contenders, "kernels": shares(m, choices),
    }))
}

/// The ratios of `c`'s time to `ort`'s in the rounds where both ran: on a shared machine
/// the load changes between rounds, and the two of one round ran one after the other, so
/// this is steadier than the ratio of the medians.
fn paired(c: &Contender, ort: &Contender) -> Option<Value> {
    let ratios = (c.rounds.iter().zip(&ort.rounds))
        .filter_map(|(a, o)| Some(a.as_ref().ok()? / o.as_ref().ok()?));
    Spread::of(ratios).map(|s| json!({"median": s.median, "min": s.min, "max": s.max}))
}

fn first_error(c: &Contender) -> String {
    c.rounds
        .iter()
        .find_map(|r| r.as_ref().err().cloned())
        .unwrap_or_else(|| "no round ran".into())
}

/// The outputs a process wrote to `path`, split per graph output.
fn read_outputs(m: &Model, path: &Path) -> anyhow::Result<Vec<Vec<f32>>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut floats = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("four bytes")));
    let outs: Vec<Vec<f32>> = m
        .graph
        .outputs
        .iter()
        .map(|&t| floats.by_ref().take(m.graph.tensor(t).len()).collect())
        .collect();
    let want: usize = m
        .graph
        .outputs
        .iter()
        .map(|&t| m.graph.tensor(t).len())
        .sum();
    if raw.len() != 4 * want {
        bail!(
            "{} holds {} bytes, the outputs are {}",
            path.display(),
            raw.len(),
            4 * want
        );
    }
    Ok(outs)
}

/// The outputs computed by colt's interpreter (the reference without ONNX Runtime).
fn interpreted(m: &Model, inputs: &[Vec<f32>]) -> anyhow::Result<Vec<Vec<f32>>> {
    let values = colt_onnx::run::interpret(m, inputs)?;
    m.graph
        .outputs
        .iter()
        .map(|&t| {
            values[t.0]
                .clone()
                .context("an output the interpreter did not compute")
        })
        .collect()
}

/// The largest relative error over the outputs.
fn max_rel_err(got: &[Vec<f32>], want: &[Vec<f32>]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| colt_onnx::run::rel_err(g, w))
        .fold(0.0, f64::max)
}

/// Per kernel of the tuned build: what it runs and its share of the model's time estimated
/// from the latencies on record (`count × latency` over the sum), untuned and tuned.
fn shares(m: &Model, choices: &[Value]) -> Vec<Value> {
    let lat = |c: &Value, tuned: bool| {
        let pick = if tuned && c["source"] == "tuned" {
            "best_us"
        } else {
            "naive_us"
        };
        c[pick].as_f64()
    };
    let total = |tuned: bool| -> f64 {
        (choices.iter().zip(&m.kernels))
            .filter_map(|(c, k)| lat(c, tuned).map(|l| l * k.count as f64))
            .sum()
    };
    let (before, after) = (total(false), total(true));
    choices
        .iter()
        .zip(&m.kernels)
        .map(|(c, k)| {
            let share = |tuned: bool, sum: f64| lat(c, tuned).map(|l| l * k.count as f64 / sum);
            json!({
                "kernel": c["kernel"], "operators": k.label, "count": k.count,
                "source": c["source"], "naive_us": c["naive_us"], "best_us": c["best_us"],
                "share_untuned": share(false, before), "share_tuned": share(true, after),
            })
        })
        .collect()
}

/// The result for people.
fn text(v: &Value) -> String {
    let mut t = format!(
        "{}: inputs seed {}, {} rounds in fresh processes, {} threads; errors against {}\n",
        v["model"].as_str().unwrap_or(""),
        v["inputs_seed"],
        v["rounds"],
        v["threads"],
        v["reference"].as_str().unwrap_or("")
    );
    if v["onnxruntime"] != "ok" {
        t += &format!("onnxruntime: {}\n", v["onnxruntime"].as_str().unwrap_or(""));
    }
    t += &format!(
        "{:<14} {:>11} {:>21} {:>7} {:>11} {:>12}\n",
        "", "median", "min-max", "x ORT", "per round", "max rel err"
    );
    for c in v["contenders"].as_array().into_iter().flatten() {
        let range = format!(
            "{}-{}",
            out::us(c["min_us"].as_f64()),
            out::us(c["max_us"].as_f64())
        );
        t += &format!(
            "{:<14} {:>11} {:>21} {:>7} {:>11} {:>12}\n",
            c["name"].as_str().unwrap_or(""),
            out::us(c["median_us"].as_f64()),
            range,
            c["vs_onnxruntime"]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.2}")),
            c["vs_onnxruntime_paired"]["median"]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.2}")),
            c["max_rel_err"]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.1e}"))
        );
    }
    t += "kernels (share of the model's time estimated from the latencies on record):\n";
    for k in v["kernels"].as_array().into_iter().flatten() {
        let pct = |x: &Value| {
            x.as_f64()
                .map_or("-".into(), |s| format!("{:.1}%", 100.0 * s))
        };
        t += &format!(
            "{:>3} x{} {:<36} {:<42} untuned {:>6} tuned {:>6}\n",
            k["kernel"].to_string(),
            k["count"],
            k["operators"].as_str().unwrap_or(""),
            k["source"].as_str().unwrap_or(""),
            pct(&k["share_untuned"]),
            pct(&k["share_tuned"])
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contender(rounds: Vec<Result<f64, String>>) -> Contender {
        Contender {
            name: "x",
            exe: None,
            outputs: PathBuf::new(),
            rounds,
            last: Value::Null,
        }
    }

    #[test]
    fn the_ratio_to_onnx_runtime_is_taken_round_by_round() {
        let c = contender(vec![Ok(10.0), Err("crashed".into()), Ok(30.0), Ok(8.0)]);
        let ort = contender(vec![Ok(20.0), Ok(20.0), Ok(10.0), Err("failed".into())]);
        let p = paired(&c, &ort).unwrap();
        assert_eq!(
            (p["median"].as_f64(), p["min"].as_f64()),
            (Some(1.75), Some(0.5))
        );
        assert_eq!(p["max"].as_f64(), Some(3.0));
        assert_eq!(paired(&c, &contender(vec![])), None);
    }
}
