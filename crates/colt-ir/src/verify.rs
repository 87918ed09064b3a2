//! Structural checks of a lowered [`Func`]. Every error names the offending entity, and the
//! check reports every rule the function breaks, not only the first.
//!
//! The rules:
//! - every variable is declared, and bound (by an enclosing loop or the block's bindings)
//!   where it is used; a loop does not rebind a variable an enclosing loop binds;
//! - loop extents are positive; a parallel loop does not nest inside another;
//! - every buffer is declared; only local buffers are allocated, and a local buffer is used
//!   only inside its allocation;
//! - an access has as many indices as its buffer has dimensions, and each index stays in
//!   bounds (except in the taken branch of a `select`, which its guard protects).
//!
//! One fault is reported once: a loop with a bad extent or a binding with a bad index still
//! binds its variable (to an unknown range, so no bounds are checked against it), and an
//! undeclared variable or buffer is reported once however often it is used.

use crate::expr::{Access, BufId, Idx, Interval, Value, VarId};
use crate::func::{Block, Func, Loop, LoopKind, Stmt};
use crate::program::BufKind;
use std::fmt;
use thiserror::Error;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{entity}: {msg}")]
pub struct VerifyError {
    /// What breaks it: `loop i`, `alloc C_c`, `block mm`, `variable #7`.
    pub entity: String,
    /// What is wrong.
    pub msg: String,
}

/// Every rule a function breaks, in the order the check meets them (never empty).
///
/// Displays one error per line. Callers that want a single error take [`first`]
/// (`VerifyError::from` does the same).
///
/// [`first`]: VerifyErrors::first
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyErrors(Vec<VerifyError>);

impl VerifyErrors {
    /// All errors, in the order the check met them (shown on one line, `; ` between).
    pub fn errors(&self) -> &[VerifyError] {
        &self.0
    }
    /// The first error met: what [`verify`] returned before it collected them all.
    pub fn first(&self) -> &VerifyError {
        &self.0[0]
    }
}

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyErrors {}

/// The first error of the list.
impl From<VerifyErrors> for VerifyError {
    fn from(es: VerifyErrors) -> Self {
        es.0.into_iter()
            .next()
            .expect("a VerifyErrors is never empty")
    }
}

impl IntoIterator for VerifyErrors {
    type Item = VerifyError;
    type IntoIter = std::vec::IntoIter<VerifyError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a VerifyErrors {
    type Item = &'a VerifyError;
    type IntoIter = std::slice::Iter<'a, VerifyError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// What the check knows of a variable at a point of the nest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Range {
    /// Not bound here.
    Free,
    /// Bound, taking the values of the interval.
    Known(Interval),
    /// Bound by a loop or binding that is itself in error: usable, but not bounds-checked.
    Unknown,
}

struct Ctx<'a> {
    f: &'a Func,
    ranges: Vec<Range>,
    locals: Vec<BufId>,
    in_parallel: bool,
    errors: Vec<VerifyError>,
}

/// Check variables are declared and bound, buffers exist and are in scope, accesses have
/// the right rank and stay in bounds (except under a `select` guard), extents are positive
/// and parallel loops do not nest. Reports every error found (see the module documentation).
pub fn verify(f: &Func) -> Result<(), VerifyErrors> {
    let mut cx = Ctx {
        f,
        ranges: vec![Range::Free; f.vars.len()],
        locals: vec![],
        in_parallel: false,
        errors: vec![],
    };
    cx.body(&f.body);
    if cx.errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(cx.errors))
    }
}

impl<'a> Ctx<'a> {
    /// Record an error, unless the same one is already recorded.
    fn report(&mut self, entity: impl Into<String>, msg: impl Into<String>) {
        let e = VerifyError {
            entity: entity.into(),
            msg: msg.into(),
        };
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }

