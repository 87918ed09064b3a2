//! Random loop nests (any kinds, extents, affine / div / mod indices, possibly out of range)
//! never make feature extraction panic, and always give the same finite vector.

use colt_cost::features::{count, extract};
use colt_ir::{
    Access, Block, BufId, BufKind, Buffer, Func, Idx, Loop, LoopKind, Stmt, StoreOp, Value, VarId,
};
use proptest::prelude::*;

fn kind(k: u8) -> LoopKind {
    [
        LoopKind::Serial,
        LoopKind::Parallel,
        LoopKind::Vectorized,
        LoopKind::Unrolled,
    ][k as usize % 4]
}

/// An index over variables `0..nvars` built from a small recipe.
fn index(nvars: u32, recipe: &[(u8, i64)]) -> Idx {
    let mut e = Idx::Const(0);
    for (i, &(op, c)) in recipe.iter().enumerate() {
        let var = Idx::Var(VarId((i as u32 + op as u32) % nvars.max(1)));
        e = match op % 4 {
            0 => e + var,
            1 => e + var * c,
            2 => (e + var).div(c),
            _ => (e + var).rem(c),
        };
    }
    e
}

fn build(loops: &[(u8, i64)], recipes: &[Vec<(u8, i64)>], shape: &[i64]) -> Func {
    let n = loops.len() as u32;
    let acc = |r: &Vec<(u8, i64)>, b: u32| Access {
        buf: BufId(b),
        idx: vec![index(n, r); shape.len()],
    };
    let value = recipes.iter().skip(1).fold(Value::Const(1.0), |v, r| {
        Value::bin(colt_ir::BinOp::Add, v, Value::Load(acc(r, 0)))
    });
    let block = Block {
        name: "b".into(),
        bind: vec![],
        store: acc(&recipes[0], 1),
        op: StoreOp::Reduce(colt_ir::Reducer::Sum),
        value,
    };
    let body = loops
        .iter()
        .enumerate()
        .rev()
        .fold(Stmt::Block(block), |inner, (i, &(k, e))| {
            Stmt::Loop(Loop {
                var: VarId(i as u32),
                extent: e,
                kind: kind(k),
                body: vec![inner],
            })
        });
    Func {
        name: "random".into(),
        vars: (0..n).map(|i| format!("v{i}")).collect(),
        buffers: vec![
            Buffer {
                name: "A".into(),
                shape: shape.to_vec(),
                kind: BufKind::Input,
            },
            Buffer {
                name: "B".into(),
                shape: shape.to_vec(),
                kind: BufKind::Output,
            },
        ],
        body: vec![body],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_nests_extract(
        loops in proptest::collection::vec((0u8..4, -2i64..300), 0..7),
        recipes in proptest::collection::vec(proptest::collection::vec((0u8..8, -5i64..70), 0..5), 1..4),
        shape in proptest::collection::vec(-1i64..500, 0..4),
    ) {
        let f = build(&loops, &recipes, &shape);
        let x = extract(&f);
        prop_assert_eq!(x.len(), count());
        prop_assert!(x.iter().all(|v| v.is_finite()));
        prop_assert_eq!(x, extract(&f));
    }
}
