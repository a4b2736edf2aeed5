//! Graph routes (v1.0 and beta), permission enforcement and `$batch`.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::relations;

use crate::auth::{Claims, bearer};
use crate::faults::Site;
use crate::index::{FilterIndex, Kind, MemberList};
use crate::odata::{self, Filter, Query, percent_decode};
use crate::reply::{
    Reply, ReplyBody, apply_body_fault, fault_reply, graph_error, segment_not_found,
};
use crate::state::Shared;
use crate::tenant::{Tenant, str_field};

/// Windows Autopilot collections (a child module, so it answers through the helpers here).
#[path = "autopilot.rs"]
pub(crate) mod autopilot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    Beta,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

// Permission sets: any one of the names satisfies the set (higher privileges included).
const USER_READ: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const USER_BASIC: &[&str] = &[
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const LICENSE_READ: &[&str] = &[
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const ORG_GET: &[&str] = &[
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementServiceConfig.ReadWrite.All",
    "User.Read",
];
const SKU_READ: &[&str] = &[
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const GROUP_MEMBER_READ: &[&str] = &[
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const DEVICE_READ: &[&str] = &[
    "Device.Read.All",
    "Device.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const SERVICE_CONFIG: &[&str] = &[
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementServiceConfig.ReadWrite.All",
];
const DEVICE_CONFIG: &[&str] = &[
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];
const MANAGED_DEVICES: &[&str] = &[
    "DeviceManagementManagedDevices.Read.All",
    "DeviceManagementManagedDevices.ReadWrite.All",
];
const DEVICE_REG_POLICY: &[&str] = &[
    "Policy.Read.DeviceConfiguration",
    "Policy.ReadWrite.DeviceConfiguration",
    "Policy.Read.All",
];
/// Graph lists `Policy.Read.All` as a higher permission for delegated calls only.
const DEVICE_REG_POLICY_APP: &[&str] = &[
    "Policy.Read.DeviceConfiguration",
    "Policy.ReadWrite.DeviceConfiguration",
];
const MOBILITY: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.MobilityManagement"];
const CONDITIONAL_ACCESS: &[&str] = &[
    "Policy.Read.All",
    "Policy.Read.ConditionalAccess",
    "Policy.ReadWrite.ConditionalAccess",
];

/// Which 403 a missing permission produces.
#[derive(Clone, Copy)]
enum Family {
    Directory,
    Intune,
}

/// Properties a plain `GET /users` returns (everything else needs `$select`).
const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const BETA_ONLY_CONFIG_TYPES: &[&str] = &[
    "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
    "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration",
    "#microsoft.graph.deviceEnrollmentNotificationConfiguration",
    "#microsoft.graph.deviceComanagementAuthorityConfiguration",
];
const BETA_ONLY_CONFIG_PROPS: &[&str] = &[
    "roleScopeTagIds",
    "deviceEnrollmentConfigurationType",
    "androidForWorkRestriction",
    "macRestriction",
    "tvosRestriction",
    "visionOSRestriction",
    "windowsHomeSkuRestriction",
    "enhancedSignInSecurity",
    "securityKeyForSignIn",
    "allowDeviceResetOnInstallFailure",
    "allowDeviceUseOnInstallFailure",
    "allowLogCollectionOnInstallFailure",
    "blockDeviceSetupRetryByUser",
    "customErrorMessage",
    "disableUserStatusTrackingAfterFirstUser",
    "installProgressTimeoutInMinutes",
    "installQualityUpdates",
    "selectedMobileAppIds",
    "showInstallationProgress",
    "trackInstallProgressForAutopilotOnly",
];
const BETA_ONLY_RESTRICTION_PROPS: &[&str] = &["blockedManufacturers", "blockedSkus"];
const BETA_ONLY_ASSIGNMENT_PROPS: &[&str] = &["source", "sourceId"];
const BETA_ONLY_TARGET_PROPS: &[&str] = &[
    "deviceAndAppManagementAssignmentFilterId",
    "deviceAndAppManagementAssignmentFilterType",
];
const BETA_ONLY_EVENT_PROPS: &[&str] = &[
    "additionalInformation",
    "eventName",
    "troubleshootingErrorDetails",
];
const BETA_ONLY_MANAGED_DEVICE_PROPS: &[&str] = &[
    "ownerType",
    "joinType",
    "autopilotEnrolled",
    "enrolledByUserPrincipalName",
    "deviceType",
    "skuFamily",
    "skuNumber",
    "azureActiveDirectoryDeviceId",
];

/// Filterable properties per collection (anything else is a 400).
const USER_FILTERS: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "accountEnabled",
    "usageLocation",
];
const GROUP_FILTERS: &[&str] = &["id", "displayName", "mailNickname"];
const DEVICE_FILTERS: &[&str] = &[
    "deviceId",
    "displayName",
    "accountEnabled",
    "trustType",
    "operatingSystem",
];
const MANAGED_DEVICE_FILTERS: &[&str] = &[
    "azureADDeviceId",
    "deviceName",
    "userPrincipalName",
    "userId",
    "operatingSystem",
];
const EVENT_FILTERS: &[&str] = &["userId", "deviceId", "managedDeviceIdentifier"];
const POLICY_FILTERS: &[&str] = &["id", "displayName"];
const CONFIG_FILTERS: &[&str] = &["deviceEnrollmentConfigurationType"];
const CA_FILTERS: &[&str] = &["state", "displayName"];

struct Ctx<'a> {
    shared: &'a Shared,
    version: Version,
    method: &'a Method,
    /// Path after the version, e.g. `/users/abc/licenseDetails`.
    path: String,
    query: Query,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    claims: Claims,
}

fn directory_not_found(key: &str) -> Reply {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn intune_not_found(key: &str) -> Reply {
    graph_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("{{\"_version\": 3, \"Message\": \"Resource not found: {key}\"}}"),
    )
}

fn bad_request(message: &str) -> Reply {
    graph_error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn method_not_allowed() -> Reply {
    graph_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )
}

/// Segment names the routes match on; Graph treats path segments case-insensitively.
const CANONICAL_SEGMENTS: &[&str] = &[
    "organization",
    "subscribedSkus",
    "users",
    "me",
    "licenseDetails",
    "transitiveMemberOf",
    "memberOf",
    "checkMemberGroups",
    "managedDevices",
    "ownedDevices",
    "deviceManagementTroubleshootingEvents",
    "groups",
    "transitiveMembers",
    "members",
    "policies",
    "mobileDeviceManagementPolicies",
    "mobileAppManagementPolicies",
    "includedGroups",
    "deviceRegistrationPolicy",
    "deviceManagement",
    "deviceEnrollmentConfigurations",
    "assignmentFilters",
    "assignments",
    "troubleshootingEvents",
    "windowsAutopilotDeviceIdentities",
    "windowsAutopilotDeploymentProfiles",
    "importedDeviceIdentities",
    "autopilotEvents",
    "devices",
    "identity",
    "conditionalAccess",
    "microsoft.graph.group",
    "microsoft.graph.user",
    "$count",
];

fn canonical(segment: String) -> String {
    CANONICAL_SEGMENTS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&segment))
        .map_or(segment, |c| (*c).to_string())
}

