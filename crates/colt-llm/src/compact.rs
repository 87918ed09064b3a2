//! The short answer form for embedded models: `tile(qk,h,4,16); unroll(qk,64) -> big`
//! (each step the action and its values in parameter order, then the next model).
//!
//! Why: an embedded model generates every token of its answer, those the grammar forces
//! included, at about one decode step each (tens of milliseconds on two cores). The JSON
//! form repeats every key (`{"action":"tile","stage":"qk",...}`, ~20 tokens a step); the
//! short form carries the same choices in a third of the tokens. The grammar admits exactly
//! the valid answers, as the JSON grammar does, and [`to_json`] turns the text back into the
//! JSON joint action the parser reads, so nothing downstream changes.

use serde_json::{Value, json};

use crate::vocab::{ActionSpec, Vocabulary};

/// How a value is written in the short form (strings bare, the rest as JSON).
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Whether every name and value can be written in the short form unambiguously.
pub fn usable(vocab: &Vocabulary, models: &[String]) -> bool {
    let clean = |s: &str| {
        !s.is_empty()
            && !s.contains([',', ';', '(', ')', ' ', '\n', '"', '\\'])
            && !s.contains("->")
    };
    vocab.actions.iter().all(|a| {
        clean(&a.name)
            && a.params
                .iter()
                .all(|p| !p.choices.is_empty() && p.choices.iter().all(|c| clean(&text(c))))
    }) && models.iter().all(|m| clean(m))
        && !vocab.actions.is_empty()
        && !models.is_empty()
}

