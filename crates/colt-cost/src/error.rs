//! Typed errors of the cost model. `CostModel::fit` itself cannot fail (the search must keep
//! going), so [`crate::Gbdt`] records the error of a rejected fit and stays untrained; callers
//! that want the reason use `Gbdt::try_fit` or `Gbdt::last_error`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CostError {
    #[error("cost model: {rows} feature rows but {labels} labels")]
    LengthMismatch { rows: usize, labels: usize },
    #[error("cost model: feature row {row} has {got} values, expected {want}")]
    RowWidth { row: usize, got: usize, want: usize },
    #[error("cost model: label {row} is {value}, not a finite number")]
    BadLabel { row: usize, value: f32 },
    #[error("cost model: the GBDT library refused: {0}")]
    Library(String),
}
