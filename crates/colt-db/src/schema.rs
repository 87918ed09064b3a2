//! Schema creation, the version check and migrations.
//!
//! The version lives in a one-row `colt_schema` table (not `PRAGMA user_version`) so it
//! also records which colt wrote it, which the "newer schema" error can name. A database
//! written by a newer schema is refused rather than half-read: new columns could carry
//! meaning an old reader would silently drop when it resumes and appends to a run.
//! Older schemas are brought forward by `migrations()`, one SQL batch per version step,
//! applied in a single transaction with the version bump.

use rusqlite::{Connection, OptionalExtension};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 5;

/// Migration `i` takes a database from version `i + 1` to `i + 2`.
pub(crate) fn migrations() -> [String; 4] {
    [
        // 2: the content of the input files a run tunes (a custom spec, a C program), as a
        // JSON object of path -> text, so `--resume` can tell when one changed on disk.
        "ALTER TABLE runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';".into(),
        // 3: the machine's measured limits (`colt machine`), one JSON row per machine key.
        "CREATE TABLE machines (
             key             TEXT PRIMARY KEY,
             limits          TEXT NOT NULL,
             measured_at_ms  INTEGER NOT NULL
         );"
        .into(),
        // 4: every outcome class of `OutcomeKind` (schedule, opt and tool errors no longer
        // stored as `compile_error` or `error`). SQLite cannot alter a CHECK constraint, so
        // the table is rebuilt with its rows; the names stored before are all still current.
        format!(
            "{}
             INSERT INTO candidates_v4 ({CANDIDATE_COLUMNS}) SELECT {CANDIDATE_COLUMNS} FROM candidates;
             DROP TABLE candidates;
             ALTER TABLE candidates_v4 RENAME TO candidates;
             CREATE INDEX candidates_ok_latency ON candidates (outcome, latency_median_us);",
            candidates_table(
                "candidates_v4",
                "'ok', 'wrong_result', 'crash', 'timeout', 'compile_error', 'schedule_error',
                 'opt_error', 'no_value', 'bad_latency', 'missing', 'unavailable', 'error'"
            )
        ),
        // 5: whole-model tuning (`colt model tune`): a model run, the task run of each of its
        // kernels, and the scheduler's rounds in order.
        model_tables(),
    ]
}

/// The columns a tuning run (`runs`, version 1) and a model run (`model_runs`, version 5)
/// both end with: the search settings, the provenance and the status.
const RUN_TAIL_COLUMNS: &str = "    seed            INTEGER NOT NULL,
    trials          INTEGER NOT NULL CHECK (trials >= 0),
    config          TEXT NOT NULL,
    versions        TEXT NOT NULL,
    target          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'finished', 'killed')),
    finished_at_ms  INTEGER,
    summary         TEXT";

/// The tables of whole-model tuning (migration 5).
fn model_tables() -> String {
    format!(
        "
CREATE TABLE model_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at_ms   INTEGER NOT NULL,
    model           TEXT NOT NULL,
    model_hash      TEXT NOT NULL,
    shapes          TEXT NOT NULL,
    strategy        TEXT NOT NULL,
{RUN_TAIL_COLUMNS}
);
CREATE TABLE model_tasks (
    model_run  INTEGER NOT NULL REFERENCES model_runs (id),
    kernel     INTEGER NOT NULL CHECK (kernel >= 0),
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    label      TEXT NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 1),
    naive_us   REAL,
    PRIMARY KEY (model_run, kernel)
);
CREATE TABLE model_rounds (
    model_run  INTEGER NOT NULL REFERENCES model_runs (id),
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    kernel     INTEGER NOT NULL CHECK (kernel >= 0),
    trials     INTEGER NOT NULL CHECK (trials >= 0),
    best_us    REAL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (model_run, seq)
);"
    )
}

/// The candidates table's columns, in order.
const CANDIDATE_COLUMNS: &str = "run_id, seq, key, trace, predicted, outcome, latency_median_us,
    latency_min_us, gflops, message, source, measured_at_ms";

/// The candidates table as version 1 created it and version 4 rebuilt it: they differ only in
/// the table's name and the outcome names its CHECK admits.
fn candidates_table(name: &str, outcomes: &str) -> String {
    format!(
        "CREATE TABLE {name} (
    run_id             INTEGER NOT NULL REFERENCES runs (id),
    seq                INTEGER NOT NULL CHECK (seq >= 0),
    key                TEXT NOT NULL,
    trace              TEXT NOT NULL,
    predicted          REAL,
    outcome            TEXT NOT NULL CHECK (outcome IN ({outcomes})),
    latency_median_us  REAL,
    latency_min_us     REAL,
    gflops             REAL,
    message            TEXT,
    source             TEXT NOT NULL,
    measured_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, key)
);"
    )
}

