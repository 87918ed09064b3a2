//! Labels for the cost model: normalised throughput `best / latency`.
//!
//! Normalising by the best latency seen makes labels comparable across workloads and keeps
//! them in (0, 1], the fastest program scoring 1.

/// `best / lat` per latency, `best` the smallest valid latency. A latency that is not a
/// positive finite number (a failed build or run) gets label 0; if none is valid, all are 0.
pub fn labels_from_latencies(lat_us: &[f64]) -> Vec<f32> {
    let valid = |x: f64| x.is_finite() && x > 0.0;
    let best = lat_us
        .iter()
        .copied()
        .filter(|&x| valid(x))
        .fold(f64::INFINITY, f64::min);
    lat_us
        .iter()
        .map(|&x| {
            if valid(x) && best.is_finite() {
                (best / x) as f32
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastest_is_one_and_failures_zero() {
        let y = labels_from_latencies(&[200.0, 100.0, f64::NAN, 400.0, -1.0, f64::INFINITY]);
        assert_eq!(y, vec![0.5, 1.0, 0.0, 0.25, 0.0, 0.0]);
        assert!(labels_from_latencies(&[]).is_empty());
        assert_eq!(labels_from_latencies(&[f64::NAN, 0.0]), vec![0.0, 0.0]);
    }
}
