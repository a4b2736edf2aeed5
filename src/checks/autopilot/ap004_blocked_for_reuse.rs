//! AP004: the Autopilot device is not blocked from another userless deployment (reuse).

use super::facts::{AutopilotFacts, graph, identity_location};
use super::{
    AUTOPILOT_READ, R_AUTOPILOT_API, R_AUTOPILOT_ENROLLMENT_TS, R_AUTOPILOT_SELF_DEPLOYING,
};
use crate::checks::common::or_finding;
use crate::model::{Area, CheckMeta, Finding, Severity, SkipReason, Status};
use crate::tenant::autopilot::{DeploymentMode, UserlessEnrollment};

pub const META: CheckMeta = CheckMeta {
    id: "AP004",
    name: "blocked-for-reuse",
    title: "The Autopilot device is not blocked from another self-deploying or pre-provisioning run",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: AUTOPILOT_READ,
    what_it_checks: "Reads the registered device's userlessEnrollmentStatus (beta \
        windowsAutopilotDeviceIdentity: allowed, blocked, unknown). Fails when it is blocked and the device \
        deploys without a user (a self-deploying profile, or the device's own self-deploying or \
        pre-provisioning bits); warns when it is blocked and the mode is user-driven or unknown.",
    why_it_matters: "Self-deploying and pre-provisioning may run once per device: Intune blocks a second \
        userless enrollment of the same hardware, and the device is refused with 0x80180014 (\"Enrollment \
        blocked for AP device by SDM One Time Limit Check\") until an admin allows the next enrollment \
        (memdocs autopilot/troubleshoot-device-enrollment.md, \"Error code 0x80180014 when re-enrolling \
        using self-deployment or pre-provisioning mode\"; Graph windowsAutopilotDeviceIdentity \
        allowNextEnrollment). Enrollment paths: entra-join through Autopilot self-deploying or \
        pre-provisioning.",
    how_to_fix: "Intune admin center > Devices > Windows > Enrollment > Devices (Windows Autopilot): select \
        the device and choose \"Unblock device\" (Graph: allowNextEnrollment), then reset it. Deleting the \
        device's old Intune record is the older remedy.",
    references: &[
        R_AUTOPILOT_SELF_DEPLOYING,
        R_AUTOPILOT_ENROLLMENT_TS,
        R_AUTOPILOT_API,
    ],
};

/// AP004: userlessEnrollmentStatus against the deployment mode.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let (identity, _) = or_finding!(f.registered(&META));
    let status_ev = graph(
        format!(
            "userlessEnrollmentStatus {}",
            identity
                .userless_enrollment_status
                .as_deref()
                .unwrap_or("(not read)")
        ),
        identity_location(identity),
    );
    let profile =
        f.cf.snap
            .sources
            .autopilot_profiles
            .data()
            .and_then(|p| f.profile(p));
    let userless = profile.is_some_and(|p| p.mode() == DeploymentMode::SelfDeploying)
        || f.evidence.and_then(|e| e.needs_tpm_attestation()) == Some(true);
    let user_driven = !userless
        && (profile.is_some_and(|p| p.mode() == DeploymentMode::UserDriven)
            || f.evidence.and_then(|e| e.needs_tpm_attestation()) == Some(false));
    match identity.userless_enrollment() {
        UserlessEnrollment::Allowed => META
            .finding(
                Status::Pass,
                f.subject.clone(),
                "The device is not blocked from a self-deploying or pre-provisioning run",
            )
            .with_evidence(status_ev),
        UserlessEnrollment::Blocked => {
            let (status, summary) = if userless {
                (
                    Status::Fail,
                    format!(
                        "Serial {} is blocked from another userless enrollment: the self-deploying or pre-provisioning run is refused (0x80180014)",
                        identity.name()
                    ),
                )
            } else if user_driven {
                (
                    Status::Warn,
                    format!(
                        "Serial {} is blocked from another userless enrollment; a user-driven deployment is not affected",
                        identity.name()
                    ),
                )
            } else {
                (
                    Status::Warn,
                    format!(
                        "Serial {} is blocked from another userless enrollment: a self-deploying or pre-provisioning run would be refused (0x80180014)",
                        identity.name()
                    ),
                )
            };
            META.finding(status, f.subject.clone(), summary)
                .with_evidence(status_ev)
                .with_remediation(
                    "Select the Autopilot device in Intune admin center > Devices > Windows > Enrollment > \
                     Devices and choose \"Unblock device\", then reset it.",
                )
        }
        UserlessEnrollment::Unknown => META
            .skip(
                f.subject.clone(),
                SkipReason::NoEvidence {
                    collect: "the Autopilot device's userlessEnrollmentStatus (beta windowsAutopilotDeviceIdentities)".into(),
                },
            )
            .with_evidence(status_ev),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    fn with_status(status: &str, usage: &str) -> crate::tenant::snapshot::TenantSnapshot {
        let mut snap = snapshot();
        let mut i = identity("assignedInSync");
        i["userlessEnrollmentStatus"] = json!(status);
        set(&mut snap.sources.autopilot_devices, json!([i]));
        set(
            &mut snap.sources.autopilot_profiles,
            json!([profile("p1", "P", "2025-01-15T09:00:00Z", GROUP_A, usage)]),
        );
        snap
    }

    #[test]
    fn allowed_passes_blocked_fails_for_self_deploying() {
        let r = report(Some(downloaded(TENANT, "P", 0, 0)));
        assert_status(
            &eval(&with_status("allowed", "shared"), &r, evaluate),
            Status::Pass,
        );
        let f = eval(&with_status("blocked", "shared"), &r, evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("0x80180014"), "{}", f.summary);
        assert_status(
            &eval(&with_status("blocked", "singleUser"), &r, evaluate),
            Status::Warn,
        );
    }

    #[test]
    fn unknown_status_and_no_autopilot_skip() {
        let r = report(Some(downloaded(TENANT, "P", 0, 0)));
        assert_status(
            &eval(&with_status("unknown", "shared"), &r, evaluate),
            Status::Skip,
        );
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        assert_not_applicable(&eval(&snap, &report(None), evaluate));
    }
}
