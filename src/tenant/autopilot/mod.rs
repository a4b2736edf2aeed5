//! Windows Autopilot as the tenant knows it: device identities (the registered hardware),
//! deployment profiles with their assignments, corporate identifiers and deployment events, as
//! the snapshot holds them, with pure look-ups for the Autopilot checks (no Graph calls here;
//! collection is in [`collect`], the Enrollment Status Page in [`esp`]).
//!
//! Graph versions (verified against the v1.0 and beta metadata in
//! `shared/reference/graph-schema` and the Graph reference pages):
//! - `windowsAutopilotDeviceIdentities` exists in v1.0, but `deploymentProfileAssignmentStatus`,
//!   `deploymentProfileAssignedDateTime`, `userlessEnrollmentStatus`, `remediationState` and
//!   `azureAdDeviceId` are beta-only, and the checks need them: read from **beta**.
//! - `windowsAutopilotDeploymentProfiles` is not an entity set of v1.0's `deviceManagement` (the
//!   type exists, the collection and its `assignments` do not), and the hybrid join profile type
//!   (`activeDirectoryWindowsAutopilotDeploymentProfile`) is beta-only: **beta**.
//! - `importedDeviceIdentities` (corporate identifiers) and `autopilotEvents` exist only in
//!   **beta**.
//!
//! References: Graph `intune-enrollment-windowsautopilotdeviceidentity`,
//! `intune-enrollment-windowsautopilotdeploymentprofile`,
//! `intune-enrollment-importeddeviceidentity`, `intune-troubleshooting-devicemanagementautopilotevent`
//! (microsoft-graph-docs-contrib, api-reference/beta/resources); memdocs `autopilot/profiles.md`
//! (profile priority) and `intune/intune-service/enrollment/corporate-identifiers-add.md`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::serde_helpers::{empty_as_none, lenient_string, null_as_empty};
use super::snapshot::{AssignmentTarget, TargetKind, eq_ci, odata_type_is};

pub mod collect;
pub mod esp;

pub use esp::{EnrollmentStatusPage, EspResolution, EspTarget};

/// The all-zero GUID Graph puts in unset id fields.
const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

fn real_id(v: Option<&str>) -> Option<&str> {
    v.map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case(NIL_GUID))
}

/// A serial number as compared: trimmed, ASCII case ignored (Graph's `contains` filter and the
/// admin center match serials without regard to case).
pub fn same_serial(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// Whether a serial number is worth a look-up: not a firmware placeholder ("To be filled by
/// O.E.M.", "Default string", "System Serial Number", …) and long enough that Graph's
/// substring filter does not match half the tenant.
pub fn is_lookup_serial(serial: &str) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "to be filled by o.e.m.",
        "default string",
        "system serial number",
        "not applicable",
        "not specified",
        "invalid",
        "none",
        "n/a",
        "0123456789",
        "123456789",
    ];
    let s = serial.trim();
    s.chars().count() >= 4
        && s.chars().count() <= 128
        && !s.chars().any(char::is_control)
        && !s.chars().all(|c| c == '0')
        && !PLACEHOLDERS.iter().any(|p| s.eq_ignore_ascii_case(p))
}

// ---------------------------------------------------------------------------------------------
// Device identities.

