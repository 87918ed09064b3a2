//! The decision rules of the tree, as small pure functions: MA-UCT, the unvisited-first
//! rule, progressive widening, the largest model's share floor and the per-model
//! regression streaks that trigger course alteration.
//!
//! Kept apart from the tree so each rule is unit-tested on its own and so the rules that
//! the reference implementation only wrote into its prompt (the share floor) or counted
//! wrongly (one global regression streak) are code with tests here.

use std::collections::BTreeMap;

/// What the tree policy needs to know about one child.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildView {
    /// Times the child was visited.
    pub visits: u32,
    /// Sum of the rewards backpropagated through the child (each in [0, 1]).
    pub value_sum: f64,
    /// φ_small of the model assigned to the child (0 when there are no models).
    pub phi: f64,
}

/// The constants of MA-UCT.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uct {
    /// Weight λ of φ_small.
    pub lambda: f64,
    /// Exploration constant c.
    pub c: f64,
}

/// MA-UCT of a visited child:
/// `(1 - λ)·Q/N + λ·φ + c·sqrt(ln N_parent / N_child)`; pass `phi = None` to switch the
/// φ term off (then the exploitation term keeps its full weight `Q/N`).
pub fn ma_uct(u: Uct, value_sum: f64, visits: u32, parent_visits: u32, phi: Option<f64>) -> f64 {
    let n = visits.max(1) as f64;
    let q = value_sum / n;
    let explore = u.c * ((parent_visits.max(1) as f64).ln() / n).sqrt();
    match phi {
        Some(p) => (1.0 - u.lambda) * q + u.lambda * p + explore,
        None => q + explore,
    }
}

/// Whether all siblings carry the same φ (then the φ term says nothing and is off).
pub fn siblings_share_phi(children: &[ChildView]) -> bool {
    children
        .windows(2)
        .all(|w| (w[0].phi - w[1].phi).abs() < 1e-12)
}

/// The child to descend into: an unvisited child first (the smallest model, i.e. the
/// largest φ, first; then the oldest), else the best MA-UCT score (the oldest on a tie).
pub fn select_child(u: Uct, children: &[ChildView], parent_visits: u32) -> Option<usize> {
    if children.is_empty() {
        return None;
    }
    let mut unvisited: Option<usize> = None;
    for (i, ch) in children.iter().enumerate() {
        if ch.visits == 0 && unvisited.is_none_or(|j| ch.phi > children[j].phi) {
            unvisited = Some(i);
        }
    }
    if unvisited.is_some() {
        return unvisited;
    }
    let phi_on = !siblings_share_phi(children);
    let mut best = 0;
    let mut best_score = f64::NEG_INFINITY;
    for (i, ch) in children.iter().enumerate() {
        let s = ma_uct(
            u,
            ch.value_sum,
            ch.visits,
            parent_visits,
            phi_on.then_some(ch.phi),
        );
        if s > best_score {
            best = i;
            best_score = s;
        }
    }
    Some(best)
}

/// Progressive widening: how many children a node with `visits` visits may have.
pub fn widen_limit(visits: u32, c: f64, alpha: f64) -> usize {
    ((c * (visits as f64).powf(alpha)).floor() as usize).max(1)
}

/// Whether the next call must go to the largest model so that its share of calls stays
/// at least `floor`: true when `largest_calls < floor · (total_calls + 1)`.
pub fn floor_forces_largest(largest_calls: u64, total_calls: u64, floor: f64) -> bool {
    floor > 0.0 && (largest_calls as f64) < floor * (total_calls as f64 + 1.0) - 1e-9
}

/// Whether a call to the largest model would lift its share of calls above `cap`:
/// true when `largest_calls + 1 > cap · (total_calls + 1)`. A cap of 1 never binds.
pub fn cap_forbids_largest(largest_calls: u64, total_calls: u64, cap: f64) -> bool {
    cap < 1.0 && (largest_calls as f64 + 1.0) > cap * (total_calls as f64 + 1.0) + 1e-9
}

/// Consecutive regressions per small model; fires on the K-th one in a row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegressionStreaks {
    k: u32,
    streaks: BTreeMap<String, u32>,
}

impl RegressionStreaks {
    /// `k = 0` never fires.
    pub fn new(k: u32) -> RegressionStreaks {
        RegressionStreaks {
            k,
            streaks: BTreeMap::new(),
        }
    }

    /// Record one proposal of `model`; true when it is the K-th consecutive regression
    /// of that model (its streak then starts again from 0). A non-regression resets only
    /// that model's streak.
    pub fn record(&mut self, model: &str, regressed: bool) -> bool {
        let s = self.streaks.entry(model.to_string()).or_default();
        if !regressed {
            *s = 0;
            return false;
        }
        *s += 1;
        if self.k > 0 && *s >= self.k {
            *s = 0;
            return true;
        }
        false
    }

