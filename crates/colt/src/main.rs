//! `colt`: the command-line front end. Thin: argument parsing and output formatting over the
//! library crates; every subcommand lives in its own module.

// The clap doc comments are `--help` text, where `<model>`, `<cache>` and `<RUN>` name
// arguments; rustdoc would read them as HTML tags.
#![allow(rustdoc::invalid_html_tags)]

mod bench;
mod best;
mod config;
mod machine;
mod measure;
mod model;
mod models;
mod out;
mod report;
mod runs;
mod show;
mod space;
mod tune;
mod workloads;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "colt",
    version,
    about = "Multi-LLM tree-search auto-scheduler for tensor programs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the built-in workloads: name, shapes, FLOPs.
    Workloads(workloads::Args),
    /// Print a workload's loop nest (optionally scheduled by a trace) and its C code.
    Show(show::Args),
    /// This machine's limits: peak fp32 FLOP/s and memory bandwidth, measured once and kept
    /// in the tuning database (the roofline's two numbers).
    Machine(machine::Args),
    /// Measure naive gcc/clang baselines and a given or best-of-N sampled schedule.
    Measure(measure::Args),
    /// Tune a workload with a search strategy (recorded in the tuning database).
    Tune(tune::Args),
    /// List the runs of the tuning database.
    Runs(runs::Args),
    /// Write a self-contained HTML report (inline SVG charts) of tuning runs; --png for the main chart.
    Report(report::Args),
    /// Side-by-side benchmark: colt's strategies vs TVM MetaSchedule (and OpenBLAS) per
    /// workload and trial budget, or LLVM pass ordering vs clang/gcc (--space llvm).
    Bench(bench::Args),
    /// Export the best kernel on record for a workload as C source and header.
    Best(best::Args),
    /// The LLM model bucket: list it, or check every model with two real requests.
    Models {
        #[command(subcommand)]
        command: models::Command,
    },
    /// A whole ONNX model: list its fused tasks, or build it into one C library.
    Model {
        #[command(subcommand)]
        command: model::Command,
    },
    /// The isolated measurement worker (started by colt itself; speaks JSON lines on stdin).
    #[command(hide = true)]
    Worker,
}

fn main() {
    out::mark_start();
    // Never let the HTTP stack's TRACE hex dumps (API-key headers) through, whatever COLT_LOG says.
    let user = std::env::var("COLT_LOG").unwrap_or_else(|_| "warn".into());
    let filter =
        tracing_subscriber::EnvFilter::try_new(format!("{user},{}", colt_llm::SAFE_LOG_DIRECTIVES))
            .unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!(
                    "warn,{}",
                    colt_llm::SAFE_LOG_DIRECTIVES
                ))
            });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Workloads(a) => workloads::run(a),
        Command::Show(a) => show::run(a),
        Command::Machine(a) => machine::run(a),
        Command::Measure(a) => measure::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Runs(a) => runs::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Best(a) => best::run(a),
        Command::Report(a) => report::run(a),
        Command::Models { command } => models::run(command),
        Command::Model { command } => model::run(command),
        Command::Worker => {
            colt_measure::worker::worker_main().map_err(|e| anyhow::anyhow!("worker: {e}"))
        }
    };
    if let Err(e) = result {
        // One line: the chain of causes joined, never a backtrace.
        eprintln!("error: {}", out::one_line(&e));
        std::process::exit(1);
    }
}
