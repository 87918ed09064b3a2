//! Feature extraction on real lowered programs (colt-ops builders scheduled by colt-sched)
//! and on malformed hand-built nests.

use colt_cost::features::{count, extract, index_of, names};
use colt_ir::{
    Access, Block, BufId, BufKind, Buffer, Func, Idx, Loop, LoopKind, Stmt, StoreOp, Value, VarId,
};
use colt_sched::{Inst, LoopFactors, Schedule, StageLoop};
use rand::SeedableRng;

fn feat(v: &[f32], name: &str) -> f32 {
    v[index_of(name).unwrap_or_else(|| panic!("no feature {name}"))]
}

fn lg(x: f64) -> f32 {
    (1.0 + x).log2() as f32
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-4
}

fn inst_split(l: &str, f: &[i64]) -> Inst {
    Inst::Split(LoopFactors {
        stage: "matmul".into(),
        loop_: l.into(),
        factors: f.to_vec(),
    })
}

/// 256³ matmul: i = 32×8, j = 16×16, k = 64×4, order i0 j0 k0 i1 k1 j1, j1 vectorized,
/// i0 parallel.
fn tiled_matmul() -> Func {
    tiled_schedule().lower().expect("lowers")
}

fn tiled_schedule() -> Schedule {
    let p = colt_ops::builders::matmul(256, 256, 256);
    let mut s = Schedule::new(p);
    let order = ["i0", "j0", "k0", "i1", "k1", "j1"]
        .map(String::from)
        .to_vec();
    for inst in [
        inst_split("i", &[32, 8]),
        inst_split("j", &[16, 16]),
        inst_split("k", &[64, 4]),
        Inst::Reorder {
            stage: "matmul".into(),
            order,
        },
        Inst::Vectorize(StageLoop {
            stage: "matmul".into(),
            loop_: "j1".into(),
        }),
        Inst::Parallel(StageLoop {
            stage: "matmul".into(),
            loop_: "i0".into(),
        }),
    ] {
        s.apply(&inst)
            .unwrap_or_else(|e| panic!("{}: {e}", inst.text()));
    }
    s
}

#[test]
fn names_match_values_and_are_unique() {
    let f = colt_ops::builders::matmul(16, 16, 16).naive();
    let v = extract(&f);
    assert_eq!(v.len(), count());
    assert_eq!(names().len(), count());
    let mut sorted: Vec<&String> = names().iter().collect();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), count(), "duplicate feature names");
    assert!(
        names().iter().any(|n| n.starts_with("dom."))
            && names().iter().any(|n| n.starts_with("mean."))
    );
}

#[test]
fn naive_matmul_features() {
    let v = extract(&colt_ops::builders::matmul(256, 256, 256).naive());
    assert_eq!(feat(&v, "g.n_blocks"), 2.0);
    assert_eq!(feat(&v, "dom.loop.n"), 3.0);
    assert_eq!(feat(&v, "dom.vec.log_width"), 0.0);
    assert_eq!(feat(&v, "dom.loop.n_parallel"), 0.0);
    assert_eq!(feat(&v, "dom.par.ge_cores"), 0.0);
    // innermost loop k: C[i, j] invariant, A[i, k] unit stride, B[k, j] stride 256
    assert_eq!(feat(&v, "dom.inner.store_stride0"), 1.0);
    assert_eq!(feat(&v, "dom.reuse.store_inner_invariant"), 1.0);
    assert_eq!(feat(&v, "dom.inner.loads_stride1"), 0.5);
    assert_eq!(feat(&v, "dom.inner.loads_stride_other"), 0.5);
    // inside k: 1 element of C, 256 of A, 256 of B
    assert!(close(feat(&v, "dom.mem.log_bytes_lv1"), lg(513.0 * 4.0)));
    assert!(close(feat(&v, "dom.tile.log_extent1"), lg(256.0)));
    assert!(close(feat(&v, "g.log_flops"), lg(2.0 * 256f64.powi(3))));
    // store reuse: only k does not index C
    assert_eq!(feat(&v, "dom.reuse.store_loops"), 1.0);
    assert!(close(feat(&v, "dom.reuse.store_log_factor"), lg(256.0)));
    // L1 holds only the k level: traffic = 513*4 bytes * 256*256 iterations
    assert_eq!(feat(&v, "dom.mem.l1_fit_levels"), 1.0);
    assert!(close(
        feat(&v, "dom.mem.log_traffic_l1"),
        lg(513.0 * 4.0 * 65536.0)
    ));
}

