//! One verdict and an ordered cause chain per device, following Microsoft's "Diagnose MDM
//! enrollment" order: prerequisites (hybrid join, PRT, MDM URL, GPO, task) → event 75 → event 76
//! and its code → never triggered → 7016 / stale Enrollments keys.
//!
//! Tenant correlation plugs in through `tenant_findings`: failing USR/TEN/COR findings for this
//! device go in front of the device causes (a tenant restriction explains a device's 76).

use crate::checks::causes::{PREREQUISITES, ROOT_DEVICE_CAUSES, rank_device_causes};
use crate::model::{CheckMeta, Diagnosis, EnrollmentPath, Finding, SkipReason, Status, Verdict};

use super::analysis::DeviceAnalysis;
use super::enrolled::EnrolledState;
use super::{DEV006, DEV007, DEV008, DEV009};

/// The diagnosis of one device. `tenant_findings` are the tenant, user and correlation findings
/// that concern this device (empty in device-only mode).
pub fn diagnose(analysis: &DeviceAnalysis, tenant_findings: &[Finding]) -> Diagnosis {
    diagnose_with(analysis, tenant_findings, true)
}

/// As [`diagnose`]; `sort_by_code` as in [`rank_device_causes`].
pub fn diagnose_with(
    analysis: &DeviceAnalysis,
    tenant_findings: &[Finding],
    sort_by_code: bool,
) -> Diagnosis {
    let fails = |check: &CheckMeta| {
        analysis
            .get(check)
            .is_some_and(|f| f.status == Status::Fail)
    };
    let causes = rank_device_causes(analysis, tenant_findings, sort_by_code);
    let find = |id: &str| -> Option<&Finding> {
        tenant_findings
            .iter()
            .find(|f| f.check == id && f.status == Status::Fail)
            .or_else(|| analysis.findings.iter().find(|f| f.check == id))
    };

    let enrolled = match &analysis.enrolled {
        EnrolledState::Enrolled { .. } => true,
        // Without the registry, a last event 75 is positive evidence of success.
        EnrolledState::Unknown { .. } => analysis.last_outcome == Some(true),
        EnrolledState::NotEnrolled { .. } => false,
    };
    let attempt_failed = fails(&DEV007) || (fails(&DEV009) && analysis.already_enrolled_event);
    let tenant_blocks = tenant_findings.iter().any(|f| f.status == Status::Fail);
    let prereq_fails = PREREQUISITES.iter().any(|c| fails(c))
        || ROOT_DEVICE_CAUSES.iter().any(|c| fails(c))
        || tenant_blocks;

    let path = analysis.path();
    let (verdict, causes) = if enrolled {
        (Verdict::Enrolled, Vec::new())
    } else if attempt_failed {
        (Verdict::Failed, causes)
    } else if prereq_fails {
        (Verdict::Blocked, causes)
    } else if fails(&DEV008) {
        // Nothing ran: a leftover key cannot be what stopped it (it would show as 7016).
        (Verdict::NotTriggered, causes)
    } else if fails(&DEV009) {
        (Verdict::Blocked, causes)
    } else if prerequisites_verified(analysis) {
        (Verdict::WillEnroll, causes)
    } else {
        (Verdict::Unknown, causes)
    };

    let first = causes.first().and_then(|id| find(id));
    let fix = match verdict {
        Verdict::Enrolled => String::new(),
        Verdict::Unknown => missing_evidence(analysis)
            .map(|(_, collect)| format!("Collect {collect}"))
            .or_else(|| not_enrolled_off_gpo(analysis).map(str::to_string))
            .unwrap_or_else(|| "Collect the device report with the collector (`enroll-doctor collector`).".to_string()),
        Verdict::WillEnroll => "No action needed: sign in on the device (or wait for the next run of the auto-enrollment task) and check for event 75.".to_string(),
        _ => first.map(|f| f.remediation.clone()).unwrap_or_default(),
    };
    let explanation = explain(analysis, verdict, path, first, &causes);
    Diagnosis {
        device: analysis.device.clone(),
        path,
        verdict,
        causes,
        fix,
        explanation,
        user: None,
        inputs: Vec::new(),
        facts: Vec::new(),
    }
}

/// Every prerequisite that applies to the path has been checked and passed.
fn prerequisites_verified(analysis: &DeviceAnalysis) -> bool {
    let mut applicable = 0;
    for check in PREREQUISITES {
        match analysis.get(check) {
            Some(f) if f.status == Status::Pass => applicable += 1,
            Some(f) if matches!(f.skip_reason, Some(SkipReason::NotApplicable { .. })) => {}
            // DEV006 without a task list is tolerable: the task appears with the GPO.
            Some(f) if f.is(&DEV006) && f.status == Status::Skip => {}
            _ => return false,
        }
    }
    // Only the GPO task retries by itself; on other paths "ready but not enrolled" needs a person.
    applicable > 0
        && matches!(
            analysis.path(),
            EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement
        )
}

