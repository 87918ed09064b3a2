//! Random pass sequences with structure, and decision-level mutations of a sequence.
//!
//! Like the sketches of tensor-program search, a sampled sequence follows a fixed skeleton
//! of phases (early promotion and cleanup, interprocedural propagation, inlining, function
//! simplification, loop canonicalisation and unrolling, late scalar cleanup, vectorisation,
//! module cleanup); the random decisions are which passes of each phase are present (each
//! with its own probability), small reorderings inside a phase, a repeated simplification
//! round and a few passes inserted anywhere. Mutations then edit the sequence freely
//! (insert, delete, replace, swap, duplicate), so any order is reachable; LLM actions do the
//! same through [`crate::env`]'s vocabulary. Neither draws the standard pipelines
//! ([`crate::passes::OptType::Pipeline`]): the environment offers those as starting points.

use rand::RngExt;

use crate::env::Objective;
use crate::passes::PassVocab;
use colt_search::SearchRng;

/// Longest sequence the search builds.
pub const MAX_LEN: usize = 64;

type Phase = &'static [(&'static str, f64)];

const EARLY: Phase = &[
    ("sroa", 0.85),
    ("mem2reg", 0.1),
    ("early-cse", 0.6),
    ("simplifycfg", 0.7),
    ("instcombine", 0.5),
];
const IPO: Phase = &[
    ("ipsccp", 0.6),
    ("called-value-propagation", 0.1),
    ("globalopt", 0.6),
    ("deadargelim", 0.3),
    ("function-attrs", 0.3),
    ("argpromotion", 0.15),
];
const INLINE: Phase = &[
    ("always-inline", 0.15),
    ("inline", 0.7),
    ("partial-inliner", 0.05),
];
const SIMPLIFY: Phase = &[
    ("sroa", 0.6),
    ("early-cse-memssa", 0.35),
    ("jump-threading", 0.3),
    ("correlated-propagation", 0.35),
    ("simplifycfg", 0.6),
    ("aggressive-instcombine", 0.15),
    ("instcombine", 0.7),
    ("tailcallelim", 0.3),
    ("reassociate", 0.3),
    ("sccp", 0.2),
    ("bdce", 0.15),
];
const LOOPS: Phase = &[
    ("loop-simplifycfg", 0.15),
    ("loop-rotate", 0.7),
    ("licm", 0.65),
    ("simple-loop-unswitch", 0.2),
    ("loop-instsimplify", 0.15),
    ("indvars", 0.6),
    ("loop-idiom", 0.3),
    ("loop-deletion", 0.5),
    ("loop-unroll-full", 0.6),
];
const LATE: Phase = &[
    ("sroa", 0.2),
    ("mldst-motion", 0.1),
    ("gvn", 0.6),
    ("newgvn", 0.1),
    ("sccp", 0.4),
    ("bdce", 0.15),
    ("instcombine", 0.6),
    ("jump-threading", 0.2),
    ("correlated-propagation", 0.2),
    ("dse", 0.4),
    ("memcpyopt", 0.25),
    ("licm", 0.25),
    ("adce", 0.45),
    ("dce", 0.15),
    ("simplifycfg", 0.55),
    ("instcombine", 0.3),
];
const VECTOR_RUNTIME: Phase = &[
    ("loop-rotate", 0.4),
    ("loop-distribute", 0.1),
    ("loop-load-elim", 0.2),
    ("loop-vectorize", 0.7),
    ("instcombine", 0.4),
    ("slp-vectorizer", 0.5),
    ("vector-combine", 0.3),
    ("loop-unroll", 0.5),
    ("loop-unroll-and-jam", 0.05),
    ("instcombine", 0.4),
    ("licm", 0.3),
    ("simplifycfg-lookup", 0.4),
    ("div-rem-pairs", 0.15),
];
const VECTOR_SIZE: Phase = &[
    ("loop-load-elim", 0.1),
    ("loop-vectorize", 0.1),
    ("slp-vectorizer", 0.15),
    ("vector-combine", 0.1),
    ("loop-unroll", 0.1),
    ("instcombine", 0.4),
    ("simplifycfg-lookup", 0.4),
    ("div-rem-pairs", 0.15),
];
const MODULE_CLEANUP: Phase = &[
    ("globalopt", 0.3),
    ("globaldce", 0.5),
    ("deadargelim", 0.2),
    ("mergefunc", 0.3),
    ("constmerge", 0.2),
    ("strip-dead-prototypes", 0.15),
];