/// Splits a path into segments, turning `name('key')` into `name`, `key`.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_decode(raw);
        if let Some((name, rest)) = decoded.split_once('(')
            && let Some(inner) = rest.strip_suffix(')')
        {
            out.push(canonical(name.to_string()));
            // `devices(deviceId='…')` alternate key keeps its property name.
            if let Some((prop, value)) = inner.split_once('=') {
                out.push(format!("{prop}={}", value.trim_matches('\'')));
            } else {
                out.push(inner.trim_matches('\'').to_string());
            }
            continue;
        }
        out.push(canonical(decoded));
    }
    out
}

/// Handles one Graph request (direct or a `$batch` item). `path_and_query` starts with
/// `/v1.0/` or `/beta/`.
pub(crate) fn handle(
    shared: &Shared,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    let (path, raw_query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let (version, rest) = if let Some(rest) = path.strip_prefix("/v1.0") {
        (Version::V1, rest)
    } else if let Some(rest) = path.strip_prefix("/beta") {
        (Version::Beta, rest)
    } else {
        return segment_not_found(path.trim_start_matches('/'));
    };
    // Authentication first, like Graph: no token, no information.
    let token = bearer(headers).unwrap_or_default();
    let claims = match shared.validate_bearer(&token) {
        Ok(c) => c,
        Err(msg) => {
            return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", msg);
        }
    };
    // Refuse what Graph refuses: the path and query checked against Graph's metadata.
    if let Some(schema) = crate::schema::schema() {
        let version_schema = match version {
            Version::V1 => &schema.v1,
            Version::Beta => &schema.beta,
        };
        if let Err(reply) = crate::validate::request(version_schema, rest, raw_query) {
            let message = match &reply.body {
                ReplyBody::Json(v) => v.pointer("/error/message").and_then(Value::as_str),
                _ => None,
            };
            shared.note_refusal(method, path_and_query, message.unwrap_or_default());
            return reply;
        }
    }
    let query = match odata::parse(raw_query) {
        Ok(q) => q,
        Err(msg) => return bad_request(&msg),
    };
    let ctx = Ctx {
        shared,
        version,
        method,
        path: rest.to_string(),
        query,
        headers,
        body,
        claims,
    };
    let mut segs = segments(rest);
    if segs.first().map(String::as_str) == Some("me") {
        if ctx.claims.is_app_only() {
            return bad_request("/me request is only valid with delegated authentication flow.");
        }
        segs[0] = ctx.claims.oid.clone();
        segs.insert(0, "users".into());
    }
    route(&ctx, &segs)
}

fn route(ctx: &Ctx, segs: &[String]) -> Reply {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let is_get = ctx.method == Method::GET;
    let tenant = &ctx.shared.tenant;
    if let Some(&"$count") = s.last() {
        return count_segment(ctx, &s[..s.len() - 1]);
    }
    match s.as_slice() {
        ["organization"] if is_get => guard(ctx, &[ORG_GET], Family::Directory)
            .unwrap_or_else(|| list(ctx, "organization", vec![tenant.organization.clone()], &[])),
        ["organization", id] if is_get => {
            guard(ctx, &[ORG_GET], Family::Directory).unwrap_or_else(|| {
                if id.eq_ignore_ascii_case(&tenant.id) {
                    single(ctx, "organization/$entity", tenant.organization.clone())
                } else {
                    directory_not_found(id)
                }
            })
        }
        ["subscribedSkus"] if is_get => guard(ctx, &[SKU_READ], Family::Directory)
            .unwrap_or_else(|| list(ctx, "subscribedSkus", tenant.subscribed_skus.clone(), &[])),
        ["subscribedSkus", id] if is_get => guard(ctx, &[SKU_READ], Family::Directory)
            .unwrap_or_else(|| {
                match tenant
                    .subscribed_skus
                    .iter()
                    .find(|s| str_field(s, "id") == Some(*id))
                {
                    Some(sku) => single(ctx, "subscribedSkus/$entity", sku.clone()),
                    None => directory_not_found(id),
                }
            }),
        ["users"] if is_get => {
            guard(ctx, &[USER_READ], Family::Directory).unwrap_or_else(|| users_list(ctx))
        }
        ["users", key] if is_get => {
            guard(ctx, &[USER_READ], Family::Directory).unwrap_or_else(|| {
                match tenant.find_user(key) {
                    Some(u) => single(ctx, "users/$entity", user_shape(ctx, u)),
                    None => directory_not_found(key),
                }
            })
        }
        ["users", key, "licenseDetails"] if is_get => {
            guard(ctx, &[LICENSE_READ], Family::Directory).unwrap_or_else(|| {
                match tenant.find_user(key) {
                    Some(u) => list(ctx, "licenseDetails", tenant.license_details(&u), &[]),
                    None => directory_not_found(key),
                }
            })
        }
        [
            "users",
            key,
            rel @ ("transitiveMemberOf" | "memberOf"),
            cast @ ..,
        ] if is_get && cast.len() <= 1 => guard(ctx, &[USER_READ], Family::Directory)
            .unwrap_or_else(|| {
                member_of(
                    ctx,
                    key,
                    *rel == "transitiveMemberOf",
                    cast.first().copied(),
                )
            }),
        ["users", key, "checkMemberGroups"] => {
            if ctx.method != Method::POST {
                return method_not_allowed();
            }
            guard(ctx, &[USER_BASIC, GROUP_MEMBER_READ], Family::Directory)
                .unwrap_or_else(|| check_member_groups(ctx, key))
        }
        // Entra joined and registered devices whose registered owner is the user (hybrid
        // joined devices have none).
        ["users", key, "ownedDevices"] if is_get => guard(ctx, &[USER_READ], Family::Directory)
            .unwrap_or_else(|| match relations::owned_devices(tenant, key) {
                Some(items) => list(ctx, "directoryObjects", items, &[]),
                None => directory_not_found(key),
            }),
        ["users", key, "managedDevices"] if is_get => {
            guard(ctx, &[MANAGED_DEVICES], Family::Intune).unwrap_or_else(|| {
                match tenant.find_user(key) {
                    Some(u) => {
                        let items = of_user(
                            tenant,
                            &tenant.lookups.managed_devices,
                            &tenant.managed_devices,
                            &u,
                        );
                        filtered_list(
                            ctx,
                            "managedDevices",
                            items,
                            MANAGED_DEVICE_FILTERS,
                            managed_device_shape,
                        )
                    }
                    None => directory_not_found(key),
                }
            })
        }
        ["users", key, "deviceManagementTroubleshootingEvents"] if is_get => {
            guard(ctx, &[MANAGED_DEVICES], Family::Intune).unwrap_or_else(|| {
                match tenant.find_user(key) {
                    Some(u) => {
                        let items = of_user(
                            tenant,
                            &tenant.lookups.troubleshooting_events,
                            &tenant.troubleshooting_events,
                            &u,
                        );
                        filtered_list(
                            ctx,
                            "deviceManagementTroubleshootingEvents",
                            items,
                            EVENT_FILTERS,
                            event_shape,
                        )
                    }
                    None => directory_not_found(key),
                }
            })
        }
        ["groups"] if is_get => {
            guard(ctx, &[GROUP_MEMBER_READ], Family::Directory).unwrap_or_else(|| {
                filtered_list(
                    ctx,
                    "groups",
                    tenant.groups.clone(),
                    GROUP_FILTERS,
                    |_, v| v,
                )
            })
        }
        ["groups", id] if is_get => guard(ctx, &[GROUP_MEMBER_READ], Family::Directory)
            .unwrap_or_else(|| match tenant.find_group(id) {
                Some(g) => single(ctx, "groups/$entity", g.clone()),
                None => directory_not_found(id),
            }),
        [
            "groups",
            id,
            rel @ ("transitiveMembers" | "members"),
            cast @ ..,
        ] if is_get && cast.len() <= 1 => guard(ctx, &[GROUP_MEMBER_READ], Family::Directory)
            .unwrap_or_else(|| {
                group_members(ctx, id, *rel == "transitiveMembers", cast.first().copied())
            }),
        [
            "policies",
            kind @ ("mobileDeviceManagementPolicies" | "mobileAppManagementPolicies"),
            rest @ ..,
        ] => {
            if ctx.version == Version::V1 {
                return segment_not_found(kind);
            }
            if !is_get {
                return method_not_allowed();
            }
            mobility(ctx, kind, rest)
        }
        ["policies", "deviceRegistrationPolicy"] if is_get => {
            let needed = if ctx.claims.is_app_only() {
                DEVICE_REG_POLICY_APP
            } else {
                DEVICE_REG_POLICY
            };
            guard(ctx, &[needed], Family::Directory).unwrap_or_else(|| {
                single(
                    ctx,
                    "policies/deviceRegistrationPolicy/$entity",
                    tenant.device_registration_policy.clone(),
                )
            })
        }
        ["deviceManagement"] if is_get => guard(ctx, &[SERVICE_CONFIG], Family::Intune)
            .unwrap_or_else(|| {
                let mut dm = tenant.device_management.clone();
                if ctx.version == Version::V1 {
                    strip(&mut dm, &["subscriptions"]);
                }
                single(ctx, "deviceManagement/$entity", dm)
            }),
        [
            "deviceManagement",
            "deviceEnrollmentConfigurations",
            rest @ ..,
        ] if is_get => guard(ctx, &[SERVICE_CONFIG], Family::Intune)
            .unwrap_or_else(|| enrollment_configurations(ctx, rest)),
        // beta only, like Graph (v1.0 has no assignmentFilters).
        ["deviceManagement", "assignmentFilters"] if is_get && ctx.version == Version::Beta => {
            guard(ctx, &[DEVICE_CONFIG], Family::Intune).unwrap_or_else(|| {
                list(
                    ctx,
                    "deviceManagement/assignmentFilters",
                    tenant.assignment_filters.clone(),
                    &[],
                )
            })
        }
        ["deviceManagement", seg, rest @ ..] if autopilot::SEGMENTS.contains(seg) => {
            autopilot::route(ctx, seg, rest).unwrap_or_else(method_not_allowed)
        }
        ["deviceManagement", "managedDevices"] if is_get => {
            guard(ctx, &[MANAGED_DEVICES], Family::Intune).unwrap_or_else(|| {
                filtered_slice(
                    ctx,
                    "deviceManagement/managedDevices",
                    &tenant.managed_devices,
                    &tenant.lookups.managed_devices,
                    MANAGED_DEVICE_FILTERS,
                    managed_device_shape,
                )
            })
        }
        ["deviceManagement", "managedDevices", id] if is_get => {
            guard(ctx, &[MANAGED_DEVICES], Family::Intune).unwrap_or_else(|| {
                match find_text(
                    tenant,
                    &tenant.lookups.managed_devices,
                    &tenant.managed_devices,
                    "id",
                    id,
                ) {
                    Some(d) => single(
                        ctx,
                        "deviceManagement/managedDevices/$entity",
                        managed_device_shape(ctx.version, d.clone()),
                    ),
                    None => intune_not_found(id),
                }
            })
        }
        ["deviceManagement", "troubleshootingEvents"] if is_get => {
            guard(ctx, &[MANAGED_DEVICES], Family::Intune).unwrap_or_else(|| {
                filtered_slice(
                    ctx,
                    "deviceManagement/troubleshootingEvents",
                    &tenant.troubleshooting_events,
                    &tenant.lookups.troubleshooting_events,
                    EVENT_FILTERS,
                    event_shape,
                )
            })
        }
        ["devices"] if is_get => {
            guard(ctx, &[DEVICE_READ], Family::Directory).unwrap_or_else(|| {
                filtered_slice(
                    ctx,
                    "devices",
                    &tenant.devices,
                    &tenant.lookups.devices,
                    DEVICE_FILTERS,
                    |_, v| v,
                )
            })
        }
        ["devices", key] if is_get => {
            guard(ctx, &[DEVICE_READ], Family::Directory).unwrap_or_else(|| {
                let (prop, value) = match key.split_once('=') {
                    Some((p, v)) => (p, v),
                    None => ("id", *key),
                };
                match find_text(
                    tenant,
                    &tenant.lookups.devices,
                    &tenant.devices,
                    prop,
                    value,
                ) {
                    Some(d) => single(ctx, "devices/$entity", d.clone()),
                    None => directory_not_found(value),
                }
            })
        }
        // The groups a device is in (Autopilot profile and ESP assignments target device
        // groups), addressed by object id or by `deviceId` as Graph allows.
        ["devices", key, rel @ ("transitiveMemberOf" | "memberOf")] if is_get => {
            guard(ctx, &[DEVICE_READ], Family::Directory)
                .unwrap_or_else(|| device_member_of(ctx, key, *rel == "transitiveMemberOf"))
        }
        ["identity", "conditionalAccess", "policies"] if is_get => {
            guard(ctx, &[CONDITIONAL_ACCESS], Family::Directory).unwrap_or_else(|| {
                filtered_list(
                    ctx,
                    "identity/conditionalAccess/policies",
                    tenant.conditional_access_policies.clone(),
                    CA_FILTERS,
                    |_, v| v,
                )
            })
        }
        ["identity", "conditionalAccess", "policies", id] if is_get => {
            guard(ctx, &[CONDITIONAL_ACCESS], Family::Directory).unwrap_or_else(|| {
                match tenant
                    .conditional_access_policies
                    .iter()
                    .find(|p| str_field(p, "id") == Some(*id))
                {
                    Some(p) => single(
                        ctx,
                        "identity/conditionalAccess/policies/$entity",
                        p.clone(),
                    ),
                    None => directory_not_found(id),
                }
            })
        }
        [] => bad_request("Invalid request: no resource segment."),
        [first, ..] => {
            if is_known_route(&s) {
                method_not_allowed()
            } else {
                segment_not_found(first)
            }
        }
    }
}

/// True when the path starts at a resource the mock serves (so a wrong method gets a 405).
fn is_known_route(s: &[&str]) -> bool {
    matches!(
        s,
        ["organization", ..]
            | ["subscribedSkus", ..]
            | ["users", ..]
            | ["groups", ..]
            | ["devices", ..]
            | ["deviceManagement", ..]
            | ["policies", "deviceRegistrationPolicy"]
            | ["identity", "conditionalAccess", "policies", ..]
    )
}

/// Returns `Some(error reply)` when the token lacks a permission from each required set.
fn guard(ctx: &Ctx, required: &[&[&str]], family: Family) -> Option<Reply> {
    let granted = ctx.claims.permissions();
    let missing: Vec<&[&str]> = required
        .iter()
        .copied()
        .filter(|set| {
            !set.iter()
                .any(|p| granted.iter().any(|g| g.eq_ignore_ascii_case(p)))
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(match family {
        Family::Directory => graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        Family::Intune => graph_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{{\"_version\": 3, \"Message\": \"Application is not authorized to perform this operation. Application must have one of the following scopes: {} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000\"}}",
                missing
                    .iter()
                    .map(|s| s.join(", "))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    })
}

fn context_url(ctx: &Ctx, entity_set: &str) -> String {
    format!(
        "{}/{}/$metadata#{}",
        ctx.shared.base_url,
        ctx.version.as_str(),
        entity_set
    )
}

/// A single entity with `$select` applied.
fn single(ctx: &Ctx, entity_set: &str, item: Value) -> Reply {
    let mut item = match &ctx.query.select {
        Some(sel) => odata::project(item, sel, &ctx.query.expand),
        None => item,
    };
    if let Value::Object(o) = &mut item {
        let mut out = Map::new();
        out.insert("@odata.context".into(), json!(context_url(ctx, entity_set)));
        out.append(o);
        item = Value::Object(out);
    }
    Reply::json(StatusCode::OK, item)
}

/// A collection without filter support.
fn list(ctx: &Ctx, entity_set: &str, items: Vec<Value>, filters: &[&str]) -> Reply {
    filtered_list(ctx, entity_set, items, filters, |_, v| v)
}

fn check_filter(ctx: &Ctx, allowed: &[&str]) -> Result<Option<Filter>, Reply> {
    if let Some(c) = &ctx.query.contains {
        return Err(bad_request(&format!(
            "Unsupported query: contains({}) is not supported by the mock here.",
            c.property
        )));
    }
    match &ctx.query.filter {
        None => Ok(None),
        Some(f) if allowed.iter().any(|a| a.eq_ignore_ascii_case(&f.property)) => {
            Ok(Some(f.clone()))
        }
        Some(f) => Err(bad_request(&format!(
            "Unsupported query: filtering on '{}' is not supported by the mock.",
            f.property
        ))),
    }
}

fn filtered_list(
    ctx: &Ctx,
    entity_set: &str,
    items: Vec<Value>,
    filters: &[&str],
    shape: fn(Version, Value) -> Value,
) -> Reply {
    let filter = match check_filter(ctx, filters) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(r) = reject_expand(ctx, &[]) {
        return r;
    }
    let items: Vec<Value> = match filter {
        Some(f) => items.into_iter().filter(|i| f.matches(i)).collect(),
        None => items,
    };
    let total = items.len();
    page(ctx, entity_set, total, |i| {
        items.get(i).cloned().map(|v| shape(ctx.version, v))
    })
}

/// [`filtered_list`] over a tenant collection and its `$filter` index: only the answered page
/// is visited and cloned.
fn filtered_slice(
    ctx: &Ctx,
    entity_set: &str,
    items: &[Value],
    index: &FilterIndex,
    filters: &[&str],
    shape: fn(Version, Value) -> Value,
) -> Reply {
    let filter = match check_filter(ctx, filters) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(r) = reject_expand(ctx, &[]) {
        return r;
    }
    let answer = |v: &Value| shape(ctx.version, v.clone());
    match &filter {
        None => page(ctx, entity_set, items.len(), |i| items.get(i).map(answer)),
        Some(f) => {
            let picked = positions(&ctx.shared.tenant, index, f, items.len(), |i| {
                items.get(i).map(Cow::Borrowed)
            });
            page(ctx, entity_set, picked.len(), |i| {
                picked.get(i).and_then(|p| items.get(*p)).map(answer)
            })
        }
    }
}

/// Positions of the `len` items (from `item`) that `filter` matches: from `index` when it
/// covers the property, else by a scan.
fn positions<'i, 'v>(
    tenant: &Tenant,
    index: &'i FilterIndex,
    filter: &Filter,
    len: usize,
    item: impl Fn(usize) -> Option<Cow<'v, Value>>,
) -> Cow<'i, [usize]> {
    let scanned = |n: usize| tenant.note_scan(n);
    if let Some(hits) = index.matching(filter, len, &item, &scanned) {
        return Cow::Borrowed(hits);
    }
    tenant.note_scan(len);
    Cow::Owned(
        (0..len)
            .filter(|i| item(*i).is_some_and(|v| filter.matches(&v)))
            .collect(),
    )
}

/// The first of `items` whose string `property` is `value` (ASCII case ignored).
fn find_text<'a>(
    tenant: &Tenant,
    index: &FilterIndex,
    items: &'a [Value],
    property: &str,
    value: &str,
) -> Option<&'a Value> {
    let scanned = |n: usize| tenant.note_scan(n);
    let get = |i: usize| items.get(i).map(Cow::Borrowed);
    match index.first_text(property, value, items.len(), get, &scanned) {
        Ok(hit) => hit.and_then(|i| items.get(i)),
        Err(()) => {
            tenant.note_scan(items.len());
            items
                .iter()
                .find(|d| str_field(d, property).is_some_and(|x| x.eq_ignore_ascii_case(value)))
        }
    }
}

/// The items whose `userId` is `user`'s id (ASCII case ignored).
fn of_user(tenant: &Tenant, index: &FilterIndex, items: &[Value], user: &Value) -> Vec<Value> {
    let by_user = Filter {
        property: "userId".into(),
        value: json!(str_field(user, "id").unwrap_or_default()),
    };
    positions(tenant, index, &by_user, items.len(), |i| {
        items.get(i).map(Cow::Borrowed)
    })
    .iter()
    .filter_map(|p| items.get(*p))
    .cloned()
    .collect()
}

fn reject_expand(ctx: &Ctx, allowed: &[&str]) -> Option<Reply> {
    ctx.query
        .expand
        .iter()
        .find(|e| !allowed.iter().any(|a| a.eq_ignore_ascii_case(e)))
        .map(|e| {
            bad_request(&format!(
                "Unsupported query: $expand={e} is not supported here."
            ))
        })
}

/// One page of a collection: `$top` (capped by the server page size), `$select`,
/// `@odata.count`, and an absolute `@odata.nextLink` on the mock's own host.
fn page(ctx: &Ctx, entity_set: &str, total: usize, get: impl Fn(usize) -> Option<Value>) -> Reply {
    page_items(ctx, entity_set, total, |i| {
        get(i).map(|v| match &ctx.query.select {
            Some(sel) => odata::project(v, sel, &ctx.query.expand),
            None => v,
        })
    })
}

/// [`page`] of items `get` has already projected onto `$select`.
fn page_items(
    ctx: &Ctx,
    entity_set: &str,
    total: usize,
    get: impl Fn(usize) -> Option<Value>,
) -> Reply {
    let size = ctx
        .query
        .top
        .unwrap_or(ctx.shared.page_size)
        .min(ctx.shared.page_size)
        .max(1);
    let start = ctx.query.offset.min(total);
    let end = (start + size).min(total);
    let values: Vec<Value> = (start..end).filter_map(get).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context_url(ctx, entity_set)));
    if ctx.query.count && start == 0 {
        body.insert("@odata.count".into(), json!(total));
    }
    if end < total {
        let mut params = ctx.query.carried.clone();
        params.push(("$skiptoken".into(), odata::encode_skiptoken(end)));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/{}{}?{}",
                ctx.shared.base_url,
                ctx.version.as_str(),
                ctx.path,
                odata::query_string(&params)
            )),
        );
    }
    body.insert("value".into(), Value::Array(values));
    Reply::json(StatusCode::OK, Value::Object(body))
}

