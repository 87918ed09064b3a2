//! Whole-model tuning (`colt model tune`): the `model_runs` table (which model file, its
//! shapes, budget, strategy and seed), `model_tasks` (the ordinary tuning run of each of its
//! kernels) and `model_rounds` (the scheduler's measurement rounds, in order).
//!
//! A model run and its task runs are created in one transaction, so a model run never
//! points at a missing run and a failed creation leaves nothing behind. Rounds are keyed by
//! their sequence number: a resumed model run replays its rounds and their inserts are
//! no-ops.

use rusqlite::{Row, params};

use crate::db::{Db, get_u64, now_ms};
use crate::error::{DbError, Result};
use crate::records::{
    ModelRound, ModelRunId, ModelRunRow, ModelTask, NewModelRun, NewRun, RunStatus,
};

const MODEL_RUN_COLUMNS: &str = "id, created_at_ms, model, model_hash, shapes, strategy, seed, \
                                 trials, config, versions, target, status, finished_at_ms, summary";

fn model_run_row(row: &Row<'_>) -> rusqlite::Result<ModelRunRow> {
    Ok(ModelRunRow {
        id: ModelRunId(row.get(0)?),
        created_at_ms: row.get(1)?,
        spec: NewModelRun {
            model: row.get(2)?,
            model_hash: row.get(3)?,
            shapes: row.get(4)?,
            strategy: row.get(5)?,
            seed: row.get::<_, i64>(6)? as u64,
            trials: get_u64(row, 7)?,
            config: row.get(8)?,
            versions: row.get(9)?,
            target: row.get(10)?,
        },
        status: row.get(11)?,
        finished_at_ms: row.get(12)?,
        summary: row.get(13)?,
    })
}

fn task_row(row: &Row<'_>) -> rusqlite::Result<ModelTask> {
    Ok(ModelTask {
        kernel: get_u64(row, 0)?,
        run: crate::records::RunId(row.get(1)?),
        label: row.get(2)?,
        count: get_u64(row, 3)?,
        naive_us: row.get(4)?,
    })
}

fn round_row(row: &Row<'_>) -> rusqlite::Result<ModelRound> {
    Ok(ModelRound {
        seq: get_u64(row, 0)?,
        kernel: get_u64(row, 1)?,
        trials: get_u64(row, 2)?,
        best_us: row.get(3)?,
        at_ms: row.get(4)?,
    })
}

/// A task of a model run to create: its tuning run and what it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewModelTask {
    /// The kernel's index in the model.
    pub kernel: u64,
    /// The tuning run of the kernel (a spec workload).
    pub run: NewRun,
    /// The operators it fuses.
    pub label: String,
    /// How many tasks of the model run the kernel.
    pub count: u64,
}

