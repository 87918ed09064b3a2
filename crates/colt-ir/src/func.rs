//! The lowered loop nest: what codegen emits and the interpreter executes.

use crate::expr::{Access, BufId, Idx, Value, VarId};
use crate::program::{BufKind, Buffer, Reducer};
use serde::{Deserialize, Serialize};

/// How a loop executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopKind {
    /// A plain sequential loop.
    Serial,
    /// Iterations run in parallel (OpenMP).
    Parallel,
    /// Iterations map to SIMD lanes.
    Vectorized,
    /// Fully unrolled.
    Unrolled,
}

/// A counted loop `for var in 0..extent`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loop {
    /// The loop variable.
    pub var: VarId,
    /// Number of iterations.
    pub extent: i64,
    /// How the loop executes.
    pub kind: LoopKind,
    /// The loop body.
    pub body: Vec<Stmt>,
}

/// How a block writes its element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOp {
    /// `store = value`.
    Assign,
    /// `store op= value` with the reducer's operator.
    Reduce(Reducer),
}

/// One statement instance: bind iteration variables, then `store op= value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The stage the block comes from.
    pub name: String,
    /// Iteration variables defined from enclosing loop variables, in order.
    pub bind: Vec<(VarId, Idx)>,
    /// The written element.
    pub store: Access,
    /// Plain store or reduction.
    pub op: StoreOp,
    /// The value stored or combined.
    pub value: Value,
}

impl Block {
    /// Each binding's value in terms of loop variables only (earlier bindings substituted in
    /// order), passed through `simplify`.
    pub fn bindings_in_loop_vars(&self, simplify: &dyn Fn(&Idx) -> Idx) -> Vec<(VarId, Idx)> {
        let mut sub: Vec<(VarId, Idx)> = vec![];
        for (v, e) in &self.bind {
            let e = e.subst(&|x| {
                sub.iter()
                    .rev()
                    .find(|(y, _)| *y == x)
                    .map(|(_, e)| e.clone())
            });
            sub.push((*v, simplify(&e)));
        }
        sub
    }
}

/// A statement of the lowered nest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    /// A loop.
    Loop(Loop),
    /// Scope of a `Local` buffer.
    Alloc {
        /// The local buffer.
        buf: BufId,
        /// The statements that may use it.
        body: Vec<Stmt>,
    },
    /// A block.
    Block(Block),
}

impl Stmt {
    /// A [`Stmt::Loop`]: `for var in 0..extent` of `kind` over `body`.
    pub fn new_loop(var: VarId, extent: i64, kind: LoopKind, body: Vec<Stmt>) -> Stmt {
        Stmt::Loop(Loop {
            var,
            extent,
            kind,
            body,
        })
    }
}

/// A lowered function. Its parameters are the non-local buffers, in table order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Func {
    /// Function name (the exported symbol).
    pub name: String,
    /// Variable names, indexed by [`VarId`].
    pub vars: Vec<String>,
    /// The buffer table, indexed by [`BufId`].
    pub buffers: Vec<Buffer>,
    /// Top-level statements.
    pub body: Vec<Stmt>,
}

impl Func {
    /// The buffer `b`.
    pub fn buffer(&self, b: BufId) -> &Buffer {
        &self.buffers[b.0 as usize]
    }
    /// The name of variable `v`.
    pub fn var_name(&self, v: VarId) -> &str {
        &self.vars[v.0 as usize]
    }
    /// Parameter buffers (inputs, outputs, temps) in the order the kernel receives them.
    pub fn params(&self) -> Vec<BufId> {
        (0..self.buffers.len() as u32)
            .map(BufId)
            .filter(|&b| self.buffer(b).kind != BufKind::Local)
            .collect()
    }
    /// Visit statements depth-first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Stmt, usize)) {
        fn go<'a>(s: &'a [Stmt], depth: usize, f: &mut dyn FnMut(&'a Stmt, usize)) {
            for st in s {
                f(st, depth);
                match st {
                    Stmt::Loop(l) => go(&l.body, depth + 1, f),
                    Stmt::Alloc { body, .. } => go(body, depth, f),
                    Stmt::Block(_) => {}
                }
            }
        }
        go(&self.body, 0, f)
    }
}
