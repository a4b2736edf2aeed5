//! The diagnose pipeline: device reports (and, when there is one, a tenant snapshot) in, a
//! diagnosis per device with the findings and notes behind it out. Pure: the evaluation date is
//! an argument and the tenant facts were collected before.
//!
//! The core is per device: a [`Pipeline`] evaluates the tenant findings once, then turns one
//! report at a time into a [`DeviceOutcome`] (its diagnosis, findings and input notes), which
//! the caller keeps or drops. On top of it:
//!
//! - [`diagnose`]: every report of a run held in memory, into one [`Diagnosed`] (the demo, one
//!   device): device-only, each report on its own; with a tenant, the tenant findings once for
//!   the run (with the device evidence of the devices they explain), then per device its
//!   correlation, user and device findings, merged ([`merge_findings`]). [`analyse_all`] and
//!   [`tenant_needs`] give what to collect from the tenant first.
//! - [`fleet`]: runs over many devices read from disk one device container at a time, with a
//!   sink per device (a summary, a renderer) instead of everything in memory.

pub mod fleet;
pub mod sink;
pub mod summary;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::checks::correlate::{TenantNeeds, correlate, device_keys, merge_findings};
use crate::checks::device::analysis::DeviceAnalysis;
use crate::checks::device::{analyse_with_user, diagnose as diagnose_device};
use crate::checks::tenant::evaluate_tenant;
use crate::device::report::DeviceReport;
use crate::model::{CheckMeta, Diagnosis, Evidence, Finding, Verdict};
use crate::tenant::snapshot::TenantSnapshot;

/// The note of a device-only run: what a tenant connection would add.
pub const NO_TENANT_NOTE: &str = "No tenant connection: device-only analysis. With a tenant (or --snapshot) enroll-doctor would also check the user's license, MDM scope, restrictions and the Entra/Intune device records.";

/// The note of a correlated run over several devices with `--user`.
pub const USER_FLAG_NOTE: &str = "--user applies to every device of this run";

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
        if let Some(serial) = r.lookup_serial() {
            needs.serial_numbers.insert(serial.to_string());
        }
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
    let (snapshot, lead) = match tenant {
        Some(t) => (Some(t.snapshot), t.notes),
        None => (None, vec![NO_TENANT_NOTE.to_string()]),
    };
    let pipeline = Pipeline::new(snapshot, user, as_of);
    let mut notes = lead;
    let mut outcomes = Vec::with_capacity(reports.len());
    for (r, analysis) in reports.iter().zip(analyses) {
        let o = pipeline.diagnose(r, analysis);
        notes.extend(o.notes());
        outcomes.push(o);
    }
    if pipeline.is_correlated() && user.is_some() && reports.len() > 1 {
        notes.push(USER_FLAG_NOTE.to_string());
    }
    let counts = VerdictCounts::of(outcomes.iter().map(|o| o.diagnosis.verdict));
    notes.extend(counts.note());
    let (diagnoses, findings) = pipeline.assemble(outcomes);
    Diagnosed {
        as_of,
        diagnoses,
        findings,
        notes,
    }
}

/// One device, diagnosed: what a sink receives and may drop.
#[derive(Debug, Clone)]
pub struct DeviceOutcome {
    pub diagnosis: Diagnosis,
    /// The device's own findings: with a tenant its COR, then the enrolling user's USR, then
    /// its DEV findings; device-only its DEV findings.
    pub findings: Vec<Finding>,
    /// Device-side evidence for tenant-wide findings that explain this device (correlated
    /// runs): [`TenantEvidence`] adds it to the run's TEN findings.
    pub tenant_evidence: Vec<(&'static CheckMeta, Evidence)>,
    /// Input files of the report that could not be used, or only in part, without the device
    /// name (`input EXPECTED.md was not used: …`): [`DeviceOutcome::notes`] prefixes it.
    pub input_notes: Vec<String>,
    /// The Entra DeviceId the report names (lower-cased), what tells two copies of one
    /// device apart from two devices.
    pub device_id: Option<String>,
}

impl DeviceOutcome {
    /// The device's input notes as the report shows them: `DEVICE: input …`.
    pub fn notes(&self) -> impl Iterator<Item = String> + '_ {
        self.input_notes
            .iter()
            .map(|n| format!("{}: {n}", self.diagnosis.device))
    }
}

