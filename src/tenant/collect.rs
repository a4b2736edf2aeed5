//! Collectors: read Graph into a [`TenantSnapshot`], one collector per source, run concurrently.
//!
//! Round trips for `check --user` (after sign-in), measured against the mock:
//! wave 1 — the seven tenant-wide sources and one `$batch` per 5 users carrying each user's
//! object, `transitiveMemberOf`, `managedDevices` and troubleshooting events (plus, for named
//! device ids, their Entra object, Intune record and events), all in parallel; further waves
//! only when a list has more than one page. Checking many users
//! (`--all-users`, `--group`) lists users, devices and the members of the groups the policies
//! refer to (`transitiveMembers` per group) instead, so N users cost O(N/999) list requests and
//! are resolved in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::snapshot::{
    ConditionalAccessPolicy, DeviceRegistrationPolicy, EnrollmentConfiguration, EntraDevice,
    GroupMemberships, GroupRef, ManagedDevice, MissingReason, MobilityPolicy, Organization, Source,
    SubscribedSku, TargetKind, TenantSnapshot, TokenKind, TroubleshootingEvent, User, UserScope,
};
use crate::graph::{ApiVersion, BatchRequest, GraphClient, GraphError, Query};

/// Which users to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSelection {
    /// Tenant configuration only.
    None,
    /// These UPNs (or object ids).
    Upns(Vec<String>),
    /// Every member of a group (id or display name).
    Group(String),
    /// Every user.
    All,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub users: UserSelection,
    /// Also list every Entra device, managed device and troubleshooting event (for a snapshot
    /// that later serves `check` and `diagnose` offline).
    pub devices: bool,
    /// Read the named users' owned Entra devices (Entra's per-user device quota, USR010):
    /// for `check` of named users; a fleet reads its devices' records instead.
    pub owned_devices: bool,
    pub cloud: String,
    /// Tenant id or domain from the configuration (used when Graph does not say).
    pub tenant_hint: Option<String>,
}

impl CollectOptions {
    /// Tenant configuration only, for `cloud` (`global`, `usgov`, … or `custom`).
    pub fn tenant_only(cloud: &str) -> CollectOptions {
        CollectOptions {
            users: UserSelection::None,
            devices: false,
            owned_devices: false,
            cloud: cloud.to_string(),
            tenant_hint: None,
        }
    }
}

pub const USER_SELECT: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "accountEnabled",
    "usageLocation",
    "assignedLicenses",
    "assignedPlans",
    "licenseAssignmentStates",
    "onPremisesSyncEnabled",
    "userType",
];
const ORG_SELECT: &[&str] = &[
    "id",
    "displayName",
    "mobileDeviceManagementAuthority",
    "countryLetterCode",
    "verifiedDomains",
];
const SKU_SELECT: &[&str] = &[
    "id",
    "skuId",
    "skuPartNumber",
    "appliesTo",
    "capabilityStatus",
    "consumedUnits",
    "prepaidUnits",
    "servicePlans",
];
pub const DEVICE_SELECT: &[&str] = &[
    "id",
    "deviceId",
    "displayName",
    "accountEnabled",
    "operatingSystem",
    "operatingSystemVersion",
    "trustType",
    "profileType",
    "isManaged",
    "isCompliant",
    "mdmAppId",
    "managementType",
    "enrollmentType",
    "deviceOwnership",
    "approximateLastSignInDateTime",
    "registrationDateTime",
    "onPremisesSyncEnabled",
    "alternativeSecurityIds",
];
pub const MANAGED_SELECT: &[&str] = &[
    "id",
    "azureADDeviceId",
    "deviceName",
    "userId",
    "userPrincipalName",
    "operatingSystem",
    "osVersion",
    "enrolledDateTime",
    "lastSyncDateTime",
    "complianceState",
    "deviceEnrollmentType",
    "managementAgent",
    "managedDeviceOwnerType",
    "managementState",
    "deviceRegistrationState",
    "serialNumber",
];
/// The devices a user owns: what the Entra quota check shows and counts.
const OWNED_SELECT: &[&str] = &[
    "id",
    "deviceId",
    "displayName",
    "trustType",
    "operatingSystem",
    "registrationDateTime",
];
const CA_SELECT: &[&str] = &["id", "displayName", "state", "conditions", "grantControls"];

