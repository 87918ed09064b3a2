//! `Display` of programs, loop nests and expressions; the `*_str` functions print the same
//! text (refresh with `UPDATE_EXPECT=1 cargo test -p colt-ir --test print`).

use colt_ir::{
    Access, BinOp, Block, BufId, BufKind, Func, Idx, IterKind, Loop, LoopKind, PrintOptions,
    Program, Reducer, Stmt, StoreOp, Value, VarId, func_str, program_str,
};
use expect_test::expect;

/// `C[i, j] += A[i, k] * B[k, j]` over 4x8x2, then `D[i, j] = relu(C[i, j] - 1)`.
fn matmul_relu() -> Program {
    let mut p = Program::new("mm_relu");
    let a = p.add_buffer("A", vec![4, 2], BufKind::Input);
    let b = p.add_buffer("B", vec![2, 8], BufKind::Input);
    let c = p.add_buffer("C", vec![4, 8], BufKind::Temp);
    let d = p.add_buffer("D", vec![4, 8], BufKind::Output);
    let iters = [
        ("i", 4, IterKind::Spatial),
        ("j", 8, IterKind::Spatial),
        ("k", 2, IterKind::Reduce),
    ];
    p.add_stage("mm", &iters, |x| {
        let (i, j, k) = (x[0].clone(), x[1].clone(), x[2].clone());
        let prod = Value::Binary(
            BinOp::Mul,
            Box::new(Value::Load(Access {
                buf: a,
                idx: vec![i, k.clone()],
            })),
            Box::new(Value::Load(Access {
                buf: b,
                idx: vec![k, j],
            })),
        );
        (c, Some(Reducer::Sum), prod)
    });
    let iters = [("i", 4, IterKind::Spatial), ("j", 8, IterKind::Spatial)];
    p.add_stage("relu", &iters, |x| {
        let cij = Value::Load(Access {
            buf: c,
            idx: x.to_vec(),
        });
        let shifted = Value::Binary(BinOp::Sub, Box::new(cij), Box::new(Value::Const(1.0)));
        (
            d,
            None,
            Value::Unary(colt_ir::UnOp::Relu, Box::new(shifted)),
        )
    });
    p
}

