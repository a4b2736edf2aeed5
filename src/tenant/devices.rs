//! Entra devices, Intune managed devices and enrollment troubleshooting events, as the snapshot holds them.

use serde::{Deserialize, Serialize};

use super::serde_helpers::{empty_as_none, null_as_empty};

/// `GET /v1.0/devices` item (Entra device object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EntraDevice {
    /// Directory object id.
    pub id: String,
    /// The device's own id (dsregcmd `DeviceId`).
    #[serde(deserialize_with = "empty_as_none")]
    pub device_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    #[serde(deserialize_with = "empty_as_none")]
    pub operating_system: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub operating_system_version: Option<String>,
    /// `Workplace`, `AzureAd`, `ServerAd` (case varies in the wild).
    #[serde(deserialize_with = "empty_as_none")]
    pub trust_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub profile_type: Option<String>,
    pub is_managed: Option<bool>,
    pub is_compliant: Option<bool>,
    #[serde(deserialize_with = "empty_as_none")]
    pub mdm_app_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub management_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub enrollment_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_ownership: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub approximate_last_sign_in_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub registration_date_time: Option<String>,
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(deserialize_with = "null_as_empty")]
    pub alternative_security_ids: Vec<AlternativeSecurityId>,
    /// Registered owners' user ids, when collected per user (`ownedDevices`).
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub registered_user_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AlternativeSecurityId {
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    #[serde(deserialize_with = "empty_as_none")]
    pub identity_provider: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub key: Option<String>,
}

/// Parsed Entra `trustType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustType {
    Workplace,
    AzureAd,
    ServerAd,
    Unknown,
}

impl EntraDevice {
    pub fn trust(&self) -> TrustType {
        match self
            .trust_type
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("workplace") => TrustType::Workplace,
            Some("azuread") => TrustType::AzureAd,
            Some("serverad") => TrustType::ServerAd,
            _ => TrustType::Unknown,
        }
    }
}

/// `GET /v1.0/deviceManagement/managedDevices` item (Intune).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedDevice {
    pub id: String,
    #[serde(rename = "azureADDeviceId", deserialize_with = "empty_as_none")]
    pub azure_ad_device_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub user_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub user_principal_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub operating_system: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub os_version: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub enrolled_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub last_sync_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub compliance_state: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_enrollment_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub management_agent: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub managed_device_owner_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub management_state: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub device_registration_state: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub serial_number: Option<String>,
}

/// `GET /v1.0/deviceManagement/troubleshootingEvents` item (enrollment events only are kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TroubleshootingEvent {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub event_date_time: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub correlation_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub managed_device_identifier: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub operating_system: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub os_version: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub user_id: Option<String>,
    /// Entra device id.
    #[serde(deserialize_with = "empty_as_none")]
    pub device_id: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub enrollment_type: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub failure_category: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub failure_reason: Option<String>,
}

pub use super::conditional_access::*;
