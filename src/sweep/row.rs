//! One run's row of a collected sweep: where it stands, its curve
//! summary, its calibration and what each selection criterion picks in
//! it.

use crate::analysis::calibration::CalibrationSummary;
use crate::analysis::select::Selection;
use crate::analysis::CurveSummary;
use crate::record::schema::RunStatus;

/// One run's row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Run id.
    pub id: String,
    /// Where the run stands.
    pub status: RowStatus,
    /// Its dataset label and training-set size, e.g. `mnist 5000`.
    pub train_set: String,
    /// Width of the hidden layers.
    pub width: usize,
    /// Epochs recorded.
    pub epochs: usize,
    /// The analysis, when the run has curves.
    pub summary: Option<CurveSummary>,
    /// The validation set's calibration at the minimum validation loss
    /// and at the end (runs recorded since issue 20).
    pub calibration: Option<CalibrationSummary>,
    /// Chosen by the spec's grid search (`select_best`); every run with
    /// data is selected when there is none.
    pub selected: bool,
    /// The epoch each selection criterion picks, and the test accuracy
    /// there.
    pub selection: Selection,
}

/// Where a run of the sweep stands.
#[derive(Clone, Debug, PartialEq)]
pub enum RowStatus {
    /// Its file says so.
    Run(RunStatus),
    /// No run file yet.
    Missing,
    /// The file cannot be read (why).
    Unreadable(String),
}

impl std::fmt::Display for RowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowStatus::Run(s) => s.fmt(f),
            RowStatus::Missing => f.write_str("missing"),
            RowStatus::Unreadable(e) => write!(f, "unreadable: {e}"),
        }
    }
}
