//! The schedule state of a program and the primitives that transform it.
//!
//! A [`Schedule`] keeps, per stage, the list of loops (outermost first) and the value of every
//! iteration variable in terms of loop variables. Primitives rewrite that state; [`crate::lower`]
//! turns it into a `colt_ir::Func`. Every primitive checks its own legality and returns a typed
//! [`ScheduleError`] instead of producing a wrong program.

use crate::error::{ErrorKind, Result, ScheduleError};

/// Most loops one `split` makes: real tilings use 2-4 levels; the bound keeps a hostile
/// trace (a split with 100,001 factors) from building a nest deep enough to overflow the
/// stack of the recursive passes that walk it.
pub const MAX_SPLIT_FACTORS: usize = 8;
/// Most loops around one stage after any number of splits.
pub const MAX_STAGE_LOOPS: usize = 64;
use crate::region::region;
use crate::trace::{Inst, LoopFactors, StageLoop, Trace};
use colt_ir::{
    Access, Bound, BufId, BufKind, Buffer, Idx, Interval, IterKind, IterVar, LoopKind, Program,
    Stage, Value, VarId,
};

/// One loop of a stage's nest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SLoop {
    /// The loop variable.
    pub var: VarId,
    /// Number of iterations.
    pub extent: i64,
    /// How the loop executes.
    pub kind: LoopKind,
}

/// Where a stage is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attach {
    /// Its own nest at the top level.
    Root,
    /// Substituted into its consumers.
    Inline,
    /// Computed inside loop `var` of stage `consumer`, over a region with these extents.
    At {
        /// Index of the consumer stage.
        consumer: usize,
        /// The consumer's loop.
        var: VarId,
        /// Extent of the computed region in each dimension of the stage's output.
        region: Vec<i64>,
    },
}

/// The schedule state of one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSched {
    /// Loops, outermost first.
    pub loops: Vec<SLoop>,
    /// Value of each iteration variable of the stage (same order as `Stage::iters`).
    pub iter_val: Vec<Idx>,
    /// Where the stage is computed.
    pub attach: Attach,
    /// Accumulate the tile covered by the loops inside this loop in a local buffer.
    pub cache_write: Option<VarId>,
    /// Auto-unroll step (0: none).
    pub auto_unroll: i64,
    /// Loops changed since creation (compute_at needs untouched loops).
    pub transformed: bool,
    /// The stages computing the rest of each partitioned loop, in partition order (see
    /// [`crate::partition`]).
    pub tails: Vec<usize>,
    /// The stage whose outermost loop this stage shares (see [`crate::group`]).
    pub with: Option<usize>,
}

/// A program with its schedule state.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The program scheduled.
    pub program: Program,
    /// Per-stage state, in program order.
    pub stages: Vec<StageSched>,
    /// Root-level emission order of stages.
    pub order: Vec<usize>,
}

pub(crate) fn initial(st: &Stage) -> StageSched {
    StageSched {
        loops: st
            .iters
            .iter()
            .map(|i| SLoop {
                var: i.var,
                extent: i.extent,
                kind: LoopKind::Serial,
            })
            .collect(),
        iter_val: st.iters.iter().map(|i| Idx::Var(i.var)).collect(),
        attach: Attach::Root,
        cache_write: None,
        auto_unroll: 0,
        transformed: false,
        tails: vec![],
        with: None,
    }
}

impl Schedule {
    /// The unscheduled state: one serial loop per iteration variable, every stage at root.
    pub fn new(program: Program) -> Schedule {
        let stages = program.stages.iter().map(initial).collect();
        let order = (0..program.stages.len()).collect();
        Schedule {
            program,
            stages,
            order,
        }
    }

    /// Replay `trace` on `program`.
    pub fn replay(program: &Program, trace: &Trace) -> Result<Schedule> {
        if trace.workload != program.name {
            return Err(ScheduleError::new(
                ErrorKind::WrongTrace,
                "trace",
                format!(
                    "made for workload \"{}\", not \"{}\"",
                    trace.workload, program.name
                ),
            ));
        }
        let mut s = Schedule::new(program.clone());
        for inst in &trace.insts {
            s.apply(inst)?;
        }
        Ok(s)
    }

