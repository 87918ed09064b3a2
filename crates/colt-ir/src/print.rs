//! Human- and LLM-readable text for programs and loop nests.

use crate::expr::{Access, Idx, Value};
use crate::func::{Func, LoopKind, Stmt, StoreOp};
use crate::program::{BufKind, Buffer, IterKind, Program};
use std::fmt::Write;

/// Print an index expression with variable names from `names`.
pub fn idx_str(e: &Idx, names: &[String]) -> String {
    let mut s = String::new();
    idx(&mut s, e, names, false);
    s
}

fn idx(out: &mut String, e: &Idx, names: &[String], paren: bool) {
    match e {
        Idx::Const(c) => write!(out, "{c}").unwrap(),
        Idx::Var(v) => out.push_str(&names[v.0 as usize]),
        Idx::Add(a, b) => {
            if paren {
                out.push('(');
            }
            idx(out, a, names, false);
            match &**b {
                Idx::Const(c) if *c < 0 => write!(out, " - {}", -c).unwrap(),
                Idx::Mul(x, c) if *c < 0 => {
                    out.push_str(" - ");
                    idx(out, &((**x).clone() * -c), names, false);
                }
                _ => {
                    out.push_str(" + ");
                    idx(out, b, names, false);
                }
            }
            if paren {
                out.push(')');
            }
        }
        Idx::Mul(a, c) => {
            idx(out, a, names, true);
            write!(out, "*{c}").unwrap()
        }
        Idx::Div(a, d) => {
            idx(out, a, names, true);
            write!(out, " / {d}").unwrap()
        }
        Idx::Mod(a, d) => {
            idx(out, a, names, true);
            write!(out, " % {d}").unwrap()
        }
    }
}

pub fn access_str(a: &Access, bufs: &[Buffer], names: &[String]) -> String {
    let ix: Vec<String> = a.idx.iter().map(|e| idx_str(e, names)).collect();
    format!("{}[{}]", bufs[a.buf.0 as usize].name, ix.join(", "))
}

/// Print a value expression.
pub fn value_str(v: &Value, bufs: &[Buffer], names: &[String]) -> String {
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
    match v {
        Value::Const(c) => fmt_f32(*c),
        Value::Load(a) => access_str(a, bufs, names),
        Value::Unary(op, a) => format!("{}({})", op.name(), value_str(a, bufs, names)),
        Value::Binary(op, a, b) => match op.symbol() {
            None => format!(
                "{:?}({}, {})",
                op,
                value_str(a, bufs, names),
                value_str(b, bufs, names)
            )
            .to_lowercase(),
            Some(sym) => {
                let p = prec(v);
                let wrap = |x: &Value, right: bool| {
                    let s = value_str(x, bufs, names);
                    if prec(x) < p || (right && prec(x) == p && (sym == "-" || sym == "/")) {
                        format!("({s})")
                    } else {
                        s
                    }
                };
                format!("{} {} {}", wrap(a, false), sym, wrap(b, true))
            }
        },
        Value::Select(bs, a, b) => {
            let conds: Vec<String> = bs
                .iter()
                .map(|b| format!("{} <= {} < {}", b.lo, idx_str(&b.idx, names), b.hi))
                .collect();
            format!(
                "select({}, {}, {})",
                conds.join(" && "),
                value_str(a, bufs, names),
                value_str(b, bufs, names)
            )
        }
    }
}

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

fn shape_str(b: &Buffer) -> String {
    let dims: Vec<String> = b.shape.iter().map(|d| d.to_string()).collect();
    format!("{}: f32[{}]", b.name, dims.join(", "))
}

fn signature(name: &str, bufs: &[Buffer]) -> String {
    let list = |k: BufKind| {
        bufs.iter()
            .filter(|b| b.kind == k)
            .map(shape_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "func {}({}) -> ({})",
        name,
        list(BufKind::Input),
        list(BufKind::Output)
    );
    let temps = list(BufKind::Temp);
    if !temps.is_empty() {
        write!(s, " temps ({temps})").unwrap();
    }
    s
}

/// Print the program as its list of stage definitions.
pub fn program_str(p: &Program) -> String {
    let mut s = signature(&p.name, &p.buffers);
    s.push('\n');
    for st in &p.stages {
        let op = st.reduce.map_or("=", |r| r.op_str());
        let doms: Vec<String> = st
            .iters
            .iter()
            .map(|i| {
                let r = if i.kind == IterKind::Reduce {
                    " (reduce)"
                } else {
                    ""
                };
                format!("{} < {}{}", p.var_name(i.var), i.extent, r)
            })
            .collect();
        writeln!(
            s,
            "  stage {}: {} {} {}    for {}",
            st.name,
            access_str(&st.store, &p.buffers, &p.vars),
            op,
            value_str(&st.value, &p.buffers, &p.vars),
            doms.join(", ")
        )
        .unwrap();
    }
    s
}

/// Print a lowered loop nest, two spaces per level.
pub fn func_str(f: &Func) -> String {
    let mut s = signature(&f.name, &f.buffers);
    s.push('\n');
    stmts(&mut s, f, &f.body, 1);
    s
}

fn stmts(out: &mut String, f: &Func, body: &[Stmt], depth: usize) {
    let pad = "  ".repeat(depth);
    for st in body {
        match st {
            Stmt::Loop(l) => {
                let kind = match l.kind {
                    LoopKind::Serial => "",
                    LoopKind::Parallel => " parallel",
                    LoopKind::Vectorized => " vectorized",
                    LoopKind::Unrolled => " unrolled",
                };
                writeln!(
                    out,
                    "{pad}for {} in 0..{}{kind}:",
                    f.var_name(l.var),
                    l.extent
                )
                .unwrap();
                stmts(out, f, &l.body, depth + 1);
            }
            Stmt::Alloc { buf, body } => {
                writeln!(out, "{pad}alloc {}", shape_str(f.buffer(*buf))).unwrap();
                stmts(out, f, body, depth);
            }
            Stmt::Block(b) => {
                let op = match b.op {
                    StoreOp::Assign => "=",
                    StoreOp::Reduce(r) => r.op_str(),
                };
                let line = format!(
                    "{} {op} {}",
                    access_str(&b.store, &f.buffers, &f.vars),
                    value_str(&b.value, &f.buffers, &f.vars)
                );
                if b.bind.is_empty() {
                    writeln!(out, "{pad}{line}").unwrap();
                } else {
                    let binds: Vec<String> = b
                        .bind
                        .iter()
                        .map(|(v, e)| format!("{}={}", f.var_name(*v), idx_str(e, &f.vars)))
                        .collect();
                    writeln!(out, "{pad}{} [{}]: {line}", b.name, binds.join(", ")).unwrap();
                }
            }
        }
    }
}
