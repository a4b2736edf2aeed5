//! Conditional Access policies as the snapshot holds them (the parts the checks read).

use serde::{Deserialize, Serialize};

use super::serde_helpers::{empty_as_none, null_as_empty};

/// `GET /v1.0/identity/conditionalAccess/policies` item (the parts the checks read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ConditionalAccessPolicy {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    /// `enabled`, `disabled`, `enabledForReportingButNotEnforced`.
    #[serde(deserialize_with = "empty_as_none")]
    pub state: Option<String>,
    pub conditions: CaConditions,
    pub grant_controls: Option<CaGrantControls>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaConditions {
    pub applications: CaApplications,
    pub users: CaUsers,
    #[serde(deserialize_with = "null_as_empty")]
    pub client_app_types: Vec<String>,
    pub platforms: Option<CaPlatforms>,
    /// Named locations; whether a sign-in matches cannot be decided offline.
    pub locations: Option<CaLocations>,
    /// The device filter (`deviceFilter.rule`); evaluated by Entra at sign-in.
    pub devices: Option<CaDevices>,
    #[serde(deserialize_with = "null_as_empty")]
    pub sign_in_risk_levels: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub user_risk_levels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaLocations {
    #[serde(deserialize_with = "null_as_empty")]
    pub include_locations: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaDevices {
    pub device_filter: Option<CaDeviceFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaDeviceFilter {
    /// `include` / `exclude`.
    #[serde(deserialize_with = "empty_as_none")]
    pub mode: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaApplications {
    #[serde(deserialize_with = "null_as_empty")]
    pub include_applications: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_applications: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub include_user_actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaUsers {
    #[serde(deserialize_with = "null_as_empty")]
    pub include_users: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_users: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub include_groups: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_groups: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub include_roles: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaPlatforms {
    #[serde(deserialize_with = "null_as_empty")]
    pub include_platforms: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub exclude_platforms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaGrantControls {
    /// `AND` / `OR`.
    #[serde(deserialize_with = "empty_as_none")]
    pub operator: Option<String>,
    /// `mfa`, `compliantDevice`, `domainJoinedDevice`, `block`, …
    #[serde(deserialize_with = "null_as_empty")]
    pub built_in_controls: Vec<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub terms_of_use: Vec<String>,
    pub authentication_strength: Option<CaAuthenticationStrength>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CaAuthenticationStrength {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
}
