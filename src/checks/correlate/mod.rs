//! Cloud + device correlation (COR001–COR007) and the per-device diagnosis with tenant facts.
//!
//! Pure: a [`TenantSnapshot`], one [`DeviceReport`] with its device analysis, the tenant
//! findings (evaluated once per run) and the evaluation date in; findings and one
//! [`Diagnosis`] out. [`correlate`] runs in named stages:
//! 1. the join keys ([`keys::device_keys`]) and the checks over the records
//!    ([`evaluate_records`]): COR001 first, which alone decides whether the others apply;
//! 2. the enrolling user's USR checks ([`enrolling_user_findings`]);
//! 3. the device's failure code judged against all of these ([`judge_failure_code`]): each
//!    tenant cause the code allows on the device's path ([`crate::checks::codes`]) is confirmed
//!    or ruled out by the findings of the checks that decide it;
//! 4. the checks that read that judgement (COR005, [`evaluate_after_judging`]);
//! 5. the cause chain ([`crate::checks::causes::rank_correlation_causes`]) and the cause
//!    findings with evidence from both sides ([`cause_findings`]);
//! 6. the device findings with what the tenant says about them ([`device_findings`]), and the
//!    diagnosis ([`diagnosis`]).
//!
//! [`RULES`] is the order of the COR findings. To add a correlation check: create
//! `corNNN_<slug>.rs` with a one-line `//!` header, its `pub const META: CheckMeta` and a
//! `pub fn evaluate` over [`CorrelationFacts`] (shared record helpers are in [`records`]), and
//! its unit tests; then add the `mod` line, the `pub use … as CORNNN` line and its entry in
//! [`RULES`], in ID order. A cause of the diagnosis needs its place in
//! [`crate::checks::causes`] as well.

pub mod facts;
pub mod judge;
pub mod keys;
pub mod records;

pub mod cor001_device_in_other_tenant;
pub mod cor002_entra_device_record_missing;
pub mod cor003_entra_device_record_unhealthy;
pub mod cor004_intune_record_mismatch;
pub mod cor005_enrolling_user_not_ready;
pub mod cor006_restriction_blocks_device_build;
pub mod cor007_intune_reports_enrollment_failure;

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::checks::causes::{BLOCKING_USER_CHECKS, CorrelationCauses, rank_correlation_causes};
use crate::checks::codes::TenantCause;
use crate::checks::device::analysis::DeviceAnalysis;
use crate::checks::device::diagnosis::diagnose_with;
use crate::checks::device::{DEV003, DEV007};
use crate::checks::user::{DeviceContext, PresentedUpn, USR003, user_readiness_with};
use crate::device::report::DeviceReport;
use crate::model::{
    Area, CheckMeta, Diagnosis, EnrollmentPath, Evidence, Finding, SkipReason, Status, Subject,
    Verdict,
};
use crate::tenant::snapshot::TenantSnapshot;

pub use cor001_device_in_other_tenant::META as COR001;
pub use cor002_entra_device_record_missing::META as COR002;
pub use cor003_entra_device_record_unhealthy::META as COR003;
pub use cor004_intune_record_mismatch::META as COR004;
pub use cor005_enrolling_user_not_ready::META as COR005;
pub use cor006_restriction_blocks_device_build::META as COR006;
pub use cor007_intune_reports_enrollment_failure::META as COR007;

pub use facts::{CodeFacts, CorrelationFacts};
use judge::{Judged, candidates, describe, judge, only_open_cause};
pub use keys::{DeviceKeys, EnrollingUser, UserSource, device_keys};

/// How a correlation check is evaluated.
pub enum CorrelationEval {
    /// Over the device's and the tenant's records.
    Records(for<'a> fn(&CorrelationFacts<'a>) -> Finding),
    /// After the other findings have been judged against the device's failure code.
    AfterJudging(for<'a> fn(&CorrelationFacts<'a>, &CodeFacts<'a>) -> Finding),
}