fn is_eventual(ctx: &Ctx) -> bool {
    ctx.headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
}

/// `$count=true` on directory collections is an advanced query.
fn advanced_query_check(ctx: &Ctx) -> Option<Reply> {
    (ctx.query.count && !is_eventual(ctx)).then(|| {
        graph_error(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "The $count query parameter requires the ConsistencyLevel header set to 'eventual'.",
        )
    })
}

/// The properties a user in a list answers with: `$select`'s (see `page`), or without it the
/// default set (see `user_shape`).
fn user_keep<'a>(ctx: &'a Ctx) -> impl Fn(&str) -> bool + 'a {
    move |k: &str| match &ctx.query.select {
        Some(sel) => odata::selected(k, sel, &ctx.query.expand),
        None => odata::selected::<&str>(k, USER_DEFAULT, &[]),
    }
}

fn user_shape(ctx: &Ctx, user: Value) -> Value {
    if ctx.query.select.is_some() {
        return user;
    }
    // Without $select Graph returns only the default property set.
    odata::project(user, USER_DEFAULT, &[])
}

fn users_list(ctx: &Ctx) -> Reply {
    let filter = match check_filter(ctx, USER_FILTERS) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(r) = reject_expand(ctx, &[]).or_else(|| advanced_query_check(ctx)) {
        return r;
    }
    let tenant = &ctx.shared.tenant;
    let keep = user_keep(ctx);
    match filter {
        None => page_items(ctx, "users", tenant.user_count(), |i| {
            tenant.user_at_fields(i, &keep)
        }),
        Some(f) => match (f.property.to_ascii_lowercase().as_str(), f.text()) {
            // Key lookups stay cheap on the generated tenant.
            ("id" | "userprincipalname", Some(key)) => {
                let matches: Vec<Value> = tenant
                    .find_user(key)
                    .into_iter()
                    .filter(|u| f.matches(u))
                    .collect();
                page(ctx, "users", matches.len(), |i| {
                    matches.get(i).cloned().map(|u| user_shape(ctx, u))
                })
            }
            _ => {
                let picked = positions(
                    tenant,
                    &tenant.lookups.users,
                    &f,
                    tenant.user_count(),
                    |i| tenant.user_at(i).map(Cow::Owned),
                );
                page_items(ctx, "users", picked.len(), |i| {
                    picked.get(i).and_then(|p| tenant.user_at_fields(*p, &keep))
                })
            }
        },
    }
}

