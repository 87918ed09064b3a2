//! The search environment of tensor programs: states are schedule traces of one workload.
//!
//! - initial states: seeded samples of the CPU sketch (`colt_sched::sketch::sample`);
//! - mutations: decision mutators (`colt_sched::mutate`);
//! - LLM actions: the validated decision edits of `colt_sched::actions`, offered as a
//!   vocabulary whose parameters are enumerated (so grammar-constrained decoding always
//!   yields a well-formed answer); legality is checked when applying;
//! - features: `colt_cost::features` of the lowered loop nest;
//! - measurement: a [`Session`] (compile in parallel, check against the naive reference,
//!   time in the isolated worker). Already measured keys (a resumed run) are answered from
//!   the given records instead of being measured again.

use crate::kernel::Kernel;
use crate::session::Session;
use colt_action::{ActionSpec, Transformation, Vocabulary};
use colt_ir::Program;
use colt_measure::{Outcome, OutcomeKind};
use colt_sched::actions::{self, Action, Choices};
use colt_sched::{Trace, VectorTarget};
use colt_search::{Environment, LlmEnvironment, Measurement, SearchRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Full outcomes of the kernels measured by this process, by structural key: shared with the
/// driver, which records them (min latency, GFLOP/s, error text) in the database.
pub type OutcomeLog = Arc<Mutex<BTreeMap<u64, Outcome>>>;

/// Tile factors an LLM may choose for the two innermost levels of a loop.
const INNER_TILES: [i64; 7] = [1, 2, 4, 8, 16, 32, 64];
const MIDDLE_TILES: [i64; 6] = [1, 2, 4, 8, 16, 32];

/// The search environment of one tensor program: schedule traces, measured in a [`Session`].
pub struct TensorEnv {
    program: Program,
    session: Session,
    target: String,
    /// Measurements already on record (by structural key), answered without measuring.
    known: BTreeMap<u64, Measurement>,
    outcomes: OutcomeLog,
    vector_target: Option<VectorTarget>,
}

impl TensorEnv {
    /// `target` describes the machine for prompts (e.g. "x86-64 Zen 4, 2 cores, AVX-512").
    pub fn new(program: Program, session: Session, target: impl Into<String>) -> TensorEnv {
        TensorEnv {
            program,
            session,
            target: target.into(),
            known: BTreeMap::new(),
            outcomes: OutcomeLog::default(),
            vector_target: None,
        }
    }

    /// Sample with the register-tile prior of `target` (the compile target's vector
    /// registers; see `colt_sched::register`). `None` (the default): no prior.
    pub fn with_vector_target(mut self, target: Option<VectorTarget>) -> TensorEnv {
        self.vector_target = target;
        self
    }

    /// Measurements recorded by an earlier process of the same run (`--resume`).
    pub fn with_known(mut self, known: BTreeMap<u64, Measurement>) -> TensorEnv {
        self.known = known;
        self
    }

    /// The program being scheduled.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The measuring session.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The full outcomes of what this process measured (a shared handle).
    pub fn outcomes(&self) -> OutcomeLog {
        Arc::clone(&self.outcomes)
    }

    /// The LLM transformation as a schedule action.
    pub fn to_action(t: &Transformation) -> Result<Action, String> {
        let mut params: BTreeMap<String, Value> = t.args.clone();
        match t.action.as_str() {
            "tile" => {
                let inner = params
                    .remove("inner")
                    .and_then(|v| v.as_i64())
                    .ok_or("tile needs an integer \"inner\"")?;
                // Without `middle` only the innermost factor is set (the outermost
                // absorbs the rest): the form for loops tiled in two levels.
                let factors = match params.remove("middle").and_then(|v| v.as_i64()) {
                    Some(middle) => json!([middle, inner]),
                    None => json!([inner]),
                };
                params.insert("factors".into(), factors);
            }
            "vectorize" => {
                let on = params.get("on").cloned().unwrap_or(Value::Null);
                let on = match on {
                    Value::Bool(b) => b,
                    Value::String(s) => s == "on" || s == "true",
                    _ => return Err("vectorize needs \"on\": on|off".into()),
                };
                params.insert("on".into(), json!(on));
            }
            _ => {}
        }
        Action::from_parts(&t.action, &params).map_err(|e| e.to_string())
    }
}

fn spec(name: &str, params: Vec<(&str, Vec<Value>)>) -> ActionSpec {
    let doc = actions::VOCABULARY
        .iter()
        .find(|a| a.name == name)
        .map_or("", |a| a.doc);
    let doc = match name {
        "tile" => {
            "set the two innermost tile factors (middle, inner) of one loop of a stage; they must divide its extent (a loop tiled in two levels takes inner only)"
        }
        "vectorize" => "vectorise the innermost loop of a stage (on) or not (off)",
        _ => doc,
    };
    params
        .into_iter()
        .fold(ActionSpec::new(name, doc), |a, (p, c)| a.param(p, c))
}

impl Environment for TensorEnv {
    type State = Trace;

    fn root(&self) -> Trace {
        root_of(&self.program, self.vector_target)
    }

    fn initial_states(&self, n: usize, rng: &mut SearchRng) -> Vec<Trace> {
        (0..n)
            .map(|_| colt_sched::sample_for(&self.program, self.vector_target, rng))
            .collect()
    }

    fn mutate(&self, s: &Trace, rng: &mut SearchRng) -> Option<Trace> {
        colt_sched::mutate::mutate(&self.program, s, rng)
    }

    fn mutate_keyed(&self, s: &Trace, rng: &mut SearchRng) -> Option<(Trace, u64, Vec<f32>)> {
        let (t, f) = colt_sched::mutate::mutate_lowered(&self.program, s, rng)?;
        let (key, features) = key_features_of(&f);
        Some((t, key, features))
    }

    fn features(&self, s: &Trace) -> Vec<f32> {
        match colt_sched::apply_trace(&self.program, s) {
            Ok(f) => colt_cost::features::extract(&f),
            Err(_) => vec![0.0; colt_cost::features::count()],
        }
    }

    fn key(&self, s: &Trace) -> u64 {
        colt_sched::structural_key(&self.program, s).unwrap_or_else(|_| colt_sched::trace_key(s))
    }

    fn key_features(&self, s: &Trace) -> (u64, Vec<f32>) {
        // one lowering for both (the evolutionary search calls this for every individual)
        match colt_sched::apply_trace(&self.program, s) {
            Ok(f) => key_features_of(&f),
            Err(_) => (
                colt_sched::trace_key(s),
                vec![0.0; colt_cost::features::count()],
            ),
        }
    }

    fn measure(&mut self, batch: &[Trace]) -> Vec<Measurement> {
        let keys: Vec<u64> = batch.iter().map(|s| self.key(s)).collect();
        let mut out: Vec<Option<Measurement>> =
            keys.iter().map(|k| self.known.get(k).cloned()).collect();
        let mut todo = vec![];
        let mut kernels = vec![];
        for (i, s) in batch.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            match Kernel::scheduled(&self.program, s) {
                Ok(k) => {
                    todo.push(i);
                    kernels.push(k);
                }
                Err(e) => {
                    out[i] = Some(Measurement::failed(
                        OutcomeKind::ScheduleError,
                        e.to_string(),
                    ))
                }
            }
        }
        let outcomes = self.session.measure(&kernels.iter().collect::<Vec<_>>());
        for (i, o) in todo.into_iter().zip(outcomes) {
            out[i] = Some(measurement_of(&o));
            self.outcomes
                .lock()
                .expect("outcome log")
                .insert(keys[i], o);
        }
        out.into_iter()
            .map(|m| m.expect("every entry filled"))
            .collect()
    }
}

