//! Windows Autopilot and Enrollment Status Page (ESP) facts of one device, gathered from what the
//! device report already holds: the registry (`reg export`, MdmDiagnosticsTool's registry dump),
//! the `ModernDeployment-Diagnostics-Provider/Autopilot` events, and MdmDiagnosticsTool's
//! Autopilot files (read by `autopilot_files.rs`). [`autopilot_evidence`] is a pure function
//! over the [`DeviceReport`], run once at the end of report assembly; the Autopilot checks read
//! its helpers.
//!
//! Sources:
//! - memdocs `autopilot/troubleshooting-faq.yml` and `autopilot/troubleshoot-oobe.md`: the
//!   `HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot` values (CloudAssignedTenantId,
//!   CloudAssignedTenantDomain, IsAutopilotDisabled, TenantMatched, AadTenantId,
//!   CloudAssignedOobeConfig) and the Autopilot event IDs (100–172, 807, 809, 815, 908).
//! - memdocs `autopilot/existing-devices.md`: the profile JSON properties
//!   (CloudAssignedDomainJoinMethod 0 = Entra join, 1 = hybrid; ZtdCorrelationId).
//! - windows-itpro-docs `windows/client-management/mdm/enrollmentstatustracking-csp.md`: the
//!   `EnrollmentStatusTracking` tree (DevicePreparation and Setup\Apps\Tracking, InstallationState
//!   1 NotInstalled, 2 InProgress/NotRequired, 3 Completed, 4 Error).
//! - SupportArticles-docs `support/mem/intune/device-enrollment/understand-troubleshoot-esp.md`:
//!   `Enrollments\{GUID}\FirstSync`, `ESPTrackingInfo\Diagnostics\Expected…` subkeys named by
//!   time stamps.
//! - Community (Get-AutopilotDiagnostics by M. Niehaus): `FirstSync` values SyncFailureTimeout
//!   (minutes), BlockInStatusPage, IsServerProvisioningDone, IsSyncDone;
//!   `Diagnostics\Autopilot\EstablishedCorrelations` ZTDRegistrationID; the CloudAssignedOobeConfig
//!   bits above 16 (32 TPM attestation, 64 Entra device authentication, 128 TPM required).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::host::TpmInfo;
use super::report::{DeviceReport, KEY_ENROLLMENTS, Location, RegKey, normalize_key_path};
use crate::catalog::error_codes::{describe, format_hresult, hresults_in_text, parse_hresult};
use crate::model::Evidence;

pub const KEY_AUTOPILOT_DIAGNOSTICS: &str =
    r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot";
pub const KEY_ESP_TRACKING: &str =
    r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking";

/// CloudAssignedOobeConfig bits that only self-deploying and pre-provisioning profiles set: TPM
/// attestation (32), Entra device authentication (64), TPM required (128).
pub const OOBE_TPM_BITS: u32 = 32 | 64 | 128;
/// CloudAssignedOobeConfig bit of device authentication (no user): self-deploying mode.
pub const OOBE_DEVICE_AUTH: u32 = 64;

/// Everything the device shows about Autopilot and the ESP. `None` on the report when none of it
/// was exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AutopilotEvidence {
    /// The profile as the device holds it: the registry diagnostics key first (when exported),
    /// then each Autopilot JSON file in input order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<AutopilotProfile>,
    /// MdmDiagnosticsTool's `DeviceHash_*.csv` rows (serial number, product ID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_hashes: Vec<DeviceHashRecord>,
    /// The ESP tracking keys, when `EnrollmentStatusTracking` was exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esp: Option<EspTracking>,
    /// `Enrollments\{GUID}\FirstSync` of each enrollment that has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_sync: Vec<FirstSync>,
    /// The Autopilot events that say something (profile state, errors), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<AutopilotEvent>,
    /// Failure codes from the Autopilot events and the ESP providers, decoded by the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<AutopilotError>,
    /// The latest moment the report shows (collection time, else the newest event or ESP time
    /// stamp): what "still not done" is measured against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_until: Option<DateTime<Utc>>,
}

