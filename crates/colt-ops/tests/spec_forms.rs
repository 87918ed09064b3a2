//! The spec's choices, padding, sizes and functions beyond the built-in suite: each form
//! lowers to the IR the builders use (or computes what its formula says), and each mistake
//! in them is one error line naming the stage (or tensor) and the column.

mod common;
use colt_ir::{Bound, CmpOp, Value};
use colt_ops::{Conv2dShape, builders, from_spec_file};
use common::*;

fn shape(n: i64, c: i64, hw: i64, f: i64, pad: i64) -> Conv2dShape {
    Conv2dShape {
        n,
        c,
        h: hw,
        w: hw,
        f,
        kernel: 3,
        stride: 1,
        pad,
    }
}

/// The builder's two-stage padded conv, written out: an index select with the builder's
/// bounds gives the builder's program exactly.
#[test]
fn padded_conv_with_index_select_equals_builder() {
    let text = r#"
        name = "conv2d"
        [sizes]
        H = 6
        [tensors]
        X = { shape = [1, 2, "H", "H"], role = "input" }
        W = { shape = [3, 2, 3, 3], role = "input" }
        P = { shape = [1, 2, "H + 2", "H + 2"], role = "temp" }
        Y = { shape = [1, 3, "H", "H"], role = "output" }
        [[stage]]
        name = "pad"
        compute = "P[n, c, h, w] = select(1 <= h < H + 1 && 1 <= w < H + 1, X[n, c, h - 1, w - 1], 0)"
        [[stage]]
        name = "conv"
        compute = "Y[n, f, y, x] += P[n, c, y + r, x + q] * W[f, c, r, q]"
    "#;
    let b = builders::conv2d(shape(1, 2, 6, 3, 1));
    assert_eq!(ok(text), b);
    // one comparison is one bound, its open side closed by the domain (h in 0..8)
    let one_sided = ok(&text.replace("1 <= h < H + 1", "h >= 1 && h <= H"));
    let Value::Select(bounds, ..) = &one_sided.stages[0].value else {
        panic!()
    };
    let sides: Vec<(i64, i64)> = bounds.iter().map(|b| (b.lo, b.hi)).collect();
    assert_eq!(sides, [(1, 8), (0, 7), (1, 7)]);
    let (got, want) = (
        run(&one_sided, inputs(&one_sided, 4)),
        run(&b, inputs(&b, 4)),
    );
    assert_eq!(got, want);
}

/// `pad(...)` in the conv stage computes what the builder's pad stage and conv compute.
#[test]
fn pad_reads_zero_outside_and_matches_the_builder() {
    let p = from_spec_file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/conv2d-pad.toml"),
    )
    .unwrap();
    let b = builders::conv2d(shape(1, 16, 56, 16, 1));
    // a select costs no FLOPs: the builder's pad stage adds none
    assert_eq!(p.flops(), b.flops());
    let small = r#"
        [tensors]
        X = { shape = [2, 3, 5, 5], role = "input" }
        W = { shape = [4, 3, 3, 3], role = "input" }
        Y = { shape = [2, 4, 5, 5], role = "output" }
        [[stage]]
        compute = "Y[n, f, y, x] += pad(X[n, c, y + r - 1, x + q - 1]) * W[f, c, r, q]"
    "#;
    let p = ok(small);
    let b = builders::conv2d(shape(2, 3, 5, 4, 1));
    let (got, want) = (run(&p, inputs(&p, 5)), run(&b, inputs(&b, 5)));
    assert_eq!(get(&p, &got, "Y"), get(&b, &want, "Y"));
    // the guard covers exactly the dimensions that leave X
    let Value::Binary(_, load, _) = &p.stages[0].value else {
        panic!("{:?}", p.stages[0].value)
    };
    let Value::Select(bounds, _, zero) = &**load else {
        panic!("{load:?}")
    };
    assert_eq!(**zero, Value::Const(0.0));
    assert_eq!(bounds.len(), 2);
    assert_eq!((bounds[0].lo, bounds[0].hi), (0, 5));
    // an access that stays inside is a plain load
    let inside = small.replace("pad(X[n, c, y + r - 1, x + q - 1])", "pad(X[n, c, y, x])");
    let p = ok(&inside.replace("W[f, c, r, q]", "W[f, c, 0, 0]"));
    assert!(matches!(&p.stages[0].value, Value::Binary(_, l, _) if matches!(**l, Value::Load(_))));
}