impl LlmEnvironment for TensorEnv {
    fn vocabulary(&self, s: &Trace) -> Vocabulary {
        vocabulary_of(&self.program, s, true, &|_| false)
    }

    fn vocabulary_avoiding(&self, s: &Trace, known: &dyn Fn(u64) -> bool) -> Vocabulary {
        vocabulary_of(&self.program, s, true, known)
    }

    fn action_catalog(&self) -> Vec<ActionSpec> {
        catalog(&self.program, &self.root())
    }

    fn apply(&self, s: &Trace, ts: &[Transformation]) -> Result<Trace, String> {
        let mut t = s.clone();
        for tr in ts {
            let action = Self::to_action(tr)?;
            t = actions::apply_action(&self.program, &t, &action).map_err(|e| e.to_string())?;
        }
        Ok(t)
    }

    fn describe(&self, s: &Trace) -> String {
        let nest = colt_sched::apply_trace(&self.program, s)
            .map(|f| f.display_with(colt_ir::PrintOptions::PROMPT).to_string())
            .unwrap_or_else(|e| format!("(does not lower: {e})"));
        // The decisions stand for the trace (the raw instruction list would double a
        // multi-stage workload's prompt); the steps that led here are the lineage's.
        format!(
            "{}\nloop nest:\n{nest}",
            actions::describe_decisions(&self.program, s)
        )
    }