/// A device off the GPO path that is known not to be enrolled although everything checked is
/// in order: nothing on it retries by itself, so say what a person has to do.
fn not_enrolled_off_gpo(analysis: &DeviceAnalysis) -> Option<&'static str> {
    if !matches!(analysis.enrolled, EnrolledState::NotEnrolled { .. }) {
        return None;
    }
    match analysis.path() {
        EnrollmentPath::EntraJoin => Some(
            "An Entra joined device enrolls only during the join (OOBE, Autopilot or Settings > Accounts > Access work or school > Join): the user who joined it was probably outside the MDM user scope then, or that enrollment failed (read the DeviceManagement-Enterprise-Diagnostics-Provider Admin log around the join). Nothing retries it: apply the \"Enable automatic MDM enrollment using default Microsoft Entra credentials\" policy to the device (local Group Policy: it is not managed yet), which creates the auto-enrollment task, or disconnect and re-join it with a user in the MDM user scope.",
        ),
        EnrollmentPath::EntraRegistered => Some(
            "The work account was added with an MDM offer but the device is not enrolled: the user declined device management when adding the account, or it failed. Enroll it from Settings > Accounts > Access work or school > Enroll only in device management, or, for a corporate device, Entra join it instead.",
        ),
        _ => None,
    }
}

/// The first prerequisite or attempt check that could not run for lack of evidence.
fn missing_evidence(analysis: &DeviceAnalysis) -> Option<(&str, &str)> {
    PREREQUISITES
        .iter()
        .chain([&DEV007, &DEV008].iter())
        .filter_map(|check| analysis.get(check))
        .find_map(|f| match &f.skip_reason {
            Some(SkipReason::NoEvidence { collect }) => Some((f.check.as_str(), collect.as_str())),
            _ => None,
        })
}

fn explain(
    analysis: &DeviceAnalysis,
    verdict: Verdict,
    path: EnrollmentPath,
    first: Option<&Finding>,
    causes: &[String],
) -> String {
    let mut text = match verdict {
        Verdict::Enrolled => match &analysis.enrolled {
            EnrolledState::Enrolled {
                enrollment_id, upn, ..
            } => format!(
                "Enrolled in Intune on the {path} path (enrollment {enrollment_id}{}).",
                upn.as_deref()
                    .map(|u| format!(", user {u}"))
                    .unwrap_or_default()
            ),
            _ => format!(
                "The last auto-enrollment event is 75 (succeeded) on the {path} path; export HKLM\\SOFTWARE\\Microsoft\\Enrollments to confirm the enrollment."
            ),
        },
        Verdict::Failed => format!(
            "Auto-enrollment ran and failed on the {path} path. {}",
            first_cause_sentence(first)
        ),
        Verdict::Blocked => format!(
            "Auto-enrollment cannot succeed on the {path} path until this is fixed. {}",
            first_cause_sentence(first)
        ),
        Verdict::NotTriggered => format!(
            "Auto-enrollment was never triggered on the {path} path. {}",
            first_cause_sentence(first)
        ),
        Verdict::WillEnroll => format!(
            "Every prerequisite checked on the {path} path is met and no attempt is recorded yet: the device should enroll at the next run of the auto-enrollment task."
        ),
        Verdict::Unknown => match missing_evidence(analysis) {
            Some((id, _)) => format!(
                "Not enough evidence to decide on the {path} path: {id} could not be evaluated."
            ),
            None if not_enrolled_off_gpo(analysis).is_some() => format!(
                "Not enrolled on the {path} path although every prerequisite checked now is met; no attempt is on record and nothing on this path retries by itself."
            ),
            None => format!("Not enough evidence to decide on the {path} path."),
        },
    };
    if causes.len() > 1 {
        text.push_str(&format!(" Then: {}.", causes[1..].join(", ")));
    }
    let warns: Vec<&str> = analysis
        .findings
        .iter()
        .filter(|f| f.status == Status::Warn)
        .map(|f| f.check.as_str())
        .collect();
    if !warns.is_empty() {
        text.push_str(&format!(" Warnings: {}.", warns.join(", ")));
    }
    text
}

fn first_cause_sentence(first: Option<&Finding>) -> String {
    match first {
        Some(f) => format!("First cause {}: {}.", f.check, f.summary),
        None => "No single cause was identified.".to_string(),
    }
}
