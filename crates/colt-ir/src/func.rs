//! The lowered loop nest: what codegen emits and the interpreter executes.

use crate::expr::{Access, BufId, Idx, Value, VarId};
use crate::program::{BufKind, Buffer, Reducer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopKind {
    Serial,
    Parallel,
    Vectorized,
    /// Fully unrolled.
    Unrolled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loop {
    pub var: VarId,
    pub extent: i64,
    pub kind: LoopKind,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOp {
    Assign,
    Reduce(Reducer),
}

/// One statement instance: bind iteration variables, then `store op= value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub name: String,
    /// Iteration variables defined from enclosing loop variables, in order.
    pub bind: Vec<(VarId, Idx)>,
    pub store: Access,
    pub op: StoreOp,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    Loop(Loop),
    /// Scope of a `Local` buffer.
    Alloc {
        buf: BufId,
        body: Vec<Stmt>,
    },
    Block(Block),
}

/// A lowered function. Its parameters are the non-local buffers, in table order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Func {
    pub name: String,
    pub vars: Vec<String>,
    pub buffers: Vec<Buffer>,
    pub body: Vec<Stmt>,
}

impl Func {
    pub fn buffer(&self, b: BufId) -> &Buffer {
        &self.buffers[b.0 as usize]
    }
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
