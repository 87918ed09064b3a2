//! The layout rewrites every workload and spec gets (`colt_ir::layout_rewrites`): unfolding
//! strided windows and wide lanes for narrow rows — the same values, the intended reads,
//! idempotent, and a spec round trip.

mod common;

use colt_ir::{
    Program, layout_rewrites, program_str, unfold_strided_windows, wide_lanes_for_narrow_rows,
};
use colt_ops::{Conv2dShape, conv2d, depthwise_conv2d, from_spec_str, to_spec};
use common::{get, inputs, run};

fn shape(c: i64, f: i64, hw: i64, kernel: i64, stride: i64, pad: i64) -> Conv2dShape {
    Conv2dShape {
        n: 1,
        c,
        h: hw,
        w: hw,
        f,
        kernel,
        stride,
        pad,
    }
}

/// The output of `p` and of its unfolded form on the same inputs (matched by name).
fn same_output(p: &Program) -> Program {
    same_output_of(p, unfold_strided_windows(p))
}

/// The output of `p` and of `u`, a rewrite of it, on the same inputs (matched by name).
fn same_output_of(p: &Program, u: Program) -> Program {
    let want = run(p, inputs(p, 7));
    let mut bufs = inputs(&u, 7);
    for (i, b) in u.buffers.iter().enumerate() {
        if let Some(j) = p.buffer_by_name(&b.name) {
            bufs[i] = inputs(p, 7)[j.0 as usize].clone();
        }
    }
    let got = run(&u, bufs);
    let out = &p
        .buffers
        .iter()
        .find(|b| b.kind == colt_ir::BufKind::Output)
        .expect("an output")
        .name;
    assert_eq!(
        get(&u, &got, out),
        get(p, &want, out),
        "{}",
        program_str(&u)
    );
    u
}

#[test]
fn strided_convolutions_read_an_unfolded_copy_and_compute_the_same() {
    let cases = [
        shape(3, 4, 9, 3, 2, 1),  // ResNet downsampling 3x3
        shape(2, 3, 8, 1, 2, 0),  // 1x1 stride-2 projection (no pad stage)
        shape(2, 2, 11, 5, 3, 2), // wider window than stride
        shape(3, 2, 8, 4, 4, 0),  // patch embedding: kernel = stride
    ];
    for s in cases {
        let p = conv2d(s);
        let u = same_output(&p);
        assert_eq!(u.stages.len(), p.stages.len() + 1, "{}", program_str(&u));
        let conv = &u.stages[u.stage_index("conv").unwrap()];
        let lane = conv.spatial().last().unwrap().var;
        let mut loads = vec![];
        conv.value.loads(&mut loads);
        for a in loads {
            for (d, e) in a.idx.iter().enumerate() {
                if e.mentions(lane) {
                    assert_eq!(d + 1, a.idx.len(), "{}", program_str(&u));
                    assert_eq!(e, &colt_ir::Idx::Var(lane), "{}", program_str(&u));
                }
            }
        }
        assert_eq!(unfold_strided_windows(&u), u, "idempotent");
    }
    let d = depthwise_conv2d(shape(4, 4, 9, 3, 2, 1));
    assert_eq!(same_output(&d).stages.len(), d.stages.len() + 1);
}

#[test]
fn unit_stride_programs_are_left_alone() {
    for p in [
        conv2d(shape(3, 4, 9, 3, 1, 1)),
        colt_ops::matmul(8, 8, 8),
        colt_ops::attention(2, 8, 4),
    ] {
        assert_eq!(unfold_strided_windows(&p), p);
    }
}

/// A window so much wider than its stride that the copy would be over 8x its source (40
/// taps at stride 2 over 20 lanes: 800 elements per 78-wide row) is left strided.
#[test]
fn a_copy_far_larger_than_its_source_is_not_made() {
    let wide = conv2d(Conv2dShape {
        n: 1,
        c: 1,
        h: 40,
        w: 78,
        f: 1,
        kernel: 40,
        stride: 2,
        pad: 0,
    });
    assert_eq!(unfold_strided_windows(&wide), wide);
    let narrower = conv2d(Conv2dShape {
        w: 70, // 16 lanes: 640 elements per 70-wide row, 9.1x
        ..shape(1, 1, 40, 40, 2, 0)
    });
    assert_eq!(unfold_strided_windows(&narrower), narrower);
    let fits = conv2d(Conv2dShape {
        w: 52, // 7 lanes: 280 per 52, 5.4x
        ..shape(1, 1, 40, 40, 2, 0)
    });
    assert_eq!(unfold_strided_windows(&fits).stages.len(), 2);
}

