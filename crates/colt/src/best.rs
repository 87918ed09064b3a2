//! `colt best`: export the fastest correct kernel on record for a workload as a C source file
//! and a header with its signature (plus the trace that produced it).

use crate::out;
use crate::space::Space;
use anyhow::Context;
use colt_db::{BestFilter, Db};
use colt_tensor::Kernel;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    w: out::WorkloadArg,
    /// Directory to write `<workload>.c`, `<workload>.h` and `<workload>.trace.json` into.
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    db: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let scale = a.w.scale()?;
    let db = Db::open_read_only(a.db.unwrap_or_else(|| out::cache_dir().join("colt.db")))?;
    // Runs record a custom spec by its absolute path (older runs: as given).
    let absolute = std::path::absolute(&a.w.workload)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| a.w.workload.clone());
    let mut best = None;
    for w in [absolute.as_str(), a.w.workload.as_str()] {
        best = db.best(&BestFilter::new(w, Space::Tensor.to_string()).scale(scale.as_str()))?;
        if best.is_some() {
            break;
        }
    }
    let best = best.with_context(|| {
        format!(
            "no correct {} kernel of {} is on record: run `colt tune` first",
            scale, a.w.workload
        )
    })?;
    // The program laid out as the run that found the kernel laid it out.
    let lanes = crate::tune::recorded_layout_lanes(&db.run(best.run)?.spec)
        .with_context(|| format!("run {}", best.run))?;
    let program = a.w.program_for(lanes)?;
    let trace =
        colt_sched::Trace::from_json(&best.candidate.trace).context("the recorded trace")?;
    let kernel =
        Kernel::scheduled(&program, &trace).context("the recorded trace no longer applies")?;
    let symbol = format!(
        "colt_{}",
        colt_codegen::names::sanitize(&program.name, "kernel")
    );
    let c = colt_codegen::emit_c(&kernel.func, &symbol)?;
    let h = colt_codegen::emit_header(&kernel.func, &symbol)?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let base = a.out.join(&program.name);
    for (ext, text) in [("c", c), ("h", h), ("trace.json", trace.to_json())] {
        let p = base.with_extension(ext);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        println!("{}", p.display());
    }
    eprintln!(
        "run {} trial {}: {} ({})",
        best.run,
        best.seq,
        out::us(best.candidate.latency_median_us),
        best.candidate
            .gflops
            .map_or(String::new(), |g| format!("{g:.1} GFLOP/s"))
    );
    Ok(())
}
