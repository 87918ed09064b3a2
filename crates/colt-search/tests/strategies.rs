//! End-to-end runs of every strategy on the toy environment, determinism, failed builds,
//! progressive widening, exhaustion.

mod common;

use std::collections::BTreeSet;

use colt_search::{NoObserver, SearchConfig, StopReason, Strategy, run};
use common::{Behaviour, Knn, Toy, scripted_client};

fn cfg(strategy: Strategy, trials: usize, seed: u64) -> SearchConfig {
    SearchConfig::new(strategy, trials, seed)
}

fn greedy_models() -> Vec<(&'static str, &'static str, Behaviour)> {
    vec![
        (
            "small",
            "1B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        (
            "mid",
            "8B",
            Behaviour::Greedy {
                next: "small".into(),
            },
        ),
        ("big", "70B", Behaviour::Greedy { next: "mid".into() }),
    ]
}

fn run_toy(
    strategy: Strategy,
    trials: usize,
    seed: u64,
    toy: &mut Toy,
) -> colt_search::RunResult<Vec<i64>> {
    let c = cfg(strategy, trials, seed);
    let mut model = Knn::default();
    if strategy.uses_llm() {
        let models = if strategy == Strategy::SingleLlm {
            vec![("big", "70B", Behaviour::Greedy { next: "big".into() })]
        } else {
            greedy_models()
        };
        let (mut client, _, _) = scripted_client(toy, &models);
        run(&c, toy, &mut model, Some(&mut client), &mut NoObserver).unwrap()
    } else {
        run(&c, toy, &mut model, None, &mut NoObserver).unwrap()
    }
}

#[test]
fn every_strategy_runs_end_to_end_and_never_measures_a_key_twice() {
    for strategy in Strategy::ALL {
        let mut toy = Toy::new(6, 8);
        toy.fail_mod = 4; // a quarter of the space fails to build
        let r = run_toy(strategy, 40, 3, &mut toy);
        assert_eq!(r.stop, StopReason::TrialLimit, "{strategy}");
        assert_eq!(r.trials, 40, "{strategy}");
        assert_eq!(
            toy.measured.len(),
            40,
            "{strategy}: the measurer saw each trial once"
        );
        let keys: BTreeSet<u64> = r.history.iter().map(|t| t.key).collect();
        assert_eq!(
            keys.len(),
            40,
            "{strategy}: a key (failed ones included) measured twice"
        );
        let best = r.best.as_ref().expect("a best");
        assert_eq!(
            Some(best.latency_us),
            r.history
                .iter()
                .filter_map(|t| t.latency_us)
                .min_by(f64::total_cmp)
        );
        assert!(
            r.history.iter().any(|t| t.latency_us.is_none()),
            "{strategy}: the failing region was never hit"
        );
        match strategy {
            Strategy::Random | Strategy::Evolutionary => assert!(r.tree.is_empty()),
            _ => {
                assert!(r.tree.len() > 1, "{strategy}");
                assert_eq!(r.history[0].proposer, "root");
                // Tree keys are unique, and no tree node was created on a failed key after
                // it failed (children of failed keys are refused).
                let tk: BTreeSet<u64> = r.tree.iter().map(|n| n.key).collect();
                assert_eq!(tk.len(), r.tree.len());
            }
        }
        if strategy.uses_llm() {
            assert!(r.llm_calls > 0, "{strategy}");
            assert!(r.llm.tokens_in > 0 && r.llm.cost_usd > 0.0);
        } else {
            assert_eq!(r.llm_calls, 0);
        }
        // The time split adds up.
        let t = r.time;
        assert!(
            (t.wall_s - t.measure_s - t.llm_s - t.overhead_s).abs() < 1e-6 || t.overhead_s == 0.0
        );
    }
}