/// Minimal directory-object view used when the caller cannot read group details.
fn limited(v: Value) -> Value {
    odata::project::<&str>(v, &[], &[])
}

fn member_of(ctx: &Ctx, key: &str, transitive: bool, cast: Option<&str>) -> Reply {
    let tenant = &ctx.shared.tenant;
    let Some(user) = tenant.find_user(key) else {
        return directory_not_found(key);
    };
    if let Some(c) = cast
        && c != "microsoft.graph.group"
    {
        return segment_not_found(c);
    }
    if let Some(r) = advanced_query_check(ctx) {
        return r;
    }
    let user_id = str_field(&user, "id").unwrap_or_default().to_lowercase();
    let ids = if transitive {
        tenant.transitive_groups(&user_id)
    } else {
        tenant.parents.get(&user_id).cloned().unwrap_or_default()
    };
    let can_read_groups = guard(ctx, &[GROUP_MEMBER_READ], Family::Directory).is_none();
    // Graph lists the directory roles the user holds beside the groups; the group cast
    // leaves them out.
    let roles = if cast.is_none() {
        relations::directory_roles(&user)
    } else {
        Vec::new()
    };
    let items: Vec<Value> = ids
        .iter()
        .filter_map(|id| tenant.directory_object(id))
        .chain(roles)
        .map(|g| if can_read_groups { g } else { limited(g) })
        .collect();
    let filter = match check_filter(ctx, GROUP_FILTERS) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let items: Vec<Value> = items
        .into_iter()
        .filter(|i| filter.as_ref().is_none_or(|f| f.matches(i)))
        .collect();
    let total = items.len();
    page(ctx, "directoryObjects", total, |i| items.get(i).cloned())
}

