//! Elementwise operators: one stage `Y[v..] = value` whose loads index the inputs by
//! expressions of the output's variables (broadcasting, views, concatenation, gathers).

use colt_ir::{Access, BufId, Idx, Program, Value, VarId};

/// A load of argument `i` at explicit indices over the output's placeholder variables.
pub(crate) fn arg(i: usize, idx: Vec<Idx>) -> Value {
    Value::load(BufId(i as u32), idx)
}

/// A load of argument `i` of shape `shape` broadcast (numpy rules, right-aligned) to an
/// output of shape `out`: a dimension of extent 1 where the output's is larger is indexed
/// by 0.
pub(crate) fn bcast_load(i: usize, shape: &[i64], out: &[i64]) -> Value {
    let off = out.len() - shape.len();
    let idx = shape
        .iter()
        .enumerate()
        .map(|(d, &e)| {
            if e == 1 && out[off + d] != 1 {
                Idx::Const(0)
            } else {
                Idx::Var(VarId((off + d) as u32))
            }
        })
        .collect();
    arg(i, idx)
}

/// True when the value only moves data: a load, or a choice between loads (Concat,
/// Gather), with no arithmetic.
pub(crate) fn is_view(v: &Value) -> bool {
    match v {
        Value::Load(_) => true,
        Value::Select(_, a, b) => is_view(a) && is_view(b) || is_view(a) && is_zero(b),
        _ => false,
    }
}

fn is_zero(v: &Value) -> bool {
    matches!(v, Value::Const(c) if *c == 0.0)
}

/// `value` with the placeholder variables `VarId(d)` replaced by `vars[d]` and argument `i`
/// by buffer `ins[i]` (a scalar argument, loaded with no index, is the `[1]` buffer at 0).
pub(crate) fn instantiate(value: &Value, ins: &[BufId], vars: &[Idx]) -> Value {
    let sub = |e: &Idx| e.subst(&|v: VarId| Some(vars[v.0 as usize].clone()));
    value.map(
        &mut |a: &Access| {
            Some(Value::Load(Access {
                buf: ins[a.buf.0 as usize],
                idx: match a.idx.is_empty() {
                    true => vec![Idx::Const(0)],
                    false => a.idx.iter().map(sub).collect(),
                },
            }))
        },
        &sub,
    )
}

/// One stage `out[v..] = value` over the output's shape.
pub(crate) fn emit_elementwise(p: &mut Program, value: &Value, ins: &[BufId], out: BufId) {
    let shape = p.buffer(out).shape.clone();
    let name = if is_view(value) { "copy" } else { "map" };
    super::stage(p, name, &super::spatial(&shape), |v| {
        (out, None, instantiate(value, ins, v))
    });
}
