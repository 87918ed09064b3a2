//! `to_spec`: every built-in workload, builder and spec form prints as a spec that parses
//! back to the same program; random statements over every operator do too; what the format
//! cannot say is one error line.

use colt_ir::{
    Access, BinOp, Bound, BufId, BufKind, CmpOp, Idx, IterKind, Program, Reducer, UnOp, Value,
    VarId,
};
use colt_ops::{Conv2dShape, OpsError, Scale, builders, from_spec_str, to_spec, workloads};
use proptest::prelude::*;

/// `p` prints, reads back equal, and prints the same text again.
fn round_trip(p: &Program) -> String {
    let text = to_spec(p).unwrap_or_else(|e| panic!("{}: {e}", p.name));
    let q = from_spec_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&q, p, "{text}");
    assert_eq!(to_spec(&q).unwrap(), text);
    text
}

#[test]
fn every_workload_round_trips_at_both_scales() {
    let mut n = 0;
    for scale in Scale::ALL {
        for name in workloads::names() {
            round_trip(&workloads::build(name, scale).unwrap());
            n += 1;
        }
    }
    assert_eq!(n, 2 * workloads::names().len());
    assert!(n >= 24, "{n}");
}

#[test]
fn builders_round_trip_with_other_shapes() {
    let conv = |stride, pad| Conv2dShape {
        n: 2,
        c: 3,
        h: 9,
        w: 7,
        f: 3,
        kernel: 3,
        stride,
        pad,
    };
    for p in [
        builders::conv2d(conv(2, 1)),
        builders::conv2d(conv(1, 0)),
        builders::depthwise_conv2d(conv(2, 2)),
        builders::dense(3, 5, 7, None),
        builders::dense(3, 5, 7, Some(UnOp::Silu)),
        builders::rmsnorm(3, 8, 1e-6),
        builders::gemv(5, 9),
        builders::moe_experts(2, 3, 4, 5),
    ] {
        // A spec gets the layout rewrites (strided windows unfolded), as workloads do, for
        // AVX2's lanes or AVX-512's.
        for lanes in [8, 16] {
            round_trip(&colt_ir::layout_rewrites(&p, lanes));
        }
    }
}

#[test]
fn the_text_is_the_spec_a_person_would_write() {
    let text = round_trip(&builders::conv2d(Conv2dShape {
        n: 1,
        c: 2,
        h: 4,
        w: 4,
        f: 3,
        kernel: 3,
        stride: 1,
        pad: 1,
    }));
    assert_eq!(
        text,
        r#"name = "conv2d"

[tensors]
X = { shape = [1, 2, 4, 4], role = "input" }
W = { shape = [3, 2, 3, 3], role = "input" }
P = { shape = [1, 2, 6, 6], role = "temp" }
Y = { shape = [1, 3, 4, 4], role = "output" }

[[stage]]
name = "pad"
compute = "P[n, c, h, w] = select(1 <= h < 5 && 1 <= w < 5, X[n, c, h - 1, w - 1], 0)"

[[stage]]
name = "conv"
compute = "Y[n, f, y, x] += P[n, c, y + r, x + q] * W[f, c, r, q]"
"#
    );
    // a variable that indexes no dimension alone gets its extent
    let text = round_trip(&from_spec_str(
        "[tensors]\nA = { shape = [8], role = \"input\" }\nC = { shape = [4], role = \"output\" }\n\
         [[stage]]\ncompute = \"C[i] += A[i + k]\"\nextents = { k = 5 }\n",
    )
    .unwrap());
    assert!(
        text.ends_with("compute = \"C[i] += A[i + k]\"\nextents = { k = 5 }\n"),
        "{text}"
    );
}

#[test]
fn new_spec_forms_round_trip() {
    for text in [
        r#"
        [sizes]
        H = 5
        [tensors]
        X = { shape = [2, 3, "H", "H"], role = "input" }
        W = { shape = [4, 3, 3, 3], role = "input" }
        Y = { shape = [2, 4, "H", "H"], role = "output" }
        [[stage]]
        compute = "Y[n, f, y, x] += pad(X[n, c, y + r - 1, x + q - 1]) * W[f, c, r, q] * (1 / H)"
        "#,
        r#"
        [tensors]
        X = { shape = [4, 4], role = "input" }
        s = { shape = [], role = "temp" }
        Y = { shape = [4, 4], role = "output" }
        [[stage]]
        compute = "s += abs(X[i, j])"
        [[stage]]
        compute = "Y[i, j] = select(j <= i && i >= 1, select(X[i, j] >= s, rsqrt(s), erf(X[i, j])), -pow(log(s[]), 2))"
        "#,
    ] {
        round_trip(&from_spec_str(text).unwrap_or_else(|e| panic!("{e}")));
    }
}

fn expect_unexpressible(p: &Program, parts: &[&str]) {
    let e = to_spec(p).expect_err("not expressible");
    assert!(matches!(e, OpsError::Unexpressible { .. }));
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    for part in parts {
        assert!(msg.contains(part), "expected {part:?} in: {msg}");
    }
}