    fn describe_brief(&self, s: &Trace) -> String {
        brief_decisions(&actions::describe_decisions(&self.program, s))
    }

    fn prompt_prefix(&self) -> String {
        format!(
            "Workload {} ({:.3} GFLOP per run), target {}.\nComputation:\n{}",
            self.program.name,
            self.program.flops() as f64 / 1e9,
            self.target,
            colt_ir::program_str(&self.program).trim_end()
        )
    }

    fn schedule_legend(&self) -> String {
        BRIEF_LEGEND.to_string()
    }
}

/// The search's root for `program`: the sketch with default decisions is what sampling
/// starts from; an empty trace is the naive nest, which the actions cannot edit, so the
/// root is a seeded sample.
fn root_of(program: &Program, target: Option<VectorTarget>) -> Trace {
    let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(0);
    colt_sched::sample_for(program, target, &mut rng)
}

/// Every action with the values each stage admits at `root` (for the prompt's stable
/// prefix); an action the root does not offer is listed by its doc alone.
fn catalog(program: &Program, root: &Trace) -> Vec<ActionSpec> {
    let mut out = vocabulary_of(program, root, false, &|_| false).actions;
    for a in actions::VOCABULARY {
        if !out.iter().any(|x| x.name == a.name) {
            out.push(spec(a.name, vec![]));
        }
    }
    out
}

/// The LLM vocabulary at `s`: one variant per action and stage (per tiled loop for `tile`),
/// each with the values that stage admits; see [`TensorEnv`]'s `vocabulary`.
pub fn vocabulary(program: &Program, s: &Trace) -> Vocabulary {
    vocabulary_of(program, s, true, &|_| false)
}

/// [`vocabulary`]; without `filter`, every value each stage admits, also those that would
/// change nothing at `s`.
fn vocabulary_of(
    program: &Program,
    s: &Trace,
    filter: bool,
    known: &dyn Fn(u64) -> bool,
) -> Vocabulary {
    // One variant per action and stage (per tiled loop for `tile`), each with the values
    // that stage admits, so a constrained answer cannot pair one stage with another's
    // values; a value that would leave the node unchanged (the current one) is left out.
    // Combinations (e.g. tile factors whose product must divide the extent) are
    // validated by `apply`.
    let Ok(choices) = actions::choices(program, s) else {
        return Vocabulary::default();
    };
    let cx = VocabCx {
        program,
        s,
        filter,
        known,
        key: colt_sched::structural_key(program, s).ok(),
    };
    let mut out = vec![];
    for c in &choices {
        let Some(mut ps) = cx.variant_params(c) else {
            continue;
        };
        if ps.iter().any(|(_, vs)| vs.is_empty()) {
            continue; // nothing this variant could change
        }
        // Stable parameter order: stage first, then as the schedule action lists them.
        ps.sort_by_key(|(k, _)| if *k == "stage" { 0 } else { 1 });
        out.push(spec(c.name, ps));
    }
    Vocabulary::new(out)
}

