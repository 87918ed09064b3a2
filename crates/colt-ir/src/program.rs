//! The computation definition: buffers and stages, before any schedule.
//!
//! A [`Stage`] is one tensor-comprehension statement `out[spatial] (=|+=|max=) value` over a
//! rectangular iteration domain. Schedules (crate `colt-sched`) decide how the stages become
//! loop nests; [`Program::naive`] gives the unscheduled nest that serves as the reference.

use crate::expr::{Access, BufId, Idx, Interval, Value, VarId};
use crate::func::{Block, Func, LoopKind, Stmt, StoreOp};
use serde::{Deserialize, Serialize};

/// The role of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufKind {
    /// Read-only argument.
    Input,
    /// Result the caller reads back.
    Output,
    /// Intermediate result with function lifetime (passed in as workspace).
    Temp,
    /// Scratch storage scoped by an `Alloc` statement inside the nest.
    Local,
}

/// A dense row-major f32 tensor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Buffer {
    /// Name, unique in the program.
    pub name: String,
    /// Extent of each dimension.
    pub shape: Vec<i64>,
    /// The buffer's role.
    pub kind: BufKind,
}

impl Buffer {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product::<i64>() as usize
    }
    /// True when some dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether an iteration variable indexes the output or is reduced over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IterKind {
    /// Indexes the stored element.
    Spatial,
    /// Reduced over.
    Reduce,
}

/// An iteration variable of a stage with its extent `0..extent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IterVar {
    /// The variable.
    pub var: VarId,
    /// Number of values.
    pub extent: i64,
    /// Spatial or reduction.
    pub kind: IterKind,
}

/// How a reduction combines values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reducer {
    /// Sum (`+=`).
    Sum,
    /// Maximum (`max=`).
    Max,
    /// Minimum (`min=`).
    Min,
}

impl Reducer {
    /// The starting value of an accumulator: 0, -inf or +inf.
    pub fn identity(self) -> f32 {
        match self {
            Reducer::Sum => 0.0,
            Reducer::Max => f32::NEG_INFINITY,
            Reducer::Min => f32::INFINITY,
        }
    }
    /// The accumulator after taking in `x`.
    pub fn combine(self, acc: f32, x: f32) -> f32 {
        match self {
            Reducer::Sum => acc + x,
            Reducer::Max => acc.max(x),
            Reducer::Min => acc.min(x),
        }
    }
    /// Operator as written in a statement: `+=`, `max=`, `min=`.
    pub fn op_str(self) -> &'static str {
        match self {
            Reducer::Sum => "+=",
            Reducer::Max => "max=",
            Reducer::Min => "min=",
        }
    }
}

/// `store[spatial iters] = value` or `store[spatial iters] reduce= value` over `iters`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Stage name, unique in the program.
    pub name: String,
    /// Iteration variables, spatial and reduction, in domain order.
    pub iters: Vec<IterVar>,
    /// The written element; index `d` is exactly the `d`-th spatial iteration variable.
    pub store: Access,
    /// The reducer, or `None` for a plain assignment.
    pub reduce: Option<Reducer>,
    /// The value stored or reduced.
    pub value: Value,
}

impl Stage {
    /// The spatial iteration variables, in order.
    pub fn spatial(&self) -> impl DoubleEndedIterator<Item = &IterVar> {
        self.iters.iter().filter(|i| i.kind == IterKind::Spatial)
    }
    /// The reduction iteration variables, in order.
    pub fn reduction(&self) -> impl DoubleEndedIterator<Item = &IterVar> {
        self.iters.iter().filter(|i| i.kind == IterKind::Reduce)
    }
    /// The iteration variable `v`, if it is one of this stage's.
    pub fn iter(&self, v: VarId) -> Option<&IterVar> {
        self.iters.iter().find(|i| i.var == v)
    }
    /// The values iteration variable `v` takes, if it is one of this stage's.
    pub fn iter_range(&self, v: VarId) -> Option<Interval> {
        self.iter(v).map(|iv| Interval {
            lo: 0,
            hi: iv.extent - 1,
        })
    }
    /// Buffers this stage reads.
    pub fn reads(&self) -> Vec<BufId> {
        let mut loads = vec![];
        self.value.loads(&mut loads);
        let mut out: Vec<BufId> = vec![];
        for a in loads {
            if !out.contains(&a.buf) {
                out.push(a.buf);
            }
        }
        out
    }
    /// The indices along dimension `dim` of buffer `b` that this stage reads, over its whole
    /// iteration domain; `None` when it does not read `b` or an index has no bound.
    pub fn read_interval(&self, b: BufId, dim: usize) -> Option<Interval> {
        let range = |v: VarId| self.iter_range(v);
        let mut loads = vec![];
        self.value.loads(&mut loads);
        loads
            .iter()
            .filter(|a| a.buf == b)
            .map(|a| a.idx.get(dim).and_then(|e| e.interval(&range)))
            .reduce(|x, y| {
                let (x, y) = (x?, y?);
                Some(Interval {
                    lo: x.lo.min(y.lo),
                    hi: x.hi.max(y.hi),
                })
            })
            .flatten()
    }
    /// True when the stage is elementwise (no reduction).
    pub fn is_elementwise(&self) -> bool {
        self.reduce.is_none()
    }
    /// Number of points in the iteration domain.
    pub fn domain_size(&self) -> u64 {
        self.iters.iter().map(|i| i.extent as u64).product()
    }
}

