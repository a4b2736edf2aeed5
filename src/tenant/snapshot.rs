//! `TenantSnapshot`: every tenant-side fact the checks read, as versioned, deterministic JSON.
//!
//! Fact structs keep Graph's JSON property names (camelCase, `@odata.type`) so a snapshot can be
//! compared with a Graph response by eye. Unknown properties are ignored; the messy values real
//! tenants return (`""` versus `null`, `PascalCase` versus `camelCase` enums) are tolerated: empty
//! strings are read as unset and enums stay strings, compared case-insensitively through helpers.
//!
//! Each source is either collected (with the endpoint it came from) or missing with a typed
//! reason, so a check can `skip` (permission, app-only) or `error` (Graph failure) precisely.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CheckMeta, Evidence, Finding, SkipReason, Subject};

/// Schema tag of a saved snapshot.
pub const TENANT_SNAPSHOT_SCHEMA: &str = "enroll-doctor/tenant-snapshot@1";

/// Everything collected from one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSnapshot {
    pub schema: String,
    pub collected_at: DateTime<Utc>,
    pub tenant_id: String,
    /// `global`, `usgov`, `usgov-dod`, `china` or `custom`.
    pub cloud: String,
    /// Graph root the facts came from, e.g. `https://graph.microsoft.com`.
    pub graph_base: String,
    pub token_kind: TokenKind,
    /// Which users the `users`, `group_memberships` and per-user device sources cover.
    #[serde(default)]
    pub user_scope: UserScope,
    pub sources: Sources,
    /// Lookup tables over the sources, built on first use (not part of the file format).
    #[serde(skip)]
    pub(crate) index: super::tables::LazyIndex,
}

/// Kind of token the collection ran with; decides which sources are readable at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    AppOnly,
    Delegated,
    Unknown,
}

/// Which users were collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UserScope {
    /// No user data (tenant audit only).
    #[default]
    None,
    /// Every user in the tenant: a user absent from `users` does not exist.
    All,
    /// Only these UPNs (as requested, lower-cased): a UPN outside the list was not looked up.
    Selected { upns: Vec<String> },
}

/// One source per Graph call family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sources {
    pub organization: Source<Organization>,
    pub subscribed_skus: Source<Vec<SubscribedSku>>,
    /// beta `/policies/mobileDeviceManagementPolicies` with `includedGroups` (delegated only).
    pub mdm_policies: Source<Vec<MobilityPolicy>>,
    /// beta `/policies/mobileAppManagementPolicies` with `includedGroups` (delegated only).
    pub mam_policies: Source<Vec<MobilityPolicy>>,
    /// beta `/deviceManagement/deviceEnrollmentConfigurations` with `assignments`.
    pub enrollment_configurations: Source<Vec<EnrollmentConfiguration>>,
    pub device_registration_policy: Source<DeviceRegistrationPolicy>,
    pub users: Source<Vec<User>>,
    pub group_memberships: Source<GroupMemberships>,
    pub entra_devices: Source<Vec<EntraDevice>>,
    pub managed_devices: Source<Vec<ManagedDevice>>,
    pub troubleshooting_events: Source<Vec<TroubleshootingEvent>>,
    pub conditional_access_policies: Source<Vec<ConditionalAccessPolicy>>,
    /// beta `/deviceManagement/assignmentFilters` (beta only), read only when an enrollment
    /// restriction is assigned through a filter: names and rules for the evidence.
    #[serde(default = "Source::not_collected")]
    pub assignment_filters: Source<Vec<AssignmentFilter>>,
    /// `/users/{id}/ownedDevices` of the users named in the run: the Entra joined and
    /// registered devices each owns (`registeredUserIds` says whose), which Entra's per-user
    /// device quota counts.
    #[serde(default = "Source::not_collected")]
    pub user_owned_devices: Source<Vec<EntraDevice>>,
    /// beta `/deviceManagement/windowsAutopilotDeviceIdentities` (beta for the profile
    /// assignment and userless enrollment status; see `tenant::autopilot`).
    #[serde(default = "Source::not_collected")]
    pub autopilot_devices: Source<Vec<AutopilotDeviceIdentity>>,
    /// beta `/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments`.
    #[serde(default = "Source::not_collected")]
    pub autopilot_profiles: Source<Vec<AutopilotProfile>>,
    /// The Enrollment Status Pages of beta `deviceEnrollmentConfigurations` (same listing).
    #[serde(default = "Source::not_collected")]
    pub enrollment_status_pages: Source<Vec<EnrollmentStatusPage>>,
    /// beta `/deviceManagement/importedDeviceIdentities` (corporate identifiers).
    #[serde(default = "Source::not_collected")]
    pub imported_device_identities: Source<Vec<ImportedDeviceIdentity>>,
    /// beta `/deviceManagement/autopilotEvents` (deployments of about the last 30 days).
    #[serde(default = "Source::not_collected")]
    pub autopilot_events: Source<Vec<AutopilotEvent>>,
    /// v1.0 `/devices(deviceId='…')/transitiveMemberOf` of the devices diagnosed: the groups
    /// Autopilot profiles and Enrollment Status Pages are assigned to (`tenant::device_groups`).
    #[serde(default = "Source::not_collected")]
    pub device_group_memberships: Source<super::device_groups::DeviceGroupMemberships>,
}

