//! `colt report RUN [RUN...]` (or `--model MODEL_RUN`): one self-contained HTML page (inline SVG charts, no network)
//! of tuning runs from the database, and optionally the best-latency chart as a PNG for a
//! README. The page is rendered by colt-report; this module only parses arguments and
//! writes the files.

use crate::out;
use anyhow::Context;
use colt_db::{Db, RunId};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Run ids to report on (`colt runs` lists them); several runs are overlaid.
    #[arg(required_unless_present = "model", value_name = "RUN")]
    runs: Vec<RunId>,
    /// A model run of `colt model tune` instead: its tasks (trials each, latency before
    /// and after), then its tasks' tuning runs.
    #[arg(long, value_name = "MODEL_RUN", conflicts_with = "runs")]
    model: Option<colt_db::ModelRunId>,
    /// The tuning database (default: ~/.cache/colt/colt.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
    /// Also write the best-latency-vs-trials chart to this PNG file (name ending in .png).
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// `colt bench --json` output(s) whose TVM MetaSchedule and numpy/OpenBLAS kernels are
    /// drawn beside the runs of the same workload and scale on the roofline.
    #[arg(long, value_name = "BENCH_JSON")]
    peers: Vec<PathBuf>,
}

/// The peers of `colt bench --json` output `path`: each row's TVM and OpenBLAS GFLOP/s.
fn read_peers(path: &std::path::Path) -> anyhow::Result<Vec<colt_report::Peer>> {
    let cx = || format!("--peers {}", path.display());
    let text = std::fs::read_to_string(path).with_context(cx)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", cx()))?;
    let rows = v["rows"]
        .as_array()
        .with_context(|| format!("{}: no \"rows\" (not `colt bench --json` output)", cx()))?;
    let mut out = vec![];
    for r in rows {
        let (Some(w), Some(scale)) = (r["workload"].as_str(), r["scale"].as_str()) else {
            continue;
        };
        for (field, name) in [
            ("tvm_gflops", "TVM MetaSchedule"),
            ("openblas_gflops", "numpy/OpenBLAS"),
        ] {
            if let Some(g) = r[field].as_f64().filter(|g| g.is_finite() && *g > 0.0) {
                out.push(colt_report::Peer {
                    workload: w.into(),
                    scale: scale.into(),
                    name: name.into(),
                    gflops: g,
                });
            }
        }
    }
    Ok(out)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if let Some(png) = &a.png
        && !png
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        anyhow::bail!("--png {}: the file name must end in .png", png.display());
    }
    let db_path = a.db.unwrap_or_else(|| out::cache_dir().join("colt.db"));
    if !db_path.is_file() {
        anyhow::bail!(
            "database {}: no such file (run `colt tune` first, or pass --db)",
            db_path.display()
        );
    }
    let db = Db::open_read_only(&db_path)?;
    let mut peers = vec![];
    for p in &a.peers {
        peers.extend(read_peers(p)?);
    }
    let rebuild = |workload: &str, scale: &str, trace: &str| {
        colt_tensor::kernel_text(workload, scale, trace).map(|k| colt_report::kernel::Rebuilt {
            loop_nest: k.loop_nest,
            history: k.history,
            c_source: k.c_source,
        })
    };
    let inputs = colt_report::Inputs {
        rebuild: &rebuild,
        default_large_share_floor: colt_search::SearchConfig::default().large_share_floor,
        rank_correlation: colt_cost::kendall_tau,
        peers: &peers,
    };
    let (html, runs) = match a.model {
        Some(m) => (
            colt_report::render_model_html(&db, m, &inputs)?,
            colt_report::model::load(&db, m)?.runs(),
        ),
        None => (colt_report::render_html(&db, &a.runs, &inputs)?, a.runs),
    };
    std::fs::write(&a.out, html).with_context(|| format!("cannot write {}", a.out.display()))?;
    println!("{}", a.out.display());
    if let Some(png) = &a.png {
        colt_report::render_png(&db, &runs, png, &inputs)?;
        println!("{}", png.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::read_peers;

    #[test]
    fn peers_come_from_bench_rows_and_bad_files_are_one_line() {
        let dir = std::env::temp_dir().join(format!("colt-peers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("bench.json");
        std::fs::write(
            &good,
            r#"{"rows": [{"workload": "matmul", "scale": "paper", "tvm_gflops": 63.2,
                "openblas_gflops": 214.5}, {"workload": "rmsnorm", "scale": "paper",
                "tvm_gflops": 16.0, "openblas_gflops": null}]}"#,
        )
        .unwrap();
        let peers = read_peers(&good).unwrap();
        let names: Vec<(&str, &str, f64)> = peers
            .iter()
            .map(|p| (p.workload.as_str(), p.name.as_str(), p.gflops))
            .collect();
        assert_eq!(
            names,
            vec![
                ("matmul", "TVM MetaSchedule", 63.2),
                ("matmul", "numpy/OpenBLAS", 214.5),
                ("rmsnorm", "TVM MetaSchedule", 16.0)
            ]
        );
        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"runs": []}"#).unwrap();
        let e = format!("{:#}", read_peers(&bad).unwrap_err());
        assert!(e.contains("no \"rows\""), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = format!("{:#}", read_peers(&dir.join("missing.json")).unwrap_err());
        assert!(e.contains("--peers") && !e.contains('\n'), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
