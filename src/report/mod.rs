//! Renderers: they format findings and diagnoses, they never decide a verdict.

pub mod colour;
pub mod csv;
pub mod diff;
pub mod explain;
pub mod gate;
pub mod header;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod markdown;
pub mod render;
pub mod run;
pub mod sarif;
pub mod summary;
pub mod table;
pub mod table_run;
pub mod tenants;
pub mod view;
pub mod width;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Diagnosis, Finding, Status};

/// Schema tag of the JSON report.
pub const REPORT_SCHEMA: &str = "enroll-doctor/report@1";

/// Everything one run produced, in the order it is rendered.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// The evaluation date the checks used (`--as-of` or now).
    pub as_of: DateTime<Utc>,
    /// Per-device diagnoses (empty for tenant-only runs); the table output leads with them.
    pub diagnoses: Vec<Diagnosis>,
    pub findings: Vec<Finding>,
    /// Free-form notes for the reader (e.g. "no tenant configured: device-only analysis").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
    /// Skips of checks that could not run (a missing permission, an app-only token, missing
    /// evidence; not the not-applicable ones): what `--fail-on skip` counts. Not serialised
    /// (the report schema's summary has the five status counts).
    #[serde(skip)]
    pub unchecked: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            s.count(f);
        }
        s
    }

    /// Counts one finding.
    pub fn count(&mut self, f: &Finding) {
        match f.status {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Fail => self.fail += 1,
            Status::Skip => self.skip += 1,
            Status::Error => self.error += 1,
        }
        if f.status == Status::Skip && gate::could_not_run(f) {
            self.unchecked += 1;
        }
    }
}

impl Report {
    pub fn new(as_of: DateTime<Utc>, diagnoses: Vec<Diagnosis>, findings: Vec<Finding>) -> Report {
        let summary = Summary::of(&findings);
        Report {
            schema: REPORT_SCHEMA,
            as_of,
            diagnoses,
            findings,
            notes: Vec::new(),
            summary,
        }
    }
}

impl From<crate::diagnose::Diagnosed> for Report {
    fn from(d: crate::diagnose::Diagnosed) -> Report {
        let mut report = Report::new(d.as_of, d.diagnoses, d.findings);
        report.notes = d.notes;
        report
    }
}

/// Threshold for exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailThreshold {
    Fail,
    Warn,
    /// Warn or fail, or a check that could not run (`Summary::unchecked`; errors exit 2).
    Skip,
    Never,
}

/// 2 when any finding is `error` (results incomplete); 1 when a finding is at or above the
/// threshold; else 0.
pub fn exit_code(findings: &[Finding], threshold: FailThreshold) -> u8 {
    exit_code_of(&Summary::of(findings), threshold)
}

/// [`exit_code`] from the counts (a streamed run keeps only those).
pub fn exit_code_of(s: &Summary, threshold: FailThreshold) -> u8 {
    if s.error > 0 {
        return 2;
    }
    let hit = match threshold {
        FailThreshold::Fail => s.fail > 0,
        FailThreshold::Warn => s.fail + s.warn > 0,
        FailThreshold::Skip => s.fail + s.warn + s.unchecked > 0,
        FailThreshold::Never => false,
    };
    u8::from(hit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::DEV001;
    use crate::model::Subject;

    fn f(status: Status) -> Finding {
        DEV001.finding(status, Subject::Tenant, "x")
    }

    #[test]
    fn exit_codes_follow_threshold_and_errors() {
        assert_eq!(
            exit_code(&[f(Status::Pass), f(Status::Skip)], FailThreshold::Fail),
            0
        );
        assert_eq!(exit_code(&[f(Status::Warn)], FailThreshold::Fail), 0);
        assert_eq!(exit_code(&[f(Status::Warn)], FailThreshold::Warn), 1);
        assert_eq!(exit_code(&[f(Status::Fail)], FailThreshold::Fail), 1);
        assert_eq!(exit_code(&[f(Status::Fail)], FailThreshold::Never), 0);
        assert_eq!(
            exit_code(&[f(Status::Fail), f(Status::Error)], FailThreshold::Never),
            2
        );
    }

    #[test]
    fn fail_on_skip_counts_skips_that_could_not_run() {
        use crate::model::SkipReason;
        let na = DEV001.skip(
            Subject::Tenant,
            SkipReason::NotApplicable {
                path: "entra-join".into(),
            },
        );
        let perm = DEV001.skip(Subject::Tenant, SkipReason::AppOnlyUnsupported);
        assert_eq!(
            exit_code(&[f(Status::Pass), na.clone()], FailThreshold::Skip),
            0
        );
        assert_eq!(
            exit_code(&[f(Status::Pass), perm.clone()], FailThreshold::Skip),
            1
        );
        assert_eq!(exit_code(&[perm], FailThreshold::Fail), 0);
        assert_eq!(exit_code(&[f(Status::Warn)], FailThreshold::Skip), 1);
        assert_eq!(exit_code(&[f(Status::Error)], FailThreshold::Skip), 2);
    }
}
