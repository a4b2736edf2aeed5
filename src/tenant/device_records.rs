//! The Entra and Intune records of specific devices, for `diagnose`: one `$batch` wave with a
//! `deviceId` / `azureADDeviceId` filter per device and a `displayName` filter per host name
//! (duplicates and dual-state objects), merged into a snapshot collected for the devices' users.
//! Hybrid-joined devices have no registered owner, so the users' `registeredDevices` alone
//! would miss them.
//!
//! A large fleet (more than [`BULK_THRESHOLD`] devices or users) is read the other way round
//! ([`FleetStrategy::Bulk`]): `/users`, `/devices`, `managedDevices` and troubleshooting events
//! are listed once with `$select` and `$top=999`, the policies' groups once per group, and the
//! records the targeted lookups would have returned are picked out in memory. Either way the
//! snapshot holds the same records, so the findings are the same.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use super::collect::{
    ALL_ENTRA_DEVICES, ALL_MANAGED_DEVICES, ALL_TROUBLESHOOTING_EVENTS, ALL_USERS, CollectOptions,
    DEVICE_SELECT, MANAGED_SELECT, UserSelection, collect, collect_by_group, missing_from_error,
    relevant_groups, token_kind,
};
use super::snapshot::{
    EntraDevice, GroupMemberships, ManagedDevice, MissingReason, Source, TenantSnapshot,
    TroubleshootingEvent, User, UserScope,
};
use crate::graph::{ApiVersion, BatchRequest, GraphClient, GraphError, Query};

/// Above this many devices (or users) a fleet is listed in bulk: at 20 items per `$batch` and
/// 8 requests in flight, 500 devices already cost about 10 sequential waves of targeted lookups,
/// as many as paging 10,000 records at 999 per page.
pub const BULK_THRESHOLD: usize = 500;

/// How the tenant records of a fleet are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetStrategy {
    /// One `$batch` item per device id, host name and user lookup.
    Targeted,
    /// List users, devices, managed devices and events once; group members once per group.
    Bulk,
}

impl FleetStrategy {
    /// Bulk when the devices or users to look up exceed `threshold`.
    pub fn choose(lookup: &DeviceLookup, upns: usize, threshold: usize) -> FleetStrategy {
        let devices = lookup
            .device_ids
            .len()
            .max(lookup.names.len())
            .max(lookup.serial_numbers.len());
        if devices.max(upns) > threshold {
            FleetStrategy::Bulk
        } else {
            FleetStrategy::Targeted
        }
    }
}

/// Collects the tenant for a fleet: tenant-wide configuration, the named users (object,
/// memberships, managed devices, troubleshooting events) and the devices' Entra and Intune
/// records, by `strategy`. `opts.users` names the users (`Upns`) or none.
pub async fn collect_fleet(
    client: &GraphClient,
    opts: &CollectOptions,
    lookup: &DeviceLookup,
    strategy: FleetStrategy,
    collected_at: DateTime<Utc>,
) -> Result<TenantSnapshot, GraphError> {
    // Sign in first (fatal on failure); the token kind maps errors to missing reasons.
    client.tokens().token().await?;
    let (kind, _) = token_kind(client).await;
    let snap = match strategy {
        FleetStrategy::Targeted => {
            // The device lookups do not depend on the users: run both waves side by side.
            let (snap, records, autopilot) = futures::join!(
                collect(client, opts, collected_at),
                fetch(client, lookup, kind),
                when(
                    !lookup.serial_numbers.is_empty(),
                    super::autopilot::collect::by_serials(client, kind, &lookup.serial_numbers)
                )
            );
            let mut snap = snap?;
            merge_into(&mut snap, records);
            if let Some(a) = autopilot {
                a.store(&mut snap);
                add_device_groups(client, kind, lookup, true, &mut snap).await;
                snap.normalize();
            }
            Ok(snap)
        }
        FleetStrategy::Bulk => collect_bulk(client, opts, lookup, kind, collected_at).await,
    }?;
    // The device lookups may have been the ones Graph refused the token for: fail closed.
    match client.fatal_error() {
        Some(e) => Err(e),
        None => Ok(snap),
    }
}

