//! Ranking quality of a cost model. The search only uses the model to order candidates, so
//! what matters is rank agreement with measurements (Kendall τ) and whether the truly fast
//! programs are among the predicted best (top-k recall), measured on held-out records.

use crate::CostModel;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Kendall's τ-b between predictions and truth (ties handled; 1 = same order, -1 = reversed).
/// NaN when the lengths differ; 0 when fewer than two elements or either side is constant.
pub fn kendall_tau(pred: &[f32], truth: &[f32]) -> f64 {
    if pred.len() != truth.len() {
        return f64::NAN;
    }
    let n = pred.len();
    let (mut concordant, mut discordant, mut tie_p, mut tie_t) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..n {
        for j in i + 1..n {
            let dp = pred[i].partial_cmp(&pred[j]);
            let dt = truth[i].partial_cmp(&truth[j]);
            use std::cmp::Ordering::Equal;
            match (dp, dt) {
                (Some(Equal), Some(Equal)) => {}
                (Some(Equal), _) => tie_p += 1,
                (_, Some(Equal)) => tie_t += 1,
                (Some(a), Some(b)) if a == b => concordant += 1,
                (Some(_), Some(_)) => discordant += 1,
                _ => {} // NaN on either side: the pair is not comparable
            }
        }
    }
    let c = concordant as f64;
    let d = discordant as f64;
    let denom = ((c + d + tie_p as f64) * (c + d + tie_t as f64)).sqrt();
    if denom > 0.0 { (c - d) / denom } else { 0.0 }
}

/// Indices of the `k` largest values, ties broken by position (earlier first); NaN lowest.
fn top_k(v: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    let key = |i: usize| {
        if v[i].is_nan() {
            f32::NEG_INFINITY
        } else {
            v[i]
        }
    };
    idx.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// Fraction of the true top-`k` (by `truth`) that are among the predicted top-`k`.
/// `k` is capped at the length; NaN when the lengths differ or `k` is 0 after capping.
pub fn top_k_recall(pred: &[f32], truth: &[f32], k: usize) -> f64 {
    if pred.len() != truth.len() {
        return f64::NAN;
    }
    let k = k.min(pred.len());
    if k == 0 {
        return f64::NAN;
    }
    let p = top_k(pred, k);
    let t = top_k(truth, k);
    t.iter().filter(|i| p.contains(i)).count() as f64 / k as f64
}

/// Held-out ranking quality of a cost model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Records the model was fitted on.
    pub n_train: usize,
    /// Records held out for testing.
    pub n_test: usize,
    /// Kendall τ-b of predictions vs labels on the test split.
    pub kendall_tau: f64,
    /// The `k` of the top-`k` recall.
    pub k: usize,
    /// Top-`k` recall on the test split.
    pub top_k_recall: f64,
    /// Whether the model considered itself trained after the fit.
    pub trained: bool,
    /// Wall time of the fit in milliseconds (informational, not deterministic).
    pub fit_ms: f64,
}

/// Fraction of the records held out for testing.
pub const TEST_FRACTION: f64 = 0.3;

