//! Backoff between attempts: exponential with "equal jitter" (half fixed, half drawn from
//! the model's seeded generator), never shorter than the server's `Retry-After` (itself
//! capped so that one answer cannot stall the search).

use rand::RngExt;
use rand_pcg::Pcg64;

use crate::config::RetryPolicy;

/// Milliseconds to wait after failed attempt number `attempt` (1-based).
pub fn backoff_ms(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after_ms: Option<u64>,
    rng: &mut Pcg64,
) -> u64 {
    let exp = policy
        .base_backoff_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(policy.max_backoff_ms);
    let half = exp / 2;
    let jittered = half
        + if exp - half > 0 {
            rng.random_range(0..=exp - half)
        } else {
            0
        };
    match retry_after_ms {
        Some(ra) => jittered.max(ra.min(policy.max_retry_after_ms)),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_backoff_ms: 100,
            max_backoff_ms: 1000,
            max_retry_after_ms: 5000,
        };
        let mut rng = Pcg64::seed_from_u64(1);
        for a in 1..10 {
            let d = backoff_ms(&p, a, None, &mut rng);
            let exp = (100u64 << (a - 1)).min(1000);
            assert!(d >= exp / 2 && d <= exp, "attempt {a}: {d}");
        }
        assert_eq!(backoff_ms(&p, 1, Some(3000), &mut rng), 3000);
        assert_eq!(backoff_ms(&p, 1, Some(60_000), &mut rng), 5000);
    }

    #[test]
    fn seeded_jitter_is_reproducible() {
        let p = RetryPolicy::default();
        let a: Vec<u64> = {
            let mut r = Pcg64::seed_from_u64(7);
            (1..6).map(|i| backoff_ms(&p, i, None, &mut r)).collect()
        };
        let b: Vec<u64> = {
            let mut r = Pcg64::seed_from_u64(7);
            (1..6).map(|i| backoff_ms(&p, i, None, &mut r)).collect()
        };
        assert_eq!(a, b);
    }
}
