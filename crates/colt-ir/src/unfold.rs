//! Unfolding strided windows: a layout rewrite of the buffers a strided window reads.
//!
//! A stride-2 convolution reads `P[n, c, 2y + r, 2x + q]`: vector lanes over its innermost
//! loop `x` touch every other element, so no register tile holds it and every lane is a
//! gather. [`unfold_strided_windows`] gives such a read a buffer of its own in which the
//! window's taps are a dimension and the lane loop is the last, contiguous one — a stage
//! `unfold_P` writes `P_u[n, c, h, q, x] = P[n, c, h, 2x + q]` and the reader loads
//! `P_u[n, c, 2y + r, q, x]` — the width half of an im2col, `kernel / stride` times the
//! rows it copies (1.5x for a 3x3 stride-2 window). The rewrite keeps every value the
//! program computes; the scheduler may still inline the new stage back (the strided read) or
//! compute it inside its reader. Nothing here names an operator: any stage whose innermost
//! spatial variable steps a buffer's last dimension by more than one element qualifies.

use crate::{Access, BufKind, IterKind, Program, Stage, Value, VarId};

/// Largest unfolded buffer, as a multiple of the buffer it copies: a window much wider than
/// its stride (a 7-tap window at stride 2 copies 3.5x) is worth it; beyond this the copy
/// outweighs what contiguous lanes save.
const MAX_GROWTH: i64 = 8;

/// A read of `access` in which the stage's innermost spatial variable `lane` (with its
/// extent) steps the last dimension by more than one element, plus at most one `tap`
/// variable (with its extent) and a constant.
#[derive(Clone, Debug, PartialEq)]
struct Window {
    access: Access,
    lane: (VarId, i64),
    tap: Option<(VarId, i64)>,
}

/// The program with every strided window read unfolded (see the module docs); a clone when
/// no read qualifies. Applying it twice changes nothing more.
pub fn unfold_strided_windows(p: &Program) -> Program {
    let mut out = p.clone();
    let mut c = 0;
    while c < out.stages.len() {
        if let Some(w) = find_window(&out, c) {
            unfold(&mut out, c, &w);
            out.compact_vars();
        }
        // After an unfold its stage sits at `c` and the reader at `c + 1`, looked at again
        // for another strided buffer.
        c += 1;
    }
    out
}

/// The first strided window stage `c` reads, if any qualifies.
fn find_window(p: &Program, c: usize) -> Option<Window> {
    let st = &p.stages[c];
    // Only reductions: an elementwise stage (an unfold stage among them) touches each element
    // once, so a copy to make its lanes contiguous costs as much as it saves.
    st.reduce?;
    let lane = st.spatial().last()?;
    let mut loads = vec![];
    st.value.loads(&mut loads);
    loads
        .iter()
        .filter_map(|a| window(p, st, (lane.var, lane.extent), a))
        .find(|w| {
            loads
                .iter()
                .all(|b| b.buf != w.access.buf || **b == w.access)
        })
}

/// Whether `a` is a strided window read of stage `st` with lane variable `lane`.
fn window(p: &Program, st: &Stage, lane: (VarId, i64), a: &Access) -> Option<Window> {
    let buf = p.buffer(a.buf);
    if !matches!(buf.kind, BufKind::Input | BufKind::Temp) {
        return None;
    }
    let (last, lead) = a.idx.split_last()?;
    let aff = last.affine()?;
    let stride = *aff.terms.get(&lane.0)?;
    if stride < 2 {
        return None;
    }
    let others: Vec<(VarId, i64)> = aff
        .terms
        .iter()
        .filter(|(v, _)| **v != lane.0)
        .map(|(v, c)| (*v, *c))
        .collect();
    let tap = match others[..] {
        [] => None,
        [(v, coef)] if coef > 0 => Some((v, coef, st.iter(v)?.extent)),
        _ => return None,
    };
    let mentions = |v: VarId| lead.iter().any(|e| e.mentions(v));
    if mentions(lane.0) || tap.is_some_and(|(v, _, _)| mentions(v)) {
        return None;
    }
    let reach = tap.map_or(0, |(_, coef, n)| coef * (n - 1));
    let extent = *buf.shape.last()?;
    if aff.constant < 0 || stride * (lane.1 - 1) + reach + aff.constant >= extent {
        return None;
    }
    // The copy has `taps * lanes` elements for every `extent` of the source's last dimension.
    let taps = tap.map_or(1, |(_, _, n)| n);
    if taps * lane.1 > MAX_GROWTH * extent {
        return None;
    }
    Some(Window {
        access: a.clone(),
        lane,
        tap: tap.map(|(v, _, n)| (v, n)),
    })
}

