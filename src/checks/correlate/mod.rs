//! Cloud + device correlation (COR001–COR007) and the per-device diagnosis with tenant facts.
//!
//! Pure: a [`TenantSnapshot`], one [`DeviceReport`] with its device analysis, the tenant
//! findings (evaluated once per run) and the evaluation date in; findings and one
//! [`Diagnosis`] out. The device's failure code is mapped to the tenant causes that can produce
//! it on its enrollment path ([`codes`]), and each is confirmed or ruled out with the tenant
//! facts; the confirmed ones lead the cause chain, carrying evidence from both sides.

pub mod codes;
pub mod keys;
pub mod records;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::checks::device::DeviceAnalysis;
use crate::checks::device::diagnosis::diagnose_with;
use crate::checks::user::{DeviceContext, user_readiness_with};
use crate::device::report::DeviceReport;
use crate::model::{Diagnosis, EnrollmentPath, Evidence, Finding, SkipReason, Status, Subject};
use crate::tenant::snapshot::TenantSnapshot;

use codes::{Judged, Outcome, TenantCause, candidates, describe, judge};
pub use keys::{DeviceKeys, EnrollingUser, UserSource, device_keys};
use records::*;

/// User checks that stop an enrollment when they fail (USR004 and USR007 only warn).
pub const BLOCKING_USER_CHECKS: [&str; 6] =
    ["USR001", "USR002", "USR003", "USR005", "USR006", "USR008"];

/// Tenant checks that stop every user-driven enrollment when they fail.
const BLOCKING_TENANT_CHECKS: [&str; 3] = ["TEN001", "TEN002", "TEN003"];

