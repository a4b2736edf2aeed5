//! User checks USR001–USR010: one user's readiness for Windows MDM enrollment, evaluated in
//! memory over a [`TenantSnapshot`] (so N users cost no extra Graph calls).
//!
//! [`user_readiness_with`] is the entry point the correlation code calls with what it knows of
//! the device (its enrollment path, OS version); results that depend on the path say so in their evidence.

use crate::model::{EnrollmentPath, Finding, SkipReason, Subject};
use crate::tenant::snapshot::{MissingReason, Source, TenantSnapshot};

pub mod facts;
pub mod shared;

pub mod usr001_user_missing_or_disabled;
pub mod usr002_user_not_licensed_for_intune;
pub mod usr003_user_not_in_mdm_scope;
pub mod usr004_user_in_mam_scope;
pub mod usr005_windows_blocked_for_user;
pub mod usr006_user_at_device_limit;
pub mod usr007_user_usage_location_missing;
pub mod usr008_upn_suffix_not_verified;
pub mod usr009_conditional_access_blocks_user;
pub mod usr010_user_at_entra_device_quota;

pub use facts::{DeviceContext, PresentedUpn, UserFacts, UserIndex, UserRule};

pub use usr001_user_missing_or_disabled::META as USR001;
pub use usr002_user_not_licensed_for_intune::META as USR002;
pub use usr003_user_not_in_mdm_scope::META as USR003;
pub use usr004_user_in_mam_scope::META as USR004;
pub use usr005_windows_blocked_for_user::META as USR005;
pub use usr006_user_at_device_limit::META as USR006;
pub use usr007_user_usage_location_missing::META as USR007;
pub use usr008_upn_suffix_not_verified::META as USR008;
pub use usr009_conditional_access_blocks_user::META as USR009;
pub use usr010_user_at_entra_device_quota::META as USR010;

pub use usr001_user_missing_or_disabled::{AccountState, account_state};
pub use usr002_user_not_licensed_for_intune::usr002_license;
pub use usr003_user_not_in_mdm_scope::usr003_mdm_scope;
pub use usr004_user_in_mam_scope::usr004_mam_scope;
pub use usr005_windows_blocked_for_user::usr005_platform_restriction;
pub use usr007_user_usage_location_missing::usr007_user_usage_location_missing;
pub use usr008_upn_suffix_not_verified::usr008_upn_suffix;
pub use usr009_conditional_access_blocks_user::usr009_conditional_access;
pub use usr010_user_at_entra_device_quota::usr010_entra_device_quota;

/// USR001–USR010 for one user, for an optional enrollment path.
pub fn user_readiness(
    snap: &TenantSnapshot,
    upn: &str,
    path: Option<EnrollmentPath>,
) -> Vec<Finding> {
    user_readiness_with(snap, upn, &DeviceContext::for_path(path))
}

/// USR001–USR010 with everything known about the device.
pub fn user_readiness_with(snap: &TenantSnapshot, upn: &str, dev: &DeviceContext) -> Vec<Finding> {
    user_readiness_in(snap, &UserIndex::new(snap), upn, dev)
}

/// USR001–USR010 for one user, with a prebuilt index.
pub fn user_readiness_in(
    snap: &TenantSnapshot,
    index: &UserIndex<'_>,
    upn: &str,
    dev: &DeviceContext,
) -> Vec<Finding> {
    let Some(user) = index.user(upn) else {
        // Without the user object only USR001 can be evaluated; the others say why, once each.
        let subject = Subject::User(upn.to_string());
        let mut out = vec![usr001_user_missing_or_disabled::usr001_for(snap, upn, None)];
        for rule in RULES[1..].iter().filter(|r| evaluated(snap, r)) {
            out.push(rule.meta.skip(
                subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!("the user object of {upn} (see USR001)"),
                },
            ));
        }
        return out;
    };
    let facts = UserFacts {
        snap,
        upn,
        user,
        managed_devices: index.managed_devices(user),
        device: dev,
        enrollment_ca: index.enrollment_ca(),
        owned_entra: index.owned_entra_devices(user),
    };
    RULES
        .iter()
        .filter(|r| evaluated(snap, r))
        .map(|r| (r.eval)(&facts))
        .collect()
}

/// Whether `rule` is evaluated on `snap`: USR010 needs the users' owned Entra devices,
/// which only a `check` of named users reads; where they were never asked for (a whole-tenant
/// or group run, a device report) it is left out rather than skipped once per user, and the
/// run's notes say so ([`owned_devices_note`]).
fn evaluated(snap: &TenantSnapshot, rule: &UserRule) -> bool {
    *rule.meta != USR010 || owned_devices_read(snap)
}

fn owned_devices_read(snap: &TenantSnapshot) -> bool {
    !matches!(
        snap.sources.user_owned_devices,
        Source::Missing {
            reason: MissingReason::NotCollected
        }
    )
}

/// The note a run prints when USR010 was left out (see [`evaluated`]).
pub fn owned_devices_note(snap: &TenantSnapshot) -> Option<String> {
    (!owned_devices_read(snap)).then(|| {
        "USR010 (Entra's per-user device quota) is evaluated for users named with --user or \
         --users-file: the Entra devices they own are not read for a whole tenant or a group"
            .to_string()
    })
}

