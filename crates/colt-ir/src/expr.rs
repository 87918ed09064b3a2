//! Expressions: quasi-affine index expressions ([`Idx`]) and scalar value expressions ([`Value`]).
//!
//! Index expressions only ever combine variables with constants (`+`, `*const`, floor `/const`,
//! floor `%const`), so bound inference and simplification stay exact interval arithmetic.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A variable (loop variable or block iteration variable); an index into the variable table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VarId(pub u32);

/// A buffer; an index into the buffer table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BufId(pub u32);

/// A quasi-affine integer index expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Idx {
    /// A constant.
    Const(i64),
    /// A variable.
    Var(VarId),
    /// The sum of two expressions.
    Add(Box<Idx>, Box<Idx>),
    /// Multiplication by a constant.
    Mul(Box<Idx>, i64),
    /// Floor division by a positive constant.
    Div(Box<Idx>, i64),
    /// Floor modulo by a positive constant.
    Mod(Box<Idx>, i64),
}

/// An affine form `sum(coef * var) + constant`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Affine {
    /// Coefficient of each variable; zero coefficients are left out.
    pub terms: BTreeMap<VarId, i64>,
    /// The constant term.
    pub constant: i64,
}

impl Affine {
    /// The form as an index expression (a bare constant when there are no terms).
    pub fn to_idx(&self) -> Idx {
        let mut out: Option<Idx> = None;
        for (&v, &c) in &self.terms {
            let t = if c == 1 { Idx::Var(v) } else { Idx::Var(v) * c };
            out = Some(match out {
                None => t,
                Some(o) => o + t,
            });
        }
        match out {
            None => Idx::Const(self.constant),
            Some(o) if self.constant == 0 => o,
            Some(o) => o + Idx::Const(self.constant),
        }
    }
    fn add(&mut self, other: &Affine, scale: i64) {
        for (&v, &c) in &other.terms {
            let e = self.terms.entry(v).or_insert(0);
            *e += c * scale;
            if *e == 0 {
                self.terms.remove(&v);
            }
        }
        self.constant += other.constant * scale;
    }
}

impl std::ops::Add for Idx {
    type Output = Idx;
    fn add(self, rhs: Idx) -> Idx {
        Idx::Add(Box::new(self), Box::new(rhs))
    }
}
impl std::ops::Mul<i64> for Idx {
    type Output = Idx;
    fn mul(self, rhs: i64) -> Idx {
        Idx::Mul(Box::new(self), rhs)
    }
}

/// Inclusive integer interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Lowest value.
    pub lo: i64,
    /// Highest value (inclusive).
    pub hi: i64,
}

