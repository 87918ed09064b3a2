//! Illegal primitives and actions are typed errors with a clear one-line message.

use colt_sched::{
    Action, ErrorKind, Inst, LoopFactors, ScheduleError, StageLoop, Trace, apply_action,
    apply_trace, sample,
};
use rand::SeedableRng;
use rand_pcg::Pcg64;

fn s(x: &str) -> String {
    x.to_string()
}

fn run(p: &colt_ir::Program, insts: Vec<Inst>) -> ScheduleError {
    let t = Trace {
        insts,
        ..Trace::new(p.name.clone())
    };
    apply_trace(p, &t).expect_err("must be rejected")
}

fn check(e: &ScheduleError, kind: ErrorKind, needle: &str) {
    assert_eq!(e.kind, kind, "{e}");
    let line = e.to_string();
    assert!(line.contains(needle), "message {line:?} lacks {needle:?}");
    assert!(!line.contains('\n'), "one line: {line:?}");
}

#[test]
fn illegal_primitives_are_typed_errors() {
    let mm = colt_ops::matmul(8, 16, 12);
    let split = |l: &str, f: Vec<i64>| {
        Inst::Split(LoopFactors {
            stage: s("matmul"),
            loop_: s(l),
            factors: f,
        })
    };
    check(
        &run(&mm, vec![Inst::ComputeInline { stage: s("nope") }]),
        ErrorKind::UnknownStage,
        "no stage named \"nope\"",
    );
    check(
        &run(&mm, vec![split("z", vec![2, 4])]),
        ErrorKind::UnknownLoop,
        "has no loop \"z\"",
    );
    check(
        &run(&mm, vec![split("i", vec![3, 3])]),
        ErrorKind::BadDecision,
        "multiply to 9 but loop i has extent 8",
    );
    check(
        &run(&mm, vec![split("i", vec![8])]),
        ErrorKind::BadDecision,
        "at least two factors",
    );
    check(
        &run(&mm, vec![split("i", vec![-2, -4])]),
        ErrorKind::BadDecision,
        "positive",
    );
    check(
        &run(
            &mm,
            vec![Inst::Vectorize(StageLoop {
                stage: s("matmul"),
                loop_: s("i"),
            })],
        ),
        ErrorKind::Illegal,
        "innermost",
    );
    // A reduction loop innermost vectorises (a vector reduction); one fused with an output
    // loop does not.
    let k_inner = |more: Vec<Inst>| {
        let mut v = vec![Inst::Reorder {
            stage: s("matmul"),
            order: vec![s("i"), s("j"), s("k")],
        }];
        v.extend(more);
        Trace {
            insts: v,
            ..Trace::new(mm.name.clone())
        }
    };
    let vec_k = k_inner(vec![Inst::Vectorize(StageLoop {
        stage: s("matmul"),
        loop_: s("k"),
    })]);
    apply_trace(&mm, &vec_k).expect("a reduction loop innermost vectorises");
    let fused = k_inner(vec![
        Inst::Fuse {
            stage: s("matmul"),
            loops: vec![s("j"), s("k")],
        },
        Inst::Vectorize(StageLoop {
            stage: s("matmul"),
            loop_: s("j_k"),
        }),
    ]);
    check(
        &apply_trace(&mm, &fused).expect_err("must be rejected"),
        ErrorKind::Illegal,
        "drives both a reduction and an output index cannot be vectorized",
    );
    check(
        &run(
            &mm,
            vec![Inst::ParallelOuter {
                stage: s("matmul"),
                n: 3,
            }],
        ),
        ErrorKind::Illegal,
        "drives a reduction",
    );
    check(
        &run(
            &mm,
            vec![Inst::ParallelOuter {
                stage: s("matmul"),
                n: 9,
            }],
        ),
        ErrorKind::BadDecision,
        "n must be in 1..=3",
    );
    check(
        &run(&mm, vec![Inst::ComputeInline { stage: s("matmul") }]),
        ErrorKind::Illegal,
        "only elementwise stages",
    );
    check(
        &run(
            &mm,
            vec![Inst::AutoUnroll {
                stage: s("matmul"),
                max_step: 5000,
            }],
        ),
        ErrorKind::BadDecision,
        "max_step",
    );
    check(
        &run(
            &mm,
            vec![Inst::Pack {
                stage: s("matmul"),
                buffer: s("C"),
                dim: 1,
                factor: 4,
                from: None,
            }],
        ),
        ErrorKind::Illegal,
        "only inputs can be packed",
    );
    check(
        &run(
            &mm,
            vec![Inst::Pack {
                stage: s("matmul"),
                buffer: s("B"),
                dim: 1,
                factor: 17,
                from: None,
            }],
        ),
        ErrorKind::BadDecision,
        "is not between 1 and dimension 1 of B (16)",
    );
    check(
        &run(
            &mm,
            vec![Inst::Pack {
                stage: s("matmul"),
                buffer: s("Q"),
                dim: 1,
                factor: 4,
                from: None,
            }],
        ),
        ErrorKind::UnknownBuffer,
        "no buffer named",
    );
    check(
        &run(
            &mm,
            vec![Inst::CacheWrite(StageLoop {
                stage: s("matmul"),
                loop_: s("k"),
            })],
        ),
        ErrorKind::Illegal,
        "must be spatial",
    );

    // compute_at into a stage that is not the consumer
    let sm = colt_ops::softmax(4, 16);
    let e = run(
        &sm,
        vec![Inst::ComputeAt {
            stage: s("max"),
            consumer: s("norm"),
            loop_: s("i"),
        }],
    );
    check(&e, ErrorKind::Illegal, "must be the only consumer");
    let dn = colt_ops::dense(4, 16, 8, None);
    let e = run(
        &dn,
        vec![Inst::ComputeAt {
            stage: s("bias"),
            consumer: s("matmul"),
            loop_: s("i"),
        }],
    );
    check(&e, ErrorKind::Illegal, "only consumer (consumers: none)");
    // a stage used after inlining
    let e = run(
        &sm,
        vec![
            Inst::ComputeInline { stage: s("exp") },
            Inst::ParallelOuter {
                stage: s("exp"),
                n: 1,
            },
        ],
    );
    check(&e, ErrorKind::Illegal, "was inlined");
    // reordering a tile inside out: the initialisation would clobber other tiles
    let e = run(
        &mm,
        vec![
            split("i", vec![2, 4]),
            Inst::Reorder {
                stage: s("matmul"),
                order: vec![s("i1"), s("k"), s("i0"), s("j")],
            },
        ],
    );
    check(&e, ErrorKind::Illegal, "do not form a box");
}

