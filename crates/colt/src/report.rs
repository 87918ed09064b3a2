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