pub use super::autopilot::{
    AutopilotDeviceIdentity, AutopilotEvent, AutopilotProfile, EnrollmentStatusPage,
    ImportedDeviceIdentity,
};

pub use super::assignment_filters::{AssignmentFilter, TargetFilter};

impl Sources {
    /// Every source by its field name, with why it is missing if it is: for code that looks
    /// at all sources alike (a test checks that no field is left out).
    pub fn each(&self) -> [(&'static str, Option<&MissingReason>); 20] {
        fn missing<T>(s: &Source<T>) -> Option<&MissingReason> {
            s.get().err()
        }
        [
            ("organization", missing(&self.organization)),
            ("subscribed_skus", missing(&self.subscribed_skus)),
            ("mdm_policies", missing(&self.mdm_policies)),
            ("mam_policies", missing(&self.mam_policies)),
            (
                "enrollment_configurations",
                missing(&self.enrollment_configurations),
            ),
            (
                "device_registration_policy",
                missing(&self.device_registration_policy),
            ),
            ("users", missing(&self.users)),
            ("group_memberships", missing(&self.group_memberships)),
            ("entra_devices", missing(&self.entra_devices)),
            ("managed_devices", missing(&self.managed_devices)),
            (
                "troubleshooting_events",
                missing(&self.troubleshooting_events),
            ),
            (
                "conditional_access_policies",
                missing(&self.conditional_access_policies),
            ),
            ("assignment_filters", missing(&self.assignment_filters)),
            ("user_owned_devices", missing(&self.user_owned_devices)),
            ("autopilot_devices", missing(&self.autopilot_devices)),
            ("autopilot_profiles", missing(&self.autopilot_profiles)),
            (
                "enrollment_status_pages",
                missing(&self.enrollment_status_pages),
            ),
            (
                "imported_device_identities",
                missing(&self.imported_device_identities),
            ),
            ("autopilot_events", missing(&self.autopilot_events)),
            (
                "device_group_memberships",
                missing(&self.device_group_memberships),
            ),
        ]
    }
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            organization: Source::not_collected(),
            subscribed_skus: Source::not_collected(),
            mdm_policies: Source::not_collected(),
            mam_policies: Source::not_collected(),
            enrollment_configurations: Source::not_collected(),
            device_registration_policy: Source::not_collected(),
            users: Source::not_collected(),
            group_memberships: Source::not_collected(),
            entra_devices: Source::not_collected(),
            managed_devices: Source::not_collected(),
            troubleshooting_events: Source::not_collected(),
            conditional_access_policies: Source::not_collected(),
            assignment_filters: Source::not_collected(),
            user_owned_devices: Source::not_collected(),
            autopilot_devices: Source::not_collected(),
            autopilot_profiles: Source::not_collected(),
            enrollment_status_pages: Source::not_collected(),
            imported_device_identities: Source::not_collected(),
            autopilot_events: Source::not_collected(),
            device_group_memberships: Source::not_collected(),
        }
    }
}

/// The data of one source, or why it is not there. Read by `tenant/source_de.rs` (as a
/// stream: the derived reader of a tagged enum would buffer the data first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Source<T> {
    Collected {
        /// Request(s) the data came from, e.g. `GET /v1.0/subscribedSkus`.
        endpoint: String,
        data: T,
    },
    Missing {
        reason: MissingReason,
    },
}

/// Why a source has no data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MissingReason {
    /// This run did not ask for it (e.g. users in a tenant-only audit).
    NotCollected,
    /// The token lacks a permission; `needed` lists what to grant (any one suffices).
    InsufficientPermission { needed: Vec<String> },
    /// Graph serves it to delegated tokens only.
    AppOnlyUnsupported,
    /// Graph answered with an error after retries.
    GraphError {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        message: String,
    },
}

