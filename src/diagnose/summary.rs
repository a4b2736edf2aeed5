//! The aggregate of a run over many devices, computed as the devices are diagnosed and kept
//! small: counts and a few examples, one compact row per device, never the findings. Plain
//! data for the renderers: how many devices have each verdict, the verdict × root-cause
//! histogram (with the tenant-side cause when there is a tenant), how many devices each cause
//! and each check concerns, the rows ordered by severity, then name, and the notes that many
//! devices share said once.
//!
//! [`FleetAggregator`] is a [`DeviceSink`]; [`FleetAggregator::finish`] gives the
//! [`FleetSummary`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::sink::{DeviceSink, Duplicate, FleetDevice};
use super::{TenantEvidence, VerdictCounts};
use crate::checks::registry;
use crate::model::{Area, Diagnosis, Finding, Severity, Status, Verdict};

/// How many example devices a row of the summary names.
pub const EXAMPLES: usize = 3;

/// Everything the summary of a fleet says.
#[derive(Debug, Clone, Default)]
pub struct FleetSummary {
    /// Distinct devices: a device read from several inputs counts once.
    pub devices: usize,
    /// Devices read from more than one input (the same Entra DeviceId).
    pub duplicated: usize,
    /// Whether the devices were correlated with a tenant.
    pub correlated: bool,
    pub verdicts: VerdictCounts,
    /// Verdict × root cause: one row per (verdict, first cause, first tenant-side cause), the
    /// most severe verdict first (see [`verdict_rank`]), then the most devices.
    pub histogram: Vec<HistogramRow>,
    /// Every check that is a cause of some device: the most devices first, then the most
    /// severe, then by ID.
    pub causes: Vec<CauseRow>,
    /// Every check evaluated for the devices, in the order first evaluated: how many devices
    /// got each status (a user check counts once per device it was evaluated for).
    pub checks: Vec<CheckCounts>,
    /// One row per device, most severe verdict first, then by name, then in input order.
    pub rows: Vec<DeviceRow>,
    /// The input notes, each text once with the devices it concerns, in order of first
    /// appearance; then what was read twice ([`FleetSummary::duplicate_notes`]).
    pub notes: Vec<FleetNote>,
    /// Correlated runs: the tenant findings with the device evidence of the devices they
    /// explain.
    pub tenant: Option<Vec<Finding>>,
}

/// Devices with one verdict and one root cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramRow {
    pub verdict: Verdict,
    /// The first cause of the chain (`None`: no cause, e.g. enrolled).
    pub cause: Option<String>,
    /// The first cause the tenant side owns (a TEN, USR or COR check), when the devices were
    /// correlated with a tenant and one is in the chain: the root cause behind a device
    /// symptom such as DEV007.
    pub tenant_cause: Option<String>,
    pub devices: usize,
    pub examples: Vec<String>,
}

/// One check that is a cause (in the chain) of some devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseRow {
    pub check: String,
    /// Devices whose chain holds it.
    pub devices: usize,
    /// Devices whose chain starts with it.
    pub first: usize,
    /// The worst severity its findings had on those devices.
    pub severity: Option<Severity>,
    pub examples: Vec<String>,
    /// The fix of the first example: its diagnosis' fix when the check leads the chain,
    /// else the remediation of its finding.
    pub fix: String,
}

/// How many devices got each status from one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub check: String,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl CheckCounts {
    fn add(&mut self, s: &Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Fail => self.fail += 1,
            Status::Skip => self.skip += 1,
            Status::Error => self.error += 1,
        }
    }
}

/// One device, as the list of devices shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Its place among the run's devices in input order ([`FleetDevice::ordinal`]).
    pub ordinal: usize,
    /// Its diagnosis; `inputs` lists every input it was read from.
    pub diagnosis: Diagnosis,
    pub device_id: Option<String>,
}

/// A note, once for all the devices it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetNote {
    /// Without the device name: `input EXPECTED.md was not used: …`.
    pub text: String,
    pub devices: usize,
    pub examples: Vec<String>,
}

