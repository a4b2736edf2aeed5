//! What the device side concluded about one report: the result of the device checks that the
//! diagnosis and the tenant correlation read.

use crate::model::{CheckMeta, EnrollmentPath, Finding, Subject};

use super::enrolled::EnrolledState;
use super::path::PathDecision;

/// Everything the device side concluded about one report, before tenant correlation.
#[derive(Debug, Clone)]
pub struct DeviceAnalysis {
    /// Label used in diagnoses (host name, else the report's name).
    pub device: String,
    pub subject: Subject,
    /// Entra DeviceId from dsregcmd, the join key for tenant correlation.
    pub device_id: Option<String>,
    /// Entra tenant id from dsregcmd (or the live enrollment), for correlation.
    pub tenant_id: Option<String>,
    /// The user the device's files name (dsregcmd account, event 91, enrollment key).
    pub user: Option<String>,
    pub path: PathDecision,
    pub enrolled: EnrolledState,
    /// One finding per check DEV001–DEV011, in ID order.
    pub findings: Vec<Finding>,
    /// Decoded HRESULT of the last event 76 not followed by a 75.
    pub failure_code: Option<u32>,
    /// Last auto-enrollment event: `Some(true)` 75, `Some(false)` 76.
    pub last_outcome: Option<bool>,
    /// Task Scheduler 7016 with 0x8018000A was seen.
    pub already_enrolled_event: bool,
}

impl DeviceAnalysis {
    pub fn path(&self) -> EnrollmentPath {
        self.path.path
    }

    /// The finding of one device check, named by its metadata (`analysis.get(&DEV007)`).
    pub fn get(&self, check: &CheckMeta) -> Option<&Finding> {
        self.findings.iter().find(|f| f.is(check))
    }
}
