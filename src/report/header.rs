//! What every format of a run over several subjects needs before the first subject: the
//! summary, the columns, the rows of subjects that are not ready, a fleet's overview lines.

use chrono::{DateTime, Utc};

use super::summary::{Columns, RunSummary, SubjectRow};
use crate::model::Diagnosis;

/// One line of a fleet's device overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewRow {
    pub device: String,
    pub verdict: &'static str,
    pub causes: String,
    pub root_cause: String,
}

/// What every format needs before the first subject.
pub struct RunHeader<'a> {
    pub as_of: DateTime<Utc>,
    pub summary: &'a RunSummary,
    pub columns: &'a Columns,
    /// The tenant's row, then the rows of the subjects the run is about that are not ready
    /// (or incomplete), in evaluation order.
    pub rows: &'a [SubjectRow],
    /// Fleets: the diagnoses, in input order.
    pub diagnoses: &'a [Diagnosis],
    /// Fleets in a table: one overview line per device.
    pub overview: &'a [OverviewRow],
    pub notes: &'a [String],
}
