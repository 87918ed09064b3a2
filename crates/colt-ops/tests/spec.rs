//! The TOML operator spec: valid specs equal the builders' programs (structurally and by
//! interpretation), every class of malformed spec gives its own one-line error naming where,
//! and no input string panics the parser.

mod common;
use colt_ir::{Program, UnOp};
use colt_ops::{Conv2dShape, OpsError, builders, from_spec_file, from_spec_str};
use common::*;
use proptest::prelude::*;

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Same program, and the same values from the interpreter on seeded inputs.
fn assert_same(spec: &Program, builder: &Program) {
    let (a, b) = (
        run(spec, inputs(spec, 11)),
        run(builder, inputs(builder, 11)),
    );
    assert_eq!(a, b, "interpretation differs for {}", builder.name);
    assert_eq!(spec, builder);
}

#[test]
fn example_matmul_file_equals_builder() {
    let p = from_spec_file(examples().join("matmul.toml")).unwrap();
    assert_same(&p, &builders::matmul(64, 48, 32));
}

#[test]
fn example_attention_file_equals_builder() {
    let p = from_spec_file(examples().join("attention.toml")).unwrap();
    assert_eq!(p, builders::attention(4, 64, 32));
}

#[test]
fn small_attention_spec_interprets_like_builder() {
    let text = r#"
        name = "attention"
        constants = { scale = 0.5 }   # 1 / sqrt(4)
        [tensors]
        Q = { shape = [2, 3, 4], role = "input" }
        K = { shape = [2, 3, 4], role = "input" }
        V = { shape = [2, 3, 4], role = "input" }
        S = { shape = [2, 3, 3], role = "temp" }
        M = { shape = [2, 3], role = "temp" }
        E = { shape = [2, 3, 3], role = "temp" }
        Z = { shape = [2, 3], role = "temp" }
        Ou = { shape = [2, 3, 4], role = "temp" }
        O = { shape = [2, 3, 4], role = "output" }
        [[stage]]
        name = "qk"
        compute = "S[h, i, j] += Q[h, i, d] * K[h, j, d]"
        [[stage]]
        name = "rowmax"
        compute = "M[h, i] max= S[h, i, j]"
        [[stage]]
        name = "exp"
        compute = "E[h, i, j] = exp((S[h, i, j] - M[h, i]) * scale)"
        [[stage]]
        name = "rowsum"
        compute = "Z[h, i] += E[h, i, j]"
        [[stage]]
        name = "pv"
        compute = "Ou[h, i, d] += E[h, i, j] * V[h, j, d]"
        [[stage]]
        name = "norm"
        compute = "O[h, i, d] = Ou[h, i, d] / Z[h, i]"
    "#;
    assert_same(&ok(text), &builders::attention(2, 3, 4));
}

#[test]
fn softmax_spec_equals_builder() {
    let text = r#"
        name = "softmax"
        [tensors]
        X = { shape = [3, 5], role = "input" }
        M = { shape = [3], role = "temp" }
        E = { shape = [3, 5], role = "temp" }
        S = { shape = [3], role = "temp" }
        Y = { shape = [3, 5], role = "output" }
        [[stage]]
        name = "max"
        compute = "M[i] max= X[i, j]"
        [[stage]]
        name = "exp"
        compute = "E[i, j] = exp(X[i, j] - M[i])"
        [[stage]]
        name = "sum"
        compute = "S[i] += E[i, j]"
        [[stage]]
        name = "norm"
        compute = "Y[i, j] = E[i, j] / S[i]"
    "#;
    assert_same(&ok(text), &builders::softmax(3, 5));
}

