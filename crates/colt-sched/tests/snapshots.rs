//! Snapshots of printed loop nests and prompt text for fixed decisions
//! (refresh with `UPDATE_EXPECT=1 cargo test -p colt-sched --test snapshots`).

mod common;
use colt_ir::func_str;
use colt_sched::sketch::{PackDecision, Placement, Tile};
use colt_sched::{Sketch, apply_trace, describe};
use expect_test::{Expect, expect};

fn tile(l: &str, f: &[i64]) -> Tile {
    Tile {
        loop_: l.to_string(),
        factors: f.to_vec(),
    }
}

fn check(p: &colt_ir::Program, sk: &Sketch, want: Expect) {
    let t = sk.to_trace(p).unwrap();
    let f = apply_trace(p, &t).unwrap();
    common::check_equal(p, &f).unwrap();
    want.assert_eq(&format!("{}\n{}", t.text(), func_str(&f)));
}

#[test]
fn matmul_tiled_cached_packed() {
    let p = colt_ops::matmul(8, 16, 12);
    let mut sk = Sketch::untouched(&p);
    let d = &mut sk.stages[0];
    d.tiles = vec![
        tile("i", &[2, 2, 1, 2]),
        tile("j", &[1, 1, 2, 8]),
        tile("k", &[3, 4]),
    ];
    d.cache_write = Some("j1".into());
    d.pack = Some(PackDecision {
        buffer: "B".into(),
        factor: None,
    });
    d.parallel = 2;
    d.vectorize = true;
    d.unroll = 16;
    check(
        &p,
        &sk,
        expect![[r#"
        split(matmul, i, [2, 2, 1, 2])
        split(matmul, j, [1, 1, 2, 8])
        split(matmul, k, [3, 4])
        reorder(matmul, [i0, j0, i1, j1, k0, i2, j2, k1, i3, j3])
        cache_write(matmul, j1)
        pack(matmul, B, 1, 8)
        parallel_outer(pack_B, 2)
        vectorize(pack_B, v)
        parallel_outer(matmul, 2)
        vectorize(matmul, j3)
        auto_unroll(matmul, 16)
        func matmul(A: f32[8, 12], B: f32[12, 16]) -> (C: f32[8, 16]) temps (B_p: f32[2, 12, 8])
          for o_d1 in 0..24 parallel:
            for v in 0..8 vectorized:
              pack_B [o=o_d1 / 12, d1=o_d1 % 12]: B_p[o, d1, v] = B[d1, o*8 + v]
          for i0_j0 in 0..2 parallel:
            for i1 in 0..2:
              for j1 in 0..1:
                alloc C_c: f32[2, 16]
                for matmul_init0 in 0..2:
                  for matmul_init1 in 0..16 vectorized:
                    C_c[matmul_init0, matmul_init1] = 0
                for k0 in 0..3:
                  for i2 in 0..1 unrolled:
                    for j2 in 0..2 unrolled:
                      for k1 in 0..4 unrolled:
                        for i3 in 0..2 unrolled:
                          for j3 in 0..8 vectorized:
                            matmul [i=i1*2 + i2*2 + i3 + i0_j0*4, j=j1*16 + j2*8 + j3, k=k0*4 + k1]: C_c[i2*2 + i3, j2*8 + j3] += A[i, k] * B_p[j / 8, k, j % 8]
                for matmul_write0 in 0..2:
                  for matmul_write1 in 0..16 vectorized:
                    C[i1*2 + i0_j0*4 + matmul_write0, j1*16 + matmul_write1] = C_c[matmul_write0, matmul_write1]
    "#]],
    );
}

#[test]
fn conv_with_pad_computed_at() {
    let p = colt_ops::conv2d(colt_ops::Conv2dShape {
        n: 1,
        c: 2,
        h: 4,
        w: 4,
        f: 2,
        kernel: 3,
        stride: 1,
        pad: 1,
    });
    let mut sk = Sketch::untouched(&p);
    sk.stages[0].placement = Placement::At {
        consumer: "conv".into(),
        loop_: "y1".into(),
    };
    sk.stages[0].vectorize = true;
    let d = &mut sk.stages[1];
    d.tiles = vec![
        tile("n", &[1, 1, 1, 1]),
        tile("f", &[1, 2, 1, 1]),
        tile("y", &[2, 2, 1, 1]),
        tile("x", &[1, 1, 1, 4]),
        tile("c", &[2, 1]),
        tile("r", &[1, 3]),
        tile("q", &[1, 3]),
    ];
    d.parallel = 3;
    d.vectorize = true;
    check(
        &p,
        &sk,
        expect![[r#"
        split(conv, n, [1, 1, 1, 1])
        split(conv, f, [1, 2, 1, 1])
        split(conv, y, [2, 2, 1, 1])
        split(conv, x, [1, 1, 1, 4])
        split(conv, c, [2, 1])
        split(conv, r, [1, 3])
        split(conv, q, [1, 3])
        reorder(conv, [n0, f0, y0, x0, n1, f1, y1, x1, c0, r0, q0, n2, f2, y2, x2, c1, r1, q1, n3, f3, y3, x3])
        compute_at(pad, conv, y1)
        vectorize(pad, w')
        parallel_outer(conv, 3)
        vectorize(conv, x3)
        func conv2d(X: f32[1, 2, 4, 4], W: f32[2, 2, 3, 3]) -> (Y: f32[1, 2, 4, 4]) temps (P: f32[1, 2, 6, 6])
          for n0_f0_y0 in 0..2 parallel:
            for x0 in 0..1:
              for n1 in 0..1:
                for f1 in 0..2:
                  for y1 in 0..2:
                    alloc P_l: f32[1, 2, 3, 6]
                    for n' in 0..1:
                      for c' in 0..2:
                        for h' in 0..3:
                          for w' in 0..6 vectorized:
                            pad [n=n1 + n', c=c', h=y1 + h' + n0_f0_y0*2, w=x0*4 + w']: P_l[n', c', h', w'] = select(1 <= h < 5 && 1 <= w < 5, X[n, c, h - 1, w - 1], 0)
                    for x1 in 0..1:
                      for conv_init0 in 0..1:
                        for conv_init1 in 0..1:
                          for conv_init2 in 0..1:
                            for conv_init3 in 0..4 vectorized:
                              Y[n1 + conv_init0, f1 + conv_init1, y1 + n0_f0_y0*2 + conv_init2, x0*4 + x1*4 + conv_init3] = 0
                      for c0 in 0..2:
                        for r0 in 0..1:
                          for q0 in 0..1:
                            for n2 in 0..1:
                              for f2 in 0..1:
                                for y2 in 0..1:
                                  for x2 in 0..1:
                                    for c1 in 0..1:
                                      for r1 in 0..3:
                                        for q1 in 0..3:
                                          for n3 in 0..1:
                                            for f3 in 0..1:
                                              for y3 in 0..1:
                                                for x3 in 0..4 vectorized:
                                                  conv [n=n1 + n2 + n3, f=f1 + f2 + f3, y=y1 + y2 + y3 + n0_f0_y0*2, x=x0*4 + x1*4 + x2*4 + x3, c=c0 + c1, r=r0*3 + r1, q=q0*3 + q1]: Y[n, f, y, x] += P_l[n2 + n3, c0 + c1, y2 + y3 + r0*3 + r1, x1*4 + x2*4 + x3 + q0*3 + q1] * W[f, c, r, q]
    "#]],
    );
}

#[test]
fn describe_dense_decisions() {
    let p = colt_ops::dense(4, 16, 8, Some(colt_ir::UnOp::Relu));
    let mut sk = Sketch::untouched(&p);
    sk.stages[0].tiles = vec![
        tile("i", &[2, 1, 2, 1]),
        tile("j", &[1, 2, 1, 8]),
        tile("k", &[4, 2]),
    ];
    sk.stages[0].parallel = 1;
    sk.stages[0].vectorize = true;
    sk.stages[0].unroll = 64;
    sk.stages[1].tiles = vec![tile("i", &[4, 1]), tile("j", &[1, 16])];
    sk.stages[1].parallel = 2;
    sk.stages[1].vectorize = true;
    let t = sk.to_trace(&p).unwrap();
    expect![[r#"
        workload dense_bias_relu (2 stages)
        transformation history (12 instructions):
           1. split(bias_relu, i, [4, 1])
           2. split(bias_relu, j, [1, 16])
           3. reorder(bias_relu, [i0, j0, i1, j1])
           4. split(matmul, i, [2, 1, 2, 1])
           5. split(matmul, j, [1, 2, 1, 8])
           6. split(matmul, k, [4, 2])
           7. reorder(matmul, [i0, j0, i1, j1, k0, i2, j2, k1, i3, j3])
           8. parallel_outer(matmul, 1)
           9. vectorize(matmul, j3)
          10. auto_unroll(matmul, 64)
          11. parallel_outer(bias_relu, 2)
          12. vectorize(bias_relu, j1)
        current decisions:
          matmul: at root, tiled SSRSRS i=[2, 1, 2, 1] j=[1, 2, 1, 8] k (reduce)=[4, 2], parallel over 1 fused loop(s) i0 (extent 2), vectorized j3 (8 lanes), auto-unroll 64
          bias_relu: at root, tiled SS i=[4, 1] j=[1, 16], parallel over 2 fused loop(s) i0_j0 (extent 4), vectorized j1 (16 lanes)
    "#]].assert_eq(&describe(&p, &t));
}
