//! colt-cost: program features and the learned cost model.
//!
//! - [`features`]: a fixed-length feature vector of a lowered, scheduled `colt_ir::Func`
//!   (loop kinds and extents, vector width and contiguity, tile sizes, bytes touched per loop
//!   level, arithmetic intensity, reuse, local allocations), with a name for every entry.
//! - [`Gbdt`]: gradient-boosted trees (hessboost) behind the [`CostModel`] trait, trained on
//!   normalised throughput ([`labels_from_latencies`]).
//! - [`metrics`]: ranking quality (Kendall τ, top-k recall) and a held-out evaluation.
//!
//! The search uses only the [`CostModel`] trait below.

pub mod error;
pub mod features;
pub mod gbdt;
pub mod labels;
pub mod metrics;

pub use error::CostError;
pub use gbdt::{Gbdt, GbdtParams};
pub use labels::labels_from_latencies;
pub use metrics::{Quality, holdout_quality, kendall_tau, top_k_recall};

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
