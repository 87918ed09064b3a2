//! Differential property tests: sampled (with and without the register-tile prior), mutated
//! and action-edited traces compute what the naive program computes (reference interpreter
//! on both).

mod common;
use colt_sched::{
    VectorTarget, apply_action, apply_trace, mutate, random_action, sketch::try_sample,
    try_sample_for,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_pcg::Pcg64;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sampled_mutated_and_edited_traces_match_naive(w in 0usize..10, seed in any::<u64>()) {
        let p = &common::workloads()[w];
        let mut rng = Pcg64::seed_from_u64(seed);
        // No register prior, and register tiles for 4- and 8-lane targets (the small
        // workloads' loops are 4 to 16 wide).
        let target = [None, Some((4, 16)), Some((8, 16))][(seed % 3) as usize]
            .map(|(lanes, registers)| VectorTarget { lanes, registers });
        let t = try_sample_for(p, target, &mut rng).map_err(|e| TestCaseError::fail(format!("{}: {e}", p.name)))?;
        let f = apply_trace(p, &t).unwrap();
        common::check_equal(p, &f).map_err(|e| TestCaseError::fail(format!("sampled {}: {e}\n{}", p.name, t.text())))?;
        let mut cur = t;
        for _ in 0..3 {
            if let Some(m) = mutate(p, &cur, &mut rng) {
                let f = apply_trace(p, &m).expect("mutants lower");
                common::check_equal(p, &f).map_err(|e| TestCaseError::fail(format!("mutant {}: {e}\n{}", p.name, m.text())))?;
                cur = m;
            }
            if let Some(a) = random_action(p, &cur, &mut rng) {
                let m = apply_action(p, &cur, &a).expect("random actions are validated");
                let f = apply_trace(p, &m).unwrap();
                common::check_equal(p, &f).map_err(|e| TestCaseError::fail(format!("{} {}: {e}\n{}", p.name, a.text(), m.text())))?;
                cur = m;
            }
        }
    }
}

/// Every workload, many seeds: sampling never needs its fallback.
#[test]
fn sampling_never_fails_on_small_workloads() {
    for p in common::workloads() {
        for seed in 0..24 {
            let mut rng = Pcg64::seed_from_u64(seed);
            if let Err(e) = try_sample(&p, &mut rng) {
                panic!("{} seed {seed}: {e}", p.name);
            }
        }
    }
}

/// The named workloads at CI scale sample and lower (not executed: too slow to interpret).
#[test]
fn named_ci_workloads_sample_and_lower() {
    for info in colt_ops::list(colt_ops::Scale::Ci) {
        let p = colt_ops::build(info.name, colt_ops::Scale::Ci).unwrap();
        for seed in 0..4 {
            let mut rng = Pcg64::seed_from_u64(seed);
            let t = try_sample(&p, &mut rng)
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", info.name));
            apply_trace(&p, &t).unwrap();
            if let Some(m) = mutate(&p, &t, &mut rng) {
                apply_trace(&p, &m).unwrap();
            }
        }
    }
}

/// The lowered nest `mutate_lowered` hands back is the one its trace replays to (its key
/// and features stand for the trace's), and it draws the same mutant as `mutate`.
#[test]
fn mutate_lowered_matches_the_replayed_trace() {
    use colt_sched::{func_key, mutate::mutate_lowered, structural_key};
    for info in colt_ops::list(colt_ops::Scale::Ci) {
        let p = colt_ops::build(info.name, colt_ops::Scale::Ci).unwrap();
        for seed in 0..6 {
            let mut rng = Pcg64::seed_from_u64(seed);
            let t = try_sample(&p, &mut rng).unwrap();
            let (mut r1, mut r2) = (rng.clone(), rng.clone());
            let plain = mutate(&p, &t, &mut r1);
            let lowered = mutate_lowered(&p, &t, &mut r2);
            assert_eq!(
                plain,
                lowered.as_ref().map(|(m, _)| m.clone()),
                "{} seed {seed}",
                info.name
            );
            if let Some((m, f)) = lowered {
                assert_eq!(
                    colt_ir::func_str(&f),
                    colt_ir::func_str(&apply_trace(&p, &m).unwrap())
                );
                assert_eq!(func_key(&f), structural_key(&p, &m).unwrap());
            }
        }
    }
}

