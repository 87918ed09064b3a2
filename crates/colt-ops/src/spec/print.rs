//! [`to_spec`]: a program back as spec text, such that parsing the text gives the program.
//!
//! Statements print as the IR prints them ([`colt_ir::Value::display`]), which is the spec's
//! syntax: `neg(x)`, `max(a, b)`, `select(lo <= i < hi && ..., a, b)` for a select on indices,
//! `select(a > b, x, y)` for one on values, right operands of equal precedence in
//! parentheses. Shapes and extents print as numbers; `extents` only where inference from the
//! shapes would not give the program's. What the format cannot say is an error, and the text
//! is parsed back and compared before it is returned, so a program comes back equal or not
//! at all.

use super::{MAX_EXTENT, from_spec_str, is_ident};
use crate::OpsError;
use colt_ir::{BufKind, Idx, IterKind, Program, Stage, Value, VarId};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The spec text of `p`: [`from_spec_str`] of it gives a program equal to `p` (the same
/// buffers in the same order, stages, variables and iteration order).
///
/// A program the format cannot express is an error naming the stage or buffer and why: a
/// local buffer, an index with `/` or `%`, a non-finite constant, loops in an order other
/// than the output's indices then the reductions by first appearance, buffers in an order
/// other than inputs by first use then the stages' outputs.
pub fn to_spec(p: &Program) -> Result<String, OpsError> {
    let fail = |msg: String| OpsError::Unexpressible {
        program: p.name.clone(),
        msg,
    };
    check_names(p).map_err(fail)?;
    check_buffer_order(p).map_err(fail)?;
    for st in &p.stages {
        check_stage(p, st).map_err(|m| fail(format!("stage \"{}\": {m}", st.name)))?;
    }
    let text = render(p);
    match from_spec_str(&text) {
        Ok(q) if q == *p => Ok(text),
        Ok(q) => Err(fail(format!(
            "its spec reads back as a different program ({})",
            first_difference(p, &q)
        ))),
        Err(e) => Err(fail(format!("its spec does not read back: {e}"))),
    }
}

/// Identifiers for the program, buffers and stages; no buffer kind the format lacks.
fn check_names(p: &Program) -> Result<(), String> {
    if !is_ident(&p.name) {
        return Err("the program name is not a C identifier".into());
    }
    distinct_idents("buffer", p.buffers.iter().map(|b| b.name.as_str()))?;
    distinct_idents("stage", p.stages.iter().map(|s| s.name.as_str()))?;
    for b in &p.buffers {
        if b.kind == BufKind::Local {
            return Err(format!(
                "buffer \"{}\" is a local (a spec has inputs, outputs and temps)",
                b.name
            ));
        }
        if b.shape.iter().any(|&n| n <= 0 || n > MAX_EXTENT) {
            return Err(format!("buffer \"{}\": shape {:?}", b.name, b.shape));
        }
    }
    Ok(())
}

/// Every name an identifier, none twice; `what` names them in the error.
fn distinct_idents<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for n in names {
        if !is_ident(n) || !seen.insert(n) {
            return Err(format!("{what} \"{n}\": not an identifier, or named twice"));
        }
    }
    Ok(())
}

/// The spec orders buffers: inputs by first use, then each stage's output in stage order.
fn check_buffer_order(p: &Program) -> Result<(), String> {
    let mut want: Vec<&str> = vec![];
    for st in &p.stages {
        for b in st.reads() {
            let buf = p.buffer(b);
            if buf.kind == BufKind::Input && !want.contains(&buf.name.as_str()) {
                want.push(&buf.name);
            }
        }
    }
    want.extend(p.stages.iter().map(|s| p.buffer(s.store.buf).name.as_str()));
    let have: Vec<&str> = p.buffers.iter().map(|b| b.name.as_str()).collect();
    if have != want {
        return Err(format!(
            "buffers are ordered {} but a spec orders them {} (inputs by first use, then the stages' outputs)",
            have.join(", "),
            want.join(", ")
        ));
    }
    Ok(())
}

