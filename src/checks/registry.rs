//! The check catalog as data: every rule's stable ID, name, title, severity, the Graph
//! permissions it needs, and its `explain` text. `enroll-doctor explain ID` renders an entry;
//! the README permission table is generated from it.

use std::sync::LazyLock;

use crate::model::Severity;
pub use crate::model::{Area, CheckMeta, NO_PERMISSIONS, Permissions};

/// Every check, in the order of evaluation and of output: the tenant, user, device and
/// correlation families, each in its own list's order.
pub fn all() -> &'static [&'static CheckMeta] {
    &ALL
}

static ALL: LazyLock<Vec<&'static CheckMeta>> = LazyLock::new(|| {
    let mut all: Vec<&'static CheckMeta> = Vec::new();
    all.extend(crate::checks::tenant::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::user::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::device::RULES.iter().map(|r| r.meta));
    all.extend(CORRELATION);
    all
});

/// A check by ID (case-insensitive) or by kebab name.
pub fn get(id: &str) -> Option<&'static CheckMeta> {
    all()
        .iter()
        .copied()
        .find(|c| c.id.eq_ignore_ascii_case(id) || c.name.eq_ignore_ascii_case(id))
}

#[allow(unused_imports)]
use super::common::*;

// Transitional: this family's metadata until it moves into one file per check.
static CORRELATION: &[&CheckMeta] = &[
    &CheckMeta {
        id: "COR001",
        name: "device-in-other-tenant",
        title: "The device is joined to the audited tenant",
        severity: Severity::Critical,
        area: Area::Correlation,
        permissions: Permissions {
            application: &["Organization.Read.All"],
            delegated: &["User.Read"],
            delegated_only: false,
        },
        what_it_checks: "Compares TenantId from dsregcmd /status (and AADTenantID of the Enrollments keys, \
            TenantID of event 91) with the tenant being audited.",
        why_it_matters: "A device joined to another tenant asks that tenant for MDM information; nothing in your \
            tenant can make it enroll. Stale TenantInfo of a former tenant also produces 0x8018002B. Enrollment \
            paths: all.",
        how_to_fix: "Check whether the device is meant to belong to the other tenant. If not, as administrator run \
            dsregcmd /leave, remove stale keys under HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\\
            TenantInfo, make sure the SCP (or the CDJ\\AAD registry values) points at your tenant, and let the device \
            join again.",
        references: &[R_8018002B, R_DSREGCMD, R_HYBRID_MANUAL],
    },
    &CheckMeta {
        id: "COR002",
        name: "entra-device-record-missing",
        title: "Entra ID has a device object with the report's DeviceId",
        severity: Severity::High,
        area: Area::Correlation,
        permissions: ENTRA_DEVICES,
        what_it_checks: "Looks up the DeviceId from dsregcmd /status among Entra devices (deviceId filter) and \
            fails when none exists.",
        why_it_matters: "A device the directory does not know cannot get a device token, and the user's token is \
            not tied to it: enrollment fails or enrolls a device Intune cannot match. Typical after the object \
            was deleted, or before the first Entra Connect sync of a hybrid device. Enrollment paths: gpo-hybrid, \
            entra-join, co-management.",
        how_to_fix: "For hybrid devices: check the computer's OU is in the Entra Connect sync scope and has a \
            userCertificate, wait for a sync, then let the device retry. If the object was deleted, run dsregcmd \
            /leave on the device and join again. Entra admin center > Identity > Devices > All devices shows the \
            result.",
        references: &[R_DSREGCMD, R_HYBRID_MANUAL, R_DEVICE_API],
    },
    &CheckMeta {
        id: "COR003",
        name: "entra-device-record-unhealthy",
        title: "The Entra device object is healthy",
        severity: Severity::Medium,
        area: Area::Correlation,
        permissions: ENTRA_DEVICES,
        what_it_checks: "For the Entra device with the report's DeviceId: disabled account, trustType that does not \
            match the join (ServerAd for hybrid), a hybrid object still pending (no certificate key registered), \
            the same device both Workplace registered and hybrid joined (dual state), a stale sign-in, or several \
            objects with the same display name.",
        why_it_matters: "A disabled or pending object cannot authenticate; a dual-state device may enroll with the \
            registered identity instead of the hybrid one; duplicates confuse both admins and correlation. \
            Enrollment paths: gpo-hybrid and co-management mostly; entra-join for disabled or stale objects.",
        how_to_fix: "Entra admin center > Identity > Devices > All devices: enable the device or remove the wrong \
            duplicates. For a pending hybrid object, sign in on the device so it completes registration. For dual \
            state, remove the work account registration on the device (Settings > Accounts > Access work or \
            school) and block new registrations on hybrid devices by policy.",
        references: &[R_DSREGCMD, R_HYBRID_PLAN, R_DEVICE_API],
    },
    &CheckMeta {
        id: "COR004",
        name: "intune-record-mismatch",
        title: "Entra and Intune agree on whether the device is managed",
        severity: Severity::Medium,
        area: Area::Correlation,
        permissions: Permissions {
            application: &["Device.Read.All", "DeviceManagementManagedDevices.Read.All"],
            delegated: &["Device.Read.All", "DeviceManagementManagedDevices.Read.All"],
            delegated_only: false,
        },
        what_it_checks: "Compares the Entra device (isManaged, mdmAppId) with Intune managedDevices whose \
            azureADDeviceId equals the report's DeviceId, and reports a device Entra calls Intune-managed with no \
            Intune record, or an Intune record whose Entra object says otherwise.",
        why_it_matters: "A mismatch is left by deleted or retired records and by enrollment under another device \
            identity; Conditional Access and compliance then treat the device wrongly, and a lingering record may \
            count against limits. Enrollment paths: all.",
        how_to_fix: "Delete the orphaned record (Intune admin center > Devices > All devices, or the Entra device) \
            and let the device enroll or check in again; for a device enrolled under another identity, clean up \
            the stale enrollment on the device (DEV009).",
        references: &[R_MANAGED_DEVICE_API, R_DEVICE_API],
    },
    &CheckMeta {
        id: "COR005",
        name: "enrolling-user-not-ready",
        title: "The user who enrolls the device is ready for Intune",
        severity: Severity::High,
        area: Area::Correlation,
        permissions: Permissions {
            application: &[
                "User.Read.All",
                "GroupMember.Read.All",
                "DeviceManagementServiceConfig.Read.All",
            ],
            delegated: &[
                "User.Read.All",
                "GroupMember.Read.All",
                "DeviceManagementServiceConfig.Read.All",
                "Policy.Read.All",
            ],
            delegated_only: false,
        },
        what_it_checks: "Takes the UPN the device enrolls with (event 91, the Enrollments key, or dsregcmd) and runs \
            the user checks for it: account, Intune license, MDM scope and the platform restriction that wins. The \
            scope part needs a delegated token and is skipped with app-only authentication.",
        why_it_matters: "The admin often checks the wrong person: enrollment uses the account that signed in on the \
            device, which may not be the device's owner. Enrollment paths: gpo-hybrid, entra-join, co-management \
            with the user token.",
        how_to_fix: "Fix the user findings listed with this one (USR001–USR005), or have the intended user sign in \
            on the device so the task enrolls with that account.",
        references: &[R_AUTO_TS, R_DIAGNOSE, R_USER_API],
    },
    &CheckMeta {
        id: "COR006",
        name: "restriction-blocks-device-build",
        title: "The winning restriction's OS version range includes the device's build",
        severity: Severity::High,
        area: Area::Correlation,
        permissions: RESTRICTIONS_FOR_USER,
        what_it_checks: "Compares the device's OS version with the minimum and maximum version of the Windows \
            platform restriction that applies to the enrolling user (or the default for userless enrollment). \
            Windows sends no revision number at enrollment, so only major.minor.build are compared.",
        why_it_matters: "A version range that excludes the build refuses enrollment with 0x80180014 although \
            Windows (MDM) is allowed, a frequent surprise after a version minimum is set with a revision. \
            Enrollment paths: all user-driven ones; Autopilot self-deploying uses the default restriction.",
        how_to_fix: "Intune admin center > Devices > Enrollment > Device platform restriction > Windows \
            restrictions > the reported policy > Properties: correct the minimum or maximum version (without a \
            revision), or update the device to a build inside the range.",
        references: &[R_RESTRICTIONS, R_ERRORS_TS],
    },
    &CheckMeta {
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
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in all() {
            assert!(ids.insert(c.id), "duplicate id {}", c.id);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert_eq!(c.id.len(), 6, "{}", c.id);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                c.name
            );
            let prefix_area = match &c.id[..3] {
                "TEN" => Area::Tenant,
                "USR" => Area::User,
                "DEV" => Area::Device,
                "COR" => Area::Correlation,
                other => panic!("unknown prefix {other}"),
            };
            assert_eq!(c.area, prefix_area, "{}", c.id);
        }
    }

    #[test]
    fn design_catalog_is_complete_and_in_order() {
        let expected: Vec<String> = (1..=9)
            .map(|n| format!("TEN{n:03}"))
            .chain((1..=8).map(|n| format!("USR{n:03}")))
            .chain((1..=11).map(|n| format!("DEV{n:03}")))
            .chain((1..=7).map(|n| format!("COR{n:03}")))
            .collect();
        let actual: Vec<&str> = all().iter().map(|c| c.id).collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn every_check_has_all_explain_sections_and_references() {
        for c in all() {
            for (section, text) in [
                ("title", c.title),
                ("what it checks", c.what_it_checks),
                ("why it matters", c.why_it_matters),
                ("how to fix", c.how_to_fix),
            ] {
                assert!(!text.trim().is_empty(), "{} has no {section}", c.id);
            }
            assert!(!c.references.is_empty(), "{} has no reference", c.id);
            for r in c.references {
                assert!(
                    r.starts_with("https://learn.microsoft.com/"),
                    "{}: {r}",
                    c.id
                );
            }
            assert!(
                c.why_it_matters.contains("Enrollment paths"),
                "{} does not say which enrollment paths it matters for",
                c.id
            );
        }
    }

    #[test]
    fn permissions_follow_the_area() {
        for c in all() {
            let p = &c.permissions;
            match c.area {
                Area::Device => {
                    assert!(
                        p.application.is_empty() && p.delegated.is_empty(),
                        "{}",
                        c.id
                    );
                }
                Area::Tenant | Area::User | Area::Correlation => {
                    assert!(!p.delegated.is_empty(), "{} declares no permission", c.id);
                    if p.delegated_only {
                        assert!(p.application.is_empty(), "{}", c.id);
                    } else {
                        assert!(!p.application.is_empty(), "{}", c.id);
                    }
                }
            }
            for perm in p.application.iter().chain(p.delegated) {
                assert!(
                    !perm.contains("ReadWrite"),
                    "{} asks for write access: {perm}",
                    c.id
                );
            }
        }
        for id in ["TEN003", "TEN004", "TEN005", "TEN006", "USR003", "USR004"] {
            let c = get(id).expect("scope check exists");
            assert!(c.permissions.delegated_only, "{id}");
            assert!(c.permissions.delegated.contains(&"Policy.Read.All"), "{id}");
        }
    }

    #[test]
    fn lookup_by_id_or_name() {
        assert_eq!(get("dev007").map(|c| c.id), Some("DEV007"));
        assert_eq!(get("autoenroll-failed").map(|c| c.id), Some("DEV007"));
        assert!(get("DEV999").is_none());
    }
}
