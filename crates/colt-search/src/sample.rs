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

use crate::core::{Candidate, Core, DRY_LIMIT};
use crate::env::Environment;
use crate::result::StopReason;

pub(crate) fn run_random<E: Environment>(core: &mut Core<'_, E>) -> StopReason {
    batch_loop(core, |core, n| random_batch(core, n, false))
}

pub(crate) fn run_evolutionary<E: Environment>(core: &mut Core<'_, E>) -> StopReason {
    batch_loop(core, evolve_batch)
}

/// The loop of the strategies without a tree: measure the batch `next` proposes until the
/// run stops, or until [`DRY_LIMIT`] batches in a row propose nothing new.
fn batch_loop<E: Environment>(
    core: &mut Core<'_, E>,
    mut next: impl FnMut(&mut Core<'_, E>, usize) -> Vec<Candidate<E::State>>,
) -> StopReason {
    let mut dry = 0;
    loop {
        if let Some(s) = core.stop_check() {
            return s;
        }
        let n = core.cfg.batch_size.min(core.remaining());
        let batch = next(core, n);
        if batch.is_empty() {
            dry += 1;
            if dry >= DRY_LIMIT {
                return StopReason::SpaceExhausted;
            }
            continue;
        }
        dry = 0;
        core.measure(batch);
        core.progress(0);
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

fn evolve_batch<E: Environment>(core: &mut Core<'_, E>, n: usize) -> Vec<Candidate<E::State>> {
    let cfg = core.cfg;
    // An untrained model ranks nothing: its constant prediction would make the pick an
    // arbitrary (key-ordered) slice of mutants. Measure random samples until it trains.
    if !core.cost.is_trained() {
        return random_batch(core, n, true);
    }
    let pop_size = cfg.population;
    // The best measured records seed part of the population.
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
    // Fresh random samples fill the rest; the unmeasured ones are the ε-exploration pool.
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
    // The pool of unmeasured candidates: key -> (prediction, state, features).
    let mut pool: BTreeMap<u64, (f64, E::State, Vec<f32>)> = BTreeMap::new();
    let fresh_states: Vec<(u64, E::State, Vec<f32>)> = fresh
        .iter()
        .map(|&i| {
            (
                population[i].key,
                population[i].state.clone(),
                population[i].features.clone(),
            )
        })
        .collect();
    for g in 0..=cfg.generations {
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
        if g == cfg.generations {
            break;
        }
        let weights: Vec<f64> = preds.iter().map(|p| p.max(1e-6)).collect();
        let mut next: Vec<Ind<E::State>> = Vec::with_capacity(pop_size);
        let mut next_keys = BTreeSet::new();
        for _ in 0..pop_size * 3 {
            if next.len() >= pop_size {
                break;
            }
            let parent = &population[roulette(&weights, &mut core.rng)];
            let child = if core.rng.random_bool(cfg.mutate_prob) {
                match core.env.mutate_keyed(&parent.state, &mut core.rng) {
                    Some((state, key, features)) => Ind {
                        state,
                        key,
                        features,
                    },
                    None => continue,
                }
            } else {
                Ind {
                    state: parent.state.clone(),
                    key: parent.key,
                    features: parent.features.clone(),
                }
            };
            if core.failed.contains(&child.key) || !next_keys.insert(child.key) {
                continue;
            }
            next.push(child);
        }
        if next.is_empty() {
            break;
        }
        population = next;
    }
    let mut ranked: Vec<(f64, u64)> = pool.iter().map(|(k, (p, _, _))| (*p, *k)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // The best-predicted fresh samples get a quarter of the batch: on rugged spaces the
    // mutants of the incumbent crowd the top of the ranking with near-equal predictions,
    // and model-filtered samples keep other basins in play.
    let mut ranked_fresh: Vec<(f64, u64)> = fresh_states
        .iter()
        .filter_map(|f| pool.get(&f.0).map(|e| (e.0, f.0)))
        .collect();
    ranked_fresh.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let n_fresh = n / 4;
    let mut picked = BTreeSet::new();
    let mut batch = Vec::with_capacity(n);
    let mut next_best = 0;
    let mut next_fresh = 0;
    while batch.len() < n {
        let explore = core.rng.random_bool(cfg.epsilon);
        if !explore && batch.len() < n_fresh {
            while next_fresh < ranked_fresh.len() && picked.contains(&ranked_fresh[next_fresh].1) {
                next_fresh += 1;
            }
            if next_fresh < ranked_fresh.len() {
                let (p, k) = ranked_fresh[next_fresh];
                let e = &pool[&k];
                picked.insert(k);
                batch.push(Candidate {
                    state: e.1.clone(),
                    key: k,
                    features: e.2.clone(),
                    predicted: Some(p),
                    proposer: "evolution".into(),
                    node: None,
                });
                continue;
            }
        }
        let mut choice: Option<(u64, E::State, Vec<f32>, f64)> = None;
        if explore {
            let open: Vec<&(u64, E::State, Vec<f32>)> = fresh_states
                .iter()
                .filter(|f| !picked.contains(&f.0))
                .collect();
            if !open.is_empty() {
                let f = open[core.rng.random_range(0..open.len())];
                let p = pool.get(&f.0).map_or(0.0, |e| e.0);
                choice = Some((f.0, f.1.clone(), f.2.clone(), p));
            }
        }
        if choice.is_none() {
            while next_best < ranked.len() && picked.contains(&ranked[next_best].1) {
                next_best += 1;
            }
            if next_best < ranked.len() {
                let (p, k) = ranked[next_best];
                let e = &pool[&k];
                choice = Some((k, e.1.clone(), e.2.clone(), p));
            }
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