#[test]
fn value_selects_and_new_functions_compute_their_formulas() {
    let text = r#"
        [sizes]
        N = 8
        [tensors]
        X = { shape = ["N"], role = "input" }
        Y = { shape = ["N"], role = "input" }
        leaky = { shape = ["N"], role = "output" }
        gelu = { shape = ["N"], role = "output" }
        misc = { shape = ["N"], role = "output" }
        mean = { shape = [], role = "output" }
        [[stage]]
        compute = "leaky[i] = select(X[i] > 0, X[i], 0.125 * X[i])"
        [[stage]]
        compute = "gelu[i] = 0.5 * X[i] * (1 + erf(X[i] * rsqrt(2)))"
        [[stage]]
        compute = "misc[i] = log(abs(X[i]) + 1) + pow(abs(Y[i]), 1.5) + select(X[i] != Y[i], 1, 0)"
        [[stage]]
        compute = "mean += X[i] * (1 / N)"
    "#;
    let p = ok(text);
    let bufs = run(&p, inputs(&p, 2));
    let (x, y) = (get(&p, &bufs, "X"), get(&p, &bufs, "Y"));
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let leaky: Vec<f64> = x64
        .iter()
        .map(|&v| if v > 0.0 { v } else { 0.125 * v })
        .collect();
    assert_close(get(&p, &bufs, "leaky"), &leaky, 1e-7, "leaky");
    // erf(x / sqrt 2) = 2 Phi(x) - 1, Phi from the complementary error function's series
    let gelu: Vec<f64> = x64
        .iter()
        .map(|&v| 0.5 * v * (1.0 + erf(v / 2f64.sqrt())))
        .collect();
    assert_close(get(&p, &bufs, "gelu"), &gelu, 1e-6, "gelu");
    let misc: Vec<f64> = x64
        .iter()
        .zip(y)
        .map(|(&a, &b)| (a.abs() + 1.0).ln() + (b.abs() as f64).powf(1.5) + 1.0)
        .collect();
    assert_close(get(&p, &bufs, "misc"), &misc, 1e-6, "misc");
    assert_close(
        get(&p, &bufs, "mean"),
        &[x64.iter().sum::<f64>() / 8.0],
        1e-6,
        "mean",
    );
    let Value::Compare(op, _) = &p.stages[0].value else {
        panic!("{:?}", p.stages[0].value)
    };
    assert_eq!(*op, CmpOp::Gt);
}