impl Db {
    /// Record a model run (status `running`) with one new tuning run per task, all in one
    /// transaction; returns its id and the tasks as stored.
    pub fn create_model_run(
        &self,
        spec: &NewModelRun,
        tasks: &[NewModelTask],
    ) -> Result<(ModelRunId, Vec<ModelTask>)> {
        self.json("model run shapes", &spec.shapes)?;
        let trials = self.int("trials", spec.trials)?;
        let tx = self.write_tx("create model run")?;
        tx.execute(
            "INSERT INTO model_runs (created_at_ms, model, model_hash, shapes, strategy, seed,
                                     trials, config, versions, target, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'running')",
            params![
                now_ms(),
                spec.model,
                spec.model_hash,
                spec.shapes,
                spec.strategy,
                spec.seed as i64, // bit-cast; read back with `as u64`
                trials,
                spec.config,
                spec.versions,
                spec.target,
            ],
        )
        .map_err(|e| self.sql("create model run", e))?;
        let id = ModelRunId(tx.last_insert_rowid());
        let mut stored = vec![];
        for t in tasks {
            let run = self.insert_run(&tx, &t.run)?;
            tx.execute(
                "INSERT INTO model_tasks (model_run, kernel, run_id, label, count)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.0,
                    self.int("kernel", t.kernel)?,
                    run.0,
                    t.label,
                    self.int("count", t.count)?
                ],
            )
            .map_err(|e| self.sql("create model run", e))?;
            stored.push(ModelTask {
                kernel: t.kernel,
                run,
                label: t.label.clone(),
                count: t.count,
                naive_us: None,
            });
        }
        tx.commit().map_err(|e| self.sql("create model run", e))?;
        Ok((id, stored))
    }

    /// The model run `id`, or `NoSuchModelRun`.
    pub fn model_run(&self, id: ModelRunId) -> Result<ModelRunRow> {
        self.row_by_id(
            &format!("SELECT {MODEL_RUN_COLUMNS} FROM model_runs WHERE id = ?1"),
            id.0,
            model_run_row,
            "read model run",
            || self.no_such_model_run(id),
        )
    }

    /// All model runs, oldest first.
    pub fn list_model_runs(&self) -> Result<Vec<ModelRunRow>> {
        let sql = format!("SELECT {MODEL_RUN_COLUMNS} FROM model_runs ORDER BY id");
        self.rows("list model runs", &sql, [], model_run_row)
    }

    /// Every row `sql` selects with `params`, read by `f`; `what` names the query in errors.
    fn rows<T>(
        &self,
        what: &str,
        sql: &str,
        params: impl rusqlite::Params,
        f: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.sql(what, e))?;
        stmt.query_map(params, f)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql(what, e))
    }

    /// The tasks of model run `id`, by kernel index.
    pub fn model_tasks(&self, id: ModelRunId) -> Result<Vec<ModelTask>> {
        self.model_run(id)?;
        let sql = "SELECT kernel, run_id, label, count, naive_us FROM model_tasks
                   WHERE model_run = ?1 ORDER BY kernel";
        self.rows("read model tasks", sql, [id.0], task_row)
    }

    /// Store the naive (untuned) latency of a task's kernel, measured by its tuning run.
    pub fn set_model_task_naive(&self, id: ModelRunId, kernel: u64, naive_us: f64) -> Result<()> {
        let us = self.finite("naive_us", naive_us)?;
        let n = self
            .conn
            .execute(
                "UPDATE model_tasks SET naive_us = ?3 WHERE model_run = ?1 AND kernel = ?2",
                params![id.0, self.int("kernel", kernel)?, us],
            )
            .map_err(|e| self.sql("set model task naive latency", e))?;
        if n == 0 {
            return Err(self.invalid("kernel", format!("model run {id} has no task {kernel}")));
        }
        Ok(())
    }

    /// Record a round of model run `id`, committed before this returns: `true` when it is
    /// new, `false` when round `seq` is already stored (a resumed run replaying it; the
    /// stored round stays as it was).
    pub fn insert_model_round(&self, id: ModelRunId, r: &ModelRound) -> Result<bool> {
        let best = self.finite_opt("round best_us", r.best_us)?;
        self.model_run(id)?;
        let n = self
            .conn
            .execute(
                "INSERT INTO model_rounds (model_run, seq, kernel, trials, best_us, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (model_run, seq) DO NOTHING",
                params![
                    id.0,
                    self.int("seq", r.seq)?,
                    self.int("kernel", r.kernel)?,
                    self.int("trials", r.trials)?,
                    best,
                    now_ms()
                ],
            )
            .map_err(|e| self.sql("insert model round", e))?;
        Ok(n == 1)
    }

    /// The rounds of model run `id`, in order.
    pub fn model_rounds(&self, id: ModelRunId) -> Result<Vec<ModelRound>> {
        self.model_run(id)?;
        let sql = "SELECT seq, kernel, trials, best_us, at_ms FROM model_rounds
                   WHERE model_run = ?1 ORDER BY seq";
        self.rows("read model rounds", sql, [id.0], round_row)
    }

    /// Set a model run's status (`Finished` stamps `finished_at_ms`, any other clears it).
    pub fn set_model_status(&self, id: ModelRunId, status: RunStatus) -> Result<()> {
        let finished_at = (status == RunStatus::Finished).then(now_ms);
        self.update_model_run(
            id,
            "UPDATE model_runs SET status = ?2, finished_at_ms = ?3 WHERE id = ?1",
            params![id.0, status, finished_at],
        )
    }

    /// Mark model run `id` finished now and store its summary JSON.
    pub fn finish_model_run(&self, id: ModelRunId, summary_json: &str) -> Result<()> {
        self.json("model run summary", summary_json)?;
        self.update_model_run(
            id,
            "UPDATE model_runs SET status = 'finished', finished_at_ms = ?2, summary = ?3
             WHERE id = ?1",
            params![id.0, now_ms(), summary_json],
        )
    }

    fn update_model_run(&self, id: ModelRunId, sql: &str, p: impl rusqlite::Params) -> Result<()> {
        self.update_by_id(sql, p, "update model run", || self.no_such_model_run(id))
    }

    /// The error for a model run id this database does not hold.
    fn no_such_model_run(&self, id: ModelRunId) -> DbError {
        DbError::NoSuchModelRun {
            path: self.path.clone(),
            run: id.0,
        }
    }
}
