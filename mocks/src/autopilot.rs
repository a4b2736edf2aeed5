//! Windows Autopilot in Graph's shapes: device identities (v1.0 and beta; the beta-only
//! properties are left out of v1.0 answers), deployment profiles with `$expand=assignments`,
//! corporate identifiers (`importedDeviceIdentities`) and deployment events (`autopilotEvents`),
//! the last three beta only (v1.0's metadata has no such collections, so the schema check
//! refuses them before a route is reached).
//!
//! Filters as Graph answers them on `windowsAutopilotDeviceIdentities`: `contains(serialNumber,
//! '…')` works; `serialNumber eq '…'` is a 400 (msgraph-sdk-powershell issue 1260); a
//! `contains` value holding a hyphen is a 400 too (msgraph-sdk-powershell issue 2464), so a
//! client's fallback is exercised. The other Autopilot collections take no `$filter`.
//!
//! Fixture files (optional, arrays): `windowsAutopilotDeviceIdentities.json`,
//! `windowsAutopilotDeploymentProfiles.json` (each with its `assignments`),
//! `importedDeviceIdentities.json`, `autopilotEvents.json`.
//!
//! This is a child module of `graph.rs` (it answers through that module's helpers).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Ctx, DEVICE_CONFIG, Family, MANAGED_DEVICES, SERVICE_CONFIG, Version, guard, intune_not_found,
    page, reject_expand, single, strip,
};
use crate::reply::{Reply, graph_error, segment_not_found};
use crate::tenant::{Tenant, str_field};

/// The Autopilot data of one tenant.
#[derive(Debug, Default)]
pub(crate) struct AutopilotData {
    pub devices: Vec<Value>,
    pub profiles: Vec<Value>,
    pub imported: Vec<Value>,
    pub events: Vec<Value>,
    /// Lower-cased serial number → positions in `devices`, built on first use (after the
    /// data is final).
    pub serials: std::sync::OnceLock<std::collections::HashMap<String, Vec<usize>>>,
}

impl AutopilotData {
    /// Positions of the identities whose serial number contains `value` (ASCII case ignored).
    /// Allowance: when some serial equals `value`, those are answered without the scan for
    /// longer serials that merely contain it (a fleet's look-ups stay O(1) each; a client
    /// keeping exact matches only cannot tell).
    fn containing(&self, value: &str) -> Vec<usize> {
        let index = self.serials.get_or_init(|| {
            let mut m: std::collections::HashMap<String, Vec<usize>> = Default::default();
            for (i, d) in self.devices.iter().enumerate() {
                if let Some(s) = str_field(d, "serialNumber") {
                    m.entry(s.to_ascii_lowercase()).or_default().push(i);
                }
            }
            m
        });
        if let Some(hits) = index.get(&value.to_ascii_lowercase()) {
            return hits.clone();
        }
        (0..self.devices.len())
            .filter(|i| {
                self.devices
                    .get(*i)
                    .and_then(|d| str_field(d, "serialNumber"))
                    .is_some_and(|s| contains_ci(s, value))
            })
            .collect()
    }
}

/// `needle` in `hay`, ASCII case ignored, without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Properties of `windowsAutopilotDeviceIdentity` in the beta metadata and not in v1.0's.
pub(crate) const BETA_ONLY_IDENTITY_PROPS: &[&str] = &[
    "azureAdDeviceId",
    "deploymentProfileAssignedDateTime",
    "deploymentProfileAssignmentDetailedStatus",
    "deploymentProfileAssignmentStatus",
    "deviceAccountPassword",
    "deviceAccountUpn",
    "deviceFriendlyName",
    "remediationState",
    "remediationStateLastModifiedDateTime",
    "userlessEnrollmentStatus",
];

/// The collections this module answers under `deviceManagement`.
pub(crate) const SEGMENTS: &[&str] = &[
    "windowsAutopilotDeviceIdentities",
    "windowsAutopilotDeploymentProfiles",
    "importedDeviceIdentities",
    "autopilotEvents",
];

fn bad_filter(message: &str) -> Reply {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("{{\"_version\": 3, \"Message\": \"An error has occurred - {message}\"}}"),
    )
}

fn no_filter(ctx: &Ctx) -> Option<Reply> {
    (ctx.query.filter.is_some() || ctx.query.contains.is_some())
        .then(|| bad_filter("filtering is not supported on this collection"))
}