/// beta `GET /deviceManagement/windowsAutopilotDeviceIdentities` item (selected properties; the
/// Surface Hub `deviceAccountPassword` and the `productKey` are never asked for nor kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AutopilotDeviceIdentity {
    pub id: String,
    /// v1.0 and beta.
    #[serde(deserialize_with = "empty_as_none")]
    pub serial_number: Option<String>,
    /// v1.0 and beta.
    #[serde(deserialize_with = "empty_as_none")]
    pub manufacturer: Option<String>,
    /// v1.0 and beta.
    #[serde(deserialize_with = "empty_as_none")]
    pub model: Option<String>,
    /// v1.0 and beta: the group tag dynamic device groups (`[OrderID]`) match on.
    #[serde(deserialize_with = "empty_as_none")]
    pub group_tag: Option<String>,
    /// v1.0 and beta: `unknown`, `enrolled`, `pendingReset`, `failed`, `notContacted`, `blocked`.
    #[serde(deserialize_with = "lenient_string")]
    pub enrollment_state: Option<String>,
    /// v1.0 and beta.
    #[serde(deserialize_with = "empty_as_none")]
    pub last_contacted_date_time: Option<String>,
    /// v1.0 and beta (beta calls it "to be deprecated"): the Entra device id.
    #[serde(deserialize_with = "empty_as_none")]
    pub azure_active_directory_device_id: Option<String>,
    /// beta only: the Entra device id under its newer name.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub azure_ad_device_id: Option<String>,
    /// v1.0 and beta: the Intune record's id once enrolled.
    #[serde(deserialize_with = "empty_as_none")]
    pub managed_device_id: Option<String>,
    /// v1.0 and beta: the user assigned to the device ("assign user"), if any.
    #[serde(deserialize_with = "empty_as_none")]
    pub user_principal_name: Option<String>,
    /// v1.0 and beta: the name shown at OOBE for the assigned user.
    #[serde(deserialize_with = "empty_as_none")]
    pub addressable_user_name: Option<String>,
    /// v1.0 and beta.
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    /// beta only: `unknown`, `assignedInSync`, `assignedOutOfSync`, `assignedUnkownSyncState`
    /// (Graph's spelling), `notAssigned`, `pending`, `failed`.
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub deployment_profile_assignment_status: Option<String>,
    /// beta only: `none`, `hardwareRequirementsNotMet`, `…ProfileNotSupported`.
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub deployment_profile_assignment_detailed_status: Option<String>,
    /// beta only.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub deployment_profile_assigned_date_time: Option<String>,
    /// beta only: `unknown`, `allowed`, `blocked` (a reused device blocked from self-deploying
    /// or pre-provisioning again until "allow next enrollment").
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub userless_enrollment_status: Option<String>,
    /// beta only: `unknown`, `noRemediationRequired`, `automaticRemediationRequired`,
    /// `manualRemediationRequired` (hardware hash changed, e.g. after a motherboard swap).
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub remediation_state: Option<String>,
}

/// `deploymentProfileAssignmentStatus`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileAssignmentStatus {
    AssignedInSync,
    AssignedOutOfSync,
    AssignedUnknownSyncState,
    NotAssigned,
    Pending,
    Failed,
    /// `unknown`, unset (read from v1.0) or a value this version does not know.
    Unknown,
}

impl ProfileAssignmentStatus {
    /// Intune has a profile on the device's record (in sync or not).
    pub fn is_assigned(self) -> bool {
        matches!(
            self,
            Self::AssignedInSync | Self::AssignedOutOfSync | Self::AssignedUnknownSyncState
        )
    }
}

/// `userlessEnrollmentStatus`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserlessEnrollment {
    Allowed,
    Blocked,
    Unknown,
}

fn lower(v: Option<&str>) -> String {
    v.unwrap_or_default().trim().to_ascii_lowercase()
}

impl AutopilotDeviceIdentity {
    /// The Entra device id (`azureAdDeviceId`, else `azureActiveDirectoryDeviceId`), the nil
    /// GUID read as unset.
    pub fn entra_device_id(&self) -> Option<&str> {
        real_id(self.azure_ad_device_id.as_deref())
            .or_else(|| real_id(self.azure_active_directory_device_id.as_deref()))
    }

    pub fn profile_status(&self) -> ProfileAssignmentStatus {
        match lower(self.deployment_profile_assignment_status.as_deref()).as_str() {
            "assignedinsync" => ProfileAssignmentStatus::AssignedInSync,
            "assignedoutofsync" => ProfileAssignmentStatus::AssignedOutOfSync,
            // Graph spells it `assignedUnkownSyncState`; accept the fixed spelling too.
            "assignedunkownsyncstate" | "assignedunknownsyncstate" => {
                ProfileAssignmentStatus::AssignedUnknownSyncState
            }
            "notassigned" => ProfileAssignmentStatus::NotAssigned,
            "pending" => ProfileAssignmentStatus::Pending,
            "failed" => ProfileAssignmentStatus::Failed,
            _ => ProfileAssignmentStatus::Unknown,
        }
    }

    pub fn userless_enrollment(&self) -> UserlessEnrollment {
        match lower(self.userless_enrollment_status.as_deref()).as_str() {
            "allowed" => UserlessEnrollment::Allowed,
            "blocked" => UserlessEnrollment::Blocked,
            _ => UserlessEnrollment::Unknown,
        }
    }