#[test]
fn strided_conv_spec_equals_builder() {
    let text = r#"
        name = "conv2d"
        [tensors]
        X = { shape = [1, 2, 7, 7], role = "input" }
        W = { shape = [3, 2, 3, 3], role = "input" }
        Y = { shape = [1, 3, 3, 3], role = "output" }
        [[stage]]
        name = "conv"
        compute = "Y[n, f, y, x] += X[n, c, 2*y + r, x*2 + q] * W[f, c, r, q]"
    "#;
    let s = Conv2dShape {
        n: 1,
        c: 2,
        h: 7,
        w: 7,
        f: 3,
        kernel: 3,
        stride: 2,
        pad: 0,
    };
    // Specs, like built-in workloads, read strided windows through an unfolded copy.
    let built = colt_ir::layout_rewrites(&builders::conv2d(s), colt_ir::DEFAULT_LANES);
    assert!(built.stage_index("unfold_X").is_some());
    assert_same(&ok(text), &built);
}

#[test]
fn dense_swiglu_and_moe_specs_equal_builders() {
    let dense = r#"
        name = "dense_bias_relu"
        [tensors]
        X = { shape = [2, 3], role = "input" }
        W = { shape = [3, 4], role = "input" }
        b = { shape = [4], role = "input" }
        Z = { shape = [2, 4], role = "temp" }
        Y = { shape = [2, 4], role = "output" }
        [[stage]]
        name = "matmul"
        compute = "Z[i, j] += X[i, k] * W[k, j]"
        [[stage]]
        name = "bias_relu"
        compute = "Y[i, j] = relu(Z[i, j] + b[j])"
    "#;
    assert_same(&ok(dense), &builders::dense(2, 4, 3, Some(UnOp::Relu)));
    let moe = r#"
        name = "moe_experts"
        [tensors]
        Xg = { shape = [2, 3, 4], role = "input" }
        Wg = { shape = [2, 4, 5], role = "input" }
        Wu = { shape = [2, 4, 5], role = "input" }
        Wd = { shape = [2, 5, 4], role = "input" }
        R = { shape = [2, 3], role = "input" }
        G = { shape = [2, 3, 5], role = "temp" }
        U = { shape = [2, 3, 5], role = "temp" }
        A = { shape = [2, 3, 5], role = "temp" }
        Y = { shape = [2, 3, 4], role = "temp" }
        O = { shape = [2, 3, 4], role = "output" }
        [[stage]]
        name = "gate"
        compute = "G[e, t, f] += Xg[e, t, h] * Wg[e, h, f]"
        [[stage]]
        name = "up"
        compute = "U[e, t, f] += Xg[e, t, h] * Wu[e, h, f]"
        [[stage]]
        name = "act"
        compute = "A[e, t, f] = silu(G[e, t, f]) * U[e, t, f]"
        [[stage]]
        name = "down"
        compute = "Y[e, t, h] += A[e, t, f] * Wd[e, f, h]"
        [[stage]]
        name = "route"
        compute = "O[e, t, h] = Y[e, t, h] * R[e, t]"
    "#;
    // the builder declares R before the temps; the spec orders inputs by first use
    let p = ok(moe);
    let b = builders::moe_experts(2, 3, 4, 5);
    let names = |p: &Program| p.buffers.iter().map(|b| b.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&p),
        ["Xg", "Wg", "Wu", "Wd", "R", "G", "U", "A", "Y", "O"]
    );
    assert_eq!(names(&p), names(&b));
    assert_same(&p, &b);
}