/// Where a profile was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileSource {
    /// `HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot`.
    Registry,
    /// `AutopilotDDSZTDFile.json`: the profile downloaded from the deployment service.
    DdsZtdFile,
    /// `AutopilotConciergeFile.json`.
    ConciergeFile,
    /// `AutopilotConfigurationFile.json` (Autopilot for existing devices).
    ConfigurationFile,
    /// Another JSON file with the same properties.
    OtherFile,
}

/// One Autopilot profile as written on the device. Every field is optional: `None` means "not
/// written there", an empty string "written empty" (how an unregistered device looks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotProfile {
    pub source: ProfileSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_domain: Option<String>,
    /// `DeploymentProfileName` (or the JSON's `Comment_File` "Profile …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oobe_config: Option<u32>,
    /// `CloudAssignedDomainJoinMethod`: 0 Entra join, 1 hybrid join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_join_method: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_enrollment: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ztd_correlation_id: Option<String>,
    /// `ZtdRegistrationId` / `EstablishedCorrelations\ZTDRegistrationID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ztd_registration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// `PolicyDownloadDate` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded_at: Option<String>,
    /// `IsAutopilotDisabled` (registry): 1 = not registered, or the profile could not be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autopilot_disabled: Option<bool>,
    /// `TenantMatched` (registry): 0 = the user signed in to another tenant than the device's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_matched: Option<bool>,
    /// `AadTenantId` (registry): the tenant the user signed in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_correlation_id: Option<String>,
    pub location: Location,
}

impl AutopilotProfile {
    pub fn new(source: ProfileSource, location: Location) -> AutopilotProfile {
        AutopilotProfile {
            source,
            tenant_id: None,
            tenant_domain: None,
            profile_name: None,
            oobe_config: None,
            domain_join_method: None,
            forced_enrollment: None,
            ztd_correlation_id: None,
            ztd_registration_id: None,
            device_name: None,
            downloaded_at: None,
            autopilot_disabled: None,
            tenant_matched: None,
            user_tenant_id: None,
            service_correlation_id: None,
            location,
        }
    }

    /// The tenant is written and not empty: the device has a profile of that tenant.
    pub fn has_tenant(&self) -> bool {
        non_empty(&self.tenant_id).is_some() || non_empty(&self.tenant_domain).is_some()
    }
}

/// One row of MdmDiagnosticsTool's `DeviceHash_*.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHashRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Length of the hardware hash (the hash itself is not kept).
    pub hash_chars: usize,
    pub location: Location,
}

/// The ESP's own tracking keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EspTracking {
    /// `Device\DevicePreparation\PolicyProviders\*` (the Intune Management Extension, "Sidecar").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<EspProvider>,
    /// `Device|{SID}\Setup\Apps\Tracking\{Provider}\{App}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<EspApp>,
    /// The latest state of each item under `ESPTrackingInfo\Diagnostics`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<EspDiagnostic>,
    /// The earliest `ESPTrackingInfo` time stamp: when the ESP started tracking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
}

/// A device-preparation policy provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspProvider {
    pub name: String,
    /// 1 NotInstalled, 2 NotRequired, 3 Completed, 4 Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_state: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Minutes (15 when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u64>,
    pub location: Location,
}

/// An app the ESP tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspApp {
    /// `Device`, or the user's SID for the account setup phase.
    pub scope: String,
    pub provider: String,
    /// As the provider names it (`Win32App_{id}_1` for the Intune Management Extension).
    pub app: String,
    /// 1 NotInstalled, 2 InProgress, 3 Completed, 4 Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_state: Option<u32>,
    pub location: Location,
}

impl EspApp {
    pub fn state_label(&self) -> &'static str {
        match self.installation_state {
            Some(1) => "NotInstalled",
            Some(2) => "InProgress",
            Some(3) => "Completed",
            Some(4) => "Error",
            Some(_) => "unknown state",
            None => "no state",
        }
    }
}

