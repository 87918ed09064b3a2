//! Index and value expressions as C text.
//!
//! Indices are flattened row-major, simplified with the ranges of the enclosing loop (and
//! bound) variables, and printed as a sum of terms ordered by decreasing coefficient, so
//! `C[i, j]` of a `[M, 64]` buffer reads `C[i*64 + j]`. `Idx` division and modulo are floor
//! operations: where the interval of the dividend proves it non-negative, C's truncating `/`
//! and `%` agree and are used; otherwise the `colt_floordiv` / `colt_floormod` helpers.

use crate::names::Names;
use colt_ir::{Access, BinOp, Bound, Func, Idx, Interval, UnOp, Value, VarId};

/// Helpers the emitted body needs in the prelude.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// `colt_floordiv`, for a division whose dividend may be negative.
    pub floordiv: bool,
    /// `colt_floormod`, for a modulo whose dividend may be negative.
    pub floormod: bool,
    /// `colt_sigmoid`.
    pub sigmoid: bool,
    /// `colt_silu`.
    pub silu: bool,
    /// `colt_max` and `colt_min` (`fmaxf`/`fminf` are library calls without
    /// `-ffinite-math-only`, so a ReLU or a max pool would call one per element).
    pub minmax: bool,
    /// Vector declarations of the libm functions the body calls (`expf`, `tanhf`, `logf`,
    /// `erff`, `powf`; the sigmoid and SiLU helpers call `expf`), so a vectorised loop calls
    /// glibc's libmvec instead of the scalar function once per lane.
    pub vector_math: bool,
    /// The `COLT_UNROLL` pragma macro.
    pub unroll: bool,
    /// The `COLT_SIMD` pragma macro.
    pub simd: bool,
    /// The `COLT_SIMD_REDUCE` pragma macro (a vectorised reduction loop).
    pub simd_reduce: bool,
    /// Accumulators were promoted (see [`crate::promote`]): gcc must keep their copy loops
    /// as loops.
    pub promoted: bool,
}

/// What expression printing needs: names, the ranges of variables in scope, helper flags.
pub struct Ctx<'a> {
    /// The function being emitted.
    pub f: &'a Func,
    /// The C name of every buffer and variable.
    pub names: Names,
    /// Interval of each variable where known (enclosing loops, emitted bindings).
    pub ranges: Vec<Option<Interval>>,
    /// Variables of loops with one iteration, emitted without a `for`: they read as 0.
    pub elided: Vec<bool>,
    /// Helpers used so far.
    pub needs: Needs,
}

impl<'a> Ctx<'a> {
    /// A context for `f` with no ranges known and no helpers needed yet.
    pub fn new(f: &'a Func) -> Ctx<'a> {
        Ctx {
            f,
            names: Names::new(f),
            ranges: vec![None; f.vars.len()],
            elided: vec![false; f.vars.len()],
            needs: Needs::default(),
        }
    }

    fn range_fn(&self) -> impl Fn(VarId) -> Option<Interval> + '_ {
        |v: VarId| self.ranges.get(v.0 as usize).copied().flatten()
    }

    /// `e` with elided variables set to 0, simplified with the known ranges.
    pub fn simplify(&self, e: &Idx) -> Idx {
        let e = e.subst(&|v| self.elided[v.0 as usize].then_some(Idx::Const(0)));
        e.simplify(&self.range_fn())
    }

    /// The interval of `e` under the known ranges, if bounded.
    pub fn interval(&self, e: &Idx) -> Option<Interval> {
        e.interval(&self.range_fn())
    }

    /// Set the range of `v`, returning the previous one (to restore when leaving scope).
    pub fn set_range(&mut self, v: VarId, r: Option<Interval>) -> Option<Interval> {
        std::mem::replace(&mut self.ranges[v.0 as usize], r)
    }

    /// An index expression as C (simplified first).
    pub fn idx(&mut self, e: &Idx) -> String {
        let e = self.simplify(e);
        self.sum(&e)
    }

    /// `NAME[flat offset]`.
    pub fn access(&mut self, a: &Access) -> String {
        let shape = &self.f.buffer(a.buf).shape;
        let mut flat: Option<Idx> = None;
        let mut stride = 1i64;
        for (d, e) in a.idx.iter().enumerate().rev() {
            let e = self.simplify(e);
            let term = if stride == 1 { e } else { e * stride };
            flat = Some(match flat {
                None => term,
                Some(f) => term + f,
            });
            stride *= shape.get(d).copied().unwrap_or(1);
        }
        let off = self.idx(&flat.unwrap_or(Idx::Const(0)));
        format!("{}[{}]", self.names.buf(a.buf), off)
    }

