//! Typed errors of the cost model. `CostModel::fit` itself cannot fail (the search must keep
//! going), so [`crate::Gbdt`] records the error of a rejected fit and stays untrained; callers
//! that want the reason use `Gbdt::try_fit` or `Gbdt::last_error`.

use thiserror::Error;

/// Why a fit was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CostError {
    /// The numbers of feature rows and labels differ.
    #[error("cost model: {rows} feature rows but {labels} labels")]
    LengthMismatch {
        /// Feature rows given.
        rows: usize,
        /// Labels given.
        labels: usize,
    },
    /// A feature row is not as wide as the first one.
    #[error("cost model: feature row {row} has {got} values, expected {want}")]
    RowWidth {
        /// Index of the row.
        row: usize,
        /// Its width.
        got: usize,
        /// The width of the first row.
        want: usize,
    },
    /// A label is NaN or infinite.
    #[error("cost model: label {row} is {value}, not a finite number")]
    BadLabel {
        /// Index of the label.
        row: usize,
        /// The label.
        value: f32,
    },
    /// hessboost rejected the data or the parameters.
    #[error("cost model: the GBDT library refused: {0}")]
    Library(String),
}