#[test]
fn tiled_vectorized_matmul_differs_sensibly() {
    let naive = extract(&colt_ops::builders::matmul(256, 256, 256).naive());
    let v = extract(&tiled_matmul());
    assert_eq!(v.len(), naive.len());
    assert_eq!(feat(&v, "g.log_flops"), feat(&naive, "g.log_flops"));
    assert!(close(feat(&v, "dom.vec.log_width"), lg(16.0)));
    assert_eq!(feat(&v, "dom.vec.innermost"), 1.0);
    assert_eq!(feat(&v, "dom.vec.width_mult8"), 1.0);
    // in j1: C[i, j] and B[k, j] are contiguous, A[i, k] is invariant
    assert_eq!(feat(&v, "dom.vec.store_stride1"), 1.0);
    assert_eq!(feat(&v, "dom.vec.loads_stride1"), 0.5);
    assert_eq!(feat(&v, "dom.vec.loads_stride0"), 0.5);
    assert_eq!(feat(&v, "dom.inner.kind_vectorized"), 1.0);
    assert_eq!(feat(&v, "dom.loop.n_parallel"), 1.0);
    assert_eq!(feat(&v, "dom.par.ge_cores"), 1.0);
    assert_eq!(feat(&v, "dom.par.outermost"), 1.0);
    assert!(close(feat(&v, "dom.loop.log_parallel_prod"), lg(32.0)));
    assert!(close(feat(&v, "dom.tile.log_extent2"), lg(4.0)));
    assert!(close(feat(&v, "dom.tile.log_extent3"), lg(8.0)));
    // the tiled nest keeps a 25 KiB working set in L1 four levels deep and moves less data
    assert_eq!(feat(&v, "dom.mem.l1_fit_levels"), 4.0);
    assert!(feat(&v, "dom.mem.log_traffic_l1") + 2.0 < feat(&naive, "dom.mem.log_traffic_l1"));
    assert!(feat(&v, "dom.mem.log_intensity_l1") > feat(&naive, "dom.mem.log_intensity_l1") + 1.0);
    assert!(feat(&v, "g.frac_exec_vectorized") > 0.9);
    assert_eq!(feat(&naive, "g.frac_exec_vectorized"), 0.0);
}

#[test]
fn sampled_schedules_of_every_workload_extract() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
    for name in colt_ops::workloads::names() {
        let p = colt_ops::build(name, colt_ops::Scale::Ci).expect("workload builds");
        let mut funcs = vec![p.naive()];
        for _ in 0..3 {
            if let Ok(f) = colt_sched::sketch::try_sample(&p, &mut rng)
                .and_then(|t| colt_sched::apply_trace(&p, &t))
            {
                funcs.push(f);
            }
        }
        for f in &funcs {
            let v = extract(f);
            assert_eq!(v.len(), count(), "{name}");
            assert!(
                v.iter().all(|x| x.is_finite()),
                "{name}: non-finite feature"
            );
            assert!(feat(&v, "g.log_flops") > 0.0, "{name}");
        }
        assert_eq!(
            extract(&funcs[0]),
            extract(&p.naive()),
            "{name}: extraction is deterministic"
        );
    }
}

#[test]
fn cache_write_shows_local_allocation() {
    let mut s = tiled_schedule();
    s.apply(&Inst::CacheWrite(StageLoop {
        stage: "matmul".into(),
        loop_: "j0".into(),
    }))
    .expect("cache_write");
    let v = extract(&s.lower().expect("lowers"));
    let plain = extract(&tiled_matmul());
    assert_eq!(feat(&plain, "g.n_allocs"), 0.0);
    assert_eq!(feat(&v, "g.n_allocs"), 1.0);
    // the cache holds the 8 x 16 tile of C that the loops inside j0 write
    assert!(close(feat(&v, "g.log_local_bytes"), lg(8.0 * 16.0 * 4.0)));
    assert_eq!(feat(&v, "dom.local.writes"), 1.0);
    assert_eq!(feat(&v, "dom.local.n_allocs"), 1.0);
    assert_eq!(feat(&plain, "dom.local.writes"), 0.0);
    assert!(
        feat(&v, "g.n_blocks") > feat(&plain, "g.n_blocks"),
        "a write-back block is added"
    );
}

fn v(i: u32) -> Idx {
    Idx::Var(VarId(i))
}

#[test]
fn malformed_funcs_do_not_panic() {
    let buf = |n: &str, shape: Vec<i64>, kind| Buffer {
        name: n.into(),
        shape,
        kind,
    };
    let block = Block {
        name: "weird".into(),
        bind: vec![
            (VarId(5), v(0) * i64::MAX + Idx::Const(i64::MAX)),
            (VarId(6), v(5).div(0)),
        ],
        store: Access {
            buf: BufId(9),
            idx: vec![v(6).rem(0), v(42)],
        },
        op: StoreOp::Assign,
        value: Value::Select(
            vec![],
            Box::new(Value::load(BufId(0), vec![v(5), v(1) * -3, Idx::Const(-7)])),
            Box::new(Value::Const(f32::NAN)),
        ),
    };
    let f = Func {
        name: "bad".into(),
        vars: vec!["a".into()],
        buffers: vec![
            buf("A", vec![0, -4], BufKind::Input),
            buf("L", vec![i64::MAX, i64::MAX], BufKind::Local),
        ],
        body: vec![
            Stmt::Loop(Loop {
                var: VarId(0),
                extent: -5,
                kind: LoopKind::Vectorized,
                body: vec![Stmt::Alloc {
                    buf: BufId(1),
                    body: vec![Stmt::Loop(Loop {
                        var: VarId(1),
                        extent: i64::MAX,
                        kind: LoopKind::Parallel,
                        body: vec![
                            Stmt::Block(block.clone()),
                            Stmt::Loop(Loop {
                                var: VarId(1),
                                extent: 0,
                                kind: LoopKind::Unrolled,
                                body: vec![],
                            }),
                        ],
                    })],
                }],
            }),
            Stmt::Alloc {
                buf: BufId(77),
                body: vec![Stmt::Block(block)],
            },
        ],
    };
    let x = extract(&f);
    assert_eq!(x.len(), count());
    assert!(x.iter().all(|v| v.is_finite()));
    let empty = Func {
        name: "e".into(),
        vars: vec![],
        buffers: vec![],
        body: vec![],
    };
    let e = extract(&empty);
    assert_eq!(e.len(), count());
    assert!(e.iter().all(|&v| v == 0.0 || v.is_finite()));
    assert_eq!(feat(&e, "g.n_blocks"), 0.0);
}