/// Insert the unfold stage for `w` before stage `c` and make `c` read its buffer.
fn unfold(p: &mut Program, c: usize, w: &Window) {
    let src = w.access.buf;
    let buf = p.buffer(src).clone();
    let name = fresh(p, &buf.name);
    let lead = &buf.shape[..buf.shape.len() - 1];
    let names = lead_names(p, src, lead.len());
    let mut dims: Vec<(String, i64)> = names.into_iter().zip(lead.iter().copied()).collect();
    if let Some((v, n)) = w.tap {
        dims.push((p.var_name(v).to_string(), n));
    }
    dims.push((p.var_name(w.lane.0).to_string(), w.lane.1));
    dedupe(&mut dims);
    let shape: Vec<i64> = dims.iter().map(|(_, n)| *n).collect();
    // The new buffer goes just before the reader's output, where a spec orders it.
    let ub = p.stages[c].store.buf;
    p.insert_buffer(
        ub,
        crate::Buffer {
            name: format!("{name}_u"),
            shape,
            kind: BufKind::Temp,
        },
    );
    let src = if src.0 >= ub.0 {
        crate::BufId(src.0 + 1)
    } else {
        src
    };
    let mut access = w.access.clone();
    access.buf = src;
    let iters: Vec<(&str, i64, IterKind)> = dims
        .iter()
        .map(|(n, e)| (n.as_str(), *e, IterKind::Spatial))
        .collect();
    let (lane, tap) = (w.lane.0, w.tap.map(|(v, _)| v));
    let last = access
        .idx
        .last()
        .expect("a window reads a dimension")
        .clone();
    p.add_stage_at(c, format!("unfold_{name}"), &iters, |v| {
        // The reader's own column expression, its lane and tap variables renamed.
        let x = v[v.len() - 1].clone();
        let q = v[v.len().saturating_sub(2)].clone();
        let col = last.subst(&|u| {
            (u == lane)
                .then(|| x.clone())
                .or_else(|| (Some(u) == tap).then(|| q.clone()))
        });
        // In affine normal form (terms by variable), as a spec's parser writes it.
        let col = col.affine().map_or(col, |a| a.to_idx());
        let mut idx: Vec<crate::Idx> = v[..lead.len()].to_vec();
        idx.push(col);
        (ub, None, Value::load(src, idx))
    });
    let mut idx: Vec<crate::Idx> = access.idx[..lead.len()].to_vec();
    if let Some((v, _)) = w.tap {
        idx.push(crate::Idx::Var(v));
    }
    idx.push(crate::Idx::Var(w.lane.0));
    let reader = &mut p.stages[c + 1];
    reader.value = reader.value.map(
        &mut |a| (*a == access).then(|| Value::load(ub, idx.clone())),
        &|e| e.clone(),
    );
}

/// Names for the leading dimensions of buffer `b`: its producer's loop names where it has
/// one, else `i0, i1, ...`.
fn lead_names(p: &Program, b: crate::BufId, n: usize) -> Vec<String> {
    match p.producer(b) {
        Some(s) => p.stages[s]
            .spatial()
            .take(n)
            .map(|iv| p.var_name(iv.var).to_string())
            .collect(),
        None => (0..n).map(|d| format!("i{d}")).collect(),
    }
}

/// Make the loop names unique (a producer's loop may share a name with the reader's).
fn dedupe(dims: &mut [(String, i64)]) {
    for i in 1..dims.len() {
        while dims[..i].iter().any(|(n, _)| *n == dims[i].0) {
            dims[i].0.push('u');
        }
    }
}

/// `base`, or `base` with `u` appended until neither a buffer `{name}_u` nor a stage
/// `unfold_{name}` exists.
fn fresh(p: &Program, base: &str) -> String {
    let mut name = base.to_string();
    while p.buffer_by_name(&format!("{name}_u")).is_some()
        || p.stage_index(&format!("unfold_{name}")).is_some()
    {
        name.push('u');
    }
    name
}
