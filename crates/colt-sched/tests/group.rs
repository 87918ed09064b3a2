//! Compute-with groups: sampled groups compute the reference's values and keep the
//! temporaries between their stages local; illegal groups are refused with a clear line.

mod common;

use colt_ir::IterKind::Spatial as S;
use colt_ir::{BufKind, Idx, Program, Value};
use colt_sched::{
    Inst, Schedule, Sketch, Trace, VectorTarget, apply_trace, try_sample, try_sample_for,
};
use rand::SeedableRng;
use rand_pcg::Pcg64;

fn grouped(t: &Trace) -> bool {
    t.insts
        .iter()
        .any(|i| matches!(i, Inst::ComputeWith { .. }))
}

/// Sampled attention schedules: about one in three computes the run of stages as a group;
/// every one matches the naive nest, round-trips through its sketch, and the group's scores
/// and exponentials are one slice of heads, local to the shared loop.
#[test]
fn sampled_attention_groups_match_naive_and_keep_the_scores_local() {
    let p = colt_ops::attention(4, 12, 8);
    let target = VectorTarget {
        lanes: 8,
        registers: 16,
    };
    let mut groups = 0;
    for seed in 0..60 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let t = if seed % 2 == 0 {
            try_sample(&p, &mut rng)
        } else {
            try_sample_for(&p, Some(target), &mut rng)
        }
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let f = apply_trace(&p, &t).unwrap();
        common::check_equal(&p, &f).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let sk = Sketch::from_trace(&p, &t).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(sk.to_trace(&p).unwrap(), t, "seed {seed}");
        if grouped(&t) {
            groups += 1;
            let local = |name: &str| {
                f.buffers
                    .iter()
                    .find(|b| b.name == name)
                    .map(|b| (b.kind, b.shape[0]))
            };
            // the first stage of the run (qk) leads; whichever members stayed at root share
            // its loop, and S is local whenever rowmax and exp both run in the group
            let sch = Schedule::replay(&p, &t).unwrap();
            let qk = sch.stage_index("qk").unwrap();
            let members = sch.group(qk);
            assert!(members.len() >= 2, "seed {seed}: {members:?}");
            let slice = 4 / sch.stages[qk].loops[0].extent;
            let names: Vec<&str> = members
                .iter()
                .map(|&m| sch.program.stages[m].name.as_str())
                .collect();
            let readers_of_s = ["rowmax", "exp"]
                .iter()
                .filter(|n| {
                    sch.stages[sch.stage_index(n).unwrap()].attach != colt_sched::Attach::Inline
                })
                .all(|n| names.contains(n));
            if readers_of_s {
                assert_eq!(local("S_g"), Some((BufKind::Local, slice)), "seed {seed}");
            }
        }
    }
    assert!(
        (8..=40).contains(&groups),
        "{groups} of 60 sampled schedules grouped"
    );
}

/// Other batched workloads sample groups that match the naive nest, where grouping can
/// save traffic (an MLP over a few tokens, whose slices would each read the weights, has none).
#[test]
fn sampled_groups_match_naive_on_batched_workloads() {
    for p in [
        colt_ops::softmax(6, 16),
        colt_ops::rmsnorm(6, 16, 1e-6),
        colt_ops::moe_experts(2, 4, 8, 4),
        colt_ops::swiglu_mlp(4, 8, 12),
    ] {
        let mut groups = 0;
        for seed in 0..40 {
            let mut rng = Pcg64::seed_from_u64(seed);
            let t = try_sample(&p, &mut rng).unwrap_or_else(|e| panic!("{} {seed}: {e}", p.name));
            common::check_equal(&p, &apply_trace(&p, &t).unwrap())
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", p.name));
            groups += grouped(&t) as usize;
        }
        let runs = colt_sched::batch::batched_runs(&p);
        assert_eq!(groups > 0, !runs.is_empty(), "{}: {groups} groups", p.name);
    }
}

/// `T[i, j] = 2 A[i, j]; O[i, j] = T[j, i]`: row `i` of `O` needs column `i` of `T`, which
/// one iteration over rows of `T` does not write.
fn transpose_chain() -> Program {
    let mut p = Program::new("tchain");
    let a = p.add_buffer("A", vec![4, 4], BufKind::Input);
    let t = p.add_buffer("T", vec![4, 4], BufKind::Temp);
    let o = p.add_buffer("O", vec![4, 4], BufKind::Output);
    let ld = |b, i: &Idx, j: &Idx| Value::load(b, vec![i.clone(), j.clone()]);
    p.add_stage("scale", &[("i", 4, S), ("j", 4, S)], |x| {
        (
            t,
            None,
            Value::bin(colt_ir::BinOp::Mul, ld(a, &x[0], &x[1]), Value::Const(2.0)),
        )
    });
    p.add_stage("flip", &[("i", 4, S), ("j", 4, S)], |x| {
        (o, None, ld(t, &x[1], &x[0]))
    });
    p
}