/// A whole computation: variables, buffers, and stages in execution order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// Program name (the workload's).
    pub name: String,
    /// Variable names, indexed by [`VarId`].
    pub vars: Vec<String>,
    /// The buffer table, indexed by [`BufId`].
    pub buffers: Vec<Buffer>,
    /// Stages in execution order.
    pub stages: Vec<Stage>,
}

impl Program {
    /// An empty program.
    pub fn new(name: impl Into<String>) -> Program {
        Program {
            name: name.into(),
            vars: vec![],
            buffers: vec![],
            stages: vec![],
        }
    }
    /// Add a variable and return its id.
    pub fn new_var(&mut self, name: impl Into<String>) -> VarId {
        self.vars.push(name.into());
        VarId(self.vars.len() as u32 - 1)
    }
    /// Add a buffer and return its id.
    pub fn add_buffer(&mut self, name: impl Into<String>, shape: Vec<i64>, kind: BufKind) -> BufId {
        self.buffers.push(Buffer {
            name: name.into(),
            shape,
            kind,
        });
        BufId(self.buffers.len() as u32 - 1)
    }
    /// The buffer `b`.
    pub fn buffer(&self, b: BufId) -> &Buffer {
        &self.buffers[b.0 as usize]
    }
    /// The buffer with this name, if any.
    pub fn buffer_by_name(&self, name: &str) -> Option<BufId> {
        self.buffers
            .iter()
            .position(|b| b.name == name)
            .map(|i| BufId(i as u32))
    }
    /// The name of variable `v`.
    pub fn var_name(&self, v: VarId) -> &str {
        &self.vars[v.0 as usize]
    }
    /// Index of the stage with this name, if any.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }
    /// The stage that writes buffer `b`.
    pub fn producer(&self, b: BufId) -> Option<usize> {
        self.stages.iter().position(|s| s.store.buf == b)
    }
    /// Stages that read the buffer written by stage `s`.
    pub fn consumers(&self, s: usize) -> Vec<usize> {
        let b = self.stages[s].store.buf;
        (0..self.stages.len())
            .filter(|&c| self.stages[c].reads().contains(&b))
            .collect()
    }
    /// Bytes an execution must move at least: every input read once and every output
    /// written once (f32), with no temporary ever leaving the caches. The roofline's
    /// arithmetic intensity is `flops() / compulsory_bytes()`.
    pub fn compulsory_bytes(&self) -> u64 {
        self.buffers
            .iter()
            .filter(|b| matches!(b.kind, BufKind::Input | BufKind::Output))
            .map(|b| b.len() as u64 * 4)
            .sum()
    }

    /// The roofline's arithmetic intensity: FLOPs per compulsory byte.
    pub fn intensity(&self) -> f64 {
        self.flops() as f64 / self.compulsory_bytes().max(1) as f64
    }

    /// Floating-point operations of one execution (a reduction step counts one more).
    pub fn flops(&self) -> u64 {
        self.stages
            .iter()
            .map(|s| s.domain_size() * (s.value.flops() + u64::from(s.reduce.is_some())))
            .sum()
    }