async fn collect_bulk(
    client: &GraphClient,
    opts: &CollectOptions,
    lookup: &DeviceLookup,
    kind: super::snapshot::TokenKind,
    collected_at: DateTime<Utc>,
) -> Result<TenantSnapshot, GraphError> {
    let upns: Vec<String> = match &opts.users {
        UserSelection::Upns(u) => u.clone(),
        _ => Vec::new(),
    };
    let has_users = !upns.is_empty();
    let has_devices = !lookup.device_ids.is_empty() || !lookup.names.is_empty();
    let tenant_opts = CollectOptions {
        users: UserSelection::None,
        devices: false,
        ..opts.clone()
    };
    // The groups the policies refer to are known after the tenant-wide wave; the listings do
    // not wait for it.
    let tenant_then_groups = async {
        let snap = collect(client, &tenant_opts, collected_at).await?;
        let memberships = if has_users {
            let s = &snap.sources;
            let groups = relevant_groups(
                &s.mdm_policies,
                &s.mam_policies,
                &s.enrollment_configurations,
                &s.conditional_access_policies,
            );
            Some(collect_by_group(client, groups, kind).await)
        } else {
            None
        };
        Ok::<_, GraphError>((snap, memberships))
    };
    // What the targeted lookups would have returned, picked out page by page as the listings
    // arrive, so only the matching records are ever held.
    let wanted_users: HashSet<String> =
        upns.iter().map(|u| u.trim().to_ascii_lowercase()).collect();
    let ids: HashSet<String> = lookup
        .device_ids
        .iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    let names: HashSet<String> = lookup
        .names
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let has_id = |id: &Option<String>| {
        id.as_deref()
            .is_some_and(|i| ids.contains(&i.to_ascii_lowercase()))
    };
    let wanted_user = |u: &User| {
        wanted_users.contains(&u.user_principal_name.to_ascii_lowercase())
            || wanted_users.contains(&u.id.to_ascii_lowercase())
    };
    let wanted_entra = |d: &EntraDevice| {
        has_id(&d.device_id)
            || d.display_name
                .as_deref()
                .is_some_and(|n| names.contains(&n.to_ascii_lowercase()))
    };
    // A managed device is kept for its user by user id, which is known only once the users are
    // listed; while paging, its UPN stands in (kept when it names a wanted user or is absent),
    // and the exact match by id follows below. Intune's UPN can differ from the user's (a
    // renamed user keeps the old one on the device record): of a device passed over, the hash
    // of its user id is kept, and a wanted user among them is looked up as the targeted
    // strategy does (`/users/{id}/managedDevices`), so no record of theirs is lost.
    let mut passed_over: HashSet<u64> = HashSet::new();
    let maybe_managed = |d: &ManagedDevice| {
        let keep = has_id(&d.azure_ad_device_id)
            || (has_users
                && d.user_principal_name.as_deref().is_none_or(|u| {
                    u.is_empty() || wanted_users.contains(&u.to_ascii_lowercase())
                }));
        if !keep
            && has_users
            && let Some(u) = d.user_id.as_deref().filter(|u| !u.is_empty())
        {
            passed_over.insert(id_hash(u));
        }
        keep
    };
    let users = when(has_users, ALL_USERS.matching(client, kind, wanted_user));
    let entra = when(
        has_devices,
        ALL_ENTRA_DEVICES.matching(client, kind, wanted_entra),
    );
    let managed = when(
        has_users || has_devices,
        ALL_MANAGED_DEVICES.matching(client, kind, maybe_managed),
    );
    let events = when(has_users, ALL_TROUBLESHOOTING_EVENTS.all(client, kind));
    let autopilot = when(
        !lookup.serial_numbers.is_empty(),
        super::autopilot::collect::list_all(client, kind),
    );
    let (tenant, users, entra, managed, events, autopilot) =
        futures::join!(tenant_then_groups, users, entra, managed, events, autopilot);
    let (mut snap, memberships) = tenant?;
    if let Some(a) = autopilot {
        a.retain_serials(&lookup.serial_numbers).store(&mut snap);
        // A fleet's device groups are read only for its Autopilot devices (one `$batch` item
        // each), not for every device of the fleet.
        add_device_groups(client, kind, lookup, false, &mut snap).await;
    }

    let user_ids: HashSet<String> = users
        .as_ref()
        .and_then(|s| s.data())
        .map(|l| l.iter().map(|u| u.id.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let has_user = |id: &Option<String>| {
        id.as_deref()
            .is_some_and(|i| user_ids.contains(&i.to_ascii_lowercase()))
    };

    // Wanted users with a device record passed over for its UPN: their devices, by user id.
    let mut renamed: Vec<&String> = user_ids
        .iter()
        .filter(|u| passed_over.contains(&id_hash(u)))
        .collect();
    renamed.sort();
    let managed = match managed {
        Some(m) if !renamed.is_empty() => Some(add_by_user(client, kind, m, &renamed).await),
        m => m,
    };

    let s = &mut snap.sources;
    if has_users {
        snap.user_scope = UserScope::Selected {
            upns: upns.iter().map(|u| u.to_ascii_lowercase()).collect(),
        };
        if let Some(u) = users {
            s.users = u;
        }
        if let Some(m) = memberships {
            s.group_memberships = named_members(m, &user_ids);
        }
        if let Some(e) = events {
            s.troubleshooting_events =
                filter_source(e, |e: &TroubleshootingEvent| has_user(&e.user_id));
        }
    }
    if let Some(m) = managed {
        s.managed_devices = retain_source(m, |d: &ManagedDevice| {
            has_user(&d.user_id) || has_id(&d.azure_ad_device_id)
        });
    }
    if let Some(e) = entra {
        s.entra_devices = e;
    }
    snap.normalize();
    Ok(snap)
}

/// A user id as compared (ASCII case ignored), hashed: a set of them costs 8 bytes a user.
fn id_hash(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
        .hash_one(id.trim().to_ascii_lowercase())
}

/// Adds to the listed managed devices those of USERS (object ids) read as the targeted
/// strategy reads them, one `$batch` item per user; a failed look-up makes the source missing,
/// as it would there.
async fn add_by_user(
    client: &GraphClient,
    kind: super::snapshot::TokenKind,
    listed: Source<Vec<ManagedDevice>>,
    users: &[&String],
) -> Source<Vec<ManagedDevice>> {
    let Source::Collected { endpoint, mut data } = listed else {
        return listed;
    };
    let requests = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            BatchRequest::get_with(
                format!("u{i}"),
                &format!(
                    "/users/{}/managedDevices",
                    crate::graph::encode_component(u)
                ),
                &Query::new().select(MANAGED_SELECT),
            )
        })
        .collect();
    let answers = match client.batch(ApiVersion::V1, requests).await {
        Ok(a) => a,
        Err(e) => {
            return Source::Missing {
                reason: missing_from_error("managed_devices", kind, &e),
            };
        }
    };
    let mut known: BTreeSet<String> = data.iter().map(|d| d.id.to_ascii_lowercase()).collect();
    for a in answers {
        match client.batch_item_list::<ManagedDevice>(a).await {
            Ok(items) => {
                for d in items {
                    if known.insert(d.id.to_ascii_lowercase()) {
                        data.push(d);
                    }
                }
            }
            Err(e) => {
                return Source::Missing {
                    reason: missing_from_error("managed_devices", kind, &e),
                };
            }
        }
    }
    Source::Collected {
        endpoint: format!("{endpoint} + GET /v1.0/users/{{id}}/managedDevices ($batch)"),
        data,
    }
}