impl MissingReason {
    /// Why the source is missing, in words: the evidence of [`Self::finding_of`], and the
    /// error of a run that cannot go on without the source.
    pub fn describe(&self) -> String {
        match self {
            MissingReason::NotCollected => "not collected in this run or snapshot".to_string(),
            MissingReason::InsufficientPermission { needed } => format!(
                "Graph refused the token (401/403); it lacks {}",
                needed.join(" or ")
            ),
            MissingReason::AppOnlyUnsupported => {
                "Graph serves it to delegated sign-ins only (app-only calls get 401)".to_string()
            }
            MissingReason::GraphError {
                status,
                code,
                request_id,
                message,
            } => {
                // "Graph 503 serviceNotAvailable: …", then the request-id unless the message
                // holds it already.
                let mut text = "Graph".to_string();
                if let Some(s) = status {
                    text.push_str(&format!(" {s}"));
                }
                if let Some(c) = code.as_deref().filter(|c| !c.is_empty()) {
                    text.push_str(&format!(" {c}"));
                }
                text.push_str(&format!(": {message}"));
                if let Some(r) = request_id.as_deref().filter(|r| !message.contains(*r)) {
                    text.push_str(&format!(" (request-id {r})"));
                }
                text
            }
        }
    }

    /// The finding check `check` emits when its source is missing: `skip` with a typed
    /// reason for permission / app-only / not collected, `error` for a Graph failure.
    pub fn finding_of(&self, check: &CheckMeta, subject: Subject, what: &str) -> Finding {
        // Every finding carries evidence, a skip included: which input was missing and why.
        let missing = |why: &str| Evidence::new("collection", format!("{what}: {why}"));
        match self {
            MissingReason::NotCollected => check.skip(
                subject,
                SkipReason::NoEvidence {
                    collect: format!("{what} (not collected in this run or snapshot)"),
                },
            )
            .with_evidence(missing("not collected"))
            .with_remediation(
                "Run against Graph (or a snapshot saved with `audit --save-snapshot`) so this source is collected.",
            ),
            MissingReason::InsufficientPermission { needed } => check.skip(
                subject,
                SkipReason::InsufficientPermission {
                    needed: needed.clone(),
                },
            )
            .with_evidence(missing(&self.describe()))
            .with_remediation({
                let mut fix = format!(
                    "Grant {} (application permission with admin consent for app-only sign-in, \
                     delegated scope for a user sign-in) and run again; `enroll-doctor auth status` \
                     lists what the token holds.",
                    needed.join(" or ")
                );
                if crate::model::needs_intune_role(needed) {
                    // Delegated Intune reads are limited by the account's Intune role too:
                    // Intune's Graph APIs need "user credentials with ... role permissions needed
                    // to support the app permission scopes" (memdocs
                    // intune/developer/intune-graph-apis.md; roles in
                    // fundamentals/role-based-access-control.md).
                    fix.push_str(
                        " Signed in as a user, a 403 with the permission granted means the account has \
                         no Intune role that can read this: assign it an Intune role such as Read Only \
                         Operator (Intune admin center > Tenant administration > Roles), or an Entra role \
                         that carries Intune rights (Intune Administrator, Global Reader).",
                    );
                }
                fix
            }),
            MissingReason::AppOnlyUnsupported => {
                check.skip(subject, SkipReason::AppOnlyUnsupported)
                    .with_evidence(missing(&self.describe()))
                    .with_remediation(format!(
                        "Grant the delegated permission Policy.Read.All and {}; the account needs \
                         a directory role that can read policies, such as Global Reader.",
                        crate::graph::auth::hints::DELEGATED_SIGN_IN
                    ))
            }
            MissingReason::GraphError { .. } => {
                let text = format!("could not read {what}: {}", self.describe());
                check.error(subject, text.clone())
                    .with_evidence(missing(&text))
                    .with_remediation(
                        "Retry later; if it persists, give Microsoft support the request-id.",
                    )
            }
        }
    }
}

impl<T> Source<T> {
    pub fn not_collected() -> Self {
        Source::Missing {
            reason: MissingReason::NotCollected,
        }
    }

    pub fn collected(endpoint: impl Into<String>, data: T) -> Self {
        Source::Collected {
            endpoint: endpoint.into(),
            data,
        }
    }

    pub fn data(&self) -> Option<&T> {
        match self {
            Source::Collected { data, .. } => Some(data),
            Source::Missing { .. } => None,
        }
    }

