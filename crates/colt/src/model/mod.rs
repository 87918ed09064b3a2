//! `colt model`: a whole ONNX model through colt-onnx: its tasks, and its C library.

mod bench;
mod drive;
mod schedule;
mod specs;
mod task;
mod tune;

use crate::out;
use anyhow::Context;
use colt_db::Db;
use colt_onnx::library::{KernelRef, KernelSource};
use colt_onnx::{ImportOptions, Model};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the model's distinct tasks (fused operators): shapes, FLOPs, count in the graph.
    Tasks(TasksArgs),
    /// Build the model into one C library: model.h, model.c, kernels/, libmodel.a; each
    /// kernel the best on record in the tuning database (naive where untuned).
    Build(BuildArgs),
    /// Tune the model's kernels with one trial budget, spread by expected gain (recorded in
    /// the tuning database; --resume continues a killed run).
    Tune(tune::TuneArgs),
    /// Check and time the model: built untuned and tuned, and ONNX Runtime, on the same
    /// seeded inputs, in fresh processes, interleaved over rounds.
    Bench(bench::BenchArgs),
}

#[derive(clap::Args)]
pub struct Source {
    /// The ONNX model (float32 inference graph).
    model: PathBuf,
    /// Fix an input's shape (its dynamic dimensions): --shape x=1,3,224,224 (repeatable).
    #[arg(long = "shape", value_name = "NAME=D0,D1,..")]
    shapes: Vec<String>,
}

#[derive(clap::Args)]
pub struct TasksArgs {
    #[command(flatten)]
    source: Source,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    source: Source,
    /// The output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// The tuning database the tuned kernels come from (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Every kernel naive (the untuned library).
    #[arg(long)]
    naive: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Tasks(a) => tasks(a),
        Command::Build(a) => build(a),
        Command::Tune(a) => tune::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// Parse one `--shape NAME=D0,D1,..`.
fn shape(s: &str) -> anyhow::Result<(String, Vec<i64>)> {
    let bad = || anyhow::anyhow!("--shape {s:?}: expected NAME=D0,D1,.. with positive dimensions");
    let (name, dims) = s.split_once('=').ok_or_else(bad)?;
    let dims: Vec<i64> = dims
        .split(',')
        .map(|d| d.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if name.is_empty() || dims.iter().any(|&d| d < 1) {
        return Err(bad());
    }
    Ok((name.to_string(), dims))
}

fn load(s: &Source) -> anyhow::Result<Model> {
    let shapes = s
        .shapes
        .iter()
        .map(|x| shape(x))
        .collect::<anyhow::Result<_>>()?;
    let graph = colt_onnx::import_file(&s.model, &ImportOptions { shapes })?;
    Ok(Model::for_lanes(graph, crate::tune::layout_lanes()))
}

fn tasks(a: TasksArgs) -> anyhow::Result<()> {
    let m = load(&a.source)?;
    let kernels = m.summaries();
    if a.json {
        out::print_json(
            &json!({"model": a.source.model, "tasks": m.tasks.len(), "kernels": kernels}),
        );
        return Ok(());
    }
    println!("{} tasks, {} distinct", m.tasks.len(), kernels.len());
    println!(
        "{:>3} {:>5} {:>10}  {:<40} shapes (inputs -> output)",
        "#", "count", "MFLOP", "operators"
    );
    for k in &kernels {
        let ins: Vec<String> = k.inputs.iter().map(|s| format!("{s:?}")).collect();
        let mflop = k.flops as f64 / 1e6;
        println!(
            "{:>3} {:>5} {mflop:>10.3}  {:<40} {} -> {:?}",
            k.kernel,
            k.count,
            k.op,
            ins.join(" "),
            k.output
        );
    }
    Ok(())
}

fn build(a: BuildArgs) -> anyhow::Result<()> {
    let m = load(&a.source)?;
    let db =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let (mut sources, choices) = kernel_sources(&m, (!a.naive).then_some(db.as_path()))?;
    let built = colt_onnx::build(&m, &a.out, |k| sources[k.index].take())
        .with_context(|| format!("building {}", a.out.display()))?;
    if a.json {
        out::print_json(&json!({
            "header": built.header, "library": built.library, "sources": built.sources,
            "tasks": m.tasks.len(), "kernels": m.kernels.len(), "arena_floats": built.arena_floats,
            "tuned": built.tuned, "choices": choices,
        }));
        return Ok(());
    }
    for c in &choices {
        println!(
            "kernel {:>2}: {} (best on record {}, naive {})",
            c["kernel"],
            c["source"].as_str().unwrap_or(""),
            out::us(c["best_us"].as_f64()),
            out::us(c["naive_us"].as_f64())
        );
    }
    println!(
        "{}: {} tasks, {} kernels ({} tuned), arena {} KiB; link with -fopenmp -lm",
        built.library.display(),
        m.tasks.len(),
        m.kernels.len(),
        built.tuned,
        built.arena_floats * 4 / 1024
    );
    Ok(())
}

/// The C of each kernel: the best on record in the database at `db` where it beats the
/// naive nest (`None`: naive), and what was chosen for each. Without a database (or
/// `None`), every kernel is naive.
pub(crate) fn kernel_sources(
    m: &Model,
    db: Option<&Path>,
) -> anyhow::Result<(Vec<Option<KernelSource>>, Vec<serde_json::Value>)> {
    let db = match db.filter(|p| p.is_file()) {
        Some(p) => Some((Db::open_read_only(p)?, specs::specs_dir(p))),
        None => None,
    };
    let mut sources = vec![];
    let mut choices = vec![];
    for (i, k) in m.kernels.iter().enumerate() {
        let symbol = colt_onnx::library::kernel_symbol(i);
        let r = KernelRef {
            index: i,
            kernel: k,
            symbol: &symbol,
        };
        let (src, choice) = match &db {
            Some((db, dir)) => specs::best_source(db, dir, &r)?,
            None => (None, specs::Choice::naive(i, "naive (no tuning database)")),
        };
        sources.push(src);
        choices.push(serde_json::to_value(&choice)?);
    }
    Ok((sources, choices))
}
