//! Bad paths, foreign and newer databases, bad values: each is one clear error line.

mod common;

use colt_db::{Db, DbError, RunId, SCHEMA_VERSION};
use common::{Scratch, candidate, llm_call, new_run, node};

fn one_line(err: &DbError, path: &std::path::Path) -> String {
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(
        text.starts_with(&format!("database {}:", path.display())),
        "names the file: {text}"
    );
    text
}

#[test]
fn newer_schema_is_refused_with_a_clear_error() {
    let dir = Scratch::new("newer");
    let path = dir.db();
    let db = Db::open(&path).unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();
    drop(db);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE colt_schema SET version = ?1, written_by = 'colt-db 9.0.0'",
        [SCHEMA_VERSION + 1],
    )
    .unwrap();
    drop(raw);
    let err = Db::open(&path).unwrap_err();
    assert!(matches!(err, DbError::NewerSchema { found, supported, .. }
                     if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION));
    let text = one_line(&err, &path);
    assert!(
        text.contains(&format!(
            "schema version {} (by colt-db 9.0.0)",
            SCHEMA_VERSION + 1
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("supports up to version {SCHEMA_VERSION}")),
        "{text}"
    );
    // Refusing did not modify the file: restoring the version makes it readable again.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE colt_schema SET version = ?1", [SCHEMA_VERSION])
        .unwrap();
    drop(raw);
    assert_eq!(
        Db::open(&path).unwrap().run(run).unwrap().spec,
        new_run("matmul", "ci")
    );
}

#[test]
fn foreign_sqlite_database_is_refused() {
    let dir = Scratch::new("foreign");
    let path = dir.path().join("other.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE users (name TEXT);")
        .unwrap();
    let err = Db::open(&path).unwrap_err();
    assert!(matches!(err, DbError::NotColt { .. }));
    assert!(one_line(&err, &path).contains("not a colt tuning database"));
}

#[test]
fn file_that_is_not_sqlite_is_refused() {
    let dir = Scratch::new("garbage");
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "this is a text file, long enough to have a header........................................................").unwrap();
    let err = Db::open(&path).unwrap_err();
    let text = one_line(&err, &path);
    assert!(text.contains("not a database"), "{text}");
}

#[test]
fn bad_paths_are_refused() {
    let dir = Scratch::new("badpath");
    // Parent is a regular file: the directory cannot be created.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "x").unwrap();
    let path = blocker.join("sub/tune.db");
    let err = Db::open(&path).unwrap_err();
    assert!(matches!(err, DbError::CreateDir { .. }));
    let text = one_line(&err, &path);
    assert!(text.contains("cannot create directory"), "{text}");

    // The path is a directory.
    let err = Db::open(dir.path()).unwrap_err();
    assert!(one_line(&err, dir.path()).contains("is a directory"));
}

#[test]
fn unknown_run_is_named() {
    let dir = Scratch::new("norun");
    let path = dir.db();
    let db = Db::open(&path).unwrap();
    let missing = RunId(99);
    let errors = [
        db.run(missing).unwrap_err(),
        db.finish_run(missing, "{}").unwrap_err(),
        db.insert_candidate(missing, &candidate("k", Some(1.0)))
            .unwrap_err(),
        db.insert_llm_call(missing, &llm_call(0, "m", true))
            .unwrap_err(),
        db.upsert_node(missing, &node(0, None)).unwrap_err(),
        db.candidates(missing).unwrap_err(),
        db.model_stats(missing).unwrap_err(),
    ];
    for err in &errors {
        assert!(matches!(err, DbError::NoSuchRun { run: 99, .. }), "{err}");
        assert!(one_line(err, &path).ends_with("run 99 does not exist"));
    }
}

#[test]
fn invalid_values_are_refused_before_writing() {
    let db = Db::open_in_memory().unwrap();
    let run = db.create_run(&new_run("matmul", "ci")).unwrap();

    let mut c = candidate("k", Some(1.0));
    c.trace = "{not json".into();
    let err = db.insert_candidate(run, &c).unwrap_err().to_string();
    assert!(
        err.contains("invalid candidate trace: not valid JSON"),
        "{err}"
    );

    let mut c = candidate("k", Some(1.0));
    c.latency_median_us = Some(f64::NAN);
    let err = db.insert_candidate(run, &c).unwrap_err().to_string();
    assert!(
        err.contains("invalid candidate latency_median_us: NaN is not finite"),
        "{err}"
    );

    let mut call = llm_call(0, "m", true);
    call.input_tokens = u64::MAX;
    let err = db.insert_llm_call(run, &call).unwrap_err().to_string();
    assert!(err.contains("invalid llm call input_tokens"), "{err}");

    let mut call = llm_call(0, "m", true);
    call.action = Some("tile(i)".into());
    assert!(
        db.insert_llm_call(run, &call)
            .unwrap_err()
            .to_string()
            .contains("llm call action")
    );

    let err = db.finish_run(run, "done").unwrap_err().to_string();
    assert!(err.contains("invalid run summary"), "{err}");

    let mut spec = new_run("matmul", "ci");
    spec.trials = u64::MAX;
    assert!(
        db.create_run(&spec)
            .unwrap_err()
            .to_string()
            .contains("invalid trials")
    );

    // Nothing was written by the refused calls.
    assert_eq!(db.candidate_count(run).unwrap(), 0);
    assert!(db.llm_calls(run).unwrap().is_empty());
    assert_eq!(db.list_runs().unwrap().len(), 1);
}
