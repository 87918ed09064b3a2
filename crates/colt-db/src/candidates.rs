//! The `candidates` table: every measured schedule of a run, in measurement order.
//!
//! A candidate is identified within its run by its structural key. Inserting a key that
//! is already there is a no-op that returns the stored row: that is what makes
//! `colt tune --resume` safe. The resumed tuner replays its deterministic search, finds
//! earlier measurements through `measured_by_key`, and any insert it repeats (say the
//! process died between commit and bookkeeping) cannot create a duplicate. Sequence
//! numbers are assigned by the database inside the same write transaction, so they stay
//! dense (0, 1, 2, ...) across kills and resumes.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, params};

use crate::db::{Db, get_u64, now_ms};
use crate::error::Result;
use crate::records::{BestFilter, CandidateRow, NewCandidate, RunId, get_outcome};
use colt_outcome::OutcomeKind;

const COLUMNS: &str = "run_id, seq, measured_at_ms, key, trace, predicted, outcome, \
                       latency_median_us, latency_min_us, gflops, message, source";

pub(crate) fn candidate_row(row: &Row<'_>) -> rusqlite::Result<CandidateRow> {
    Ok(CandidateRow {
        run: RunId(row.get(0)?),
        seq: get_u64(row, 1)?,
        measured_at_ms: row.get(2)?,
        candidate: NewCandidate {
            key: row.get(3)?,
            trace: row.get(4)?,
            predicted: row.get(5)?,
            outcome: get_outcome(row, 6)?,
            latency_median_us: row.get(7)?,
            latency_min_us: row.get(8)?,
            gflops: row.get(9)?,
            message: row.get(10)?,
            source: row.get(11)?,
        },
    })
}

