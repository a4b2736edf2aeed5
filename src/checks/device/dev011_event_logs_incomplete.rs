//! DEV011: the event logs the diagnosis reads are supplied, enabled and cover the last attempt.

use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE};
use crate::device::report::ArtifactKind;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::{COLLECT_BUNDLE, COLLECT_DMEDP, COLLECT_TASK_LOG};
use super::facts::{Facts, LOG_DMEDP, LOG_TASKS, LogStatus};
use super::shared::{finding, gpo_driven, no_evidence_with};

pub const META: CheckMeta = CheckMeta {
    id: "DEV011",
    name: "event-logs-incomplete",
    title: "The event logs needed for the diagnosis are enabled and cover the last attempt",
    severity: Severity::Low,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads what the collector recorded about the two logs the diagnosis draws conclusions \
        from (enabled, oldest record) — DeviceManagement-Enterprise-Diagnostics-Provider/Admin and \
        TaskScheduler/Operational — and warns when one is disabled, empty, or starts after the last \
        enrollment attempt. The AAD/Operational and User Device Registration/Admin logs are not read yet.",
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
    let logs: &[(&LogStatus, &str)] = if needs_task_log {
        &[(&f.dmedp_log, LOG_DMEDP), (&f.task_log, LOG_TASKS)]
    } else {
        &[(&f.dmedp_log, LOG_DMEDP)]
    };
    for &(log, name) in logs {
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
        return finding(
            f,
            &META,
            Status::Pass,
            if needs_task_log {
                "the DeviceManagement and Task Scheduler logs were supplied"
            } else {
                "the DeviceManagement log was supplied (the Task Scheduler log does not matter on this path)"
            },
            evidence,
        );
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
        "Collect both logs with their state: {COLLECT_BUNDLE}; or {COLLECT_DMEDP} and {COLLECT_TASK_LOG}. If Task Scheduler history is disabled, enable it (`wevtutil sl Microsoft-Windows-TaskScheduler/Operational /e:true`) and wait for the next attempt."
    ))
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
}
