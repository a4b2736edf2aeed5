//! The Entra groups a device is a member of, directly or through nesting: Autopilot deployment
//! profiles and Enrollment Status Pages are assigned to device groups, so which profile and page
//! apply to a device depends on them (`tenant::autopilot::resolve_profile`, `esp::resolve_esp`).
//!
//! Read for the devices being diagnosed only, one `$batch` item per device:
//! `GET /v1.0/devices(deviceId='{deviceId}')/transitiveMemberOf?$select=id,displayName&$top=999`
//! (microsoft-graph-docs-contrib `api-reference/v1.0/api/device-list-transitivememberof.md`:
//! the device is addressed by its `id` or, as here, by its `deviceId`; default page 100, maximum
//! 999). The OData cast `…/transitiveMemberOf/microsoft.graph.group` is an advanced query there
//! (`ConsistencyLevel: eventual` with `$count`), so the listing is read uncast and the groups
//! kept by their `@odata.type` (administrative units are dropped). The device ids asked for are
//! the report's Entra DeviceId and, for a device without an Entra record yet, the
//! `azureActiveDirectoryDeviceId` of its Autopilot identity (the object Autopilot creates when
//! the hardware is registered, which dynamic `ZTDId` groups contain).
//!
//! Without group read permission Graph still lists the groups, with their ids only (the
//! "limited information" note of that page): enough to match assignments.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::collect::missing_from_error;
use super::snapshot::{GroupRef, Source, TokenKind};
use crate::graph::{ApiVersion, BatchRequest, GraphClient, Query};

/// The source's name in the snapshot (and for the missing-permission mapping).
pub const SOURCE_DEVICE_GROUPS: &str = "device_group_memberships";

/// How the source is described when collected.
pub const DEVICE_GROUPS_ENDPOINT: &str =
    "GET /v1.0/devices(deviceId='…')/transitiveMemberOf?$select=id,displayName ($batch)";

/// Device → transitive groups, for the devices looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceGroupMemberships {
    /// Entra deviceId (lower-cased) → group ids (lower-cased), for every device looked up
    /// (an empty set: the device was found and is in no group).
    pub members: BTreeMap<String, BTreeSet<String>>,
    /// Group id (lower-cased) → name, for evidence.
    pub groups: BTreeMap<String, GroupRef>,
    /// Device ids Graph did not find (404): no Entra object with that deviceId.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub not_found: BTreeSet<String>,
}

impl DeviceGroupMemberships {
    /// The groups of the device with this Entra deviceId, `None` when it was not looked up or
    /// not found.
    pub fn groups_of(&self, device_id: &str) -> Option<&BTreeSet<String>> {
        self.members.get(&device_id.trim().to_ascii_lowercase())
    }

    /// A group's name, else its id.
    pub fn group_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.groups
            .get(&id.to_ascii_lowercase())
            .and_then(|g| g.display_name.as_deref())
            .unwrap_or(id)
    }

    /// Sorts nothing (the maps are ordered) but lower-cases keys a hand-written snapshot may
    /// spell otherwise.
    pub fn normalize(&mut self) {
        let members = std::mem::take(&mut self.members);
        for (d, gs) in members {
            self.members
                .entry(d.to_ascii_lowercase())
                .or_default()
                .extend(gs.into_iter().map(|g| g.to_ascii_lowercase()));
        }
        let groups = std::mem::take(&mut self.groups);
        for (id, g) in groups {
            self.groups.insert(id.to_ascii_lowercase(), g);
        }
    }
}

