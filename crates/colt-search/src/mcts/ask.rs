//! LLM expansions of the tree: who is asked (the node's model; the largest when the
//! share floor says so, the smallest instead of the largest when the share cap does), the prompt (stable prefix + shared record + short question), the
//! answer made into a child (its legal steps kept in order, duplicates and known failures
//! refused), course alteration, and the accounting of every call, including why a call
//! added no node (`wasted`).

use std::collections::BTreeSet;
use std::time::Instant;

use colt_action::{JointAction, Vocabulary};
use colt_llm::{CallRecord, Request, Role};

use super::{Asked, ChildCand, Mode, Realised, TreeSearch, reward_fn};
use crate::config::{AlterationKeep, StreakScope};
use crate::core::Core;
use crate::env::Environment;
use crate::observer::LlmCallEvent;
use crate::policy::{cap_forbids_largest, floor_forces_largest};
use crate::prompt::{
    self, ActingNode, AlterationLine, ModelLine, ProgressLine, QuestionInputs, TriedChild,
};
use crate::tree::ROOT;

/// Best measured nodes whose lines (with their ancestors') survive a compaction.
const KEEP_BEST: usize = 8;

/// The streak key shared by every small model when streaks are global.
const GLOBAL_STREAK: &str = "(small models)";

/// A call prepared for an expansion of node `id`.
#[derive(Clone)]
pub(super) struct Ask {
    pub id: u32,
    /// The node's model; `model` is who is asked (the largest when the floor says so).
    assigned: String,
    model: String,
    req: Request,
}

/// Calls prepared in this round and not made yet.
#[derive(Default)]
pub(super) struct Pending {
    total: u64,
    largest: u64,
}