#[test]
fn llm_strategies_get_near_the_optimum_with_a_good_proposer() {
    // The scripted models fix one decision per call: the tree reaches the target.
    for strategy in [Strategy::SingleLlm, Strategy::Colt] {
        let mut toy = Toy::new(6, 8);
        let optimum = toy.latency(&toy.target.clone()).unwrap();
        let r = run_toy(strategy, 48, 5, &mut toy);
        let best = r.best_us().unwrap();
        let mut toy = Toy::new(6, 8);
        let rnd = run_toy(Strategy::Random, 48, 5, &mut toy)
            .best_us()
            .unwrap();
        assert!(
            best < rnd && best <= optimum * 1.5,
            "{strategy}: best {best}, random {rnd}, optimum {optimum}"
        );
        // A good part of what the tree measured after the first batch came from the model
        // (half of each batch is reserved for model proposals; half the batch size of
        // calls per batch fills it unless answers fail).
        let by_model = r
            .history
            .iter()
            .filter(|t| t.batch > 0 && r.models.contains_key(&t.proposer))
            .count();
        assert!(
            by_model * 3 >= r.history.iter().filter(|t| t.batch > 0).count(),
            "{strategy}: {by_model}"
        );
    }
}

#[test]
fn evolutionary_beats_random_on_the_toy_env() {
    let mut wins = 0;
    for seed in 1..=5 {
        let mut toy = Toy::new(8, 8);
        let evo = run_toy(Strategy::Evolutionary, 64, seed, &mut toy)
            .best_us()
            .unwrap();
        let mut toy = Toy::new(8, 8);
        let rnd = run_toy(Strategy::Random, 64, seed, &mut toy)
            .best_us()
            .unwrap();
        if evo < rnd {
            wins += 1;
        }
    }
    assert!(wins >= 4, "evolutionary beat random on {wins} of 5 seeds");
}

#[test]
fn mcts_beats_random_on_the_toy_env() {
    let mut wins = 0;
    for seed in 1..=5 {
        let mut toy = Toy::new(8, 8);
        let m = run_toy(Strategy::Mcts, 64, seed, &mut toy)
            .best_us()
            .unwrap();
        let mut toy = Toy::new(8, 8);
        let rnd = run_toy(Strategy::Random, 64, seed, &mut toy)
            .best_us()
            .unwrap();
        wins += (m < rnd) as u32;
    }
    assert!(wins >= 4, "mcts beat random on {wins} of 5 seeds");
}

#[test]
fn same_seed_same_answers_same_tree_and_traces() {
    for strategy in Strategy::ALL {
        let go = |seed| {
            let mut toy = Toy::new(6, 8);
            toy.fail_mod = 5;
            let mut r = run_toy(strategy, 32, seed, &mut toy);
            // Wall-clock fields are the only ones allowed to differ.
            r.models.values_mut().for_each(|m| {
                m.latency_ms = 0;
                m.median_latency_ms = 0.0;
            });
            (
                serde_json::to_string(&r.history).unwrap(),
                serde_json::to_string(&r.tree).unwrap(),
                serde_json::to_string(&r.models).unwrap(),
            )
        };
        let (a, b) = (go(11), go(11));
        assert_eq!(a, b, "{strategy}: two identical runs differ");
        if strategy != Strategy::SingleLlm && strategy != Strategy::Colt {
            assert_ne!(a.0, go(12).0, "{strategy}: the seed has no effect");
        }
    }
}

#[test]
fn progressive_widening_bounds_children_by_visits() {
    let mut toy = Toy::new(6, 8);
    let r = run_toy(Strategy::Mcts, 48, 2, &mut toy);
    for n in &r.tree {
        let kids = r
            .tree
            .iter()
            .filter(|c| c.parent == Some(n.id) && c.proposer != "warmup")
            .count();
        assert!(
            kids <= colt_search::policy::widen_limit(n.visits, 1.0, 0.5),
            "node {} has {kids} children at {} visits",
            n.id,
            n.visits
        );
    }
    let root_kids = r
        .tree
        .iter()
        .filter(|c| c.parent == Some(0) && c.proposer != "warmup")
        .count();
    assert!(root_kids >= 2, "the root never widened");
    assert!(
        r.tree.iter().map(|n| n.depth).max().unwrap() >= 3,
        "the tree never deepened"
    );
    // A wider constant gives the root more children.
    let mut c = SearchConfig::new(Strategy::Mcts, 48, 2);
    c.widen_c = 4.0;
    let mut toy = Toy::new(6, 8);
    let wide = run(
        &c,
        &mut toy,
        &mut Knn::default(),
        None,
        &mut colt_search::NoObserver,
    )
    .unwrap();
    assert!(
        wide.tree
            .iter()
            .filter(|n| n.parent == Some(0) && n.proposer != "warmup")
            .count()
            > root_kids
    );
}

