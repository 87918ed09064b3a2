//! The reduce-inner decision: a row reduction's innermost reduction tiles inside its output
//! tiles, vectorised along the contiguous reads. Drawn by the sampler, recovered from a trace,
//! edited by the `reduce_inner` action, refused where the reads are not contiguous.

mod common;
use colt_sched::{
    Action, ErrorKind, Sketch, apply_action, apply_trace, choices, mutate, sample,
    sketch::vector_reduce_ok,
};
use rand::SeedableRng;
use rand_pcg::Pcg64;

/// Stage `name`'s index in `p`.
fn stage(p: &colt_ir::Program, name: &str) -> usize {
    p.stage_index(name).expect("stage exists")
}

#[test]
fn row_reductions_qualify_and_contractions_over_strided_reads_do_not() {
    let att = colt_ops::attention(2, 12, 8);
    // rowmax and rowsum read S / E[h, i, j] along j; QK^T reads Q[h, i, d] and K[h, j, d]
    // along d; ·V reads V[h, j, d] across rows of V
    for (name, ok) in [
        ("rowmax", true),
        ("rowsum", true),
        ("qk", true),
        ("pv", false),
    ] {
        assert_eq!(vector_reduce_ok(&att, stage(&att, name)), ok, "{name}");
    }
    let mm = colt_ops::matmul(8, 8, 8);
    assert!(!vector_reduce_ok(&mm, 0), "B[k, j] is read across its rows");
    let sm = colt_ops::softmax(4, 24);
    assert!(vector_reduce_ok(&sm, stage(&sm, "max")));
    assert!(!vector_reduce_ok(&sm, stage(&sm, "exp")), "elementwise");
}

#[test]
fn sampled_reduce_inner_traces_round_trip_vectorise_and_match_naive() {
    let p = colt_ops::softmax(6, 40);
    let max = stage(&p, "max");
    let mut found = 0;
    for seed in 0..40u64 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let t = sample(&p, &mut rng);
        let sk = Sketch::from_trace(&p, &t).expect("sketch form");
        assert_eq!(
            sk.to_trace(&p).unwrap(),
            t,
            "seed {seed}: decisions rebuild the trace"
        );
        if !sk.stages[max].reduce_inner {
            continue;
        }
        found += 1;
        let f = apply_trace(&p, &t).unwrap();
        common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", t.text()));
        // the innermost loop of the max stage is its reduction's
        let text = colt_ir::func_str(&f);
        assert!(text.contains("j1 in 0.."), "{text}");
        if let Some(m) = mutate(&p, &t, &mut rng) {
            let f = apply_trace(&p, &m).unwrap();
            common::check_equal(&p, &f).unwrap_or_else(|e| panic!("{e}\n{}", m.text()));
        }
    }
    assert!(
        found >= 20,
        "only {found} of 40 samples put the row max innermost"
    );
}

#[test]
fn the_reduce_inner_action_turns_it_on_and_off_and_refuses_strided_reads() {
    let p = colt_ops::attention(2, 12, 8);
    let mut rng = Pcg64::seed_from_u64(3);
    let t = (0..64)
        .map(|_| sample(&p, &mut rng))
        .find(|t| {
            let sk = Sketch::from_trace(&p, t).unwrap();
            let d = &sk.stages[stage(&p, "rowsum")];
            !d.reduce_inner && !d.tiles.is_empty()
        })
        .expect("a sample with rowsum tiled, output tiles innermost");
    let on = Action::ReduceInner {
        stage: "rowsum".into(),
        on: true,
    };
    let offered = choices(&p, &t).unwrap();
    assert!(
        offered
            .iter()
            .any(|c| c.name == "reduce_inner" && c.fixed["stage"] == "rowsum")
    );
    assert!(
        !offered
            .iter()
            .any(|c| c.name == "reduce_inner" && c.fixed["stage"] == "pv"),
        "V is read across its rows"
    );
    let t2 = apply_action(&p, &t, &on).expect("legal");
    let sk = Sketch::from_trace(&p, &t2).unwrap();
    assert!(sk.stages[stage(&p, "rowsum")].reduce_inner);
    common::check_equal(&p, &apply_trace(&p, &t2).unwrap()).unwrap();
    assert!(colt_sched::describe(&p, &t2).contains("SSRSSR (reduction innermost)"));
    let off = Action::ReduceInner {
        stage: "rowsum".into(),
        on: false,
    };
    assert_eq!(apply_action(&p, &t2, &off).unwrap(), t);
    let e = apply_action(
        &p,
        &t,
        &Action::ReduceInner {
            stage: "pv".into(),
            on: true,
        },
    )
    .expect_err("strided reads");
    assert_eq!(e.kind, ErrorKind::Illegal, "{e}");
    assert!(e.to_string().contains("contiguous"), "{e}");
    // the JSON form an LLM writes
    let a: Action =
        serde_json::from_str(r#"{"action": "reduce_inner", "stage": "rowsum", "on": true}"#)
            .unwrap();
    assert_eq!(a, on);
}

/// A GEMV reads its matrix once: packing it would cost a whole extra pass, and lanes over the
/// output rows would read across its rows, so the sampler neither packs it nor draws register
/// tiles for it, and most of its sketches put the contiguous reduction innermost. Matmul's
/// `B` and attention's `K` (read again for every output row) stay pack candidates.
#[test]
fn a_matrix_read_once_is_not_packed_and_its_reduction_goes_inside() {
    use colt_sched::{VectorTarget, sample_for, sketch::pack_candidates};
    let gemv = colt_ops::gemv(64, 64);
    assert!(pack_candidates(&gemv, 0).is_empty());
    assert_eq!(pack_candidates(&colt_ops::matmul(8, 8, 8), 0), vec!["B"]);
    let att = colt_ops::attention(2, 12, 8);
    assert_eq!(pack_candidates(&att, stage(&att, "qk")), vec!["K"]);
    let target = VectorTarget {
        lanes: 8,
        registers: 16,
    };
    let mut inner = 0;
    for seed in 0..40u64 {
        let t = sample_for(&gemv, Some(target), &mut Pcg64::seed_from_u64(seed));
        let sk = Sketch::from_trace(&gemv, &t).expect("sketch form");
        assert!(sk.stages[0].pack.is_none(), "seed {seed}: {}", t.text());
        inner += sk.stages[0].reduce_inner as usize;
    }
    assert!(inner >= 28, "{inner} of 40 GEMV sketches reduce innermost");
}