/// One correlation check: its metadata and its evaluation.
pub struct CorrelationRule {
    pub meta: &'static CheckMeta,
    pub eval: CorrelationEval,
}

/// Every correlation check in ID order: the order of the COR findings and of the registry.
/// COR001 comes first: when the device is joined to another tenant it is the only one
/// evaluated.
pub static RULES: &[CorrelationRule] = &[
    CorrelationRule {
        meta: &COR001,
        eval: CorrelationEval::Records(cor001_device_in_other_tenant::evaluate),
    },
    CorrelationRule {
        meta: &COR002,
        eval: CorrelationEval::Records(cor002_entra_device_record_missing::evaluate),
    },
    CorrelationRule {
        meta: &COR003,
        eval: CorrelationEval::Records(cor003_entra_device_record_unhealthy::evaluate),
    },
    CorrelationRule {
        meta: &COR004,
        eval: CorrelationEval::Records(cor004_intune_record_mismatch::evaluate),
    },
    CorrelationRule {
        meta: &COR005,
        eval: CorrelationEval::AfterJudging(cor005_enrolling_user_not_ready::evaluate),
    },
    CorrelationRule {
        meta: &COR006,
        eval: CorrelationEval::Records(cor006_restriction_blocks_device_build::evaluate),
    },
    CorrelationRule {
        meta: &COR007,
        eval: CorrelationEval::Records(cor007_intune_reports_enrollment_failure::evaluate),
    },
];

/// Everything correlation concluded about one device.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub keys: DeviceKeys,
    /// COR001–COR007, then the enrolling user's USR001–USR010, then DEV001–DEV011 (device
    /// findings carry the tenant-side verdict on their failure code as extra evidence).
    pub findings: Vec<Finding>,
    /// Device-side evidence for tenant-wide findings that explain this device: merge it into
    /// the run's TEN findings (see [`merge_findings`]).
    pub tenant_evidence: Vec<(&'static CheckMeta, Evidence)>,
    /// The tenant causes considered for the device's failure code.
    pub judged: Vec<Judged>,
    pub diagnosis: Diagnosis,
}

/// What the tenant side must provide for a set of devices: collect it once for all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantNeeds {
    /// Enrolling users' UPNs (lower-cased).
    pub upns: BTreeSet<String>,
    /// Entra DeviceIds (lower-cased).
    pub device_ids: BTreeSet<String>,
    /// Host names, for duplicate and dual-state detection.
    pub names: BTreeSet<String>,
    /// Serial numbers the reports name (`Win32_BIOS`): the Autopilot look-ups.
    pub serial_numbers: BTreeSet<String>,
}

impl TenantNeeds {
    pub fn add(&mut self, keys: &DeviceKeys) {
        if let Some(u) = &keys.user {
            self.upns.insert(u.upn.to_ascii_lowercase());
        }
        if let Some(d) = &keys.device_id {
            self.device_ids.insert(d.clone());
        }
        if let Some(n) = &keys.short_name {
            self.names.insert(n.clone());
        }
    }
}

