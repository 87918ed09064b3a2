//! Partition: one reduction stage becomes two over parts of a spatial loop.
//!
//! Splits are perfect (the factors multiply to the extent), so a tile whose size divides no
//! extent of the loop cannot be expressed by tiling alone: 6 rows of an AVX2 register tile
//! (12 accumulators) on a 1024-row loop. `partition(stage, loop, at)` keeps `[0, at)` of the
//! loop in the stage and moves `[at, extent)` to a new stage, the *tail*, that writes the
//! same output with its iteration value offset by `at`. Both are then scheduled on their own
//! (the tail usually alike with a smaller tile), and lowering stays a pure function of the
//! schedule: two nests, each over its own part of the output box.
//!
//! A tail may also start before `at` (`from`): it then computes `[from, extent)`, the
//! overlap `[from, at)` a second time. Each nest initialises and reduces its own box from
//! the inputs alone, and the tail runs after the stage, so the overlap ends with the same
//! values; what it buys is a whole-vector tail where the lanes left over are a fraction of a
//! vector (a 14-wide row on 8 lanes: `[0, 8)` and `[6, 14)`, 16 lanes of work for 14 instead
//! of a 6-lane remainder loop).

use crate::error::Result;
use crate::state::{Attach, Schedule, bad, illegal, initial};
use colt_ir::{Idx, IterKind, LoopKind, VarId};

impl Schedule {
    /// Partition reduction stage `s` at `at` along its spatial loop `name`, its tail starting
    /// at `from` (default `at`).
    pub(crate) fn partition(
        &mut self,
        cx: &str,
        s: usize,
        name: &str,
        at: i64,
        from: Option<i64>,
    ) -> Result<()> {
        let st = self.program.stages[s].clone();
        if st.reduce.is_none() {
            return Err(illegal(
                cx,
                "only reduction stages are partitioned (an elementwise stage may be inlined)",
            ));
        }
        if self.stages[s].attach != Attach::Root || !self.loops_as_created(s) {
            return Err(illegal(
                cx,
                "partition must come first among the stage's transformations (after other partitions)",
            ));
        }
        if self.hosts(s) {
            return Err(illegal(cx, "another stage is computed inside this one"));
        }
        let p = self.find_loop(cx, s, name)?;
        let iv = st.iters[p].clone();
        if iv.kind != IterKind::Spatial {
            return Err(illegal(
                cx,
                format!("loop {name} reduces; only spatial loops are partitioned"),
            ));
        }
        if at <= 0 || at >= iv.extent {
            return Err(bad(
                cx,
                format!("at must be in 1..{} (the extent of loop {name})", iv.extent),
            ));
        }
        let from = from.unwrap_or(at);
        if !(0..=at).contains(&from) {
            return Err(bad(
                cx,
                format!("the tail must start in 0..={at} (at), not {from}"),
            ));
        }
        let mut reads = vec![];
        st.value.loads(&mut reads);
        if from < at && reads.iter().any(|a| a.buf == st.store.buf) {
            return Err(illegal(
                cx,
                "the stage reads its own output: an overlapping tail would read what it rewrites",
            ));
        }
        let mut tail = st.clone();
        tail.name = self.fresh_stage_name(format!("{}_t", st.name), 't');
        let fresh: Vec<VarId> = st
            .iters
            .iter()
            .map(|i| {
                self.program
                    .new_var(self.program.var_name(i.var).to_string())
            })
            .collect();
        let value_of = |v: VarId| -> Option<Idx> {
            let k = st.iters.iter().position(|i| i.var == v)?;
            Some(if k == p {
                Idx::Var(fresh[k]) + Idx::Const(from)
            } else {
                Idx::Var(fresh[k])
            })
        };
        for (t, v) in tail.iters.iter_mut().zip(&fresh) {
            t.var = *v;
        }
        tail.iters[p].extent = iv.extent - from;
        tail.store.idx = st.store.idx.iter().map(|e| e.subst(&value_of)).collect();
        tail.value = st.value.map_idx(&|e| e.subst(&value_of));
        self.program.stages[s].iters[p].extent = at;
        let sc = &mut self.stages[s];
        sc.loops[p].extent = at;
        sc.transformed = true;
        // the tail runs right after the stage
        self.stages.push(initial(&tail));
        self.program.stages.push(tail);
        let t = self.program.stages.len() - 1;
        self.stages[s].tails.push(t);
        let pos = self
            .order
            .iter()
            .position(|&x| x == s)
            .expect("a root stage is ordered");
        self.order.insert(pos + 1, t);
        Ok(())
    }

    /// Whether stage `s` still has the loops it was created with, one per iteration variable in
    /// order, serial, uncached and not unrolled (a partition only shortens them): what a
    /// partition needs.
    fn loops_as_created(&self, s: usize) -> bool {
        let (st, sc) = (&self.program.stages[s], &self.stages[s]);
        sc.cache_write.is_none()
            && sc.auto_unroll == 0
            && sc.loops.len() == st.iters.len()
            && sc
                .loops
                .iter()
                .zip(&st.iters)
                .zip(&sc.iter_val)
                .all(|((l, iv), val)| {
                    l.var == iv.var && l.kind == LoopKind::Serial && *val == Idx::Var(l.var)
                })
    }
}
