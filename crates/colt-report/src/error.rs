//! Typed errors of report rendering.
//!
//! A report is made from a database a user points at and written to files they name, so
//! every error is one line that names the run, plot or file at fault.

use std::path::PathBuf;

/// What went wrong while rendering a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the tuning database failed (missing run, unreadable file, ...).
    #[error(transparent)]
    Db(#[from] colt_db::DbError),
    /// No run id was given.
    #[error("no run given: name at least one run id (`colt runs` lists them)")]
    NoRuns,
    /// No TrueType font could be found for laying out plot text.
    #[error(
        "no TrueType font for the plots: tried {tried}; install fonts-dejavu-core or set COLT_FONT to a .ttf file"
    )]
    NoFont {
        /// The paths tried.
        tried: String,
    },
    /// A font file exists but could not be read or parsed.
    #[error("font {}: {problem}", path.display())]
    BadFont {
        /// The font file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The font problem found when the font was first looked up in this process.
    #[error("{0}")]
    Font(String),
    /// Drawing one plot failed.
    #[error("plot '{plot}': {message}")]
    Plot {
        /// The plot's id.
        plot: &'static str,
        /// What failed.
        message: String,
    },
    /// Writing the PNG file failed.
    #[error("cannot write PNG {}: {message}", path.display())]
    Png {
        /// The PNG file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}
