//! DEV011: the event logs the diagnosis reads are supplied, enabled and cover the last attempt.

use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE};
use crate::device::report::ArtifactKind;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::{COLLECT_BUNDLE, COLLECT_DMEDP, COLLECT_TASK_LOG};
use super::facts::CaptureKind;
use super::facts::{Facts, LOG_AAD, LOG_AUTOPILOT, LOG_DMEDP, LOG_TASKS, LOG_UDR, LogStatus};
use super::shared::{finding, gpo_driven, no_evidence_with};

pub const META: CheckMeta = CheckMeta {
    id: "DEV011",
    name: "event-logs-incomplete",
    title: "The event logs needed for the diagnosis are enabled and cover the last attempt",
    severity: Severity::Low,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads what the collector recorded about the logs the diagnosis draws conclusions from \
        (enabled, oldest record) and warns when one this device needs is missing or disabled: always \
        DeviceManagement-Enterprise-Diagnostics-Provider/Admin (also when empty or starting after the last \
        enrollment attempt); TaskScheduler/Operational on the GPO-driven paths; Microsoft-Windows-AAD/Operational \
        on the gpo-hybrid and entra-join paths while the user's PRT is not confirmed by dsregcmd (DEV002 reads \
        it); User Device Registration/Admin on the gpo-hybrid and co-management paths while the device is not \
        confirmed joined (DEV001 reads it); ModernDeployment-Diagnostics-Provider/Autopilot when the device \
        shows Autopilot traces. An empty AAD or registration log is no gap: those logs record failures.",
    why_it_matters: "Logs roll over, and Task Scheduler history is often disabled. Conclusions drawn from a \
        missing event (\"never triggered\") are only safe when the log covers the period; otherwise they are \
        downgraded to unknown. Enrollment paths: all.",
    how_to_fix: "Enable the missing log (Event Viewer > Applications and Services Logs > Microsoft > Windows > \
        the log > Enable Log, or `wevtutil sl <log> /e:true`), increase its size if it rolls over quickly, \
        reproduce the attempt (sign in or run the task) and collect again.",
    references: &[R_DIAGNOSE, R_AUTO_TS],
};

