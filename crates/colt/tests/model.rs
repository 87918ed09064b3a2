//! `colt model tune | build | bench` on the committed MLP (three kernels), offline: a tune
//! with a small budget killed with `kill -9` and resumed (every round and measurement on
//! record once, the replayed rounds the same), a build from the database's best kernels
//! that still matches ONNX Runtime's stored outputs, a bench without the ONNX Runtime
//! virtualenv, and the one-line refusals.

#[path = "../../colt-onnx/tests/common/mod.rs"]
mod common;

use assert_cmd::Command;
use colt_db::{Db, ModelRunId, RunStatus};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn mlp() -> PathBuf {
    common::models_dir().join("mlp.onnx")
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-model-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// colt with its own cache and no ONNX Runtime virtualenv.
fn colt(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("colt").unwrap();
    c.env("COLT_CACHE", dir.join("cache"))
        .env("COLT_ONNX_VENV", dir.join("no-venv"));
    c
}

/// Rounds of two trials, so a small budget has several.
fn config(dir: &Path) -> PathBuf {
    let p = dir.join("colt.toml");
    std::fs::write(&p, "[search]\nbatch_size = 2\n").unwrap();
    p
}

/// The arguments of a 16-trial random tune of the MLP into `db`.
fn tune_args(dir: &Path, db: &Path) -> Vec<String> {
    let mut a: Vec<String> = ["model", "tune"].map(String::from).to_vec();
    a.push(mlp().display().to_string());
    for s in [
        "--shape",
        "x=4,64",
        "--trials",
        "16",
        "--strategy",
        "random",
    ] {
        a.push(s.into());
    }
    for s in ["--seed", "3", "--json", "--config"] {
        a.push(s.into());
    }
    a.push(config(dir).display().to_string());
    a.push("--db".into());
    a.push(db.display().to_string());
    a
}

fn ok_json(c: &mut Command) -> Value {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// One error line on stderr containing `want`.
fn refused(c: &mut Command, want: &str) {
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(want), "{err}");
}

/// Every candidate of `db`'s runs, by run.
fn candidates(db: &Db) -> Vec<Vec<colt_db::CandidateRow>> {
    let runs = db.list_runs().unwrap();
    runs.iter().map(|r| db.candidates(r.id).unwrap()).collect()
}

/// A tuned MLP database shared by the build and bench tests: (directory, database).
fn tuned() -> &'static (PathBuf, PathBuf) {
    static TUNED: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    TUNED.get_or_init(|| {
        let dir = tempdir("tuned");
        let db = dir.join("r.db");
        let v = ok_json(colt(&dir).args(tune_args(&dir, &db)));
        assert_eq!(v["trials"], 16, "{v}");
        (dir, db)
    })
}