/// Mutations change decisions, never the skeleton: the mutant has the same stages placed the
/// same way unless compute location was mutated, and tile mutation keeps each loop's extent.
#[test]
fn tile_mutation_keeps_extents() {
    use colt_sched::Sketch;
    use colt_sched::mutate::{MutatorProbs, mutate_with};
    let p = colt_ops::matmul(16, 32, 24);
    let probs = MutatorProbs {
        tile_size: 1.0,
        compute_location: 0.0,
        unroll: 0.0,
        parallel: 0.0,
        structure: 0.0,
    };
    for seed in 0..16 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let t = try_sample(&p, &mut rng).unwrap();
        let (m, _) = mutate_with(&p, &t, &probs, &mut rng).expect("a tile mutant exists");
        let (a, b) = (
            Sketch::from_trace(&p, &t).unwrap(),
            Sketch::from_trace(&p, &m).unwrap(),
        );
        let changed: Vec<_> = a.stages[0]
            .tiles
            .iter()
            .zip(&b.stages[0].tiles)
            .filter(|(x, y)| x != y)
            .collect();
        assert_eq!(changed.len(), 1, "exactly one loop's factors move");
        let (x, y) = changed[0];
        assert_eq!(
            x.factors.iter().product::<i64>(),
            y.factors.iter().product::<i64>()
        );
        assert_eq!(a.stages[0].unroll, b.stages[0].unroll);
    }
}

/// A pack of an input read across the vector lanes' rows (attention's `K` in QK^T, packed to
/// `K_p[j/f, d, f]`) computes what the naive program computes.
#[test]
fn transposing_packs_match_naive() {
    let p = colt_ops::attention(2, 4, 8);
    let target = Some(VectorTarget {
        lanes: 4,
        registers: 16,
    });
    let mut found = 0;
    for seed in 0..200u64 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let Ok(t) = try_sample_for(&p, target, &mut rng) else {
            continue;
        };
        let transposing = t.insts.iter().any(|i| {
            matches!(i, colt_sched::Inst::Pack { dim, buffer, .. }
                if *dim + 1 < p.buffer(p.buffer_by_name(buffer).unwrap()).shape.len())
        });
        if transposing {
            let f = apply_trace(&p, &t).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
            found += 1;
        }
    }
    assert!(found >= 3, "only {found} transposing packs drawn");
}

/// Register tiles whose rows divide no extent partition their stage; sampled with a 4-lane
/// target of 16 registers (rows up to 7 on the small workloads' 4- to 16-row loops), such
/// traces, and their mutants, compute what the naive program computes.
#[test]
fn partitioned_register_tiles_match_naive() {
    let target = Some(VectorTarget {
        lanes: 4,
        registers: 16,
    });
    let mut found = 0;
    for p in common::workloads() {
        for seed in 0..60u64 {
            let mut rng = Pcg64::seed_from_u64(seed);
            let Ok(t) = try_sample_for(&p, target, &mut rng) else {
                continue;
            };
            if !t
                .insts
                .iter()
                .any(|i| matches!(i, colt_sched::Inst::Partition { .. }))
            {
                continue;
            }
            let f = apply_trace(&p, &t).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
            // the tail's instructions are derived: the trace is in sketch form
            let sk = colt_sched::Sketch::from_trace(&p, &t).expect("a sketch-form trace");
            assert!(sk.stages.iter().any(|d| !d.partitions.is_empty()));
            if let Some(m) = mutate(&p, &t, &mut rng) {
                let f = apply_trace(&p, &m).unwrap();
                common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", m.text()));
            }
            found += 1;
        }
    }
    assert!(found >= 10, "only {found} partitioned samples drawn");
}

/// Lane loops that no register width divides (a 6-wide convolution row, a 13-wide product
/// with 4-lane registers) partition the lane loop: such traces, and their mutants, compute
/// what the naive program computes.
#[test]
fn lane_partitioned_register_tiles_match_naive() {
    let target = Some(VectorTarget {
        lanes: 4,
        registers: 16,
    });
    let conv = colt_ops::conv2d(colt_ops::Conv2dShape {
        n: 1,
        c: 3,
        h: 5,
        w: 6,
        f: 4,
        kernel: 3,
        stride: 1,
        pad: 1,
    });
    let mut found = 0;
    for (p, lane) in [(conv, "x"), (colt_ops::matmul(6, 13, 8), "j")] {
        for seed in 0..80u64 {
            let mut rng = Pcg64::seed_from_u64(seed);
            let Ok(t) = try_sample_for(&p, target, &mut rng) else {
                continue;
            };
            let on_lanes = t
                .insts
                .iter()
                .any(|i| matches!(i, colt_sched::Inst::Partition { loop_, .. } if loop_ == lane));
            if !on_lanes {
                continue;
            }
            let f = apply_trace(&p, &t).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
            colt_sched::Sketch::from_trace(&p, &t).expect("a sketch-form trace");
            if let Some(m) = mutate(&p, &t, &mut rng) {
                let f = apply_trace(&p, &m).unwrap();
                common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", m.text()));
            }
            found += 1;
        }
    }
    assert!(found >= 10, "only {found} lane-partitioned samples drawn");
}

