//! Each builder against values computed directly in the test (f64 loops over the same
//! inputs), on tiny shapes, through the reference interpreter; and closed-form FLOP counts.

mod common;
use colt_ir::UnOp;
use colt_ops::builders::*;
use common::*;

#[test]
fn matmul_2x3x4_matches_direct_loops() {
    let (m, n, k) = (2, 3, 4);
    let p = matmul(m, n, k);
    let bufs = run(&p, inputs(&p, 1));
    let (a, b) = (get(&p, &bufs, "A"), get(&p, &bufs, "B"));
    let mut want = vec![0.0f64; (m * n) as usize];
    for i in 0..m as usize {
        for j in 0..n as usize {
            for kk in 0..k as usize {
                want[i * n as usize + j] +=
                    a[i * k as usize + kk] as f64 * b[kk * n as usize + j] as f64;
            }
        }
    }
    assert_close(get(&p, &bufs, "C"), &want, 1e-5, "C");
}

#[test]
fn matmul_by_hand() {
    // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
    let p = matmul(2, 2, 2);
    let bufs = vec![
        vec![1.0, 2.0, 3.0, 4.0],
        vec![5.0, 6.0, 7.0, 8.0],
        vec![0.0; 4],
    ];
    assert_eq!(run(&p, bufs)[2], vec![19.0, 22.0, 43.0, 50.0]);
}

#[test]
fn batch_matmul_matches_direct_loops() {
    let (bt, m, n, k) = (3usize, 2usize, 5usize, 4usize);
    let p = batch_matmul(bt as i64, m as i64, n as i64, k as i64);
    let bufs = run(&p, inputs(&p, 2));
    let (a, b) = (get(&p, &bufs, "A"), get(&p, &bufs, "B"));
    let mut want = vec![0.0f64; bt * m * n];
    for x in 0..bt {
        for i in 0..m {
            for j in 0..n {
                for kk in 0..k {
                    want[(x * m + i) * n + j] +=
                        a[(x * m + i) * k + kk] as f64 * b[(x * k + kk) * n + j] as f64;
                }
            }
        }
    }
    assert_close(get(&p, &bufs, "C"), &want, 1e-5, "C");
}

fn conv_direct(s: Conv2dShape, x: &[f32], w: &[f32]) -> Vec<f64> {
    let (ho, wo) = s.out_hw();
    let [n, c, h, wd, f, kk, st, pad] = [s.n, s.c, s.h, s.w, s.f, s.kernel, s.stride, s.pad];
    let mut out = vec![0.0f64; (n * f * ho * wo) as usize];
    for b in 0..n {
        for ff in 0..f {
            for y in 0..ho {
                for xx in 0..wo {
                    let mut acc = 0.0;
                    for ch in 0..c {
                        for r in 0..kk {
                            for q in 0..kk {
                                let (iy, ix) = (y * st + r - pad, xx * st + q - pad);
                                if iy < 0 || iy >= h || ix < 0 || ix >= wd {
                                    continue;
                                }
                                acc += x[(((b * c + ch) * h + iy) * wd + ix) as usize] as f64
                                    * w[(((ff * c + ch) * kk + r) * kk + q) as usize] as f64;
                            }
                        }
                    }
                    out[(((b * f + ff) * ho + y) * wo + xx) as usize] = acc;
                }
            }
        }
    }
    out
}

#[test]
fn conv2d_matches_direct_loops_with_padding_and_stride() {
    for (stride, pad) in [(1, 1), (2, 1), (1, 0), (2, 0)] {
        let s = Conv2dShape {
            n: 2,
            c: 3,
            h: 5,
            w: 6,
            f: 2,
            kernel: 3,
            stride,
            pad,
        };
        let p = conv2d(s);
        colt_ir::verify(&p.naive()).unwrap();
        let bufs = run(&p, inputs(&p, 3));
        let want = conv_direct(s, get(&p, &bufs, "X"), get(&p, &bufs, "W"));
        assert_close(
            get(&p, &bufs, "Y"),
            &want,
            1e-5,
            &format!("Y stride {stride} pad {pad}"),
        );
    }
}

