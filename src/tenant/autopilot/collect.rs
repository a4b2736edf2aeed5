//! Reading the Autopilot sources from Graph (all beta; see the module docs of
//! [`super`] for why), in bulk for fleets and audits, targeted by serial number for a few devices.
//!
//! - Device identities: `$filter=contains(serialNumber,'…')` per device in `$batch` (Graph
//!   refuses `serialNumber eq '…'` on this collection with a 400, and `contains` is the filter
//!   Microsoft's Graph docs team confirmed: microsoftgraph/microsoft-graph-docs issue 9357,
//!   msgraph-sdk-powershell issue 1260); `contains` matches substrings, so the answers are cut
//!   to the exact serial. A lookup Graph refuses (400: `contains` has failed on serials holding a
//!   hyphen, msgraph-sdk-powershell issue 2464) falls back to one listing of every identity,
//!   matched in memory. `$select` on this collection has been answered with a 500
//!   (microsoft-graph-docs-contrib issue 2756, again in 2026): a 500 is asked once more without
//!   `$select` (the properties not asked for are not kept).
//! - Corporate identifiers and deployment events are listed in full with `$select` (no filter
//!   on serial is documented for either; the events cover about 30 days), the profiles with
//!   `$expand=assignments` and without `$select` (a polymorphic collection: the hybrid join
//!   type's own property would be dropped).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::esp::is_esp;
use super::{AutopilotDeviceIdentity, AutopilotEvent, AutopilotProfile, ImportedDeviceIdentity};
use super::{EnrollmentStatusPage, identities_by_serial, same_serial};
use crate::graph::{ApiVersion, BatchRequest, GraphClient, GraphError, Query};
use crate::tenant::collect::missing_from_error;
use crate::tenant::snapshot::{
    EnrollmentConfiguration, MissingReason, Source, TenantSnapshot, TokenKind,
};

pub const IDENTITIES_PATH: &str = "/deviceManagement/windowsAutopilotDeviceIdentities";
pub const PROFILES_PATH: &str = "/deviceManagement/windowsAutopilotDeploymentProfiles";
pub const IMPORTED_PATH: &str = "/deviceManagement/importedDeviceIdentities";
pub const EVENTS_PATH: &str = "/deviceManagement/autopilotEvents";
const CONFIGS_PATH: &str = "/deviceManagement/deviceEnrollmentConfigurations";

/// What an identity is read with (never `productKey` nor the Surface Hub account password).
pub const IDENTITY_SELECT: &[&str] = &[
    "id",
    "serialNumber",
    "manufacturer",
    "model",
    "groupTag",
    "enrollmentState",
    "lastContactedDateTime",
    "azureActiveDirectoryDeviceId",
    "azureAdDeviceId",
    "managedDeviceId",
    "userPrincipalName",
    "addressableUserName",
    "displayName",
    "deploymentProfileAssignmentStatus",
    "deploymentProfileAssignmentDetailedStatus",
    "deploymentProfileAssignedDateTime",
    "userlessEnrollmentStatus",
    "remediationState",
];
pub const IMPORTED_SELECT: &[&str] = &[
    "id",
    "importedDeviceIdentifier",
    "importedDeviceIdentityType",
    "enrollmentState",
    "platform",
    "lastContactedDateTime",
    "createdDateTime",
];
pub const EVENT_SELECT: &[&str] = &[
    "id",
    "deviceSerialNumber",
    "deviceId",
    "userPrincipalName",
    "managedDeviceName",
    "eventDateTime",
    "enrollmentStartDateTime",
    "deploymentState",
    "deviceSetupStatus",
    "accountSetupStatus",
    "enrollmentType",
    "enrollmentState",
    "enrollmentFailureDetails",
    "osVersion",
    "windowsAutopilotDeploymentProfileDisplayName",
    "windows10EnrollmentCompletionPageConfigurationDisplayName",
    "windows10EnrollmentCompletionPageConfigurationId",
    "deploymentDuration",
];

/// Source names (as in the snapshot) for the missing-permission mapping.
pub const SOURCE_DEVICES: &str = "autopilot_devices";
pub const SOURCE_PROFILES: &str = "autopilot_profiles";
pub const SOURCE_ESP: &str = "enrollment_status_pages";
pub const SOURCE_IMPORTED: &str = "imported_device_identities";
pub const SOURCE_EVENTS: &str = "autopilot_events";