/// The transitive groups of the devices (their Entra DeviceIds, and the Entra ids of the
/// Autopilot identities found), read after the Autopilot look-ups: only Autopilot's profile and
/// ESP assignments need them.
async fn add_device_groups(
    client: &GraphClient,
    kind: super::snapshot::TokenKind,
    lookup: &DeviceLookup,
    every_device: bool,
    snap: &mut TenantSnapshot,
) {
    let mut ids: BTreeSet<String> = if every_device {
        lookup.device_ids.clone()
    } else {
        BTreeSet::new()
    };
    if let Some(list) = snap.sources.autopilot_devices.data() {
        ids.extend(
            list.iter()
                .filter_map(|d| d.entra_device_id())
                .map(str::to_ascii_lowercase),
        );
    }
    let mut source = super::device_groups::collect(client, kind, &ids).await;
    // The groups the profiles and pages target, named for the evidence.
    let mut targets: BTreeSet<String> = BTreeSet::new();
    if let Some(list) = snap.sources.autopilot_profiles.data() {
        targets.extend(
            list.iter()
                .flat_map(|p| &p.assignments)
                .filter_map(|a| a.target.group_id.clone()),
        );
    }
    if let Some(list) = snap.sources.enrollment_status_pages.data() {
        targets.extend(
            list.iter()
                .flat_map(|p| &p.assignments)
                .filter_map(|a| a.target.group_id.clone()),
        );
    }
    if let Some(m) = source.data_mut() {
        super::device_groups::add_group_names(client, m, &targets).await;
    }
    snap.sources.device_group_memberships = source;
}

/// The listing's result when it is `wanted`; otherwise it is never sent.
async fn when<T>(wanted: bool, listing: impl Future<Output = T>) -> Option<T> {
    if wanted { Some(listing.await) } else { None }
}