impl Db {
    /// Store a measured candidate, committed before this returns. Returns the stored row
    /// and `true`, or, when `(run, key)` is already stored, the existing row unchanged and
    /// `false` (the first measurement wins).
    pub fn insert_candidate(&self, run: RunId, c: &NewCandidate) -> Result<(CandidateRow, bool)> {
        self.json("candidate trace", &c.trace)?;
        let predicted = self.finite_opt("candidate predicted", c.predicted)?;
        let median = self.finite_opt("candidate latency_median_us", c.latency_median_us)?;
        let min = self.finite_opt("candidate latency_min_us", c.latency_min_us)?;
        let gflops = self.finite_opt("candidate gflops", c.gflops)?;
        let tx = self.write_tx("insert candidate")?;
        self.require_run(&tx, run)?;
        let existing = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM candidates WHERE run_id = ?1 AND key = ?2"),
                params![run.0, c.key],
                candidate_row,
            )
            .optional()
            .map_err(|e| self.sql("insert candidate", e))?;
        if let Some(row) = existing {
            return Ok((row, false));
        }
        let seq: i64 = self.scalar(
            &tx,
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM candidates WHERE run_id = ?1",
            [run.0],
            "insert candidate",
        )?;
        let measured_at = now_ms();
        tx.execute(
            "INSERT INTO candidates (run_id, seq, measured_at_ms, key, trace, predicted, outcome,
                                     latency_median_us, latency_min_us, gflops, message, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                run.0,
                seq,
                measured_at,
                c.key,
                c.trace,
                predicted,
                c.outcome.as_str(),
                median,
                min,
                gflops,
                c.message,
                c.source
            ],
        )
        .map_err(|e| self.sql("insert candidate", e))?;
        tx.commit().map_err(|e| self.sql("commit candidate", e))?;
        let row = CandidateRow {
            run,
            seq: seq as u64,
            measured_at_ms: measured_at,
            candidate: c.clone(),
        };
        Ok((row, true))
    }

    /// All candidates of `run` in measurement order.
    pub fn candidates(&self, run: RunId) -> Result<Vec<CandidateRow>> {
        self.require_run(&self.conn, run)?;
        self.query_candidates(
            &format!("SELECT {COLUMNS} FROM candidates WHERE run_id = ?1 ORDER BY seq"),
            params![run.0],
        )
    }

    /// Number of candidates stored for `run`.
    pub fn candidate_count(&self, run: RunId) -> Result<u64> {
        self.require_run(&self.conn, run)?;
        let n: i64 = self.scalar(
            &self.conn,
            "SELECT COUNT(*) FROM candidates WHERE run_id = ?1",
            [run.0],
            "count candidates",
        )?;
        Ok(n as u64)
    }

    /// The candidates of `run` by structural key: what a resumed run looks up instead of
    /// measuring again.
    pub fn measured_by_key(&self, run: RunId) -> Result<BTreeMap<String, CandidateRow>> {
        Ok(self
            .candidates(run)?
            .into_iter()
            .map(|row| (row.candidate.key.clone(), row))
            .collect())
    }

    /// The fastest `ok` candidate of `run` (lowest median latency; ties: earliest).
    pub fn best_in_run(&self, run: RunId) -> Result<Option<CandidateRow>> {
        self.require_run(&self.conn, run)?;
        let rows = self.query_candidates(
            &format!(
                "SELECT {COLUMNS} FROM candidates
                 WHERE run_id = ?1 AND outcome = 'ok' AND latency_median_us IS NOT NULL
                 ORDER BY latency_median_us, seq LIMIT 1"
            ),
            params![run.0],
        )?;
        Ok(rows.into_iter().next())
    }

    /// The fastest `ok` candidate over all runs matching `filter` (lowest median latency;
    /// ties: the earliest run, then the earliest measurement).
    pub fn best(&self, filter: &BestFilter) -> Result<Option<CandidateRow>> {
        let cols = COLUMNS
            .split(", ")
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self.query_candidates(
            &format!(
                "SELECT {cols} FROM candidates c JOIN runs r ON r.id = c.run_id
                 WHERE r.workload = ?1 AND r.space = ?2
                   AND (?3 IS NULL OR r.scale = ?3) AND (?4 IS NULL OR r.target = ?4)
                   AND c.outcome = ?5 AND c.latency_median_us IS NOT NULL
                 ORDER BY c.latency_median_us, c.run_id, c.seq LIMIT 1"
            ),
            params![
                filter.workload,
                filter.space,
                filter.scale,
                filter.target,
                OutcomeKind::Ok.as_str()
            ],
        )?;
        Ok(rows.into_iter().next())
    }

    /// The naive nest's latency (µs) recorded last for the runs matching `filter`: by a
    /// model run's task, or in a finished run's summary (`naive_gcc_us`). What a tuned
    /// kernel must beat to be worth using instead of the naive one.
    pub fn recorded_naive_us(&self, filter: &BestFilter) -> Result<Option<f64>> {
        self.conn
            .query_row(
                "SELECT us FROM (
                     SELECT t.naive_us AS us, r.id AS id FROM model_tasks t
                     JOIN runs r ON r.id = t.run_id
                     WHERE r.workload = ?1 AND r.space = ?2
                       AND (?3 IS NULL OR r.scale = ?3) AND (?4 IS NULL OR r.target = ?4)
                     UNION ALL
                     SELECT json_extract(r.summary, '$.naive_gcc_us'), r.id FROM runs r
                     WHERE r.workload = ?1 AND r.space = ?2 AND json_valid(r.summary)
                       AND (?3 IS NULL OR r.scale = ?3) AND (?4 IS NULL OR r.target = ?4))
                 WHERE typeof(us) IN ('real', 'integer') ORDER BY id DESC LIMIT 1",
                params![filter.workload, filter.space, filter.scale, filter.target],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql("read naive latency", e))
    }

    fn query_candidates(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<CandidateRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.sql("read candidates", e))?;

        stmt.query_map(params, candidate_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql("read candidates", e))
    }
}
