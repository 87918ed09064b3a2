//! Compute-with: stages sharing their outermost loop (a *group*), as Halide's `compute_with`.
//!
//! `compute_with(B, A)` makes stage `B`'s outermost loop the same loop as stage `A`'s (equal
//! extents); in each iteration of it, `A` and the stages already computed with it run, then
//! `B`. Attention computed per head this way keeps one head's scores and exponentials in
//! cache instead of streaming all heads' through memory between the softmax steps.
//!
//! Legality is checked when lowering, on the loops as they are then: every buffer a member
//! writes must move with the shared loop (its exact write box per iteration depends on the
//! loop), and every read of it by a member must stay inside the box the same iteration wrote.
//! A temporary read only inside the group then shrinks to that box, local to one iteration.

use crate::error::{ErrorKind, Result, ScheduleError};
use crate::region::{region, region_exact, sub};
use crate::state::{Attach, Schedule, illegal};
use colt_ir::{BufId, BufKind, Idx, LoopKind, VarId};

/// A buffer a group keeps local to one iteration of its shared loop.
pub(crate) struct GroupLocal {
    /// The buffer replaced.
    pub global: BufId,
    /// Per dimension, where the iteration's slice starts (in the shared loop's variable).
    pub min: Vec<Idx>,
    /// The slice's extents.
    pub shape: Vec<i64>,
}

/// Per dimension of a written buffer: the iteration's box when it moves with the shared loop.
type WriteBox = Vec<Option<(Idx, i64)>>;

impl Schedule {
    /// Whether other stages are computed with stage `s` (it owns their shared loop).
    pub(crate) fn leads(&self, s: usize) -> bool {
        self.stages.iter().any(|sc| sc.with == Some(s))
    }

    /// Whether stage `s` leads a group or is computed with another stage.
    pub(crate) fn grouped(&self, s: usize) -> bool {
        self.stages[s].with.is_some() || self.leads(s)
    }