/// erf by its Maclaurin series (|x| < 3 here: the terms fall below 1e-17 by n = 60).
fn erf(x: f64) -> f64 {
    let (mut term, mut sum) = (x, x);
    for n in 1..60 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn sizes_stand_for_their_numbers() {
    let named = r#"
        [sizes]
        M = 4
        K = 6
        half = 3
        [tensors]
        A = { shape = ["M", "K"], role = "input" }
        C = { shape = ["M"], role = "output" }
        [[stage]]
        compute = "C[i] += A[i, k + K / 2] * (1 / M)"
        extents = { k = "half" }
    "#;
    let literal = r#"
        [tensors]
        A = { shape = [4, 6], role = "input" }
        C = { shape = [4], role = "output" }
        [[stage]]
        compute = "C[i] += A[i, k + 3] * (1 / 4)"
        extents = { k = 3 }
    "#;
    assert_eq!(ok(named), ok(literal));
}

#[test]
fn causal_index_select_is_a_bound_on_the_difference() {
    let text = r#"
        [tensors]
        S = { shape = [4, 4], role = "input" }
        O = { shape = [4, 4], role = "output" }
        [[stage]]
        compute = "O[i, j] = select(j <= i, S[i, j], -1000)"
    "#;
    let p = ok(text);
    let Value::Select(bounds, ..) = &p.stages[0].value else {
        panic!()
    };
    // j - i ranges over [-3, 3]; j <= i is -3 <= j - i < 1
    let (i, j) = (
        colt_ir::Idx::Var(p.stages[0].iters[0].var),
        colt_ir::Idx::Var(p.stages[0].iters[1].var),
    );
    assert_eq!(
        bounds[..],
        [Bound {
            idx: (i * -1) + j,
            lo: -3,
            hi: 1
        }]
    );
    let bufs = run(&p, inputs(&p, 1));
    let (s, o) = (get(&p, &bufs, "S"), get(&p, &bufs, "O"));
    for (k, &v) in o.iter().enumerate() {
        let want = if k % 4 <= k / 4 { s[k] } else { -1000.0 };
        assert_eq!(v, want, "O[{k}]");
    }
}

// ---- mistakes: one line each ----

/// The tensors of HEAD and the size `H = 4`.
const SIZES: &str = "[sizes]\nH = 4\n";

/// A one-stage spec over HEAD and SIZES (the compute line is line 9 of the text).
fn stage_err(compute: &str) -> String {
    stage_err_after(SIZES, compute)
}

#[test]
fn error_select_and_pad() {
    has(
        &stage_err("C[i, j] = A[i, 0] > 0"),
        &["column 19: unexpected '>' after the expression"],
    );
    has(
        &stage_err("C[i, j] = exp(A[i, 0] > 0) + B[0, j]"),
        &[
            "stage 1 \"C\" (line 9), column 15: a comparison is only allowed as the condition of select",
        ],
    );
    has(
        &stage_err("C[i, j] = select(A[i, 0], 1, B[0, j])"),
        &["column 18: the condition of select is a comparison"],
    );
    has(
        &stage_err("C[i, j] = select(A[i, 0] > 0, 1)"),
        &["column 11: function select takes 3 arguments, got 2"],
    );
    has(
        &stage_err("C[i, j] = select(A[i, 0] > 0 && j > 1, 1, B[0, j])"),
        &["column 26: a comparison of values does not combine with &&"],
    );
    has(
        &stage_err("C[i, j] = select(i != 1, A[i, 0], B[0, j])"),
        &["column 20: != between indices is not a range"],
    );
    has(
        &stage_err("C[i, j] = select(3 > i > 1, A[i, 0], B[0, j])"),
        &["column 20: a chained comparison reads lo <= index < hi (with < or <=)"],
    );
    has(
        &stage_err("C[i, j] = select(j <= i < 3, A[i, 0], B[0, j])"),
        &["column 18: the bounds of lo <= index < hi are integers or sizes"],
    );
    has(
        &stage_err("C[i, j] = select(0 <= i < 2 < 3, A[i, 0], B[0, j])"),
        &["column 20: a chained comparison has two operators"],
    );
    has(
        &stage_err("C[i, j] = pad(A[i, 0] + 1) + B[0, j]"),
        &["column 15: pad(...) takes one tensor access"],
    );
    // a plain access out of bounds is still an error, and says how to pad
    has(
        &stage_err("C[i, j] = A[i, j - 1]"),
        &[
            "column 16: index 1 of \"A\" ranges over [-1, 3], outside its extent 3",
            "pad(...) reads 0 outside",
        ],
    );
    // a guard that does not keep the access inside
    has(
        &stage_err("C[i, j] = select(j >= 1, A[i, j - 1], 0) + B[0, j]"),
        &["column 31: index 1 of \"A\" ranges over [0, 3], outside its extent 3"],
    );
}

#[test]
fn error_sizes() {
    let m = err(&format!(
        "{HEAD}D = {{ shape = [\"H + q\"], role = \"temp\" }}\n{SIZES}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n"
    ));
    has(
        &m,
        &["tensor \"D\" (line 6): dimension 0 \"H + q\", column 5: unknown size \"q\" (sizes: H)"],
    );
    let m = err("[sizes]\nH = 4\n[tensors]\nH = { shape = [4], role = \"input\" }\n");
    has(
        &m,
        &["tensor \"H\" (line 4): duplicate name: \"H\" is also a size"],
    );
    let m = err("[constants]\nH = 1.0\n[sizes]\nH = 4\n[tensors]\n");
    has(
        &m,
        &["size \"H\": duplicate name: \"H\" is also a constant"],
    );
    let m = err("[sizes]\nH = 4.5\n[tensors]\n");
    has(&m, &["invalid TOML: line 2"]);
    let m = err("[tensors]\nA = { shape = [4.5], role = \"input\" }\n");
    has(&m, &["an integer or a size expression in quotes"]);
    let m = err(&format!(
        "{HEAD}{SIZES}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\nextents = {{ k = \"K\" }}\n"
    ));
    has(
        &m,
        &["stage 1 \"C\" (line 9): extent of \"k\" \"K\", column 1: unknown size \"K\""],
    );
    has(
        &stage_err("H[i, j] = A[i, 0]"),
        &["column 1: unknown tensor \"H\""],
    );
    has(
        &stage_err("C[i, H] = A[i, 0]"),
        &["column 6: \"H\" names a tensor, constant or size and cannot be an output index"],
    );
    has(
        &stage_err("C[i, j] = A[i, j / H] + B[0, j]"),
        &["column 18: non-affine index: division (only of integers and sizes"],
    );
    has(
        &stage_err("C[i, j] = A[i, q] + B[0, j] * Z"),
        &[
            "unknown name \"Z\": not a tensor, constant or size",
            "sizes: H",
        ],
    );
}