fn endpoint(path: &str, query: &Query) -> String {
    let q = query.encode();
    if q.is_empty() {
        format!("GET /beta{path}")
    } else {
        format!("GET /beta{path}?{q}")
    }
}

fn missing<T>(source: &str, kind: TokenKind, e: &GraphError) -> Source<T> {
    Source::Missing {
        reason: missing_from_error(source, kind, e),
    }
}

/// Lists a beta collection with `$select`, once more without it when Graph answers 500.
async fn list_selected<T: DeserializeOwned>(
    client: &GraphClient,
    source: &str,
    kind: TokenKind,
    path: &str,
    select: &[&str],
) -> Source<Vec<T>> {
    let q = Query::new().select(select);
    match client.list_all::<T>(ApiVersion::Beta, path, &q).await {
        Ok(items) => Source::collected(endpoint(path, &q), items),
        Err(e) if e.status() == Some(500) && !e.is_fatal() => {
            let bare = Query::new();
            match client.list_all::<T>(ApiVersion::Beta, path, &bare).await {
                Ok(items) => Source::collected(
                    format!(
                        "{} (Graph answered 500 to $select; read without it)",
                        endpoint(path, &bare)
                    ),
                    items,
                ),
                Err(e) => missing(source, kind, &e),
            }
        }
        Err(e) => missing(source, kind, &e),
    }
}

/// beta deployment profiles with their assignments (tenant configuration: read in every run).
pub async fn profiles(client: &GraphClient, kind: TokenKind) -> Source<Vec<AutopilotProfile>> {
    let q = Query::new().expand("assignments");
    match client
        .list_all::<AutopilotProfile>(ApiVersion::Beta, PROFILES_PATH, &q)
        .await
    {
        Ok(items) => Source::collected(endpoint(PROFILES_PATH, &q), items),
        Err(e) => missing(SOURCE_PROFILES, kind, &e),
    }
}

/// beta enrollment configurations with assignments, read once: the restrictions, and the
/// Enrollment Status Pages among them. Polymorphic collection: no `$select`, it would drop the
/// derived types' properties.
pub async fn enrollment_configurations(
    client: &GraphClient,
    kind: TokenKind,
) -> (
    Source<Vec<EnrollmentConfiguration>>,
    Source<Vec<EnrollmentStatusPage>>,
) {
    let q = Query::new().expand("assignments");
    let ep = endpoint(CONFIGS_PATH, &q);
    let items = match client
        .list_all::<serde_json::Value>(ApiVersion::Beta, CONFIGS_PATH, &q)
        .await
    {
        Ok(items) => items,
        Err(e) => {
            return (
                missing("enrollment_configurations", kind, &e),
                missing(SOURCE_ESP, kind, &e),
            );
        }
    };
    match split_configurations(&items) {
        Ok((configs, pages)) => (
            Source::collected(ep.clone(), configs),
            Source::collected(
                format!("{ep} (the windows10EnrollmentCompletionPageConfiguration items)"),
                pages,
            ),
        ),
        Err(message) => {
            let reason = MissingReason::GraphError {
                status: None,
                code: None,
                request_id: None,
                message: format!("GET /beta{CONFIGS_PATH}: {message}"),
            };
            (
                Source::Missing {
                    reason: reason.clone(),
                },
                Source::Missing { reason },
            )
        }
    }
}

/// The items as restrictions (every item, as before) and as Enrollment Status Pages.
pub fn split_configurations(
    items: &[serde_json::Value],
) -> Result<(Vec<EnrollmentConfiguration>, Vec<EnrollmentStatusPage>), String> {
    let mut configs = Vec::with_capacity(items.len());
    let mut pages = Vec::new();
    for v in items {
        let c = EnrollmentConfiguration::deserialize(v).map_err(|e| e.to_string())?;
        if is_esp(
            c.odata_type.as_deref(),
            c.device_enrollment_configuration_type.as_deref(),
        ) {
            pages.push(EnrollmentStatusPage::deserialize(v).map_err(|e| e.to_string())?);
        }
        configs.push(c);
    }
    Ok((configs, pages))
}