/// `GET /devices/{id | deviceId='…'}/transitiveMemberOf` (or `memberOf`): the device's groups,
/// reduced to id and type without a group read permission (Graph's "limited information").
fn device_member_of(ctx: &Ctx, key: &str, transitive: bool) -> Reply {
    let tenant = &ctx.shared.tenant;
    let (prop, value) = match key.split_once('=') {
        Some((p, v)) => (p, v),
        None => ("id", key),
    };
    let Some(device) = find_text(
        tenant,
        &tenant.lookups.devices,
        &tenant.devices,
        prop,
        value,
    ) else {
        return directory_not_found(value);
    };
    if let Some(r) = advanced_query_check(ctx) {
        return r;
    }
    let object_id = str_field(device, "id").unwrap_or_default().to_lowercase();
    let ids = if transitive {
        tenant.transitive_groups(&object_id)
    } else {
        tenant.parents.get(&object_id).cloned().unwrap_or_default()
    };
    let can_read_groups = guard(ctx, &[GROUP_MEMBER_READ], Family::Directory).is_none();
    let items: Vec<Value> = ids
        .iter()
        .filter_map(|id| tenant.directory_object(id))
        .map(|g| if can_read_groups { g } else { limited(g) })
        .collect();
    let total = items.len();
    page(ctx, "directoryObjects", total, |i| items.get(i).cloned())
}

