//! Device checks DEV001–DEV011 and the per-device diagnosis.
//!
//! Order of evaluation: the enrollment path is derived first ([`path::derive_path`]), then the
//! enrolled state ([`enrolled::enrolled_state`]), then every rule runs against both
//! ([`rules::evaluate`]); [`diagnosis::diagnose`] turns the findings into a verdict and cause
//! chain. Everything here is pure: the evaluation date is an argument.

pub mod diagnosis;
pub mod enrolled;
pub mod facts;
pub mod path;
pub mod rules;

use chrono::{DateTime, Utc};

use crate::device::report::DeviceReport;
use crate::model::{Diagnosis, EnrollmentPath, Finding, Subject};

pub use diagnosis::diagnose;
pub use enrolled::{EnrolledState, EnrollmentKey, KeyClass, classify_enrollment_keys};
pub use path::{PathDecision, derive_path};

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

    pub fn finding(&self, check: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.check == check)
    }
}

/// Derives the path and enrolled state and runs every device check.
pub fn analyse(report: &DeviceReport, as_of: DateTime<Utc>) -> DeviceAnalysis {
    analyse_with_user(report, as_of, None)
}

/// Like [`analyse`], with the enrolling user to assume when the files name none (`--user`).
pub fn analyse_with_user(
    report: &DeviceReport,
    as_of: DateTime<Utc>,
    user_hint: Option<&str>,
) -> DeviceAnalysis {
    let facts = facts::Facts::new(report, as_of, user_hint);
    let findings = rules::evaluate(&facts);
    DeviceAnalysis {
        device: facts.device.clone(),
        subject: facts.subject.clone(),
        device_id: facts.device_id.clone(),
        tenant_id: facts.tenant_id.clone(),
        user: facts.user.clone(),
        path: facts.path.clone(),
        enrolled: facts.enrolled.clone(),
        failure_code: rules::last_failure_code(&facts),
        last_outcome: rules::last_outcome(&facts),
        already_enrolled_event: !facts.already_enrolled_7016().is_empty(),
        findings,
    }
}

/// Device-only evaluation: the analysis plus its diagnosis with no tenant findings.
pub fn evaluate(report: &DeviceReport, as_of: DateTime<Utc>) -> (DeviceAnalysis, Diagnosis) {
    let analysis = analyse(report, as_of);
    let diagnosis = diagnose(&analysis, &[]);
    (analysis, diagnosis)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
