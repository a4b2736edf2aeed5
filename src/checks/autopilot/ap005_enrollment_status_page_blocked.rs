//! AP005: the Enrollment Status Page that applies did not hold the device (time-out, blocking app).

use std::collections::BTreeSet;

use super::facts::{AutopilotFacts, graph};
use super::{AUTOPILOT_WITH_DEVICE_GROUPS, R_ESP, R_ESP_TS};
use crate::checks::common::or_finding;
use crate::model::{Area, CheckMeta, Evidence, Finding, Severity, SkipReason, Status};
use crate::tenant::autopilot::{DeploymentMode, EspTarget, esp::resolve_esp};

pub const META: CheckMeta = CheckMeta {
    id: "AP005",
    name: "enrollment-status-page-blocked",
    title: "The Enrollment Status Page that applies let the device through",
    severity: Severity::Medium,
    area: Area::Autopilot,
    permissions: AUTOPILOT_WITH_DEVICE_GROUPS,
    what_it_checks: "Works out the Enrollment Status Page that applies, as Intune does (memdocs \
        intune/enrollment/windows-enrollment-status.md, \"Prioritize profiles\"): the highest-priority page \
        assigned to one of the device's groups, else (with a user, not self-deploying) the one assigned to \
        the user's groups, else the default page; shows its time-out and its blocking apps. Then reads what \
        the device recorded (EnrollmentStatusTracking and FirstSync, SupportArticles-docs \
        support/mem/intune/device-enrollment/understand-troubleshoot-esp.md): fails when an app the page \
        tracks is in Error, when the first sync is not done after more than the time-out, or when the device \
        logged an ESP failure code (0x81036502); warns while an app still holds an unfinished first sync.",
    why_it_matters: "A blocking app that fails or takes longer than the page's time-out stops the setup with \
        an error, although enrollment itself succeeded: the user sees \"Setup could not be completed\" and, \
        if \"Block device use until all apps and profiles are installed\" is on, cannot use the device. \
        Knowing which page applied and which app held it is most of the fix. Enrollment paths: entra-join \
        and gpo-hybrid through Autopilot (and other OOBE enrollments the page is shown for).",
    how_to_fix: "Intune admin center > Devices > Windows > Enrollment > Enrollment Status Page: open the page \
        named, fix the app that held it (its install command, detection rule or dependencies; the Intune \
        Management Extension log shows its exit code) or take it off the blocking apps, and raise the \
        time-out if large apps simply need longer.",
    references: &[R_ESP, R_ESP_TS],
};

/// What to collect for the device's side of the Enrollment Status Page.
const COLLECT_ESP: &str = "the ESP tracking keys and the enrollment's FirstSync values (`reg export \
    HKLM\\SOFTWARE\\Microsoft\\Windows\\Autopilot\\EnrollmentStatusTracking esp.reg /y` and `reg export \
    HKLM\\SOFTWARE\\Microsoft\\Enrollments enrollments.reg /y`, elevated), or the collector bundle";

/// Codes the ESP reports when a tracked app or policy failed.
const ESP_FAILURE_CODES: &[&str] = &["0x81036502"];