/// Correlates one device with the tenant. `tenant_findings` are TEN001–TEN009 for the snapshot;
/// `user_flag` is `--user`.
pub fn correlate(
    snap: &TenantSnapshot,
    tenant_findings: &[Finding],
    report: &DeviceReport,
    analysis: &DeviceAnalysis,
    user_flag: Option<&str>,
    as_of: DateTime<Utc>,
) -> Correlation {
    let keys = device_keys(report, analysis, user_flag);
    let facts = CorrelationFacts::new(snap, report, analysis, &keys, as_of);

    let mut slots = evaluate_records(&facts);
    let other_tenant = joined_elsewhere(&slots);
    // The Autopilot family (AP001–AP008) over the same facts: its findings follow the COR ones
    // and are judged and ranked with them (`evaluate_after_judging` fills COR slots only).
    slots.extend(
        autopilot_findings(&facts, other_tenant)
            .into_iter()
            .map(Some),
    );
    let user_findings = enrolling_user_findings(&facts, other_tenant);
    let judged = judge_failure_code(
        &facts,
        tenant_findings,
        &user_findings,
        &slots,
        other_tenant,
    );
    let code_line = analysis
        .failure_code
        .filter(|_| !judged.is_empty())
        .map(|c| describe(c, facts.path, &judged));
    let implicated: Vec<&'static CheckMeta> = judged
        .iter()
        .filter_map(|j| j.outcome.implicating())
        .flatten()
        .copied()
        .collect();
    if !other_tenant {
        let code = CodeFacts {
            user_findings: &user_findings,
            blocking_user_findings: user_findings
                .iter()
                .filter(|f| BLOCKING_USER_CHECKS.iter().any(|c| f.is(c)))
                .collect(),
            implicated: &implicated,
            code_line: code_line.as_deref(),
            only_scope_open: only_open_cause(&judged) == Some(TenantCause::MdmScope),
        };
        evaluate_after_judging(&mut slots, &facts, &code);
    }
    let cor: Vec<Finding> = slots.into_iter().flatten().collect();

    let chosen = rank_correlation_causes(&CorrelationCauses {
        correlation: &cor,
        tenant: tenant_findings,
        user: &user_findings,
        implicated: &implicated,
        path: facts.path,
        has_device_id: keys.device_id.is_some(),
        strong_user: keys.user.as_ref().is_some_and(|u| u.source.is_strong()),
    });
    let mut user_out = user_findings;
    let causes = cause_findings(
        &facts,
        &chosen,
        &cor,
        tenant_findings,
        &mut user_out,
        &implicated,
        code_line.as_deref(),
    );
    let device = device_findings(analysis, &user_out, code_line.as_deref());
    let (diagnosis, device) = diagnosis(
        &facts,
        device,
        &causes.findings,
        other_tenant,
        code_line.as_deref(),
    );

    let mut findings = cor;
    findings.extend(user_out);
    findings.extend(device);
    Correlation {
        keys,
        findings,
        tenant_evidence: causes.tenant_evidence,
        judged,
        diagnosis,
    }
}

/// Stage 1: the checks over the records, one slot per rule of [`RULES`], in its order. COR001
/// comes first: when the device is joined to another tenant every other check is skipped
/// (there is nothing of that tenant to compare with). The slots of the checks evaluated after
/// judging stay empty.
pub fn evaluate_records(f: &CorrelationFacts) -> Vec<Option<Finding>> {
    let mut slots: Vec<Option<Finding>> = Vec::with_capacity(RULES.len());
    for rule in RULES {
        let other_tenant = joined_elsewhere(&slots);
        slots.push(match &rule.eval {
            _ if other_tenant => Some(rule.meta.skip(
                f.subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!(
                        "a snapshot of the tenant the device is joined to ({})",
                        f.keys
                            .tenant_id
                            .as_ref()
                            .map(|(t, _)| t.as_str())
                            .unwrap_or_default()
                    ),
                },
            )),
            CorrelationEval::Records(eval) => Some(eval(f)),
            CorrelationEval::AfterJudging(_) => None,
        });
    }
    slots
}

/// AP001–AP008 for the device; skipped like the COR checks when it is joined to another tenant.
pub fn autopilot_findings(f: &CorrelationFacts, other_tenant: bool) -> Vec<Finding> {
    if other_tenant {
        return crate::checks::autopilot::RULES
            .iter()
            .map(|r| {
                r.meta.skip(
                    f.subject.clone(),
                    SkipReason::NoEvidence {
                        collect: "a snapshot of the tenant the device is joined to".into(),
                    },
                )
            })
            .collect();
    }
    crate::checks::autopilot::evaluate(f)
}

/// The device is joined to another tenant: COR001 failed.
fn joined_elsewhere(slots: &[Option<Finding>]) -> bool {
    slots
        .iter()
        .flatten()
        .any(|f| f.is(&COR001) && f.status == Status::Fail)
}