/// Variables with distinct names that are not buffers; affine indices; finite constants;
/// loops in the spec's order.
fn check_stage(p: &Program, st: &Stage) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for it in &st.iters {
        let name = p.var_name(it.var);
        if !is_ident(name) || !names.insert(name) || p.buffer_by_name(name).is_some() {
            return Err(format!(
                "variable \"{name}\" is not an identifier, is named twice or names a buffer"
            ));
        }
    }
    let mut idx: Vec<&Idx> = st.store.idx.iter().collect();
    let mut consts = vec![];
    walk(&st.value, &mut idx, &mut consts);
    if let Some(e) = idx.iter().find(|e| e.affine().is_none()) {
        return Err(format!(
            "index {} divides (spec indices are affine)",
            e.display(&p.vars)
        ));
    }
    if let Some(c) = consts.iter().find(|c| !c.is_finite()) {
        return Err(format!("the constant {c} is not finite"));
    }
    let mut order: Vec<VarId> = vec![];
    for e in idx {
        e.vars(&mut order);
    }
    let have: Vec<VarId> = st.iters.iter().map(|i| i.var).collect();
    let spatial_first = st.spatial().count() == st.store.idx.len()
        && st.iters[..st.store.idx.len()]
            .iter()
            .all(|i| i.kind == IterKind::Spatial);
    if have != order || !spatial_first {
        let show = |vs: &[VarId]| {
            vs.iter()
                .map(|&v| p.var_name(v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "loops run {} but a spec runs the output's indices, then the others by first appearance ({})",
            show(&have),
            show(&order)
        ));
    }
    Ok(())
}

/// Every index and every constant of `v`, indices in the order the spec meets their
/// variables: as printed, except that a select's bounds come after its two values.
fn walk<'a>(v: &'a Value, idx: &mut Vec<&'a Idx>, consts: &mut Vec<f32>) {
    match v {
        Value::Const(c) => consts.push(*c),
        Value::Load(a) => idx.extend(&a.idx),
        Value::Unary(_, a) => walk(a, idx, consts),
        Value::Binary(_, a, b) => {
            walk(a, idx, consts);
            walk(b, idx, consts)
        }
        Value::Select(bounds, a, b) => {
            walk(a, idx, consts);
            walk(b, idx, consts);
            idx.extend(bounds.iter().map(|b| &b.idx));
        }
        Value::Compare(_, vs) => vs.iter().for_each(|x| walk(x, idx, consts)),
    }
}

/// The TOML text: name, tensors in buffer order, one `[[stage]]` per stage.
fn render(p: &Program) -> String {
    let mut out = format!("name = {}\n\n[tensors]\n", quoted(&p.name));
    for b in &p.buffers {
        let role = match b.kind {
            BufKind::Input => "input",
            BufKind::Output => "output",
            _ => "temp",
        };
        let _ = writeln!(
            out,
            "{} = {{ shape = {:?}, role = \"{role}\" }}",
            b.name, b.shape
        );
    }
    for st in &p.stages {
        let op = st.reduce.map_or("=", |r| r.op_str());
        let compute = format!(
            "{} {op} {}",
            st.store.display(&p.buffers, &p.vars),
            st.value.display(&p.buffers, &p.vars)
        );
        let _ = write!(
            out,
            "\n[[stage]]\nname = {}\ncompute = {}\n",
            quoted(&st.name),
            quoted(&compute)
        );
        let explicit = explicit_extents(p, st);
        if !explicit.is_empty() {
            let _ = writeln!(out, "extents = {{ {} }}", explicit.join(", "));
        }
    }
    out
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `v = extent` for every variable whose extent the spec would not infer: one that indexes
/// no dimension alone, or one whose dimensions disagree with it.
fn explicit_extents(p: &Program, st: &Stage) -> Vec<String> {
    let mut accesses = vec![&st.store];
    st.value.loads(&mut accesses);
    st.iters
        .iter()
        .filter(|it| {
            let dims: Vec<i64> = accesses
                .iter()
                .flat_map(|a| {
                    let shape = &p.buffer(a.buf).shape;
                    a.idx
                        .iter()
                        .zip(shape)
                        .filter(|(e, _)| **e == Idx::Var(it.var))
                        .map(|(_, &n)| n)
                })
                .collect();
            dims.is_empty() || dims.iter().any(|&n| n != it.extent)
        })
        .map(|it| format!("{} = {}", p.var_name(it.var), it.extent))
        .collect()
}

/// Where `q` first differs from `p`, in words.
fn first_difference(p: &Program, q: &Program) -> String {
    if p.buffers != q.buffers {
        return "the buffers differ".into();
    }
    if p.vars != q.vars {
        return "the variables differ".into();
    }
    match p.stages.iter().zip(&q.stages).find(|(a, b)| a != b) {
        Some((a, b)) => format!(
            "stage \"{}\" reads back as {} {} {}",
            a.name,
            b.store.display(&q.buffers, &q.vars),
            b.reduce.map_or("=", |r| r.op_str()),
            b.value.display(&q.buffers, &q.vars)
        ),
        None => "the stages differ".into(),
    }
}
