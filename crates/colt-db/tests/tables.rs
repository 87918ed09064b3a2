//! Round trips of every table, idempotent inserts, aggregates and `best`.

mod common;

use colt_db::{BestFilter, Db, ModelStats, OutcomeKind, RunId, RunStatus, SourceStats};
use common::{Scratch, candidate, llm_call, new_run, node};
use proptest::prelude::*;

#[test]
fn machine_limits_are_stored_per_key_and_replaced() {
    let dir = Scratch::new("machines");
    let db = Db::open(dir.db()).unwrap();
    assert_eq!(db.machine("cpu-a").unwrap(), None);
    db.put_machine("cpu-a", r#"{"peak_gflops": 100.0}"#)
        .unwrap();
    db.put_machine("cpu-b", r#"{"peak_gflops": 50.0}"#).unwrap();
    db.put_machine("cpu-a", r#"{"peak_gflops": 120.0}"#)
        .unwrap();
    assert_eq!(
        db.machine("cpu-a").unwrap().as_deref(),
        Some(r#"{"peak_gflops": 120.0}"#)
    );
    assert_eq!(
        db.machine("cpu-b").unwrap().as_deref(),
        Some(r#"{"peak_gflops": 50.0}"#)
    );
    assert!(db.put_machine("cpu-c", "not json").is_err());
}

#[test]
fn runs_round_trip_and_finish() {
    let dir = Scratch::new("runs");
    let db = Db::open(dir.db()).unwrap();
    let spec = new_run("matmul", "ci");
    let id = db.create_run(&spec).unwrap();
    let other = db.create_run(&new_run("conv2d", "paper")).unwrap();
    assert!(other > id);

    let row = db.run(id).unwrap();
    assert_eq!(row.id, id);
    assert_eq!(row.spec, spec, "seed u64::MAX-3 and config text survive");
    assert_eq!(row.status, RunStatus::Running);
    assert_eq!(row.finished_at_ms, None);
    assert_eq!(row.summary, None);
    assert!(row.created_at_ms > 0);

    db.finish_run(id, r#"{"best_us": 12.5}"#).unwrap();
    let row = db.run(id).unwrap();
    assert_eq!(row.status, RunStatus::Finished);
    assert!(row.finished_at_ms.unwrap() >= row.created_at_ms);
    assert_eq!(row.summary.as_deref(), Some(r#"{"best_us": 12.5}"#));

    db.set_status(other, RunStatus::Killed).unwrap();
    let list = db.list_runs().unwrap();
    assert_eq!(
        list.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>(),
        vec![(id, RunStatus::Finished), (other, RunStatus::Killed)]
    );

    // Reopening sees the same data.
    drop(db);
    let db = Db::open(dir.db()).unwrap();
    assert_eq!(db.list_runs().unwrap(), list);
}

#[test]
fn candidates_round_trip_in_seq_order_and_insert_is_idempotent() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    let inputs = [
        candidate("k2", Some(30.0)),
        candidate("k0", None),
        candidate("k1", Some(10.0)),
    ];
    for (i, c) in inputs.iter().enumerate() {
        let (row, inserted) = db.insert_candidate(run, c).unwrap();
        assert!(inserted);
        assert_eq!(row.seq, i as u64);
        assert_eq!(&row.candidate, c);
    }
    let stored = db.candidates(run).unwrap();
    assert_eq!(
        stored.iter().map(|r| &r.candidate).collect::<Vec<_>>(),
        inputs.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        stored.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );

    // Same key again, even with different data: no-op, returns the stored row.
    let mut changed = candidate("k0", Some(1.0));
    changed.source = "other".into();
    let (row, inserted) = db.insert_candidate(run, &changed).unwrap();
    assert!(!inserted);
    assert_eq!(row, stored[1]);
    assert_eq!(db.candidates(run).unwrap(), stored);
    assert_eq!(db.candidate_count(run).unwrap(), 3);

    // The same key in another run is a different record.
    let run2 = db.create_run(&new_run("matmul", "ci")).unwrap();
    let (row, inserted) = db.insert_candidate(run2, &changed).unwrap();
    assert!(inserted);
    assert_eq!((row.run, row.seq), (run2, 0));

    let by_key = db.measured_by_key(run).unwrap();
    assert_eq!(
        by_key.keys().cloned().collect::<Vec<_>>(),
        vec!["k0", "k1", "k2"]
    );
    assert_eq!(by_key["k1"], stored[2]);
    assert_eq!(db.best_in_run(run).unwrap().unwrap().candidate.key, "k1");
}

#[test]
fn llm_calls_round_trip_and_insert_is_idempotent() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    let calls = [llm_call(1, "small", false), llm_call(0, "large", true)];
    for c in &calls {
        let (row, inserted) = db.insert_llm_call(run, c).unwrap();
        assert!(inserted);
        assert_eq!(&row.call, c);
        assert_eq!(row.run, run);
    }
    let stored = db.llm_calls(run).unwrap();
    assert_eq!(
        stored.iter().map(|r| r.call.clone()).collect::<Vec<_>>(),
        vec![calls[1].clone(), calls[0].clone()],
        "seq order"
    );
    let (row, inserted) = db
        .insert_llm_call(run, &llm_call(0, "small", false))
        .unwrap();
    assert!(!inserted);
    assert_eq!(row, stored[0]);
    assert_eq!(db.llm_call(run, 1).unwrap().as_ref(), Some(&stored[1]));
    assert_eq!(db.llm_call(run, 7).unwrap(), None);
    assert_eq!(db.llm_calls(run).unwrap().len(), 2);
}

#[test]
fn nodes_upsert_replaces_by_id() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    db.upsert_nodes(run, &[node(2, Some(0)), node(0, None), node(1, Some(0))])
        .unwrap();
    let mut updated = node(1, Some(0));
    updated.visits = 3;
    updated.value = -1.75;
    updated.predicted = Some(0.4);
    updated.measured = Some(11.0);
    updated.terminal = true;
    db.upsert_node(run, &updated).unwrap();
    assert_eq!(
        db.nodes(run).unwrap(),
        vec![node(0, None), updated, node(2, Some(0))]
    );
    let other = db.create_run(&new_run("matmul", "ci")).unwrap();
    assert_eq!(db.nodes(other).unwrap(), vec![]);
}

#[test]
fn upsert_nodes_is_all_or_nothing() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    let mut bad = node(1, Some(0));
    bad.value = f64::NAN;
    let err = db
        .upsert_nodes(run, &[node(0, None), bad])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("node value") && err.contains("not finite"),
        "{err}"
    );
    assert_eq!(db.nodes(run).unwrap(), vec![]);
}

#[test]
fn aggregates_per_model_source_and_run() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    let mut alter = llm_call(2, "large", true);
    alter.role = "course_alteration".into();
    alter.attempts = 3;
    for c in [
        llm_call(0, "small", true),
        llm_call(1, "small", false),
        alter,
    ] {
        db.insert_llm_call(run, &c).unwrap();
    }
    let mut by_llm = candidate("a", Some(20.0));
    by_llm.source = "large".into();
    db.insert_candidate(run, &by_llm).unwrap();
    db.insert_candidate(run, &candidate("b", Some(40.0)))
        .unwrap();
    db.insert_candidate(run, &candidate("c", None)).unwrap();
    db.upsert_nodes(run, &[node(0, None), node(1, Some(0))])
        .unwrap();

    let models = db.model_stats(run).unwrap();
    assert_eq!(models.keys().collect::<Vec<_>>(), vec!["large", "small"]);
    assert_eq!(
        models["small"],
        ModelStats {
            calls: 2,
            ok: 1,
            errors: 1,
            course_alterations: 0,
            input_tokens: 3000,
            cached_tokens: 2048,
            output_tokens: 240,
            cost_usd: 0.0062,
            latency_ms: 1625.0,
            attempts: 2,
        }
    );
    assert_eq!(models["large"].course_alterations, 1);
    assert_eq!(models["large"].attempts, 3);

    let sources = db.source_stats(run).unwrap();
    assert_eq!(
        sources["large"],
        SourceStats {
            proposed: 1,
            ok: 1,
            best_latency_us: Some(20.0)
        }
    );
    assert_eq!(
        sources["evolutionary"],
        SourceStats {
            proposed: 2,
            ok: 1,
            best_latency_us: Some(40.0)
        }
    );

    let stats = db.run_stats(run).unwrap();
    assert_eq!(stats.candidates, 3);
    assert_eq!(
        stats
            .by_outcome
            .iter()
            .map(|(o, n)| (*o, *n))
            .collect::<Vec<_>>(),
        vec![(OutcomeKind::Ok, 2), (OutcomeKind::CompileError, 1)]
    );
    assert_eq!(stats.best_latency_us, Some(20.0));
    assert_eq!((stats.llm_calls, stats.llm_errors), (3, 1));
    assert_eq!(
        (stats.input_tokens, stats.cached_tokens, stats.output_tokens),
        (4500, 3072, 360)
    );
    assert!((stats.cost_usd - 0.0093).abs() < 1e-12);
    assert_eq!(stats.nodes, 2);

    let empty = db.create_run(&new_run("matmul", "ci")).unwrap();
    assert_eq!(db.run_stats(empty).unwrap(), Default::default());
    assert!(db.model_stats(empty).unwrap().is_empty());
}

#[test]
fn best_across_runs_filters_by_workload_space_scale_and_target() {
    let db = Db::open_in_memory().unwrap();
    let ci = db.create_run(&new_run("matmul", "ci")).unwrap();
    let paper = db.create_run(&new_run("matmul", "paper")).unwrap();
    let conv = db.create_run(&new_run("conv2d", "ci")).unwrap();
    db.insert_candidate(ci, &candidate("slow", Some(50.0)))
        .unwrap();
    db.insert_candidate(ci, &candidate("broken", None)).unwrap();
    // A failed candidate with a latency is still not a best.
    let mut wrong = candidate("wrong", Some(1.0));
    wrong.outcome = OutcomeKind::WrongResult;
    db.insert_candidate(ci, &wrong).unwrap();
    db.insert_candidate(paper, &candidate("fast", Some(5.0)))
        .unwrap();
    db.insert_candidate(conv, &candidate("fastest", Some(0.5)))
        .unwrap();

    let key = |f: BestFilter| db.best(&f).unwrap().map(|r| (r.run, r.candidate.key));
    assert_eq!(
        key(BestFilter::new("matmul", "tensor")),
        Some((paper, "fast".into()))
    );
    assert_eq!(
        key(BestFilter::new("matmul", "tensor").scale("ci")),
        Some((ci, "slow".into()))
    );
    assert_eq!(
        key(BestFilter::new("matmul", "tensor").target("x86_64 gcc-14 -O3")),
        Some((paper, "fast".into()))
    );
    assert_eq!(
        key(BestFilter::new("matmul", "tensor").target("other")),
        None
    );
    assert_eq!(key(BestFilter::new("matmul", "llvm")), None);
    assert_eq!(key(BestFilter::new("softmax", "tensor")), None);
}

#[test]
fn best_ties_go_to_the_earliest_run_and_measurement() {
    let db = Db::open_in_memory().unwrap();
    let first = db.create_run(&new_run("matmul", "ci")).unwrap();
    let second = db.create_run(&new_run("matmul", "ci")).unwrap();
    db.insert_candidate(second, &candidate("x", Some(7.0)))
        .unwrap();
    db.insert_candidate(first, &candidate("y", Some(9.0)))
        .unwrap();
    db.insert_candidate(first, &candidate("z", Some(7.0)))
        .unwrap();
    let best = db
        .best(&BestFilter::new("matmul", "tensor"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (best.run, best.seq, best.candidate.key.as_str()),
        (first, 1, "z")
    );
}

#[test]
fn run_id_parses_from_text() {
    assert_eq!("42".parse::<RunId>(), Ok(RunId(42)));
    assert!("0".parse::<RunId>().unwrap_err().contains("'0'"));
    assert!(
        "abc"
            .parse::<RunId>()
            .unwrap_err()
            .contains("not a positive integer")
    );
}

#[test]
fn enum_texts_round_trip() {
    for o in OutcomeKind::ALL {
        assert_eq!(o.as_str().parse::<OutcomeKind>(), Ok(*o));
    }
    for s in RunStatus::ALL {
        assert_eq!(s.as_str().parse::<RunStatus>(), Ok(*s));
    }
    assert_eq!(
        "segfault".parse::<OutcomeKind>().unwrap_err(),
        "unknown outcome 'segfault' (expected one of: ok, wrong_result, crash, timeout, compile_error, schedule_error, opt_error, no_value, bad_latency, missing, unavailable, error)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any sequence of inserts with repeated keys stores each key once, in first-seen
    /// order, with dense seqs; repeats return the first row.
    #[test]
    fn repeated_keys_store_once_in_first_seen_order(keys in prop::collection::vec(0u8..12, 0..40)) {
        let db = Db::open_in_memory().unwrap();
        let run = db.create_run(&new_run("matmul", "ci")).unwrap();
        let mut first_seen: Vec<String> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let key = format!("key{k}");
            let (row, inserted) = db.insert_candidate(run, &candidate(&key, Some(1.0 + i as f64))).unwrap();
            let pos = first_seen.iter().position(|s| *s == key);
            prop_assert_eq!(inserted, pos.is_none());
            match pos {
                Some(p) => prop_assert_eq!(row.seq, p as u64),
                None => { prop_assert_eq!(row.seq, first_seen.len() as u64); first_seen.push(key); }
            }
        }
        let stored = db.candidates(run).unwrap();
        prop_assert_eq!(stored.iter().map(|r| r.candidate.key.clone()).collect::<Vec<_>>(), first_seen);
        prop_assert!(stored.iter().enumerate().all(|(i, r)| r.seq == i as u64));
    }
}
