//! The COLT policies end to end with scripted in-process models: course alteration, the
//! share floor, budgets and fallback, unusable answers, the prompt's stable prefix.

mod common;

use colt_llm::Role;
use colt_search::{
    LlmCallEvent, NoObserver, Observer, OnBudget, RunResult, SearchConfig, StopReason, Strategy,
    run,
};
use common::{Behaviour, Knn, Oracle, Toy, scripted_client};

/// Records (role, model, node, rejected kind) of every call.
#[derive(Default)]
struct Calls(Vec<(Role, String, u32, Option<&'static str>)>);

impl Observer<Vec<i64>> for Calls {
    fn llm_call(&mut self, c: &LlmCallEvent<'_>) {
        self.0.push((
            c.role,
            c.record.model.clone(),
            c.node,
            c.rejected.as_ref().map(|r| r.0),
        ));
    }
}

fn colt(
    cfg: &SearchConfig,
    models: &[(&str, &str, Behaviour)],
    obs: &mut dyn Observer<Vec<i64>>,
) -> (RunResult<Vec<i64>>, Vec<colt_llm::Request>) {
    let mut toy = Toy::new(6, 8);
    let mut oracle = Oracle(toy.clone());
    let (mut client, seen, _) = scripted_client(&toy, models);
    let r = run(cfg, &mut toy, &mut oracle, Some(&mut client), obs).unwrap();
    let seen = seen.lock().unwrap().clone();
    (r, seen)
}

/// A small model whose every answer regresses and a big one that answers greedily: every
/// second small-model call fires a course alteration.
fn worsening_small_and_greedy_big() -> [(&'static str, &'static str, Behaviour); 2] {
    [
        (
            "small",
            "1B",
            Behaviour::Worsen {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ]
}

fn greedy_to(next: &str) -> Behaviour {
    Behaviour::Greedy { next: next.into() }
}

fn base(trials: usize) -> SearchConfig {
    let mut c = SearchConfig::new(Strategy::Colt, trials, 4);
    c.root_model = Some("small".into());
    c
}

#[test]
fn course_alteration_fires_on_every_kth_regression_and_keeps_the_better_child() {
    let mut c = base(40);
    c.large_share_floor = 0.0;
    let models = worsening_small_and_greedy_big();
    let mut calls = Calls::default();
    let (r, seen) = colt(&c, &models, &mut calls);
    assert_eq!(r.stop, StopReason::TrialLimit);
    let small = &r.models["small"];
    let big = &r.models["big"];
    assert!(small.regressions >= 4, "{small:?}");
    assert_eq!(
        small.course_alterations,
        small.regressions / 2,
        "fires on every 2nd consecutive regression"
    );
    assert_eq!(big.course_alteration_calls, small.course_alterations);
    assert!(
        big.course_alteration_wins >= 1
            && big.course_alteration_wins <= big.course_alteration_calls
    );
    assert!(
        r.tree.iter().filter(|n| n.course_altered).count() as u64 == big.course_alteration_wins
    );
    // Each course alteration follows the small model's expansion of the same node.
    for (i, (role, model, node, _)) in calls.0.iter().enumerate() {
        if *role == Role::CourseAlteration {
            assert_eq!(model, "big");
            let (prev_role, prev_model, prev_node, prev_rej) = &calls.0[i - 1];
            assert_eq!(
                (prev_role, prev_model.as_str(), prev_node, prev_rej),
                (&Role::Expand, "small", node, &None)
            );
        }
    }
    // The largest model was shown the small model's proposal.
    let ca: Vec<_> = seen
        .iter()
        .filter(|r| r.role == Role::CourseAlteration)
        .collect();
    assert_eq!(ca.len() as u64, big.course_alteration_calls);
    assert!(ca.iter().all(
        |r| r.suffix.contains("the smaller model small proposed set(")
            && r.suffix.contains("regression #2 in a row")
    ));
    // K = 0 switches it off.
    c.course_alteration_k = 0;
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert_eq!(r.models["big"].course_alteration_calls, 0);
    assert_eq!(r.models["small"].course_alterations, 0);
}

#[test]
fn the_share_cap_keeps_the_largest_model_to_its_share() {
    // Every model hands the next node to the big one, and the small one always regresses
    // (course alterations, which also ask the big one): uncapped, the big model makes
    // most calls.
    let models = [
        ("small", "1B", Behaviour::Worsen { next: "big".into() }),
        ("big", "70B", greedy_to("big")),
    ];
    let mut c = base(48);
    c.large_share_cap = 1.0;
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert!(r.llm_calls >= 12, "{}", r.llm_calls);
    assert!(
        r.llm.large_model_share >= 0.45,
        "uncapped share {}",
        r.llm.large_model_share
    );
    assert_eq!(r.models["big"].cap_overrides, 0);

    c.large_share_cap = 0.35;
    let (r, seen) = colt(&c, &models, &mut NoObserver);
    assert!(r.llm_calls >= 12, "{}", r.llm_calls);
    let share = r.llm.large_model_share;
    assert!(
        (0.2 - 1e-9..=0.35 + 1e-9).contains(&share),
        "capped share {share}"
    );
    let big = &r.models["big"];
    assert!(big.cap_overrides > 0, "{big:?}");
    // Expansions of the big model's nodes went to the small one, which was asked about
    // nodes assigned to big.
    assert!(
        seen.iter()
            .filter(|q| q.suffix.contains("You are small."))
            .count() as u64
            > big.calls
    );
}

#[test]
fn the_share_floor_is_enforced_by_the_policy() {
    // Every model always hands the next node to the small one.
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(40);
    c.course_alteration_k = 0;
    c.large_share_floor = 0.0;
    // No warm-up children (they are assigned to the models in turn, the largest included).
    c.warmup_random = Some(0);
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert_eq!(
        r.models["big"].calls, 0,
        "without the floor the largest is never asked"
    );
    c.large_share_floor = 0.3;
    let (r, seen) = colt(&c, &models, &mut NoObserver);
    assert!(r.llm_calls >= 20);
    assert!(
        r.llm.large_model_share >= 0.3 - 1e-9,
        "share {}",
        r.llm.large_model_share
    );
    assert!(
        r.llm.large_model_share < 0.45,
        "share {}",
        r.llm.large_model_share
    );
    assert_eq!(r.models["big"].floor_overrides, r.models["big"].calls);
    assert_eq!(seen.len() as u64, r.llm_calls);
}

#[test]
fn budgets_cap_spending_and_the_search_falls_back_to_mutation() {
    let models = [
        ("small", "1B", Behaviour::Greedy { next: "big".into() }),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(40);
    c.budgets.llm_calls = Some(6);
    let (r, seen) = colt(&c, &models, &mut NoObserver);
    assert_eq!(r.stop, StopReason::TrialLimit);
    assert_eq!(r.trials, 40);
    assert_eq!(r.llm_calls, 6);
    assert_eq!(seen.len(), 6);
    // A fallback is charged only to a model that was asked: once the budget is spent
    // nobody is, and the expansions are plain mutations.
    let fallbacks: u64 = r.models.values().map(|m| m.fallbacks).sum();
    assert!(fallbacks <= r.llm_calls, "{fallbacks}");
    assert!(r.tree.iter().filter(|n| n.proposer == "mutation").count() > 10);

    // Tokens: calls stop once the cap is reached (the call that crosses it completes;
    // with concurrent calls, the round that crosses it).
    let last = seen
        .last()
        .map(|q| (q.prefix.len() + q.record.len() + q.suffix.len()) / 4 + 30)
        .unwrap() as u64;
    for width in [1, 4] {
        let mut c = base(40);
        c.budgets.tokens = Some(5_000);
        c.llm_concurrency = width;
        let (r, _) = colt(&c, &models, &mut NoObserver);
        let spent = r.llm.tokens_in + r.llm.tokens_out;
        assert!(spent >= 5_000, "{spent}");
        assert!(
            spent < 5_000 + (width as u64 + 1) * last,
            "width {width}: {spent}"
        );
        assert!(r.llm_calls < 20);
    }

    // Money.
    let mut c = base(40);
    c.budgets.usd = Some(0.002);
    c.llm_concurrency = 1;
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert!(
        r.llm.cost_usd >= 0.002 && r.llm.cost_usd < 0.004,
        "{}",
        r.llm.cost_usd
    );

    // on_budget = stop ends the run.
    let mut c = base(40);
    c.budgets.llm_calls = Some(3);
    c.on_budget = OnBudget::Stop;
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert_eq!(r.stop, StopReason::Budget);
    assert!(r.trials < 40);
    assert_eq!(r.llm_calls, 3);
}

#[test]
fn unusable_answers_are_model_errors_and_never_stop_the_search() {
    let models = [
        ("small", "1B", Behaviour::Garbage),
        (
            "big",
            "70B",
            Behaviour::Illegal {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(32);
    c.large_share_floor = 0.3;
    let mut calls = Calls::default();
    let (r, _) = colt(&c, &models, &mut calls);
    assert_eq!(r.stop, StopReason::TrialLimit);
    assert_eq!(r.trials, 32);
    assert!(r.models["small"].errors["no_json"] > 0);
    assert_eq!(r.models["small"].ok, 0);
    assert!(r.models["big"].errors["illegal_action"] > 0);
    assert!(calls.0.iter().any(|c| c.3 == Some("illegal_action")));
    assert!(r.models.values().map(|m| m.fallbacks).sum::<u64>() >= r.llm_calls);
    assert!(
        r.tree
            .iter()
            .all(|n| ["root", "mutation", "sample", "warmup"].contains(&n.proposer.as_str()))
    );
}

/// A question of the two-model run: it asks to expand a node, shows its decisions, lists
/// the valid actions and the models' hit rates, and stays short.
fn assert_short_question(q: &colt_llm::Request) {
    assert!(
        q.suffix.starts_with("\n# Question\nExpand n"),
        "{}",
        q.suffix
    );
    assert!(
        q.suffix.contains("Valid at n") && q.suffix.contains(": all."),
        "{}",
        q.suffix
    );
    assert!(
        q.suffix
            .contains("Children better than their parent: small ")
    );
    assert!(
        q.suffix.len() < 1000,
        "the question stays short: {}",
        q.suffix.len()
    );
    // The acting node's decisions are in the question.
    assert!(
        common::acting_state(&q.suffix).is_some(),
        "{}\n{}",
        q.record,
        q.suffix
    );
    assert_eq!(q.models, vec!["small".to_string(), "big".to_string()]);
    assert_eq!(q.max_transformations, 3);
}

#[test]
fn the_prompt_is_a_stable_prefix_an_append_only_record_and_a_short_question() {
    let models = [
        ("small", "1B", Behaviour::Worsen { next: "big".into() }),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let (r, seen) = colt(&base(32), &models, &mut NoObserver);
    assert!(seen.len() > 10);
    let p0 = &seen[0].prefix;
    assert!(
        seen.iter().all(|q| &q.prefix == p0),
        "the prefix changed between calls"
    );
    assert!(
        p0.contains("Toy workload")
            && p0.contains("Parameters: lock(index); set(index, value); shift(index, delta).")
            && p0.contains("- small: 1B parameters, phi_small 1.00")
    );
    assert!(p0.contains("several language models") && p0.ends_with("and slowest times).\n"));
    // The stem (what every workload shares) ends before the workload.
    let (stem, rest) = seen[0].stem_and_rest();
    assert!(
        stem.contains("# Answer") && !stem.contains("Toy workload"),
        "{stem}"
    );
    assert!(rest.starts_with("\n# Workload\n") && rest.contains("Toy workload"));
    assert!(seen.iter().all(|q| q.stem_len == seen[0].stem_len));
    // The values of every action are in the prefix (the toy's catalog is its vocabulary).
    assert!(
        p0.contains("- everywhere: set index=0..5 value=0..7; shift index=0..5 delta∈{-1,1}"),
        "{p0}"
    );
    // The record only grows: every call's record extends the previous one (the budget is
    // large enough here that it is never compacted).
    assert_eq!(r.llm.record_compactions, 0);
    // (Calls of one round are concurrent and reach the models in any order.)
    let mut records: Vec<&str> = seen.iter().map(|q| q.record.as_str()).collect();
    records.sort_by_key(|r| r.len());
    for w in records.windows(2) {
        assert!(
            w[1].starts_with(w[0]),
            "the record was rewritten between calls"
        );
    }
    let last = &seen.last().unwrap().record;
    assert!(
        last.contains(" by small: set(index=")
            && last.contains("measured (us): n")
            && !last.contains("decisions"),
        "{last}"
    );
    seen.iter().for_each(assert_short_question);
    assert!(
        seen.iter()
            .any(|q| q.suffix.contains("Already tried from n")),
        "the children already tried are listed"
    );
    assert!(r.llm_calls as usize == seen.len());
}

#[test]
fn a_small_record_budget_compacts_the_record_and_says_so() {
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(40);
    c.record_budget_chars = 600;
    let (r, seen) = colt(&c, &models, &mut NoObserver);
    assert!(r.llm.record_compactions >= 1);
    let compacted = seen
        .iter()
        .filter(|q| q.record.starts_with("(record compacted"))
        .count();
    assert!(compacted > 0);
    // The question always gives the acting node's schedule.
    for q in &seen {
        assert!(
            common::acting_state(&q.suffix).is_some(),
            "{}\n{}",
            q.record,
            q.suffix
        );
    }
}

#[test]
fn illegal_steps_are_dropped_and_the_legal_ones_kept() {
    let models = [
        (
            "small",
            "1B",
            Behaviour::PartlyIllegal {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::PartlyIllegal {
                next: "small".into(),
            },
        ),
    ];
    let (r, seen) = colt(&base(24), &models, &mut NoObserver);
    let dropped: u64 = r.models.values().map(|m| m.dropped_steps).sum();
    assert!(dropped > 0);
    assert!(
        r.models
            .values()
            .all(|m| !m.errors.contains_key("illegal_action")),
        "{:?}",
        r.models
    );
    let from_models: Vec<_> = r
        .tree
        .iter()
        .filter(|n| n.proposer == "small" || n.proposer == "big")
        .collect();
    assert!(!from_models.is_empty());
    assert!(
        from_models
            .iter()
            .all(|n| n.transformations.len() == 1 && n.transformations[0].action == "set")
    );
    assert!(
        seen.last()
            .unwrap()
            .record
            .contains("invalid step(s) of the answer dropped")
    );
}

#[test]
fn floor_overrides_and_fallbacks_are_charged_to_the_model_asked_when_asked() {
    // The small model answers well, the largest never usably; the floor sends a share
    // of the small model's nodes to the largest. No course alteration: then every
    // unusable call is one fallback of the model that was asked, and nothing else is.
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        ("big", "70B", Behaviour::Garbage),
    ];
    let mut c = base(32);
    c.course_alteration_k = 0;
    c.large_share_floor = 0.4;
    c.large_share_cap = 1.0;
    let (r, _) = colt(&c, &models, &mut NoObserver);
    let (small, big) = (&r.models["small"], &r.models["big"]);
    assert!(big.calls > 0 && big.floor_overrides > 0);
    for (name, m) in &r.models {
        let wasted: u64 = m.wasted.values().sum();
        assert_eq!(m.fallbacks, wasted, "{name}: {m:?}");
    }
    assert_eq!(
        big.fallbacks, big.calls,
        "every garbage answer fell back, charged to big"
    );
    assert!(small.fallbacks < small.calls);
    assert_eq!(big.wasted.get("invalid_answer"), Some(&big.calls));
    assert_eq!(
        r.llm.wasted_calls,
        r.llm.wasted_by_cause.values().sum::<u64>()
    );

    // With the call budget spent, the floor still wants the largest but no call is made:
    // no override is counted for it.
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(40);
    c.course_alteration_k = 0;
    c.large_share_floor = 0.9;
    c.large_share_cap = 1.0;
    c.budgets.llm_calls = Some(2);
    let (r, _) = colt(&c, &models, &mut NoObserver);
    assert_eq!(r.llm_calls, 2);
    assert!(
        r.models["big"].floor_overrides <= r.models["big"].calls,
        "{:?}",
        r.models["big"]
    );
}

#[test]
fn transport_failures_are_not_shown_to_the_models_as_their_errors() {
    let models = [
        ("small", "1B", Behaviour::Down),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(32);
    c.large_share_floor = 0.0;
    let (r, seen) = colt(&c, &models, &mut NoObserver);
    assert!(r.models["small"].calls > 0 && r.models["small"].ok == 0);
    assert_eq!(r.models["small"].unusable, 0);
    assert!(r.models["small"].wasted["provider_error"] > 0);
    let shown: Vec<&str> = seen
        .iter()
        .flat_map(|q| {
            q.suffix
                .lines()
                .filter(|l| l.starts_with("Children better than their parent: "))
        })
        .collect();
    assert!(!shown.is_empty());
    // The models see hits per model; no failure count of any kind, so a provider's
    // transport failures cannot read as the model's poor judgement.
    assert!(
        shown
            .iter()
            .all(|l| l.contains("small 0/0") && !l.contains("invalid") && !l.contains("error")),
        "{shown:?}"
    );
}

#[test]
fn duplicate_answers_are_recorded_as_such() {
    // Greedy answers from the same node repeat themselves: the second is a duplicate.
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        ("big", "70B", Behaviour::Greedy { next: "big".into() }),
    ];
    let mut calls = Calls::default();
    let (r, _) = colt(&base(40), &models, &mut calls);
    let dups = calls.0.iter().filter(|c| c.3 == Some("duplicate")).count() as u64;
    assert!(dups > 0);
    assert_eq!(
        r.llm.wasted_by_cause.get("duplicate").copied().unwrap_or(0),
        dups
    );
    let errs: u64 = r
        .models
        .values()
        .map(|m| m.errors.get("duplicate").copied().unwrap_or(0))
        .sum();
    assert_eq!(errs, dups);
}

#[test]
fn course_alteration_keeps_both_answers_by_default_or_only_the_better_one() {
    let mut c = base(40);
    c.large_share_floor = 0.0;
    let models = worsening_small_and_greedy_big();
    let count = |r: &RunResult<Vec<i64>>, cause: &str| -> u64 {
        r.models
            .values()
            .map(|m| m.wasted.get(cause).copied().unwrap_or(0))
            .sum()
    };
    let (both, _) = colt(&c, &models, &mut NoObserver);
    let alterations = both.models["big"].course_alteration_calls;
    assert!(alterations >= 2, "{:?}", both.models);
    assert_eq!(count(&both, "replaced") + count(&both, "not_better"), 0);
    // Every call either added a node or is counted as wasted.
    let accounted = |r: &RunResult<Vec<i64>>| {
        let made = r
            .tree
            .iter()
            .filter(|n| n.proposer == "small" || n.proposer == "big")
            .count() as u64;
        let calls: u64 = r.models.values().map(|m| m.calls).sum();
        let wasted: u64 = r.models.values().flat_map(|m| m.wasted.values()).sum();
        assert_eq!(made, calls - wasted, "{:?}", r.models);
        made
    };
    let made_both = accounted(&both);
    assert!(
        both.tree.iter().filter(|n| n.proposer == "big").count() as u64
            >= alterations - count(&both, "duplicate") - count(&both, "illegal_action")
    );
    c.course_alteration_keep = colt_search::AlterationKeep::Better;
    let (better, _) = colt(&c, &models, &mut NoObserver);
    let alterations = better.models["big"].course_alteration_calls;
    assert!(alterations >= 2);
    assert_eq!(
        count(&better, "replaced") + count(&better, "not_better"),
        alterations,
        "{:?}",
        better.models
    );
    let made_better = accounted(&better);
    assert!(made_both > 0 && made_better > 0);
    let cfg: SearchConfig =
        serde_json::from_str(r#"{"course_alteration_keep": "better"}"#).unwrap();
    assert_eq!(
        cfg.course_alteration_keep,
        colt_search::AlterationKeep::Better
    );
}

#[test]
fn a_model_set_not_to_see_schedules_gets_questions_without_one() {
    let toy = Toy::new(6, 8);
    let mut b = common::bucket(&[("small", "1B"), ("big", "70B")], "http://127.0.0.1:9");
    // Remote models see the schedule by default; embedded ones do not.
    assert!(b.config.models.iter().all(|m| m.schedule_in_question));
    assert!(!colt_llm::ModelConfig::smollm2_135m().schedule_in_question);
    b.config.models[0].schedule_in_question = false;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut providers: std::collections::BTreeMap<String, Box<dyn colt_llm::Provider>> =
        Default::default();
    for name in ["small", "big"] {
        providers.insert(
            name.into(),
            Box::new(common::Scripted {
                toy: toy.clone(),
                behaviour: Behaviour::Greedy {
                    next: if name == "small" { "big" } else { "small" }.into(),
                },
                calls: calls.clone(),
                seen: seen.clone(),
            }),
        );
    }
    let mut client = colt_llm::LlmClient::with_providers(&b, providers, 7);
    let mut c = base(40);
    c.large_share_floor = 0.5;
    c.large_share_cap = 1.0;
    let (mut env, mut oracle) = (toy.clone(), Oracle(toy.clone()));
    run(
        &c,
        &mut env,
        &mut oracle,
        Some(&mut client),
        &mut NoObserver,
    )
    .unwrap();
    let seen = seen.lock().unwrap();
    let asked = |name: &str| -> Vec<&colt_llm::Request> {
        seen.iter()
            .filter(|r| r.suffix.contains(&format!("You are {name}.")))
            .collect()
    };
    let (small, big) = (asked("small"), asked("big"));
    assert!(
        !small.is_empty() && !big.is_empty(),
        "{} {} {:?}",
        small.len(),
        big.len(),
        seen.last().map(|r| &r.suffix)
    );
    assert!(small.iter().all(|r| !r.suffix.contains("Schedule of n")));
    // Nor the valid actions (its grammar admits no others) or the progress lines.
    assert!(
        small
            .iter()
            .all(|r| !r.suffix.contains("Valid at n") && !r.suffix.contains("Trials "))
    );
    assert!(
        small
            .iter()
            .all(|r| r.suffix.contains("Expand n") && r.suffix.contains("You are small."))
    );
    assert!(
        big.iter()
            .all(|r| r.suffix.contains("Schedule of n") && r.suffix.contains("Valid at n"))
    );
    // Its prefix is the lean one: no legend for the schedules it is not shown, no values
    // (its grammar admits only valid ones); the other model's prefix has both.
    let legend = "A toy state is written as its list of decisions.";
    assert!(
        small
            .iter()
            .all(|r| !r.prefix.contains(legend) && !r.prefix.contains("# Their values"))
    );
    assert!(
        big.iter()
            .all(|r| r.prefix.contains(legend) && r.prefix.contains("# Their values"))
    );
    assert!(small[0].prefix.len() < big[0].prefix.len());
}

#[test]
fn course_alteration_streaks_are_global_by_default_or_per_model() {
    // One small model always regresses, the other never: with one global streak the
    // good one's answers reset the bad one's streak; per model they do not.
    let models = [
        (
            "bad",
            "1B",
            Behaviour::Worsen {
                next: "good".into(),
            },
        ),
        ("good", "2B", Behaviour::Greedy { next: "bad".into() }),
        ("big", "70B", Behaviour::Greedy { next: "bad".into() }),
    ];
    let mut c = base(48);
    c.root_model = Some("bad".into());
    c.large_share_floor = 0.0;
    // Enough calls per batch that both small models act between measurements.
    c.llm_expansions_per_batch = Some(8);
    let (global, _) = colt(&c, &models, &mut NoObserver);
    c.course_alteration_streak = colt_search::StreakScope::PerModel;
    let (per_model, _) = colt(&c, &models, &mut NoObserver);
    let bad = &per_model.models["bad"];
    assert!(bad.regressions >= 4, "{bad:?}");
    assert_eq!(
        bad.course_alterations,
        bad.regressions / 2,
        "per model: every 2nd regression of `bad`"
    );
    let g = &global.models["bad"];
    assert!(
        g.course_alterations < g.regressions / 2,
        "global: `good` resets the streak ({g:?})"
    );
    let cfg: SearchConfig =
        serde_json::from_str(r#"{"course_alteration_streak": "per_model"}"#).unwrap();
    assert_eq!(
        cfg.course_alteration_streak,
        colt_search::StreakScope::PerModel
    );
    assert_eq!(
        SearchConfig::default().course_alteration_streak,
        colt_search::StreakScope::Global
    );
}

#[test]
fn colt_with_a_learned_model_and_good_proposers_beats_random() {
    let models = [
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        (
            "big",
            "70B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut toy = Toy::new(8, 8);
    let (mut client, _, _) = scripted_client(&toy, &models);
    let r = run(
        &SearchConfig::new(Strategy::Colt, 48, 9),
        &mut toy,
        &mut Knn::default(),
        Some(&mut client),
        &mut NoObserver,
    )
    .unwrap();
    let mut toy2 = Toy::new(8, 8);
    let rnd = run(
        &SearchConfig::new(Strategy::Random, 48, 9),
        &mut toy2,
        &mut Knn::default(),
        None,
        &mut NoObserver,
    )
    .unwrap();
    assert!(r.best_us().unwrap() < rnd.best_us().unwrap());
    assert!(r.llm.large_model_share >= 0.2 - 1e-9);
}

#[test]
fn the_root_goes_to_the_smallest_model_by_default() {
    // Bucket order puts the big model first: the default must look at sizes, not order.
    let mut c = SearchConfig::new(Strategy::Colt, 24, 4);
    c.large_share_floor = 0.0;
    c.course_alteration_k = 0;
    let models = [
        ("big", "70B", Behaviour::Greedy { next: "big".into() }),
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
    ];
    let mut calls = Calls::default();
    let (r, _) = colt(&c, &models, &mut calls);
    let root = r.tree.iter().find(|n| n.parent.is_none()).unwrap();
    assert_eq!(root.model.as_deref(), Some("small"));
    // The first call expands the root, so it goes to the small model.
    assert_eq!(calls.0[0].1, "small");
    assert_eq!(calls.0[0].2, root.id);
    // A root named in the config still wins.
    c.root_model = Some("big".into());
    let (r, _) = colt(&c, &models, &mut Calls::default());
    let root = r.tree.iter().find(|n| n.parent.is_none()).unwrap();
    assert_eq!(root.model.as_deref(), Some("big"));
}

/// Counts measured trials, and the trials measured before each call.
#[derive(Default)]
struct Pace {
    measured: usize,
    at_call: Vec<usize>,
}

impl Observer<Vec<i64>> for Pace {
    fn measured(&mut self, _trial: &colt_search::TrialRecord<Vec<i64>>) {
        self.measured += 1;
    }
    fn llm_call(&mut self, _c: &LlmCallEvent<'_>) {
        self.at_call.push(self.measured);
    }
}

#[test]
fn a_small_call_quota_still_measures_full_batches() {
    // One call per batch: the round's other children are mutations, so each of the
    // 5 batches after the first measures 8 candidates and the run makes 5 calls, not one
    // per candidate measured.
    let models = [(
        "small",
        "1B",
        Behaviour::Greedy {
            next: "small".into(),
        },
    )];
    let mut c = SearchConfig::new(Strategy::SingleLlm, 48, 4);
    c.llm_expansions_per_batch = Some(1);
    let mut pace = Pace::default();
    let (r, _) = colt(&c, &models, &mut pace);
    assert_eq!(r.trials, 48);
    assert_eq!(
        pace.at_call,
        vec![8, 16, 24, 32, 40],
        "calls at trial counts"
    );
    assert_eq!(r.llm_calls, 5);
}
