//! SIGINT / SIGTERM during `colt tune`: the run is marked `killed` in the database (every
//! record before it is already committed), live compiler process groups are killed and
//! half-written kernels removed, and the line that resumes the run is printed.

use colt_db::{Db, RunId, RunStatus};
use std::path::{Path, PathBuf};

/// The command that continues `run` (with `--db` when it is not the default database).
pub fn resume_hint(db_path: &Path, explicit_db: bool, run: RunId) -> String {
    resume_command("colt tune", db_path, explicit_db, run)
}

/// `<command> --resume <id>`, with `--db` when it is not the default database.
pub fn resume_command(
    command: &str,
    db_path: &Path,
    explicit_db: bool,
    id: impl std::fmt::Display,
) -> String {
    if explicit_db {
        format!(
            "{command} --resume {id} --db {}",
            shell_quote(&db_path.display().to_string())
        )
    } else {
        format!("{command} --resume {id}")
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Mark `run` killed unless it finished (or is already marked); whether it was marked.
pub fn mark_killed(db_path: &Path, run: RunId) -> anyhow::Result<bool> {
    let db = Db::open(db_path)?;
    if db.run(run)?.status != RunStatus::Running {
        return Ok(false);
    }
    db.set_status(run, RunStatus::Killed)?;
    Ok(true)
}

/// Install the handler for this run (once per process).
pub fn watch(db_path: &Path, explicit_db: bool, run: RunId) {
    let db_path: PathBuf = db_path.to_path_buf();
    let hint = resume_hint(&db_path, explicit_db, run);
    let installed = ctrlc::set_handler(move || {
        colt_measure::child::cleanup();
        let marked = match mark_killed(&db_path, run) {
            Ok(_) => format!("run {run} marked killed"),
            Err(e) => format!("run {run} could not be marked killed ({e})"),
        };
        eprintln!("\ninterrupted: {marked}; resume with: {hint}");
        std::process::exit(130);
    });
    if let Err(e) = installed {
        tracing::warn!("cannot install the SIGINT/SIGTERM handler: {e}");
    }
}
