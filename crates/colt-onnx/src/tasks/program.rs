//! A task's [`Program`] from a group of graph nodes: its buffers in the order of a
//! custom-operator spec (inputs, `X*` activations and `W*` constants, by first use, then
//! each stage's output: temporaries `T` and the output `Y`), so that `colt_ops::to_spec`
//! can print it for a tuner; elementwise stages inlined into their consumers, index
//! expressions simplified, dead temporaries removed.

use crate::graph::{Graph, Node, TensorId};
use crate::ops::{Op, is_view};
use colt_ir::{Access, BufId, BufKind, Idx, IterKind, IterVar, Program, Value, VarId};
use std::collections::HashMap;

/// A program and the graph tensors bound to its buffers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskProgram {
    /// The program.
    pub(crate) program: Program,
    /// The tensors bound to the program's input buffers, in order.
    pub(crate) inputs: Vec<TensorId>,
    /// The tensor its output buffer holds (the last node's result).
    pub(crate) output: TensorId,
}

/// A tensor's shape as a buffer's: a scalar is `[1]`.
pub(crate) fn buffer_shape(shape: &[i64]) -> Vec<i64> {
    if shape.is_empty() {
        vec![1]
    } else {
        shape.to_vec()
    }
}

/// The program computing `nodes` (in execution order) of `g`, named `name`, laid out for
/// vector registers of `lanes` f32 values ([`colt_ir::layout_rewrites`]).
pub(crate) fn program_for(g: &Graph, nodes: &[&Node], name: &str, lanes: i64) -> TaskProgram {
    let output = nodes.last().expect("a task has a node").output;
    let produced: Vec<TensorId> = nodes.iter().map(|n| n.output).collect();
    let mut inputs: Vec<TensorId> = vec![];
    for t in nodes.iter().flat_map(|n| &n.inputs) {
        if !produced.contains(t) && !inputs.contains(t) {
            inputs.push(*t);
        }
    }
    let mut p = Program::new(name);
    let mut buf_of: HashMap<TensorId, BufId> = HashMap::new();
    for &t in &inputs {
        let tensor = g.tensor(t);
        let role = if tensor.data.is_some() { "W" } else { "X" };
        let b = p.add_buffer(role, buffer_shape(&tensor.shape), BufKind::Input);
        buf_of.insert(t, b);
    }
    buf_of.insert(
        output,
        p.add_buffer("Y", buffer_shape(&g.tensor(output).shape), BufKind::Output),
    );
    let mut inlinable = vec![];
    for n in nodes {
        let out = match buf_of.get(&n.output) {
            Some(&b) => b,
            None => p.add_buffer("T", buffer_shape(&g.tensor(n.output).shape), BufKind::Temp),
        };
        buf_of.insert(n.output, out);
        let ins: Vec<BufId> = n.inputs.iter().map(|t| buf_of[t]).collect();
        let added = n.op.emit(&mut p, &ins, out);
        inlinable.extend(std::iter::repeat_n(
            matches!(n.op, Op::Elementwise(_)),
            added,
        ));
    }
    inline(&mut p, inlinable);
    spec_order(&mut p, &mut inputs);
    simplify(&mut p);
    spec_loops(&mut p);
    p.compact_vars();
    unique_names(&mut p);
    let p = colt_ir::layout_rewrites(&p, lanes);
    TaskProgram {
        program: p,
        inputs,
        output,
    }
}

/// Inline each elementwise stage writing a temporary into its consumers: a pure view
/// always, arithmetic when exactly one load in the program reads it (no recomputation).
fn inline(p: &mut Program, mut inlinable: Vec<bool>) {
    let mut s = 0;
    while s < p.stages.len() {
        let b = p.stages[s].store.buf;
        let loads: usize = p.stages.iter().map(|c| count_loads(&c.value, b)).sum();
        let ok = inlinable[s]
            && p.buffer(b).kind == BufKind::Temp
            && (is_view(&p.stages[s].value) || loads == 1);
        if !ok {
            s += 1;
            continue;
        }
        let producer = p.stages.remove(s);
        inlinable.remove(s);
        let spatial: Vec<VarId> = producer.spatial().map(|i| i.var).collect();
        for c in &mut p.stages {
            c.value = c.value.map(
                &mut |a: &Access| {
                    (a.buf == b).then(|| {
                        let at = |v: VarId| {
                            spatial
                                .iter()
                                .position(|&x| x == v)
                                .map(|d| a.idx[d].clone())
                        };
                        producer.value.map_idx(&|e: &Idx| e.subst(&at))
                    })
                },
                &|e: &Idx| e.clone(),
            );
        }
    }
}

fn count_loads(v: &Value, b: BufId) -> usize {
    let mut loads = vec![];
    v.loads(&mut loads);
    loads.iter().filter(|a| a.buf == b).count()
}