impl Idx {
    /// The variable `v` as an expression.
    pub fn var(v: VarId) -> Idx {
        Idx::Var(v)
    }
    /// Euclidean division by a constant (`div_euclid`: floor division for a positive
    /// divisor). A method, not `std::ops::Div`: `/` on integers truncates toward zero.
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, d: i64) -> Idx {
        Idx::Div(Box::new(self), d)
    }
    /// Euclidean remainder by a constant (`rem_euclid`, never negative), the companion of
    /// [`Idx::div`]. A method, not `std::ops::Rem`: `%` on integers can be negative.
    #[allow(clippy::should_implement_trait)]
    pub fn rem(self, d: i64) -> Idx {
        Idx::Mod(Box::new(self), d)
    }

    /// Evaluate with the given variable values.
    pub fn eval(&self, env: &[i64]) -> i64 {
        match self {
            Idx::Const(c) => *c,
            Idx::Var(v) => env[v.0 as usize],
            Idx::Add(a, b) => a.eval(env) + b.eval(env),
            Idx::Mul(a, c) => a.eval(env) * c,
            Idx::Div(a, d) => a.eval(env).div_euclid(*d),
            Idx::Mod(a, d) => a.eval(env).rem_euclid(*d),
        }
    }

    /// The affine form, if the expression has no division or modulo.
    pub fn affine(&self) -> Option<Affine> {
        match self {
            Idx::Const(c) => Some(Affine {
                terms: BTreeMap::new(),
                constant: *c,
            }),
            Idx::Var(v) => Some(Affine {
                terms: [(*v, 1)].into(),
                constant: 0,
            }),
            Idx::Add(a, b) => {
                let mut x = a.affine()?;
                x.add(&b.affine()?, 1);
                Some(x)
            }
            Idx::Mul(a, c) => {
                let mut x = Affine::default();
                x.add(&a.affine()?, *c);
                Some(x)
            }
            Idx::Div(..) | Idx::Mod(..) => None,
        }
    }

    /// Collect `scale * self` into `atoms`, the coefficients of its atoms (variables and
    /// `/`, `%` subterms, each listed once), and `konst`, its constant.
    pub fn linear_terms(&self, scale: i64, atoms: &mut Vec<(Idx, i64)>, konst: &mut i64) {
        match self {
            Idx::Const(c) => *konst += c * scale,
            Idx::Add(a, b) => {
                a.linear_terms(scale, atoms, konst);
                b.linear_terms(scale, atoms, konst);
            }
            Idx::Mul(a, c) => a.linear_terms(scale * c, atoms, konst),
            atom => match atoms.iter_mut().find(|(x, _)| x == atom) {
                Some((_, c)) => *c += scale,
                None => atoms.push((atom.clone(), scale)),
            },
        }
    }

    /// `Σ c·atom + konst` (terms as [`Idx::linear_terms`] collects them, zero coefficients
    /// dropped), its variables gathered into one affine form first (as
    /// [`Affine::to_idx`] writes it), then the other atoms in order.
    pub fn from_terms(atoms: &[(Idx, i64)], konst: i64) -> Idx {
        let mut vars = Affine::default();
        let mut others = vec![];
        for (x, c) in atoms.iter().filter(|(_, c)| *c != 0) {
            match x {
                Idx::Var(v) => vars.add(
                    &Affine {
                        terms: [(*v, 1)].into(),
                        constant: 0,
                    },
                    *c,
                ),
                x if *c == 1 => others.push(x.clone()),
                x => others.push(x.clone() * *c),
            }
        }
        if others.is_empty() {
            vars.constant = konst;
            return vars.to_idx();
        }
        let head = (!vars.terms.is_empty()).then(|| vars.to_idx());
        let tail = (konst != 0).then_some(Idx::Const(konst));
        head.into_iter()
            .chain(others)
            .chain(tail)
            .reduce(|a, b| a + b)
            .unwrap_or(Idx::Const(konst))
    }

    /// Every variable the expression mentions, in order.
    pub fn vars(&self, out: &mut Vec<VarId>) {
        match self {
            Idx::Const(_) => {}
            Idx::Var(v) => {
                if !out.contains(v) {
                    out.push(*v)
                }
            }
            Idx::Add(a, b) => {
                a.vars(out);
                b.vars(out)
            }
            Idx::Mul(a, _) | Idx::Div(a, _) | Idx::Mod(a, _) => a.vars(out),
        }
    }

    /// Whether the expression mentions `v`.
    pub fn mentions(&self, v: VarId) -> bool {
        let mut vs = vec![];
        self.vars(&mut vs);
        vs.contains(&v)
    }

    /// Replace variables by expressions.
    pub fn subst(&self, f: &dyn Fn(VarId) -> Option<Idx>) -> Idx {
        match self {
            Idx::Const(c) => Idx::Const(*c),
            Idx::Var(v) => f(*v).unwrap_or(Idx::Var(*v)),
            Idx::Add(a, b) => a.subst(f) + b.subst(f),
            Idx::Mul(a, c) => a.subst(f) * *c,
            Idx::Div(a, d) => a.subst(f).div(*d),
            Idx::Mod(a, d) => a.subst(f).rem(*d),
        }
    }

    /// Interval of values given an interval for every variable (`range(v)`; `None` = unknown).
    pub fn interval(&self, range: &dyn Fn(VarId) -> Option<Interval>) -> Option<Interval> {
        Some(match self {
            Idx::Const(c) => Interval { lo: *c, hi: *c },
            Idx::Var(v) => range(*v)?,
            Idx::Add(a, b) => {
                let (a, b) = (a.interval(range)?, b.interval(range)?);
                Interval {
                    lo: a.lo + b.lo,
                    hi: a.hi + b.hi,
                }
            }
            Idx::Mul(a, c) => {
                let a = a.interval(range)?;
                let (x, y) = (a.lo * c, a.hi * c);
                Interval {
                    lo: x.min(y),
                    hi: x.max(y),
                }
            }
            Idx::Div(a, d) => {
                let a = a.interval(range)?;
                Interval {
                    lo: a.lo.div_euclid(*d),
                    hi: a.hi.div_euclid(*d),
                }
            }
            Idx::Mod(a, d) => {
                let a = a.interval(range)?;
                if a.lo.div_euclid(*d) == a.hi.div_euclid(*d) {
                    Interval {
                        lo: a.lo.rem_euclid(*d),
                        hi: a.hi.rem_euclid(*d),
                    }
                } else {
                    Interval { lo: 0, hi: d - 1 }
                }
            }
        })
    }

    /// Simplify using variable ranges (loop extents): folds constants, collects affine terms,
    /// and removes `/` and `%` where the range proves them trivial, e.g. `(16*a + b) / 16 = a`
    /// when `0 <= b < 16`.
    pub fn simplify(&self, range: &dyn Fn(VarId) -> Option<Interval>) -> Idx {
        if let Some(a) = self.affine() {
            return a.to_idx();
        }
        match self {
            Idx::Add(a, b) => {
                let (a, b) = (a.simplify(range), b.simplify(range));
                match (a.affine(), b.affine()) {
                    (Some(mut x), Some(y)) => {
                        x.add(&y, 1);
                        x.to_idx()
                    }
                    _ => match (a, b) {
                        (Idx::Const(0), o) | (o, Idx::Const(0)) => o,
                        (a, b) => a + b,
                    },
                }
            }
            Idx::Mul(a, c) => match a.simplify(range) {
                Idx::Const(x) => Idx::Const(x * c),
                a if *c == 1 => a,
                a => a * *c,
            },
            Idx::Div(a, d) | Idx::Mod(a, d) => {
                let is_div = matches!(self, Idx::Div(..));
                let a = a.simplify(range);
                // `a = d·q + r` with `q` the atoms (variables, `/` and `%` subterms) whose
                // coefficients `d` divides: `a / d = q + r / d` and `a % d = r % d` (floor
                // division by a positive `d`), and where `0 <= r < d` also `r / d = 0`.
                let (mut atoms, mut konst) = (vec![], 0);
                a.linear_terms(1, &mut atoms, &mut konst);
                let (whole, rest): (Vec<_>, Vec<_>) =
                    atoms.into_iter().partition(|(_, c)| c % d == 0);
                let q: Vec<_> = whole.into_iter().map(|(x, c)| (x, c / d)).collect();
                let q = Idx::from_terms(&q, konst.div_euclid(*d));
                let r = Idx::from_terms(&rest, konst.rem_euclid(*d));
                if r.interval(range).is_some_and(|iv| iv.lo >= 0 && iv.hi < *d) {
                    return if is_div { q } else { r };
                }
                if a.interval(range).is_some_and(|iv| iv.lo >= 0 && iv.hi < *d) {
                    return if is_div { Idx::Const(0) } else { a };
                }
                match (is_div, q) {
                    (false, _) => r.rem(*d),
                    (true, Idx::Const(0)) => r.div(*d),
                    (true, q) => q + r.div(*d),
                }
            }
            _ => self.clone(),
        }
    }
}