fn group_members(ctx: &Ctx, id: &str, transitive: bool, cast: Option<&str>) -> Reply {
    let tenant = &ctx.shared.tenant;
    if tenant.find_group(id).is_none() {
        return directory_not_found(id);
    }
    let wanted = match cast {
        None => None,
        Some("microsoft.graph.user") => Some(Kind::User),
        Some("microsoft.graph.group") => Some(Kind::Group),
        Some(other) => return segment_not_found(other),
    };
    if let Some(r) = advanced_query_check(ctx) {
        return r;
    }
    let none = MemberList::default();
    let list = tenant.member_list(id, transitive).map_or(&none, |l| l);
    let resolve = |p: &usize| list.ids.get(*p).and_then(|m| tenant.directory_object(m));
    let Some(f) = &ctx.query.filter else {
        // The lists are built with the tenant: only the page's members are resolved, users
        // with only the properties answered.
        let keep = user_keep(ctx);
        let answer = |p: &usize| {
            let m = list.ids.get(*p)?;
            if tenant.find_group(m).is_some() {
                tenant.directory_object(m).map(|g| match &ctx.query.select {
                    Some(sel) => odata::project(g, sel, &ctx.query.expand),
                    None => g,
                })
            } else {
                tenant.user_object_fields(m, &keep)
            }
        };
        return match list.positions(wanted) {
            None => page_items(ctx, "directoryObjects", list.ids.len(), |i| answer(&i)),
            Some(picked) => page_items(ctx, "directoryObjects", picked.len(), |i| {
                picked.get(i).and_then(answer)
            }),
        };
    };
    if let Err(r) = check_filter(ctx, USER_FILTERS) {
        return r;
    }
    // A filter on a group's members resolves each member (of the cast's type) once.
    let candidates: Vec<usize> = match list.positions(wanted) {
        Some(picked) => picked.to_vec(),
        None => (0..list.ids.len()).collect(),
    };
    tenant.note_scan(candidates.len());
    let items: Vec<Value> = candidates
        .iter()
        .filter_map(resolve)
        .filter(|o| f.matches(o))
        .map(|o| member_shape(ctx, o))
        .collect();
    page(ctx, "directoryObjects", items.len(), |i| {
        items.get(i).cloned()
    })
}

/// Users among the members get Graph's default property set unless `$select` asks for more
/// (then `page` projects them onto the selection, as for `/users`).
fn member_shape(ctx: &Ctx, v: Value) -> Value {
    if str_field(&v, "@odata.type") == Some("#microsoft.graph.user") {
        user_shape(ctx, v)
    } else {
        v
    }
}

fn check_member_groups(ctx: &Ctx, key: &str) -> Reply {
    let tenant = &ctx.shared.tenant;
    let Some(user) = tenant.find_user(key) else {
        return directory_not_found(key);
    };
    let parsed: Option<Vec<String>> = serde_json::from_slice::<Value>(ctx.body)
        .ok()
        .and_then(|v| v.get("groupIds").cloned())
        .and_then(|v| serde_json::from_value(v).ok());
    let Some(group_ids) = parsed else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid request body: expected {\"groupIds\": [\"<guid>\", …]}.",
        );
    };
    if group_ids.len() > 20 {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "The number of group ids in the request exceeds the limit of 20.",
        );
    }
    let user_id = str_field(&user, "id").unwrap_or_default().to_lowercase();
    let member_of = tenant.transitive_groups(&user_id);
    let hits: Vec<Value> = group_ids
        .iter()
        .filter(|g| member_of.iter().any(|m| m.eq_ignore_ascii_case(g)))
        .map(|g| json!(g))
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": context_url(ctx, "Collection(Edm.String)"),
            "value": hits,
        }),
    )
}

