//! The benchmark as a binary: `cargo run --release -p colt-llvm --example llvm_bench --
//! [--strategy evolutionary|mcts|random] [--trials 64] [--seed 1] [--programs a,b]
//! [--objectives size,runtime] [--json FILE] [--vocab]`.

use colt_llvm::bench::{self, BenchOptions};
use colt_llvm::{Objective, Toolchain, passes};
use colt_search::Strategy;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let tools = Toolchain::discover()?;
    if args.iter().any(|a| a == "--vocab") {
        print!("{}", passes::validate(&tools.opt).table());
        return Ok(());
    }
    let strategy: Strategy = get("--strategy")
        .unwrap_or_else(|| "evolutionary".into())
        .parse()?;
    let trials: usize = get("--trials").unwrap_or_else(|| "64".into()).parse()?;
    let seed: u64 = get("--seed").unwrap_or_else(|| "1".into()).parse()?;
    let mut opts = BenchOptions::new(strategy, trials, seed);
    if let Some(p) = get("--programs") {
        opts.programs = p.split(',').map(str::to_string).collect();
    }
    if let Some(o) = get("--objectives") {
        opts.objectives = o
            .split(',')
            .map(|s| s.parse::<Objective>())
            .collect::<Result<_, _>>()?;
    }
    let start = std::time::Instant::now();
    let report = bench::bench(&tools, &opts, &mut |p| {
        eprintln!(
            "[{:>6.1}s] {:<14} size/Oz {}  runtime/O3 {}",
            start.elapsed().as_secs_f64(),
            p.program,
            p.vs_clang
                .size_vs_oz
                .map_or("-".into(), |v| format!("{v:.3}")),
            p.vs_clang
                .runtime_vs_o3
                .map_or("-".into(), |v| format!("{v:.3}"))
        );
    })?;
    print!("{}", report.table());
    if let Some(path) = get("--json") {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
