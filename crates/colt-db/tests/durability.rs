//! Durability: a writer killed with SIGKILL mid-run loses no record it reported as
//! committed, leaves no duplicate, and leaves a database that a resumed writer continues.
//!
//! The writer is this very test binary re-executed with an environment variable (so the
//! test needs no extra binary target): it replays a deterministic sequence of candidate
//! keys, as a resumed `colt tune` does, and prints `committed <seq> <key> <inserted>`
//! after each insert returns. The parent kills it with SIGKILL after a number of lines.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use colt_db::{CandidateRow, Db, RunId};
use common::{Scratch, candidate, llm_call, new_run, node};

const CHILD_DB: &str = "COLT_DB_TEST_CHILD_DB";
const CHILD_RUN: &str = "COLT_DB_TEST_CHILD_RUN";
const TEST_NAME: &str = "sigkill_mid_run_loses_nothing_and_resume_duplicates_nothing";
/// More than any child gets through before it is killed.
const CHILD_KEYS: u64 = 1_000_000;

fn key(i: u64) -> String {
    format!("key{i:07}")
}

/// Step `i` of the deterministic writer: candidate, then LLM call, then node.
fn write_step(db: &Db, run: RunId, i: u64) -> (CandidateRow, bool) {
    let (row, inserted) = db
        .insert_candidate(run, &candidate(&key(i), Some(1.0 + i as f64)))
        .unwrap();
    db.insert_llm_call(run, &llm_call(i, "small", !i.is_multiple_of(3)))
        .unwrap();
    let mut n = node(i, i.checked_sub(1));
    n.visits = i;
    db.upsert_nodes(run, &[n]).unwrap();
    (row, inserted)
}

/// The writer: deterministic replay from step 0; every write is idempotent.
fn child(path: &str, run: i64) -> ! {
    let db = Db::open(path).expect("child opens db");
    let run = RunId(run);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for i in 0..CHILD_KEYS {
        let (row, inserted) = write_step(&db, run, i);
        writeln!(
            out,
            "committed {} {} {}",
            row.seq, row.candidate.key, inserted
        )
        .unwrap();
        out.flush().unwrap();
    }
    std::process::exit(0);
}

/// Spawn a writer, let it report `new_commits` fresh inserts, SIGKILL it, and return
/// every (key -> seq) it reported, including lines still in the pipe after the kill.
fn run_and_kill(path: &Path, run: RunId, new_commits: usize) -> BTreeMap<String, u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .env(CHILD_RUN, run.0.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = BTreeMap::new();
    let mut fresh = 0;
    let record = |line: &str, reported: &mut BTreeMap<String, u64>| -> bool {
        let Some(rest) = line.strip_prefix("committed ") else {
            return false;
        };
        let parts: Vec<&str> = rest.split(' ').collect();
        let seq: u64 = parts[0].parse().unwrap();
        assert!(
            reported.insert(parts[1].to_string(), seq).is_none(),
            "child reported {line} twice"
        );
        parts[2] == "true"
    };
    while fresh < new_commits {
        let line = lines
            .next()
            .expect("child ended before being killed")
            .unwrap();
        if record(&line, &mut reported) {
            fresh += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    for line in lines {
        // A line cut by the kill cannot be "committed a b c" with a valid seq; skip partials.
        let line = line.unwrap_or_default();
        if line.split(' ').count() == 4 {
            record(&line, &mut reported);
        }
    }
    reported
}

/// The stored candidates are dense (seq 0..n), unique by key, and include every
/// reported record with the reported seq. Returns n.
fn check_consistent(db: &Db, run: RunId, reported: &BTreeMap<String, u64>) -> u64 {
    db.check_integrity().unwrap();
    let rows = db.candidates(run).unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as u64, "seqs are dense");
        assert_eq!(
            row.candidate.key,
            key(i as u64),
            "deterministic replay order kept"
        );
    }
    let by_key = db.measured_by_key(run).unwrap();
    assert_eq!(by_key.len(), rows.len(), "no duplicate keys");
    for (k, seq) in reported {
        let row = by_key.get(k).unwrap_or_else(|| panic!("reported {k} lost"));
        assert_eq!(row.seq, *seq, "{k} kept its seq");
    }
    let n = rows.len() as u64;
    // Calls and nodes were written after the candidate, so each has at least n - 1 rows.
    let calls = db.llm_calls(run).unwrap();
    assert!(calls.len() as u64 + 1 >= n);
    assert!(
        calls
            .iter()
            .enumerate()
            .all(|(i, c)| c.call.seq == i as u64)
    );
    let nodes = db.nodes(run).unwrap();
    assert!(nodes.len() as u64 + 1 >= n);
    assert!(nodes.iter().all(|nd| nd.visits == nd.node_id));
    n
}

#[test]
fn sigkill_mid_run_loses_nothing_and_resume_duplicates_nothing() {
    if let (Ok(path), Ok(run)) = (std::env::var(CHILD_DB), std::env::var(CHILD_RUN)) {
        child(&path, run.parse().unwrap());
    }
    let dir = Scratch::new("durability");
    let path = dir.db();
    let run = Db::open(&path)
        .unwrap()
        .create_run(&new_run("matmul", "ci"))
        .unwrap();

    // First writer: killed after 40 fresh commits.
    let first = run_and_kill(&path, run, 40);
    assert!(first.len() >= 40);
    let n1 = check_consistent(&Db::open(&path).unwrap(), run, &first);
    assert!(n1 >= first.len() as u64);

    // Second writer resumes (replays from key 0): every old key is found, not re-added;
    // killed after 25 more fresh commits.
    let second = run_and_kill(&path, run, 25);
    for (k, seq) in &first {
        assert_eq!(
            second.get(k),
            Some(seq),
            "resume found {k} at its original seq"
        );
    }
    let n2 = check_consistent(&Db::open(&path).unwrap(), run, &second);
    assert!(n2 >= n1 + 25);
    eprintln!(
        "first writer reported {}, stored {n1}; second reported {}, stored {n2}",
        first.len(),
        second.len()
    );

    // Finish in-process: replay everything plus 10 new keys.
    let db = Db::open(&path).unwrap();
    for i in 0..n2 + 10 {
        let (row, inserted) = write_step(&db, run, i);
        assert_eq!((row.seq, inserted), (i, i >= n2));
    }
    assert_eq!(check_consistent(&db, run, &second), n2 + 10);
}