/// An Entra deviceId Graph can be asked about: a GUID (anything else is never sent).
pub fn is_device_id(s: &str) -> bool {
    let s = s.trim();
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
        && !s.chars().all(|c| c == '0' || c == '-')
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MemberOf {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: String,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
}

/// The request of one device.
pub fn request(index: usize, device_id: &str) -> BatchRequest {
    BatchRequest::get_with(
        format!("g{index}"),
        &format!(
            "/devices(deviceId='{}')/transitiveMemberOf",
            device_id.trim().to_ascii_lowercase()
        ),
        &Query::new().select(&["id", "displayName"]).top(999),
    )
}

/// The transitive groups of these devices (Entra deviceIds; those that are not GUIDs are left
/// out). A permission Graph refuses, or a failed `$batch`, is the source's missing reason.
pub async fn collect(
    client: &GraphClient,
    kind: TokenKind,
    device_ids: &BTreeSet<String>,
) -> Source<DeviceGroupMemberships> {
    let wanted: Vec<String> = device_ids
        .iter()
        .filter(|d| is_device_id(d))
        .map(|d| d.trim().to_ascii_lowercase())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = DeviceGroupMemberships::default();
    if wanted.is_empty() {
        return Source::collected(DEVICE_GROUPS_ENDPOINT, out);
    }
    let requests: Vec<BatchRequest> = wanted
        .iter()
        .enumerate()
        .map(|(i, d)| request(i, d))
        .collect();
    let answers = match client.batch(ApiVersion::V1, requests).await {
        Ok(a) => a,
        Err(e) => {
            return Source::Missing {
                reason: missing_from_error(SOURCE_DEVICE_GROUPS, kind, &e),
            };
        }
    };
    for a in answers {
        let idx: Option<usize> = a.id.strip_prefix('g').and_then(|n| n.parse().ok());
        let Some(device) = idx.and_then(|i| wanted.get(i)).cloned() else {
            continue;
        };
        match client.batch_item_list::<MemberOf>(a).await {
            Ok(items) => {
                let set = out.members.entry(device).or_default();
                for g in items.into_iter().filter(is_group) {
                    let id = g.id.to_ascii_lowercase();
                    set.insert(id.clone());
                    out.groups.entry(id).or_insert(GroupRef {
                        id: g.id,
                        display_name: g.display_name,
                    });
                }
            }
            Err(e) if e.is_not_found() => {
                out.not_found.insert(device);
            }
            Err(e) => {
                return Source::Missing {
                    reason: missing_from_error(SOURCE_DEVICE_GROUPS, kind, &e),
                };
            }
        }
    }
    Source::collected(DEVICE_GROUPS_ENDPOINT, out)
}

/// The names of the groups the Autopilot profiles and Enrollment Status Pages are assigned to
/// that the devices' memberships did not name (a profile assigned to a group the device is not
/// in is evidence too): `GET /v1.0/groups/{id}?$select=id,displayName`, one `$batch` item per
/// group. Best effort: a group Graph does not answer for keeps its id as its name.
pub async fn add_group_names(
    client: &GraphClient,
    memberships: &mut DeviceGroupMemberships,
    group_ids: &BTreeSet<String>,
) {
    let wanted: Vec<String> = group_ids
        .iter()
        .map(|g| g.trim().to_ascii_lowercase())
        .filter(|g| is_device_id(g) && !memberships.groups.contains_key(g))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if wanted.is_empty() {
        return;
    }
    let requests: Vec<BatchRequest> = wanted
        .iter()
        .enumerate()
        .map(|(i, g)| {
            BatchRequest::get_with(
                format!("n{i}"),
                &format!("/groups/{g}"),
                &Query::new().select(&["id", "displayName"]),
            )
        })
        .collect();
    let Ok(answers) = client.batch(ApiVersion::V1, requests).await else {
        return;
    };
    for a in answers {
        if !a.is_success() {
            continue;
        }
        if let Ok(g) = a.into_result::<MemberOf>()
            && !g.id.trim().is_empty()
        {
            memberships.groups.insert(
                g.id.to_ascii_lowercase(),
                GroupRef {
                    id: g.id,
                    display_name: g.display_name,
                },
            );
        }
    }
}

/// A group (not an administrative unit or a directory role); an item without a type is taken
/// as a group, as Graph types every item of this listing.
fn is_group(m: &MemberOf) -> bool {
    !m.id.trim().is_empty()
        && m.odata_type.as_deref().is_none_or(|t| {
            t.trim_start_matches('#')
                .eq_ignore_ascii_case("microsoft.graph.group")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_guids_are_asked_about() {
        assert!(is_device_id("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15"));
        assert!(!is_device_id("00000000-0000-0000-0000-000000000000"));
        assert!(!is_device_id("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e1'"));
        assert!(!is_device_id("PC0042"));
        let r = request(3, " 3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15 ");
        assert_eq!(r.id, "g3");
        assert!(
            r.url.starts_with(
                "/devices(deviceId='3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15')/transitiveMemberOf?"
            ),
            "{}",
            r.url
        );
        assert!(r.url.contains("$select=id,displayName"), "{}", r.url);
    }

    #[test]
    fn groups_are_kept_and_other_objects_dropped() {
        let unit = MemberOf {
            odata_type: Some("#microsoft.graph.administrativeUnit".into()),
            id: "u".into(),
            display_name: None,
        };
        let group = MemberOf {
            odata_type: Some("#microsoft.graph.group".into()),
            id: "g".into(),
            display_name: None,
        };
        assert!(!is_group(&unit) && is_group(&group));
        let mut m = DeviceGroupMemberships::default();
        m.members
            .insert("ABC".into(), ["G1".to_string()].into_iter().collect());
        m.normalize();
        assert!(m.groups_of("abc").is_some_and(|g| g.contains("g1")));
        assert_eq!(m.group_name("g1"), "g1");
    }
}
