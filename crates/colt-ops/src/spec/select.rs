//! `select(cond, a, b)` and `pad(X[...])`: choices on indices (lowered to
//! [`colt_ir::Value::Select`] with [`colt_ir::Bound`]s) and on values (lowered to
//! [`colt_ir::Value::Compare`]).

use super::{Ctx, LBound, LValue, Lin, SErr, StageCx, checked, lin_add, start_col};
use crate::parser::{Expr, ExprKind};
use colt_ir::CmpOp;

/// The error for a comparison anywhere but as the condition of `select`.
pub(super) fn misplaced(e: &Expr) -> SErr {
    (
        Some(start_col(e)),
        "a comparison is only allowed as the condition of select(cond, a, b)".to_string(),
    )
}

/// The range of `lin` over the domain, narrowed by the `guards` around its access: a guard
/// `lo <= g < hi` on an index that differs from `lin` by a constant `c` keeps `lin` within
/// `[lo + c, hi - 1 + c]` (empty, `lo > hi`, where the guards never all hold).
pub(super) fn guarded_range(lin: &Lin, guards: &[LBound], extents: &[i64]) -> (i128, i128) {
    let (mut lo, mut hi) = lin.range(extents);
    for g in guards {
        let Ok(d) = lin_add(lin, &g.lin, -1) else {
            continue;
        };
        if d.is_const() {
            let (glo, ghi) = g.sides(extents);
            let c = d.constant as i128;
            lo = lo.max(glo + c);
            hi = hi.min(ghi - 1 + c);
        }
    }
    (lo, hi)
}

