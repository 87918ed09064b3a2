//! The same seed gives the same trace, snapshotted: every strategy on the toy environment
//! with fixed seeds, and the LLM strategies with scripted models on the paths that end or
//! bend a run (course alteration, unusable answers, budgets, one call at a time), the
//! space running out and an observer interrupting. Each run is summarised by stable
//! hashes of the measured states in order, the trial records, the final tree, the
//! per-model reports and the observer's event stream, so a change to the engine's loops
//! shows up here as the aspect it changed.

mod common;

use colt_search::{
    LlmCallEvent, NodeEventKind, NodeInfo, Observer, OnBudget, Progress, RunResult, SearchConfig,
    Strategy, TrialRecord, run,
};
use common::{Behaviour, Knn, Oracle, Toy, scripted_client};
use expect_test::expect;

/// FNV-1a of `text`: stable across runs and platforms.
fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Every event, in order; `should_stop` answers `true` from its `stop_at`-th poll on.
#[derive(Default)]
struct Events {
    log: Vec<String>,
    polls: usize,
    stop_at: Option<usize>,
}

impl Observer<Vec<i64>> for Events {
    fn measured(&mut self, t: &TrialRecord<Vec<i64>>) {
        self.log.push(format!("measured {} {:?}", t.trial, t.state));
    }
    fn llm_call(&mut self, c: &LlmCallEvent<'_>) {
        self.log.push(format!(
            "call {} {} n{} {} {:?}",
            c.role.as_str(),
            c.record.model,
            c.node,
            c.assigned,
            c.rejected
        ));
    }
    fn node(&mut self, kind: NodeEventKind, n: &NodeInfo<Vec<i64>>) {
        let n = serde_json::to_string(n).unwrap();
        self.log.push(format!("node {kind:?} {n}"));
    }
    fn progress(&mut self, p: &Progress) {
        // Not the tokens and prices (they follow the prompts' length).
        self.log.push(format!(
            "progress {}/{} batch {} best {:?} calls {} {:?} nodes {}",
            p.trials,
            p.trials_total,
            p.batch,
            p.best_us,
            p.llm_calls,
            p.calls_per_model,
            p.tree_nodes
        ));
    }
    fn should_stop(&mut self) -> bool {
        self.polls += 1;
        self.log.push("poll".into());
        self.stop_at.is_some_and(|k| self.polls >= k)
    }
}

/// One line: how the run ended, and a hash per aspect of its trace (outcome
/// classifications and details left out: the measurer's wording).
fn summary(name: &str, toy: &Toy, r: &RunResult<Vec<i64>>, events: &Events) -> String {
    let trials: Vec<_> = r
        .history
        .iter()
        .map(|t| {
            (
                t.trial,
                t.batch,
                t.key,
                &t.state,
                t.latency_us,
                t.predicted,
                &t.proposer,
                t.node,
                t.best_us,
            )
        })
        .collect();
    // Wall-clock fields, and the token counts and prices that follow the prompts' length
    // (a change of wording is not a change of the search).
    let mut models = r.models.clone();
    for m in models.values_mut() {
        m.latency_ms = 0;
        m.median_latency_ms = 0.0;
        (
            m.tokens_in,
            m.tokens_cached,
            m.tokens_out,
            m.tokens_evaluated,
        ) = (0, 0, 0, 0);
        m.cost_usd = 0.0;
    }
    format!(
        "{name}: {} trials={} best={:?} calls={} measured={} records={} tree={}/{} models={} events={}/{}",
        r.stop.as_str(),
        r.trials,
        r.best_us(),
        r.llm_calls,
        fnv(&format!("{:?}", toy.measured)),
        fnv(&serde_json::to_string(&trials).unwrap()),
        r.tree.len(),
        fnv(&serde_json::to_string(&r.tree).unwrap()),
        fnv(&serde_json::to_string(&models).unwrap()),
        events.log.len(),
        fnv(&events.log.join("\n")),
    )
}