    /// Print a simplified index as a sum of `atom*coef` terms plus a constant.
    fn sum(&mut self, e: &Idx) -> String {
        let mut terms: Vec<(Idx, i64)> = vec![];
        let mut konst = 0i64;
        e.linear_terms(1, &mut terms, &mut konst);
        terms.retain(|t| t.1 != 0);
        terms.sort_by_key(|t| std::cmp::Reverse(t.1)); // stable: ties keep first appearance
        let mut s = String::new();
        for (i, (atom, c)) in terms.iter().enumerate() {
            let a = self.atom(atom, c.abs() != 1);
            let t = if c.abs() == 1 {
                a
            } else {
                format!("{a}*{}", c.abs())
            };
            match (i, *c < 0) {
                (0, false) => s.push_str(&t),
                (0, true) => s.push_str(&format!("-{t}")),
                (_, false) => s.push_str(&format!(" + {t}")),
                (_, true) => s.push_str(&format!(" - {t}")),
            }
        }
        match (s.is_empty(), konst) {
            (true, k) => s = k.to_string(),
            (false, 0) => {}
            (false, k) if k > 0 => s.push_str(&format!(" + {k}")),
            (false, k) => s.push_str(&format!(" - {}", -k)),
        }
        s
    }

    /// A variable, or a floor division / modulo (parenthesised when `scaled`, for readability).
    fn atom(&mut self, e: &Idx, scaled: bool) -> String {
        match e {
            Idx::Var(v) => self.names.var(*v).to_string(),
            Idx::Div(a, d) | Idx::Mod(a, d) => {
                let is_div = matches!(e, Idx::Div(..));
                let nonneg = self.interval(a).is_some_and(|iv| iv.lo >= 0);
                let inner = self.sum(a);
                if nonneg {
                    let inner = if is_simple(&inner) {
                        inner
                    } else {
                        format!("({inner})")
                    };
                    let s = format!("{inner} {} {d}", if is_div { "/" } else { "%" });
                    if scaled { format!("({s})") } else { s }
                } else if is_div {
                    self.needs.floordiv = true;
                    format!("colt_floordiv({inner}, {d})")
                } else {
                    self.needs.floormod = true;
                    format!("colt_floormod({inner}, {d})")
                }
            }
            other => format!("({})", self.sum(other)),
        }
    }

    /// A value expression as C.
    pub fn value(&mut self, v: &Value) -> String {
        self.value_prec(v).0
    }

    /// Text and precedence: 1 additive, 2 multiplicative, 3 atom / call / parenthesised,
    /// 0 for a leading minus (a negative constant or a negation), which gets parentheses
    /// whenever it is an operand.
    fn value_prec(&mut self, v: &Value) -> (String, u8) {
        match v {
            Value::Const(c) => {
                let s = float_lit(*c);
                let p = if s.starts_with('-') { 0 } else { 3 };
                (s, p)
            }
            Value::Load(a) => (self.access(a), 3),
            Value::Unary(UnOp::Neg, a) => {
                let (x, p) = self.value_prec(a);
                (
                    if p == 3 {
                        format!("-{x}")
                    } else {
                        format!("-({x})")
                    },
                    0,
                )
            }
            Value::Unary(op, a) => self.unary(*op, a),
            Value::Binary(op, a, b) => self.binary(*op, a, b),
            Value::Select(bounds, a, b) => self.select(bounds, a, b),
            Value::Compare(op, vs) => {
                let [l, r, x, y] = vs.each_ref().map(|v| self.value(v));
                (format!("({l} {} {r} ? {x} : {y})", op.symbol()), 3)
            }
        }
    }

