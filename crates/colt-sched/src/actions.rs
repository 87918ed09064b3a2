//! Parameterised actions: a small, stable vocabulary of decision edits for LLM proposers.
//!
//! An LLM does not write schedule code; it names an [`Action`] such as
//! `tile(matmul, j, [64, 16])` whose parameters come from the choices enumerated for the
//! current (program, trace) by [`choices`]. [`apply_action`] edits the decisions of a
//! sketch-form trace and returns the new trace only if it replays and lowers, so an illegal
//! proposal is a typed error, never a broken kernel. [`describe`] renders the transformation
//! history and the current decisions as prompt text.

use crate::error::{ErrorKind, Result, ScheduleError};
use crate::sketch::{
    PackDecision, Placement, Sketch, UNROLL_STEPS, contiguous_inner, default_tiles, divisors,
    draw_factors, pack_candidates, parallel_choices, stage_facts,
};
use crate::trace::{Inst, Trace};
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
    Tile {
        stage: String,
        #[serde(rename = "loop")]
        loop_: String,
        factors: Vec<i64>,
    },
    Unroll {
        stage: String,
        step: i64,
    },
    Parallel {
        stage: String,
        loops: usize,
    },
    Vectorize {
        stage: String,
        on: bool,
    },
    /// `loop` is `root` or a loop of the stage's only consumer.
    ComputeLocation {
        stage: String,
        #[serde(rename = "loop")]
        loop_: String,
    },
    Inline {
        stage: String,
    },
    /// `loop` is `none` or a spatial loop outside the first reduction loop.
    CacheWrite {
        stage: String,
        #[serde(rename = "loop")]
        loop_: String,
    },
    /// `buffer` is `none` or an input the stage reads; `factor` 0 follows the innermost tile.
    Pack {
        stage: String,
        buffer: String,
        factor: i64,
    },
}

/// Name, one-line doc and parameter names of an action kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActionInfo {
    pub name: &'static str,
    pub doc: &'static str,
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
];

fn bad(cx: &str, msg: impl Into<String>) -> ScheduleError {
    ScheduleError::new(ErrorKind::BadDecision, cx, msg)
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Tile { .. } => "tile",
            Action::Unroll { .. } => "unroll",
            Action::Parallel { .. } => "parallel",
            Action::Vectorize { .. } => "vectorize",
            Action::ComputeLocation { .. } => "compute_location",
            Action::Inline { .. } => "inline",
            Action::CacheWrite { .. } => "cache_write",
            Action::Pack { .. } => "pack",
        }
    }

    pub fn stage(&self) -> &str {
        match self {
            Action::Tile { stage, .. }
            | Action::Unroll { stage, .. }
            | Action::Parallel { stage, .. }
            | Action::Vectorize { stage, .. }
            | Action::ComputeLocation { stage, .. }
            | Action::Inline { stage }
            | Action::CacheWrite { stage, .. }
            | Action::Pack { stage, .. } => stage,
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
        if !VOCABULARY.iter().any(|a| a.name == name) {
            let known: Vec<&str> = VOCABULARY.iter().map(|a| a.name).collect();
            return Err(bad(
                "action",
                format!("unknown action \"{name}\" (known: {})", known.join(", ")),
            ));
        }
        let mut m: serde_json::Map<String, Value> = params.clone().into_iter().collect();
        m.insert("action".into(), Value::String(name.into()));
        serde_json::from_value(Value::Object(m))
            .map_err(|e| bad(name, format!("bad parameters: {e}")))
    }

    /// Short text form: `tile(matmul, j, [4, 16])`.
    pub fn text(&self) -> String {
        match self {
            Action::Tile {
                stage,
                loop_,
                factors,
            } => format!("tile({stage}, {loop_}, {factors:?})"),
            Action::Unroll { stage, step } => format!("unroll({stage}, {step})"),
            Action::Parallel { stage, loops } => format!("parallel({stage}, {loops})"),
            Action::Vectorize { stage, on } => format!("vectorize({stage}, {on})"),
            Action::ComputeLocation { stage, loop_ } => {
                format!("compute_location({stage}, {loop_})")
            }
            Action::Inline { stage } => format!("inline({stage})"),
            Action::CacheWrite { stage, loop_ } => format!("cache_write({stage}, {loop_})"),
            Action::Pack {
                stage,
                buffer,
                factor,
            } => format!("pack({stage}, {buffer}, {factor})"),
        }
    }
}

