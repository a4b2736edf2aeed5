//! What several check families share: documentation links, least-privilege permission sets,
//! the enrollment-path evidence (`paths_evidence`), the Intune MDM-policy preamble
//! (`intune_mdm_policy`) and the `or_finding!` early exit. A family's own helpers live in its
//! folder (`user/shared.rs`, `device/shared.rs`, `correlate/records.rs`, …).

use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::model::{CheckMeta, EnrollmentPath, Evidence, Finding, Permissions, Subject};
use crate::tenant::snapshot::{MobilityPolicy, PolicyScope, TenantSnapshot};

// ---------------------------------------------------------------------------------------------
// Documentation links used by several checks.
pub const R_DIAGNOSE: &str =
    "https://learn.microsoft.com/windows/client-management/mdm-diagnose-enrollment";
pub const R_GPO: &str = "https://learn.microsoft.com/windows/client-management/enroll-a-windows-10-device-automatically-using-group-policy";
pub const R_AUTO_TS: &str = "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-auto-enrollment";
pub const R_ERRORS_TS: &str = "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors";
pub const R_8018002B: &str = "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/windows10-enroll-error-80180002b";
pub const R_RESTRICTIONS: &str =
    "https://learn.microsoft.com/mem/intune/enrollment/enrollment-restrictions-set";
pub const R_DEVICE_LIMIT: &str =
    "https://learn.microsoft.com/mem/intune/enrollment/create-device-limit-restrictions";
pub const R_WINDOWS_ENROLL: &str =
    "https://learn.microsoft.com/mem/intune/enrollment/windows-enroll";
pub const R_LICENSES_ASSIGN: &str =
    "https://learn.microsoft.com/mem/intune/fundamentals/licenses-assign";
pub const R_SERVICE_PLANS: &str =
    "https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference";
pub const R_MDM_AUTHORITY: &str =
    "https://learn.microsoft.com/mem/intune/fundamentals/mdm-authority-set";
pub const R_COMANAGE_MONITOR: &str =
    "https://learn.microsoft.com/mem/configmgr/comanage/how-to-monitor";
pub const R_HYBRID_MANUAL: &str =
    "https://learn.microsoft.com/entra/identity/devices/hybrid-join-manual";
pub const R_HYBRID_PLAN: &str =
    "https://learn.microsoft.com/entra/identity/devices/hybrid-join-plan";
pub const R_DSREGCMD: &str =
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-device-dsregcmd";
pub const R_MDM_POLICIES_API: &str = "https://learn.microsoft.com/graph/api/mobiledevicemanagementpolicies-list?view=graph-rest-beta";
pub const R_MAM_POLICIES_API: &str =
    "https://learn.microsoft.com/graph/api/mobileappmanagementpolicies-list?view=graph-rest-beta";
pub const R_ORGANIZATION_API: &str = "https://learn.microsoft.com/graph/api/resources/organization";
pub const R_SUBSCRIBED_SKUS_API: &str = "https://learn.microsoft.com/graph/api/subscribedsku-list";
pub const R_DEVICE_REGISTRATION_API: &str =
    "https://learn.microsoft.com/graph/api/deviceregistrationpolicy-get";
pub const R_ENROLLMENT_CONFIG_API: &str = "https://learn.microsoft.com/graph/api/resources/intune-onboarding-deviceenrollmentconfiguration";
/// Intune assignment filters.
pub const R_FILTERS: &str = "https://learn.microsoft.com/mem/intune/fundamentals/filters";
/// The rule syntax, operators and case rules of assignment filters.
pub const R_FILTER_PROPERTIES: &str =
    "https://learn.microsoft.com/mem/intune/fundamentals/filters-device-properties";
/// The filter properties Intune evaluates for enrollment restrictions ("Supported filter
/// properties").
pub const R_RESTRICTION_FILTERS: &str = "https://learn.microsoft.com/mem/intune/enrollment/create-device-platform-restrictions#supported-filter-properties";
pub const R_CA_POLICY_API: &str =
    "https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy";
pub const R_USER_API: &str = "https://learn.microsoft.com/graph/api/resources/user";
pub const R_CHECK_MEMBER_GROUPS_API: &str =
    "https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups";
pub const R_DEVICE_API: &str = "https://learn.microsoft.com/graph/api/resources/device";
pub const R_MANAGED_DEVICE_API: &str =
    "https://learn.microsoft.com/graph/api/resources/intune-devices-manageddevice";
pub const R_TROUBLESHOOTING_API: &str = "https://learn.microsoft.com/graph/api/resources/intune-troubleshooting-enrollmenttroubleshootingevent";
pub const R_RELEASE_INFO: &str =
    "https://learn.microsoft.com/windows/release-health/release-information";
pub const R_WIN11_RELEASE_INFO: &str =
    "https://learn.microsoft.com/windows/release-health/windows11-release-information";