/// One random structured sequence (never empty) of passes the vocabulary has.
pub fn sample(vocab: &PassVocab, objective: Objective, rng: &mut SearchRng) -> Vec<String> {
    let vector = match objective {
        Objective::Runtime => VECTOR_RUNTIME,
        Objective::Size | Objective::Memory => VECTOR_SIZE,
    };
    let second_round = rng.random_bool(0.35);
    let mut phases: Vec<Phase> = vec![EARLY, IPO, INLINE, SIMPLIFY];
    if second_round {
        phases.push(SIMPLIFY);
    }
    phases.extend([LOOPS, LATE, vector, MODULE_CLEANUP]);
    let mut seq: Vec<String> = Vec::new();
    for phase in phases {
        let mut part: Vec<String> = phase
            .iter()
            .filter(|(n, p)| vocab.get(n).is_some() && rng.random_bool(*p))
            .map(|(n, _)| n.to_string())
            .collect();
        if part.len() >= 2 && rng.random_bool(0.25) {
            let i = rng.random_range(0..part.len() - 1);
            part.swap(i, i + 1);
        }
        seq.extend(part);
    }
    let names = vocab.single_passes();
    for _ in 0..rng.random_range(0..3usize) {
        if names.is_empty() {
            break;
        }
        let at = rng.random_range(0..=seq.len());
        seq.insert(at, names[rng.random_range(0..names.len())].clone());
    }
    if seq.is_empty() && !names.is_empty() {
        seq.push(names[rng.random_range(0..names.len())].clone());
    }
    seq.truncate(MAX_LEN);
    seq
}

/// One mutation of a sequence: insert, delete, replace, swap adjacent, duplicate a pass or
/// copy a short slice. `None` when nothing applies (empty vocabulary).
pub fn mutate(vocab: &PassVocab, s: &[String], rng: &mut SearchRng) -> Option<Vec<String>> {
    let names = vocab.single_passes();
    if names.is_empty() {
        return None;
    }
    let pick = |rng: &mut SearchRng| names[rng.random_range(0..names.len())].clone();
    for _ in 0..8 {
        let mut t = s.to_vec();
        let r: f64 = rng.random();
        let n = t.len();
        if r < 0.28 {
            if n >= MAX_LEN {
                continue;
            }
            let at = rng.random_range(0..=n);
            t.insert(at, pick(rng));
        } else if r < 0.53 {
            if n <= 1 {
                continue;
            }
            t.remove(rng.random_range(0..n));
        } else if r < 0.73 {
            if n == 0 {
                continue;
            }
            let at = rng.random_range(0..n);
            t[at] = pick(rng);
        } else if r < 0.87 {
            if n < 2 {
                continue;
            }
            let at = rng.random_range(0..n - 1);
            t.swap(at, at + 1);
        } else if r < 0.95 {
            if n == 0 || n >= MAX_LEN {
                continue;
            }
            let from = rng.random_range(0..n);
            let at = rng.random_range(0..=n);
            let p = t[from].clone();
            t.insert(at, p);
        } else {
            if n < 2 {
                continue;
            }
            let len = rng.random_range(2..=n.min(4));
            let from = rng.random_range(0..=n - len);
            let slice: Vec<String> = t[from..from + len].to_vec();
            let at = rng.random_range(0..=n);
            for (k, p) in slice.into_iter().enumerate() {
                t.insert(at + k, p);
            }
            t.truncate(MAX_LEN);
        }
        if t != s && !t.is_empty() {
            return Some(t);
        }
    }
    None
}