/// Least-privilege permissions per source: (application, delegated).
fn needed(source: &str, kind: TokenKind) -> Vec<String> {
    let (app, delegated): (&[&str], &[&str]) = match source {
        "organization" => (&["Organization.Read.All"], &["User.Read"]),
        "subscribed_skus" => (&["Organization.Read.All"], &["Organization.Read.All"]),
        "mdm_policies" | "mam_policies" => (&[], &["Policy.Read.All"]),
        "enrollment_configurations" => (
            &["DeviceManagementServiceConfig.Read.All"],
            &["DeviceManagementServiceConfig.Read.All"],
        ),
        "device_registration_policy" => (
            &["Policy.Read.DeviceConfiguration"],
            &["Policy.Read.DeviceConfiguration"],
        ),
        "users" => (&["User.Read.All"], &["User.Read.All"]),
        "group_memberships" => (&["GroupMember.Read.All"], &["GroupMember.Read.All"]),
        "entra_devices" => (&["Device.Read.All"], &["Device.Read.All"]),
        "managed_devices" | "troubleshooting_events" => (
            &["DeviceManagementManagedDevices.Read.All"],
            &["DeviceManagementManagedDevices.Read.All"],
        ),
        "conditional_access_policies" => (&["Policy.Read.All"], &["Policy.Read.All"]),
        "user_owned_devices" => (&["User.Read.All"], &["User.Read.All"]),
        "assignment_filters" => (
            &["DeviceManagementConfiguration.Read.All"],
            &["DeviceManagementConfiguration.Read.All"],
        ),
        // Autopilot (tenant::autopilot): device identities, profiles, corporate identifiers
        // and the ESP (in the enrollment configurations) need the service configuration read;
        // the deployment events either Intune device read permission.
        "autopilot_devices"
        | "autopilot_profiles"
        | "imported_device_identities"
        | "enrollment_status_pages" => (
            &["DeviceManagementServiceConfig.Read.All"],
            &["DeviceManagementServiceConfig.Read.All"],
        ),
        // The device's object (by deviceId) and its groups' details.
        "device_group_memberships" => (
            &["Device.Read.All", "GroupMember.Read.All"],
            &["Device.Read.All", "GroupMember.Read.All"],
        ),
        "autopilot_events" => (
            &[
                "DeviceManagementManagedDevices.Read.All",
                "DeviceManagementConfiguration.Read.All",
            ],
            &[
                "DeviceManagementManagedDevices.Read.All",
                "DeviceManagementConfiguration.Read.All",
            ],
        ),
        _ => (&[], &[]),
    };
    let list = if kind == TokenKind::AppOnly {
        app
    } else {
        delegated
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// A Graph error as the reason a source is missing.
pub fn missing_from_error(source: &str, kind: TokenKind, err: &GraphError) -> MissingReason {
    if err.is_fatal() {
        // Not a permission of this source: the run ends with this error (see `collect`).
        return MissingReason::GraphError {
            status: err.status(),
            code: None,
            request_id: err.request_id().map(str::to_string),
            message: err.to_string(),
        };
    }
    match err.status() {
        Some(401)
            if kind == TokenKind::AppOnly
                && source.ends_with("_policies")
                && source.starts_with("m") =>
        {
            MissingReason::AppOnlyUnsupported
        }
        Some(401 | 403) => MissingReason::InsufficientPermission {
            needed: needed(source, kind),
        },
        status => MissingReason::GraphError {
            status,
            code: err.code().map(str::to_string),
            request_id: err.request_id().map(str::to_string),
            message: err.to_string(),
        },
    }
}

fn source_of<T>(
    source: &str,
    kind: TokenKind,
    endpoint: String,
    r: Result<T, GraphError>,
) -> Source<T> {
    match r {
        Ok(data) => Source::collected(endpoint, data),
        Err(e) => Source::Missing {
            reason: missing_from_error(source, kind, &e),
        },
    }
}

fn endpoint(version: ApiVersion, path: &str, query: &Query) -> String {
    let q = query.encode();
    if q.is_empty() {
        format!("GET /{}{path}", version.as_str())
    } else {
        format!("GET /{}{path}?{}", version.as_str(), q)
    }
}

/// Lists a collection and records where it came from.
pub(crate) async fn list<T: DeserializeOwned>(
    client: &GraphClient,
    source: &str,
    kind: TokenKind,
    version: ApiVersion,
    path: &str,
    query: Query,
) -> Source<Vec<T>> {
    let ep = endpoint(version, path, &query);
    source_of(
        source,
        kind,
        ep,
        client.list_all(version, path, &query).await,
    )
}

/// A tenant-wide collection read in full, page by page, when many users or devices are
/// collected at once: its source name in the snapshot, its v1.0 path and its `$select`
/// (none when empty).
pub(crate) struct Listing<T> {
    source: &'static str,
    path: &'static str,
    select: &'static [&'static str],
    items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Listing<T> {
    const fn new(
        source: &'static str,
        path: &'static str,
        select: &'static [&'static str],
    ) -> Listing<T> {
        Listing {
            source,
            path,
            select,
            items: PhantomData,
        }
    }

    /// Every item, with where it came from.
    pub(crate) async fn all(&self, client: &GraphClient, kind: TokenKind) -> Source<Vec<T>> {
        let query = if self.select.is_empty() {
            Query::new()
        } else {
            Query::new().select(self.select)
        };
        list(client, self.source, kind, ApiVersion::V1, self.path, query).await
    }

    /// The items `keep` accepts, tested page by page as the pages arrive, so a tenant-wide
    /// listing holds only what it keeps (a fleet's 10,000 users of a 100,000-user tenant), never
    /// the whole collection. The endpoint says that the collection was listed and matched.
    pub(crate) async fn matching(
        &self,
        client: &GraphClient,
        kind: TokenKind,
        mut keep: impl FnMut(&T) -> bool,
    ) -> Source<Vec<T>> {
        let query = if self.select.is_empty() {
            Query::new()
        } else {
            Query::new().select(self.select)
        };
        let ep = endpoint(ApiVersion::V1, self.path, &query);
        let mut kept = Vec::new();
        let listed = client
            .for_each_page(ApiVersion::V1, self.path, &query, |page: Vec<T>| {
                kept.extend(page.into_iter().filter(|x| keep(x)));
                std::ops::ControlFlow::Continue(())
            })
            .await
            .map(|_| kept);
        source_of(
            self.source,
            kind,
            format!("{ep} (listed once, matched in memory)"),
            listed,
        )
    }
}

pub(crate) const ALL_USERS: Listing<User> = Listing::new("users", "/users", USER_SELECT);
pub(crate) const ALL_ENTRA_DEVICES: Listing<EntraDevice> =
    Listing::new("entra_devices", "/devices", DEVICE_SELECT);
pub(crate) const ALL_MANAGED_DEVICES: Listing<ManagedDevice> = Listing::new(
    "managed_devices",
    "/deviceManagement/managedDevices",
    MANAGED_SELECT,
);
pub(crate) const ALL_TROUBLESHOOTING_EVENTS: Listing<TroubleshootingEvent> = Listing::new(
    "troubleshooting_events",
    "/deviceManagement/troubleshootingEvents",
    &[],
);

/// Encodes a UPN or id for a `/users/{key}` path segment.
fn user_key(upn: &str) -> String {
    crate::graph::encode_component(upn.trim())
}

/// Per-user facts from one `$batch` round.
#[derive(Default)]
struct PerUser {
    users: Vec<User>,
    users_error: Option<MissingReason>,
    memberships: BTreeMap<String, BTreeSet<String>>,
    /// User id → role template ids of the directory roles the user holds.
    roles: BTreeMap<String, BTreeSet<String>>,
    groups: BTreeMap<String, GroupRef>,
    memberships_error: Option<MissingReason>,
    managed: Vec<ManagedDevice>,
    managed_error: Option<MissingReason>,
    events: Vec<TroubleshootingEvent>,
    events_error: Option<MissingReason>,
    /// The Entra devices each user is the registered owner of (`registered_user_ids` set).
    owned: Vec<EntraDevice>,
    owned_error: Option<MissingReason>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DirectoryObject {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: String,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    /// On a `directoryRole`: the role template id Conditional Access names in `includeRoles`.
    #[serde(rename = "roleTemplateId")]
    role_template_id: Option<String>,
}

/// Keeps the first error of a kind (404 = user not found is not an error of the source).
fn note_error(slot: &mut Option<MissingReason>, source: &str, kind: TokenKind, err: &GraphError) {
    if err.is_not_found() {
        return;
    }
    if slot.is_none() {
        *slot = Some(missing_from_error(source, kind, err));
    }
}

/// One `$batch` wave for named users: each user's object, `transitiveMemberOf`, managed devices
/// and troubleshooting events. (Devices named by device reports are looked up by
/// `tenant::device_records`.)
async fn collect_targeted(
    client: &GraphClient,
    upns: &[String],
    kind: TokenKind,
    owned_devices: bool,
) -> PerUser {
    let mut requests = Vec::new();
    for (i, upn) in upns.iter().enumerate() {
        let key = user_key(upn);
        requests.push(BatchRequest::get_with(
            format!("{i}-user"),
            &format!("/users/{key}"),
            &Query::new().select(USER_SELECT),
        ));
        requests.push(BatchRequest::get_with(
            format!("{i}-groups"),
            &format!("/users/{key}/transitiveMemberOf"),
            // Groups, and the directory roles the user holds (active assignments), which
            // Conditional Access includes or excludes by role template id.
            &Query::new()
                .select(&["id", "displayName", "roleTemplateId"])
                .top(999),
        ));
        requests.push(BatchRequest::get_with(
            format!("{i}-managed"),
            &format!("/users/{key}/managedDevices"),
            &Query::new().select(MANAGED_SELECT),
        ));
        // Entra joined and registered devices owned by the user: what Entra's per-user device
        // quota counts (hybrid joined devices have no registered owner).
        if owned_devices {
            requests.push(BatchRequest::get_with(
                format!("{i}-owned"),
                &format!("/users/{key}/ownedDevices"),
                &Query::new().select(OWNED_SELECT).top(999),
            ));
        }
        requests.push(BatchRequest::get_with(
            format!("{i}-events"),
            &format!("/users/{key}/deviceManagementTroubleshootingEvents"),
            &Query::new(),
        ));
    }
    let mut out = PerUser::default();
    if requests.is_empty() {
        return out;
    }
    let answers = match client.batch(ApiVersion::V1, requests).await {
        Ok(a) => a,
        Err(e) => {
            let r = |s| Some(missing_from_error(s, kind, &e));
            out.users_error = r("users");
            out.memberships_error = r("group_memberships");
            out.managed_error = r("managed_devices");
            out.events_error = r("troubleshooting_events");
            out.owned_error = r("user_owned_devices");
            return out;
        }
    };
    // The user object first, so the other answers can be keyed by user id.
    let mut ids: BTreeMap<usize, String> = BTreeMap::new();
    let mut rest = Vec::new();
    for a in answers {
        let Some((idx, what)) = a.id.split_once('-') else {
            continue;
        };
        let idx: usize = idx.parse().unwrap_or(usize::MAX);
        if what == "user" {
            match a.into_result::<User>() {
                Ok(u) => {
                    ids.insert(idx, u.id.to_ascii_lowercase());
                    out.users.push(u);
                }
                Err(e) => note_error(&mut out.users_error, "users", kind, &e),
            }
        } else {
            rest.push((idx, what.to_string(), a));
        }
    }
    for (idx, what, a) in rest {
        let user_id = ids.get(&idx).cloned();
        match what.as_str() {
            "groups" => match client.batch_item_list::<DirectoryObject>(a).await {
                Ok(items) => {
                    let Some(uid) = user_id else { continue };
                    // The roles count as read only when every directoryRole came with its
                    // roleTemplateId (a token that may not read them gets bare objects).
                    let role_items: Vec<Option<&String>> = items
                        .iter()
                        .filter(|r| {
                            r.odata_type
                                .as_deref()
                                .is_some_and(|t| t.to_ascii_lowercase().ends_with("directoryrole"))
                        })
                        .map(|r| r.role_template_id.as_ref())
                        .collect();
                    if role_items.iter().all(Option::is_some) {
                        out.roles.insert(
                            uid.clone(),
                            role_items
                                .into_iter()
                                .flatten()
                                .map(|t| t.to_ascii_lowercase())
                                .collect(),
                        );
                    }
                    let set = out.memberships.entry(uid).or_default();
                    for g in items.into_iter().filter(|o| {
                        o.odata_type
                            .as_deref()
                            .is_none_or(|t| t.to_ascii_lowercase().ends_with("group"))
                    }) {
                        let id = g.id.to_ascii_lowercase();
                        set.insert(id.clone());
                        out.groups.insert(
                            id.clone(),
                            GroupRef {
                                id,
                                display_name: g.display_name,
                            },
                        );
                    }
                }
                Err(e) => note_error(&mut out.memberships_error, "group_memberships", kind, &e),
            },
            "managed" => match client.batch_item_list::<ManagedDevice>(a).await {
                Ok(items) => out.managed.extend(items),
                Err(e) => note_error(&mut out.managed_error, "managed_devices", kind, &e),
            },
            "events" => match client.batch_item_list::<TroubleshootingEvent>(a).await {
                Ok(items) => out.events.extend(items),
                Err(e) => note_error(&mut out.events_error, "troubleshooting_events", kind, &e),
            },
            "owned" => match client.batch_item_list::<EntraDevice>(a).await {
                Ok(items) => {
                    let Some(uid) = user_id else { continue };
                    out.owned.extend(items.into_iter().map(|mut d| {
                        d.registered_user_ids = vec![uid.clone()];
                        d
                    }));
                }
                Err(e) => note_error(&mut out.owned_error, "user_owned_devices", kind, &e),
            },
            _ => {}
        }
    }
    out
}

/// The groups the policies refer to: scope groups, restriction targets and exclusions, CA
/// groups. Memberships of exactly these are collected for many users.
pub fn relevant_groups(
    mdm: &Source<Vec<MobilityPolicy>>,
    mam: &Source<Vec<MobilityPolicy>>,
    configs: &Source<Vec<EnrollmentConfiguration>>,
    ca: &Source<Vec<ConditionalAccessPolicy>>,
) -> BTreeMap<String, Option<String>> {
    let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
    for list in [mdm.data(), mam.data()].into_iter().flatten() {
        for p in list {
            for g in &p.included_groups {
                out.insert(g.id.to_ascii_lowercase(), g.display_name.clone());
            }
        }
    }
    for c in configs.data().into_iter().flatten() {
        for a in &c.assignments {
            if let TargetKind::Group(g) | TargetKind::ExcludedGroup(g) = a.target.kind()
                && !g.is_empty()
            {
                out.entry(g.to_ascii_lowercase()).or_insert(None);
            }
        }
    }
    for p in ca.data().into_iter().flatten() {
        for g in p
            .conditions
            .users
            .include_groups
            .iter()
            .chain(&p.conditions.users.exclude_groups)
        {
            out.entry(g.to_ascii_lowercase()).or_insert(None);
        }
    }
    out
}

/// Members of each relevant group (transitive users only), inverted to user → groups.
pub(crate) async fn collect_by_group(
    client: &GraphClient,
    groups: BTreeMap<String, Option<String>>,
    kind: TokenKind,
) -> Source<GroupMemberships> {
    let mut m = GroupMemberships {
        all_users_resolved: true,
        relevant_groups: groups.keys().cloned().collect(),
        ..Default::default()
    };
    let futs = groups.iter().map(|(g, name)| {
        let client = client.clone();
        let g = g.clone();
        let name = name.clone();
        async move {
            // No `/microsoft.graph.user` cast: a cast combined with other query options can
            // need advanced-query headers, and only ids are wanted; every directoryObject carries
            // `@odata.type`, so users are picked out here.
            let path = format!("/groups/{g}/transitiveMembers");
            let members = async {
                let r: Result<Vec<DirectoryObject>, GraphError> = client
                    .list_all(ApiVersion::V1, &path, &Query::new().select(&["id"]))
                    .await;
                r.map(|list| {
                    list.into_iter()
                        .filter(|o| {
                            o.odata_type.is_none()
                                || super::snapshot::odata_type_is(
                                    o.odata_type.as_deref(),
                                    "microsoft.graph.user",
                                )
                        })
                        .collect::<Vec<_>>()
                })
            };
            // The name is only for evidence; fetch it (in parallel) when the policy did not
            // carry it.
            let name = async {
                match name {
                    Some(n) => Some(n),
                    None => client
                        .get_json::<DirectoryObject>(
                            ApiVersion::V1,
                            &format!("/groups/{g}"),
                            &Query::new().select(&["id", "displayName"]),
                        )
                        .await
                        .ok()
                        .and_then(|o| o.display_name),
                }
            };
            let (members, name) = futures::join!(members, name);
            (g, name, members)
        }
    });
    for (g, name, members) in join_all(futs).await {
        m.groups.insert(
            g.clone(),
            GroupRef {
                id: g.clone(),
                display_name: name,
            },
        );
        match members {
            Ok(list) => {
                for u in list {
                    m.members
                        .entry(u.id.to_ascii_lowercase())
                        .or_default()
                        .insert(g.clone());
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Source::Missing {
                    reason: missing_from_error("group_memberships", kind, &e),
                };
            }
        }
    }
    Source::collected(
        "GET /v1.0/groups/{id}/transitiveMembers?$select=id (users of each referenced group)",
        m,
    )
}

pub(crate) async fn token_kind(client: &GraphClient) -> (TokenKind, Option<String>) {
    {
        match client.tokens().token().await {
            Ok(t) => match t.claims() {
                Ok(c) => {
                    let k = match c.kind() {
                        crate::graph::TokenKind::Application => TokenKind::AppOnly,
                        crate::graph::TokenKind::Delegated => TokenKind::Delegated,
                        crate::graph::TokenKind::Unknown => TokenKind::Unknown,
                    };
                    (k, c.tenant_id.clone())
                }
                Err(_) => (TokenKind::Unknown, None),
            },
            Err(_) => (TokenKind::Unknown, None),
        }
    }
}

/// Sign in (once) and collect every source the options ask for.
pub async fn collect(
    client: &GraphClient,
    opts: &CollectOptions,
    collected_at: DateTime<Utc>,
) -> Result<TenantSnapshot, GraphError> {
    // Sign-in first: its failure is fatal (nothing can be collected), and the token kind
    // decides which sources are even asked for.
    client.tokens().token().await?;
    let (kind, claims_tenant) = token_kind(client).await;
    let graph_base = client.base_url().as_str().trim_end_matches('/').to_string();
    let mut snap = TenantSnapshot::new(
        claims_tenant
            .clone()
            .or_else(|| opts.tenant_hint.clone())
            .unwrap_or_default(),
        opts.cloud.clone(),
        graph_base,
        kind,
        collected_at,
    );

    let policy = |path: &'static str, source: &'static str| {
        let client = client.clone();
        async move {
            if kind == TokenKind::AppOnly {
                // Graph refuses app-only tokens here (401): do not even ask.
                return Source::Missing {
                    reason: MissingReason::AppOnlyUnsupported,
                };
            }
            list::<MobilityPolicy>(
                &client,
                source,
                kind,
                ApiVersion::Beta,
                path,
                Query::new().expand("includedGroups").without_top(),
            )
            .await
        }
    };

    let org_q = Query::new().select(ORG_SELECT).without_top();
    let org = async {
        let ep = endpoint(ApiVersion::V1, "/organization", &org_q);
        let r: Result<Vec<Organization>, GraphError> = client
            .list_all(ApiVersion::V1, "/organization", &org_q)
            .await;
        match r {
            Ok(mut list) if !list.is_empty() => Source::collected(ep, list.swap_remove(0)),
            Ok(_) => Source::Missing {
                reason: MissingReason::GraphError {
                    status: None,
                    code: None,
                    request_id: None,
                    message: "GET /v1.0/organization returned no organization".into(),
                },
            },
            Err(e) => Source::Missing {
                reason: missing_from_error("organization", kind, &e),
            },
        }
    };
    let skus = list::<SubscribedSku>(
        client,
        "subscribed_skus",
        kind,
        ApiVersion::V1,
        "/subscribedSkus",
        Query::new().select(SKU_SELECT).without_top(),
    );
    // beta: the MDM/MAM user-scope policies exist only in beta (and only for delegated tokens).
    let mdm = policy("/policies/mobileDeviceManagementPolicies", "mdm_policies");
    let mam = policy("/policies/mobileAppManagementPolicies", "mam_policies");
    // beta: v1.0 leaves out the single-platform restrictions (Windows has its own priority
    // list) and beta-only properties, so the winning restriction could be wrong there.
    // Polymorphic collection: no $select, it would drop the derived types' properties.
    // The same listing carries the Enrollment Status Pages (`tenant::autopilot::esp`).
    let configs_and_pages = super::autopilot::collect::enrollment_configurations(client, kind);
    // beta: Autopilot deployment profiles are tenant configuration, read in every run; the
    // per-device Autopilot sources with the devices.
    let autopilot_profiles = super::autopilot::collect::profiles(client, kind);
    let autopilot_records = async {
        if opts.devices {
            Some(super::autopilot::collect::list_all(client, kind).await)
        } else {
            None
        }
    };
    let reg = async {
        let q = Query::new();
        let ep = endpoint(ApiVersion::V1, "/policies/deviceRegistrationPolicy", &q);
        source_of(
            "device_registration_policy",
            kind,
            ep,
            client
                .get_json::<DeviceRegistrationPolicy>(
                    ApiVersion::V1,
                    "/policies/deviceRegistrationPolicy",
                    &q,
                )
                .await,
        )
    };
    let ca = list::<ConditionalAccessPolicy>(
        client,
        "conditional_access_policies",
        kind,
        ApiVersion::V1,
        "/identity/conditionalAccess/policies",
        Query::new().select(CA_SELECT).without_top(),
    );
    let per_user = async {
        let upns: &[String] = match &opts.users {
            UserSelection::Upns(upns) => upns,
            _ => &[],
        };
        if upns.is_empty() {
            return None;
        }
        // A fleet's records are read per device (or in bulk, see `device_records`): the users'
        // owned devices only for a readiness check of named users.
        Some(collect_targeted(client, upns, kind, opts.owned_devices).await)
    };
    let bulk_users = async {
        match &opts.users {
            UserSelection::All => Some(ALL_USERS.all(client, kind).await),
            UserSelection::Group(g) => Some(collect_group_users(client, g, kind).await),
            _ => None,
        }
    };
    let all_devices = async {
        if !opts.devices {
            return None;
        }
        Some(futures::join!(
            ALL_ENTRA_DEVICES.all(client, kind),
            ALL_MANAGED_DEVICES.all(client, kind),
            ALL_TROUBLESHOOTING_EVENTS.all(client, kind),
        ))
    };
    // Managed devices are needed for the device-limit check of many users even without
    // `devices`; the list is O(N/999) as well.
    let bulk_managed = async {
        if opts.devices || !matches!(opts.users, UserSelection::All | UserSelection::Group(_)) {
            return None;
        }
        Some(ALL_MANAGED_DEVICES.all(client, kind).await)
    };

    // Many users: the members of the groups the policies refer to are listed as soon as the
    // policies are known, alongside the user listing (not after it): both are paged
    // sequentially, so running them one after the other would add their waves up.
    let bulk = matches!(opts.users, UserSelection::All | UserSelection::Group(_));
    let policies_then_groups = async {
        let (mdm, mam, (configs, pages), ca) = futures::join!(mdm, mam, configs_and_pages, ca);
        let groups = async {
            if bulk {
                let groups = relevant_groups(&mdm, &mam, &configs, &ca);
                Some(collect_by_group(client, groups, kind).await)
            } else {
                None
            }
        };
        let filters = super::assignment_filters::read_if_used(client, kind, &configs);
        let (groups, filters) = futures::join!(groups, filters);
        (mdm, mam, (configs, pages), ca, (groups, filters))
    };
    let (
        org,
        skus,
        (mdm, mam, (configs, pages), ca, (by_group, filters)),
        reg,
        per_user,
        bulk_users,
        all_devices,
        bulk_managed,
        (autopilot_profiles, autopilot_records),
    ) = futures::join!(
        org,
        skus,
        policies_then_groups,
        reg,
        per_user,
        bulk_users,
        all_devices,
        bulk_managed,
        async { futures::join!(autopilot_profiles, autopilot_records) }
    );

    if let Some(o) = org.data()
        && !o.id.is_empty()
    {
        snap.tenant_id = o.id.clone();
    }
    let s = &mut snap.sources;
    s.organization = org;
    s.subscribed_skus = skus;
    s.mdm_policies = mdm;
    s.mam_policies = mam;
    s.enrollment_configurations = configs;
    s.enrollment_status_pages = pages;
    s.autopilot_profiles = autopilot_profiles;
    s.device_registration_policy = reg;
    s.conditional_access_policies = ca;
    if let Some(f) = filters {
        s.assignment_filters = f;
    }

    // Only named users get a per-user `$batch` round (see `per_user` above).
    if let Some(p) = per_user {
        let upns = match &opts.users {
            UserSelection::Upns(u) => u.clone(),
            _ => Vec::new(),
        };
        let s = &mut snap.sources;
        snap.user_scope = UserScope::Selected {
            upns: upns.iter().map(|u| u.to_ascii_lowercase()).collect(),
        };
        s.users = match p.users_error {
            Some(r) => Source::Missing { reason: r },
            None => Source::collected("GET /v1.0/users/{upn}?$select=… ($batch)", p.users),
        };
        if opts.owned_devices {
            s.user_owned_devices = match p.owned_error {
                Some(r) => Source::Missing { reason: r },
                None => Source::collected(
                    "GET /v1.0/users/{upn}/ownedDevices?$select=… ($batch)",
                    p.owned,
                ),
            };
        }
        s.group_memberships = match p.memberships_error {
            Some(r) => Source::Missing { reason: r },
            None => Source::collected(
                "GET /v1.0/users/{upn}/transitiveMemberOf?$select=id,displayName ($batch)",
                GroupMemberships {
                    all_users_resolved: false,
                    relevant_groups: Vec::new(),
                    groups: p.groups,
                    members: p.memberships,
                    roles: p.roles,
                },
            ),
        };
        if !opts.devices {
            s.managed_devices = match p.managed_error {
                Some(r) => Source::Missing { reason: r },
                None => {
                    Source::collected("GET /v1.0/users/{upn}/managedDevices ($batch)", p.managed)
                }
            };
            s.troubleshooting_events = match p.events_error {
                Some(r) => Source::Missing { reason: r },
                None => Source::collected(
                    "GET /v1.0/users/{upn}/deviceManagementTroubleshootingEvents ($batch)",
                    p.events,
                ),
            };
        }
    }
    if let Some((devices, managed, events)) = all_devices {
        let s = &mut snap.sources;
        s.entra_devices = devices;
        s.managed_devices = managed;
        s.troubleshooting_events = events;
    }
    if let Some(m) = bulk_managed {
        snap.sources.managed_devices = m;
    }
    if let Some(r) = autopilot_records {
        r.store(&mut snap);
    }
    if let Some(users) = bulk_users {
        snap.user_scope = match &opts.users {
            UserSelection::All => UserScope::All,
            _ => UserScope::Selected {
                upns: users
                    .data()
                    .map(|l| {
                        l.iter()
                            .map(|u| u.user_principal_name.to_ascii_lowercase())
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        };
        snap.sources.users = users;
    }
    if let Some(m) = by_group {
        snap.sources.group_memberships = m;
    }
    // Graph rejected the token (or it could not be renewed): every source above failed for
    // that one reason, and a report of skips would read as missing permissions. Fail closed.
    if let Some(e) = client.fatal_error() {
        return Err(e);
    }
    snap.normalize();
    Ok(snap)
}

/// Members of a group given by id or display name (users only, transitive).
async fn collect_group_users(
    client: &GraphClient,
    group: &str,
    kind: TokenKind,
) -> Source<Vec<User>> {
    let id = if uuid::Uuid::parse_str(group.trim()).is_ok() {
        group.trim().to_string()
    } else {
        let q = Query::new()
            .filter(&format!("displayName eq '{}'", group.replace('\'', "''")))
            .select(&["id", "displayName"]);
        match client
            .list_all::<DirectoryObject>(ApiVersion::V1, "/groups", &q)
            .await
        {
            Ok(list) => match list.as_slice() {
                [one] => one.id.clone(),
                [] => {
                    return Source::Missing {
                        reason: MissingReason::GraphError {
                            status: Some(404),
                            code: None,
                            request_id: None,
                            message: format!(
                                "no group named \"{}\" in the tenant; check the name or pass \
                                 its object id",
                                crate::text_safety::shown(group)
                            ),
                        },
                    };
                }
                _ => {
                    return Source::Missing {
                        reason: MissingReason::GraphError {
                            status: None,
                            code: None,
                            request_id: None,
                            message: format!(
                                "several groups are named \"{}\"; pass the object id of the \
                                 one to check",
                                crate::text_safety::shown(group)
                            ),
                        },
                    };
                }
            },
            Err(e) => {
                return Source::Missing {
                    reason: missing_from_error("users", kind, &e),
                };
            }
        }
    };
    let members = list::<User>(
        client,
        "users",
        kind,
        ApiVersion::V1,
        &format!(
            "/groups/{}/transitiveMembers/microsoft.graph.user",
            user_key(&id)
        ),
        Query::new().select(USER_SELECT),
    )
    .await;
    match members {
        Source::Missing {
            reason: MissingReason::GraphError {
                status: Some(404), ..
            },
        } => Source::Missing {
            reason: MissingReason::GraphError {
                status: Some(404),
                code: None,
                request_id: None,
                message: format!(
                    "no group with the id {} in the tenant; check the id or pass the group's \
                     display name",
                    crate::text_safety::shown(&id)
                ),
            },
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;
