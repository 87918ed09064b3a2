//! Model runs (`colt model tune`): created with their task runs in one transaction,
//! tasks and rounds read back in order, round inserts idempotent, status and summary.

mod common;

use colt_db::{Db, DbError, ModelRound, ModelRunId, NewModelRun, NewModelTask, RunId, RunStatus};
use common::{Scratch, new_run};

fn spec() -> NewModelRun {
    NewModelRun {
        model: "/models/cnn.onnx".into(),
        model_hash: "3fa2b1c4d5e6".into(),
        shapes: r#"{"x":[1,3,32,32]}"#.into(),
        strategy: "evolutionary".into(),
        seed: u64::MAX - 1,
        trials: 256,
        config: "[search]\nbatch_size = 4\n".into(),
        versions: "colt 0.1.0".into(),
        target: "Test CPU (2 cores, x86_64)".into(),
    }
}

fn task(kernel: u64, workload: &str) -> NewModelTask {
    NewModelTask {
        kernel,
        run: new_run(workload, "ci"),
        label: "Conv+Relu".into(),
        count: kernel + 1,
    }
}

fn round(seq: u64, kernel: u64, best: Option<f64>) -> ModelRound {
    ModelRound {
        seq,
        kernel,
        trials: 8 * (seq + 1),
        best_us: best,
        at_ms: 0,
    }
}

#[test]
fn a_model_run_is_created_with_its_task_runs() {
    let dir = Scratch::new("model-runs");
    let db = Db::open(dir.db()).unwrap();
    let before = db.create_run(&new_run("matmul", "ci")).unwrap();
    let (id, tasks) = db
        .create_model_run(
            &spec(),
            &[task(0, "/specs/a.toml"), task(2, "/specs/b.toml")],
        )
        .unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].run, RunId(before.0 + 1));
    assert_eq!(db.run(tasks[1].run).unwrap().spec.workload, "/specs/b.toml");
    let row = db.model_run(id).unwrap();
    assert_eq!(row.spec, spec(), "seed u64::MAX-1 and the config survive");
    assert_eq!(row.status, RunStatus::Running);
    assert_eq!(db.model_tasks(id).unwrap(), tasks);
    db.set_model_task_naive(id, 2, 41.5).unwrap();
    assert_eq!(db.model_tasks(id).unwrap()[1].naive_us, Some(41.5));
    assert!(db.set_model_task_naive(id, 1, 3.0).is_err(), "no task 1");
    assert_eq!(
        db.list_model_runs().unwrap(),
        vec![db.model_run(id).unwrap()]
    );
}

#[test]
fn rounds_are_stored_once_in_order() {
    let dir = Scratch::new("model-rounds");
    let db = Db::open(dir.db()).unwrap();
    let (id, _) = db.create_model_run(&spec(), &[task(0, "a.toml")]).unwrap();
    assert!(db.insert_model_round(id, &round(0, 0, None)).unwrap());
    assert!(db.insert_model_round(id, &round(1, 0, Some(12.5))).unwrap());
    // A resumed run replays round 1 with what it measures now: the stored one stays.
    assert!(!db.insert_model_round(id, &round(1, 0, Some(99.0))).unwrap());
    let rounds = db.model_rounds(id).unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!((rounds[1].seq, rounds[1].best_us), (1, Some(12.5)));
    assert!(rounds[1].at_ms > 0);
    assert!(
        db.insert_model_round(id, &round(2, 0, Some(f64::NAN)))
            .is_err()
    );
}

#[test]
fn status_summary_and_missing_runs() {
    let dir = Scratch::new("model-status");
    let db = Db::open(dir.db()).unwrap();
    let (id, _) = db.create_model_run(&spec(), &[]).unwrap();
    db.set_model_status(id, RunStatus::Killed).unwrap();
    assert_eq!(db.model_run(id).unwrap().status, RunStatus::Killed);
    assert!(db.finish_model_run(id, "not json").is_err());
    db.finish_model_run(id, r#"{"trials": 256}"#).unwrap();
    let row = db.model_run(id).unwrap();
    assert_eq!(row.status, RunStatus::Finished);
    assert_eq!(row.summary.as_deref(), Some(r#"{"trials": 256}"#));
    let missing = ModelRunId(id.0 + 7);
    let e = db.model_run(missing).unwrap_err();
    assert!(matches!(e, DbError::NoSuchModelRun { run, .. } if run == missing.0));
    assert!(e.to_string().contains("model run"), "{e}");
    assert!(db.model_tasks(missing).is_err());
    assert!(db.insert_model_round(missing, &round(0, 0, None)).is_err());
}

#[test]
fn a_failed_creation_leaves_nothing_behind() {
    let dir = Scratch::new("model-atomic");
    let db = Db::open(dir.db()).unwrap();
    let mut bad = task(1, "b.toml");
    bad.run.config = String::new();
    bad.run.trials = u64::MAX; // cannot be stored: the whole creation is refused
    assert!(
        db.create_model_run(&spec(), &[task(0, "a.toml"), bad])
            .is_err()
    );
    assert!(db.list_model_runs().unwrap().is_empty());
    assert!(db.list_runs().unwrap().is_empty());
}

#[test]
fn the_naive_latency_on_record_is_the_latest() {
    let dir = Scratch::new("model-naive");
    let db = Db::open(dir.db()).unwrap();
    let filter = colt_db::BestFilter::new("/specs/a.toml", "tensor").scale("ci");
    assert_eq!(db.recorded_naive_us(&filter).unwrap(), None);
    let plain = db.create_run(&new_run("/specs/a.toml", "ci")).unwrap();
    db.finish_run(plain, r#"{"naive_gcc_us": 40.0}"#).unwrap();
    assert_eq!(db.recorded_naive_us(&filter).unwrap(), Some(40.0));
    let (id, tasks) = db
        .create_model_run(&spec(), &[task(0, "/specs/a.toml")])
        .unwrap();
    assert_eq!(
        db.recorded_naive_us(&filter).unwrap(),
        Some(40.0),
        "not measured yet"
    );
    db.set_model_task_naive(id, 0, 35.0).unwrap();
    assert_eq!(db.recorded_naive_us(&filter).unwrap(), Some(35.0));
    db.finish_run(tasks[0].run, r#"{"naive_gcc_us": null, "best_us": 3.0}"#)
        .unwrap();
    assert_eq!(db.recorded_naive_us(&filter).unwrap(), Some(35.0));
    let other = colt_db::BestFilter::new("/specs/b.toml", "tensor");
    assert_eq!(db.recorded_naive_us(&other).unwrap(), None);
}