#[test]
fn conv2d_output_size() {
    let s = Conv2dShape {
        n: 1,
        c: 1,
        h: 7,
        w: 8,
        f: 1,
        kernel: 3,
        stride: 2,
        pad: 1,
    };
    assert_eq!(s.out_hw(), (4, 4));
    let p = conv2d(s);
    assert_eq!(
        p.buffer(p.buffer_by_name("Y").unwrap()).shape,
        vec![1, 1, 4, 4]
    );
    assert!(
        conv2d(Conv2dShape { pad: 0, ..s })
            .buffer_by_name("P")
            .is_none(),
        "no pad stage without padding"
    );
}

#[test]
fn dense_epilogues_match_direct_loops() {
    let (m, n, k) = (3usize, 4usize, 5usize);
    for act in [None, Some(UnOp::Relu), Some(UnOp::Silu)] {
        let p = dense(m as i64, n as i64, k as i64, act);
        let bufs = run(&p, inputs(&p, 4));
        let (x, w, b) = (
            get(&p, &bufs, "X"),
            get(&p, &bufs, "W"),
            get(&p, &bufs, "b"),
        );
        let mut want = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut z = b[j] as f64;
                for kk in 0..k {
                    z += x[i * k + kk] as f64 * w[kk * n + j] as f64;
                }
                want[i * n + j] = match act {
                    None => z,
                    Some(UnOp::Relu) => z.max(0.0),
                    Some(_) => silu(z),
                };
            }
        }
        assert_close(get(&p, &bufs, "Y"), &want, 1e-5, &format!("Y {act:?}"));
    }
    assert_eq!(dense(1, 1, 1, Some(UnOp::Relu)).name, "dense_bias_relu");
}

#[test]
fn softmax_rows_sum_to_one_and_match_formula() {
    let (rows, cols) = (3usize, 7usize);
    let p = softmax(rows as i64, cols as i64);
    let mut bufs = inputs(&p, 5);
    bufs[0].iter_mut().for_each(|v| *v *= 20.0); // large logits exercise the max shift
    let bufs = run(&p, bufs);
    let x = get(&p, &bufs, "X");
    let y = get(&p, &bufs, "Y");
    let mut want = vec![];
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let mx = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        let e: Vec<f64> = row.iter().map(|&v| (v as f64 - mx).exp()).collect();
        let s: f64 = e.iter().sum();
        want.extend(e.iter().map(|v| v / s));
        let sum: f32 = y[r * cols..(r + 1) * cols].iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "row {r} sums to {sum}");
    }
    assert_close(y, &want, 1e-5, "Y");
}

#[test]
fn attention_matches_direct_computation() {
    let (heads, seq, d) = (2usize, 5usize, 4usize);
    let p = attention(heads as i64, seq as i64, d as i64);
    let bufs = run(&p, inputs(&p, 6));
    let (q, k, v) = (
        get(&p, &bufs, "Q"),
        get(&p, &bufs, "K"),
        get(&p, &bufs, "V"),
    );
    let scale = 1.0 / (d as f64).sqrt();
    let mut want = vec![0.0f64; heads * seq * d];
    for h in 0..heads {
        for i in 0..seq {
            let at = |t: &[f32], r: usize, c: usize| t[(h * seq + r) * d + c] as f64;
            let s: Vec<f64> = (0..seq)
                .map(|j| (0..d).map(|c| at(q, i, c) * at(k, j, c)).sum::<f64>() * scale)
                .collect();
            let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = s.iter().map(|x| (x - mx).exp()).collect();
            let z: f64 = e.iter().sum();
            for c in 0..d {
                want[(h * seq + i) * d + c] = (0..seq).map(|j| e[j] * at(v, j, c)).sum::<f64>() / z;
            }
        }
    }
    assert_close(get(&p, &bufs, "O"), &want, 1e-5, "O");
}

