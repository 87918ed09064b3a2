//! `partition`: a reduction stage split at a row into itself and a tail stage, each tiled on
//! its own, computes what the naive nest computes; what it cannot split is refused by name.

mod common;

use colt_sched::{Inst, LoopFactors, Schedule, Trace, apply_trace};

fn partition(stage: &str, loop_: &str, at: i64) -> Inst {
    Inst::Partition {
        stage: stage.into(),
        loop_: loop_.into(),
        at,
        from: None,
    }
}

fn split(stage: &str, loop_: &str, factors: Vec<i64>) -> Inst {
    Inst::Split(LoopFactors {
        stage: stage.into(),
        loop_: loop_.into(),
        factors,
    })
}

/// A 10x12x8 matmul partitioned at row 6, the stage tiled with 3 rows and the tail with 4:
/// the two nests together write every element once, and exactly the naive result.
#[test]
fn a_partitioned_matmul_computes_the_naive_result() {
    let p = colt_ops::matmul(10, 12, 8);
    let c = p.stages[0].name.clone();
    let mut t = Trace::new(p.name.clone());
    t.insts = vec![
        partition(&c, "i", 6),
        split(&c, "i", vec![2, 3]),
        split(&format!("{c}_t"), "i", vec![1, 4]),
    ];
    let sch = Schedule::replay(&p, &t).expect("replays");
    assert_eq!(sch.stages[0].tails, [1]);
    assert_eq!(sch.order, vec![0, 1]);
    assert_eq!(
        sch.stages[0].loops[0].extent * sch.stages[0].loops[1].extent,
        6
    );
    let f = apply_trace(&p, &t).expect("lowers");
    common::check_equal(&p, &f).unwrap();
    // the text form names it
    assert_eq!(t.insts[0].text(), format!("partition({c}, i, 6)"));
}

/// A tail that starts before the partition point recomputes the overlap to the same values:
/// a 10x14x8 matmul as columns `[0, 8)` and `[6, 14)`, both 8 wide, equals the naive result;
/// a start after `at` or before 0 is refused.
#[test]
fn an_overlapping_tail_computes_the_naive_result() {
    let p = colt_ops::matmul(10, 14, 8);
    let c = p.stages[0].name.clone();
    let overlap = |at, from| Inst::Partition {
        stage: c.clone(),
        loop_: "j".into(),
        at,
        from: Some(from),
    };
    let mut t = Trace::new(p.name.clone());
    t.insts = vec![
        overlap(8, 6),
        split(&c, "j", vec![1, 8]),
        split(&format!("{c}_t"), "j", vec![1, 8]),
    ];
    let sch = Schedule::replay(&p, &t).expect("replays");
    let tail = sch.stages[0].tails[0];
    assert_eq!(sch.program.stages[tail].iters[1].extent, 8);
    let f = apply_trace(&p, &t).expect("lowers");
    common::check_equal(&p, &f).unwrap();
    assert_eq!(
        t.insts[0].text(),
        format!("partition({c}, j, 8, tail from 6)")
    );
    // it survives the JSON form
    let back: Trace = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
    for (at, from, want) in [(8, 9, "0..=8"), (8, -1, "0..=8")] {
        let mut t = Trace::new(p.name.clone());
        t.insts = vec![overlap(at, from)];
        let e = Schedule::replay(&p, &t).expect_err("refused").to_string();
        assert!(e.contains(want), "{e}");
    }
}

/// Every built-in operator family with a reduction, partitioned at the middle of its first
/// spatial loop (with its producers left at root or inlined as they are), still computes the
/// naive result.
#[test]
fn every_reduction_stage_partitions() {
    let mut partitioned = 0;
    for p in common::workloads() {
        for (s, st) in p.stages.iter().enumerate() {
            let Some(iv) = st.spatial().find(|iv| iv.extent >= 2) else {
                continue;
            };
            if st.reduce.is_none() {
                continue;
            }
            let mut t = Trace::new(p.name.clone());
            t.insts = vec![partition(&st.name, p.var_name(iv.var), iv.extent / 2)];
            let f = apply_trace(&p, &t).unwrap_or_else(|e| panic!("{} stage {s}: {e}", p.name));
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{} stage {s}: {e}", p.name));
            partitioned += 1;
        }
    }
    assert!(partitioned >= 10, "{partitioned}");
}

#[test]
fn partition_refuses_what_it_cannot_split() {
    let p = colt_ops::matmul(10, 12, 8);
    let c = p.stages[0].name.clone();
    let cases = [
        (vec![partition(&c, "k", 4)], "reduces"),
        (vec![partition(&c, "i", 10)], "at must be in 1..10"),
        (vec![partition(&c, "i", 0)], "at must be in 1..10"),
        (vec![partition(&c, "q", 3)], "no loop"),
        (
            // a second partition may follow the first, not a split
            vec![
                partition(&c, "i", 4),
                split(&c, "i", vec![2, 2]),
                partition(&c, "j", 4),
            ],
            "first among",
        ),
        (
            vec![split(&c, "i", vec![2, 5]), partition(&c, "j", 4)],
            "first among",
        ),
    ];
    for (insts, want) in cases {
        let mut t = Trace::new(p.name.clone());
        t.insts = insts;
        let e = Schedule::replay(&p, &t).expect_err("refused").to_string();
        assert!(e.contains(want), "{e}");
    }
    let sm = colt_ops::softmax(4, 16);
    let st = sm
        .stages
        .iter()
        .find(|s| s.reduce.is_none())
        .expect("an elementwise stage");
    let mut t = Trace::new(sm.name.clone());
    let l = sm.var_name(st.iters[0].var).to_string();
    t.insts = vec![partition(&st.name, &l, 2)];
    let e = Schedule::replay(&sm, &t).expect_err("refused").to_string();
    assert!(e.contains("only reduction stages"), "{e}");
}