    /// The group led by `leader`: it and the stages computed with it, in emission order.
    pub fn group(&self, leader: usize) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&x| x == leader || self.stages[x].with == Some(leader))
            .collect()
    }

    /// Root stage `x` and the stages computed at its loops (their reads are part of its nest).
    fn nest_stages(&self, x: usize) -> Vec<usize> {
        (0..self.stages.len())
            .filter(|&t| {
                let mut r = t;
                while let Attach::At { consumer, .. } = self.stages[r].attach {
                    r = consumer;
                }
                r == x && self.stages[t].attach != Attach::Inline
            })
            .collect()
    }

    fn nest_reads(&self, x: usize) -> Vec<BufId> {
        let mut out = vec![];
        for t in self.nest_stages(x) {
            let mut loads = vec![];
            self.program.stages[t].value.loads(&mut loads);
            out.extend(loads.into_iter().map(|a| a.buf));
        }
        out
    }

    fn nest_writes(&self, x: usize) -> Vec<BufId> {
        self.nest_stages(x)
            .into_iter()
            .map(|t| self.program.stages[t].store.buf)
            .collect()
    }

    pub(crate) fn compute_with(&mut self, cx: &str, s: usize, with: &str) -> Result<()> {
        let w = self.stage_index(with).ok_or_else(|| {
            ScheduleError::new(
                ErrorKind::UnknownStage,
                cx,
                format!("no stage named \"{with}\""),
            )
        })?;
        if w == s {
            return Err(illegal(cx, "a stage cannot be computed with itself"));
        }
        if self.grouped(s) {
            return Err(illegal(
                cx,
                "the stage already takes part in a compute_with",
            ));
        }
        if self.stages[w].with.is_some() {
            return Err(illegal(
                cx,
                format!("{with} is computed with another stage: name the group's first stage"),
            ));
        }
        for x in [s, w] {
            let name = &self.program.stages[x].name;
            if self.stages[x].attach != Attach::Root {
                return Err(illegal(cx, format!("{name} is not computed at root")));
            }
            if self.stages[x].loops.is_empty() || self.first_reduce_loop(x) == 0 {
                return Err(illegal(
                    cx,
                    format!("{name}'s outermost loop must be a spatial loop"),
                ));
            }
        }
        let (es, ew) = (
            self.stages[s].loops[0].extent,
            self.stages[w].loops[0].extent,
        );
        if es != ew {
            return Err(illegal(
                cx,
                format!("the outermost loops differ in extent ({es} and {ew})"),
            ));
        }
        let pos = |o: &[usize], x: usize| o.iter().position(|&y| y == x).expect("ordered");
        let group = self.group(w);
        let first = pos(&self.order, w);
        let last = group
            .iter()
            .map(|&x| pos(&self.order, x))
            .max()
            .expect("leader");
        let ps = pos(&self.order, s);
        if ps < last {
            return Err(illegal(cx, format!("the stage runs before {with}'s group")));
        }
        // Stages between the group and `s` that `s` needs move before the group; the rest
        // stay after `s`.
        let between = self.order[last + 1..ps].to_vec();
        let mut reads = self.nest_reads(s);
        let mut needed = vec![false; between.len()];
        for (k, &x) in between.iter().enumerate().rev() {
            if self.nest_writes(x).iter().any(|b| reads.contains(b)) {
                needed[k] = true;
                reads.extend(self.nest_reads(x));
            }
        }
        let group_writes: Vec<BufId> = group.iter().flat_map(|&x| self.nest_writes(x)).collect();
        for (k, &x) in between.iter().enumerate() {
            if needed[k] && self.nest_reads(x).iter().any(|b| group_writes.contains(b)) {
                return Err(illegal(
                    cx,
                    format!(
                        "{} runs between the group and the stage, reads the group's output \
                         and is read by the stage",
                        self.program.stages[x].name
                    ),
                ));
            }
        }
        let mut order = self.order[..first].to_vec();
        order.extend(between.iter().zip(&needed).filter(|p| *p.1).map(|p| *p.0));
        order.extend_from_slice(&self.order[first..=last]);
        order.push(s);
        order.extend(between.iter().zip(&needed).filter(|p| !*p.1).map(|p| *p.0));
        order.extend_from_slice(&self.order[ps + 1..]);
        self.order = order;
        self.stages[s].with = Some(w);
        Ok(())
    }

    /// Errors unless the members of `leader`'s group still share an outermost loop that only
    /// the leader annotates (later instructions may have changed the loops).
    pub(crate) fn check_group(&self, leader: usize) -> Result<()> {
        let lname = &self.program.stages[leader].name;
        let Some(l0) = self.stages[leader].loops.first() else {
            return Err(illegal(
                &format!("compute_with(.., {lname})"),
                "the group's first stage has no loop",
            ));
        };
        if !matches!(l0.kind, LoopKind::Serial | LoopKind::Parallel) {
            return Err(illegal(
                &format!("compute_with(.., {lname})"),
                "the shared loop can only be serial or parallel",
            ));
        }
        for m in self.group(leader) {
            let cx = format!("compute_with({}, {lname})", self.program.stages[m].name);
            let sc = &self.stages[m];
            match sc.loops.first() {
                Some(l) if l.extent == l0.extent && self.first_reduce_loop(m) > 0 => {
                    if m != leader && l.kind != LoopKind::Serial {
                        return Err(illegal(
                            &cx,
                            "only the group's first stage annotates the shared loop",
                        ));
                    }
                }
                _ => {
                    return Err(illegal(
                        &cx,
                        "the outermost loops no longer match (changed after compute_with)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The schedule with each member's outermost loop variable replaced by its leader's: the
    /// form lowering emits, one loop for the group.
    pub(crate) fn with_shared_loops(&self) -> Schedule {
        let mut out = self.clone();
        for m in 0..out.stages.len() {
            let Some(w) = out.stages[m].with else {
                continue;
            };
            let v = out.stages[w].loops[0].var;
            let vm = out.stages[m].loops[0].var;
            if vm != v {
                out.subst_everywhere(vm, &Idx::Var(v));
                out.retarget(vm, v);
                out.stages[m].loops[0].var = v;
            }
        }
        out
    }

    /// Check that the group of `leader` (in the form of [`Schedule::with_shared_loops`])
    /// reads only what the same iteration wrote, and return the temporaries it keeps local.
    pub(crate) fn group_locals(&self, leader: usize) -> Result<Vec<GroupLocal>> {
        let members = self.group(leader);
        let lname = &self.program.stages[leader].name;
        let v = self.stages[leader].loops[0].var;
        let ranges = self.ranges();
        let range = |x: VarId| ranges[x.0 as usize];
        let inner = |m: usize| -> Vec<(VarId, i64)> {
            self.stages[m].loops[1..]
                .iter()
                .map(|l| (l.var, l.extent))
                .collect()
        };
        let same = |a: &Idx, b: &Idx| sub(a, b, &range) == Idx::Const(0);
        // the box each member writes per iteration
        let mut writes: Vec<(BufId, WriteBox)> = vec![];
        for &m in &members {
            let st = &self.program.stages[m];
            let cx = format!("compute_with({}, {lname})", st.name);
            let idx = self.store_in_loop_vars(m);
            let shape = &self.program.buffer(st.store.buf).shape;
            let reg = region_exact(&idx, &inner(m), shape, &range);
            let mut boxes = vec![];
            for (e, r) in idx.iter().zip(reg) {
                boxes.push(match r {
                    Some((min, ext)) if min.mentions(v) => Some((min, ext)),
                    _ if e.mentions(v) => {
                        return Err(illegal(
                            &cx,
                            "what one iteration of the shared loop writes is not a box",
                        ));
                    }
                    _ => None,
                });
            }
            if boxes.iter().all(Option::is_none) {
                return Err(illegal(
                    &cx,
                    "the stage's writes do not move with the shared loop",
                ));
            }
            match writes.iter().find(|w| w.0 == st.store.buf) {
                Some((_, other)) => {
                    let agree = other.iter().zip(&boxes).all(|(a, b)| match (a, b) {
                        (None, None) => true,
                        (Some((m1, e1)), Some((m2, e2))) => e1 == e2 && same(m1, m2),
                        _ => false,
                    });
                    if !agree {
                        return Err(illegal(
                            &cx,
                            "stages of the group write one buffer in different slices",
                        ));
                    }
                }
                None => writes.push((st.store.buf, boxes)),
            }
        }
        // every read of a group-written buffer inside the group stays in the iteration's box
        for &m in &members {
            let cx = format!("compute_with({}, {lname})", self.program.stages[m].name);
            for t in self.nest_stages(m) {
                for (b, boxes) in &writes {
                    let acc = self.reads_in_loop_vars(t, *b);
                    if acc.is_empty() {
                        continue;
                    }
                    // a stage computed inside `m` ranges over the loops of `m`'s whole nest
                    let mut vars = inner(m);
                    if t != m {
                        for u in self.nest_stages(m).into_iter().filter(|&u| u != m) {
                            vars.extend(self.stages[u].loops.iter().map(|l| (l.var, l.extent)));
                        }
                    }
                    let shape = &self.program.buffer(*b).shape;
                    let reg = region(&acc, &vars, shape, &range);
                    for (w, r) in boxes.iter().zip(&reg) {
                        if let Some((wmin, wext)) = w
                            && !(r.1 <= *wext && same(&r.0, wmin))
                        {
                            return Err(illegal(
                                &cx,
                                format!(
                                    "reads of {} reach past what the same iteration wrote",
                                    self.program.buffer(*b).name
                                ),
                            ));
                        }
                    }
                }
            }
        }
        // temporaries read by nothing outside the group become local
        let inside: Vec<usize> = members.iter().flat_map(|&m| self.nest_stages(m)).collect();
        let mut out = vec![];
        for (b, boxes) in writes {
            if self.program.buffer(b).kind != BufKind::Temp {
                continue;
            }
            let outside = (0..self.stages.len()).any(|t| {
                !inside.contains(&t)
                    && self.stages[t].attach != Attach::Inline
                    && !self.reads_in_loop_vars(t, b).is_empty()
            });
            if outside {
                continue;
            }
            let shape = &self.program.buffer(b).shape;
            out.push(GroupLocal {
                global: b,
                min: boxes
                    .iter()
                    .map(|w| w.as_ref().map_or(Idx::Const(0), |x| x.0.clone()))
                    .collect(),
                shape: boxes
                    .iter()
                    .zip(shape)
                    .map(|(w, &n)| w.as_ref().map_or(n, |x| x.1))
                    .collect(),
            });
        }
        Ok(out)
    }
}