fn swiglu_direct(
    x: &[f32],
    wg: &[f32],
    wu: &[f32],
    wd: &[f32],
    t: usize,
    h: usize,
    f: usize,
) -> Vec<f64> {
    let mut y = vec![0.0f64; t * h];
    for tt in 0..t {
        let act: Vec<f64> = (0..f)
            .map(|ff| {
                let g: f64 = (0..h)
                    .map(|hh| x[tt * h + hh] as f64 * wg[hh * f + ff] as f64)
                    .sum();
                let u: f64 = (0..h)
                    .map(|hh| x[tt * h + hh] as f64 * wu[hh * f + ff] as f64)
                    .sum();
                silu(g) * u
            })
            .collect();
        for hh in 0..h {
            y[tt * h + hh] = (0..f).map(|ff| act[ff] * wd[ff * h + hh] as f64).sum();
        }
    }
    y
}

#[test]
fn swiglu_matches_direct_loops() {
    let (t, h, f) = (3usize, 4usize, 6usize);
    let p = swiglu_mlp(t as i64, h as i64, f as i64);
    let bufs = run(&p, inputs(&p, 7));
    let g = |n| get(&p, &bufs, n);
    let want = swiglu_direct(g("X"), g("Wg"), g("Wu"), g("Wd"), t, h, f);
    assert_close(get(&p, &bufs, "Y"), &want, 1e-5, "Y");
}

#[test]
fn moe_applies_each_experts_mlp_and_routing_weight() {
    let (e, t, h, f) = (3usize, 2usize, 4usize, 5usize);
    let p = moe_experts(e as i64, t as i64, h as i64, f as i64);
    let bufs = run(&p, inputs(&p, 8));
    let g = |n| get(&p, &bufs, n);
    let (x, wg, wu, wd, r) = (g("Xg"), g("Wg"), g("Wu"), g("Wd"), g("R"));
    let mut want = vec![];
    for ex in 0..e {
        let y = swiglu_direct(
            &x[ex * t * h..(ex + 1) * t * h],
            &wg[ex * h * f..(ex + 1) * h * f],
            &wu[ex * h * f..(ex + 1) * h * f],
            &wd[ex * f * h..(ex + 1) * f * h],
            t,
            h,
            f,
        );
        for tt in 0..t {
            want.extend(
                y[tt * h..(tt + 1) * h]
                    .iter()
                    .map(|v| v * r[ex * t + tt] as f64),
            );
        }
    }
    assert_close(get(&p, &bufs, "O"), &want, 1e-5, "O");
}

fn depthwise_direct(s: Conv2dShape, x: &[f32], w: &[f32]) -> Vec<f64> {
    let (ho, wo) = s.out_hw();
    let [n, c, h, wd, kk, st, pad] = [s.n, s.c, s.h, s.w, s.kernel, s.stride, s.pad];
    let mut out = vec![0.0f64; (n * c * ho * wo) as usize];
    for b in 0..n {
        for ch in 0..c {
            for y in 0..ho {
                for xx in 0..wo {
                    let mut acc = 0.0;
                    for r in 0..kk {
                        for q in 0..kk {
                            let (iy, ix) = (y * st + r - pad, xx * st + q - pad);
                            if iy < 0 || iy >= h || ix < 0 || ix >= wd {
                                continue;
                            }
                            acc += x[(((b * c + ch) * h + iy) * wd + ix) as usize] as f64
                                * w[((ch * kk + r) * kk + q) as usize] as f64;
                        }
                    }
                    out[(((b * c + ch) * ho + y) * wo + xx) as usize] = acc;
                }
            }
        }
    }
    out
}

#[test]
fn depthwise_conv_matches_direct_loops_with_padding_and_stride() {
    for (stride, pad) in [(1, 1), (2, 1), (1, 0), (2, 0)] {
        let s = Conv2dShape {
            n: 2,
            c: 3,
            h: 5,
            w: 6,
            f: 3,
            kernel: 3,
            stride,
            pad,
        };
        let p = depthwise_conv2d(s);
        colt_ir::verify(&p.naive()).unwrap();
        let (ho, wo) = s.out_hw();
        assert_eq!(
            p.buffer(p.buffer_by_name("Y").unwrap()).shape,
            vec![2, 3, ho, wo]
        );
        assert_eq!(
            p.buffer(p.buffer_by_name("W").unwrap()).shape,
            vec![3, 3, 3]
        );
        let bufs = run(&p, inputs(&p, 9));
        let want = depthwise_direct(s, get(&p, &bufs, "X"), get(&p, &bufs, "W"));
        assert_close(
            get(&p, &bufs, "Y"),
            &want,
            1e-5,
            &format!("Y stride {stride} pad {pad}"),
        );
    }
}

