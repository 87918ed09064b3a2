//! The sampler and the mutator never make a parallel loop of one iteration (it would run the
//! stage on one core) when the stage offers a wider one: checked on every built-in workload
//! at both scales, the paper-scale SwiGLU among them (2 tokens: a token loop split to one
//! outer iteration was drawn as the parallel loop of its down projection).

use colt_sched::sketch::parallel_choices;
use colt_sched::{Inst, Schedule, Trace, mutate, sample};
use rand::SeedableRng;
use rand_pcg::Pcg64;

/// For each `parallel_outer` of `t`: its stage, the fused extent it got, and the widest
/// fused extent any legal choice at that point would have given.
fn parallel_extents(p: &colt_ir::Program, t: &Trace) -> Vec<(String, i64, i64)> {
    let mut out = vec![];
    for (i, inst) in t.insts.iter().enumerate() {
        let Inst::ParallelOuter { stage, n } = inst else {
            continue;
        };
        let before = Trace {
            insts: t.insts[..i].to_vec(),
            ..t.clone()
        };
        let sch = Schedule::replay(p, &before).expect("a prefix of a drawn trace replays");
        let s = sch
            .program
            .stage_index(stage)
            .expect("a stage of the schedule");
        let fused = |n: usize| sch.stages[s].loops[..n].iter().map(|l| l.extent).product();
        let widest = parallel_choices(&sch, s)
            .into_iter()
            .map(fused)
            .max()
            .unwrap_or(1);
        out.push((stage.clone(), fused(*n), widest));
    }
    out
}

#[test]
fn no_parallel_loop_of_one_iteration_is_drawn_when_a_wider_one_is_legal() {
    let mut checked = 0;
    for scale in [colt_ops::Scale::Ci, colt_ops::Scale::Paper] {
        for w in colt_ops::list(scale) {
            let p = colt_ops::build(w.name, scale).expect("built-in");
            for seed in 0..24u64 {
                let mut rng = Pcg64::seed_from_u64(seed);
                let mut t = sample(&p, &mut rng);
                let mutated = seed % 2 == 1;
                if mutated && let Some(m) = mutate(&p, &t, &mut rng) {
                    t = m;
                }
                for (stage, got, widest) in parallel_extents(&p, &t) {
                    assert!(
                        got > 1 || widest == 1,
                        "{} ({scale:?}) seed {seed} (mutated: {mutated}): stage {stage} got a \
                         parallel loop of one iteration where {widest} were possible",
                        w.name
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} parallel loops drawn");
}
