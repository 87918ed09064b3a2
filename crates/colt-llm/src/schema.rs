//! Answer constraints built from the *current* vocabulary and model names: a JSON Schema
//! (OpenAI `response_format`, Anthropic forced tool input) and a GBNF grammar (llama.cpp
//! grammar-constrained decoding). Both admit exactly the valid joint actions: each action
//! with its exact parameters and enumerated values, 1..=max transformations, and a
//! `next_model` among the bucket's names.

use serde_json::{Value, json};

use crate::vocab::{ActionSpec, Vocabulary};

/// The JSON Schema of a joint action (strict-mode compatible: every object lists all its
/// properties as required and sets `additionalProperties: false`).
pub fn json_schema(vocab: &Vocabulary, models: &[String], max_transformations: usize) -> Value {
    let items: Vec<Value> = vocab.actions.iter().map(action_schema).collect();
    let items = if items.len() == 1 {
        items.into_iter().next().unwrap()
    } else {
        json!({ "anyOf": items })
    };
    json!({
        "type": "object",
        "properties": {
            "transformations": {
                "type": "array",
                "items": items,
                "minItems": 1,
                "maxItems": max_transformations.max(1),
            },
            "next_model": { "type": "string", "enum": models },
        },
        "required": ["transformations", "next_model"],
        "additionalProperties": false,
    })
}

fn action_schema(a: &ActionSpec) -> Value {
    let mut props = serde_json::Map::new();
    props.insert(
        "action".into(),
        json!({ "type": "string", "enum": [a.name] }),
    );
    let mut required = vec![Value::String("action".into())];
    for p in &a.params {
        let mut s = serde_json::Map::new();
        if p.choices.iter().all(Value::is_i64) || p.choices.iter().all(Value::is_u64) {
            s.insert("type".into(), json!("integer"));
        } else if p.choices.iter().all(Value::is_string) {
            s.insert("type".into(), json!("string"));
        }
        s.insert("enum".into(), Value::Array(p.choices.clone()));
        props.insert(p.name.clone(), Value::Object(s));
        required.push(Value::String(p.name.clone()));
    }
    json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

/// The `response_format` object for OpenAI-compatible endpoints.
pub fn openai_response_format(
    vocab: &Vocabulary,
    models: &[String],
    max_transformations: usize,
) -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {
            "name": "joint_action",
            "strict": true,
            "schema": json_schema(vocab, models, max_transformations),
        }
    })
}

/// A GBNF literal for the JSON text `json` (quotes and backslashes escaped).
fn gbnf_lit(json: &str) -> String {
    let mut s = String::from("\"");
    for c in json.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The GBNF literal of a JSON value as it appears in the answer.
fn gbnf_value(v: &Value) -> String {
    gbnf_lit(&v.to_string())
}

/// A GBNF grammar (root rule `root`) admitting exactly the valid joint actions. Keys come
/// in a fixed order (action first, then the parameters as declared) and there is no
/// whitespace, which keeps small models from wandering and answers short.
pub fn gbnf(vocab: &Vocabulary, models: &[String], max_transformations: usize) -> String {
    let max = max_transformations.max(1);
    let mut g = String::new();
    g.push_str("root ::= \"{\" ws \"\\\"transformations\\\"\" ws \":\" ws \"[\" ws transformation");
    if max > 1 {
        g.push_str(&format!(" (ws \",\" ws transformation){{0,{}}}", max - 1));
    }
    g.push_str(" ws \"]\" ws \",\" ws \"\\\"next_model\\\"\" ws \":\" ws model ws \"}\"\n");
    let alts: Vec<String> = (0..vocab.actions.len())
        .map(|i| format!("action-{i}"))
        .collect();
    if alts.is_empty() {
        // No action is admissible: a rule that matches nothing is not expressible, so the
        // caller must not ask; keep the grammar well-formed anyway.
        g.push_str("transformation ::= \"{}\"\n");
    } else {
        g.push_str(&format!("transformation ::= {}\n", alts.join(" | ")));
    }
    for (i, a) in vocab.actions.iter().enumerate() {
        g.push_str(&format!(
            "action-{i} ::= \"{{\" ws \"\\\"action\\\"\" ws \":\" ws {}",
            gbnf_lit(&Value::String(a.name.clone()).to_string())
        ));
        for p in &a.params {
            let key = gbnf_lit(&Value::String(p.name.clone()).to_string());
            let vals: Vec<String> = p.choices.iter().map(gbnf_value).collect();
            let vals = if vals.is_empty() {
                "\"null\"".to_string()
            } else {
                vals.join(" | ")
            };
            g.push_str(&format!(" ws \",\" ws {key} ws \":\" ws ({vals})"));
        }
        g.push_str(" ws \"}\"\n");
    }
    let ms: Vec<String> = models
        .iter()
        .map(|m| gbnf_lit(&Value::String(m.clone()).to_string()))
        .collect();
    g.push_str(&format!(
        "model ::= {}\n",
        if ms.is_empty() {
            "\"\\\"\\\"\"".to_string()
        } else {
            ms.join(" | ")
        }
    ));
    // No whitespace between tokens: the shortest answer (generation is most of a small
    // embedded model's call).
    g.push_str("ws ::= \"\"\n");
    g
}

/// A valid example answer (first choice of each parameter, the first model).
pub fn example_answer(vocab: &Vocabulary, models: &[String]) -> Value {
    let t: Vec<Value> = vocab
        .actions
        .iter()
        .take(1)
        .map(|a| {
            let mut m = serde_json::Map::new();
            m.insert("action".into(), Value::String(a.name.clone()));
            for p in &a.params {
                m.insert(
                    p.name.clone(),
                    p.choices.first().cloned().unwrap_or(Value::Null),
                );
            }
            Value::Object(m)
        })
        .collect();
    json!({ "transformations": t, "next_model": models.first().cloned().unwrap_or_default() })
}

/// Instructions describing the answer format, for the stable prefix of a prompt. Ends
/// with an example answer so that base (non-instruction-tuned) models continue in kind.
pub fn answer_format_instructions(
    vocab: &Vocabulary,
    models: &[String],
    max_transformations: usize,
) -> String {
    format!(
        "Answer with exactly one JSON object and nothing else:\n\
         {{\"transformations\": [1 to {max} objects {{\"action\": <name>, <param>: <value>, ...}}], \"next_model\": <model>}}\n\
         Actions (use every listed parameter, with one of its values):\n{actions}\
         Models for next_model: {models}\n\
         Example answer: {example}\n",
        max = max_transformations.max(1),
        actions = vocab.describe(),
        models = models.join(", "),
        example = example_answer(vocab, models),
    )
}