#[test]
fn depthwise_conv_by_hand() {
    // One 3x3 channel of 1..9 and one of 10..18 (times 0.5), pad 1; the second channel's
    // filter is all ones, the first's picks the centre only. Channels never mix.
    let s = Conv2dShape {
        n: 1,
        c: 2,
        h: 3,
        w: 3,
        f: 2,
        kernel: 3,
        stride: 1,
        pad: 1,
    };
    let p = depthwise_conv2d(s);
    let x: Vec<f32> = (1..=18)
        .map(|v| if v > 9 { v as f32 * 0.5 } else { v as f32 })
        .collect();
    let mut w = vec![0.0f32; 18];
    w[4] = 1.0; // channel 0: centre tap
    w[9..].iter_mut().for_each(|v| *v = 1.0); // channel 1: box sum
    let mut bufs = inputs(&p, 0);
    bufs[p.buffer_by_name("X").unwrap().0 as usize] = x;
    bufs[p.buffer_by_name("W").unwrap().0 as usize] = w;
    let bufs = run(&p, bufs);
    let y = get(&p, &bufs, "Y");
    assert_eq!(&y[..9], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    // channel 1 holds 5..9 step 0.5; zero-padded 3x3 box sums of
    // [[5, 5.5, 6], [6.5, 7, 7.5], [8, 8.5, 9]]
    assert_eq!(
        &y[9..],
        &[24.0, 37.5, 26.0, 40.5, 63.0, 43.5, 30.0, 46.5, 32.0]
    );
}

#[test]
fn rmsnorm_matches_formula() {
    let (rows, cols) = (3usize, 8usize);
    let eps = 1e-5;
    let p = rmsnorm(rows as i64, cols as i64, eps);
    let bufs = run(&p, inputs(&p, 10));
    let (x, g) = (get(&p, &bufs, "X"), get(&p, &bufs, "g"));
    let mut want = vec![];
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let ms = row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / cols as f64;
        let rstd = 1.0 / (ms + eps as f64).sqrt();
        want.extend(
            row.iter()
                .zip(g)
                .map(|(&v, &gg)| v as f64 * rstd * gg as f64),
        );
    }
    assert_close(get(&p, &bufs, "Y"), &want, 1e-5, "Y");
}

#[test]
fn rmsnorm_by_hand() {
    // rows [3, 4] and [1, 1]: mean squares 12.5 and 1, so Y = x / sqrt(12.5 + eps) * g and
    // x / sqrt(1 + eps) * g with g = [2, 0.5]; eps = 0.25 keeps the numbers round-ish.
    let p = rmsnorm(2, 2, 0.25);
    let bufs = vec![
        vec![3.0, 4.0, 1.0, 1.0],
        vec![2.0, 0.5],
        vec![0.0; 2],
        vec![0.0; 2],
        vec![0.0; 4],
    ];
    let bufs = run(&p, bufs);
    assert_eq!(bufs[2], vec![25.0, 2.0], "sum of squares");
    let (a, b) = (1.0 / 12.75f64.sqrt(), 1.0 / 1.25f64.sqrt());
    assert_close(&bufs[3], &[a, b], 1e-6, "rstd");
    assert_close(&bufs[4], &[6.0 * a, 2.0 * a, 2.0 * b, 0.5 * b], 1e-6, "Y");
}

#[test]
fn gemv_by_hand_and_against_direct_loops() {
    // [[1, 2, 3], [4, 5, 6]] · [1, 0, -1] = [-2, -2]
    let p = gemv(2, 3);
    let bufs = vec![
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        vec![1.0, 0.0, -1.0],
        vec![0.0; 2],
    ];
    assert_eq!(run(&p, bufs)[2], vec![-2.0, -2.0]);
    let (m, k) = (5usize, 7usize);
    let p = gemv(m as i64, k as i64);
    let bufs = run(&p, inputs(&p, 11));
    let (w, x) = (get(&p, &bufs, "W"), get(&p, &bufs, "x"));
    let want: Vec<f64> = (0..m)
        .map(|i| (0..k).map(|kk| w[i * k + kk] as f64 * x[kk] as f64).sum())
        .collect();
    assert_close(get(&p, &bufs, "y"), &want, 1e-5, "y");
}