#[test]
fn extras_explicit_extents_scalars_constants_and_functions() {
    // Row-wise L2 norm of the first 4 of 6 columns, shifted by an integral constant offset,
    // with a rank-0 accumulator and min/max/neg.
    let text = r#"
        [constants]
        off = 2
        eps = 0.25
        [tensors]
        X = { shape = [3, 6], role = "input" }
        s = { shape = [], role = "temp" }
        Y = { shape = [3], role = "output" }
        [[stage]]
        compute = "s += X[i, j + off] * X[i, j + off]"
        extents = { j = 4 }
        [[stage]]
        name = "out"
        compute = "Y[i] max= max(-X[i, j], min(sqrt(s + eps), 1.5)) - -1"
    "#;
    let p = ok(text);
    assert_eq!(p.name, "custom");
    assert_eq!(
        p.stages[0].name, "s",
        "default stage name is the written tensor"
    );
    assert_eq!(
        p.stages[0]
            .iters
            .iter()
            .map(|i| i.extent)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    let bufs = run(&p, inputs(&p, 3));
    let x = get(&p, &bufs, "X");
    let ss: f64 = (0..3)
        .flat_map(|i| (2..6).map(move |j| (i, j)))
        .map(|(i, j)| (x[i * 6 + j] as f64).powi(2))
        .sum();
    assert_close(get(&p, &bufs, "s"), &[ss], 1e-5, "s");
    let want: Vec<f64> = (0..3)
        .map(|i| {
            (0..6)
                .map(|j| (-(x[i * 6 + j] as f64)).max((ss + 0.25).sqrt().min(1.5)) + 1.0)
                .fold(f64::MIN, f64::max)
        })
        .collect();
    assert_close(get(&p, &bufs, "Y"), &want, 1e-5, "Y");
}

// ---- malformed specs: one line each, naming what and where ----

/// A one-stage spec over HEAD (the compute line is line 7 of the text).
fn stage_err(compute: &str) -> String {
    stage_err_after("", compute)
}

#[test]
fn error_unknown_tensor() {
    let m = stage_err("C[i, j] += A[i, k] * D[k, j]");
    has(
        &m,
        &[
            "stage 1 \"C\" (line 7), column 22: unknown tensor \"D\"",
            "declared tensors: A, B, C",
        ],
    );
    has(
        &stage_err("D[i] = A[i, 0]"),
        &["column 1: unknown tensor \"D\""],
    );
}

#[test]
fn error_wrong_rank() {
    has(
        &stage_err("C[i, j] += A[i, k, 0] * B[k, j]"),
        &["column 12: tensor \"A\" has rank 2 but is indexed with 3 indices"],
    );
    has(
        &stage_err("C[i] += A[i, k]"),
        &["column 1: tensor \"C\" has rank 2 but is indexed with 1 indices"],
    );
    has(
        &stage_err("C[i, j] = A"),
        &["column 11: tensor \"A\" has rank 2 but is used without indices"],
    );
}

#[test]
fn error_inconsistent_extents() {
    let text = r#"
        [tensors]
        A = { shape = [4, 3], role = "input" }
        B = { shape = [2, 5], role = "input" }
        C = { shape = [4, 5], role = "output" }
        [[stage]]
        name = "mm"
        compute = "C[i, j] += A[i, k] * B[k, j]"
    "#;
    has(
        &err(text),
        &[
            "stage 1 \"mm\" (line 8), column 24: inconsistent extents for variable \"k\": 3 from A dimension 1 at column 17 but 2 from B dimension 0 at column 24",
        ],
    );
    // an explicit extent on an output index must cover the dimension
    let m = err(&format!(
        "{HEAD}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\nextents = {{ i = 2 }}\n"
    ));
    has(
        &m,
        &["column 3: extent of output index \"i\" is 2 but dimension 0 of \"C\" is 4"],
    );
}

#[test]
fn error_non_affine_index() {
    has(
        &stage_err("C[i, j] += A[i, k * j] * B[k, j]"),
        &["column 19: non-affine index: product of two variables"],
    );
    has(
        &stage_err("C[i, j] += A[i, B[0, j]]"),
        &["column 17: non-affine index: tensor access \"B[...]\""],
    );
    has(
        &stage_err("C[i, j] += A[i, j / 2]"),
        &["column 19: non-affine index: division"],
    );
    has(
        &stage_err("C[i, j] += A[i, 1.5] * B[0, j]"),
        &["column 17: non-affine index: 1.5 is not an integer"],
    );
    has(
        &stage_err("C[i, j] += A[i, exp(j)]"),
        &["non-affine index: function call \"exp(...)\""],
    );
    has(
        &stage_err("C[i + 0, j] += A[i, k] * B[k, j]"),
        &["column 3: an output index must be a plain iteration variable"],
    );
}

#[test]
fn error_unknown_function() {
    let m = stage_err("C[i, j] = gelu(A[i, 0]) + B[0, j]");
    has(
        &m,
        &[
            "column 11: unknown function \"gelu\"",
            "known functions: abs, erf, exp, log, max, min, neg, pad, pow, relu, rsqrt, select, sigmoid, silu, sqrt, tanh",
        ],
    );
    has(
        &stage_err("C[i, j] = max(A[i, 0]) + B[0, j]"),
        &["column 11: function max takes 2 arguments, got 1"],
    );
}

#[test]
fn error_syntax() {
    has(
        &stage_err("C[i, j] += A[i, k] *"),
        &["column 21: expected a number, a tensor access"],
    );
    has(
        &stage_err("C[i, j] ** A[i, 0]"),
        &["column 9: expected '=', '+=', 'max=' or 'min='"],
    );
    has(
        &stage_err("C[i, j] = A[i, 0] $ B[0, j]"),
        &["column 19: unexpected character '$'"],
    );
}

#[test]
fn error_toml_and_fields() {
    has(&err("[tensors\nA = 1"), &["invalid TOML: line 1, column"]);
    let m = err("[tensors]\nA = { shape = [4] }\n[[stage]]\ncompute = \"A[i] = 1\"\n");
    has(&m, &["invalid TOML: line 2", "missing field `role`"]);
    let m = err("[tensors]\nA = { shape = [4], role = \"output\" }\n");
    has(&m, &["no stages"]);
    let m = err("[tensors]\nA = { shape = [4], role = \"inptu\" }\n");
    has(&m, &["invalid TOML: line 2", "unknown variant `inptu`"]);
    let m = err("[tensors]\nA = { shap = [4], role = \"input\" }\n");
    has(&m, &["unknown field `shap`"]);
    has(&err("name = \"x\"\n"), &["missing field `tensors`"]);
    has(
        &err(&format!("{HEAD}[[stage]]\nname = \"mm\"\n")),
        &["invalid TOML: line 6", "missing field `compute`"],
    );
}

#[test]
fn error_duplicate_names() {
    let two = format!(
        "{HEAD}[tensors.D]\nshape = [4, 5]\nrole = \"output\"\n[[stage]]\nname = \"s\"\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n\
         [[stage]]\nname = \"s\"\ncompute = \"D[i, j] = C[i, j]\"\n"
    );
    has(
        &err(&two),
        &["stage 2 \"s\" (line 14): duplicate stage name (stage 1 has the same name)"],
    );
    let m = err(&format!("{HEAD}A = {{ shape = [1], role = \"input\" }}\n"));
    has(&m, &["invalid TOML: line 6", "duplicate key"]);
    let m = err(&format!(
        "[constants]\nA = 1.0\n{HEAD}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n"
    ));
    has(
        &m,
        &["tensor \"A\" (line 5): duplicate name: \"A\" is also a constant"],
    );
}

#[test]
fn error_dataflow() {
    has(
        &stage_err("A[i, k] = B[k, 0]"),
        &["column 1: tensor \"A\" is an input and cannot be written"],
    );
    has(
        &stage_err("C[i, j] = C[i, j] + A[i, 0]"),
        &["column 11: the stage reads \"C\", the tensor it writes"],
    );
    let twice = format!(
        "{HEAD}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n[[stage]]\nname = \"again\"\ncompute = \"C[i, j] = B[0, j]\"\n"
    );
    has(
        &err(&twice),
        &[
            "stage 2 \"again\" (line 10), column 1: tensor \"C\" is already written by stage 1 \"C\"",
        ],
    );
    let temp = r#"
        [tensors]
        A = { shape = [4], role = "input" }
        T = { shape = [4], role = "temp" }
        C = { shape = [4], role = "output" }
        [[stage]]
        compute = "C[i] = T[i] + A[i]"
        [[stage]]
        compute = "T[i] = A[i]"
    "#;
    has(
        &err(temp),
        &["column 8: tensor \"T\" is read before any stage writes it"],
    );
    has(
        &stage_err("C[i, j] = B[0, j]"),
        &["tensor \"A\" (line 3): input is never read by any stage"],
    );
    let unwritten = format!(
        "{HEAD}D = {{ shape = [2], role = \"temp\" }}\n[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n"
    );
    has(
        &err(&unwritten),
        &["tensor \"D\" (line 6): temp is never written by any stage"],
    );
}

#[test]
fn error_extents_and_bounds() {
    has(
        &stage_err("C[i, j] = A[i, j - 1]"),
        &["column 16: index 1 of \"A\" ranges over [-1, 3], outside its extent 3"],
    );
    has(
        &stage_err("C[i, j] += A[i, k + 1] * B[0, j]"),
        &["cannot infer the extent of variable \"k\""],
    );
    let m = stage_err("C[i, j] += A[i, k + 1] * B[k, j]");
    has(
        &m,
        &["column 17: index 1 of \"A\" ranges over [1, 3], outside its extent 3"],
    );
    has(
        &stage_err("C[i, j] = A[i, 0] + B[0, j - 1]"),
        &["index 1 of \"B\" ranges over [-1, 3]"],
    );
    has(
        &stage_err("C[i, j] = A[i, k]"),
        &["variable \"k\" is not an index of the output; use +=, max= or min="],
    );
    let m = err(&format!(
        "{HEAD}[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\nextents = {{ z = 3 }}\n"
    ));
    has(
        &m,
        &["extents names variable \"z\", which the statement does not use"],
    );
    has(
        &stage_err("C[i, j] += i * A[i, 0] + B[0, j]"),
        &["column 12: iteration variable \"i\" cannot be used as a value"],
    );
    let m = err(
        "[tensors]\nA = { shape = [4, 0], role = \"input\" }\n[[stage]]\ncompute = \"A[i] = 1\"\n",
    );
    has(&m, &["tensor \"A\" (line 2): dimension 1 is 0"]);
    has(
        &stage_err("C[i, j] += A[i, k] * B[k, j] * 1e99"),
        &["column 32: number 1e99 is not a finite f32 value"],
    );
}

#[test]
fn error_names() {
    has(
        &err(&format!("name = \"my kernel\"\n{HEAD}")),
        &["name \"my kernel\" is not a C identifier"],
    );
    let m = err(&format!(
        "{HEAD}[[stage]]\nname = \"a-b\"\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n"
    ));
    has(
        &m,
        &["stage 1 \"a-b\" (line 8): the stage name is not an identifier"],
    );
    let m = err("[tensors]\n\"A-1\" = { shape = [4], role = \"input\" }\n");
    has(
        &m,
        &["tensor \"A-1\" (line 2): the name is not an identifier"],
    );
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("colt_ops_spec_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        format!("{HEAD}[[stage]]\ncompute = \"C[i, j] += A[i, k] * Q[k, j]\"\n"),
    )
    .unwrap();
    let msg = from_spec_file(&path).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: stage 1 \"C\" (line 7), column 22: unknown tensor \"Q\" (declared tensors: A, B, C)",
            path.display()
        )
    );
    let missing = dir.join("missing.toml");
    let e = from_spec_file(&missing).unwrap_err();
    assert!(matches!(e, OpsError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read {}", missing.display()))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = from_spec_str(&text);
    }

    #[test]
    fn arbitrary_compute_never_panics(compute in "[ABCDijk0-9 \\[\\],+*/()=.e-]{0,48}|[a-z(\\[\\])+*, 0-9=]{0,48}") {
        let _ = from_spec_str(&format!("{HEAD}[[stage]]\ncompute = \"{compute}\"\n"));
    }

    #[test]
    fn arbitrary_toml_shapes_never_panic(
        dims in proptest::collection::vec(-3i64..=i64::MAX, 0..4),
        extent in -2i64..=i64::MAX,
        coef in any::<i64>(),
    ) {
        let text = format!(
            "[tensors]\nA = {{ shape = {dims:?}, role = \"input\" }}\nC = {{ shape = [2], role = \"output\" }}\n\
             [[stage]]\ncompute = \"C[i] += A[{coef} * j + i, j, 3 - j]\"\nextents = {{ j = {extent} }}\n"
        );
        let _ = from_spec_str(&text);
    }
}
