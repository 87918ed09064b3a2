//! Sampling compute-with groups ([`crate::group`]): runs of consecutive stages batched over
//! the same leading dimension (attention's heads, a batched GEMM's batch) computed one slice
//! of it at a time, so that the temporaries between them stay in cache.

use crate::sketch::{Placement, Sketch, divisors};
use crate::state::Schedule;
use colt_ir::{BufId, Idx, IterKind, Program};
use rand::RngExt;
use rand_pcg::Pcg64;

/// Probability that a sampled sketch with a batched run computes the run as one group.
pub(crate) const GROUP_P: f64 = 0.3;

/// Runs of at least two consecutive stages of `p` batched over their first iteration
/// variable: it is spatial, of one extent across the run, indexes the first dimension of the
/// stage's output, and indexes the first dimension of every read of an earlier stage's output
/// in the run.
pub fn batched_runs(p: &Program) -> Vec<Vec<usize>> {
    let lead = |s: usize| {
        let st = &p.stages[s];
        let iv = st.iters.first()?;
        (iv.kind == IterKind::Spatial && st.store.idx.first() == Some(&Idx::Var(iv.var)))
            .then_some((iv.var, iv.extent))
    };
    let mut runs = vec![];
    let mut cur: Vec<usize> = vec![];
    for s in 0..p.stages.len() {
        let Some((v, e)) = lead(s) else {
            if cur.len() >= 2 {
                runs.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        };
        let written: Vec<BufId> = cur.iter().map(|&x| p.stages[x].store.buf).collect();
        let mut loads = vec![];
        p.stages[s].value.loads(&mut loads);
        let fits = cur
            .first()
            .is_none_or(|&f| lead(f).is_some_and(|l| l.1 == e))
            && loads
                .iter()
                .filter(|a| written.contains(&a.buf))
                .all(|a| a.idx.first() == Some(&Idx::Var(v)));
        if !fits {
            if cur.len() >= 2 {
                runs.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
        cur.push(s);
    }
    if cur.len() >= 2 {
        runs.push(cur);
    }
    runs.retain(|r| worth_grouping(p, r));
    runs
}

/// Whether computing `run` one slice at a time can save much memory traffic: what stays in
/// cache between its stages (the temporaries they write, and the batched inputs two or more of
/// them read) is at least what every slice reads again (the inputs read whole by each slice,
/// as an MLP's weights are by each token) and at least half of what the run reads from its
/// inputs anyway (an MoE layer's per-expert temporaries are small beside its weights: a
/// group would only take parallelism from its stages).
fn worth_grouping(p: &Program, run: &[usize]) -> bool {
    let bytes = |b: BufId| 4 * p.buffer(b).shape.iter().product::<i64>();
    let written: Vec<BufId> = run.iter().map(|&s| p.stages[s].store.buf).collect();
    let mut shared: Vec<BufId> = vec![];
    let mut batched: Vec<(BufId, Vec<usize>)> = vec![];
    for &s in run {
        let v = p.stages[s].iters[0].var;
        let mut loads = vec![];
        p.stages[s].value.loads(&mut loads);
        for a in loads.into_iter().filter(|a| !written.contains(&a.buf)) {
            if !a.idx.iter().any(|e| e.mentions(v)) {
                if !shared.contains(&a.buf) {
                    shared.push(a.buf);
                }
            } else if let Some(x) = batched.iter_mut().find(|x| x.0 == a.buf) {
                if !x.1.contains(&s) {
                    x.1.push(s);
                }
            } else {
                batched.push((a.buf, vec![s]));
            }
        }
    }
    let mut temps = written;
    temps.sort();
    temps.dedup();
    let kept: i64 = temps
        .iter()
        .filter(|&&b| p.buffer(b).kind == colt_ir::BufKind::Temp)
        .map(|&b| bytes(b))
        .sum::<i64>()
        + batched
            .iter()
            .filter(|x| x.1.len() >= 2)
            .map(|x| bytes(x.0))
            .sum::<i64>();
    let again: i64 = shared.iter().map(|&b| bytes(b)).sum();
    let inputs: i64 = again + batched.iter().map(|x| bytes(x.0)).sum::<i64>();
    kept >= again && 2 * kept >= inputs
}

/// Tile factors of a loop with `outer` as the outermost factor and the remaining extent
/// spread over the other levels as `factors` spread it (each keeps what still divides; the
/// rest goes to the second level).
pub(crate) fn with_outer(factors: &[i64], outer: i64) -> Vec<i64> {
    let extent: i64 = factors.iter().product();
    let mut rest = extent / outer;
    let mut out = vec![outer];
    for &f in &factors[1..] {
        let g = gcd(f, rest);
        out.push(g);
        rest /= g;
    }
    if let Some(second) = out.get_mut(1) {
        *second *= rest;
    }
    out
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The stages of batched run `run` that a group of `sk` would hold: those tiled at root.
pub(crate) fn members(sk: &Sketch, run: &[usize]) -> Vec<usize> {
    run.iter()
        .copied()
        .filter(|&s| sk.stages[s].placement == Placement::Root && !sk.stages[s].tiles.is_empty())
        .collect()
}

/// Make batched run `run` of `sk` (placed and tiled) a group of `slices` iterations (a divisor
/// of the batch above 1): its stages at root share an outermost loop, the first runs it in
/// parallel and the others are computed with it. On error (the reason, one line) `sk` may be
/// partly edited: callers work on a copy.
pub(crate) fn group_run(
    program: &Program,
    sk: &mut Sketch,
    run: &[usize],
    slices: i64,
) -> Result<(), String> {
    let members = members(sk, run);
    if members.len() < 2 {
        return Err("fewer than two of the run's stages are tiled at root".into());
    }
    let batch = program.stages[members[0]].iters[0].extent;
    if slices < 2 || batch % slices != 0 {
        return Err(format!(
            "slices must be a divisor of the batch {batch} above 1 (0: no group)"
        ));
    }
    let leader = program.stages[members[0]].name.clone();
    for (k, &s) in members.iter().enumerate() {
        let name = program.var_name(program.stages[s].iters[0].var).to_string();
        let d = &mut sk.stages[s];
        if d.partitions.iter().any(|p| p.loop_ == name) {
            return Err(format!("{} is partitioned along loop {name}", d.stage));
        }
        if let Some(t) = d.tiles.iter_mut().find(|t| t.loop_ == name) {
            t.factors = with_outer(&t.factors, slices);
        }
        d.with = (k > 0).then(|| leader.clone());
    }
    group_parallel(sk);
    Ok(())
}

/// Undo the group led by stage `leader`: its members run on their own again, each parallel
/// over its outermost loop.
pub(crate) fn ungroup(sk: &mut Sketch, leader: &str) {
    for d in &mut sk.stages {
        if d.with.as_deref() == Some(leader) {
            d.with = None;
            d.parallel = 1;
        }
    }
}

/// Make a random batched run of `sk` a group ([`group_run`]) of one slice per element of
/// its batch half of the time, else of a uniformly drawn divisor of the batch above 1.
/// Returns the new phase-A schedule, or `None` (and `sk` unchanged) when that fails.
/// `runs` are the program's [`batched_runs`].
pub(crate) fn draw_group(
    rng: &mut Pcg64,
    program: &Program,
    runs: &[Vec<usize>],
    sk: &mut Sketch,
) -> Option<Schedule> {
    if runs.is_empty() {
        return None;
    }
    let run = &runs[rng.random_range(0..runs.len())];
    let batch = program.stages[run[0]].iters[0].extent;
    let slices: Vec<i64> = divisors(batch).into_iter().filter(|&d| d > 1).collect();
    if slices.is_empty() {
        return None;
    }
    // the finest slicing half of the time: one element of the batch per iteration is the
    // smallest working set, what grouping is for
    let g = if rng.random_bool(0.5) {
        batch
    } else {
        slices[rng.random_range(0..slices.len())]
    };
    let mut out = sk.clone();
    group_run(program, &mut out, run, g).ok()?;
    let sch = out.phase_a_schedule(program).ok()?;
    *sk = out;
    Some(sch)
}

/// The parallel decisions a group needs: its first stage parallel over the shared loop only,
/// the others serial (they run inside it).
pub(crate) fn group_parallel(sk: &mut Sketch) {
    let leaders: Vec<String> = sk.stages.iter().filter_map(|d| d.with.clone()).collect();
    for d in &mut sk.stages {
        if d.with.is_some() {
            d.parallel = 0;
        } else if leaders.contains(&d.stage) {
            d.parallel = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outer_factor_is_set_and_the_product_kept() {
        assert_eq!(with_outer(&[4, 8, 1, 1], 32), vec![32, 1, 1, 1]);
        assert_eq!(with_outer(&[4, 8, 1, 1], 8), vec![8, 4, 1, 1]);
        assert_eq!(with_outer(&[2, 1, 4, 4], 4), vec![4, 1, 4, 2]);
        assert_eq!(with_outer(&[16, 2], 4), vec![4, 8]);
    }

    #[test]
    fn attention_is_one_run_and_a_matmul_none() {
        let att = colt_ops::attention(4, 16, 8);
        assert_eq!(batched_runs(&att), vec![(0..6).collect::<Vec<_>>()]);
        assert!(batched_runs(&colt_ops::matmul(16, 16, 16)).is_empty());
    }

    #[test]
    fn runs_that_would_read_their_weights_again_per_slice_are_not_offered() {
        // an MLP over 2 tokens: each token slice would stream the three weight matrices
        assert!(batched_runs(&colt_ops::swiglu_mlp(2, 64, 128)).is_empty());
        // softmax rows: the input is read by two stages, the temporaries by the rest
        assert_eq!(batched_runs(&colt_ops::softmax(8, 64)).len(), 1);
        assert_eq!(batched_runs(&colt_ops::rmsnorm(8, 64, 1e-6)).len(), 1);
        // MoE experts at DeepSeek-R1's paper shape: 210 KB kept beside 352 MB of weights
        assert!(batched_runs(&colt_ops::moe_experts(2, 2, 7168, 2048)).is_empty());
        assert_eq!(batched_runs(&colt_ops::attention(32, 256, 128)).len(), 1);
    }
}