    /// The current streak of `model`.
    pub fn streak(&self, model: &str) -> u32 {
        self.streaks.get(model).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_llm::Bucket;

    const U: Uct = Uct {
        lambda: 0.5,
        c: std::f64::consts::SQRT_2,
    };

    fn kid(visits: u32, value_sum: f64, phi: f64) -> ChildView {
        ChildView {
            visits,
            value_sum,
            phi,
        }
    }

    fn bucket() -> Bucket {
        let models = [
            ("small", "1B", "0.0", "0.0"),
            ("mid", "10B", "0.0", "0.0"),
            ("big", "100B", "1.0", "2.0"),
        ];
        let toml: String = models
            .iter()
            .map(|(name, params, input, output)| {
                format!(
                    "[[models]]\nname = \"{name}\"\nprovider = \"openai\"\n\
                     endpoint = \"http://127.0.0.1:1\"\nmodel = \"{name}\"\nparams = \"{params}\"\n\
                     prices = {{ input = {input}, output = {output} }}\n"
                )
            })
            .collect();
        Bucket::from_toml_str(&toml).unwrap()
    }

    #[test]
    fn phi_small_is_log_scaled_between_largest_and_smallest() {
        let b = bucket();
        assert_eq!(b.phi_small("big"), 0.0);
        assert_eq!(b.phi_small("small"), 1.0);
        assert!((b.phi_small("mid") - 0.5).abs() < 1e-12);
        assert_eq!(b.largest(), "big");
    }

    #[test]
    fn ma_uct_matches_the_formula() {
        let s = ma_uct(U, 3.0, 4, 16, Some(0.5));
        let want = 0.5 * 0.75 + 0.5 * 0.5 + std::f64::consts::SQRT_2 * (16f64.ln() / 4.0).sqrt();
        assert!((s - want).abs() < 1e-12);
        let s = ma_uct(U, 3.0, 4, 16, None);
        assert!((s - (0.75 + std::f64::consts::SQRT_2 * (16f64.ln() / 4.0).sqrt())).abs() < 1e-12);
    }

    #[test]
    fn phi_term_prefers_the_smaller_model_when_values_tie() {
        let kids = [kid(4, 2.0, 0.0), kid(4, 2.0, 1.0)];
        assert_eq!(select_child(U, &kids, 8), Some(1));
    }

    #[test]
    fn phi_term_is_off_among_siblings_with_the_same_phi() {
        // With equal φ = 1 the φ term would add the same constant to each child; off, the
        // choice is by Q/N alone: the better child wins at full exploitation weight.
        let kids = [kid(4, 1.0, 1.0), kid(4, 3.0, 1.0)];
        assert!(siblings_share_phi(&kids));
        assert_eq!(select_child(U, &kids, 8), Some(1));
        // The same values with different φ: the smaller model's φ bonus outweighs the gap.
        let kids = [kid(4, 1.0, 1.0), kid(4, 3.0, 0.0)];
        assert!(!siblings_share_phi(&kids));
        assert_eq!(select_child(U, &kids, 8), Some(0));
    }

    #[test]
    fn unvisited_children_first_smallest_model_first() {
        let kids = [
            kid(3, 3.0, 1.0),
            kid(0, 0.0, 0.0),
            kid(0, 0.0, 0.5),
            kid(0, 0.0, 0.5),
        ];
        assert_eq!(select_child(U, &kids, 3), Some(2));
        assert_eq!(select_child(U, &[], 3), None);
    }

    #[test]
    fn widening_grows_with_the_square_root_of_visits() {
        let got: Vec<usize> = [0, 1, 2, 3, 4, 8, 9, 16, 100]
            .iter()
            .map(|&n| widen_limit(n, 1.0, 0.5))
            .collect();
        assert_eq!(got, vec![1, 1, 1, 1, 2, 2, 3, 4, 10]);
        assert_eq!(widen_limit(100, 2.0, 0.5), 20);
    }

    #[test]
    fn share_cap_keeps_the_largest_below_it() {
        assert!(
            cap_forbids_largest(0, 0, 0.35),
            "a first call alone is a share of 1"
        );
        assert!(!cap_forbids_largest(0, 2, 0.35), "1 of 3");
        assert!(cap_forbids_largest(1, 3, 0.35), "2 of 4");
        assert!(!cap_forbids_largest(6, 19, 0.35), "7 of 20");
        assert!(!cap_forbids_largest(9, 9, 1.0), "a cap of 1 never binds");
    }

    #[test]
    fn share_floor_keeps_the_largest_at_its_share() {
        assert!(floor_forces_largest(0, 0, 0.2));
        assert!(!floor_forces_largest(1, 1, 0.2));
        assert!(!floor_forces_largest(1, 4, 0.2));
        assert!(floor_forces_largest(1, 5, 0.2));
        assert!(!floor_forces_largest(0, 10, 0.0));
        // Simulate a policy that always wants the small model: the floor holds the
        // largest at >= 20% after every call.
        let (mut big, mut total) = (0u64, 0u64);
        for _ in 0..100 {
            if floor_forces_largest(big, total, 0.2) {
                big += 1;
            }
            total += 1;
            assert!(big as f64 >= 0.2 * total as f64 - 1e-9, "{big}/{total}");
        }
        assert_eq!(big, 20);
    }

    #[test]
    fn course_alteration_fires_exactly_on_the_kth_consecutive_regression() {
        let mut s = RegressionStreaks::new(2);
        assert!(!s.record("small", true));
        assert!(s.record("small", true));
        assert_eq!(s.streak("small"), 0);
        assert!(!s.record("small", true));
        assert!(!s.record("small", false));
        assert!(!s.record("small", true));
        assert!(s.record("small", true));
        // Streaks are per model: another model's regressions neither add to nor reset it.
        assert!(!s.record("small", true));
        assert!(!s.record("mid", true));
        assert!(!s.record("mid", false));
        assert!(s.record("small", true));
        let mut k3 = RegressionStreaks::new(3);
        assert_eq!(
            (0..3).map(|_| k3.record("m", true)).collect::<Vec<_>>(),
            vec![false, false, true]
        );
        let mut off = RegressionStreaks::new(0);
        assert!((0..10).all(|_| !off.record("m", true)));
    }
}