/// What [`vocabulary_of`] offers variants at: the node `s`, its structural key, whether to
/// leave out values that change nothing, and which keys are `known` already.
struct VocabCx<'a> {
    program: &'a Program,
    s: &'a Trace,
    filter: bool,
    known: &'a dyn Fn(u64) -> bool,
    key: Option<u64>,
}

impl VocabCx<'_> {
    /// The parameters and values of the variant of choice `c`: its fixed parameters, then
    /// the values of its free ones. `None`: a step without free parameters that builds no
    /// new program.
    fn variant_params<'c>(
        &self,
        c: &'c actions::ActionChoice,
    ) -> Option<Vec<(&'c str, Vec<Value>)>> {
        let mut ps: Vec<(&str, Vec<Value>)> = c
            .fixed
            .iter()
            .map(|(k, v)| (k.as_str(), vec![v.clone()]))
            .collect();
        match (c.name, c.free.get("factors")) {
            ("tile", Some(Choices::Factors { extent, levels })) => {
                self.tile_params(c, *extent, *levels, &mut ps);
            }
            // An action without free parameters (`inline`) is one step: offered only if
            // it builds a new program.
            _ if self.filter && c.free.is_empty() => {
                let t = Transformation {
                    action: c.name.to_string(),
                    args: c.fixed.clone(),
                };
                if !leads_to_new(self.program, self.s, self.key, self.known, &t) {
                    return None;
                }
            }
            _ => self.one_of_params(c, &mut ps),
        }
        Some(ps)
    }

    /// The tile factors of a `tile` choice over a loop of `extent` tiled in `levels` levels.
    fn tile_params(
        &self,
        c: &actions::ActionChoice,
        extent: i64,
        levels: usize,
        ps: &mut Vec<(&str, Vec<Value>)>,
    ) {
        let divides = |xs: &[i64]| -> Vec<Value> {
            xs.iter()
                .filter(|&&f| extent % f == 0)
                .map(|&f| json!(f))
                .collect()
        };
        if levels >= 3 {
            ps.push(("middle", divides(&MIDDLE_TILES)));
            ps.push(("inner", divides(&INNER_TILES)));
        } else {
            // Two levels: the inner factor decides the outer one, so a `middle`
            // would make every pair but one illegal. Offered: the inner factors
            // that change the node (to one not known yet).
            let vs = divides(&INNER_TILES)
                .into_iter()
                .filter(|v| !self.filter || self.changes(c, "inner", v))
                .collect();
            ps.push(("inner", vs));
        }
    }

    /// The values of each free one-of parameter of `c`.
    fn one_of_params<'c>(&self, c: &'c actions::ActionChoice, ps: &mut Vec<(&'c str, Vec<Value>)>) {
        let filter = self.filter;
        let single = c.free.len() == 1;
        for (k, ch) in &c.free {
            let Choices::OneOf(vs) = ch else { continue };
            let vs: Vec<Value> = if c.name == "vectorize" {
                let cur = c.current.as_bool().unwrap_or(false);
                [("on", true), ("off", false)]
                    .into_iter()
                    .filter(|(_, b)| !filter || !single || *b != cur)
                    .map(|(t, _)| json!(t))
                    .collect()
            } else {
                vs.iter()
                    .filter(|v| !filter || !single || **v != c.current)
                    .cloned()
                    .collect()
            };
            // A single-parameter action is tried with each value: one that is
            // illegal here, builds the same program (e.g. an unroll step the
            // inner loops already exceed) or one already known would only waste
            // the call.
            let vs = if single && filter {
                vs.into_iter().filter(|v| self.changes(c, k, v)).collect()
            } else {
                vs
            };
            ps.push((k.as_str(), vs));
        }
    }

    /// [`changes`] at this node.
    fn changes(&self, c: &actions::ActionChoice, k: &str, v: &Value) -> bool {
        changes(self.program, self.s, self.key, self.known, c, k, v)
    }
}