impl std::fmt::Display for FleetNote {
    /// `DEVICE: TEXT` for one device; for several, the text once with how many and which.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.devices <= 1 {
            let device = self.examples.first().map(String::as_str).unwrap_or("");
            return write!(f, "{device}: {}", self.text);
        }
        write!(
            f,
            "{} (on {} devices: {})",
            self.text,
            self.devices,
            examples(&self.examples, self.devices)
        )
    }
}

/// `A, B, C` or `A, B, C and 7 more`.
fn examples(names: &[String], total: usize) -> String {
    let listed = names.join(", ");
    if total > names.len() {
        format!("{listed} and {} more", total - names.len())
    } else {
        listed
    }
}

/// Failed and blocked first: the order of the device rows.
pub fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Failed => 0,
        Verdict::Blocked => 1,
        Verdict::NotTriggered => 2,
        Verdict::Unknown => 3,
        Verdict::WillEnroll => 4,
        Verdict::Enrolled => 5,
    }
}

/// Whether the tenant side owns a check (tenant, user and correlation checks).
fn is_tenant_side(check: &str) -> bool {
    registry::get(check).is_some_and(|m| m.area != Area::Device)
}

/// Builds a [`FleetSummary`] device by device.
#[derive(Debug, Default)]
pub struct FleetAggregator {
    correlated: bool,
    verdicts: VerdictCounts,
    histogram: Vec<HistogramRow>,
    histogram_at: HashMap<(Verdict, Option<String>, Option<String>), usize>,
    causes: Vec<CauseRow>,
    causes_at: HashMap<String, usize>,
    checks: Vec<CheckCounts>,
    checks_at: HashMap<String, usize>,
    rows: Vec<DeviceRow>,
    duplicated: usize,
    notes: Vec<FleetNote>,
    /// Note text → its place in `notes` and the last device (ordinal) counted for it.
    notes_at: HashMap<String, (usize, usize)>,
    tenant: Option<TenantEvidence>,
}

impl FleetAggregator {
    /// `tenant_findings`: the pipeline's tenant findings when the run is correlated.
    pub fn new(tenant_findings: Option<&[Finding]>) -> FleetAggregator {
        FleetAggregator {
            correlated: tenant_findings.is_some(),
            tenant: tenant_findings.map(TenantEvidence::new),
            ..FleetAggregator::default()
        }
    }

