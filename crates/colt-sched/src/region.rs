//! Bound inference: the box of buffer elements touched while some loops run.

use colt_ir::{Idx, Interval, VarId};

/// Per dimension `(min, extent)`: the bounding box of `accesses` (index lists already written in
/// loop variables) while the `inner` loops range over `0..extent` and every other variable is
/// held fixed. `min` may mention the fixed variables; extents are constants. Anything that
/// cannot be bounded exactly falls back to the whole dimension.
pub fn region(
    accesses: &[Vec<Idx>],
    inner: &[(VarId, i64)],
    shape: &[i64],
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Vec<(Idx, i64)> {
    let is_inner = |v: VarId| inner.iter().any(|(x, _)| *x == v);
    let inner_range = |v: VarId| inner.iter().find(|(x, _)| *x == v).map(|(_, e)| Interval { lo: 0, hi: e - 1 });
    (0..shape.len())
        .map(|d| {
            let mut acc: Option<(Idx, i64, i64)> = None;
            for a in accesses {
                let Some((sym, lo, hi)) = dim_box(&a[d], &is_inner, &inner_range, range) else {
                    return (Idx::Const(0), shape[d]);
                };
                acc = match acc {
                    None => Some((sym, lo, hi)),
                    Some((s, l, h)) if s == sym => Some((s, l.min(lo), h.max(hi))),
                    Some(_) => return (Idx::Const(0), shape[d]),
                };
            }
            match acc {
                None => (Idx::Const(0), shape[d]),
                Some((sym, lo, hi)) => {
                    let min = (sym + Idx::Const(lo)).simplify(range);
                    (min, (hi - lo + 1).min(shape[d]))
                }
            }
        })
        .collect()
}

/// `(symbolic part, lo offset, hi offset)` of one index expression.
fn dim_box(
    e: &Idx,
    is_inner: &dyn Fn(VarId) -> bool,
    inner_range: &dyn Fn(VarId) -> Option<Interval>,
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Option<(Idx, i64, i64)> {
    let e = e.simplify(range);
    if let Some(aff) = e.affine() {
        let (mut lo, mut hi) = (aff.constant, aff.constant);
        let mut sym = colt_ir::Affine::default();
        for (&v, &c) in &aff.terms {
            if let Some(iv) = inner_range(v) {
                let (a, b) = (c * iv.lo, c * iv.hi);
                lo += a.min(b);
                hi += a.max(b);
            } else {
                sym.terms.insert(v, c);
            }
        }
        return Some((sym.to_idx(), lo, hi));
    }
    let mut vs = vec![];
    e.vars(&mut vs);
    let n_inner = vs.iter().filter(|v| is_inner(**v)).count();
    if n_inner == 0 {
        Some((e, 0, 0))
    } else if n_inner == vs.len() {
        let iv = e.interval(inner_range)?;
        Some((Idx::Const(0), iv.lo, iv.hi))
    } else {
        None
    }
}