#[test]
fn a_tiny_space_ends_with_space_exhausted_and_terminal_leaves() {
    // Two states in all: the root and its one mutation.
    for strategy in [Strategy::Mcts, Strategy::Random, Strategy::Evolutionary] {
        let mut toy = Toy::new(1, 2);
        toy.target = vec![1];
        let r = run_toy(strategy, 10, 1, &mut toy);
        assert_eq!(r.stop, StopReason::SpaceExhausted, "{strategy}");
        assert_eq!(r.trials, 2, "{strategy}");
        if strategy == Strategy::Mcts {
            assert!(r.tree.iter().all(|n| n.terminal), "{:?}", r.tree);
            assert!(r.tree.iter().all(|n| n.expand_failures >= 5));
        }
    }
}

#[test]
fn config_errors_are_one_line() {
    let mut toy = Toy::new(3, 4);
    let e = run(
        &SearchConfig::new(Strategy::Colt, 8, 1),
        &mut toy,
        &mut Knn::default(),
        None,
        &mut NoObserver,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "strategy colt needs LLMs, but no model bucket was given"
    );
    let (mut client, _, _) = scripted_client(&toy, &greedy_models());
    let mut c = SearchConfig::new(Strategy::SingleLlm, 8, 1);
    c.single_llm_model = Some("gpt-9".into());
    let e = run(
        &c,
        &mut toy,
        &mut Knn::default(),
        Some(&mut client),
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("\"gpt-9\" is not in the bucket (models: small, mid, big)"),
        "{e}"
    );
    let c = SearchConfig {
        trials: 0,
        ..SearchConfig::default()
    };
    assert!(
        run(&c, &mut toy, &mut Knn::default(), None, &mut NoObserver)
            .unwrap_err()
            .to_string()
            .contains("trials")
    );
}

#[test]
fn with_the_gbdt_cost_model_evolutionary_and_colt_beat_random() {
    let mut evo_wins = 0;
    let mut colt_wins = 0;
    for seed in 1..=3 {
        let mut toy = Toy::new(8, 8);
        let rnd = run(
            &cfg(Strategy::Random, 64, seed),
            &mut toy,
            &mut colt_cost::Gbdt::default(),
            None,
            &mut NoObserver,
        )
        .unwrap();
        let mut toy = Toy::new(8, 8);
        let evo = run(
            &cfg(Strategy::Evolutionary, 64, seed),
            &mut toy,
            &mut colt_cost::Gbdt::default(),
            None,
            &mut NoObserver,
        )
        .unwrap();
        let mut toy = Toy::new(8, 8);
        let (mut client, _, _) = scripted_client(&toy, &greedy_models());
        let colt = run(
            &cfg(Strategy::Colt, 64, seed),
            &mut toy,
            &mut colt_cost::Gbdt::default(),
            Some(&mut client),
            &mut NoObserver,
        )
        .unwrap();
        evo_wins += (evo.best_us() < rnd.best_us()) as u32;
        colt_wins += (colt.best_us() < rnd.best_us()) as u32;
        assert!(colt.llm.large_model_share >= 0.2 - 1e-9);
    }
    assert!(
        evo_wins >= 2,
        "evolutionary beat random on {evo_wins} of 3 seeds"
    );
    assert_eq!(colt_wins, 3, "colt beat random on {colt_wins} of 3 seeds");
}