/// The per-device Autopilot sources of one collection.
#[derive(Debug, Clone, PartialEq)]
pub struct AutopilotRecords {
    pub devices: Source<Vec<AutopilotDeviceIdentity>>,
    pub imported: Source<Vec<ImportedDeviceIdentity>>,
    pub events: Source<Vec<AutopilotEvent>>,
}

impl AutopilotRecords {
    /// Into the snapshot's sources.
    pub fn store(self, snap: &mut TenantSnapshot) {
        let s = &mut snap.sources;
        s.autopilot_devices = self.devices;
        s.imported_device_identities = self.imported;
        s.autopilot_events = self.events;
    }

    /// Only the identities and deployments of these serial numbers (what the targeted
    /// lookups return); the corporate identifiers stay whole (both ways list them in full).
    pub fn retain_serials(self, serials: &BTreeSet<String>) -> AutopilotRecords {
        let keys: std::collections::HashSet<String> = serials
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        let wanted =
            |s: Option<&str>| s.is_some_and(|s| keys.contains(&s.trim().to_ascii_lowercase()));
        let cut = |ep: String| format!("{ep} (listed once, matched in memory)");
        AutopilotRecords {
            devices: match self.devices {
                Source::Collected { endpoint, data } => Source::collected(
                    cut(endpoint),
                    data.into_iter()
                        .filter(|d| wanted(d.serial_number.as_deref()))
                        .collect(),
                ),
                m => m,
            },
            imported: self.imported,
            events: match self.events {
                Source::Collected { endpoint, data } => Source::collected(
                    cut(endpoint),
                    data.into_iter()
                        .filter(|e| wanted(e.device_serial_number.as_deref()))
                        .collect(),
                ),
                m => m,
            },
        }
    }
}

async fn imported_and_events(
    client: &GraphClient,
    kind: TokenKind,
) -> (
    Source<Vec<ImportedDeviceIdentity>>,
    Source<Vec<AutopilotEvent>>,
) {
    futures::join!(
        list_selected(
            client,
            SOURCE_IMPORTED,
            kind,
            IMPORTED_PATH,
            IMPORTED_SELECT
        ),
        list_selected(client, SOURCE_EVENTS, kind, EVENTS_PATH, EVENT_SELECT),
    )
}

/// Every identity, corporate identifier and deployment event, listed side by side.
pub async fn list_all(client: &GraphClient, kind: TokenKind) -> AutopilotRecords {
    let (devices, (imported, events)) = futures::join!(
        list_selected(
            client,
            SOURCE_DEVICES,
            kind,
            IDENTITIES_PATH,
            IDENTITY_SELECT
        ),
        imported_and_events(client, kind),
    );
    AutopilotRecords {
        devices,
        imported,
        events,
    }
}

/// An OData string literal: single quotes doubled.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The identity lookup of one serial number.
pub fn serial_query(serial: &str) -> Query {
    Query::new()
        .filter(&format!(
            "contains(serialNumber,{})",
            literal(serial.trim())
        ))
        .select(IDENTITY_SELECT)
}

/// The identities of these serial numbers (one `$batch` item each), with the corporate
/// identifiers and deployment events listed alongside.
pub async fn by_serials(
    client: &GraphClient,
    kind: TokenKind,
    serials: &BTreeSet<String>,
) -> AutopilotRecords {
    let (devices, (imported, events)) = futures::join!(
        identities_by_serials(client, kind, serials),
        imported_and_events(client, kind),
    );
    // The deployments of these devices only, as a bulk collection keeps them.
    let events = AutopilotRecords {
        devices: Source::not_collected(),
        imported: Source::not_collected(),
        events,
    }
    .retain_serials(serials)
    .events;
    AutopilotRecords {
        devices,
        imported,
        events,
    }
}

