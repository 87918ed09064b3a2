//! Small statistics helpers over repeat timings.

/// Median of the values (mean of the two middle ones for an even count); `None` when empty.
/// NaNs sort last.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Minimum of the values; `None` when empty.
pub fn min(xs: &[f64]) -> Option<f64> {
    xs.iter().copied().min_by(|a, b| a.total_cmp(b))
}

/// Arithmetic mean; `None` when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        None
    } else {
        Some(xs.iter().sum::<f64>() / xs.len() as f64)
    }
}

/// GFLOP/s for `flops` floating point operations taking `micros` microseconds.
/// `None` when the time is not positive or the flop count is not positive.
pub fn gflops(flops: f64, micros: f64) -> Option<f64> {
    if micros > 0.0 && flops > 0.0 && micros.is_finite() {
        Some(flops / (micros * 1e3))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(min(&[4.0, 1.0, 2.0]), Some(1.0));
        assert_eq!(mean(&[1.0, 3.0]), Some(2.0));
        // 2e9 flops in 1e6 us (1 s) = 2 GFLOP/s
        assert_eq!(gflops(2e9, 1e6), Some(2.0));
        assert_eq!(gflops(1.0, 0.0), None);
    }
}
