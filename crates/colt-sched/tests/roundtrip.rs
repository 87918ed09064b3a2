//! Traces as data: JSON round trips, canonical sketch form, determinism, keys.

mod common;
use colt_ir::func_str;
use colt_sched::key::fnv1a;
use colt_sched::{
    Action, LoopFactors, Sketch, StageLoop, Trace, apply_trace, mutate, sample, structural_key,
    trace_key,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_pcg::Pcg64;

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn json_round_trip_gives_identical_program(w in 0usize..10, seed in any::<u64>()) {
        let p = &common::workloads()[w];
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut t = sample(p, &mut rng);
        if let Some(m) = mutate(p, &t, &mut rng) {
            t = m;
        }
        let back = Trace::from_json(&t.to_json()).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(func_str(&apply_trace(p, &back).unwrap()), func_str(&apply_trace(p, &t).unwrap()));
        prop_assert_eq!(trace_key(&back), trace_key(&t));
        // sketch form: decisions rebuild the same instructions
        let sk = Sketch::from_trace(p, &t).unwrap();
        prop_assert_eq!(sk.to_trace(p).unwrap(), t.clone());
        let sk_json = serde_json::to_string(&sk).unwrap();
        prop_assert_eq!(serde_json::from_str::<Sketch>(&sk_json).unwrap(), sk);
    }
}

#[test]
fn same_seed_same_trace_and_different_seeds_differ() {
    let p = colt_ops::matmul(64, 64, 64);
    let draw = |seed| sample(&p, &mut Pcg64::seed_from_u64(seed));
    assert_eq!(draw(7), draw(7));
    let distinct: std::collections::BTreeSet<u64> = (0..32).map(|s| trace_key(&draw(s))).collect();
    assert!(
        distinct.len() >= 28,
        "sampling collapsed to {} distinct traces",
        distinct.len()
    );
    let mut a = Pcg64::seed_from_u64(3);
    let mut b = Pcg64::seed_from_u64(3);
    let t = draw(1);
    assert_eq!(mutate(&p, &t, &mut a), mutate(&p, &t, &mut b));
}

#[test]
fn keys_are_fixed_functions_of_the_text() {
    // FNV-1a 64 test vectors: the key does not depend on the process
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    let p = colt_ops::matmul(8, 16, 12);
    let t = Trace::new("matmul");
    assert_eq!(
        trace_key(&t),
        fnv1a(serde_json::to_string(&t).unwrap().as_bytes())
    );
    assert_eq!(
        structural_key(&p, &t).unwrap(),
        fnv1a(func_str(&apply_trace(&p, &t).unwrap()).as_bytes())
    );
    let u = sample(&p, &mut Pcg64::seed_from_u64(1));
    assert_ne!(trace_key(&t), trace_key(&u));
}

#[test]
fn trace_json_is_pinned() {
    // the stored form of traces (and so their keys): each instruction is its tag, then its
    // fields in order
    let t = Trace::tiled_matmul(64, 4, 16);
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"version":1,"workload":"matmul","insts":["#,
            r#"{"inst":"pack","stage":"matmul","buffer":"B","dim":1,"factor":16},"#,
            r#"{"inst":"split","stage":"matmul","loop":"i","factors":[16,4]},"#,
            r#"{"inst":"split","stage":"matmul","loop":"j","factors":[4,16]},"#,
            r#"{"inst":"reorder","stage":"matmul","order":["j0","i0","k","i1","j1"]},"#,
            r#"{"inst":"parallel","stage":"matmul","loop":"j0"},"#,
            r#"{"inst":"vectorize","stage":"matmul","loop":"j1"},"#,
            r#"{"inst":"unroll","stage":"matmul","loop":"i1"},"#,
            r#"{"inst":"cache_write","stage":"matmul","loop":"i0"},"#,
            r#"{"inst":"parallel","stage":"pack_B","loop":"o"},"#,
            r#"{"inst":"vectorize","stage":"pack_B","loop":"v"}]}"#,
        )
    );
    assert_eq!(trace_key(&t), fnv1a(json.as_bytes()));
}

#[test]
fn actions_round_trip_through_name_and_params() {
    let acts = [
        Action::Tile(LoopFactors {
            stage: "matmul".into(),
            loop_: "j".into(),
            factors: vec![64, 16],
        }),
        Action::Unroll {
            stage: "matmul".into(),
            step: 64,
        },
        Action::Parallel {
            stage: "matmul".into(),
            loops: 2,
        },
        Action::Vectorize {
            stage: "matmul".into(),
            on: true,
        },
        Action::ComputeLocation(StageLoop {
            stage: "pad".into(),
            loop_: "x1".into(),
        }),
        Action::Inline {
            stage: "bias".into(),
        },
        Action::CacheWrite(StageLoop {
            stage: "matmul".into(),
            loop_: "none".into(),
        }),
        Action::Pack {
            stage: "matmul".into(),
            buffer: "B".into(),
            factor: 0,
        },
    ];
    for a in acts {
        let back = Action::from_parts(a.name(), &a.params()).unwrap();
        assert_eq!(back, a);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.starts_with(&format!(r#"{{"action":"{}","stage":"#, a.name())));
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), a);
        assert!(colt_sched::VOCABULARY.iter().any(|v| v.name == a.name()));
    }
}