/// Stage 2: USR001–USR010 for the enrolling user on the device's path (none when no user is
/// known or the device is joined to another tenant).
pub fn enrolling_user_findings(f: &CorrelationFacts, other_tenant: bool) -> Vec<Finding> {
    // A device report's tenant facts do not include the users' owned Entra devices (the
    // fleet reads the devices' own records): USR010 is left out by the user checks and TEN008
    // judges the quota for the tenant.
    let ownership = enrollment_ownership(f);
    match (&f.keys.user, other_tenant) {
        (Some(u), false) => user_readiness_with(
            f.snap,
            &u.upn,
            &DeviceContext {
                path: (f.path != EnrollmentPath::Unknown).then_some(f.path),
                // The OS range is COR006's job, against the device's own build.
                os_version: None,
                // Registered with Autopilot, or listed among the corporate identifiers: what
                // makes an Entra join enrollment corporate (AP006's facts).
                autopilot_registered: ownership.0,
                corporate_identifier_listed: ownership.1,
                // What the device presents, whatever `--user` said.
                presented_upn: match keys::enrolling_user(f.report, f.analysis, None) {
                    Some(d) => PresentedUpn::Seen(d.upn, d.evidence, d.source.is_strong()),
                    None => PresentedUpn::NotInEvidence,
                },
                as_of: Some(f.as_of),
                // The device's report decides the restrictions' assignment filters it can.
                filter_device: Some(crate::tenant::filter_rule::FilterDevice::from_report(
                    f.report,
                )),
            },
        ),
        _ => Vec::new(),
    }
}

/// Whether the device is registered with Autopilot (`Some(false)`: its serial was looked up and
/// not found) and whether corporate identifiers list it (`Some(false)`: Windows identifiers are
/// uploaded and it is not among them), for USR005's personally owned devices.
fn enrollment_ownership(f: &CorrelationFacts) -> (Option<bool>, Option<bool>) {
    use crate::checks::autopilot::ap006_corporate_identifier_makes_personal::{
        Ownership, ownership,
    };
    use crate::checks::autopilot::facts::{AutopilotFacts, Registration};
    let ap = AutopilotFacts::new(f);
    let registered = match ap.registration {
        Registration::Found(..) => Some(true),
        Registration::NotFound(_) => Some(false),
        Registration::NoSerial | Registration::Missing(_) => None,
    };
    let listed = match ownership(&ap) {
        Some(Ownership::Listed) => Some(true),
        Some(Ownership::NotListed) => Some(false),
        _ => None,
    };
    (registered, listed)
}

/// Stage 3: the tenant causes the device's failure code allows on its path, each confirmed,
/// likely, ruled out or left open by the tenant, user, correlation and device findings.
pub fn judge_failure_code(
    f: &CorrelationFacts,
    tenant_findings: &[Finding],
    user_findings: &[Finding],
    slots: &[Option<Finding>],
    other_tenant: bool,
) -> Vec<Judged> {
    match f.analysis.failure_code {
        Some(code) if !other_tenant => {
            let all: Vec<&Finding> = tenant_findings
                .iter()
                .chain(user_findings)
                .chain(slots.iter().flatten())
                .chain(&f.analysis.findings)
                .collect();
            judge(&candidates(code, f.path), &all)
        }
        _ => Vec::new(),
    }
}

/// Stage 4: the checks that read the judged failure code fill their slots.
pub fn evaluate_after_judging(
    slots: &mut [Option<Finding>],
    f: &CorrelationFacts,
    code: &CodeFacts,
) {
    for (slot, rule) in slots.iter_mut().zip(RULES) {
        if let (None, CorrelationEval::AfterJudging(eval)) = (&slot, &rule.eval) {
            *slot = Some(eval(f, code));
        }
    }
}