#[test]
fn program_display() {
    let p = matmul_relu();
    assert_eq!(p.to_string(), program_str(&p));
    expect![[r#"
        func mm_relu(A: f32[4, 2], B: f32[2, 8]) -> (D: f32[4, 8]) temps (C: f32[4, 8])
          stage mm: C[i, j] += A[i, k] * B[k, j]    for i < 4, j < 8, k < 2 (reduce)
          stage relu: D[i, j] = relu(C[i, j] - 1)    for i < 4, j < 8
    "#]]
    .assert_eq(&p.to_string());
}

#[test]
fn func_display() {
    let f = matmul_relu().naive();
    assert_eq!(f.to_string(), func_str(&f));
    assert_eq!(f.display_with(PrintOptions::FULL).to_string(), func_str(&f));
    expect![[r#"
        func mm_relu(A: f32[4, 2], B: f32[2, 8]) -> (D: f32[4, 8]) temps (C: f32[4, 8])
          for i in 0..4:
            for j in 0..8:
              C[i, j] = 0
          for i in 0..4:
            for j in 0..8:
              for k in 0..2:
                C[i, j] += A[i, k] * B[k, j]
          for i in 0..4:
            for j in 0..8:
              D[i, j] = relu(C[i, j] - 1)
    "#]]
    .assert_eq(&f.to_string());
}

/// A nest with what the prompt form changes: single-iteration loops (a serial one it hides,
/// a parallel one it keeps), a block that binds variables and one that does not.
fn tiled_copy() -> Func {
    let p = matmul_relu();
    let mut vars = p.vars.clone();
    let names = ["u", "i0", "i1", "w"];
    let [u, i0, i1, w] = names.map(|n| {
        vars.push(n.into());
        VarId(vars.len() as u32 - 1)
    });
    let (i, j) = (VarId(3), VarId(4));
    let lp = |var, extent, kind, body| {
        Stmt::Loop(Loop {
            var,
            extent,
            kind,
            body,
        })
    };
    let bound = Stmt::Block(Block {
        name: "relu".into(),
        bind: vec![(i, Idx::Var(i0) * 2 + Idx::Var(i1)), (j, Idx::Var(w))],
        store: Access {
            buf: BufId(3),
            idx: vec![Idx::Var(i), Idx::Var(j)],
        },
        op: StoreOp::Assign,
        value: p.stages[1].value.clone(),
    });
    let plain = Stmt::Block(Block {
        name: "zero".into(),
        bind: vec![],
        store: Access {
            buf: BufId(2),
            idx: vec![
                Idx::Var(i0) * 2 + Idx::Var(i1),
                Idx::Var(w) + Idx::Const(-1),
            ],
        },
        op: StoreOp::Assign,
        value: Value::Const(0.5),
    });
    let inner = lp(w, 8, LoopKind::Vectorized, vec![plain, bound]);
    let tile = lp(
        i1,
        2,
        LoopKind::Unrolled,
        vec![lp(u, 1, LoopKind::Serial, vec![inner])],
    );
    let body = vec![lp(i0, 2, LoopKind::Serial, vec![tile])];
    Func {
        name: "tiled".into(),
        vars,
        buffers: p.buffers,
        body: vec![lp(VarId(0), 1, LoopKind::Parallel, body)],
    }
}

#[test]
fn func_display_prompt_form() {
    let f = tiled_copy();
    expect![[r#"
        func tiled(A: f32[4, 2], B: f32[2, 8]) -> (D: f32[4, 8]) temps (C: f32[4, 8])
          for i in 0..1 parallel:
            for i0 in 0..2:
              for i1 in 0..2 unrolled:
                for u in 0..1:
                  for w in 0..8 vectorized:
                    C[i0*2 + i1, w - 1] = 0.5
                    relu [i=i0*2 + i1, j=w]: D[i, j] = relu(C[i, j] - 1)
    "#]]
    .assert_eq(&f.to_string());
    expect![[r#"
        func tiled(A: f32[4, 2], B: f32[2, 8]) -> (D: f32[4, 8]) temps (C: f32[4, 8])
          for i in 0..1 parallel:
            for i0 in 0..2:
              for i1 in 0..2 unrolled:
                for w in 0..8 vectorized:
                  C[…] = 0.5
                  relu: D[i, j] = relu(C[i, j] - 1)
    "#]]
    .assert_eq(&f.display_with(PrintOptions::PROMPT).to_string());
}

#[test]
fn expression_display() {
    let f = tiled_copy();
    let Value::Unary(_, shifted) = &matmul_relu().stages[1].value else {
        unreachable!()
    };
    let idx = Idx::Var(VarId(6)) * 2 + Idx::Var(VarId(7)) * -3;
    assert_eq!(idx.display(&f.vars).to_string(), "i0*2 - i1*3");
    let diff = Idx::Var(VarId(6)) + Idx::Var(VarId(7)) * -1;
    assert_eq!(diff.display(&f.vars).to_string(), "i0 - i1");
    let sum = Idx::Var(VarId(6)) + Idx::Var(VarId(7));
    let nested = Idx::Var(VarId(7)) + sum * -1;
    assert_eq!(nested.display(&f.vars).to_string(), "i1 - (i0 + i1)");
    let scaled = Value::Binary(
        BinOp::Div,
        Box::new(Value::Const(2.0)),
        Box::new((**shifted).clone()),
    );
    let text = scaled.display(&f.buffers, &f.vars).to_string();
    assert_eq!(text, "2 / (C[i, j] - 1)");
    assert_eq!(
        text,
        colt_ir::print::value_str(&scaled, &f.buffers, &f.vars)
    );
    // A named operator is lowercased; its operands keep their names' case.
    let clamped = Value::Binary(
        BinOp::Max,
        Box::new((**shifted).clone()),
        Box::new(Value::Const(0.0)),
    );
    let text = clamped.display(&f.buffers, &f.vars).to_string();
    assert_eq!(text, "max(C[i, j] - 1, 0)");
}

#[test]
fn new_operators_and_data_selects_display() {
    let f = tiled_copy();
    let c = matmul_relu().stages[1].value.clone();
    let Value::Unary(_, cij) = c else {
        unreachable!()
    };
    let show = |v: &Value| v.display(&f.buffers, &f.vars).to_string();
    let pow = Value::bin(BinOp::Pow, (*cij).clone(), Value::Const(0.5));
    assert_eq!(show(&pow), "pow(C[i, j] - 1, 0.5)");
    let erf = Value::un(colt_ir::UnOp::Erf, Value::un(colt_ir::UnOp::Rsqrt, pow));
    assert_eq!(show(&erf), "erf(rsqrt(pow(C[i, j] - 1, 0.5)))");
    let leaky = Value::compare(
        colt_ir::CmpOp::Gt,
        (*cij).clone(),
        Value::Const(0.0),
        (*cij).clone(),
        Value::bin(BinOp::Mul, Value::Const(0.25), (*cij).clone()),
    );
    assert_eq!(
        show(&leaky),
        "select(C[i, j] - 1 > 0, C[i, j] - 1, 0.25 * (C[i, j] - 1))"
    );
}

/// f32 arithmetic does not reassociate, so a right operand of equal precedence keeps its
/// parentheses for every operator (the text reads back as the same tree).
#[test]
fn right_nested_operands_keep_parentheses() {
    let f = tiled_copy();
    let x = || Value::Const(2.0);
    let show = |v: &Value| v.display(&f.buffers, &f.vars).to_string();
    let sum = Value::bin(BinOp::Add, x(), Value::bin(BinOp::Add, x(), x()));
    assert_eq!(show(&sum), "2 + (2 + 2)");
    let left = Value::bin(BinOp::Add, Value::bin(BinOp::Add, x(), x()), x());
    assert_eq!(show(&left), "2 + 2 + 2");
    let prod = Value::bin(BinOp::Mul, x(), Value::bin(BinOp::Div, x(), x()));
    assert_eq!(show(&prod), "2 * (2 / 2)");
}