#[test]
fn what_the_format_cannot_say_is_an_error() {
    let base = || builders::matmul(4, 4, 4);
    let mut p = base();
    p.stages[0].iters.swap(0, 1);
    expect_unexpressible(
        &p,
        &[
            "program \"matmul\" cannot be written as a spec: stage \"matmul\": loops run j, i, k",
            "(i, j, k)",
        ],
    );
    let mut p = base();
    let Value::Binary(_, a, _) = &mut p.stages[0].value else {
        panic!()
    };
    let Value::Load(acc) = &mut **a else { panic!() };
    acc.idx[1] = Idx::Var(
        acc.idx[1]
            .clone()
            .affine()
            .unwrap()
            .terms
            .keys()
            .copied()
            .next()
            .unwrap(),
    )
    .rem(4);
    expect_unexpressible(&p, &["index k % 4 divides (spec indices are affine)"]);
    let mut p = base();
    p.stages[0].value = Value::bin(
        BinOp::Mul,
        p.stages[0].value.clone(),
        Value::Const(f32::INFINITY),
    );
    expect_unexpressible(&p, &["the constant inf is not finite"]);
    let mut p = base();
    p.buffers.swap(0, 1);
    let Value::Binary(_, a, b) = &mut p.stages[0].value else {
        panic!()
    };
    for (v, buf) in [(a, 1), (b, 0)] {
        let Value::Load(acc) = &mut **v else { panic!() };
        acc.buf = BufId(buf);
    }
    expect_unexpressible(
        &p,
        &["buffers are ordered B, A, C but a spec orders them A, B, C"],
    );
    let mut p = base();
    p.buffers[2].kind = BufKind::Local;
    expect_unexpressible(&p, &["buffer \"C\" is a local"]);
    let mut p = base();
    p.vars[2] = "A".into();
    expect_unexpressible(
        &p,
        &["variable \"A\" is not an identifier, is named twice or names a buffer"],
    );
    // a guard the spec's bounds check cannot follow: caught by reading the text back
    let mut p = base();
    let v = p.stages[0].iters[2].var;
    p.stages[0].value = Value::Select(
        vec![Bound {
            idx: Idx::Var(v),
            lo: 0,
            hi: 2,
        }],
        Box::new(Value::load(
            BufId(0),
            vec![Idx::Var(p.stages[0].iters[0].var), Idx::Var(v) * 2],
        )),
        Box::new(Value::load(
            BufId(1),
            vec![Idx::Var(v), Idx::Var(p.stages[0].iters[1].var)],
        )),
    );
    expect_unexpressible(
        &p,
        &[
            "its spec does not read back",
            "index 1 of \"A\" ranges over [0, 6]",
        ],
    );
}

// ---- random statements over every operator ----

/// `i`, `j`, `5 - j` or `i - j` (canonical affine forms, as the spec builds them).
fn index() -> impl Strategy<Value = Idx> {
    let (i, j) = (Idx::Var(VarId(0)), Idx::Var(VarId(1)));
    prop_oneof![
        Just(i.clone()),
        Just(j.clone()),
        Just(j.clone() * -1 + Idx::Const(5)),
        Just(i + j * -1),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    let (i, j) = (Idx::Var(VarId(0)), Idx::Var(VarId(1)));
    prop_oneof![
        prop::num::f32::NORMAL
            | prop::num::f32::SUBNORMAL
            | prop::num::f32::ZERO
            | prop::num::f32::NEGATIVE
            | prop::num::f32::POSITIVE,
        (-100i32..100).prop_map(|n| n as f32),
    ]
    .prop_filter("finite", |c: &f32| c.is_finite())
    .prop_map(Value::Const)
    .boxed()
    .prop_union(Just(Value::load(BufId(0), vec![i.clone(), j.clone()])).boxed())
    .or(Just(Value::load(BufId(1), vec![j.clone()])).boxed())
    .or(Just(Value::load(BufId(1), vec![j * -1 + Idx::Const(5)])).boxed())
    .or(Just(Value::load(BufId(0), vec![i, Idx::Const(2)])).boxed())
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (prop::sample::select(UnOp::ALL.to_vec()), inner.clone())
                .prop_map(|(op, a)| Value::un(op, a)),
            (
                prop::sample::select(BinOp::ALL.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Value::bin(op, a, b)),
            (
                prop::sample::select(CmpOp::ALL.to_vec()),
                [inner.clone(), inner.clone(), inner.clone(), inner.clone()]
            )
                .prop_map(|(op, [l, r, a, b])| Value::compare(op, l, r, a, b)),
            (
                prop::collection::vec((index(), -6i64..6, 1i64..8), 1..3),
                inner.clone(),
                inner
            )
                .prop_map(|(bs, a, b)| {
                    let bounds = bs
                        .into_iter()
                        .map(|(idx, lo, len)| Bound {
                            idx,
                            lo,
                            hi: lo + len,
                        })
                        .collect();
                    Value::Select(bounds, Box::new(a), Box::new(b))
                }),
        ]
    })
}

/// `O[i, j] (= | max=) A[i, j] * B[j] + v` over `A: [4, 6]`, `B: [6]`.
fn program(v: Value, reduce: bool) -> Program {
    let mut p = Program::new("random");
    let a = p.add_buffer("A", vec![4, 6], BufKind::Input);
    let b = p.add_buffer("B", vec![6], BufKind::Input);
    let o = p.add_buffer(
        "O",
        if reduce { vec![4] } else { vec![4, 6] },
        BufKind::Output,
    );
    let kind = if reduce {
        IterKind::Reduce
    } else {
        IterKind::Spatial
    };
    p.add_stage("s", &[("i", 4, IterKind::Spatial), ("j", 6, kind)], |x| {
        let ab = Value::bin(
            BinOp::Mul,
            Value::load(a, x.to_vec()),
            Value::load(b, vec![x[1].clone()]),
        );
        let store = if reduce { Some(Reducer::Max) } else { None };
        (o, store, Value::bin(BinOp::Add, ab, v))
    });
    if reduce {
        p.stages[0].store = Access {
            buf: o,
            idx: vec![Idx::Var(VarId(0))],
        };
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_statements_round_trip(v in value(), reduce in any::<bool>()) {
        round_trip(&program(v, reduce));
    }
}