/// Version 1 of the schema, which a fresh database is created with before the migrations.
fn create_v1() -> String {
    format!(
        r#"
CREATE TABLE colt_schema (
    version     INTEGER NOT NULL,
    written_by  TEXT NOT NULL
);
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at_ms   INTEGER NOT NULL,
    strategy        TEXT NOT NULL,
    workload        TEXT NOT NULL,
    space           TEXT NOT NULL,
    scale           TEXT NOT NULL,
{RUN_TAIL_COLUMNS}
);
CREATE INDEX runs_by_workload ON runs (workload, space, scale);
{candidates}
CREATE INDEX candidates_ok_latency ON candidates (outcome, latency_median_us);
CREATE TABLE llm_calls (
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    seq            INTEGER NOT NULL CHECK (seq >= 0),
    model          TEXT NOT NULL,
    role           TEXT NOT NULL,
    ok             INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error_kind     TEXT,
    latency_ms     REAL NOT NULL,
    input_tokens   INTEGER NOT NULL CHECK (input_tokens >= 0),
    cached_tokens  INTEGER NOT NULL CHECK (cached_tokens >= 0),
    output_tokens  INTEGER NOT NULL CHECK (output_tokens >= 0),
    cost_usd       REAL NOT NULL,
    attempts       INTEGER NOT NULL CHECK (attempts >= 0),
    prefix_hash    TEXT NOT NULL,
    answer         TEXT NOT NULL,
    action         TEXT,
    record         TEXT,
    called_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE nodes (
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    node_id        INTEGER NOT NULL CHECK (node_id >= 0),
    parent_id      INTEGER,
    depth          INTEGER NOT NULL CHECK (depth >= 0),
    model          TEXT,
    state          TEXT NOT NULL,
    visits         INTEGER NOT NULL CHECK (visits >= 0),
    value          REAL NOT NULL,
    predicted      REAL,
    measured       REAL,
    terminal       INTEGER NOT NULL CHECK (terminal IN (0, 1)),
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, node_id)
);
"#,
        candidates = candidates_table(
            "candidates",
            "'ok', 'wrong_result', 'crash', 'timeout', 'compile_error', 'error'"
        )
    )
}

/// Whether the database has the `colt_schema` table (a colt database, or one being made).
fn has_meta(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'colt_schema')",
        [],
        |r| r.get(0),
    )
}