    /// The user assigned to the device in Autopilot ("assign user"), if any.
    pub fn assigned_user(&self) -> Option<&str> {
        self.user_principal_name
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    pub fn name(&self) -> &str {
        self.serial_number.as_deref().unwrap_or(&self.id)
    }
}

/// The identities registered with this serial number (usually one; the same serial from two
/// manufacturers gives two).
pub fn identities_by_serial<'a>(
    identities: &'a [AutopilotDeviceIdentity],
    serial: &str,
) -> Vec<&'a AutopilotDeviceIdentity> {
    identities
        .iter()
        .filter(|i| {
            i.serial_number
                .as_deref()
                .is_some_and(|s| same_serial(s, serial))
        })
        .collect()
}

/// The identity registered with this serial number and (when both are known) manufacturer.
pub fn find_identity<'a>(
    identities: &'a [AutopilotDeviceIdentity],
    serial: &str,
    manufacturer: Option<&str>,
) -> Option<&'a AutopilotDeviceIdentity> {
    let found = identities_by_serial(identities, serial);
    match manufacturer.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) if found.len() > 1 => found
            .iter()
            .copied()
            .find(|i| {
                i.manufacturer
                    .as_deref()
                    .is_some_and(|x| x.trim().eq_ignore_ascii_case(m))
            })
            .or(found.first().copied()),
        _ => found.first().copied(),
    }
}

/// The identity whose Entra device id is `device_id` (ASCII case ignored).
pub fn identity_by_entra_device_id<'a>(
    identities: &'a [AutopilotDeviceIdentity],
    device_id: &str,
) -> Option<&'a AutopilotDeviceIdentity> {
    identities.iter().find(|i| {
        i.entra_device_id()
            .is_some_and(|d| d.eq_ignore_ascii_case(device_id.trim()))
    })
}

// ---------------------------------------------------------------------------------------------
// Deployment profiles.

/// beta `GET /deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments` item
/// (polymorphic: `azureADWindowsAutopilotDeploymentProfile` for Entra join,
/// `activeDirectoryWindowsAutopilotDeploymentProfile` for hybrid join).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AutopilotProfile {
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
    /// When the profile was created: the oldest of several profiles reaching a device wins.
    #[serde(deserialize_with = "empty_as_none")]
    pub created_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub last_modified_date_time: Option<String>,
    /// `windowsPc`, `holoLens`, `surfaceHub2`, `surfaceHub2S`, `virtualMachine`.
    #[serde(deserialize_with = "lenient_string")]
    pub device_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_name_template: Option<String>,
    /// Pre-provisioning (white glove) allowed; `enableWhiteGlove` is the deprecated name.
    pub preprovisioning_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_white_glove: Option<bool>,
    /// "Convert all targeted devices to Autopilot"; `extractHardwareHash` is the old name.
    pub hardware_hash_extraction_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_hardware_hash: Option<bool>,
    /// The OOBE settings (current name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_box_experience_setting: Option<OobeSetting>,
    /// The OOBE settings under their deprecated name (beta still sends both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_box_experience_settings: Option<OobeSettingsLegacy>,
    /// Hybrid join profiles only: "Skip AD connectivity check".
    #[serde(
        rename = "hybridAzureADJoinSkipConnectivityCheck",
        skip_serializing_if = "Option::is_none"
    )]
    pub hybrid_azure_ad_join_skip_connectivity_check: Option<bool>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assignments: Vec<ProfileAssignment>,
}

/// beta `outOfBoxExperienceSetting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OobeSetting {
    /// `singleUser` (user-driven) or `shared` (self-deploying).
    #[serde(deserialize_with = "lenient_string")]
    pub device_usage_type: Option<String>,
    /// `administrator` or `standard`.
    #[serde(deserialize_with = "lenient_string")]
    pub user_type: Option<String>,
    pub privacy_settings_hidden: Option<bool>,
    pub eula_hidden: Option<bool>,
    pub keyboard_selection_page_skipped: Option<bool>,
    pub escape_link_hidden: Option<bool>,
}

/// beta `outOfBoxExperienceSettings` (deprecated name of [`OobeSetting`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OobeSettingsLegacy {
    #[serde(deserialize_with = "lenient_string")]
    pub device_usage_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub user_type: Option<String>,
    pub hide_privacy_settings: Option<bool>,
    #[serde(rename = "hideEULA")]
    pub hide_eula: Option<bool>,
    pub skip_keyboard_selection_page: Option<bool>,
    pub hide_escape_link: Option<bool>,
}

