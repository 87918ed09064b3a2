//! Opening a database and the `runs` table.
//!
//! One `Db` is one SQLite connection. Files are opened in WAL mode so readers (a `colt
//! runs` in another terminal, a report) never block the tuner and the tuner never blocks
//! them; a busy timeout lets two writers take turns instead of failing. Every write is its
//! own committed transaction, so a record is on disk (in the WAL) when the call returns and
//! a `kill -9` of the tuner right afterwards cannot lose it. `synchronous = NORMAL` is the
//! default: it survives any process crash and skips one fsync per commit; pass
//! `DbOptions { power_loss_safe: true, .. }` to also survive power loss.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::FromSql;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::error::{DbError, Result};
use crate::records::{NewRun, RunId, RunRow, RunStatus};
use crate::schema::{self, SCHEMA_VERSION, SchemaState};

/// How to open a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbOptions {
    /// How long a write waits for another connection's write to finish.
    pub busy_timeout: Duration,
    /// `synchronous = FULL` (fsync every commit) instead of `NORMAL`.
    pub power_loss_safe: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            busy_timeout: Duration::from_secs(10),
            power_loss_safe: false,
        }
    }
}

/// A connection to a colt tuning database. `Send`, not `Sync`: open one per thread.
pub struct Db {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// The string stored in `colt_schema.written_by`.
fn writer_tag() -> String {
    format!("colt-db {}", env!("CARGO_PKG_VERSION"))
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Db {
    /// Open (creating if absent, with its parent directories) the database at `path`
    /// with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::open_with(path, &DbOptions::default())
    }

    /// Open the database at `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: &DbOptions) -> Result<Db> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: path.clone(),
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        if path.is_dir() {
            return Err(DbError::InvalidValue {
                path: path.clone(),
                field: "path",
                problem: "is a directory, expected a database file".into(),
            });
        }
        let conn = Connection::open(&path).map_err(|source| DbError::Sqlite {
            path: path.clone(),
            context: "open".into(),
            source,
        })?;
        let db = Db { conn, path };
        db.configure(options, true)?;
        Ok(db)
    }

    /// Open an existing database for reading only (`colt runs`, reports, exports): never
    /// creates the file or its directory and writes nothing, so a database on a read-only
    /// mount (or one being written by a running tune) can be listed. When SQLite cannot set
    /// up its shared-memory file next to a WAL database (a read-only directory), the file
    /// is read as immutable.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Db> {
        use rusqlite::OpenFlags;
        let path = path.as_ref().to_path_buf();
        if path.is_dir() {
            return Err(DbError::InvalidValue {
                path: path.clone(),
                field: "path",
                problem: "is a directory, expected a database file".into(),
            });
        }
        if !path.is_file() {
            return Err(DbError::Missing { path });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let open = |immutable: bool| -> Result<Db> {
            let conn = if immutable {
                // URI form: `%`, `?` and `#` in the path must be escaped.
                let p = path
                    .display()
                    .to_string()
                    .replace('%', "%25")
                    .replace('?', "%3f")
                    .replace('#', "%23");
                Connection::open_with_flags(format!("file:{p}?immutable=1"), flags)
            } else {
                Connection::open_with_flags(&path, flags)
            }
            .map_err(|source| DbError::Sqlite {
                path: path.clone(),
                context: "open read-only".into(),
                source,
            })?;
            let db = Db {
                conn,
                path: path.clone(),
            };
            db.check_schema_read_only()?;
            Ok(db)
        };
        match open(false) {
            Err(DbError::Sqlite { .. }) => open(true),
            other => other,
        }
    }

