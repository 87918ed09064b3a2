//! CPU sketch rules: the design space as per-stage decisions, and seeded sampling from it.
//!
//! A [`Sketch`] holds, for every stage of a program, the decisions of the CPU rules of
//! method.md section 2: where the stage is computed (root, inlined into its consumers, or at a
//! loop of its only consumer), its multi-level tiling (SSRSRS for stages that reduce: each
//! spatial loop split 4 ways, each reduction loop 2 ways, interleaved S0 S1 R0 S2 R1 S3; SS for
//! elementwise stages at root), an optional write cache, an optional packed weight input, how
//! many outer loops are fused and run in parallel, whether the innermost loop is vectorised and
//! the auto-unroll step. [`Sketch::to_trace`] turns decisions into the primitive instructions
//! of a [`Trace`] in a canonical order, and [`Sketch::from_trace`] recovers the decisions of a
//! trace in that form, so mutators and actions edit decisions and never the skeleton.
//!
//! Canonical instruction order: phase A visits stages consumers-first (reverse program order)
//! and emits placement (`compute_inline` / `compute_at`), splits and the reorder, so a
//! compute-at always names loops of an already-tiled consumer; phase B visits stages in program
//! order and emits compute-with (a group's members, see [`crate::batch`]), cache-write, pack
//! (plus parallel / vectorize of the packing stage), parallel, vectorize and auto-unroll.

use crate::batch;
use crate::error::{ErrorKind, Result, ScheduleError};
use crate::register::{VectorTarget, is_register_tile, register_rows, register_tiles};
use crate::state::{Attach, Schedule};
use crate::trace::{Inst, LoopFactors, StageLoop, TRACE_VERSION, Trace};
use colt_ir::{BufKind, Idx, IterKind, Program, Stage};
use rand::RngExt;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

/// Auto-unroll steps of the CPU rules.
pub const UNROLL_STEPS: [i64; 4] = [0, 16, 64, 512];
/// Tile levels of a spatial loop in a stage that reduces (SSRSRS).
pub const SPATIAL_LEVELS: usize = 4;
/// Tile levels of a reduction loop (SSRSRS).
pub const REDUCE_LEVELS: usize = 2;
/// Tile levels of a spatial loop in an elementwise stage at root (SS).
pub const ELEMENTWISE_LEVELS: usize = 2;
/// Largest innermost tile factor drawn by the sampler.
const MAX_INNER: i64 = 64;

/// Where a stage is computed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Placement {
    /// Its own loop nest at the top level.
    Root,
    /// Substituted into its consumers.
    Inline,
    /// Inside loop `loop` of its only consumer, over the region that consumer needs.
    At {
        /// The consumer stage.
        consumer: String,
        /// The consumer's loop.
        #[serde(rename = "loop")]
        loop_: String,
    },
}

/// Factors of one loop, outermost first.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tile {
    /// The loop tiled.
    #[serde(rename = "loop")]
    pub loop_: String,
    /// Extents of the tile levels, outermost first.
    pub factors: Vec<i64>,
}

/// Pack an input for a stage: its last dimension is split by `factor` (`None`: the innermost
/// tile factor of the loop indexing that dimension).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackDecision {
    /// The input packed.
    pub buffer: String,
    /// The inner block size, or `None` for the innermost tile factor.
    pub factor: Option<i64>,
}

/// Partition a reduction stage along a spatial loop: the stage keeps `[0, at)`, a tail
/// stage computes the rest with the same decisions except that loop's tile (see
/// [`crate::partition`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partition {
    /// The loop partitioned.
    #[serde(rename = "loop")]
    pub loop_: String,
    /// Iterations the stage keeps.
    pub at: i64,
    /// Where the tail starts when it overlaps the stage (see [`crate::partition`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
}

/// The decisions for one stage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StageDecision {
    /// The stage.
    pub stage: String,
    /// Where it is computed.
    pub placement: Placement,
    /// One entry per loop of the stage when tiled (root stages only), in iteration order.
    pub tiles: Vec<Tile>,
    /// Loop (after tiling) whose inner loops accumulate in a write cache.
    pub cache_write: Option<String>,
    /// Number of outer loops fused and run in parallel (0: serial).
    pub parallel: usize,
    /// Whether the innermost loop is vectorized.
    pub vectorize: bool,
    /// Auto-unroll step (0: none).
    pub unroll: i64,
    /// Packing of an input, if any.
    pub pack: Option<PackDecision>,
    /// Where the stage is partitioned, in order (its tiles then cover `[0, at)` of each
    /// loop; a later partition splits what the earlier ones left to the stage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Partition>,
    /// A stage that reduces: its innermost reduction tiles go inside the innermost spatial
    /// ones (S0 S1 R0 S2 S3 R1), so that the innermost loop is the last reduction loop's,
    /// which vectorises as a vector reduction when the reads are contiguous along it (a row
    /// maximum or sum over the last dimension; see [`vector_reduce_ok`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reduce_inner: bool,
    /// The first stage of a group this stage shares its outermost loop with
    /// ([`Inst::ComputeWith`]; see [`crate::group`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
}

impl StageDecision {
    fn untouched(stage: &str) -> StageDecision {
        StageDecision {
            stage: stage.to_string(),
            placement: Placement::Root,
            tiles: vec![],
            cache_write: None,
            parallel: 0,
            vectorize: false,
            unroll: 0,
            pack: None,
            partitions: vec![],
            reduce_inner: false,
            with: None,
        }
    }
    fn set_root_tiles(&mut self, rt: RootTiles) {
        self.tiles = rt.tiles;
        self.partitions = rt.partitions;
        self.reduce_inner = rt.reduce_inner;
    }
    /// The tiling of `loop_`, if tiled.
    pub fn tile(&self, loop_: &str) -> Option<&Tile> {
        self.tiles.iter().find(|t| t.loop_ == loop_)
    }
}

/// Decisions for every stage of one workload, in program order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sketch {
    /// The workload.
    pub workload: String,
    /// One entry per stage.
    pub stages: Vec<StageDecision>,
}

fn err(kind: ErrorKind, cx: impl Into<String>, msg: impl Into<String>) -> ScheduleError {
    ScheduleError::new(kind, cx, msg)
}

fn not_sketch(msg: impl Into<String>) -> ScheduleError {
    err(ErrorKind::NotSketch, "trace", msg)
}

/// Apply and record one instruction.
fn push(sch: &mut Schedule, out: &mut Vec<Inst>, inst: Inst) -> Result<()> {
    sch.apply(&inst)?;
    out.push(inst);
    Ok(())
}

/// Positive divisors of `n`, ascending.
pub fn divisors(n: i64) -> Vec<i64> {
    (1..=n).filter(|d| n % d == 0).collect()
}

