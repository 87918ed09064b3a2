//! Turning an answer's text into a [`JointAction`], forgivingly about syntax and strictly
//! about names.
//!
//! Accepted: the object in a code fence or surrounded by prose, nested in a wrapper object,
//! trailing commas, single-quoted strings, bare keys and bare-word values, Python
//! `True/False/None`, a lone transformation object instead of a list, near-miss names
//! (case, `-` / `_` / space / `.`, separators left out: `TileSpatial`), integers written
//! as strings. Never accepted: a name that, after that normalisation, is not exactly one
//! name of the vocabulary (or of the model list).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::vocab::{ActionSpec, JointAction, Transformation, Vocabulary};

/// Why an answer's text is not a usable joint action.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerError {
    /// The text holds no JSON object.
    #[error("no JSON object in the answer")]
    NoJson,
    /// The answer was cut off: its JSON object never closes, or the output-token limit ended it.
    #[error("the answer was cut off (output-token limit or unclosed JSON)")]
    Truncated,
    /// A transformation names an action not in the vocabulary.
    #[error("unknown transformation \"{name}\"")]
    UnknownAction {
        /// The name given.
        name: String,
    },
    /// A parameter value is not among the action's choices.
    #[error("transformation \"{action}\": parameter \"{param}\": bad value {value}")]
    BadParam {
        /// The action.
        action: String,
        /// The parameter.
        param: String,
        /// The value given, as JSON text.
        value: String,
    },
    /// `next_model` is not one of the request's models.
    #[error("unknown next model \"{name}\"")]
    UnknownModel {
        /// The name given.
        name: String,
    },
    /// The JSON is not a joint action.
    #[error("malformed joint action: {detail}")]
    BadShape {
        /// What is wrong.
        detail: String,
    },
}

impl AnswerError {
    /// A stable snake_case name for statistics and reports (the serialized `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            AnswerError::NoJson => "no_json",
            AnswerError::Truncated => "truncated",
            AnswerError::UnknownAction { .. } => "unknown_action",
            AnswerError::BadParam { .. } => "bad_param",
            AnswerError::UnknownModel { .. } => "unknown_model",
            AnswerError::BadShape { .. } => "bad_shape",
        }
    }
}

