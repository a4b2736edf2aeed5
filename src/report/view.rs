//! What every human-readable layout of a [`Report`] shows, computed once: the findings grouped
//! by subject (with the diagnosis of a device subject), the "what to fix" rows, the one-line
//! evidence summary of a finding, short locations and the summary line. The renderers
//! (`table`, `markdown`) only lay this out; a new format starts from here.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Report, Summary};
use crate::model::{Diagnosis, Finding, Status, Subject};

/// A report arranged for reading.
pub struct ReportView<'a> {
    /// Findings by subject, in the order each subject first appears.
    pub groups: Vec<SubjectGroup<'a>>,
    /// Remediations of what is not passing, in the order they first appear.
    pub fixes: Vec<FixRow>,
}

/// The findings about one subject.
pub struct SubjectGroup<'a> {
    pub subject: &'a Subject,
    pub findings: Vec<&'a Finding>,
    /// For a device subject: the index in [`Report::diagnoses`] of the first diagnosis of
    /// that device, if it has one.
    pub diagnosis: Option<usize>,
}

/// One "what to fix" row: findings with the same remediation text share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixRow {
    /// The checks behind the text, each once, in the order they first appear.
    pub checks: Vec<String>,
    /// Their subjects (`device PC1`, `user a@b.c`), each once, in the order they first appear.
    pub subjects: Vec<String>,
    /// The remediation, or the error message of an `error` finding without one.
    pub text: String,
}

/// The first evidence of a finding and how many more there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSummary<'a> {
    pub detail: &'a str,
    /// The first evidence's location, shortened by [`short_location`].
    pub location: Option<String>,
    /// How many evidence entries follow the first.
    pub more: usize,
}

impl<'a> ReportView<'a> {
    pub fn of(report: &'a Report) -> ReportView<'a> {
        ReportView {
            groups: group_by_subject(report),
            fixes: fix_rows(&report.findings),
        }
    }
}

impl SubjectGroup<'_> {
    /// The diagnosis of this device subject in `report` (the one the view was built from).
    pub fn diagnosis_in<'r>(&self, report: &'r Report) -> Option<&'r Diagnosis> {
        self.diagnosis.and_then(|i| report.diagnoses.get(i))
    }
}

/// A subject as a map key, without requiring `Hash` of [`Subject`]; equal keys are exactly
/// equal subjects.
fn subject_key(s: &Subject) -> (u8, &str) {
    match s {
        Subject::Tenant => (0, ""),
        Subject::User(u) => (1, u.as_str()),
        Subject::Device(d) => (2, d.as_str()),
    }
}

/// Findings by subject, in the order each subject first appears (one pass, a map from subject
/// to its group).
pub(crate) fn group_by_subject(report: &Report) -> Vec<SubjectGroup<'_>> {
    let mut first_diagnosis: HashMap<&str, usize> = HashMap::new();
    for (i, d) in report.diagnoses.iter().enumerate() {
        first_diagnosis.entry(d.device.as_str()).or_insert(i);
    }
    let mut groups: Vec<SubjectGroup<'_>> = Vec::new();
    let mut index: HashMap<(u8, &str), usize> = HashMap::new();
    for f in &report.findings {
        let at = *index.entry(subject_key(&f.subject)).or_insert_with(|| {
            let diagnosis = match &f.subject {
                Subject::Device(name) => first_diagnosis.get(name.as_str()).copied(),
                Subject::Tenant | Subject::User(_) => None,
            };
            groups.push(SubjectGroup {
                subject: &f.subject,
                findings: Vec::new(),
                diagnosis,
            });
            groups.len() - 1
        });
        groups[at].findings.push(f);
    }
    groups
}