/// The per-device diagnose step: the tenant findings are evaluated once when it is built, then
/// every report is diagnosed on its own ([`Pipeline::device`]); nothing is kept between two.
pub struct Pipeline<'a> {
    snapshot: Option<&'a TenantSnapshot>,
    tenant_findings: Vec<Finding>,
    user: Option<&'a str>,
    as_of: DateTime<Utc>,
}

impl<'a> Pipeline<'a> {
    /// Device-only without a snapshot, correlated with it otherwise. `user` is `--user`.
    pub fn new(
        snapshot: Option<&'a TenantSnapshot>,
        user: Option<&'a str>,
        as_of: DateTime<Utc>,
    ) -> Pipeline<'a> {
        Pipeline {
            snapshot,
            tenant_findings: snapshot.map(evaluate_tenant).unwrap_or_default(),
            user,
            as_of,
        }
    }

    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    pub fn user(&self) -> Option<&'a str> {
        self.user
    }

    /// Whether devices are correlated with a tenant.
    pub fn is_correlated(&self) -> bool {
        self.snapshot.is_some()
    }

    /// TEN001–TEN009 over the snapshot, without device evidence (`None` device-only).
    pub fn tenant_findings(&self) -> Option<&[Finding]> {
        self.snapshot.map(|_| self.tenant_findings.as_slice())
    }

    /// The device side of one report.
    pub fn analyse(&self, report: &DeviceReport) -> DeviceAnalysis {
        analyse_with_user(report, self.as_of, self.user)
    }

    /// Analyses and diagnoses one report.
    pub fn device(&self, report: &DeviceReport) -> DeviceOutcome {
        let mut analysis = self.analyse(report);
        if self.snapshot.is_some() {
            return self.diagnose(report, &analysis);
        }
        // Device-only: the analysis' findings are the device's, no copy needed.
        let mut o = self.device_only(report, &analysis);
        o.findings = std::mem::take(&mut analysis.findings);
        o
    }

    /// Diagnoses one report whose analysis is already known ([`Pipeline::analyse`]).
    pub fn diagnose(&self, report: &DeviceReport, analysis: &DeviceAnalysis) -> DeviceOutcome {
        let Some(snap) = self.snapshot else {
            let mut o = self.device_only(report, analysis);
            o.findings = analysis.findings.clone();
            return o;
        };
        let c = correlate(
            snap,
            &self.tenant_findings,
            report,
            analysis,
            self.user,
            self.as_of,
        );
        DeviceOutcome {
            diagnosis: with_facts(c.diagnosis, report),
            findings: c.findings,
            tenant_evidence: c.tenant_evidence,
            input_notes: input_notes(report),
            device_id: c.keys.device_id,
        }
    }

    /// A device-only outcome, its findings left to the caller.
    fn device_only(&self, report: &DeviceReport, analysis: &DeviceAnalysis) -> DeviceOutcome {
        DeviceOutcome {
            // No tenant findings to put in front of the device causes.
            diagnosis: with_facts(diagnose_device(analysis, &[]), report),
            findings: Vec::new(),
            tenant_evidence: Vec::new(),
            input_notes: input_notes(report),
            device_id: device_keys(report, analysis, self.user).device_id,
        }
    }

    /// The run's diagnoses and findings from its outcomes, in the order given: the tenant
    /// findings (correlated runs) with the evidence of the devices they explain, then every
    /// device's own findings; tenant and user findings merged.
    pub fn assemble(&self, outcomes: Vec<DeviceOutcome>) -> (Vec<Diagnosis>, Vec<Finding>) {
        let mut diagnoses = Vec::with_capacity(outcomes.len());
        let mut tenant = self.tenant_findings().map(TenantEvidence::new);
        let mut findings = Vec::new();
        for o in outcomes {
            if let Some(t) = &mut tenant {
                t.add(o.tenant_evidence);
            }
            diagnoses.push(o.diagnosis);
            findings.extend(o.findings);
        }
        let findings = match tenant {
            None => findings,
            Some(t) => {
                let mut all = t.into_findings();
                all.extend(findings);
                merge_findings(all)
            }
        };
        (diagnoses, findings)
    }
}

