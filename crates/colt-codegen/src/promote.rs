//! Accumulators promoted to a small local array across the reduction loops that do not
//! move them (scalar replacement, as register allocation wants it).
//!
//! A reduction whose partial sums stay in memory, `C_c[t, f2*64 + f3] += X[t, h] * W[h, f]`
//! inside `for h1 { for t3 { for f3 (vector) } }`, loads and stores each accumulator vector on
//! every `h1` step, and the next step waits on that store. The C compiler does not hoist the
//! accumulators out of `h1` when loops over them sit inside it; where `h1` is unrolled, gcc
//! keeps them in registers but still stores each one after every FMA (a vector store per
//! FMA: half the FMA rate on a core that retires one vector store a cycle). This pass does it
//! on the loop nest: the outermost serial or unrolled loop `L` whose body is a perfect nest
//! down to one reduction block, that the block's store does not mention, and whose nest
//! touches at most [`MAX_ELEMENTS`] accumulators, becomes
//!
//! ```text
//! alloc C_r[t3, f3]
//! for t3, f3: C_r[t3, f3] = C[...]      (same loop kinds as inside L)
//! for L { ... C_r[t3, f3] += value ... }
//! for t3, f3: C[...] = C_r[t3, f3]
//! ```
//!
//! so that the accumulators live in vector registers across `L` — the register tile of a
//! schedule whose output tile is larger than the register file (a write cache at an outer
//! loop, or none). Nothing here depends on a workload: the conditions are read off the nest.

use colt_ir::{
    Access, Block, BufId, BufKind, Buffer, Func, Idx, Loop, LoopKind, Stmt, StoreOp, Value, VarId,
};

/// Most accumulators one promotion holds: 32 vectors of 16 lanes (AVX-512's register file;
/// on a smaller one the compiler spills the rest to the stack, where they were anyway).
pub const MAX_ELEMENTS: i64 = 512;
/// Fewest iterations of `L` for the copies in and out to pay.
pub const MIN_TRIPS: i64 = 4;

/// `f` with every promotable accumulator promoted (see the module documentation).
pub fn promote_accumulators(f: &Func) -> Func {
    let mut out = f.clone();
    let mut body = std::mem::take(&mut out.body);
    rewrite(&mut out, &mut body);
    out.body = body;
    out
}

fn rewrite(f: &mut Func, body: &mut [Stmt]) {
    for s in body.iter_mut() {
        match s {
            Stmt::Loop(l) => match promote(f, l) {
                Some(new) => *s = new,
                None => rewrite(f, &mut l.body),
            },
            Stmt::Alloc { body, .. } => rewrite(f, body),
            Stmt::Block(_) => {}
        }
    }
}

/// The loops inside `l` down to its one block, when `l`'s body is a perfect nest.
fn perfect_nest(l: &Loop) -> Option<(Vec<&Loop>, &Block)> {
    let mut chain = vec![];
    let mut body = &l.body;
    loop {
        match body.as_slice() {
            [Stmt::Loop(inner)] => {
                chain.push(inner);
                body = &inner.body;
            }
            [Stmt::Block(b)] => return Some((chain, b)),
            _ => return None,
        }
    }
}

/// The store's index in loop variables (the block's bindings substituted in order).
fn store_in_loop_vars(b: &Block) -> Vec<Idx> {
    let sub = b.bindings_in_loop_vars(&|e| e.clone());
    let lookup = |x| {
        sub.iter()
            .rev()
            .find(|(y, _)| *y == x)
            .map(|(_, e)| e.clone())
    };
    b.store.idx.iter().map(|e| e.subst(&lookup)).collect()
}

/// Whether distinct values of `vars` (extents `extents`) reach distinct elements of a buffer
/// of `shape` through `idx`, whatever the other variables are: every term of `idx` that
/// mentions one of `vars` is that variable times a constant, and the offsets they give are
/// pairwise different.
fn injective(idx: &[Idx], shape: &[i64], vars: &[(VarId, i64)]) -> bool {
    let mut coeff = vec![0i64; vars.len()];
    let mut stride = 1i64;
    for (e, &extent) in idx.iter().zip(shape).rev() {
        let (mut atoms, mut konst) = (vec![], 0);
        e.linear_terms(1, &mut atoms, &mut konst);
        for (atom, c) in &atoms {
            let hits: Vec<usize> = (0..vars.len())
                .filter(|&i| atom.mentions(vars[i].0))
                .collect();
            match (atom, hits.as_slice()) {
                (_, []) => {}
                (Idx::Var(v), [i]) if *v == vars[*i].0 => coeff[*i] += c * stride,
                _ => return false,
            }
        }
        stride *= extent;
    }
    let total: i64 = vars.iter().map(|(_, e)| e).product();
    let mut seen = std::collections::HashSet::new();
    (0..total).all(|n| {
        let (mut rest, mut off) = (n, 0);
        for (i, (_, extent)) in vars.iter().enumerate().rev() {
            off += (rest % extent) * coeff[i];
            rest /= extent;
        }
        seen.insert(off)
    })
}

