//! Recursive-descent parser of a spec `compute` string into a small AST with columns.
//!
//! ```text
//! stmt    := IDENT ['[' [expr (',' expr)*] ']'] op expr EOF
//! op      := '=' | '+=' | 'max' '=' | 'min' '='
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | primary
//! primary := NUMBER | IDENT '[' [expr (',' expr)*] ']' | IDENT '(' [cond (',' cond)*] ')'
//!          | IDENT | '(' expr ')'
//! cond    := chain ('&&' chain)*
//! chain   := expr (('<' | '<=' | '>' | '>=' | '==' | '!=') expr)*
//! ```
//! Index expressions use the same grammar; `spec` checks that they are affine. Comparisons
//! parse only as function arguments; `spec` accepts them only as the condition of `select`.

use crate::lexer::{Tok, Token, lex};
use colt_ir::{CmpOp, Reducer};

/// Deeper nesting is rejected rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 64;
/// Most nodes (numbers, names, accesses, calls, operators) in one statement. A chain
/// `a + b + c + ...` nests one level per operator without any parenthesis, so this bound
/// (with [`MAX_HEIGHT`]) is what keeps every later recursive walk of the tree (lowering,
/// code generation, even dropping it) off the end of the stack.
pub const MAX_NODES: usize = 1024;
/// Largest height of one statement's expression trees.
pub const MAX_HEIGHT: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinTok {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Num {
        value: f64,
        single: f32,
        int: Option<i64>,
    },
    /// A bare identifier: an iteration variable in an index, a scalar tensor in a value.
    Name(String),
    Access {
        tensor: String,
        idx: Vec<Expr>,
    },
    Call {
        func: String,
        args: Vec<Expr>,
    },
    Neg(Box<Expr>),
    Bin(BinTok, Box<Expr>, Box<Expr>),
    /// `a < b` or a chain `lo <= i < hi`: one more operand than operators.
    Compare {
        ops: Vec<CmpOp>,
        operands: Vec<Expr>,
    },
    /// `c1 && c2 && ...`: two or more comparisons.
    And(Vec<Expr>),
}

/// An expression and the column where it starts (for a binary operation, a comparison or a
/// conjunction: its first operator).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub col: usize,
    pub kind: ExprKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub lhs: String,
    pub lhs_col: usize,
    pub lhs_idx: Vec<Expr>,
    /// `None` for `=`.
    pub reduce: Option<Reducer>,
    pub rhs: Expr,
}

/// Parse one statement. Errors are `(column, message)`.
pub fn parse(src: &str) -> Result<Statement, (usize, String)> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        nodes: 0,
    };
    let st = p.statement()?;
    for e in st.lhs_idx.iter().chain([&st.rhs]) {
        check_height(e)?;
    }
    Ok(st)
}

/// Parse one expression (a dimension such as `H + 2`). Errors are `(column, message)`.
pub fn parse_expr(src: &str) -> Result<Expr, (usize, String)> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
        nodes: 0,
    };
    let e = p.expr()?;
    p.end()?;
    check_height(&e)?;
    Ok(e)
}

fn check_height(e: &Expr) -> R<()> {
    if height(e) > MAX_HEIGHT {
        return Err((
            e.col,
            format!(
                "expression nested more than {MAX_HEIGHT} levels deep (a chain of operators nests one level per operator); split it into stages"
            ),
        ));
    }
    Ok(())
}

/// Height of `e`'s tree, without recursion.
fn height(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1)];
    while let Some((e, h)) = stack.pop() {
        max = max.max(h);
        match &e.kind {
            ExprKind::Num { .. } | ExprKind::Name(_) => {}
            ExprKind::Access { idx: xs, .. }
            | ExprKind::Call { args: xs, .. }
            | ExprKind::Compare { operands: xs, .. }
            | ExprKind::And(xs) => stack.extend(xs.iter().map(|x| (x, h + 1))),
            ExprKind::Neg(x) => stack.push((&**x, h + 1)),
            ExprKind::Bin(_, a, b) => stack.extend([(&**a, h + 1), (&**b, h + 1)]),
        }
    }
    max
}

/// `Ok` while the count `n` is at most `max`, else the error `msg()` at column `col`.
fn at_most(n: usize, max: usize, col: usize, msg: impl FnOnce() -> String) -> R<()> {
    if n > max { Err((col, msg())) } else { Ok(()) }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: usize,
}

