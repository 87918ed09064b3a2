//! Custom operators from a TOML spec: tensors with shapes, and stages written as
//! tensor-comprehension statements.
//!
//! The format exists so a user can tune an operator colt does not ship without writing Rust.
//! It maps one-to-one onto [`colt_ir::Program`]: a tensor is a buffer, a stage is a
//! [`colt_ir::Stage`]. Everything is checked here, before the IR sees it, so a mistake is one
//! error line naming the tensor or the stage and the column in its expression instead of a
//! panic deep inside scheduling.
//!
//! ```toml
//! name = "matmul"                  # optional, a C identifier (the kernel name); default "custom"
//!
//! [constants]                      # optional named scalars usable in expressions
//! alpha = 0.5
//!
//! [sizes]                          # optional named integers: shapes, extents, indices, values
//! M = 64
//! K = 32
//!
//! [tensors]                        # role: input | output | temp
//! A = { shape = ["M", "K"], role = "input" }
//! B = { shape = ["K", 48], role = "input" }
//! C = { shape = ["M", 48], role = "output" }
//!
//! [[stage]]                        # one or more, executed in order
//! name = "matmul"                  # optional; default: the written tensor's name
//! compute = "C[i, j] += alpha * A[i, k] * B[k, j]"
//! extents = { k = "K" }            # optional; normally inferred from the shapes
//! ```
//!
//! **Statements.** `OUT[v1, v2, ...] op expr` where the output indices are distinct plain
//! iteration variables (the spatial loops, in that order) and `op` is `=` (elementwise),
//! `+=` (sum), `max=` or `min=` (reductions over every variable that appears on the right but
//! not on the left, in order of first appearance, a select's index condition read after its
//! two values). A reduction starts from its identity (0, -inf, +inf). A rank-0 tensor is
//! written `s += X[i]` and read as `s`.
//!
//! **Values.** Numbers (rounded once to f32), tensor accesses `A[i, k + 1]`, named constants,
//! sizes (as f32: `1 / H` is a division of floats), `+ - * /`, unary minus, the functions
//! `exp log sqrt rsqrt abs erf relu sigmoid silu tanh neg` (one argument) and `max min pow`
//! (two), and:
//! - `select(cond, a, b)`: `a` where `cond` holds, else `b`. `cond` compares values
//!   (`select(X[i] > 0, X[i], 0.1 * X[i])`, one of `< <= > >= == !=`, IEEE: false on NaN but
//!   for `!=`) or indices: a comparison mentioning an iteration variable and no tensor
//!   (`j <= i`, `h >= 1`) or a range `lo <= index < hi` (`1 <= h < H + 1`; `<` or `<=` on
//!   either side, `lo` and `hi` integers or sizes), several joined by `&&` (values compare
//!   one at a time: nest selects). An access in `a` may leave its tensor where the index
//!   conditions keep it inside (`select(h >= 1, X[h - 1], 0)`).
//! - `pad(X[...])`: the access, reading 0 wherever an index leaves `X`
//!   (`Y[n, f, y, x] += pad(X[n, c, y + r - 1, x + q - 1]) * W[f, c, r, q]` is a convolution
//!   with zero padding 1). It lowers to `select(0 <= index < extent && ..., X[...], 0)` over
//!   the dimensions the access can leave.
//!
//! **Indices** are affine: sums of iteration variables times integer constants plus an integer
//! constant (`y + r`, `2*x + q - 1`); sizes and integral named constants may appear in them,
//! and so may divisions of those by positive ones (`H / 2`).
//!
//! **Sizes.** `[sizes]` names integers. A dimension in `shape` and an extent in `extents` is an
//! integer or a string holding an expression over sizes: integers, sizes, `+ - * /` (floor
//! division by a positive divisor) and parentheses (`"H + 2"`, `"(H - K) / 2 + 1"`). A name is
//! a tensor, a constant or a size, never two of them, and never an iteration variable.
//!
//! **Extents.** The extent of a variable is the size of every tensor dimension indexed by that
//! variable alone; they must all agree. A variable that only appears in compound indices or
//! conditions (or one you want to restrict) is given in `extents`; an explicit extent
//! overrides inference, except that an output index must cover its whole dimension. Every
//! access must stay inside its tensor for the whole iteration domain, except where a
//! `select` keeps it in or `pad` reads 0.
//!
//! **Checks.** Tensors are written by exactly one stage and read only after it; inputs are
//! never written and are all read; outputs and temps are all written. Buffers are ordered
//! inputs first (by first use), then temps and outputs in the order the stages write them,
//! which is also the order of the vectors passed to [`colt_ir::interp::run`].
//!
//! [`to_spec`] prints a program back in this format.

mod print;
mod select;
mod sizes;

pub use print::to_spec;

use crate::OpsError;
use crate::parser::{BinTok, Expr, ExprKind, Statement, parse};
use colt_ir::{
    Access, BinOp, Bound, BufId, BufKind, CmpOp, Idx, IterKind, IterVar, Program, Stage, UnOp,
    Value, VarId,
};
use serde::Deserialize;
use sizes::{Dim, check_sizes, known_sizes};
use std::collections::BTreeMap;
use std::path::Path;

/// Largest extent of a single dimension or iteration variable.
const MAX_EXTENT: i64 = 1 << 31;
/// Largest number of elements of one tensor (keeps every offset far from overflow).
const MAX_ELEMENTS: i64 = 1 << 40;
/// Largest magnitude of an integer constant or coefficient in an index.
const MAX_INDEX_CONST: i64 = 1 << 40;