/// Remediations of what is not passing; findings with the same text share a row (one pass,
/// with a map from text to row and from row to the checks and subjects it already names).
pub fn fix_rows(findings: &[Finding]) -> Vec<FixRow> {
    let mut rows: Vec<FixRow> = Vec::new();
    let mut seen: Vec<(HashSet<String>, HashSet<String>)> = Vec::new();
    let mut by_text: HashMap<String, usize> = HashMap::new();
    for f in findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Error))
    {
        let text = if f.remediation.is_empty() {
            match &f.error {
                Some(e) => e.clone(),
                None => continue,
            }
        } else {
            f.remediation.clone()
        };
        let subject = f.subject.to_string();
        let at = match by_text.get(&text) {
            Some(&at) => at,
            None => {
                by_text.insert(text.clone(), rows.len());
                rows.push(FixRow {
                    checks: Vec::new(),
                    subjects: Vec::new(),
                    text,
                });
                seen.push((HashSet::new(), HashSet::new()));
                rows.len() - 1
            }
        };
        let (checks, subjects) = &mut seen[at];
        if checks.insert(f.check.clone()) {
            rows[at].checks.push(f.check.clone());
        }
        if subjects.insert(subject.clone()) {
            rows[at].subjects.push(subject);
        }
    }
    rows
}

/// The first evidence with its (short) location, and how many more there are; `None` without
/// evidence.
pub fn evidence_summary(f: &Finding) -> Option<EvidenceSummary<'_>> {
    let first = f.evidence.first()?;
    Some(EvidenceSummary {
        detail: &first.detail,
        location: first.location.as_deref().map(short_location),
        more: f.evidence.len() - 1,
    })
}

/// The counts by status and the evaluation date:
/// `1 pass, 0 warn, 1 fail, 0 skip, 0 error (as of 2026-11-26)`.
pub fn summary_line(report: &Report) -> String {
    status_line(&report.summary, report.as_of)
}

/// [`summary_line`] from the counts and the date.
pub fn status_line(s: &Summary, as_of: DateTime<Utc>) -> String {
    format!(
        "{} pass, {} warn, {} fail, {} skip, {} error (as of {})",
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.error,
        as_of.format("%Y-%m-%d")
    )
}