async fn identities_by_serials(
    client: &GraphClient,
    kind: TokenKind,
    serials: &BTreeSet<String>,
) -> Source<Vec<AutopilotDeviceIdentity>> {
    const EP: &str = "GET /beta/deviceManagement/windowsAutopilotDeviceIdentities?$filter=contains(serialNumber,'…')&$select=… ($batch)";
    let wanted: Vec<&String> = serials.iter().filter(|s| !s.trim().is_empty()).collect();
    if wanted.is_empty() {
        return Source::collected(EP, Vec::new());
    }
    let requests: Vec<BatchRequest> = wanted
        .iter()
        .enumerate()
        .map(|(i, s)| BatchRequest::get_with(format!("s{i}"), IDENTITIES_PATH, &serial_query(s)))
        .collect();
    let answers = match client.batch(ApiVersion::Beta, requests).await {
        Ok(a) => a,
        Err(e) => return missing(SOURCE_DEVICES, kind, &e),
    };
    let mut found: Vec<AutopilotDeviceIdentity> = Vec::new();
    let mut refused: Vec<&String> = Vec::new();
    for a in answers {
        let idx: Option<usize> = a.id.strip_prefix('s').and_then(|n| n.parse().ok());
        let Some(serial) = idx.and_then(|i| wanted.get(i).copied()) else {
            continue;
        };
        match client.batch_item_list::<AutopilotDeviceIdentity>(a).await {
            Ok(items) => found.extend(items.into_iter().filter(|d| {
                d.serial_number
                    .as_deref()
                    .is_some_and(|x| same_serial(x, serial))
            })),
            // A filter Graph refuses for this serial (400), or `$select` answered 500: the
            // listing below answers for it.
            Err(e) if matches!(e.status(), Some(400 | 500)) && !e.is_fatal() => {
                refused.push(serial)
            }
            Err(e) => return missing(SOURCE_DEVICES, kind, &e),
        }
    }
    if refused.is_empty() {
        return Source::collected(EP, dedup(found));
    }
    match list_selected::<AutopilotDeviceIdentity>(
        client,
        SOURCE_DEVICES,
        kind,
        IDENTITIES_PATH,
        IDENTITY_SELECT,
    )
    .await
    {
        Source::Collected { endpoint, data } => {
            for s in refused {
                found.extend(identities_by_serial(&data, s).into_iter().cloned());
            }
            Source::collected(
                format!("{EP} + {endpoint} (for the serials the filter refused)"),
                dedup(found),
            )
        }
        m => m,
    }
}

fn dedup(mut list: Vec<AutopilotDeviceIdentity>) -> Vec<AutopilotDeviceIdentity> {
    list.sort_by_key(|d| d.id.to_ascii_lowercase());
    list.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_lookups_use_contains_with_quotes_doubled() {
        let q = serial_query(" O'Neil-01 ").encode();
        assert!(
            q.starts_with("$filter=contains(serialNumber,'O''Neil-01')&$select=id,serialNumber"),
            "{q}"
        );
        assert!(!q.contains("deviceAccountPassword") && !q.contains("productKey"));
    }

    #[test]
    fn configurations_split_into_restrictions_and_pages() {
        let items: Vec<serde_json::Value> = serde_json::from_str(
            r##"[{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"l","priority":0,"limit":15},
                {"@odata.type":"#microsoft.graph.windows10EnrollmentCompletionPageConfiguration","id":"e",
                 "priority":1,"showInstallationProgress":true,"installProgressTimeoutInMinutes":15,
                 "selectedMobileAppIds":["a1"],"assignments":[]},
                {"id":"d","deviceEnrollmentConfigurationType":"defaultWindows10EnrollmentCompletionPageConfiguration","priority":0}]"##,
        )
        .unwrap();
        let (configs, pages) = split_configurations(&items).unwrap();
        assert_eq!(configs.len(), 3);
        assert_eq!(
            pages.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["e", "d"]
        );
        assert_eq!(pages[0].timeout_minutes(), 15);
        assert_eq!(pages[1].timeout_minutes(), 60);
        assert!(pages[1].is_default() && !pages[0].is_default());
    }

    #[test]
    fn bulk_records_are_cut_to_the_wanted_serials() {
        let id = |i: &str, s: &str| AutopilotDeviceIdentity {
            id: i.into(),
            serial_number: Some(s.into()),
            ..Default::default()
        };
        let r = AutopilotRecords {
            devices: Source::collected("GET x", vec![id("1", "AAA"), id("2", "BBB")]),
            imported: Source::collected("GET y", vec![ImportedDeviceIdentity::default()]),
            events: Source::not_collected(),
        };
        let cut = r.retain_serials(&["aaa".to_string()].into());
        assert_eq!(cut.devices.data().map(|d| d.len()), Some(1));
        assert_eq!(cut.imported.data().map(|d| d.len()), Some(1));
        assert!(
            cut.devices
                .endpoint()
                .is_some_and(|e| e.contains("matched in memory"))
        );
    }
}
