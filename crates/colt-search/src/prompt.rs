//! The prompt: `prefix + record + question`.
//!
//! - The prefix is stable for the whole run (instructions, every action name, the models
//!   with their sizes, the answer format, then the workload and the record's legend), so
//!   every provider caches it. Its start up to the answer format is the same for every
//!   workload of a space (the stem): the embedded models keep a stored state of it, so the
//!   first run on a workload never seen evaluates only the workload part.
//! - The record (the crate's `record` module) is the shared search tree as an append-only list of
//!   events; each model's cache holds it up to that model's previous call.
//! - The question is short and the only part written anew per call: the acting node and
//!   its schedule (one line per stage), the children already tried from it (so the model
//!   does not repeat them), the transformations valid there (`all`, `all but ...`, or the
//!   list), search progress, each model's hits, and for a course alteration the small
//!   model's proposal. Every token of it is evaluated on every call (the embedded models
//!   evaluate 100-200 tokens/s on 2 cores), so it says nothing twice and nothing the
//!   record already holds.
//!
//! Nothing here depends on wall-clock time or hash order: the same tree gives the same text.

use std::fmt::Write;

use colt_action::{ActionSpec, Transformation, Vocabulary};
use colt_llm::config::format_param_count;

use crate::record::{others_text, short_us};

/// A model's record in the question: children it made, and how many were hits
/// (better than their parent).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelLine {
    /// The model's name.
    pub name: String,
    /// Tree nodes it created.
    pub children: u64,
    /// Of those, how many beat their parent.
    pub hits: u64,
}

/// Search progress for the prompt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressLine {
    /// Trials measured so far.
    pub trials: usize,
    /// Trials the run will measure in all.
    pub trials_total: usize,
    /// Best latency so far in µs.
    pub best_us: Option<f64>,
    /// LLM calls so far.
    pub llm_calls: u64,
    /// The LLM-call budget, if any.
    pub llm_call_budget: Option<u64>,
}

/// The small model's proposal shown to the largest in a course alteration.
#[derive(Clone, Debug, PartialEq)]
pub struct AlterationLine {
    /// The small model that answered.
    pub model: String,
    /// Its transformations.
    pub transformations: Vec<Transformation>,
    /// The cost model's score of its child.
    pub child_predicted: f64,
    /// The cost model's score of the parent.
    pub parent_predicted: f64,
    /// Regressions in a row that triggered the alteration.
    pub streak: u32,
}

/// The acting node as the question names it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActingNode {
    /// Node id.
    pub id: u32,
    /// Depth in the tree (root: 0).
    pub depth: u32,
    /// Who created it (model name, `mutation`, `sample`, `warmup` or `root`).
    pub proposer: String,
    /// Its parent's id (`None` for the root).
    pub parent: Option<u32>,
    /// The steps from its parent (empty when not created by a model).
    pub transformations: Vec<Transformation>,
    /// The cost model's score (normalised throughput).
    pub predicted: f64,
    /// `Some(Some(us))` measured, `Some(None)` failed.
    pub measured_us: Option<Option<f64>>,
}

/// A child already tried from the acting node.
#[derive(Clone, Debug, PartialEq)]
pub struct TriedChild {
    /// Node id.
    pub id: u32,
    /// Its steps; empty for a child made without steps (a mutation, a random sample).
    pub steps: String,
    /// The cost model's score (normalised throughput).
    pub predicted: f64,
    /// `Some(Some(us))` measured, `Some(None)` failed, `None` not measured.
    pub measured_us: Option<Option<f64>>,
}

/// Children with steps that a question names at most (the most recent); the others are
/// counted.
pub const MAX_TRIED: usize = 6;

/// Everything the question shows.
#[derive(Clone, Debug)]
pub struct QuestionInputs<'a> {
    /// The model being asked.
    pub you: &'a str,
    /// The node being expanded.
    pub node: ActingNode,
    /// The acting node's decisions (the environment's brief description, one line per
    /// part of the state).
    pub decisions: String,
    /// Children already tried from it.
    pub tried: Vec<TriedChild>,
    /// The actions valid at the node.
    pub vocabulary: &'a Vocabulary,
    /// A model with the lean prefix ([`Form::Lean`]): its grammar admits only the valid
    /// actions, so the question leaves out the valid-action list, the progress line and the
    /// per-model hit rates; it keeps the node, the children tried and any alteration.
    pub lean: bool,
    /// Every action of the workload (the prefix's catalog): the question names only the
    /// ones not valid at the node when that is shorter.
    pub catalog: &'a Vocabulary,
    /// Search progress.
    pub progress: ProgressLine,
    /// Per-model records.
    pub models: Vec<ModelLine>,
    /// The small model's answer, in a course alteration.
    pub alteration: Option<AlterationLine>,
}

