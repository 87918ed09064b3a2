//! Statements: loops with their pragmas, local allocations, blocks.

use crate::expr::Ctx;
use crate::names::comment_safe;
use colt_ir::{Access, Block, Idx, Interval, Loop, LoopKind, Reducer, Stmt, StoreOp, VarId};

/// Locals up to this size live on the stack; larger ones on the heap.
pub const STACK_LIMIT_BYTES: usize = 64 * 1024;

/// Writes statements as indented C lines.
pub struct Emitter<'a> {
    /// Expression printing state.
    pub ctx: Ctx<'a>,
    /// The C text so far.
    pub out: String,
    /// Current indentation depth, in steps of four spaces.
    pub indent: usize,
}

impl<'a> Emitter<'a> {
    /// Append `s` as one line at the current indentation.
    pub fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Emit each statement of `body` in order.
    pub fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Loop(l) => self.looop(l),
            Stmt::Alloc { buf, body } => {
                let b = self.ctx.f.buffer(*buf);
                let name = self.ctx.names.buf(*buf).to_string();
                let len = b.len().max(1);
                let dims: Vec<String> = b.shape.iter().map(|d| d.to_string()).collect();
                let what = format!("local {}: f32[{}]", comment_safe(&b.name), dims.join(", "));
                self.line("{");
                self.indent += 1;
                let heap = len * 4 > STACK_LIMIT_BYTES;
                if heap {
                    let bytes = (len * 4).div_ceil(64) * 64;
                    self.line(&format!(
                        "float* restrict {name} = (float*)aligned_alloc(64, {bytes});  // {what}"
                    ));
                } else {
                    self.line(&format!(
                        "float {name}[{len}] __attribute__((aligned(64)));  // {what}"
                    ));
                }
                self.stmts(body);
                if heap {
                    self.line(&format!("free({name});"));
                }
                self.indent -= 1;
                self.line("}");
            }
            Stmt::Block(b) => self.block(b),
        }
    }

    fn looop(&mut self, l: &Loop) {
        if l.extent == 1 {
            // One iteration: no loop, the variable reads as 0 (and its pragma is moot).
            let was = std::mem::replace(&mut self.ctx.elided[l.var.0 as usize], true);
            self.stmts(&l.body);
            self.ctx.elided[l.var.0 as usize] = was;
            return;
        }
        let v = self.ctx.names.var(l.var).to_string();
        match l.kind {
            LoopKind::Serial => {}
            LoopKind::Parallel => self.line("#pragma omp parallel for schedule(static)"),
            LoopKind::Vectorized => {
                if simd_ok(l) {
                    self.ctx.needs.simd = true;
                    let (w, n) = simd_shape(l.extent);
                    self.line(&format!("COLT_SIMD({w}, {n})"));
                } else if let Some((b, r)) = simd_reduction(l) {
                    self.vector_reduction(l, b, r);
                    return;
                } else {
                    self.line(
                        "// vectorized loop emitted plain: not all of its stores vary with it",
                    );
                }
            }
            LoopKind::Unrolled if unrolled_vector_bodies(l) > MAX_UNROLLED_VECTOR_BODIES => {
                self.line("// unroll dropped: it would copy the vector loop inside too many times");
            }
            LoopKind::Unrolled => {
                self.ctx.needs.unroll = true;
                self.line(&format!("COLT_UNROLL({})", l.extent.clamp(1, 65534)));
            }
        }
        self.line(&format!(
            "for (int64_t {v} = 0; {v} < {}; ++{v}) {{",
            l.extent
        ));
        let saved = self.ctx.set_range(
            l.var,
            Some(Interval {
                lo: 0,
                hi: l.extent - 1,
            }),
        );
        self.indent += 1;
        self.stmts(&l.body);
        self.indent -= 1;
        self.ctx.set_range(l.var, saved);
        self.line("}");
    }

    /// A vectorised loop over one reduction block whose store it does not move: the
    /// accumulator lives in `colt_acc` across the loop, which `omp simd reduction` splits into
    /// one partial result per lane and combines after it.
    fn vector_reduction(&mut self, l: &Loop, b: &Block, r: Reducer) {
        let v = self.ctx.names.var(l.var).to_string();
        self.line("{");
        self.indent += 1;
        let saved = self.ctx.set_range(
            l.var,
            Some(Interval {
                lo: 0,
                hi: l.extent - 1,
            }),
        );
        let (comment, dst, val) = self.block_parts(b);
        self.line(&format!("float colt_acc = {dst};"));
        self.ctx.needs.simd_reduce = true;
        let (w, n) = simd_shape(l.extent);
        let op = match r {
            Reducer::Sum => "+",
            Reducer::Max => "max",
            Reducer::Min => "min",
        };
        self.line(&format!("COLT_SIMD_REDUCE({op}, {w}, {n})"));
        self.line(&format!(
            "for (int64_t {v} = 0; {v} < {}; ++{v}) {{",
            l.extent
        ));
        self.indent += 1;
        self.line(&comment);
        let update = self.store_text("colt_acc", StoreOp::Reduce(r), &val);
        self.line(&update);
        self.indent -= 1;
        self.line("}");
        self.ctx.set_range(l.var, saved);
        self.line(&format!("{dst} = colt_acc;"));
        self.indent -= 1;
        self.line("}");
    }

    fn block(&mut self, b: &Block) {
        let (comment, dst, val) = self.block_parts(b);
        self.line(&comment);
        let s = self.store_text(&dst, b.op, &val);
        self.line(&s);
    }

    /// The C statement storing `val` into `dst` with `op`.
    fn store_text(&mut self, dst: &str, op: StoreOp, val: &str) -> String {
        match op {
            StoreOp::Assign => format!("{dst} = {val};"),
            StoreOp::Reduce(Reducer::Sum) => format!("{dst} += {val};"),
            StoreOp::Reduce(Reducer::Max) => {
                self.ctx.needs.minmax = true;
                format!("{dst} = colt_max({dst}, {val});")
            }
            StoreOp::Reduce(Reducer::Min) => {
                self.ctx.needs.minmax = true;
                format!("{dst} = colt_min({dst}, {val});")
            }
        }
    }

    /// The comment line naming block `b` (and its shown bindings), its store and its value
    /// as C text.
    fn block_parts(&mut self, b: &Block) -> (String, String, String) {
        // Substitute the bindings into every index, so that the range-based simplifier sees
        // through them: `(j0*32 + j1) / 32` becomes `j0` and `% 32` becomes `j1`, which keeps
        // accesses visibly contiguous in the vectorised loop.
        let sub = self.binding_values(b);
        let lookup = |x: VarId| {
            sub.iter()
                .rev()
                .find(|(y, _)| *y == x)
                .map(|(_, e)| e.clone())
        };
        let binds = needed_binds(b);
        let comment = if binds.is_empty() {
            format!("// block {}", comment_safe(&b.name))
        } else {
            let shown: Vec<String> = binds
                .iter()
                .map(|(v, _)| {
                    let e = lookup(*v).expect("bound");
                    let text = self.ctx.idx(&e);
                    format!("{} = {text}", self.ctx.names.var(*v))
                })
                .collect();
            format!("// block {} [{}]", comment_safe(&b.name), shown.join(", "))
        };
        let store = Access {
            buf: b.store.buf,
            idx: b.store.idx.iter().map(|e| e.subst(&lookup)).collect(),
        };
        let value = b.value.map_idx(&|e| e.subst(&lookup));
        let dst = self.ctx.access(&store);
        let val = self.ctx.value(&value);
        (comment, dst, val)
    }

    /// Each binding's value in terms of loop variables only, simplified with their ranges.
    fn binding_values(&self, b: &Block) -> Vec<(VarId, Idx)> {
        b.bindings_in_loop_vars(&|e| self.ctx.simplify(e))
    }
}