#[test]
fn the_unfolded_form_prints() {
    let u = unfold_strided_windows(&conv2d(shape(3, 4, 9, 3, 2, 1)));
    expect_test::expect![[r#"
        func conv2d(X: f32[1, 3, 9, 9], W: f32[4, 3, 3, 3]) -> (Y: f32[1, 4, 5, 5]) temps (P: f32[1, 3, 11, 11], P_u: f32[1, 3, 11, 3, 5])
          stage pad: P[n, c, h, w] = select(1 <= h < 10 && 1 <= w < 10, X[n, c, h - 1, w - 1], 0)    for n < 1, c < 3, h < 11, w < 11
          stage unfold_P: P_u[n, c, h, q, x] = P[n, c, h, q + x*2]    for n < 1, c < 3, h < 11, q < 3, x < 5
          stage conv: Y[n, f, y, x] += P_u[n, c, y*2 + r, q, x] * W[f, c, r, q]    for n < 1, f < 4, y < 5, x < 5, c < 3 (reduce), r < 3 (reduce), q < 3 (reduce)
    "#]].assert_eq(&program_str(&u));
}

/// Built-in workloads and specs get the rewrite, and a spec of the result reads back equal.
#[test]
fn workloads_and_specs_are_unfolded_and_round_trip() {
    let p = colt_ops::build("conv2d:C=8,F=12,H=12,W=12,stride=2", colt_ops::Scale::Ci).unwrap();
    assert!(p.stage_index("unfold_P").is_some(), "{}", program_str(&p));
    let text = to_spec(&p).unwrap();
    assert_eq!(from_spec_str(&text).unwrap(), p);
    // A strided max pool written as a spec: its lanes read the unfolded copy.
    let pool = from_spec_str(
        r#"
[tensors]
X = { shape = [2, 9, 9], role = "input" }
Y = { shape = [2, 4, 4], role = "output" }

[[stage]]
compute = "Y[c, y, x] max= X[c, 2*y + r, 2*x + q]"
extents = { r = 3, q = 3 }
"#,
    )
    .unwrap();
    assert_eq!(pool.stages.len(), 2, "{}", program_str(&pool));
    assert_eq!(same_output(&pool).stages.len(), 2);
}

/// The innermost spatial loop's name and extent of stage `name`.
fn lane(p: &Program, name: &str) -> (String, i64) {
    let st = &p.stages[p.stage_index(name).unwrap()];
    let iv = st.spatial().last().unwrap();
    (p.var_name(iv.var).to_string(), iv.extent)
}

/// A conv whose rows are narrower than a register (of AVX2 or AVX-512) computes along its
/// output channels, into a transposed copy written back by `conv_out`; strided or not, the
/// same values.
#[test]
fn narrow_rows_take_their_lanes_from_the_output_channels() {
    for lanes in [8, 16] {
        for s in [
            shape(3, 16, 6, 3, 1, 1), // 6-wide rows
            shape(2, 32, 9, 3, 2, 1), // stride 2: 5-wide rows (no unfold needed then)
            shape(2, 16, 7, 1, 1, 0), // 1x1, 7-wide
        ] {
            let p = conv2d(s);
            let u = same_output_of(&p, layout_rewrites(&p, lanes));
            assert_eq!(lane(&u, "conv").0, "f", "{}", program_str(&u));
            assert!(u.stage_index("conv_out").is_some(), "{}", program_str(&u));
            assert!(u.stage_index("unfold_P").is_none(), "{}", program_str(&u));
            assert_eq!(layout_rewrites(&u, lanes), u, "idempotent");
        }
        // A 6-wide product C[i, j] takes its lanes from the 32 rows; A is an input read by `i`.
        let mm = colt_ops::matmul(32, 6, 8);
        let u = same_output_of(&mm, wide_lanes_for_narrow_rows(&mm, lanes));
        assert_eq!(lane(&u, lane_stage(&u)).0, "i", "{}", program_str(&u));
    }
}

/// Rows at least one AVX2 register wide but narrower than an AVX-512 one (ResNet's 14-wide
/// rows, strided or not) fill AVX2 registers as overlapping vectors and stay rows there; built
/// for 16 lanes they compute along the output channels instead, and a strided one then reads
/// its input as it is (its lanes no longer cross the stride, so nothing is unfolded).
#[test]
fn rows_between_the_two_register_widths_follow_the_target() {
    for (s, strided) in [
        (shape(3, 32, 14, 3, 1, 1), false), // 14-wide rows
        (shape(2, 16, 12, 1, 1, 0), false), // 1x1, 12-wide
        (shape(3, 16, 28, 3, 2, 1), true),  // stride 2: 14-wide output rows
        (shape(2, 32, 28, 1, 2, 0), true),  // 1x1 stride-2 projection
    ] {
        let p = conv2d(s);
        let avx2 = same_output_of(&p, layout_rewrites(&p, 8));
        assert_ne!(lane(&avx2, "conv").0, "f", "{}", program_str(&avx2));
        assert!(avx2.stage_index("conv_out").is_none());
        assert_eq!(unfolded(&avx2), strided, "{}", program_str(&avx2));
        let avx512 = same_output_of(&p, layout_rewrites(&p, 16));
        assert_eq!(lane(&avx512, "conv").0, "f", "{}", program_str(&avx512));
        assert!(avx512.stage_index("conv_out").is_some());
        assert!(!unfolded(&avx512), "{}", program_str(&avx512));
        assert_eq!(layout_rewrites(&avx512, 16), avx512, "idempotent");
        // A spec of either reads back equal (specs are parsed for AVX2 lanes: no change).
        for u in [&avx2, &avx512] {
            assert_eq!(&from_spec_str(&to_spec(u).unwrap()).unwrap(), u);
        }
    }
    // Built-in workloads and specs take the lanes they are built for.
    let name = "conv2d:C=16,F=32,H=14,W=14";
    let scale = colt_ops::Scale::Ci;
    assert_eq!(lane(&colt_ops::build(name, scale).unwrap(), "conv").0, "x");
    let p = colt_ops::build_for(name, scale, 16).unwrap();
    assert_eq!(lane(&p, "conv").0, "f");
    let text = to_spec(&colt_ops::build(name, scale).unwrap()).unwrap();
    let parsed = colt_ops::from_spec_named(&text, std::path::Path::new("c.toml"), 16).unwrap();
    assert_eq!(lane(&parsed, "conv").0, "f");
}

fn lane_stage(p: &Program) -> &str {
    &p.stages.iter().find(|s| s.reduce.is_some()).unwrap().name
}

/// Whether `p` reads an unfolded copy of a strided window.
fn unfolded(p: &Program) -> bool {
    p.stages.iter().any(|s| s.name.starts_with("unfold_"))
}

/// Rows at least a register wide, loops that are no multiple of a register, and wide loops
/// that a non-input read mentions are left as they are.
#[test]
fn rows_that_fill_a_register_or_no_wide_loop_stay() {
    for (p, lanes) in [
        (conv2d(shape(3, 16, 8, 3, 1, 1)), 8),   // 8-wide rows
        (conv2d(shape(3, 16, 14, 3, 1, 1)), 8),  // 14-wide: two overlapping 8-lane vectors
        (conv2d(shape(3, 16, 16, 3, 1, 1)), 16), // 16-wide rows
        (conv2d(shape(3, 12, 6, 3, 1, 1)), 8),   // 12 channels
        (conv2d(shape(3, 24, 12, 3, 1, 1)), 16), // 24 channels: no whole AVX-512 registers
        (colt_ops::attention(16, 6, 4), 16),     // 6 keys: two inputs (or a temporary) read by head
    ] {
        assert_eq!(
            wide_lanes_for_narrow_rows(&p, lanes),
            p,
            "{}",
            program_str(&p)
        );
    }
}

/// A built-in workload with 7-wide rows gets the rewrite and its spec reads back equal.
#[test]
fn a_resnet_7x7_layer_round_trips() {
    let p = colt_ops::build("conv2d:C=16,F=32,H=7,W=7", colt_ops::Scale::Ci).unwrap();
    assert_eq!(
        lane(&p, "conv"),
        ("f".to_string(), 32),
        "{}",
        program_str(&p)
    );
    let text = to_spec(&p).unwrap();
    assert_eq!(from_spec_str(&text).unwrap(), p);
}
