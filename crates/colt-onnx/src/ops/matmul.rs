//! Matrix products: ONNX MatMul (numpy semantics: batch dimensions broadcast, a 1-D operand
//! is a vector) and the product of Gemm (2-D, optionally transposed operands).

use colt_ir::IterKind::{Reduce as R, Spatial as S};
use colt_ir::{BinOp, BufId, Idx, Program, Reducer, Value};

/// `Y = op(A) · op(B)` where `op` transposes the last two dimensions when asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatMul {
    /// Read `A` as `[.., K, M]`.
    pub trans_a: bool,
    /// Read `B` as `[.., N, K]`.
    pub trans_b: bool,
}

impl MatMul {
    /// The output shape for operands of shapes `a` and `b`, or why they do not multiply.
    pub fn out_shape(&self, a: &[i64], b: &[i64]) -> Result<Vec<i64>, String> {
        if a.is_empty() || b.is_empty() {
            return Err(format!("a scalar operand ({a:?} · {b:?})"));
        }
        if a.len() == 1 && b.len() == 1 {
            return Err("a product of two vectors is not supported".into());
        }
        let (m, ka) = lhs(a, self.trans_a);
        let (kb, n) = rhs(b, self.trans_b);
        if ka != kb {
            return Err(format!("inner dimensions differ: {a:?} · {b:?}"));
        }
        let batch = crate::import::broadcast(batch_dims(a), batch_dims(b))
            .map_err(|e| format!("batch dimensions: {e}"))?;
        let mut out = batch;
        out.extend(m);
        out.extend(n);
        Ok(out)
    }

    /// `out[batch.., i, j] += A[batch.., i, k] * B[batch.., k, j]`.
    pub(crate) fn emit(&self, p: &mut Program, ins: &[BufId], out: BufId) {
        let (a, b) = (ins[0], ins[1]);
        let (sa, sb) = (p.buffer(a).shape.clone(), p.buffer(b).shape.clone());
        let so = p.buffer(out).shape.clone();
        let k = lhs(&sa, self.trans_a).1;
        let mut dims: Vec<(i64, colt_ir::IterKind)> = so.iter().map(|&e| (e, S)).collect();
        dims.push((k, R));
        let (ta, tb) = (self.trans_a, self.trans_b);
        let (a_vec, b_vec) = (sa.len() == 1, sb.len() == 1);
        let nbatch = so.len() - usize::from(!a_vec) - usize::from(!b_vec);
        super::stage(p, "matmul", &dims, |v| {
            let kk = v[so.len()].clone();
            let mut ia = batch_idx(&sa, &so[..nbatch], &v[..nbatch]);
            ia.extend(match a_vec {
                true => vec![kk.clone()],
                false => pair(v[nbatch].clone(), kk.clone(), ta),
            });
            let mut ib = batch_idx(&sb, &so[..nbatch], &v[..nbatch]);
            ib.extend(match b_vec {
                true => vec![kk],
                false => pair(kk, v[so.len() - 1].clone(), tb),
            });
            let prod = Value::bin(BinOp::Mul, Value::load(a, ia), Value::load(b, ib));
            (out, Some(Reducer::Sum), prod)
        });
    }
}

/// The index pair of a matrix operand: `[row, col]`, swapped when it is transposed.
fn pair(row: Idx, col: Idx, trans: bool) -> Vec<Idx> {
    if trans {
        vec![col, row]
    } else {
        vec![row, col]
    }
}

/// The batch dimensions of an operand (all but its last two; none for a vector or matrix).
fn batch_dims(s: &[i64]) -> &[i64] {
    &s[..s.len().saturating_sub(2)]
}

/// `(M, K)` of the left operand as used (a vector `[K]` has no `M`: the output drops it).
fn lhs(s: &[i64], trans: bool) -> (Option<i64>, i64) {
    let r = s.len();
    match (r, trans) {
        (1, _) => (None, s[0]),
        (_, false) => (Some(s[r - 2]), s[r - 1]),
        (_, true) => (Some(s[r - 1]), s[r - 2]),
    }
}

/// `(K, N)` of the right operand as used (a vector `[K]` has no `N`: the output drops it).
fn rhs(s: &[i64], trans: bool) -> (i64, Option<i64>) {
    let r = s.len();
    match (r, trans) {
        (1, _) => (s[0], None),
        (_, false) => (s[r - 2], Some(s[r - 1])),
        (_, true) => (s[r - 1], Some(s[r - 2])),
    }
}

/// Indices of an operand's batch dimensions, broadcast against the output's.
fn batch_idx(s: &[i64], out_batch: &[i64], v: &[Idx]) -> Vec<Idx> {
    let own = batch_dims(s);
    let off = out_batch.len() - own.len();
    own.iter()
        .enumerate()
        .map(|(d, &e)| {
            if e == 1 && out_batch[off + d] != 1 {
                Idx::Const(0)
            } else {
                v[off + d].clone()
            }
        })
        .collect()
}