/// Shuffle the records with `seed`, fit `model` on 70% and report τ and top-k recall
/// (k = max(1, 10% of the test split)) on the remaining 30%. Rows beyond the shorter of
/// `x` and `y` are ignored. With fewer than 4 records the metrics are NaN.
pub fn holdout_quality<M: CostModel + ?Sized>(
    model: &mut M,
    x: &[Vec<f32>],
    y: &[f32],
    seed: u64,
) -> Quality {
    let n = x.len().min(y.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut Pcg64::seed_from_u64(seed));
    let n_test = if n < 4 {
        0
    } else {
        ((n as f64 * TEST_FRACTION).round() as usize).clamp(2, n - 2)
    };
    let (test, train) = idx.split_at(n_test);
    let tx: Vec<Vec<f32>> = train.iter().map(|&i| x[i].clone()).collect();
    let ty: Vec<f32> = train.iter().map(|&i| y[i]).collect();
    let start = Instant::now();
    model.fit(&tx, &ty);
    let fit_ms = start.elapsed().as_secs_f64() * 1e3;
    let k = (n_test / 10).max(1);
    let (tau, recall) = if n_test == 0 {
        (f64::NAN, f64::NAN)
    } else {
        let vx: Vec<Vec<f32>> = test.iter().map(|&i| x[i].clone()).collect();
        let vy: Vec<f32> = test.iter().map(|&i| y[i]).collect();
        let p = model.predict(&vx);
        (kendall_tau(&p, &vy), top_k_recall(&p, &vy, k))
    };
    Quality {
        n_train: train.len(),
        n_test,
        kendall_tau: tau,
        k,
        top_k_recall: recall,
        trained: model.is_trained(),
        fit_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_known_values() {
        assert_eq!(
            kendall_tau(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]),
            1.0
        );
        assert_eq!(
            kendall_tau(&[4.0, 3.0, 2.0, 1.0], &[10.0, 20.0, 30.0, 40.0]),
            -1.0
        );
        // one swapped adjacent pair out of 6: (5 - 1) / 6
        let t = kendall_tau(&[1.0, 3.0, 2.0, 4.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!((t - 4.0 / 6.0).abs() < 1e-12, "{t}");
        // tau-b with a tie in pred: pairs 6, C = 5, D = 0, ties_p = 1 -> 5 / sqrt(5 * 6)
        let t = kendall_tau(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!((t - 5.0 / 30f64.sqrt()).abs() < 1e-12, "{t}");
        assert_eq!(kendall_tau(&[1.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]), 0.0);
        assert_eq!(kendall_tau(&[], &[]), 0.0);
        assert!(kendall_tau(&[1.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn recall_known_values() {
        let truth = [0.1, 0.9, 0.5, 0.8, 0.2];
        // truth top-2 = {1, 3}; pred top-2 = {1, 2}
        assert_eq!(top_k_recall(&[0.0, 1.0, 0.9, 0.3, 0.1], &truth, 2), 0.5);
        assert_eq!(top_k_recall(&truth, &truth, 3), 1.0);
        assert_eq!(top_k_recall(&[0.9, 0.0, 0.0, 0.0, 0.8], &truth, 2), 0.0);
        assert_eq!(top_k_recall(&truth, &truth, 99), 1.0);
        assert!(top_k_recall(&truth, &truth, 0).is_nan());
        assert!(top_k_recall(&[1.0], &truth, 1).is_nan());
    }

    /// A model that predicts one feature as is: holdout must see the order it implies.
    struct Identity;
    impl CostModel for Identity {
        fn name(&self) -> &str {
            "identity"
        }
        fn fit(&mut self, _x: &[Vec<f32>], _y: &[f32]) {}
        fn predict(&self, x: &[Vec<f32>]) -> Vec<f32> {
            x.iter().map(|r| r[0]).collect()
        }
        fn is_trained(&self) -> bool {
            true
        }
    }

    #[test]
    fn holdout_splits_and_scores() {
        let x: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32]).collect();
        let y: Vec<f32> = (0..40).map(|i| (i + 1) as f32 / 40.0).collect();
        let q = holdout_quality(&mut Identity, &x, &y, 7);
        assert_eq!((q.n_train, q.n_test, q.k), (28, 12, 1));
        assert_eq!(q.kendall_tau, 1.0);
        assert_eq!(q.top_k_recall, 1.0);
        let rev: Vec<f32> = y.iter().rev().copied().collect();
        let q = holdout_quality(&mut Identity, &x, &rev, 7);
        assert_eq!(q.kendall_tau, -1.0);
        assert_eq!(q.top_k_recall, 0.0);
        let q = holdout_quality(&mut Identity, &x[..3], &y[..3], 7);
        assert_eq!(q.n_test, 0);
        assert!(q.kendall_tau.is_nan());
    }
}
