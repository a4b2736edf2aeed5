//! USR006: The user is below the Intune device limit.

use super::shared::{decided_winner, subject, winner_evidence};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions, Severity};
use crate::model::{EnrollmentPath, Evidence, Finding, Status};
use crate::tenant::precedence::winning_restrictions;
use crate::tenant::snapshot::{ManagedDevice, MissingReason, TenantSnapshot, User};
use chrono::{DateTime, TimeDelta, Utc};

pub const META: CheckMeta = CheckMeta {
    id: "USR006",
    name: "user-at-device-limit",
    title: "The user is below the Intune device limit",
    severity: Severity::Medium,
    area: Area::User,
    permissions: Permissions {
        application: &[
            "DeviceManagementServiceConfig.Read.All",
            "DeviceManagementManagedDevices.Read.All",
            "User.Read.All",
            "GroupMember.Read.All",
        ],
        delegated: &[
            "DeviceManagementServiceConfig.Read.All",
            "DeviceManagementManagedDevices.Read.All",
            "User.ReadBasic.All",
            "GroupMember.Read.All",
        ],
        delegated_only: false,
    },
    what_it_checks: "Finds the device-limit restriction that wins for the user (lowest priority number among \
        those assigned, else the default) and compares its limit with the user's Intune devices that count \
        against it. Intune counts only managed devices that were in contact with Intune within the last 90 \
        days, are not stuck in a registration-pending state for more than 24 hours and were not enrolled \
        in shared device mode (memdocs intune/enrollment/create-device-limit-restrictions.md), so devices \
        that last checked in more than 90 days before the evaluation date (`--as-of`, else the time of \
        collection), have been pending registration for over a day, or whose deviceEnrollmentType is a \
        shared-mode one (co-management or Group Policy, Entra join and bulk Entra join, bulk provisioning \
        packages, Autopilot's device-credential join, device enrollment manager enrollments; memdocs \
        intune/enrollment/enrollment-restrictions-set.md) are listed as not counted. Fails when the counted devices reach the \
        limit. A restriction assigned through an assignment filter (include or exclude; memdocs \
        intune/intune-service/fundamentals/filters.md) applies only to the devices its rule selects, which \
        Intune decides at enrollment: such a restriction with a higher priority is not taken as the winner, \
        and when its settings would give another answer the finding is a warning that names it.",
    why_it_matters: "A user at the limit gets 0x80180013 (or 0x80180003) on the next user-driven enrollment. \
        Intune does not enforce this limit for GPO, co-management, Entra join, bulk and Autopilot enrollments, \
        so on those paths the finding is informational. Enrollment paths: entra-registered and other \
        user-driven enrollments; not gpo-hybrid, entra-join or co-management.",
    how_to_fix: "Retire or delete the user's stale devices in Intune admin center > Devices > All devices, or \
        raise the limit in Devices > Enrollment > Device limit restrictions (edit the policy that wins for the \
        user).",
    references: &[R_DEVICE_LIMIT, R_RESTRICTIONS, R_ERRORS_TS, R_FILTERS],
};

/// The enrollment types (Graph `managedDevice.deviceEnrollmentType`) Intune enrolls in shared
/// device mode and never counts against a user's device limit: co-managed and Group Policy,
/// Entra joined (bulk included), Autopilot and device enrollment manager enrollments (memdocs
/// intune/enrollment/enrollment-restrictions-set.md, "Device limit restrictions cannot be applied
/// to devices in the following Windows enrollment scenarios, because these scenarios utilize
/// shared device mode"; create-device-limit-restrictions.md: "Enrollment type is not in shared
/// mode"). `windowsAutoEnrollment` ("Add work account") and `userEnrollment` count.
const SHARED_MODE: &[(&str, &str)] = &[
    (
        "deviceEnrollmentManager",
        "a device enrollment manager enrollment",
    ),
    ("windowsAzureADJoin", "Entra join"),
    ("windowsBulkAzureDomainJoin", "bulk Entra join"),
    ("windowsBulkUserless", "a bulk provisioning package"),
    ("windowsCoManagement", "co-management or Group Policy"),
    (
        "windowsAzureADJoinUsingDeviceAuth",
        "Entra join with the device credential (Autopilot self-deploying or pre-provisioning)",
    ),
    (
        "azureAdJoinUsingAzureVmExtension",
        "Entra join of an Azure VM",
    ),
];