/// Routes `deviceManagement/<segment>/…`; `None` when the segment is not an Autopilot one.
pub(super) fn route(ctx: &Ctx, segment: &str, rest: &[&str]) -> Option<Reply> {
    if !SEGMENTS.contains(&segment) {
        return None;
    }
    if ctx.method != axum::http::Method::GET {
        return Some(super::method_not_allowed());
    }
    let data = &ctx.shared.tenant.autopilot;
    Some(match segment {
        "windowsAutopilotDeviceIdentities" => guard(ctx, &[SERVICE_CONFIG], Family::Intune)
            .unwrap_or_else(|| identities(ctx, &data.devices, rest)),
        // Beta only: v1.0 paths are refused by the schema check first; kept for clarity.
        _ if ctx.version == Version::V1 => segment_not_found(segment),
        "windowsAutopilotDeploymentProfiles" => guard(ctx, &[SERVICE_CONFIG], Family::Intune)
            .unwrap_or_else(|| profiles(ctx, &data.profiles, rest)),
        "importedDeviceIdentities" => {
            guard(ctx, &[SERVICE_CONFIG], Family::Intune).unwrap_or_else(|| {
                plain(
                    ctx,
                    "deviceManagement/importedDeviceIdentities",
                    &data.imported,
                    rest,
                )
            })
        }
        // Either Intune device read permission (the Graph reference's list for this call).
        _ => {
            let either: Vec<&str> = MANAGED_DEVICES
                .iter()
                .chain(DEVICE_CONFIG)
                .copied()
                .collect();
            guard(ctx, &[&either], Family::Intune).unwrap_or_else(|| {
                plain(ctx, "deviceManagement/autopilotEvents", &data.events, rest)
            })
        }
    })
}

fn find<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|v| str_field(v, "id").is_some_and(|x| x.eq_ignore_ascii_case(id)))
}

fn identity_shape(version: Version, mut v: Value) -> Value {
    if version == Version::V1 {
        strip(&mut v, BETA_ONLY_IDENTITY_PROPS);
    }
    v
}

fn identities(ctx: &Ctx, items: &[Value], rest: &[&str]) -> Reply {
    if let Some(r) = reject_expand(ctx, &[]) {
        return r;
    }
    match rest {
        [] => {
            if ctx.query.filter.is_some() {
                return bad_filter("only contains(serialNumber,'…') filters this collection");
            }
            let set = "deviceManagement/windowsAutopilotDeviceIdentities";
            let answer = |v: &Value| identity_shape(ctx.version, v.clone());
            let data = &ctx.shared.tenant.autopilot;
            match &ctx.query.contains {
                Some(c) if !c.property.eq_ignore_ascii_case("serialNumber") => {
                    bad_filter("only contains(serialNumber,'…') filters this collection")
                }
                Some(c) if c.value.contains('-') => {
                    bad_filter("the serial number filter could not be evaluated")
                }
                Some(c) => {
                    let picked: Vec<&Value> = data
                        .containing(&c.value)
                        .into_iter()
                        .filter_map(|i| items.get(i))
                        .collect();
                    page(ctx, set, picked.len(), |i| picked.get(i).map(|v| answer(v)))
                }
                // Only the answered page is cloned.
                None => page(ctx, set, items.len(), |i| items.get(i).map(answer)),
            }
        }
        [id] => match find(items, id) {
            Some(v) => single(
                ctx,
                "deviceManagement/windowsAutopilotDeviceIdentities/$entity",
                identity_shape(ctx.version, v.clone()),
            ),
            None => intune_not_found(id),
        },
        [_, other, ..] => segment_not_found(other),
    }
}

fn profiles(ctx: &Ctx, items: &[Value], rest: &[&str]) -> Reply {
    if let Some(r) = no_filter(ctx).or_else(|| reject_expand(ctx, &["assignments"])) {
        return r;
    }
    let expand = ctx
        .query
        .expand
        .iter()
        .any(|e| e.eq_ignore_ascii_case("assignments"));
    let shape = |p: &Value| {
        let mut p = p.clone();
        if !expand {
            strip(&mut p, &["assignments"]);
        }
        p
    };
    match rest {
        [] => page(
            ctx,
            "deviceManagement/windowsAutopilotDeploymentProfiles",
            items.len(),
            |i| items.get(i).map(shape),
        ),
        [id] => match find(items, id) {
            Some(p) => single(
                ctx,
                "deviceManagement/windowsAutopilotDeploymentProfiles/$entity",
                shape(p),
            ),
            None => intune_not_found(id),
        },
        [id, "assignments"] => match find(items, id) {
            Some(p) => {
                let list: Vec<Value> = p
                    .get("assignments")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                page(
                    ctx,
                    "deviceManagement/windowsAutopilotDeploymentProfiles('x')/assignments",
                    list.len(),
                    |i| list.get(i).cloned(),
                )
            }
            None => intune_not_found(id),
        },
        [_, other, ..] => segment_not_found(other),
    }
}