/// A Graph request without its query string; other locations unchanged.
pub fn short_location(loc: &str) -> String {
    let is_request = ["GET ", "POST ", "PATCH ", "PUT ", "DELETE "]
        .iter()
        .any(|m| loc.starts_with(m));
    match loc.find('?') {
        Some(at) if is_request => loc[..at].to_string(),
        _ => loc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV001, DEV003, DEV007};
    use crate::checks::tenant::TEN001;
    use crate::checks::user::USR002;
    use crate::model::{EnrollmentPath, Evidence, Verdict};
    use chrono::TimeZone;

    fn diagnosis(device: &str, verdict: Verdict) -> Diagnosis {
        Diagnosis {
            device: device.into(),
            path: EnrollmentPath::GpoHybrid,
            verdict,
            causes: Vec::new(),
            fix: String::new(),
            explanation: String::new(),
            user: None,
            inputs: Vec::new(),
            facts: Vec::new(),
        }
    }

    fn report(diagnoses: Vec<Diagnosis>, findings: Vec<Finding>) -> Report {
        let as_of = chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
            .single()
            .unwrap_or_default();
        Report::new(as_of, diagnoses, findings)
    }

    #[test]
    fn groups_keep_first_appearance_order_and_find_the_first_diagnosis() {
        let pc1 = Subject::Device("PC1".into());
        let pc2 = Subject::Device("PC2".into());
        let user = Subject::User("a@b.c".into());
        let findings = vec![
            DEV001.finding(Status::Pass, pc2.clone(), "joined"),
            TEN001.finding(Status::Pass, Subject::Tenant, "intune"),
            DEV003.finding(Status::Fail, pc1.clone(), "no MdmUrl"),
            USR002.finding(Status::Warn, user.clone(), "no licence"),
            DEV007.finding(Status::Fail, pc2.clone(), "failed"),
            DEV001.finding(Status::Pass, pc1.clone(), "joined"),
        ];
        let r = report(
            vec![
                diagnosis("PC1", Verdict::Failed),
                diagnosis("PC2", Verdict::Enrolled),
                diagnosis("PC1", Verdict::Unknown),
            ],
            findings,
        );
        let view = ReportView::of(&r);
        let subjects: Vec<&Subject> = view.groups.iter().map(|g| g.subject).collect();
        assert_eq!(subjects, vec![&pc2, &Subject::Tenant, &pc1, &user]);
        let checks: Vec<Vec<&str>> = view
            .groups
            .iter()
            .map(|g| g.findings.iter().map(|f| f.check.as_str()).collect())
            .collect();
        assert_eq!(
            checks,
            vec![
                vec!["DEV001", "DEV007"],
                vec!["TEN001"],
                vec!["DEV003", "DEV001"],
                vec!["USR002"],
            ]
        );
        let diagnoses: Vec<Option<usize>> = view.groups.iter().map(|g| g.diagnosis).collect();
        assert_eq!(diagnoses, vec![Some(1), None, Some(0), None]);
        assert_eq!(
            view.groups[2].diagnosis_in(&r).map(|d| d.verdict),
            Some(Verdict::Failed)
        );
    }

    #[test]
    fn findings_with_the_same_fix_share_a_row_and_passes_have_none() {
        let pc1 = Subject::Device("PC1".into());
        let findings = vec![
            DEV001
                .finding(Status::Pass, pc1.clone(), "joined")
                .with_remediation("never shown"),
            DEV007
                .finding(Status::Fail, pc1.clone(), "failed")
                .with_remediation("Re-run the task"),
            USR002
                .finding(Status::Warn, Subject::User("a@b.c".into()), "no licence")
                .with_remediation("Re-run the task"),
            DEV007
                .finding(Status::Fail, Subject::Device("PC2".into()), "failed")
                .with_remediation("Re-run the task"),
            DEV003.finding(Status::Fail, pc1.clone(), "no MdmUrl"),
            DEV003.error(pc1, "cannot read dsregcmd.txt"),
        ];
        let rows = fix_rows(&findings);
        assert_eq!(
            rows,
            vec![
                FixRow {
                    checks: vec!["DEV007".into(), "USR002".into()],
                    subjects: vec![
                        "device PC1".into(),
                        "user a@b.c".into(),
                        "device PC2".into()
                    ],
                    text: "Re-run the task".into(),
                },
                FixRow {
                    checks: vec!["DEV003".into()],
                    subjects: vec!["device PC1".into()],
                    text: "cannot read dsregcmd.txt".into(),
                },
            ]
        );
    }

    #[test]
    fn evidence_summary_names_the_first_entry_and_counts_the_rest() {
        let subject = Subject::Tenant;
        let none = TEN001.finding(Status::Pass, subject.clone(), "ok");
        assert_eq!(evidence_summary(&none), None);
        let f = TEN001
            .finding(Status::Pass, subject, "ok")
            .with_evidence(
                Evidence::new("graph", "appliesTo=all")
                    .at("GET /v1.0/policies/mobileDeviceManagementPolicies?$select=appliesTo"),
            )
            .with_evidence(Evidence::new("graph", "second"))
            .with_evidence(Evidence::new("graph", "third"));
        assert_eq!(
            evidence_summary(&f),
            Some(EvidenceSummary {
                detail: "appliesTo=all",
                location: Some("GET /v1.0/policies/mobileDeviceManagementPolicies".into()),
                more: 2,
            })
        );
    }

    #[test]
    fn summary_line_counts_by_status_as_of_the_evaluation_date() {
        let r = report(
            Vec::new(),
            vec![
                DEV001.finding(Status::Pass, Subject::Tenant, "ok"),
                DEV003.finding(Status::Fail, Subject::Tenant, "no"),
                DEV007.skip(
                    Subject::Tenant,
                    crate::model::SkipReason::AppOnlyUnsupported,
                ),
            ],
        );
        assert_eq!(
            summary_line(&r),
            "1 pass, 0 warn, 1 fail, 1 skip, 0 error (as of 2026-11-26)"
        );
    }

    #[test]
    fn only_graph_requests_lose_their_query() {
        assert_eq!(
            short_location("POST /v1.0/$batch?x=1"),
            "POST /v1.0/$batch".to_string()
        );
        assert_eq!(short_location("dsregcmd.txt:5"), "dsregcmd.txt:5");
        assert_eq!(
            short_location("restriction \"Pilot\" (priority 1)?"),
            "restriction \"Pilot\" (priority 1)?"
        );
    }
}
