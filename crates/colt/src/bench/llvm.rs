//! `colt bench --space llvm`: pass ordering on the bundled benchmark programs, per program
//! the clang/gcc baselines and colt's best, with the geometric means against -Oz (size) and
//! -O3 (run time) and the per-optimization-type ablation table.

use anyhow::Context;
use colt_llvm::bench::BenchOptions;

pub fn run(
    strategy: &str,
    trials: usize,
    seed: u64,
    programs: Vec<String>,
    json: bool,
) -> anyhow::Result<()> {
    let strategy: colt_search::Strategy = strategy.parse()?;
    let tools = colt_llvm::Toolchain::discover()?;
    let mut opts = BenchOptions::new(strategy, trials, seed);
    opts.programs = programs;
    let report = colt_llvm::bench::bench(&tools, &opts, &mut |p| {
        if !json {
            eprintln!("{}: done", p.program);
        }
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("report")?
        );
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
