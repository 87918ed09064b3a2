//! colt-report: a tuning run as one self-contained HTML page, and its main chart as PNG.
//!
//! `colt report RUN [RUN...]` reads the runs from the tuning database and writes a
//! page with no network dependencies (inline CSS, inline SVG charts, no scripts): best
//! latency vs trials per run (several runs overlaid, legend by strategy and seed), the
//! cost model's predicted vs measured throughput with Kendall τ, LLM calls / tokens / USD
//! per model over the run, the largest model's share of calls against the policy floor,
//! course alterations, the search tree's shape (depth and branching histograms), failures
//! by class, and the best kernel's loop nest and C source rebuilt from its trace. A model
//! run of `colt model tune` ([`render_model_html`]) adds its tasks first: trials and rounds
//! each, latency before and after, share of the model's time.
//! `render_png` draws the best-latency chart into a PNG for a README.
//!
//! Plot text is laid out with a system TrueType font (see [`font`]); the data reductions
//! live in [`data`], the charts in [`plots`], the page in [`html`].

pub mod data;
mod error;
pub mod font;
pub mod html;
pub mod kernel;
pub mod model;
pub mod plots;

pub use error::ReportError;
pub use html::{PLOTS, Plot};

use colt_db::{Db, RunId};
use plotters::prelude::*;
use std::path::Path;

/// Size of the PNG written by [`render_png`], in pixels.
pub const PNG_SIZE: (u32, u32) = (1200, 640);

/// What the report takes from the rest of colt instead of depending on the compiler, the
/// search engine and the cost model.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// Rebuilds a tensor kernel from (workload, scale, recorded trace JSON), as `colt best`
    /// does (`colt_tensor::kernel_text`).
    pub rebuild: &'a kernel::Rebuild<'a>,
    /// The share floor of a run whose config sets none (`SearchConfig::default()`).
    pub default_large_share_floor: f64,
    /// Kendall τ of (predicted, measured) (`colt_cost::kendall_tau`).
    pub rank_correlation: fn(&[f32], &[f32]) -> f64,
    /// Other tools' kernels (e.g. from `colt bench`'s JSON), drawn beside the runs of the same
    /// workload and scale on the roofline.
    pub peers: &'a [Peer],
}

/// Another tool's kernel for one workload: its name and throughput.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// The workload as runs record it (`llama3-8b-attention`).
    pub workload: String,
    /// Its scale (`ci`, `paper`).
    pub scale: String,
    /// The tool (`TVM MetaSchedule`).
    pub name: String,
    /// Its kernel's GFLOP/s.
    pub gflops: f64,
}

/// The HTML report of `runs` (at least one; duplicates are shown once).
pub fn render_html(db: &Db, runs: &[RunId], inputs: &Inputs<'_>) -> Result<String, ReportError> {
    font::ensure()?;
    let data = data::load(db, runs, inputs)?;
    html::document(db.path(), &data, inputs.rebuild)
}

/// The HTML report of model run `id` (`colt model tune`): its tasks with trials and
/// latency before and after, then the usual sections over its tasks' tuning runs.
pub fn render_model_html(
    db: &Db,
    id: colt_db::ModelRunId,
    inputs: &Inputs<'_>,
) -> Result<String, ReportError> {
    font::ensure()?;
    let m = model::load(db, id)?;
    let data = data::load(db, &m.runs(), inputs)?;
    html::document_with(db.path(), &data, inputs.rebuild, Some(&m))
}

/// Draw the best-latency-vs-trials chart of `runs` into the PNG file `path`.
pub fn render_png(
    db: &Db,
    runs: &[RunId],
    path: &Path,
    inputs: &Inputs<'_>,
) -> Result<(), ReportError> {
    font::ensure()?;
    let data = data::load(db, runs, inputs)?;
    let err = |e: &dyn std::fmt::Display| ReportError::Png {
        path: path.into(),
        message: e.to_string(),
    };
    // The image encoder picks the format from the extension; without one its error is a
    // multi-line Debug dump.
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        return Err(err(&"the file name must end in .png"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(err(&format!("directory {} does not exist", dir.display())));
    }
    let root = BitMapBackend::new(path, PNG_SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    plots::best_vs_trials(&root, &data).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