/// Render a transformation list compactly: `tile(loop=j, inner=32), vectorize()`.
pub fn render_transformations(ts: &[Transformation]) -> String {
    if ts.is_empty() {
        return "(none)".to_string();
    }
    ts.iter()
        .map(|t| {
            let args: Vec<String> = t
                .args
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect();
            format!("{}({})", t.action, args.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a model's stable prefix holds beyond the workload, the actions and the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form<'a> {
    /// For a model shown schedules in its questions: how a schedule is written (the
    /// environment's legend) and every action's values.
    Full {
        /// [`crate::LlmEnvironment::schedule_legend`].
        legend: &'a str,
    },
    /// For a model not shown schedules and decoding under a grammar that admits only the
    /// valid values (an embedded model): neither, so every call attends over fewer tokens.
    Lean,
}

/// The prefix's opening: the search and the part a model plays in it (`shared`: several
/// models share the tree).
fn intro(shared: bool) -> &'static str {
    if shared {
        concat!(
            "You are an expert performance engineer guiding a search for the fastest version of a program. ",
            "Candidates form one Monte Carlo search tree shared by several language models of different sizes. \
             At each expansion one model reads a node (a candidate with its transformation history) and answers \
             with a joint action: a short sequence of transformations to apply to that node, and the model that \
             should expand the resulting child. Transformations never change what the program computes. \
             Children are scored by a learned cost model and the best ones are measured on the target; \
             a child predicted or measured slower than its parent is a regression for the model that proposed it. \
             After repeated regressions of a small model, the largest model is asked the same question. \
             Choose the next model by difficulty: small models for routine refinements, larger ones when the \
             search is stuck or the next step is subtle.\n\n",
        )
    } else {
        concat!(
            "You are an expert performance engineer guiding a search for the fastest version of a program. ",
            "Candidates form a Monte Carlo search tree that you expand. \
             At each expansion you read a node (a candidate with its transformation history) and answer \
             with a short sequence of transformations to apply to that node. \
             Transformations never change what the program computes. \
             Children are scored by a learned cost model and the best ones are measured on the target; \
             a child predicted or measured slower than its parent is a regression.\n\n",
        )
    }
}

/// The catalog's action names in a fixed order (by name), each once.
fn action_names(catalog: &[ActionSpec]) -> Vec<&str> {
    let mut names: Vec<&str> = catalog.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The catalog's actions, one line each: name and doc, by name. Neither depends on the
/// workload (the parameters do, see [`catalog_params`]), so this part of the prompt is the
/// same for every workload of a space.
fn catalog_docs(s: &mut String, catalog: &[ActionSpec]) {
    for name in action_names(catalog) {
        let doc = catalog
            .iter()
            .filter(|a| a.name == name)
            .map(|a| a.doc.as_str())
            .find(|d| !d.is_empty());
        match doc {
            Some(doc) => {
                let _ = writeln!(s, "- {name}: {doc}");
            }
            None => {
                let _ = writeln!(s, "- {name}");
            }
        }
    }
}

/// Each action's parameters, on one line (`Parameters: tile(stage, loop, inner); inline(stage).`):
/// every parameter any variant of it takes, in the order first seen. Empty when no action
/// takes any.
fn catalog_params(catalog: &[ActionSpec]) -> String {
    let parts: Vec<String> = action_names(catalog)
        .into_iter()
        .filter_map(|name| {
            let mut params: Vec<&str> = Vec::new();
            for a in catalog.iter().filter(|a| a.name == name) {
                for p in &a.params {
                    if !params.contains(&p.name.as_str()) {
                        params.push(&p.name);
                    }
                }
            }
            (!params.is_empty()).then(|| format!("{name}({})", params.join(", ")))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("Parameters: {}.\n", parts.join("; "))
    }
}

/// A model's stable prefix, and how much of its start every workload of the search space
/// shares (see [`colt_llm::Request::stem_len`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// The whole prefix.
    pub text: String,
    /// Bytes of `text` that do not depend on the workload: the stem.
    pub stem_len: usize,
}

impl Prefix {
    /// The part every workload of the space shares.
    pub fn stem(&self) -> &str {
        &self.text[..self.stem_len]
    }
}

/// The stable prefix. `space` is what every workload of the search space shares beyond the
/// actions ([`crate::LlmEnvironment::prompt_space`]), `workload` the workload itself;
/// `models` are (name, parameter count, φ_small) in bucket order. Everything up to the
/// answer format is the same for every workload of a space and a bucket (the stem, which
/// the embedded models keep a stored state of); the workload, the actions' values (which
/// name its stages) and the record's legend follow.
pub fn prefix(
    space: &str,
    workload: &str,
    form: Form<'_>,
    catalog: &[ActionSpec],
    models: &[(String, f64, f64)],
    max_transformations: usize,
) -> Prefix {
    let mut s = String::new();
    s.push_str(intro(models.len() > 1));
    if !space.trim().is_empty() {
        s.push_str("# Search space\n");
        s.push_str(space.trim_end());
        s.push_str("\n\n");
    }
    s.push_str("# Transformations\n");
    catalog_docs(&mut s, catalog);
    if let Form::Full { legend } = form
        && !legend.is_empty()
    {
        s.push_str("\n# Schedules\n");
        s.push_str(legend.trim_end());
        s.push('\n');
    }
    s.push_str("\n# Models (name, parameters, phi_small: 1 = smallest, 0 = largest)\n");
    for (name, params, phi) in models {
        let _ = writeln!(
            s,
            "- {name}: {} parameters, phi_small {phi:.2}",
            format_param_count(*params)
        );
    }
    let names: Vec<&str> = models.iter().map(|m| m.0.as_str()).collect();
    let _ = writeln!(
        s,
        "\n# Answer\nAnswer with exactly one JSON object and nothing else:\n\
         {{\"transformations\": [1 to {max} objects {{\"action\": <name>, <param>: <value>, ...}}], \"next_model\": <one of: {names}>}}\n{rule}",
        max = max_transformations.max(1),
        names = names.join(", "),
        // The lean form lists neither the values nor the valid actions: its grammar does.
        rule = if form == Form::Lean {
            "Give every parameter of an action; the answer's grammar admits only the actions and values valid at the node."
        } else {
            "Use only actions listed as valid for the current node, give every parameter of an action, \
             and take each value from that parameter's list."
        },
    );
    let stem_len = s.len();
    s.push_str("\n# Workload\n");
    s.push_str(workload.trim_end());
    s.push('\n');
    s.push_str(&catalog_params(catalog));
    let valued: Vec<ActionSpec> = catalog
        .iter()
        .filter(|a| !a.params.is_empty() && a.params.iter().all(|p| !p.choices.is_empty()))
        .cloned()
        .collect();
    if !valued.is_empty() && form != Form::Lean {
        s.push_str("\n# Their values (at the start; at each node only the values that change something are admitted)\n");
        s.push_str(&catalog_values(&valued));
    }
    s.push_str(
        "\n# Search record\nEvery event of the search so far, oldest first: \
         \"nC from nP by M: steps | predicted S\" (model M proposed node nC from node nP; S is the cost model's \
         score when it was made, 1 = as fast as the best measured), and for each batch of measurements \
         \"measured (us): nC T, nD (mutation of nP) T best, nE failed, K others T1-T2\" (the nodes models proposed, \
         the root and each new best are named, a node no model proposed with its origin in parentheses; \
         best: the fastest so far; the batch's other K nodes, mutations and samples, are counted with their fastest \
         and slowest times).\n",
    );
    Prefix { text: s, stem_len }
}

fn score_text(predicted: f64, measured: Option<Option<f64>>) -> String {
    match measured {
        Some(Some(us)) => format!("predicted {predicted:.2}, measured {us:.2} us"),
        Some(None) => format!("predicted {predicted:.2}, measured: FAILED"),
        None => format!("predicted {predicted:.2}, not measured"),
    }
}

/// Values as the prefix lists them: a run of three or more consecutive integers as `a..b`.
fn values_text(choices: &[serde_json::Value]) -> String {
    let ints: Option<Vec<i64>> = choices.iter().map(serde_json::Value::as_i64).collect();
    let vals: Vec<String> = match ints {
        Some(xs) if xs.len() >= 3 && xs.windows(2).all(|w| w[1] == w[0] + 1) => {
            vec![format!("{}..{}", xs[0], xs[xs.len() - 1])]
        }
        _ => choices
            .iter()
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
            .collect(),
    };
    if vals.len() == 1 {
        format!("={}", vals[0])
    } else {
        format!("∈{{{}}}", vals.join(","))
    }
}

/// A parameter's values, in order of appearance.
type Params = Vec<(String, Vec<serde_json::Value>)>;

/// An action (name and stage, when it names one) with its parameters' values.
type Merged = (String, Option<String>, Params);

/// The valued actions merged by (action, stage): each parameter's values united, in order
/// of appearance.
fn merge_values(valued: &[ActionSpec]) -> Vec<Merged> {
    let stage_of = |a: &ActionSpec| {
        a.params.iter().find(|p| p.name == "stage").and_then(|p| {
            (p.choices.len() == 1).then(|| {
                p.choices[0]
                    .as_str()
                    .map_or_else(|| p.choices[0].to_string(), str::to_string)
            })
        })
    };
    let mut merged: Vec<Merged> = Vec::new();
    for a in valued {
        let st = stage_of(a);
        let i = match merged.iter().position(|(n, g, _)| *n == a.name && *g == st) {
            Some(i) => i,
            None => {
                merged.push((a.name.clone(), st.clone(), Vec::new()));
                merged.len() - 1
            }
        };
        for p in a.params.iter().filter(|p| p.name != "stage") {
            let params = &mut merged[i].2;
            let k = match params.iter().position(|(n, _)| *n == p.name) {
                Some(k) => k,
                None => {
                    params.push((p.name.clone(), Vec::new()));
                    params.len() - 1
                }
            };
            for c in &p.choices {
                if !params[k].1.contains(c) {
                    params[k].1.push(c.clone());
                }
            }
        }
    }
    merged
}

/// The catalog's values in few tokens: a parameter whose values are the same wherever its
/// action appears is given once per action; the rest per stage (`- qk: tile loop∈{h,i}
/// inner∈{...}; unroll; ...`).
fn catalog_values(valued: &[ActionSpec]) -> String {
    let merged = merge_values(valued);
    // Parameters with one value list wherever the action appears.
    let common = |name: &str, param: &str| -> Option<Vec<serde_json::Value>> {
        let mut lists = merged
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, ps)| ps.iter().find(|(p, _)| p == param).map(|(_, v)| v.clone()));
        let first = lists.next()??;
        lists.all(|l| l.as_ref() == Some(&first)).then_some(first)
    };
    let mut out = String::new();
    let mut names: Vec<&str> = Vec::new();
    for (n, _, _) in &merged {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut shared = Vec::new();
    for n in &names {
        let params = &merged.iter().find(|(m, _, _)| m == n).expect("present").2;
        let common: Vec<String> = params
            .iter()
            .filter_map(|(p, _)| common(n, p).map(|v| format!("{p}{}", values_text(&v))))
            .collect();
        if !common.is_empty() {
            shared.push(format!("{n} {}", common.join(" ")));
        }
    }
    if !shared.is_empty() {
        let _ = writeln!(out, "- everywhere: {}", shared.join("; "));
    }
    let mut stages: Vec<Option<String>> = Vec::new();
    for (_, g, _) in &merged {
        if !stages.contains(g) {
            stages.push(g.clone());
        }
    }
    for g in stages {
        let parts: Vec<String> = merged
            .iter()
            .filter(|(_, m, _)| *m == g)
            .map(|(n, _, ps)| {
                let own: Vec<String> = ps
                    .iter()
                    .filter(|(p, _)| common(n, p).is_none())
                    .map(|(p, v)| format!(" {p}{}", values_text(v)))
                    .collect();
                format!("{n}{}", own.concat())
            })
            .collect();
        match g {
            Some(st) => {
                let _ = writeln!(out, "- {st}: {}", parts.join("; "));
            }
            None => {
                let _ = writeln!(out, "- {}", parts.join("; "));
            }
        }
    }
    out
}

/// Action names by stage where the actions name one (`qk: [tile, unroll]`), else under "".
fn by_stage(v: &Vocabulary) -> Vec<(String, Vec<&str>)> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for a in &v.actions {
        let stage = a
            .params
            .iter()
            .find(|p| p.name == "stage" && p.choices.len() == 1)
            .map(|p| {
                p.choices[0]
                    .as_str()
                    .map_or_else(|| p.choices[0].to_string(), str::to_string)
            })
            .unwrap_or_default();
        let i = match groups.iter().position(|(g, _)| *g == stage) {
            Some(i) => i,
            None => {
                groups.push((stage, Vec::new()));
                groups.len() - 1
            }
        };
        if !groups[i].1.contains(&a.name.as_str()) {
            groups[i].1.push(&a.name);
        }
    }
    groups
}

/// Groups as the question lists them: `qk: tile unroll; pv: pack`.
fn groups_text(groups: &[(String, Vec<&str>)]) -> String {
    groups
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(g, names)| {
            if g.is_empty() {
                names.join(" ")
            } else {
                format!("{g}: {}", names.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The actions valid at a node in the fewest words: `all` when every action of the
/// catalog is, `all but qk: pack` when few are not, else the valid ones.
pub fn valid_text(valid: &Vocabulary, catalog: &Vocabulary) -> String {
    let ok = by_stage(valid);
    let has = |g: &str, n: &str| ok.iter().any(|(h, ns)| h == g && ns.contains(&n));
    let missing: Vec<(String, Vec<&str>)> = by_stage(catalog)
        .into_iter()
        .map(|(g, names)| {
            let out: Vec<&str> = names.into_iter().filter(|n| !has(&g, n)).collect();
            (g, out)
        })
        .filter(|(_, names)| !names.is_empty())
        .collect();
    let n_missing: usize = missing.iter().map(|(_, n)| n.len()).sum();
    let n_ok: usize = ok.iter().map(|(_, n)| n.len()).sum();
    if n_missing == 0 {
        "all".to_string()
    } else if n_missing < n_ok {
        format!("all but {}", groups_text(&missing))
    } else {
        groups_text(&ok)
    }
}

/// The question: short, and the only part of the prompt written anew for each call.
pub fn question(x: &QuestionInputs<'_>) -> String {
    let mut s = String::from("\n# Question\n");
    let n = &x.node;
    let origin = match n.parent {
        Some(p) if !n.transformations.is_empty() => format!(
            "made by {} from n{p} with {}",
            n.proposer,
            render_transformations(&n.transformations)
        ),
        Some(p) => format!("made by {} from n{p}", n.proposer),
        None => format!("the {}", n.proposer),
    };
    let _ = writeln!(
        s,
        "Expand n{} ({origin}; depth {}; {}).",
        n.id,
        n.depth,
        score_text(n.predicted, n.measured_us)
    );
    let decisions: Vec<&str> = x
        .decisions
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    if !decisions.is_empty() {
        let _ = writeln!(s, "Schedule of n{}:", n.id);
        for l in decisions {
            let _ = writeln!(s, "{l}");
        }
    }
    tried_lines(&mut s, n.id, &x.tried);
    if !x.lean {
        status_lines(&mut s, x);
    }
    if let Some(a) = &x.alteration {
        let _ = writeln!(
            s,
            "Course alteration: the smaller model {} proposed {}. Its child scored {:.2} against the parent's {:.2}: \
             regression #{} in a row. Propose a better alternative from the same node.",
            a.model,
            render_transformations(&a.transformations),
            a.child_predicted,
            a.parent_predicted,
            a.streak
        );
    }
    if x.lean {
        let _ = writeln!(s, "You are {}.", x.you);
    } else {
        let _ = writeln!(s, "You are {}. Answer with JSON only.", x.you);
    }
    s
}

/// The children tried from node `id`: the most recent [`MAX_TRIED`] with steps named with
/// their steps and time (the record says who proposed them), the rest (mutations, random
/// samples, older ones) counted with the range of their times, as a batch line of the record
/// counts them.
fn tried_lines(s: &mut String, id: u32, tried: &[TriedChild]) {
    let with_steps: Vec<&TriedChild> = tried.iter().filter(|c| !c.steps.is_empty()).collect();
    let named = &with_steps[with_steps.len().saturating_sub(MAX_TRIED)..];
    let others: Vec<Option<f64>> = tried
        .iter()
        .filter(|c| !named.iter().any(|n| n.id == c.id))
        .filter_map(|c| c.measured_us)
        .collect();
    let others = others_text(&others);
    if named.is_empty() {
        if !others.is_empty() {
            let _ = writeln!(s, "Already tried from n{id} (us): {others}.");
        }
        return;
    }
    let _ = writeln!(s, "Already tried from n{id} (do not repeat these; us):");
    for c in named {
        let outcome = match c.measured_us {
            Some(Some(us)) => short_us(us),
            Some(None) => "failed".to_string(),
            None => format!("not measured, predicted {:.2}", c.predicted),
        };
        let _ = writeln!(s, "- n{} {}: {outcome}", c.id, c.steps);
    }
    if !others.is_empty() {
        let _ = writeln!(s, "- {others}");
    }
}

/// Progress, the per-model hit rates and the valid actions at the node.
fn status_lines(s: &mut String, x: &QuestionInputs<'_>) {
    let p = &x.progress;
    let _ = writeln!(
        s,
        "Trials {}/{}, best {}, LLM calls {}{}.",
        p.trials,
        p.trials_total,
        p.best_us
            .map_or("none yet".to_string(), |b| format!("{b:.2} us")),
        p.llm_calls,
        p.llm_call_budget.map_or(String::new(), |b| format!("/{b}")),
    );
    if x.models.len() > 1 {
        let lines: Vec<String> = x
            .models
            .iter()
            .map(|m| format!("{} {}/{}", m.name, m.hits, m.children))
            .collect();
        let _ = writeln!(
            s,
            "Children better than their parent: {}.",
            lines.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "Valid at n{}: {}.",
        x.node.id,
        valid_text(x.vocabulary, x.catalog)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn t(action: &str, args: &[(&str, serde_json::Value)]) -> Transformation {
        Transformation {
            action: action.into(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn prefix_lists_actions_models_and_format_and_is_state_free() {
        let cat = vec![
            ActionSpec::new("set", "set a decision")
                .param("index", [0, 1])
                .param("value", [1, 2]),
            ActionSpec::new("reset", ""),
        ];
        let models = vec![
            ("small".to_string(), 270e6, 1.0),
            ("big".to_string(), 8e9, 0.0),
        ];
        let p = prefix(
            "",
            "toy workload",
            Form::Full { legend: "" },
            &cat,
            &models,
            2,
        );
        let p = p.text;
        assert!(p.contains("# Workload\ntoy workload"));
        assert!(p.contains("- reset\n- set: set a decision\n"), "{p}");
        assert!(
            p.contains("toy workload\nParameters: set(index, value).\n"),
            "{p}"
        );
        // Values of the catalog's variants, one line per stage.
        assert!(
            p.contains("# Their values") && p.contains("- everywhere: set index∈{0,1} value∈{1,2}"),
            "{p}"
        );
        assert!(p.contains("- small: 270M parameters, phi_small 1.00"));
        assert!(p.contains("- big: 8B parameters, phi_small 0.00"));
        assert!(p.contains("1 to 2 objects") && p.contains("<one of: small, big>"));
    }

    #[test]
    fn the_lean_prefix_drops_the_legend_and_the_values_and_keeps_the_rest() {
        let cat = vec![ActionSpec::new("set", "set a decision").param("index", [0, 1])];
        let models = vec![("big".to_string(), 8e9, 0.0)];
        let full = prefix(
            "",
            "toy workload",
            Form::Full {
                legend: "A schedule is written as XYZ.",
            },
            &cat,
            &models,
            2,
        )
        .text;
        let lean = prefix("", "toy workload", Form::Lean, &cat, &models, 2).text;
        assert!(full.contains("\n# Schedules\nA schedule is written as XYZ.\n\n# Models"));
        assert!(full.contains("# Their values"), "{full}");
        assert!(
            !lean.contains("XYZ") && !lean.contains("# Their values"),
            "{lean}"
        );
        // It does not point at lists it lacks.
        assert!(!lean.contains("listed as valid") && lean.contains("grammar admits only"));
        // Everything else is the same text: the lean prefix is the full one minus both parts,
        // with the answer rule that named them reworded.
        let values =
            &full[full.find("\n# Their values").unwrap()..full.find("\n# Search record").unwrap()];
        let stripped = full
            .replace("\n# Schedules\nA schedule is written as XYZ.\n", "")
            .replace(values, "")
            .replace(
                "Use only actions listed as valid for the current node, give every parameter of an action, \
                 and take each value from that parameter's list.",
                "Give every parameter of an action; the answer's grammar admits only the actions and values valid at the node.",
            );
        assert_eq!(stripped, lean);
    }

    /// The stem (up to the answer format) is the same for any workload with the same
    /// actions and models, and holds the space's text; the workload and the values that
    /// name its stages follow it.
    #[test]
    fn the_stem_is_what_every_workload_of_the_space_shares() {
        // The workloads offer different variants (and one offers `tile` without
        // parameters at its root); the docs are the same.
        let cat = |stage: &str| {
            let mut c = vec![
                ActionSpec::new("set", "set a decision")
                    .param("stage", [stage])
                    .param("index", [0, 1]),
            ];
            let tile = ActionSpec::new("tile", "tile a loop");
            if stage == "conv" {
                c.push(tile.param("stage", [stage]).param("inner", [2, 4]));
            } else {
                c.insert(0, tile);
            }
            c
        };
        let models = vec![
            ("small".to_string(), 1e8, 1.0),
            ("big".to_string(), 8e9, 0.0),
        ];
        let form = Form::Full {
            legend: "A schedule is written as XYZ.",
        };
        let a = prefix(
            "passes: p q r",
            "workload A",
            form,
            &cat("conv"),
            &models,
            2,
        );
        let b = prefix(
            "passes: p q r",
            "workload B",
            form,
            &cat("matmul"),
            &models,
            2,
        );
        assert_eq!(a.stem(), b.stem());
        assert!(a.stem().contains("# Search space\npasses: p q r\n"));
        assert!(a.stem().contains("XYZ") && a.stem().contains("# Answer"));
        for (p, w, stage) in [(&a, "workload A", "conv"), (&b, "workload B", "matmul")] {
            let rest = &p.text[p.stem_len..];
            assert!(
                rest.starts_with("\n# Workload\n") && rest.contains(w),
                "{rest}"
            );
            assert!(rest.contains(stage) && !p.stem().contains(stage));
            assert!(rest.contains("# Search record"));
            assert!(
                p.stem()
                    .contains("- set: set a decision\n- tile: tile a loop\n")
            );
        }
        // A space without text of its own has no such section.
        let plain = prefix("", "workload A", form, &cat("conv"), &models, 2);
        assert!(!plain.text.contains("# Search space"));
    }

    #[test]
    fn catalog_values_give_shared_values_once_and_the_rest_per_stage() {
        let cat = vec![
            ActionSpec::new("tile", "")
                .param("stage", ["a"])
                .param("loop", ["i"])
                .param("inner", [1, 2, 4]),
            ActionSpec::new("tile", "")
                .param("stage", ["a"])
                .param("loop", ["j"])
                .param("inner", [1, 2]),
            ActionSpec::new("unroll", "")
                .param("stage", ["a"])
                .param("step", [0, 16]),
            ActionSpec::new("tile", "")
                .param("stage", ["b"])
                .param("loop", ["k"])
                .param("inner", [1, 2, 4]),
            ActionSpec::new("unroll", "")
                .param("stage", ["b"])
                .param("step", [0, 16]),
            ActionSpec::new("parallel", "")
                .param("stage", ["b"])
                .param("loops", [0, 1, 2, 3]),
        ];
        assert_eq!(
            catalog_values(&cat),
            "- everywhere: tile inner∈{1,2,4}; unroll step∈{0,16}; parallel loops=0..3\n- a: tile loop∈{i,j}; unroll\n- b: tile loop=k; unroll; parallel\n"
        );
    }

    #[test]
    fn prefix_speaks_of_one_model_when_one_is_asked() {
        let cat = vec![ActionSpec::new("set", "")];
        let one = prefix(
            "",
            "w",
            Form::Lean,
            &cat,
            &[("big".to_string(), 8e9, 0.0)],
            2,
        )
        .text;
        assert!(!one.contains("several language models"), "{one}");
        let two = prefix(
            "",
            "w",
            Form::Lean,
            &cat,
            &[
                ("small".to_string(), 1e8, 1.0),
                ("big".to_string(), 8e9, 0.0),
            ],
            2,
        )
        .text;
        assert!(two.contains("several language models"));
        assert!(one.ends_with("and slowest times).\n") && two.contains("# Search record"));
        assert!(one.contains("K others T1-T2"), "{one}");
    }

    #[test]
    fn valid_actions_are_all_all_but_or_listed_whichever_is_shortest() {
        let act = |st: &str, name: &str| ActionSpec::new(name, "").param("stage", [st]);
        let cat = Vocabulary::new(vec![
            act("a", "tile"),
            act("a", "pack"),
            act("b", "tile"),
            act("b", "inline"),
        ]);
        assert_eq!(valid_text(&cat, &cat), "all");
        let most = Vocabulary::new(vec![act("a", "tile"), act("b", "tile"), act("b", "inline")]);
        assert_eq!(valid_text(&most, &cat), "all but a: pack");
        let few = Vocabulary::new(vec![act("b", "inline")]);
        assert_eq!(valid_text(&few, &cat), "b: inline");
    }

    /// The vocabulary at the node and the workload's catalog (one stage more).
    fn vocab_and_catalog() -> (Vocabulary, Vocabulary) {
        let vocab = Vocabulary::new(vec![
            ActionSpec::new("set", "")
                .param("stage", ["s"])
                .param("index", [0, 1]),
            ActionSpec::new("set", "")
                .param("stage", ["t"])
                .param("index", [2]),
        ]);
        let mut catalog = vocab.clone();
        catalog.actions.push(
            ActionSpec::new("set", "")
                .param("stage", ["u"])
                .param("index", [3]),
        );
        (vocab, catalog)
    }

    /// A question with every part: tried children, progress, two models, an alteration.
    fn full_question<'a>(vocab: &'a Vocabulary, catalog: &'a Vocabulary) -> QuestionInputs<'a> {
        QuestionInputs {
            you: "big",
            node: ActingNode {
                id: 7,
                depth: 2,
                proposer: "small".into(),
                parent: Some(3),
                transformations: vec![t("set", &[("index", 1.into())])],
                predicted: 0.5,
                measured_us: None,
            },
            decisions: "  s: tiles i=4.2\n  t: inlined\n".into(),
            tried: vec![
                TriedChild {
                    id: 8,
                    steps: String::new(),
                    predicted: 0.3,
                    measured_us: Some(Some(40.25)),
                },
                TriedChild {
                    id: 9,
                    steps: "set(index=0)".into(),
                    predicted: 0.25,
                    measured_us: Some(Some(12.5)),
                },
                TriedChild {
                    id: 10,
                    steps: String::new(),
                    predicted: 0.1,
                    measured_us: Some(None),
                },
            ],
            vocabulary: vocab,
            catalog,
            lean: false,
            progress: ProgressLine {
                trials: 8,
                trials_total: 64,
                best_us: Some(12.5),
                llm_calls: 5,
                llm_call_budget: Some(40),
            },
            models: vec![
                ModelLine {
                    name: "small".into(),
                    children: 3,
                    hits: 2,
                },
                ModelLine {
                    name: "big".into(),
                    children: 1,
                    hits: 0,
                },
            ],
            alteration: Some(AlterationLine {
                model: "small".into(),
                transformations: vec![t("set", &[("index", 0.into())])],
                child_predicted: 0.2,
                parent_predicted: 0.5,
                streak: 2,
            }),
        }
    }

    #[test]
    fn question_names_the_node_tried_children_valid_actions_and_alteration() {
        let (vocab, catalog) = vocab_and_catalog();
        let x = full_question(&vocab, &catalog);
        let s = question(&x);
        for want in [
            "Expand n7 (made by small from n3 with set(index=1); depth 2; predicted 0.50, not measured).\nSchedule of n7:\n  s: tiles i=4.2\n  t: inlined\n",
            "Already tried from n7 (do not repeat these; us):\n- n9 set(index=0): 12.5\n- 2 others 40.2, 1 of them failed\n",
            "Trials 8/64, best 12.50 us, LLM calls 5/40.",
            "Children better than their parent: small 2/3, big 0/1.",
            "Valid at n7: all but u: set.",
            "the smaller model small proposed set(index=0)",
            "regression #2 in a row",
            "You are big.",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        // One model: no per-model table.
        let one = QuestionInputs {
            models: vec![x.models[1].clone()],
            tried: vec![],
            alteration: None,
            ..x.clone()
        };
        let s1 = question(&one);
        assert!(
            !s1.contains("better than their parent") && !s1.contains("Already tried"),
            "{s1}"
        );
        // Lean: the node, the children tried and the alteration; no status lines.
        let lean = question(&QuestionInputs {
            lean: true,
            ..x.clone()
        });
        assert!(
            lean.contains("Expand n7") && lean.contains("- n9 set(index=0): 12.5"),
            "{lean}"
        );
        assert!(lean.contains("regression #2 in a row") && lean.ends_with("You are big.\n"));
        for gone in [
            "Trials 8/64",
            "better than their parent",
            "Valid at n7",
            "JSON",
        ] {
            assert!(!lean.contains(gone), "{gone:?} in\n{lean}");
        }
    }

    #[test]
    fn tried_children_name_the_recent_ones_with_steps_and_count_the_rest() {
        let child = |id: u32, steps: &str, us: Option<Option<f64>>| TriedChild {
            id,
            steps: steps.into(),
            predicted: 0.5,
            measured_us: us,
        };
        // Only children without steps: one line with their count and range.
        let mut s = String::new();
        tried_lines(
            &mut s,
            0,
            &[
                child(1, "", Some(Some(91.4))),
                child(2, "", Some(Some(483.0))),
            ],
        );
        assert_eq!(s, "Already tried from n0 (us): 2 others 91.4-483.\n");
        // More children with steps than a question names: the oldest are counted.
        let mut tried: Vec<TriedChild> = (1..=8)
            .map(|i| child(i, &format!("set(index={i})"), Some(Some(10.0 * i as f64))))
            .collect();
        tried.push(child(9, "set(index=9)", None));
        let mut s = String::new();
        tried_lines(&mut s, 3, &tried);
        assert!(
            s.starts_with(
                "Already tried from n3 (do not repeat these; us):\n- n4 set(index=4): 40.0\n"
            ),
            "{s}"
        );
        assert!(
            s.contains("- n9 set(index=9): not measured, predicted 0.50\n"),
            "{s}"
        );
        assert!(s.ends_with("- 3 others 10.0-30.0\n"), "{s}");
        assert!(!s.contains("n1 ") && !s.contains("n3 set"), "{s}");
        // None at all: nothing.
        let mut s = String::new();
        tried_lines(&mut s, 3, &[]);
        assert!(s.is_empty());
    }
}