#[test]
fn a_killed_model_tune_resumes_with_every_record_once() {
    let dir = tempdir("resume");
    let db_path = dir.join("r.db");
    let bin = assert_cmd::cargo::cargo_bin("colt");
    let mut child = std::process::Command::new(&bin)
        .args(tune_args(&dir, &db_path))
        .env("COLT_CACHE", dir.join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(Instant::now() < deadline, "the run never measured 9 trials");
        let n: usize = Db::open(&db_path)
            .ok()
            .and_then(|db| db.list_runs().ok().map(|_| candidates(&db)))
            .map_or(0, |c| c.iter().map(Vec::len).sum());
        if n >= 9 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let db = Db::open(&db_path).unwrap();
    let id = ModelRunId(1);
    let (before, rounds_before) = (candidates(&db), db.model_rounds(id).unwrap());
    assert!(
        before.iter().map(Vec::len).sum::<usize>() < 16,
        "killed too late"
    );

    // Another budget is refused; the recorded one is resumed.
    let m = mlp().display().to_string();
    let (d, r1) = (db_path.display().to_string(), "1".to_string());
    refused(
        colt(&dir).args([
            "model", "tune", "--resume", &r1, "--trials", "8", "--db", &d,
        ]),
        "--trials 8 conflicts with model run 1",
    );
    let v = ok_json(colt(&dir).args(["model", "tune", &m, "--resume", &r1, "--db", &d, "--json"]));
    assert_eq!(
        (v["trials"].as_u64(), v["budget"].as_u64()),
        (Some(16), Some(16)),
        "{v}"
    );
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    let after = candidates(&db);
    for (t, c) in tasks.iter().zip(&after) {
        assert!(
            t["trials"].as_u64().unwrap() >= 2,
            "every kernel warmed up: {t}"
        );
        assert_eq!(c.len() as u64, t["trials"].as_u64().unwrap(), "{t}");
        let mut keys: Vec<&str> = c.iter().map(|r| r.candidate.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), c.len(), "a measurement recorded twice");
        assert!(c.iter().enumerate().all(|(i, r)| r.seq == i as u64));
    }
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(
            old[..],
            new[..old.len()],
            "a record from before the kill changed"
        );
    }
    let rounds = db.model_rounds(id).unwrap();
    assert_eq!(rounds[..rounds_before.len()], rounds_before[..]);
    assert_eq!(
        rounds.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (0..rounds.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(db.model_run(id).unwrap().status, RunStatus::Finished);
    for t in db.model_tasks(id).unwrap() {
        assert_eq!(db.run(t.run).unwrap().status, RunStatus::Finished);
        assert!(t.naive_us.is_some());
    }
    refused(
        colt(&dir).args(["model", "tune", "--resume", &r1, "--db", &d]),
        "model run 1 is finished",
    );
}

#[test]
fn the_tuned_build_matches_onnx_runtime() {
    let (dir, db) = tuned();
    let out = dir.join("build");
    let v = ok_json(
        colt(dir)
            .args(["model", "build"])
            .arg(mlp())
            .args(["--shape", "x=4,64", "--json", "--db"])
            .arg(db)
            .arg("--out")
            .arg(&out),
    );
    let choices = v["choices"].as_array().unwrap();
    let tuned = choices.iter().filter(|c| c["source"] == "tuned").count();
    assert_eq!(v["tuned"].as_u64(), Some(tuned as u64), "{v}");
    assert!(tuned >= 1, "no tuned kernel beat its naive nest: {v}");
    for c in choices.iter().filter(|c| c["source"] == "tuned") {
        assert!(
            c["best_us"].as_f64().unwrap() < c["naive_us"].as_f64().unwrap(),
            "{c}"
        );
    }
    let (m, r) = common::model("mlp");
    common::link_driver(&out);
    let x = r.get("x").unwrap().data.clone();
    let got = common::run_driver(&m, &out, &[x], true);
    let e = common::rel_err(&got[0], &r.role("output")[0].data);
    assert!(e <= 1e-4, "the tuned MLP is off by {e:.2e}");
}

#[test]
fn the_bench_times_both_builds_without_onnx_runtime() {
    let (dir, db) = tuned();
    let v = ok_json(
        colt(dir)
            .args(["model", "bench"])
            .arg(mlp())
            .args([
                "--shape",
                "x=4,64",
                "--rounds",
                "2",
                "--repeats",
                "3",
                "--min-repeat-ms",
                "0.2",
                "--json",
                "--db",
            ])
            .arg(db),
    );
    assert_eq!(v["reference"], "colt interpreter", "{v}");
    assert!(
        v["onnxruntime"]
            .as_str()
            .unwrap()
            .contains("scripts/setup-onnxruntime"),
        "{v}"
    );
    let c = v["contenders"].as_array().unwrap();
    let names: Vec<&str> = c.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["colt-untuned", "colt-tuned"]);
    for c in c {
        assert_eq!(c["rounds_us"].as_array().unwrap().len(), 2, "{c}");
        assert!(c["median_us"].as_f64().unwrap() > 0.0);
        assert!(c["max_rel_err"].as_f64().unwrap() <= 1e-4, "{c}");
    }
    let shares: f64 = v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["share_tuned"].as_f64())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9, "{v}");
}

#[test]
fn model_tune_refusals_are_one_line() {
    let dir = tempdir("refusals");
    let db = dir.join("r.db");
    let mut a = tune_args(&dir, &db);
    let t = a.iter().position(|x| x == "--trials").unwrap();
    a[t + 1] = "4".into();
    refused(colt(&dir).args(&a), "cannot hold the warm-up");
    refused(
        colt(&dir).args(["model", "tune", "--db"]).arg(&db),
        "give the ONNX model",
    );
    a[t + 1] = "16".into();
    let s = a.iter().position(|x| x == "random").unwrap();
    a[s] = "annealing".into();
    refused(colt(&dir).args(&a), "unknown strategy");
    assert!(!db.exists() || Db::open(&db).unwrap().list_model_runs().unwrap().is_empty());
}
