//! colt-cost: program features and the learned cost model.
//!
//! (Being written.) The search uses only the [`CostModel`] trait below.

/// A learned ranking of candidate programs from their feature vectors.
///
/// Labels are normalised throughput in (0, 1]: `best_latency / latency` over the records seen
/// so far (1 = the fastest measured). Predictions are on the same scale: higher is faster.
pub trait CostModel: Send {
    /// Short name for reports, e.g. `gbdt`.
    fn name(&self) -> &str;
    /// (Re)train on every record so far. `x[i]` are features, `y[i]` labels.
    fn fit(&mut self, x: &[Vec<f32>], y: &[f32]);
    /// Predicted normalised throughput of each row; a constant before the first fit.
    fn predict(&self, x: &[Vec<f32>]) -> Vec<f32>;
    /// True once `fit` has seen enough records to be better than a constant.
    fn is_trained(&self) -> bool;
}