    /// A stage with a fresh set of iteration variables `names` (extent, kind) and a body built by `f`.
    pub fn add_stage(
        &mut self,
        name: impl Into<String>,
        iters: &[(&str, i64, crate::IterKind)],
        f: impl FnOnce(&[Idx]) -> (BufId, Option<Reducer>, Value),
    ) -> usize {
        let ivs: Vec<IterVar> = iters
            .iter()
            .map(|(n, e, k)| IterVar {
                var: self.new_var(*n),
                extent: *e,
                kind: *k,
            })
            .collect();
        let idx: Vec<Idx> = ivs.iter().map(|i| Idx::Var(i.var)).collect();
        let (buf, reduce, value) = f(&idx);
        let store = Access {
            buf,
            idx: ivs
                .iter()
                .filter(|i| i.kind == IterKind::Spatial)
                .map(|i| Idx::Var(i.var))
                .collect(),
        };
        self.stages.push(Stage {
            name: name.into(),
            iters: ivs,
            store,
            reduce,
            value,
        });
        self.stages.len() - 1
    }

    /// Insert `buffer` at id `at`, renumbering every buffer from `at` on one higher in every
    /// stage (a rewrite places a new buffer where a spec orders it).
    pub fn insert_buffer(&mut self, at: BufId, buffer: Buffer) {
        let shift = |b: BufId| if b.0 >= at.0 { BufId(b.0 + 1) } else { b };
        for st in &mut self.stages {
            st.store.buf = shift(st.store.buf);
            st.value = st.value.map(
                &mut |a| {
                    Some(Value::Load(Access {
                        buf: shift(a.buf),
                        idx: a.idx.clone(),
                    }))
                },
                &|e| e.clone(),
            );
        }
        self.buffers.insert(at.0 as usize, buffer);
    }

    /// [`Program::add_stage`], the stage placed at position `at` instead of last.
    pub fn add_stage_at(
        &mut self,
        at: usize,
        name: impl Into<String>,
        iters: &[(&str, i64, crate::IterKind)],
        f: impl FnOnce(&[Idx]) -> (BufId, Option<Reducer>, Value),
    ) {
        let s = self.add_stage(name, iters, f);
        let stage = self.stages.remove(s);
        self.stages.insert(at, stage);
    }

    /// Renumber the variables in the order the stages' iteration variables appear (stage by
    /// stage, domain order), dropping any no stage iterates: the order a spec's parser
    /// numbers them in.
    pub fn compact_vars(&mut self) {
        let mut new: Vec<Option<VarId>> = vec![None; self.vars.len()];
        let mut names = vec![];
        for iv in self.stages.iter().flat_map(|s| &s.iters) {
            new[iv.var.0 as usize] = Some(VarId(names.len() as u32));
            names.push(self.vars[iv.var.0 as usize].clone());
        }
        let sub = |e: &Idx| e.subst(&|v: VarId| new[v.0 as usize].map(Idx::Var));
        for s in &mut self.stages {
            for iv in &mut s.iters {
                iv.var = new[iv.var.0 as usize].expect("numbered above");
            }
            s.store.idx = s.store.idx.iter().map(sub).collect();
            s.value = s.value.map_idx(&sub);
        }
        self.vars = names;
    }

    /// The unscheduled loop nest: per stage, an init nest (for reductions) then the full nest,
    /// loops in iteration-variable order. This is the semantic reference.
    pub fn naive(&self) -> Func {
        let mut body = vec![];
        for s in &self.stages {
            if let Some(r) = s.reduce {
                let init = Block {
                    name: format!("{}_init", s.name),
                    bind: vec![],
                    store: s.store.clone(),
                    op: StoreOp::Assign,
                    value: Value::Const(r.identity()),
                };
                body.push(nest(s.spatial(), Stmt::Block(init)));
            }
            let block = Block {
                name: s.name.clone(),
                bind: vec![],
                store: s.store.clone(),
                op: s.reduce.map_or(StoreOp::Assign, StoreOp::Reduce),
                value: s.value.clone(),
            };
            body.push(nest(s.iters.iter(), Stmt::Block(block)));
        }
        Func {
            name: self.name.clone(),
            vars: self.vars.clone(),
            buffers: self.buffers.clone(),
            body,
        }
    }
}

fn nest<'a>(iters: impl DoubleEndedIterator<Item = &'a IterVar>, inner: Stmt) -> Stmt {
    iters.rev().fold(inner, |body, iv| {
        Stmt::new_loop(iv.var, iv.extent, LoopKind::Serial, vec![body])
    })
}