/// Every user check, in the order of evaluation and of output. USR001 comes first: when the
/// user object is missing it is the only one evaluated.
pub static RULES: &[UserRule] = &[
    UserRule {
        meta: &USR001,
        eval: |f| usr001_user_missing_or_disabled::usr001_for(f.snap, f.upn, Some(f.user)),
    },
    UserRule {
        meta: &USR002,
        eval: |f| usr002_license(f.snap, f.user),
    },
    UserRule {
        meta: &USR003,
        eval: |f| usr003_mdm_scope(f.snap, f.user),
    },
    UserRule {
        meta: &USR004,
        eval: |f| usr004_mam_scope(f.snap, f.user, f.device.path),
    },
    UserRule {
        meta: &USR005,
        eval: |f| usr005_platform_restriction(f.snap, f.user, f.device),
    },
    UserRule {
        meta: &USR006,
        eval: |f| {
            usr006_user_at_device_limit::usr006_for(
                f.snap,
                f.user,
                f.managed_devices.clone(),
                f.device.path,
                f.device.as_of.unwrap_or(f.snap.collected_at),
            )
        },
    },
    UserRule {
        meta: &USR007,
        eval: |f| usr007_user_usage_location_missing(f.snap, f.user),
    },
    UserRule {
        meta: &USR008,
        eval: |f| usr008_upn_suffix(f.snap, f.user, &f.device.presented_upn),
    },
    UserRule {
        meta: &USR009,
        eval: |f| usr009_conditional_access(f.snap, f.user, f.device.path, f.enrollment_ca),
    },
    UserRule {
        meta: &USR010,
        eval: |f| usr010_entra_device_quota(f.snap, f.user, f.device.path, Some(f.owned_entra)),
    },
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::tenant::tests::{MDM_ALL, base, json};
    use crate::model::Status;

    use crate::tenant::snapshot::{GroupMemberships, GroupRef, Source, UserScope};

    pub(crate) const SCOPE_GROUP: &str = "4d0ef681-e88f-42a3-a2db-e6bf1e249e10";
    pub(crate) const PILOT: &str = "7a1c0f3e-5b2d-4e6f-8a9b-0c1d2e3f4a5b";

    pub(crate) fn user_json(extra: &str) -> String {
        format!(
            r#"{{"id":"u1","userPrincipalName":"jdoe@contoso.com","accountEnabled":true,"usageLocation":"US",
            "assignedLicenses":[{{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","disabledPlans":[]}}],
            "assignedPlans":[{{"capabilityStatus":"Enabled","service":"SCO","servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5"}}]{extra}}}"#
        )
    }

    pub(crate) fn snap_with(user: &str, groups: &[&str]) -> TenantSnapshot {
        let mut s = base();
        s.user_scope = UserScope::Selected {
            upns: vec!["jdoe@contoso.com".into()],
        };
        s.sources.users = Source::collected("GET /v1.0/users", json(&format!("[{user}]")));
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(
                r#"{"id":"t","verifiedDomains":[{"name":"contoso.com","isDefault":true},{"name":"contoso.onmicrosoft.com","isInitial":true}]}"#,
            ),
        );
        let mut m = GroupMemberships {
            all_users_resolved: false,
            ..Default::default()
        };
        m.members
            .insert("u1".into(), groups.iter().map(|g| g.to_string()).collect());
        m.groups.insert(
            PILOT.into(),
            GroupRef {
                id: PILOT.into(),
                display_name: Some("Pilot".into()),
            },
        );
        s.sources.group_memberships =
            Source::collected("GET /v1.0/users/{id}/transitiveMemberOf", m);
        s.sources.mdm_policies = Source::collected(
            "GET /beta/policies/mobileDeviceManagementPolicies",
            json(MDM_ALL),
        );
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"none"}]"#),
        );
        s.sources.managed_devices =
            Source::collected("GET /v1.0/deviceManagement/managedDevices", vec![]);
        s
    }

    pub(crate) fn status(fs: &[Finding], id: &str) -> Status {
        fs.iter()
            .find(|f| f.check == id)
            .map(|f| f.status.clone())
            .unwrap_or(Status::Error)
    }

    pub(crate) fn selected(group: &str) -> String {
        format!(
            r#"[{{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"selected","displayName":"Microsoft Intune","includedGroups":[{{"id":"{group}","displayName":"Intune Users"}}]}}]"#
        )
    }

    pub(crate) fn restrictions(personal: bool, blocked: bool, min: &str) -> String {
        format!(
            r##"[
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration","id":"t_DefaultPlatformRestrictions","priority":0,"displayName":"All users and all devices",
            "windowsRestriction":{{"platformBlocked":false,"personalDeviceEnrollmentBlocked":false,"osMinimumVersion":"","osMaximumVersion":""}}}},
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration","id":"c1_SinglePlatformRestriction","priority":1,"displayName":"Pilot Windows block","platformType":"windows",
            "platformRestriction":{{"platformBlocked":{blocked},"personalDeviceEnrollmentBlocked":{personal},"osMinimumVersion":"{min}","osMaximumVersion":null}},
            "assignments":[{{"id":"a1","target":{{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"{PILOT}"}}}}]}},
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"t_DefaultLimit","priority":0,"limit":2,"displayName":"All users and all devices"}}
        ]"##
        )
    }
}