/// `lo <= idx < hi`, used for padding guards.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bound {
    /// The guarded index.
    pub idx: Idx,
    /// Lowest allowed value.
    pub lo: i64,
    /// First value past the allowed range (exclusive).
    pub hi: i64,
}

/// A buffer element reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    /// The buffer read or written.
    pub buf: BufId,
    /// One index per dimension of the buffer.
    pub idx: Vec<Idx>,
}

/// A unary scalar operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnOp {
    /// `-x`.
    Neg,
    /// `e^x`.
    Exp,
    /// Square root.
    Sqrt,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `x * sigmoid(x)`.
    Silu,
    /// Hyperbolic tangent.
    Tanh,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// Natural logarithm.
    Log,
    /// Absolute value.
    Abs,
    /// The error function (GELU is `0.5 * x * (1 + erf(x / sqrt(2)))`).
    Erf,
}

/// A binary scalar operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// The larger of the two.
    Max,
    /// The smaller of the two.
    Min,
    /// `a` to the power `b`.
    Pow,
}

/// A comparison of two values (IEEE: every comparison with a NaN is false except `!=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
}

/// A scalar f32 value expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// A constant.
    Const(f32),
    /// A buffer element.
    Load(Access),
    /// A unary operator applied to a value.
    Unary(UnOp, Box<Value>),
    /// A binary operator applied to two values.
    Binary(BinOp, Box<Value>, Box<Value>),
    /// `if all bounds hold { then } else { otherwise }`
    Select(Vec<Bound>, Box<Value>, Box<Value>),
    /// `[lhs, rhs, then, otherwise]`: `if lhs op rhs { then } else { otherwise }`, a choice on
    /// data, not on indices (`select(x > 0, x, 0.1 * x)`).
    Compare(CmpOp, Box<[Value; 4]>),
}