#[test]
fn a_group_reading_past_its_iteration_is_refused() {
    let p = transpose_chain();
    let t = Trace {
        version: colt_sched::TRACE_VERSION,
        workload: p.name.clone(),
        insts: vec![Inst::ComputeWith {
            stage: "flip".into(),
            with: "scale".into(),
        }],
    };
    let err = apply_trace(&p, &t).unwrap_err().to_string();
    assert!(err.contains("reads of T reach past"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    // the same chain without the transpose is fine, and T becomes one row
    let mut q = transpose_chain();
    let flip = q.stage_index("flip").unwrap();
    let (i, j) = (q.stages[flip].iters[0].var, q.stages[flip].iters[1].var);
    let tb = q.buffer_by_name("T").unwrap();
    q.stages[flip].value = Value::load(tb, vec![Idx::Var(i), Idx::Var(j)]);
    let f = apply_trace(&q, &t).unwrap();
    common::check_equal(&q, &f).unwrap();
    let tg = f.buffers.iter().find(|b| b.name == "T_g").expect("T local");
    assert_eq!(tg.shape, vec![1, 4]);
}

#[test]
fn compute_with_errors_name_the_problem() {
    let p = colt_ops::attention(2, 4, 8);
    let cases: [(&[Inst], &str); 4] = [
        (
            &[Inst::ComputeWith {
                stage: "rowmax".into(),
                with: "nope".into(),
            }],
            "no stage named \"nope\"",
        ),
        (
            &[Inst::ComputeWith {
                stage: "qk".into(),
                with: "qk".into(),
            }],
            "cannot be computed with itself",
        ),
        (
            &[Inst::ComputeWith {
                stage: "qk".into(),
                with: "rowmax".into(),
            }],
            "runs before rowmax's group",
        ),
        (
            &[
                Inst::Split(colt_sched::LoopFactors {
                    stage: "rowmax".into(),
                    loop_: "h".into(),
                    factors: vec![1, 2],
                }),
                Inst::ComputeWith {
                    stage: "rowmax".into(),
                    with: "qk".into(),
                },
            ],
            "differ in extent (1 and 2)",
        ),
    ];
    for (insts, want) in cases {
        let t = Trace {
            version: colt_sched::TRACE_VERSION,
            workload: p.name.clone(),
            insts: insts.to_vec(),
        };
        let err = apply_trace(&p, &t).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

/// Mutants of a grouped attention schedule match the naive nest; tile and parallel
/// mutations keep the group, the structure mutator can undo it, and it groups an ungrouped
/// schedule.
#[test]
fn mutants_keep_or_toggle_the_group_and_match_naive() {
    use colt_sched::mutate::{MutatorProbs, mutate_with};
    let p = colt_ops::attention(4, 12, 8);
    let sample = |want: bool| {
        (0..200)
            .find_map(|seed| {
                let t = try_sample(&p, &mut Pcg64::seed_from_u64(seed)).ok()?;
                (grouped(&t) == want).then_some(t)
            })
            .expect("a sample")
    };
    let (with, without) = (sample(true), sample(false));
    let structure = MutatorProbs {
        tile_size: 0.0,
        compute_location: 0.0,
        unroll: 0.0,
        parallel: 0.0,
        structure: 1.0,
    };
    let (mut kept, mut ungrouped, mut regrouped) = (0, 0, 0);
    for seed in 0..40 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let (m, _) = mutate_with(&p, &with, &MutatorProbs::default(), &mut rng).expect("mutant");
        common::check_equal(&p, &apply_trace(&p, &m).unwrap())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        kept += grouped(&m) as usize;
        let (m, _) = mutate_with(&p, &with, &structure, &mut rng).expect("mutant");
        ungrouped += !grouped(&m) as usize;
        let (m, _) = mutate_with(&p, &without, &structure, &mut rng).expect("mutant");
        common::check_equal(&p, &apply_trace(&p, &m).unwrap())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        regrouped += grouped(&m) as usize;
    }
    assert!(kept >= 30, "{kept} of 40 default mutants kept the group");
    assert!(
        ungrouped > 0 && regrouped > 0,
        "{ungrouped} ungrouped, {regrouped} grouped"
    );
}

/// The `group` action: offered on a batched run's first stage with the batch's divisors,
/// groups and ungroups, and refuses what it cannot do in one line.
#[test]
fn the_group_action_groups_ungroups_and_refuses_clearly() {
    use colt_sched::{Action, apply_action, choices};
    let p = colt_ops::attention(4, 12, 8);
    let t = (0..200)
        .find_map(|seed| {
            let t = try_sample(&p, &mut Pcg64::seed_from_u64(seed)).ok()?;
            let roots = Sketch::from_trace(&p, &t)
                .unwrap()
                .stages
                .iter()
                .filter(|d| d.placement == colt_sched::Placement::Root)
                .count();
            (!grouped(&t) && roots >= 4).then_some(t)
        })
        .expect("an ungrouped sample");
    let cs = choices(&p, &t).unwrap();
    let g = cs
        .iter()
        .find(|c| c.name == "group")
        .expect("a group choice");
    assert_eq!(g.fixed["stage"], "qk");
    assert_eq!(
        serde_json::to_value(&g.free["slices"]).unwrap()["one_of"],
        serde_json::json!([0, 2, 4])
    );
    let act = |slices| Action::Group {
        stage: "qk".into(),
        slices,
    };
    let g4 = apply_action(&p, &t, &act(4)).unwrap();
    assert!(grouped(&g4));
    common::check_equal(&p, &apply_trace(&p, &g4).unwrap()).unwrap();
    let again = choices(&p, &g4).unwrap();
    assert_eq!(again.iter().find(|c| c.name == "group").unwrap().current, 4);
    let none = apply_action(&p, &g4, &act(0)).unwrap();
    assert!(!grouped(&none));
    common::check_equal(&p, &apply_trace(&p, &none).unwrap()).unwrap();
    let e = apply_action(&p, &t, &act(3)).unwrap_err().to_string();
    assert!(e.contains("divisor of the batch 4"), "{e}");
    let e = apply_action(
        &p,
        &t,
        &Action::Group {
            stage: "rowmax".into(),
            slices: 2,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not start a run"), "{e}");
}