/// How [`brief_decisions`] writes a schedule (for the prompt's stable prefix).
const BRIEF_LEGEND: &str = "A schedule is written one line per stage: `tiles h=2.4.8.1` (a loop's tile factors, \
outermost first; `r` marks a reduction loop), `cache@j0` (write cache at loop j0), `par2 h0_i0(64)` (the 2 outer \
loops fused and run in parallel, extent 64), `vec j3(8)` (vectorised loop, lanes), `unroll64`, `pack V/16`, \
`at pv.i1` (computed inside stage pv at loop i1), `inlined`, `strided` (innermost loads are strided), `rinner` \
(the reduction's inner tiles innermost).";

/// The decisions of `describe_decisions` in fewer tokens (see [`BRIEF_LEGEND`]): one line
/// per stage, for the shared search record.
fn brief_decisions(full: &str) -> String {
    let mut out = String::new();
    for line in full
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "current decisions:")
    {
        let mut l = line.trim_end().to_string();
        for (from, to) in [
            ("at root, ", ""),
            ("at root", ""),
            ("tiled SSRSRS ", "tiles "),
            ("tiled SSRSSR (reduction innermost) ", "tiles rinner "),
            ("tiled SS ", "tiles "),
            (" (reduce)=", "r="),
            ("write cache at loop ", "cache@"),
            ("parallel over ", "par"),
            (" fused loop(s) ", " "),
            (" (extent ", "("),
            ("vectorized ", "vec "),
            (" lanes)", ")"),
            (" (", "("),
            ("auto-unroll ", "unroll"),
            ("computed inside ", "at "),
            ("inlined into its consumers", "inlined"),
            ("innermost loads are strided", "strided"),
            ("packs ", "pack "),
            (" by ", "/"),
        ] {
            l = l.replace(from, to);
        }
        l = l.replace(" at loop ", ".");
        // Tile factor lists: [2, 2, 8, 1] -> 2.2.8.1
        let mut t = String::new();
        let mut inside = false;
        for ch in l.chars() {
            match ch {
                '[' => inside = true,
                ']' => inside = false,
                ',' if inside => t.push('.'),
                ' ' if inside => {}
                c => t.push(c),
            }
        }
        out.push_str(t.trim_end_matches([',', ' ']));
        out.push('\n');
    }
    out
}

/// Whether setting parameter `k` of choice `c` to `v` is legal at `s` and builds a
/// program other than `s` (structural key `key`) and not `known` already.
fn changes(
    program: &Program,
    s: &Trace,
    key: Option<u64>,
    known: &dyn Fn(u64) -> bool,
    c: &actions::ActionChoice,
    k: &str,
    v: &Value,
) -> bool {
    let mut args: BTreeMap<String, Value> = c.fixed.clone();
    args.insert(k.to_string(), v.clone());
    let t = Transformation {
        action: c.name.to_string(),
        args,
    };
    leads_to_new(program, s, key, known, &t)
}

/// Whether `t` is legal at `s` and builds a program other than `s` (structural key
/// `key`) and not `known` already.
fn leads_to_new(
    program: &Program,
    s: &Trace,
    key: Option<u64>,
    known: &dyn Fn(u64) -> bool,
    t: &Transformation,
) -> bool {
    let Ok(next) = TensorEnv::to_action(t)
        .and_then(|a| actions::apply_action(program, s, &a).map_err(|e| e.to_string()))
    else {
        return false;
    };
    let next = colt_sched::structural_key(program, &next).ok();
    next != key && !next.is_some_and(known)
}

/// Structural key and cost-model features of a lowered nest (one lowering serves both).
fn key_features_of(f: &colt_ir::Func) -> (u64, Vec<f32>) {
    (colt_sched::func_key(f), colt_cost::features::extract(f))
}