/// The run's tenant findings, gathering the device evidence of the devices they explain (each
/// piece once, in the order the devices come).
#[derive(Debug, Clone)]
pub struct TenantEvidence {
    findings: Vec<Finding>,
    seen: Vec<HashSet<Evidence>>,
}

impl TenantEvidence {
    pub fn new(tenant_findings: &[Finding]) -> TenantEvidence {
        TenantEvidence {
            findings: tenant_findings.to_vec(),
            seen: tenant_findings
                .iter()
                .map(|f| f.evidence.iter().cloned().collect())
                .collect(),
        }
    }

    /// One device's [`DeviceOutcome::tenant_evidence`].
    pub fn add(&mut self, evidence: Vec<(&'static CheckMeta, Evidence)>) {
        for (check, ev) in evidence {
            if let Some(i) = self.findings.iter().position(|f| f.is(check))
                && self.seen[i].insert(ev.clone())
            {
                self.findings[i].evidence.push(ev);
            }
        }
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// How many devices have each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    pub enrolled: usize,
    pub will_enroll: usize,
    pub failed: usize,
    pub blocked: usize,
    pub not_triggered: usize,
    pub unknown: usize,
}

impl VerdictCounts {
    /// The order of the fleet note: enrolled first.
    pub const ORDER: [Verdict; 6] = [
        Verdict::Enrolled,
        Verdict::WillEnroll,
        Verdict::Failed,
        Verdict::Blocked,
        Verdict::NotTriggered,
        Verdict::Unknown,
    ];

    pub fn of(verdicts: impl IntoIterator<Item = Verdict>) -> VerdictCounts {
        let mut c = VerdictCounts::default();
        for v in verdicts {
            c.add(v);
        }
        c
    }

    pub fn add(&mut self, v: Verdict) {
        *self.slot(v) += 1;
    }

    pub fn get(&self, v: Verdict) -> usize {
        match v {
            Verdict::Enrolled => self.enrolled,
            Verdict::WillEnroll => self.will_enroll,
            Verdict::Failed => self.failed,
            Verdict::Blocked => self.blocked,
            Verdict::NotTriggered => self.not_triggered,
            Verdict::Unknown => self.unknown,
        }
    }

    fn slot(&mut self, v: Verdict) -> &mut usize {
        match v {
            Verdict::Enrolled => &mut self.enrolled,
            Verdict::WillEnroll => &mut self.will_enroll,
            Verdict::Failed => &mut self.failed,
            Verdict::Blocked => &mut self.blocked,
            Verdict::NotTriggered => &mut self.not_triggered,
            Verdict::Unknown => &mut self.unknown,
        }
    }

    pub fn total(&self) -> usize {
        Self::ORDER.iter().map(|v| self.get(*v)).sum()
    }

    /// `5 devices: 1 enrolled, 2 failed, …` for runs over several devices.
    pub fn note(&self) -> Option<String> {
        let total = self.total();
        if total < 2 {
            return None;
        }
        let parts: Vec<String> = Self::ORDER
            .iter()
            .filter_map(|v| {
                let n = self.get(*v);
                (n > 0).then(|| format!("{n} {}", v.as_str()))
            })
            .collect();
        Some(format!("{total} devices: {}", parts.join(", ")))
    }
}

/// The device facts a diagnosis shows beside its findings: the Autopilot evidence in words.
fn with_facts(mut d: Diagnosis, report: &DeviceReport) -> Diagnosis {
    d.facts = crate::device::autopilot_files::facts(report);
    d
}

/// Files that were part of a report but could not be used, or only in part. They become notes,
/// not `error` findings: each check that needed such a file already says `skip` with what to
/// collect, the verdict stays honest (`unknown` when the key facts are missing), and one bad
/// file in a fleet must not hide every other device's results behind exit code 2. A path that
/// yields nothing usable at all fails the run (exit 2) when it is loaded.
fn input_notes(report: &DeviceReport) -> Vec<String> {
    report
        .inputs
        .iter()
        .filter_map(|i| {
            i.problem.as_ref().map(|p| {
                // A damaged file is still read as far as it goes; say "not used" only when
                // nothing came out of it.
                if i.records == 0 {
                    format!("input {} was not used: {p}", i.name)
                } else {
                    format!("input {}: {p}", i.name)
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