#[test]
fn flop_counts_match_closed_forms() {
    assert_eq!(matmul(3, 5, 7).flops(), 2 * 3 * 5 * 7);
    assert_eq!(batch_matmul(2, 3, 5, 7).flops(), 2 * 2 * 3 * 5 * 7);
    // conv: 2 per MAC; the pad stage is a select of a load (no arithmetic)
    let s = Conv2dShape {
        n: 2,
        c: 3,
        h: 8,
        w: 8,
        f: 4,
        kernel: 3,
        stride: 1,
        pad: 1,
    };
    assert_eq!(conv2d(s).flops(), 2 * 2 * 4 * 8 * 8 * 3 * 9);
    // matmul + bias add + activation
    assert_eq!(
        dense(4, 6, 8, Some(UnOp::Silu)).flops(),
        2 * 4 * 6 * 8 + 2 * 4 * 6
    );
    assert_eq!(dense(4, 6, 8, None).flops(), 2 * 4 * 6 * 8 + 4 * 6);
    // max (1), exp(x - m) (2), sum (1), div (1) per element
    assert_eq!(softmax(3, 10).flops(), 5 * 3 * 10);
    let (h, s, d) = (2u64, 8u64, 4u64);
    // qk 2hssd, rowmax hss, exp(3) 3hss, rowsum hss, pv 2hssd, norm hsd
    assert_eq!(
        attention(2, 8, 4).flops(),
        4 * h * s * s * d + 5 * h * s * s + h * s * d
    );
    let (t, hid, f) = (2u64, 8u64, 16u64);
    // gate + up + down 6thf, act (silu, mul) 2tf
    assert_eq!(swiglu_mlp(2, 8, 16).flops(), 6 * t * hid * f + 2 * t * f);
    // per expert, plus the routing multiply
    assert_eq!(
        moe_experts(3, 2, 8, 16).flops(),
        3 * (6 * t * hid * f + 2 * t * f + t * hid)
    );
    // depthwise: 2 per MAC, one channel per filter
    let dw = Conv2dShape {
        n: 2,
        c: 3,
        h: 8,
        w: 8,
        f: 3,
        kernel: 3,
        stride: 1,
        pad: 1,
    };
    assert_eq!(depthwise_conv2d(dw).flops(), 2 * 2 * 3 * 8 * 8 * 9);
    // sumsq (mul, add) 2rc, rstd (mul, add, sqrt, div) 4r, norm (two muls) 2rc
    assert_eq!(rmsnorm(3, 10, 1e-5).flops(), 4 * 3 * 10 + 4 * 3);
    assert_eq!(gemv(6, 10).flops(), 2 * 6 * 10);
}

#[test]
fn builders_verify() {
    let progs = [
        matmul(4, 4, 4),
        batch_matmul(2, 4, 4, 4),
        conv2d(Conv2dShape {
            n: 1,
            c: 2,
            h: 6,
            w: 6,
            f: 2,
            kernel: 3,
            stride: 2,
            pad: 1,
        }),
        dense(2, 4, 8, Some(UnOp::Relu)),
        softmax(4, 8),
        attention(2, 4, 8),
        swiglu_mlp(2, 4, 8),
        moe_experts(2, 2, 4, 8),
        depthwise_conv2d(Conv2dShape {
            n: 1,
            c: 2,
            h: 6,
            w: 6,
            f: 2,
            kernel: 3,
            stride: 2,
            pad: 1,
        }),
        rmsnorm(4, 8, 1e-5),
        gemv(4, 8),
    ];
    for p in &progs {
        colt_ir::verify(&p.naive()).unwrap_or_else(|e| panic!("{}: {e}", p.name));
    }
}
