//! DEV008: automatic enrollment was attempted at all, judged only when the logs can prove absence.

use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::{COLLECT_BUNDLE, event_evidence, event_time};
use super::facts::{Facts, LOG_DMEDP, LOG_TASKS};
use super::shared::{finding, no_evidence_with, not_applicable};

pub const META: CheckMeta = CheckMeta {
    id: "DEV008",
    name: "autoenroll-never-triggered",
    title: "Automatic enrollment was attempted",
    severity: Severity::Medium,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "On the GPO path, for a device that is not enrolled: fails when there is neither event 75 \
        nor 76 and no Task Scheduler event 107 for the enrollment task, provided those logs are enabled and \
        reach back far enough. Otherwise the check is skipped and says which logs to collect.",
    why_it_matters: "No attempt means the problem sits before enrollment: policy not applied, task not created, \
        no user sign-in, or a scheduler that never fired. Absence of events is only meaningful when the logs \
        cover the period. Enrollment paths: gpo-hybrid.",
    how_to_fix: "Check DEV005 and DEV006, make a user sign in (user-credential enrollment runs at sign-in), \
        and enable Microsoft-Windows-TaskScheduler/Operational if it is off. Collect the report again after \
        the next sign-in.",
    references: &[R_DIAGNOSE, R_AUTO_TS],
};

pub fn evaluate(f: &Facts) -> Finding {
    if f.path.path != EnrollmentPath::GpoHybrid {
        return not_applicable(f, &META);
    }
    if f.enrolled.is_enrolled() {
        // The key, then what confirms it is alive (tasks, last server contact).
        let evidence = f.enrolled.evidence().to_vec();
        return finding(
            f,
            &META,
            Status::Pass,
            "the device is enrolled, so auto-enrollment was triggered",
            evidence,
        );
    }
    // Any trace of an attempt.
    let mut attempts: Vec<Evidence> = Vec::new();
    for id in [75u32, 76] {
        if let Some(&(_, e)) = f.dmedp(id).last() {
            attempts.push(event_evidence(
                e,
                format!("event {id} at {}", event_time(e)),
            ));
        }
    }
    for id in [107u32, 102, 100, 110, 7016] {
        if let Some(&(_, e)) = f.task_events(id).last() {
            attempts.push(event_evidence(
                e,
                format!(
                    "Task Scheduler event {id} for the auto-enrollment task at {}",
                    event_time(e)
                ),
            ));
        }
    }
    if let Some(Some(t)) = f.autoenroll_task()
        && t.last_run.is_some()
        && t.last_result.is_some_and(|r| r != 267_011)
    {
        attempts.push(
            Evidence::new(
                "scheduled-tasks",
                format!("task last ran {}", t.last_run.clone().unwrap_or_default()),
            )
            .at(t.location.to_string()),
        );
    }
    if !attempts.is_empty() {
        return finding(
            f,
            &META,
            Status::Pass,
            "auto-enrollment was triggered",
            attempts,
        );
    }
    if f.logs_prove_absence() {
        return finding(
            f,
            &META,
            Status::Fail,
            "auto-enrollment never ran: no event 75/76 and no Task Scheduler 107 for the task, although both logs are enabled and reach back at least a day",
            vec![
                Evidence::new("event-log", format!("{}: enabled, {} events", LOG_DMEDP, f.dmedp_log.events)).at(f.dmedp_log.files.join(", ")),
                Evidence::new("task-scheduler-log", format!("{}: enabled, {} events", LOG_TASKS, f.task_log.events)).at(f.task_log.files.join(", ")),
            ],
        )
        .with_remediation("Nothing started the auto-enrollment task: check that the GPO applied (DEV005) and the task exists (DEV006), then run `gpupdate /force` and sign out and in; the task runs at sign-in and every 5 minutes for a day after the policy applies.");
    }
    let mut evidence = vec![Evidence::new(
        "report",
        "no event 75/76 and no Task Scheduler 107 in the supplied exports",
    )];
    for (log, name) in [(&f.dmedp_log, LOG_DMEDP), (&f.task_log, LOG_TASKS)] {
        let state = match (log.supplied(), log.enabled) {
            (false, _) => "not supplied or empty".to_string(),
            (true, Some(true)) => "enabled, but it does not reach back a full day".to_string(),
            (true, Some(false)) => "disabled".to_string(),
            (true, None) => "exported without its enabled state".to_string(),
        };
        evidence.push(Evidence::new("event-log", format!("{name}: {state}")));
    }
    no_evidence_with(
        f,
        &META,
        COLLECT_BUNDLE,
        "no attempt is recorded, but the exports do not prove the logs were enabled and cover the period".to_string(),
        evidence,
    )
}

#[cfg(test)]
mod tests {
    use crate::checks::device::testutil::*;
    use crate::checks::device::*;

    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    #[test]
    fn dev008_fails_only_when_logs_are_known_enabled_and_old_enough() {
        let mut r = quiet_device();
        r.scheduled_tasks
            .as_mut()
            .into_iter()
            .flatten()
            .for_each(|t| t.last_result = Some(267_011));
        let (a, d) = run(&r);
        assert!(matches!(
            skip_reason(&a, &DEV008),
            Some(SkipReason::NoEvidence { .. })
        ));
        assert_eq!(d.verdict, Verdict::WillEnroll);

        r.event_logs = vec![
            log_info(crate::checks::device::facts::LOG_DMEDP, Some(true), 3),
            log_info(crate::checks::device::facts::LOG_TASKS, Some(true), 3),
        ];
        let (a, d) = run(&r);
        assert_eq!(status(&a, &DEV008), Status::Fail);
        assert_eq!(d.verdict, Verdict::NotTriggered);
        assert_eq!(d.causes, vec!["DEV008".to_string()]);

        // Enabled but only an hour of history: not proof.
        r.event_logs = vec![
            log_info(crate::checks::device::facts::LOG_DMEDP, Some(true), 0),
            log_info(crate::checks::device::facts::LOG_TASKS, Some(true), 0),
        ];
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV008), Status::Skip);

        let (a, _) = run(&failed_device());
        assert_eq!(status(&a, &DEV008), Status::Pass);
    }
}