/// QK^T at a prime sequence length (ViT's 197 tokens, here 13 with 4-lane registers): the
/// lanes (keys) and the rows (queries) divide into no register tile, so the stage is
/// partitioned twice — lanes, then rows — and `K`, read across the lanes, is packed by a
/// factor that divides no dimension (its copy padded with zeros). Such traces, and their
/// mutants, compute what the naive program computes.
#[test]
fn twice_partitioned_tiles_with_a_padded_pack_match_naive() {
    let p = colt_ops::from_spec_str(
        r#"
name = "qk"

[tensors]
Q = { shape = [2, 13, 8], role = "input" }
K = { shape = [2, 13, 8], role = "input" }
S = { shape = [2, 13, 13], role = "output" }

[[stage]]
compute = "S[h, i, j] += Q[h, i, d] * K[h, j, d]"
"#,
    )
    .unwrap();
    let target = Some(VectorTarget {
        lanes: 4,
        registers: 16,
    });
    let mut found = 0;
    for seed in 0..120u64 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let Ok(t) = try_sample_for(&p, target, &mut rng) else {
            continue;
        };
        let parts: Vec<&str> = t
            .insts
            .iter()
            .filter_map(|i| match i {
                colt_sched::Inst::Partition { loop_, .. } => Some(loop_.as_str()),
                _ => None,
            })
            .collect();
        let padded = t.insts.iter().any(
            |i| matches!(i, colt_sched::Inst::Pack { buffer, factor, .. } if buffer == "K" && 13 % factor != 0),
        );
        if parts != ["j", "i"] || !padded {
            continue;
        }
        let f = apply_trace(&p, &t).unwrap();
        common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
        let sk = colt_sched::Sketch::from_trace(&p, &t).expect("a sketch-form trace");
        assert_eq!(sk.stages[0].partitions.len(), 2);
        if let Some(m) = mutate(&p, &t, &mut rng) {
            let f = apply_trace(&p, &m).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", m.text()));
        }
        found += 1;
    }
    assert!(
        found >= 5,
        "only {found} twice-partitioned samples with a padded pack drawn"
    );
}

/// The structure mutator changes a stage's packed input or write cache and nothing else, its
/// mutants compute the same values, and from any start it reaches both packed and unpacked,
/// cached and uncached schedules (MetaSchedule's mutators never change either).
#[test]
fn structure_mutation_reaches_packing_and_write_caches() {
    use colt_sched::Sketch;
    use colt_sched::mutate::{MutatorProbs, mutate_with};
    let p = colt_ops::matmul(32, 48, 64);
    let probs = MutatorProbs {
        tile_size: 0.0,
        compute_location: 0.0,
        unroll: 0.0,
        parallel: 0.0,
        structure: 1.0,
    };
    let (mut pack_flips, mut cache_flips) = (0, 0);
    for seed in 0..24 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let t = try_sample(&p, &mut rng).unwrap();
        let (m, _) = mutate_with(&p, &t, &probs, &mut rng).expect("a mutant");
        common::check_equal(&p, &apply_trace(&p, &m).unwrap())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let (a, b) = (
            Sketch::from_trace(&p, &t).unwrap(),
            Sketch::from_trace(&p, &m).unwrap(),
        );
        let (x, y) = (&a.stages[0], &b.stages[0]);
        assert_eq!(
            (&x.tiles, x.unroll, x.parallel),
            (&y.tiles, y.unroll, y.parallel)
        );
        let packed = x.pack.as_ref().map(|k| &k.buffer) != y.pack.as_ref().map(|k| &k.buffer);
        let cached = x.cache_write != y.cache_write;
        assert!(
            packed ^ cached,
            "seed {seed}: exactly one of pack and cache changes"
        );
        pack_flips += packed as usize;
        cache_flips += cached as usize;
    }
    assert!(
        pack_flips > 3 && cache_flips > 3,
        "{pack_flips} pack, {cache_flips} cache changes"
    );
}