#[test]
fn wrong_workload_and_bad_json_are_rejected() {
    let mm = colt_ops::matmul(8, 16, 12);
    let t = Trace::new("softmax");
    check(
        &apply_trace(&mm, &t).unwrap_err(),
        ErrorKind::WrongTrace,
        "made for workload \"softmax\", not \"matmul\"",
    );
    let e =
        Trace::from_json("{\"version\": 99, \"workload\": \"matmul\", \"insts\": []}").unwrap_err();
    check(&e, ErrorKind::WrongTrace, "version 99 is not supported");
    let e = Trace::from_json(
        "{\"version\": 1, \"workload\": \"matmul\", \"insts\": [{\"inst\": \"explode\"}]}",
    )
    .unwrap_err();
    check(&e, ErrorKind::WrongTrace, "not a valid trace");
}

#[test]
fn illegal_actions_are_typed_errors() {
    let mm = colt_ops::matmul(16, 32, 24);
    let t = sample(&mm, &mut Pcg64::seed_from_u64(5));
    let act = |a: Action| apply_action(&mm, &t, &a).expect_err("must be rejected");
    check(
        &act(Action::Tile(LoopFactors {
            stage: s("matmul"),
            loop_: s("j"),
            factors: vec![5],
        })),
        ErrorKind::BadDecision,
        "does not divide the extent 32",
    );
    check(
        &act(Action::Tile(LoopFactors {
            stage: s("matmul"),
            loop_: s("j"),
            factors: vec![2, 2, 2, 2],
        })),
        ErrorKind::BadDecision,
        "multiply to 16 but loop j has extent 32",
    );
    check(
        &act(Action::Tile(LoopFactors {
            stage: s("matmul"),
            loop_: s("q"),
            factors: vec![2],
        })),
        ErrorKind::UnknownLoop,
        "no tiled loop \"q\"",
    );
    check(
        &act(Action::Tile(LoopFactors {
            stage: s("mm"),
            loop_: s("j"),
            factors: vec![2],
        })),
        ErrorKind::UnknownStage,
        "stages: matmul",
    );
    check(
        &act(Action::Unroll {
            stage: s("matmul"),
            step: 7,
        }),
        ErrorKind::BadDecision,
        "step must be one of",
    );
    check(
        &act(Action::Inline { stage: s("matmul") }),
        ErrorKind::Illegal,
        "can be inlined",
    );
    check(
        &act(Action::ComputeLocation(StageLoop {
            stage: s("matmul"),
            loop_: s("root"),
        })),
        ErrorKind::Illegal,
        "this one reduces",
    );
    check(
        &act(Action::Parallel {
            stage: s("matmul"),
            loops: 5,
        }),
        ErrorKind::Illegal,
        "drives a reduction and cannot run in parallel",
    );
    check(
        &act(Action::CacheWrite(StageLoop {
            stage: s("matmul"),
            loop_: s("k0"),
        })),
        ErrorKind::Illegal,
        "must be spatial",
    );
    check(
        &act(Action::Pack {
            stage: s("matmul"),
            buffer: s("B"),
            factor: 33,
        }),
        ErrorKind::BadDecision,
        "is not between 1 and dimension",
    );
    let e = Action::from_parts("explode", &Default::default()).unwrap_err();
    check(&e, ErrorKind::BadDecision, "unknown action \"explode\"");
    let e = Action::from_parts("tile", &Default::default()).unwrap_err();
    check(&e, ErrorKind::BadDecision, "bad parameters: missing field");
    // a parameter the action does not take is refused, in serde's words
    let params = |v: serde_json::Value| serde_json::from_value(v).unwrap();
    let e = Action::from_parts(
        "tile",
        &params(serde_json::json!({"stage": "matmul", "loop": "i", "factors": [4], "levels": 2})),
    )
    .unwrap_err();
    check(
        &e,
        ErrorKind::BadDecision,
        "bad parameters: unknown field `levels`, expected one of `stage`, `loop`, `factors`",
    );
    let unroll = serde_json::json!({"stage": "matmul", "step": 16, "levels": 2});
    let e = Action::from_parts("unroll", &params(unroll.clone())).unwrap_err();
    let mut tagged = unroll;
    tagged["action"] = "unroll".into();
    let serde_e = serde_json::from_value::<Action>(tagged).unwrap_err();
    assert_eq!(e.msg, format!("bad parameters: {serde_e}"));
    // a hand-written trace outside sketch form still replays but cannot be edited
    let hand = Trace {
        insts: vec![Inst::Fuse {
            stage: s("matmul"),
            loops: vec![s("i"), s("j")],
        }],
        ..Trace::new("matmul")
    };
    apply_trace(&mm, &hand).unwrap();
    let e = apply_action(
        &mm,
        &hand,
        &Action::Unroll {
            stage: s("matmul"),
            step: 16,
        },
    )
    .unwrap_err();
    check(&e, ErrorKind::NotSketch, "not a sketch instruction");
}

