//! Output helpers shared by subcommands.

use anyhow::Context;
use colt_ops::Scale;

/// `e` and its causes on one line.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = vec![];
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

/// When the command started (set first thing in `main`).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Note the command's start; later calls keep the first instant.
pub fn mark_start() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// Seconds since [`mark_start`] (since the first call here when it was never called).
pub fn command_wall_s() -> f64 {
    STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialise")
    );
}

/// Parse `--scale`.
pub fn scale(s: &str) -> anyhow::Result<Scale> {
    s.parse::<Scale>().map_err(anyhow::Error::msg)
}

/// Whether a tensor-space workload names a custom spec file (the rule of
/// `colt_tensor::resolve`).
pub fn is_spec_path(w: &str) -> bool {
    w.ends_with(".toml") || std::path::Path::new(w).is_file()
}

/// The scale of `workload` from `--scale` (default ci): a spec file fixes its own shapes,
/// so `--scale` with one is an error, not a flag silently ignored.
pub fn workload_scale(workload: &str, given: Option<&str>) -> anyhow::Result<Scale> {
    match given {
        Some(s) if is_spec_path(workload) => anyhow::bail!(
            "--scale {s} chooses the shapes of a built-in workload; the spec {workload} fixes its own (edit its shapes or [sizes])"
        ),
        Some(s) => scale(s),
        None => Ok(Scale::Ci),
    }
}

/// Read a trace file made for `program`.
pub fn read_trace(path: &std::path::Path) -> anyhow::Result<colt_sched::Trace> {
    let text = colt_ops::read_input(path)
        .with_context(|| format!("cannot read trace {}", path.display()))?;
    colt_sched::Trace::from_json(&text).with_context(|| format!("trace {}", path.display()))
}

/// `1234.5 µs` style.
pub fn us(x: Option<f64>) -> String {
    match x {
        Some(v) if v >= 1e5 => format!("{:.1} ms", v / 1e3),
        Some(v) => format!("{v:.1} µs"),
        None => "-".into(),
    }
}

/// Measurement settings with this binary as the worker (`colt worker`), so an installed
/// `colt` needs no second executable.
pub fn measure_config(seed: u64) -> anyhow::Result<colt_measure::MeasureConfig> {
    let worker = colt_measure::WorkerCommand::current_exe_with(&["worker"])
        .context("cannot locate the colt executable")?;
    Ok(colt_measure::MeasureConfig {
        seed,
        worker: Some(worker),
        workdir: cache_dir().join("measure"),
        ..Default::default()
    })
}

/// `$COLT_CACHE`, else `$XDG_CACHE_HOME/colt`, else `~/.cache/colt`.
pub fn cache_dir() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("COLT_CACHE").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("colt")
}

/// The machine for records and prompts: CPU model and core count, e.g.
/// `AMD EPYC 9B14 (2 cores, x86_64)`.
pub fn target() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let march =
        colt_measure::compile::march_cpu().map_or(String::new(), |c| format!(", -march={c}"));
    format!("{cpu} ({cores} cores, {}{march})", std::env::consts::ARCH)
}

/// `--workload W [--scale ci|paper]`, shared by the subcommands that take one workload.
#[derive(clap::Args)]
pub struct WorkloadArg {
    /// Built-in workload name or path of a custom operator spec (.toml, at most 1 MiB).
    #[arg(long)]
    pub workload: String,
    /// ci or paper shapes of a built-in workload (not with a spec file). [default: ci]
    #[arg(long)]
    pub scale: Option<String>,
}

impl WorkloadArg {
    pub fn scale(&self) -> anyhow::Result<Scale> {
        workload_scale(&self.workload, self.scale.as_deref())
    }
    /// The workload's program at its scale, laid out for the compile target as `colt tune`
    /// lays it out.
    pub fn program(&self) -> anyhow::Result<colt_ir::Program> {
        self.program_for(crate::tune::layout_lanes())
    }
    /// The workload's program at its scale, laid out for vector registers of `lanes` f32s.
    pub fn program_for(&self, lanes: i64) -> anyhow::Result<colt_ir::Program> {
        Ok(colt_tensor::resolve_for(
            &self.workload,
            self.scale()?,
            lanes,
        )?)
    }
}