    /// Index of the stage named `name`.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.program.stage_index(name)
    }
    /// The name of variable `v`.
    pub fn var_name(&self, v: VarId) -> &str {
        self.program.var_name(v)
    }
    /// Names of the loops of stage `s`, outermost first.
    pub fn loop_names(&self, s: usize) -> Vec<String> {
        self.stages[s]
            .loops
            .iter()
            .map(|l| self.var_name(l.var).to_string())
            .collect()
    }
    /// True when loop `var` of stage `s` drives a reduction variable.
    pub fn touches_reduce(&self, s: usize, var: VarId) -> bool {
        self.touches(s, var, IterKind::Reduce)
    }
    /// Whether loop variable `var` moves a spatial iteration variable of stage `s`.
    pub fn touches_spatial(&self, s: usize, var: VarId) -> bool {
        self.touches(s, var, IterKind::Spatial)
    }
    fn touches(&self, s: usize, var: VarId, kind: IterKind) -> bool {
        let st = &self.program.stages[s];
        st.iters
            .iter()
            .zip(&self.stages[s].iter_val)
            .any(|(iv, e)| iv.kind == kind && e.mentions(var))
    }
    /// Index of the first loop that drives a reduction (loops before it are spatial).
    pub fn first_reduce_loop(&self, s: usize) -> usize {
        let sc = &self.stages[s];
        sc.loops
            .iter()
            .position(|l| self.touches_reduce(s, l.var))
            .unwrap_or(sc.loops.len())
    }
    /// Value ranges of all variables (loop variables and iteration variables).
    pub fn ranges(&self) -> Vec<Option<Interval>> {
        let mut r = vec![None; self.program.vars.len()];
        for (st, sc) in self.program.stages.iter().zip(&self.stages) {
            for iv in &st.iters {
                r[iv.var.0 as usize] = Some(Interval {
                    lo: 0,
                    hi: iv.extent - 1,
                });
            }
            for l in &sc.loops {
                r[l.var.0 as usize] = Some(Interval {
                    lo: 0,
                    hi: l.extent - 1,
                });
            }
        }
        r
    }

    /// Apply one instruction.
    pub fn apply(&mut self, inst: &Inst) -> Result<()> {
        let cx = inst.text();
        let s = self.stage_index(inst.stage()).ok_or_else(|| {
            ScheduleError::new(
                ErrorKind::UnknownStage,
                &cx,
                format!("no stage named \"{}\"", inst.stage()),
            )
        })?;
        if self.stages[s].attach == Attach::Inline {
            return Err(ScheduleError::new(
                ErrorKind::Illegal,
                &cx,
                "the stage was inlined",
            ));
        }
        match inst {
            Inst::Split(LoopFactors { loop_, factors, .. }) => self.split(&cx, s, loop_, factors),
            Inst::Reorder { order, .. } => self.reorder(&cx, s, order),
            Inst::Fuse { loops, .. } => self.fuse(&cx, s, loops).map(|_| ()),
            Inst::ParallelOuter { n, .. } => self.parallel_outer(&cx, s, *n),
            Inst::Parallel(StageLoop { loop_, .. }) => {
                let p = self.find_loop(&cx, s, loop_)?;
                self.parallel(&cx, s, p)
            }
            Inst::Vectorize(StageLoop { loop_, .. }) => self.vectorize(&cx, s, loop_),
            Inst::Unroll(StageLoop { loop_, .. }) => self.unroll(&cx, s, loop_),
            Inst::AutoUnroll { max_step, .. } => {
                if !(0..=1024).contains(max_step) {
                    return Err(ScheduleError::new(
                        ErrorKind::BadDecision,
                        &cx,
                        "max_step must be in 0..=1024",
                    ));
                }
                self.stages[s].auto_unroll = *max_step;
                Ok(())
            }
            Inst::ComputeAt {
                consumer, loop_, ..
            } => self.compute_at(&cx, s, consumer, loop_),
            Inst::ComputeInline { .. } => self.compute_inline(&cx, s),
            Inst::ComputeWith { with, .. } => self.compute_with(&cx, s, with),
            Inst::CacheWrite(StageLoop { loop_, .. }) => self.cache_write(&cx, s, loop_),
            Inst::Pack {
                buffer,
                dim,
                factor,
                from,
                ..
            } => self.pack(&cx, s, buffer, *dim, *factor, *from),
            Inst::Partition {
                loop_, at, from, ..
            } => self.partition(&cx, s, loop_, *at, *from),
        }
    }

    pub(crate) fn find_loop(&self, cx: &str, s: usize, name: &str) -> Result<usize> {
        self.stages[s]
            .loops
            .iter()
            .position(|l| self.var_name(l.var) == name)
            .ok_or_else(|| {
                ScheduleError::new(
                    ErrorKind::UnknownLoop,
                    cx,
                    format!(
                        "stage {} has no loop \"{name}\" (loops: {})",
                        self.program.stages[s].name,
                        self.loop_names(s).join(", ")
                    ),
                )
            })
    }

    fn fresh_loop_name(&self, s: usize, want: String) -> String {
        let names = self.loop_names(s);
        let mut n = want;
        while names.contains(&n) {
            n.push('x');
        }
        n
    }

    fn fresh_var(&mut self, name: String) -> VarId {
        self.program.new_var(name)
    }

    /// Substitute a loop variable everywhere it is used.
    pub(crate) fn subst_everywhere(&mut self, v: VarId, e: &Idx) {
        for sc in &mut self.stages {
            for iv in &mut sc.iter_val {
                if iv.mentions(v) {
                    *iv = iv.subst(&|x| (x == v).then(|| e.clone()));
                }
            }
        }
    }

    /// `want`, or `want` with `pad` appended until no stage has the name.
    pub(crate) fn fresh_stage_name(&self, mut want: String, pad: char) -> String {
        while self.stage_index(&want).is_some() {
            want.push(pad);
        }
        want
    }

    /// Whether another stage is computed inside stage `s`.
    pub(crate) fn hosts(&self, s: usize) -> bool {
        self.stages
            .iter()
            .any(|sc| matches!(sc.attach, Attach::At { consumer, .. } if consumer == s))
    }

    fn is_target(&self, v: VarId) -> bool {
        self.stages.iter().any(|sc| {
            matches!(sc.attach, Attach::At { var, .. } if var == v) || sc.cache_write == Some(v)
        })
    }

    pub(crate) fn retarget(&mut self, from: VarId, to: VarId) {
        for sc in &mut self.stages {
            if let Attach::At { var, .. } = &mut sc.attach
                && *var == from
            {
                *var = to;
            }
            if sc.cache_write == Some(from) {
                sc.cache_write = Some(to);
            }
        }
    }

    fn split(&mut self, cx: &str, s: usize, name: &str, factors: &[i64]) -> Result<()> {
        let p = self.find_loop(cx, s, name)?;
        let l = self.stages[s].loops[p].clone();
        self.check_split(cx, s, name, &l, factors)?;
        let (new, value) = self.split_loops(s, name, l.extent, factors);
        let sc = &mut self.stages[s];
        sc.loops.splice(p..=p, new);
        sc.transformed = true;
        self.subst_everywhere(l.var, &value);
        Ok(())
    }

    /// Errors unless loop `l` (named `name`) of stage `s` can be split by `factors`.
    fn check_split(
        &self,
        cx: &str,
        s: usize,
        name: &str,
        l: &SLoop,
        factors: &[i64],
    ) -> Result<()> {
        if factors.len() < 2 {
            return Err(bad(cx, "needs at least two factors"));
        }
        if factors.len() > MAX_SPLIT_FACTORS {
            return Err(bad(
                cx,
                format!(
                    "{} factors; a split makes at most {MAX_SPLIT_FACTORS} loops",
                    factors.len()
                ),
            ));
        }
        if self.stages[s].loops.len() + factors.len() - 1 > MAX_STAGE_LOOPS {
            return Err(bad(
                cx,
                format!("the stage would have more than {MAX_STAGE_LOOPS} loops"),
            ));
        }
        if factors.iter().any(|&f| f < 1) {
            return Err(bad(cx, "factors must be positive"));
        }
        let prod = factors
            .iter()
            .try_fold(1i64, |acc, &f| acc.checked_mul(f))
            .ok_or_else(|| {
                bad(
                    cx,
                    format!(
                        "factors multiply past {} but loop {name} has extent {}",
                        i64::MAX,
                        l.extent
                    ),
                )
            })?;
        if prod != l.extent {
            return Err(bad(
                cx,
                format!(
                    "factors multiply to {prod} but loop {name} has extent {}",
                    l.extent
                ),
            ));
        }
        if l.kind != LoopKind::Serial {
            return Err(illegal(
                cx,
                format!("loop {name} is already annotated {:?}", l.kind),
            ));
        }
        if self.is_target(l.var) {
            return Err(illegal(
                cx,
                format!("loop {name} is a compute_at or cache_write target; split it before that"),
            ));
        }
        Ok(())
    }

    /// Fresh loops `{name}0, {name}1, ..` of stage `s` with extents `factors` (which multiply
    /// to `extent`), outermost first, and the value of the split loop in terms of them.
    fn split_loops(
        &mut self,
        s: usize,
        name: &str,
        extent: i64,
        factors: &[i64],
    ) -> (Vec<SLoop>, Idx) {
        let sep = if name.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        let mut new = vec![];
        let mut value: Option<Idx> = None;
        let mut stride = extent;
        for (k, &f) in factors.iter().enumerate() {
            let nm = self.fresh_loop_name(s, format!("{name}{sep}{k}"));
            let v = self.fresh_var(nm);
            stride /= f;
            let term = if stride == 1 {
                Idx::Var(v)
            } else {
                Idx::Var(v) * stride
            };
            value = Some(match value {
                None => term,
                Some(x) => x + term,
            });
            new.push(SLoop {
                var: v,
                extent: f,
                kind: LoopKind::Serial,
            });
        }
        (new, value.expect("two factors"))
    }

    fn reorder(&mut self, cx: &str, s: usize, order: &[String]) -> Result<()> {
        let mut pos = vec![];
        for n in order {
            let p = self.find_loop(cx, s, n)?;
            if pos.contains(&p) {
                return Err(bad(cx, format!("loop {n} is named twice")));
            }
            pos.push(p);
        }
        let mut slots = pos.clone();
        slots.sort_unstable();
        let old = self.stages[s].loops.clone();
        let mut loops = old.clone();
        for (slot, p) in slots.iter().zip(&pos) {
            loops[*slot] = old[*p].clone();
        }
        if let Some(v) = loops.iter().position(|l| l.kind == LoopKind::Vectorized)
            && v + 1 != loops.len()
        {
            return Err(illegal(cx, "a vectorized loop must stay innermost"));
        }
        let sc = &mut self.stages[s];
        sc.loops = loops;
        sc.transformed = true;
        Ok(())
    }

    /// Fuse the named adjacent loops; returns the position of the fused loop.
    fn fuse(&mut self, cx: &str, s: usize, names: &[String]) -> Result<usize> {
        if names.len() < 2 {
            return Err(bad(cx, "needs at least two loops"));
        }
        let first = self.find_loop(cx, s, &names[0])?;
        for (k, n) in names.iter().enumerate() {
            let p = self.find_loop(cx, s, n)?;
            if p != first + k {
                return Err(illegal(cx, "loops must be adjacent, outermost first"));
            }
        }
        let loops: Vec<SLoop> = self.stages[s].loops[first..first + names.len()].to_vec();
        if loops.iter().any(|l| l.kind != LoopKind::Serial) {
            return Err(illegal(cx, "cannot fuse annotated loops"));
        }
        for l in &loops[..loops.len() - 1] {
            if self.is_target(l.var) {
                return Err(illegal(
                    cx,
                    format!(
                        "loop {} is a compute_at or cache_write target and not the innermost fused loop",
                        self.var_name(l.var)
                    ),
                ));
            }
        }
        let extent: i64 = loops.iter().map(|l| l.extent).product();
        let nm = self.fresh_loop_name(s, names.join("_"));
        let f = self.fresh_var(nm);
        let mut inner = extent;
        for (k, l) in loops.iter().enumerate() {
            inner /= l.extent;
            let mut e = Idx::Var(f);
            if inner > 1 {
                e = e.div(inner);
            }
            if k > 0 {
                e = e.rem(l.extent);
            }
            self.subst_everywhere(l.var, &e);
        }
        self.retarget(loops.last().expect("two loops").var, f);
        let sc = &mut self.stages[s];
        sc.loops.splice(
            first..first + names.len(),
            [SLoop {
                var: f,
                extent,
                kind: LoopKind::Serial,
            }],
        );
        sc.transformed = true;
        Ok(first)
    }

    fn parallel(&mut self, cx: &str, s: usize, p: usize) -> Result<()> {
        let l = self.stages[s].loops[p].clone();
        if self.touches_reduce(s, l.var) {
            return Err(illegal(
                cx,
                "a loop that drives a reduction cannot run in parallel",
            ));
        }
        if l.kind != LoopKind::Serial {
            return Err(illegal(cx, format!("loop is already {:?}", l.kind)));
        }
        if self.stages[s]
            .loops
            .iter()
            .any(|l| l.kind == LoopKind::Parallel)
        {
            return Err(illegal(cx, "the stage already has a parallel loop"));
        }
        self.stages[s].loops[p].kind = LoopKind::Parallel;
        self.stages[s].transformed = true;
        Ok(())
    }

    fn parallel_outer(&mut self, cx: &str, s: usize, n: usize) -> Result<()> {
        let len = self.stages[s].loops.len();
        if n == 0 || n > len {
            return Err(bad(cx, format!("n must be in 1..={len}")));
        }
        if let Some(l) = self.stages[s].loops[..n]
            .iter()
            .find(|l| self.touches_reduce(s, l.var))
        {
            return Err(illegal(
                cx,
                format!(
                    "loop {} drives a reduction and cannot run in parallel",
                    self.var_name(l.var)
                ),
            ));
        }
        let p = if n == 1 {
            0
        } else {
            let names: Vec<String> = self.loop_names(s)[..n].to_vec();
            self.fuse(cx, s, &names)?
        };
        self.parallel(cx, s, p)
    }

    fn vectorize(&mut self, cx: &str, s: usize, name: &str) -> Result<()> {
        let p = self.find_loop(cx, s, name)?;
        let sc = &self.stages[s];
        if p + 1 != sc.loops.len() {
            return Err(illegal(cx, "only the innermost loop can be vectorized"));
        }
        // A reduction loop vectorises as a vector reduction (`omp simd reduction`: partial
        // sums per lane, combined after the loop) when it moves no spatial index.
        if self.touches_reduce(s, sc.loops[p].var) && self.touches_spatial(s, sc.loops[p].var) {
            return Err(illegal(
                cx,
                "a loop that drives both a reduction and an output index cannot be vectorized",
            ));
        }
        if sc.loops[p].kind != LoopKind::Serial {
            return Err(illegal(
                cx,
                format!("loop is already {:?}", sc.loops[p].kind),
            ));
        }
        self.stages[s].loops[p].kind = LoopKind::Vectorized;
        self.stages[s].transformed = true;
        Ok(())
    }

    fn unroll(&mut self, cx: &str, s: usize, name: &str) -> Result<()> {
        let p = self.find_loop(cx, s, name)?;
        let l = &self.stages[s].loops[p];
        if l.kind != LoopKind::Serial {
            return Err(illegal(cx, format!("loop is already {:?}", l.kind)));
        }
        if l.extent > 64 {
            return Err(bad(
                cx,
                format!("extent {} is too large to unroll fully (max 64)", l.extent),
            ));
        }
        self.stages[s].loops[p].kind = LoopKind::Unrolled;
        self.stages[s].transformed = true;
        Ok(())
    }

    /// Accesses of buffer of stage `p` made by stage `c`, written in `c`'s loop variables.
    pub(crate) fn reads_in_loop_vars(&self, c: usize, buf: colt_ir::BufId) -> Vec<Vec<Idx>> {
        let st = &self.program.stages[c];
        let val = &self.stages[c].iter_val;
        let mut loads = vec![];
        st.value.loads(&mut loads);
        loads
            .into_iter()
            .filter(|a| a.buf == buf)
            .map(|a| a.idx.iter().map(|e| subst_iters(e, st, val)).collect())
            .collect()
    }

    /// The index stage `s` stores to, written in its loop variables.
    pub(crate) fn store_in_loop_vars(&self, s: usize) -> Vec<Idx> {
        let st = &self.program.stages[s];
        let val = &self.stages[s].iter_val;
        st.store
            .idx
            .iter()
            .map(|e| subst_iters(e, st, val))
            .collect()
    }

    /// Region of stage `p`'s buffer needed by consumer `c` for one iteration of `c`'s loop at
    /// position `at` (loops after it range fully).
    pub(crate) fn attach_region(&self, p: usize, c: usize, at: usize) -> Vec<(Idx, i64)> {
        let buf = self.program.stages[p].store.buf;
        let inner: Vec<(VarId, i64)> = self.stages[c].loops[at + 1..]
            .iter()
            .map(|l| (l.var, l.extent))
            .collect();
        let ranges = self.ranges();
        region(
            &self.reads_in_loop_vars(c, buf),
            &inner,
            &self.program.buffer(buf).shape,
            &|v| ranges[v.0 as usize],
        )
    }

    fn compute_at(&mut self, cx: &str, p: usize, consumer: &str, name: &str) -> Result<()> {
        let c = self.stage_index(consumer).ok_or_else(|| {
            ScheduleError::new(
                ErrorKind::UnknownStage,
                cx,
                format!("no stage named \"{consumer}\""),
            )
        })?;
        self.check_compute_at(cx, p, c, consumer)?;
        let at = self.find_loop(cx, c, name)?;
        let reg = self.attach_region(p, c, at);
        let (loops, vals) = self.region_loops(p, &reg);
        let var = self.stages[c].loops[at].var;
        let sc = &mut self.stages[p];
        sc.loops = loops;
        sc.iter_val = vals;
        sc.attach = Attach::At {
            consumer: c,
            var,
            region: reg.iter().map(|r| r.1).collect(),
        };
        self.order.retain(|&x| x != p);
        Ok(())
    }

    /// Errors unless stage `p` can be computed inside stage `c` (named `consumer`).
    fn check_compute_at(&self, cx: &str, p: usize, c: usize, consumer: &str) -> Result<()> {
        if self.stages[c].attach == Attach::Inline {
            return Err(illegal(cx, format!("consumer {consumer} was inlined")));
        }
        let consumers = self.program.consumers(p);
        if consumers != [c] {
            return Err(illegal(
                cx,
                format!(
                    "{consumer} must be the only consumer (consumers: {})",
                    self.stage_names(&consumers)
                ),
            ));
        }
        let pst = &self.program.stages[p];
        if self.program.buffer(pst.store.buf).kind != BufKind::Temp {
            return Err(illegal(
                cx,
                "only stages writing a temporary buffer can be computed at another stage",
            ));
        }
        if self.stages[p].transformed || self.stages[p].attach != Attach::Root {
            return Err(illegal(
                cx,
                "compute_at must come before any other transformation of the stage",
            ));
        }
        if self.hosts(p) {
            return Err(illegal(cx, "another stage is computed inside this one"));
        }
        if self.grouped(p) {
            return Err(illegal(cx, "the stage takes part in a compute_with"));
        }
        Ok(())
    }

    /// The loops of stage `p` computed over region `reg` (min and extent per spatial
    /// dimension), and the values of its iteration variables in them.
    fn region_loops(&mut self, p: usize, reg: &[(Idx, i64)]) -> (Vec<SLoop>, Vec<Idx>) {
        // New loops over the region for spatial iterations; reductions keep their full range.
        let pst = self.program.stages[p].clone();
        let mut loops = vec![];
        let mut vals = vec![];
        let mut d = 0;
        for iv in &pst.iters {
            let nm = format!("{}{}", self.var_name(iv.var), "'");
            match iv.kind {
                IterKind::Spatial => {
                    let (min, ext) = reg[d].clone();
                    d += 1;
                    let v = self.fresh_var(nm);
                    loops.push(SLoop {
                        var: v,
                        extent: ext,
                        kind: LoopKind::Serial,
                    });
                    vals.push(match min {
                        Idx::Const(0) => Idx::Var(v),
                        m => m + Idx::Var(v),
                    });
                }
                IterKind::Reduce => {
                    loops.push(SLoop {
                        var: iv.var,
                        extent: iv.extent,
                        kind: LoopKind::Serial,
                    });
                    vals.push(Idx::Var(iv.var));
                }
            }
        }
        (loops, vals)
    }

    fn stage_names(&self, ss: &[usize]) -> String {
        if ss.is_empty() {
            return "none".into();
        }
        ss.iter()
            .map(|&s| self.program.stages[s].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn compute_inline(&mut self, cx: &str, p: usize) -> Result<()> {
        let pst = self.program.stages[p].clone();
        if pst.reduce.is_some() {
            return Err(illegal(
                cx,
                "only elementwise stages can be inlined (this one reduces)",
            ));
        }
        if self.program.buffer(pst.store.buf).kind != BufKind::Temp {
            return Err(illegal(
                cx,
                "the stage writes a function output and cannot be inlined",
            ));
        }
        let consumers = self.program.consumers(p);
        if consumers.is_empty() {
            return Err(illegal(cx, "the stage has no consumer"));
        }
        if self.stages[p].attach != Attach::Root || self.hosts(p) {
            return Err(illegal(cx, "the stage takes part in a compute_at"));
        }
        if self.grouped(p) {
            return Err(illegal(cx, "the stage takes part in a compute_with"));
        }
        let spatial: Vec<VarId> = pst.spatial().map(|i| i.var).collect();
        for c in consumers {
            let v = self.program.stages[c].value.map(
                &mut |a: &Access| {
                    (a.buf == pst.store.buf).then(|| {
                        pst.value.map_idx(&|e| {
                            e.subst(&|x| {
                                spatial
                                    .iter()
                                    .position(|s| *s == x)
                                    .map(|d| a.idx[d].clone())
                            })
                        })
                    })
                },
                &|e| e.clone(),
            );
            self.program.stages[c].value = v;
        }
        self.stages[p].attach = Attach::Inline;
        self.order.retain(|&x| x != p);
        Ok(())
    }

    fn cache_write(&mut self, cx: &str, s: usize, name: &str) -> Result<()> {
        let p = self.find_loop(cx, s, name)?;
        if self.stages[s].cache_write.is_some() {
            return Err(illegal(cx, "the stage already has a write cache"));
        }
        if p >= self.first_reduce_loop(s) {
            return Err(illegal(
                cx,
                "the loop and every loop outside it must be spatial (a reduction loop would re-initialise partial sums)",
            ));
        }
        self.stages[s].cache_write = Some(self.stages[s].loops[p].var);
        Ok(())
    }

    fn pack(
        &mut self,
        cx: &str,
        c: usize,
        buffer: &str,
        dim: usize,
        factor: i64,
        from: Option<i64>,
    ) -> Result<()> {
        let (b, buf) = self.pack_input(cx, c, buffer, dim, factor)?;
        let len = buf.shape[dim];
        if let Some(from) = from {
            self.check_pack_window(cx, c, b, dim, from, len)?;
        }
        let start = from.unwrap_or(0);
        let mut pname = format!("{buffer}_p");
        while self.program.buffer_by_name(&pname).is_some() {
            pname.push('p');
        }
        // The stage's partition tails read the same copy (it holds every index its readers
        // read, padded to whole blocks), so their lanes read it contiguously too — except a
        // tail that packed its own window first (it no longer reads `b`), and none for a
        // window, which only the stage reads.
        let tails = if from.is_some() {
            vec![]
        } else {
            self.stages[c].tails.clone()
        };
        let readers: Vec<usize> = std::iter::once(c)
            .chain(tails)
            .filter(|&t| self.program.stages[t].reads().contains(&b))
            .collect();
        // The copy ends with the last index its readers read: a lane tail with a window of its
        // own leaves the stage's copy only the blocks before the cut.
        let end = readers
            .iter()
            .map(|&t| {
                let read = self.program.stages[t].read_interval(b, dim);
                read.map_or(len, |r| r.hi + 1)
            })
            .max()
            .unwrap_or(len)
            .min(len);
        // A factor that does not divide what the copy holds pads it with zeros (see
        // `packing_stage`): the reads stay within the dimension, the lanes whole vectors.
        let mut shape = vec![(end - start + factor - 1) / factor];
        shape.extend(
            buf.shape
                .iter()
                .enumerate()
                .filter(|(d, _)| *d != dim)
                .map(|(_, n)| *n),
        );
        shape.push(factor);
        let pb = self.program.add_buffer(pname, shape.clone(), BufKind::Temp);
        let stage = self.packing_stage(buffer, b, pb, &shape, (dim, start, len), factor);
        self.add_stage_before(c, stage);
        for t in readers {
            self.load_packed(t, b, pb, dim, factor, start);
        }
        Ok(())
    }

    /// Errors unless `from` starts a window of dimension `dim` (extent `len`) of buffer `b`
    /// within it that holds every index stage `c` reads along it.
    fn check_pack_window(
        &self,
        cx: &str,
        c: usize,
        b: BufId,
        dim: usize,
        from: i64,
        len: i64,
    ) -> Result<()> {
        if !(0..len).contains(&from) {
            return Err(bad(
                cx,
                format!("from must be in 0..{len} (the extent of dimension {dim})"),
            ));
        }
        let st = &self.program.stages[c];
        let before = st.read_interval(b, dim).is_none_or(|r| r.lo < from);
        if before {
            return Err(illegal(
                cx,
                format!(
                    "stage {} reads dimension {dim} before {from}: a copy from there would not hold it",
                    st.name
                ),
            ));
        }
        Ok(())
    }

    /// The input `buffer` that stage `c` packs by `factor` on dimension `dim`, checked.
    fn pack_input(
        &self,
        cx: &str,
        c: usize,
        buffer: &str,
        dim: usize,
        factor: i64,
    ) -> Result<(BufId, Buffer)> {
        let b = self.program.buffer_by_name(buffer).ok_or_else(|| {
            ScheduleError::new(
                ErrorKind::UnknownBuffer,
                cx,
                format!("no buffer named \"{buffer}\""),
            )
        })?;
        let buf = self.program.buffer(b).clone();
        if buf.kind != BufKind::Input {
            return Err(illegal(
                cx,
                format!("only inputs can be packed ({buffer} is {:?})", buf.kind),
            ));
        }
        if !self.program.stages[c].reads().contains(&b) {
            return Err(illegal(
                cx,
                format!(
                    "stage {} does not read {buffer}",
                    self.program.stages[c].name
                ),
            ));
        }
        if dim >= buf.shape.len() {
            return Err(bad(
                cx,
                format!("{buffer} has {} dimensions", buf.shape.len()),
            ));
        }
        if factor < 1 || factor > buf.shape[dim] {
            return Err(bad(
                cx,
                format!(
                    "factor {factor} is not between 1 and dimension {dim} of {buffer} ({})",
                    buf.shape[dim]
                ),
            ));
        }
        Ok((b, buf))
    }

    /// The packing stage `pack_{buffer}` writing `pb` (of shape `shape`) from `b`:
    /// `P[o, rest.., v] = B[.., start + o*factor + v, ..]`, 0 where that is past the packed
    /// dimension (`dim`, of extent `len`) when `factor` does not divide what it holds.
    fn packing_stage(
        &mut self,
        buffer: &str,
        b: BufId,
        pb: BufId,
        shape: &[i64],
        (dim, start, len): (usize, i64, i64),
        factor: i64,
    ) -> Stage {
        let rank = shape.len() - 1;
        let mut iters = vec![];
        for (k, n) in shape.iter().enumerate() {
            let nm = if k == 0 {
                "o".to_string()
            } else if k == rank {
                "v".to_string()
            } else {
                format!("d{k}")
            };
            iters.push(IterVar {
                var: self.program.new_var(nm),
                extent: *n,
                kind: IterKind::Spatial,
            });
        }
        let var = |k: usize| Idx::Var(iters[k].var);
        let mut src = vec![];
        let mut rest = 1;
        let packed = match start {
            0 => var(0) * factor + var(rank),
            _ => var(0) * factor + var(rank) + Idx::Const(start),
        };
        for d in 0..rank {
            if d == dim {
                src.push(packed.clone());
            } else {
                src.push(var(rest));
                rest += 1;
            }
        }
        let sname = self.fresh_stage_name(format!("pack_{buffer}"), 'p');
        let load = Value::load(b, src);
        let value = if (len - start) % factor == 0 {
            load
        } else {
            let bound = Bound {
                idx: packed,
                lo: 0,
                hi: len,
            };
            Value::Select(vec![bound], Box::new(load), Box::new(Value::Const(0.0)))
        };
        Stage {
            name: sname,
            store: Access {
                buf: pb,
                idx: (0..shape.len()).map(var).collect(),
            },
            iters,
            reduce: None,
            value,
        }
    }

    /// Add `stage` at root, emitted just before the root ancestor of stage `c`.
    fn add_stage_before(&mut self, c: usize, stage: Stage) {
        let new_sched = initial(&stage);
        self.program.stages.push(stage);
        self.stages.push(new_sched);
        let ns = self.program.stages.len() - 1;
        // emit before the root ancestor of c
        let mut root = c;
        while let Attach::At { consumer, .. } = self.stages[root].attach {
            root = consumer;
        }
        // a stage computed with others: before the whole group
        let root = self.stages[root].with.unwrap_or(root);
        let pos = self
            .order
            .iter()
            .position(|&x| x == root)
            .expect("root stage is ordered");
        self.order.insert(pos, ns);
    }

    /// Rewrite stage `c`'s loads of `b` into loads of its packed copy `pb` (which starts at
    /// `start` along `dim`).
    fn load_packed(&mut self, c: usize, b: BufId, pb: BufId, dim: usize, factor: i64, start: i64) {
        let v = self.program.stages[c].value.map(
            &mut |a: &Access| {
                (a.buf == b).then(|| {
                    let at = match start {
                        0 => a.idx[dim].clone(),
                        _ => a.idx[dim].clone() + Idx::Const(-start),
                    };
                    let mut idx = vec![at.clone().div(factor)];
                    idx.extend(
                        a.idx
                            .iter()
                            .enumerate()
                            .filter(|(d, _)| *d != dim)
                            .map(|(_, e)| e.clone()),
                    );
                    idx.push(at.rem(factor));
                    Value::load(pb, idx)
                })
            },
            &|e| e.clone(),
        );
        self.program.stages[c].value = v;
    }
}

/// Substitute a stage's iteration variables by their values in loop variables.
pub(crate) fn subst_iters(e: &Idx, st: &Stage, val: &[Idx]) -> Idx {
    e.subst(&|x| {
        st.iters
            .iter()
            .position(|i| i.var == x)
            .map(|k| val[k].clone())
    })
}

/// An [`ErrorKind::Illegal`] error at instruction `cx`.
pub(crate) fn illegal(cx: &str, msg: impl Into<String>) -> ScheduleError {
    ScheduleError::new(ErrorKind::Illegal, cx, msg)
}

/// An [`ErrorKind::BadDecision`] error at instruction `cx`.
pub(crate) fn bad(cx: &str, msg: impl Into<String>) -> ScheduleError {
    ScheduleError::new(ErrorKind::BadDecision, cx, msg)
}