    pub fn data_mut(&mut self) -> Option<&mut T> {
        match self {
            Source::Collected { data, .. } => Some(data),
            Source::Missing { .. } => None,
        }
    }

    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Source::Collected { endpoint, .. } => Some(endpoint),
            Source::Missing { .. } => None,
        }
    }

    /// The data with its endpoint, or the missing reason.
    pub fn get(&self) -> Result<(&T, &str), &MissingReason> {
        match self {
            Source::Collected { endpoint, data } => Ok((data, endpoint)),
            Source::Missing { reason } => Err(reason),
        }
    }
}

pub(super) use super::serde_helpers::Scalar;
pub(crate) use super::serde_helpers::{empty_as_none, lenient, null_as_empty};
pub use super::serde_helpers::{eq_ci, odata_type_is};
use super::serde_helpers::{lenient_i64, lenient_priority, lenient_string};

// ---------------------------------------------------------------------------------------------
// Organization and licences.

/// `GET /v1.0/organization` (the single item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Organization {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    /// `intune`, `sccm`, `office365`, `unknown`.
    #[serde(deserialize_with = "empty_as_none")]
    pub mobile_device_management_authority: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub country_letter_code: Option<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub verified_domains: Vec<VerifiedDomain>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifiedDomain {
    pub name: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub capabilities: Option<String>,
    pub is_default: Option<bool>,
    pub is_initial: Option<bool>,
    #[serde(rename = "type", deserialize_with = "empty_as_none")]
    pub domain_type: Option<String>,
}

/// `GET /v1.0/subscribedSkus` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscribedSku {
    pub id: String,
    pub sku_id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub sku_part_number: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub applies_to: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`.
    #[serde(deserialize_with = "empty_as_none")]
    pub capability_status: Option<String>,
    pub consumed_units: Option<i64>,
    pub prepaid_units: Option<LicenseUnitsDetail>,
    #[serde(deserialize_with = "null_as_empty")]
    pub service_plans: Vec<ServicePlanInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LicenseUnitsDetail {
    pub enabled: Option<i64>,
    pub suspended: Option<i64>,
    pub warning: Option<i64>,
    pub locked_out: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePlanInfo {
    pub service_plan_id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub service_plan_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub provisioning_status: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub applies_to: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// MDM / MAM user scope.

/// beta `mobilityManagementPolicy` (MDM or MAM), with `includedGroups` expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MobilityPolicy {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// The mobility application's app id (`0000000a-…` for Microsoft Intune).
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub description: Option<String>,
    /// `none`, `all`, `selected`.
    #[serde(deserialize_with = "empty_as_none")]
    pub applies_to: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub discovery_url: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub terms_of_use_url: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub compliance_url: Option<String>,
    pub is_valid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_mdm_enrollment_during_registration_disabled: Option<bool>,
    #[serde(deserialize_with = "null_as_empty")]
    pub included_groups: Vec<GroupRef>,
}

/// Parsed `appliesTo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    None,
    All,
    Selected,
    /// Unset or a value this version does not know.
    Unknown,
}

impl PolicyScope {
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicyScope::None => "none",
            PolicyScope::All => "all",
            PolicyScope::Selected => "selected",
            PolicyScope::Unknown => "unknown",
        }
    }
}

impl MobilityPolicy {
    pub fn scope(&self) -> PolicyScope {
        match self
            .applies_to
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("none") => PolicyScope::None,
            Some("all") => PolicyScope::All,
            Some("selected") => PolicyScope::Selected,
            _ => PolicyScope::Unknown,
        }
    }

    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }
}

/// A group reference (`id` + `displayName` when readable).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupRef {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Enrollment configurations (restrictions).

