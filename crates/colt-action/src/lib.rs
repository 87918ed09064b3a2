//! colt-action: the words the search and the models share, with no dependency beyond
//! serde: the action vocabulary an environment offers at a state (actions with their
//! parameters' admissible values), one chosen transformation, and the joint action a model
//! answers (transformations plus the model that expands the child).
//!
//! The environments (tensor schedules, LLVM pass orders) speak only these types; the LLM
//! layer (`colt-llm`) turns them into prompts, schemas and grammars, and the search engine
//! applies them. Keeping them here lets an environment be built without the LLM layer's
//! HTTP stack.
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
