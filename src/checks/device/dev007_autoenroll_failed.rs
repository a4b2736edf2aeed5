//! DEV007: the last automatic enrollment attempt (event 76, or the task result) did not fail.

use crate::catalog::error_codes::{LikelyCause, describe, format_hresult, lookup};
use crate::checks::common::{R_AUTO_TS, R_COMANAGE_MONITOR, R_DIAGNOSE, R_ERRORS_TS};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::{
    COLLECT_BUNDLE, COLLECT_DMEDP, event_evidence, event_time, failure_code, later,
};
use super::facts::{Facts, LOG_DMEDP};
use super::shared::{finding, no_evidence, no_evidence_with, not_applicable};

pub const META: CheckMeta = CheckMeta {
    id: "DEV007",
    name: "autoenroll-failed",
    title: "The last automatic enrollment attempt did not fail",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Looks for event 76 (\"Auto MDM Enroll: … Failed\") in the \
        DeviceManagement-Enterprise-Diagnostics-Provider log with no later event 75 (success). Decodes the \
        error code with the catalog (`enroll-doctor explain CODE`) and links it to the tenant checks that \
        explain it.",
    why_it_matters: "Event 76 is the device's own statement that enrollment was tried and refused; its code \
        names the reason (0x80180014 restriction, 0x80180018 license, 0x8018002B scope or UPN, 0x8018002A MFA, \
        0x80180013 device limit…). Enrollment paths: gpo-hybrid and co-management; entra-join logs comparable \
        events during join.",
    how_to_fix: "Run `enroll-doctor explain <code>` for the code in the event and follow its remediation; fix \
        the related tenant finding. Then trigger the task again (sign out and in, or run the EnterpriseMgmt \
        task) and confirm event 75.",
    references: &[R_DIAGNOSE, R_AUTO_TS, R_ERRORS_TS, R_COMANAGE_MONITOR],
};

pub fn evaluate(f: &Facts) -> Finding {
    let fails = f.dmedp(76);
    let applies = matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::Unknown
    );
    if !applies && fails.is_empty() {
        return not_applicable(f, &META);
    }
    let successes = f.dmedp(75);
    let Some(&last_fail) = fails.last() else {
        // No event 76, but the task's own last result is the enrollment's HRESULT.
        if successes.is_empty()
            && let Some((task, c)) = f.autoenroll_task_failure()
        {
            let when = task
                .last_run
                .clone()
                .unwrap_or_else(|| "its last run".to_string());
            let mut evidence = vec![
                Evidence::new(
                    "scheduled-tasks",
                    format!(
                        "task {}: last result {} ({}), last run {when}",
                        task.path,
                        task.last_result.unwrap_or_default(),
                        format_hresult(c)
                    ),
                )
                .at(task.location.to_string()),
                Evidence::new(
                    "error-catalog",
                    format!("{} (read from the task's last result)", describe(c)),
                ),
            ];
            if !f.dmedp_log.supplied() {
                evidence.push(Evidence::new(
                    "report",
                    format!("no {LOG_DMEDP} export: collect {COLLECT_DMEDP} for the event 76 text"),
                ));
            }
            let (summary, remediation) = code_summary_and_fix(
                c,
                format!("the auto-enrollment task's last run ({when}) failed"),
                &when,
            );
            return finding(f, &META, Status::Fail, summary, evidence)
                .with_remediation(remediation);
        }
        // A disabled or empty log cannot show a 76: its silence is not a pass.
        let log_silent = f.dmedp_log.enabled == Some(false)
            || (f.dmedp_log.events == 0 && f.dmedp_log.enabled != Some(true));
        if f.dmedp_log.supplied() && log_silent && successes.is_empty() {
            let state = if f.dmedp_log.enabled == Some(false) {
                "disabled"
            } else {
                "empty, and its enabled state is not recorded"
            };
            let collect = if f.dmedp_log.enabled == Some(false) {
                "the log again after enabling it (`wevtutil sl \"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\" /e:true`) and the next sign-in"
            } else {
                COLLECT_BUNDLE
            };
            return no_evidence_with(
                f,
                &META,
                collect,
                format!(
                    "the DeviceManagement log is {state}: the absence of event 76 proves nothing"
                ),
                vec![
                    Evidence::new(
                        "event-log",
                        format!("{LOG_DMEDP}: {state}, {} events", f.dmedp_log.events),
                    )
                    .at(f.dmedp_log.files.join(", ")),
                ],
            );
        }
        if f.dmedp_log.supplied() {
            let since = f
                .dmedp_log
                .oldest
                .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            let mut evidence = vec![
                Evidence::new(
                    "event-log",
                    format!(
                        "{} DeviceManagement events{since}, no event 76",
                        f.dmedp_log.events
                    ),
                )
                .at(f.dmedp_log.files.join(", ")),
            ];
            if let Some(&(_, s)) = successes.last() {
                evidence.push(event_evidence(
                    s,
                    format!("event 75 (auto-enrollment succeeded) at {}", event_time(s)),
                ));
            }
            return finding(
                f,
                &META,
                Status::Pass,
                "no failed auto-enrollment (event 76) in the DeviceManagement log",
                evidence,
            );
        }
        return no_evidence(
            f,
            &META,
            COLLECT_DMEDP,
            "the DeviceManagement-Enterprise-Diagnostics-Provider Admin log was not supplied",
        );
    };
    if let Some(&later_ok) = successes.iter().find(|s| later(last_fail, **s)) {
        return finding(
            f,
            &META,
            Status::Pass,
            format!(
                "auto-enrollment failed {} time(s) but then succeeded (event 75 at {})",
                fails.len(),
                event_time(later_ok.1)
            ),
            vec![
                event_evidence(
                    last_fail.1,
                    format!("last event 76 at {}", event_time(last_fail.1)),
                ),
                event_evidence(later_ok.1, "event 75: auto-enrollment succeeded"),
            ],
        );
    }
    let e = last_fail.1;
    let code = failure_code(e);
    let mut evidence = Vec::new();
    let msg = e.message.clone().unwrap_or_else(|| {
        e.data
            .iter()
            .map(|d| d.value.clone())
            .collect::<Vec<_>>()
            .join(", ")
    });
    evidence.push(event_evidence(
        e,
        format!("event 76 at {}: {msg}", event_time(e)),
    ));
    // Event 52 carries the enrollment server's own reason (SOAP fault), logged just before the
    // 76 it caused: it names what the HRESULT only hints at.
    if let Some(&(_, fault)) = f.dmedp(52).iter().rev().find(|(i, f52)| {
        *i < last_fail.0
            && match (f52.time, e.time) {
                (Some(t52), Some(t76)) => t76 >= t52 && t76 - t52 <= chrono::Duration::minutes(10),
                _ => true,
            }
    }) {
        let text = fault.message.clone().unwrap_or_else(|| {
            fault
                .data
                .iter()
                .map(|d| d.value.clone())
                .collect::<Vec<_>>()
                .join(", ")
        });
        evidence.push(event_evidence(
            fault,
            format!(
                "event 52 at {} (the server's answer): {text}",
                event_time(fault)
            ),
        ));
    }
    if fails.len() > 1 {
        let first = fails[0].1;
        evidence.push(event_evidence(
            first,
            format!(
                "first of {} events 76 at {}",
                fails.len(),
                event_time(first)
            ),
        ));
    }
    let (summary, remediation) = match code {
        Some((c, how)) => {
            evidence.push(Evidence::new("error-catalog", format!("{} (read from the {how})", describe(c))));
            code_summary_and_fix(
                c,
                format!("auto-enrollment failed {} time(s), last at {}", fails.len(), event_time(e)),
                &event_time(e),
            )
        }
        None => (
            format!(
                "auto-enrollment failed {} time(s), last at {} (no error code in the export)",
                fails.len(),
                event_time(e)
            ),
            "Export the log with `wevtutil qe ... /f:RenderedXml` to keep the error text, then run `enroll-doctor explain CODE`.".to_string(),
        ),
    };
    if successes.is_empty() {
        evidence.push(
            Evidence::new("event-log", "no event 75 (success) after it")
                .at(e.location.file.clone()),
        );
    }
    finding(f, &META, Status::Fail, summary, evidence).with_remediation(remediation)
}

