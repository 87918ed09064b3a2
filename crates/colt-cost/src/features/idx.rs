//! Float evaluation of quasi-affine index expressions.
//!
//! Features must never panic on any `Func`, including huge constants or a division by zero
//! that the verifier would reject, so we evaluate indices in `f64` (floor semantics like the
//! IR) instead of the IR's `i64` helpers, which may overflow.

use colt_ir::{Idx, VarId};

/// Value of `e` with variable values from `val`.
pub fn eval(e: &Idx, val: &dyn Fn(VarId) -> f64) -> f64 {
    match e {
        Idx::Const(c) => *c as f64,
        Idx::Var(v) => val(*v),
        Idx::Add(a, b) => eval(a, val) + eval(b, val),
        Idx::Mul(a, c) => eval(a, val) * *c as f64,
        Idx::Div(a, d) => {
            if *d == 0 {
                0.0
            } else {
                (eval(a, val) / *d as f64).floor()
            }
        }
        Idx::Mod(a, d) => {
            if *d == 0 {
                0.0
            } else {
                let (x, d) = (eval(a, val), *d as f64);
                x - d * (x / d).floor()
            }
        }
    }
}

/// Inclusive value interval of `e` given an interval per variable.
pub fn interval(e: &Idx, range: &dyn Fn(VarId) -> (f64, f64)) -> (f64, f64) {
    match e {
        Idx::Const(c) => (*c as f64, *c as f64),
        Idx::Var(v) => range(*v),
        Idx::Add(a, b) => {
            let (a, b) = (interval(a, range), interval(b, range));
            (a.0 + b.0, a.1 + b.1)
        }
        Idx::Mul(a, c) => {
            let c = *c as f64;
            monotonic(interval(a, range), |x| x * c)
        }
        Idx::Div(_, 0) | Idx::Mod(_, 0) => (0.0, 0.0),
        Idx::Div(a, d) => {
            let d = *d as f64;
            monotonic(interval(a, range), |x| (x / d).floor())
        }
        Idx::Mod(a, d) => {
            let (lo, hi) = interval(a, range);
            let d = *d as f64;
            if d > 0.0 && (lo / d).floor() == (hi / d).floor() {
                let q = (lo / d).floor();
                (lo - d * q, hi - d * q)
            } else if d > 0.0 {
                (0.0, d - 1.0)
            } else {
                (d + 1.0, 0.0)
            }
        }
    }
}

/// The interval a monotonic `f` maps `(lo, hi)` to.
fn monotonic((lo, hi): (f64, f64), f: impl Fn(f64) -> f64) -> (f64, f64) {
    let (x, y) = (f(lo), f(hi));
    (x.min(y), x.max(y))
}

/// Every variable `e` mentions.
pub fn vars(e: &Idx) -> Vec<VarId> {
    let mut out = vec![];
    e.vars(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(i: u32) -> Idx {
        Idx::Var(VarId(i))
    }

    #[test]
    fn eval_floor_semantics_and_zero_divisor() {
        let val = |x: VarId| if x.0 == 0 { -3.0 } else { 5.0 };
        assert_eq!(eval(&v(0).div(2), &val), -2.0);
        assert_eq!(eval(&v(0).rem(2), &val), 1.0);
        assert_eq!(eval(&(v(1) * 4 + Idx::Const(1)), &val), 21.0);
        assert_eq!(eval(&v(1).div(0), &val), 0.0);
        assert_eq!(eval(&v(1).rem(0), &val), 0.0);
    }

    #[test]
    fn interval_of_split_index() {
        // i = 16*a + b, a in [0, 3], b in [0, 15]
        let r = |x: VarId| if x.0 == 0 { (0.0, 3.0) } else { (0.0, 15.0) };
        assert_eq!(interval(&(v(0) * 16 + v(1)), &r), (0.0, 63.0));
        assert_eq!(interval(&(v(0) * -2), &r), (-6.0, 0.0));
        assert_eq!(interval(&v(1).rem(4), &r), (0.0, 3.0));
        assert_eq!(interval(&v(1).rem(32), &r), (0.0, 15.0));
        assert_eq!(interval(&(v(0) * 16 + v(1)).div(16), &r), (0.0, 3.0));
    }
}
