//! Lowering: schedule state -> `colt_ir::Func`, a pure function of the schedule.
//!
//! Per stage, loops are emitted outermost first. Inside loop `k` come, in order: the stages
//! computed at that loop (each over the region its consumer needs, in a local buffer), the
//! reduction's initialisation (just outside the first reduction loop, or into the write cache),
//! the next loop, and the write-back of a write cache. The result is verified before it is
//! returned, so a lowering bug is an error, never a wrong kernel.

use crate::error::{ErrorKind, Result, ScheduleError};
use crate::region::{region_exact, sub};
use crate::state::{Attach, Schedule, subst_iters};
use colt_ir::{
    Access, Block, BufId, BufKind, Buffer, Func, Idx, Interval, Loop, LoopKind, Stmt, StoreOp,
    Value, VarId, verify,
};

/// What every level of one stage's loop nest is lowered with.
#[derive(Clone, Copy)]
struct NestPlan<'k> {
    /// The stage.
    s: usize,
    /// Each loop's kind, auto-unroll applied.
    kinds: &'k [LoopKind],
    /// The loop depth of the write cache, if any.
    cache_depth: Option<usize>,
    /// The loop depth where a reduction's output is initialised, if it reduces.
    init_depth: Option<usize>,
}

/// A buffer redirected to a local copy: `global[idx]` becomes `local[idx - min]`.
#[derive(Clone)]
struct Redirect {
    global: BufId,
    local: BufId,
    min: Vec<Idx>,
}

struct Lower<'a> {
    s: &'a Schedule,
    vars: Vec<String>,
    buffers: Vec<Buffer>,
    ranges: Vec<Option<Interval>>,
}

impl Schedule {
    /// Lower to a verified loop nest.
    pub fn lower(&self) -> Result<Func> {
        let shared;
        let sched = if self.stages.iter().any(|sc| sc.with.is_some()) {
            for &st in &self.order {
                if self.leads(st) {
                    self.check_group(st)?;
                }
            }
            shared = self.with_shared_loops();
            &shared
        } else {
            self
        };
        let mut lw = Lower {
            s: sched,
            vars: sched.program.vars.clone(),
            buffers: sched.program.buffers.clone(),
            ranges: sched.ranges(),
        };
        let mut body = vec![];
        for &st in &sched.order {
            if sched.stages[st].with.is_some() {
                continue; // emitted inside its group's loop
            }
            if sched.leads(st) {
                body.push(lw.group(st)?);
            } else {
                body.extend(lw.stage(st, &[])?);
            }
        }
        let f = Func {
            name: self.program.name.clone(),
            vars: lw.vars,
            buffers: lw.buffers,
            body,
        };
        verify(&f).map_err(|e| ScheduleError::new(ErrorKind::Invalid, "lower", e.to_string()))?;
        Ok(f)
    }
}