/// beta `deviceEnrollmentConfiguration` (polymorphic) with `assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnrollmentConfiguration {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub description: Option<String>,
    /// 0 = the tenant default; among custom configurations the lowest number wins.
    #[serde(deserialize_with = "lenient_priority")]
    pub priority: i64,
    #[serde(deserialize_with = "lenient_string")]
    pub device_enrollment_configuration_type: Option<String>,
    /// Single-platform restrictions: `windows`, `ios`, `allPlatforms`…
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_type: Option<String>,
    /// Single-platform restrictions: the restriction for `platformType`.
    #[serde(deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub platform_restriction: Option<PlatformRestriction>,
    /// Legacy all-platform restrictions: the Windows (MDM) restriction.
    #[serde(deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub windows_restriction: Option<PlatformRestriction>,
    #[serde(deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub windows_home_sku_restriction: Option<PlatformRestriction>,
    /// Device limit configurations.
    #[serde(
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<i64>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assignments: Vec<EnrollmentConfigurationAssignment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PlatformRestriction {
    pub platform_blocked: Option<bool>,
    pub personal_device_enrollment_blocked: Option<bool>,
    #[serde(deserialize_with = "empty_as_none")]
    pub os_minimum_version: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub os_maximum_version: Option<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub blocked_manufacturers: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub blocked_skus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnrollmentConfigurationAssignment {
    pub id: String,
    pub target: AssignmentTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AssignmentTarget {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub group_id: Option<String>,
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub collection_id: Option<String>,
    /// The assignment filter on this target (beta `deviceAndAppManagementAssignmentTarget`):
    /// the assignment then applies only to devices that match (`include`) or do not match
    /// (`exclude`) the filter's rule.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_and_app_management_assignment_filter_id: Option<String>,
    /// `include`, `exclude` or `none`.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_and_app_management_assignment_filter_type: Option<String>,
}

/// What an assignment target means for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Group(String),
    ExcludedGroup(String),
    AllUsers,
    AllDevices,
    Other(String),
}

impl AssignmentTarget {
    pub fn kind(&self) -> TargetKind {
        let t = self
            .odata_type
            .as_deref()
            .unwrap_or("")
            .trim_start_matches('#')
            .to_ascii_lowercase();
        match t.as_str() {
            "microsoft.graph.exclusiongroupassignmenttarget" => {
                TargetKind::ExcludedGroup(self.group_id.clone().unwrap_or_default())
            }
            "microsoft.graph.groupassignmenttarget" => {
                TargetKind::Group(self.group_id.clone().unwrap_or_default())
            }
            "microsoft.graph.alllicensedusersassignmenttarget" => TargetKind::AllUsers,
            "microsoft.graph.alldevicesassignmenttarget" => TargetKind::AllDevices,
            other => TargetKind::Other(other.to_string()),
        }
    }
}

/// Does a single-platform restriction of this (lower-cased) `platformType` restrict Windows MDM?
/// `allPlatforms` does; `windowsPhone` (Windows Mobile) and the others do not.
pub fn single_platform_covers_windows(platform_type: &str) -> bool {
    platform_type == "windows" || platform_type == "allplatforms"
}

/// Which family of configuration an item belongs to; precedence is evaluated per family.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigurationFamily {
    /// Legacy all-platform restrictions (`deviceEnrollmentPlatformRestrictionsConfiguration`).
    PlatformRestrictions,
    /// beta single-platform restrictions, per `platformType` (lower-cased).
    SinglePlatform(String),
    Limit,
    Other(String),
}

impl EnrollmentConfiguration {
    pub fn family(&self) -> ConfigurationFamily {
        let t = self
            .odata_type
            .as_deref()
            .unwrap_or("")
            .trim_start_matches('#')
            .to_ascii_lowercase();
        let kind = self
            .device_enrollment_configuration_type
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        if t == "microsoft.graph.deviceenrollmentplatformrestrictionconfiguration"
            || kind == "singleplatformrestriction"
        {
            let p = self
                .platform_type
                .as_deref()
                .unwrap_or("unknown")
                .to_ascii_lowercase();
            return ConfigurationFamily::SinglePlatform(p);
        }
        if t == "microsoft.graph.deviceenrollmentplatformrestrictionsconfiguration"
            || kind == "platformrestrictions"
            || kind == "defaultplatformrestrictions"
        {
            return ConfigurationFamily::PlatformRestrictions;
        }
        if t == "microsoft.graph.deviceenrollmentlimitconfiguration"
            || kind == "limit"
            || kind == "defaultlimit"
        {
            return ConfigurationFamily::Limit;
        }
        ConfigurationFamily::Other(if t.is_empty() { kind } else { t })
    }

