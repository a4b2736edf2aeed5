//! Windows Autopilot and the Enrollment Status Page (AP001–AP008): the device's Autopilot
//! evidence (`device::autopilot`: the profile it holds, its events, ESP tracking, TPM, edition)
//! joined with the tenant's Autopilot records (`tenant::autopilot`: identities, deployment
//! profiles with assignments, Enrollment Status Pages, corporate identifiers) and the device's
//! Entra groups (`tenant::device_groups`).
//!
//! Path-aware: every check applies only to a device that went through Autopilot (it shows a
//! profile, Autopilot events or ESP tracking) or is registered with Autopilot in this tenant;
//! other devices get `skip` with `not-applicable` ("non-Autopilot" path). AP006 and AP007 also
//! apply to an Entra join outside Autopilot, where corporate identifiers and the edition decide
//! as well. A missing tenant source is a skip that names its permission.
//!
//! Run by correlation ([`crate::checks::correlate::correlate`]) after the COR checks over the
//! records; their failures are tenant-side causes ranked by [`crate::checks::causes`]
//! ([`AUTOPILOT_CAUSE_ORDER`]). To add a check: create `apNNN_<slug>.rs` with its `META` and
//! `pub fn evaluate(&AutopilotFacts) -> Finding` and unit tests, then the `mod` line, the `pub
//! use … as APNNN` line and its entry in [`RULES`] (ID order).

pub mod facts;
#[cfg(test)]
pub(crate) mod testutil;

pub mod ap001_not_registered_with_autopilot;
pub mod ap002_deployment_profile_not_assigned;
pub mod ap003_profile_mode_unsupported_by_device;
pub mod ap004_blocked_for_reuse;
pub mod ap005_enrollment_status_page_blocked;
pub mod ap006_corporate_identifier_makes_personal;
pub mod ap007_edition_cannot_use_autopilot;
pub mod ap008_mdm_configuration_for_userless_autopilot;

use crate::checks::correlate::facts::CorrelationFacts;
use crate::model::{CheckMeta, Finding, Permissions};

pub use ap001_not_registered_with_autopilot::META as AP001;
pub use ap002_deployment_profile_not_assigned::META as AP002;
pub use ap003_profile_mode_unsupported_by_device::META as AP003;
pub use ap004_blocked_for_reuse::META as AP004;
pub use ap005_enrollment_status_page_blocked::META as AP005;
pub use ap006_corporate_identifier_makes_personal::META as AP006;
pub use ap007_edition_cannot_use_autopilot::META as AP007;
pub use ap008_mdm_configuration_for_userless_autopilot::META as AP008;

pub use facts::AutopilotFacts;

/// One Autopilot check: its metadata and its evaluation.
pub struct AutopilotRule {
    pub meta: &'static CheckMeta,
    pub eval: for<'a> fn(&AutopilotFacts<'a>) -> Finding,
}

/// Every Autopilot check in ID order: the order of the AP findings and of the registry.
pub static RULES: &[AutopilotRule] = &[
    AutopilotRule {
        meta: &AP001,
        eval: ap001_not_registered_with_autopilot::evaluate,
    },
    AutopilotRule {
        meta: &AP002,
        eval: ap002_deployment_profile_not_assigned::evaluate,
    },
    AutopilotRule {
        meta: &AP003,
        eval: ap003_profile_mode_unsupported_by_device::evaluate,
    },
    AutopilotRule {
        meta: &AP004,
        eval: ap004_blocked_for_reuse::evaluate,
    },
    AutopilotRule {
        meta: &AP005,
        eval: ap005_enrollment_status_page_blocked::evaluate,
    },
    AutopilotRule {
        meta: &AP006,
        eval: ap006_corporate_identifier_makes_personal::evaluate,
    },
    AutopilotRule {
        meta: &AP007,
        eval: ap007_edition_cannot_use_autopilot::evaluate,
    },
    AutopilotRule {
        meta: &AP008,
        eval: ap008_mdm_configuration_for_userless_autopilot::evaluate,
    },
];

/// The Autopilot causes of a device, most fundamental first: the edition (nothing else can
/// work), the registration (no profile without it), a device blocked for reuse, the profile
/// assignment, the profile's mode against the hardware, the MDM configuration a userless
/// deployment needs, the ownership that corporate identifiers give the enrollment, and last
/// the Enrollment Status Page (it runs after the enrollment succeeded).
pub const AUTOPILOT_CAUSE_ORDER: &[&CheckMeta] = &[
    &AP007, &AP001, &AP004, &AP002, &AP003, &AP008, &AP006, &AP005,
];

/// The Autopilot findings of one device, in [`RULES`] order.
pub fn evaluate(cf: &CorrelationFacts) -> Vec<Finding> {
    let f = AutopilotFacts::new(cf);
    RULES.iter().map(|r| (r.eval)(&f)).collect()
}

/// The service configuration read (identities, profiles, ESP, corporate identifiers).
pub const AUTOPILOT_READ: Permissions = Permissions {
    application: &["DeviceManagementServiceConfig.Read.All"],
    delegated: &["DeviceManagementServiceConfig.Read.All"],
    delegated_only: false,
};

/// The Autopilot records and the device's Entra groups (profile and ESP assignments).
pub const AUTOPILOT_WITH_DEVICE_GROUPS: Permissions = Permissions {
    application: &[
        "DeviceManagementServiceConfig.Read.All",
        "Device.Read.All",
        "GroupMember.Read.All",
    ],
    delegated: &[
        "DeviceManagementServiceConfig.Read.All",
        "Device.Read.All",
        "GroupMember.Read.All",
    ],
    delegated_only: false,
};

/// Learn pages the family cites.
pub const R_AUTOPILOT_OVERVIEW: &str = "https://learn.microsoft.com/autopilot/windows-autopilot";
pub const R_AUTOPILOT_REGISTRATION: &str =
    "https://learn.microsoft.com/autopilot/registration-overview";
pub const R_AUTOPILOT_PROFILES: &str = "https://learn.microsoft.com/autopilot/profiles";
pub const R_AUTOPILOT_SELF_DEPLOYING: &str = "https://learn.microsoft.com/autopilot/self-deploying";
pub const R_AUTOPILOT_KNOWN_ISSUES: &str = "https://learn.microsoft.com/autopilot/known-issues";
pub const R_AUTOPILOT_OOBE_TS: &str = "https://learn.microsoft.com/autopilot/troubleshoot-oobe";
pub const R_AUTOPILOT_ENROLLMENT_TS: &str =
    "https://learn.microsoft.com/autopilot/troubleshoot-device-enrollment";
pub const R_AUTOPILOT_REQUIREMENTS: &str = "https://learn.microsoft.com/autopilot/requirements";
pub const R_ESP: &str =
    "https://learn.microsoft.com/mem/intune/enrollment/windows-enrollment-status";
pub const R_ESP_TS: &str = "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/understand-troubleshoot-esp";
pub const R_CORPORATE_IDENTIFIERS: &str =
    "https://learn.microsoft.com/mem/intune/enrollment/corporate-identifiers-add";
pub const R_AUTOPILOT_API: &str = "https://learn.microsoft.com/graph/api/resources/intune-enrollment-windowsautopilotdeviceidentity?view=graph-rest-beta";
pub const R_DEVICE_MEMBER_OF_API: &str =
    "https://learn.microsoft.com/graph/api/device-list-transitivememberof";

#[cfg(test)]
mod tests;
