//! `colt model`: a whole ONNX model through colt-onnx: its tasks, and its C library.

use crate::out;
use anyhow::Context;
use colt_onnx::{ImportOptions, Model};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the model's distinct tasks (fused operators): shapes, FLOPs, count in the graph.
    Tasks(TasksArgs),
    /// Build the model into one C library: model.h, model.c, kernels/, libmodel.a.
    Build(BuildArgs),
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
    #[arg(long)]
    json: bool,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Tasks(a) => tasks(a),
        Command::Build(a) => build(a),
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
    Ok(Model::new(graph))
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
    let built = colt_onnx::build(&m, &a.out, |_| None)
        .with_context(|| format!("building {}", a.out.display()))?;
    if a.json {
        out::print_json(&json!({
            "header": built.header, "library": built.library, "sources": built.sources,
            "tasks": m.tasks.len(), "kernels": m.kernels.len(), "arena_floats": built.arena_floats,
        }));
        return Ok(());
    }
    println!(
        "{}: {} tasks, {} kernels, arena {} KiB; link with -fopenmp -lm",
        built.library.display(),
        m.tasks.len(),
        m.kernels.len(),
        built.arena_floats * 4 / 1024
    );
    Ok(())
}
