//! Mutators: change one decision of a sketch-form trace and replay, never the skeleton.
//!
//! As in MetaSchedule's CPU defaults (method.md section 2): MutateTileSize moves a prime factor
//! between two tile levels of one loop (0.90), MutateComputeLocation moves an elementwise stage
//! between root, inline and the loops of its consumer (0.05), MutateUnroll picks another
//! auto-unroll step (0.03) and MutateParallel another number of fused parallel loops (0.02).
//! colt adds MutateStructure (0.05, taken from the tile sizes: 0.85 left to them), which
//! changes a tiled stage's packed input or write cache: MetaSchedule draws those once per
//! sketch, so a search whose first draws missed a packed weight never tried one with the tiles
//! it converged on (a 1024³ matmul run measured one packed candidate in 64, at 1.5× the
//! others' best; see the README). It also groups a batched run of stages
//! ([`crate::batch`]) or ungroups it; tile and parallel mutations leave a group's shared loop
//! as it is.
//! A mutant is returned only when it replays and lowers.

use crate::batch;
use crate::sketch::{
    PackDecision, Placement, Sketch, UNROLL_STEPS, draw_tiles, idle_parallel_stage,
    pack_candidates, primes, stage_facts, useful_parallel_choices,
};
use crate::trace::{Inst, StageLoop, Trace};
use colt_ir::{Func, Program};
use rand::RngExt;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

/// A decision mutator (MetaSchedule's CPU set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mutator {
    /// Move a prime factor between two tile levels of one loop.
    TileSize,
    /// Move an elementwise stage between root, inline and its consumer's loops.
    ComputeLocation,
    /// Pick another auto-unroll step.
    Unroll,
    /// Pick another number of fused parallel loops.
    Parallel,
    /// Change a tiled stage's packed input or write cache.
    Structure,
}

/// Relative probabilities of the mutators.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MutatorProbs {
    /// Weight of [`Mutator::TileSize`].
    pub tile_size: f64,
    /// Weight of [`Mutator::ComputeLocation`].
    pub compute_location: f64,
    /// Weight of [`Mutator::Unroll`].
    pub unroll: f64,
    /// Weight of [`Mutator::Parallel`].
    pub parallel: f64,
    /// Weight of [`Mutator::Structure`].
    #[serde(default)]
    pub structure: f64,
}

impl Default for MutatorProbs {
    /// MetaSchedule's CPU probabilities (tile 0.90, compute location 0.05, unroll 0.03,
    /// parallel 0.02) with 0.05 of the tiles' share given to the structure.
    fn default() -> Self {
        MutatorProbs {
            tile_size: 0.85,
            compute_location: 0.05,
            unroll: 0.03,
            parallel: 0.02,
            structure: 0.05,
        }
    }
}

impl MutatorProbs {
    fn pick(&self, rng: &mut Pcg64) -> Mutator {
        let w = [
            self.tile_size,
            self.compute_location,
            self.unroll,
            self.parallel,
            self.structure,
        ]
        .map(|x| x.max(0.0));
        let total: f64 = w.iter().sum();
        let all = [
            Mutator::TileSize,
            Mutator::ComputeLocation,
            Mutator::Unroll,
            Mutator::Parallel,
            Mutator::Structure,
        ];
        if total <= 0.0 {
            return Mutator::TileSize;
        }
        let mut x = rng.random::<f64>() * total;
        for (m, p) in all.iter().zip(w) {
            if x < p {
                return *m;
            }
            x -= p;
        }
        Mutator::Structure
    }
}

/// A mutant of `trace` with the stock probabilities, or `None` when the trace is not in
/// sketch form or no mutant that replays and lowers was found in a few attempts.
pub fn mutate(program: &Program, trace: &Trace, rng: &mut Pcg64) -> Option<Trace> {
    mutate_with(program, trace, &MutatorProbs::default(), rng).map(|(t, _)| t)
}

/// A mutant and the mutator that made it.
pub fn mutate_with(
    program: &Program,
    trace: &Trace,
    probs: &MutatorProbs,
    rng: &mut Pcg64,
) -> Option<(Trace, Mutator)> {
    mutate_lowered_with(program, trace, probs, rng).map(|(t, m, _)| (t, m))
}