/// GBNF literal of plain text.
fn lit(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The grammar of the short form (root rule `root`).
pub fn gbnf(vocab: &Vocabulary, models: &[String], max_transformations: usize) -> String {
    let max = max_transformations.max(1);
    let mut g = String::from("root ::= step");
    if max > 1 {
        g.push_str(&format!(" (\"; \" step){{0,{}}}", max - 1));
    }
    g.push_str(" \" -> \" model\n");
    let alts: Vec<String> = (0..vocab.actions.len()).map(|i| format!("a{i}")).collect();
    g.push_str(&format!("step ::= {}\n", alts.join(" | ")));
    for (i, a) in vocab.actions.iter().enumerate() {
        let mut rule = format!("a{i} ::= {}", lit(&format!("{}(", a.name)));
        for (k, p) in a.params.iter().enumerate() {
            if k > 0 {
                rule.push_str(" \",\"");
            }
            let vals: Vec<String> = p.choices.iter().map(|c| lit(&text(c))).collect();
            rule.push_str(&format!(" ({})", vals.join(" | ")));
        }
        rule.push_str(" \")\"\n");
        g.push_str(&rule);
    }
    let ms: Vec<String> = models.iter().map(|m| lit(m)).collect();
    g.push_str(&format!("model ::= {}\n", ms.join(" | ")));
    g
}

/// The instructions for the short form (for the end of a prompt's stable part).
pub fn instructions(max_transformations: usize) -> String {
    format!(
        "\n# Short answer form\nAnswer on one line in the short form: 1 to {} steps separated by \"; \", each written \
         action(value1,value2,...) with the values in the order of the action's parameters, then \" -> \" and the next model. \
         Example: unroll(s,64); vectorize(s,on) -> m\n",
        max_transformations.max(1)
    )
}

/// What the short form's grammar forces after `text`, a prefix of a valid answer: the
/// characters every valid continuation starts with, and whether the answer is then
/// complete (nothing may follow). An embedded model appends forced text in one decode
/// step instead of sampling it token by token (`compute_location(` after `comp`, a
/// stage's only value, the rest of a model's name). Text that is not a prefix of a valid
/// answer forces nothing.
pub fn forced(
    vocab: &Vocabulary,
    models: &[String],
    max_transformations: usize,
    text: &str,
) -> (String, bool) {
    let max = max_transformations.max(1);
    let mut out = String::new();
    loop {
        let (piece, done) = next_forced(vocab, models, max, &format!("{text}{out}"));
        out.push_str(&piece);
        if done || piece.is_empty() {
            return (out, done);
        }
    }
}

/// One forced piece after `text` (see [`forced`]).
fn next_forced(vocab: &Vocabulary, models: &[String], max: usize, so_far: &str) -> (String, bool) {
    if let Some((_, m)) = so_far.split_once(" -> ") {
        let names: Vec<&str> = models
            .iter()
            .map(String::as_str)
            .filter(|n| n.starts_with(m))
            .collect();
        let rest = rest_of_common_prefix(&names, m);
        let done = !names.is_empty() && names.iter().all(|n| n.len() == m.len() + rest.len());
        return (rest, done);
    }
    let closed = so_far.matches(')').count();
    let step = match so_far.rfind(')') {
        None => so_far,
        Some(i) => {
            let tail = &so_far[i + 1..];
            if tail.is_empty() {
                // "; " or " -> " may follow, unless the answer has all its steps.
                let arrow = if closed >= max { " -> " } else { "" };
                return (arrow.into(), false);
            }
            match tail.strip_prefix("; ") {
                Some(step) if closed < max => step,
                Some(_) => return (String::new(), false),
                None => {
                    let sep = [("; ", closed < max), (" -> ", true)]
                        .into_iter()
                        .find(|(s, ok)| *ok && s.starts_with(tail));
                    let rest = sep.map_or("", |(s, _)| &s[tail.len()..]);
                    return (rest.into(), false);
                }
            }
        }
    };
    let candidates: Vec<String> = match step.split_once('(') {
        None => vocab
            .actions
            .iter()
            .map(|a| format!("{}(", a.name))
            .filter(|n| n.starts_with(step))
            .collect(),
        Some((name, args)) => {
            let mut values: Vec<&str> = args.split(',').collect();
            let partial = values.pop().unwrap_or_default();
            let k = values.len();
            let mut c = Vec::new();
            for a in vocab.actions.iter().filter(|a| a.name == name) {
                let admits = a.params.len() >= k
                    && a.params
                        .iter()
                        .zip(&values)
                        .all(|(p, v)| p.choices.iter().any(|c| text(c) == *v));
                if !admits {
                    continue;
                }
                if a.params.is_empty() {
                    c.push(")".to_string());
                    continue;
                }
                let Some(p) = a.params.get(k) else { continue };
                let end = if k + 1 < a.params.len() { "," } else { ")" };
                c.extend(
                    p.choices
                        .iter()
                        .map(|v| format!("{}{end}", text(v)))
                        .filter(|v| v.starts_with(partial)),
                );
            }
            return (rest_of_common_prefix(&c, partial), false);
        }
    };
    (rest_of_common_prefix(&candidates, step), false)
}

/// What the longest common prefix of `candidates` (all starting with `typed`) adds to
/// `typed`; empty when there are none.
fn rest_of_common_prefix<S: AsRef<str>>(candidates: &[S], typed: &str) -> String {
    let Some(first) = candidates.first().map(AsRef::as_ref) else {
        return String::new();
    };
    let mut len = first.len();
    for c in &candidates[1..] {
        let c = c.as_ref();
        len = first
            .bytes()
            .zip(c.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first.get(typed.len()..len).unwrap_or_default().to_string()
}

/// The variant of `name` whose choices admit `values` in order.
fn variant<'a>(vocab: &'a Vocabulary, name: &str, values: &[&str]) -> Option<&'a ActionSpec> {
    vocab
        .actions
        .iter()
        .filter(|a| a.name == name && a.params.len() == values.len())
        .find(|a| {
            a.params
                .iter()
                .zip(values)
                .all(|(p, v)| p.choices.iter().any(|c| text(c) == *v))
        })
}

/// The JSON joint action a short-form answer stands for; `None` when the text is not in
/// the short form (the parser then reports it as it is).
pub fn to_json(answer: &str, vocab: &Vocabulary) -> Option<String> {
    let line = answer.trim();
    let (steps, model) = line.rsplit_once("->")?;
    let mut ts = Vec::new();
    for step in steps.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, rest) = step.split_once('(')?;
        let args = rest.strip_suffix(')')?;
        let values: Vec<&str> = if args.trim().is_empty() {
            Vec::new()
        } else {
            args.split(',').map(str::trim).collect()
        };
        let a = variant(vocab, name.trim(), &values)?;
        let mut m = serde_json::Map::new();
        m.insert("action".into(), json!(a.name));
        for (p, v) in a.params.iter().zip(&values) {
            let choice = p.choices.iter().find(|c| text(c) == *v)?;
            m.insert(p.name.clone(), choice.clone());
        }
        ts.push(Value::Object(m));
    }
    Some(json!({ "transformations": ts, "next_model": model.trim() }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::new(vec![
            ActionSpec::new("tile", "")
                .param("stage", ["qk"])
                .param("loop", ["h", "i"])
                .param("middle", [1, 4])
                .param("inner", [4, 16]),
            ActionSpec::new("unroll", "")
                .param("stage", ["qk"])
                .param("step", [0, 64]),
            ActionSpec::new("unroll", "")
                .param("stage", ["pv"])
                .param("step", [512]),
            ActionSpec::new("vectorize", "")
                .param("stage", ["qk"])
                .param("on", ["on", "off"]),
        ])
    }

    #[test]
    fn short_answers_become_the_json_joint_action() {
        let v = vocab();
        let j = to_json("tile(qk,h,4,16); unroll(pv,512) -> big", &v).unwrap();
        let val: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(
            val,
            json!({"transformations": [
                {"action": "tile", "stage": "qk", "loop": "h", "middle": 4, "inner": 16},
                {"action": "unroll", "stage": "pv", "step": 512}
            ], "next_model": "big"})
        );
        let parsed = crate::parse_answer(&j, &v, &["big".to_string()], 3).unwrap();
        assert_eq!(parsed.transformations.len(), 2);
        // A value no variant admits: not the short form (the parser reports the text).
        assert_eq!(to_json("unroll(pv,64) -> big", &v), None);
        assert_eq!(to_json("no arrow here", &v), None);
    }

    #[test]
    fn forced_text_is_what_every_valid_continuation_starts_with() {
        let v = vocab();
        let ms = ["small".to_string(), "big".to_string()];
        let f = |t: &str, max| forced(&v, &ms, max, t);
        let none = (String::new(), false);
        assert_eq!(f("", 2), none, "tile, unroll, vectorize");
        assert_eq!(f("t", 2), ("ile(qk,".into(), false), "tile's only stage");
        assert_eq!(f("tile(qk,h,", 2), none, "1 or 4");
        assert_eq!(f("tile(qk,h,1", 2), (",".into(), false));
        assert_eq!(
            f("tile(qk,h,1,1", 2),
            ("6)".into(), false),
            "the last value closes"
        );
        // Two variants of unroll: the stage picks one, whose only step is then forced.
        assert_eq!(f("unroll(p", 2), ("v,512)".into(), false));
        assert_eq!(f("unroll(qk,", 2), none, "0 or 64");
        assert_eq!(f("vectorize(qk,o", 2), none, "on or off");
        // After a step: "; " or " -> " while steps are left, else the arrow.
        assert_eq!(f("unroll(qk,0)", 2), none);
        assert_eq!(f("unroll(qk,0);", 2), (" ".into(), false));
        assert_eq!(f("unroll(qk,0) ", 2), ("-> ".into(), false));
        assert_eq!(f("unroll(qk,0); unroll(qk,0)", 2), (" -> ".into(), false));
        assert_eq!(f("unroll(qk,0)", 1), (" -> ".into(), false));
        // The model's name, and the answer is complete.
        assert_eq!(f("unroll(qk,0) -> s", 2), ("mall".into(), true));
        assert_eq!(f("unroll(qk,0) -> big", 2), (String::new(), true));
        assert_eq!(f("unroll(qk,0) -> x", 2), none, "not a prefix of an answer");
        let one = ["gemma-3-270m".to_string()];
        assert_eq!(
            forced(&v, &one, 1, "unroll(p"),
            ("v,512) -> gemma-3-270m".into(), true),
            "one model: everything after the stage is forced"
        );
        // Forced text completes steps the grammar admits.
        for t in ["t", "tile(qk,h,1,1", "unroll(p"] {
            let full = format!("{t}{}", f(t, 1).0);
            if full.ends_with(" -> ") {
                assert!(to_json(&format!("{full}big"), &v).is_some(), "{full}");
            }
        }
        assert_eq!(f("tile(qk,h,1,1", 1).0, "6) -> ");
    }

    #[test]
    fn the_grammar_lists_each_variant_with_its_values_in_order() {
        let g = gbnf(&vocab(), &["small".into(), "big".into()], 2);
        assert!(
            g.starts_with("root ::= step (\"; \" step){0,1} \" -> \" model\n"),
            "{g}"
        );
        assert!(g.contains("a0 ::= \"tile(\" (\"qk\") \",\" (\"h\" | \"i\") \",\" (\"1\" | \"4\") \",\" (\"4\" | \"16\") \")\""), "{g}");
        assert!(
            g.contains("a2 ::= \"unroll(\" (\"pv\") \",\" (\"512\") \")\""),
            "{g}"
        );
        assert!(g.contains("model ::= \"small\" | \"big\""));
        assert!(usable(&vocab(), &["big".into()]));
        let odd = Vocabulary::new(vec![
            ActionSpec::new("p", "").param("pass", ["loop-unroll<a;b>"]),
        ]);
        assert!(!usable(&odd, &["big".into()]));
    }
}
