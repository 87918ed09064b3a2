//! The verifier, one rule at a time: each test breaks exactly one rule of a small valid
//! function and snapshots the printed nest with the errors reported
//! (refresh with `UPDATE_EXPECT=1 cargo test -p colt-ir --test verify`).

use colt_ir::{
    Access, Block, BufId, BufKind, Buffer, Func, Idx, LoopKind, Stmt, StoreOp, Value, VarId, verify,
};
use expect_test::{Expect, expect};

const I: u32 = 0;
const J: u32 = 1;
const K: u32 = 2;
const A: u32 = 0;
const B: u32 = 1;
const T: u32 = 2;

fn var(v: u32) -> Idx {
    Idx::Var(VarId(v))
}

fn at(buf: u32, idx: Vec<Idx>) -> Access {
    Access {
        buf: BufId(buf),
        idx,
    }
}

fn load(buf: u32, idx: Vec<Idx>) -> Value {
    Value::Load(at(buf, idx))
}

fn lp(v: u32, extent: i64, kind: LoopKind, body: Vec<Stmt>) -> Stmt {
    Stmt::new_loop(VarId(v), extent, kind, body)
}

fn serial(v: u32, extent: i64, body: Vec<Stmt>) -> Stmt {
    lp(v, extent, LoopKind::Serial, body)
}

/// `store = value` as block `copy`, after binding `bind`.
fn bound(bind: Vec<(VarId, Idx)>, store: Access, value: Value) -> Stmt {
    Stmt::Block(Block {
        name: "copy".into(),
        bind,
        store,
        op: StoreOp::Assign,
        value,
    })
}

/// `store = value` as block `copy`.
fn assign(store: Access, value: Value) -> Stmt {
    bound(vec![], store, value)
}

/// `func f(A: f32[4]) -> (B: f32[4])` with variables `i, j, k` and local `T: f32[4]`.
fn func(body: Vec<Stmt>) -> Func {
    let buf = |name: &str, kind| Buffer {
        name: name.into(),
        shape: vec![4],
        kind,
    };
    Func {
        name: "f".into(),
        vars: vec!["i".into(), "j".into(), "k".into()],
        buffers: vec![
            buf("A", BufKind::Input),
            buf("B", BufKind::Output),
            buf("T", BufKind::Local),
        ],
        body,
    }
}

/// `B[i] = A[i]` for `i < 4`, with `value` in place of `A[i]`.
fn copy_of(value: Value) -> Func {
    func(vec![serial(I, 4, vec![assign(at(B, vec![var(I)]), value)])])
}

/// The printed nest, then `ok` or the errors, one per line.
fn check(f: &Func, want: Expect) {
    let verdict = match verify(f) {
        Ok(()) => "ok".to_string(),
        Err(es) => es.to_string(),
    };
    want.assert_eq(&format!("{f}--\n{verdict}\n"));
}

#[test]
fn valid_copy_passes() {
    check(
        &copy_of(load(A, vec![var(I)])),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                B[i] = A[i]
            --
            ok
        "#]],
    );
}