/// The values a free parameter may take.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Choices {
    OneOf(Vec<Value>),
    /// `levels` positive integers (or fewer, innermost) whose product is (or divides) `extent`.
    Factors {
        extent: i64,
        levels: usize,
    },
}

/// One applicable action with the parameters it fixes (stage, loop) and the free ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionChoice {
    pub name: &'static str,
    pub fixed: BTreeMap<String, Value>,
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

/// Every applicable action on `trace` (which must be in sketch form), with its parameter
/// choices. Values are legal individually; combinations are validated by [`apply_action`].
pub fn choices(program: &Program, trace: &Trace) -> Result<Vec<ActionChoice>> {
    let sk = Sketch::from_trace(program, trace)?;
    let sch = sk.phase_a_schedule(program)?;
    let mut out = vec![];
    for (s, d) in sk.stages.iter().enumerate() {
        let st = &program.stages[s];
        let name = d.stage.as_str();
        for t in &d.tiles {
            let extent: i64 = t.factors.iter().product();
            out.push(choice(
                "tile",
                name,
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
        if d.placement != Placement::Inline {
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
            if inner_spatial {
                out.push(choice(
                    "vectorize",
                    name,
                    &[],
                    &[("on", Choices::OneOf(vec![json!(true), json!(false)]))],
                    json!(d.vectorize),
                ));
            }
        }
        if d.placement == Placement::Root {
            let mut with_cache = sch.clone();
            if let Some(l) = &d.cache_write {
                with_cache.apply(&Inst::CacheWrite {
                    stage: d.stage.clone(),
                    loop_: l.clone(),
                })?;
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
            if st.reduce.is_some() && !d.tiles.is_empty() {
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
            let packs = pack_candidates(program, s);
            if !d.tiles.is_empty() && !packs.is_empty() {
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
                out.push(choice(
                    "pack",
                    name,
                    &[],
                    &[
                        ("buffer", Choices::OneOf(bufs)),
                        ("factor", Choices::OneOf(factors)),
                    ],
                    cur,
                ));
            }
        }
        if st.reduce.is_none() {
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
        }
    }
    Ok(out)
}

/// Apply `action` to the decisions of `trace`; the result replays and lowers.
pub fn apply_action(program: &Program, trace: &Trace, action: &Action) -> Result<Trace> {
    let cx = action.text();
    let mut sk = Sketch::from_trace(program, trace)?;
    let s = program.stage_index(action.stage()).ok_or_else(|| {
        let names: Vec<&str> = program.stages.iter().map(|s| s.name.as_str()).collect();
        ScheduleError::new(
            ErrorKind::UnknownStage,
            &cx,
            format!(
                "no stage named \"{}\" (stages: {})",
                action.stage(),
                names.join(", ")
            ),
        )
    })?;
    let illegal = |m: String| ScheduleError::new(ErrorKind::Illegal, &cx, m);
    let placement = sk.stages[s].placement.clone();
    let needs_loops = |what: &str| -> Result<()> {
        if placement == Placement::Inline {
            return Err(ScheduleError::new(
                ErrorKind::Illegal,
                &cx,
                format!("the stage is inlined and has no loops to {what}"),
            ));
        }
        Ok(())
    };
    match action {
        Action::Tile { loop_, factors, .. } => {
            let d = &mut sk.stages[s];
            let Some(t) = d.tiles.iter_mut().find(|t| &t.loop_ == loop_) else {
                let tiled: Vec<&str> = d.tiles.iter().map(|t| t.loop_.as_str()).collect();
                return Err(ScheduleError::new(
                    ErrorKind::UnknownLoop,
                    &cx,
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
            let levels = t.factors.len();
            let extent: i64 = t.factors.iter().product();
            if factors.is_empty() || factors.len() > levels {
                return Err(bad(&cx, format!("give 1 to {levels} factors")));
            }
            if factors.iter().any(|&f| f < 1) {
                return Err(bad(&cx, "factors must be positive"));
            }
            let Some(prod) = factors.iter().try_fold(1i64, |acc, &f| acc.checked_mul(f)) else {
                return Err(bad(
                    &cx,
                    format!("factors {factors:?} multiply past the largest extent"),
                ));
            };
            if extent % prod != 0 {
                return Err(bad(
                    &cx,
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
                    &cx,
                    format!("factors multiply to {prod} but loop {loop_} has extent {extent}"),
                ));
            }
            t.factors = full;
        }
        Action::Unroll { step, .. } => {
            needs_loops("unroll")?;
            if !UNROLL_STEPS.contains(step) {
                return Err(bad(&cx, format!("step must be one of {UNROLL_STEPS:?}")));
            }
            sk.stages[s].unroll = *step;
        }
        Action::Parallel { loops, .. } => {
            if placement != Placement::Root {
                return Err(illegal(
                    "only stages computed at root run in parallel".into(),
                ));
            }
            sk.stages[s].parallel = *loops;
        }
        Action::Vectorize { on, .. } => {
            needs_loops("vectorize")?;
            sk.stages[s].vectorize = *on;
        }
        Action::ComputeLocation { loop_, .. } => {
            if program.stages[s].reduce.is_some() {
                return Err(illegal(
                    "only elementwise stages move; this one reduces and stays at root".into(),
                ));
            }
            if loop_ == "root" {
                if placement != Placement::Root {
                    sk.set_placement(program, s, Placement::Root, default_tiles(program, s));
                }
            } else if loop_ == "inline" {
                return apply_action(
                    program,
                    trace,
                    &Action::Inline {
                        stage: action.stage().to_string(),
                    },
                );
            } else {
                let before = sk.schedule_before(program, s)?;
                let facts = stage_facts(&before, s);
                let Some((consumer, loops)) = facts.at else {
                    return Err(illegal(
                        "the stage cannot be computed inside another: it needs exactly one consumer, at root, and a temporary output".into(),
                    ));
                };
                if !loops.contains(loop_) {
                    return Err(ScheduleError::new(
                        ErrorKind::UnknownLoop,
                        &cx,
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
                        loop_: loop_.clone(),
                    },
                    vec![],
                );
            }
        }
        Action::Inline { .. } => {
            let before = sk.schedule_before(program, s)?;
            if placement != Placement::Inline {
                if !stage_facts(&before, s).inlinable {
                    return Err(illegal(
                        "only elementwise stages that write a temporary read by another stage can be inlined".into(),
                    ));
                }
                sk.set_placement(program, s, Placement::Inline, vec![]);
            }
        }
        Action::CacheWrite { loop_, .. } => {
            if loop_ == "none" {
                sk.stages[s].cache_write = None;
            } else {
                if placement != Placement::Root || sk.stages[s].tiles.is_empty() {
                    return Err(illegal(
                        "only tiled stages at root get a write cache".into(),
                    ));
                }
                sk.stages[s].cache_write = Some(loop_.clone());
            }
        }
        Action::Pack { buffer, factor, .. } => {
            if buffer == "none" {
                sk.stages[s].pack = None;
            } else {
                if placement != Placement::Root || sk.stages[s].tiles.is_empty() {
                    return Err(illegal(
                        "only tiled stages at root pack their inputs".into(),
                    ));
                }
                if *factor < 0 {
                    return Err(bad(&cx, "factor must be positive (0: the innermost tile)"));
                }
                sk.stages[s].pack = Some(PackDecision {
                    buffer: buffer.clone(),
                    factor: (*factor > 0).then_some(*factor),
                });
            }
        }
    }
    let (t, sch) = sk.realize(program)?;
    sch.lower()?;
    Ok(t)
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
        if !d.tiles.is_empty() {
            let structure = if st.reduce.is_some() { "SSRSRS" } else { "SS" };
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
            parts.push(format!("tiled {structure} {}", tiles.join(" ")));
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
        if let Some(sch) = &sch {
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
