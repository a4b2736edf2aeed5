//! DEV006: the EnterpriseMgmt task that runs automatic enrollment exists.

use crate::catalog::error_codes::format_hresult;
use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE, R_GPO};
use crate::model::{Area, CheckMeta, Evidence, Finding, NO_PERMISSIONS, Severity, Status};

use super::evidence::{
    AUTOENROLL_TASK_PREFIX, COLLECT_TASKS, event_evidence, event_time, names_autoenroll_task,
    task_result_hresult,
};
use super::facts::Facts;
use super::shared::{finding, gpo_driven, no_evidence, no_evidence_with, not_applicable};

pub const META: CheckMeta = CheckMeta {
    id: "DEV006",
    name: "enrollment-task-missing",
    title: "The EnterpriseMgmt auto-enrollment task exists",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Looks in the scheduled-task export for the task under \\Microsoft\\Windows\\EnterpriseMgmt \
        that schedules automatic MDM enrollment from Entra ID, and fails when it is missing while the policy \
        is applied and the device is not enrolled. Reports its last result, decoded.",
    why_it_matters: "The policy does its work through this task: no task, no enrollment attempt, and no event \
        75/76 to read. A missing task after gpupdate often points at stale Enrollments keys (7016). \
        Enrollment paths: gpo-hybrid.",
    how_to_fix: "Run gpupdate /force and check Task Scheduler > Microsoft > Windows > EnterpriseMgmt again. If \
        the task still does not appear, look for event 7016 and for stale subkeys under \
        HKLM\\SOFTWARE\\Microsoft\\Enrollments (DEV009). Note that schtasks needs an elevated prompt to list \
        these tasks.",
    references: &[R_DIAGNOSE, R_AUTO_TS, R_GPO],
};

pub fn evaluate(f: &Facts) -> Finding {
    if !gpo_driven(f) {
        return not_applicable(f, &META);
    }
    let fix = "The task is created when the auto-enrollment GPO applies (see DEV005): run `gpupdate /force`, then look for it under \\Microsoft\\Windows\\EnterpriseMgmt in Task Scheduler (as an administrator). If the GPO is applied but the task never appears, read the DeviceManagement-Enterprise-Diagnostics-Provider Admin log.";
    // An empty list means the tasks could not be read (a real Windows task list is never empty).
    let has_list = f
        .report
        .scheduled_tasks
        .as_ref()
        .is_some_and(|t| !t.is_empty());
    if has_list && let Some(list) = f.autoenroll_task() {
        if let Some(t) = list {
            let mut detail = format!("task {}", t.path);
            match (t.last_result, t.last_result.and_then(task_result_hresult)) {
                (Some(r), Some(c)) => {
                    detail.push_str(&format!(", last result {r} ({})", format_hresult(c)))
                }
                (Some(r), None) => detail.push_str(&format!(", last result {r}")),
                _ => {}
            }
            if let Some(run) = &t.last_run {
                detail.push_str(&format!(", last run {run}"));
            }
            return finding(
                f,
                &META,
                Status::Pass,
                "the auto-enrollment task exists",
                vec![Evidence::new("scheduled-tasks", detail).at(t.location.to_string())],
            );
        }
        let file = f
            .report
            .scheduled_tasks
            .as_ref()
            .and_then(|t| t.first())
            .map(|t| t.location.file.clone())
            .unwrap_or_else(|| "task list".to_string());
        if f.enrolled.is_enrolled() {
            return finding(
                f,
                &META,
                Status::Pass,
                "no auto-enrollment task, which is expected once the device is enrolled",
                vec![
                    Evidence::new(
                        "scheduled-tasks",
                        format!("no \"{AUTOENROLL_TASK_PREFIX}…\" task"),
                    )
                    .at(file),
                ],
            );
        }
        if f.report.collector.as_ref().and_then(|c| c.elevated) == Some(false) {
            return no_evidence_with(
                f,
                &META,
                COLLECT_TASKS,
                "the task list was captured without elevation, which hides EnterpriseMgmt tasks"
                    .to_string(),
                vec![Evidence::new("collector", "elevated = false").at(file)],
            );
        }
        let mut evidence = vec![Evidence::new("scheduled-tasks", format!("no \"{AUTOENROLL_TASK_PREFIX}…\" task under \\Microsoft\\Windows\\EnterpriseMgmt")).at(file.clone())];
        // A raw schtasks list does not say whether it ran elevated; without elevation the whole
        // EnterpriseMgmt folder is hidden, so say so when the list shows none of it.
        let any_enterprise_mgmt = f.report.scheduled_tasks.iter().flatten().any(|t| {
            t.path
                .to_ascii_lowercase()
                .contains("\\microsoft\\windows\\enterprisemgmt\\")
        });
        if f.report.collector.is_none() && !any_enterprise_mgmt {
            evidence.push(
                Evidence::new(
                    "scheduled-tasks",
                    "the list has no \\Microsoft\\Windows\\EnterpriseMgmt task at all: if schtasks ran without elevation that folder is hidden, so run it again as administrator before acting on this",
                )
                .at(file),
            );
        }
        return finding(
            f,
            &META,
            Status::Fail,
            "the auto-enrollment task does not exist: nothing will start enrollment",
            evidence,
        )
        .with_remediation(fix);
    }
    // No task list: Task Scheduler history naming the task proves it existed.
    if let Some((_, e)) = f
        .report
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_task_scheduler() && names_autoenroll_task(e))
        .max_by_key(|(i, e)| (matches!(e.event_id, 107 | 102 | 100 | 110), *i))
    {
        return finding(
            f,
            &META,
            Status::Pass,
            format!(
                "the auto-enrollment task exists (Task Scheduler event {} at {})",
                e.event_id,
                event_time(e)
            ),
            vec![event_evidence(
                e,
                format!("event {} names the auto-enrollment task", e.event_id),
            )],
        );
    }
    if f.task_log.events > 0 && f.task_log.enabled == Some(true) && f.logs_prove_absence() {
        return finding(
            f,
            &META,
            Status::Fail,
            "the Task Scheduler log (enabled, covering the last day) never mentions the auto-enrollment task",
            vec![Evidence::new("task-scheduler-log", format!("{} events, none for the task", f.task_log.events)).at(f.task_log.files.join(", "))],
        )
        .with_remediation(fix);
    }
    no_evidence(
        f,
        &META,
        COLLECT_TASKS,
        "no task list, and no Task Scheduler event names the auto-enrollment task",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;

    use crate::model::SkipReason;

    this_check!(META, evaluate);

    #[test]
    fn dev006_task_list_events_and_no_evidence() {
        let mut r = failed_device();
        r.scheduled_tasks = Some(vec![task(TASK)]);
        let f = check(&r);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.evidence[0].location.as_deref(), Some("schtasks.csv:2"));

        r.scheduled_tasks = Some(vec![task("\\Microsoft\\Windows\\Defrag\\ScheduledDefrag")]);
        let f = check(&r);
        assert_eq!(f.status, Status::Fail);
        // No EnterpriseMgmt task at all in a raw list: maybe not elevated, and the finding says so.
        assert!(
            f.evidence.iter().any(|e| e.detail.contains("elevation")),
            "{:?}",
            f.evidence
        );

        // No task list: a Task Scheduler event naming the task proves it exists.
        assert_eq!(check(&failed_device()).status, Status::Pass);

        let mut r = failed_device();
        r.events.retain(|e| !e.is_task_scheduler());
        assert!(matches!(
            check(&r).skip_reason,
            Some(SkipReason::NoEvidence { .. })
        ));
    }
}