/// `l` rewritten with its accumulators promoted, or `None` when it does not qualify.
fn promote(f: &mut Func, l: &Loop) -> Option<Stmt> {
    if !matches!(l.kind, LoopKind::Serial | LoopKind::Unrolled) || l.extent < MIN_TRIPS {
        return None;
    }
    let (chain, b) = perfect_nest(l)?;
    if !matches!(b.op, StoreOp::Reduce(_)) {
        return None;
    }
    let idx = store_in_loop_vars(b);
    if idx.iter().any(|e| e.mentions(l.var)) {
        return None;
    }
    let mut reads = vec![];
    b.value.loads(&mut reads);
    if reads.iter().any(|a| a.buf == b.store.buf) {
        return None;
    }
    let moving: Vec<&Loop> = chain
        .iter()
        .copied()
        .filter(|c| idx.iter().any(|e| e.mentions(c.var)))
        .collect();
    let elements: i64 = moving.iter().map(|c| c.extent).product();
    let vars: Vec<(VarId, i64)> = moving.iter().map(|c| (c.var, c.extent)).collect();
    let dst = f.buffer(b.store.buf).clone();
    if dst.kind == BufKind::Local && dst.len() as i64 <= MAX_ELEMENTS {
        return None; // already a register tile (a write cache that small)
    }
    if elements > MAX_ELEMENTS || !injective(&idx, &dst.shape, &vars) {
        return None;
    }
    Some(rewritten(f, l, &moving, &idx, b.store.buf, &dst))
}

fn rewritten(
    f: &mut Func,
    l: &Loop,
    moving: &[&Loop],
    idx: &[Idx],
    dst: BufId,
    d: &Buffer,
) -> Stmt {
    let r = BufId(f.buffers.len() as u32);
    f.buffers.push(Buffer {
        name: format!("{}_r", d.name),
        shape: if moving.is_empty() {
            vec![1]
        } else {
            moving.iter().map(|c| c.extent).collect()
        },
        kind: BufKind::Local,
    });
    let r_idx = |vars: &[VarId]| -> Vec<Idx> {
        if vars.is_empty() {
            vec![Idx::Const(0)]
        } else {
            vars.iter().map(|&v| Idx::Var(v)).collect()
        }
    };
    let inner_vars: Vec<VarId> = moving.iter().map(|c| c.var).collect();
    let mut main = l.clone();
    retarget(
        &mut main.body,
        Access {
            buf: r,
            idx: r_idx(&inner_vars),
        },
    );
    let copy = |f: &mut Func, load: bool| -> Stmt {
        let fresh: Vec<VarId> = moving
            .iter()
            .map(|c| {
                f.vars.push(format!("{}_r", f.var_name(c.var)));
                VarId(f.vars.len() as u32 - 1)
            })
            .collect();
        let rename = |x: VarId| {
            inner_vars
                .iter()
                .position(|&v| v == x)
                .map(|i| Idx::Var(fresh[i]))
        };
        let mem = Access {
            buf: dst,
            idx: idx.iter().map(|e| e.subst(&rename)).collect(),
        };
        let reg = Access {
            buf: r,
            idx: r_idx(&fresh),
        };
        let (store, value) = if load { (reg, mem) } else { (mem, reg) };
        let mut s = Stmt::Block(Block {
            name: format!("{}_{}", d.name, if load { "promote" } else { "demote" }),
            bind: vec![],
            store,
            op: StoreOp::Assign,
            value: Value::Load(value),
        });
        for (c, v) in moving.iter().zip(&fresh).rev() {
            let kind = match c.kind {
                LoopKind::Vectorized | LoopKind::Unrolled => c.kind,
                _ => LoopKind::Serial,
            };
            s = Stmt::new_loop(*v, c.extent, kind, vec![s]);
        }
        s
    };
    let load = copy(f, true);
    let store = copy(f, false);
    Stmt::Alloc {
        buf: r,
        body: vec![load, Stmt::Loop(main), store],
    }
}

/// Point the one block under `body` at `to`.
fn retarget(body: &mut [Stmt], to: Access) {
    for s in body {
        match s {
            Stmt::Loop(l) => return retarget(&mut l.body, to),
            Stmt::Block(b) => {
                // The new index is in loop variables, which no binding shadows.
                b.store = to;
                return;
            }
            Stmt::Alloc { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injectivity_is_read_off_the_constant_coefficients() {
        let (i, j, o) = (VarId(0), VarId(1), VarId(2));
        let v = Idx::var;
        let vars = [(i, 2), (j, 4)];
        // C[i, o*4 + j] of C[2, 64]: each (i, j) its own element, whatever `o` is.
        assert!(injective(&[v(i), v(o) * 4 + v(j)], &[2, 64], &vars));
        // C[i + j]: (0, 1) and (1, 0) meet.
        assert!(!injective(&[v(i) + v(j)], &[8], &vars));
        // A division of a moving variable is not a constant coefficient.
        assert!(!injective(&[v(i), v(j).div(2)], &[2, 2], &vars));
        // No moving variable: one scalar accumulator.
        assert!(injective(&[v(o)], &[8], &[]));
    }
}