/// Why Intune does not count a device against the limit, if it does not.
fn not_counted(d: &ManagedDevice, as_of: DateTime<Utc>) -> Option<String> {
    if let Some(t) = d.device_enrollment_type.as_deref()
        && let Some((ty, how)) = SHARED_MODE
            .iter()
            .find(|(ty, _)| ty.eq_ignore_ascii_case(t.trim()))
    {
        return Some(format!(
            "enrolled in shared device mode ({how}, deviceEnrollmentType {ty})"
        ));
    }
    let at = |v: &Option<String>| {
        v.as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let pending = d.device_registration_state.as_deref().is_some_and(|s| {
        s.eq_ignore_ascii_case("notRegisteredPendingEnrollment")
            || s.eq_ignore_ascii_case("approvalPending")
    });
    if pending
        && let Some(enrolled) = at(&d.enrolled_date_time)
        && as_of - enrolled > TimeDelta::hours(24)
    {
        return Some(format!(
            "registration pending since {} (over 24 hours)",
            enrolled.format("%Y-%m-%d")
        ));
    }
    match at(&d.last_sync_date_time) {
        Some(last) if as_of - last > TimeDelta::days(90) => Some(format!(
            "last check-in {} (over 90 days before {})",
            last.format("%Y-%m-%d"),
            as_of.format("%Y-%m-%d")
        )),
        _ => None,
    }
}

pub(super) fn usr006_for(
    snap: &TenantSnapshot,
    user: &User,
    devices: Vec<&ManagedDevice>,
    path: Option<EnrollmentPath>,
    as_of: DateTime<Utc>,
) -> Finding {
    const ID: &CheckMeta = &META;
    // Both sources denied: name every permission to grant, not just the first.
    if let (
        Err(MissingReason::InsufficientPermission { needed: a }),
        Err(MissingReason::InsufficientPermission { needed: b }),
    ) = (
        snap.sources.enrollment_configurations.get(),
        snap.sources.managed_devices.get(),
    ) {
        let mut needed = a.clone();
        needed.extend(b.iter().filter(|p| !a.contains(p)).cloned());
        return MissingReason::InsufficientPermission { needed }.finding_of(
            ID,
            subject(user),
            "the enrollment restrictions and the user's Intune managed devices",
        );
    }
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the enrollment restrictions"),
    };
    if let Err(r) = snap.sources.managed_devices.get() {
        return r.finding_of(ID, subject(user), "the user's Intune managed devices");
    }
    let winners = winning_restrictions(configs, user, snap.sources.group_memberships.data());
    let w = or_finding!(decided_winner(
        snap,
        user,
        ID,
        winners.device_limit,
        (configs, endpoint),
        (Status::Pass, "No device limit restriction was returned")
    ));
    let limit = w.config.limit.unwrap_or(i64::MAX);
    let mut names: Vec<&str> = Vec::new();
    let mut uncounted: Vec<String> = Vec::new();
    for d in &devices {
        let name = d.device_name.as_deref().unwrap_or(&d.id);
        match not_counted(d, as_of) {
            None => names.push(name),
            Some(why) => uncounted.push(format!("{name}: {why}")),
        }
    }
    let count = names.len() as i64;
    let mut evidence = winner_evidence(&w);
    let mut detail = if names.is_empty() && uncounted.is_empty() {
        format!("the user has no Intune-managed devices, limit {limit}")
    } else {
        format!(
            "the user has {count} Intune-managed device(s) that count [{}], limit {limit}",
            names.join(", ")
        )
    };
    if !uncounted.is_empty() {
        detail.push_str(&format!(
            "; not counted by Intune: {}",
            uncounted.join("; ")
        ));
    }
    evidence.push(
        Evidence::new("graph", detail).at(snap
            .sources
            .managed_devices
            .endpoint()
            .unwrap_or("GET /v1.0/deviceManagement/managedDevices")
            .to_string()),
    );
    evidence.push(paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "not enforced for GPO, co-management, Entra join, bulk or Autopilot enrollments",
    ));
    // A higher-priority limit assigned through an assignment filter wins for the devices it
    // selects: with another limit the verdict depends on the enrolling device.
    let enforced = !matches!(
        path,
        Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::EntraJoin)
    );
    let differing: Vec<String> = w
        .depends_on_filters
        .iter()
        // Only a limit that gives another answer for this count, where limits are enforced.
        .filter(|d| enforced && (count >= d.config.limit.unwrap_or(i64::MAX)) != (count >= limit))
        .map(|d| d.describe(snap.sources.assignment_filters.data().map(Vec::as_slice)))
        .collect();
    let at_limit = count >= limit;
    let (status, summary, fix) = match (at_limit, path) {
        (false, _) => (
            Status::Pass,
            format!("{count} of {limit} devices used"),
            String::new(),
        ),
        (
            true,
            Some(
                p @ (EnrollmentPath::GpoHybrid
                | EnrollmentPath::CoManagement
                | EnrollmentPath::EntraJoin),
            ),
        ) => (
            Status::Pass,
            format!(
                "The user is at the device limit ({count}/{limit}), but the limit is not enforced on the {p} path"
            ),
            String::new(),
        ),
        (true, _) => (
            Status::Fail,
            format!(
                "The user is at the device limit ({count}/{limit}): user-driven enrollments (\"Add work account\") are refused"
            ),
            format!(
                "Retire unused devices of the user or raise the limit of \"{}\"; GPO, co-management, \
                 Entra join and Autopilot enrollments are not counted against it.",
                w.config.name()
            ),
        ),
    };
    if !differing.is_empty() {
        let alt = format!(
            "{summary}; for some devices another limit wins: {} (Intune evaluates the filter rule at enrollment)",
            differing.join("; ")
        );
        return ID
            .finding(Status::Warn, subject(user), alt)
            .with_remediation(
                "Check the assignment filter's rule against the device (Intune admin center > Tenant \
                 administration > Filters); the limit it selects wins for matching devices.",
            )
            .with_all_evidence(evidence);
    }
    ID.finding(status, subject(user), summary)
        .with_remediation(fix)
        .with_all_evidence(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn usr006_device_limit_and_paths() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(false, false, "")));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR006"),
            Status::Pass
        );
        s.sources.managed_devices = Source::collected(
            "GET /v1.0/deviceManagement/managedDevices",
            json(
                r#"[{"id":"m1","userId":"u1","deviceName":"PC1"},{"id":"m2","userPrincipalName":"JDOE@contoso.com","deviceName":"PC2"},{"id":"m3","userId":"other"}]"#,
            ),
        );
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR006"), Status::Fail);
        // A device silent for over 90 days, or pending registration for over a day, is not
        // counted: one device left of a limit of... the fixture's limit.
        let stale = r#"[{"id":"m1","userId":"u1","deviceName":"PC1","lastSyncDateTime":"2025-01-01T00:00:00Z"},
            {"id":"m2","userId":"u1","deviceName":"PC2","deviceRegistrationState":"notRegisteredPendingEnrollment",
             "enrolledDateTime":"2025-06-01T00:00:00Z","lastSyncDateTime":"2025-06-01T00:00:00Z"}]"#;
        s.sources.managed_devices =
            Source::collected("GET /v1.0/deviceManagement/managedDevices", json(stale));
        s.collected_at = chrono::DateTime::parse_from_rfc3339("2025-06-03T00:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        let f = user_readiness(&s, "jdoe@contoso.com", None)
            .into_iter()
            .find(|f| f.check == "USR006");
        let f = f.unwrap_or_else(|| panic!("no USR006"));
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
        let ev: String = f.evidence.iter().map(|e| e.detail.as_str()).collect();
        assert!(ev.contains("PC1: last check-in 2025-01-01"), "{ev}");
        assert!(
            ev.contains("PC2: registration pending since 2025-06-01"),
            "{ev}"
        );
        assert_eq!(
            status(
                &user_readiness(&s, "jdoe@contoso.com", Some(EnrollmentPath::GpoHybrid)),
                "USR006"
            ),
            Status::Pass
        );
    }

    #[test]
    fn usr006_shared_mode_enrollments_are_not_counted() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(false, false, "")));
        // Two devices reach the fixture's limit; enrolled in shared mode they do not count.
        let shared = r#"[{"id":"m1","userId":"u1","deviceName":"PC1","deviceEnrollmentType":"windowsCoManagement"},
            {"id":"m2","userId":"u1","deviceName":"PC2","deviceEnrollmentType":"WindowsAzureADJoin"}]"#;
        s.sources.managed_devices =
            Source::collected("GET /v1.0/deviceManagement/managedDevices", json(shared));
        let f = user_readiness(&s, "jdoe@contoso.com", None)
            .into_iter()
            .find(|f| f.check == "USR006");
        let f = f.unwrap_or_else(|| panic!("no USR006"));
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
        let ev: String = f.evidence.iter().map(|e| e.detail.as_str()).collect();
        assert!(
            ev.contains("PC1: enrolled in shared device mode (co-management or Group Policy"),
            "{ev}"
        );
        assert!(
            ev.contains("PC2: enrolled in shared device mode (Entra join"),
            "{ev}"
        );
        // "Add work account" and Company Portal enrollments count.
        let counted = shared
            .replace("windowsCoManagement", "windowsAutoEnrollment")
            .replace("WindowsAzureADJoin", "userEnrollment");
        s.sources.managed_devices =
            Source::collected("GET /v1.0/deviceManagement/managedDevices", json(&counted));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR006"),
            Status::Fail
        );
    }
}
