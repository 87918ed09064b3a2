//! What a model may answer: the action vocabulary (given by the caller for the current
//! node) and the typed joint action.
//!
//! A transformation is a JSON object `{"action": "<name>", "<param>": <value>, ...}` whose
//! values are chosen from the parameter's enumerated choices (integers or strings). The
//! joint action is `{"transformations": [1..=max items], "next_model": "<model name>"}`.
//! Nothing an LLM says is executed: an answer is checked against the vocabulary and either
//! becomes a [`JointAction`] or a typed error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One parameter of an action with its admissible values (ints or strings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Parameter name, the key in a transformation object.
    pub name: String,
    /// The values it may take.
    pub choices: Vec<Value>,
}

/// One action the model may choose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// Action name, the `action` value of a transformation.
    pub name: String,
    /// One line for the prompt.
    pub doc: String,
    /// Its parameters.
    pub params: Vec<ParamSpec>,
}

impl ActionSpec {
    /// An action without parameters (add them with [`ActionSpec::param`]).
    pub fn new(name: &str, doc: &str) -> ActionSpec {
        ActionSpec {
            name: name.to_string(),
            doc: doc.to_string(),
            params: Vec::new(),
        }
    }

    /// Builder: add a parameter with its choices.
    pub fn param(
        mut self,
        name: &str,
        choices: impl IntoIterator<Item = impl Into<Value>>,
    ) -> ActionSpec {
        self.params.push(ParamSpec {
            name: name.to_string(),
            choices: choices.into_iter().map(Into::into).collect(),
        });
        self
    }
}

/// The actions of the current request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// The actions, each possibly in several variants.
    pub actions: Vec<ActionSpec>,
}

impl Vocabulary {
    /// A vocabulary of these actions.
    pub fn new(actions: Vec<ActionSpec>) -> Vocabulary {
        Vocabulary { actions }
    }

    /// The first variant named `name` (an action may come in several variants, e.g. one
    /// per stage with that stage's values).
    pub fn get(&self, name: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// A compact listing for prompts: one action per line with its parameters.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for a in &self.actions {
            s.push_str("- ");
            s.push_str(&a.name);
            for p in &a.params {
                let choices: Vec<String> = p.choices.iter().map(|c| c.to_string()).collect();
                s.push_str(&format!(" {}∈{{{}}}", p.name, choices.join(",")));
            }
            if !a.doc.is_empty() {
                s.push_str(": ");
                s.push_str(&a.doc);
            }
            s.push('\n');
        }
        s
    }
}

/// One chosen transformation: the action name and its arguments (param -> value).
/// (Not `Ord`/`Hash`: argument values are JSON values, which have neither; compare
/// [`Transformation::to_json`] text where an order is needed.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transformation {
    /// The action's name.
    pub action: String,
    /// Parameter values by parameter name.
    pub args: BTreeMap<String, Value>,
}

impl Transformation {
    /// The wire form `{"action": name, param: value, ...}`.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("action".into(), Value::String(self.action.clone()));
        for (k, v) in &self.args {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// A validated answer: transformations to apply and the model that expands the child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointAction {
    /// The transformations, in order of application.
    pub transformations: Vec<Transformation>,
    /// The model that expands the resulting child.
    pub next_model: String,
    /// Steps of the answer that were dropped as invalid (why, one line each); the valid
    /// ones are kept in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

impl JointAction {
    /// The wire form `{"transformations": [...], "next_model": ...}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "transformations": self.transformations.iter().map(Transformation::to_json).collect::<Vec<_>>(),
            "next_model": self.next_model,
        })
    }
}

/// Why the model is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A regular expansion of the leaf assigned to the model.
    Expand,
    /// The largest model re-answers after small-model regressions.
    CourseAlteration,
}

impl Role {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Expand => "expand",
            Role::CourseAlteration => "course_alteration",
        }
    }
}

/// One question to a model. `prefix` is stable across calls (instructions, vocabulary,
/// workload, model list) so providers can cache it; `record` only grows between calls
/// (the shared search record); `suffix` is the volatile part (the question). The prefix must describe the answer format
/// ([`crate::schema::answer_format_instructions`]; [`Request::with_format`] appends it):
/// models without schema-constrained decoding only have that to go by.
///
/// Keep the prefix byte-identical between calls that should share a cache: the embedded
/// model reuses the KV entries of the longest common token prefix, OpenAI caches
/// automatically from 1024 tokens, Anthropic caches the prefix block marked for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The stable, cacheable part: instructions, vocabulary, workload, models.
    pub prefix: String,
    /// The append-only shared record between prefix and suffix (the search tree as one
    /// line per event): a later call's record extends an earlier call's, so each model's
    /// prompt cache holds everything but the lines added since its last call. Empty for
    /// callers without one.
    #[serde(default)]
    pub record: String,
    /// The volatile part: the question.
    pub suffix: String,
    /// The actions the answer may use.
    pub vocabulary: Vocabulary,
    /// Names `next_model` may take.
    pub models: Vec<String>,
    /// Why the model is asked.
    pub role: Role,
    /// Most transformations one answer may hold.
    pub max_transformations: usize,
    /// Sampling seed where the provider supports one (the embedded model).
    pub seed: u64,
}

impl Request {
    /// A request with an empty record, at most 3 transformations and seed 0.
    pub fn new(
        prefix: impl Into<String>,
        suffix: impl Into<String>,
        vocabulary: Vocabulary,
        models: Vec<String>,
        role: Role,
    ) -> Request {
        Request {
            prefix: prefix.into(),
            record: String::new(),
            suffix: suffix.into(),
            vocabulary,
            models,
            role,
            max_transformations: 3,
            seed: 0,
        }
    }

    /// A request whose prefix is `context` followed by the answer-format instructions for
    /// `vocabulary`, `models` and `max_transformations`.
    pub fn with_format(
        context: &str,
        suffix: impl Into<String>,
        vocabulary: Vocabulary,
        models: Vec<String>,
        role: Role,
        max_transformations: usize,
    ) -> Request {
        let format =
            crate::schema::answer_format_instructions(&vocabulary, &models, max_transformations);
        let prefix = format!("{}\n\n{format}", context.trim_end());
        Request {
            max_transformations,
            ..Request::new(prefix, suffix, vocabulary, models, role)
        }
    }
}
