//! The diagnose pipeline: device reports (and, when there is one, a tenant snapshot) in, a
//! diagnosis per device with the findings and notes behind it out ([`Diagnosed`]; the report
//! layer makes it a `Report`). Pure: the evaluation date is an argument and the tenant facts
//! were collected before.
//!
//! 1. [`analyse_all`]: the device side of every report, once. It decides what to collect from
//!    the tenant ([`tenant_needs`]) and is then reused by [`diagnose`].
//! 2. [`diagnose`]: device-only, each report on its own; with a tenant, the tenant findings
//!    once for the run (with the device evidence of the devices they explain), then per device
//!    its correlation, user and device findings ([`correlate`]), merged ([`merge_findings`]).

use chrono::{DateTime, Utc};

use crate::checks::correlate::{TenantNeeds, correlate, device_keys, merge_findings};
use crate::checks::device::analysis::DeviceAnalysis;
use crate::checks::device::{analyse_with_user, diagnose as diagnose_device};
use crate::checks::tenant::evaluate_tenant;
use crate::device::report::DeviceReport;
use crate::model::{Diagnosis, Finding, Verdict};
use crate::tenant::snapshot::TenantSnapshot;

/// The note of a device-only run: what a tenant connection would add.
pub const NO_TENANT_NOTE: &str = "No tenant connection: device-only analysis. With a tenant (or --snapshot) enroll-doctor would also check the user's license, MDM scope, restrictions and the Entra/Intune device records.";

/// What a diagnose run concluded.
#[derive(Debug, Clone)]
pub struct Diagnosed {
    /// The evaluation date the checks used.
    pub as_of: DateTime<Utc>,
    /// One diagnosis per report, in the reports' order.
    pub diagnoses: Vec<Diagnosis>,
    /// The tenant findings (with the evidence of the devices they explain), then per device
    /// its correlation, user and device findings; tenant and user findings merged.
    pub findings: Vec<Finding>,
    /// Notes for the reader: where the tenant facts came from, unusable inputs, a fleet summary.
    pub notes: Vec<String>,
}

/// The tenant side of a run: its snapshot and the notes that say where it came from (they
/// lead the report's notes).
pub struct Tenant<'a> {
    pub snapshot: &'a TenantSnapshot,
    pub notes: Vec<String>,
}

/// The device side of every report, computed once: it decides what to collect from the tenant
/// and is then correlated with what was collected. `user` is `--user`.
pub fn analyse_all(
    reports: &[DeviceReport],
    user: Option<&str>,
    as_of: DateTime<Utc>,
) -> Vec<DeviceAnalysis> {
    reports
        .iter()
        .map(|r| analyse_with_user(r, as_of, user))
        .collect()
}

/// Users, DeviceIds and host names the reports name: what to collect, once for all devices.
pub fn tenant_needs(
    reports: &[DeviceReport],
    analyses: &[DeviceAnalysis],
    user: Option<&str>,
) -> TenantNeeds {
    let mut needs = TenantNeeds::default();
    for (r, analysis) in reports.iter().zip(analyses) {
        needs.add(&device_keys(r, analysis, user));
    }
    needs
}

/// Diagnoses every report: device-only without a tenant, correlated with it otherwise.
/// `analyses` are [`analyse_all`] of the same reports, user and date.
pub fn diagnose(
    reports: &[DeviceReport],
    analyses: &[DeviceAnalysis],
    tenant: Option<Tenant<'_>>,
    user: Option<&str>,
    as_of: DateTime<Utc>,
) -> Diagnosed {
    match tenant {
        None => device_only(reports, analyses, as_of),
        Some(t) => correlated(reports, analyses, t, user, as_of),
    }
}

/// Device-only: every report on its own, and what a tenant connection would add.
fn device_only(
    reports: &[DeviceReport],
    analyses: &[DeviceAnalysis],
    as_of: DateTime<Utc>,
) -> Diagnosed {
    let mut diagnoses = Vec::new();
    let mut findings = Vec::new();
    let mut notes = vec![NO_TENANT_NOTE.to_string()];
    for (r, analysis) in reports.iter().zip(analyses) {
        // Device-only: no tenant findings to put in front of the device causes.
        let diagnosis = diagnose_device(analysis, &[]);
        notes.extend(input_notes(r, &analysis.device));
        diagnoses.push(diagnosis);
        findings.extend(analysis.findings.iter().cloned());
    }
    notes.extend(fleet_summary(&diagnoses));
    Diagnosed {
        as_of,
        diagnoses,
        findings,
        notes,
    }
}

