//! Bound inference: the box of buffer elements touched while some loops run.
//!
//! Read regions (what a computed-at stage must produce) may over-approximate: producing extra
//! in-bounds elements is harmless. Write regions (a reduction's initialisation, a write
//! cache's write-back) must be exact, or they would clobber elements other iterations own, so
//! [`region_exact`] reports a dimension it cannot bound exactly as `None`.

use colt_ir::{Idx, Interval, VarId};

/// Per dimension `(min, extent)`: the bounding box of `accesses` (index lists already written in
/// loop variables) while the `inner` loops range over `0..extent` and every other variable is
/// held fixed. `min` may mention the fixed variables; extents are constants. Anything that
/// cannot be bounded falls back to the whole dimension.
pub fn region(
    accesses: &[Vec<Idx>],
    inner: &[(VarId, i64)],
    shape: &[i64],
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Vec<(Idx, i64)> {
    boxes(accesses, inner, shape, range)
        .into_iter()
        .zip(shape)
        .map(|(b, &n)| b.map_or((Idx::Const(0), n), |(min, ext, _)| (min, ext)))
        .collect()
}

/// The box written by one store while the `inner` loops run, when every element of the box is
/// written and no other: `None` for a dimension where that cannot be shown.
pub fn region_exact(
    store: &[Idx],
    inner: &[(VarId, i64)],
    shape: &[i64],
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Vec<Option<(Idx, i64)>> {
    boxes(&[store.to_vec()], inner, shape, range)
        .into_iter()
        .map(|b| b.and_then(|(min, ext, dense)| dense.then_some((min, ext))))
        .collect()
}

/// Per dimension: `(min, extent, dense)` or `None` when not boundable.
fn boxes(
    accesses: &[Vec<Idx>],
    inner: &[(VarId, i64)],
    shape: &[i64],
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Vec<Option<(Idx, i64, bool)>> {
    let is_inner = |v: VarId| inner.iter().any(|(x, _)| *x == v);
    let inner_range = |v: VarId| {
        inner
            .iter()
            .find(|(x, _)| *x == v)
            .map(|(_, e)| Interval { lo: 0, hi: e - 1 })
    };
    (0..shape.len())
        .map(|d| {
            let mut acc: Option<(Idx, i64, i64, bool)> = None;
            for a in accesses {
                let (sym, lo, hi, dense) = dim_box(&a[d], &is_inner, &inner_range, range)?;
                acc = match acc {
                    None => Some((sym, lo, hi, dense)),
                    Some((s, l, h, _)) if s == sym => Some((s, l.min(lo), h.max(hi), false)),
                    Some(_) => return None,
                };
            }
            let (sym, lo, hi, dense) = acc?;
            let min = (sym + Idx::Const(lo)).simplify(range);
            let ext = hi - lo + 1;
            Some(if ext > shape[d] {
                (Idx::Const(0), shape[d], false)
            } else {
                (min, ext, dense)
            })
        })
        .collect()
}

/// Flatten a sum into its terms.
fn terms(e: &Idx, out: &mut Vec<Idx>) {
    match e {
        Idx::Add(a, b) => {
            terms(a, out);
            terms(b, out);
        }
        e => out.push(e.clone()),
    }
}

/// `(symbolic part, lo offset, hi offset, dense)` of one index expression: terms without inner
/// variables are symbolic, terms with only inner variables are bounded by interval arithmetic;
/// a term mixing both cannot be bounded. `dense` holds when the inner terms are affine and
/// cover every value between `lo` and `hi` (coefficients form a mixed radix).
fn dim_box(
    e: &Idx,
    is_inner: &dyn Fn(VarId) -> bool,
    inner_range: &dyn Fn(VarId) -> Option<Interval>,
    range: &dyn Fn(VarId) -> Option<Interval>,
) -> Option<(Idx, i64, i64, bool)> {
    let e = e.simplify(range);
    let mut ts = vec![];
    terms(&e, &mut ts);
    let (mut lo, mut hi) = (0i64, 0i64);
    let mut sym: Option<Idx> = None;
    let mut affine_inner: Vec<(i64, i64)> = vec![];
    let mut dense = true;
    for t in ts {
        let mut vs = vec![];
        t.vars(&mut vs);
        let n_inner = vs.iter().filter(|v| is_inner(**v)).count();
        if n_inner == 0 {
            sym = Some(match sym {
                None => t,
                Some(s) => s + t,
            });
        } else if n_inner == vs.len() {
            let iv = t.interval(inner_range)?;
            lo += iv.lo;
            hi += iv.hi;
            match t.affine() {
                Some(aff) if aff.terms.len() == 1 => {
                    let (&v, &c) = aff.terms.iter().next().expect("one term");
                    let ext = inner_range(v).expect("inner").hi + 1;
                    if ext > 1 {
                        affine_inner.push((c.abs(), ext));
                    }
                }
                Some(aff) if aff.terms.is_empty() => {}
                _ => dense = false,
            }
        } else {
            return None;
        }
    }
    if dense {
        affine_inner.sort_unstable();
        let mut need = 1;
        for (c, ext) in affine_inner {
            if c != need {
                dense = false;
                break;
            }
            need = c * ext;
        }
    }
    let sym = sym.map_or(Idx::Const(0), |s| s.simplify(range));
    Some((sym, lo, hi, dense))
}

/// `a - b`, simplified so that equal non-affine subterms (`f / 2`, `f % 2` of a fused loop)
/// cancel: the offset of a global index from a tile's base must be provably in range.
pub fn sub(a: &Idx, b: &Idx, range: &dyn Fn(VarId) -> Option<Interval>) -> Idx {
    let mut atoms = vec![];
    let mut konst = 0;
    a.simplify(range).linear_terms(1, &mut atoms, &mut konst);
    b.simplify(range).linear_terms(-1, &mut atoms, &mut konst);
    Idx::from_terms(&atoms, konst).simplify(range)
}