fn plain(ctx: &Ctx, entity_set: &str, items: &[Value], rest: &[&str]) -> Reply {
    if let Some(r) = no_filter(ctx).or_else(|| reject_expand(ctx, &[])) {
        return r;
    }
    match rest {
        [] => page(ctx, entity_set, items.len(), |i| items.get(i).cloned()),
        [id] => match find(items, id) {
            Some(v) => single(ctx, &format!("{entity_set}/$entity"), v.clone()),
            None => intune_not_found(id),
        },
        [_, other, ..] => segment_not_found(other),
    }
}

/// Autopilot identities for the generated fleet (see `Tenant::generated_fleet`): device `i`
/// is registered with serial `5CG{i:07}` (its Intune record's serial) and its Entra device id;
/// every 10th has no profile assigned, every 25th is blocked for reuse, and every 20th has a
/// failed deployment event. The fixture's identities and events are replaced.
pub(crate) fn generate_fleet(tenant: &mut Tenant, seed: u64, devices: usize) {
    let data = &mut tenant.autopilot;
    data.devices.clear();
    data.events.clear();
    for i in 0..devices {
        let d = crate::tenant::fleet_device(seed, i);
        let serial = format!("5CG{i:07}");
        let assigned = i % 10 != 3;
        data.devices.push(json!({
            "@odata.type": "#microsoft.graph.windowsAutopilotDeviceIdentity",
            "id": format!("ap-{seed:x}-{i:08}"),
            "serialNumber": serial,
            "manufacturer": "HP",
            "model": "HP EliteBook 840 G10",
            "groupTag": if i % 2 == 0 { "Sales" } else { "" },
            "enrollmentState": if assigned { "enrolled" } else { "notContacted" },
            "lastContactedDateTime": "2026-11-25T08:12:44Z",
            "azureActiveDirectoryDeviceId": d.device_id,
            "azureAdDeviceId": d.device_id,
            "managedDeviceId": "00000000-0000-0000-0000-000000000000",
            "userPrincipalName": "",
            "addressableUserName": "",
            "displayName": d.name,
            "deploymentProfileAssignmentStatus": if assigned { "assignedInSync" } else { "notAssigned" },
            "deploymentProfileAssignmentDetailedStatus": "none",
            "deploymentProfileAssignedDateTime": if assigned { json!("2026-10-01T10:00:00Z") } else { Value::Null },
            "userlessEnrollmentStatus": if i % 25 == 11 { "blocked" } else { "allowed" },
            "remediationState": "noRemediationRequired",
            "productKey": "",
            "deviceAccountPassword": null,
        }));
        if i % 20 == 7 {
            data.events.push(json!({
                "@odata.type": "#microsoft.graph.deviceManagementAutopilotEvent",
                "id": format!("ape-{seed:x}-{i:08}"),
                "deviceSerialNumber": serial,
                "deviceId": d.device_id,
                "userPrincipalName": d.user_principal_name,
                "managedDeviceName": d.name,
                "eventDateTime": "2026-11-25T14:10:04Z",
                "enrollmentStartDateTime": "2026-11-25T13:40:00Z",
                "deploymentState": "failure",
                "deviceSetupStatus": "failure",
                "accountSetupStatus": "notAttempted",
                "enrollmentType": "azureADJoinedWithAutopilotProfile",
                "enrollmentState": "failed",
                "enrollmentFailureDetails": "0x81036502",
                "osVersion": "10.0.26100.7171",
                "windowsAutopilotDeploymentProfileDisplayName": "Contoso user-driven",
                "windows10EnrollmentCompletionPageConfigurationDisplayName": "All users and all devices",
                "windows10EnrollmentCompletionPageConfigurationId": "default",
                "deploymentDuration": "PT30M",
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beta_only_identity_properties_are_the_metadata_difference() {
        let s = crate::schema::schema().expect("embedded schema");
        for p in BETA_ONLY_IDENTITY_PROPS {
            assert!(
                s.beta.member("windowsAutopilotDeviceIdentity", p).is_some(),
                "{p} is not on the beta type"
            );
            assert!(
                s.v1.member("windowsAutopilotDeviceIdentity", p).is_none(),
                "{p} is on the v1.0 type"
            );
        }
        for p in [
            "serialNumber",
            "azureActiveDirectoryDeviceId",
            "userPrincipalName",
        ] {
            assert!(s.v1.member("windowsAutopilotDeviceIdentity", p).is_some());
        }
    }

    #[test]
    fn v1_answers_drop_the_beta_only_properties() {
        let v = identity_shape(
            Version::V1,
            json!({"id":"a","serialNumber":"S","userlessEnrollmentStatus":"blocked","azureAdDeviceId":"d"}),
        );
        assert_eq!(v, json!({"id":"a","serialNumber":"S"}));
        let b = identity_shape(
            Version::Beta,
            json!({"id":"a","userlessEnrollmentStatus":"blocked"}),
        );
        assert_eq!(b["userlessEnrollmentStatus"], "blocked");
    }
}
