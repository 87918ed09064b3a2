//! Typed errors of the tuning database.
//!
//! Every variant renders as one line that starts with `database <path>:` so a user who
//! has several databases (one per experiment is common) knows which file is at fault,
//! and the rest of the line names the problem (a newer schema, a missing run, a bad
//! value) rather than an SQLite result code alone.

use std::path::PathBuf;

/// The result type of every fallible `colt-db` call.
pub type Result<T> = std::result::Result<T, DbError>;

/// What went wrong, with the database it happened in.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The directory that should hold the database could not be created.
    #[error("database {}: cannot create directory {}: {source}", path.display(), dir.display())]
    CreateDir {
        /// The database file.
        path: PathBuf,
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite refused an operation (cannot open, not a database, disk full, ...).
    #[error("database {}: {context}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What colt-db was doing, e.g. "open", "insert candidate".
        context: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer colt whose schema this build does not know.
    #[error(
        "database {}: written with schema version {found} (by {written_by}), this colt supports up to version {supported}; use a newer colt or another --db",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
        /// The colt version that wrote the file.
        written_by: String,
    },
    /// The file is an SQLite database but not one colt created.
    #[error("database {}: not a colt tuning database (it has tables but no colt_schema table)", path.display())]
    NotColt {
        /// The database file.
        path: PathBuf,
    },
    /// WAL journal mode could not be enabled (e.g. a file system without shared memory).
    #[error("database {}: cannot enable WAL journal mode (SQLite kept '{mode}')", path.display())]
    NoWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// `open_read_only` of a path where there is no file.
    #[error("database {}: no such file", path.display())]
    Missing {
        /// The path opened.
        path: PathBuf,
    },
    /// `open_read_only` of a database with an older schema, which only a read-write open
    /// can bring forward.
    #[error(
        "database {}: written with schema version {found}, this colt reads version {supported}; open it once read-write (e.g. colt tune --db) to upgrade it",
        path.display()
    )]
    OlderSchema {
        /// The database file.
        path: PathBuf,
        /// The file's schema version.
        found: i64,
        /// The version this build reads.
        supported: i64,
    },
    /// A run id that is not in the database.
    #[error("database {}: run {run} does not exist", path.display())]
    NoSuchRun {
        /// The database file.
        path: PathBuf,
        /// The run id asked for.
        run: i64,
    },
    /// A model run id that is not in the database.
    #[error("database {}: model run {run} does not exist (colt model runs lists them)", path.display())]
    NoSuchModelRun {
        /// The database file.
        path: PathBuf,
        /// The model run id asked for.
        run: i64,
    },
    /// A value the caller passed cannot be stored (not finite, too large, not JSON).
    #[error("database {}: invalid {field}: {problem}", path.display())]
    InvalidValue {
        /// The database file.
        path: PathBuf,
        /// The field, by name.
        field: &'static str,
        /// What is wrong with the value.
        problem: String,
    },
}