/// The latest state of one item under `ESPTrackingInfo\Diagnostics\{Category}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspDiagnostic {
    /// `Device` or the user's SID.
    pub scope: String,
    /// `ExpectedPolicies`, `ExpectedMSIAppPackages`, `Sidecar`, …
    pub category: String,
    /// The tracked item (a CSP URI).
    pub item: String,
    pub state: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    pub location: Location,
}

/// `Enrollments\{GUID}\FirstSync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstSync {
    pub enrollment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_provisioning_done: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_done: Option<bool>,
    /// `SyncFailureTimeout`: the ESP's "show an error after" minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u64>,
    /// `BlockInStatusPage` (0 = the ESP does not block; bits 1 reset, 2 try again, 4 continue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_in_status_page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_device_status_page: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_user_status_page: Option<bool>,
    pub location: Location,
}

impl FirstSync {
    /// `Some(true)` when the first sync finished, `Some(false)` when it is recorded as not done.
    pub fn done(&self) -> Option<bool> {
        self.sync_done.or(self.server_provisioning_done)
    }
}

/// What an Autopilot event says, by its ID (memdocs autopilot/troubleshooting-faq.yml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutopilotEventKind {
    /// 153 to ProfileState_Available, or 161: a profile was downloaded.
    ProfileDownloaded,
    /// 163: a profile is already on the device.
    AlreadyProvisioned,
    /// 171: TPM attestation (identity confirmation) failed.
    TpmAttestationFailed,
    /// 172: the profile could not be marked available (usually after 171).
    ProfileUnavailable,
    /// 807 ZtdDeviceIsNotRegistered.
    NotRegistered,
    /// 809: the assigned profile was deleted.
    AssignedProfileMissing,
    /// 815: no profile assigned and no default profile.
    NoProfileAssigned,
    /// 908 SerialNumberMismatch / ProductKeyIdMismatch.
    HardwareMismatch,
    /// Another error or warning event.
    Other,
}

/// One Autopilot event kept for the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotEvent {
    pub event_id: u32,
    pub kind: AutopilotEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    /// Failure codes it carries, `0x…`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hresults: Vec<String>,
    pub location: Location,
}

/// A failure code the device recorded during Autopilot or the ESP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotError {
    /// `0x81039001`.
    pub code: String,
    /// The catalog's one-line description.
    pub description: String,
    /// `Autopilot event 171`, `ESP provider Sidecar`.
    pub origin: String,
    pub location: Location,
}

/// How the profile joins the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinMethod {
    EntraJoin,
    HybridJoin,
}

