//! Unfolding strided windows (`colt_ir::unfold_strided_windows`), as every workload and spec
//! gets it: the same values, contiguous lane reads, idempotent, and a spec round trip.

mod common;

use colt_ir::{Program, program_str, unfold_strided_windows};
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
    let u = unfold_strided_windows(p);
    let want = run(p, inputs(p, 7));
    let mut bufs = inputs(&u, 7);
    for (i, b) in u.buffers.iter().enumerate() {
        if let Some(j) = p.buffer_by_name(&b.name) {
            bufs[i] = inputs(p, 7)[j.0 as usize].clone();
        }
    }
    let got = run(&u, bufs);
    assert_eq!(
        get(&u, &got, "Y"),
        get(p, &want, "Y"),
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
    let p = colt_ops::build("conv2d:C=8,F=8,H=12,W=12,stride=2", colt_ops::Scale::Ci).unwrap();
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