    fn add(&mut self, d: &FleetDevice) {
        let o = &d.outcome;
        let diag = &o.diagnosis;
        self.verdicts.add(diag.verdict);
        let cause = diag.causes.first().cloned();
        let tenant_cause = if self.correlated {
            diag.causes.iter().find(|c| is_tenant_side(c)).cloned()
        } else {
            None
        };
        let key = (diag.verdict, cause.clone(), tenant_cause.clone());
        let at = match self.histogram_at.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(self.histogram.len());
                self.histogram.push(HistogramRow {
                    verdict: diag.verdict,
                    cause,
                    tenant_cause,
                    devices: 0,
                    examples: Vec::new(),
                });
                self.histogram.len() - 1
            }
        };
        let row = &mut self.histogram[at];
        row.devices += 1;
        if row.examples.len() < EXAMPLES {
            row.examples.push(diag.device.clone());
        }

        for (n, check) in diag.causes.iter().enumerate() {
            if diag.causes[..n].contains(check) {
                // A check twice in one chain counts once.
                continue;
            }
            let finding = o.findings.iter().find(|f| &f.check == check);
            let at = match self.causes_at.entry(check.clone()) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    e.insert(self.causes.len());
                    self.causes.push(CauseRow {
                        check: check.clone(),
                        devices: 0,
                        first: 0,
                        severity: None,
                        examples: Vec::new(),
                        fix: String::new(),
                    });
                    self.causes.len() - 1
                }
            };
            let row = &mut self.causes[at];
            row.devices += 1;
            if n == 0 {
                row.first += 1;
            }
            if let Some(f) = finding {
                row.severity = row.severity.max(Some(f.severity));
            }
            if row.examples.len() < EXAMPLES {
                row.examples.push(diag.device.clone());
            }
            if row.fix.is_empty() {
                row.fix = if n == 0 {
                    diag.fix.clone()
                } else {
                    finding.map(|f| f.remediation.clone()).unwrap_or_default()
                };
            }
        }

        for f in &o.findings {
            let at = match self.checks_at.entry(f.check.clone()) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    e.insert(self.checks.len());
                    self.checks.push(CheckCounts {
                        check: f.check.clone(),
                        ..CheckCounts::default()
                    });
                    self.checks.len() - 1
                }
            };
            self.checks[at].add(&f.status);
        }

        for text in &o.input_notes {
            self.note(text, &diag.device, d.ordinal);
        }
        if let Some(t) = &mut self.tenant {
            t.add(o.tenant_evidence.clone());
        }
        self.rows.push(DeviceRow {
            ordinal: d.ordinal,
            diagnosis: diag.clone(),
            device_id: o.device_id.clone(),
        });
    }

    fn note(&mut self, text: &str, device: &str, ordinal: usize) {
        match self.notes_at.get_mut(text) {
            // The same text twice for one device counts once.
            Some((_, last)) if *last == ordinal => {}
            Some((at, last)) => {
                *last = ordinal;
                let n = &mut self.notes[*at];
                n.devices += 1;
                if n.examples.len() < EXAMPLES {
                    n.examples.push(device.to_string());
                }
            }
            None => {
                self.notes_at
                    .insert(text.to_string(), (self.notes.len(), ordinal));
                self.notes.push(FleetNote {
                    text: text.to_string(),
                    devices: 1,
                    examples: vec![device.to_string()],
                });
            }
        }
    }

    pub fn finish(self) -> FleetSummary {
        let mut histogram = self.histogram;
        histogram.sort_by(|a, b| {
            verdict_rank(a.verdict)
                .cmp(&verdict_rank(b.verdict))
                .then(b.devices.cmp(&a.devices))
                .then_with(|| a.cause.cmp(&b.cause))
                .then_with(|| a.tenant_cause.cmp(&b.tenant_cause))
        });
        let mut causes = self.causes;
        causes.sort_by(|a, b| {
            b.devices
                .cmp(&a.devices)
                .then(b.severity.cmp(&a.severity))
                .then_with(|| a.check.cmp(&b.check))
        });
        let mut rows = self.rows;
        rows.sort_by(|a, b| {
            verdict_rank(a.diagnosis.verdict)
                .cmp(&verdict_rank(b.diagnosis.verdict))
                .then_with(|| a.diagnosis.device.cmp(&b.diagnosis.device))
                .then(a.ordinal.cmp(&b.ordinal))
        });
        FleetSummary {
            devices: rows.len(),
            duplicated: self.duplicated,
            correlated: self.correlated,
            verdicts: self.verdicts,
            histogram,
            causes,
            checks: self.checks,
            rows,
            notes: self.notes,
            tenant: self.tenant.map(TenantEvidence::into_findings),
        }
    }
}

impl DeviceSink for FleetAggregator {
    fn device(&mut self, device: &FleetDevice) {
        self.add(device);
    }

    fn duplicate(&mut self, dup: &Duplicate) {
        // Rows are in input order until `finish`: the ordinal is the place.
        if let Some(row) = self.rows.get_mut(dup.of) {
            row.diagnosis.inputs.push(dup.input.clone());
            if row.diagnosis.inputs.len() == 2 {
                self.duplicated += 1;
            }
        }
    }
}

impl FleetSummary {
    /// Devices read from more than one input: one note each, or for many one note with a
    /// count and a few examples.
    pub fn duplicate_notes(&self) -> Vec<String> {
        let twice: Vec<&DeviceRow> = self
            .rows
            .iter()
            .filter(|r| r.diagnosis.inputs.len() > 1)
            .collect();
        let line = |r: &DeviceRow| {
            format!(
                "{} (DeviceId {}) was read from {} inputs and is reported once, diagnosed from the first: {}",
                r.diagnosis.device,
                r.device_id.as_deref().unwrap_or("unknown"),
                r.diagnosis.inputs.len(),
                r.diagnosis.inputs.join(", ")
            )
        };
        if twice.len() <= EXAMPLES {
            return twice.into_iter().map(line).collect();
        }
        let names: Vec<String> = twice
            .iter()
            .take(EXAMPLES)
            .map(|r| r.diagnosis.device.clone())
            .collect();
        vec![format!(
            "{} devices were read from more than one input (the same DeviceId) and are reported once each, diagnosed from their first input: {}; every device lists its inputs",
            twice.len(),
            examples(&names, twice.len())
        )]
    }

