//! Tenant checks TEN001–TEN009: pure functions over a [`TenantSnapshot`], one file per check.
//!
//! Each check reads its sources; when one is missing the check is `skip` (permission, app-only,
//! not collected) or `error` (Graph failure), and the other checks still run. [`RULES`] is the
//! order of evaluation and of output; to add a tenant check, add its file, a `mod` line, its
//! `META` re-export and its entry in [`RULES`] (see docs/architecture.md).

use crate::checks::Rule;
use crate::model::Finding;
use crate::tenant::snapshot::TenantSnapshot;

pub mod ten001_mdm_authority_not_intune;
pub mod ten002_no_intune_subscription;
pub mod ten003_mdm_user_scope_none;
pub mod ten004_mdm_urls_not_intune_defaults;
pub mod ten005_scope_set_on_intune_enrollment_app;
pub mod ten006_mam_scope_overlaps_mdm;
pub mod ten007_windows_platform_blocked_by_default;
pub mod ten008_users_cannot_join_devices;
pub mod ten009_enrollment_app_conditional_access;

pub use ten001_mdm_authority_not_intune::META as TEN001;
pub use ten002_no_intune_subscription::META as TEN002;
pub use ten003_mdm_user_scope_none::META as TEN003;
pub use ten004_mdm_urls_not_intune_defaults::META as TEN004;
pub use ten005_scope_set_on_intune_enrollment_app::META as TEN005;
pub use ten006_mam_scope_overlaps_mdm::META as TEN006;
pub use ten007_windows_platform_blocked_by_default::META as TEN007;
pub use ten008_users_cannot_join_devices::META as TEN008;
pub use ten009_enrollment_app_conditional_access::META as TEN009;

pub use ten001_mdm_authority_not_intune::ten001_mdm_authority_not_intune;
pub use ten002_no_intune_subscription::ten002_no_intune_subscription;
pub use ten003_mdm_user_scope_none::ten003_mdm_user_scope_none;
pub use ten004_mdm_urls_not_intune_defaults::ten004_mdm_urls_not_intune_defaults;
pub use ten005_scope_set_on_intune_enrollment_app::ten005_scope_set_on_intune_enrollment_app;
pub use ten006_mam_scope_overlaps_mdm::ten006_mam_scope_overlaps_mdm;
pub use ten007_windows_platform_blocked_by_default::ten007_windows_platform_blocked_by_default;
pub use ten008_users_cannot_join_devices::ten008_users_cannot_join_devices;
pub use ten009_enrollment_app_conditional_access::ten009_enrollment_app_conditional_access;

/// Every tenant check, in the order of evaluation and of output.
pub static RULES: &[Rule<TenantSnapshot>] = &[
    Rule {
        meta: &TEN001,
        eval: ten001_mdm_authority_not_intune::ten001_mdm_authority_not_intune,
    },
    Rule {
        meta: &TEN002,
        eval: ten002_no_intune_subscription::ten002_no_intune_subscription,
    },
    Rule {
        meta: &TEN003,
        eval: ten003_mdm_user_scope_none::ten003_mdm_user_scope_none,
    },
    Rule {
        meta: &TEN004,
        eval: ten004_mdm_urls_not_intune_defaults::ten004_mdm_urls_not_intune_defaults,
    },
    Rule {
        meta: &TEN005,
        eval: ten005_scope_set_on_intune_enrollment_app::ten005_scope_set_on_intune_enrollment_app,
    },
    Rule {
        meta: &TEN006,
        eval: ten006_mam_scope_overlaps_mdm::ten006_mam_scope_overlaps_mdm,
    },
    Rule {
        meta: &TEN007,
        eval:
            ten007_windows_platform_blocked_by_default::ten007_windows_platform_blocked_by_default,
    },
    Rule {
        meta: &TEN008,
        eval: ten008_users_cannot_join_devices::ten008_users_cannot_join_devices,
    },
    Rule {
        meta: &TEN009,
        eval: ten009_enrollment_app_conditional_access::ten009_enrollment_app_conditional_access,
    },
];

/// All tenant checks, in [`RULES`] order.
pub fn evaluate_tenant(snap: &TenantSnapshot) -> Vec<Finding> {
    RULES.iter().map(|r| (r.eval)(snap)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tenant::snapshot::{Source, TokenKind};
    use chrono::{DateTime, Utc};

    pub fn base() -> TenantSnapshot {
        TenantSnapshot::new(
            "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
            "global",
            "https://graph.microsoft.com",
            TokenKind::Delegated,
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    pub fn json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
        match serde_json::from_str(s) {
            Ok(v) => v,
            Err(e) => panic!("test JSON does not parse: {e}\n{s}"),
        }
    }

    pub const MDM_ALL: &str = r#"[
      {"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","displayName":"Microsoft Intune",
       "discoveryUrl":"https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc",
       "termsOfUseUrl":"https://portal.manage.microsoft.com/TermsofUse.aspx",
       "complianceUrl":"https://portal.manage.microsoft.com/?portalAction=Compliance","isValid":true,"includedGroups":[]},
      {"id":"d4ebce55-015a-49b5-a083-c84d1797ae8c","appliesTo":"none","displayName":"Microsoft Intune Enrollment","includedGroups":[]}
    ]"#;

    pub fn with_mdm(s: &str) -> TenantSnapshot {
        let mut snap = base();
        snap.sources.mdm_policies =
            Source::collected("GET /beta/policies/mobileDeviceManagementPolicies", json(s));
        snap
    }

    pub const SKU_E3: &str = r#"{"id":"t_05e9a617","skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","skuPartNumber":"SPE_E3",
        "capabilityStatus":"Enabled","consumedUnits":25,"prepaidUnits":{"enabled":25,"suspended":0,"warning":0},
        "servicePlans":[{"servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5","servicePlanName":"INTUNE_A","provisioningStatus":"Success","appliesTo":"User"}]}"#;
    pub const SKU_O365: &str = r#"{"id":"t_c7df","skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df","skuPartNumber":"ENTERPRISEPREMIUM",
        "capabilityStatus":"Enabled","consumedUnits":1,"prepaidUnits":{"enabled":5},
        "servicePlans":[{"servicePlanId":"882e1d05-acd1-4ccb-8708-6ee03664b117","servicePlanName":"INTUNE_O365","provisioningStatus":"PendingActivation","appliesTo":"User"}]}"#;

    pub fn platform(blocked: bool, personal: bool) -> String {
        format!(
            r##"[{{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration","id":"t_DefaultPlatformRestrictions","priority":0,
          "displayName":"All users and all devices","windowsRestriction":{{"platformBlocked":{blocked},"personalDeviceEnrollmentBlocked":{personal},"osMinimumVersion":"","osMaximumVersion":""}}}}]"##
        )
    }
}