#[test]
fn undeclared_variable() {
    // Variable #9 is used twice and reported once; `k`, bound from it, is usable.
    // (The nest cannot be printed: only the errors are checked.)
    let bind = vec![(VarId(K), var(9))];
    let value = load(A, vec![var(9) + var(K)]);
    let f = func(vec![serial(
        I,
        4,
        vec![bound(bind, at(B, vec![var(I)]), value)],
    )]);
    expect![[r#"variable #9: not declared"#]].assert_eq(&verify(&f).unwrap_err().to_string());
}

#[test]
fn unbound_variable() {
    check(
        &copy_of(load(A, vec![var(J)])),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                B[i] = A[j]
            --
            block copy: variable j is used but not bound here
        "#]],
    );
}

#[test]
fn loop_rebinds_variable() {
    let inner = serial(
        I,
        4,
        vec![assign(at(B, vec![var(I)]), load(A, vec![var(I)]))],
    );
    check(
        &func(vec![serial(I, 4, vec![inner])]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                for i in 0..4:
                  B[i] = A[i]
            --
            loop i: variable is already bound by an enclosing loop
        "#]],
    );
}

#[test]
fn extent_not_positive() {
    // The body indexes with `i + 5`: no bounds error follows from the loop's own error.
    let body = vec![assign(
        at(B, vec![var(I)]),
        load(A, vec![var(I) + Idx::Const(5)]),
    )];
    check(
        &func(vec![serial(I, 0, body)]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..0:
                B[i] = A[i + 5]
            --
            loop i: extent 0 is not positive
        "#]],
    );
}

#[test]
fn parallel_inside_parallel() {
    let block = assign(at(B, vec![var(I)]), load(A, vec![var(J)]));
    let inner = lp(J, 4, LoopKind::Parallel, vec![block]);
    check(
        &func(vec![lp(I, 4, LoopKind::Parallel, vec![inner])]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4 parallel:
                for j in 0..4 parallel:
                  B[i] = A[j]
            --
            loop j: parallel loop nested inside another parallel loop
        "#]],
    );
}

#[test]
fn undeclared_buffer() {
    // Neither the access nor the allocation can be printed: only the errors are checked.
    let mut f = copy_of(load(7, vec![var(I)]));
    f.body = vec![Stmt::Alloc {
        buf: BufId(8),
        body: f.body.clone(),
    }];
    expect!["alloc: buffer #8 is not declared; block copy: buffer #7 is not declared"]
        .assert_eq(&verify(&f).unwrap_err().to_string());
}

#[test]
fn alloc_of_non_local_buffer() {
    let f = copy_of(load(A, vec![var(I)]));
    check(
        &func(vec![Stmt::Alloc {
            buf: BufId(B),
            body: f.body,
        }]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              alloc B: f32[4]
              for i in 0..4:
                B[i] = A[i]
            --
            alloc B: only local buffers can be allocated
        "#]],
    );
}

#[test]
fn local_buffer_outside_its_alloc() {
    let write_t = serial(
        I,
        4,
        vec![assign(at(T, vec![var(I)]), load(A, vec![var(I)]))],
    );
    let read_t = serial(
        I,
        4,
        vec![assign(at(B, vec![var(I)]), load(T, vec![var(I)]))],
    );
    let alloc = Stmt::Alloc {
        buf: BufId(T),
        body: vec![write_t],
    };
    check(
        &func(vec![alloc, read_t]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              alloc T: f32[4]
              for i in 0..4:
                T[i] = A[i]
              for i in 0..4:
                B[i] = T[i]
            --
            block copy: local buffer T used outside its alloc
        "#]],
    );
}

#[test]
fn access_rank_mismatch() {
    check(
        &copy_of(load(A, vec![var(I), var(I)])),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                B[i] = A[i, i]
            --
            block copy: buffer A has 1 dimensions but is indexed with 2
        "#]],
    );
}

#[test]
fn index_out_of_bounds() {
    // Through a binding: `k = i + 1` ranges over [1, 4].
    let bind = vec![(VarId(K), var(I) + Idx::Const(1))];
    let block = bound(bind, at(B, vec![var(I)]), load(A, vec![var(K)]));
    check(
        &func(vec![serial(I, 4, vec![block])]),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                copy [k=i + 1]: B[i] = A[k]
            --
            block copy: index 0 of A ranges over [1, 4], outside [0, 4)
        "#]],
    );
}

#[test]
fn select_guard_exempts_only_its_taken_branch() {
    let guard = vec![colt_ir::Bound {
        idx: var(I) + Idx::Const(1),
        lo: 0,
        hi: 4,
    }];
    let shifted = load(A, vec![var(I) + Idx::Const(1)]);
    let zero = Value::Const(0.0);
    let guarded = Value::Select(
        guard.clone(),
        Box::new(shifted.clone()),
        Box::new(zero.clone()),
    );
    check(
        &copy_of(guarded),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                B[i] = select(0 <= i + 1 < 4, A[i + 1], 0)
            --
            ok
        "#]],
    );
    let unguarded = Value::Select(guard, Box::new(zero), Box::new(shifted));
    check(
        &copy_of(unguarded),
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..4:
                B[i] = select(0 <= i + 1 < 4, 0, A[i + 1])
            --
            block copy: index 0 of A ranges over [1, 4], outside [0, 4)
        "#]],
    );
}

#[test]
fn two_broken_rules_are_both_reported() {
    let rank = assign(at(B, vec![var(I)]), load(A, vec![var(I), var(I)]));
    let unbound = assign(at(B, vec![var(I)]), load(A, vec![var(J)]));
    let f = func(vec![serial(I, -1, vec![rank]), serial(I, 4, vec![unbound])]);
    check(
        &f,
        expect![[r#"
            func f(A: f32[4]) -> (B: f32[4])
              for i in 0..-1:
                B[i] = A[i, i]
              for i in 0..4:
                B[i] = A[j]
            --
            loop i: extent -1 is not positive; block copy: buffer A has 1 dimensions but is indexed with 2; block copy: variable j is used but not bound here
        "#]],
    );
    let errs = verify(&f).unwrap_err();
    assert_eq!(errs.first().msg, "extent -1 is not positive");
    assert_eq!(colt_ir::VerifyError::from(errs.clone()), *errs.first());
    assert_eq!(errs.into_iter().count(), 3);
}
