//! The register-tile prior: with a vector target, samples of every built-in workload at both
//! scales still replay and lower, reduction stages that read contiguously get register tiles
//! (S2 = 1, accumulators within the target's registers, write cache at the S1 loop, rows
//! unrolled, the input read across rows packed) in a good share of the draws.

use colt_sched::register::{VectorTarget, is_register_tile, register_rows};
use colt_sched::sketch::{Sketch, contiguous_inner, transposing_pack};
use colt_sched::{Schedule, sample_for};
use rand::SeedableRng;
use rand_pcg::Pcg64;

const TARGETS: [VectorTarget; 2] = [
    VectorTarget {
        lanes: 16,
        registers: 32,
    },
    VectorTarget {
        lanes: 8,
        registers: 16,
    },
];

#[test]
fn register_tiles_are_drawn_for_every_target_and_always_lower() {
    let (mut eligible, mut register, mut transposed) = (0, 0, 0);
    for scale in [colt_ops::Scale::Ci, colt_ops::Scale::Paper] {
        for w in colt_ops::list(scale) {
            let p = colt_ops::build(w.name, scale).expect("built-in");
            for target in TARGETS {
                for seed in 0..16u64 {
                    let mut rng = Pcg64::seed_from_u64(seed);
                    let t = sample_for(&p, Some(target), &mut rng);
                    assert!(!t.insts.is_empty(), "{} {scale:?}: no sample", w.name);
                    Schedule::replay(&p, &t)
                        .and_then(|s| s.lower().map(|_| ()))
                        .unwrap_or_else(|e| panic!("{} {scale:?} seed {seed}: {e}", w.name));
                    let sk = Sketch::from_trace(&p, &t).expect("a sketch-form trace");
                    for (s, d) in sk.stages.iter().enumerate() {
                        let st = &p.stages[s];
                        let transposing = transposing_pack(&p, s);
                        let reads_ok = contiguous_inner(&p, s) || transposing.is_some();
                        // a reduction put innermost is not a register tile, whatever its factors
                        if st.reduce.is_none() || !reads_ok || d.tiles.is_empty() || d.reduce_inner
                        {
                            continue;
                        }
                        eligible += 1;
                        if is_register_tile(&p, s, &d.tiles, target) {
                            register += 1;
                            // The rows are unrolled, so the accumulators stay in registers.
                            let rows = register_rows(&p, s, &d.tiles);
                            assert!(
                                d.unroll >= rows,
                                "{}: unroll {} < {rows} rows",
                                w.name,
                                d.unroll
                            );
                            // Lanes reading an input across rows pack it.
                            if let Some(b) = &transposing {
                                let packed = d.pack.as_ref().map(|pk| &pk.buffer);
                                assert_eq!(packed, Some(b), "{} stage {s}", w.name);
                                transposed += 1;
                            }
                            // The write cache, when the live schedule took it, is at S1.
                            if let Some(l) = &d.cache_write {
                                assert!(l.ends_with('1'), "{}: cache at {l}", w.name);
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(eligible > 50, "only {eligible} eligible stages");
    // The attention workloads' QK^T reads K across rows: some register tiles pack it.
    assert!(
        transposed > 0,
        "no register tile packed an input read across rows"
    );
    // Half of the eligible stages are drawn as register tiles (where a width divides).
    assert!(
        register * 10 >= eligible * 3,
        "{register} register tiles of {eligible} eligible stages"
    );
}