    /// Every note of the summary as the report shows it: the input notes, then the devices
    /// read twice.
    pub fn note_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.notes.iter().map(FleetNote::to_string).collect();
        out.extend(self.duplicate_notes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV001, DEV005, DEV007};
    use crate::checks::user::USR005;
    use crate::device::sources::DeviceRef;
    use crate::diagnose::DeviceOutcome;
    use crate::model::{EnrollmentPath, Subject};

    fn device(ordinal: usize, name: &str, verdict: Verdict, causes: &[&str]) -> FleetDevice {
        let subject = Subject::Device(name.to_string());
        let mut findings = vec![
            DEV001.finding(Status::Pass, subject.clone(), "joined"),
            DEV005.finding(Status::Pass, subject.clone(), "applied"),
        ];
        for c in causes {
            let meta = registry::get(c).unwrap_or(&DEV007);
            findings.push(
                meta.finding(Status::Fail, subject.clone(), "fails")
                    .with_remediation(format!("fix {c} on {name}")),
            );
        }
        FleetDevice {
            ordinal,
            at: DeviceRef {
                member: ordinal,
                index: 0,
            },
            input: format!("fleet/{name}"),
            fleet: true,
            outcome: DeviceOutcome {
                diagnosis: Diagnosis {
                    device: name.to_string(),
                    path: EnrollmentPath::GpoHybrid,
                    verdict,
                    causes: causes.iter().map(|c| c.to_string()).collect(),
                    fix: causes
                        .first()
                        .map(|c| format!("first fix {c} on {name}"))
                        .unwrap_or_default(),
                    explanation: String::new(),
                    user: None,
                    inputs: vec![format!("fleet/{name}")],
                    facts: Vec::new(),
                },
                findings,
                tenant_evidence: Vec::new(),
                input_notes: vec!["input EXPECTED.md was not used: not recognised".to_string()],
                device_id: Some(format!("id-{name}")),
            },
        }
    }

    fn fleet(correlated: bool) -> FleetSummary {
        let tenant: Vec<Finding> = Vec::new();
        let mut a = FleetAggregator::new(correlated.then_some(tenant.as_slice()));
        let devices = [
            device(0, "PC-E1", Verdict::Enrolled, &[]),
            device(1, "PC-F2", Verdict::Failed, &["USR005", "DEV007"]),
            device(2, "PC-B1", Verdict::Blocked, &["DEV005"]),
            device(3, "PC-F1", Verdict::Failed, &["USR005", "DEV007"]),
            device(4, "PC-F3", Verdict::Failed, &["DEV007"]),
            device(5, "PC-E0", Verdict::Enrolled, &[]),
        ];
        for d in &devices {
            a.device(d);
        }
        a.finish()
    }

    #[test]
    fn counts_verdicts_and_orders_rows_by_severity_then_name() {
        let s = fleet(false);
        assert_eq!(s.devices, 6);
        assert_eq!(s.verdicts.failed, 3);
        assert_eq!(s.verdicts.blocked, 1);
        assert_eq!(s.verdicts.enrolled, 2);
        let names: Vec<&str> = s.rows.iter().map(|r| r.diagnosis.device.as_str()).collect();
        assert_eq!(
            names,
            ["PC-F1", "PC-F2", "PC-F3", "PC-B1", "PC-E0", "PC-E1"]
        );
        assert_eq!(s.rows[0].ordinal, 3);
        assert_eq!(s.rows[0].device_id.as_deref(), Some("id-PC-F1"));
    }

