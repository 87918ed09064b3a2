//! Per-block (per-store) analysis: everything the features say about one statement in its
//! loop nest. Like MetaSchedule's per-store features, each block is described on its own;
//! [`super`] aggregates blocks weighted by how often they execute.
//!
//! Block iteration variables (`bind`) are substituted first, so every index is a
//! quasi-affine expression of the enclosing loop variables. Regions are interval hulls of
//! those indices with the loops inside a level ranging and the loops outside fixed.

use super::idx;
use colt_ir::{Access, Block, BufKind, Func, Idx, LoopKind, StoreOp, Value, VarId};
use std::collections::BTreeMap;

/// Bytes per element (every buffer is `f32`).
pub const ELEM_BYTES: f64 = 4.0;
/// Cores of the target (the parallel extent is compared to this).
pub const CORES: f64 = 2.0;
/// L1 data cache, bytes.
pub const L1_BYTES: f64 = 48.0 * 1024.0;
/// L2 cache, bytes.
pub const L2_BYTES: f64 = 1024.0 * 1024.0;
/// Loop levels (innermost first) with their own footprint feature.
pub const LEVELS: usize = 6;
/// Innermost loop extents reported as tile sizes.
pub const TILES: usize = 4;

/// One enclosing loop.
#[derive(Clone, Copy, Debug)]
pub struct LoopCtx {
    pub var: VarId,
    /// Extent, at least 1.
    pub extent: f64,
    pub kind: LoopKind,
}

/// Stride of the loop variable in an access, in elements of the flattened buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrideClass {
    Zero,
    Unit,
    Other,
}

/// The raw description of one block; [`BlockInfo::row`] turns it into features.
#[derive(Clone, Debug, Default)]
pub struct BlockInfo {
    pub executions: f64,
    pub flops_per_exec: f64,
    pub is_reduction: bool,
    pub n_loads: f64,
    pub n_selects: f64,
    pub loops: Vec<LoopCtx>,
    /// `(count, product of extents)` per loop kind: serial, parallel, vectorized, unrolled.
    pub kind_stats: [(f64, f64); 4],
    /// Width of the innermost vectorized loop (0 when none) and whether it is innermost.
    pub vec_width: f64,
    pub vec_innermost: bool,
    /// Product of the innermost run of unrolled loops (vectorized loops skipped).
    pub unroll_inner: f64,
    pub parallel_outermost: bool,
    /// Stride classes of the store and of each load in the innermost vectorized loop and in
    /// the innermost loop (`None` when there is no such loop).
    pub vec_store: Option<StrideClass>,
    pub vec_loads: Vec<StrideClass>,
    pub inner_store: Option<StrideClass>,
    pub inner_loads: Vec<StrideClass>,
    /// Footprint in bytes of all accesses inside the `k` innermost loops, `k = 0..=depth`.
    pub bytes: Vec<f64>,
    /// Same, of the stored buffer only.
    pub store_bytes: Vec<f64>,
    /// `(loops not indexing it, product of their extents)` for the store and each load.
    pub store_reuse: (f64, f64),
    pub load_reuse: Vec<(f64, f64)>,
    pub store_inner_invariant: bool,
    pub n_buffers: f64,
    pub writes_local: bool,
    pub reads_local: f64,
    pub n_allocs: f64,
    pub alloc_bytes: f64,
}

fn buffer_elems(f: &Func, b: colt_ir::BufId) -> f64 {
    f.buffers.get(b.0 as usize).map_or(1.0, |b| {
        b.shape.iter().map(|&n| (n as f64).max(1.0)).product()
    })
}

fn kind_slot(k: LoopKind) -> usize {
    match k {
        LoopKind::Serial => 0,
        LoopKind::Parallel => 1,
        LoopKind::Vectorized => 2,
        LoopKind::Unrolled => 3,
    }
}

fn flops(v: &Value) -> f64 {
    match v {
        Value::Const(_) | Value::Load(_) => 0.0,
        Value::Unary(_, a) => 1.0 + flops(a),
        Value::Binary(_, a, b) => 1.0 + flops(a) + flops(b),
        Value::Select(_, a, b) => flops(a).max(flops(b)),
        Value::Compare(_, vs) => {
            let [l, r, a, b] = &**vs;
            1.0 + flops(l) + flops(r) + flops(a).max(flops(b))
        }
    }
}

