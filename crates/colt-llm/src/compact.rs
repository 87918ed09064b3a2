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