/// The chosen causes as findings, and the device evidence gathered for tenant-wide ones.
pub struct CauseFindings {
    /// One finding per cause, in cause order, with the device side added.
    pub findings: Vec<Finding>,
    /// Device-side evidence (labelled with the device) for the TEN findings among the causes.
    pub tenant_evidence: Vec<(&'static CheckMeta, Evidence)>,
}

/// Stage 5: the findings of the chosen causes with the device side added, for the diagnosis and
/// the output. The enrolling user's findings get the evidence in place (`user_out`); tenant
/// findings are copied, their new evidence is returned for the run's TEN findings.
pub fn cause_findings(
    f: &CorrelationFacts,
    chosen: &[&'static CheckMeta],
    cor: &[Finding],
    tenant_findings: &[Finding],
    user_out: &mut [Finding],
    implicated: &[&'static CheckMeta],
    code_line: Option<&str>,
) -> CauseFindings {
    let device_ev = device_side_evidence(f.analysis, f.keys);
    let mut out = CauseFindings {
        findings: Vec::new(),
        tenant_evidence: Vec::new(),
    };
    for check in chosen {
        let check: &'static CheckMeta = check;
        if matches!(check.area, Area::Correlation | Area::Autopilot) {
            if let Some(found) = cor.iter().find(|x| x.is(check)) {
                out.findings.push(found.clone());
            }
            continue;
        }
        let implicated_here = implicated.contains(&check);
        let mut extra: Vec<Evidence> = Vec::new();
        if check.area == Area::User
            && let Some(u) = &f.keys.user
        {
            extra.push(u.evidence.clone());
        }
        extra.extend(device_ev.iter().cloned());
        if let Some(line) = code_line
            && implicated_here
        {
            extra.push(Evidence::new(
                "correlation",
                format!("{}: {line}", f.analysis.device),
            ));
        }
        // A warning the device's code implicates is this device's cause: the diagnosis ranks
        // failing findings only, so its copy counts as failing (the output keeps the warning).
        let as_cause = |mut found: Finding| {
            if found.status == Status::Warn && implicated_here {
                found.status = Status::Fail;
            }
            found
        };
        if let Some(found) = user_out.iter_mut().find(|x| x.is(check)) {
            add_evidence(found, &extra);
            out.findings.push(as_cause(found.clone()));
        } else if let Some(found) = tenant_findings.iter().find(|x| x.is(check)) {
            let mut found = found.clone();
            let labelled: Vec<Evidence> = extra
                .into_iter()
                .map(|e| label_with_device(e, &f.analysis.device))
                .collect();
            add_evidence(&mut found, &labelled);
            out.tenant_evidence
                .extend(labelled.into_iter().map(|e| (check, e)));
            out.findings.push(as_cause(found));
        }
    }
    out
}

/// Stage 6: the device's own findings learn what the tenant says about their code (DEV007) and
/// about the MDM URL (DEV003 with USR003); with the tenant checked, the device-only advice to
/// connect one is dropped.
pub fn device_findings(
    analysis: &DeviceAnalysis,
    user_out: &[Finding],
    code_line: Option<&str>,
) -> Vec<Finding> {
    let mut device_findings = analysis.findings.clone();
    if let Some(line) = code_line {
        for f in device_findings
            .iter_mut()
            .filter(|f| f.is(&DEV007) && f.status == Status::Fail)
        {
            f.evidence
                .push(Evidence::new("correlation", line.to_string()));
        }
    }
    if let Some(usr003) = user_out.iter().find(|f| f.is(&USR003))
        && let Some(dev003) = device_findings
            .iter_mut()
            .find(|f| f.is(&DEV003) && f.status == Status::Fail)
    {
        dev003.evidence.push(Evidence::new(
            "correlation",
            format!(
                "tenant side USR003 {}: {}",
                usr003.status.as_str(),
                usr003.summary
            ),
        ));
    }
    for f in device_findings.iter_mut() {
        f.remediation = without_tenant_hint(&f.remediation);
    }
    device_findings
}

/// Stage 6, last: the diagnosis over the device findings with the cause findings in front (in
/// their cause order), and the explanation of who enrolls and what the tenant says. Returns the
/// device findings back for the output.
pub fn diagnosis(
    f: &CorrelationFacts,
    device_findings: Vec<Finding>,
    cause_findings: &[Finding],
    other_tenant: bool,
    code_line: Option<&str>,
) -> (Diagnosis, Vec<Finding>) {
    let mut enriched = f.analysis.clone();
    enriched.findings = device_findings;
    // The cause findings are already in cause order: keep it.
    let mut diagnosis = diagnose_with(&enriched, cause_findings, false);
    diagnosis.user = f.keys.user.as_ref().map(|u| u.upn.clone());
    if let Some(u) = &f.keys.user {
        diagnosis.explanation.push_str(&format!(
            " Enrolling user: {}, {}.",
            u.upn,
            u.source.describe()
        ));
    } else if !other_tenant {
        diagnosis.explanation.push_str(
            " No enrolling user is known: pass --user UPN to check the user's license, scope and restrictions.",
        );
    }
    if let Some(line) = code_line
        && diagnosis.verdict == Verdict::Failed
    {
        diagnosis
            .explanation
            .push_str(&format!(" Tenant side: {line}."));
    }
    (diagnosis, enriched.findings)
}

/// A device remediation without its device-only "confirm tenant-side" hint.
fn without_tenant_hint(text: &str) -> String {
    let mut out = text.to_string();
    // The sentence form ends the text; the parenthetical form sits inside it.
    if let Some(at) = out.find(" Confirm tenant-side: run `enroll-doctor diagnose`") {
        out.truncate(at);
    }
    if let Some(start) = out.find(" (confirm tenant-side:")
        && let Some(len) = out[start..].find(')')
    {
        out.replace_range(start..start + len + 1, "");
    }
    out
}

fn add_evidence(f: &mut Finding, extra: &[Evidence]) {
    for e in extra {
        if !f.evidence.contains(e) {
            f.evidence.push(e.clone());
        }
    }
}

fn label_with_device(e: Evidence, device: &str) -> Evidence {
    if e.detail.starts_with(&format!("{device}: ")) {
        return e;
    }
    Evidence {
        detail: format!("{device}: {}", e.detail),
        ..e
    }
}

/// The device fact a tenant cause explains: the failing event 76, else the enrolled state.
fn device_side_evidence(analysis: &DeviceAnalysis, keys: &DeviceKeys) -> Vec<Evidence> {
    if let Some(f) = analysis.get(&DEV007)
        && f.status == Status::Fail
        && let Some(e) = f.evidence.first()
    {
        return vec![e.clone()];
    }
    if let Some(e) = analysis.enrolled.evidence().first() {
        return vec![e.clone()];
    }
    keys.tenant_id
        .as_ref()
        .map(|(_, e)| vec![e.clone()])
        .unwrap_or_default()
}

/// Merges tenant and user findings with the same check and subject (a tenant finding explaining
/// several devices, a user enrolling two devices): the first keeps its place, evidence is
/// united. Device findings are never merged.
pub fn merge_findings(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    // Where each mergeable (check, subject) sits in `out`: one lookup per finding.
    let mut at: HashMap<(String, Subject), usize> = HashMap::new();
    for f in findings {
        // Two reports may carry the same device label; their findings stay apart.
        if matches!(f.subject, Subject::Device(_)) {
            out.push(f);
            continue;
        }
        match at.entry((f.check.clone(), f.subject.clone())) {
            Entry::Occupied(slot) => {
                let existing = &mut out[*slot.get()];
                // A failing variant wins over a passing one of the same check (different
                // device context); its evidence is kept either way.
                if status_weight(&f.status) > status_weight(&existing.status) {
                    let mut f = f;
                    add_evidence(&mut f, &existing.evidence);
                    *existing = f;
                } else {
                    add_evidence(existing, &f.evidence);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(f);
            }
        }
    }
    out
}

fn status_weight(s: &Status) -> u8 {
    match s {
        Status::Error => 4,
        Status::Fail => 3,
        Status::Warn => 2,
        Status::Skip => 1,
        Status::Pass => 0,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