// Least-privilege permission sets: the narrowest read permission Graph documents for each source,
// application and delegated (Microsoft Graph permissions reference).
pub const APP_ONLY_UNSUPPORTED_SCOPE: Permissions = Permissions {
    application: &[],
    delegated: &["Policy.Read.All"],
    delegated_only: true,
};
pub const SCOPE_WITH_MEMBERSHIP: Permissions = Permissions {
    application: &[],
    delegated: &[
        "Policy.Read.All",
        "User.ReadBasic.All",
        "GroupMember.Read.All",
    ],
    delegated_only: true,
};
pub const USER_READ: Permissions = Permissions {
    application: &["User.Read.All"],
    delegated: &["User.Read.All"],
    delegated_only: false,
};
pub const RESTRICTIONS_FOR_USER: Permissions = Permissions {
    application: &[
        "DeviceManagementServiceConfig.Read.All",
        "User.Read.All",
        "GroupMember.Read.All",
    ],
    delegated: &[
        "DeviceManagementServiceConfig.Read.All",
        "User.ReadBasic.All",
        "GroupMember.Read.All",
    ],
    delegated_only: false,
};
pub const ENTRA_DEVICES: Permissions = Permissions {
    application: &["Device.Read.All"],
    delegated: &["Device.Read.All"],
    delegated_only: false,
};

/// Evidence saying on which enrollment paths a result matters: every check depends on the path.
pub fn paths_evidence(applies: &[EnrollmentPath], note: &str) -> Evidence {
    let list: Vec<&str> = applies.iter().map(|p| p.as_str()).collect();
    let mut detail = format!("matters for: {}", list.join(", "));
    if !note.is_empty() {
        detail.push_str("; ");
        detail.push_str(note);
    }
    Evidence::new("enrollment-path", detail)
}

pub const ALL_PATHS: [EnrollmentPath; 4] = [
    EnrollmentPath::GpoHybrid,
    EnrollmentPath::EntraJoin,
    EnrollmentPath::EntraRegistered,
    EnrollmentPath::CoManagement,
];

/// Location of one MDM/MAM policy.
pub fn policy_location(kind: &str, id: &str) -> String {
    format!("GET /beta/policies/{kind}/{id}?$expand=includedGroups")
}

pub fn find_policy<'a>(list: &'a [MobilityPolicy], app_id: &str) -> Option<&'a MobilityPolicy> {
    list.iter().find(|p| p.id.eq_ignore_ascii_case(app_id))
}

/// The user-scope paths: where the Intune MDM user scope decides enrollment.
pub const USER_SCOPE_PATHS: [EnrollmentPath; 3] = [
    EnrollmentPath::GpoHybrid,
    EnrollmentPath::EntraJoin,
    EnrollmentPath::EntraRegistered,
];

/// The Microsoft Intune MDM policy as TEN003, TEN004 and USR003 read it.
pub struct IntuneMdmPolicy<'a> {
    /// Every MDM policy the tenant returned.
    pub list: &'a [MobilityPolicy],
    /// The Microsoft Intune one, if it exists.
    pub policy: Option<&'a MobilityPolicy>,
    /// Where it is read from.
    pub location: String,
    /// On which paths the result matters, with the check's own note.
    pub paths: Evidence,
}

/// Reads the Intune MDM policy for `check`, or the finding that says why it cannot (source not
/// collected, permission missing, app-only token, Graph error).
pub fn intune_mdm_policy<'a>(
    snap: &'a TenantSnapshot,
    check: &CheckMeta,
    subject: Subject,
    paths_note: &str,
) -> Result<IntuneMdmPolicy<'a>, Box<Finding>> {
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => {
            return Err(Box::new(r.finding_of(
                check,
                subject,
                "the MDM user scope policies",
            )));
        }
    };
    Ok(IntuneMdmPolicy {
        list,
        policy: find_policy(list, MICROSOFT_INTUNE_APP_ID),
        location: policy_location("mobileDeviceManagementPolicies", MICROSOFT_INTUNE_APP_ID),
        paths: paths_evidence(&USER_SCOPE_PATHS, paths_note),
    })
}

pub(crate) fn scope_detail(p: &MobilityPolicy) -> String {
    let groups: Vec<String> = p
        .included_groups
        .iter()
        .map(|g| g.display_name.clone().unwrap_or_else(|| g.id.clone()))
        .collect();
    match p.scope() {
        PolicyScope::Selected => format!(
            "\"{}\" appliesTo = selected, includedGroups = [{}]",
            p.name(),
            groups.join(", ")
        ),
        s => format!("\"{}\" appliesTo = {}", p.name(), s.as_str()),
    }
}

/// `let v = or_finding!(result);` — the value of an `Ok`, or return the check's finding carried
/// by the `Err` (a check's early exit: its source is missing, or there is nothing to evaluate).
macro_rules! or_finding {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(finding) => return *finding,
        }
    };
}
pub(crate) use or_finding;
