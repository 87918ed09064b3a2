//! Structural checks of a lowered [`Func`]. Every error names the offending entity.

use crate::expr::{Access, BufId, Idx, Interval, Value, VarId};
use crate::func::{Func, LoopKind, Stmt};
use crate::program::BufKind;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{entity}: {msg}")]
pub struct VerifyError {
    pub entity: String,
    pub msg: String,
}

struct Ctx<'a> {
    f: &'a Func,
    ranges: Vec<Option<Interval>>,
    locals: Vec<BufId>,
    in_parallel: bool,
}

/// Check variables are bound, buffers exist and are in scope, accesses have the right rank
/// and stay in bounds (except under a `select` guard), extents are positive and parallel
/// loops do not nest.
pub fn verify(f: &Func) -> Result<(), VerifyError> {
    let mut cx = Ctx {
        f,
        ranges: vec![None; f.vars.len()],
        locals: vec![],
        in_parallel: false,
    };
    check_body(&mut cx, &f.body)
}

fn err(entity: impl Into<String>, msg: impl Into<String>) -> VerifyError {
    VerifyError {
        entity: entity.into(),
        msg: msg.into(),
    }
}

fn check_body(cx: &mut Ctx, body: &[Stmt]) -> Result<(), VerifyError> {
    for st in body {
        match st {
            Stmt::Loop(l) => {
                let name = format!("loop {}", var_name(cx.f, l.var)?);
                if l.extent <= 0 {
                    return Err(err(name, format!("extent {} is not positive", l.extent)));
                }
                if cx.ranges[l.var.0 as usize].is_some() {
                    return Err(err(name, "variable is already bound by an enclosing loop"));
                }
                let was_parallel = cx.in_parallel;
                if l.kind == LoopKind::Parallel {
                    if cx.in_parallel {
                        return Err(err(
                            name,
                            "parallel loop nested inside another parallel loop",
                        ));
                    }
                    cx.in_parallel = true;
                }
                cx.ranges[l.var.0 as usize] = Some(Interval {
                    lo: 0,
                    hi: l.extent - 1,
                });
                check_body(cx, &l.body)?;
                cx.ranges[l.var.0 as usize] = None;
                cx.in_parallel = was_parallel;
            }
            Stmt::Alloc { buf, body } => {
                let b = buffer(cx.f, *buf, "alloc")?;
                if b.kind != BufKind::Local {
                    return Err(err(
                        format!("alloc {}", b.name),
                        "only local buffers can be allocated",
                    ));
                }
                cx.locals.push(*buf);
                check_body(cx, body)?;
                cx.locals.pop();
            }
            Stmt::Block(blk) => {
                let entity = format!("block {}", blk.name);
                let mut bound = vec![];
                for (v, e) in &blk.bind {
                    let iv = check_idx(cx, e, &entity)?;
                    bound.push((*v, cx.ranges[v.0 as usize]));
                    cx.ranges[v.0 as usize] = Some(iv);
                }
                let r = check_access(cx, &blk.store, &entity, true)
                    .and_then(|_| check_value(cx, &blk.value, &entity, true));
                for (v, old) in bound.into_iter().rev() {
                    cx.ranges[v.0 as usize] = old;
                }
                r?;
            }
        }
    }
    Ok(())
}

fn var_name(f: &Func, v: VarId) -> Result<&str, VerifyError> {
    f.vars
        .get(v.0 as usize)
        .map(|s| s.as_str())
        .ok_or_else(|| err(format!("variable #{}", v.0), "not declared"))
}

fn buffer<'a>(f: &'a Func, b: BufId, entity: &str) -> Result<&'a crate::Buffer, VerifyError> {
    f.buffers
        .get(b.0 as usize)
        .ok_or_else(|| err(entity, format!("buffer #{} is not declared", b.0)))
}

fn check_idx(cx: &Ctx, e: &Idx, entity: &str) -> Result<Interval, VerifyError> {
    let mut vs = vec![];
    e.vars(&mut vs);
    for v in vs {
        let name = var_name(cx.f, v)?;
        if cx.ranges[v.0 as usize].is_none() {
            return Err(err(
                entity,
                format!("variable {name} is used but not bound here"),
            ));
        }
    }
    Ok(e.interval(&|v| cx.ranges[v.0 as usize])
        .expect("all variables bound"))
}

fn check_access(cx: &Ctx, a: &Access, entity: &str, bounds: bool) -> Result<(), VerifyError> {
    let b = buffer(cx.f, a.buf, entity)?;
    if b.kind == BufKind::Local && !cx.locals.contains(&a.buf) {
        return Err(err(
            entity,
            format!("local buffer {} used outside its alloc", b.name),
        ));
    }
    if a.idx.len() != b.shape.len() {
        return Err(err(
            entity,
            format!(
                "buffer {} has {} dimensions but is indexed with {}",
                b.name,
                b.shape.len(),
                a.idx.len()
            ),
        ));
    }
    for (d, (e, &n)) in a.idx.iter().zip(&b.shape).enumerate() {
        let iv = check_idx(cx, e, entity)?;
        if bounds && (iv.lo < 0 || iv.hi >= n) {
            return Err(err(
                entity,
                format!(
                    "index {} of {} ranges over [{}, {}], outside [0, {})",
                    d, b.name, iv.lo, iv.hi, n
                ),
            ));
        }
    }
    Ok(())
}

fn check_value(cx: &Ctx, v: &Value, entity: &str, bounds: bool) -> Result<(), VerifyError> {
    match v {
        Value::Const(_) => Ok(()),
        Value::Load(a) => check_access(cx, a, entity, bounds),
        Value::Unary(_, a) => check_value(cx, a, entity, bounds),
        Value::Binary(_, a, b) => {
            check_value(cx, a, entity, bounds)?;
            check_value(cx, b, entity, bounds)
        }
        Value::Select(bs, a, b) => {
            for c in bs {
                check_idx(cx, &c.idx, entity)?;
            }
            check_value(cx, a, entity, false)?;
            check_value(cx, b, entity, bounds)
        }
    }
}
