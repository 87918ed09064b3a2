//! The `llm_calls` table: every LLM request of a run with its full accounting.
//!
//! The caller numbers calls (`seq`) in the order its deterministic search makes them, so
//! a resumed run can fetch call `seq` with `llm_call` and reuse the stored answer instead
//! of paying for it again; inserting an existing `(run, seq)` is a no-op returning the
//! stored row, like candidates. The raw answer text is kept verbatim for reports and
//! for replaying a run offline.

use rusqlite::{OptionalExtension, Row, params};

use crate::db::{Db, get_u64, now_ms};
use crate::error::Result;
use crate::records::{LlmCallRow, NewLlmCall, RunId};

const COLUMNS: &str = "run_id, called_at_ms, seq, model, role, ok, error_kind, latency_ms, \
                       input_tokens, cached_tokens, output_tokens, cost_usd, attempts, \
                       prefix_hash, answer, action, record";

fn llm_call_row(row: &Row<'_>) -> rusqlite::Result<LlmCallRow> {
    let attempts = get_u64(row, 12)?;
    Ok(LlmCallRow {
        run: RunId(row.get(0)?),
        called_at_ms: row.get(1)?,
        call: NewLlmCall {
            seq: get_u64(row, 2)?,
            model: row.get(3)?,
            role: row.get(4)?,
            ok: row.get(5)?,
            error_kind: row.get(6)?,
            latency_ms: row.get(7)?,
            input_tokens: get_u64(row, 8)?,
            cached_tokens: get_u64(row, 9)?,
            output_tokens: get_u64(row, 10)?,
            cost_usd: row.get(11)?,
            attempts: u32::try_from(attempts)
                .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(12, attempts as i64))?,
            prefix_hash: row.get(13)?,
            answer: row.get(14)?,
            action: row.get(15)?,
            record: row.get(16)?,
        },
    })
}

impl Db {
    /// Store an LLM call, committed before this returns. Returns the stored row and
    /// `true`, or the existing row and `false` when `(run, call.seq)` is already stored.
    pub fn insert_llm_call(&self, run: RunId, call: &NewLlmCall) -> Result<(LlmCallRow, bool)> {
        let seq = self.int("llm call seq", call.seq)?;
        let input = self.int("llm call input_tokens", call.input_tokens)?;
        let cached = self.int("llm call cached_tokens", call.cached_tokens)?;
        let output = self.int("llm call output_tokens", call.output_tokens)?;
        let latency = self.finite("llm call latency_ms", call.latency_ms)?;
        let cost = self.finite("llm call cost_usd", call.cost_usd)?;
        if let Some(action) = &call.action {
            self.json("llm call action", action)?;
        }
        if let Some(record) = &call.record {
            self.json("llm call record", record)?;
        }
        let tx = self.write_tx("insert llm call")?;
        self.require_run(&tx, run)?;
        if let Some(row) = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM llm_calls WHERE run_id = ?1 AND seq = ?2"),
                params![run.0, seq],
                llm_call_row,
            )
            .optional()
            .map_err(|e| self.sql("insert llm call", e))?
        {
            return Ok((row, false));
        }
        let called_at = now_ms();
        tx.execute(
            "INSERT INTO llm_calls (run_id, called_at_ms, seq, model, role, ok, error_kind,
                                    latency_ms, input_tokens, cached_tokens, output_tokens,
                                    cost_usd, attempts, prefix_hash, answer, action, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                run.0,
                called_at,
                seq,
                call.model,
                call.role,
                call.ok,
                call.error_kind,
                latency,
                input,
                cached,
                output,
                cost,
                call.attempts,
                call.prefix_hash,
                call.answer,
                call.action,
                call.record
            ],
        )
        .map_err(|e| self.sql("insert llm call", e))?;
        tx.commit().map_err(|e| self.sql("commit llm call", e))?;
        Ok((
            LlmCallRow {
                run,
                called_at_ms: called_at,
                call: call.clone(),
            },
            true,
        ))
    }

    /// All LLM calls of `run` in `seq` order.
    pub fn llm_calls(&self, run: RunId) -> Result<Vec<LlmCallRow>> {
        self.require_run(&self.conn, run)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM llm_calls WHERE run_id = ?1 ORDER BY seq"
            ))
            .map_err(|e| self.sql("read llm calls", e))?;

        stmt.query_map([run.0], llm_call_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql("read llm calls", e))
    }

    /// LLM call number `seq` of `run`, if stored (for replay on resume).
    pub fn llm_call(&self, run: RunId, seq: u64) -> Result<Option<LlmCallRow>> {
        self.require_run(&self.conn, run)?;
        let seq = self.int("llm call seq", seq)?;
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM llm_calls WHERE run_id = ?1 AND seq = ?2"),
                params![run.0, seq],
                llm_call_row,
            )
            .optional()
            .map_err(|e| self.sql("read llm call", e))
    }
}