    #[test]
    fn the_histogram_names_the_tenant_cause_only_when_there_is_a_tenant() {
        let offline = fleet(false);
        let rows: Vec<(Verdict, Option<&str>, Option<&str>, usize)> = offline
            .histogram
            .iter()
            .map(|r| {
                (
                    r.verdict,
                    r.cause.as_deref(),
                    r.tenant_cause.as_deref(),
                    r.devices,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (Verdict::Failed, Some("USR005"), None, 2),
                (Verdict::Failed, Some("DEV007"), None, 1),
                (Verdict::Blocked, Some("DEV005"), None, 1),
                (Verdict::Enrolled, None, None, 2),
            ]
        );
        assert_eq!(offline.histogram[0].examples, ["PC-F2", "PC-F1"]);
        let correlated = fleet(true);
        assert_eq!(
            correlated.histogram[0].tenant_cause.as_deref(),
            Some("USR005")
        );
        assert_eq!(correlated.histogram[1].tenant_cause, None);
        assert!(correlated.tenant.is_some() && offline.tenant.is_none());
    }

    #[test]
    fn causes_count_devices_in_the_chain_and_at_its_head() {
        let s = fleet(false);
        let rows: Vec<(&str, usize, usize)> = s
            .causes
            .iter()
            .map(|c| (c.check.as_str(), c.devices, c.first))
            .collect();
        assert_eq!(rows, [("DEV007", 3, 1), ("USR005", 2, 2), ("DEV005", 1, 1)]);
        // The fix of the first example: the diagnosis' when the check leads, else the finding's.
        assert_eq!(s.causes[0].fix, "fix DEV007 on PC-F2");
        assert_eq!(s.causes[1].fix, "first fix USR005 on PC-F2");
        assert_eq!(s.causes[1].severity, Some(USR005.severity));
        let dev005 = s.checks.iter().find(|c| c.check == "DEV005");
        assert_eq!(
            dev005.map(|c| (c.pass, c.fail)),
            Some((6, 1)),
            "{:?}",
            s.checks
        );
    }

    #[test]
    fn a_note_many_devices_share_is_said_once_with_a_count() {
        let s = fleet(false);
        assert_eq!(s.notes.len(), 1);
        assert_eq!(s.notes[0].devices, 6);
        assert_eq!(
            s.notes[0].to_string(),
            "input EXPECTED.md was not used: not recognised (on 6 devices: PC-E1, PC-F2, PC-B1 and 3 more)"
        );
        let one = FleetNote {
            text: "input a.xml was not used: empty file".into(),
            devices: 1,
            examples: vec!["PC-1".into()],
        };
        assert_eq!(
            one.to_string(),
            "PC-1: input a.xml was not used: empty file"
        );
    }

    #[test]
    fn a_device_read_twice_lists_both_inputs_and_gets_a_note() {
        let mut a = FleetAggregator::new(None);
        a.device(&device(0, "PC-A", Verdict::Failed, &["DEV007"]));
        a.device(&device(1, "PC-B", Verdict::Enrolled, &[]));
        a.duplicate(&Duplicate {
            of: 0,
            device_id: "id-PC-A".into(),
            device: "PC-A".into(),
            input: "fleet/PC-A.zip".into(),
            at: DeviceRef {
                member: 2,
                index: 0,
            },
        });
        let s = a.finish();
        assert_eq!(s.devices, 2);
        assert_eq!(s.duplicated, 1);
        assert_eq!(s.verdicts.total(), 2);
        assert_eq!(s.rows[0].diagnosis.inputs, ["fleet/PC-A", "fleet/PC-A.zip"]);
        assert_eq!(
            s.duplicate_notes(),
            [
                "PC-A (DeviceId id-PC-A) was read from 2 inputs and is reported once, diagnosed from the first: fleet/PC-A, fleet/PC-A.zip"
            ]
        );
        // Many: one note.
        let mut a = FleetAggregator::new(None);
        for i in 0..5 {
            a.device(&device(i, &format!("PC-{i}"), Verdict::Enrolled, &[]));
            a.duplicate(&Duplicate {
                of: i,
                device_id: format!("id-PC-{i}"),
                device: format!("PC-{i}"),
                input: format!("fleet/PC-{i}.zip"),
                at: DeviceRef {
                    member: 10 + i,
                    index: 0,
                },
            });
        }
        let notes = a.finish().duplicate_notes();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("5 devices were read from more than one input")
                && notes[0].contains("PC-0, PC-1, PC-2 and 2 more"),
            "{notes:?}"
        );
    }
}