impl Lower<'_> {
    fn fresh_var(&mut self, name: String, extent: i64) -> VarId {
        self.vars.push(name);
        self.ranges.push(Some(Interval {
            lo: 0,
            hi: extent - 1,
        }));
        VarId(self.vars.len() as u32 - 1)
    }

    fn local(&mut self, name: String, shape: Vec<i64>) -> BufId {
        self.buffers.push(Buffer {
            name,
            shape,
            kind: BufKind::Local,
        });
        BufId(self.buffers.len() as u32 - 1)
    }

    fn simplify(&self, e: &Idx) -> Idx {
        e.simplify(&|v| self.ranges[v.0 as usize])
    }

    /// Rewrite an access of stage `st` through the redirects (innermost redirect wins).
    fn access(&self, st: usize, a: &Access, redirects: &[Redirect]) -> Access {
        match redirects.iter().rev().find(|r| r.global == a.buf) {
            None => a.clone(),
            Some(r) => {
                let stage = &self.s.program.stages[st];
                let val = &self.s.stages[st].iter_val;
                let idx = a
                    .idx
                    .iter()
                    .zip(&r.min)
                    .map(|(e, m)| {
                        sub(&subst_iters(e, stage, val), m, &|v| {
                            self.ranges[v.0 as usize]
                        })
                    })
                    .collect();
                Access { buf: r.local, idx }
            }
        }
    }

    /// The shared loop of the group led by `leader`, its members' nests inside it (from their
    /// second loop) and the temporaries only the group reads local to each iteration.
    fn group(&mut self, leader: usize) -> Result<Stmt> {
        let sched = self.s;
        let mut redirects = vec![];
        let mut allocs = vec![];
        for gl in sched.group_locals(leader)? {
            let name = format!("{}_g", sched.program.buffer(gl.global).name);
            let local = self.local(name, gl.shape);
            allocs.push(local);
            redirects.push(Redirect {
                global: gl.global,
                local,
                min: gl.min,
            });
        }
        let mut body = vec![];
        for m in sched.group(leader) {
            body.extend(self.stage_from(m, 1, &redirects)?);
        }
        for local in allocs.into_iter().rev() {
            body = vec![Stmt::Alloc { buf: local, body }];
        }
        let l0 = &sched.stages[leader].loops[0];
        Ok(Stmt::Loop(Loop {
            var: l0.var,
            extent: l0.extent,
            kind: l0.kind,
            body,
        }))
    }

    fn stage(&mut self, s: usize, redirects: &[Redirect]) -> Result<Vec<Stmt>> {
        self.stage_from(s, 0, redirects)
    }

    /// Stage `s`'s nest from loop `start` inward (the loops before it are emitted around it).
    fn stage_from(&mut self, s: usize, start: usize, redirects: &[Redirect]) -> Result<Vec<Stmt>> {
        let sc = &self.s.stages[s];
        let st = &self.s.program.stages[s];
        let n = sc.loops.len();
        let first_red = self.s.first_reduce_loop(s);
        let cache_depth = sc.cache_write.map(|v| {
            sc.loops
                .iter()
                .position(|l| l.var == v)
                .expect("cache loop")
                + 1
        });
        if let Some(d) = cache_depth
            && d > first_red
        {
            return Err(ScheduleError::new(
                ErrorKind::Illegal,
                format!("cache_write({})", st.name),
                "a reduction loop was moved outside the cache loop",
            ));
        }
        let init_depth = st.reduce.map(|_| cache_depth.unwrap_or(first_red));
        // auto-unroll: innermost serial loops whose extents multiply to at most max_step
        let mut kinds: Vec<LoopKind> = sc.loops.iter().map(|l| l.kind).collect();
        let mut prod = 1;
        for k in (0..n).rev() {
            if kinds[k] == LoopKind::Vectorized {
                continue;
            }
            if kinds[k] != LoopKind::Serial || prod * sc.loops[k].extent > sc.auto_unroll {
                break;
            }
            prod *= sc.loops[k].extent;
            kinds[k] = LoopKind::Unrolled;
        }
        let plan = NestPlan {
            s,
            kinds: &kinds,
            cache_depth,
            init_depth,
        };
        self.depth(plan, start, redirects)
    }

    fn depth(&mut self, plan: NestPlan, depth: usize, redirects: &[Redirect]) -> Result<Vec<Stmt>> {
        let NestPlan {
            s,
            cache_depth,
            init_depth,
            ..
        } = plan;
        let mut redirects = redirects.to_vec();
        let mut allocs = vec![];
        let mut out = if depth > 0 {
            self.attached_stages(s, depth, &mut redirects, &mut allocs)?
        } else {
            vec![]
        };
        let main = self.nest_from(plan, depth, &redirects)?;
        if cache_depth == Some(depth) {
            // the nest is built again, storing into the cache (the one above is dropped)
            out.push(self.cached_nest(plan, depth, &redirects)?);
        } else {
            if init_depth == Some(depth) {
                out.push(self.init_nest(s, depth, &redirects)?);
            }
            out.extend(main);
        }
        for local in allocs.into_iter().rev() {
            out = vec![Stmt::Alloc {
                buf: local,
                body: out,
            }];
        }
        // simplify the index expressions we built by hand
        Ok(out.into_iter().map(|st| self.simplify_stmt(st)).collect())
    }

    /// The stages computed at loop `depth - 1` of stage `s`, each over the region `s` needs in
    /// a local buffer (pushed to `allocs`) that `redirects` now points their output to.
    fn attached_stages(
        &mut self,
        s: usize,
        depth: usize,
        redirects: &mut Vec<Redirect>,
        allocs: &mut Vec<BufId>,
    ) -> Result<Vec<Stmt>> {
        let sched = self.s;
        let st = &sched.program.stages[s];
        let var = sched.stages[s].loops[depth - 1].var;
        let mut pre = vec![];
        for (p, ps) in sched.stages.iter().enumerate() {
            let Attach::At {
                consumer,
                var: v,
                region: ext,
            } = &ps.attach
            else {
                continue;
            };
            if *consumer != s || *v != var {
                continue;
            }
            let reg = sched.attach_region(p, s, depth - 1);
            let now: Vec<i64> = reg.iter().map(|r| r.1).collect();
            let pname = &sched.program.stages[p].name;
            if &now != ext {
                return Err(ScheduleError::new(
                    ErrorKind::Illegal,
                    format!("compute_at({pname}, {})", st.name),
                    format!(
                        "the region needed changed from {ext:?} to {now:?} (loops moved across the attach point)"
                    ),
                ));
            }
            let global = sched.program.stages[p].store.buf;
            let local = self.local(format!("{}_l", sched.program.buffer(global).name), now);
            allocs.push(local);
            redirects.push(Redirect {
                global,
                local,
                min: reg.into_iter().map(|r| r.0).collect(),
            });
            pre.extend(self.stage(p, redirects)?);
        }
        Ok(pre)
    }

    /// Loop `depth` of stage `s` and everything inside it; the stage's block when all its
    /// loops are open.
    fn nest_from(
        &mut self,
        plan: NestPlan,
        depth: usize,
        redirects: &[Redirect],
    ) -> Result<Vec<Stmt>> {
        let sched = self.s;
        let sc = &sched.stages[plan.s];
        Ok(if depth == sc.loops.len() {
            vec![Stmt::Block(self.block(
                plan.s,
                redirects,
                plan.cache_depth.is_some(),
            ))]
        } else {
            let l = &sc.loops[depth];
            let body = self.depth(plan, depth + 1, redirects)?;
            vec![Stmt::Loop(Loop {
                var: l.var,
                extent: l.extent,
                kind: plan.kinds[depth],
                body,
            })]
        })
    }

    /// The write cache of stage `s` at `depth`: a local buffer over the region the loops
    /// from `depth` write, initialised (reductions), filled by the nest and written back.
    fn cached_nest(
        &mut self,
        plan: NestPlan,
        depth: usize,
        redirects: &[Redirect],
    ) -> Result<Stmt> {
        let s = plan.s;
        let sched = self.s;
        let st = &sched.program.stages[s];
        let (min, ext) = self.own_region(s, depth, "cache_write")?;
        let name = sched.program.buffer(st.store.buf).name.clone();
        let local = self.local(format!("{name}_c"), ext.clone());
        let cache = Redirect {
            global: st.store.buf,
            local,
            min: min.clone(),
        };
        let mut inner = vec![];
        if let Some(r) = st.reduce {
            inner.push(self.region_nest(&format!("{}_init", st.name), &ext, |_| {
                (
                    Access {
                        buf: local,
                        idx: vec![],
                    },
                    Value::Const(r.identity()),
                )
            }));
        }
        // the main nest stores into the cache: pass it as the innermost redirect for stores
        let mut with_cache = redirects.to_vec();
        with_cache.push(cache);
        let main = self.nest_from(plan, depth, &with_cache)?;
        inner.extend(main);
        let wb_target = self.redirect_global(st.store.buf, redirects);
        let ranges = self.ranges.clone();
        inner.push(self.region_nest(&format!("{}_write", st.name), &ext, |lv| {
            let gidx = offset_by(&min, lv);
            (
                Access {
                    buf: wb_target.0,
                    idx: Self::minus(&ranges, &gidx, &wb_target.1),
                },
                Value::Load(Access {
                    buf: local,
                    idx: lv.to_vec(),
                }),
            )
        }));
        Ok(Stmt::Alloc {
            buf: local,
            body: inner,
        })
    }

    /// The initialisation of reduction stage `s`'s output over the region the loops from
    /// `depth` write (through the redirects).
    fn init_nest(&mut self, s: usize, depth: usize, redirects: &[Redirect]) -> Result<Stmt> {
        let sched = self.s;
        let st = &sched.program.stages[s];
        let (min, ext) = self.own_region(s, depth, "init")?;
        let r = st.reduce.expect("init only for reductions");
        let target = self.redirect_global(st.store.buf, redirects);
        let ranges = self.ranges.clone();
        Ok(self.region_nest(&format!("{}_init", st.name), &ext, |lv| {
            let gidx = offset_by(&min, lv);
            (
                Access {
                    buf: target.0,
                    idx: Self::minus(&ranges, &gidx, &target.1),
                },
                Value::Const(r.identity()),
            )
        }))
    }

    /// `idx - min` per dimension (`ranges` only help simplification).
    fn minus(ranges: &[Option<Interval>], idx: &[Idx], min: &Option<Vec<Idx>>) -> Vec<Idx> {
        match min {
            None => idx.to_vec(),
            Some(m) => idx
                .iter()
                .zip(m)
                .map(|(e, m)| sub(e, m, &|v| ranges.get(v.0 as usize).copied().flatten()))
                .collect(),
        }
    }

    /// Where writes to `global` go at this point: the buffer and the offset to subtract.
    fn redirect_global(&self, global: BufId, redirects: &[Redirect]) -> (BufId, Option<Vec<Idx>>) {
        match redirects.iter().rev().find(|r| r.global == global) {
            None => (global, None),
            Some(r) => (r.local, Some(r.min.clone())),
        }
    }

    /// The box of stage `s`'s own output written by the loops at `depth..`.
    /// Errors when the written elements do not form an exact box (an initialisation or
    /// write-back over a larger box would clobber elements other iterations own).
    fn own_region(&self, s: usize, depth: usize, what: &str) -> Result<(Vec<Idx>, Vec<i64>)> {
        let sc = &self.s.stages[s];
        let st = &self.s.program.stages[s];
        let idx = self.s.store_in_loop_vars(s);
        let inner: Vec<(VarId, i64)> = sc.loops[depth..]
            .iter()
            .map(|l| (l.var, l.extent))
            .collect();
        let ranges = &self.ranges;
        let reg = region_exact(
            &idx,
            &inner,
            &self.s.program.buffer(st.store.buf).shape,
            &|v| ranges[v.0 as usize],
        );
        let mut mins = vec![];
        let mut exts = vec![];
        for (d, r) in reg.into_iter().enumerate() {
            let Some((m, e)) = r else {
                let at = if depth == 0 {
                    "the stage".to_string()
                } else {
                    format!("loop {}", self.s.var_name(sc.loops[depth - 1].var))
                };
                return Err(ScheduleError::new(
                    ErrorKind::Illegal,
                    format!("{what}({})", st.name),
                    format!(
                        "the elements written inside {at} do not form a box in dimension {d} (reorder tiles outermost first)"
                    ),
                ));
            };
            mins.push(m);
            exts.push(e);
        }
        Ok((mins, exts))
    }

    /// A loop nest over a box; `f` gets the loop variables and returns the store and value.
    fn region_nest(
        &mut self,
        name: &str,
        ext: &[i64],
        f: impl FnOnce(&[Idx]) -> (Access, Value),
    ) -> Stmt {
        let vars: Vec<VarId> = ext
            .iter()
            .enumerate()
            .map(|(d, &e)| self.fresh_var(format!("{name}{d}"), e))
            .collect();
        let lv: Vec<Idx> = vars.iter().map(|v| Idx::Var(*v)).collect();
        let (mut store, value) = f(&lv);
        if store.idx.is_empty() {
            store.idx = lv.clone();
        }
        let mut stmt = Stmt::Block(Block {
            name: name.to_string(),
            bind: vec![],
            store,
            op: StoreOp::Assign,
            value,
        });
        for (d, (&v, &e)) in vars.iter().zip(ext).enumerate().rev() {
            let kind = if d + 1 == ext.len() && e > 1 {
                LoopKind::Vectorized
            } else {
                LoopKind::Serial
            };
            stmt = Stmt::Loop(Loop {
                var: v,
                extent: e,
                kind,
                body: vec![stmt],
            });
        }
        stmt
    }

    fn block(&self, s: usize, redirects: &[Redirect], cached: bool) -> Block {
        let sc = &self.s.stages[s];
        let st = &self.s.program.stages[s];
        let bind = st
            .iters
            .iter()
            .zip(&sc.iter_val)
            .filter(|(iv, e)| **e != Idx::Var(iv.var))
            .map(|(iv, e)| (iv.var, self.simplify(e)))
            .collect();
        let _ = cached;
        let store = self.access(s, &st.store, redirects);
        let value = st.value.map(
            &mut |a| {
                let r = self.access(s, a, redirects);
                (r.buf != a.buf).then_some(Value::Load(r))
            },
            &|e| e.clone(),
        );
        Block {
            name: st.name.clone(),
            bind,
            store,
            op: st.reduce.map_or(StoreOp::Assign, StoreOp::Reduce),
            value,
        }
    }

    fn simplify_stmt(&self, st: Stmt) -> Stmt {
        match st {
            Stmt::Loop(mut l) => {
                l.body = l.body.into_iter().map(|s| self.simplify_stmt(s)).collect();
                Stmt::Loop(l)
            }
            Stmt::Alloc { buf, body } => Stmt::Alloc {
                buf,
                body: body.into_iter().map(|s| self.simplify_stmt(s)).collect(),
            },
            Stmt::Block(mut b) => {
                if b.bind.is_empty() {
                    b.store.idx = b.store.idx.iter().map(|e| self.simplify(e)).collect();
                    b.value = b.value.map_idx(&|e| self.simplify(e));
                }
                Stmt::Block(b)
            }
        }
    }
}

/// `min + lv` per dimension: a region's local index as a global one.
fn offset_by(min: &[Idx], lv: &[Idx]) -> Vec<Idx> {
    min.iter()
        .zip(lv)
        .map(|(m, v)| m.clone() + v.clone())
        .collect()
}
