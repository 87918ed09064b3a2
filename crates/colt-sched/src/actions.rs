//! Parameterised actions: a small, stable vocabulary of decision edits for LLM proposers.
//!
//! An LLM does not write schedule code; it names an [`Action`] such as
//! `tile(matmul, j, [64, 16])` whose parameters come from the choices enumerated for the
//! current (program, trace) by [`choices`]. [`apply_action`] edits the decisions of a
//! sketch-form trace and returns the new trace only if it replays and lowers, so an illegal
//! proposal is a typed error, never a broken kernel. [`describe`] renders the transformation
//! history and the current decisions as prompt text.

use crate::batch;
use crate::error::{ErrorKind, Result, ScheduleError};
use crate::sketch::{
    PackDecision, Placement, Sketch, StageDecision, UNROLL_STEPS, contiguous_inner, default_tiles,
    divisors, draw_factors, pack_candidates, parallel_choices, stage_facts, vector_reduce_ok,
};
use crate::state::Schedule;
use crate::trace::{Inst, LoopFactors, StageLoop, Trace};
use colt_ir::{IterKind, Program};
use rand::RngExt;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One decision edit. Serialised as `{"action": "tile", "stage": ..., ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Tile factors of one loop, outermost first; fewer factors than levels give the innermost
    /// levels (the outermost level takes the rest).
    Tile(LoopFactors),
    /// Auto-unroll the innermost loops up to `step` iterations.
    Unroll {
        /// The stage edited.
        stage: String,
        /// 0, 16, 64 or 512.
        step: i64,
    },
    /// Fuse the outer `loops` loops and run them in parallel (0: serial).
    Parallel {
        /// The stage edited.
        stage: String,
        /// How many outer loops.
        loops: usize,
    },
    /// Vectorize the innermost loop or not.
    Vectorize {
        /// The stage edited.
        stage: String,
        /// Whether to vectorize.
        on: bool,
    },
    /// Put the innermost reduction tiles inside the output tiles (S0 S1 R0 S2 S3 R1) or not.
    ReduceInner {
        /// The stage edited.
        stage: String,
        /// Whether the reduction goes innermost.
        on: bool,
    },
    /// `loop` is `root` or a loop of the stage's only consumer.
    ComputeLocation(StageLoop),
    /// Substitute an elementwise stage into its consumers.
    Inline {
        /// The stage inlined.
        stage: String,
    },
    /// `loop` is `none` or a spatial loop outside the first reduction loop.
    CacheWrite(StageLoop),
    /// `buffer` is `none` or an input the stage reads; `factor` 0 follows the innermost tile.
    Pack {
        /// The stage edited.
        stage: String,
        /// `none`, or the input packed.
        buffer: String,
        /// The inner block size (0: the innermost tile factor).
        factor: i64,
    },
    /// Run the stages batched over one leading dimension that start at `stage` one slice of
    /// it at a time, inside one shared outermost loop (see [`crate::group`]).
    Group {
        /// The first stage of the run.
        stage: String,
        /// Iterations of the shared loop (a divisor of the batch above 1), or 0: no group.
        slices: i64,
    },
}

/// Name, one-line doc and parameter names of an action kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActionInfo {
    /// The action's name, the `action` value of its JSON form.
    pub name: &'static str,
    /// One line for the prompt.
    pub doc: &'static str,
    /// Its parameter names, in order.
    pub params: &'static [&'static str],
}

/// The vocabulary, in a stable order.
pub const VOCABULARY: &[ActionInfo] = &[
    ActionInfo {
        name: "tile",
        doc: "set the tile factors of one loop, outermost first (they multiply to its extent; give fewer to set only the innermost levels)",
        params: &["stage", "loop", "factors"],
    },
    ActionInfo {
        name: "unroll",
        doc: "auto-unroll the innermost loops up to this many iterations (0, 16, 64 or 512)",
        params: &["stage", "step"],
    },
    ActionInfo {
        name: "parallel",
        doc: "fuse this many outer loops and run them in parallel (0: serial)",
        params: &["stage", "loops"],
    },
    ActionInfo {
        name: "vectorize",
        doc: "vectorise the innermost loop or not",
        params: &["stage", "on"],
    },
    ActionInfo {
        name: "reduce_inner",
        doc: "put the innermost reduction tiles inside the output tiles, so that the innermost loop (vectorised: a vector reduction) runs along the reads' contiguous last dimension, as a row max or sum wants (false: output tiles innermost)",
        params: &["stage", "on"],
    },
    ActionInfo {
        name: "compute_location",
        doc: "compute an elementwise stage at root or inside a loop of its only consumer",
        params: &["stage", "loop"],
    },
    ActionInfo {
        name: "inline",
        doc: "substitute an elementwise stage into its consumers",
        params: &["stage"],
    },
    ActionInfo {
        name: "cache_write",
        doc: "accumulate the output tile inside this loop in a local buffer (none: write directly)",
        params: &["stage", "loop"],
    },
    ActionInfo {
        name: "pack",
        doc: "copy a weight input into a layout blocked by factor on its last dimension (none: no packing; factor 0: the innermost tile)",
        params: &["stage", "buffer", "factor"],
    },
    ActionInfo {
        name: "group",
        doc: "run the stages batched over one leading dimension (attention's heads) one slice at a time inside one shared parallel loop, so the temporaries between them stay in cache (slices: iterations of that loop, a divisor of the batch; 0: each stage on its own)",
        params: &["stage", "slices"],
    },
];

fn bad(cx: &str, msg: impl Into<String>) -> ScheduleError {
    ScheduleError::new(ErrorKind::BadDecision, cx, msg)
}

impl Action {
    /// The action's name (see [`VOCABULARY`]).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Tile(_) => "tile",
            Action::Unroll { .. } => "unroll",
            Action::Parallel { .. } => "parallel",
            Action::Vectorize { .. } => "vectorize",
            Action::ReduceInner { .. } => "reduce_inner",
            Action::ComputeLocation(_) => "compute_location",
            Action::Inline { .. } => "inline",
            Action::CacheWrite(_) => "cache_write",
            Action::Pack { .. } => "pack",
            Action::Group { .. } => "group",
        }
    }

    /// The stage the action edits.
    pub fn stage(&self) -> &str {
        match self {
            Action::Tile(LoopFactors { stage, .. })
            | Action::Unroll { stage, .. }
            | Action::Parallel { stage, .. }
            | Action::Vectorize { stage, .. }
            | Action::ReduceInner { stage, .. }
            | Action::ComputeLocation(StageLoop { stage, .. })
            | Action::Inline { stage }
            | Action::CacheWrite(StageLoop { stage, .. })
            | Action::Pack { stage, .. }
            | Action::Group { stage, .. } => stage,
        }
    }

    /// Parameters by name (the JSON fields other than `action`).
    pub fn params(&self) -> BTreeMap<String, Value> {
        let Value::Object(m) = serde_json::to_value(self).expect("actions serialise") else {
            unreachable!("actions serialise to objects")
        };
        m.into_iter().filter(|(k, _)| k != "action").collect()
    }

    /// Build an action from its name and parameters; errors name the problem.
    pub fn from_parts(name: &str, params: &BTreeMap<String, Value>) -> Result<Action> {
        let Some(info) = VOCABULARY.iter().find(|a| a.name == name) else {
            let known: Vec<&str> = VOCABULARY.iter().map(|a| a.name).collect();
            return Err(bad(
                "action",
                format!("unknown action \"{name}\" (known: {})", known.join(", ")),
            ));
        };
        // The operands shared with instructions ([`LoopFactors`], [`StageLoop`]) accept unknown
        // fields, as instructions do; an action takes only its own parameters.
        let takes = |k: &String| k == "action" || info.params.contains(&k.as_str());
        if let Some(k) = params.keys().find(|k| !takes(k)) {
            let e = <serde_json::Error as serde::de::Error>::unknown_field(k, info.params);
            return Err(bad(name, format!("bad parameters: {e}")));
        }
        let mut m: serde_json::Map<String, Value> = params.clone().into_iter().collect();
        m.insert("action".into(), Value::String(name.into()));
        serde_json::from_value(Value::Object(m))
            .map_err(|e| bad(name, format!("bad parameters: {e}")))
    }

    /// Short text form: `tile(matmul, j, [4, 16])`.
    pub fn text(&self) -> String {
        match self {
            Action::Tile(LoopFactors {
                stage,
                loop_,
                factors,
            }) => format!("tile({stage}, {loop_}, {factors:?})"),
            Action::Unroll { stage, step } => format!("unroll({stage}, {step})"),
            Action::Parallel { stage, loops } => format!("parallel({stage}, {loops})"),
            Action::Vectorize { stage, on } => format!("vectorize({stage}, {on})"),
            Action::ReduceInner { stage, on } => format!("reduce_inner({stage}, {on})"),
            Action::ComputeLocation(StageLoop { stage, loop_ }) => {
                format!("compute_location({stage}, {loop_})")
            }
            Action::Inline { stage } => format!("inline({stage})"),
            Action::CacheWrite(StageLoop { stage, loop_ }) => {
                format!("cache_write({stage}, {loop_})")
            }
            Action::Pack {
                stage,
                buffer,
                factor,
            } => format!("pack({stage}, {buffer}, {factor})"),
            Action::Group { stage, slices } => format!("group({stage}, {slices})"),
        }
    }
}

/// The values a free parameter may take.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Choices {
    /// One of these values.
    OneOf(Vec<Value>),
    /// `levels` positive integers (or fewer, innermost) whose product is (or divides) `extent`.
    Factors {
        /// The loop's extent.
        extent: i64,
        /// Number of tile levels.
        levels: usize,
    },
}

/// One applicable action with the parameters it fixes (stage, loop) and the free ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionChoice {
    /// The action's name.
    pub name: &'static str,
    /// Parameters fixed by where the action applies (stage, loop).
    pub fixed: BTreeMap<String, Value>,
    /// Parameters to choose, with their choices.
    pub free: BTreeMap<String, Choices>,
    /// The current value of the free parameter(s), for the prompt.
    pub current: Value,
}

fn choice(
    name: &'static str,
    stage: &str,
    extra: &[(&str, Value)],
    free: &[(&str, Choices)],
    current: Value,
) -> ActionChoice {
    let mut fixed: BTreeMap<String, Value> = BTreeMap::from([("stage".to_string(), json!(stage))]);
    for (k, v) in extra {
        fixed.insert(k.to_string(), v.clone());
    }
    ActionChoice {
        name,
        fixed,
        free: free
            .iter()
            .map(|(k, c)| (k.to_string(), c.clone()))
            .collect(),
        current,
    }
}

/// An action of `stage` whose one free parameter is `on` (true or false), now `current`.
fn on_off_choice(name: &'static str, stage: &str, current: bool) -> ActionChoice {
    choice(
        name,
        stage,
        &[],
        &[("on", Choices::OneOf(vec![json!(true), json!(false)]))],
        json!(current),
    )
}

/// Every applicable action on `trace` (which must be in sketch form), with its parameter
/// choices. Values are legal individually; combinations are validated by [`apply_action`].
pub fn choices(program: &Program, trace: &Trace) -> Result<Vec<ActionChoice>> {
    let sk = Sketch::from_trace(program, trace)?;
    let sch = sk.phase_a_schedule(program)?;
    let mut out = vec![];
    for (s, d) in sk.stages.iter().enumerate() {
        tile_choices(d, &mut out);
        if d.placement != Placement::Inline {
            loop_choices(&sch, s, d, &mut out);
        }
        if d.placement == Placement::Root {
            root_choices(program, &sch, s, d, &mut out)?;
        }
        if program.stages[s].reduce.is_none() {
            placement_choices(program, &sk, s, d, &mut out)?;
        }
    }
    group_choices(program, &sk, &mut out);
    Ok(out)
}

/// The `group` choice of each batched run ([`batch::batched_runs`]) with at least two stages
/// tiled at root: its slices are 0 and the divisors of the batch above 1.
fn group_choices(program: &Program, sk: &Sketch, out: &mut Vec<ActionChoice>) {
    for run in batch::batched_runs(program) {
        let roots = batch::members(sk, &run);
        let Some(&lead) = roots.first() else {
            continue;
        };
        let first = &program.stages[run[0]];
        let mut vals = vec![json!(0)];
        vals.extend(
            divisors(first.iters[0].extent)
                .into_iter()
                .filter(|&d| d > 1)
                .map(|d| json!(d)),
        );
        if roots.len() < 2 || vals.len() < 2 {
            continue;
        }
        let current = if sk.grouped(lead) {
            sk.stages[lead].tiles[0].factors[0]
        } else {
            0
        };
        out.push(choice(
            "group",
            &first.name,
            &[],
            &[("slices", Choices::OneOf(vals))],
            json!(current),
        ));
    }
}

/// The `tile` choices of a stage: one per tiled loop.
fn tile_choices(d: &StageDecision, out: &mut Vec<ActionChoice>) {
    for t in &d.tiles {
        let extent: i64 = t.factors.iter().product();
        out.push(choice(
            "tile",
            &d.stage,
            &[("loop", json!(t.loop_))],
            &[(
                "factors",
                Choices::Factors {
                    extent,
                    levels: t.factors.len(),
                },
            )],
            json!(t.factors),
        ));
    }
}

/// The `unroll` choice of a stage that has loops, and `vectorize` when its innermost loop
/// (in the phase-A schedule `sch`) is spatial or the reduction put innermost.
fn loop_choices(sch: &Schedule, s: usize, d: &StageDecision, out: &mut Vec<ActionChoice>) {
    let name = d.stage.as_str();
    out.push(choice(
        "unroll",
        name,
        &[],
        &[(
            "step",
            Choices::OneOf(UNROLL_STEPS.iter().map(|x| json!(x)).collect()),
        )],
        json!(d.unroll),
    ));
    let inner_spatial = sch.stages[s]
        .loops
        .last()
        .is_some_and(|l| !sch.touches_reduce(s, l.var));
    if inner_spatial || d.reduce_inner {
        out.push(on_off_choice("vectorize", name, d.vectorize));
    }
}

/// The choices only a stage at root has: `parallel` (counted with its write cache applied),
/// `cache_write` for a tiled reduction, and `pack`.
fn root_choices(
    program: &Program,
    sch: &Schedule,
    s: usize,
    d: &StageDecision,
    out: &mut Vec<ActionChoice>,
) -> Result<()> {
    let name = d.stage.as_str();
    let mut with_cache = sch.clone();
    if let Some(l) = &d.cache_write {
        with_cache.apply(&Inst::CacheWrite(StageLoop {
            stage: d.stage.clone(),
            loop_: l.clone(),
        }))?;
    }
    let ns = parallel_choices(&with_cache, s);
    if !ns.is_empty() {
        let mut vals = vec![json!(0)];
        vals.extend(ns.into_iter().map(|n| json!(n)));
        out.push(choice(
            "parallel",
            name,
            &[],
            &[("loops", Choices::OneOf(vals))],
            json!(d.parallel),
        ));
    }
    if program.stages[s].reduce.is_some() && !d.tiles.is_empty() {
        let first_red = sch.first_reduce_loop(s);
        let mut vals = vec![json!("none")];
        vals.extend(sch.loop_names(s)[..first_red].iter().map(|n| json!(n)));
        out.push(choice(
            "cache_write",
            name,
            &[],
            &[("loop", Choices::OneOf(vals))],
            json!(d.cache_write.clone().unwrap_or("none".into())),
        ));
    }
    out.extend(pack_choice(program, s, d));
    if !d.tiles.is_empty() && d.partitions.is_empty() && vector_reduce_ok(program, s) {
        out.push(on_off_choice("reduce_inner", name, d.reduce_inner));
    }
    Ok(())
}

/// The `pack` choice of a tiled stage that reads packable inputs: the candidate buffers, and
/// the divisors up to 64 of their last dimensions as factors (0: the innermost tile).
fn pack_choice(program: &Program, s: usize, d: &StageDecision) -> Option<ActionChoice> {
    let packs = pack_candidates(program, s);
    if d.tiles.is_empty() || packs.is_empty() {
        return None;
    }
    let mut bufs = vec![json!("none")];
    bufs.extend(packs.iter().map(|b| json!(b)));
    let mut factors = vec![json!(0)];
    for b in &packs {
        let id = program.buffer_by_name(b).expect("candidate exists");
        let last = *program
            .buffer(id)
            .shape
            .last()
            .expect("packed inputs have a dimension");
        for f in divisors(last).into_iter().filter(|f| *f <= 64) {
            if !factors.contains(&json!(f)) {
                factors.push(json!(f));
            }
        }
    }
    let cur = d.pack.as_ref().map_or(
        json!({"buffer": "none"}),
        |p| json!({"buffer": p.buffer, "factor": p.factor.unwrap_or(0)}),
    );
    Some(choice(
        "pack",
        &d.stage,
        &[],
        &[
            ("buffer", Choices::OneOf(bufs)),
            ("factor", Choices::OneOf(factors)),
        ],
        cur,
    ))
}

/// The `compute_location` choice of an elementwise stage (root or a loop of its only
/// consumer, offered when there is somewhere to move), and `inline` when it is inlinable.
fn placement_choices(
    program: &Program,
    sk: &Sketch,
    s: usize,
    d: &StageDecision,
    out: &mut Vec<ActionChoice>,
) -> Result<()> {
    let name = d.stage.as_str();
    let before = sk.schedule_before(program, s)?;
    let facts = stage_facts(&before, s);
    let mut locs = vec![json!("root")];
    if let Some((_, loops)) = &facts.at {
        locs.extend(loops.iter().map(|l| json!(l)));
    }
    let cur = match &d.placement {
        Placement::Root => json!("root"),
        Placement::Inline => json!("inline"),
        Placement::At { loop_, .. } => json!(loop_),
    };
    if locs.len() > 1 || d.placement != Placement::Root {
        out.push(choice(
            "compute_location",
            name,
            &[],
            &[("loop", Choices::OneOf(locs))],
            cur,
        ));
    }
    if facts.inlinable && d.placement != Placement::Inline {
        out.push(choice("inline", name, &[], &[], json!(null)));
    }
    Ok(())
}

/// Apply `action` to the decisions of `trace`; the result replays and lowers.
pub fn apply_action(program: &Program, trace: &Trace, action: &Action) -> Result<Trace> {
    let cx = action.text();
    let mut sk = Sketch::from_trace(program, trace)?;
    let s = action_stage(program, action, &cx)?;
    if edit_decisions(program, &mut sk, s, action, &cx)? == Edited::AsInline {
        return apply_action(
            program,
            trace,
            &Action::Inline {
                stage: action.stage().to_string(),
            },
        );
    }
    let (t, sch) = sk.realize(program)?;
    sch.lower()?;
    Ok(t)
}

/// The index of the stage `action` names.
fn action_stage(program: &Program, action: &Action, cx: &str) -> Result<usize> {
    program.stage_index(action.stage()).ok_or_else(|| {
        let names: Vec<&str> = program.stages.iter().map(|s| s.name.as_str()).collect();
        ScheduleError::new(
            ErrorKind::UnknownStage,
            cx,
            format!(
                "no stage named \"{}\" (stages: {})",
                action.stage(),
                names.join(", ")
            ),
        )
    })
}

/// What [`edit_decisions`] did.
#[derive(Debug, PartialEq, Eq)]
enum Edited {
    /// The decisions of the sketch now carry the action.
    Done,
    /// `compute_location(stage, inline)`: to be applied as `inline(stage)`.
    AsInline,
}

/// Edit the decisions of stage `s` in `sk` as `action` says, checking what can be checked
/// on the decisions alone.
fn edit_decisions(
    program: &Program,
    sk: &mut Sketch,
    s: usize,
    action: &Action,
    cx: &str,
) -> Result<Edited> {
    let illegal = |m: &str| ScheduleError::new(ErrorKind::Illegal, cx, m);
    let placement = sk.stages[s].placement.clone();
    let needs_loops = |what: &str| -> Result<()> {
        if placement == Placement::Inline {
            return Err(illegal(&format!(
                "the stage is inlined and has no loops to {what}"
            )));
        }
        Ok(())
    };
    match action {
        Action::Tile(LoopFactors { loop_, factors, .. }) => {
            set_tile(&mut sk.stages[s], loop_, factors, cx)?
        }
        Action::Unroll { step, .. } => {
            needs_loops("unroll")?;
            if !UNROLL_STEPS.contains(step) {
                return Err(bad(cx, format!("step must be one of {UNROLL_STEPS:?}")));
            }
            sk.stages[s].unroll = *step;
        }
        Action::Parallel { loops, .. } => {
            if placement != Placement::Root {
                return Err(illegal("only stages computed at root run in parallel"));
            }
            sk.stages[s].parallel = *loops;
        }
        Action::Vectorize { on, .. } => {
            needs_loops("vectorize")?;
            sk.stages[s].vectorize = *on;
        }
        Action::ReduceInner { on, .. } => {
            let d = &mut sk.stages[s];
            if *on {
                tiled_at_root(d, cx, "put their reduction innermost")?;
                if !vector_reduce_ok(program, s) {
                    return Err(illegal(
                        "only a reduction whose reads are contiguous along its last reduction loop puts it innermost",
                    ));
                }
                if !d.partitions.is_empty() {
                    return Err(illegal(
                        "a partitioned register tile keeps its output tiles innermost",
                    ));
                }
            }
            d.reduce_inner = *on;
        }
        Action::ComputeLocation(StageLoop { loop_, .. }) => {
            if program.stages[s].reduce.is_some() {
                return Err(illegal(
                    "only elementwise stages move; this one reduces and stays at root",
                ));
            }
            if loop_ == "inline" {
                return Ok(Edited::AsInline);
            }
            set_location(program, sk, s, &placement, loop_, cx)?;
        }
        Action::Inline { .. } => {
            let before = sk.schedule_before(program, s)?;
            if placement != Placement::Inline {
                if !stage_facts(&before, s).inlinable {
                    return Err(illegal(
                        "only elementwise stages that write a temporary read by another stage can be inlined",
                    ));
                }
                sk.set_placement(program, s, Placement::Inline, vec![]);
            }
        }
        Action::CacheWrite(StageLoop { loop_, .. }) => {
            set_cache_write(&mut sk.stages[s], loop_, cx)?
        }
        Action::Pack { buffer, factor, .. } => set_pack(&mut sk.stages[s], buffer, *factor, cx)?,
        Action::Group { slices, .. } => {
            let run = batch::batched_runs(program)
                .into_iter()
                .find(|r| r[0] == s)
                .ok_or_else(|| {
                    illegal("the stage does not start a run of stages batched over one leading dimension")
                })?;
            for &x in &run {
                let name = sk.stages[x].stage.clone();
                batch::ungroup(sk, &name);
            }
            if *slices != 0 {
                batch::group_run(program, sk, &run, *slices).map_err(|m| illegal(&m))?;
            }
        }
    }
    Ok(Edited::Done)
}

/// The stage of decision `d` is tiled and at root, else "only tiled stages at root `what`".
fn tiled_at_root(d: &StageDecision, cx: &str, what: &str) -> Result<()> {
    if d.placement != Placement::Root || d.tiles.is_empty() {
        return Err(ScheduleError::new(
            ErrorKind::Illegal,
            cx,
            format!("only tiled stages at root {what}"),
        ));
    }
    Ok(())
}

/// Set the write cache of stage decision `d` to loop `loop_` (`none`: no cache).
fn set_cache_write(d: &mut StageDecision, loop_: &str, cx: &str) -> Result<()> {
    if loop_ == "none" {
        d.cache_write = None;
    } else {
        tiled_at_root(d, cx, "get a write cache")?;
        d.cache_write = Some(loop_.to_string());
    }
    Ok(())
}

/// Set the packed input of stage decision `d` (`none`: no packing; factor 0: the innermost
/// tile).
fn set_pack(d: &mut StageDecision, buffer: &str, factor: i64, cx: &str) -> Result<()> {
    if buffer == "none" {
        d.pack = None;
    } else {
        tiled_at_root(d, cx, "pack their inputs")?;
        if factor < 0 {
            return Err(bad(cx, "factor must be positive (0: the innermost tile)"));
        }
        d.pack = Some(PackDecision {
            buffer: buffer.to_string(),
            factor: (factor > 0).then_some(factor),
        });
    }
    Ok(())
}

/// Set the tile factors of loop `loop_` of stage decision `d` (see [`Action::Tile`]).
fn set_tile(d: &mut StageDecision, loop_: &str, factors: &[i64], cx: &str) -> Result<()> {
    let Some(t) = d.tiles.iter_mut().find(|t| t.loop_ == loop_) else {
        let tiled: Vec<&str> = d.tiles.iter().map(|t| t.loop_.as_str()).collect();
        return Err(ScheduleError::new(
            ErrorKind::UnknownLoop,
            cx,
            if tiled.is_empty() {
                "the stage is not tiled (only stages at root are)".to_string()
            } else {
                format!(
                    "no tiled loop \"{loop_}\" (tiled loops: {})",
                    tiled.join(", ")
                )
            },
        ));
    };
    t.factors = full_factors(&t.factors, loop_, factors, cx)?;
    Ok(())
}

/// The new factors of a tiled loop whose current factors are `old`, given 1 to all of them
/// (innermost; the outermost level takes the rest of the extent).
fn full_factors(old: &[i64], loop_: &str, factors: &[i64], cx: &str) -> Result<Vec<i64>> {
    let levels = old.len();
    let extent: i64 = old.iter().product();
    if factors.is_empty() || factors.len() > levels {
        return Err(bad(cx, format!("give 1 to {levels} factors")));
    }
    if factors.iter().any(|&f| f < 1) {
        return Err(bad(cx, "factors must be positive"));
    }
    let Some(prod) = factors.iter().try_fold(1i64, |acc, &f| acc.checked_mul(f)) else {
        return Err(bad(
            cx,
            format!("factors {factors:?} multiply past the largest extent"),
        ));
    };
    if extent % prod != 0 {
        return Err(bad(
            cx,
            format!(
                "factors multiply to {prod}, which does not divide the extent {extent} of loop {loop_}"
            ),
        ));
    }
    let mut full = vec![1; levels - factors.len()];
    full.extend(factors);
    if factors.len() < levels {
        full[0] = extent / prod;
    } else if prod != extent {
        return Err(bad(
            cx,
            format!("factors multiply to {prod} but loop {loop_} has extent {extent}"),
        ));
    }
    Ok(full)
}

/// Move elementwise stage `s` (now at `placement`) to root or into loop `loop_` of its only
/// consumer.
fn set_location(
    program: &Program,
    sk: &mut Sketch,
    s: usize,
    placement: &Placement,
    loop_: &str,
    cx: &str,
) -> Result<()> {
    if loop_ == "root" {
        if *placement != Placement::Root {
            sk.set_placement(program, s, Placement::Root, default_tiles(program, s));
        }
        return Ok(());
    }
    let before = sk.schedule_before(program, s)?;
    let facts = stage_facts(&before, s);
    let Some((consumer, loops)) = facts.at else {
        return Err(ScheduleError::new(
            ErrorKind::Illegal,
            cx,
            "the stage cannot be computed inside another: it needs exactly one consumer, at root, and a temporary output",
        ));
    };
    if !loops.iter().any(|l| l == loop_) {
        return Err(ScheduleError::new(
            ErrorKind::UnknownLoop,
            cx,
            format!(
                "{consumer} has no candidate loop \"{loop_}\" (candidates: root, {})",
                loops.join(", ")
            ),
        ));
    }
    sk.set_placement(
        program,
        s,
        Placement::At {
            consumer,
            loop_: loop_.to_string(),
        },
        vec![],
    );
    Ok(())
}

/// A random applicable action that changes the trace (validated), or `None`.
pub fn random_action(program: &Program, trace: &Trace, rng: &mut Pcg64) -> Option<Action> {
    let cs = choices(program, trace).ok()?;
    if cs.is_empty() {
        return None;
    }
    for _ in 0..24 {
        let c = &cs[rng.random_range(0..cs.len())];
        let mut params = c.fixed.clone();
        for (k, ch) in &c.free {
            let v = match ch {
                Choices::OneOf(vs) => vs[rng.random_range(0..vs.len())].clone(),
                Choices::Factors { extent, levels } => {
                    json!(draw_factors(rng, *extent, *levels, false))
                }
            };
            params.insert(k.clone(), v);
        }
        let Ok(a) = Action::from_parts(c.name, &params) else {
            continue;
        };
        if let Ok(t) = apply_action(program, trace, &a)
            && t != *trace
        {
            return Some(a);
        }
    }
    None
}

/// Prompt text: the transformation history and the current decisions per stage.
pub fn describe(program: &Program, trace: &Trace) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "workload {} ({} stages)",
        program.name,
        program.stages.len()
    )
    .unwrap();
    writeln!(
        s,
        "transformation history ({} instructions):",
        trace.insts.len()
    )
    .unwrap();
    if trace.insts.is_empty() {
        writeln!(s, "  (none: the naive loop nest)").unwrap();
    }
    for (k, i) in trace.insts.iter().enumerate() {
        writeln!(s, "  {:>2}. {}", k + 1, i.text()).unwrap();
    }
    s.push_str(&describe_decisions(program, trace));
    s
}

/// The decisions of a trace, one line per stage (placement, tiles, cache, packing,
/// parallel, vector and unroll choices): [`describe`] without the instruction list, for
/// prompts where the loop nest follows.
pub fn describe_decisions(program: &Program, trace: &Trace) -> String {
    let mut s = String::new();
    let sk = match Sketch::from_trace(program, trace) {
        Ok(sk) => sk,
        Err(e) => {
            writeln!(s, "current decisions: unavailable ({e})").unwrap();
            return s;
        }
    };
    let sch = sk.realize(program).ok().map(|(_, sch)| sch);
    writeln!(s, "current decisions:").unwrap();
    for (i, d) in sk.stages.iter().enumerate() {
        let st = &program.stages[i];
        let mut parts: Vec<String> = vec![];
        match &d.placement {
            Placement::Inline => {
                writeln!(s, "  {}: inlined into its consumers", d.stage).unwrap();
                continue;
            }
            Placement::At { consumer, loop_ } => {
                parts.push(format!("computed inside {consumer} at loop {loop_}"))
            }
            Placement::Root => parts.push("at root".into()),
        }
        if let Some(w) = &d.with {
            parts.push(format!(
                "runs inside {w}'s outermost loop, one slice at a time (compute_with)"
            ));
        }
        for pt in &d.partitions {
            let rest = match pt.from {
                Some(from) => format!("{} from {from}", pt.loop_),
                None => format!("the rest of loop {}", pt.loop_),
            };
            parts.push(format!(
                "partitioned at {} = {} ({rest} is a tail stage tiled alike)",
                pt.loop_, pt.at
            ));
        }
        if !d.tiles.is_empty() {
            parts.push(describe_tiles(program, i, d));
        }
        if let Some(l) = &d.cache_write {
            parts.push(format!("write cache at loop {l}"));
        }
        if let Some(pk) = &d.pack {
            match sk.pack_factor(program, i, pk) {
                Ok(f) => parts.push(format!("packs {} by {f}", pk.buffer)),
                Err(_) => parts.push(format!("packs {}", pk.buffer)),
            }
        }
        describe_loop_kinds(sch.as_ref(), i, d, &mut parts);
        if d.unroll > 0 {
            parts.push(format!("auto-unroll {}", d.unroll));
        }
        if d.placement != Placement::Inline
            && st.reduce.is_none()
            && d.placement == Placement::Root
            && !contiguous_inner(program, i)
        {
            parts.push("innermost loads are strided".into());
        }
        writeln!(s, "  {}: {}", d.stage, parts.join(", ")).unwrap();
    }
    s
}

/// `tiled SSRSRS i=[..] k (reduce)=[..] ...`: the tile structure and factors of stage `i`.
fn describe_tiles(program: &Program, i: usize, d: &StageDecision) -> String {
    let st = &program.stages[i];
    let structure = match (st.reduce.is_some(), d.reduce_inner) {
        (true, false) => "SSRSRS",
        (true, true) => "SSRSSR (reduction innermost)",
        (false, _) => "SS",
    };
    let tiles: Vec<String> = d
        .tiles
        .iter()
        .map(|t| {
            let kind = st
                .iters
                .iter()
                .find(|iv| program.var_name(iv.var) == t.loop_)
                .map(|iv| iv.kind);
            let r = if kind == Some(IterKind::Reduce) {
                " (reduce)"
            } else {
                ""
            };
            let f: Vec<String> = t.factors.iter().map(|x| x.to_string()).collect();
            format!("{}{r}=[{}]", t.loop_, f.join(", "))
        })
        .collect();
    format!("tiled {structure} {}", tiles.join(" "))
}

/// The parallel and vectorised loops of stage `i`, read from its realised schedule `sch`
/// (from the decisions alone when it does not realise).
fn describe_loop_kinds(
    sch: Option<&Schedule>,
    i: usize,
    d: &StageDecision,
    parts: &mut Vec<String>,
) {
    if let Some(sch) = sch {
        let sc = &sch.stages[i];
        if let Some(l) = sc
            .loops
            .iter()
            .find(|l| l.kind == colt_ir::LoopKind::Parallel)
        {
            parts.push(format!(
                "parallel over {} fused loop(s) {} (extent {})",
                d.parallel,
                sch.var_name(l.var),
                l.extent
            ));
        }
        if let Some(l) = sc
            .loops
            .iter()
            .find(|l| l.kind == colt_ir::LoopKind::Vectorized)
        {
            parts.push(format!(
                "vectorized {} ({} lanes)",
                sch.var_name(l.var),
                l.extent
            ));
        }
    } else if d.parallel > 0 {
        parts.push(format!("parallel over {} fused loop(s)", d.parallel));
    }
    if d.vectorize && sch.is_none() {
        parts.push("vectorized".into());
    }
}
