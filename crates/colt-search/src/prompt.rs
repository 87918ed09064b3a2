//! The prompt: a stable prefix (instructions, workload, every action name, the models with
//! their sizes, the answer format) and a volatile suffix (the acting node with its parent
//! and grandparent, the actions and parameter values valid for it, search progress,
//! per-model statistics, which models expanded the recent ancestors, and for a course
//! alteration the small model's proposal and outcome).
//!
//! The acting node is described in full (the environment's text: for tensor programs the
//! decisions and printed loop nest; the steps that led to it are the lineage's "Last step" lines). Its parent and grandparent are
//! shown as line diffs of their descriptions against the next node down: what the last
//! steps changed, at a fraction of the tokens (three full nests were ~2,900 prompt tokens
//! per call for matmul, most of a 270M model's 15 s per call on two cores).
//!
//! The prefix is built once per run and never changes, so providers can cache it. Nothing
//! here depends on wall-clock time or hash order: the same tree gives the same text.

use std::fmt::Write;

use colt_llm::config::format_param_count;
use colt_llm::{ActionSpec, Transformation, Vocabulary};

/// A model as the prompt lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelLine {
    pub name: String,
    pub params: f64,
    pub phi_small: f64,
    pub calls: u64,
    pub errors: u64,
    pub children: u64,
    pub hits: u64,
    pub course_alterations: u64,
}

/// One node of the acting node's lineage.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLine {
    pub id: u32,
    pub depth: u32,
    /// Who created it (model name, `mutation` or `root`).
    pub proposer: String,
    /// The model assigned to expand it.
    pub model: Option<String>,
    pub transformations: Vec<Transformation>,
    /// The environment's description (program text, history).
    pub describe: String,
    pub predicted: f64,
    /// `Some(Some(us))` measured, `Some(None)` failed.
    pub measured_us: Option<Option<f64>>,
}

/// Search progress for the prompt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressLine {
    pub trials: usize,
    pub trials_total: usize,
    pub best_us: Option<f64>,
    pub tree_nodes: usize,
    pub max_depth: u32,
    pub llm_calls: u64,
    pub llm_call_budget: Option<u64>,
}

/// The small model's proposal shown to the largest in a course alteration.
#[derive(Clone, Debug, PartialEq)]
pub struct AlterationLine {
    pub model: String,
    pub transformations: Vec<Transformation>,
    pub child_predicted: f64,
    pub parent_predicted: f64,
    pub streak: u32,
}

/// Everything the volatile part shows.
#[derive(Clone, Debug)]
pub struct SuffixInputs<'a> {
    /// The model being asked.
    pub you: &'a str,
    /// Acting node, parent, grandparent (as far as they exist).
    pub lineage: Vec<NodeLine>,
    /// (node id, the model or proposer that created it) for the acting node and its
    /// nearest ancestors, nearest first.
    pub ancestor_models: Vec<(u32, String)>,
    pub vocabulary: &'a Vocabulary,
    pub progress: ProgressLine,
    pub models: Vec<ModelLine>,
    pub alteration: Option<AlterationLine>,
}

