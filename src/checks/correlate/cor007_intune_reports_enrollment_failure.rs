//! COR007: Intune's enrollment failure records for this user or device.

use crate::catalog::error_codes::{LikelyCause, format_hresult, hresults_in_text, lookup};
use crate::checks::common::{R_ERRORS_TS, R_TROUBLESHOOTING_API};
use crate::checks::device::DEV007;
use crate::model::{Area, CheckMeta, Finding, Permissions, Severity, SkipReason, Status};
use crate::tenant::snapshot::TroubleshootingEvent;

use super::facts::CorrelationFacts;
use super::records::graph;

pub const META: CheckMeta = CheckMeta {
    id: "COR007",
    name: "intune-reports-enrollment-failure",
    title: "Intune's enrollment failure records for this user or device",
    severity: Severity::Medium,
    area: Area::Correlation,
    permissions: Permissions {
        application: &["DeviceManagementManagedDevices.Read.All"],
        delegated: &["DeviceManagementManagedDevices.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Reads Intune's enrollment troubleshooting events for the user and the device's Entra \
        DeviceId and matches them with the device's own failures: the failure category \
        (enrollmentRestrictionsEnforced, userValidation, authentication…) and reason either confirm the \
        device's error code or explain it.",
    why_it_matters: "The service side often states the reason more plainly than the device (for example which \
        restriction refused it). Agreement between the two makes the diagnosis firm. Enrollment paths: all.",
    how_to_fix: "Read the listed events (Intune admin center > Devices > Monitor > Enrollment failures, or \
        Troubleshooting + support > Troubleshoot for the user) and fix the reason they name; the related \
        tenant or user finding gives the exact setting.",
    references: &[R_TROUBLESHOOTING_API, R_ERRORS_TS],
};

/// The catalogue categories a troubleshooting event's `failureCategory` stands for.
pub fn category_causes(category: &str) -> &'static [LikelyCause] {
    match category.to_ascii_lowercase().as_str() {
        "authentication" => &[LikelyCause::Authentication],
        "authorization" => &[
            LikelyCause::PlatformRestriction,
            LikelyCause::DeviceLimit,
            LikelyCause::JoinNotAllowed,
        ],
        "accountvalidation" | "uservalidation" => &[LikelyCause::License, LikelyCause::MdmScope],
        "devicenotsupported" => &[LikelyCause::PlatformRestriction, LikelyCause::UnsupportedOs],
        "enrollmentrestrictionsenforced" => {
            &[LikelyCause::PlatformRestriction, LikelyCause::DeviceLimit]
        }
        "inmaintenance" => &[LikelyCause::ServerSide],
        "userabandonment" => &[LikelyCause::ConditionalAccess],
        "clientdisconnected" => &[LikelyCause::Connectivity],
        _ => &[],
    }
}

/// How one Intune event relates to the device's failure code.
fn agreement(e: &TroubleshootingEvent, device_code: Option<u32>) -> Option<String> {
    let code = device_code?;
    let reason = e.failure_reason.as_deref().unwrap_or("");
    if hresults_in_text(reason).contains(&code) {
        return Some(format!("same code {}", format_hresult(code)));
    }
    let cause = lookup(code)?.likely_cause;
    let cat = e.failure_category.as_deref().unwrap_or("");
    category_causes(cat)
        .contains(&cause)
        .then(|| format!("category {cat} matches {} ({cause})", format_hresult(code)))
}

pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let (snap, analysis, keys, user, subject) = (f.snap, f.analysis, f.keys, f.user, f.subject);
    let (events, endpoint) = match snap.sources.troubleshooting_events.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding_of(
                &META,
                subject.clone(),
                "Intune's enrollment troubleshooting events",
            );
        }
    };
    if keys.device_id.is_none() && user.is_none() {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the device's DeviceId (dsregcmd /status) or the enrolling user (--user)"
                    .into(),
            },
        );
    }
    let matching: Vec<&TroubleshootingEvent> = events
        .iter()
        .filter(|e| {
            let by_device = keys.device_id.as_deref().is_some_and(|id| {
                e.device_id
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(id))
            });
            // A user's event about another of their devices says nothing about this one.
            let other_device = match (keys.device_id.as_deref(), e.device_id.as_deref()) {
                (Some(mine), Some(theirs)) => {
                    !theirs.trim().is_empty() && !theirs.eq_ignore_ascii_case(mine)
                }
                _ => false,
            };
            let by_user = !other_device
                && user.is_some_and(|u| {
                    e.user_id
                        .as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(&u.id))
                });
            let windows = e
                .operating_system
                .as_deref()
                .is_none_or(|os| os.to_ascii_lowercase().contains("windows"));
            (by_device || by_user) && windows
        })
        .collect();
    let whom = match (keys.device_id.as_deref(), user) {
        (Some(d), Some(u)) => format!("device {d} or user {}", u.user_principal_name),
        (Some(d), None) => format!("device {d}"),
        (None, Some(u)) => format!("user {}", u.user_principal_name),
        (None, None) => String::new(),
    };
    if matching.is_empty() {
        return META
            .finding(
                Status::Pass,
                subject.clone(),
                format!("Intune recorded no Windows enrollment failure for {whom}"),
            )
            .with_evidence(graph(
                format!("{} troubleshooting events, none for {whom}", events.len()),
                endpoint,
            ));
    }
    let code = analysis.failure_code;
    let mut evidence = Vec::new();
    let mut agreeing = 0;
    for e in &matching {
        let how = agreement(e, code);
        if how.is_some() {
            agreeing += 1;
        }
        evidence.push(graph(
            format!(
                "{}: {} — {}{}",
                e.event_date_time.as_deref().unwrap_or("(no time)"),
                e.failure_category.as_deref().unwrap_or("unknown category"),
                e.failure_reason.as_deref().unwrap_or("(no reason)"),
                how.map(|h| format!(" [agrees with the device: {h}]"))
                    .unwrap_or_default()
            ),
            format!("GET /v1.0/deviceManagement/troubleshootingEvents/{}", e.id),
        ));
    }
    if let Some(dev7) = analysis.get(&DEV007)
        && dev7.status == Status::Fail
        && let Some(ev) = dev7.evidence.first()
    {
        evidence.push(ev.clone());
    }
    let (status, summary) = if analysis.enrolled.is_enrolled() {
        (
            Status::Warn,
            format!(
                "Intune recorded {} earlier enrollment failure(s) for {whom}; the device is enrolled now",
                matching.len()
            ),
        )
    } else {
        match code {
            Some(c) if agreeing > 0 => (
                Status::Fail,
                format!(
                    "Intune recorded the same failure ({} of {} event(s) agree with the device's {})",
                    agreeing,
                    matching.len(),
                    format_hresult(c)
                ),
            ),
            Some(c) => (
                Status::Fail,
                format!(
                    "Intune recorded {} enrollment failure(s) for {whom} that differ from the device's {}: read them for the service-side reason",
                    matching.len(),
                    format_hresult(c)
                ),
            ),
            None => (
                Status::Fail,
                format!(
                    "Intune recorded {} enrollment failure(s) for {whom} that the device's files do not show (the logs may have rolled over)",
                    matching.len()
                ),
            ),
        }
    };
    let mut finding = META.finding(status, subject.clone(), summary).with_remediation(
        "Read these events in Intune admin center > Devices > Monitor > Enrollment failures and fix the reason they \
         name; the related user or tenant finding gives the exact setting.",
    );
    finding.evidence.extend(evidence);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;

    #[test]
    fn a_users_failure_on_another_device_is_not_this_devices_record() {
        // tlee's failed PC0200 event must not count for a second PC of tlee's that is enrolled
        // cleanly; an event without a device id still matches by user.
        let other_pc = scenario("other-pc-of-tlee");
        let c = run(&snapshot(), &other_pc, Some("tlee@contoso.com"));
        let f = finding(&c, "COR007");
        assert_eq!(f.status, Status::Pass, "{f:?}");
        let snap = snapshot_with(|s| {
            if let Some(list) = s["troubleshooting_events"]["data"].as_array_mut() {
                for e in list {
                    if e["deviceId"] == "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d" {
                        e["deviceId"] = serde_json::Value::Null;
                    }
                }
            }
        });
        let c = run(&snap, &other_pc, Some("tlee@contoso.com"));
        assert_ne!(finding(&c, "COR007").status, Status::Pass);
    }
}
