//! USR006: The user is below the Intune device limit.

use super::shared::{decided_winner, subject, winner_evidence};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions, Severity};
use crate::model::{EnrollmentPath, Evidence, Finding, Status};
use crate::tenant::precedence::winning_restrictions;
use crate::tenant::snapshot::{ManagedDevice, MissingReason, TenantSnapshot, User};

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
        those assigned, else the default) and compares its limit with the number of devices the user has \
        enrolled in Intune. Fails when the user is at or above the limit.",
    why_it_matters: "A user at the limit gets 0x80180013 (or 0x80180003) on the next user-driven enrollment. \
        Intune does not enforce this limit for GPO, co-management, Entra join, bulk and Autopilot enrollments, \
        so on those paths the finding is informational. Enrollment paths: entra-registered and other \
        user-driven enrollments; not gpo-hybrid, entra-join or co-management.",
    how_to_fix: "Retire or delete the user's stale devices in Intune admin center > Devices > All devices, or \
        raise the limit in Devices > Enrollment > Device limit restrictions (edit the policy that wins for the \
        user).",
    references: &[R_DEVICE_LIMIT, R_RESTRICTIONS, R_ERRORS_TS],
};

pub(super) fn usr006_for(
    snap: &TenantSnapshot,
    user: &User,
    devices: Vec<&ManagedDevice>,
    path: Option<EnrollmentPath>,
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
    let count = devices.len() as i64;
    let mut evidence = winner_evidence(&w);
    let names: Vec<&str> = devices
        .iter()
        .map(|d| d.device_name.as_deref().unwrap_or(&d.id))
        .collect();
    evidence.push(
        Evidence::new(
            "graph",
            format!(
                "the user has {count} Intune-managed device(s) [{}], limit {limit}",
                names.join(", ")
            ),
        )
        .at(snap
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
        assert_eq!(
            status(
                &user_readiness(&s, "jdoe@contoso.com", Some(EnrollmentPath::GpoHybrid)),
                "USR006"
            ),
            Status::Pass
        );
    }
}