/// Render a transformation list compactly: `tile(loop=j, inner=32), vectorize()`.
pub fn render_transformations(ts: &[Transformation]) -> String {
    if ts.is_empty() {
        return "(none)".to_string();
    }
    ts.iter()
        .map(|t| {
            let args: Vec<String> = t.args.iter().map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect();
            format!("{}({})", t.action, args.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stable prefix. `models` are (name, parameter count, φ_small) in bucket order.
pub fn prefix(env_prefix: &str, catalog: &[ActionSpec], models: &[(String, f64, f64)], max_transformations: usize) -> String {
    let mut s = String::new();
    s.push_str(
        "You are an expert performance engineer guiding a search for the fastest version of a program. \
         Candidates form one Monte Carlo search tree shared by several language models of different sizes. \
         At each expansion one model reads a node (a candidate with its transformation history) and answers \
         with a joint action: a short sequence of transformations to apply to that node, and the model that \
         should expand the resulting child. Transformations never change what the program computes. \
         Children are scored by a learned cost model and the best ones are measured on the target; \
         a child predicted or measured slower than its parent is a regression for the model that proposed it. \
         After repeated regressions of a small model, the largest model is asked the same question. \
         Choose the next model by difficulty: small models for routine refinements, larger ones when the \
         search is stuck or the next step is subtle.\n\n",
    );
    s.push_str("# Workload\n");
    s.push_str(env_prefix.trim_end());
    s.push_str("\n\n# Transformations (the values each parameter may take at the current node are listed with each question)\n");
    for a in catalog {
        let params: Vec<&str> = a.params.iter().map(|p| p.name.as_str()).collect();
        let _ = write!(s, "- {}({})", a.name, params.join(", "));
        if !a.doc.is_empty() {
            let _ = write!(s, ": {}", a.doc);
        }
        s.push('\n');
    }
    s.push_str("\n# Models (name, parameters, phi_small: 1 = smallest, 0 = largest)\n");
    for (name, params, phi) in models {
        let _ = writeln!(s, "- {name}: {} parameters, phi_small {phi:.2}", format_param_count(*params));
    }
    let names: Vec<&str> = models.iter().map(|m| m.0.as_str()).collect();
    let _ = write!(
        s,
        "\n# Answer\nAnswer with exactly one JSON object and nothing else:\n\
         {{\"transformations\": [1 to {max} objects {{\"action\": <name>, <param>: <value>, ...}}], \"next_model\": <one of: {names}>}}\n\
         Use only actions listed as valid for the current node, give every parameter of an action, \
         and take each value from that parameter's list.\n",
        max = max_transformations.max(1),
        names = names.join(", "),
    );
    s
}

fn score_text(n: &NodeLine) -> String {
    let m = match n.measured_us {
        Some(Some(us)) => format!("measured {us:.2} us"),
        Some(None) => "measured: FAILED (did not build or run)".to_string(),
        None => "not measured".to_string(),
    };
    format!("predicted score {:.3} (1 = as fast as the best measured), {m}", n.predicted)
}

/// Changed lines an ancestor's diff shows at most (a random sample's ancestor, e.g. the
/// root, differs everywhere; the prompt stays bounded).
pub const MAX_DIFF_LINES: usize = 10;

/// The lines of `old` and `new` that differ, `-` / `+` prefixed in order (unchanged lines
/// left out, at most [`MAX_DIFF_LINES`] shown); `(identical)` when none differ.
pub fn line_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old.trim_end(), new.trim_end());
    let mut out = String::new();
    let changed: Vec<_> = diff.iter_all_changes().filter(|c| c.tag() != similar::ChangeTag::Equal).collect();
    for (i, change) in changed.iter().enumerate() {
        if i == MAX_DIFF_LINES {
            let _ = writeln!(out, "(... {} more changed lines)", changed.len() - i);
            break;
        }
        let sign = if change.tag() == similar::ChangeTag::Delete { '-' } else { '+' };
        out.push(sign);
        out.push_str(change.value().trim_end_matches('\n'));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("(identical)\n");
    }
    out
}

/// The volatile suffix.
pub fn suffix(x: &SuffixInputs<'_>) -> String {
    let mut s = String::new();
    let titles = ["Current node (the one you expand)", "Its parent", "Its grandparent"];
    for (i, n) in x.lineage.iter().enumerate().take(3) {
        let _ = writeln!(s, "# {} #{}, depth {}", titles[i], n.id, n.depth);
        let _ = writeln!(s, "Created by: {}; assigned to: {}", n.proposer, n.model.as_deref().unwrap_or("-"));
        let _ = writeln!(s, "Last step: {}", render_transformations(&n.transformations));
        let _ = writeln!(s, "Score: {}", score_text(n));
        if i == 0 {
            s.push_str(n.describe.trim_end());
        } else {
            let below = &x.lineage[i - 1];
            let _ = writeln!(s, "Description: as node #{} except (- this node, + node #{}):", below.id, below.id);
            s.push_str(line_diff(&n.describe, &below.describe).trim_end());
        }
        s.push_str("\n\n");
    }
    if !x.ancestor_models.is_empty() {
        let list: Vec<String> = x.ancestor_models.iter().map(|(id, m)| format!("#{id} {m}")).collect();
        let _ = writeln!(s, "# Who created the current node and its ancestors (nearest first)\n{}\n", list.join(", "));
    }
    let p = &x.progress;
    let _ = writeln!(
        s,
        "# Search progress\nTrials {} of {}; best {}; tree {} nodes, max depth {}; LLM calls {}{}\n",
        p.trials,
        p.trials_total,
        p.best_us.map_or("none yet".to_string(), |b| format!("{b:.2} us")),
        p.tree_nodes,
        p.max_depth,
        p.llm_calls,
        p.llm_call_budget.map_or(String::new(), |b| format!(" of {b}")),
    );
    s.push_str("# Models so far (calls, errors, children, hit rate = share of children better than their parent, course alterations)\n");
    for m in &x.models {
        let hit = if m.children == 0 { "-".to_string() } else { format!("{:.0}%", 100.0 * m.hits as f64 / m.children as f64) };
        let _ = writeln!(
            s,
            "- {} ({}): {} calls, {} errors, {} children, hit rate {hit}, {} course alterations",
            m.name,
            format_param_count(m.params),
            m.calls,
            m.errors,
            m.children,
            m.course_alterations
        );
    }
    let _ = write!(s, "\n# Transformations valid at the current node\n{}", x.vocabulary.describe());
    if let Some(a) = &x.alteration {
        let _ = write!(
            s,
            "\n# Course alteration\nThe smaller model {} proposed: {}. Its child scored {:.3} against the parent's {:.3}: \
             its regression #{} in a row. Propose a better alternative from the same node.\n",
            a.model,
            render_transformations(&a.transformations),
            a.child_predicted,
            a.parent_predicted,
            a.streak
        );
    }
    let _ = write!(s, "\nYou are {}. Answer with the JSON object only.\n", x.you);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn t(action: &str, args: &[(&str, serde_json::Value)]) -> Transformation {
        Transformation { action: action.into(), args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>() }
    }

    #[test]
    fn prefix_lists_actions_models_and_format_and_is_state_free() {
        let cat = vec![ActionSpec::new("set", "set a decision").param("index", [0, 1]).param("value", [1, 2]), ActionSpec::new("reset", "")];
        let models = vec![("small".to_string(), 270e6, 1.0), ("big".to_string(), 8e9, 0.0)];
        let p = prefix("toy workload", &cat, &models, 2);
        assert!(p.contains("# Workload\ntoy workload"));
        assert!(p.contains("- set(index, value): set a decision"));
        assert!(p.contains("- reset()"));
        assert!(p.contains("- small: 270M parameters, phi_small 1.00"));
        assert!(p.contains("- big: 8B parameters, phi_small 0.00"));
        assert!(p.contains("1 to 2 objects") && p.contains("<one of: small, big>"));
        // The parameter choices belong to the suffix, not the prefix.
        assert!(!p.contains("value∈"));
    }

    #[test]
    fn line_diff_keeps_only_changed_lines_in_order() {
        let a = "head\nfor i in 0..64:\n  x\ntail\n";
        let b = "head\nfor i in 0..32:\n  x\ntail";
        assert_eq!(line_diff(a, b), "-for i in 0..64:\n+for i in 0..32:\n");
        assert_eq!(line_diff(a, a), "(identical)\n");
        let many_a: String = (0..40).map(|i| format!("a{i}\n")).collect();
        let many_b: String = (0..40).map(|i| format!("b{i}\n")).collect();
        let d = line_diff(&many_a, &many_b);
        assert_eq!(d.lines().count(), MAX_DIFF_LINES + 1);
        assert!(d.ends_with(&format!("(... {} more changed lines)\n", 80 - MAX_DIFF_LINES)), "{d}");
    }

    #[test]
    fn suffix_shows_lineage_progress_stats_and_alteration() {
        let vocab = Vocabulary::new(vec![ActionSpec::new("set", "").param("index", [0, 1])]);
        let line = |id: u32, measured: Option<Option<f64>>| NodeLine {
            id,
            depth: id,
            proposer: "small".into(),
            model: Some("big".into()),
            transformations: vec![t("set", &[("index", 1.into())])],
            describe: format!("program {id}"),
            predicted: 0.5,
            measured_us: measured,
        };
        let x = SuffixInputs {
            you: "big",
            lineage: vec![line(2, None), line(1, Some(Some(12.5))), line(0, Some(None))],
            ancestor_models: vec![(1, "small".into()), (0, "big".into())],
            vocabulary: &vocab,
            progress: ProgressLine { trials: 8, trials_total: 64, best_us: Some(12.5), tree_nodes: 3, max_depth: 2, llm_calls: 5, llm_call_budget: Some(40) },
            models: vec![ModelLine { name: "small".into(), params: 1e9, phi_small: 1.0, calls: 4, errors: 1, children: 3, hits: 2, course_alterations: 1 }],
            alteration: Some(AlterationLine { model: "small".into(), transformations: vec![t("set", &[("index", 0.into())])], child_predicted: 0.2, parent_predicted: 0.5, streak: 2 }),
        };
        let s = suffix(&x);
        for want in [
            "# Current node (the one you expand) #2, depth 2",
            "# Its parent #1",
            "# Its grandparent #0",
            "Last step: set(index=1)",
            "measured 12.50 us",
            "measured: FAILED",
            "program 2",
            "Description: as node #2 except (- this node, + node #2):\n-program 1\n+program 2",
            "Description: as node #1 except (- this node, + node #1):\n-program 0\n+program 1",
            "#1 small, #0 big",
            "Trials 8 of 64; best 12.50 us; tree 3 nodes, max depth 2; LLM calls 5 of 40",
            "- small (1B): 4 calls, 1 errors, 3 children, hit rate 67%, 1 course alterations",
            "- set index∈{0,1}",
            "The smaller model small proposed: set(index=0)",
            "regression #2 in a row",
            "You are big.",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
    }
}