/// Lower-case, with `-`, space and `.` read as `_`, runs of `_` collapsed, trimmed.
pub fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars() {
        let c = match c {
            '-' | ' ' | '.' | '\t' => '_',
            c => c.to_ascii_lowercase(),
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// [`normalize_name`] with the separators dropped: `TileSpatial` and `tile_spatial` meet.
fn compact_name(s: &str) -> String {
    normalize_name(s).replace('_', "")
}

/// Whether a JSON key denotes `want` (`next_model`, `nextModel`, `Next-Model`).
fn key_is(k: &str, want: &str) -> bool {
    compact_name(k) == compact_name(want)
}

/// The one candidate equal to `got` exactly, else the one equal after normalisation
/// (case, separators), else the one equal with separators dropped. Two candidates that
/// match alike at the deciding tier make a near-miss ambiguous: refused.
pub fn resolve<'a>(
    got: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(c) = candidates.clone().find(|c| *c == got) {
        return Some(c);
    }
    let unique = |key: &dyn Fn(&str) -> String| -> Result<Option<&'a str>, ()> {
        let g = key(got);
        if g.is_empty() {
            return Err(());
        }
        let mut hits = candidates.clone().filter(|c| key(c) == g);
        match (hits.next(), hits.next()) {
            (Some(c), None) => Ok(Some(c)),
            (Some(_), Some(_)) => Err(()),
            (None, _) => Ok(None),
        }
    };
    match unique(&normalize_name) {
        Ok(Some(c)) => Some(c),
        Err(()) => None,
        Ok(None) => unique(&compact_name).ok().flatten(),
    }
}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// Where the balanced `{...}` starting at byte `start` ends (exclusive), tracking double-
/// and single-quoted strings; `None` if the text ends first.
fn balanced_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Rewrite near-JSON into JSON: single-quoted strings, bare keys and words, Python
/// literals, trailing commas, `//` line comments.
fn repair(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                let q = c;
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != q {
                    match chars[i] {
                        '\\' if i + 1 < chars.len() => {
                            if chars[i + 1] == '\'' {
                                out.push('\'');
                            } else {
                                out.push('\\');
                                out.push(chars[i + 1]);
                            }
                            i += 2;
                            continue;
                        }
                        '"' => out.push_str("\\\""),
                        '\n' => out.push_str("\\n"),
                        ch => out.push(ch),
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            ',' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if j < chars.len() && (chars[j] == '}' || chars[j] == ']') {
                    i += 1; // trailing comma
                } else {
                    out.push(',');
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "true" | "false" | "null" => out.push_str(&word),
                    "True" => out.push_str("true"),
                    "False" => out.push_str("false"),
                    "None" => out.push_str("null"),
                    _ => {
                        out.push('"');
                        out.push_str(&word);
                        out.push('"');
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Find the first object that has a `transformations` key (at any depth).
fn find_answer(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    match v {
        Value::Object(m) => {
            if m.keys().any(|k| key_is(k, "transformations")) {
                return Some(m);
            }
            m.values().find_map(find_answer)
        }
        Value::Array(a) => a.iter().find_map(find_answer),
        _ => None,
    }
}

/// Extract the JSON object of a joint action from free text (no validation of names).
/// Returns the object, or `NoJson` / `Truncated`.
pub fn extract_object(text: &str) -> Result<serde_json::Map<String, Value>, AnswerError> {
    let mut truncated = false;
    let mut any_object = None;
    let mut pos = 0;
    let mut tries = 0;
    while let Some(off) = text[pos..].find('{') {
        let start = pos + off;
        tries += 1;
        if tries > 64 {
            break;
        }
        match balanced_end(text, start) {
            Some(end) => {
                let slice = &text[start..end];
                let parsed = serde_json::from_str::<Value>(slice)
                    .ok()
                    .or_else(|| serde_json::from_str::<Value>(&repair(slice)).ok());
                if let Some(v) = parsed {
                    if let Some(m) = find_answer(&v) {
                        return Ok(m.clone());
                    }
                    if any_object.is_none() {
                        any_object = Some(v);
                    }
                    pos = end;
                    continue;
                }
            }
            None => truncated = true,
        }
        pos = start + 1;
    }
    if truncated {
        return Err(AnswerError::Truncated);
    }
    match any_object {
        Some(_) => Err(AnswerError::BadShape {
            detail: "no \"transformations\" key".into(),
        }),
        None => Err(AnswerError::NoJson),
    }
}

/// Does `got` denote the choice `want`? Equal JSON, an integer written as a string or a
/// float with no fraction, or a string equal after name normalisation.
fn value_matches(got: &Value, want: &Value) -> bool {
    if got == want {
        return true;
    }
    match (got, want) {
        (Value::String(s), Value::Number(n)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .is_some_and(|x| Some(x) == n.as_i64()),
        (Value::Number(g), Value::Number(w)) => match (g.as_f64(), w.as_i64()) {
            (Some(g), Some(w)) => g.fract() == 0.0 && g == w as f64,
            _ => false,
        },
        (Value::String(g), Value::String(w)) => {
            !g.trim().is_empty() && normalize_name(g) == normalize_name(w)
        }
        (Value::Number(g), Value::String(w)) => g.to_string() == w.trim(),
        _ => false,
    }
}

/// The choice `got` denotes: the equal one, else the only one it matches loosely.
fn resolve_value<'a>(got: &Value, choices: &'a [Value]) -> Option<&'a Value> {
    if let Some(c) = choices.iter().find(|c| *c == got) {
        return Some(c);
    }
    let mut hits = choices.iter().filter(|c| value_matches(got, c));
    match (hits.next(), hits.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// The distinct action names of the vocabulary, in order (an action may come in several
/// variants, e.g. one per stage with that stage's values).
fn action_names(vocab: &Vocabulary) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for a in &vocab.actions {
        if !names.contains(&a.name.as_str()) {
            names.push(&a.name);
        }
    }
    names
}

/// Check one transformation: its action name resolves to one name of the vocabulary, and
/// its arguments fit one of that name's variants (the first that fits; when none does,
/// the first variant's complaint).
fn check_transformation(t: &Value, vocab: &Vocabulary) -> Result<Transformation, AnswerError> {
    let names = action_names(vocab);
    let aname = match t {
        Value::String(s) => s,
        Value::Object(o) => match o.iter().find(|(k, _)| key_is(k, "action")) {
            Some((_, Value::String(s))) => s,
            _ => return check_variant(t, vocab.actions.first(), &names),
        },
        _ => return check_variant(t, vocab.actions.first(), &names),
    };
    let Some(name) = resolve(aname, names.iter().copied()) else {
        return Err(AnswerError::UnknownAction {
            name: aname.clone(),
        });
    };
    let mut first_err = None;
    for spec in vocab.actions.iter().filter(|a| a.name == name) {
        match check_variant(t, Some(spec), &names) {
            Ok(tr) => return Ok(tr),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(AnswerError::UnknownAction {
        name: aname.clone(),
    }))
}

fn check_variant(
    t: &Value,
    spec: Option<&ActionSpec>,
    names: &[&str],
) -> Result<Transformation, AnswerError> {
    let obj = match t {
        Value::Object(o) => o,
        Value::String(s) => return check_bare_action(s, spec, names),
        other => {
            return Err(AnswerError::BadShape {
                detail: format!("a transformation is not an object: {}", excerpt(other)),
            });
        }
    };
    let (akey, aval) = obj
        .iter()
        .find(|(k, _)| key_is(k, "action"))
        .ok_or_else(|| AnswerError::BadShape {
            detail: "a transformation has no \"action\" key".into(),
        })?;
    let aname = match aval {
        Value::String(s) => s,
        other => {
            return Err(AnswerError::UnknownAction {
                name: excerpt(other),
            });
        }
    };
    let name = resolve(aname, names.iter().copied()).ok_or_else(|| AnswerError::UnknownAction {
        name: aname.clone(),
    })?;
    let spec: &ActionSpec = spec.ok_or_else(|| AnswerError::UnknownAction {
        name: aname.clone(),
    })?;
    let args = check_args(obj, akey, name, spec)?;
    Ok(Transformation {
        action: name.into(),
        args,
    })
}

/// A bare action name `s`: fine for an action without parameters.
fn check_bare_action(
    s: &str,
    spec: Option<&ActionSpec>,
    names: &[&str],
) -> Result<Transformation, AnswerError> {
    let name = resolve(s, names.iter().copied()).ok_or_else(|| AnswerError::UnknownAction {
        name: s.to_string(),
    })?;
    let spec = spec.ok_or_else(|| AnswerError::UnknownAction {
        name: s.to_string(),
    })?;
    if let Some(p) = spec.params.first() {
        return Err(AnswerError::BadParam {
            action: name.into(),
            param: p.name.clone(),
            value: "<missing>".into(),
        });
    }
    Ok(Transformation {
        action: name.into(),
        args: BTreeMap::new(),
    })
}

/// The arguments of a transformation object (every key but `akey`, the action's): each names
/// one of `spec`'s parameters once and has one of its values, and every parameter is given.
fn check_args(
    obj: &serde_json::Map<String, Value>,
    akey: &str,
    name: &str,
    spec: &ActionSpec,
) -> Result<BTreeMap<String, Value>, AnswerError> {
    let mut args = BTreeMap::new();
    for (k, v) in obj {
        if k == akey {
            continue;
        }
        let Some(pname) = resolve(k, spec.params.iter().map(|p| p.name.as_str())) else {
            return Err(AnswerError::BadParam {
                action: name.into(),
                param: k.clone(),
                value: excerpt(v),
            });
        };
        let p = spec
            .params
            .iter()
            .find(|p| p.name == pname)
            .expect("resolved");
        let Some(choice) = resolve_value(v, &p.choices) else {
            return Err(AnswerError::BadParam {
                action: name.into(),
                param: pname.into(),
                value: excerpt(v),
            });
        };
        if args.insert(pname.to_string(), choice.clone()).is_some() {
            return Err(AnswerError::BadParam {
                action: name.into(),
                param: pname.into(),
                value: "<given twice>".into(),
            });
        }
    }
    if let Some(p) = spec.params.iter().find(|p| !args.contains_key(&p.name)) {
        return Err(AnswerError::BadParam {
            action: name.into(),
            param: p.name.clone(),
            value: "<missing>".into(),
        });
    }
    Ok(args)
}

/// Check an answer object against the vocabulary, the model names and the length limit.
pub fn validate_object(
    obj: &serde_json::Map<String, Value>,
    vocab: &Vocabulary,
    models: &[String],
    max_transformations: usize,
) -> Result<JointAction, AnswerError> {
    let get = |key: &str| obj.iter().find(|(k, _)| key_is(k, key)).map(|(_, v)| v);
    let ts = get("transformations").ok_or_else(|| AnswerError::BadShape {
        detail: "no \"transformations\" key".into(),
    })?;
    let list: Vec<&Value> = match ts {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![ts],
        other => {
            return Err(AnswerError::BadShape {
                detail: format!("\"transformations\" is not a list: {}", excerpt(other)),
            });
        }
    };
    if list.is_empty() {
        return Err(AnswerError::BadShape {
            detail: "no transformation".into(),
        });
    }
    if list.len() > max_transformations.max(1) {
        return Err(AnswerError::BadShape {
            detail: format!(
                "{} transformations, at most {} allowed",
                list.len(),
                max_transformations.max(1)
            ),
        });
    }
    // Keep the valid transformations in order and drop the invalid ones (as the reference
    // implementation does); only an answer without one valid step is refused.
    let mut transformations = Vec::new();
    let mut dropped = Vec::new();
    let mut first_err = None;
    for t in list {
        match check_transformation(t, vocab) {
            // The same step twice does nothing the first did not.
            Ok(tr) if transformations.contains(&tr) => {
                dropped.push(format!("step \"{}\" repeated", tr.action))
            }
            Ok(tr) => transformations.push(tr),
            Err(e) => {
                dropped.push(e.to_string());
                first_err.get_or_insert(e);
            }
        }
    }
    if transformations.is_empty() {
        return Err(first_err.unwrap_or(AnswerError::BadShape {
            detail: "no transformation".into(),
        }));
    }
    let next = get("next_model").ok_or_else(|| AnswerError::BadShape {
        detail: "no \"next_model\" key".into(),
    })?;
    let next_name = match next {
        Value::String(s) => s.clone(),
        other => {
            return Err(AnswerError::UnknownModel {
                name: excerpt(other),
            });
        }
    };
    let next_model = resolve(&next_name, models.iter().map(String::as_str))
        .ok_or(AnswerError::UnknownModel { name: next_name })?;
    Ok(JointAction {
        transformations,
        next_model: next_model.to_string(),
        dropped,
    })
}

/// Parse an answer's text into a validated joint action.
pub fn parse_answer(
    text: &str,
    vocab: &Vocabulary,
    models: &[String],
    max_transformations: usize,
) -> Result<JointAction, AnswerError> {
    let obj = extract_object(text)?;
    validate_object(&obj, vocab, models, max_transformations)
}
