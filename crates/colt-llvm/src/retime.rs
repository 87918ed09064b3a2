//! The final figure of a timed objective (run time, memory), measured honestly.
//!
//! The search's own best is the minimum over many noisy timings, biased low, while the
//! baselines were timed once before the search. So after the search the best few
//! sequences, the objective's standard pipelines and the `clang -O3` build are timed
//! again together, round-robin (A/B/C/A/B/C...: machine noise hits all alike), and the
//! result is the contender with the best median. A standard pipeline that wins the
//! re-timing is the result: colt never returns something slower than the standard
//! pipeline it measured beside it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::baseline;
use crate::env::{LlvmEnv, Objective};
use crate::program::RunStats;

/// Search results re-timed after the search, at most.
pub const SEARCH_CONTENDERS: usize = 3;

/// One sequence in the final timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contender {
    /// The pass sequence.
    pub passes: Vec<String>,
    /// `search #1` (its rank in the search), or the standard pipeline's name.
    pub origin: String,
    /// The search's own figure for it (`None` for one the search did not measure).
    pub search_value: Option<f64>,
    /// Its median in the final timing (`None`: it failed to build or run).
    pub value: Option<f64>,
}

/// The final timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalChoice {
    /// Round-robin rounds.
    pub rounds: usize,
    /// What was timed.
    pub contenders: Vec<Contender>,
    /// The index of the contender with the best median.
    pub chosen: Option<usize>,
    /// The reference build (`clang -O3`) in the same timing.
    pub reference: Option<f64>,
    /// Chosen median / reference median.
    pub ratio: Option<f64>,
}

impl FinalChoice {
    /// The chosen contender.
    pub fn chosen(&self) -> Option<&Contender> {
        self.chosen.map(|i| &self.contenders[i])
    }
}

/// The best `k` distinct correct sequences of a search history, best first (by the
/// search's figure).
pub use colt_search::best_of;

/// Time `search` (sequences with the search's figure) and the objective's standard
/// pipelines together with `reference` (an executable, e.g. `clang -O3`'s), `rounds`
/// rounds round-robin, and choose the best median (see the module doc).
pub fn final_choice(
    env: &mut LlvmEnv,
    search: &[(Vec<String>, f64)],
    reference: Option<&Path>,
    rounds: usize,
) -> FinalChoice {
    let mut contenders: Vec<Contender> = search
        .iter()
        .enumerate()
        .map(|(i, (p, v))| Contender {
            passes: p.clone(),
            origin: format!("search #{}", i + 1),
            search_value: Some(*v),
            value: None,
        })
        .collect();
    for s in env.standard_states() {
        match contenders.iter_mut().find(|c| c.passes == s) {
            Some(c) => c.origin = format!("{} ({})", c.origin, s.join(",")),
            None => contenders.push(Contender {
                origin: s.join(","),
                passes: s,
                search_value: None,
                value: None,
            }),
        }
    }
    let mut exes: Vec<PathBuf> = Vec::new();
    let mut slot: Vec<Option<usize>> = Vec::new();
    for c in &contenders {
        slot.push(env.executable(&c.passes).ok().map(|e| {
            exes.push(e);
            exes.len() - 1
        }));
    }
    let ref_slot = reference.map(|r| {
        exes.push(r.to_path_buf());
        exes.len() - 1
    });
    let objective = env.objective();
    let pick = |r: RunStats| match objective {
        Objective::Memory => r.max_rss_kib,
        Objective::Runtime | Objective::Size => r.cpu_us,
    };
    let times = baseline::time_all(&exes, env.prepared(), rounds);
    for (c, s) in contenders.iter_mut().zip(&slot) {
        c.value = s.and_then(|i| times[i]).map(pick);
    }
    let chosen = contenders
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.value.map(|v| (i, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(i, _)| i);
    let reference = ref_slot.and_then(|i| times[i]).map(pick);
    let ratio = chosen
        .and_then(|i| contenders[i].value)
        .zip(reference)
        .filter(|(_, r)| *r > 0.0)
        .map(|(v, r)| v / r);
    FinalChoice {
        rounds,
        contenders,
        chosen,
        reference,
        ratio,
    }
}
