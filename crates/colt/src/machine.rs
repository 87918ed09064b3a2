//! `colt machine`: this machine's limits, measured (peak fp32 FLOP/s on every core and on
//! one, memory bandwidth, the vector ISA the compiler targets, cores and caches), and kept
//! per machine in the tuning database so later runs can place their kernels on a roofline.

use crate::out;
use anyhow::Context;
use colt_db::Db;
use colt_measure::{Compiler, MachineLimits};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Measure again even when the database holds this machine's limits.
    #[arg(long)]
    remeasure: bool,
    /// The tuning database (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let path = a.db.unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let (m, cached) = limits(&path, a.remeasure)?;
    if a.json {
        let mut v = serde_json::to_value(&m)?;
        v["cached"] = json!(cached);
        out::print_json(&v);
        return Ok(());
    }
    let kib = |b: Option<u64>| b.map_or("?".to_string(), |b| format!("{} KiB", b / 1024));
    println!("cpu          {}", m.cpu);
    println!(
        "cores        {} ({}, {} fp32 lanes{})",
        m.cores,
        m.isa,
        m.vector_lanes,
        if m.fma { ", FMA" } else { "" }
    );
    println!(
        "peak         {:.1} GFLOP/s ({:.1} on one core)",
        m.peak_gflops, m.peak_gflops_one_core
    );
    println!("bandwidth    {:.1} GB/s", m.bandwidth_gbs);
    println!(
        "caches       L2 {}, L3 {}",
        kib(m.l2_bytes),
        kib(m.l3_bytes)
    );
    println!(
        "ridge point  {:.1} FLOP/byte{}",
        m.peak_gflops / m.bandwidth_gbs.max(1e-9),
        if cached {
            " (from the database; --remeasure to measure again)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The limits `db` holds for machine `key`, if any (an unreadable row counts as none).
pub fn stored(db: &Db, key: &str) -> Option<MachineLimits> {
    serde_json::from_str(&db.machine(key).ok()??).ok()
}

/// This machine's limits: the database's when it holds them for this machine (and
/// `remeasure` is off), else measured now and stored. The flag says which.
pub fn limits(db_path: &Path, remeasure: bool) -> anyhow::Result<(MachineLimits, bool)> {
    let compiler = Compiler::tuned();
    let key = colt_measure::machine_key(&compiler);
    if let Some(dir) = db_path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let db = Db::open(db_path)?;
    if !remeasure && let Some(m) = stored(&db, &key) {
        return Ok((m, true));
    }
    let scratch = tempfile::Builder::new()
        .prefix("colt-machine")
        .tempdir()
        .context("cannot create a scratch directory")?;
    let m = colt_measure::measure_limits(&compiler, scratch.path(), None)
        .context("measuring the machine")?;
    db.put_machine(&key, &serde_json::to_string(&m)?)?;
    Ok((m, false))
}