/// The engine's view of an outcome: the median latency when correct.
pub fn measurement_of(o: &Outcome) -> Measurement {
    if let Some(us) = o.ok_median_us() {
        return Measurement::ok(us);
    }
    Measurement::failed(o.kind, o.message.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_offered_for_a_loop_tiled_in_two_levels_applies() {
        let mut two_level = 0;
        for name in colt_ops::workloads::names() {
            let program = colt_ops::workloads::build(name, colt_ops::Scale::Ci).unwrap();
            let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(5);
            for trace in (0..4).map(|_| colt_sched::sketch::sample(&program, &mut rng)) {
                for a in vocabulary(&program, &trace).actions {
                    if a.name != "tile" || a.params.iter().any(|p| p.name == "middle") {
                        continue;
                    }
                    two_level += 1;
                    let fixed: Vec<(String, Value)> = a
                        .params
                        .iter()
                        .filter(|p| p.name != "inner")
                        .map(|p| (p.name.clone(), p.choices[0].clone()))
                        .collect();
                    let inner = a.params.iter().find(|p| p.name == "inner").unwrap();
                    assert!(!inner.choices.is_empty());
                    for v in &inner.choices {
                        let mut args: BTreeMap<String, Value> = fixed.iter().cloned().collect();
                        args.insert("inner".into(), v.clone());
                        let t = Transformation {
                            action: "tile".into(),
                            args,
                        };
                        let act = TensorEnv::to_action(&t).unwrap();
                        actions::apply_action(&program, &trace, &act)
                            .unwrap_or_else(|e| panic!("{name}: {t:?}: {e}"));
                    }
                }
            }
        }
        // The suite has elementwise stages (two-level loops), so the check is not vacuous.
        assert!(two_level > 0);
    }

    /// The prompt's stem (everything before the workload) is the same for every built-in
    /// workload at both scales, with or without a vector target: the embedded models'
    /// stored stem serves the first run on any of them.
    #[test]
    fn every_workload_shares_the_prompt_stem() {
        let models = [
            ("small".to_string(), 1e8, 1.0),
            ("big".to_string(), 1e9, 0.0),
        ];
        let mut stems = std::collections::BTreeSet::new();
        for name in colt_ops::workloads::names() {
            for scale in [colt_ops::Scale::Ci, colt_ops::Scale::Paper] {
                let program = colt_ops::workloads::build(name, scale).unwrap();
                for target in [
                    None,
                    Some(VectorTarget {
                        lanes: 8,
                        registers: 16,
                    }),
                ] {
                    let cat = catalog(&program, &root_of(&program, target));
                    for form in [
                        colt_search::prompt::Form::Lean,
                        colt_search::prompt::Form::Full {
                            legend: BRIEF_LEGEND,
                        },
                    ] {
                        let p = colt_search::prompt::prefix("", name, form, &cat, &models, 3);
                        assert!(p.text[p.stem_len..].contains(name));
                        stems.insert(p.stem().to_string());
                    }
                }
            }
        }
        assert_eq!(stems.len(), 2, "one stem per form: {stems:#?}");
    }

    #[test]
    fn vocabulary_is_per_stage_and_offers_no_value_that_changes_nothing() {
        for name in colt_ops::workloads::names() {
            let program = colt_ops::workloads::build(name, colt_ops::Scale::Ci).unwrap();
            let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(3);
            for trace in (0..4).map(|_| colt_sched::sketch::sample(&program, &mut rng)) {
                let v = vocabulary(&program, &trace);
                assert!(!v.actions.is_empty(), "{name}");
                let key = colt_sched::structural_key(&program, &trace).unwrap();
                for a in &v.actions {
                    let stage = a
                        .params
                        .iter()
                        .find(|p| p.name == "stage")
                        .expect("every variant names its stage");
                    assert_eq!(stage.choices.len(), 1, "{name}: {a:?}");
                    assert!(
                        a.params.iter().all(|p| !p.choices.is_empty()),
                        "{name}: {a:?}"
                    );
                    // Single-parameter actions: every offered value applies and changes the node.
                    let free: Vec<_> = a.params.iter().filter(|p| p.name != "stage").collect();
                    if free.len() == 1 && a.name != "tile" {
                        for val in &free[0].choices {
                            let t = Transformation {
                                action: a.name.clone(),
                                args: [
                                    ("stage".to_string(), stage.choices[0].clone()),
                                    (free[0].name.clone(), val.clone()),
                                ]
                                .into_iter()
                                .collect(),
                            };
                            let Ok(next) = TensorEnv::to_action(&t).and_then(|act| {
                                actions::apply_action(&program, &trace, &act)
                                    .map_err(|e| e.to_string())
                            }) else {
                                continue;
                            };
                            assert_ne!(
                                colt_sched::structural_key(&program, &next).ok(),
                                Some(key),
                                "{name}: {t:?} changes nothing"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_llm_vocabulary_leaves_out_single_steps_to_known_nodes() {
        let program =
            colt_ops::workloads::build("llama3-8b-attention", colt_ops::Scale::Ci).unwrap();
        let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(0);
        let root = colt_sched::sketch::sample(&program, &mut rng);
        let unrolls = |v: &Vocabulary| -> Vec<Transformation> {
            let mut out = Vec::new();
            for a in v.actions.iter().filter(|a| a.name == "unroll") {
                let stage = &a.params.iter().find(|p| p.name == "stage").unwrap().choices[0];
                for step in &a.params.iter().find(|p| p.name == "step").unwrap().choices {
                    out.push(Transformation {
                        action: "unroll".into(),
                        args: [
                            ("stage".to_string(), stage.clone()),
                            ("step".to_string(), step.clone()),
                        ]
                        .into_iter()
                        .collect(),
                    });
                }
            }
            out
        };
        let key_after = |t: &Transformation| {
            let act = TensorEnv::to_action(t).unwrap();
            let next = actions::apply_action(&program, &root, &act).unwrap();
            colt_sched::structural_key(&program, &next).unwrap()
        };
        let plain = unrolls(&vocabulary_of(&program, &root, true, &|_| false));
        assert!(plain.len() >= 2);
        let keys: Vec<u64> = plain.iter().map(key_after).collect();
        let first = keys[0];
        let avoiding = unrolls(&vocabulary_of(&program, &root, true, &|k| k == first));
        assert_eq!(avoiding.len(), plain.len() - 1);
        assert!(!avoiding.contains(&plain[0]));
        let all_known = vocabulary_of(&program, &root, true, &|k| keys.contains(&k));
        assert!(unrolls(&all_known).is_empty());
        assert!(!all_known.actions.is_empty(), "the other actions stay");

        // An action without free parameters (inline) goes when its one result is known.
        let inlines = |v: &Vocabulary| -> Vec<Transformation> {
            v.actions
                .iter()
                .filter(|a| a.name == "inline")
                .map(|a| Transformation {
                    action: "inline".into(),
                    args: a
                        .params
                        .iter()
                        .map(|p| (p.name.clone(), p.choices[0].clone()))
                        .collect(),
                })
                .collect()
        };
        let plain = inlines(&vocabulary_of(&program, &root, true, &|_| false));
        assert!(!plain.is_empty(), "attention's exp stage can be inlined");
        let k = key_after(&plain[0]);
        let avoiding = inlines(&vocabulary_of(&program, &root, true, &|x| x == k));
        assert_eq!(avoiding.len(), plain.len() - 1);
    }

    #[test]
    fn brief_decisions_keep_every_decision_in_fewer_characters() {
        let full = "current decisions:\n  qk: at root, tiled SSRSRS h=[2, 2, 8, 1] d (reduce)=[8, 16], write cache at loop j0, parallel over 1 fused loop(s) h0 (extent 2), vectorized j3 (4 lanes), auto-unroll 16\n  exp: inlined into its consumers\n  norm: computed inside pv at loop i1, packs V by 16\n";
        assert_eq!(
            brief_decisions(full),
            "  qk: tiles h=2.2.8.1 dr=8.16, cache@j0, par1 h0(2), vec j3(4), unroll16\n  exp: inlined\n  norm: at pv.i1, pack V/16\n"
        );
        let program =
            colt_ops::workloads::build("llama3-8b-attention", colt_ops::Scale::Ci).unwrap();
        let mut rng = <SearchRng as rand::SeedableRng>::seed_from_u64(1);
        let t = colt_sched::sketch::sample(&program, &mut rng);
        let long = actions::describe_decisions(&program, &t);
        let short = brief_decisions(&long);
        assert_eq!(short.lines().count(), program.stages.len());
        assert!(
            short.len() * 10 < long.len() * 7,
            "{} vs {}",
            short.len(),
            long.len()
        );
    }
}