fn mobility(ctx: &Ctx, kind: &str, rest: &[&str]) -> Reply {
    if ctx.claims.is_app_only() {
        // Real Graph rejects app-only tokens here with a 401, not a 403.
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unsupported app-only call.",
        );
    }
    if let Some(r) = guard(ctx, &[MOBILITY], Family::Directory) {
        return r;
    }
    let tenant = &ctx.shared.tenant;
    let (policies, odata_type) = if kind == "mobileDeviceManagementPolicies" {
        (
            &tenant.mdm_policies,
            "#microsoft.graph.mobileDeviceManagementPolicy",
        )
    } else {
        (
            &tenant.mam_policies,
            "#microsoft.graph.mobileAppManagementPolicy",
        )
    };
    let expand_groups = ctx
        .query
        .expand
        .iter()
        .any(|e| e.eq_ignore_ascii_case("includedGroups"));
    if let Some(r) = reject_expand(ctx, &["includedGroups"]) {
        return r;
    }
    let included = |p: &Value| -> Vec<Value> {
        p.get("includedGroups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().or_else(|| str_field(g, "id")))
            .filter_map(|id| tenant.directory_object(id))
            .collect()
    };
    let shape = |p: &Value| -> Value {
        let mut out = Map::new();
        out.insert("@odata.type".into(), json!(odata_type));
        if let Value::Object(o) = p {
            for (k, v) in o {
                if k != "includedGroups" && k != "@odata.type" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if expand_groups {
            out.insert("includedGroups".into(), Value::Array(included(p)));
        }
        Value::Object(out)
    };
    let find = |id: &str| {
        policies
            .iter()
            .find(|p| str_field(p, "id").is_some_and(|x| x.eq_ignore_ascii_case(id)))
    };
    match rest {
        [] => {
            let filter = match check_filter(ctx, POLICY_FILTERS) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let items: Vec<Value> = policies
                .iter()
                .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
                .map(shape)
                .collect();
            let total = items.len();
            page(ctx, "mobilityManagementPolicies", total, |i| {
                items.get(i).cloned()
            })
        }
        [id] => match find(id) {
            Some(p) => single(ctx, "mobilityManagementPolicies/$entity", shape(p)),
            None => directory_not_found(id),
        },
        [id, "includedGroups"] => match find(id) {
            Some(p) => {
                let groups = included(p);
                let total = groups.len();
                page(ctx, "groups", total, |i| groups.get(i).cloned())
            }
            None => directory_not_found(id),
        },
        [_, other, ..] => segment_not_found(other),
    }
}

fn enrollment_configurations(ctx: &Ctx, rest: &[&str]) -> Reply {
    let tenant = &ctx.shared.tenant;
    let version = ctx.version;
    let visible: Vec<&Value> = tenant
        .enrollment_configurations
        .iter()
        .filter(|c| {
            version == Version::Beta
                || !str_field(c, "@odata.type").is_some_and(|t| BETA_ONLY_CONFIG_TYPES.contains(&t))
        })
        .collect();
    let expand = ctx
        .query
        .expand
        .iter()
        .any(|e| e.eq_ignore_ascii_case("assignments"));
    if let Some(r) = reject_expand(ctx, &["assignments"]) {
        return r;
    }
    let assignments = |c: &Value| -> Vec<Value> {
        c.get("assignments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| assignment_shape(version, a.clone()))
            .collect()
    };
    let shape = |c: &Value| -> Value {
        let mut c = c.clone();
        let list = assignments(&c);
        strip(&mut c, &["assignments"]);
        if version == Version::V1 {
            strip(&mut c, BETA_ONLY_CONFIG_PROPS);
            if let Value::Object(o) = &mut c {
                for (_, v) in o.iter_mut() {
                    if v.get("platformBlocked").is_some() {
                        strip(v, BETA_ONLY_RESTRICTION_PROPS);
                    }
                }
            }
        }
        if expand && let Value::Object(o) = &mut c {
            o.insert("assignments".into(), Value::Array(list));
        }
        c
    };
    let find = |id: &str| {
        visible
            .iter()
            .find(|c| str_field(c, "id").is_some_and(|x| x.eq_ignore_ascii_case(id)))
            .copied()
    };
    match rest {
        [] => {
            let allowed: &[&str] = if version == Version::Beta {
                CONFIG_FILTERS
            } else {
                &[]
            };
            let filter = match check_filter(ctx, allowed) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let items: Vec<Value> = visible
                .iter()
                .filter(|c| filter.as_ref().is_none_or(|f| f.matches(c)))
                .map(|c| shape(c))
                .collect();
            let total = items.len();
            page(
                ctx,
                "deviceManagement/deviceEnrollmentConfigurations",
                total,
                |i| items.get(i).cloned(),
            )
        }
        [id] => match find(id) {
            Some(c) => single(
                ctx,
                "deviceManagement/deviceEnrollmentConfigurations/$entity",
                shape(c),
            ),
            None => intune_not_found(id),
        },
        [id, "assignments"] => match find(id) {
            Some(c) => {
                let list = assignments(c);
                let total = list.len();
                page(
                    ctx,
                    "deviceManagement/deviceEnrollmentConfigurations('x')/assignments",
                    total,
                    |i| list.get(i).cloned(),
                )
            }
            None => intune_not_found(id),
        },
        [_, other, ..] => segment_not_found(other),
    }
}

fn assignment_shape(version: Version, mut a: Value) -> Value {
    if version == Version::V1 {
        strip(&mut a, BETA_ONLY_ASSIGNMENT_PROPS);
        if let Some(t) = a.get_mut("target") {
            strip(t, BETA_ONLY_TARGET_PROPS);
        }
    }
    a
}

fn managed_device_shape(version: Version, mut d: Value) -> Value {
    if version == Version::V1 {
        strip(&mut d, BETA_ONLY_MANAGED_DEVICE_PROPS);
    }
    d
}

fn event_shape(version: Version, mut e: Value) -> Value {
    if version == Version::V1 {
        strip(&mut e, BETA_ONLY_EVENT_PROPS);
    }
    e
}

fn strip(v: &mut Value, keys: &[&str]) {
    if let Value::Object(o) = v {
        for k in keys {
            o.shift_remove(*k);
        }
    }
}

/// `GET …/$count` (directory collections; needs `ConsistencyLevel: eventual`).
fn count_segment(ctx: &Ctx, s: &[&str]) -> Reply {
    if !is_eventual(ctx) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Count is not supported for this request without ConsistencyLevel: eventual.",
        );
    }
    let tenant = &ctx.shared.tenant;
    let n = match s {
        ["users"] => guard(ctx, &[USER_READ], Family::Directory)
            .map(Err)
            .unwrap_or(Ok(tenant.user_count())),
        ["groups"] => guard(ctx, &[GROUP_MEMBER_READ], Family::Directory)
            .map(Err)
            .unwrap_or(Ok(tenant.groups.len())),
        ["devices"] => guard(ctx, &[DEVICE_READ], Family::Directory)
            .map(Err)
            .unwrap_or(Ok(tenant.devices.len())),
        ["users", key, "ownedDevices"] => guard(ctx, &[USER_READ], Family::Directory)
            .map(Err)
            .unwrap_or_else(|| {
                relations::owned_devices(tenant, key)
                    .map(|l| l.len())
                    .ok_or_else(|| directory_not_found(key))
            }),
        ["groups", id, "transitiveMembers", ..] => {
            guard(ctx, &[GROUP_MEMBER_READ], Family::Directory)
                .map(Err)
                .unwrap_or_else(|| Ok(tenant.member_list(id, true).map_or(0, |l| l.ids.len())))
        }
        [first, ..] => return segment_not_found(first),
        [] => return bad_request("Invalid $count request."),
    };
    match n {
        Ok(n) => Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Text(n.to_string(), "text/plain"),
        },
        Err(r) => r,
    }
}