impl<E: Environment> TreeSearch<'_, E> {
    /// Ask a model to expand `id`. Returns the child (if the answer made one) and the
    /// model that was actually asked (`None` when no call was made: no model assigned,
    /// budget spent, or no valid action).
    pub(super) fn llm_expand(&mut self, core: &mut Core<'_, E>, id: u32) -> Asked<E::State> {
        let Some(p) = self.llm_prepare(core, id, &mut Pending::default()) else {
            return (None, None);
        };
        let rec = self.call(core, &p.model, &p.req);
        self.llm_finish(core, p, rec)
    }

    /// Who is asked about `id` and the question, or `None` when no call is to be made.
    /// `pending` counts the calls prepared but not made yet in this round (the share
    /// floor counts them).
    pub(super) fn llm_prepare(
        &mut self,
        core: &mut Core<'_, E>,
        id: u32,
        pending: &mut Pending,
    ) -> Option<Ask> {
        let assigned = self.tree.node(id).model.clone()?;
        let (largest, smallest, shares_apply) = self.models.as_ref().map(|ms| {
            (
                ms.largest.clone(),
                ms.smallest(),
                self.mode == Mode::Colt && ms.names.len() > 1,
            )
        })?;
        let mut model = assigned.clone();
        let (mut floored, mut capped) = (false, false);
        if shares_apply {
            let big_calls = core.models.get(&largest).map_or(0, |m| m.calls) + pending.largest;
            let total = core.spend.calls + pending.total;
            if model != largest
                && floor_forces_largest(big_calls, total, core.cfg.large_share_floor)
            {
                model = largest.clone();
                floored = true;
            } else if model == largest
                && cap_forbids_largest(big_calls, total, core.cfg.large_share_cap)
            {
                model = smallest;
                capped = true;
            }
        }
        if core.budget_exhausted()
            || core
                .cfg
                .budgets
                .llm_calls
                .is_some_and(|c| core.spend.budget_calls + pending.total >= c)
        {
            self.budget_hit = true;
            return None;
        }
        let state = self.tree.node(id).state.clone();
        let vocab = self.vocabulary_at(core, &state, None)?;
        if vocab.actions.is_empty() {
            return None;
        }
        // Counted only now that the call is made.
        if floored || capped {
            let m = core.models.entry(largest.clone()).or_default();
            m.floor_overrides += floored as u64;
            m.cap_overrides += capped as u64;
        }
        pending.total += 1;
        pending.largest += (model == largest) as u64;
        let req = self.request(core, id, &model, &vocab, Role::Expand, None);
        Some(Ask {
            id,
            assigned,
            model,
            req,
        })
    }

    /// Turn the answer to `ask` into a child (course alteration included).
    pub(super) fn llm_finish(
        &mut self,
        core: &mut Core<'_, E>,
        ask: Ask,
        rec: CallRecord,
    ) -> Asked<E::State> {
        let Ask {
            id,
            assigned,
            model,
            ..
        } = ask;
        let largest = self
            .models
            .as_ref()
            .map(|ms| ms.largest.clone())
            .unwrap_or_default();
        let Some(child) = self.answer_child(core, id, &rec, &model, None, &assigned) else {
            return (None, Some(model));
        };
        if self.mode == Mode::Colt && model != largest && core.cfg.course_alteration_k > 0 {
            let parent_pred = self.tree.node(id).predicted;
            let regressed = child.predicted < parent_pred - 1e-12;
            if regressed {
                core.models.entry(model.clone()).or_default().regressions += 1;
            }
            let key = match core.cfg.course_alteration_streak {
                StreakScope::Global => GLOBAL_STREAK,
                StreakScope::PerModel => model.as_str(),
            };
            let fired = self
                .models
                .as_mut()
                .is_some_and(|ms| ms.streaks.record(key, regressed));
            if fired {
                core.models
                    .entry(model.clone())
                    .or_default()
                    .course_alterations += 1;
                if let Some(alt) = self.course_alter(core, id, &model, &child, &assigned) {
                    return (Some(self.keep_of_two(core, child, alt)), Some(model));
                }
            }
        }
        (Some(child), Some(model))
    }

    /// Calls made together (concurrently where the models allow), accounted in order.
    pub(super) fn call_many(&mut self, core: &mut Core<'_, E>, asks: &[Ask]) -> Vec<CallRecord> {
        let calls: Vec<(String, Request)> = asks
            .iter()
            .map(|a| (a.model.clone(), a.req.clone()))
            .collect();
        let t = Instant::now();
        let max = core.cfg.llm_concurrency;
        let recs = match self.models.as_mut() {
            Some(ms) => ms.llm.call_many(&calls, max),
            None => calls
                .iter()
                .map(|(m, r)| unreachable_record(m, r))
                .collect(),
        };
        let share = t.elapsed() / recs.len().max(1) as u32;
        for rec in &recs {
            core.account_call(rec, share);
        }
        recs
    }

    /// Ask the largest model the same question, showing the small model's proposal and
    /// its outcome; the largest model's child, marked `course_altered` when predicted better.
    fn course_alter(
        &mut self,
        core: &mut Core<'_, E>,
        id: u32,
        small: &str,
        child: &ChildCand<E::State>,
        assigned: &str,
    ) -> Option<ChildCand<E::State>> {
        if core.budget_exhausted() {
            self.budget_hit = true;
            return None;
        }
        let largest = self.models.as_ref()?.largest.clone();
        let big_calls = core.models.get(&largest).map_or(0, |m| m.calls);
        if cap_forbids_largest(big_calls, core.spend.calls, core.cfg.large_share_cap) {
            core.models.entry(largest).or_default().cap_overrides += 1;
            return None;
        }
        let state = self.tree.node(id).state.clone();
        let vocab = self.vocabulary_at(core, &state, Some(child.key))?;
        let alt = AlterationLine {
            model: small.to_string(),
            transformations: child.transformations.clone(),
            child_predicted: child.predicted,
            parent_predicted: self.tree.node(id).predicted,
            streak: core.cfg.course_alteration_k,
        };
        let req = self.request(
            core,
            id,
            &largest,
            &vocab,
            Role::CourseAlteration,
            Some(alt),
        );
        let rec = self.call(core, &largest, &req);
        let mut c2 = self.answer_child(core, id, &rec, &largest, Some(child.key), assigned)?;
        if c2.predicted > child.predicted {
            core.models
                .entry(largest)
                .or_default()
                .course_alteration_wins += 1;
            c2.course_altered = true;
            c2.note = if c2.note.is_empty() {
                "course alteration".into()
            } else {
                format!("course alteration; {}", c2.note)
            };
        }
        Some(c2)
    }

    /// The outcome of a course alteration: the better of the small model's `child` and
    /// the largest model's `alt` continues the search; the other is kept beside it
    /// (`AlterationKeep::Both`) or counted as wasted (`Better`, the reference's rule).
    fn keep_of_two(
        &mut self,
        core: &mut Core<'_, E>,
        child: ChildCand<E::State>,
        alt: ChildCand<E::State>,
    ) -> ChildCand<E::State> {
        let (mut better, mut other, cause) = if alt.course_altered {
            (alt, child, "replaced")
        } else {
            (child, alt, "not_better")
        };
        match core.cfg.course_alteration_keep {
            AlterationKeep::Both => {
                other.note = if other.note.is_empty() {
                    "kept beside the course alteration's pick".into()
                } else {
                    format!("kept beside the course alteration's pick; {}", other.note)
                };
                better.sibling = Some(Box::new(other));
            }
            AlterationKeep::Better => core.count_wasted(&other.proposer, cause),
        }
        better
    }

    /// The child the answer `rec` of `model` makes at node `id` (`also`: a key it must not
    /// repeat), with the call reported to the observer; `None` (the call counted as wasted)
    /// when the answer makes none.
    fn answer_child(
        &mut self,
        core: &mut Core<'_, E>,
        id: u32,
        rec: &CallRecord,
        model: &str,
        also: Option<u64>,
        assigned: &str,
    ) -> Option<ChildCand<E::State>> {
        let child = rec
            .outcome
            .as_ref()
            .ok()
            .map(|ja| self.realise(core, id, ja, model, also));
        self.emit_call(core, rec, id, assigned, child.as_ref());
        match child {
            Some(Ok(c)) => Some(c),
            other => {
                let rejected = other.as_ref().and_then(|c| c.as_ref().err()).map(|e| e.0);
                self.waste(core, rec, rejected);
                None
            }
        }
    }

    /// Count a call that added no node, by cause: the engine's rejection kind, else
    /// `invalid_answer` or `provider_error` from the call's outcome.
    fn waste(&mut self, core: &mut Core<'_, E>, rec: &CallRecord, rejected: Option<&'static str>) {
        let cause = match (&rec.outcome, rejected) {
            (_, Some(kind)) => kind,
            (Err(f), None) if f.is_invalid_answer() => "invalid_answer",
            (Err(_), None) => "provider_error",
            (Ok(_), None) => "unused",
        };
        core.count_wasted(&rec.model, cause);
    }

    /// The actions an LLM may answer at `state`: single steps to a node already in the
    /// tree, to a failed candidate or to `also` (the small model's proposal in a course
    /// alteration) are left out, as their answer would add nothing.
    fn vocabulary_at(
        &self,
        core: &Core<'_, E>,
        state: &E::State,
        also: Option<u64>,
    ) -> Option<Vocabulary> {
        let avoiding = self.models.as_ref()?.env.vocabulary_avoiding;
        let (tree, failed) = (&self.tree, &core.failed);
        let known = |k: u64| tree.by_key.contains_key(&k) || failed.contains(&k) || also == Some(k);
        Some(avoiding(&*core.env, state, &known))
    }

    /// Apply a joint action to node `id`: the child, or why it cannot be used. Illegal
    /// steps are dropped and the legal ones kept in order.
    fn realise(
        &mut self,
        core: &mut Core<'_, E>,
        id: u32,
        ja: &JointAction,
        model: &str,
        also_taken: Option<u64>,
    ) -> Realised<E::State> {
        let apply = (self.models.as_ref())
            .ok_or(("no_models", String::new()))?
            .env
            .apply_partial;
        let applied = apply(&*core.env, &self.tree.node(id).state, &ja.transformations)
            .map_err(|e| ("illegal_action", e))?;
        let (key, features) = core.env.key_features(&applied.state);
        let dropped = ja.dropped.len() + applied.dropped.len();
        if dropped > 0 {
            core.models
                .entry(model.to_string())
                .or_default()
                .dropped_steps += dropped as u64;
        }
        if let Some(&other) = self.tree.by_key.get(&key) {
            let what = if other == id {
                "leaves the node unchanged".to_string()
            } else {
                format!("leads to existing node n{other}")
            };
            return Err(("duplicate", format!("the answer {what}")));
        }
        if also_taken == Some(key) {
            return Err((
                "duplicate",
                "the answer repeats the small model's proposal".to_string(),
            ));
        }
        if core.failed.contains(&key) {
            return Err((
                "failed_build",
                "the answer leads to a candidate that failed before".to_string(),
            ));
        }
        let predicted = core.predict_one(&features);
        let ms = self.models.as_ref().ok_or(("no_models", String::new()))?;
        let next = match self.mode {
            Mode::Colt if ms.names.contains(&ja.next_model) => ja.next_model.clone(),
            _ => model.to_string(),
        };
        Ok(ChildCand {
            state: applied.state,
            note: if dropped > 0 {
                format!("{dropped} invalid step(s) of the answer dropped")
            } else {
                String::new()
            },
            key,
            features,
            predicted,
            model: Some(next),
            proposer: model.to_string(),
            transformations: applied.kept,
            course_altered: false,
            seeded: false,
            sibling: None,
        })
    }

    fn call(&mut self, core: &mut Core<'_, E>, model: &str, req: &Request) -> CallRecord {
        let t = Instant::now();
        let rec = match self.models.as_mut() {
            Some(ms) => ms.llm.call(model, req),
            None => unreachable_record(model, req),
        };
        core.account_call(&rec, t.elapsed());
        rec
    }

    fn emit_call(
        &mut self,
        core: &mut Core<'_, E>,
        rec: &CallRecord,
        node: u32,
        assigned: &str,
        child: Option<&Realised<E::State>>,
    ) {
        let rejected = match child {
            Some(Err((kind, detail))) => {
                let m = core.models.entry(rec.model.clone()).or_default();
                *m.errors.entry(kind.to_string()).or_default() += 1;
                m.unusable += 1;
                Some((*kind, detail.clone()))
            }
            _ => None,
        };
        tracing::debug!(model = %rec.model, role = rec.role.as_str(), ok = rec.is_ok(), ?rejected, "llm call");
        let ev = LlmCallEvent {
            record: rec,
            role: rec.role,
            node,
            assigned,
            rejected,
        };
        core.obs.llm_call(&ev);
    }

    // ----- the shared record -----

    /// How a node that has no creation line came to be, for the record.
    fn origin(&self, id: u32) -> String {
        let n = self.tree.node(id);
        match (n.proposer.as_str(), n.parent) {
            (ROOT, _) | (_, None) => ROOT.to_string(),
            ("warmup" | "sample", _) => "random sample".to_string(),
            (p, Some(parent)) => format!("{p} of n{parent}"),
        }
    }

    fn is_model(&self, name: &str) -> bool {
        self.models
            .as_ref()
            .is_some_and(|ms| ms.names.iter().any(|n| n == name))
    }

    /// A new node: a creation line when a model proposed it; a measurement line when it
    /// was measured before it joined the tree (the warm-up samples).
    pub(super) fn record_created(&mut self, core: &Core<'_, E>, id: u32, note: &str) {
        if self.models.is_none() {
            return;
        }
        let n = self.tree.node(id);
        let (proposer, parent, predicted, latency) =
            (n.proposer.clone(), n.parent, n.predicted, n.latency);
        let steps = prompt::render_transformations(&n.transformations);
        if let Some(p) = parent
            && self.is_model(&proposer)
            && let Some(ms) = self.models.as_mut()
        {
            ms.record.created(id, p, &proposer, &steps, predicted, note);
        }
        if let Some(l) = latency {
            self.record_measured(core, id, l);
        }
    }

    pub(super) fn record_measured(&mut self, core: &Core<'_, E>, id: u32, latency: Option<f64>) {
        if self.models.is_none() {
            return;
        }
        let origin = self.origin(id);
        let best = latency.is_some() && latency == core.best_us();
        if let Some(ms) = self.models.as_mut() {
            // The record leaves the origin out for a node with a creation line.
            ms.record.measured(id, &origin, latency, best);
        }
    }

    fn brief(&self, core: &Core<'_, E>, id: u32) -> String {
        let Some(describe) = self.models.as_ref().map(|ms| ms.env.describe_brief) else {
            return String::new();
        };
        let n = self.tree.node(id);
        n.description
            .get_or_init(|| describe(&*core.env, &n.state))
            .clone()
    }

    /// Write the pending batch; compact the record when it is over budget, keeping what
    /// the acting node needs.
    fn compact_record_for(&mut self, id: u32) {
        if let Some(ms) = self.models.as_mut() {
            ms.record.flush();
        }
        let over = self
            .models
            .as_ref()
            .is_some_and(|ms| ms.record.over_budget());
        if over {
            let keep = self.keep_set(id);
            if let Some(ms) = self.models.as_mut() {
                ms.record.compact(&keep);
            }
        }
    }

    /// What a compaction keeps: the best measured nodes and the acting node, with their
    /// ancestors.
    fn keep_set(&self, acting: u32) -> BTreeSet<u32> {
        let mut measured: Vec<(f64, u32)> = self
            .tree
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.latency.flatten().map(|l| (l, i as u32)))
            .collect();
        measured.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut keep = BTreeSet::new();
        for id in measured.iter().take(KEEP_BEST).map(|x| x.1).chain([acting]) {
            let mut cur = Some(id);
            while let Some(c) = cur {
                if !keep.insert(c) {
                    break;
                }
                cur = self.tree.node(c).parent;
            }
        }
        keep
    }

    /// The acting node `id` for a question, and its latest children (a well-visited node
    /// has many; the record has them all).
    fn acting(&self, id: u32) -> (ActingNode, Vec<TriedChild>) {
        let n = self.tree.node(id);
        let node = ActingNode {
            id,
            depth: n.depth,
            proposer: n.proposer.clone(),
            parent: n.parent,
            transformations: n.transformations.clone(),
            predicted: n.predicted,
            measured_us: n.latency,
        };
        let tried = n
            .children
            .iter()
            .map(|&c| {
                let ch = self.tree.node(c);
                TriedChild {
                    id: c,
                    steps: if ch.transformations.is_empty() {
                        String::new()
                    } else {
                        prompt::render_transformations(&ch.transformations)
                    },
                    predicted: ch.predicted,
                    measured_us: ch.latency,
                }
            })
            .collect();
        (node, tried)
    }

    /// Each model's children and hits so far, for a question.
    fn model_lines(&self, core: &Core<'_, E>, names: &[String]) -> Vec<ModelLine> {
        let reward = reward_fn(core.best_us());
        let hits = self.tree.hits_by_proposer(&reward);
        names
            .iter()
            .map(|name| {
                let (children, hits) = hits.get(name).copied().unwrap_or((0, 0));
                ModelLine {
                    name: name.clone(),
                    children,
                    hits,
                }
            })
            .collect()
    }

    /// The request asking `model` about node `id` (the record compacted first when it is
    /// over budget).
    fn request(
        &mut self,
        core: &Core<'_, E>,
        id: u32,
        model: &str,
        vocab: &Vocabulary,
        role: Role,
        alteration: Option<AlterationLine>,
    ) -> Request {
        if self.models.is_none() {
            return Request::new("", "", vocab.clone(), Vec::new(), role);
        }
        self.compact_record_for(id);
        let Some(ms) = self.models.as_ref() else {
            return Request::new("", "", vocab.clone(), Vec::new(), role);
        };
        let (node, tried) = self.acting(id);
        let models = self.model_lines(core, &ms.names);
        let progress = ProgressLine {
            trials: core.trials(),
            trials_total: core.cfg.trials,
            best_us: core.best_us(),
            llm_calls: core.spend.calls,
            llm_call_budget: core.cfg.budgets.llm_calls,
        };
        // Some models are not shown the schedule (see `ModelConfig::schedule_in_question`).
        let show_schedule = super::shows_schedule(ms.llm.bucket(), model);
        let decisions = if show_schedule {
            self.brief(core, id)
        } else {
            String::new()
        };
        let question = prompt::question(&QuestionInputs {
            you: model,
            node,
            decisions,
            tried,
            vocabulary: vocab,
            catalog: &ms.catalog,
            lean: !show_schedule,
            progress,
            models,
            alteration,
        });
        let prefix = &ms.prefixes[model];
        let mut req = Request::new(
            prefix.text.clone(),
            question,
            vocab.clone(),
            ms.names.clone(),
            role,
        );
        req.stem_len = prefix.stem_len;
        req.record = ms.record.text().to_string();
        req.max_transformations = core.cfg.max_transformations;
        req.seed = core
            .cfg
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(core.spend.calls + 1);
        req
    }

    /// Children and hit rates per model from the final tree; the record's compactions.
    pub(super) fn finish_stats(&mut self, core: &mut Core<'_, E>) {
        let reward = reward_fn(core.best_us());
        let hits = self.tree.hits_by_proposer(&reward);
        let Some(ms) = self.models.as_ref() else {
            return;
        };
        core.record_compactions = ms.record.compactions;
        for name in &ms.names {
            let r = core.models.entry(name.clone()).or_default();
            let (c, h) = hits.get(name).copied().unwrap_or((0, 0));
            r.children = c;
            r.hits = h;
            r.hit_rate = if c == 0 { 0.0 } else { h as f64 / c as f64 };
        }
    }
}

/// A record for a call that cannot be made (no models): never reached in practice, kept
/// so that `call` has no panic path.
fn unreachable_record(model: &str, req: &Request) -> CallRecord {
    CallRecord {
        model: model.to_string(),
        role: req.role,
        latency_ms: 0,
        backoff_ms: 0,
        usage: Default::default(),
        cost_usd: 0.0,
        attempts: 0,
        outcome: Err(colt_llm::Failure::NotInBucket {
            name: model.to_string(),
        }),
        raw_text: None,
        structured: false,
        spends_budget: false,
        timing: None,
    }
}