/// The tenant a profile names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignedTenant<'a> {
    pub id: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub location: &'a Location,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AutopilotEvidence {
    /// `Some(true)` when the device holds a profile of some tenant (or logged its download),
    /// `Some(false)` when it shows it has none (IsAutopilotDisabled, an empty tenant, events 807
    /// or 815), `None` when nothing says.
    pub fn profile_downloaded(&self) -> Option<bool> {
        let downloaded_event = self.events.iter().any(|e| {
            matches!(
                e.kind,
                AutopilotEventKind::ProfileDownloaded | AutopilotEventKind::AlreadyProvisioned
            )
        });
        if self.profiles.iter().any(AutopilotProfile::has_tenant) || downloaded_event {
            return Some(true);
        }
        let none_event = self.events.iter().any(|e| {
            matches!(
                e.kind,
                AutopilotEventKind::NotRegistered | AutopilotEventKind::NoProfileAssigned
            )
        });
        let registry_says_none = self.profiles.iter().any(|p| {
            p.source == ProfileSource::Registry
                && (p.autopilot_disabled == Some(true) || p.tenant_id.is_some() && !p.has_tenant())
        });
        (none_event || registry_says_none).then_some(false)
    }

    /// The tenant the device's profile belongs to: the registry first, then the files.
    pub fn assigned_tenant(&self) -> Option<AssignedTenant<'_>> {
        self.profiles
            .iter()
            .find(|p| p.has_tenant())
            .map(|p| AssignedTenant {
                id: non_empty(&p.tenant_id),
                domain: non_empty(&p.tenant_domain),
                location: &p.location,
            })
    }

    /// `Some(false)` when the profile's tenant differs from `tenant_id` (case-insensitive GUID),
    /// `Some(true)` when it is the same, `None` when the device names no tenant ID.
    pub fn assigned_to_tenant(&self, tenant_id: &str) -> Option<bool> {
        let id = self.assigned_tenant()?.id?;
        Some(
            id.trim_matches(['{', '}'])
                .eq_ignore_ascii_case(tenant_id.trim_matches(['{', '}'])),
        )
    }

    /// `TenantMatched` as the registry records it.
    pub fn tenant_matched(&self) -> Option<bool> {
        self.profiles.iter().find_map(|p| p.tenant_matched)
    }

    /// Entra join or hybrid join, from `CloudAssignedDomainJoinMethod`.
    pub fn join_method(&self) -> Option<JoinMethod> {
        self.profiles
            .iter()
            .find_map(|p| p.domain_join_method)
            .and_then(|m| match m {
                0 => Some(JoinMethod::EntraJoin),
                1 => Some(JoinMethod::HybridJoin),
                _ => None,
            })
    }

    /// Whether the profile is one that needs TPM attestation (self-deploying or
    /// pre-provisioning), from the CloudAssignedOobeConfig bits.
    pub fn needs_tpm_attestation(&self) -> Option<bool> {
        let oobe = self.profiles.iter().find_map(|p| p.oobe_config)?;
        Some(oobe & OOBE_TPM_BITS != 0)
    }

    /// Self-deploying mode (device authentication, no user), from CloudAssignedOobeConfig.
    pub fn self_deploying(&self) -> Option<bool> {
        let oobe = self.profiles.iter().find_map(|p| p.oobe_config)?;
        Some(oobe & OOBE_DEVICE_AUTH != 0)
    }

    /// The app that held the ESP: the first tracked app in Error; while the first sync is not
    /// done, the first app not yet Completed. `None` when the ESP tracking was not exported or
    /// nothing holds it.
    pub fn esp_blocking_app(&self) -> Option<&EspApp> {
        let esp = self.esp.as_ref()?;
        if let Some(failed) = esp.apps.iter().find(|a| a.installation_state == Some(4)) {
            return Some(failed);
        }
        let not_done = self.first_sync.iter().any(|f| f.done() == Some(false));
        if !not_done {
            return None;
        }
        esp.apps
            .iter()
            .find(|a| matches!(a.installation_state, Some(1) | Some(2)))
    }

    /// `Some(true)` when a first sync is recorded as not done and more time than its
    /// SyncFailureTimeout has passed since the ESP started (up to the latest moment the report
    /// shows); `Some(false)` when every first sync is done; `None` otherwise.
    pub fn first_sync_timed_out(&self) -> Option<bool> {
        if self.first_sync.is_empty() {
            return None;
        }
        if self.first_sync.iter().all(|f| f.done() == Some(true)) {
            return Some(false);
        }
        let started = self.esp.as_ref().and_then(|e| e.started)?;
        let until = self.observed_until?;
        let elapsed = (until - started).num_minutes();
        let timed_out = self.first_sync.iter().any(|f| {
            f.done() == Some(false)
                && f.timeout_minutes
                    .is_some_and(|t| i64::try_from(t).is_ok_and(|t| elapsed > t))
        });
        timed_out.then_some(true)
    }

    /// Failure codes of the Autopilot events and the ESP providers, decoded by the catalog.
    pub fn autopilot_errors(&self) -> &[AutopilotError] {
        &self.errors
    }

    /// Serial numbers the Autopilot files name.
    pub fn serial_numbers(&self) -> impl Iterator<Item = &str> {
        self.device_hashes
            .iter()
            .filter_map(|h| non_empty(&h.serial_number))
    }

    /// The facts in words, for the diagnosis (`source` "autopilot").
    pub fn to_evidence(&self) -> Vec<Evidence> {
        super::autopilot_files::evidence_of(self)
    }
}

