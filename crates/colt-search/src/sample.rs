//! The two strategies without a tree: random sampling, and the MetaSchedule-like
//! evolutionary search (the strongest non-LLM baseline).
//!
//! Until the cost model trains, batches are random samples. Then, per measurement batch:
//! a population from the best measured records
//! (`init_measured_ratio`) plus fresh random samples; `generations` rounds in which the
//! cost model scores the population and parents are drawn in proportion to their score
//! and mutated; every unmeasured, never-failed candidate seen on the way enters a pool,
//! deduplicated by structural key. The batch takes the best-predicted fresh samples for a
//! quarter of its slots and the pool's best predictions for the rest, each slot
//! replaced with probability ε by a random fresh sample (exploration).

use std::collections::{BTreeMap, BTreeSet};

use rand::RngExt;

use crate::core::{Candidate, Core};
use crate::env::Environment;
use crate::strategy::{Proposal, SearchStrategy};

/// Random sampling: each batch is fresh random samples never measured.
pub(crate) struct Random;

impl<E: Environment> SearchStrategy<E> for Random {
    fn propose(&mut self, core: &mut Core<'_, E>, n: usize) -> Proposal<E::State> {
        Proposal::Batch(random_batch(core, n, false))
    }
}

/// The MetaSchedule-like evolutionary search (see the module's documentation).
pub(crate) struct Evolutionary;

impl<E: Environment> SearchStrategy<E> for Evolutionary {
    fn propose(&mut self, core: &mut Core<'_, E>, n: usize) -> Proposal<E::State> {
        Proposal::Batch(evolve_batch(core, n))
    }
}

/// Up to `n` fresh random samples never measured, deduplicated by key (with features
/// when `with_features`: the cost model trains on them).
fn random_batch<E: Environment>(
    core: &mut Core<'_, E>,
    n: usize,
    with_features: bool,
) -> Vec<Candidate<E::State>> {
    let mut seen = BTreeSet::new();
    let mut batch = Vec::new();
    for _ in 0..4 {
        for s in core.env.initial_states(n, &mut core.rng) {
            let (key, features) = if with_features {
                core.env.key_features(&s)
            } else {
                (core.env.key(&s), Vec::new())
            };
            if core.is_known(key) || !seen.insert(key) {
                continue;
            }
            batch.push(Candidate {
                state: s,
                key,
                features,
                predicted: None,
                proposer: "random".into(),
                node: None,
            });
        }
        if batch.len() >= n {
            break;
        }
    }
    batch.truncate(n);
    batch
}

/// A member of the population.
#[derive(Clone)]
struct Ind<S> {
    state: S,
    key: u64,
    features: Vec<f32>,
}

/// Index drawn with probability proportional to `w` (all weights positive).
fn roulette(w: &[f64], rng: &mut crate::env::SearchRng) -> usize {
    let total: f64 = w.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return i;
        }
        x -= wi;
    }
    w.len() - 1
}

fn individual<E: Environment>(core: &Core<'_, E>, state: E::State) -> Ind<E::State> {
    let (key, features) = core.env.key_features(&state);
    Ind {
        state,
        key,
        features,
    }
}

/// A first population, and those of its members that are fresh samples never measured.
type Seeded<S> = (Vec<Ind<S>>, Vec<Ind<S>>);

/// The unmeasured candidates seen during evolution: key -> (prediction, state, features).
type Pool<S> = BTreeMap<u64, (f64, S, Vec<f32>)>;

/// One batch of the evolutionary search (random samples until the cost model trains).
fn evolve_batch<E: Environment>(core: &mut Core<'_, E>, n: usize) -> Vec<Candidate<E::State>> {
    // An untrained model ranks nothing: its constant prediction would make the pick an
    // arbitrary (key-ordered) slice of mutants. Measure random samples until it trains.
    if !core.cost.is_trained() {
        return random_batch(core, n, true);
    }
    let (population, fresh) = initial_population(core);
    let pool = evolve(core, population);
    pick_batch(core, &pool, &fresh, n)
}

