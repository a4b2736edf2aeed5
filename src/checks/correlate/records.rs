//! The tenant's records of a device as the correlation checks read them: Graph evidence,
//! Entra device lookups by DeviceId and by name, and the preamble of the checks that need the
//! report's DeviceId and one kind of record (COR003, COR004).

use crate::model::{CheckMeta, Evidence, Finding, SkipReason};
use crate::tenant::snapshot::{EntraDevice, Source, TenantSnapshot};

use super::facts::CorrelationFacts;

/// The Graph call that looks Entra devices up by DeviceId.
pub const DEVICES_BY_ID: &str = "GET /v1.0/devices?$filter=deviceId eq";

/// Evidence from a Graph call.
pub fn graph(detail: impl Into<String>, at: impl Into<String>) -> Evidence {
    Evidence::new("graph", detail).at(at)
}

/// Entra objects whose deviceId is `device_id` (case-insensitive).
pub fn entra_by_id<'a>(
    snap: &'a TenantSnapshot,
    devices: &'a [EntraDevice],
    device_id: &str,
) -> Vec<&'a EntraDevice> {
    snap.entra_by_device_id(devices, device_id)
}

/// Entra objects whose display name (or its first label) is the device's host name.
pub fn entra_by_name<'a>(
    snap: &'a TenantSnapshot,
    devices: &'a [EntraDevice],
    short_name: &str,
) -> Vec<&'a EntraDevice> {
    snap.entra_by_name(devices, short_name)
}

/// The Entra objects named like the device (none when the report gives no host name).
pub fn entra_namesakes<'a>(
    devices: &'a [EntraDevice],
    f: &CorrelationFacts<'a>,
) -> Vec<&'a EntraDevice> {
    f.keys
        .short_name
        .as_deref()
        .map(|n| entra_by_name(f.snap, devices, n))
        .unwrap_or_default()
}

/// One line about an Entra device object: name, ids, trust type, enabled, managed.
pub fn describe_entra(d: &EntraDevice) -> String {
    format!(
        "Entra device \"{}\" (object {}, deviceId {}): trustType {}, accountEnabled {}, isManaged {}",
        d.display_name.as_deref().unwrap_or("?"),
        d.id,
        d.device_id.as_deref().unwrap_or("none"),
        d.trust_type.as_deref().unwrap_or("none"),
        d.account_enabled
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
        d.is_managed
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
    )
}

/// Where an Entra device object is read from.
pub fn entra_location(d: &EntraDevice) -> String {
    format!("GET /v1.0/devices/{}", d.id)
}

/// The finding that skips `check` because the report names no DeviceId.
pub fn no_device_id(check: &CheckMeta, f: &CorrelationFacts) -> Finding {
    check.skip(
        f.subject.clone(),
        SkipReason::NoEvidence {
            collect: "`dsregcmd /status` (Device Details: DeviceId)".into(),
        },
    )
}

/// The tenant's records of one kind (`what`) and the report's DeviceId to look them up by, or
/// the finding that ends `check` first: the records were not read (say why), or the report
/// names no DeviceId.
pub fn device_records<'a, T>(
    check: &CheckMeta,
    f: &CorrelationFacts<'a>,
    source: &'a Source<Vec<T>>,
    what: &str,
) -> Result<(&'a [T], &'a str), Box<Finding>> {
    let (records, _) = match source.get() {
        Ok(v) => v,
        Err(r) => return Err(Box::new(r.finding_of(check, f.subject.clone(), what))),
    };
    let Some(device_id) = f.keys.device_id.as_deref() else {
        return Err(Box::new(no_device_id(check, f)));
    };
    Ok((records, device_id))
}