/// Whether a Windows edition (`EditionID`) can use Autopilot and Entra join: Home (`Core…`)
/// cannot (0x80180022, SupportArticles-docs troubleshoot-windows-enrollment-errors.md); Pro,
/// Enterprise, Education and their variants can. `None` for an edition not recognised.
pub fn edition_supports_autopilot(edition_id: &str) -> Option<bool> {
    let e = edition_id.trim().to_ascii_lowercase();
    if e.starts_with("core") {
        return Some(false);
    }
    let supported = [
        "professional",
        "enterprise",
        "education",
        "serverrdsh",
        "iotenterprise",
        "cloud",
    ];
    supported.iter().any(|s| e.starts_with(s)).then_some(true)
}

/// Whether the TPM can do the attestation self-deploying and pre-provisioning need (a TPM 2.0
/// capable of attestation, memdocs autopilot/self-deploying.md). `None` when the facts do not say.
pub fn tpm_can_attest(tpm: &TpmInfo) -> Option<bool> {
    if tpm.present == Some(false) {
        return Some(false);
    }
    if let Some(v) = tpm.major_version()
        && !v.starts_with('2')
    {
        return Some(false);
    }
    match (tpm.attestation_capable, tpm.major_version()) {
        (Some(false), _) => Some(false),
        (Some(true), Some(v)) if v.starts_with('2') => Some(true),
        _ => None,
    }
}

/// The Autopilot facts of a report, or `None` when it holds none. Pure: reads the registry, the
/// Autopilot events, the Autopilot files already parsed into `report.autopilot`, and the
/// collection time.
pub fn autopilot_evidence(report: &DeviceReport) -> Option<AutopilotEvidence> {
    let mut ev = AutopilotEvidence::default();
    let from_files = report.autopilot.as_ref();
    if let Some(reg) = &report.registry {
        if let Some(key) = reg.key(KEY_AUTOPILOT_DIAGNOSTICS) {
            let correlations = reg.key(&format!(
                "{KEY_AUTOPILOT_DIAGNOSTICS}\\EstablishedCorrelations"
            ));
            ev.profiles.push(registry_profile(key, correlations));
        }
        ev.first_sync = first_sync_keys(&reg.keys);
        ev.esp = esp_tracking(&reg.keys);
    }
    if let Some(files) = from_files {
        ev.profiles.extend(
            files
                .profiles
                .iter()
                .filter(|p| p.source != ProfileSource::Registry)
                .cloned(),
        );
        ev.device_hashes.extend(files.device_hashes.iter().cloned());
    }
    ev.events = autopilot_events(report);
    ev.errors = errors_of(&ev);
    let latest_event = report.events.iter().filter_map(|e| e.time).max();
    let latest_esp = ev
        .esp
        .as_ref()
        .and_then(|e| e.diagnostics.iter().filter_map(|d| d.at).max());
    ev.observed_until = report
        .collector
        .as_ref()
        .and_then(|c| c.collected_at)
        .or(latest_event.max(latest_esp));
    let empty = ev.profiles.is_empty()
        && ev.device_hashes.is_empty()
        && ev.esp.is_none()
        && ev.first_sync.is_empty()
        && ev.events.is_empty();
    (!empty).then_some(ev)
}

fn text_value(key: &RegKey, name: &str) -> Option<String> {
    key.value(name).map(|v| clip(&v.data.as_text()))
}

fn number_value(key: &RegKey, name: &str) -> Option<u64> {
    key.value(name).and_then(|v| v.data.as_u64())
}

/// Keeps an identifier readable: outside data is cut at 256 characters.
pub(crate) fn clip(s: &str) -> String {
    s.trim().chars().take(256).collect()
}