    /// The schema checks of `configure`, without writing anything.
    fn check_schema_read_only(&self) -> Result<()> {
        self.conn
            .busy_timeout(DbOptions::default().busy_timeout)
            .map_err(|e| self.sql("set busy timeout", e))?;
        match schema::read_version(&self.conn).map_err(|e| self.sql("read schema version", e))? {
            None => Err(DbError::NotColt {
                path: self.path.clone(),
            }),
            Some((found, _)) if found == SCHEMA_VERSION => Ok(()),
            Some((found, written_by)) if found > SCHEMA_VERSION => Err(DbError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
                written_by,
            }),
            Some((found, _)) => Err(DbError::OlderSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            }),
        }
    }

    /// A private in-memory database (no WAL; gone when dropped). For tests and dry runs.
    pub fn open_in_memory() -> Result<Db> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| DbError::Sqlite {
            path: path.clone(),
            context: "open".into(),
            source,
        })?;
        let db = Db { conn, path };
        db.configure(&DbOptions::default(), false)?;
        Ok(db)
    }

    fn configure(&self, options: &DbOptions, wal: bool) -> Result<()> {
        self.conn
            .busy_timeout(options.busy_timeout)
            .map_err(|e| self.sql("set busy timeout", e))?;
        if wal {
            // Reading the journal mode is the first real file access: a file that is
            // not SQLite fails here with "file is not a database".
            let mode: String =
                self.scalar(&self.conn, "PRAGMA journal_mode = WAL", [], "enable WAL")?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(DbError::NoWal {
                    path: self.path.clone(),
                    mode,
                });
            }
        }
        let sync = if options.power_loss_safe {
            "FULL"
        } else {
            "NORMAL"
        };
        self.conn
            .execute_batch(&format!(
                "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
            ))
            .map_err(|e| self.sql("configure", e))?;
        match schema::prepare(&self.conn, &writer_tag())
            .map_err(|e| self.sql("prepare schema", e))?
        {
            SchemaState::Ready => Ok(()),
            SchemaState::Newer { found, written_by } => Err(DbError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
                written_by,
            }),
            SchemaState::Foreign => Err(DbError::NotColt {
                path: self.path.clone(),
            }),
        }
    }

    /// The file this connection opened (":memory:" for in-memory databases).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wrap an SQLite error with this database's path and what was being done.
    pub(crate) fn sql(&self, context: &str, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid(&self, field: &'static str, problem: impl Into<String>) -> DbError {
        DbError::InvalidValue {
            path: self.path.clone(),
            field,
            problem: problem.into(),
        }
    }

    /// Begin an IMMEDIATE transaction (takes the write lock up front, so a read-then-write
    /// sequence never fails on a stale snapshot; waits up to the busy timeout).
    pub(crate) fn write_tx(&self, context: &str) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.sql(context, e))
    }

    /// Error unless `run` exists.
    pub(crate) fn require_run(&self, conn: &Connection, run: RunId) -> Result<()> {
        let exists: bool = self.scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
            [run.0],
            "look up run",
        )?;
        if exists {
            Ok(())
        } else {
            Err(self.no_such_run(run))
        }
    }

    /// The one value the query `sql` returns on `conn`.
    pub(crate) fn scalar<T: FromSql>(
        &self,
        conn: &Connection,
        sql: &str,
        p: impl rusqlite::Params,
        context: &str,
    ) -> Result<T> {
        conn.query_row(sql, p, |r| r.get(0))
            .map_err(|e| self.sql(context, e))
    }

    /// The error for a run id this database does not hold.
    pub(crate) fn no_such_run(&self, run: RunId) -> DbError {
        DbError::NoSuchRun {
            path: self.path.clone(),
            run: run.0,
        }
    }

    /// The row `sql` selects with `?1` = `id`, read by `row`; `missing()` when there is none.
    pub(crate) fn row_by_id<T>(
        &self,
        sql: &str,
        id: i64,
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
        context: &str,
        missing: impl FnOnce() -> DbError,
    ) -> Result<T> {
        self.conn
            .query_row(sql, [id], row)
            .optional()
            .map_err(|e| self.sql(context, e))?
            .ok_or_else(missing)
    }

    /// Run the update `sql`; `missing()` when it changed no row.
    pub(crate) fn update_by_id(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        context: &str,
        missing: impl FnOnce() -> DbError,
    ) -> Result<()> {
        let n = self
            .conn
            .execute(sql, p)
            .map_err(|e| self.sql(context, e))?;
        if n == 0 {
            return Err(missing());
        }
        Ok(())
    }

    /// A u64 that must fit in an SQLite INTEGER.
    pub(crate) fn int(&self, field: &'static str, v: u64) -> Result<i64> {
        i64::try_from(v).map_err(|_| self.invalid(field, format!("{v} exceeds {}", i64::MAX)))
    }

    /// A float that must be finite (SQLite turns NaN into NULL).
    pub(crate) fn finite(&self, field: &'static str, v: f64) -> Result<f64> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.invalid(field, format!("{v} is not finite")))
        }
    }

    pub(crate) fn finite_opt(&self, field: &'static str, v: Option<f64>) -> Result<Option<f64>> {
        v.map(|x| self.finite(field, x)).transpose()
    }

    /// Text that must parse as JSON (stored verbatim).
    pub(crate) fn json(&self, field: &'static str, text: &str) -> Result<()> {
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map(|_| ())
            .map_err(|e| self.invalid(field, format!("not valid JSON: {e}")))
    }

    /// Record a new run with status `running`.
    pub fn create_run(&self, run: &NewRun) -> Result<RunId> {
        self.insert_run(&self.conn, run)
    }

    /// Insert `run` (status `running`) through `conn` (this connection or a transaction
    /// of it).
    pub(crate) fn insert_run(&self, conn: &Connection, run: &NewRun) -> Result<RunId> {
        let trials = self.int("trials", run.trials)?;
        let inputs = serde_json::to_string(&run.inputs).expect("a map of strings serialises");
        conn.execute(
            "INSERT INTO runs (created_at_ms, strategy, workload, space, scale, seed, trials,
                                   config, versions, target, status, inputs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'running', ?11)",
            params![
                now_ms(),
                run.strategy,
                run.workload,
                run.space,
                run.scale,
                run.seed as i64, // bit-cast; read back with `as u64`
                trials,
                run.config,
                run.versions,
                run.target,
                inputs,
            ],
        )
        .map_err(|e| self.sql("create run", e))?;
        Ok(RunId(conn.last_insert_rowid()))
    }

    /// The run with id `id`, or `NoSuchRun`.
    pub fn run(&self, id: RunId) -> Result<RunRow> {
        self.row_by_id(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
            id.0,
            run_row,
            "read run",
            || self.no_such_run(id),
        )
    }

    /// All runs, oldest first.
    pub fn list_runs(&self) -> Result<Vec<RunRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id"))
            .map_err(|e| self.sql("list runs", e))?;

        stmt.query_map([], run_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql("list runs", e))
    }

    /// Mark `id` finished now and store its summary JSON.
    pub fn finish_run(&self, id: RunId, summary_json: &str) -> Result<()> {
        self.json("run summary", summary_json)?;
        self.update_by_id(
            "UPDATE runs SET status = 'finished', finished_at_ms = ?2, summary = ?3 WHERE id = ?1",
            params![id.0, now_ms(), summary_json],
            "finish run",
            || self.no_such_run(id),
        )
    }

    /// The limits stored for machine `key` by [`Db::put_machine`] (JSON), if any.
    pub fn machine(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT limits FROM machines WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql("read machine limits", e))
    }

    /// Store (or replace) the measured limits of machine `key` as JSON.
    pub fn put_machine(&self, key: &str, limits_json: &str) -> Result<()> {
        self.json("machine limits", limits_json)?;
        self.conn
            .execute(
                "INSERT INTO machines (key, limits, measured_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET limits = ?2, measured_at_ms = ?3",
                params![key, limits_json, now_ms()],
            )
            .map_err(|e| self.sql("store machine limits", e))?;
        Ok(())
    }

    /// Set a run's status (e.g. back to `Running` on resume, or `Killed` by a cleanup
    /// tool). Setting `Finished` this way keeps the summary and stamps `finished_at_ms`;
    /// any other status clears `finished_at_ms`.
    pub fn set_status(&self, id: RunId, status: RunStatus) -> Result<()> {
        let finished_at = (status == RunStatus::Finished).then(now_ms);
        self.update_by_id(
            "UPDATE runs SET status = ?2, finished_at_ms = ?3 WHERE id = ?1",
            params![id.0, status, finished_at],
            "set run status",
            || self.no_such_run(id),
        )
    }

    /// `PRAGMA integrity_check`: `Ok(())` when SQLite finds nothing wrong, else the
    /// first problem it reports, as an error.
    pub fn check_integrity(&self) -> Result<()> {
        let report: String =
            self.scalar(&self.conn, "PRAGMA integrity_check", [], "integrity check")?;
        if report == "ok" {
            Ok(())
        } else {
            Err(self.invalid("file", format!("integrity check failed: {report}")))
        }
    }
}

const RUN_COLUMNS: &str = "id, created_at_ms, strategy, workload, space, scale, seed, trials, \
                           config, versions, target, status, finished_at_ms, summary, inputs";

pub(crate) fn get_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = row.get(idx)?;
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

pub(crate) fn get_opt_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<u64>> {
    let v: Option<i64> = row.get(idx)?;
    v.map(|v| u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v)))
        .transpose()
}

fn run_row(row: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: RunId(row.get(0)?),
        created_at_ms: row.get(1)?,
        spec: NewRun {
            strategy: row.get(2)?,
            workload: row.get(3)?,
            space: row.get(4)?,
            scale: row.get(5)?,
            seed: row.get::<_, i64>(6)? as u64,
            trials: get_u64(row, 7)?,
            config: row.get(8)?,
            versions: row.get(9)?,
            target: row.get(10)?,
            inputs: {
                let text: String = row.get(14)?;
                serde_json::from_str(&text).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        14,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?
            },
        },
        status: row.get(11)?,
        finished_at_ms: row.get(12)?,
        summary: row.get(13)?,
    })
}

// A `Db` may move to a worker thread (the tuner's recorder); keep that true.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Db>();
};