    /// The variable's name; reports it when it is not declared.
    fn var(&mut self, v: VarId) -> Option<&'a str> {
        let name = self.f.vars.get(v.0 as usize).map(|s| s.as_str());
        if name.is_none() {
            self.report(format!("variable #{}", v.0), "not declared");
        }
        name
    }

    /// Bind declared variable `v` to `r`, returning what it was.
    fn bind(&mut self, v: VarId, r: Range) -> Range {
        std::mem::replace(&mut self.ranges[v.0 as usize], r)
    }

    fn body(&mut self, body: &[Stmt]) {
        for st in body {
            match st {
                Stmt::Loop(l) => self.for_loop(l),
                Stmt::Alloc { buf, body } => self.alloc(*buf, body),
                Stmt::Block(b) => self.block(b),
            }
        }
    }

    fn for_loop(&mut self, l: &Loop) {
        let name = self.var(l.var);
        let entity = name.map_or_else(|| format!("loop #{}", l.var.0), |n| format!("loop {n}"));
        let mut range = Range::Known(Interval {
            lo: 0,
            hi: l.extent - 1,
        });
        if l.extent <= 0 {
            self.report(&entity, format!("extent {} is not positive", l.extent));
            range = Range::Unknown;
        }
        if name.is_some() && self.ranges[l.var.0 as usize] != Range::Free {
            self.report(&entity, "variable is already bound by an enclosing loop");
        }
        let was_parallel = self.in_parallel;
        if l.kind == LoopKind::Parallel {
            if self.in_parallel {
                self.report(&entity, "parallel loop nested inside another parallel loop");
            }
            self.in_parallel = true;
        }
        let old = name.map(|_| self.bind(l.var, range));
        self.body(&l.body);
        if let Some(old) = old {
            self.bind(l.var, old);
        }
        self.in_parallel = was_parallel;
    }

    fn alloc(&mut self, buf: BufId, body: &[Stmt]) {
        match self.f.buffers.get(buf.0 as usize) {
            None => self.report("alloc", format!("buffer #{} is not declared", buf.0)),
            Some(b) if b.kind != BufKind::Local => self.report(
                format!("alloc {}", b.name),
                "only local buffers can be allocated",
            ),
            Some(_) => {}
        }
        self.locals.push(buf);
        self.body(body);
        self.locals.pop();
    }

    fn block(&mut self, blk: &Block) {
        let entity = format!("block {}", blk.name);
        let mut bound = vec![];
        for (v, e) in &blk.bind {
            let iv = self.idx(e, &entity);
            if self.var(*v).is_some() {
                bound.push((*v, self.bind(*v, iv.map_or(Range::Unknown, Range::Known))));
            }
        }
        self.access(&blk.store, &entity, true);
        self.value(&blk.value, &entity, true);
        for (v, old) in bound.into_iter().rev() {
            self.bind(v, old);
        }
    }

    /// Check the index's variables are declared and bound; its interval when all are known.
    fn idx(&mut self, e: &Idx, entity: &str) -> Option<Interval> {
        let mut vs = vec![];
        e.vars(&mut vs);
        let mut ok = true;
        for v in vs {
            let Some(name) = self.var(v) else {
                ok = false;
                continue;
            };
            if self.ranges[v.0 as usize] == Range::Free {
                self.report(
                    entity,
                    format!("variable {name} is used but not bound here"),
                );
                ok = false;
            }
        }
        let ranges = &self.ranges;
        ok.then(|| {
            e.interval(&|v| match ranges[v.0 as usize] {
                Range::Known(iv) => Some(iv),
                _ => None,
            })
        })
        .flatten()
    }

    fn access(&mut self, a: &Access, entity: &str, bounds: bool) {
        let Some(b) = self.f.buffers.get(a.buf.0 as usize) else {
            self.report(entity, format!("buffer #{} is not declared", a.buf.0));
            for e in &a.idx {
                self.idx(e, entity);
            }
            return;
        };
        if b.kind == BufKind::Local && !self.locals.contains(&a.buf) {
            let msg = format!("local buffer {} used outside its alloc", b.name);
            self.report(entity, msg);
        }
        if a.idx.len() != b.shape.len() {
            let msg = format!(
                "buffer {} has {} dimensions but is indexed with {}",
                b.name,
                b.shape.len(),
                a.idx.len()
            );
            self.report(entity, msg);
        }
        let rank_ok = a.idx.len() == b.shape.len();
        for (d, e) in a.idx.iter().enumerate() {
            let Some(iv) = self.idx(e, entity) else {
                continue;
            };
            let n = b.shape.get(d).copied().unwrap_or(0);
            if bounds && rank_ok && (iv.lo < 0 || iv.hi >= n) {
                let msg = format!(
                    "index {d} of {} ranges over [{}, {}], outside [0, {n})",
                    b.name, iv.lo, iv.hi
                );
                self.report(entity, msg);
            }
        }
    }

    fn value(&mut self, v: &Value, entity: &str, bounds: bool) {
        match v {
            Value::Const(_) => {}
            Value::Load(a) => self.access(a, entity, bounds),
            Value::Unary(_, a) => self.value(a, entity, bounds),
            Value::Binary(_, a, b) => {
                self.value(a, entity, bounds);
                self.value(b, entity, bounds);
            }
            Value::Select(bs, a, b) => {
                for c in bs {
                    self.idx(&c.idx, entity);
                }
                self.value(a, entity, false);
                self.value(b, entity, bounds);
            }
            Value::Compare(_, vs) => vs.iter().for_each(|v| self.value(v, entity, bounds)),
        }
    }
}