fn greedy(next: &str) -> Behaviour {
    Behaviour::Greedy { next: next.into() }
}

/// The bucket of the strategy tests: three greedy models.
fn three() -> Vec<(&'static str, &'static str, Behaviour)> {
    vec![
        ("small", "1B", greedy("small")),
        ("mid", "8B", greedy("small")),
        ("big", "70B", greedy("mid")),
    ]
}

/// Run `cfg` on `toy` with the kNN cost model (the oracle with `oracle`), the scripted
/// `models` for the LLM strategies, and an observer stopping at poll `stop_at`.
fn go(
    name: &str,
    cfg: &SearchConfig,
    mut toy: Toy,
    models: &[(&str, &str, Behaviour)],
    oracle: bool,
    stop_at: Option<usize>,
) -> String {
    let mut events = Events {
        stop_at,
        ..Events::default()
    };
    let mut knn = Knn::default();
    let mut orc = Oracle(toy.clone());
    let cost: &mut dyn colt_cost::CostModel = if oracle { &mut orc } else { &mut knn };
    let r = if cfg.strategy.uses_llm() {
        let (mut client, _, _) = scripted_client(&toy, models);
        run(cfg, &mut toy, cost, Some(&mut client), &mut events).unwrap()
    } else {
        run(cfg, &mut toy, cost, None, &mut events).unwrap()
    };
    summary(name, &toy, &r, &events)
}

fn toy() -> Toy {
    let mut t = Toy::new(6, 8);
    t.fail_mod = 5;
    t
}

