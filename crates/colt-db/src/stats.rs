//! Per-run aggregates for `colt runs` and reports.
//!
//! Computed in SQL (GROUP BY) so a report over a long run does not pull every answer text
//! into memory. Results are keyed in `BTreeMap`s: SQLite's default text ordering is byte
//! order, the same as Rust's `String` order, so reports list models and sources stably.

use std::collections::BTreeMap;

use rusqlite::Row;

use crate::db::{Db, get_u64};
use crate::error::Result;
use crate::records::{ModelStats, RunId, RunStats, SourceStats, get_outcome};

fn model_stats_row(row: &Row<'_>) -> rusqlite::Result<(String, ModelStats)> {
    Ok((
        row.get(0)?,
        ModelStats {
            calls: get_u64(row, 1)?,
            ok: get_u64(row, 2)?,
            errors: get_u64(row, 3)?,
            course_alterations: get_u64(row, 4)?,
            input_tokens: get_u64(row, 5)?,
            cached_tokens: get_u64(row, 6)?,
            output_tokens: get_u64(row, 7)?,
            cost_usd: row.get(8)?,
            latency_ms: row.get(9)?,
            attempts: get_u64(row, 10)?,
        },
    ))
}

impl Db {
    /// LLM calls, errors, tokens and cost of `run`, per model.
    pub fn model_stats(&self, run: RunId) -> Result<BTreeMap<String, ModelStats>> {
        self.require_run(&self.conn, run)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT model, COUNT(*), SUM(ok), SUM(1 - ok),
                        SUM(role = 'course_alteration'),
                        SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens),
                        TOTAL(cost_usd), TOTAL(latency_ms), SUM(attempts)
                 FROM llm_calls WHERE run_id = ?1 GROUP BY model ORDER BY model",
            )
            .map_err(|e| self.sql("model statistics", e))?;

        stmt.query_map([run.0], model_stats_row)
            .and_then(|it| it.collect::<rusqlite::Result<BTreeMap<_, _>>>())
            .map_err(|e| self.sql("model statistics", e))
    }

    /// Candidates proposed, ok, and best latency of `run`, per source.
    pub fn source_stats(&self, run: RunId) -> Result<BTreeMap<String, SourceStats>> {
        self.require_run(&self.conn, run)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT source, COUNT(*), SUM(outcome = 'ok'),
                        MIN(CASE WHEN outcome = 'ok' THEN latency_median_us END)
                 FROM candidates WHERE run_id = ?1 GROUP BY source ORDER BY source",
            )
            .map_err(|e| self.sql("source statistics", e))?;

        stmt.query_map([run.0], |row| {
            Ok((
                row.get::<_, String>(0)?,
                SourceStats {
                    proposed: get_u64(row, 1)?,
                    ok: get_u64(row, 2)?,
                    best_latency_us: row.get(3)?,
                },
            ))
        })
        .and_then(|it| it.collect::<rusqlite::Result<BTreeMap<_, _>>>())
        .map_err(|e| self.sql("source statistics", e))
    }

    /// Totals of `run`: candidates by outcome, best latency, LLM calls, tokens, cost, nodes.
    pub fn run_stats(&self, run: RunId) -> Result<RunStats> {
        self.require_run(&self.conn, run)?;
        let mut stats = RunStats::default();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT outcome, COUNT(*) FROM candidates WHERE run_id = ?1
                     GROUP BY outcome ORDER BY outcome",
                )
                .map_err(|e| self.sql("run statistics", e))?;
            let counts = stmt
                .query_map([run.0], |row| Ok((get_outcome(row, 0)?, get_u64(row, 1)?)))
                .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.sql("run statistics", e))?;
            for (outcome, n) in counts {
                stats.candidates += n;
                *stats.by_outcome.entry(outcome).or_default() += n;
            }
        }
        stats.best_latency_us = self.scalar(
            &self.conn,
            "SELECT MIN(latency_median_us) FROM candidates WHERE run_id = ?1 AND outcome = 'ok'",
            [run.0],
            "run statistics",
        )?;
        for m in self.model_stats(run)?.values() {
            stats.llm_calls += m.calls;
            stats.llm_errors += m.errors;
            stats.input_tokens += m.input_tokens;
            stats.cached_tokens += m.cached_tokens;
            stats.output_tokens += m.output_tokens;
            stats.cost_usd += m.cost_usd;
        }
        stats.nodes = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM nodes WHERE run_id = ?1",
                [run.0],
                |r| get_u64(r, 0),
            )
            .map_err(|e| self.sql("run statistics", e))?;
        Ok(stats)
    }
}