/// Everything correlation concluded about one device.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub keys: DeviceKeys,
    /// COR001–COR007, then the enrolling user's USR001–USR008, then DEV001–DEV011 (device
    /// findings carry the tenant-side verdict on their failure code as extra evidence).
    pub findings: Vec<Finding>,
    /// Device-side evidence for tenant-wide findings that explain this device: merge it into
    /// the run's TEN findings (see [`merge_findings`]).
    pub tenant_evidence: Vec<(String, Evidence)>,
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
    let subject = analysis.subject.clone();
    let path = analysis.path();
    let keys = device_keys(report, analysis, user_flag);

    let cor001 = cor001_other_tenant(snap, &keys, &subject);
    let other_tenant = cor001.status == Status::Fail;
    let graph_user = keys
        .user
        .as_ref()
        .filter(|_| !other_tenant)
        .and_then(|u| snap.user(&u.upn));
    let user_findings: Vec<Finding> = match (&keys.user, other_tenant) {
        (Some(u), false) => user_readiness_with(
            snap,
            &u.upn,
            &DeviceContext {
                path: (path != EnrollmentPath::Unknown).then_some(path),
                // The OS range is COR006's job, against the device's own build.
                os_version: None,
                autopilot_registered: None,
            },
        ),
        _ => Vec::new(),
    };

    let mut cor: Vec<Finding> = vec![cor001];
    if other_tenant {
        let t = keys
            .tenant_id
            .as_ref()
            .map(|(t, _)| t.clone())
            .unwrap_or_default();
        for id in ["COR002", "COR003", "COR004", "COR005", "COR006", "COR007"] {
            cor.push(Finding::skip(
                id,
                subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!("a snapshot of the tenant the device is joined to ({t})"),
                },
            ));
        }
    } else {
        cor.push(cor002_entra_record(snap, report, &keys, path, &subject));
        cor.push(cor003_entra_health(
            snap, report, &keys, path, &subject, as_of,
        ));
        cor.push(cor004_intune_record(snap, analysis, &keys, &subject));
        cor.push(cor006_restriction_build(snap, &keys, graph_user, &subject));
        cor.push(cor007_troubleshooting(
            snap, analysis, &keys, graph_user, &subject,
        ));
    }

    let judged: Vec<Judged> = match analysis.failure_code {
        Some(code) if !other_tenant => {
            let all: Vec<&Finding> = tenant_findings
                .iter()
                .chain(&user_findings)
                .chain(&cor)
                .chain(&analysis.findings)
                .collect();
            judge(&candidates(code, path), &all)
        }
        _ => Vec::new(),
    };
    let code_line = analysis
        .failure_code
        .filter(|_| !judged.is_empty())
        .map(|c| describe(c, path, &judged));

    if !other_tenant {
        let cor005 = cor005_user_ready(
            analysis,
            &keys,
            &user_findings,
            &judged,
            code_line.as_deref(),
            &subject,
        );
        // Keep ID order: COR005 between COR004 and COR006.
        let at = cor
            .iter()
            .position(|f| f.check.as_str() > "COR005")
            .unwrap_or(cor.len());
        cor.insert(at, cor005);
    }

    // Device-side evidence that ties a tenant finding to this device.
    let device_ev = device_side_evidence(analysis, &keys);
    let confirmed: Vec<String> = judged
        .iter()
        .filter_map(|j| j.outcome.implicating().cloned())
        .flatten()
        .collect();
    let strong_user = keys.user.as_ref().is_some_and(|u| u.source.is_strong());

    let mut chosen: Vec<String> = Vec::new();
    fn push(chosen: &mut Vec<String>, id: &str) {
        if !chosen.iter().any(|c| c == id) {
            chosen.push(id.to_string());
        }
    }
    let fails = |list: &[Finding], id: &str| {
        list.iter()
            .any(|f| f.check == id && f.status == Status::Fail)
    };
    if fails(&cor, "COR001") {
        push(&mut chosen, "COR001");
    } else {
        // A device without a DeviceId has no record because it never joined: DEV001 explains it.
        if keys.device_id.is_some() && fails(&cor, "COR002") {
            push(&mut chosen, "COR002");
        }
        if fails(&cor, "COR003") {
            push(&mut chosen, "COR003");
        }
        for id in confirmed.iter().filter(|id| !id.starts_with("DEV")) {
            push(&mut chosen, id);
        }
        for id in BLOCKING_TENANT_CHECKS {
            let applies = id != "TEN003" || path != EnrollmentPath::CoManagement;
            if applies && fails(tenant_findings, id) {
                push(&mut chosen, id);
            }
        }
        for id in BLOCKING_USER_CHECKS {
            // The weakest user hint only counts when the device's own failure confirms it.
            if fails(&user_findings, id) && (strong_user || confirmed.iter().any(|c| c == id)) {
                push(&mut chosen, id);
            }
        }
        if fails(&cor, "COR005") && !chosen.iter().any(|c| c.starts_with("USR")) {
            push(&mut chosen, "COR005");
        }
        for id in ["COR006", "COR004", "COR007"] {
            if fails(&cor, id) {
                push(&mut chosen, id);
            }
        }
    }

    // Clone the chosen findings with the device side added, for the diagnosis and the output.
    let mut tenant_evidence: Vec<(String, Evidence)> = Vec::new();
    let mut user_out = user_findings;
    let mut cause_findings: Vec<Finding> = Vec::new();
    for id in &chosen {
        if id.starts_with("COR") {
            if let Some(f) = cor.iter().find(|f| &f.check == id) {
                cause_findings.push(f.clone());
            }
            continue;
        }
        let mut extra: Vec<Evidence> = Vec::new();
        if id.starts_with("USR")
            && let Some(u) = &keys.user
        {
            extra.push(u.evidence.clone());
        }
        extra.extend(device_ev.iter().cloned());
        if let Some(line) = &code_line
            && confirmed.iter().any(|c| c == id)
        {
            extra.push(Evidence::new(
                "correlation",
                format!("{}: {line}", analysis.device),
            ));
        }
        // A warning the device's code implicates is this device's cause: the diagnosis ranks
        // failing findings only, so its copy counts as failing (the output keeps the warning).
        let as_cause = |mut f: Finding| {
            if f.status == Status::Warn && confirmed.iter().any(|c| c == id) {
                f.status = Status::Fail;
            }
            f
        };
        if let Some(f) = user_out.iter_mut().find(|f| &f.check == id) {
            add_evidence(f, &extra);
            cause_findings.push(as_cause(f.clone()));
        } else if let Some(f) = tenant_findings.iter().find(|f| &f.check == id) {
            let mut f = f.clone();
            let labelled: Vec<Evidence> = extra
                .into_iter()
                .map(|e| label_with_device(e, &analysis.device))
                .collect();
            add_evidence(&mut f, &labelled);
            tenant_evidence.extend(labelled.into_iter().map(|e| (id.clone(), e)));
            cause_findings.push(as_cause(f));
        }
    }

    // The device's own findings learn what the tenant says about their code.
    let mut device_findings = analysis.findings.clone();
    if let Some(line) = &code_line {
        for f in device_findings
            .iter_mut()
            .filter(|f| f.check == "DEV007" && f.status == Status::Fail)
        {
            f.evidence.push(Evidence::new("correlation", line.clone()));
        }
    }
    if let Some(usr003) = user_out.iter().find(|f| f.check == "USR003")
        && let Some(dev003) = device_findings
            .iter_mut()
            .find(|f| f.check == "DEV003" && f.status == Status::Fail)
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

    // The tenant side has been checked: drop the device-only advice to connect a tenant.
    for f in device_findings.iter_mut() {
        f.remediation = without_tenant_hint(&f.remediation);
    }

    let mut enriched = analysis.clone();
    enriched.findings = device_findings;
    // `chosen` is already in cause order: keep it.
    let mut diagnosis = diagnose_with(&enriched, &cause_findings, false);
    diagnosis.user = keys.user.as_ref().map(|u| u.upn.clone());
    if let Some(u) = &keys.user {
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
    if let Some(line) = &code_line
        && diagnosis.verdict == crate::model::Verdict::Failed
    {
        diagnosis
            .explanation
            .push_str(&format!(" Tenant side: {line}."));
    }

    let mut findings = cor;
    findings.extend(user_out);
    findings.extend(enriched.findings);
    Correlation {
        keys,
        findings,
        tenant_evidence,
        judged,
        diagnosis,
    }
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
    if let Some(f) = analysis.finding("DEV007")
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

/// COR005: the enrolling user's blocking USR findings, judged with how much the user source
/// and the device's failure code can be trusted.
fn cor005_user_ready(
    analysis: &DeviceAnalysis,
    keys: &DeviceKeys,
    user_findings: &[Finding],
    judged: &[Judged],
    code_line: Option<&str>,
    subject: &Subject,
) -> Finding {
    const ID: &str = "COR005";
    let Some(user) = &keys.user else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the enrolling user: pass --user UPN, or export the DeviceManagement event log (event 91) and HKLM\\SOFTWARE\\Microsoft\\Enrollments".into(),
            },
        );
    };
    let failing: Vec<&Finding> = user_findings
        .iter()
        .filter(|f| BLOCKING_USER_CHECKS.contains(&f.check.as_str()) && f.status == Status::Fail)
        .collect();
    let confirmed_ids: Vec<&String> = judged
        .iter()
        .filter_map(|j| j.outcome.implicating())
        .flatten()
        .collect();
    let mut evidence = vec![user.evidence.clone()];
    if let Some(line) = code_line {
        evidence.push(Evidence::new("correlation", line.to_string()));
    }
    if !failing.is_empty() {
        let confirmed = failing
            .iter()
            .any(|f| confirmed_ids.iter().any(|c| **c == f.check));
        let status = if user.source.is_strong() || confirmed {
            Status::Fail
        } else {
            Status::Warn
        };
        for f in &failing {
            if let Some(e) = f.evidence.first() {
                evidence.push(e.clone());
            }
        }
        let ids: Vec<&str> = failing.iter().map(|f| f.check.as_str()).collect();
        let mut summary = format!(
            "{} ({}) is not ready for Intune: {} — {}",
            user.upn,
            user.source.describe(),
            ids.join(", "),
            failing[0].summary
        );
        if status == Status::Warn {
            summary.push_str(
                " (if this is the user who signs in on the device; it is only the account that ran dsregcmd)",
            );
        }
        let mut f = Finding::new(ID, status, subject.clone(), summary)
            .with_remediation(failing[0].remediation.clone());
        for e in evidence {
            f = f.with_evidence(e);
        }
        return f;
    }
    // Nothing failed. With the MDM scope unreadable (app-only token) and every other cause the
    // code allows ruled out, the device's empty MdmUrl points at the scope by elimination.
    let open: Vec<&Judged> = judged
        .iter()
        .filter(|j| matches!(j.outcome, Outcome::Unknown(_)))
        .collect();
    let others_ruled_out = judged.iter().all(|j| {
        matches!(
            j.outcome,
            Outcome::RuledOut(_) | Outcome::NotApplicable(_) | Outcome::Unknown(_)
        )
    });
    let dev003_fails = analysis
        .finding("DEV003")
        .is_some_and(|f| f.status == Status::Fail);
    if open.len() == 1 && others_ruled_out && open[0].cause == TenantCause::MdmScope && dev003_fails
    {
        if let Some(e) = analysis.finding("DEV003").and_then(|f| f.evidence.first()) {
            evidence.push(e.clone());
        }
        let why = user_findings
            .iter()
            .find(|f| f.check == "USR003")
            .map(|f| f.summary.clone())
            .unwrap_or_else(|| "the MDM user scope was not read".into());
        evidence.push(Evidence::new(
            "graph",
            format!("USR003 not evaluated: {why}"),
        ));
        let mut f = Finding::new(
            ID,
            Status::Fail,
            subject.clone(),
            format!(
                "{} is most likely outside the MDM user scope: the device got no MDM URL, and the tenant rules out the other causes of its code; the scope itself could not be read",
                user.upn
            ),
        )
        .with_remediation(
            "Confirm with a delegated sign-in (`enroll-doctor auth login`, then run again), then add the user to a \
             group in the MDM user scope of Microsoft Intune (Entra admin center > Mobility (MDM and WIP)) or set the \
             scope to All.",
        );
        for e in evidence {
            f = f.with_evidence(e);
        }
        return f;
    }
    let unread: Vec<&str> = user_findings
        .iter()
        .filter(|f| {
            BLOCKING_USER_CHECKS.contains(&f.check.as_str())
                && matches!(f.status, Status::Skip | Status::Error)
        })
        .map(|f| f.check.as_str())
        .collect();
    let mut summary = format!(
        "{} ({}) is licensed, in scope and allowed to enroll Windows as far as checked",
        user.upn,
        user.source.describe()
    );
    if !unread.is_empty() {
        summary.push_str(&format!(" ({} could not be evaluated)", unread.join(", ")));
    }
    let mut f = Finding::new(ID, Status::Pass, subject.clone(), summary);
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}

/// Merges tenant and user findings with the same check and subject (a tenant finding explaining
/// several devices, a user enrolling two devices): the first keeps its place, evidence is
/// united. Device findings are never merged.
pub fn merge_findings(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        // Two reports may carry the same device label; their findings stay apart.
        let mergeable = !matches!(f.subject, Subject::Device(_));
        if mergeable
            && let Some(existing) = out
                .iter_mut()
                .find(|e| e.check == f.check && e.subject == f.subject)
        {
            // A failing variant wins over a passing one of the same check (different device
            // context); its evidence is kept either way.
            if status_weight(&f.status) > status_weight(&existing.status) {
                let mut f = f;
                add_evidence(&mut f, &existing.evidence);
                *existing = f;
            } else {
                add_evidence(existing, &f.evidence);
            }
        } else {
            out.push(f);
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