/// Bindings worth showing: not `v = v`, and used by the store, the value or a later
/// shown binding.
fn needed_binds(b: &Block) -> Vec<(VarId, &Idx)> {
    let mut used: Vec<VarId> = vec![];
    for e in &b.store.idx {
        e.vars(&mut used);
    }
    let mut loads = vec![];
    b.value.loads(&mut loads);
    for a in loads {
        for e in &a.idx {
            e.vars(&mut used);
        }
    }
    value_bound_vars(&b.value, &mut used);
    let mut keep = vec![];
    for (v, e) in b.bind.iter().rev() {
        if *e == Idx::Var(*v) || !used.contains(v) {
            continue;
        }
        e.vars(&mut used);
        keep.push((*v, e));
    }
    keep.reverse();
    keep
}

fn value_bound_vars(v: &colt_ir::Value, out: &mut Vec<VarId>) {
    use colt_ir::Value;
    match v {
        Value::Const(_) | Value::Load(_) => {}
        Value::Unary(_, a) => value_bound_vars(a, out),
        Value::Binary(_, a, b) => {
            value_bound_vars(a, out);
            value_bound_vars(b, out)
        }
        Value::Select(bs, a, b) => {
            for bd in bs {
                bd.idx.vars(out);
            }
            value_bound_vars(a, out);
            value_bound_vars(b, out)
        }
        Value::Compare(_, vs) => vs.iter().for_each(|v| value_bound_vars(v, out)),
    }
}

/// Copies of a vectorised loop that full unrolling may make. Unrolling a register tile
/// around the vector loop (8 rows × one 16-lane loop) is what makes GEMM fast; unrolling
/// 512 copies of a vector loop holding `expf` made gcc compile a single kernel for a
/// minute, for no speed.
pub const MAX_UNROLLED_VECTOR_BODIES: i64 = 64;