pub fn evaluate(f: &Facts) -> Finding {
    let mut problems: Vec<String> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    // Evidence of what is fine goes after the evidence of what is missing.
    let mut fine: Vec<Evidence> = Vec::new();
    // Zero-byte files and event exports with no records are likely empty exports: they show
    // nothing either way.
    let empty: Vec<&str> = f
        .report
        .inputs
        .iter()
        .filter(|i| {
            i.bytes == 0
                || (i.records == 0
                    && (matches!(
                        i.kind,
                        ArtifactKind::EventXml
                            | ArtifactKind::EventJson
                            | ArtifactKind::EventCsv
                            | ArtifactKind::EventText
                    )
                        // An .evtx that could not be read is a damaged log (its note says
                        // how), not an empty one.
                        || (i.kind == ArtifactKind::EventEvtx && i.problem.is_none())))
        })
        .map(|i| i.name.as_str())
        .collect();
    let last_attempt = [107u32, 102, 7016]
        .iter()
        .filter_map(|id| f.task_events(*id).last().and_then(|(_, e)| e.time))
        .max();
    for e in &empty {
        evidence.push(
            Evidence::new(
                "input",
                format!("{e} is empty: an empty export does not show whether a log is enabled"),
            )
            .at(e.to_string()),
        );
    }
    // Only the GPO task writes Task Scheduler history that matters; on the Entra join and
    // registered paths nothing is concluded from that log, so its absence is no gap.
    let needs_task_log = gpo_driven(f) || f.path.path == EnrollmentPath::Unknown;
    let mut logs: Vec<(&LogStatus, &str, bool)> = vec![(&f.dmedp_log, LOG_DMEDP, true)];
    if needs_task_log {
        logs.push((&f.task_log, LOG_TASKS, true));
    }
    // The logs that record failures only: needed while the fact they explain is open.
    let mut secondary: Vec<&str> = Vec::new();
    if needs_aad_log(f) {
        logs.push((&f.aad_log, LOG_AAD, false));
        secondary.push(LOG_AAD);
    }
    if needs_udr_log(f) {
        logs.push((&f.udr_log, LOG_UDR, false));
        secondary.push(LOG_UDR);
    }
    if needs_autopilot_log(f) {
        logs.push((&f.autopilot_log, LOG_AUTOPILOT, false));
        secondary.push(LOG_AUTOPILOT);
    }
    for &(log, name, primary) in &logs {
        let loc = log.files.join(", ");
        if log.enabled == Some(false) {
            problems.push(format!("{name} is disabled"));
            evidence.push(Evidence::new("event-log", format!("{name}: enabled = false")).at(loc));
            continue;
        }
        if !log.supplied() {
            problems.push(format!("no {name} events"));
            evidence.push(Evidence::new(
                "event-log",
                format!("{name}: no events in the inputs"),
            ));
            continue;
        }
        if !primary {
            let since = log
                .oldest
                .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            fine.push(
                Evidence::new(
                    "event-log",
                    format!(
                        "{name}: {} events{since} (records failures only)",
                        log.events
                    ),
                )
                .at(loc),
            );
            continue;
        }
        // The collector's record count covers the whole log; without it, zero exported events
        // is all we know.
        let empty_log = match log.record_count {
            Some(n) => n == 0,
            None => log.events == 0,
        };
        if empty_log {
            problems.push(format!("{name} is empty"));
            evidence.push(Evidence::new("event-log", format!("{name}: 0 events")).at(loc));
            continue;
        }
        if name == LOG_DMEDP
            && let (Some(oldest), Some(attempt)) = (log.oldest, last_attempt)
            && oldest > attempt
        {
            problems.push(format!(
                "{name} starts at {} after the last task run at {}",
                oldest.format("%Y-%m-%d %H:%M UTC"),
                attempt.format("%Y-%m-%d %H:%M UTC")
            ));
            evidence.push(
                Evidence::new("event-log", format!("{name}: oldest record {oldest}")).at(loc),
            );
            continue;
        }
        let since = log
            .oldest
            .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        let enabled = match log.enabled {
            Some(true) => "enabled",
            _ => "enabled state not recorded",
        };
        fine.push(
            Evidence::new(
                "event-log",
                format!("{name}: {} events{since} ({enabled})", log.events),
            )
            .at(loc),
        );
    }
    if !empty.is_empty() {
        problems.push(format!("empty exports: {}", empty.join(", ")));
    }
    evidence.extend(fine);
    let nothing = !f.dmedp_log.supplied() && !f.task_log.supplied();
    if nothing && empty.is_empty() {
        return no_evidence_with(
            f,
            &META,
            COLLECT_BUNDLE,
            "no event log exports among the inputs".to_string(),
            vec![Evidence::new(
                "report",
                "no DeviceManagement or Task Scheduler events supplied",
            )],
        );
    }
    if problems.is_empty() {
        let mut summary = if needs_task_log {
            "the DeviceManagement and Task Scheduler logs were supplied".to_string()
        } else {
            "the DeviceManagement log was supplied (the Task Scheduler log does not matter on this path)".to_string()
        };
        if !secondary.is_empty() {
            summary.push_str(&format!(", and {}", secondary.join(", ")));
        }
        return finding(f, &META, Status::Pass, summary, evidence);
    }
    finding(
        f,
        &META,
        Status::Warn,
        format!(
            "event logs incomplete ({}): conclusions drawn from missing events are downgraded",
            problems.join("; ")
        ),
        evidence,
    )
    .with_remediation(format!(
        "Collect the logs with their state: {COLLECT_BUNDLE}; or {COLLECT_DMEDP} and {COLLECT_TASK_LOG}{}. If a log is disabled, enable it (`wevtutil sl \"<log>\" /e:true`, e.g. Microsoft-Windows-TaskScheduler/Operational) and wait for the next attempt.",
        secondary
            .iter()
            .map(|l| format!(", and `wevtutil qe \"{l}\" /f:xml > {}.xml`", short_name(l)))
            .collect::<String>()
    ))
}

fn short_name(log: &str) -> &'static str {
    match log {
        LOG_AAD => "aad-operational",
        LOG_UDR => "device-registration",
        _ => "autopilot",
    }
}