impl UnOp {
    /// The operator applied to `x`.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnOp::Neg => -x,
            UnOp::Exp => x.exp(),
            UnOp::Sqrt => x.sqrt(),
            UnOp::Relu => x.max(0.0),
            UnOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            UnOp::Silu => x / (1.0 + (-x).exp()),
            UnOp::Tanh => x.tanh(),
            UnOp::Rsqrt => 1.0 / x.sqrt(),
            UnOp::Log => x.ln(),
            UnOp::Abs => x.abs(),
            UnOp::Erf => libm::erff(x),
        }
    }
    /// The operator's lower-case name (`exp`, `relu`, ...).
    pub fn name(self) -> &'static str {
        match self {
            UnOp::Neg => "neg",
            UnOp::Exp => "exp",
            UnOp::Sqrt => "sqrt",
            UnOp::Relu => "relu",
            UnOp::Sigmoid => "sigmoid",
            UnOp::Silu => "silu",
            UnOp::Tanh => "tanh",
            UnOp::Rsqrt => "rsqrt",
            UnOp::Log => "log",
            UnOp::Abs => "abs",
            UnOp::Erf => "erf",
        }
    }
    /// Every unary operator.
    pub const ALL: [UnOp; 11] = [
        UnOp::Neg,
        UnOp::Exp,
        UnOp::Sqrt,
        UnOp::Relu,
        UnOp::Sigmoid,
        UnOp::Silu,
        UnOp::Tanh,
        UnOp::Rsqrt,
        UnOp::Log,
        UnOp::Abs,
        UnOp::Erf,
    ];
}

impl BinOp {
    /// The operator applied to `a` and `b`.
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Max => a.max(b),
            BinOp::Min => a.min(b),
            BinOp::Pow => a.powf(b),
        }
    }
    /// The function-style name (`max`, `min`, `pow`); for an infix operator its name (`add`).
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Max => "max",
            BinOp::Min => "min",
            BinOp::Pow => "pow",
        }
    }
    /// Infix symbol, or `None` for function-style operators.
    pub fn symbol(self) -> Option<&'static str> {
        match self {
            BinOp::Add => Some("+"),
            BinOp::Sub => Some("-"),
            BinOp::Mul => Some("*"),
            BinOp::Div => Some("/"),
            BinOp::Max | BinOp::Min | BinOp::Pow => None,
        }
    }
    /// Every binary operator.
    pub const ALL: [BinOp; 7] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Max,
        BinOp::Min,
        BinOp::Pow,
    ];
}

impl CmpOp {
    /// Whether `a op b` holds.
    pub fn holds(self, a: f32, b: f32) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
    /// The operator as written in C and in a spec (`<`, `<=`, ...).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
    /// Every comparison.
    pub const ALL: [CmpOp; 6] = [
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Eq,
        CmpOp::Ne,
    ];
}