/// AP005: the page that applies, and what held it.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let (pages, pages_ep) = match f.cf.snap.sources.enrollment_status_pages.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding_of(&META, f.subject.clone(), "the Enrollment Status Pages");
        }
    };
    let empty = BTreeSet::new();
    let mut notes: Vec<Evidence> = Vec::new();
    let device_groups = match f.device_groups() {
        Ok(Some(g)) => g,
        Ok(None) => {
            notes.push(Evidence::new(
                "graph",
                "the device's groups are unknown: a page assigned to a device group may apply instead",
            ));
            &empty
        }
        Err(r) => {
            notes.push(Evidence::new(
                "collection",
                format!(
                    "the device's groups: {} (a page assigned to a device group may apply instead)",
                    r.describe()
                ),
            ));
            &empty
        }
    };
    let userless =
        f.cf.snap
            .sources
            .autopilot_profiles
            .data()
            .and_then(|p| f.profile(p))
            .is_some_and(|p| p.mode() == DeploymentMode::SelfDeploying)
            || f.evidence.and_then(|e| e.needs_tpm_attestation()) == Some(true);
    let user_groups = if userless { None } else { f.user_groups() };
    let Some(resolved) = resolve_esp(pages, device_groups, user_groups) else {
        return META
            .finding(
                Status::Pass,
                f.subject.clone(),
                "The tenant has no Enrollment Status Page: nothing holds the device after enrollment",
            )
            .with_evidence(graph("no windows10EnrollmentCompletionPageConfiguration", pages_ep));
    };
    let page = resolved.page;
    let apps = page.blocking_apps();
    let page_line = format!(
        "Enrollment Status Page \"{}\" (priority {}, {}): shown {}, time-out {} minutes, blocking apps {}",
        page.name(),
        page.priority,
        match resolved.target {
            EspTarget::Device => "assigned to the device",
            EspTarget::User => "assigned to the user",
            EspTarget::Default => "the default page",
        },
        page.shows_progress(),
        page.timeout_minutes(),
        if apps.is_empty() {
            "all assigned apps".to_string()
        } else {
            apps.len().to_string()
        }
    );
    let page_ev = graph(
        page_line.clone(),
        format!(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{}?$expand=assignments",
            page.id
        ),
    );
    let ev = f.evidence;
    let held_by = ev.and_then(|e| e.esp_blocking_app());
    let timed_out = ev.and_then(|e| e.first_sync_timed_out());
    let mut codes: Vec<&str> = ev
        .map(|e| e.autopilot_errors())
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            ESP_FAILURE_CODES
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&e.code))
        })
        .map(|e| e.code.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let app_line = held_by.map(|a| {
        let listed = apps.iter().any(|id| {
            a.app
                .to_ascii_lowercase()
                .contains(&id.to_ascii_lowercase())
        });
        format!(
            "app {} ({}, {}){}",
            a.app,
            a.provider,
            a.state_label(),
            if apps.is_empty() {
                String::new()
            } else if listed {
                ", one of the page's blocking apps".to_string()
            } else {
                ", not among the page's selected blocking apps".to_string()
            }
        )
    });
    let failed_app = held_by.is_some_and(|a| a.installation_state == Some(4));
    let (status, summary) = if failed_app || timed_out == Some(true) || !codes.is_empty() {
        let mut why: Vec<String> = Vec::new();
        if timed_out == Some(true) {
            why.push(format!(
                "the first sync was not done after the {}-minute time-out",
                page.timeout_minutes()
            ));
        }
        if let Some(a) = &app_line {
            why.push(format!("held by {a}"));
        }
        if !codes.is_empty() {
            why.push(format!("the device logged {}", codes.join(", ")));
        }
        (
            Status::Fail,
            format!(
                "The Enrollment Status Page \"{}\" stopped the setup: {}",
                page.name(),
                why.join("; ")
            ),
        )
    } else if let Some(a) = &app_line {
        (
            Status::Warn,
            format!(
                "The Enrollment Status Page \"{}\" is still waiting for {a}",
                page.name()
            ),
        )
    } else if ev.is_some_and(|e| e.esp.is_some() || !e.first_sync.is_empty()) {
        (
            Status::Pass,
            format!(
                "The Enrollment Status Page \"{}\" applies (time-out {} minutes); the device shows nothing held",
                page.name(),
                page.timeout_minutes(),
            ),
        )
    } else {
        // The page that would apply is known, what it did on the device is not.
        let mut out = META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_ESP.into(),
            },
        );
        out.evidence.push(page_ev);
        out.evidence.extend(notes);
        return out;
    };
    let failing = status != Status::Pass;
    let mut out = META.finding(status, f.subject.clone(), summary);
    out.evidence.push(page_ev);
    if let Some(a) = held_by {
        out.evidence.push(
            Evidence::new("device", app_line.clone().unwrap_or_default())
                .at(a.location.to_string()),
        );
    }
    out.evidence.extend(notes);
    if failing {
        out.remediation = format!(
            "Fix or unblock the app that held the page \"{}\" (its install command, detection rule or \
             dependencies; see the Intune Management Extension log), take it off the page's blocking \
             apps, or raise the time-out ({} minutes now) in Intune admin center > Devices > Windows > \
             Enrollment > Enrollment Status Page.",
            page.name(),
            page.timeout_minutes()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::device::autopilot::{EspApp, EspTracking, FirstSync};
    use serde_json::json;

    fn held(state: u32) -> crate::device::autopilot::AutopilotEvidence {
        let mut ev = downloaded(TENANT, "Contoso user-driven", 0, 0);
        ev.esp = Some(EspTracking {
            apps: vec![EspApp {
                scope: "Device".into(),
                provider: "Sidecar".into(),
                app: "Win32App_a1b2c3d4-0000-4000-8000-000000000001_1".into(),
                installation_state: Some(state),
                location: loc("esp.reg"),
            }],
            ..Default::default()
        });
        ev.first_sync = vec![FirstSync {
            enrollment_id: "E1".into(),
            server_provisioning_done: None,
            sync_done: Some(false),
            timeout_minutes: Some(60),
            block_in_status_page: Some(0),
            skip_device_status_page: None,
            skip_user_status_page: None,
            location: loc("enrollments.reg"),
        }];
        ev
    }

    fn with_device_page() -> crate::tenant::snapshot::TenantSnapshot {
        let mut snap = snapshot();
        set(
            &mut snap.sources.enrollment_status_pages,
            json!([
                {"id": "x_DefaultWindows10EnrollmentCompletionPageConfiguration", "priority": 0,
                 "displayName": "All users and all devices", "showInstallationProgress": false},
                {"id": "esp1", "priority": 1, "displayName": "Autopilot ESP",
                 "showInstallationProgress": true, "installProgressTimeoutInMinutes": 45,
                 "selectedMobileAppIds": ["a1b2c3d4-0000-4000-8000-000000000001"],
                 "assignments": [{"id": "a", "target": {
                     "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": GROUP_A}}]}
            ]),
        );
        snap
    }

    #[test]
    fn the_device_page_wins_and_a_failed_app_fails_naming_it() {
        let f = eval(&with_device_page(), &report(Some(held(4))), evaluate);
        assert_status(&f, Status::Fail);
        assert!(
            f.summary.contains("Autopilot ESP") && f.summary.contains("Win32App_a1b2c3d4"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("one of the page's blocking apps")),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn nothing_held_passes_and_an_app_in_progress_warns() {
        let mut done = held(3);
        done.first_sync[0].sync_done = Some(true);
        let f = eval(&with_device_page(), &report(Some(done)), evaluate);
        assert_status(&f, Status::Pass);
        assert!(f.summary.contains("Autopilot ESP"), "{}", f.summary);
        // Without the device's ESP tracking the page is named, the verdict left open.
        let f = eval(
            &with_device_page(),
            &report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0))),
            evaluate,
        );
        assert_status(&f, Status::Skip);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("Autopilot ESP")),
            "{:?}",
            f.evidence
        );
        assert_status(
            &eval(&with_device_page(), &report(Some(held(2))), evaluate),
            Status::Warn,
        );
    }

    #[test]
    fn skips_without_pages_or_autopilot() {
        let mut snap = snapshot();
        denied(
            &mut snap.sources.enrollment_status_pages,
            "DeviceManagementServiceConfig.Read.All",
        );
        let f = eval(&snap, &report(Some(held(4))), evaluate);
        assert_permission_skip(&f, "DeviceManagementServiceConfig.Read.All");
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        assert_not_applicable(&eval(&snap, &report(None), evaluate));
    }
}