/// The first population: the best measured records (`init_measured_ratio` of it), then
/// fresh random samples; also those samples that were never measured (the ε-exploration
/// pool).
fn initial_population<E: Environment>(core: &mut Core<'_, E>) -> Seeded<E::State> {
    let cfg = core.cfg;
    let pop_size = cfg.population;
    let mut ranked: Vec<(f64, usize)> = core
        .history
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.latency_us.map(|l| (l, i)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n_measured = ((pop_size as f64 * cfg.init_measured_ratio).round() as usize).min(pop_size);
    let mut seen = BTreeSet::new();
    let mut population: Vec<Ind<E::State>> = Vec::with_capacity(pop_size);
    for (_, i) in ranked {
        if population.len() >= n_measured {
            break;
        }
        let s = core.history[i].state.clone();
        let ind = individual(core, s);
        if seen.insert(ind.key) {
            population.push(ind);
        }
    }
    let fresh_states = core
        .env
        .initial_states(pop_size - population.len(), &mut core.rng);
    let mut fresh: Vec<usize> = Vec::new();
    for s in fresh_states {
        let ind = individual(core, s);
        if core.failed.contains(&ind.key) || !seen.insert(ind.key) {
            continue;
        }
        if !core.is_known(ind.key) {
            fresh.push(population.len());
        }
        population.push(ind);
    }
    let fresh = fresh.iter().map(|&i| population[i].clone()).collect();
    (population, fresh)
}

/// `generations` rounds in which the cost model scores the population and the next one
/// is bred from it; every unmeasured candidate seen on the way enters the pool.
fn evolve<E: Environment>(
    core: &mut Core<'_, E>,
    mut population: Vec<Ind<E::State>>,
) -> Pool<E::State> {
    let generations = core.cfg.generations;
    let mut pool = Pool::new();
    for g in 0..=generations {
        if population.is_empty() {
            break;
        }
        let x: Vec<Vec<f32>> = population.iter().map(|i| i.features.clone()).collect();
        let preds = core.predict(&x);
        for (ind, p) in population.iter().zip(&preds) {
            if !core.is_known(ind.key) {
                pool.insert(ind.key, (*p, ind.state.clone(), ind.features.clone()));
            }
        }
        if g == generations {
            break;
        }
        let next = next_generation(core, &population, &preds);
        if next.is_empty() {
            break;
        }
        population = next;
    }
    pool
}

/// Parents drawn in proportion to their predictions (`preds`), mutated with probability
/// `mutate_prob` (else copied); never a failed key, never a key twice.
fn next_generation<E: Environment>(
    core: &mut Core<'_, E>,
    population: &[Ind<E::State>],
    preds: &[f64],
) -> Vec<Ind<E::State>> {
    let pop_size = core.cfg.population;
    let weights: Vec<f64> = preds.iter().map(|p| p.max(1e-6)).collect();
    let mut next: Vec<Ind<E::State>> = Vec::with_capacity(pop_size);
    let mut next_keys = BTreeSet::new();
    for _ in 0..pop_size * 3 {
        if next.len() >= pop_size {
            break;
        }
        let parent = &population[roulette(&weights, &mut core.rng)];
        let child = if core.rng.random_bool(core.cfg.mutate_prob) {
            match core.env.mutate_keyed(&parent.state, &mut core.rng) {
                Some((state, key, features)) => Ind {
                    state,
                    key,
                    features,
                },
                None => continue,
            }
        } else {
            parent.clone()
        };
        if core.failed.contains(&child.key) || !next_keys.insert(child.key) {
            continue;
        }
        next.push(child);
    }
    next
}

/// The next entry of `ranked` from `*at` on that is not `picked` (`*at` moves past the
/// picked ones).
fn next_unpicked(
    ranked: &[(f64, u64)],
    at: &mut usize,
    picked: &BTreeSet<u64>,
) -> Option<(f64, u64)> {
    while *at < ranked.len() && picked.contains(&ranked[*at].1) {
        *at += 1;
    }
    ranked.get(*at).copied()
}

/// Best first, ties by key.
fn rank(mut v: Vec<(f64, u64)>) -> Vec<(f64, u64)> {
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    v
}

/// The batch: the best-predicted fresh samples for a quarter of it, the pool's best
/// predictions for the rest, each slot a random fresh sample with probability ε.
fn pick_batch<E: Environment>(
    core: &mut Core<'_, E>,
    pool: &Pool<E::State>,
    fresh: &[Ind<E::State>],
    n: usize,
) -> Vec<Candidate<E::State>> {
    let ranked = rank(pool.iter().map(|(k, (p, _, _))| (*p, *k)).collect());
    // The best-predicted fresh samples get a quarter of the batch: on rugged spaces the
    // mutants of the incumbent crowd the top of the ranking with near-equal predictions,
    // and model-filtered samples keep other basins in play.
    let ranked_fresh = rank(
        fresh
            .iter()
            .filter_map(|f| pool.get(&f.key).map(|e| (e.0, f.key)))
            .collect(),
    );
    let n_fresh = n / 4;
    let mut picked = BTreeSet::new();
    let mut batch = Vec::with_capacity(n);
    let (mut next_best, mut next_fresh) = (0, 0);
    while batch.len() < n {
        let explore = core.rng.random_bool(core.cfg.epsilon);
        let mut choice: Option<(u64, E::State, Vec<f32>, f64)> = None;
        if !explore && batch.len() < n_fresh {
            choice = next_unpicked(&ranked_fresh, &mut next_fresh, &picked)
                .map(|(p, k)| (k, pool[&k].1.clone(), pool[&k].2.clone(), p));
        }
        if choice.is_none() && explore {
            let open: Vec<&Ind<E::State>> =
                fresh.iter().filter(|f| !picked.contains(&f.key)).collect();
            if !open.is_empty() {
                let f = open[core.rng.random_range(0..open.len())];
                let p = pool.get(&f.key).map_or(0.0, |e| e.0);
                choice = Some((f.key, f.state.clone(), f.features.clone(), p));
            }
        }
        if choice.is_none() {
            choice = next_unpicked(&ranked, &mut next_best, &picked)
                .map(|(p, k)| (k, pool[&k].1.clone(), pool[&k].2.clone(), p));
        }
        let Some((key, state, features, p)) = choice else {
            break;
        };
        picked.insert(key);
        let proposer = if explore { "random" } else { "evolution" };
        batch.push(Candidate {
            state,
            key,
            features,
            predicted: Some(p),
            proposer: proposer.into(),
            node: None,
        });
    }
    batch
}