/// Prime factors of `n` with multiplicity, ascending.
pub fn primes(mut n: i64) -> Vec<i64> {
    let mut out = vec![];
    let mut p = 2;
    while p * p <= n {
        while n % p == 0 {
            out.push(p);
            n /= p;
        }
        p += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// The innermost spatial iteration variable's name, if the stage has spatial loops.
fn innermost_spatial(p: &Program, st: &Stage) -> Option<String> {
    st.spatial().last().map(|iv| p.var_name(iv.var).to_string())
}

/// True when every load either does not depend on the innermost spatial variable or uses it
/// with coefficient 1 in its last dimension only: vector lanes then touch consecutive (or the
/// same) elements.
pub fn contiguous_inner(p: &Program, s: usize) -> bool {
    contiguous_after_pack(p, s, None)
}

/// Whether stage `s` can take [`StageDecision::reduce_inner`] with its innermost loop
/// vectorised: it reduces, has an output index, and every read moves by one element per step
/// of its last reduction variable in its last dimension only, or not at all (and one read
/// moves).
pub fn vector_reduce_ok(p: &Program, s: usize) -> bool {
    let st = &p.stages[s];
    if st.reduce.is_none() || st.spatial().next().is_none() {
        return false;
    }
    let Some(r) = st.reduction().last().map(|iv| iv.var) else {
        return false;
    };
    let mut loads = vec![];
    st.value.loads(&mut loads);
    loads.iter().all(|a| load_contiguous(a, r))
        && loads.iter().any(|a| a.idx.iter().any(|e| e.mentions(r)))
}

/// Whether some read of stage `s` is reused across an output index (it does not mention
/// every spatial variable): a contraction, where register tiles over the outputs pay. A
/// stage without one (a row maximum, a row sum) reads every element once whatever the
/// tiling, and vectorises best along its reduction.
fn reads_reused(p: &Program, s: usize) -> bool {
    let st = &p.stages[s];
    let mut loads = vec![];
    st.value.loads(&mut loads);
    loads.iter().any(|a| access_reused(st, a))
}

/// Whether stage `st` reads access `a`'s elements more than once: some spatial variable
/// leaves its index (`B[k, j]` is read again for every row `i`).
fn access_reused(st: &colt_ir::Stage, a: &colt_ir::Access) -> bool {
    st.spatial()
        .any(|iv| !a.idx.iter().any(|e| e.mentions(iv.var)))
}

/// Whether a read moves by one element per step of `v` in its last dimension only (or not at
/// all).
fn load_contiguous(a: &colt_ir::Access, v: colt_ir::VarId) -> bool {
    let n = a.idx.len();
    a.idx.iter().enumerate().all(|(d, e)| {
        if !e.mentions(v) {
            return true;
        }
        d + 1 == n && e.affine().is_some_and(|aff| aff.terms.get(&v) == Some(&1))
    })
}

/// Inputs of stage `s` that are worth packing: one index is exactly the innermost spatial
/// variable (which no other index mentions), some other index depends on a reduction
/// variable (a matmul-like weight), and the stage reads each element more than once (some
/// spatial variable leaves the read's index: `B[k, j]` is read again for every row `i`).
/// Packing an input read once — a GEMV's matrix — costs a whole extra pass over it that no
/// reuse pays back. Packing splits that dimension and puts its inner part last: `B[k, j]`
/// becomes `B_p[j/f, k, f]`, and `K[j, d]`, read across `j`, becomes `K_p[j/f, d, f]`,
/// which vector lanes over `j` then read contiguously.
pub fn pack_candidates(p: &Program, s: usize) -> Vec<String> {
    let st = &p.stages[s];
    let mut loads = vec![];
    st.value.loads(&mut loads);
    let mut out: Vec<String> = vec![];
    for a in loads {
        let b = p.buffer(a.buf);
        if b.kind != BufKind::Input || out.contains(&b.name) {
            continue;
        }
        if access_reused(st, a) && pack_dim(p, s, &b.name).is_some() {
            out.push(b.name.clone());
        }
    }
    out
}

/// The dimension of input `buffer` that a pack for stage `s` splits (see
/// [`pack_candidates`]), and the variable indexing it; `None` when the stage's reads of it
/// do not qualify.
pub fn pack_dim(p: &Program, s: usize, buffer: &str) -> Option<(usize, colt_ir::VarId)> {
    let st = &p.stages[s];
    let v = st.spatial().last()?.var;
    let red: Vec<_> = st.reduction().map(|iv| iv.var).collect();
    let b = p.buffer_by_name(buffer)?;
    let mut loads = vec![];
    st.value.loads(&mut loads);
    let a = loads.into_iter().find(|a| a.buf == b)?;
    let d = a.idx.iter().position(|e| *e == Idx::Var(v))?;
    let alone = a.idx.iter().filter(|e| e.mentions(v)).count() == 1;
    let reduces = a.idx.iter().any(|e| red.iter().any(|r| e.mentions(*r)));
    (alone && reduces).then_some((d, v))
}

/// Whether vector lanes over stage `s`'s innermost spatial loop read contiguously once input
/// `packed` (if any) is packed: [`contiguous_inner`], with the packed input's reads counted
/// as contiguous.
pub fn contiguous_after_pack(p: &Program, s: usize, packed: Option<&str>) -> bool {
    let st = &p.stages[s];
    let Some(v) = st.spatial().last().map(|iv| iv.var) else {
        return false;
    };
    let packed = packed.and_then(|b| pack_dim(p, s, b).and(p.buffer_by_name(b)));
    let mut loads = vec![];
    st.value.loads(&mut loads);
    loads
        .iter()
        .filter(|a| Some(a.buf) != packed)
        .all(|a| load_contiguous(a, v))
}

/// The one input whose reads keep stage `s` from being vectorised contiguously, when packing
/// it fixes that (e.g. `K` in `S[i, j] = sum_d Q[i, d] * K[j, d]`).
pub fn transposing_pack(p: &Program, s: usize) -> Option<String> {
    if contiguous_inner(p, s) {
        return None;
    }
    pack_candidates(p, s)
        .into_iter()
        .find(|b| contiguous_after_pack(p, s, Some(b)))
}

impl Sketch {
    /// No decisions: every stage at root, untiled (the naive nest).
    pub fn untouched(program: &Program) -> Sketch {
        Sketch {
            workload: program.name.clone(),
            stages: program
                .stages
                .iter()
                .map(|s| StageDecision::untouched(&s.name))
                .collect(),
        }
    }

    /// Whether other stages are computed with stage `s` (it owns their shared loop).
    pub fn leads(&self, s: usize) -> bool {
        let name = &self.stages[s].stage;
        self.stages.iter().any(|x| x.with.as_ref() == Some(name))
    }

    /// Whether stage `s` leads a compute-with group or is computed with another stage.
    pub fn grouped(&self, s: usize) -> bool {
        self.stages[s].with.is_some() || self.leads(s)
    }

    /// The decisions for stage `name`.
    pub fn stage(&self, name: &str) -> Option<&StageDecision> {
        self.stages.iter().find(|d| d.stage == name)
    }
    /// The decisions for stage `name`, mutably.
    pub fn stage_mut(&mut self, name: &str) -> Option<&mut StageDecision> {
        self.stages.iter_mut().find(|d| d.stage == name)
    }

    /// The canonical trace of these decisions (validated primitive by primitive, not lowered).
    pub fn to_trace(&self, program: &Program) -> Result<Trace> {
        Ok(self.realize(program)?.0)
    }

    /// The trace and the schedule it produces.
    pub fn realize(&self, program: &Program) -> Result<(Trace, Schedule)> {
        self.check_shape(program)?;
        let mut sch = Schedule::new(program.clone());
        let mut insts = vec![];
        for s in (0..program.stages.len()).rev() {
            self.phase_a(&mut sch, s, &mut insts)?;
        }
        for s in 0..program.stages.len() {
            self.phase_b(&mut sch, s, &mut insts)?;
        }
        Ok((
            Trace {
                version: TRACE_VERSION,
                workload: program.name.clone(),
                insts,
            },
            sch,
        ))
    }

    /// The schedule after phase A (placement and tiling) of every stage: the loops that
    /// compute locations, cache writes and parallel extents refer to.
    pub fn phase_a_schedule(&self, program: &Program) -> Result<Schedule> {
        self.check_shape(program)?;
        let mut sch = Schedule::new(program.clone());
        let mut insts = vec![];
        for s in (0..program.stages.len()).rev() {
            self.phase_a(&mut sch, s, &mut insts)?;
        }
        Ok(sch)
    }

    /// The schedule just before phase A of stage `s`: every stage after it placed and tiled.
    /// Placement choices of `s` are facts of this schedule.
    pub(crate) fn schedule_before(&self, program: &Program, s: usize) -> Result<Schedule> {
        self.check_shape(program)?;
        let mut sch = Schedule::new(program.clone());
        let mut insts = vec![];
        for t in (s + 1..program.stages.len()).rev() {
            self.phase_a(&mut sch, t, &mut insts)?;
        }
        Ok(sch)
    }

    /// Change where stage `s` is computed, resetting the decisions that no longer apply
    /// (a stage moved to root gets `tiles` and one parallel loop).
    pub(crate) fn set_placement(
        &mut self,
        program: &Program,
        s: usize,
        placement: Placement,
        tiles: Vec<Tile>,
    ) {
        let d = &mut self.stages[s];
        d.cache_write = None;
        d.with = None;
        d.pack = None;
        d.parallel = 0;
        d.partitions.clear();
        d.reduce_inner = false;
        match &placement {
            Placement::Inline => {
                d.tiles = vec![];
                d.vectorize = false;
                d.unroll = 0;
            }
            Placement::At { .. } => {
                d.tiles = vec![];
                d.vectorize = program.stages[s].reduce.is_none();
            }
            Placement::Root => {
                d.tiles = tiles;
                d.parallel = usize::from(program.stages[s].spatial().count() > 0);
                d.vectorize = contiguous_inner(program, s);
            }
        }
        d.placement = placement;
    }

    fn check_shape(&self, program: &Program) -> Result<()> {
        if self.workload != program.name {
            return Err(err(
                ErrorKind::WrongTrace,
                "sketch",
                format!(
                    "made for workload \"{}\", not \"{}\"",
                    self.workload, program.name
                ),
            ));
        }
        let names: Vec<&str> = program.stages.iter().map(|s| s.name.as_str()).collect();
        let mine: Vec<&str> = self.stages.iter().map(|s| s.stage.as_str()).collect();
        if names != mine {
            return Err(err(
                ErrorKind::WrongTrace,
                "sketch",
                format!(
                    "stages [{}] do not match the program's [{}]",
                    mine.join(", "),
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn phase_a(&self, sch: &mut Schedule, s: usize, out: &mut Vec<Inst>) -> Result<()> {
        let d = &self.stages[s];
        let stage = d.stage.clone();
        match &d.placement {
            Placement::Root => {}
            Placement::Inline => push(
                sch,
                out,
                Inst::ComputeInline {
                    stage: stage.clone(),
                },
            )?,
            Placement::At { consumer, loop_ } => push(
                sch,
                out,
                Inst::ComputeAt {
                    stage: stage.clone(),
                    consumer: consumer.clone(),
                    loop_: loop_.clone(),
                },
            )?,
        }
        for pt in &d.partitions {
            push(
                sch,
                out,
                Inst::Partition {
                    stage: stage.clone(),
                    loop_: pt.loop_.clone(),
                    at: pt.at,
                    from: pt.from,
                },
            )?;
        }
        if d.tiles.is_empty() {
            return Ok(());
        }
        let cx = format!("tile({stage})");
        if d.placement != Placement::Root {
            return Err(err(
                ErrorKind::Illegal,
                cx,
                "only stages computed at root are tiled",
            ));
        }
        let kinds = tile_kinds(sch, s, d, &cx)?;
        emit_tiling(sch, s, d, &kinds, &cx, out)?;
        for (t, td) in tail_decisions(sch, s, d) {
            let cx = format!("tile({})", td.stage);
            let kinds = tile_kinds(sch, t, &td, &cx)?;
            emit_tiling(sch, t, &td, &kinds, &cx, out)?;
        }
        Ok(())
    }

    /// The pack factor in effect: the given one, or the innermost tile of the loop indexing
    /// the packed dimension.
    pub fn pack_factor(&self, program: &Program, s: usize, pk: &PackDecision) -> Result<i64> {
        if let Some(f) = pk.factor {
            return Ok(f);
        }
        let cx = format!("pack({}, {})", self.stages[s].stage, pk.buffer);
        let st = &program.stages[s];
        let b = program.buffer_by_name(&pk.buffer).ok_or_else(|| {
            err(
                ErrorKind::UnknownBuffer,
                &cx,
                format!("no buffer named \"{}\"", pk.buffer),
            )
        })?;
        let mut loads = vec![];
        st.value.loads(&mut loads);
        let a = loads.into_iter().find(|a| a.buf == b).ok_or_else(|| {
            err(
                ErrorKind::Illegal,
                &cx,
                format!("stage {} does not read {}", st.name, pk.buffer),
            )
        })?;
        let at_dim = pack_dim(program, s, &pk.buffer).map(|(d, _)| &a.idx[d]);
        let default = match at_dim.or(a.idx.last()) {
            Some(Idx::Var(v)) => self.stages[s]
                .tile(program.var_name(*v))
                .and_then(|t| t.factors.last().copied()),
            _ => None,
        };
        default.ok_or_else(|| {
            err(
                ErrorKind::BadDecision,
                &cx,
                "no innermost tile indexes the last dimension; give the factor explicitly",
            )
        })
    }

    fn phase_b(&self, sch: &mut Schedule, s: usize, out: &mut Vec<Inst>) -> Result<()> {
        let d = &self.stages[s];
        let stage = d.stage.clone();
        if d.placement == Placement::Inline {
            if d.cache_write.is_some()
                || d.with.is_some()
                || d.parallel > 0
                || d.vectorize
                || d.unroll > 0
                || d.pack.is_some()
            {
                return Err(err(
                    ErrorKind::Illegal,
                    format!("compute_inline({stage})"),
                    "an inlined stage has no loops to cache, pack, parallelise, vectorise or unroll",
                ));
            }
            return Ok(());
        }
        emit_with(sch, d, out)?;
        emit_cache_write(sch, d, out)?;
        if let Some(pk) = &d.pack {
            self.emit_pack(sch, s, pk, out)?;
        }
        emit_annotations(sch, s, d, out)?;
        // the tails of a group's stages are computed with the group too
        let leads = self.leads(s);
        for (t, mut td) in tail_decisions(sch, s, d) {
            if leads {
                td.with = Some(d.stage.clone());
            }
            if td.with.is_some() {
                td.parallel = 0;
            }
            emit_with(sch, &td, out)?;
            emit_cache_write(sch, &td, out)?;
            emit_annotations(sch, t, &td, out)?;
        }
        Ok(())
    }

    /// Emit the pack of stage `s`, and the parallel outer loops and vectorised inner loop of
    /// the packing stage it adds.
    fn emit_pack(
        &self,
        sch: &mut Schedule,
        s: usize,
        pk: &PackDecision,
        out: &mut Vec<Inst>,
    ) -> Result<()> {
        let factor = self.pack_factor(&sch.program, s, pk)?;
        let b = sch
            .program
            .buffer_by_name(&pk.buffer)
            .map(|b| sch.program.buffer(b).shape.len())
            .unwrap_or(0);
        let packed = pack_dim(&sch.program, s, &pk.buffer);
        let dim = packed.map_or(b.saturating_sub(1), |(d, _)| d);
        // A tail that starts inside a block of the stage's copy (an overlapping whole-vector
        // tail of the lane loop) packs its own window first: its vectors read one block.
        let windows: Vec<(String, i64, i64)> = match packed {
            Some((_, v)) => {
                let name = sch.program.var_name(v).to_string();
                tail_decisions(sch, s, &self.stages[s])
                    .into_iter()
                    .filter_map(|(t, td)| {
                        let from = read_start(&sch.program, t, &pk.buffer, dim)?;
                        let f = td.tile(&name)?.factors.last().copied()?;
                        (from % factor != 0).then_some((td.stage, from, f))
                    })
                    .collect()
            }
            None => vec![],
        };
        for (tail, from, f) in windows {
            emit_pack_inst(sch, out, tail, &pk.buffer, dim, f, Some(from))?;
        }
        let stage = self.stages[s].stage.clone();
        emit_pack_inst(sch, out, stage, &pk.buffer, dim, factor, None)
    }

    /// Recover the decisions of a trace in canonical sketch form. A trace written by hand in
    /// another order (or using `fuse`, `parallel`, `unroll` directly) is rejected with
    /// [`ErrorKind::NotSketch`]; it still replays, but its decisions cannot be edited.
    pub fn from_trace(program: &Program, trace: &Trace) -> Result<Sketch> {
        if trace.workload != program.name {
            return Err(err(
                ErrorKind::WrongTrace,
                "trace",
                format!(
                    "made for workload \"{}\", not \"{}\"",
                    trace.workload, program.name
                ),
            ));
        }
        let mut sk = Sketch::untouched(program);
        // The trace replayed alongside: a reorder that leaves a reduction loop innermost in a
        // stage with output loops is the reduce-inner order (the names alone do not tell).
        let mut sch = Some(Schedule::new(program.clone()));
        for inst in &trace.insts {
            if let Some(live) = sch.as_mut()
                && live.apply(inst).is_err()
            {
                sch = None;
            }
            let Some(s) = program.stage_index(inst.stage()) else {
                continue;
            };
            record(&mut sk.stages[s], inst)?;
            if let (Inst::Reorder { .. }, Some(live)) = (inst, &sch) {
                sk.stages[s].reduce_inner = program.stages[s].spatial().next().is_some()
                    && live.stages[s]
                        .loops
                        .last()
                        .is_some_and(|l| live.touches_reduce(s, l.var));
            }
        }
        sk.default_pack_factors(program);
        sk.check_canonical(program, trace)?;
        Ok(sk)
    }

    /// Drop every pack factor equal to the innermost tile: that is the default.
    fn default_pack_factors(&mut self, program: &Program) {
        for s in 0..self.stages.len() {
            if let Some(pk) = self.stages[s].pack.clone() {
                let auto = self
                    .pack_factor(
                        program,
                        s,
                        &PackDecision {
                            factor: None,
                            ..pk.clone()
                        },
                    )
                    .ok();
                if auto.is_some() && auto == pk.factor {
                    self.stages[s].pack = Some(PackDecision { factor: None, ..pk });
                }
            }
        }
    }

    /// Errors unless these decisions rebuild exactly `trace`, naming the first instruction
    /// that differs.
    fn check_canonical(&self, program: &Program, trace: &Trace) -> Result<()> {
        let canon = self
            .to_trace(program)
            .map_err(|e| not_sketch(format!("decisions do not rebuild ({e})")))?;
        if canon.insts != trace.insts {
            let k = canon
                .insts
                .iter()
                .zip(&trace.insts)
                .position(|(a, b)| a != b)
                .unwrap_or(canon.insts.len().min(trace.insts.len()));
            let got = trace
                .insts
                .get(k)
                .map_or("the end of the trace".to_string(), |i| i.text());
            let want = canon
                .insts
                .get(k)
                .map_or("the end of the trace".to_string(), |i| i.text());
            return Err(not_sketch(format!(
                "instruction {k} is {got} where the sketch form has {want}"
            )));
        }
        Ok(())
    }
}

/// Tile levels of a loop of `kind` in a stage that reduces (`has_reduce`: SSRSRS) or not (SS).
fn tile_levels(kind: IterKind, has_reduce: bool) -> usize {
    match (kind, has_reduce) {
        (IterKind::Reduce, _) => REDUCE_LEVELS,
        (IterKind::Spatial, true) => SPATIAL_LEVELS,
        (IterKind::Spatial, false) => ELEMENTWISE_LEVELS,
    }
}

/// The kind of the loop of each tile of `d` (decisions of stage `s`, at root), checking that
/// every loop of the stage is tiled exactly once with the levels its kind needs.
fn tile_kinds(sch: &Schedule, s: usize, d: &StageDecision, cx: &str) -> Result<Vec<IterKind>> {
    let st = &sch.program.stages[s];
    let has_reduce = st.reduction().next().is_some();
    let mut kinds = vec![];
    for iv in &st.iters {
        let name = sch.program.var_name(iv.var);
        let n = d.tiles.iter().filter(|t| t.loop_ == name).count();
        if n != 1 {
            return Err(err(
                ErrorKind::BadDecision,
                cx,
                format!("every loop is tiled exactly once; loop {name} is tiled {n} times"),
            ));
        }
    }
    if d.tiles.len() != st.iters.len() {
        return Err(err(
            ErrorKind::UnknownLoop,
            cx,
            "a tile names a loop the stage does not have",
        ));
    }
    for t in &d.tiles {
        let iv = st
            .iters
            .iter()
            .find(|iv| sch.program.var_name(iv.var) == t.loop_)
            .expect("checked above");
        let want = tile_levels(iv.kind, has_reduce);
        if t.factors.len() != want {
            return Err(err(
                ErrorKind::BadDecision,
                cx,
                format!(
                    "loop {} needs {want} tile factors, got {}",
                    t.loop_,
                    t.factors.len()
                ),
            ));
        }
        kinds.push(iv.kind);
    }
    Ok(kinds)
}

/// Emit the splits of the tiles of `d` (loop kinds `kinds`) and the reorder into the
/// interleaving S0 S1 R0 S2 R1 S3 (SS: S0 S1) when the loops are not in it already.
fn emit_tiling(
    sch: &mut Schedule,
    s: usize,
    d: &StageDecision,
    kinds: &[IterKind],
    cx: &str,
    out: &mut Vec<Inst>,
) -> Result<()> {
    let has_reduce = sch.program.stages[s].reduction().next().is_some();
    // slot of each level in the interleaving S0 S1 R0 S2 R1 S3 (SS: S0 S1), or
    // S0 S1 R0 S2 S3 R1 with the reduction innermost
    let slot = |kind: IterKind, level: usize| -> usize {
        match (kind, has_reduce, d.reduce_inner) {
            (IterKind::Spatial, true, false) => [0, 1, 3, 5][level],
            (IterKind::Reduce, _, false) => [2, 4][level],
            (IterKind::Spatial, true, true) => [0, 1, 3, 4][level],
            (IterKind::Reduce, _, true) => [2, 5][level],
            (IterKind::Spatial, false, _) => level,
        }
    };
    let mut slots: Vec<Vec<String>> = vec![vec![]; 6];
    for (t, &kind) in d.tiles.iter().zip(kinds) {
        let p = sch.stages[s]
            .loops
            .iter()
            .position(|l| sch.var_name(l.var) == t.loop_)
            .ok_or_else(|| {
                err(
                    ErrorKind::UnknownLoop,
                    cx,
                    format!("loop {} is gone (was it split already?)", t.loop_),
                )
            })?;
        push(
            sch,
            out,
            Inst::Split(LoopFactors {
                stage: d.stage.clone(),
                loop_: t.loop_.clone(),
                factors: t.factors.clone(),
            }),
        )?;
        let names = sch.loop_names(s);
        for (level, nm) in names[p..p + t.factors.len()].iter().enumerate() {
            slots[slot(kind, level)].push(nm.clone());
        }
    }
    let order: Vec<String> = slots.into_iter().flatten().collect();
    if order != sch.loop_names(s) {
        push(
            sch,
            out,
            Inst::Reorder {
                stage: d.stage.clone(),
                order,
            },
        )?;
    }
    Ok(())
}

/// Emit the compute-with of `d`, if it has one.
fn emit_with(sch: &mut Schedule, d: &StageDecision, out: &mut Vec<Inst>) -> Result<()> {
    match &d.with {
        Some(w) => push(
            sch,
            out,
            Inst::ComputeWith {
                stage: d.stage.clone(),
                with: w.clone(),
            },
        ),
        None => Ok(()),
    }
}

/// Emit the write cache of `d`, if it has one.
fn emit_cache_write(sch: &mut Schedule, d: &StageDecision, out: &mut Vec<Inst>) -> Result<()> {
    match &d.cache_write {
        Some(l) => push(
            sch,
            out,
            Inst::CacheWrite(StageLoop {
                stage: d.stage.clone(),
                loop_: l.clone(),
            }),
        ),
        None => Ok(()),
    }
}

/// The tails of partitioned stage `s` (decisions `d`) in `sch` and their decisions: those of
/// the stage, except that a loop whose tile does not cover the tail's iterations (the loop
/// partitioned, or one an earlier partition left whole to this tail) is tiled anew
/// ([`tail_tile`]), and nothing is packed or partitioned again.
fn tail_decisions(sch: &Schedule, s: usize, d: &StageDecision) -> Vec<(usize, StageDecision)> {
    if d.partitions.is_empty() {
        return vec![];
    }
    let tail = |t: usize| {
        let st = &sch.program.stages[t];
        let extent_of = |loop_: &str| {
            st.iters
                .iter()
                .find(|iv| sch.program.var_name(iv.var) == loop_)
                .map_or(1, |iv| iv.extent)
        };
        let tiles = d
            .tiles
            .iter()
            .map(|tile| {
                let extent = extent_of(&tile.loop_);
                let partitioned = d.partitions.iter().any(|pt| pt.loop_ == tile.loop_);
                if !partitioned && tile.factors.iter().product::<i64>() == extent {
                    tile.clone()
                } else {
                    tail_tile(tile, extent)
                }
            })
            .collect();
        let decision = StageDecision {
            stage: st.name.clone(),
            tiles,
            pack: None,
            partitions: vec![],
            ..d.clone()
        };
        (t, decision)
    };
    sch.stages[s].tails.iter().map(|&t| tail(t)).collect()
}

/// `tile` (of the partitioned stage) for a tail's `extent` iterations of its loop: the largest
/// divisor of them no larger than the stage's innermost factor innermost, the rest outermost.
fn tail_tile(tile: &Tile, extent: i64) -> Tile {
    let inner = tile.factors.last().copied().unwrap_or(1);
    let fit = divisors(extent)
        .into_iter()
        .filter(|&f| f <= inner)
        .max()
        .unwrap_or(1);
    let mut factors = vec![1; tile.factors.len()];
    factors[0] = extent / fit;
    if let Some(last) = factors.last_mut() {
        *last *= fit;
    }
    Tile {
        loop_: tile.loop_.clone(),
        factors,
    }
}

/// Emit the parallel outer loops, vectorised inner loop and auto-unroll step of `d`
/// (decisions of stage `s`, not inlined).
fn emit_annotations(
    sch: &mut Schedule,
    s: usize,
    d: &StageDecision,
    out: &mut Vec<Inst>,
) -> Result<()> {
    let stage = d.stage.clone();
    if d.parallel > 0 {
        if matches!(d.placement, Placement::At { .. }) {
            return Err(err(
                ErrorKind::Illegal,
                format!("parallel_outer({stage}, {})", d.parallel),
                "a stage computed inside another runs inside its consumer's loops; parallelise the consumer",
            ));
        }
        push(
            sch,
            out,
            Inst::ParallelOuter {
                stage: stage.clone(),
                n: d.parallel,
            },
        )?;
    }
    if d.vectorize {
        let inner = sch.loop_names(s).last().cloned().ok_or_else(|| {
            err(
                ErrorKind::Illegal,
                format!("vectorize({stage})"),
                "the stage has no loops",
            )
        })?;
        push(
            sch,
            out,
            Inst::Vectorize(StageLoop {
                stage: stage.clone(),
                loop_: inner,
            }),
        )?;
    }
    if d.unroll > 0 {
        push(
            sch,
            out,
            Inst::AutoUnroll {
                stage,
                max_step: d.unroll,
            },
        )?;
    }
    Ok(())
}

/// Record the decision `inst` (an instruction of stage decision `d`'s stage) makes.
fn record(d: &mut StageDecision, inst: &Inst) -> Result<()> {
    match inst {
        Inst::Split(LoopFactors { loop_, factors, .. }) => d.tiles.push(Tile {
            loop_: loop_.clone(),
            factors: factors.clone(),
        }),
        Inst::Reorder { .. } => {}
        Inst::ComputeInline { .. } => d.placement = Placement::Inline,
        Inst::ComputeWith { with, .. } => d.with = Some(with.clone()),
        Inst::ComputeAt {
            consumer, loop_, ..
        } => {
            d.placement = Placement::At {
                consumer: consumer.clone(),
                loop_: loop_.clone(),
            }
        }
        Inst::CacheWrite(StageLoop { loop_, .. }) => d.cache_write = Some(loop_.clone()),
        Inst::ParallelOuter { n, .. } => d.parallel = *n,
        Inst::Vectorize(_) => d.vectorize = true,
        Inst::AutoUnroll { max_step, .. } => d.unroll = *max_step,
        Inst::Pack { buffer, factor, .. } => {
            d.pack = Some(PackDecision {
                buffer: buffer.clone(),
                factor: Some(*factor),
            })
        }
        Inst::Partition {
            loop_, at, from, ..
        } => d.partitions.push(Partition {
            loop_: loop_.clone(),
            at: *at,
            from: *from,
        }),
        Inst::Fuse { .. } | Inst::Parallel(_) | Inst::Unroll(_) => {
            return Err(not_sketch(format!(
                "{} is not a sketch instruction (its decisions cannot be edited)",
                inst.text()
            )));
        }
    }
    Ok(())
}

/// What a stage may be: facts of the live schedule used by sampling, mutation and actions.
pub(crate) struct StageFacts {
    /// The stage can be inlined now.
    pub inlinable: bool,
    /// Inlining would recompute the stage (a consumer iterates over more points than it).
    pub inline_recomputes: bool,
    /// The only consumer and its candidate loops when the stage may be computed at it.
    pub at: Option<(String, Vec<String>)>,
}

/// Placement facts of stage `s` in schedule `sch` (stages after `s` already placed and tiled).
pub(crate) fn stage_facts(sch: &Schedule, s: usize) -> StageFacts {
    let p = &sch.program;
    let st = &p.stages[s];
    let temp = p.buffer(st.store.buf).kind == BufKind::Temp;
    let consumers = p.consumers(s);
    let untouched = sch.stages[s].attach == Attach::Root && !sch.stages[s].transformed;
    let hosts = sch.hosts(s);
    let inlinable = st.reduce.is_none() && temp && !consumers.is_empty() && untouched && !hosts;
    let inline_recomputes = consumers
        .iter()
        .any(|&c| p.stages[c].domain_size() > st.domain_size());
    let mut at = None;
    if st.reduce.is_none() && temp && consumers.len() == 1 && untouched && !hosts {
        let c = consumers[0];
        if sch.stages[c].attach == Attach::Root {
            let first_red = sch.first_reduce_loop(c);
            let n = sch.stages[c].loops.len();
            let names = sch.loop_names(c);
            // spatial loops outside the first reduction, never the innermost (vector) loop
            let cands: Vec<String> = names[..first_red.min(n.saturating_sub(1))].to_vec();
            if !cands.is_empty() {
                at = Some((p.stages[c].name.clone(), cands));
            }
        }
    }
    StageFacts {
        inlinable,
        inline_recomputes,
        at,
    }
}

/// Positions (in stage `s`'s current loops) that later instructions must keep addressable:
/// compute-at targets and the write cache.
fn targets(sch: &Schedule, s: usize) -> Vec<usize> {
    let sc = &sch.stages[s];
    let mut out = vec![];
    for ps in &sch.stages {
        if let Attach::At { consumer, var, .. } = &ps.attach
            && *consumer == s
        {
            out.extend(sc.loops.iter().position(|l| l.var == *var));
        }
    }
    if let Some(v) = sc.cache_write {
        out.extend(sc.loops.iter().position(|l| l.var == v));
    }
    out
}

/// Legal numbers of outer loops to fuse and parallelise for stage `s` in `sch` (after phase A
/// and its cache write): spatial loops, never the innermost loop, never past a target that is
/// not the last fused loop.
pub fn parallel_choices(sch: &Schedule, s: usize) -> Vec<usize> {
    let sc = &sch.stages[s];
    let n = sc.loops.len();
    if n == 0 || sc.attach != Attach::Root {
        return vec![];
    }
    let mut max = sch.first_reduce_loop(s).min(n - 1);
    if n == 1 && sch.first_reduce_loop(s) == 1 {
        max = 1;
    }
    for t in targets(sch, s) {
        max = max.min(t + 1);
    }
    (1..=max).collect()
}

/// The [`parallel_choices`] the sampler and the mutator draw from: those whose fused loops
/// have more than one iteration (a parallel loop of one iteration runs on one core), unless
/// there is no other.
pub(crate) fn useful_parallel_choices(sch: &Schedule, s: usize) -> Vec<usize> {
    let all = parallel_choices(sch, s);
    let useful: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&n| fused_extent(sch, s, n) > 1)
        .collect();
    if useful.is_empty() { all } else { useful }
}

/// Iterations of the first `n` loops of stage `s`, fused.
fn fused_extent(sch: &Schedule, s: usize, n: usize) -> i64 {
    sch.stages[s]
        .loops
        .iter()
        .take(n)
        .map(|l| l.extent)
        .product()
}

/// The first stage of `trace` whose `parallel_outer` fuses loops of one iteration in all
/// (so the stage runs on one core) where a legal choice at that point would have fused
/// more; `None` when there is none or the trace does not replay.
pub fn idle_parallel_stage(program: &Program, trace: &Trace) -> Option<String> {
    let mut sch = Schedule::new(program.clone());
    for inst in &trace.insts {
        if let Inst::ParallelOuter { stage, n } = inst
            && let Some(s) = sch.program.stage_index(stage)
        {
            let wider = parallel_choices(&sch, s)
                .into_iter()
                .any(|m| fused_extent(&sch, s, m) > 1);
            if fused_extent(&sch, s, *n) == 1 && wider {
                return Some(stage.clone());
            }
        }
        sch.apply(inst).ok()?;
    }
    None
}

/// Draw a perfect tiling of `extent` into `levels` factors: primes go to random levels; the
/// innermost factor of the innermost spatial loop prefers a vector width (16, 8, 32, 4).
pub(crate) fn draw_factors(
    rng: &mut Pcg64,
    extent: i64,
    levels: usize,
    vector_inner: bool,
) -> Vec<i64> {
    let mut f = vec![1i64; levels];
    let mut rest = extent;
    if vector_inner && rng.random_bool(0.8) {
        let prefs: Vec<i64> = [16, 8, 32, 4]
            .into_iter()
            .filter(|w| extent % w == 0)
            .collect();
        if !prefs.is_empty() {
            // 16 and 8 twice as likely
            let k = rng.random_range(0..prefs.len() + 2);
            let w = if k < prefs.len() { prefs[k] } else { prefs[0] };
            f[levels - 1] = w;
            rest /= w;
        }
    }
    let mut ps = primes(rest);
    // shuffle so the cap below does not always favour small primes
    for i in (1..ps.len()).rev() {
        let j = rng.random_range(0..=i);
        ps.swap(i, j);
    }
    let inner_fixed = f[levels - 1] > 1;
    for p in ps {
        let mut l = rng.random_range(0..levels);
        if l == levels - 1 && (inner_fixed || f[l] * p > MAX_INNER) {
            l = rng.random_range(0..levels - 1);
        }
        f[l] *= p;
    }
    f
}

/// One tile per loop of stage `s` of `p`, with the tiling levels its kind takes (reduction,
/// spatial of a reduction stage, elementwise); `factors(extent, levels, innermost_spatial)`
/// gives its factors.
fn tiles_of(
    p: &Program,
    s: usize,
    mut factors: impl FnMut(i64, usize, bool) -> Vec<i64>,
) -> Vec<Tile> {
    let st = &p.stages[s];
    let has_reduce = st.reduction().next().is_some();
    let inner = innermost_spatial(p, st);
    st.iters
        .iter()
        .map(|iv| {
            let name = p.var_name(iv.var).to_string();
            let levels = tile_levels(iv.kind, has_reduce);
            let is_inner = Some(&name) == inner.as_ref();
            Tile {
                factors: factors(iv.extent, levels, is_inner),
                loop_: name,
            }
        })
        .collect()
}

/// Deterministic tiling used when an action moves a stage back to root: all outer, with a
/// vector-width innermost factor for the innermost spatial loop.
pub(crate) fn default_tiles(p: &Program, s: usize) -> Vec<Tile> {
    tiles_of(p, s, |extent, levels, is_inner| {
        let mut f = vec![1; levels];
        let w = if is_inner {
            [16, 8, 4, 2]
                .into_iter()
                .find(|w| extent % w == 0)
                .unwrap_or(1)
        } else {
            1
        };
        f[levels - 1] = w;
        f[0] = extent / w;
        f
    })
}

/// Random tiles for stage `s` of program `p`.
pub(crate) fn draw_tiles(rng: &mut Pcg64, p: &Program, s: usize) -> Vec<Tile> {
    tiles_of(p, s, |extent, levels, is_inner| {
        draw_factors(rng, extent, levels, is_inner)
    })
}

/// Whether evaluating `v` calls a transcendental function (exp, sqrt, tanh, sigmoid, SiLU,
/// log, erf, pow).
fn transcendental(v: &colt_ir::Value) -> bool {
    use colt_ir::{BinOp, UnOp, Value};
    match v {
        Value::Const(_) | Value::Load(_) => false,
        Value::Unary(op, a) => {
            !matches!(op, UnOp::Neg | UnOp::Relu | UnOp::Abs) || transcendental(a)
        }
        Value::Binary(BinOp::Pow, ..) => true,
        Value::Binary(_, a, b) | Value::Select(_, a, b) => transcendental(a) || transcendental(b),
        Value::Compare(_, vs) => vs.iter().any(transcendental),
    }
}

/// Tiles of a stage at root, the partitions they assume, and whether the reduction goes
/// innermost ([`StageDecision::reduce_inner`]).
struct RootTiles {
    tiles: Vec<Tile>,
    partitions: Vec<Partition>,
    reduce_inner: bool,
}

impl RootTiles {
    fn none() -> RootTiles {
        RootTiles {
            tiles: vec![],
            partitions: vec![],
            reduce_inner: false,
        }
    }
}

/// Draw every decision of one stage's phase A given the live schedule (stages after it done).
fn draw_placement(
    rng: &mut Pcg64,
    sch: &Schedule,
    s: usize,
    target: Option<VectorTarget>,
) -> (Placement, RootTiles) {
    let facts = stage_facts(sch, s);
    if facts.inlinable {
        // MetaSchedule's AutoInline refuses to inline `exp` (its `disallow_op`): recomputing a
        // transcendental for every point of a larger consumer (softmax's exp inside the ·V
        // reduction) made most attention samples 50x slower than the naive nest.
        let p = match (
            facts.inline_recomputes,
            transcendental(&sch.program.stages[s].value),
        ) {
            (false, _) => 0.85,
            (true, false) => 0.2,
            (true, true) => 0.0,
        };
        if rng.random_bool(p) {
            return (Placement::Inline, RootTiles::none());
        }
    }
    if let Some((consumer, loops)) = facts.at
        && rng.random_bool(0.5)
    {
        let l = loops[rng.random_range(0..loops.len())].clone();
        return (Placement::At { consumer, loop_: l }, RootTiles::none());
    }
    (
        Placement::Root,
        draw_root_tiles(rng, &sch.program, s, target),
    )
}

/// Tiles of a stage at root: with a target, half of the reduction stages get a register tile
/// (see [`crate::register`]; it may partition the stage); a reduction that can vectorise
/// along its reduction ([`vector_reduce_ok`]) puts it innermost, mostly where output tiles
/// cannot pay: no read is reused across outputs ([`reads_reused`]), or vector lanes over the
/// innermost output would read across rows of an input that no pack fixes; the rest a
/// uniform draw.
fn draw_root_tiles(
    rng: &mut Pcg64,
    p: &Program,
    s: usize,
    target: Option<VectorTarget>,
) -> RootTiles {
    let register = target
        .filter(|_| p.stages[s].reduce.is_some() && rng.random_bool(0.5))
        .and_then(|t| register_tiles(rng, p, s, t));
    if let Some(rt) = register {
        return RootTiles {
            tiles: rt.tiles,
            partitions: rt.partitions,
            reduce_inner: false,
        };
    }
    // output tiles pay for reuse only where lanes over the innermost output read
    // contiguously, directly or from a pack (a GEMV's matrix, read once, is neither)
    let tiles_pay =
        reads_reused(p, s) && (contiguous_inner(p, s) || transposing_pack(p, s).is_some());
    if vector_reduce_ok(p, s) && rng.random_bool(if tiles_pay { 0.15 } else { 0.9 }) {
        return RootTiles {
            tiles: draw_reduce_inner_tiles(rng, p, s),
            partitions: vec![],
            reduce_inner: true,
        };
    }
    RootTiles {
        tiles: draw_tiles(rng, p, s),
        partitions: vec![],
        reduce_inner: false,
    }
}

/// Random tiles for stage `s` with its last reduction loop innermost: that loop's inner
/// factor fills whole vectors ([`reduce_inner_factor`]), the other loops draw as usual.
fn draw_reduce_inner_tiles(rng: &mut Pcg64, p: &Program, s: usize) -> Vec<Tile> {
    let st = &p.stages[s];
    let last = st.reduction().last().map(|iv| iv.var);
    st.iters
        .iter()
        .map(|iv| {
            let levels = tile_levels(iv.kind, true);
            let factors = if Some(iv.var) == last {
                let inner = reduce_inner_factor(rng, iv.extent);
                let mut f = vec![1; levels];
                f[0] = iv.extent / inner;
                f[levels - 1] = inner;
                f
            } else {
                draw_factors(rng, iv.extent, levels, false)
            };
            Tile {
                loop_: p.var_name(iv.var).to_string(),
                factors,
            }
        })
        .collect()
}

/// The inner factor of a vectorised reduction loop of `extent` iterations: uniformly one of
/// its divisors that fill whole vectors of 8 or 16 lanes (multiples of 8, at least 16), or
/// the whole loop.
fn reduce_inner_factor(rng: &mut Pcg64, extent: i64) -> i64 {
    let c: Vec<i64> = divisors(extent)
        .into_iter()
        .filter(|&d| d == extent || (d >= 16 && d % 8 == 0))
        .collect();
    c[rng.random_range(0..c.len())]
}

/// Draw a complete sketch. Every decision is checked against the live schedule as it is made,
/// so the result always rebuilds; [`sample`] also lowers it.
pub fn sample_sketch(program: &Program, rng: &mut Pcg64) -> Result<Sketch> {
    sample_sketch_for(program, None, rng)
}

/// [`sample_sketch`] for the vector registers of `target` (`None`: no register prior).
pub fn sample_sketch_for(
    program: &Program,
    target: Option<VectorTarget>,
    rng: &mut Pcg64,
) -> Result<Sketch> {
    let mut sk = Sketch::untouched(program);
    let mut sch = Schedule::new(program.clone());
    let mut insts = vec![];
    for s in (0..program.stages.len()).rev() {
        let (placement, rt) = draw_placement(rng, &sch, s, target);
        sk.stages[s].placement = placement;
        sk.stages[s].set_root_tiles(rt);
        let mut trial = sch.clone();
        insts.clear();
        if sk.phase_a(&mut trial, s, &mut insts).is_err() {
            // a placement the live schedule rejects: fall back to root tiling
            sk.stages[s].placement = Placement::Root;
            sk.stages[s].set_root_tiles(draw_root_tiles(rng, program, s, target));
            trial = sch.clone();
            sk.phase_a(&mut trial, s, &mut insts)?;
        }
        sch = trial;
    }
    let runs = batch::batched_runs(program);
    if !runs.is_empty()
        && rng.random_bool(batch::GROUP_P)
        && let Some(grouped) = batch::draw_group(rng, program, &runs, &mut sk)
    {
        sch = grouped;
    }
    for s in 0..program.stages.len() {
        if sk.stages[s].placement == Placement::Inline {
            continue;
        }
        draw_phase_b(rng, program, &mut sch, s, &mut sk.stages[s], target);
    }
    batch::group_parallel(&mut sk);
    Ok(sk)
}

/// Draw the phase-B decisions `d` of stage `s` (placed and tiled in `sch`, not inlined):
/// write cache (applied to `sch` when it is legal), pack, parallel loops, vectorisation and
/// auto-unroll.
fn draw_phase_b(
    rng: &mut Pcg64,
    program: &Program,
    sch: &mut Schedule,
    s: usize,
    d: &mut StageDecision,
    target: Option<VectorTarget>,
) {
    let st = &program.stages[s];
    let is_root = d.placement == Placement::Root;
    let has_reduce = st.reduce.is_some();
    // A register tile accumulates at the S1 loop: the cached tile is then the register tile.
    let register = is_root
        && !d.reduce_inner
        && target.is_some_and(|t| is_register_tile(program, s, &d.tiles, t));
    // write cache at the last S0 or S1 loop
    if is_root && has_reduce && !d.tiles.is_empty() && (register || rng.random_bool(0.5)) {
        let level = if register {
            1
        } else {
            rng.random_range(0..2usize)
        };
        draw_cache_write(st, sch, s, d, level);
    }
    // A register tile over lanes that read an input across rows packs that input.
    let transposing = if register {
        transposing_pack(program, s)
    } else {
        None
    };
    if let Some(b) = transposing {
        d.pack = Some(PackDecision {
            buffer: b,
            factor: None,
        });
    } else if is_root && !d.tiles.is_empty() && rng.random_bool(0.3) {
        let cands = pack_candidates(program, s);
        if !cands.is_empty() {
            let b = cands[rng.random_range(0..cands.len())].clone();
            d.pack = Some(PackDecision {
                buffer: b,
                factor: None,
            });
        }
    }
    if is_root {
        let choices = useful_parallel_choices(sch, s);
        if !choices.is_empty() {
            let enough = choices
                .iter()
                .copied()
                .find(|&n| fused_extent(sch, s, n) >= 64);
            let n = match enough {
                Some(n) if rng.random_bool(0.5) => n,
                _ => choices[rng.random_range(0..choices.len())],
            };
            d.parallel = n;
        }
    }
    let inner_spatial = sch.stages[s]
        .loops
        .last()
        .is_some_and(|l| !sch.touches_reduce(s, l.var));
    if inner_spatial {
        let packed = d.pack.as_ref().map(|pk| pk.buffer.as_str());
        let p = if contiguous_after_pack(program, s, packed) {
            0.9
        } else {
            0.3
        };
        d.vectorize = rng.random_bool(p);
    } else if d.reduce_inner && is_root {
        d.vectorize = rng.random_bool(0.95);
    }
    // A register tile's rows must be unrolled for its accumulators to stay in registers.
    let steps: Vec<i64> = if register {
        let rows = register_rows(program, s, &d.tiles);
        UNROLL_STEPS.into_iter().filter(|&u| u >= rows).collect()
    } else {
        UNROLL_STEPS.to_vec()
    };
    d.unroll = steps[rng.random_range(0..steps.len())];
}

/// A write cache for reduction stage `st` (index `s`) at its last S0 (`level` 0) or S1
/// (`level` 1) loop, kept (and applied to `sch`) only when the live schedule accepts it.
fn draw_cache_write(st: &Stage, sch: &mut Schedule, s: usize, d: &mut StageDecision, level: usize) {
    let n_sp = st.spatial().count();
    let names = sch.loop_names(s);
    if n_sp > 0 {
        d.cache_write = Some(names[(level + 1) * n_sp - 1].clone());
        let mut trial = sch.clone();
        let name = d.cache_write.clone().expect("set");
        if trial
            .apply(&Inst::CacheWrite(StageLoop {
                stage: st.name.clone(),
                loop_: name,
            }))
            .is_ok()
        {
            *sch = trial;
        } else {
            d.cache_write = None;
        }
    }
}

/// A random trace from the CPU sketch of `program`, drawn with `rng`: it always replays and
/// lowers (a draw that would not is redrawn; after 16 failures the untouched schedule is used,
/// which [`try_sample`] reports as an error instead).
pub fn sample(program: &Program, rng: &mut Pcg64) -> Trace {
    sample_for(program, None, rng)
}

/// [`sample`] for the vector registers of `target` (`None`: no register prior).
pub fn sample_for(program: &Program, target: Option<VectorTarget>, rng: &mut Pcg64) -> Trace {
    for _ in 0..16 {
        if let Ok(t) = try_sample_for(program, target, rng) {
            return t;
        }
    }
    Trace::new(program.name.clone())
}

/// One draw; the error says which decision failed to replay or lower.
pub fn try_sample(program: &Program, rng: &mut Pcg64) -> Result<Trace> {
    try_sample_for(program, None, rng)
}

/// [`try_sample`] for the vector registers of `target`.
pub fn try_sample_for(
    program: &Program,
    target: Option<VectorTarget>,
    rng: &mut Pcg64,
) -> Result<Trace> {
    let sk = sample_sketch_for(program, target, rng)?;
    let (trace, sch) = sk.realize(program)?;
    sch.lower()?;
    Ok(trace)
}

/// Emit `pack(stage, buffer, dim, factor[, from])`, then the parallel outer loops and the
/// vectorised inner loop of the packing stage it adds.
fn emit_pack_inst(
    sch: &mut Schedule,
    out: &mut Vec<Inst>,
    stage: String,
    buffer: &str,
    dim: usize,
    factor: i64,
    from: Option<i64>,
) -> Result<()> {
    push(
        sch,
        out,
        Inst::Pack {
            stage,
            buffer: buffer.to_string(),
            dim,
            factor,
            from,
        },
    )?;
    let ps = sch.program.stages.len() - 1;
    let pname = sch.program.stages[ps].name.clone();
    let nloops = sch.stages[ps].loops.len();
    if nloops > 1 {
        push(
            sch,
            out,
            Inst::ParallelOuter {
                stage: pname.clone(),
                n: nloops - 1,
            },
        )?;
    }
    if factor > 1 {
        let v = sch
            .loop_names(ps)
            .last()
            .cloned()
            .expect("pack stage has loops");
        push(
            sch,
            out,
            Inst::Vectorize(StageLoop {
                stage: pname,
                loop_: v,
            }),
        )?;
    }
    Ok(())
}

/// The first index along dimension `dim` of `buffer` that stage `s` reads, when it is past 0.
fn read_start(p: &Program, s: usize, buffer: &str, dim: usize) -> Option<i64> {
    let b = p.buffer_by_name(buffer)?;
    let lo = p.stages[s].read_interval(b, dim)?.lo;
    (lo > 0).then_some(lo)
}
