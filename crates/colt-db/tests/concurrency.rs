//! WAL concurrency: readers see consistent snapshots while writers append, and two
//! writers on one run take turns (busy timeout) without breaking seq density or dedup.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use colt_db::Db;
use common::{Scratch, candidate, new_run};

#[test]
fn reader_sees_consistent_prefixes_while_two_writers_append() {
    let dir = Scratch::new("concurrent");
    let path = dir.db();
    let run = Db::open(&path)
        .unwrap()
        .create_run(&new_run("matmul", "ci"))
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));

    // Two writers with overlapping key sets (every third key is shared).
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let db = Db::open(&path).unwrap();
                let mut inserted = 0;
                for i in 0..150u64 {
                    let key = if i % 3 == 0 {
                        format!("shared{i}")
                    } else {
                        format!("w{w}-{i}")
                    };
                    if db
                        .insert_candidate(run, &candidate(&key, Some(1.0 + i as f64)))
                        .unwrap()
                        .1
                    {
                        inserted += 1;
                    }
                }
                inserted
            })
        })
        .collect();

    let reader = {
        let path = path.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let db = Db::open(&path).unwrap();
            let mut last = 0;
            let mut snapshots = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let rows = db.candidates(run).unwrap();
                assert!(rows.len() >= last, "a reader never sees records disappear");
                assert!(
                    rows.iter().enumerate().all(|(i, r)| r.seq == i as u64),
                    "dense snapshot"
                );
                last = rows.len();
                snapshots += 1;
                if finished {
                    return (last, snapshots);
                }
            }
        })
    };

    let inserted: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    done.store(true, Ordering::SeqCst);
    let (seen, snapshots) = reader.join().unwrap();
    assert!(snapshots >= 1);

    // 50 shared keys + 2 * 100 private keys, each stored once.
    assert_eq!(inserted, 250);
    assert_eq!(seen, 250);
    let db = Db::open(&path).unwrap();
    assert_eq!(db.measured_by_key(run).unwrap().len(), 250);
    db.check_integrity().unwrap();
}