fn registry_profile(key: &RegKey, correlations: Option<&RegKey>) -> AutopilotProfile {
    let mut p = AutopilotProfile::new(ProfileSource::Registry, key.location.clone());
    p.tenant_id = text_value(key, "CloudAssignedTenantId");
    p.tenant_domain = text_value(key, "CloudAssignedTenantDomain");
    p.profile_name = text_value(key, "DeploymentProfileName");
    p.oobe_config =
        number_value(key, "CloudAssignedOobeConfig").and_then(|n| u32::try_from(n).ok());
    p.domain_join_method =
        number_value(key, "CloudAssignedDomainJoinMethod").and_then(|n| u32::try_from(n).ok());
    p.forced_enrollment =
        number_value(key, "CloudAssignedForcedEnrollment").and_then(|n| u32::try_from(n).ok());
    p.ztd_correlation_id = text_value(key, "ZtdCorrelationId");
    p.autopilot_disabled = number_value(key, "IsAutopilotDisabled").map(|n| n != 0);
    p.tenant_matched = number_value(key, "TenantMatched").map(|n| n != 0);
    p.user_tenant_id = text_value(key, "AadTenantId");
    p.service_correlation_id = text_value(key, "AutopilotServiceCorrelationId");
    p.ztd_registration_id = correlations
        .and_then(|c| text_value(c, "ZTDRegistrationID"))
        .or_else(|| text_value(key, "ZtdRegistrationId"));
    p
}

/// Path components below `root` (normalised, upper case) of a key, with the original spelling.
fn below<'a>(root: &str, key: &'a RegKey) -> Option<Vec<&'a str>> {
    let want = format!("{}\\", normalize_key_path(root));
    let norm = normalize_key_path(&key.path);
    if key.deleted || !norm.starts_with(&want) {
        return None;
    }
    // Same number of components in both spellings: take the tail of the original path.
    let depth = want.matches('\\').count();
    Some(
        key.path
            .trim_end_matches('\\')
            .split('\\')
            .skip(depth)
            .collect(),
    )
}

fn first_sync_keys(keys: &[RegKey]) -> Vec<FirstSync> {
    keys.iter()
        .filter_map(|k| {
            let parts = below(KEY_ENROLLMENTS, k)?;
            let [enrollment, leaf] = parts.as_slice() else {
                return None;
            };
            if !leaf.eq_ignore_ascii_case("FirstSync") {
                return None;
            }
            let flag = |n: &str| number_value(k, n).map(|v| v != 0);
            Some(FirstSync {
                enrollment_id: enrollment.to_string(),
                server_provisioning_done: flag("IsServerProvisioningDone"),
                sync_done: flag("IsSyncDone"),
                timeout_minutes: number_value(k, "SyncFailureTimeout"),
                block_in_status_page: number_value(k, "BlockInStatusPage")
                    .and_then(|n| u32::try_from(n).ok()),
                skip_device_status_page: flag("SkipDeviceStatusPage"),
                skip_user_status_page: flag("SkipUserStatusPage"),
                location: k.location.clone(),
            })
        })
        .collect()
}

fn esp_tracking(keys: &[RegKey]) -> Option<EspTracking> {
    let mut esp = EspTracking::default();
    let mut seen = false;
    for k in keys {
        let Some(parts) = below(KEY_ESP_TRACKING, k) else {
            if normalize_key_path(&k.path) == normalize_key_path(KEY_ESP_TRACKING) {
                seen = true;
            }
            continue;
        };
        seen = true;
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let l: Vec<&str> = lower.iter().map(String::as_str).collect();
        match l.as_slice() {
            ["device", "devicepreparation", "policyproviders", _] => {
                esp.providers.push(EspProvider {
                    name: parts[3].to_string(),
                    installation_state: number_value(k, "InstallationState")
                        .and_then(|n| u32::try_from(n).ok()),
                    last_error: number_value(k, "LastError")
                        .filter(|&n| n != 0)
                        .and_then(|n| {
                            u32::try_from(n)
                                .ok()
                                .or_else(|| i32::try_from(n).ok().map(|v| v as u32))
                        })
                        .map(format_hresult),
                    timeout_minutes: number_value(k, "Timeout"),
                    location: k.location.clone(),
                })
            }
            [_, "setup", "apps", "tracking", _, _] => esp.apps.push(EspApp {
                scope: parts[0].to_string(),
                provider: parts[4].to_string(),
                app: clip(parts[5]),
                installation_state: number_value(k, "InstallationState")
                    .and_then(|n| u32::try_from(n).ok()),
                location: k.location.clone(),
            }),
            ["esptrackinginfo", "diagnostics", _, _] => {
                diagnostics(&mut esp, "Device", parts[2], parts[3], k)
            }
            ["esptrackinginfo", "diagnostics", _, _, _] => {
                diagnostics(&mut esp, parts[2], parts[3], parts[4], k)
            }
            _ => {}
        }
    }
    esp.started = esp.diagnostics.iter().filter_map(|d| d.at).min();
    seen.then_some(esp)
}