fn selects(v: &Value) -> f64 {
    match v {
        Value::Const(_) | Value::Load(_) => 0.0,
        Value::Unary(_, a) => selects(a),
        Value::Binary(_, a, b) => selects(a) + selects(b),
        Value::Select(_, a, b) => 1.0 + selects(a) + selects(b),
        Value::Compare(_, vs) => 1.0 + vs.iter().map(selects).sum::<f64>(),
    }
}

/// Stride class of loop variable `v` in `a`: the change of the flattened (row-major)
/// offset when `v` goes from 0 to 1 with every other variable at 0.
fn stride_class(f: &Func, a: &Access, v: VarId) -> StrideClass {
    let shape: Vec<f64> = f
        .buffers
        .get(a.buf.0 as usize)
        .map(|b| b.shape.iter().map(|&n| (n as f64).max(1.0)).collect())
        .unwrap_or_default();
    let flat = |val: &dyn Fn(VarId) -> f64| {
        let mut off = 0.0;
        for (d, e) in a.idx.iter().enumerate() {
            let n = shape.get(d).copied().unwrap_or(1.0);
            off = off * n + idx::eval(e, val);
        }
        off
    };
    let s = flat(&|x| if x == v { 1.0 } else { 0.0 }) - flat(&|_| 0.0);
    if !s.is_finite() {
        StrideClass::Other
    } else if s == 0.0 {
        StrideClass::Zero
    } else if s == 1.0 {
        StrideClass::Unit
    } else {
        StrideClass::Other
    }
}

/// Elements of the interval hull of `a`, variable `v` ranging over `[0, hi[v]]` (0 when
/// `v` is beyond `hi`).
fn region_elems(f: &Func, a: &Access, hi: &[f64]) -> f64 {
    let range = |v: VarId| (0.0, hi.get(v.0 as usize).copied().unwrap_or(0.0));
    let shape = f
        .buffers
        .get(a.buf.0 as usize)
        .map(|b| b.shape.as_slice())
        .unwrap_or(&[]);
    let mut n = 1.0;
    for (d, e) in a.idx.iter().enumerate() {
        let (lo, hi) = idx::interval(e, &range);
        let mut span = (hi - lo + 1.0).max(1.0);
        if let Some(&s) = shape.get(d).filter(|&&s| s > 0) {
            span = span.min(s as f64);
        }
        if !span.is_finite() {
            span = 1.0;
        }
        n *= span;
    }
    n
}

/// Loops (from `loops`) whose variable `a` does not mention, and the product of their extents.
fn reuse(a: &Access, loops: &[LoopCtx]) -> (f64, f64) {
    let mut used = vec![];
    for e in &a.idx {
        used.extend(idx::vars(e));
    }
    let free: Vec<&LoopCtx> = loops.iter().filter(|l| !used.contains(&l.var)).collect();
    (free.len() as f64, free.iter().map(|l| l.extent).product())
}

/// Substitute the block's bound iteration variables into an access.
fn resolve(a: &Access, bind: &BTreeMap<VarId, Idx>) -> Access {
    Access {
        buf: a.buf,
        idx: a
            .idx
            .iter()
            .map(|e| e.subst(&|v| bind.get(&v).cloned()))
            .collect(),
    }
}

/// Analyse block `b` inside `loops` (outermost first) and the local allocations `allocs`.
pub fn analyse(f: &Func, b: &Block, loops: &[LoopCtx], allocs: &[colt_ir::BufId]) -> BlockInfo {
    let (store, loads) = resolved_accesses(b);
    let mut info = BlockInfo {
        executions: loops.iter().map(|l| l.extent).product(),
        is_reduction: matches!(b.op, StoreOp::Reduce(_)),
        n_loads: loads.len() as f64,
        n_selects: selects(&b.value),
        loops: loops.to_vec(),
        ..BlockInfo::default()
    };
    info.flops_per_exec = flops(&b.value) + if info.is_reduction { 1.0 } else { 0.0 };
    loop_facts(&mut info, f, loops, &store, &loads);
    footprints(&mut info, f, loops, &store, &loads);
    info.store_reuse = reuse(&store, loops);
    info.load_reuse = loads.iter().map(|a| reuse(a, loops)).collect();
    let is_local = |b: colt_ir::BufId| {
        f.buffers
            .get(b.0 as usize)
            .is_some_and(|x| x.kind == BufKind::Local)
    };
    info.writes_local = is_local(store.buf);
    info.reads_local = loads.iter().filter(|a| is_local(a.buf)).count() as f64;
    info.n_allocs = allocs.len() as f64;
    info.alloc_bytes = allocs
        .iter()
        .map(|&b| buffer_elems(f, b) * ELEM_BYTES)
        .sum();
    info
}