/// `a op b` read as `b op' a`.
fn flip(t: CmpOp) -> CmpOp {
    match t {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

const CONDITION: &str = "the condition of select is a comparison (x > 0, i >= 1, 0 <= i - 1 < H) or comparisons of indices joined by &&";

impl Ctx<'_> {
    /// `select(cond, a, b)`: on values when `cond` is one comparison of values, else on
    /// indices, lowered after `a` and `b` (so a variable first seen in the condition comes
    /// after those of the values, as in the `pad(...)` it may be written as), with the bounds
    /// guarding the accesses of `a` (they may leave their tensors where the bounds keep
    /// them in).
    pub(super) fn select_value(&self, args: &[Expr], sc: &mut StageCx) -> Result<LValue, SErr> {
        if let ExprKind::Compare { ops, operands } = &args[0].kind
            && ops.len() == 1
            && self.on_values(&operands[0], &operands[1])
        {
            let lhs = self.value(&operands[0], sc)?;
            let rhs = self.value(&operands[1], sc)?;
            let a = self.value(&args[1], sc)?;
            let b = self.value(&args[2], sc)?;
            return Ok(LValue::Compare(ops[0], Box::new([lhs, rhs, a, b])));
        }
        let first = sc.accesses.len();
        let a = self.value(&args[1], sc)?;
        let guarded = first..sc.accesses.len();
        let b = self.value(&args[2], sc)?;
        let bounds = self.index_bounds(&args[0], sc)?;
        for r in &mut sc.accesses[guarded] {
            r.guards.extend(bounds.iter().cloned());
        }
        Ok(LValue::Select(bounds, Box::new(a), Box::new(b)))
    }

    /// `pad(X[...])`: the access, reading 0 where an index leaves `X`.
    pub(super) fn pad_value(&self, arg: &Expr, sc: &mut StageCx) -> Result<LValue, SErr> {
        let ExprKind::Access { tensor, idx } = &arg.kind else {
            return Err((
                Some(start_col(arg)),
                "pad(...) takes one tensor access, such as pad(X[n, c, y + r - 1, x + s - 1])"
                    .to_string(),
            ));
        };
        self.access_value(tensor, idx, arg.col, true, sc)
    }

    /// Whether a single comparison `l op r` compares values: one side reads data (a tensor,
    /// a function, a fractional number or constant), or neither mentions an iteration
    /// variable.
    fn on_values(&self, l: &Expr, r: &Expr) -> bool {
        self.reads_data(l) || self.reads_data(r) || !(self.mentions_var(l) || self.mentions_var(r))
    }

    fn reads_data(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Num { int, .. } => int.is_none(),
            ExprKind::Name(n) => {
                self.tensors.contains_key(n)
                    || self.constants.get(n).is_some_and(|c| c.fract() != 0.0)
            }
            ExprKind::Access { .. } | ExprKind::Call { .. } => true,
            ExprKind::Neg(a) => self.reads_data(a),
            ExprKind::Bin(_, a, b) => self.reads_data(a) || self.reads_data(b),
            ExprKind::Compare { .. } | ExprKind::And(_) => false,
        }
    }

    fn mentions_var(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Name(n) => !self.is_named(n),
            ExprKind::Neg(a) => self.mentions_var(a),
            ExprKind::Bin(_, a, b) => self.mentions_var(a) || self.mentions_var(b),
            _ => false,
        }
    }

    /// The bounds of an index condition: comparisons joined by `&&`, each recorded with its
    /// column for the stage's checks.
    fn index_bounds(&self, cond: &Expr, sc: &mut StageCx) -> Result<Vec<LBound>, SErr> {
        let parts: Vec<&Expr> = match &cond.kind {
            ExprKind::And(xs) => xs.iter().collect(),
            _ => vec![cond],
        };
        let mut out = vec![];
        for p in parts {
            let ExprKind::Compare { ops, operands } = &p.kind else {
                return Err((Some(start_col(p)), CONDITION.to_string()));
            };
            let b = match ops.len() {
                1 if self.on_values(&operands[0], &operands[1]) => {
                    return Err((
                        Some(p.col),
                        "a comparison of values does not combine with && (nest one select in another)"
                            .to_string(),
                    ));
                }
                1 => self.index_comparison(ops[0], &operands[0], &operands[1], p.col, sc)?,
                2 => self.index_chain(ops, operands, p.col, sc)?,
                _ => {
                    return Err((
                        Some(p.col),
                        "a chained comparison has two operators: lo <= index < hi".to_string(),
                    ));
                }
            };
            sc.conds.push((b.clone(), p.col));
            out.push(b);
        }
        Ok(out)
    }

    /// `l op r` on indices, as a bound on `l` (`r` constant), on `r` (`l` constant) or on
    /// `l - r` against 0.
    fn index_comparison(
        &self,
        op: CmpOp,
        l: &Expr,
        r: &Expr,
        col: usize,
        sc: &mut StageCx,
    ) -> Result<LBound, SErr> {
        let (x, y) = (self.index(l, sc)?, self.index(r, sc)?);
        let (lin, k, op) = if y.is_const() {
            (x, y.constant, op)
        } else if x.is_const() {
            (y, x.constant, flip(op))
        } else {
            (lin_add(&x, &y, -1).map_err(|m| (Some(col), m))?, 0, op)
        };
        let next = checked(k.checked_add(1)).map_err(|m| (Some(col), m))?;
        let (lo, hi) = match op {
            CmpOp::Lt => (None, Some(k)),
            CmpOp::Le => (None, Some(next)),
            CmpOp::Gt => (Some(next), None),
            CmpOp::Ge => (Some(k), None),
            CmpOp::Eq => (Some(k), Some(next)),
            CmpOp::Ne => {
                return Err((
                    Some(col),
                    "!= between indices is not a range: swap the branches of select(i == k, a, b)"
                        .to_string(),
                ));
            }
        };
        Ok(LBound::new(lin, lo, hi))
    }

    /// `lo <= index < hi` (either operator `<` or `<=`), `lo` and `hi` integers or sizes.
    fn index_chain(
        &self,
        ops: &[CmpOp],
        operands: &[Expr],
        col: usize,
        sc: &mut StageCx,
    ) -> Result<LBound, SErr> {
        if ops.iter().any(|o| !matches!(o, CmpOp::Lt | CmpOp::Le)) {
            return Err((
                Some(col),
                "a chained comparison reads lo <= index < hi (with < or <=)".to_string(),
            ));
        }
        let lo = self.index(&operands[0], sc)?;
        let mid = self.index(&operands[1], sc)?;
        let hi = self.index(&operands[2], sc)?;
        for (side, e) in [(&lo, &operands[0]), (&hi, &operands[2])] {
            if !side.is_const() {
                return Err((
                    Some(start_col(e)),
                    "the bounds of lo <= index < hi are integers or sizes".to_string(),
                ));
            }
        }
        let step = |t: CmpOp, k: i64, open: CmpOp| {
            checked(k.checked_add(i64::from(t == open))).map_err(|m| (Some(col), m))
        };
        let lo = step(ops[0], lo.constant, CmpOp::Lt)?;
        let hi = step(ops[1], hi.constant, CmpOp::Le)?;
        Ok(LBound::new(mid, Some(lo), Some(hi)))
    }
}