type R<T> = Result<T, (usize, String)>;

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }
    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn expect(&mut self, want: Tok, what: &str) -> R<Token> {
        let t = self.next();
        if t.tok == want {
            Ok(t)
        } else {
            Err((
                t.col,
                format!("expected {what}, found {}", t.tok.describe()),
            ))
        }
    }

    fn statement(&mut self) -> R<Statement> {
        let t = self.next();
        let lhs_col = t.col;
        let Tok::Ident(lhs) = t.tok else {
            return Err((
                t.col,
                format!("expected the output tensor, found {}", t.tok.describe()),
            ));
        };
        let lhs_idx = if self.peek().tok == Tok::LBracket {
            self.next();
            self.list(Tok::RBracket, "']'", false)?
        } else {
            vec![]
        };
        let t = self.next();
        let reduce = match &t.tok {
            Tok::Assign => None,
            Tok::PlusAssign => Some(Reducer::Sum),
            Tok::Ident(s) if s == "max" || s == "min" => {
                self.expect(
                    Tok::Assign,
                    &format!("'=' after \"{s}\" (the operator is {s}=)"),
                )?;
                Some(if s == "max" {
                    Reducer::Max
                } else {
                    Reducer::Min
                })
            }
            other => {
                return Err((
                    t.col,
                    format!(
                        "expected '=', '+=', 'max=' or 'min=', found {}",
                        other.describe()
                    ),
                ));
            }
        };
        let rhs = self.expr()?;
        self.end()?;
        Ok(Statement {
            lhs,
            lhs_col,
            lhs_idx,
            reduce,
            rhs,
        })
    }

    /// The end of the input.
    fn end(&mut self) -> R<()> {
        let t = self.next();
        if t.tok != Tok::Eof {
            return Err((
                t.col,
                format!("unexpected {} after the expression", t.tok.describe()),
            ));
        }
        Ok(())
    }

    /// Comma-separated expressions (conditions when `conds`) up to `close` (the opening token
    /// is consumed).
    fn list(&mut self, close: Tok, what: &str, conds: bool) -> R<Vec<Expr>> {
        let mut out = vec![];
        if self.peek().tok == close {
            self.next();
            return Ok(out);
        }
        loop {
            out.push(if conds { self.cond()? } else { self.expr()? });
            let t = self.next();
            if t.tok == close {
                return Ok(out);
            }
            if t.tok != Tok::Comma {
                return Err((
                    t.col,
                    format!("expected ',' or {what}, found {}", t.tok.describe()),
                ));
            }
        }
    }

    /// Count one more node of the tree.
    fn node(&mut self, col: usize) -> R<()> {
        self.nodes += 1;
        at_most(self.nodes, MAX_NODES, col, || {
            format!("the statement has more than {MAX_NODES} terms; split it into stages")
        })
    }

    fn enter(&mut self, col: usize) -> R<()> {
        self.depth += 1;
        at_most(self.depth, MAX_DEPTH, col, || {
            format!("expression nested more than {MAX_DEPTH} levels deep")
        })
    }

    /// Comparisons joined by `&&`.
    fn cond(&mut self) -> R<Expr> {
        let first = self.chain()?;
        if self.peek().tok != Tok::And {
            return Ok(first);
        }
        let col = self.peek().col;
        let mut all = vec![first];
        while self.peek().tok == Tok::And {
            let at = self.next().col;
            self.node(at)?;
            all.push(self.chain()?);
        }
        Ok(Expr {
            col,
            kind: ExprKind::And(all),
        })
    }

    /// An expression, or a comparison (chain) of expressions.
    fn chain(&mut self) -> R<Expr> {
        let first = self.expr()?;
        let col = self.peek().col;
        let (mut ops, mut operands) = (vec![], vec![first]);
        while let Tok::Cmp(op) = self.peek().tok {
            let at = self.next().col;
            self.node(at)?;
            ops.push(op);
            operands.push(self.expr()?);
        }
        if ops.is_empty() {
            return Ok(operands.remove(0));
        }
        Ok(Expr {
            col,
            kind: ExprKind::Compare { ops, operands },
        })
    }

    fn expr(&mut self) -> R<Expr> {
        self.enter(self.peek().col)?;
        let additive = |t: &Tok| match t {
            Tok::Plus => Some(BinTok::Add),
            Tok::Minus => Some(BinTok::Sub),
            _ => None,
        };
        let e = self.left_assoc(additive, Self::term)?;
        self.depth -= 1;
        Ok(e)
    }

    fn term(&mut self) -> R<Expr> {
        let multiplicative = |t: &Tok| match t {
            Tok::Star => Some(BinTok::Mul),
            Tok::Slash => Some(BinTok::Div),
            _ => None,
        };
        self.left_assoc(multiplicative, Self::unary)
    }

    /// One left-associative level of binary operators: operands parsed by `operand`, joined by
    /// the tokens `op` maps to an operator.
    fn left_assoc(
        &mut self,
        op: impl Fn(&Tok) -> Option<BinTok>,
        operand: fn(&mut Self) -> R<Expr>,
    ) -> R<Expr> {
        let mut lhs = operand(self)?;
        while let Some(op) = op(&self.peek().tok) {
            let col = self.next().col;
            self.node(col)?;
            let rhs = operand(self)?;
            lhs = Expr {
                col,
                kind: ExprKind::Bin(op, Box::new(lhs), Box::new(rhs)),
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> R<Expr> {
        if self.peek().tok == Tok::Minus {
            let col = self.next().col;
            self.node(col)?;
            self.enter(col)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr {
                col,
                kind: ExprKind::Neg(Box::new(inner)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> R<Expr> {
        let t = self.next();
        let col = t.col;
        self.node(col)?;
        match t.tok {
            Tok::Num { value, single, int } => Ok(Expr {
                col,
                kind: ExprKind::Num { value, single, int },
            }),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                let kind = match self.peek().tok {
                    Tok::LBracket => {
                        self.next();
                        let idx = self.list(Tok::RBracket, "']'", false)?;
                        ExprKind::Access { tensor: name, idx }
                    }
                    Tok::LParen => {
                        self.next();
                        let args = self.list(Tok::RParen, "')'", true)?;
                        ExprKind::Call { func: name, args }
                    }
                    _ => ExprKind::Name(name),
                };
                Ok(Expr { col, kind })
            }
            other => Err((
                col,
                format!(
                    "expected a number, a tensor access, a function call or '(', found {}",
                    other.describe()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_columns() {
        let s = parse("C[i] += A[i] + 2 * B[i]").unwrap();
        assert_eq!(s.reduce, Some(Reducer::Sum));
        let ExprKind::Bin(BinTok::Add, _, rhs) = &s.rhs.kind else {
            panic!("{:?}", s.rhs)
        };
        assert_eq!(s.rhs.col, 14);
        assert!(matches!(rhs.kind, ExprKind::Bin(BinTok::Mul, ..)));
    }

    #[test]
    fn max_assign() {
        assert_eq!(
            parse("M[i] max= X[i, j]").unwrap().reduce,
            Some(Reducer::Max)
        );
        assert_eq!(parse("M[i] max X[i, j]").unwrap_err().0, 10);
    }

    #[test]
    fn long_operator_chains_are_an_error_not_a_stack_overflow() {
        // 14,000 terms: each `+` nests one level (the probe that aborted with SIGABRT).
        let src = format!("C[i] = A[i]{}", " + A[i]".repeat(14_000));
        let e = parse(&src).unwrap_err();
        assert!(e.1.contains("more than 1024 terms"), "{e:?}");
        // Under the node bound but over the height bound.
        let src = format!("C[i] = A[i]{}", " + 1".repeat(300));
        let e = parse(&src).unwrap_err();
        assert!(e.1.contains("nested more than 256"), "{e:?}");
        // A long but reasonable sum is fine.
        let src = format!("C[i] = A[i]{}", " + A[i]".repeat(100));
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn comparisons_in_arguments() {
        let s = parse("C[i] = select(0 <= i - 1 < 4 && j > 2, A[i], 0)").unwrap();
        let ExprKind::Call { args, .. } = &s.rhs.kind else {
            panic!("{:?}", s.rhs)
        };
        let ExprKind::And(conds) = &args[0].kind else {
            panic!("{:?}", args[0])
        };
        assert_eq!(args[0].col, 30);
        assert_eq!(conds.len(), 2);
        let ExprKind::Compare { ops, operands } = &conds[0].kind else {
            panic!("{:?}", conds[0])
        };
        assert_eq!(ops, &[CmpOp::Le, CmpOp::Lt]);
        assert_eq!(operands.len(), 3);
        assert_eq!(conds[0].col, 17);
        // not inside an index, nor at the top of a statement
        assert_eq!(parse("C[i] = A[i < 2]").unwrap_err().0, 12);
        assert_eq!(parse("C[i] = A[i] < 2").unwrap_err().0, 13);
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let src = format!("C[i] = {}A[i]{}", "(".repeat(1000), ")".repeat(1000));
        assert!(parse(&src).unwrap_err().1.contains("nested"));
        let src = format!("C[i] = {}A[i]", "-".repeat(1000));
        assert!(parse(&src).unwrap_err().1.contains("nested"));
    }
}
