//! TEN007: The default platform restriction allows Windows (MDM).

use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{EnrollmentPath, Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{ConfigurationFamily, EnrollmentConfiguration, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN007",
    name: "windows-platform-blocked-by-default",
    title: "The default platform restriction allows Windows (MDM)",
    severity: Severity::High,
    area: Area::Tenant,
    permissions: Permissions {
        application: &["DeviceManagementServiceConfig.Read.All"],
        delegated: &["DeviceManagementServiceConfig.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Reads the default device platform restriction (\"All users\", priority 0) and fails when \
        it blocks Windows (MDM). Personal-ownership blocks and version limits are reported as well.",
    why_it_matters: "The default restriction applies to every user not covered by a custom one, and it is the \
        only one Intune applies to enrollments without a user (Autopilot self-deploying, pre-provisioning). \
        A Windows block there gives 0x80180014 on user-driven paths. Blocking personal Windows lets GPO and \
        co-management enrollments through (they count as corporate) but stops automatic enrollment during \
        Entra join unless the device is registered in Autopilot. Enrollment paths: entra-join and \
        entra-registered mostly; gpo-hybrid and co-management only for a full Windows block.",
    how_to_fix: "Intune admin center > Devices > Enrollment > Device platform restriction > Windows \
        restrictions: open the Default (All users) policy > Properties > Platform settings and set Windows (MDM) \
        to Allow; adjust \"Personally owned\" and the version range as your policy requires. Remember that \
        custom restrictions with a lower priority number override it for their groups.",
    references: &[R_RESTRICTIONS, R_ERRORS_TS, R_ENROLLMENT_CONFIG_API],
};

pub(crate) fn config_location(c: &EnrollmentConfiguration) -> String {
    format!(
        "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{}",
        c.id
    )
}

pub fn ten007_windows_platform_blocked_by_default(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the enrollment restrictions"),
    };
    let default = configs
        .iter()
        .find(|c| c.family() == ConfigurationFamily::PlatformRestrictions && c.is_default());
    let Some(default) = default else {
        return ID.finding(Status::Warn,
            Subject::Tenant,
            "Graph returned no default platform restriction",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "{} enrollment configurations, no default platform restriction",
                    configs.len()
                ),
            )
            .at(endpoint.to_string()),
        )
        .with_remediation(
            "Check Devices > Enrollment > Device platform restriction in the Intune admin center.",
        );
    };
    let win = default.windows().cloned().unwrap_or_default();
    let where_ = format!(
        "restriction \"{}\" (priority {}, the default)",
        default.name(),
        default.priority
    );
    let detail = format!(
        "windowsRestriction: platformBlocked = {}, personalDeviceEnrollmentBlocked = {}, osMinimumVersion = {}, osMaximumVersion = {}",
        win.platform_blocked.unwrap_or(false),
        win.personal_device_enrollment_blocked.unwrap_or(false),
        win.os_minimum_version.as_deref().unwrap_or("(unset)"),
        win.os_maximum_version.as_deref().unwrap_or("(unset)")
    );
    let ev = Evidence::new("graph", format!("{where_}: {detail}")).at(config_location(default));
    if win.platform_blocked.unwrap_or(false) {
        return ID.finding(Status::Fail,
            Subject::Tenant,
            "The default platform restriction blocks Windows (MDM): users without a custom restriction cannot enroll",
        )
        .with_evidence(ev)
        .with_evidence(paths_evidence(&ALL_PATHS, "applies to every user without a higher-priority restriction"))
        .with_remediation(
            "Intune admin center > Devices > Enrollment > Device platform restriction > Windows: \
             allow Windows (MDM) in the default restriction, or assign a custom restriction that allows it.",
        );
    }
    if win.personal_device_enrollment_blocked.unwrap_or(false) {
        return ID.finding(Status::Warn,
            Subject::Tenant,
            "The default platform restriction blocks personally owned Windows devices",
        )
        .with_evidence(ev)
        .with_evidence(paths_evidence(
            &[EnrollmentPath::EntraJoin, EnrollmentPath::EntraRegistered],
            "GPO (hybrid) and co-management enrollments count as corporate and pass; Entra join \
             auto-enrollment is blocked unless the device is registered with Autopilot; \"Add work account\" is blocked",
        ))
        .with_remediation(
            "Register Entra-joined devices with Autopilot or upload corporate identifiers, or allow \
             personal Windows devices in the default restriction.",
        );
    }
    ID.finding(
        Status::Pass,
        Subject::Tenant,
        "The default platform restriction allows Windows (MDM)",
    )
    .with_evidence(ev)
    .with_evidence(paths_evidence(&ALL_PATHS, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn test_ten007_default_restriction() {
        let mut s = base();
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(false, false)));
        assert_eq!(
            ten007_windows_platform_blocked_by_default(&s).status,
            Status::Pass
        );
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(true, false)));
        let f = ten007_windows_platform_blocked_by_default(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence[0]
                .location
                .as_deref()
                .is_some_and(|l| l.ends_with("t_DefaultPlatformRestrictions"))
        );
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(false, true)));
        assert_eq!(
            ten007_windows_platform_blocked_by_default(&s).status,
            Status::Warn
        );
    }
}
