//! Partition: one reduction stage becomes two over disjoint parts of a spatial loop.
//!
//! Splits are perfect (the factors multiply to the extent), so a tile whose size divides no
//! extent of the loop cannot be expressed by tiling alone: 6 rows of an AVX2 register tile
//! (12 accumulators) on a 1024-row loop. `partition(stage, loop, at)` keeps `[0, at)` of the
//! loop in the stage and moves `[at, extent)` to a new stage, the *tail*, that writes the
//! same output with its iteration value offset by `at`. Both are then scheduled on their own
//! (the tail usually alike with a smaller tile), and lowering stays a pure function of the
//! schedule: two nests, each over its own part of the output box.

use crate::error::Result;
use crate::state::{Attach, Schedule, bad, illegal, initial};
use colt_ir::{Idx, IterKind, VarId};

impl Schedule {
    /// Partition reduction stage `s` at `at` along its spatial loop `name`.
    pub(crate) fn partition(&mut self, cx: &str, s: usize, name: &str, at: i64) -> Result<()> {
        let st = self.program.stages[s].clone();
        if st.reduce.is_none() {
            return Err(illegal(
                cx,
                "only reduction stages are partitioned (an elementwise stage may be inlined)",
            ));
        }
        if self.stages[s].attach != Attach::Root
            || self.stages[s].transformed
            || self.stages[s].tail.is_some()
        {
            return Err(illegal(
                cx,
                "partition must come first among the stage's transformations, once",
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
                Idx::Var(fresh[k]) + Idx::Const(at)
            } else {
                Idx::Var(fresh[k])
            })
        };
        for (t, v) in tail.iters.iter_mut().zip(&fresh) {
            t.var = *v;
        }
        tail.iters[p].extent = iv.extent - at;
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
        self.stages[s].tail = Some(t);
        let pos = self
            .order
            .iter()
            .position(|&x| x == s)
            .expect("a root stage is ordered");
        self.order.insert(pos + 1, t);
        Ok(())
    }
}
