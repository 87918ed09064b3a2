//! Human- and LLM-readable text for programs and loop nests.
//!
//! [`Program`] and [`Func`] implement [`Display`]; [`Func::display_with`] prints a loop nest
//! in another form ([`PrintOptions`]). Expressions need the names of the variables and
//! buffers of their program or function, so they print through adapters: [`Idx::display`],
//! [`Access::display`], [`Value::display`]. The `*_str` functions are shorthands for
//! `to_string()` on these.

use crate::expr::{Access, Idx, Value};
use crate::func::{Block, Func, Loop, LoopKind, Stmt, StoreOp};
use crate::program::{BufKind, Buffer, IterKind, Program};
use std::fmt::{self, Display, Formatter};

/// Which form the loop-nest printer writes ([`Func::display_with`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrintOptions {
    /// Leave out serial loops of one iteration (`for u in 0..1:`); their bodies move up one
    /// level.
    pub hide_unit_loops: bool,
    /// Print statements without their index arithmetic: a block that binds iteration
    /// variables drops the bindings and keeps its body in the stage's own variables
    /// (`mm: C[i, j] += A[i, k] * B[k, j]`); a block without bindings prints `[…]` for the
    /// indices of every access (`C[…] = C_c[…]`).
    pub elide_indices: bool,
}

impl PrintOptions {
    /// Everything: the form [`Display`] prints.
    pub const FULL: PrintOptions = PrintOptions {
        hide_unit_loops: false,
        elide_indices: false,
    };
    /// The compact form prompts show: no single-iteration loops, no index arithmetic (the
    /// bindings made a five-stage attention nest ~3,000 prompt tokens).
    pub const PROMPT: PrintOptions = PrintOptions {
        hide_unit_loops: true,
        elide_indices: true,
    };
}

/// The names an expression prints with, and whether access indices print as `[…]`.
#[derive(Clone, Copy)]
struct Names<'a> {
    bufs: &'a [Buffer],
    vars: &'a [String],
    elide: bool,
}

impl<'a> Names<'a> {
    fn new(bufs: &'a [Buffer], vars: &'a [String]) -> Self {
        Names {
            bufs,
            vars,
            elide: false,
        }
    }
    fn access(self, access: &'a Access) -> AccessDisplay<'a> {
        AccessDisplay {
            access,
            names: self,
        }
    }
    fn value(self, value: &'a Value) -> ValueDisplay<'a> {
        ValueDisplay { value, names: self }
    }
}

/// [`Display`] adapter of an index expression ([`Idx::display`]).
pub struct IdxDisplay<'a> {
    idx: &'a Idx,
    names: &'a [String],
}

/// [`Display`] adapter of a buffer access ([`Access::display`]).
pub struct AccessDisplay<'a> {
    access: &'a Access,
    names: Names<'a>,
}

/// [`Display`] adapter of a value expression ([`Value::display`]).
pub struct ValueDisplay<'a> {
    value: &'a Value,
    names: Names<'a>,
}

/// [`Display`] adapter of a loop nest in a chosen form ([`Func::display_with`]).
pub struct FuncDisplay<'a> {
    func: &'a Func,
    opts: PrintOptions,
}

impl Idx {
    /// Displays as `i0*4 + j`, variable `v` named `names[v]`.
    pub fn display<'a>(&'a self, names: &'a [String]) -> IdxDisplay<'a> {
        IdxDisplay { idx: self, names }
    }
}

impl Access {
    /// Displays as `C[i, j]`, buffers named from `bufs` and variables from `names`.
    pub fn display<'a>(&'a self, bufs: &'a [Buffer], names: &'a [String]) -> AccessDisplay<'a> {
        Names::new(bufs, names).access(self)
    }
}

impl Value {
    /// Displays as `A[i, k] * B[k, j]`, buffers named from `bufs` and variables from `names`.
    pub fn display<'a>(&'a self, bufs: &'a [Buffer], names: &'a [String]) -> ValueDisplay<'a> {
        Names::new(bufs, names).value(self)
    }
}

impl Func {
    /// The loop nest printed in the form `opts` asks for (`display_with(PrintOptions::FULL)`
    /// prints what `Display` prints).
    pub fn display_with(&self, opts: PrintOptions) -> FuncDisplay<'_> {
        FuncDisplay { func: self, opts }
    }
}

/// Print an index expression with variable names from `names`.
pub fn idx_str(e: &Idx, names: &[String]) -> String {
    e.display(names).to_string()
}

/// Print a buffer access (`C[i, j]`).
pub fn access_str(a: &Access, bufs: &[Buffer], names: &[String]) -> String {
    a.display(bufs, names).to_string()
}

