//! The Entra and Intune records of specific devices, for `diagnose`: one `$batch` wave with a
//! `deviceId` / `azureADDeviceId` filter per device and a `displayName` filter per host name
//! (duplicates and dual-state objects), merged into a snapshot collected for the devices' users.
//! Hybrid-joined devices have no registered owner, so the users' `registeredDevices` alone
//! would miss them.

use std::collections::BTreeSet;

use super::collect::{DEVICE_SELECT, MANAGED_SELECT, missing_from_error};
use super::snapshot::{EntraDevice, ManagedDevice, MissingReason, Source, TenantSnapshot};
use crate::graph::{ApiVersion, BatchRequest, GraphClient, GraphError, Query};

/// What to look up.
#[derive(Debug, Clone, Default)]
pub struct DeviceLookup {
    /// Entra DeviceIds.
    pub device_ids: BTreeSet<String>,
    /// Host names (Entra displayName).
    pub names: BTreeSet<String>,
}

/// Records found, or why a source could not be read.
#[derive(Debug, Default)]
pub struct DeviceRecords {
    /// False when there was nothing to look up (the snapshot is left as it is).
    pub looked_up: bool,
    pub entra: Vec<EntraDevice>,
    pub managed: Vec<ManagedDevice>,
    pub entra_error: Option<MissingReason>,
    pub managed_error: Option<MissingReason>,
}

/// An OData string literal: single quotes doubled.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One `$batch` wave (chunks of 20 run concurrently) for every device and name.
pub async fn fetch(
    client: &GraphClient,
    lookup: &DeviceLookup,
    kind: super::snapshot::TokenKind,
) -> DeviceRecords {
    let mut requests = Vec::new();
    for (i, id) in lookup.device_ids.iter().enumerate() {
        requests.push(BatchRequest::get_with(
            format!("e{i}"),
            "/devices",
            &Query::new()
                .filter(&format!("deviceId eq {}", literal(id)))
                .select(DEVICE_SELECT),
        ));
        requests.push(BatchRequest::get_with(
            format!("m{i}"),
            "/deviceManagement/managedDevices",
            &Query::new()
                .filter(&format!("azureADDeviceId eq {}", literal(id)))
                .select(MANAGED_SELECT),
        ));
    }
    for (i, name) in lookup.names.iter().enumerate() {
        requests.push(BatchRequest::get_with(
            format!("n{i}"),
            "/devices",
            &Query::new()
                .filter(&format!("displayName eq {}", literal(name)))
                .select(DEVICE_SELECT),
        ));
    }
    let mut out = DeviceRecords::default();
    if requests.is_empty() {
        return out;
    }
    out.looked_up = true;
    let answers = match client.batch(ApiVersion::V1, requests).await {
        Ok(a) => a,
        Err(e) => {
            out.entra_error = Some(missing_from_error("entra_devices", kind, &e));
            out.managed_error = Some(missing_from_error("managed_devices", kind, &e));
            return out;
        }
    };
    let note = |slot: &mut Option<MissingReason>, source: &str, e: &GraphError| {
        if slot.is_none() {
            *slot = Some(missing_from_error(source, kind, e));
        }
    };
    for a in answers {
        if a.id.starts_with('m') {
            match client.batch_item_list::<ManagedDevice>(a).await {
                Ok(items) => out.managed.extend(items),
                Err(e) => note(&mut out.managed_error, "managed_devices", &e),
            }
        } else {
            match client.batch_item_list::<EntraDevice>(a).await {
                Ok(items) => out.entra.extend(items),
                Err(e) => note(&mut out.entra_error, "entra_devices", &e),
            }
        }
    }
    out
}

/// Adds the records to the snapshot's device sources (union by object id). A failed lookup
/// replaces a source only when the snapshot had nothing for it.
pub fn merge_into(snap: &mut TenantSnapshot, records: DeviceRecords) {
    if !records.looked_up {
        return;
    }
    const ENTRA_EP: &str = "GET /v1.0/devices?$filter=deviceId eq … / displayName eq … ($batch)";
    const MANAGED_EP: &str =
        "GET /v1.0/deviceManagement/managedDevices?$filter=azureADDeviceId eq … ($batch)";
    merge(
        &mut snap.sources.entra_devices,
        records.entra,
        records.entra_error,
        ENTRA_EP,
        |d| d.id.to_ascii_lowercase(),
    );
    merge(
        &mut snap.sources.managed_devices,
        records.managed,
        records.managed_error,
        MANAGED_EP,
        |d| d.id.to_ascii_lowercase(),
    );
    snap.normalize();
}

fn merge<T>(
    source: &mut Source<Vec<T>>,
    found: Vec<T>,
    error: Option<MissingReason>,
    endpoint: &str,
    key: impl Fn(&T) -> String,
) {
    if let Some(reason) = error {
        if source.data().is_none() {
            *source = Source::Missing { reason };
        }
        return;
    }
    match source {
        Source::Collected { endpoint: ep, data } => {
            let known: BTreeSet<String> = data.iter().map(&key).collect();
            data.extend(found.into_iter().filter(|d| !known.contains(&key(d))));
            ep.push_str(&format!(" + {endpoint}"));
        }
        Source::Missing { .. } => *source = Source::collected(endpoint, found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_in_filter_literals() {
        assert_eq!(literal("O'Brien-PC"), "'O''Brien-PC'");
    }

    #[test]
    fn merge_unions_by_id_and_keeps_existing_data_on_error() {
        let d = |id: &str| EntraDevice {
            id: id.into(),
            ..Default::default()
        };
        let mut s: Source<Vec<EntraDevice>> =
            Source::collected("GET /v1.0/users/x/registeredDevices", vec![d("a")]);
        merge(
            &mut s,
            vec![d("A"), d("b")],
            None,
            "GET /v1.0/devices",
            |x| x.id.to_ascii_lowercase(),
        );
        assert_eq!(s.data().map(|v| v.len()), Some(2));
        let err = MissingReason::InsufficientPermission {
            needed: vec!["Device.Read.All".into()],
        };
        merge(
            &mut s,
            Vec::new(),
            Some(err.clone()),
            "GET /v1.0/devices",
            |x| x.id.clone(),
        );
        assert_eq!(s.data().map(|v| v.len()), Some(2));
        let mut empty: Source<Vec<EntraDevice>> = Source::not_collected();
        merge(
            &mut empty,
            Vec::new(),
            Some(err),
            "GET /v1.0/devices",
            |x| x.id.clone(),
        );
        assert!(matches!(
            empty,
            Source::Missing {
                reason: MissingReason::InsufficientPermission { .. }
            }
        ));
    }
}