#[test]
fn compute_location_action_validates_the_loop() {
    let dn = colt_ops::swiglu_mlp(4, 8, 12);
    let t = sample(&dn, &mut Pcg64::seed_from_u64(2));
    let e = apply_action(
        &dn,
        &t,
        &Action::ComputeLocation(StageLoop {
            stage: s("act"),
            loop_: s("zz"),
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::UnknownLoop | ErrorKind::Illegal),
        "{e}"
    );
    // root always works for an elementwise stage, and the result still computes
    let r = apply_action(
        &dn,
        &t,
        &Action::ComputeLocation(StageLoop {
            stage: s("act"),
            loop_: s("root"),
        }),
    )
    .unwrap();
    apply_trace(&dn, &r).unwrap();
}

/// Hostile traces: a split with 100,001 factors (overflowed the stack), factors whose
/// product wraps past i64 (was accepted as a 7.9e18-iteration loop), and a nest deepened
/// by many splits are each one error line.
#[test]
fn huge_and_overflowing_splits_are_errors() {
    let mm = colt_ops::matmul(8, 16, 12);
    let split = |l: &str, f: Vec<i64>| {
        Inst::Split(LoopFactors {
            stage: s("matmul"),
            loop_: s(l),
            factors: f,
        })
    };
    let mut many = vec![1; 100_000];
    many.push(8);
    check(
        &run(&mm, vec![split("i", many)]),
        ErrorKind::BadDecision,
        "at most 8 loops",
    );
    // 2^62 * 4 * 2 wraps to 0 ... and 2^61 * 2^2 * ... products that wrap back to 8.
    check(
        &run(&mm, vec![split("i", vec![1 << 62, 1 << 62, 2, 8])]),
        ErrorKind::BadDecision,
        "multiply past",
    );
    check(
        &run(&mm, vec![split("i", vec![-(1 << 62), 8, -(1 << 62), 2])]),
        ErrorKind::BadDecision,
        "positive",
    );
    let mut deep = vec![];
    let mut name = s("i");
    for _ in 0..70 {
        deep.push(split(&name, vec![8, 1]));
        // A split names its loops base0, base1 (base_0, base_1 when base ends in a digit).
        name = if name.ends_with(|c: char| c.is_ascii_digit()) {
            format!("{name}_0")
        } else {
            format!("{name}0")
        };
    }
    check(
        &run(&mm, deep),
        ErrorKind::BadDecision,
        "more than 64 loops",
    );
}

#[test]
fn tile_factors_that_overflow_are_errors() {
    let mm = colt_ops::matmul(32, 32, 32);
    let t = sample(&mm, &mut Pcg64::seed_from_u64(5));
    let e = apply_action(
        &mm,
        &t,
        &Action::Tile(LoopFactors {
            stage: s("matmul"),
            loop_: s("j"),
            factors: vec![1 << 32, 1 << 32],
        }),
    )
    .expect_err("must be rejected");
    check(&e, ErrorKind::BadDecision, "multiply past");
}