/// beta `windowsAutopilotDeploymentProfileAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileAssignment {
    pub id: String,
    pub target: AssignmentTarget,
}

/// How a profile joins the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileJoin {
    /// `azureADWindowsAutopilotDeploymentProfile`.
    EntraJoin,
    /// `activeDirectoryWindowsAutopilotDeploymentProfile` (hybrid join, with the Intune
    /// Connector for Active Directory).
    HybridJoin,
    Unknown,
}

/// The deployment mode a profile sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentMode {
    /// `deviceUsageType` `singleUser`.
    UserDriven,
    /// `deviceUsageType` `shared`: needs TPM 2.0 attestation, no user at OOBE.
    SelfDeploying,
    Unknown,
}

impl AutopilotProfile {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    pub fn join(&self) -> ProfileJoin {
        let t = self.odata_type.as_deref();
        if odata_type_is(
            t,
            "microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile",
        ) {
            ProfileJoin::HybridJoin
        } else if odata_type_is(
            t,
            "microsoft.graph.azureADWindowsAutopilotDeploymentProfile",
        ) {
            ProfileJoin::EntraJoin
        } else {
            ProfileJoin::Unknown
        }
    }

    /// `deviceUsageType` from the current settings, else the deprecated ones.
    pub fn device_usage_type(&self) -> Option<&str> {
        self.out_of_box_experience_setting
            .as_ref()
            .and_then(|s| s.device_usage_type.as_deref())
            .or_else(|| {
                self.out_of_box_experience_settings
                    .as_ref()
                    .and_then(|s| s.device_usage_type.as_deref())
            })
    }

    pub fn mode(&self) -> DeploymentMode {
        match lower(self.device_usage_type()).as_str() {
            "singleuser" => DeploymentMode::UserDriven,
            "shared" => DeploymentMode::SelfDeploying,
            _ => DeploymentMode::Unknown,
        }
    }

    /// Pre-provisioning allowed (current or deprecated property).
    pub fn allows_preprovisioning(&self) -> bool {
        self.preprovisioning_allowed
            .or(self.enable_white_glove)
            .unwrap_or(false)
    }

    /// Which of the device's groups (lower-cased ids) the profile reaches it through, and
    /// whether it is assigned to all devices; an exclusion of one of its groups wins.
    pub fn reach(&self, device_groups: &BTreeSet<String>) -> ProfileReach {
        let mut groups = Vec::new();
        let mut all_devices = false;
        let mut excluded = false;
        for a in &self.assignments {
            match a.target.kind() {
                TargetKind::Group(g) if device_groups.contains(&g.to_ascii_lowercase()) => {
                    groups.push(g.to_ascii_lowercase())
                }
                TargetKind::ExcludedGroup(g) if device_groups.contains(&g.to_ascii_lowercase()) => {
                    excluded = true
                }
                TargetKind::AllDevices => all_devices = true,
                _ => {}
            }
        }
        if excluded {
            return ProfileReach::Excluded;
        }
        match (groups.is_empty(), all_devices) {
            (false, _) => ProfileReach::Groups(groups),
            (true, true) => ProfileReach::AllDevices,
            (true, false) => ProfileReach::None,
        }
    }
}

/// How a profile reaches one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileReach {
    /// Through these of the device's groups.
    Groups(Vec<String>),
    /// Only through an "all devices" assignment (the tenant's default profile).
    AllDevices,
    /// One of its excluded groups holds the device.
    Excluded,
    None,
}

/// The profiles that reach a device and the one Intune applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileResolution<'a> {
    /// Profiles assigned to one of the device's groups (oldest first).
    pub group_targeted: Vec<&'a AutopilotProfile>,
    /// Profiles assigned to all devices (oldest first).
    pub all_devices: Vec<&'a AutopilotProfile>,
    /// The profile that applies: the oldest group-targeted one, else the oldest assigned to
    /// all devices (memdocs `autopilot/profiles.md`, "Autopilot profile priority").
    pub applied: Option<&'a AutopilotProfile>,
}

impl ProfileResolution<'_> {
    /// More than one group-targeted profile reaches the device (two groups, two profiles):
    /// only the oldest applies, which is rarely what was meant.
    pub fn is_conflict(&self) -> bool {
        self.group_targeted.len() > 1
    }
}