/// The stored schema version and writer, without writing (`None`: not a colt database).
pub(crate) fn read_version(conn: &Connection) -> rusqlite::Result<Option<(i64, String)>> {
    if !has_meta(conn)? {
        return Ok(None);
    }
    conn.query_row("SELECT version, written_by FROM colt_schema", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// What `prepare` found and did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SchemaState {
    /// Schema is (now) at `SCHEMA_VERSION`.
    Ready,
    /// Written by a newer schema.
    Newer { found: i64, written_by: String },
    /// Has tables, none of them ours.
    Foreign,
}

/// Create the schema in an empty database, migrate an older one, or report why not.
/// Runs inside one IMMEDIATE transaction so two processes opening a fresh file at once
/// do not both create it.
pub(crate) fn prepare(conn: &Connection, writer: &str) -> rusqlite::Result<SchemaState> {
    prepare_with(conn, writer, &create_v1(), &migrations())
}

pub(crate) fn prepare_with(
    conn: &Connection,
    writer: &str,
    create_v1: &str,
    migrations: &[impl AsRef<str>],
) -> rusqlite::Result<SchemaState> {
    let target = 1 + migrations.len() as i64;
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    if !has_meta(&tx)? {
        let tables: i64 = tx.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Ok(SchemaState::Foreign);
        }
        tx.execute_batch(create_v1)?;
        tx.execute(
            "INSERT INTO colt_schema (version, written_by) VALUES (1, ?1)",
            [writer],
        )?;
    }
    let (found, written_by): (i64, String) = tx
        .query_row("SELECT version, written_by FROM colt_schema", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .unwrap_or((0, String::from("unknown")));
    if found > target {
        return Ok(SchemaState::Newer { found, written_by });
    }
    // found == 0 means an empty colt_schema table: an interrupted creation cannot leave
    // that (creation is one transaction), so treat it as foreign rather than guess.
    if found < 1 {
        return Ok(SchemaState::Foreign);
    }
    for (step, sql) in migrations.iter().enumerate().skip((found - 1) as usize) {
        tx.execute_batch(sql.as_ref())?;
        tx.execute(
            "UPDATE colt_schema SET version = ?1, written_by = ?2",
            rusqlite::params![step as i64 + 2, writer],
        )?;
    }
    tx.commit()?;
    Ok(SchemaState::Ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.query_row("SELECT version FROM colt_schema", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn fresh_database_gets_current_version() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(prepare(&conn, "test").unwrap(), SchemaState::Ready);
        assert_eq!(version(&conn), SCHEMA_VERSION);
        // Idempotent: a second prepare changes nothing.
        assert_eq!(prepare(&conn, "test").unwrap(), SchemaState::Ready);
        assert_eq!(version(&conn), SCHEMA_VERSION);
    }

    #[test]
    fn migrations_bring_an_old_database_forward_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        let v1 = "CREATE TABLE colt_schema (version INTEGER NOT NULL, written_by TEXT NOT NULL);
                  CREATE TABLE t (a INTEGER);";
        assert_eq!(
            prepare_with(&conn, "old", v1, &[] as &[&str]).unwrap(),
            SchemaState::Ready
        );
        conn.execute("INSERT INTO t (a) VALUES (7)", []).unwrap();
        let migrations = [
            "ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 2;",
            "UPDATE t SET b = b * 10;",
        ];
        assert_eq!(
            prepare_with(&conn, "new", v1, &migrations).unwrap(),
            SchemaState::Ready
        );
        assert_eq!(version(&conn), 3);
        let (a, b): (i64, i64) = conn
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((a, b), (7, 20));
        let writer: String = conn
            .query_row("SELECT written_by FROM colt_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(writer, "new");
        // Already at version 3: nothing re-applied (b would become 200).
        assert_eq!(
            prepare_with(&conn, "new", v1, &migrations).unwrap(),
            SchemaState::Ready
        );
        let b: i64 = conn.query_row("SELECT b FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(b, 20);
        // An older build (no migrations) refuses the version-3 database.
        assert_eq!(
            prepare_with(&conn, "old", v1, &[] as &[&str]).unwrap(),
            SchemaState::Newer {
                found: 3,
                written_by: "new".into()
            }
        );
    }

    /// The outcome names schema 3 allowed.
    const V3_OUTCOMES: [&str; 6] = [
        "ok",
        "wrong_result",
        "crash",
        "timeout",
        "compile_error",
        "error",
    ];

    /// A database of schema 3 with one run and a candidate of each name it allowed.
    fn v3_database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            prepare_with(&conn, "old", &create_v1(), &migrations()[..2]).unwrap(),
            SchemaState::Ready
        );
        conn.execute_batch(
            "INSERT INTO runs (created_at_ms, strategy, workload, space, scale, seed, trials,
                               config, versions, target, status)
             VALUES (1, 'random', 'matmul', 'tensor', 'ci', 1, 8, '', 'colt 0.1', 'x86', 'killed')",
        )
        .unwrap();
        for (i, name) in V3_OUTCOMES.iter().enumerate() {
            conn.execute(
                "INSERT INTO candidates (run_id, seq, key, trace, outcome, source, measured_at_ms)
                 VALUES (1, ?1, ?2, '[]', ?3, 'random', 1)",
                rusqlite::params![i as i64, format!("k{i}"), name],
            )
            .unwrap();
        }
        conn
    }

    /// Schema 3's candidates are kept by the migration and read back as their classes; a
    /// name older versions wrote elsewhere (`wrong_answer`) reads as its class too.
    #[test]
    fn candidates_of_schema_3_read_back_as_their_classes() {
        use colt_outcome::OutcomeKind;
        let conn = v3_database();
        assert_eq!(prepare(&conn, "new").unwrap(), SchemaState::Ready);
        assert_eq!(version(&conn), SCHEMA_VERSION);
        let read: Vec<OutcomeKind> = conn
            .prepare("SELECT outcome FROM candidates ORDER BY seq")
            .unwrap()
            .query_map([], |r| crate::records::get_outcome(r, 0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let want: Vec<OutcomeKind> = V3_OUTCOMES.iter().map(|n| n.parse().unwrap()).collect();
        assert_eq!(read, want);
        assert_eq!(read[1], OutcomeKind::WrongResult);
        let spelled = conn
            .query_row("SELECT 'wrong_answer'", [], |r| {
                crate::records::get_outcome(r, 0)
            })
            .unwrap();
        assert_eq!(spelled, OutcomeKind::WrongResult);
    }

    /// The candidates table takes every class (its CHECK list matches `OutcomeKind::ALL`).
    #[test]
    fn every_outcome_class_can_be_stored() {
        use colt_outcome::OutcomeKind;
        let db = crate::Db::open_in_memory().unwrap();
        let run = db
            .create_run(&crate::NewRun {
                strategy: "random".into(),
                workload: "matmul".into(),
                space: "tensor".into(),
                scale: "ci".into(),
                seed: 1,
                trials: 64,
                config: String::new(),
                versions: "colt".into(),
                target: "x86".into(),
                inputs: Default::default(),
            })
            .unwrap();
        for (i, k) in OutcomeKind::ALL.iter().enumerate() {
            let c = crate::NewCandidate {
                key: i.to_string(),
                trace: "[]".into(),
                predicted: None,
                outcome: *k,
                latency_median_us: None,
                latency_min_us: None,
                gflops: None,
                message: None,
                source: "random".into(),
            };
            db.insert_candidate(run, &c).unwrap();
        }
        let stored: Vec<OutcomeKind> = db
            .candidates(run)
            .unwrap()
            .into_iter()
            .map(|r| r.candidate.outcome)
            .collect();
        assert_eq!(stored, OutcomeKind::ALL);
    }

    #[test]
    fn foreign_database_is_recognised() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE users (name TEXT);")
            .unwrap();
        assert_eq!(prepare(&conn, "test").unwrap(), SchemaState::Foreign);
    }
}