/// Print a value expression.
pub fn value_str(v: &Value, bufs: &[Buffer], names: &[String]) -> String {
    v.display(bufs, names).to_string()
}

/// Print the program as its list of stage definitions (its [`Display`] text).
pub fn program_str(p: &Program) -> String {
    p.to_string()
}

/// Print a lowered loop nest, two spaces per level (its [`Display`] text).
pub fn func_str(f: &Func) -> String {
    f.to_string()
}

/// Print an f32 constant: integers without a fraction, infinities as `inf` and `-inf`.
pub fn fmt_f32(c: f32) -> String {
    if c == f32::NEG_INFINITY {
        "-inf".into()
    } else if c == f32::INFINITY {
        "inf".into()
    } else if c.fract() == 0.0 && c.abs() < 1e9 {
        format!("{}", c as i64)
    } else {
        format!("{c}")
    }
}

impl Display for IdxDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        idx(f, self.idx, self.names, false)
    }
}

fn idx(f: &mut Formatter<'_>, e: &Idx, names: &[String], paren: bool) -> fmt::Result {
    match e {
        Idx::Const(c) => write!(f, "{c}"),
        Idx::Var(v) => f.write_str(&names[v.0 as usize]),
        Idx::Add(a, b) => {
            if paren {
                f.write_str("(")?;
            }
            idx(f, a, names, false)?;
            match &**b {
                Idx::Const(c) if *c < 0 => write!(f, " - {}", -c)?,
                Idx::Mul(x, -1) => {
                    f.write_str(" - ")?;
                    idx(f, x, names, true)?;
                }
                Idx::Mul(x, c) if *c < 0 => {
                    f.write_str(" - ")?;
                    idx(f, &((**x).clone() * -c), names, false)?;
                }
                _ => {
                    f.write_str(" + ")?;
                    idx(f, b, names, false)?;
                }
            }
            if paren {
                f.write_str(")")?;
            }
            Ok(())
        }
        Idx::Mul(a, c) => {
            idx(f, a, names, true)?;
            write!(f, "*{c}")
        }
        Idx::Div(a, d) => {
            idx(f, a, names, true)?;
            write!(f, " / {d}")
        }
        Idx::Mod(a, d) => {
            idx(f, a, names, true)?;
            write!(f, " % {d}")
        }
    }
}

impl Display for AccessDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Names { bufs, vars, elide } = self.names;
        write!(f, "{}[", bufs[self.access.buf.0 as usize].name)?;
        if elide {
            f.write_str("…")?;
        } else {
            for (d, e) in self.access.idx.iter().enumerate() {
                if d > 0 {
                    f.write_str(", ")?;
                }
                idx(f, e, vars, false)?;
            }
        }
        f.write_str("]")
    }
}

/// Binding strength of a value expression: sums 1, products 2, everything else 3.
fn prec(v: &Value) -> u8 {
    match v {
        Value::Binary(op, ..) => match op.symbol() {
            Some("+") | Some("-") => 1,
            Some(_) => 2,
            None => 3,
        },
        _ => 3,
    }
}

impl Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.names;
        match self.value {
            Value::Const(c) => f.write_str(&fmt_f32(*c)),
            Value::Load(a) => n.access(a).fmt(f),
            Value::Unary(op, a) => write!(f, "{}({})", op.name(), n.value(a)),
            Value::Binary(op, a, b) => match op.symbol() {
                // `max(a, b)`: the operator's name lowercased, the operands as they are.
                None => write!(f, "{}({}, {})", op.name(), n.value(a), n.value(b)),
                Some(sym) => {
                    let p = prec(self.value);
                    // f32 arithmetic does not reassociate: `a + (b + c)` keeps its parentheses
                    let operand = |f: &mut Formatter<'_>, x: &Value, right: bool| {
                        if prec(x) < p || (right && prec(x) == p) {
                            write!(f, "({})", n.value(x))
                        } else {
                            n.value(x).fmt(f)
                        }
                    };
                    operand(f, a, false)?;
                    write!(f, " {sym} ")?;
                    operand(f, b, true)
                }
            },
            Value::Select(bs, a, b) => {
                f.write_str("select(")?;
                for (i, c) in bs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    write!(f, "{} <= {} < {}", c.lo, c.idx.display(n.vars), c.hi)?;
                }
                write!(f, ", {}, {})", n.value(a), n.value(b))
            }
            Value::Compare(op, vs) => {
                let [l, r, a, b] = vs.each_ref().map(|v| n.value(v));
                write!(f, "select({l} {} {r}, {a}, {b})", op.symbol())
            }
        }
    }
}

/// `A: f32[4, 8]`
fn shape(f: &mut Formatter<'_>, b: &Buffer) -> fmt::Result {
    write!(f, "{}: f32[", b.name)?;
    for (i, d) in b.shape.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{d}")?;
    }
    f.write_str("]")
}

