//! Requests to a model: why it is asked ([`Role`]) and the question itself ([`Request`]),
//! over the action vocabulary and joint actions of [`colt_action`] (re-exported here).

pub use colt_action::{ActionSpec, JointAction, ParamSpec, Transformation, Vocabulary};
use serde::{Deserialize, Serialize};

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
    /// How many bytes at the start of `prefix` every workload of the search space shares
    /// (instructions, action catalog, models; 0: no such part). The embedded model keeps a
    /// stored KV state of that stem, so its first call about a new workload evaluates only
    /// the rest; remote providers' prefix caches find it on their own.
    #[serde(default)]
    pub stem_len: usize,
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
            stem_len: 0,
            record: String::new(),
            suffix: suffix.into(),
            vocabulary,
            models,
            role,
            max_transformations: 3,
            seed: 0,
        }
    }

    /// `prefix` split after its stem ([`Request::stem_len`]; no stem when that is not a
    /// character boundary inside it).
    pub fn stem_and_rest(&self) -> (&str, &str) {
        // Not a boundary: inside a character or past the end.
        if self.prefix.is_char_boundary(self.stem_len) {
            self.prefix.split_at(self.stem_len)
        } else {
            ("", &self.prefix)
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