/// The AAD log explains a missing PRT: needed where DEV002 applies while dsregcmd (in the
/// user's context) does not show AzureAdPrt YES.
fn needs_aad_log(f: &Facts) -> bool {
    if !matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::EntraJoin
    ) {
        return false;
    }
    let user_context = matches!(f.capture.kind, CaptureKind::User);
    let prt_yes = f
        .report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.yes_no("SSO State", "AzureAdPrt"))
        == Some(true);
    !(user_context && prt_yes)
}

/// The registration log explains a failed join: needed where DEV001 applies while dsregcmd
/// does not show AzureAdJoined YES.
fn needs_udr_log(f: &Facts) -> bool {
    if !matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement
    ) {
        return false;
    }
    f.report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.yes_no("Device State", "AzureAdJoined"))
        != Some(true)
}

/// Autopilot's own log matters when the device shows it went through Autopilot.
fn needs_autopilot_log(f: &Facts) -> bool {
    const AUTOPILOT_KEYS: &[&str] = &[
        r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot",
        r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking",
    ];
    f.autopilot_log.events > 0
        || f.report.registry.as_ref().is_some_and(|r| {
            AUTOPILOT_KEYS.iter().any(|k| {
                r.keys.iter().any(|x| {
                    !x.deleted
                        && crate::device::report::normalize_key_path(&x.path)
                            .starts_with(&crate::device::report::normalize_key_path(k))
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;

    use crate::model::SkipReason;

    this_check!(META, evaluate);

    #[test]
    fn dev011_warns_on_missing_or_disabled_logs() {
        assert_eq!(check(&failed_device()).status, Status::Pass);
        let f = check(&stale_device());
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("DeviceManagement"), "{}", f.summary);
        let mut r = quiet_device();
        r.event_logs = vec![log_info(LOG_TASKS, Some(false), 3)];
        let f = check(&r);
        assert!(f.status == Status::Warn && f.summary.contains("disabled"));
        assert!(matches!(
            check(&quiet_device()).skip_reason,
            Some(SkipReason::NoEvidence { .. })
        ));
    }

    #[test]
    fn dev011_asks_for_the_aad_and_registration_logs_while_prt_or_join_are_open() {
        // PRT NO: the AAD log is needed, and named when missing.
        let mut r = failed_device();
        r.dsregcmd = Some(hybrid_dsreg("", "NO"));
        let f = check(&r);
        assert_eq!(f.status, Status::Warn, "{}", f.summary);
        assert!(f.summary.contains(LOG_AAD), "{}", f.summary);
        assert!(
            f.remediation.contains("aad-operational.xml"),
            "{}",
            f.remediation
        );
        // Supplied but disabled: said so.
        r.event_logs.push(log_info(LOG_AAD, Some(false), 3));
        let f = check(&r);
        assert!(
            f.summary.contains(&format!("{LOG_AAD} is disabled")),
            "{}",
            f.summary
        );
        // Enabled and empty: a log of failures with none is no gap.
        let mut info = log_info(LOG_AAD, Some(true), 3);
        info.record_count = Some(0);
        r.event_logs = vec![info];
        let f = check(&r);
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
        assert!(f.summary.contains(LOG_AAD));
        // Not joined: the registration log is needed too.
        r.dsregcmd = Some(dsreg(
            "| Device State |\n AzureAdJoined : NO\n DomainJoined : YES\n",
        ));
        let f = check(&r);
        assert!(f.summary.contains(LOG_UDR), "{}", f.summary);
        // A healthy hybrid device needs neither.
        let f = check(&failed_device());
        assert_eq!(f.status, Status::Pass);
        assert!(!f.summary.contains(LOG_AAD) && !f.summary.contains(LOG_UDR));
    }

    #[test]
    fn dev011_asks_for_the_autopilot_log_when_the_device_went_through_autopilot() {
        let mut r = failed_device();
        if let Some(reg) = r.registry.as_mut() {
            reg.keys.push(key(
                r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot",
                &[("CloudAssignedTenantId", sz(TENANT))],
            ));
        }
        let f = check(&r);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains(LOG_AUTOPILOT), "{}", f.summary);
    }
}
