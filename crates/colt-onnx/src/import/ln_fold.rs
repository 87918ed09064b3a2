//! The decomposed layer norm exporters write (ReduceMean, Sub, Pow 2, ReduceMean, Add eps,
//! Sqrt, Div) recognised as one LayerNorm node, so it becomes the same task as
//! LayerNormalization (and shares its kernel).

use crate::graph::{Graph, TensorId};
use crate::ops::{LayerNorm, Op};
use colt_ir::{BinOp, BufId, Reducer, UnOp, Value};

/// Replace every decomposed layer norm of `g` by a LayerNorm node (the nodes it no longer
/// needs are left for the dead-node pass).
pub(super) fn fold_layer_norms(g: &mut Graph) {
    let (producer, readers) = g.adjacency();
    for n in 0..g.nodes.len() {
        let m = Match {
            g,
            producer: &producer,
            readers: &readers,
        };
        if let Some((x, ln)) = m.layer_norm(n) {
            let node = &mut g.nodes[n];
            node.op = Op::LayerNorm(ln);
            node.inputs = vec![x];
            node.op_type = "LayerNormalization".into();
        }
    }
}

struct Match<'a> {
    g: &'a Graph,
    producer: &'a [Option<usize>],
    readers: &'a [Vec<usize>],
}

/// `Load(BufId(i))` at any index.
fn arg(v: &Value, i: u32) -> bool {
    matches!(v, Value::Load(a) if a.buf == BufId(i))
}

impl Match<'_> {
    /// The node computing `t` when only `readers` read it (and it is no graph output).
    fn only_for(&self, t: TensorId, readers: &[usize]) -> Option<usize> {
        let mine = self.readers[t.0].iter().all(|r| readers.contains(r));
        (mine && !self.g.outputs.contains(&t)).then_some(self.producer[t.0]?)
    }

    /// The elementwise value and inputs of node `n`.
    fn elementwise(&self, n: usize) -> Option<(&Value, &[TensorId])> {
        match &self.g.nodes[n].op {
            Op::Elementwise(v) => Some((v, &self.g.nodes[n].inputs)),
            _ => None,
        }
    }

    /// The input and first axis of a mean over trailing axes that keeps them.
    fn mean(&self, n: usize) -> Option<(TensorId, usize)> {
        let Op::Reduce(r) = &self.g.nodes[n].op else {
            return None;
        };
        let x = self.g.nodes[n].inputs[0];
        let rank = self.g.tensor(x).shape.len();
        let first = *r.axes.first()?;
        let trailing = r.axes == (first..rank).collect::<Vec<_>>();
        (r.mean && r.keepdims && r.reducer == Reducer::Sum && trailing).then_some((x, first))
    }

    /// `(x, LayerNorm)` when node `n` is `d / sqrt(mean(d * d) + eps)` with
    /// `d = x - mean(x)` over the same trailing axes.
    fn layer_norm(&self, n: usize) -> Option<(TensorId, LayerNorm)> {
        let (v, ins) = self.elementwise(n)?;
        let Value::Binary(BinOp::Div, a, b) = v else {
            return None;
        };
        let ([d, sd], true, true) = (ins, arg(a, 0), arg(b, 1)) else {
            return None;
        };
        // sd = sqrt(var + eps)
        let q = self.only_for(*sd, &[n])?;
        let (Value::Unary(UnOp::Sqrt, s), [ve]) = self.elementwise(q)? else {
            return None;
        };
        let e = self.only_for(*ve, &[q]).filter(|_| arg(s, 0))?;
        let (Value::Binary(BinOp::Add, v0, eps), [var]) = self.elementwise(e)? else {
            return None;
        };
        let (true, Value::Const(eps)) = (arg(v0, 0), eps.as_ref()) else {
            return None;
        };
        // var = mean(d * d)
        let r2 = self.only_for(*var, &[e])?;
        let (d2, axis) = self.mean(r2)?;
        let p = self.only_for(d2, &[r2])?;
        let (Value::Binary(BinOp::Mul, s0, s1), [d_again]) = self.elementwise(p)? else {
            return None;
        };
        // d = x - mean(x), read only by the square and the division
        let c = self
            .only_for(*d, &[p, n])
            .filter(|_| d_again == d && arg(s0, 0) && arg(s1, 0))?;
        let (Value::Binary(BinOp::Sub, x0, m0), [x, m]) = self.elementwise(c)? else {
            return None;
        };
        let r1 = self
            .only_for(*m, &[c])
            .filter(|_| arg(x0, 0) && arg(m0, 1))?;
        (self.mean(r1)? == (*x, axis)).then_some((*x, LayerNorm { axis, eps: *eps }))
    }
}