/// The store and the loads of block `b`, with its bound iteration variables substituted.
fn resolved_accesses(b: &Block) -> (Access, Vec<Access>) {
    let mut bind: BTreeMap<VarId, Idx> = BTreeMap::new();
    for (v, e) in &b.bind {
        let e = e.subst(&|x| bind.get(&x).cloned());
        bind.insert(*v, e);
    }
    let store = resolve(&b.store, &bind);
    let mut raw = vec![];
    b.value.loads(&mut raw);
    let loads: Vec<Access> = raw.into_iter().map(|a| resolve(a, &bind)).collect();
    (store, loads)
}

/// Facts of the loops around the block: counts and extent products per kind, the vectorised
/// and innermost loops with the strides of `store` and `loads` along them, the unrolled
/// iterations and whether the outermost loop is parallel.
fn loop_facts(info: &mut BlockInfo, f: &Func, loops: &[LoopCtx], store: &Access, loads: &[Access]) {
    for k in &mut info.kind_stats {
        *k = (0.0, 1.0);
    }
    for l in loops {
        let s = &mut info.kind_stats[kind_slot(l.kind)];
        s.0 += 1.0;
        s.1 *= l.extent;
    }
    if let Some(p) = loops.iter().rposition(|l| l.kind == LoopKind::Vectorized) {
        let v = loops[p].var;
        info.vec_width = loops[p].extent;
        info.vec_innermost = p + 1 == loops.len();
        info.vec_store = Some(stride_class(f, store, v));
        info.vec_loads = loads.iter().map(|a| stride_class(f, a, v)).collect();
    }
    if let Some(l) = loops.last() {
        info.inner_store = Some(stride_class(f, store, l.var));
        info.inner_loads = loads.iter().map(|a| stride_class(f, a, l.var)).collect();
        info.store_inner_invariant = !store.idx.iter().any(|e| e.mentions(l.var));
    }
    info.unroll_inner = 1.0;
    for l in loops.iter().rev() {
        match l.kind {
            LoopKind::Vectorized => continue,
            LoopKind::Unrolled => info.unroll_inner *= l.extent,
            _ => break,
        }
    }
    info.parallel_outermost = loops.first().is_some_and(|l| l.kind == LoopKind::Parallel);
}

/// Footprints per level, one region per buffer (the largest of its accesses): bytes of all
/// buffers and of the stored one, from inside the innermost loop out to the whole nest.
fn footprints(info: &mut BlockInfo, f: &Func, loops: &[LoopCtx], store: &Access, loads: &[Access]) {
    let depth = loops.len();
    let all: Vec<&Access> = std::iter::once(store).chain(loads.iter()).collect();
    let mut bufs: Vec<colt_ir::BufId> = all.iter().map(|a| a.buf).collect();
    bufs.sort();
    bufs.dedup();
    info.n_buffers = bufs.len() as f64;
    // upper bound of every loop variable: 0 while outside the level, extent - 1 inside
    let n_vars = loops
        .iter()
        .map(|l| l.var.0 as usize + 1)
        .max()
        .unwrap_or(0)
        .min(f.vars.len().max(1) * 4 + 64);
    let mut hi = vec![0.0; n_vars];
    for k in 0..=depth {
        if k > 0 {
            let l = &loops[depth - k];
            if let Some(h) = hi.get_mut(l.var.0 as usize) {
                *h = l.extent - 1.0;
            }
        }
        let mut per_buf: BTreeMap<colt_ir::BufId, f64> = BTreeMap::new();
        for a in &all {
            let n = region_elems(f, a, &hi);
            let e = per_buf.entry(a.buf).or_insert(0.0);
            *e = e.max(n);
        }
        info.bytes.push(per_buf.values().sum::<f64>() * ELEM_BYTES);
        info.store_bytes
            .push(per_buf.get(&store.buf).copied().unwrap_or(0.0) * ELEM_BYTES);
    }
}