    /// The tenant default of its family: priority 0, id containing `_Default`.
    pub fn is_default(&self) -> bool {
        self.priority == 0 || self.id.to_ascii_lowercase().contains("_default")
    }

    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    /// The Windows (MDM) restriction this configuration carries, if any.
    pub fn windows(&self) -> Option<&PlatformRestriction> {
        match self.family() {
            ConfigurationFamily::SinglePlatform(p) if single_platform_covers_windows(&p) => {
                self.platform_restriction.as_ref()
            }
            ConfigurationFamily::PlatformRestrictions => self.windows_restriction.as_ref(),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Device registration policy.

/// `GET /v1.0/policies/deviceRegistrationPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceRegistrationPolicy {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    pub user_device_quota: Option<i64>,
    #[serde(deserialize_with = "empty_as_none")]
    pub multi_factor_auth_configuration: Option<String>,
    #[serde(rename = "azureADRegistration")]
    pub azure_ad_registration: Option<AzureAdRegistrationPolicy>,
    #[serde(rename = "azureADJoin")]
    pub azure_ad_join: Option<AzureAdJoinPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AzureAdRegistrationPolicy {
    pub is_admin_configurable: Option<bool>,
    pub allowed_to_register: Option<DeviceRegistrationMembership>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AzureAdJoinPolicy {
    pub is_admin_configurable: Option<bool>,
    pub allowed_to_join: Option<DeviceRegistrationMembership>,
}

/// `all…`, `no…` or `enumeratedDeviceRegistrationMembership` (users / groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceRegistrationMembership {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub users: Vec<String>,
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<String>,
}

/// Who a device-registration membership admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipKind {
    All,
    None,
    Enumerated,
    Unknown,
}

impl DeviceRegistrationMembership {
    pub fn kind(&self) -> MembershipKind {
        let t = self.odata_type.as_deref();
        if odata_type_is(t, "microsoft.graph.allDeviceRegistrationMembership") {
            MembershipKind::All
        } else if odata_type_is(t, "microsoft.graph.noDeviceRegistrationMembership") {
            MembershipKind::None
        } else if odata_type_is(t, "microsoft.graph.enumeratedDeviceRegistrationMembership") {
            MembershipKind::Enumerated
        } else {
            MembershipKind::Unknown
        }
    }
}

pub use super::users_groups::*;

pub use super::devices::*;

// ---------------------------------------------------------------------------------------------
// Snapshot: construction, normalisation, save and load.

/// Reading or writing a snapshot failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("snapshot {path} {}: {source}", parse_problem(.source))]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("snapshot {path}{}", schema_problem(.found))]
    Schema { path: String, found: String },
    #[error("snapshot {path}: {message}")]
    Limit { path: String, message: String },
    #[error("cannot write snapshot {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialise snapshot: {0}")]
    Serialise(#[from] serde_json::Error),
}

/// What is wrong with a file whose schema tag is right but whose content did not parse: not
/// JSON at all, or JSON whose fields do not match (serde names the field, line and column).
fn parse_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if e.line() == 1 && e.column() == 0 => "is empty".to_string(),
        Category::Data => format!("does not match {TENANT_SNAPSHOT_SCHEMA}"),
        _ => format!("is not valid JSON for {TENANT_SNAPSHOT_SCHEMA}"),
    }
}

/// Why a file with another schema tag (or none) is not read.
fn schema_problem(found: &str) -> String {
    const FAMILY: &str = "enroll-doctor/tenant-snapshot@";
    if found.is_empty() {
        format!(
            " is not an enroll-doctor tenant snapshot: it has no field `schema` naming \
             \"{TENANT_SNAPSHOT_SCHEMA}\" (`audit --save-snapshot FILE` saves one)"
        )
    } else if found.starts_with(FAMILY) {
        format!(
            ": field `schema` is \"{}\", a snapshot version this enroll-doctor does not read \
             (it reads \"{TENANT_SNAPSHOT_SCHEMA}\"): use the enroll-doctor that saved it, or \
             save the snapshot again with this one",
            crate::text_safety::shown(found)
        )
    } else {
        format!(
            ": field `schema` is \"{}\", expected \"{TENANT_SNAPSHOT_SCHEMA}\": not a tenant \
             snapshot",
            crate::text_safety::shown(found)
        )
    }
}

impl TenantSnapshot {
    /// An empty snapshot (every source `not-collected`).
    pub fn new(
        tenant_id: impl Into<String>,
        cloud: impl Into<String>,
        graph_base: impl Into<String>,
        token_kind: TokenKind,
        collected_at: DateTime<Utc>,
    ) -> Self {
        TenantSnapshot {
            schema: TENANT_SNAPSHOT_SCHEMA.to_string(),
            collected_at,
            tenant_id: tenant_id.into(),
            cloud: cloud.into(),
            graph_base: graph_base.into(),
            token_kind,
            user_scope: UserScope::None,
            sources: Sources::default(),
            index: Default::default(),
        }
    }
}

pub use super::snapshot_io::SNAPSHOT_FILE;

#[cfg(test)]
mod tests;