/// Adds the values of one `Diagnostics\{Category}\{time stamp}` key, keeping the latest state of
/// each item.
fn diagnostics(esp: &mut EspTracking, scope: &str, category: &str, stamp: &str, k: &RegKey) {
    let at = super::events::parse_time(stamp);
    for v in &k.values {
        let Some(state) = v.data.as_u64() else {
            continue;
        };
        let item = clip(&v.name);
        let existing = esp.diagnostics.iter_mut().find(|d| {
            d.scope.eq_ignore_ascii_case(scope)
                && d.category.eq_ignore_ascii_case(category)
                && d.item == item
        });
        match existing {
            Some(d) if d.at.is_some() && at.is_some() && d.at >= at => {}
            Some(d) => {
                d.state = state;
                d.at = at;
                d.location = v.location.clone();
            }
            None => esp.diagnostics.push(EspDiagnostic {
                scope: clip(scope),
                category: clip(category),
                item,
                state,
                at,
                location: v.location.clone(),
            }),
        }
    }
}

fn event_kind(id: u32, text: &str) -> Option<AutopilotEventKind> {
    use AutopilotEventKind::*;
    Some(match id {
        153 if text.contains("profilestate_available") => ProfileDownloaded,
        161 => ProfileDownloaded,
        163 => AlreadyProvisioned,
        171 => TpmAttestationFailed,
        172 => ProfileUnavailable,
        807 => NotRegistered,
        809 => AssignedProfileMissing,
        815 => NoProfileAssigned,
        908 => HardwareMismatch,
        _ => return None,
    })
}

fn autopilot_events(report: &DeviceReport) -> Vec<AutopilotEvent> {
    let mut out = Vec::new();
    for e in report.events.iter().filter(|e| e.is_autopilot()) {
        let mut text = String::new();
        for d in &e.data {
            text.push_str(&d.value);
            text.push(' ');
        }
        if let Some(m) = &e.message {
            text.push_str(m);
        }
        let lower = text.to_ascii_lowercase();
        let error_level = e.level.is_some_and(|l| l <= 3 && l > 0);
        let kind = match event_kind(e.event_id, &lower) {
            Some(k) => k,
            None if error_level => AutopilotEventKind::Other,
            None => continue,
        };
        let mut codes: Vec<u32> = e
            .data
            .iter()
            .filter(|d| {
                d.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("HRESULT"))
            })
            .filter_map(|d| parse_hresult(&d.value))
            .filter(|c| c & 0x8000_0000 != 0)
            .collect();
        for c in hresults_in_text(&text) {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
        out.push(AutopilotEvent {
            event_id: e.event_id,
            kind,
            time: e.time,
            hresults: codes.into_iter().map(format_hresult).collect(),
            location: e.location.clone(),
        });
    }
    out
}

fn errors_of(ev: &AutopilotEvidence) -> Vec<AutopilotError> {
    let mut out: Vec<AutopilotError> = Vec::new();
    let mut push = |code: &str, origin: String, location: &Location| {
        let Some(c) = parse_hresult(code) else {
            return;
        };
        if out.iter().any(|e| e.code == code && e.origin == origin) {
            return;
        }
        out.push(AutopilotError {
            code: code.to_string(),
            description: describe(c),
            origin,
            location: location.clone(),
        });
    };
    for e in &ev.events {
        for code in &e.hresults {
            push(code, format!("Autopilot event {}", e.event_id), &e.location);
        }
    }
    if let Some(esp) = &ev.esp {
        for p in &esp.providers {
            if let Some(code) = &p.last_error {
                push(code, format!("ESP provider {}", p.name), &p.location);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "autopilot_tests.rs"]
mod tests;
