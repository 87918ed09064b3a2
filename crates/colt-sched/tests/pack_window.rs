//! A partition tail that starts early over a transposing pack (QKᵀ's keys, 77 of them: a
//! 64-lane register tile and a 16-lane tail `[61, 77)`) packs its own window of the keys, so
//! its whole vectors read one block instead of straddling two of the stage's copy, and the
//! stage's copy ends at the cut.

mod common;
use colt_sched::register::VectorTarget;
use colt_sched::{Inst, Schedule, Sketch, apply_trace, mutate, sample_for};
use rand::SeedableRng;
use rand_pcg::Pcg64;

const AVX512: VectorTarget = VectorTarget {
    lanes: 16,
    registers: 32,
};

/// The window packs of a trace: (stage, factor, from).
fn windows(t: &colt_sched::Trace) -> Vec<(String, i64, i64)> {
    t.insts
        .iter()
        .filter_map(|i| match i {
            Inst::Pack {
                stage,
                factor,
                from: Some(from),
                ..
            } => Some((stage.clone(), *factor, *from)),
            _ => None,
        })
        .collect()
}

#[test]
fn early_tails_over_a_transposing_pack_pack_their_own_window() {
    let p = colt_ops::attention(2, 77, 16);
    let mut found = 0;
    for seed in 0..400u64 {
        if found == 4 {
            break;
        }
        let mut rng = Pcg64::seed_from_u64(seed);
        let t = sample_for(&p, Some(AVX512), &mut rng);
        let w = windows(&t);
        if w.is_empty() {
            continue;
        }
        found += 1;
        let sch = Schedule::replay(&p, &t).expect("replays");
        for (stage, factor, from) in &w {
            // a tail of a partitioned stage, whose reads start at `from`, whole vectors wide
            let s = sch.program.stage_index(stage).expect("stage");
            assert!(p.stage_index(stage).is_none(), "{stage} is a tail");
            assert!(*from > 0 && (77 - from) % factor == 0, "{w:?}");
            assert_eq!(factor % AVX512.lanes, 0, "{w:?}\n{}", t.text());
            // the tail reads only the window, block 0 of it
            let text = colt_ir::program_str(&sch.program);
            let line = text
                .lines()
                .find(|l| l.contains(&format!("stage {}:", sch.program.stages[s].name)))
                .expect("the tail's line");
            assert!(
                !line.contains("K["),
                "the tail reads the window only: {line}"
            );
        }
        // the stage's own copy ends with the blocks before the cut: no block for the tail
        let at = t
            .insts
            .iter()
            .find_map(|i| match i {
                Inst::Partition { loop_, at, .. } if loop_ == "j" => Some(*at),
                _ => None,
            })
            .expect("the lanes' partition");
        let main = t
            .insts
            .iter()
            .find_map(|i| match i {
                Inst::Pack {
                    factor, from: None, ..
                } => Some(*factor),
                _ => None,
            })
            .expect("the stage's pack");
        let copy = sch
            .program
            .buffer_by_name("K_pp")
            .expect("the stage's copy");
        let blocks = sch.program.buffer(copy).shape[0];
        assert_eq!(blocks, (at + main - 1) / main, "{}", t.text());
        // the decisions rebuild the trace (the window is derived, not a decision)
        let sk = Sketch::from_trace(&p, &t).expect("sketch form");
        assert_eq!(sk.to_trace(&p).unwrap(), t, "seed {seed}");
        let f = apply_trace(&p, &t).unwrap();
        common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
        if let Some(m) = mutate(&p, &t, &mut rng) {
            let f = apply_trace(&p, &m).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", m.text()));
        }
    }
    assert_eq!(found, 4, "only {found} of 400 samples pack a tail's window");
}

#[test]
fn a_window_must_hold_every_index_the_stage_reads() {
    let p = colt_ops::attention(2, 77, 16);
    let pack = |from| Inst::Pack {
        stage: "qk".into(),
        buffer: "K".into(),
        dim: 1,
        factor: 16,
        from: Some(from),
    };
    let err = Schedule::replay(&p, &trace(&p, vec![pack(8)])).unwrap_err();
    assert!(
        err.to_string().contains("reads dimension 1 before 8"),
        "{err}"
    );
    let err = Schedule::replay(&p, &trace(&p, vec![pack(77)])).unwrap_err();
    assert!(err.to_string().contains("from must be in 0..77"), "{err}");
    // from 0 is the whole dimension: the usual copy, padded
    let f = apply_trace(&p, &trace(&p, vec![pack(0)])).unwrap();
    common::check_equal(&p, &f).unwrap();
}

fn trace(p: &colt_ir::Program, insts: Vec<Inst>) -> colt_sched::Trace {
    let mut t = colt_sched::Trace::new(&p.name);
    t.insts = insts;
    t
}