/// Oldest first; an unknown creation time sorts last, then by id.
fn by_age(mut list: Vec<&AutopilotProfile>) -> Vec<&AutopilotProfile> {
    list.sort_by(|a, b| {
        let key = |p: &AutopilotProfile| {
            (
                p.created_date_time.is_none(),
                p.created_date_time.clone().unwrap_or_default(),
                p.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    list
}

/// The profiles reaching a device that is a member of `device_groups` (lower-cased group ids,
/// transitive), and the one that applies.
pub fn resolve_profile<'a>(
    profiles: &'a [AutopilotProfile],
    device_groups: &BTreeSet<String>,
) -> ProfileResolution<'a> {
    let mut group_targeted = Vec::new();
    let mut all_devices = Vec::new();
    for p in profiles {
        match p.reach(device_groups) {
            ProfileReach::Groups(_) => group_targeted.push(p),
            ProfileReach::AllDevices => all_devices.push(p),
            ProfileReach::Excluded | ProfileReach::None => {}
        }
    }
    let group_targeted = by_age(group_targeted);
    let all_devices = by_age(all_devices);
    let applied = group_targeted.first().or(all_devices.first()).copied();
    ProfileResolution {
        group_targeted,
        all_devices,
        applied,
    }
}

/// The profile whose display name is `name` (what the device's Autopilot registry and the
/// deployment events name), ASCII case ignored.
pub fn profile_named<'a>(
    profiles: &'a [AutopilotProfile],
    name: &str,
) -> Option<&'a AutopilotProfile> {
    profiles
        .iter()
        .find(|p| eq_ci(p.display_name.as_deref(), name.trim()))
}

// ---------------------------------------------------------------------------------------------
// Corporate identifiers.

/// beta `GET /deviceManagement/importedDeviceIdentities` item (a corporate identifier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportedDeviceIdentity {
    pub id: String,
    /// Windows: `manufacturer,model,serial`; other platforms: an IMEI or serial number.
    #[serde(deserialize_with = "empty_as_none")]
    pub imported_device_identifier: Option<String>,
    /// `unknown`, `imei`, `serialNumber`, `manufacturerModelSerial`.
    #[serde(deserialize_with = "lenient_string")]
    pub imported_device_identity_type: Option<String>,
    /// `unknown`, `enrolled`, `pendingReset`, `failed`, `notContacted`, `blocked`.
    #[serde(deserialize_with = "lenient_string")]
    pub enrollment_state: Option<String>,
    /// `unknown`, `ios`, `android`, `windows`, `windowsMobile`, `macOS`, …
    #[serde(deserialize_with = "lenient_string")]
    pub platform: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub last_contacted_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub created_date_time: Option<String>,
}

/// A Windows corporate identifier split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsIdentifier<'a> {
    pub manufacturer: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
}

impl ImportedDeviceIdentity {
    /// A Windows identifier (`manufacturerModelSerial`, the only type Windows supports).
    pub fn is_windows(&self) -> bool {
        eq_ci(
            self.imported_device_identity_type.as_deref(),
            "manufacturerModelSerial",
        ) || (eq_ci(self.platform.as_deref(), "windows")
            && !eq_ci(self.imported_device_identity_type.as_deref(), "imei"))
    }

    /// `manufacturer,model,serial`, split from the right (a manufacturer may hold a comma:
    /// "Dell, Inc.").
    pub fn windows_parts(&self) -> Option<WindowsIdentifier<'_>> {
        if !self.is_windows() {
            return None;
        }
        let text = self.imported_device_identifier.as_deref()?;
        let mut parts = text.rsplitn(3, ',');
        let serial = parts.next()?.trim();
        let model = parts.next()?.trim();
        let manufacturer = parts.next()?.trim();
        Some(WindowsIdentifier {
            manufacturer,
            model,
            serial,
        })
    }
}

/// Whether a Windows device counts as corporate by its identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorporateIdentifierMatch<'a> {
    /// The tenant has no Windows corporate identifiers: Entra join enrollments count as
    /// corporate.
    NoneUploaded,
    /// Listed: the enrollment is marked corporate.
    Listed(&'a ImportedDeviceIdentity),
    /// Windows identifiers exist and this device is not among them: an Entra join enrollment
    /// outside Autopilot counts as personal (and a personal-device block then refuses it).
    NotListed,
}