/// [`mutate`] with the mutant's lowered loop nest (the validation lowers it anyway; callers
/// that need its key or features reuse it instead of replaying the trace).
pub fn mutate_lowered(program: &Program, trace: &Trace, rng: &mut Pcg64) -> Option<(Trace, Func)> {
    mutate_lowered_with(program, trace, &MutatorProbs::default(), rng).map(|(t, _, f)| (t, f))
}

fn mutate_lowered_with(
    program: &Program,
    trace: &Trace,
    probs: &MutatorProbs,
    rng: &mut Pcg64,
) -> Option<(Trace, Mutator, Func)> {
    let sk = Sketch::from_trace(program, trace).ok()?;
    // A mutant may not make a parallel loop of one iteration where a wider one is legal
    // (say, by moving a tile factor out of the fused loops): that stage would run on one
    // core. A parent that has one already (an LLM's choice) is mutated freely.
    let parent_idle = idle_parallel_stage(program, trace).is_some();
    for _ in 0..32 {
        let m = probs.pick(rng);
        let Some(new) = apply_mutator(m, program, &sk, rng) else {
            continue;
        };
        let Ok((t, sch)) = new.realize(program) else {
            continue;
        };
        if t == *trace || (!parent_idle && idle_parallel_stage(program, &t).is_some()) {
            continue;
        }
        let Ok(f) = sch.lower() else { continue };
        return Some((t, m, f));
    }
    None
}

/// One mutation of the decisions (not yet validated); `None` when the mutator has nothing to
/// change in this sketch.
pub fn apply_mutator(
    m: Mutator,
    program: &Program,
    sk: &Sketch,
    rng: &mut Pcg64,
) -> Option<Sketch> {
    match m {
        Mutator::TileSize => tile_size(sk, rng),
        Mutator::ComputeLocation => compute_location(program, sk, rng),
        Mutator::Unroll => unroll(sk, rng),
        Mutator::Parallel => parallel(program, sk, rng),
        Mutator::Structure => structure(program, sk, rng),
    }
}

/// A uniformly drawn element of `v` (`None` when it is empty).
pub(crate) fn pick<T: Clone>(rng: &mut Pcg64, v: &[T]) -> Option<T> {
    (!v.is_empty()).then(|| v[rng.random_range(0..v.len())].clone())
}

fn tile_size(sk: &Sketch, rng: &mut Pcg64) -> Option<Sketch> {
    let cands: Vec<(usize, usize)> = sk
        .stages
        .iter()
        .enumerate()
        .flat_map(|(s, d)| {
            d.tiles
                .iter()
                .enumerate()
                .map(move |(t, tile)| (s, t, tile))
        })
        .filter(|(_, _, tile)| tile.factors.len() > 1 && tile.factors.iter().product::<i64>() > 1)
        .map(|(s, t, _)| (s, t))
        .collect();
    let (s, t) = pick(rng, &cands)?;
    // a group's shared loop is the outermost level of its stages' first loop: it stays
    let first = usize::from(t == 0 && sk.grouped(s));
    let mut out = sk.clone();
    let f = &mut out.stages[s].tiles[t].factors;
    let from_levels: Vec<usize> = (first..f.len()).filter(|&l| f[l] > 1).collect();
    let from = pick(rng, &from_levels)?;
    let p = pick(rng, &primes(f[from]))?;
    let to_levels: Vec<usize> = (first..f.len()).filter(|&l| l != from).collect();
    let to = pick(rng, &to_levels)?;
    f[from] /= p;
    f[to] *= p;
    Some(out)
}

fn compute_location(program: &Program, sk: &Sketch, rng: &mut Pcg64) -> Option<Sketch> {
    let mut cands = vec![];
    for s in 0..sk.stages.len() {
        if program.stages[s].reduce.is_some() {
            continue;
        }
        let Ok(sch) = sk.schedule_before(program, s) else {
            continue;
        };
        let facts = stage_facts(&sch, s);
        let cur = &sk.stages[s].placement;
        let mut opts = vec![];
        if *cur != Placement::Root {
            opts.push(Placement::Root);
        }
        if facts.inlinable && *cur != Placement::Inline {
            opts.push(Placement::Inline);
        }
        if let Some((consumer, loops)) = facts.at {
            for l in loops {
                let p = Placement::At {
                    consumer: consumer.clone(),
                    loop_: l,
                };
                if p != *cur {
                    opts.push(p);
                }
            }
        }
        if !opts.is_empty() {
            cands.push((s, opts));
        }
    }
    let (s, opts) = pick(rng, &cands)?;
    let placement = pick(rng, &opts)?;
    let mut out = sk.clone();
    let tiles = draw_tiles(rng, program, s);
    out.set_placement(program, s, placement, tiles);
    Some(out)
}

