//! The `nodes` table: the search tree of a run, one row per node.
//!
//! Nodes change as the search backpropagates (visits, value, measured latency), so they
//! are upserted by `(run, node_id)` rather than appended. `upsert_nodes` writes a whole
//! backpropagation path in one transaction: one commit per path keeps per-iteration
//! database time small, and the path is never half-updated on disk.

use rusqlite::{Row, params};

use crate::db::{Db, get_opt_u64, get_u64, now_ms};
use crate::error::Result;
use crate::records::{Node, RunId};

fn node_row(row: &Row<'_>) -> rusqlite::Result<Node> {
    let depth = get_u64(row, 2)?;
    Ok(Node {
        node_id: get_u64(row, 0)?,
        parent: get_opt_u64(row, 1)?,
        depth: u32::try_from(depth)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(2, depth as i64))?,
        model: row.get(3)?,
        state: row.get(4)?,
        visits: get_u64(row, 5)?,
        value: row.get(6)?,
        predicted: row.get(7)?,
        measured: row.get(8)?,
        terminal: row.get(9)?,
    })
}

impl Db {
    /// Insert or replace one node of `run`, committed before this returns.
    pub fn upsert_node(&self, run: RunId, node: &Node) -> Result<()> {
        self.upsert_nodes(run, std::slice::from_ref(node))
    }

    /// Insert or replace several nodes of `run` in one transaction (all or none).
    pub fn upsert_nodes(&self, run: RunId, nodes: &[Node]) -> Result<()> {
        let mut checked = Vec::with_capacity(nodes.len());
        for n in nodes {
            self.json("node state", &n.state)?;
            checked.push((
                self.int("node id", n.node_id)?,
                n.parent.map(|p| self.int("node parent", p)).transpose()?,
                self.int("node visits", n.visits)?,
                self.finite("node value", n.value)?,
                self.finite_opt("node predicted", n.predicted)?,
                self.finite_opt("node measured", n.measured)?,
            ));
        }
        let tx = self.write_tx("upsert nodes")?;
        self.require_run(&tx, run)?;
        let now = now_ms();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO nodes (run_id, node_id, parent_id, depth, model, state, visits,
                                        value, predicted, measured, terminal, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (run_id, node_id) DO UPDATE SET
                         parent_id = excluded.parent_id, depth = excluded.depth,
                         model = excluded.model, state = excluded.state,
                         visits = excluded.visits, value = excluded.value,
                         predicted = excluded.predicted, measured = excluded.measured,
                         terminal = excluded.terminal, updated_at_ms = excluded.updated_at_ms",
                )
                .map_err(|e| self.sql("upsert nodes", e))?;
            for (n, (id, parent, visits, value, predicted, measured)) in nodes.iter().zip(checked) {
                stmt.execute(params![
                    run.0, id, parent, n.depth, n.model, n.state, visits, value, predicted,
                    measured, n.terminal, now
                ])
                .map_err(|e| self.sql("upsert nodes", e))?;
            }
        }
        tx.commit().map_err(|e| self.sql("commit nodes", e))
    }

    /// All nodes of `run` ordered by node id.
    pub fn nodes(&self, run: RunId) -> Result<Vec<Node>> {
        self.require_run(&self.conn, run)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT node_id, parent_id, depth, model, state, visits, value, predicted,
                        measured, terminal
                 FROM nodes WHERE run_id = ?1 ORDER BY node_id",
            )
            .map_err(|e| self.sql("read nodes", e))?;

        stmt.query_map([run.0], node_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sql("read nodes", e))
    }
}