    /// A unary operator other than negation: a C call, an atom.
    fn unary(&mut self, op: UnOp, a: &Value) -> (String, u8) {
        let x = self.value(a);
        self.needs.vector_math |= matches!(
            op,
            UnOp::Exp | UnOp::Tanh | UnOp::Log | UnOp::Erf | UnOp::Sigmoid | UnOp::Silu
        );
        let s = match op {
            // `value_prec` writes a negation itself; as a call it is parenthesised whole
            UnOp::Neg => format!("(-({x}))"),
            UnOp::Exp => format!("expf({x})"),
            UnOp::Sqrt => format!("sqrtf({x})"),
            UnOp::Tanh => format!("tanhf({x})"),
            UnOp::Relu => {
                self.needs.minmax = true;
                format!("colt_max({x}, 0.0f)")
            }
            UnOp::Rsqrt => format!("(1.0f / sqrtf({x}))"),
            UnOp::Log => format!("logf({x})"),
            UnOp::Abs => format!("fabsf({x})"),
            UnOp::Erf => format!("erff({x})"),
            UnOp::Sigmoid => {
                self.needs.sigmoid = true;
                format!("colt_sigmoid({x})")
            }
            UnOp::Silu => {
                self.needs.silu = true;
                format!("colt_silu({x})")
            }
        };
        (s, 3)
    }

    /// A binary operator: a C call for max/min/pow, else an infix expression with the
    /// parentheses its operands' precedences need.
    fn binary(&mut self, op: BinOp, a: &Value, b: &Value) -> (String, u8) {
        let (sym, p) = match op {
            BinOp::Max | BinOp::Min => {
                self.needs.minmax = true;
                let f = if op == BinOp::Max {
                    "colt_max"
                } else {
                    "colt_min"
                };
                return (format!("{f}({}, {})", self.value(a), self.value(b)), 3);
            }
            BinOp::Pow => {
                return (format!("powf({}, {})", self.value(a), self.value(b)), 3);
            }
            BinOp::Add => ("+", 1),
            BinOp::Sub => ("-", 1),
            BinOp::Mul => ("*", 2),
            BinOp::Div => ("/", 2),
        };
        let (x, px) = self.value_prec(a);
        let (y, py) = self.value_prec(b);
        let x = if px < p { format!("({x})") } else { x };
        // right operand of `-` and `/` needs parentheses at equal precedence
        let y = if py < p || (py == p && matches!(op, BinOp::Sub | BinOp::Div)) {
            format!("({y})")
        } else {
            y
        };
        (format!("{x} {sym} {y}"), p)
    }

    /// A select on index bounds: the bounds the ranges do not prove become the condition.
    fn select(&mut self, bounds: &[Bound], a: &Value, b: &Value) -> (String, u8) {
        let mut conds = vec![];
        for bd in bounds {
            match self.bound(bd) {
                Some(cs) => conds.extend(cs),
                // provably false: the select is its else branch
                None => return self.value_prec(b),
            }
        }
        if conds.is_empty() {
            return self.value_prec(a);
        }
        let (x, y) = (self.value(a), self.value(b));
        (format!("({} ? {x} : {y})", conds.join(" && ")), 3)
    }

    /// The conditions of `lo <= idx < hi` the ranges do not prove; `None` if it is provably false.
    fn bound(&mut self, b: &Bound) -> Option<Vec<String>> {
        let e = self.simplify(&b.idx);
        let iv = self.interval(&e);
        if let Some(iv) = iv
            && (iv.hi < b.lo || iv.lo >= b.hi || b.lo >= b.hi)
        {
            return None;
        }
        let s = self.sum(&e);
        let mut out = vec![];
        if iv.is_none_or(|iv| iv.lo < b.lo) {
            out.push(format!("{} <= {s}", b.lo));
        }
        if iv.is_none_or(|iv| iv.hi >= b.hi) {
            out.push(format!("{s} < {}", b.hi));
        }
        Some(out)
    }
}

fn is_simple(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A C float literal that reads back as exactly `c`.
pub fn float_lit(c: f32) -> String {
    if c.is_nan() {
        "NAN".into()
    } else if c == f32::INFINITY {
        "INFINITY".into()
    } else if c == f32::NEG_INFINITY {
        "-INFINITY".into()
    } else {
        // Debug prints the shortest text that round-trips, always with `.` or an exponent.
        format!("{c:?}f")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_literals() {
        assert_eq!(float_lit(0.0), "0.0f");
        assert_eq!(float_lit(1.5), "1.5f");
        assert_eq!(float_lit(-2.0), "-2.0f");
        assert_eq!(float_lit(1e-7), "1e-7f");
        assert_eq!(float_lit(f32::NEG_INFINITY), "-INFINITY");
        assert_eq!(float_lit(f32::MAX), "3.4028235e38f");
    }
}