/// `POST /{version}/$batch`
pub(crate) async fn batch(
    shared: &Shared,
    segments: &[&str],
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    let version = segments.first().copied().unwrap_or("v1.0");
    let token = bearer(headers).unwrap_or_default();
    if let Err(msg) = shared.validate_bearer(&token) {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", msg);
    }
    let parsed: Option<Vec<Value>> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("requests").and_then(Value::as_array).cloned());
    let Some(requests) = parsed else {
        return bad_request("Invalid batch payload format: expected {\"requests\": [...]}.");
    };
    if requests.is_empty() {
        return bad_request("Invalid batch payload format: the batch contains no requests.");
    }
    if requests.len() > 20 {
        return bad_request("The number of batch requests exceeds the limit of 20.");
    }
    let mut seen = std::collections::HashSet::new();
    for r in &requests {
        let id = r.get("id").map(value_text).unwrap_or_default();
        if id.is_empty() || !seen.insert(id.clone()) {
            return bad_request("Batch request ids must be present and unique.");
        }
    }
    shared.count(|s| s.batch_requests += 1);
    let mut statuses: std::collections::HashMap<String, u16> = std::collections::HashMap::new();
    let mut responses = Vec::with_capacity(requests.len());
    for r in &requests {
        let id = r.get("id").map(value_text).unwrap_or_default();
        let method = str_field(r, "method")
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .unwrap_or(Method::GET);
        let url = str_field(r, "url").unwrap_or_default();
        let depends: Vec<String> = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(value_text)
            .collect();
        let reply = if url.is_empty() || url.starts_with("http:") || url.starts_with("https:") {
            bad_request("Invalid request URI: batch items need a relative URL.")
        } else if depends
            .iter()
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400))
        {
            graph_error(
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                "A request this request depends on failed.",
            )
        } else {
            let path_and_query = format!("/{version}/{}", url.trim_start_matches('/'));
            let mut item_headers = headers.clone();
            item_headers.remove("content-length");
            if let Some(Value::Object(h)) = r.get("headers") {
                for (k, v) in h {
                    if let (Ok(k), Some(Ok(v))) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        v.as_str().map(HeaderValue::from_str),
                    ) {
                        item_headers.insert(k, v);
                    }
                }
            }
            let item_body = match r.get("body") {
                Some(Value::String(s)) => Bytes::from(s.clone()),
                Some(v) => Bytes::from(v.to_string()),
                None => Bytes::new(),
            };
            let received = std::time::Instant::now();
            let (delay, fault) = shared.take_faults(&method, &path_and_query, Site::BatchItem);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut reply = match fault.as_ref().and_then(fault_reply) {
                Some(r) => r,
                None => handle(shared, &method, &path_and_query, &item_headers, &item_body),
            };
            if let Some(f) = &fault {
                apply_body_fault(
                    &mut reply,
                    f,
                    &format!("{}{}", shared.base_url, path_and_query),
                );
            }
            shared.record(
                &method,
                &path_and_query,
                bearer(&item_headers).is_some(),
                reply.status.as_u16(),
                true,
                received,
            );
            reply
        };
        statuses.insert(id.clone(), reply.status.as_u16());
        let mut item_headers = Map::new();
        let body = match reply.body {
            ReplyBody::Json(v) => {
                item_headers.insert("Content-Type".into(), json!("application/json"));
                Some(v)
            }
            ReplyBody::Text(t, ct) => {
                item_headers.insert("Content-Type".into(), json!(ct));
                Some(Value::String(t))
            }
            ReplyBody::Reset => None,
        };
        for (k, v) in reply.headers {
            item_headers.insert(k, json!(v));
        }
        let mut item = Map::new();
        item.insert("id".into(), json!(id));
        item.insert("status".into(), json!(reply.status.as_u16()));
        item.insert("headers".into(), Value::Object(item_headers));
        if let Some(b) = body {
            item.insert("body".into(), b);
        }
        responses.push(Value::Object(item));
    }
    // Graph does not keep request order; make sure clients correlate by id.
    responses.reverse();
    Reply::json(StatusCode::OK, json!({ "responses": responses }))
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockConfig;
    use crate::state::Shared;
    use crate::tenant::Tenant;
    use std::sync::atomic::Ordering;

    fn value_len(r: &Reply) -> Option<usize> {
        match &r.body {
            ReplyBody::Json(v) => v["value"].as_array().map(Vec::len),
            _ => None,
        }
    }

    /// A page of a 100,000-user tenant's users or group members is served from the lists
    /// built with the tenant: no request scans the users (the counter counts every item a
    /// scan or an index build visits).
    #[test]
    fn generated_tenant_serves_pages_without_scanning() {
        let tenant = Tenant::generated(100_000, 3).unwrap_or_else(|e| panic!("{e}"));
        let group = |name: &str| {
            tenant
                .groups
                .iter()
                .find(|g| g["displayName"] == name)
                .and_then(|g| str_field(g, "id"))
                .unwrap_or_default()
                .to_string()
        };
        let (all, pilot) = (group("All Users"), group("Pilot"));
        let members = tenant.member_list(&all, true).map(|l| l.ids.len());
        assert_eq!(
            members,
            Some(100_000),
            "transitive members are listed up front"
        );
        let shared = Shared::new(
            tenant,
            "http://127.0.0.1:1".into(),
            &MockConfig::generated(0, 3),
        );
        let app = shared.tenant.apps.iter().find(|a| a.name == "auditor");
        let token = app.map(|a| shared.mint_app_token(a)).unwrap_or_default();
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert("authorization", v);
        }
        let get = |path: &str| handle(&shared, &Method::GET, path, &headers, &Bytes::new());
        let scanned = || shared.tenant.scanned.load(Ordering::Relaxed);
        let before = scanned();
        let skip = odata::encode_skiptoken(50_000);
        for path in [
            format!("/v1.0/groups/{all}/transitiveMembers?$select=id&$skiptoken={skip}"),
            format!(
                "/v1.0/groups/{all}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$skiptoken={skip}"
            ),
            format!("/v1.0/groups/{all}/members?$skiptoken={skip}"),
            format!("/v1.0/users?$select=id,assignedLicenses&$skiptoken={skip}"),
            "/v1.0/users?$top=999".to_string(),
        ] {
            let r = get(&path);
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(value_len(&r), Some(999), "{path}");
        }
        let mut eventual = headers.clone();
        eventual.insert("consistencylevel", HeaderValue::from_static("eventual"));
        let counted = handle(
            &shared,
            &Method::GET,
            &format!("/v1.0/groups/{all}/transitiveMembers/$count"),
            &eventual,
            &Bytes::new(),
        );
        assert!(matches!(counted.body, ReplyBody::Text(ref n, _) if n == "100000"));
        assert_eq!(scanned(), before, "no page scanned the tenant");
        // A filter on members (cast to users, as Graph requires for a user property) has no
        // index: it scans the group, and the counter sees it.
        let r = get(&format!(
            "/v1.0/groups/{pilot}/members/microsoft.graph.user?$filter=accountEnabled eq true"
        ));
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(scanned(), before + 1_000);
    }

    #[test]
    fn segments_handle_key_syntax_and_escapes() {
        assert_eq!(
            segments("/deviceManagement/deviceEnrollmentConfigurations('abc_Default')/assignments"),
            vec![
                "deviceManagement",
                "deviceEnrollmentConfigurations",
                "abc_Default",
                "assignments"
            ]
        );
        assert_eq!(
            segments("/devices(deviceId='x-1')"),
            vec!["devices", "deviceId=x-1"]
        );
        assert_eq!(
            segments("/Users/Me/LICENSEDETAILS"),
            vec!["users", "me", "licenseDetails"]
        );
        assert_eq!(
            segments("/users/jdoe%40contoso.com"),
            vec!["users", "jdoe@contoso.com"]
        );
    }
}