fn unroll(sk: &Sketch, rng: &mut Pcg64) -> Option<Sketch> {
    let cands: Vec<usize> = (0..sk.stages.len())
        .filter(|&s| sk.stages[s].placement != Placement::Inline)
        .collect();
    let s = pick(rng, &cands)?;
    let steps: Vec<i64> = UNROLL_STEPS
        .into_iter()
        .filter(|&x| x != sk.stages[s].unroll)
        .collect();
    let mut out = sk.clone();
    out.stages[s].unroll = pick(rng, &steps)?;
    Some(out)
}

fn parallel(program: &Program, sk: &Sketch, rng: &mut Pcg64) -> Option<Sketch> {
    let sch = sk.phase_a_schedule(program).ok()?;
    let mut cands = vec![];
    for (s, d) in sk.stages.iter().enumerate() {
        // a group's parallel loop is its shared loop
        if d.placement != Placement::Root || sk.grouped(s) {
            continue;
        }
        let mut sch = sch.clone();
        if let Some(l) = &d.cache_write
            && sch
                .apply(&Inst::CacheWrite(StageLoop {
                    stage: d.stage.clone(),
                    loop_: l.clone(),
                }))
                .is_err()
        {
            continue;
        }
        let ns: Vec<usize> = useful_parallel_choices(&sch, s)
            .into_iter()
            .filter(|&n| n != d.parallel)
            .collect();
        if !ns.is_empty() {
            cands.push((s, ns));
        }
    }
    let (s, ns) = pick(rng, &cands)?;
    let mut out = sk.clone();
    out.stages[s].parallel = pick(rng, &ns)?;
    Some(out)
}

/// Every other packed input (or none) and write cache (none, or after the last loop of the
/// first or second spatial tile level, where the sampler puts it) of a tiled root stage: one
/// of them, drawn uniformly over all such stages' options.
fn structure(program: &Program, sk: &Sketch, rng: &mut Pcg64) -> Option<Sketch> {
    let sch = sk.phase_a_schedule(program).ok()?;
    let mut cands = vec![];
    for (s, d) in sk.stages.iter().enumerate() {
        if d.placement != Placement::Root || d.tiles.is_empty() {
            continue;
        }
        let packs =
            std::iter::once(None).chain(pack_candidates(program, s).into_iter().map(|buffer| {
                Some(PackDecision {
                    buffer,
                    factor: None,
                })
            }));
        for pack in
            packs.filter(|p| p.as_ref().map(|p| &p.buffer) != d.pack.as_ref().map(|p| &p.buffer))
        {
            let mut out = sk.clone();
            out.stages[s].pack = pack;
            cands.push(out);
        }
        let n_sp = program.stages[s].spatial().count();
        if program.stages[s].reduce.is_none() || d.reduce_inner || n_sp == 0 {
            continue;
        }
        let names = sch.loop_names(s);
        let levels = [n_sp - 1, 2 * n_sp - 1].map(|i| names.get(i).cloned());
        for cw in std::iter::once(None)
            .chain(levels)
            .filter(|c| *c != d.cache_write)
        {
            let mut out = sk.clone();
            out.stages[s].cache_write = cw;
            cands.push(out);
        }
    }
    // compute a batched run as a group, or stop doing so
    if let Some(leader) = sk.stages.iter().find_map(|d| d.with.clone()) {
        let mut out = sk.clone();
        batch::ungroup(&mut out, &leader);
        cands.push(out);
    } else {
        let mut out = sk.clone();
        if batch::draw_group(rng, program, &batch::batched_runs(program), &mut out).is_some() {
            cands.push(out);
        }
    }
    pick(rng, &cands)
}