/// Correlates every report with one snapshot: tenant findings once (with the device evidence
/// of the devices they explain), then per device its COR, USR and DEV findings.
fn correlated(
    reports: &[DeviceReport],
    analyses: &[DeviceAnalysis],
    tenant: Tenant<'_>,
    user: Option<&str>,
    as_of: DateTime<Utc>,
) -> Diagnosed {
    let snap = tenant.snapshot;
    let mut notes = tenant.notes;
    let tenant_findings = evaluate_tenant(snap);
    let mut shared = tenant_findings.clone();
    let mut diagnoses = Vec::new();
    let mut per_device = Vec::new();
    for (r, analysis) in reports.iter().zip(analyses) {
        let c = correlate(snap, &tenant_findings, r, analysis, user, as_of);
        notes.extend(input_notes(r, &analysis.device));
        for (check, ev) in c.tenant_evidence {
            if let Some(f) = shared.iter_mut().find(|f| f.is(check))
                && !f.evidence.contains(&ev)
            {
                f.evidence.push(ev);
            }
        }
        diagnoses.push(c.diagnosis);
        per_device.extend(c.findings);
    }
    if user.is_some() && reports.len() > 1 {
        notes.push("--user applies to every device of this run".to_string());
    }
    notes.extend(fleet_summary(&diagnoses));
    shared.extend(per_device);
    Diagnosed {
        as_of,
        diagnoses,
        findings: merge_findings(shared),
        notes,
    }
}

/// `5 devices: 1 enrolled, 2 failed, …` for runs over several devices.
fn fleet_summary(diagnoses: &[Diagnosis]) -> Option<String> {
    if diagnoses.len() < 2 {
        return None;
    }
    let order = [
        Verdict::Enrolled,
        Verdict::WillEnroll,
        Verdict::Failed,
        Verdict::Blocked,
        Verdict::NotTriggered,
        Verdict::Unknown,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|v| {
            let n = diagnoses.iter().filter(|d| d.verdict == *v).count();
            (n > 0).then(|| format!("{n} {}", v.as_str()))
        })
        .collect();
    Some(format!("{} devices: {}", diagnoses.len(), parts.join(", ")))
}

/// Files that were part of a report but could not be used, or only in part. They become notes,
/// not `error` findings: each check that needed such a file already says `skip` with what to
/// collect, the verdict stays honest (`unknown` when the key facts are missing), and one bad
/// file in a fleet must not hide every other device's results behind exit code 2. A path that
/// yields nothing usable at all fails the run (exit 2) when it is loaded.
fn input_notes(report: &DeviceReport, device: &str) -> Vec<String> {
    report
        .inputs
        .iter()
        .filter_map(|i| {
            i.problem.as_ref().map(|p| {
                // A damaged file is still read as far as it goes; say "not used" only when
                // nothing came out of it.
                if i.records == 0 {
                    format!("{device}: input {} was not used: {p}", i.name)
                } else {
                    format!("{device}: input {}: {p}", i.name)
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::TimeZone;

    use super::*;
    use crate::checks::tenant::TEN001;
    use crate::device::load_path;

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn reports(names: &[&str]) -> Vec<DeviceReport> {
        let mut out = Vec::new();
        for name in names {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("mocks/devices")
                .join(name);
            match load_path(&dir) {
                Ok(v) => out.extend(v),
                Err(e) => panic!("sample {name} does not load: {e}"),
            }
        }
        out
    }

    #[test]
    fn a_device_only_run_says_so_and_sums_up_the_fleet() {
        let reports = reports(&["hybrid-enrolled", "never-triggered"]);
        let analyses = analyse_all(&reports, None, as_of());
        let d = diagnose(&reports, &analyses, None, None, as_of());
        assert_eq!(d.diagnoses.len(), 2);
        assert_eq!(d.diagnoses[0].verdict, Verdict::Enrolled);
        assert_eq!(d.notes.first().map(String::as_str), Some(NO_TENANT_NOTE));
        assert!(
            d.notes
                .last()
                .is_some_and(|n| n.starts_with("2 devices: 1 enrolled")),
            "{:?}",
            d.notes
        );
        assert!(d.findings.iter().all(|f| f.check.starts_with("DEV")));
    }

    #[test]
    fn a_correlated_run_leads_with_the_tenant_notes_and_reports_tenant_findings_once() {
        let text = include_str!("../tests/fixtures/correlate/contoso-snapshot.json");
        let snap = match TenantSnapshot::from_json(text, "contoso-snapshot.json") {
            Ok(s) => s,
            Err(e) => panic!("fixture snapshot does not load: {e}"),
        };
        let reports = reports(&["hybrid-enrolled", "failed-8018002b"]);
        let user = Some("jdoe@contoso.com");
        let analyses = analyse_all(&reports, user, as_of());
        let needs = tenant_needs(&reports, &analyses, user);
        assert_eq!(needs.upns.len(), 1);
        let tenant = Tenant {
            snapshot: &snap,
            notes: vec!["tenant facts from the test".into()],
        };
        let d = diagnose(&reports, &analyses, Some(tenant), user, as_of());
        assert_eq!(
            d.notes.first().map(String::as_str),
            Some("tenant facts from the test")
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n == "--user applies to every device of this run")
        );
        assert_eq!(d.findings.iter().filter(|f| f.is(&TEN001)).count(), 1);
        assert_eq!(d.diagnoses.len(), 2);
        assert!(d.diagnoses.iter().all(|x| x.user.as_deref() == user));
    }
}
