//! No vector lane is indexed through a division: in every lowered schedule that the sampler
//! and the mutators reach, the indices a vectorised loop's statements use, once written in
//! loop variables and simplified with the loops' ranges (as codegen does), never put the lane
//! variable under a `/` or a `%`. Such an index is a division per lane that no compiler
//! vectorises: a matmul whose parallel loop fused its rows' and columns' outer loops over a
//! packed `B` indexed `B_p[((f % 16)*64 + 16 j + l) / 16 …]` and ran 25× slower than with the
//! whole part taken out of the sum.

use colt_ir::{Func, Idx, Interval, LoopKind, Stmt, VarId};
use colt_sched::{VectorTarget, apply_trace, mutate, sample_for};
use rand::SeedableRng;
use rand_pcg::Pcg64;

/// Whether `v` appears under a `/` or a `%` in `e`.
fn divided(e: &Idx, v: VarId) -> bool {
    match e {
        Idx::Const(_) | Idx::Var(_) => false,
        Idx::Add(a, b) => divided(a, v) || divided(b, v),
        Idx::Mul(a, _) => divided(a, v),
        Idx::Div(a, _) | Idx::Mod(a, _) => {
            let mut vars = vec![];
            a.vars(&mut vars);
            vars.contains(&v)
        }
    }
}

/// Each vectorised loop's lane variable that some statement directly in its body indexes
/// through a division: `(stage, index)` as text.
fn lane_divisions(f: &Func) -> Vec<String> {
    fn go(f: &Func, body: &[Stmt], ranges: &mut Vec<Option<Interval>>, out: &mut Vec<String>) {
        for s in body {
            match s {
                Stmt::Loop(l) => {
                    let hi = (l.extent - 1).max(0);
                    let was = ranges[l.var.0 as usize].replace(Interval { lo: 0, hi });
                    if l.kind == LoopKind::Vectorized {
                        check(f, l.var, &l.body, ranges, out);
                    }
                    go(f, &l.body, ranges, out);
                    ranges[l.var.0 as usize] = was;
                }
                Stmt::Alloc { body, .. } => go(f, body, ranges, out),
                Stmt::Block(_) => {}
            }
        }
    }
    fn check(
        f: &Func,
        lane: VarId,
        body: &[Stmt],
        ranges: &[Option<Interval>],
        out: &mut Vec<String>,
    ) {
        let range = |v: VarId| ranges.get(v.0 as usize).copied().flatten();
        let simplify = |e: &Idx| e.simplify(&range);
        for s in body {
            let Stmt::Block(b) = s else { continue };
            let bind = b.bindings_in_loop_vars(&simplify);
            let lookup = |x: VarId| {
                bind.iter()
                    .rev()
                    .find(|(y, _)| *y == x)
                    .map(|(_, e)| e.clone())
            };
            let mut loads = vec![];
            b.value.loads(&mut loads);
            for a in loads.into_iter().chain([&b.store]) {
                for e in &a.idx {
                    let e = simplify(&e.subst(&lookup));
                    if divided(&e, lane) {
                        out.push(format!("{}: {e:?} over lane {}", b.name, f.var_name(lane)));
                    }
                }
            }
        }
    }
    let mut out = vec![];
    go(f, &f.body, &mut vec![None; f.vars.len()], &mut out);
    out
}

#[test]
fn no_lane_is_indexed_through_a_division() {
    let targets = [
        VectorTarget {
            lanes: 8,
            registers: 16,
        },
        VectorTarget {
            lanes: 16,
            registers: 32,
        },
    ];
    let (mut checked, mut bad) = (0, vec![]);
    for scale in [colt_ops::Scale::Ci, colt_ops::Scale::Paper] {
        for w in colt_ops::list(scale) {
            let p = colt_ops::build(w.name, scale).expect("built-in");
            for target in targets {
                for seed in 0..6u64 {
                    let mut rng = Pcg64::seed_from_u64(seed);
                    let mut t = sample_for(&p, Some(target), &mut rng);
                    // a few generations of mutants: fused parallel loops come mostly from there
                    for _ in 0..8 {
                        let f = apply_trace(&p, &t).expect("sampled traces lower");
                        let found = lane_divisions(&f);
                        checked += 1;
                        if let Some(first) = found.first() {
                            bad.push(format!("{} {scale:?} seed {seed}: {first}", w.name));
                        }
                        if let Some(m) = mutate(&p, &t, &mut rng) {
                            t = m;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} schedules checked");
    assert!(
        bad.is_empty(),
        "{} of {checked} schedules index lanes through a division, e.g.\n{}",
        bad.len(),
        bad.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}