#[test]
fn every_strategy_gives_the_snapshotted_trace() {
    let mut lines = Vec::new();
    for strategy in Strategy::ALL {
        let models = match strategy {
            Strategy::SingleLlm => vec![("big", "70B", greedy("big"))],
            _ => three(),
        };
        let cfg = SearchConfig::new(strategy, 40, 11);
        lines.push(go(strategy.as_str(), &cfg, toy(), &models, false, None));
    }
    expect![[r#"
        random: trial_limit trials=40 best=Some(31.2) calls=0 measured=fb2d3efa90515c88 records=5f522fcaf94d24c3 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=50/dfdb617d7b5768b3
        evolutionary: trial_limit trials=40 best=Some(17.9) calls=0 measured=2268f657848eca37 records=14015c67c970ec00 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=50/9f0acaa4f918a12c
        mcts: trial_limit trials=40 best=Some(27.3) calls=0 measured=63fbc33f9c3cbe86 records=a7ff414f047af56c tree=136/4af3f557c9db44e1 models=08f44b07b5901a25 events=346/dda47a928dcefa69
        single-llm: trial_limit trials=40 best=Some(19.7) calls=16 measured=f18eb6183f0ed312 records=3e7ac55d2fbb2fb6 tree=112/69ad580119c7cd88 models=5acac4b18a0356d9 events=307/cff39e9ccb56762d
        colt: trial_limit trials=40 best=Some(22.9) calls=16 measured=6fc5aadf0419a3b7 records=f0f4a2e5531c3c57 tree=112/fee8385f6653db36 models=6f0959775b598c29 events=309/36a9e8f7c10ca362"#]].assert_eq(&lines.join("\n"));
}

#[test]
fn llm_paths_give_the_snapshotted_trace() {
    let mut lines = Vec::new();
    let base = |trials| {
        let mut c = SearchConfig::new(Strategy::Colt, trials, 4);
        c.root_model = Some("small".into());
        c
    };
    // Course alteration: a small model that always regresses, a greedy big one.
    let worsen = [
        (
            "small",
            "1B",
            Behaviour::Worsen {
                next: "small".into(),
            },
        ),
        ("big", "70B", greedy("small")),
    ];
    for keep in [
        colt_search::AlterationKeep::Both,
        colt_search::AlterationKeep::Better,
    ] {
        let mut c = base(40);
        c.course_alteration_keep = keep;
        let name = format!("course-alteration-{keep:?}");
        lines.push(go(&name, &c, Toy::new(6, 8), &worsen, true, None));
    }
    // Illegal answers (dropped steps, rejected answers) and one call at a time.
    let odd = [
        (
            "small",
            "1B",
            Behaviour::PartlyIllegal { next: "big".into() },
        ),
        (
            "big",
            "70B",
            Behaviour::Illegal {
                next: "small".into(),
            },
        ),
    ];
    let mut c = base(32);
    c.llm_concurrency = 1;
    c.large_share_floor = 0.3;
    lines.push(go("illegal-sequential", &c, toy(), &odd, false, None));
    // Budgets: fall back to mutation, or stop.
    let mut c = base(40);
    c.budgets.llm_calls = Some(6);
    lines.push(go("budget-fallback", &c, toy(), &three(), false, None));
    c.budgets.llm_calls = Some(3);
    c.on_budget = OnBudget::Stop;
    lines.push(go("budget-stop", &c, toy(), &three(), false, None));
    let mut c = SearchConfig::new(Strategy::SingleLlm, 24, 9);
    c.llm_concurrency = 1;
    let single = [("big", "70B", greedy("big"))];
    lines.push(go("single-sequential", &c, toy(), &single, false, None));
    expect![[r#"
        course-alteration-Both: trial_limit trials=40 best=Some(12.1) calls=19 measured=f251375633d12d06 records=e7445b52a9764ce3 tree=139/10ca6658ac473ffa models=f9adb59859ec4241 events=359/1d080be79fc9f25b
        course-alteration-Better: trial_limit trials=40 best=Some(12.4) calls=19 measured=da355e7c5b6e50be records=a21e985e6c28c9fc tree=112/32b4fdcb2ea296bd models=458d87a9bbcf7c0b events=310/c537dfc398254d99
        illegal-sequential: trial_limit trials=32 best=Some(16.9) calls=12 measured=21313bbc1fed3fc8 records=a67e472d6d182c4f tree=104/528f2f773f069db3 models=346bb946cbfb6cf6 events=276/c3bbb09d54ad7efe
        budget-fallback: trial_limit trials=40 best=Some(12.1) calls=6 measured=0e4059260004096b records=3c01b06ebe16cd50 tree=136/fea4969431d9e518 models=8ddeecdb644ce83a events=345/94143f219cd7ca7d
        budget-stop: budget trials=8 best=Some(19.0) calls=3 measured=64f698707b86b0e3 records=195aa4002e94704f tree=12/f387bcbdfc4c3848 models=1847d6a7dd4fce9e events=30/b3cf49aa0b249421
        single-sequential: trial_limit trials=24 best=Some(20.2) calls=8 measured=9b01718e39e4df1d records=efcb7fcb24b3d696 tree=48/bf34188a96cca013 models=92de7a05aec56991 events=142/5cb35581f90a83fa"#]].assert_eq(&lines.join("\n"));
}

#[test]
fn exhaustion_and_interruption_give_the_snapshotted_trace() {
    let mut lines = Vec::new();
    // Two states in all: every strategy runs dry.
    for strategy in [Strategy::Random, Strategy::Evolutionary, Strategy::Mcts] {
        let mut t = Toy::new(1, 2);
        t.target = vec![1];
        let cfg = SearchConfig::new(strategy, 10, 1);
        let name = format!("{strategy}-dry");
        lines.push(go(&name, &cfg, t, &[], false, None));
    }
    // An observer that asks to stop at its first poll, its third and its seventh.
    for strategy in Strategy::ALL {
        for stop_at in [1, 3, 7] {
            let cfg = SearchConfig::new(strategy, 40, 3);
            let name = format!("{strategy}-stop-at-{stop_at}");
            lines.push(go(&name, &cfg, toy(), &three(), false, Some(stop_at)));
        }
    }
    expect![[r#"
        random-dry: space_exhausted trials=2 best=Some(10.0) calls=0 measured=9b46e59abc84aefc records=404e304b26d82484 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=7/ab646f5af0913d85
        evolutionary-dry: space_exhausted trials=2 best=Some(10.0) calls=0 measured=9b46e59abc84aefc records=404e304b26d82484 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=7/ab646f5af0913d85
        mcts-dry: space_exhausted trials=2 best=Some(10.0) calls=0 measured=0e9318487294349e records=d0659422b2104044 tree=2/4ddb3edcaa6e9fcc models=08f44b07b5901a25 events=18/f1de507f4b77943e
        random-stop-at-1: interrupted trials=0 best=None calls=0 measured=09612b07b5ecb5a5 records=09612b07b5ecb5a5 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=1/8c18cf0da8828238
        random-stop-at-3: interrupted trials=16 best=Some(78.2) calls=0 measured=c963ced3d1ae9db2 records=6423b8f866742f91 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=21/4ce201e6c9682943
        random-stop-at-7: trial_limit trials=40 best=Some(52.2) calls=0 measured=d30731e4b262f09a records=9805534a64fd5906 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=50/10cceadbcda51902
        evolutionary-stop-at-1: interrupted trials=0 best=None calls=0 measured=09612b07b5ecb5a5 records=09612b07b5ecb5a5 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=1/8c18cf0da8828238
        evolutionary-stop-at-3: interrupted trials=16 best=Some(25.7) calls=0 measured=e5ab0662bb3b0096 records=bc75fd2cb187d329 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=21/cc02fbda3cfceb4e
        evolutionary-stop-at-7: trial_limit trials=40 best=Some(20.2) calls=0 measured=d1a662bcc13275c6 records=93a2b3ed847a64d1 tree=0/09612b07b5ecb5a5 models=08f44b07b5901a25 events=50/0f5a191becae5f1f
        mcts-stop-at-1: interrupted trials=8 best=Some(78.2) calls=0 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=8/ad9d3b964ec6673e models=08f44b07b5901a25 events=19/5e2f56d45d4a29bc
        mcts-stop-at-3: interrupted trials=8 best=Some(78.2) calls=0 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=9/fc50f43d99c6dc17 models=08f44b07b5901a25 events=22/42a52c2dc095986e
        mcts-stop-at-7: interrupted trials=8 best=Some(78.2) calls=0 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=13/59d2c50b116d5879 models=08f44b07b5901a25 events=30/925fc46fcbf0cf87
        single-llm-stop-at-1: interrupted trials=8 best=Some(78.2) calls=0 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=8/fae8da7a24977950 models=91e369a9d190d97e events=19/dabbddd8dc986cf3
        single-llm-stop-at-3: interrupted trials=8 best=Some(78.2) calls=1 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=9/577aec46f46aba64 models=defc6217ec5906a5 events=23/cb6b53172c11c804
        single-llm-stop-at-7: interrupted trials=8 best=Some(78.2) calls=4 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=13/295972216f872bcc models=29368594dccac232 events=34/41a7aef374f13079
        colt-stop-at-1: interrupted trials=8 best=Some(78.2) calls=0 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=8/c2b40fb4be7cf0ce models=54e631fd80d89c14 events=19/a3ebbb990496a6a5
        colt-stop-at-3: interrupted trials=8 best=Some(78.2) calls=1 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=9/f48cdf53088c978f models=f95e4f8387390e30 events=23/b177a19780cd1ece
        colt-stop-at-7: interrupted trials=8 best=Some(78.2) calls=4 measured=7ab4be0876b758ca records=df2a67c4cde137ae tree=13/9b2eb59ac31bec9d models=f3c16e52d2804857 events=34/826721c0fe4cef42"#]].assert_eq(&lines.join("\n"));
}
