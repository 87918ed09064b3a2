//! `colt runs`: the runs of the tuning database, oldest first.

use crate::out;
use colt_db::Db;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    db: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    // Read-only: never creates the file or its directory (a typo in --db stays a typo),
    // and lists a database on a read-only mount.
    let path =
        a.db.clone()
            .unwrap_or_else(|| out::cache_dir().join("colt.db"));
    let listed = if a.db.is_none() && !path.exists() {
        vec![] // nothing tuned yet
    } else {
        let db = Db::open_read_only(&path)?;
        db.list_runs()?
            .into_iter()
            .map(|r| Ok((db.run_stats(r.id)?, r)))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut rows = vec![];
    for (stats, r) in listed {
        let summary: Value = r
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);
        rows.push(json!({
            "run": r.id.0, "status": r.status.to_string(), "space": r.spec.space, "workload": r.spec.workload,
            "scale": r.spec.scale, "strategy": r.spec.strategy, "seed": r.spec.seed, "trials": r.spec.trials,
            "measured": stats.candidates, "best_us": stats.best_latency_us, "llm_calls": stats.llm_calls,
            "cost_usd": stats.cost_usd, "speedup_vs_gcc": summary.get("speedup_vs_gcc"),
        }));
    }
    if a.json {
        out::print_json(&json!({ "runs": rows }));
        return Ok(());
    }
    println!(
        "{:>4}  {:<9} {:<22} {:<6} {:<13} {:>5} {:>8} {:>12} {:>6}",
        "run", "status", "workload", "scale", "strategy", "seed", "measured", "best", "calls"
    );
    for r in rows {
        println!(
            "{:>4}  {:<9} {:<22} {:<6} {:<13} {:>5} {:>8} {:>12} {:>6}",
            r["run"],
            printable(r["status"].as_str().unwrap_or("")),
            printable(r["workload"].as_str().unwrap_or("")),
            printable(r["scale"].as_str().unwrap_or("")),
            printable(r["strategy"].as_str().unwrap_or("")),
            r["seed"],
            format!("{}/{}", r["measured"], r["trials"]),
            out::us(r["best_us"].as_f64()),
            r["llm_calls"]
        );
    }
    Ok(())
}

/// `s` with control characters (terminal escapes, newlines) shown escaped, not sent raw.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