/// Periods are removed from serial numbers before they are uploaded (corporate-identifiers-add).
fn identifier_serial(s: &str) -> String {
    s.trim().replace('.', "").to_ascii_lowercase()
}

/// Looks the device's manufacturer, model and serial number up in the corporate identifiers
/// (all three must match, ASCII case ignored).
pub fn corporate_identifier<'a>(
    imported: &'a [ImportedDeviceIdentity],
    manufacturer: &str,
    model: &str,
    serial: &str,
) -> CorporateIdentifierMatch<'a> {
    let mut any = false;
    for i in imported {
        let Some(p) = i.windows_parts() else { continue };
        any = true;
        if p.manufacturer.eq_ignore_ascii_case(manufacturer.trim())
            && p.model.eq_ignore_ascii_case(model.trim())
            && identifier_serial(p.serial) == identifier_serial(serial)
        {
            return CorporateIdentifierMatch::Listed(i);
        }
    }
    if any {
        CorporateIdentifierMatch::NotListed
    } else {
        CorporateIdentifierMatch::NoneUploaded
    }
}

// ---------------------------------------------------------------------------------------------
// Deployment events.

/// beta `GET /deviceManagement/autopilotEvents` item: one Autopilot deployment as Intune's
/// deployment report shows it (kept about 30 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AutopilotEvent {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_serial_number: Option<String>,
    /// Entra device id.
    #[serde(deserialize_with = "empty_as_none")]
    pub device_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub user_principal_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub managed_device_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub event_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub enrollment_start_date_time: Option<String>,
    /// `unknown`, `success`, `inProgress`, `failure`, `successWithTimeout`, …
    #[serde(deserialize_with = "lenient_string")]
    pub deployment_state: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub device_setup_status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub account_setup_status: Option<String>,
    /// `azureADJoinedWithAutopilotProfile`, `azureADJoinedUsingDeviceAuthWithAutopilotProfile`, …
    #[serde(deserialize_with = "lenient_string")]
    pub enrollment_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub enrollment_state: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub enrollment_failure_details: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub os_version: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub windows_autopilot_deployment_profile_display_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub windows10_enrollment_completion_page_configuration_display_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub windows10_enrollment_completion_page_configuration_id: Option<String>,
    /// ISO 8601 duration, e.g. `PT3M21.5S`.
    #[serde(deserialize_with = "empty_as_none")]
    pub deployment_duration: Option<String>,
}

impl AutopilotEvent {
    pub fn failed(&self) -> bool {
        eq_ci(self.deployment_state.as_deref(), "failure")
    }
}

/// The deployments of the device with this serial number, newest first.
pub fn events_for_serial<'a>(
    events: &'a [AutopilotEvent],
    serial: &str,
) -> Vec<&'a AutopilotEvent> {
    let mut out: Vec<&AutopilotEvent> = events
        .iter()
        .filter(|e| {
            e.device_serial_number
                .as_deref()
                .is_some_and(|s| same_serial(s, serial))
        })
        .collect();
    out.sort_by(|a, b| {
        b.event_date_time
            .cmp(&a.event_date_time)
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests;

/// Sorts the Autopilot sources by id (and their assignments), duplicates dropped, so a saved
/// snapshot is deterministic (called from `TenantSnapshot::normalize`).
pub(super) fn normalize(s: &mut super::snapshot::Sources) {
    fn by_id<T>(list: &mut Vec<T>, id: impl Fn(&T) -> &str) {
        list.sort_by(|a, b| id(a).cmp(id(b)));
        list.dedup_by(|a, b| id(a) == id(b));
    }
    if let Some(l) = s.autopilot_devices.data_mut() {
        by_id(l, |d| &d.id);
    }
    if let Some(l) = s.autopilot_profiles.data_mut() {
        by_id(l, |p| &p.id);
        for p in l {
            p.assignments.sort_by(|a, b| a.id.cmp(&b.id));
        }
    }
    if let Some(l) = s.enrollment_status_pages.data_mut() {
        by_id(l, |p| &p.id);
        for p in l {
            p.assignments.sort_by(|a, b| a.id.cmp(&b.id));
        }
    }
    if let Some(l) = s.imported_device_identities.data_mut() {
        by_id(l, |i| &i.id);
    }
    if let Some(l) = s.autopilot_events.data_mut() {
        by_id(l, |e| &e.id);
    }
}