/// Summary and fix for a decoded failure code: the catalog's meaning and remediation, plus a
/// pointer to the tenant-side checks when the code's usual cause lives in the tenant.
fn code_summary_and_fix(c: u32, lead: String, when: &str) -> (String, String) {
    let entry = lookup(c);
    let tenant_side = entry.is_some_and(|e| {
        matches!(
            e.likely_cause,
            LikelyCause::MdmScope
                | LikelyCause::PlatformRestriction
                | LikelyCause::License
                | LikelyCause::DeviceLimit
                | LikelyCause::ConditionalAccess
                | LikelyCause::JoinNotAllowed
        )
    });
    // The first sentence is enough for a summary; the evidence carries the rest.
    let meaning = entry
        .map(|e| first_sentence(e.description))
        .unwrap_or("not in the error catalog");
    let summary = format!("{lead}, with {}: {meaning}", format_hresult(c));
    let mut fix = entry
                .map(|e| e.remediation.to_string())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| {
                    format!("Run `enroll-doctor explain {}` and read the DeviceManagement-Enterprise-Diagnostics-Provider Admin and Microsoft-Windows-AAD/Operational logs around {when}.", format_hresult(c))
                });
    if tenant_side {
        fix.push_str(" Confirm tenant-side: run `enroll-doctor diagnose` with a tenant connection (or --snapshot) to check the user's license, MDM scope and restrictions.");
    }
    (summary, fix)
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..i],
        None => text.trim_end_matches('.'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;
    use crate::device::report::*;
    use crate::model::SkipReason;

    this_check!(META, evaluate);

    /// The failure code the analysis hands to the diagnosis for `r`.
    fn failure_code_of(r: &DeviceReport) -> Option<u32> {
        Facts::new(r, as_of(), None).last_failure_code()
    }

    #[test]
    fn dev007_decodes_code_from_data_message_and_recovers_on_later_75() {
        let f = check(&failed_device());
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("0x8018002B"), "{}", f.summary);
        assert!(f.summary.contains("2 time(s)"));
        assert_eq!(failure_code_of(&failed_device()), Some(0x8018_002B));

        // Only the message carries the code (no insertion strings).
        let mut r = failed_device();
        r.events = vec![event(
            PROVIDER_DMEDP,
            76,
            3,
            &[],
            Some("Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x80180014)"),
        )];
        assert_eq!(failure_code_of(&r), Some(0x8018_0014));

        let mut r = failed_device();
        r.events.push(dmedp(75, 30, &["0x0"]));
        assert_eq!(check(&r).status, Status::Pass);

        let mut r = failed_device();
        r.events.retain(|e| !e.is_dmedp());
        assert!(matches!(
            check(&r).skip_reason,
            Some(SkipReason::NoEvidence { .. })
        ));
    }
}