impl Value {
    /// A load of `buf[idx]`.
    pub fn load(buf: BufId, idx: Vec<Idx>) -> Value {
        Value::Load(Access { buf, idx })
    }
    /// `op(a)`.
    pub fn un(op: UnOp, a: Value) -> Value {
        Value::Unary(op, Box::new(a))
    }
    /// `op(a, b)`.
    pub fn bin(op: BinOp, a: Value, b: Value) -> Value {
        Value::Binary(op, Box::new(a), Box::new(b))
    }
    /// `if lhs op rhs { then } else { otherwise }`.
    pub fn compare(op: CmpOp, lhs: Value, rhs: Value, then: Value, otherwise: Value) -> Value {
        Value::Compare(op, Box::new([lhs, rhs, then, otherwise]))
    }

    /// Visit every load.
    pub fn loads<'a>(&'a self, out: &mut Vec<&'a Access>) {
        match self {
            Value::Const(_) => {}
            Value::Load(a) => out.push(a),
            Value::Unary(_, a) => a.loads(out),
            Value::Binary(_, a, b) => {
                a.loads(out);
                b.loads(out)
            }
            Value::Select(_, a, b) => {
                a.loads(out);
                b.loads(out)
            }
            Value::Compare(_, vs) => vs.iter().for_each(|v| v.loads(out)),
        }
    }

    /// Rewrite every load with `f` (returning a replacement value) and every index with `g`.
    pub fn map(
        &self,
        f: &mut dyn FnMut(&Access) -> Option<Value>,
        g: &dyn Fn(&Idx) -> Idx,
    ) -> Value {
        match self {
            Value::Const(c) => Value::Const(*c),
            Value::Load(a) => f(a).unwrap_or_else(|| {
                Value::Load(Access {
                    buf: a.buf,
                    idx: a.idx.iter().map(g).collect(),
                })
            }),
            Value::Unary(op, a) => Value::Unary(*op, Box::new(a.map(f, g))),
            Value::Binary(op, a, b) => {
                Value::Binary(*op, Box::new(a.map(f, g)), Box::new(b.map(f, g)))
            }
            Value::Select(bs, a, b) => Value::Select(
                bs.iter()
                    .map(|b| Bound {
                        idx: g(&b.idx),
                        lo: b.lo,
                        hi: b.hi,
                    })
                    .collect(),
                Box::new(a.map(f, g)),
                Box::new(b.map(f, g)),
            ),
            Value::Compare(op, vs) => {
                Value::Compare(*op, Box::new(vs.each_ref().map(|v| v.map(f, g))))
            }
        }
    }

    /// Rewrite only index expressions.
    pub fn map_idx(&self, g: &dyn Fn(&Idx) -> Idx) -> Value {
        self.map(&mut |_| None, g)
    }

    /// Floating-point operations per evaluation (loads are free, every operator counts 1).
    pub fn flops(&self) -> u64 {
        match self {
            Value::Const(_) | Value::Load(_) => 0,
            Value::Unary(_, a) => 1 + a.flops(),
            Value::Binary(_, a, b) => 1 + a.flops() + b.flops(),
            Value::Select(_, a, b) => a.flops().max(b.flops()),
            Value::Compare(_, vs) => {
                let [l, r, a, b] = &**vs;
                1 + l.flops() + r.flops() + a.flops().max(b.flops())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(i: u32) -> Idx {
        Idx::Var(VarId(i))
    }

    #[test]
    fn simplify_div_mod_of_split() {
        let range = |x: VarId| {
            Some(Interval {
                lo: 0,
                hi: if x.0 == 1 { 15 } else { 63 },
            })
        };
        let e = (v(0) * 16 + v(1)).div(16);
        assert_eq!(e.simplify(&range), v(0));
        let e = (v(0) * 16 + v(1)).rem(16);
        assert_eq!(e.simplify(&range), v(1));
        // not provable: b may reach 16
        let wide = |_: VarId| Some(Interval { lo: 0, hi: 31 });
        let e = (v(0) * 16 + v(1)).div(16);
        assert_ne!(e.simplify(&wide), v(0));
        // ... but the whole part still comes out: (16a + b) / 16 = a + b / 16
        assert_eq!(e.simplify(&wide), v(0) + v(1).div(16));
        // a sum in [0, d) whose parts are not: (16a - b) / 16 = 0 for a = 1, 1 <= b <= 15
        let one =
            |x: VarId| Some([Interval { lo: 1, hi: 1 }, Interval { lo: 1, hi: 15 }][x.0 as usize]);
        assert_eq!(
            (v(0) * 16 + v(1) * -1).div(16).simplify(&one),
            Idx::Const(0)
        );
    }

    #[test]
    fn simplify_div_mod_over_fused_loops() {
        // A fused loop `f` of 2 × 16 split back by `f % 16`, which then strides a packed
        // panel: ((f % 16) * 64 + 16 j + l) / 16 = (f % 16) * 4 + j for lanes 0 <= l < 16.
        let range = |x: VarId| {
            Some(Interval {
                lo: 0,
                hi: [31, 3, 15][x.0 as usize],
            })
        };
        let panel = v(0).rem(16) * 64 + v(1) * 16 + v(2);
        assert_eq!(
            panel.clone().div(16).simplify(&range),
            v(1) + v(0).rem(16) * 4
        );
        assert_eq!(panel.clone().rem(16).simplify(&range), v(2));
        // every value of the variables agrees with plain evaluation
        for f in 0..32 {
            for j in 0..4 {
                for l in 0..16 {
                    let env = [f, j, l];
                    for e in [
                        panel.clone().div(16),
                        panel.clone().rem(16),
                        (panel.clone() + Idx::Const(5)).div(32),
                    ] {
                        assert_eq!(e.simplify(&range).eval(&env), e.eval(&env), "{e:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn new_operators_apply() {
        assert_eq!(UnOp::Rsqrt.apply(4.0), 0.5);
        assert_eq!(UnOp::Log.apply(1.0), 0.0);
        assert!((UnOp::Log.apply(std::f32::consts::E) - 1.0).abs() < 1e-6);
        assert_eq!(UnOp::Abs.apply(-3.5), 3.5);
        assert_eq!(BinOp::Pow.apply(2.0, 10.0), 1024.0);
        assert!(UnOp::Log.apply(-1.0).is_nan());
        // erf against its values to 16 digits (Abramowitz & Stegun, table 7.1)
        for (x, want) in [
            (0.0, 0.0),
            (0.1, 0.1124629160182849),
            (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149),
            (-2.0, -0.9953222650189527),
            (3.0, 0.9999779095030014),
        ] {
            let got = UnOp::Erf.apply(x as f32) as f64;
            assert!((got - want).abs() < 1e-6, "erf({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn comparisons_follow_ieee() {
        let holds = |op: CmpOp| {
            [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0), (f32::NAN, 2.0)].map(|(a, b)| op.holds(a, b))
        };
        assert_eq!(holds(CmpOp::Lt), [true, false, false, false]);
        assert_eq!(holds(CmpOp::Le), [true, true, false, false]);
        assert_eq!(holds(CmpOp::Gt), [false, false, true, false]);
        assert_eq!(holds(CmpOp::Ge), [false, true, true, false]);
        assert_eq!(holds(CmpOp::Eq), [false, true, false, false]);
        assert_eq!(holds(CmpOp::Ne), [true, false, true, true]);
        let names: Vec<&str> = UnOp::ALL.iter().map(|o| o.name()).collect();
        assert!(names.contains(&"erf") && names.contains(&"rsqrt"));
        assert_eq!(
            BinOp::ALL.iter().filter(|o| o.symbol().is_none()).count(),
            3
        );
    }

    #[test]
    fn affine_collects_terms() {
        let e = v(0) * 4 + v(1) + v(0) * 2 + Idx::Const(3) + Idx::Const(-3);
        let a = e.affine().unwrap();
        assert_eq!(a.terms[&VarId(0)], 6);
        assert_eq!(a.constant, 0);
    }
}