/// Put the buffers in the order of a custom-operator spec (`colt_ops::to_spec`): inputs by
/// first use, then each stage's output in stage order; temporaries no stage writes any
/// more are dropped. `inputs` (the tensors bound to the input buffers) follows.
fn spec_order(p: &mut Program, inputs: &mut Vec<TensorId>) {
    let mut order: Vec<usize> = vec![];
    for st in &p.stages {
        for b in st.reads() {
            if p.buffer(b).kind == BufKind::Input && !order.contains(&(b.0 as usize)) {
                order.push(b.0 as usize);
            }
        }
    }
    // An input nothing reads keeps its place among the inputs (and its tensor binding).
    for (i, b) in p.buffers.iter().enumerate() {
        if b.kind == BufKind::Input && !order.contains(&i) {
            order.push(i);
        }
    }
    for st in &p.stages {
        if !order.contains(&(st.store.buf.0 as usize)) {
            order.push(st.store.buf.0 as usize);
        }
    }
    *inputs = order
        .iter()
        .filter(|&&i| p.buffers[i].kind == BufKind::Input)
        .map(|&i| inputs[i])
        .collect();
    let mut renumber = vec![None; p.buffers.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = Some(BufId(new as u32));
    }
    p.buffers = order.iter().map(|&i| p.buffers[i].clone()).collect();
    let re = |b: BufId| renumber[b.0 as usize].expect("a stage's buffer is kept");
    for s in &mut p.stages {
        s.store.buf = re(s.store.buf);
        s.value = s.value.map(
            &mut |a: &Access| {
                Some(Value::Load(Access {
                    buf: re(a.buf),
                    idx: a.idx.clone(),
                }))
            },
            &|e: &Idx| e.clone(),
        );
    }
}

/// Simplify every index with the ranges of its stage's variables (a reshape's `/` and `%`
/// become affine where the extents allow).
fn simplify(p: &mut Program) {
    for s in &mut p.stages {
        let stage = s.clone();
        let range = move |v: VarId| stage.iter_range(v);
        s.value = s.value.map(
            &mut |a: &Access| {
                let idx = a.idx.iter().map(|e| e.simplify(&range)).collect();
                Some(Value::Load(Access { buf: a.buf, idx }))
            },
            &|e: &Idx| e.simplify(&range),
        );
    }
}

/// Run each stage's loops in a spec's order: the output's indices, then the others by
/// first appearance in the value (as a spec is read: operands left to right, a select's
/// bounds after its two values). A reduction loop of one iteration that no index mentions
/// (a depthwise convolution's input channel per group) is dropped: it sums one term.
fn spec_loops(p: &mut Program) {
    for st in &mut p.stages {
        let mut order: Vec<VarId> = vec![];
        for e in &st.store.idx {
            e.vars(&mut order);
        }
        appearance(&st.value, &mut order);
        let mut iters: Vec<IterVar> = order
            .iter()
            .filter_map(|v| st.iters.iter().find(|i| i.var == *v).cloned())
            .collect();
        for it in &st.iters {
            let unused = !order.contains(&it.var);
            if unused && !(it.kind == IterKind::Reduce && it.extent == 1) {
                iters.push(it.clone());
            }
        }
        st.iters = iters;
    }
}

/// The variables of `v`'s indices in the order a spec meets them.
fn appearance(v: &Value, out: &mut Vec<VarId>) {
    match v {
        Value::Const(_) => {}
        Value::Load(a) => a.idx.iter().for_each(|e| e.vars(out)),
        Value::Unary(_, a) => appearance(a, out),
        Value::Binary(_, a, b) | Value::Select(_, a, b) => {
            appearance(a, out);
            appearance(b, out);
            if let Value::Select(bounds, ..) = v {
                bounds.iter().for_each(|b| b.idx.vars(out));
            }
        }
        Value::Compare(_, vs) => vs.iter().for_each(|x| appearance(x, out)),
    }
}

/// Number repeated buffer and stage names (`X0`, `X1`, ...; `map`, `map1`).
fn unique_names(p: &mut Program) {
    let count = |names: Vec<&String>, n: &String| names.iter().filter(|&&x| x == n).count();
    let bnames: Vec<String> = p.buffers.iter().map(|b| b.name.clone()).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (b, name) in p.buffers.iter_mut().zip(&bnames) {
        if count(bnames.iter().collect(), name) > 1 {
            let k = seen.entry(name.clone()).or_insert(0);
            b.name = format!("{name}{k}");
            *k += 1;
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for s in &mut p.stages {
        let k = seen.entry(s.name.clone()).or_insert(0);
        if *k > 0 {
            s.name = format!("{}{k}", s.name);
        }
        *k += 1;
    }
}