/// How many copies of a vectorised loop unrolling `l` (and the unrolled loops between it and
/// that vector loop) would make; 0 when no vectorised loop is inside.
pub fn unrolled_vector_bodies(l: &Loop) -> i64 {
    fn inside(body: &[Stmt]) -> i64 {
        body.iter()
            .map(|s| match s {
                Stmt::Loop(inner) if inner.kind == LoopKind::Vectorized => 1,
                Stmt::Loop(inner) if inner.kind == LoopKind::Unrolled => {
                    // An inner loop over the limit is emitted rolled: one copy.
                    let n = inner.extent.saturating_mul(inside(&inner.body));
                    if n > MAX_UNROLLED_VECTOR_BODIES {
                        inside(&inner.body).min(1)
                    } else {
                        n
                    }
                }
                Stmt::Loop(inner) => inside(&inner.body).min(1),
                Stmt::Alloc { body, .. } => inside(body),
                Stmt::Block(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }
    l.extent.saturating_mul(inside(&l.body))
}

/// `#pragma omp simd` is safe when every block inside writes an address that varies with
/// the loop variable (directly or through its bindings) — a reduction into one address
/// would need a reduction clause — and no OpenMP loop is nested inside.
pub fn simd_ok(l: &Loop) -> bool {
    fn go(body: &[Stmt], v: VarId) -> bool {
        body.iter().all(|s| match s {
            Stmt::Loop(inner) => {
                matches!(inner.kind, LoopKind::Serial | LoopKind::Unrolled) && go(&inner.body, v)
            }
            Stmt::Alloc { body, .. } => go(body, v),
            Stmt::Block(b) => {
                let mut dep = vec![v];
                for (x, e) in &b.bind {
                    if dep.iter().any(|d| e.mentions(*d)) {
                        dep.push(*x);
                    } else {
                        dep.retain(|d| d != x);
                    }
                }
                b.store
                    .idx
                    .iter()
                    .any(|e| dep.iter().any(|d| e.mentions(*d)))
            }
        })
    }
    go(&l.body, l.var)
}

/// The block and reducer of vectorised loop `l` when it can be emitted as a vector
/// reduction: its body is one reduction block whose store it does not move (the address is
/// one accumulator for the whole loop) and whose value does not read the stored buffer.
pub fn simd_reduction(l: &Loop) -> Option<(&Block, Reducer)> {
    let [Stmt::Block(b)] = l.body.as_slice() else {
        return None;
    };
    let StoreOp::Reduce(r) = b.op else {
        return None;
    };
    if simd_ok(l) {
        return None;
    }
    let mut loads = vec![];
    b.value.loads(&mut loads);
    if loads.iter().any(|a| a.buf == b.store.buf) {
        return None;
    }
    Some((b, r))
}

/// Vector width and interleave count for clang's loop hints on a vectorised loop of `extent`
/// iterations: the widest of 16/8/4 lanes that divides the extent (16 when none does), and
/// enough interleaved vectors to cover a short loop in one iteration (at most 4).
///
/// Why: clang fully unrolls short constant-trip loops *before* its loop vectoriser runs and
/// then leaves scalar code (checked with clang 14: a 32-wide `omp simd` loop became 32
/// scalar `vfmadd231ss`). Disabling unrolling of the loop itself and asking for this width and
/// interleave gives whole-register `vfmadd231ps zmm` code instead. gcc needs only
/// `omp simd`.
pub fn simd_shape(extent: i64) -> (i64, i64) {
    let w = [16, 8, 4]
        .into_iter()
        .find(|w| extent % w == 0)
        .unwrap_or(16);
    let n = (extent / w).clamp(1, 4);
    (w, n)
}

#[cfg(test)]
mod tests {
    use super::simd_shape;

    #[test]
    fn simd_shapes() {
        assert_eq!(simd_shape(32), (16, 2));
        assert_eq!(simd_shape(16), (16, 1));
        assert_eq!(simd_shape(1024), (16, 4));
        assert_eq!(simd_shape(24), (8, 3));
        assert_eq!(simd_shape(12), (4, 3));
        assert_eq!(simd_shape(7), (16, 1));
    }
}

#[cfg(test)]
mod unroll_tests {
    use super::*;
    use colt_ir::VarId;

    fn lp(v: u32, extent: i64, kind: LoopKind, body: Vec<Stmt>) -> Stmt {
        Stmt::new_loop(VarId(v), extent, kind, body)
    }

    #[test]
    fn vector_copies_count_only_loops_that_stay_unrolled() {
        let simd = lp(3, 16, LoopKind::Vectorized, vec![]);
        let h3 = lp(2, 4, LoopKind::Unrolled, vec![simd]);
        let j1 = lp(1, 32, LoopKind::Unrolled, vec![h3.clone()]);
        let d2 = lp(0, 4, LoopKind::Unrolled, vec![j1.clone()]);
        let get = |s: &Stmt| match s {
            Stmt::Loop(l) => unrolled_vector_bodies(l),
            _ => unreachable!(),
        };
        assert_eq!(get(&h3), 4); // kept
        assert_eq!(get(&j1), 128); // over the limit: emitted rolled
        assert_eq!(get(&d2), 4); // j1 stays rolled, so d2 makes 4 copies of it
        let scalar = lp(5, 512, LoopKind::Unrolled, vec![]);
        assert_eq!(get(&scalar), 0); // no vector loop inside: the unroll step alone decides
    }
}