/// Keeps what `keep` accepts of an already listed source, its endpoint unchanged.
fn retain_source<T>(src: Source<Vec<T>>, keep: impl Fn(&T) -> bool) -> Source<Vec<T>> {
    match src {
        Source::Collected { endpoint, mut data } => {
            data.retain(|x| keep(x));
            Source::Collected { endpoint, data }
        }
        missing => missing,
    }
}

fn filter_source<T>(src: Source<Vec<T>>, keep: impl Fn(&T) -> bool) -> Source<Vec<T>> {
    match src {
        Source::Collected { endpoint, data } => Source::Collected {
            endpoint: format!("{endpoint} (listed once, matched in memory)"),
            data: data.into_iter().filter(|x| keep(x)).collect(),
        },
        missing => missing,
    }
}

/// Per-group memberships cut down to the named users, in the shape a per-user collection has:
/// every named user has an entry, group names only for groups one of them is in, and
/// `all_users_resolved` false (nobody else was looked up).
fn named_members(
    src: Source<GroupMemberships>,
    user_ids: &HashSet<String>,
) -> Source<GroupMemberships> {
    match src {
        Source::Collected { endpoint, data } => {
            let members: BTreeMap<String, BTreeSet<String>> = user_ids
                .iter()
                .map(|u| (u.clone(), data.members.get(u).cloned().unwrap_or_default()))
                .collect();
            let used: BTreeSet<&String> = members.values().flatten().collect();
            let groups = data
                .groups
                .iter()
                .filter(|(id, _)| used.contains(id))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Source::Collected {
                endpoint,
                data: GroupMemberships {
                    all_users_resolved: false,
                    relevant_groups: data.relevant_groups,
                    groups,
                    members,
                    // Per-group listings say nothing of directory roles.
                    roles: Default::default(),
                },
            }
        }
        missing => missing,
    }
}

/// What to look up.
#[derive(Debug, Clone, Default)]
pub struct DeviceLookup {
    /// Entra DeviceIds.
    pub device_ids: BTreeSet<String>,
    /// Host names (Entra displayName).
    pub names: BTreeSet<String>,
    /// Serial numbers (`Win32_BIOS`), for the Autopilot identities and deployments.
    pub serial_numbers: BTreeSet<String>,
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
    fn strategy_turns_bulk_above_the_threshold() {
        let lookup = |n: usize| DeviceLookup {
            device_ids: (0..n).map(|i| format!("id{i}")).collect(),
            names: (0..n).map(|i| format!("PC{i}")).collect(),
            serial_numbers: Default::default(),
        };
        assert_eq!(
            FleetStrategy::choose(&lookup(3), 3, 500),
            FleetStrategy::Targeted
        );
        assert_eq!(
            FleetStrategy::choose(&lookup(500), 500, 500),
            FleetStrategy::Targeted
        );
        assert_eq!(
            FleetStrategy::choose(&lookup(501), 0, 500),
            FleetStrategy::Bulk
        );
        // Many users on few devices (shared PCs) are listed in bulk too.
        assert_eq!(
            FleetStrategy::choose(&lookup(2), 900, 500),
            FleetStrategy::Bulk
        );
        assert_eq!(FleetStrategy::choose(&lookup(1), 1, 0), FleetStrategy::Bulk);
    }

    #[test]
    fn group_members_are_cut_down_to_the_named_users() {
        let mut m = GroupMemberships {
            all_users_resolved: true,
            relevant_groups: vec!["g1".into(), "g2".into()],
            ..Default::default()
        };
        for (u, g) in [("u1", "g1"), ("u2", "g2"), ("u9", "g2")] {
            m.members.entry(u.into()).or_default().insert(g.into());
        }
        for g in ["g1", "g2"] {
            m.groups.insert(
                g.into(),
                super::super::snapshot::GroupRef {
                    id: g.into(),
                    display_name: Some(format!("Group {g}")),
                },
            );
        }
        let named: HashSet<String> = ["u1".to_string(), "u3".to_string()].into();
        let out = named_members(Source::collected("GET x", m), &named);
        let data = out.data().cloned().unwrap_or_default();
        assert!(!data.all_users_resolved);
        assert_eq!(data.members.keys().collect::<Vec<_>>(), vec!["u1", "u3"]);
        assert!(data.members["u3"].is_empty());
        // Only the groups a named user is in keep their name, as per-user lookups would.
        assert_eq!(data.groups.keys().collect::<Vec<_>>(), vec!["g1"]);
        use super::super::snapshot::Membership;
        assert_eq!(data.is_member("u3", "g1"), Membership::NotMember);
        assert_eq!(data.is_member("u1", "g1"), Membership::Member);
    }

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