/// `func name(inputs) -> (outputs)`, then ` temps (temps)` when there are any; no newline.
fn signature(f: &mut Formatter<'_>, name: &str, bufs: &[Buffer]) -> fmt::Result {
    let list = |f: &mut Formatter<'_>, k: BufKind| -> fmt::Result {
        for (i, b) in bufs.iter().filter(|b| b.kind == k).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            shape(f, b)?;
        }
        Ok(())
    };
    write!(f, "func {name}(")?;
    list(f, BufKind::Input)?;
    f.write_str(") -> (")?;
    list(f, BufKind::Output)?;
    f.write_str(")")?;
    if bufs.iter().any(|b| b.kind == BufKind::Temp) {
        f.write_str(" temps (")?;
        list(f, BufKind::Temp)?;
        f.write_str(")")?;
    }
    Ok(())
}

/// The signature, then one line per stage:
/// `  stage mm: C[i, j] += A[i, k] * B[k, j]    for i < 4, j < 4, k < 8 (reduce)`.
impl Display for Program {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        signature(f, &self.name, &self.buffers)?;
        f.write_str("\n")?;
        let n = Names::new(&self.buffers, &self.vars);
        for st in &self.stages {
            let op = st.reduce.map_or("=", |r| r.op_str());
            write!(
                f,
                "  stage {}: {} {} {}    for ",
                st.name,
                n.access(&st.store),
                op,
                n.value(&st.value)
            )?;
            for (i, it) in st.iters.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{} < {}", self.var_name(it.var), it.extent)?;
                if it.kind == IterKind::Reduce {
                    f.write_str(" (reduce)")?;
                }
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

/// The signature, then the loop nest, two spaces per level ([`PrintOptions::FULL`]).
impl Display for Func {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.display_with(PrintOptions::FULL).fmt(f)
    }
}

impl Display for FuncDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        signature(f, &self.func.name, &self.func.buffers)?;
        f.write_str("\n")?;
        stmts(f, self, &self.func.body, 1)
    }
}

fn stmts(f: &mut Formatter<'_>, fd: &FuncDisplay<'_>, body: &[Stmt], depth: usize) -> fmt::Result {
    let func = fd.func;
    let pad = depth * 2;
    for st in body {
        match st {
            Stmt::Loop(l)
                if fd.opts.hide_unit_loops && l.extent == 1 && l.kind == LoopKind::Serial =>
            {
                stmts(f, fd, &l.body, depth)?;
            }
            Stmt::Loop(l) => {
                loop_line(f, func, l, pad)?;
                stmts(f, fd, &l.body, depth + 1)?;
            }
            Stmt::Alloc { buf, body } => {
                write!(f, "{:pad$}alloc ", "")?;
                shape(f, func.buffer(*buf))?;
                f.write_str("\n")?;
                stmts(f, fd, body, depth)?;
            }
            Stmt::Block(b) => {
                write!(f, "{:pad$}", "")?;
                block_line(f, fd, b)?;
            }
        }
    }
    Ok(())
}

/// `for i in 0..4 parallel:` and a newline, after `pad` spaces.
fn loop_line(f: &mut Formatter<'_>, func: &Func, l: &Loop, pad: usize) -> fmt::Result {
    let kind = match l.kind {
        LoopKind::Serial => "",
        LoopKind::Parallel => " parallel",
        LoopKind::Vectorized => " vectorized",
        LoopKind::Unrolled => " unrolled",
    };
    let var = func.var_name(l.var);
    writeln!(f, "{:pad$}for {var} in 0..{}{kind}:", "", l.extent)
}

/// `C[i, j] = 0`, or `mm [i=i0*4 + i1, j=j]: C[i, j] += …` for a block that binds variables;
/// then a newline.
fn block_line(f: &mut Formatter<'_>, fd: &FuncDisplay<'_>, b: &Block) -> fmt::Result {
    let func = fd.func;
    let mut n = Names::new(&func.buffers, &func.vars);
    if !b.bind.is_empty() {
        f.write_str(&b.name)?;
        if !fd.opts.elide_indices {
            f.write_str(" [")?;
            for (i, (v, e)) in b.bind.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}={}", func.var_name(*v), e.display(&func.vars))?;
            }
            f.write_str("]")?;
        }
        f.write_str(": ")?;
    } else {
        n.elide = fd.opts.elide_indices;
    }
    let op = match b.op {
        StoreOp::Assign => "=",
        StoreOp::Reduce(r) => r.op_str(),
    };
    writeln!(f, "{} {op} {}", n.access(&b.store), n.value(&b.value))
}