/// Parse a spec from TOML text (the layout for no target in particular:
/// [`colt_ir::DEFAULT_LANES`]).
pub fn from_spec_str(text: &str) -> Result<Program, OpsError> {
    build(text, colt_ir::DEFAULT_LANES).map_err(|msg| OpsError::Spec { file: None, msg })
}

/// Read and parse a spec file (at most [`crate::MAX_INPUT_BYTES`]); errors are prefixed
/// with the path.
pub fn from_spec_file(path: impl AsRef<Path>) -> Result<Program, OpsError> {
    from_spec_file_for(path, colt_ir::DEFAULT_LANES)
}

/// [`from_spec_file`] laid out for vector registers of `lanes` f32 values
/// ([`colt_ir::layout_rewrites`]).
pub fn from_spec_file_for(path: impl AsRef<Path>, lanes: i64) -> Result<Program, OpsError> {
    let path = path.as_ref();
    let text = crate::read_input(path).map_err(|source| OpsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_spec_named(&text, path, lanes)
}

/// Parse spec `text` that was read from (or recorded for) `path` into a program laid out for
/// vector registers of `lanes` f32 values ([`colt_ir::layout_rewrites`]); errors are prefixed
/// with the path.
pub fn from_spec_named(text: &str, path: &Path, lanes: i64) -> Result<Program, OpsError> {
    build(text, lanes).map_err(|msg| OpsError::Spec {
        file: Some(path.to_path_buf()),
        msg,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    name: Option<String>,
    #[serde(default)]
    constants: BTreeMap<String, f64>,
    #[serde(default)]
    sizes: BTreeMap<String, i64>,
    tensors: BTreeMap<String, toml::Spanned<TensorSpec>>,
    #[serde(default)]
    stage: Vec<StageSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorSpec {
    shape: Vec<Dim>,
    role: Role,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Role {
    Input,
    Output,
    Temp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageSpec {
    name: Option<String>,
    compute: toml::Spanned<String>,
    #[serde(default)]
    extents: BTreeMap<String, Dim>,
}

/// The one-argument functions: every unary operator of the IR, by its name.
const UNARY: [UnOp; 11] = UnOp::ALL;
/// The two-argument functions.
const BINARY: [BinOp; 3] = [BinOp::Max, BinOp::Min, BinOp::Pow];
/// The functions lowered by [`select`]: `select(cond, a, b)` and `pad(X[...])`.
const SPECIAL: [&str; 2] = ["select", "pad"];

fn known_functions() -> String {
    let mut names: Vec<&str> = UNARY
        .iter()
        .map(|f| f.name())
        .chain(BINARY.iter().map(|f| f.name()))
        .chain(SPECIAL)
        .collect();
    names.sort_unstable();
    names.join(", ")
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Byte offsets of line starts, so each tensor's and stage's line is found in O(log n)
/// (scanning the text per tensor made validation quadratic in the spec's size).
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }
    /// 1-based line of byte offset `pos`.
    fn line(&self, pos: usize) -> usize {
        self.0.partition_point(|&start| start <= pos)
    }
}

/// 1-based line and column of byte offset `pos` in `text`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

struct Tensor {
    name: String,
    shape: Vec<i64>,
    role: Role,
    line: usize,
}

fn build(text: &str, lanes: i64) -> Result<Program, String> {
    let spec = parse_toml(text)?;
    let name = spec.name.clone().unwrap_or_else(|| "custom".to_string());
    if !is_ident(&name) {
        return Err(format!(
            "name \"{name}\" is not a C identifier (letters, digits and '_', not starting with a digit)"
        ));
    }

    let lines = LineIndex::new(text);
    check_constants(&spec.constants)?;
    check_sizes(&spec.sizes, &spec.constants)?;
    let tensors = check_tensors(&spec, &lines)?;
    if spec.stage.is_empty() {
        return Err(
            "the spec has no stages: add at least one [[stage]] with a compute statement"
                .to_string(),
        );
    }

    // Stages: parse and check each, recording which tensors they read and write.
    let mut cx = Ctx {
        tensors: &tensors,
        constants: &spec.constants,
        sizes: &spec.sizes,
        written: BTreeMap::new(),
    };
    let lowered = lower_stages(&spec.stage, &lines, &mut cx)?;
    check_roles(&tensors, &lowered, &cx.written)?;
    let p = colt_ir::layout_rewrites(&assemble(name, &tensors, lowered), lanes);
    colt_ir::verify(&p.naive())
        .map_err(|e| format!("internal check failed on the built program: {e}"))?;
    Ok(p)
}

/// Deserialize the spec; a TOML error names its line and column.
fn parse_toml(text: &str) -> Result<SpecFile, String> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| {
            let (l, c) = line_col(text, s.start);
            format!("line {l}, column {c}: ")
        });
        format!(
            "invalid TOML: {}{}",
            at.unwrap_or_default(),
            one_line(e.message())
        )
    })
}

/// Check the declared tensors (names, shapes) and key them by name.
fn check_tensors(spec: &SpecFile, lines: &LineIndex) -> Result<BTreeMap<String, Tensor>, String> {
    let mut tensors: BTreeMap<String, Tensor> = BTreeMap::new();
    for (tname, t) in &spec.tensors {
        let line = lines.line(t.span().start);
        let t = t.get_ref();
        let here = format!("tensor \"{tname}\" (line {line})");
        if !is_ident(tname) {
            return Err(format!(
                "{here}: the name is not an identifier (letters, digits and '_')"
            ));
        }
        if spec.constants.contains_key(tname) || spec.sizes.contains_key(tname) {
            let what = if spec.sizes.contains_key(tname) {
                "size"
            } else {
                "constant"
            };
            return Err(format!(
                "{here}: duplicate name: \"{tname}\" is also a {what}"
            ));
        }
        let shape = t
            .shape
            .iter()
            .enumerate()
            .map(|(d, dim)| {
                dim.resolve(&spec.sizes)
                    .map_err(|m| format!("{here}: dimension {d} {m}"))
            })
            .collect::<Result<Vec<i64>, String>>()?;
        check_shape(&here, &shape)?;
        tensors.insert(
            tname.clone(),
            Tensor {
                name: tname.clone(),
                shape,
                role: t.role,
                line,
            },
        );
    }
    Ok(tensors)
}

/// Every dimension of `shape` within [1, MAX_EXTENT] and at most MAX_ELEMENTS elements in all;
/// `here` names the tensor in the error.
fn check_shape(here: &str, shape: &[i64]) -> Result<(), String> {
    let mut elems: i64 = 1;
    for (d, &n) in shape.iter().enumerate() {
        if n <= 0 || n > MAX_EXTENT {
            return Err(format!(
                "{here}: dimension {d} is {n}; extents must be between 1 and {MAX_EXTENT}"
            ));
        }
        elems = elems
            .checked_mul(n)
            .filter(|&e| e <= MAX_ELEMENTS)
            .ok_or_else(|| {
                format!("{here}: shape {shape:?} has more than {MAX_ELEMENTS} elements")
            })?;
    }
    Ok(())
}

/// Named constants are identifiers with finite f32 values.
fn check_constants(constants: &BTreeMap<String, f64>) -> Result<(), String> {
    for (cname, &v) in constants {
        if !is_ident(cname) {
            return Err(format!(
                "constant \"{cname}\": the name is not an identifier (letters, digits and '_')"
            ));
        }
        if !v.is_finite() || !(v as f32).is_finite() {
            return Err(format!(
                "constant \"{cname}\": {v} is not a finite f32 value"
            ));
        }
    }
    Ok(())
}

/// Name, parse and check every stage in order; an error names the stage and its line.
fn lower_stages(
    stages: &[StageSpec],
    lines: &LineIndex,
    cx: &mut Ctx<'_>,
) -> Result<Vec<LStage>, String> {
    let mut stage_names: BTreeMap<String, usize> = BTreeMap::new();
    let mut lowered: Vec<LStage> = vec![];
    for (si, st) in stages.iter().enumerate() {
        let line = lines.line(st.compute.span().start);
        let sname = match &st.name {
            Some(n) => n.clone(),
            None => parse(st.compute.get_ref())
                .map(|s| s.lhs)
                .unwrap_or_else(|_| format!("s{}", si + 1)),
        };
        let here = format!("stage {} \"{sname}\" (line {line})", si + 1);
        if !is_ident(&sname) {
            return Err(format!(
                "{here}: the stage name is not an identifier (letters, digits and '_')"
            ));
        }
        if let Some(prev) = stage_names.insert(sname.clone(), si) {
            return Err(format!(
                "{here}: duplicate stage name (stage {} has the same name)",
                prev + 1
            ));
        }
        let mut extents = BTreeMap::new();
        for (v, dim) in &st.extents {
            let e = dim
                .resolve(cx.sizes)
                .map_err(|m| format!("{here}: extent of \"{v}\" {m}"))?;
            extents.insert(v.clone(), e);
        }
        let ls = cx
            .stage(si, &sname, st.compute.get_ref(), &extents)
            .map_err(|(col, msg)| match col {
                Some(c) => format!("{here}, column {c}: {msg}"),
                None => format!("{here}: {msg}"),
            })?;
        lowered.push(ls);
    }
    Ok(lowered)
}

/// Whole-program checks: every input is read, every output and temp written.
fn check_roles(
    tensors: &BTreeMap<String, Tensor>,
    lowered: &[LStage],
    written: &BTreeMap<String, (usize, String)>,
) -> Result<(), String> {
    let read_somewhere: std::collections::BTreeSet<&String> =
        lowered.iter().flat_map(|s| &s.reads).collect();
    for t in tensors.values() {
        let read = read_somewhere.contains(&t.name);
        match t.role {
            Role::Input if !read => {
                return Err(format!(
                    "tensor \"{}\" (line {}): input is never read by any stage",
                    t.name, t.line
                ));
            }
            Role::Output | Role::Temp if !written.contains_key(&t.name) => {
                let role = if t.role == Role::Output {
                    "output"
                } else {
                    "temp"
                };
                return Err(format!(
                    "tensor \"{}\" (line {}): {role} is never written by any stage",
                    t.name, t.line
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The program of the checked stages: buffers, then one IR stage per lowered stage.
fn assemble(name: String, tensors: &BTreeMap<String, Tensor>, lowered: Vec<LStage>) -> Program {
    let mut p = Program::new(name);
    let ids = add_buffers(&mut p, tensors, &lowered);
    for s in lowered {
        add_stage(&mut p, &ids, s);
    }
    p
}

/// Buffer order: inputs by first use, then written tensors in stage order.
fn add_buffers(
    p: &mut Program,
    tensors: &BTreeMap<String, Tensor>,
    lowered: &[LStage],
) -> BTreeMap<String, BufId> {
    let mut ids: BTreeMap<String, BufId> = BTreeMap::new();
    for s in lowered {
        for r in &s.reads {
            let t = &tensors[r];
            if t.role == Role::Input && !ids.contains_key(r) {
                ids.insert(
                    r.clone(),
                    p.add_buffer(r.clone(), t.shape.clone(), BufKind::Input),
                );
            }
        }
    }
    for s in lowered {
        let t = &tensors[&s.out];
        let kind = if t.role == Role::Output {
            BufKind::Output
        } else {
            BufKind::Temp
        };
        ids.insert(
            s.out.clone(),
            p.add_buffer(s.out.clone(), t.shape.clone(), kind),
        );
    }
    ids
}

/// Give the stage's variables ids in `p` and append it as an IR stage.
fn add_stage(p: &mut Program, ids: &BTreeMap<String, BufId>, s: LStage) {
    let mut var_ids = vec![];
    let mut iters = vec![];
    for (v, extent, kind) in &s.iters {
        let id = p.new_var(v.clone());
        var_ids.push(id);
        iters.push(IterVar {
            var: id,
            extent: *extent,
            kind: *kind,
        });
    }
    let store = Access {
        buf: ids[&s.out],
        idx: iters
            .iter()
            .filter(|i| i.kind == IterKind::Spatial)
            .map(|i| Idx::Var(i.var))
            .collect(),
    };
    let extents: Vec<i64> = iters.iter().map(|i| i.extent).collect();
    let value = s.value.finish(ids, &var_ids, &extents);
    p.stages.push(Stage {
        name: s.name,
        iters,
        store,
        reduce: s.reduce,
        value,
    });
}

/// A value before buffer and variable ids exist: loads name tensors and stage-local variables.
enum LValue {
    Const(f32),
    Load(String, Vec<Lin>),
    /// `pad(X[...])`: the load, reading 0 where an index leaves the shape (given).
    Padded(String, Vec<Lin>, Vec<i64>),
    Unary(UnOp, Box<LValue>),
    Binary(BinOp, Box<LValue>, Box<LValue>),
    /// `select(bounds, then, otherwise)` on indices.
    Select(Vec<LBound>, Box<LValue>, Box<LValue>),
    /// `select(lhs op rhs, then, otherwise)` on values: `[lhs, rhs, then, otherwise]`.
    Compare(CmpOp, Box<[LValue; 4]>),
}

impl LValue {
    /// The IR value, with `vars[v]` for local variable `v`, whose extent is `extents[v]`.
    fn finish(&self, ids: &BTreeMap<String, BufId>, vars: &[VarId], extents: &[i64]) -> Value {
        let fin = |v: &LValue| v.finish(ids, vars, extents);
        let idx = |lins: &[Lin]| lins.iter().map(|l| l.to_idx(vars)).collect::<Vec<_>>();
        match self {
            LValue::Const(c) => Value::Const(*c),
            LValue::Load(t, lins) => Value::load(ids[t], idx(lins)),
            LValue::Padded(t, lins, shape) => {
                let load = Value::load(ids[t], idx(lins));
                let mut bounds = vec![];
                for (l, &n) in lins.iter().zip(shape) {
                    let (lo, hi) = l.range(extents);
                    if lo < 0 || hi >= n as i128 {
                        bounds.push(LBound::new(l.clone(), Some(0), Some(n)));
                    }
                }
                if bounds.is_empty() {
                    return load;
                }
                let bounds = bounds.iter().map(|b| b.finish(vars, extents)).collect();
                Value::Select(bounds, Box::new(load), Box::new(Value::Const(0.0)))
            }
            LValue::Unary(op, a) => Value::un(*op, fin(a)),
            LValue::Binary(op, a, b) => Value::bin(*op, fin(a), fin(b)),
            LValue::Select(bounds, a, b) => Value::Select(
                bounds.iter().map(|b| b.finish(vars, extents)).collect(),
                Box::new(fin(a)),
                Box::new(fin(b)),
            ),
            LValue::Compare(op, vs) => Value::Compare(*op, Box::new(vs.each_ref().map(fin))),
        }
    }
}

/// `lo <= lin < hi` over local variables; an open side (`None`) is the range of `lin` over the
/// domain (`i >= 1` bounds `i` from above by its extent).
#[derive(Clone, Debug, PartialEq)]
struct LBound {
    lin: Lin,
    lo: Option<i64>,
    hi: Option<i64>,
}

impl LBound {
    fn new(lin: Lin, lo: Option<i64>, hi: Option<i64>) -> LBound {
        LBound { lin, lo, hi }
    }
    /// The closed sides over the domain: `[lo, hi)` (wide, as the index may be).
    fn sides(&self, extents: &[i64]) -> (i128, i128) {
        let (min, max) = self.lin.range(extents);
        (
            self.lo.map_or(min, i128::from),
            self.hi.map_or(max + 1, i128::from),
        )
    }
    /// The IR bound; the stage's checks have kept both sides within i64.
    fn finish(&self, vars: &[VarId], extents: &[i64]) -> Bound {
        let (lo, hi) = self.sides(extents);
        Bound {
            idx: self.lin.to_idx(vars),
            lo: lo as i64,
            hi: hi as i64,
        }
    }
}

/// An affine index over stage-local variable numbers: `sum(coef * var) + constant`.
#[derive(Clone, Debug, PartialEq, Default)]
struct Lin {
    terms: BTreeMap<usize, i64>,
    constant: i64,
}

impl Lin {
    /// The index over the stage's variables `vars` (local number `v` is `vars[v]`).
    fn to_idx(&self, vars: &[VarId]) -> Idx {
        let mut a = colt_ir::Affine {
            terms: BTreeMap::new(),
            constant: self.constant,
        };
        for (&v, &c) in &self.terms {
            *a.terms.entry(vars[v]).or_default() += c;
        }
        a.to_idx()
    }
    fn single_var(&self) -> Option<usize> {
        match (self.terms.len(), self.constant) {
            (1, 0) => self.terms.iter().next().filter(|t| *t.1 == 1).map(|t| *t.0),
            _ => None,
        }
    }
    fn is_const(&self) -> bool {
        self.terms.is_empty()
    }
    /// Lowest and highest value over the domain `0 <= v < extents[v]`.
    fn range(&self, extents: &[i64]) -> (i128, i128) {
        let (mut lo, mut hi) = (self.constant as i128, self.constant as i128);
        for (&v, &c) in &self.terms {
            let top = c as i128 * (extents[v] - 1) as i128;
            lo += top.min(0);
            hi += top.max(0);
        }
        (lo, hi)
    }
}

fn checked(x: Option<i64>) -> Result<i64, String> {
    x.filter(|v| v.abs() <= MAX_INDEX_CONST)
        .ok_or_else(|| format!("index arithmetic exceeds {MAX_INDEX_CONST} in magnitude"))
}

fn lin_add(a: &Lin, b: &Lin, sign: i64) -> Result<Lin, String> {
    let mut out = a.clone();
    for (&v, &c) in &b.terms {
        let e = out.terms.entry(v).or_insert(0);
        *e = checked(c.checked_mul(sign).and_then(|x| e.checked_add(x)))?;
        if *e == 0 {
            out.terms.remove(&v);
        }
    }
    out.constant = checked(
        b.constant
            .checked_mul(sign)
            .and_then(|x| out.constant.checked_add(x)),
    )?;
    Ok(out)
}

fn lin_scale(a: &Lin, k: i64) -> Result<Lin, String> {
    let mut out = Lin::default();
    for (&v, &c) in &a.terms {
        let x = checked(c.checked_mul(k))?;
        if x != 0 {
            out.terms.insert(v, x);
        }
    }
    out.constant = checked(a.constant.checked_mul(k))?;
    Ok(out)
}

/// One checked stage, before ids are assigned.
struct LStage {
    name: String,
    out: String,
    /// (variable, extent, kind): spatial first in output order, then reductions.
    iters: Vec<(String, i64, IterKind)>,
    reduce: Option<colt_ir::Reducer>,
    value: LValue,
    /// Tensors read, in order of first use.
    reads: Vec<String>,
}

/// A stage-level error: optional column in the compute string, message.
type SErr = (Option<usize>, String);

struct Ctx<'a> {
    tensors: &'a BTreeMap<String, Tensor>,
    constants: &'a BTreeMap<String, f64>,
    sizes: &'a BTreeMap<String, i64>,
    /// Tensor -> (1-based stage number, stage name) that writes it.
    written: BTreeMap<String, (usize, String)>,
}

/// A tensor access as lowered, for extent inference and bounds checks.
struct Recorded {
    tensor: String,
    /// Each index and the column it starts at.
    idx: Vec<(Lin, usize)>,
    /// The bounds of the index selects whose then-branch holds the access.
    guards: Vec<LBound>,
    /// `pad(...)`: reads 0 out of bounds.
    padded: bool,
}

/// Per-stage state while lowering expressions.
struct StageCx {
    /// Variables in order of first appearance (output indices first).
    vars: Vec<String>,
    /// Accesses (the store first), for extent inference and bounds checks.
    accesses: Vec<Recorded>,
    /// Index bounds of the selects lowered so far, with their columns.
    conds: Vec<(LBound, usize)>,
    reads: Vec<String>,
    /// The same names, for O(log n) membership.
    read_set: std::collections::BTreeSet<String>,
    out: String,
}

impl StageCx {
    fn var(&mut self, name: &str) -> usize {
        match self.vars.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                self.vars.push(name.to_string());
                self.vars.len() - 1
            }
        }
    }
}

/// First column of an expression (a binary operation records its operator's column).
fn start_col(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::Bin(_, a, _) => start_col(a).min(e.col),
        ExprKind::Compare { operands: xs, .. } | ExprKind::And(xs) => {
            xs.first().map_or(e.col, start_col).min(e.col)
        }
        _ => e.col,
    }
}

fn known_tensors(t: &BTreeMap<String, Tensor>) -> String {
    t.keys().cloned().collect::<Vec<_>>().join(", ")
}

impl<'a> Ctx<'a> {
    /// Whether `name` is a tensor, a constant or a size (never an iteration variable).
    fn is_named(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
            || self.constants.contains_key(name)
            || self.sizes.contains_key(name)
    }

    fn tensor(&self, name: &str, col: usize) -> Result<&'a Tensor, SErr> {
        self.tensors.get(name).ok_or_else(|| {
            (
                Some(col),
                format!(
                    "unknown tensor \"{name}\" (declared tensors: {})",
                    known_tensors(self.tensors)
                ),
            )
        })
    }

    fn stage(
        &mut self,
        number: usize,
        sname: &str,
        src: &str,
        explicit: &BTreeMap<String, i64>,
    ) -> Result<LStage, SErr> {
        let st: Statement = parse(src).map_err(|(c, m)| (Some(c), m))?;
        let out = self.output_tensor(&st)?;
        let mut sc = self.output_vars(&st, out)?;
        let n_spatial = sc.vars.len();

        let value = self.value(&st.rhs, &mut sc)?;
        if st.reduce.is_none() && sc.vars.len() > n_spatial {
            let v = &sc.vars[n_spatial];
            return Err((
                None,
                format!(
                    "variable \"{v}\" is not an index of the output; use +=, max= or min= to reduce over it"
                ),
            ));
        }

        let extents = self.extents(&sc, &st, out, explicit)?;
        self.check_bounds(&sc, &extents)?;

        let iters = sc
            .vars
            .iter()
            .zip(&extents)
            .enumerate()
            .map(|(i, (v, &e))| {
                (
                    v.clone(),
                    e,
                    if i < n_spatial {
                        IterKind::Spatial
                    } else {
                        IterKind::Reduce
                    },
                )
            })
            .collect();
        self.written
            .insert(out.name.clone(), (number + 1, sname.to_string()));
        Ok(LStage {
            name: sname.to_string(),
            out: sc.out,
            iters,
            reduce: st.reduce,
            value,
            reads: sc.reads,
        })
    }

    /// The tensor the statement writes: declared, not an input, not written before, and
    /// indexed with its rank.
    fn output_tensor(&self, st: &Statement) -> Result<&'a Tensor, SErr> {
        let out = self.tensor(&st.lhs, st.lhs_col)?;
        let col = Some(st.lhs_col);
        if out.role == Role::Input {
            return Err((
                col,
                format!("tensor \"{}\" is an input and cannot be written", out.name),
            ));
        }
        if let Some((n, s)) = self.written.get(&out.name) {
            return Err((
                col,
                format!(
                    "tensor \"{}\" is already written by stage {n} \"{s}\"",
                    out.name
                ),
            ));
        }
        if st.lhs_idx.len() != out.shape.len() {
            return Err((
                col,
                format!(
                    "tensor \"{}\" has rank {} but is indexed with {} indices",
                    out.name,
                    out.shape.len(),
                    st.lhs_idx.len()
                ),
            ));
        }
        Ok(out)
    }

    /// The stage state after the output indices: each a distinct plain variable (the spatial
    /// ones, in order), and the store recorded as the first access.
    fn output_vars(&self, st: &Statement, out: &Tensor) -> Result<StageCx, SErr> {
        let mut sc = StageCx {
            vars: vec![],
            accesses: vec![],
            conds: vec![],
            reads: vec![],
            read_set: Default::default(),
            out: out.name.clone(),
        };
        for e in &st.lhs_idx {
            let ExprKind::Name(v) = &e.kind else {
                return Err((
                    Some(start_col(e)),
                    "an output index must be a plain iteration variable (compute shifted or strided positions on the right-hand side)"
                        .to_string(),
                ));
            };
            if self.is_named(v) {
                return Err((
                    Some(e.col),
                    format!(
                        "\"{v}\" names a tensor, constant or size and cannot be an output index variable"
                    ),
                ));
            }
            if sc.vars.contains(v) {
                return Err((
                    Some(e.col),
                    format!("output index variable \"{v}\" appears twice"),
                ));
            }
            sc.var(v);
        }
        let lhs_lins: Vec<(Lin, usize)> = (0..sc.vars.len())
            .map(|i| {
                (
                    Lin {
                        terms: [(i, 1)].into(),
                        constant: 0,
                    },
                    st.lhs_idx[i].col,
                )
            })
            .collect();
        sc.accesses.push(Recorded {
            tensor: out.name.clone(),
            idx: lhs_lins,
            guards: vec![],
            padded: false,
        });
        Ok(sc)
    }

    /// Extents: explicit, else every dimension indexed by the variable alone.
    fn extents(
        &self,
        sc: &StageCx,
        st: &Statement,
        out: &Tensor,
        explicit: &BTreeMap<String, i64>,
    ) -> Result<Vec<i64>, SErr> {
        for v in explicit.keys() {
            if !sc.vars.contains(v) {
                return Err((
                    None,
                    format!("extents names variable \"{v}\", which the statement does not use"),
                ));
            }
        }
        let n_spatial = st.lhs_idx.len();
        let mut extents = vec![];
        for (vi, v) in sc.vars.iter().enumerate() {
            let inferred = self.inferred_extent(sc, vi, v, explicit.contains_key(v))?;
            let e = match (explicit.get(v), inferred) {
                (Some(&e), _) => {
                    if e <= 0 || e > MAX_EXTENT {
                        return Err((
                            None,
                            format!(
                                "extent of \"{v}\" is {e}; it must be between 1 and {MAX_EXTENT}"
                            ),
                        ));
                    }
                    if vi < n_spatial && e != out.shape[vi] {
                        return Err((
                            Some(st.lhs_idx[vi].col),
                            format!(
                                "extent of output index \"{v}\" is {e} but dimension {vi} of \"{}\" is {}",
                                out.name, out.shape[vi]
                            ),
                        ));
                    }
                    e
                }
                (None, Some((n, _))) => n,
                (None, None) => {
                    return Err((
                        None,
                        format!(
                            "cannot infer the extent of variable \"{v}\" (it never indexes a dimension alone); give it in extents"
                        ),
                    ));
                }
            };
            extents.push(e);
        }
        Ok(extents)
    }

    /// The extent of variable number `vi` (named `v`) from the dimensions it indexes alone, and
    /// where it came from; those must agree unless the extent is given (`explicit`).
    fn inferred_extent(
        &self,
        sc: &StageCx,
        vi: usize,
        v: &str,
        explicit: bool,
    ) -> Result<Option<(i64, String)>, SErr> {
        let mut inferred: Option<(i64, String)> = None;
        for Recorded { tensor: t, idx, .. } in &sc.accesses {
            for (d, (lin, col)) in idx.iter().enumerate() {
                if lin.single_var() != Some(vi) {
                    continue;
                }
                let n = self.tensors[t].shape[d];
                let here = format!("{t} dimension {d} at column {col}");
                match &inferred {
                    Some((m, there)) if *m != n && !explicit => {
                        return Err((
                            Some(*col),
                            format!(
                                "inconsistent extents for variable \"{v}\": {m} from {there} but {n} from {here} (give it in extents if intended)"
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => inferred = Some((n, here)),
                }
            }
        }
        Ok(inferred)
    }

    /// Bounds: every access stays inside its tensor over the whole domain, or where the
    /// selects around it let it run; a padded one reads 0 outside, its index only stays
    /// within [`MAX_INDEX_CONST`] (as does every bound of a select).
    fn check_bounds(&self, sc: &StageCx, extents: &[i64]) -> Result<(), SErr> {
        let far = |(lo, hi): (i128, i128)| {
            lo < -(MAX_INDEX_CONST as i128) || hi > MAX_INDEX_CONST as i128
        };
        for (b, col) in &sc.conds {
            if far(b.sides(extents)) {
                return Err((
                    Some(*col),
                    format!(
                        "the condition ranges beyond {MAX_INDEX_CONST} in magnitude over the domain"
                    ),
                ));
            }
        }
        for r in &sc.accesses {
            for (d, (lin, col)) in r.idx.iter().enumerate() {
                let (lo, hi) = select::guarded_range(lin, &r.guards, extents);
                let n = self.tensors[&r.tensor].shape[d] as i128;
                let t = &r.tensor;
                if r.padded && far((lo, hi)) {
                    return Err((
                        Some(*col),
                        format!(
                            "index {d} of \"{t}\" ranges over [{lo}, {hi}], beyond {MAX_INDEX_CONST} in magnitude"
                        ),
                    ));
                }
                if !r.padded && lo <= hi && (lo < 0 || hi >= n) {
                    return Err((
                        Some(*col),
                        format!(
                            "index {d} of \"{t}\" ranges over [{lo}, {hi}], outside its extent {n} (indices must stay in bounds; pad(...) reads 0 outside)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn value(&self, e: &Expr, sc: &mut StageCx) -> Result<LValue, SErr> {
        let col = Some(e.col);
        Ok(match &e.kind {
            ExprKind::Num { value, single, .. } => {
                if !single.is_finite() {
                    return Err((col, format!("number {value:e} is not a finite f32 value")));
                }
                LValue::Const(*single)
            }
            ExprKind::Name(n) => self.name_value(n, col, sc)?,
            ExprKind::Access { tensor, idx } => self.access_value(tensor, idx, e.col, false, sc)?,
            ExprKind::Compare { .. } | ExprKind::And(_) => return Err(select::misplaced(e)),
            ExprKind::Call { func, args } => self.call_value(func, args, col, sc)?,
            ExprKind::Neg(a) => match self.value(a, sc)? {
                LValue::Const(c) => LValue::Const(-c),
                v => LValue::Unary(UnOp::Neg, Box::new(v)),
            },
            ExprKind::Bin(op, a, b) => {
                let op = match op {
                    BinTok::Add => BinOp::Add,
                    BinTok::Sub => BinOp::Sub,
                    BinTok::Mul => BinOp::Mul,
                    BinTok::Div => BinOp::Div,
                };
                let a = self.value(a, sc)?;
                LValue::Binary(op, Box::new(a), Box::new(self.value(b, sc)?))
            }
        })
    }

    /// A bare name used as a value: a constant or a rank-0 tensor.
    fn name_value(&self, n: &str, col: Option<usize>, sc: &mut StageCx) -> Result<LValue, SErr> {
        if let Some(&c) = self.constants.get(n) {
            Ok(LValue::Const(c as f32))
        } else if let Some(&size) = self.sizes.get(n) {
            Ok(LValue::Const(size as f32))
        } else if let Some(t) = self.tensors.get(n) {
            if !t.shape.is_empty() {
                return Err((
                    col,
                    format!(
                        "tensor \"{n}\" has rank {} but is used without indices",
                        t.shape.len()
                    ),
                ));
            }
            self.read(t, col, sc)?;
            Ok(LValue::Load(n.to_string(), vec![]))
        } else if sc.vars.iter().any(|v| v == n) {
            Err((
                col,
                format!("iteration variable \"{n}\" cannot be used as a value"),
            ))
        } else {
            Err((
                col,
                format!(
                    "unknown name \"{n}\": not a tensor, constant or size (declared tensors: {}; {})",
                    known_tensors(self.tensors),
                    known_sizes(self.sizes)
                ),
            ))
        }
    }

    /// A tensor access `tensor[idx...]` at column `at` (reading 0 out of bounds when
    /// `padded`), recorded for extents and bounds.
    fn access_value(
        &self,
        tensor: &str,
        idx: &[Expr],
        at: usize,
        padded: bool,
        sc: &mut StageCx,
    ) -> Result<LValue, SErr> {
        let col = Some(at);
        let t = self.tensor(tensor, at)?;
        if idx.len() != t.shape.len() {
            return Err((
                col,
                format!(
                    "tensor \"{tensor}\" has rank {} but is indexed with {} indices",
                    t.shape.len(),
                    idx.len()
                ),
            ));
        }
        self.read(t, col, sc)?;
        let mut lins = vec![];
        for ie in idx {
            let l = self.index(ie, sc)?;
            lins.push((l, start_col(ie)));
        }
        sc.accesses.push(Recorded {
            tensor: tensor.to_string(),
            idx: lins.clone(),
            guards: vec![],
            padded,
        });
        let lins = lins.into_iter().map(|l| l.0).collect();
        Ok(if padded {
            LValue::Padded(tensor.to_string(), lins, t.shape.clone())
        } else {
            LValue::Load(tensor.to_string(), lins)
        })
    }

    /// A call of one of the [`UNARY`], [`BINARY`] or [`SPECIAL`] functions.
    fn call_value(
        &self,
        func: &str,
        args: &[Expr],
        col: Option<usize>,
        sc: &mut StageCx,
    ) -> Result<LValue, SErr> {
        let arity = |want: usize| -> Result<(), SErr> {
            if args.len() == want {
                Ok(())
            } else {
                let s = if want == 1 { "" } else { "s" };
                Err((
                    col,
                    format!(
                        "function {func} takes {want} argument{s}, got {}",
                        args.len()
                    ),
                ))
            }
        };
        if let Some(&op) = UNARY.iter().find(|f| f.name() == func) {
            arity(1)?;
            Ok(LValue::Unary(op, Box::new(self.value(&args[0], sc)?)))
        } else if func == "select" {
            arity(3)?;
            self.select_value(args, sc)
        } else if func == "pad" {
            arity(1)?;
            self.pad_value(&args[0], sc)
        } else if let Some(&op) = BINARY.iter().find(|f| f.name() == func) {
            arity(2)?;
            let a = self.value(&args[0], sc)?;
            Ok(LValue::Binary(
                op,
                Box::new(a),
                Box::new(self.value(&args[1], sc)?),
            ))
        } else {
            Err((
                col,
                format!(
                    "unknown function \"{func}\" (known functions: {})",
                    known_functions()
                ),
            ))
        }
    }

    fn read(&self, t: &Tensor, col: Option<usize>, sc: &mut StageCx) -> Result<(), SErr> {
        if t.name == sc.out {
            return Err((
                col,
                format!("the stage reads \"{}\", the tensor it writes", t.name),
            ));
        }
        if t.role != Role::Input && !self.written.contains_key(&t.name) {
            return Err((
                col,
                format!("tensor \"{}\" is read before any stage writes it", t.name),
            ));
        }
        if sc.read_set.insert(t.name.clone()) {
            sc.reads.push(t.name.clone());
        }
        Ok(())
    }

    fn index(&self, e: &Expr, sc: &mut StageCx) -> Result<Lin, SErr> {
        let col = Some(e.col);
        let non_affine = |what: &str| {
            (
                Some(e.col),
                format!(
                    "non-affine index: {what} (indices are sums of variables times integer constants)"
                ),
            )
        };
        let wrap = |r: Result<Lin, String>| r.map_err(|m| (col, m));
        match &e.kind {
            ExprKind::Num { int: Some(i), .. } => wrap(checked(Some(*i)).map(|c| Lin {
                terms: BTreeMap::new(),
                constant: c,
            })),
            ExprKind::Num { value, .. } => Err(non_affine(&format!("{value} is not an integer"))),
            ExprKind::Name(n) => {
                if let Some(&c) = self.constants.get(n) {
                    if c.fract() != 0.0 || c.abs() > MAX_INDEX_CONST as f64 {
                        return Err(non_affine(&format!(
                            "constant \"{n}\" = {c} is not an integer"
                        )));
                    }
                    Ok(Lin {
                        terms: BTreeMap::new(),
                        constant: c as i64,
                    })
                } else if let Some(&size) = self.sizes.get(n) {
                    Ok(Lin {
                        terms: BTreeMap::new(),
                        constant: size,
                    })
                } else if self.tensors.contains_key(n) {
                    Err(non_affine(&format!("tensor \"{n}\" used as an index")))
                } else {
                    let v = sc.var(n);
                    Ok(Lin {
                        terms: [(v, 1)].into(),
                        constant: 0,
                    })
                }
            }
            ExprKind::Access { tensor, .. } => {
                Err(non_affine(&format!("tensor access \"{tensor}[...]\"")))
            }
            ExprKind::Call { func, .. } => {
                Err(non_affine(&format!("function call \"{func}(...)\"")))
            }
            ExprKind::Compare { .. } | ExprKind::And(_) => Err(select::misplaced(e)),
            ExprKind::Neg(a) => {
                let a = self.index(a, sc)?;
                wrap(lin_scale(&a, -1))
            }
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.index(a, sc)?, self.index(b, sc)?);
                match op {
                    BinTok::Add => wrap(lin_add(&x, &y, 1)),
                    BinTok::Sub => wrap(lin_add(&x, &y, -1)),
                    BinTok::Mul if y.is_const() => wrap(lin_scale(&x, y.constant)),
                    BinTok::Mul if x.is_const() => wrap(lin_scale(&y, x.constant)),
                    BinTok::Mul => Err(non_affine("product of two variables")),
                    BinTok::Div if x.is_const() && y.is_const() && y.constant > 0 => Ok(Lin {
                        terms: BTreeMap::new(),
                        constant: x.constant.div_euclid(y.constant),
                    }),
                    BinTok::Div => Err(non_affine(
                        "division (only of integers and sizes, by a positive one)",
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the module documentation is a valid spec.
    #[test]
    fn module_doc_example_parses() {
        let src = include_str!("spec.rs");
        let doc: Vec<&str> = src
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!"))
            .collect();
        let start = doc.iter().position(|l| l.trim() == "```toml").unwrap() + 1;
        let len = doc[start..].iter().position(|l| l.trim() == "```").unwrap();
        let text = doc[start..start + len].join("\n");
        let p = from_spec_str(&text).unwrap();
        assert_eq!(p.name, "matmul");
        assert_eq!(p.flops(), 3 * 64 * 48 * 32);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé\nx", 6), (2, 3));
        assert_eq!(line_col("é", 1), (1, 1));
        assert_eq!(line_col("a", 99), (1, 2));
    }
}
