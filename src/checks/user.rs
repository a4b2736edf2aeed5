//! User checks USR001–USR008: one user's readiness for Windows MDM enrollment, evaluated in
//! memory over a [`TenantSnapshot`] (so N users cost no extra Graph calls).
//!
//! [`user_readiness`] is the entry point the correlation code calls with the device's
//! enrollment path; results that depend on the path say so in their evidence.

use std::collections::HashMap;

use crate::catalog::service_plans;
use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::checks::common::{ALL_PATHS, find_policy, paths_evidence, policy_location};
use crate::model::{EnrollmentPath, Evidence, Finding, SkipReason, Status, Subject};
use crate::tenant::precedence::{WindowsVersion, Winner, os_version_blocked, winning_restrictions};
use crate::tenant::snapshot::{
    ManagedDevice, Membership, MissingReason, MobilityPolicy, PolicyScope, TenantSnapshot, User,
};

pub const USR_CHECKS: [&str; 8] = [
    "USR001", "USR002", "USR003", "USR004", "USR005", "USR006", "USR007", "USR008",
];

/// What is known about the device the user enrolls (all optional).
#[derive(Debug, Clone, Default)]
pub struct DeviceContext {
    pub path: Option<EnrollmentPath>,
    /// OS version the device reports (`10.0.19045.3803`), for the restriction's min/max.
    pub os_version: Option<String>,
    /// Whether the device is registered with Autopilot (lets Entra join pass a personal block).
    pub autopilot_registered: Option<bool>,
}

impl DeviceContext {
    pub fn for_path(path: Option<EnrollmentPath>) -> Self {
        DeviceContext {
            path,
            ..Default::default()
        }
    }
}

/// USR001–USR008 for one user, for an optional enrollment path.
pub fn user_readiness(
    snap: &TenantSnapshot,
    upn: &str,
    path: Option<EnrollmentPath>,
) -> Vec<Finding> {
    user_readiness_with(snap, upn, &DeviceContext::for_path(path))
}

/// USR001–USR008 with everything known about the device.
pub fn user_readiness_with(snap: &TenantSnapshot, upn: &str, dev: &DeviceContext) -> Vec<Finding> {
    user_readiness_in(snap, &UserIndex::new(snap), upn, dev)
}

/// USR001–USR008 for many users over one index (users and their devices are looked up in
/// hash maps, so N users cost O(N), not O(N²)).
pub fn users_readiness(
    snap: &TenantSnapshot,
    upns: &[String],
    path: Option<EnrollmentPath>,
) -> Vec<Finding> {
    let index = UserIndex::new(snap);
    let dev = DeviceContext::for_path(path);
    upns.iter()
        .flat_map(|u| user_readiness_in(snap, &index, u, &dev))
        .collect()
}

/// Users and their Intune devices by lower-cased UPN and object id.
pub struct UserIndex<'a> {
    users: HashMap<String, &'a User>,
    managed: HashMap<String, Vec<&'a ManagedDevice>>,
}

impl<'a> UserIndex<'a> {
    pub fn new(snap: &'a TenantSnapshot) -> UserIndex<'a> {
        let mut users = HashMap::new();
        for u in snap.sources.users.data().into_iter().flatten() {
            users.insert(u.user_principal_name.to_lowercase(), u);
            users.insert(u.id.to_lowercase(), u);
        }
        let mut managed: HashMap<String, Vec<&ManagedDevice>> = HashMap::new();
        for d in snap.sources.managed_devices.data().into_iter().flatten() {
            let mut keys: Vec<String> = Vec::new();
            if let Some(id) = &d.user_id {
                keys.push(id.to_lowercase());
            }
            if let Some(upn) = &d.user_principal_name {
                keys.push(upn.to_lowercase());
            }
            keys.dedup();
            for k in keys {
                managed.entry(k).or_default().push(d);
            }
        }
        UserIndex { users, managed }
    }

    /// A user by UPN or object id (case-insensitive).
    pub fn user(&self, upn_or_id: &str) -> Option<&'a User> {
        self.users.get(&upn_or_id.trim().to_lowercase()).copied()
    }

    /// The user's Intune-managed devices, matched by user id or UPN.
    pub fn managed_devices(&self, user: &User) -> Vec<&'a ManagedDevice> {
        let mut out: Vec<&ManagedDevice> = Vec::new();
        for k in [
            user.id.to_lowercase(),
            user.user_principal_name.to_lowercase(),
        ] {
            for d in self.managed.get(&k).into_iter().flatten() {
                if !out.iter().any(|o| o.id == d.id) {
                    out.push(d);
                }
            }
        }
        out
    }
}

/// USR001–USR008 for one user, with a prebuilt index.
pub fn user_readiness_in(
    snap: &TenantSnapshot,
    index: &UserIndex<'_>,
    upn: &str,
    dev: &DeviceContext,
) -> Vec<Finding> {
    let subject = Subject::User(upn.to_string());
    let user = index.user(upn);
    let first = usr001_for(snap, upn, user);
    let Some(user) = user else {
        // Without the user object nothing else can be evaluated; say why once per check.
        let mut out = vec![first];
        for id in &USR_CHECKS[1..] {
            out.push(Finding::skip(
                id,
                subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!("the user object of {upn} (see USR001)"),
                },
            ));
        }
        return out;
    };
    vec![
        first,
        usr002_license(snap, user),
        usr003_mdm_scope(snap, user),
        usr004_mam_scope(snap, user, dev.path),
        usr005_platform_restriction(snap, user, dev),
        usr006_for(snap, user, index.managed_devices(user), dev.path),
        usr007_usage_location(snap, user),
        usr008_upn_suffix(snap, user),
    ]
}

fn subject(user: &User) -> Subject {
    Subject::User(user.user_principal_name.clone())
}

fn user_location(user: &User) -> String {
    format!("GET /v1.0/users/{}", user.id)
}

// --- USR001 -----------------------------------------------------------------------------------

pub fn usr001_user_exists(snap: &TenantSnapshot, upn: &str) -> Finding {
    usr001_for(snap, upn, snap.user(upn))
}

fn usr001_for(snap: &TenantSnapshot, upn: &str, user: Option<&User>) -> Finding {
    const ID: &str = "USR001";
    let subj = Subject::User(upn.to_string());
    let endpoint = match snap.sources.users.get() {
        Ok((_, e)) => e,
        Err(r) => return r.finding(ID, subj, "the users"),
    };
    match user {
        Some(u) if u.account_enabled == Some(false) => Finding::new(
            ID,
            Status::Fail,
            subj,
            "The user account is disabled (accountEnabled = false)",
        )
        .with_evidence(Evidence::new("graph", "accountEnabled = false").at(user_location(u)))
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation("Enable the account (Entra admin center > Users) before enrolling its devices."),
        Some(u) if u.is_guest() => Finding::new(
            ID,
            Status::Fail,
            subj,
            "The user is a B2B guest of this tenant: guests cannot enroll Windows devices into its Intune",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "userType = {}, userPrincipalName = {}",
                    u.user_type.as_deref().unwrap_or("(not returned)"),
                    u.user_principal_name
                ),
            )
            .at(user_location(u)),
        )
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation(
            "Enroll with the person's member account of this tenant (or create one); a guest's \
             devices belong to their home tenant's MDM.",
        ),
        Some(u) => Finding::new(ID, Status::Pass, subj, "The user exists and is enabled").with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "id {}, accountEnabled = {}",
                    u.id,
                    u.account_enabled
                        .map(|b| b.to_string())
                        .unwrap_or_else(|| "(not returned)".into())
                ),
            )
            .at(user_location(u)),
        ),
        None if snap.user_was_looked_up(upn) => Finding::new(
            ID,
            Status::Fail,
            subj,
            format!("No user {upn} exists in the tenant"),
        )
        .with_evidence(
            Evidence::new("graph", format!("no user with userPrincipalName {upn}"))
                .at(endpoint.to_string()),
        )
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation(
            "Check the UPN (the device may have been set up with another account, or the on-premises \
             UPN was not synchronised).",
        ),
        None => Finding::skip(
            ID,
            subj,
            SkipReason::NoEvidence {
                collect: format!("{upn}: the snapshot does not include this user (run check --user {upn} against Graph)"),
            },
        ),
    }
}

// --- USR002 -----------------------------------------------------------------------------------

/// The user's usable Intune MDM plans: (plan name, capabilityStatus, how it was found).
fn usable_intune_plans(snap: &TenantSnapshot, user: &User) -> Vec<(&'static str, String, String)> {
    let skus = snap.sources.subscribed_skus.data();
    // SKUs (of this user) that contain a given plan, per the tenant's subscribedSkus.
    let skus_with = |plan_id: &str| -> Vec<&crate::tenant::snapshot::AssignedLicense> {
        user.assigned_licenses
            .iter()
            .filter(|l| {
                skus.is_some_and(|skus| {
                    skus.iter().any(|s| {
                        s.sku_id.eq_ignore_ascii_case(&l.sku_id)
                            && s.service_plans
                                .iter()
                                .any(|p| p.service_plan_id.eq_ignore_ascii_case(plan_id))
                    })
                })
            })
            .collect()
    };
    let disabled_everywhere = |plan_id: &str| {
        let holders = skus_with(plan_id);
        let considered: Vec<_> = if holders.is_empty() {
            user.assigned_licenses.iter().collect()
        } else {
            holders
        };
        !considered.is_empty()
            && considered.iter().all(|l| {
                l.disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(plan_id))
            })
    };
    let mut out = Vec::new();
    for p in &user.assigned_plans {
        let Some(plan) = service_plans::intune_plan_by_id(&p.service_plan_id) else {
            continue;
        };
        let status = p
            .capability_status
            .clone()
            .unwrap_or_else(|| "unknown".into());
        if (status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning"))
            && !disabled_everywhere(plan.id)
        {
            out.push((plan.name, status, "assignedPlans".to_string()));
        }
    }
    if user.assigned_plans.is_empty() {
        // Some exports carry licences only: derive the plans from the tenant's SKUs.
        for l in &user.assigned_licenses {
            let Some(sku) =
                skus.and_then(|s| s.iter().find(|s| s.sku_id.eq_ignore_ascii_case(&l.sku_id)))
            else {
                continue;
            };
            for sp in &sku.service_plans {
                let Some(plan) = service_plans::is_intune_mdm_plan(
                    &sp.service_plan_id,
                    sp.service_plan_name.as_deref(),
                ) else {
                    continue;
                };
                if l.disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(plan.id))
                {
                    continue;
                }
                let status = sku
                    .capability_status
                    .clone()
                    .unwrap_or_else(|| "unknown".into());
                if status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning")
                {
                    out.push((
                        plan.name,
                        status,
                        format!(
                            "licence {}",
                            sku.sku_part_number.as_deref().unwrap_or(&sku.sku_id)
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// `SPE_E3 (05e9a617-…)` when the tenant's SKUs name it, else the id.
fn sku_label(snap: &TenantSnapshot, sku_id: &str) -> String {
    snap.sources
        .subscribed_skus
        .data()
        .and_then(|skus| skus.iter().find(|s| s.sku_id.eq_ignore_ascii_case(sku_id)))
        .and_then(|s| s.sku_part_number.as_deref())
        .map(|name| format!("{name} ({sku_id})"))
        .unwrap_or_else(|| sku_id.to_string())
}

/// A group's display name with its id, when the snapshot resolved it.
fn group_label(snap: &TenantSnapshot, group_id: &str) -> String {
    match snap
        .sources
        .group_memberships
        .data()
        .map(|m| m.group_name(group_id))
    {
        Some(name) if !name.eq_ignore_ascii_case(group_id) => format!("{name} ({group_id})"),
        _ => group_id.to_string(),
    }
}

pub fn usr002_license(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &str = "USR002";
    let loc = format!(
        "{}?$select=assignedLicenses,assignedPlans,licenseAssignmentStates",
        user_location(user)
    );
    let usable = usable_intune_plans(snap, user);
    let mut evidence = Vec::new();
    for (name, status, how) in &usable {
        evidence.push(
            Evidence::new(
                "graph",
                format!("{name} capabilityStatus = {status} ({how})"),
            )
            .at(loc.clone()),
        );
    }
    for p in &user.assigned_plans {
        if let Some(plan) = service_plans::intune_plan_by_id(&p.service_plan_id)
            && !usable.iter().any(|(n, _, _)| *n == plan.name)
        {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} capabilityStatus = {} (not usable{})",
                        plan.name,
                        p.capability_status.as_deref().unwrap_or("unknown"),
                        if user.assigned_licenses.iter().any(|l| l
                            .disabled_plans
                            .iter()
                            .any(|d| d.eq_ignore_ascii_case(plan.id)))
                        {
                            ", disabled in disabledPlans"
                        } else {
                            ""
                        }
                    ),
                )
                .at(loc.clone()),
            );
        }
        if let Some(plan) = service_plans::insufficient_plan_by_id(&p.service_plan_id) {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} ({}) is assigned but does not license Intune MDM",
                        plan.name, plan.description
                    ),
                )
                .at(loc.clone()),
            );
        }
    }
    for s in user
        .license_assignment_states
        .iter()
        .filter(|s| s.has_error())
    {
        evidence.push(
            Evidence::new(
                "graph",
                format!(
                    "licenseAssignmentStates: SKU {} {} state {} error {}",
                    sku_label(snap, &s.sku_id),
                    s.assigned_by_group
                        .as_deref()
                        .map(|g| format!("from group {}", group_label(snap, g)))
                        .unwrap_or_else(|| "assigned directly".into()),
                    s.state.as_deref().unwrap_or("?"),
                    s.error.as_deref().unwrap_or("?")
                ),
            )
            .at(loc.clone()),
        );
    }
    let paths = paths_evidence(&ALL_PATHS, "");
    let enabled = usable
        .iter()
        .any(|(_, s, _)| s.eq_ignore_ascii_case("Enabled"));
    let f = if enabled {
        Finding::new(
            ID,
            Status::Pass,
            subject(user),
            "The user holds an enabled Intune licence",
        )
    } else if !usable.is_empty() {
        Finding::new(
            ID,
            Status::Warn,
            subject(user),
            "The user's Intune licence is in its grace period (Warning)",
        )
        .with_remediation(
            "Renew the subscription: when it lapses the user's devices stop enrolling.",
        )
    } else {
        if evidence.is_empty() {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} assigned licence(s), no Intune MDM service plan",
                        user.assigned_licenses.len()
                    ),
                )
                .at(loc.clone()),
            );
        }
        // Name the group-licensing error in the summary: it is the fix the admin needs.
        let licensing_errors: Vec<&str> = user
            .license_assignment_states
            .iter()
            .filter(|s| s.has_error())
            .filter_map(|s| s.error.as_deref())
            .filter(|e| !e.eq_ignore_ascii_case("none"))
            .collect();
        // An Intune plan that is there but Suspended/LockedOut means the subscription lapsed:
        // renewing it, not assigning another licence, is the fix.
        let lapsed: Vec<String> = user
            .assigned_plans
            .iter()
            .filter(|p| service_plans::intune_plan_by_id(&p.service_plan_id).is_some())
            .filter_map(|p| p.capability_status.clone())
            .filter(|st| {
                st.eq_ignore_ascii_case("Suspended") || st.eq_ignore_ascii_case("LockedOut")
            })
            .collect();
        let summary = if !lapsed.is_empty() && licensing_errors.is_empty() {
            format!(
                "The user's Intune plan is {} (the subscription lapsed or was cancelled): enrollment fails (0x80180018)",
                lapsed.join("/")
            )
        } else if licensing_errors.is_empty() {
            "The user has no enabled Intune licence: enrollment fails (0x80180018)".to_string()
        } else {
            format!(
                "The user has no enabled Intune licence (licence assignment failed: {}): enrollment fails (0x80180018)",
                licensing_errors.join(", ")
            )
        };
        Finding::new(ID, Status::Fail, subject(user), summary).with_remediation(
            "Assign a licence that includes Intune Plan 1 (INTUNE_A; e.g. Microsoft 365 E3/E5, \
             Business Premium, EMS) and make sure the Intune plan is not switched off in the \
             assignment; Basic Mobility and Security (INTUNE_O365) is not enough. Fix any \
             group-licensing error shown in the evidence (CountViolation: no free licences left; \
             MutuallyExclusiveViolation: conflicting SKUs; DependencyViolation: a required plan \
             is missing; UsageLocationNotAllowed/ProhibitedInUsageLocationViolation: set the \
             usage location), then reprocess the group's licences. A Suspended or LockedOut \
             plan means the subscription lapsed: renew it in the Microsoft 365 admin center.",
        )
    };
    let mut f = f;
    for e in evidence {
        f = f.with_evidence(e);
    }
    f.with_evidence(paths)
}

// --- USR003 / USR004 --------------------------------------------------------------------------

/// Is the user covered by a mobility policy? `(covered, via)`; `None` when membership is unknown.
fn covered_by(snap: &TenantSnapshot, user: &User, p: &MobilityPolicy) -> Option<(bool, String)> {
    match p.scope() {
        PolicyScope::All => Some((true, "scope All".into())),
        PolicyScope::None | PolicyScope::Unknown => {
            Some((false, format!("scope {}", p.scope().as_str())))
        }
        PolicyScope::Selected => {
            let memberships = snap.sources.group_memberships.data();
            let mut unknown = false;
            for g in &p.included_groups {
                let name = g.display_name.clone().unwrap_or_else(|| g.id.clone());
                match memberships.map(|m| m.is_member(&user.id, &g.id)) {
                    Some(Membership::Member) => {
                        return Some((true, format!("transitive member of included group {name}")));
                    }
                    Some(Membership::NotMember) => {}
                    Some(Membership::Unknown) | None => unknown = true,
                }
            }
            if unknown {
                None
            } else {
                let names: Vec<String> = p
                    .included_groups
                    .iter()
                    .map(|g| g.display_name.clone().unwrap_or_else(|| g.id.clone()))
                    .collect();
                Some((
                    false,
                    format!("not a member of any included group ({})", names.join(", ")),
                ))
            }
        }
    }
}

pub fn usr003_mdm_scope(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &str = "USR003";
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject(user), "the MDM user scope policies"),
    };
    let loc = policy_location("mobileDeviceManagementPolicies", MICROSOFT_INTUNE_APP_ID);
    let paths = paths_evidence(
        &[
            EnrollmentPath::GpoHybrid,
            EnrollmentPath::EntraJoin,
            EnrollmentPath::EntraRegistered,
        ],
        "co-management device-credential enrollment does not use the user scope",
    );
    let Some(p) = find_policy(list, MICROSOFT_INTUNE_APP_ID) else {
        return Finding::new(
            ID,
            Status::Fail,
            subject(user),
            "No Microsoft Intune MDM policy: nobody is in the MDM user scope",
        )
        .with_evidence(Evidence::new("graph", "no policy with the Microsoft Intune app id").at(loc))
        .with_evidence(paths)
        .with_remediation(
            "Configure Mobility (MDM and WIP) > Microsoft Intune in the Entra admin center.",
        );
    };
    if snap.sources.group_memberships.data().is_none()
        && p.scope() == PolicyScope::Selected
        && let Err(r) = snap.sources.group_memberships.get()
    {
        return r.finding(ID, subject(user), "the user's group memberships");
    }
    match covered_by(snap, user, p) {
        Some((true, via)) => Finding::new(ID, Status::Pass, subject(user), "The user is in the MDM user scope of Microsoft Intune")
            .with_evidence(Evidence::new("graph", format!("\"{}\" {}: {via}", p.name(), p.scope().as_str())).at(loc))
            .with_evidence(paths),
        Some((false, via)) => Finding::new(
            ID,
            Status::Fail,
            subject(user),
            "The user is not in the MDM user scope of Microsoft Intune: automatic enrollment does not start (0x8018002B on GPO devices)",
        )
        .with_evidence(Evidence::new("graph", format!("\"{}\" appliesTo = {}: {via}", p.name(), p.scope().as_str())).at(loc))
        .with_evidence(paths)
        .with_remediation(
            "Add the user (or a group they belong to) to the MDM user scope groups, or set the scope \
             to All: Entra admin center > Mobility (MDM and WIP) > Microsoft Intune.",
        ),
        None => Finding::skip(
            ID,
            subject(user),
            SkipReason::NoEvidence {
                collect: "the user's group memberships (transitiveMemberOf)".into(),
            },
        ),
    }
}

pub fn usr004_mam_scope(
    snap: &TenantSnapshot,
    user: &User,
    path: Option<EnrollmentPath>,
) -> Finding {
    const ID: &str = "USR004";
    let (list, _) = match snap.sources.mam_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject(user), "the MAM user scope policies"),
    };
    let paths = paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "corporate, Entra-joined, hybrid-joined and co-managed devices still get MDM",
    );
    let mut hit = None;
    let mut unknown = false;
    for p in list {
        match covered_by(snap, user, p) {
            Some((true, via)) => {
                hit = Some((p, via));
                break;
            }
            Some((false, _)) => {}
            None => unknown = true,
        }
    }
    let Some((p, via)) = hit else {
        if unknown {
            return Finding::skip(
                ID,
                subject(user),
                SkipReason::NoEvidence {
                    collect: "the user's group memberships (transitiveMemberOf)".into(),
                },
            );
        }
        return Finding::new(
            ID,
            Status::Pass,
            subject(user),
            "The user is not in a MAM user scope",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!("{} MAM policies; none covers the user", list.len()),
            )
            .at("GET /beta/policies/mobileAppManagementPolicies?$expand=includedGroups"),
        )
        .with_evidence(paths);
    };
    let ev = Evidence::new(
        "graph",
        format!("MAM \"{}\" {}: {via}", p.name(), p.scope().as_str()),
    )
    .at(policy_location("mobileAppManagementPolicies", &p.id));
    match path {
        Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::EntraJoin) => Finding::new(
            ID,
            Status::Pass,
            subject(user),
            format!(
                "The user is in the MAM user scope, but this device ({}) is corporate/joined and still gets MDM",
                path.map(|p| p.as_str()).unwrap_or("")
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths),
        Some(EnrollmentPath::EntraRegistered) => Finding::new(
            ID,
            Status::Warn,
            subject(user),
            "The user is in the MAM user scope: this personal (Entra-registered, \"Add work account\") device gets MAM, not MDM",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "To enroll this device into MDM, remove the user from the MAM (WIP) user scope, or join \
             the device to Entra ID (joined and hybrid-joined devices get MDM).",
        ),
        _ => Finding::new(
            ID,
            Status::Warn,
            subject(user),
            "The user is in the MAM user scope: personal (Entra-registered, \"Add work account\") devices get MAM instead of MDM; corporate and hybrid-joined devices still get MDM",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "If the user's personal Windows devices should enroll into MDM, remove the user from the \
             MAM (WIP) user scope.",
        ),
    }
}

// --- USR005 / USR006 --------------------------------------------------------------------------

fn winner_evidence(w: &Winner<'_>) -> Vec<Evidence> {
    let mut out = vec![
        Evidence::new("graph", w.reasoning.first().cloned().unwrap_or_default()).at(w.describe()),
    ];
    out.push(Evidence::new("graph", format!("configuration {}", w.config.id)).at(w.location()));
    for r in w.reasoning.iter().skip(1) {
        out.push(Evidence::new("precedence", r.clone()));
    }
    out
}

pub fn usr005_platform_restriction(
    snap: &TenantSnapshot,
    user: &User,
    dev: &DeviceContext,
) -> Finding {
    const ID: &str = "USR005";
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject(user), "the enrollment restrictions"),
    };
    let w = winning_restrictions(configs, user, snap.sources.group_memberships.data());
    let Some(w) = w.windows_platform else {
        return Finding::new(
            ID,
            Status::Warn,
            subject(user),
            "No Windows platform restriction was returned: cannot tell which applies",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!("{} enrollment configurations", configs.len()),
            )
            .at(endpoint.to_string()),
        );
    };
    // A restriction may target the user's groups, but the memberships could not be read:
    // say why (Graph error, missing permission) instead of guessing.
    if w.uncertain
        && let Err(reason) = snap.sources.group_memberships.get()
    {
        return reason.finding(ID, subject(user), "the user's group memberships");
    }
    let r = w.config.windows().cloned().unwrap_or_default();
    let mut evidence = winner_evidence(&w);
    evidence.push(Evidence::new(
        "graph",
        format!(
            "Windows: platformBlocked = {}, personalDeviceEnrollmentBlocked = {}, osMinimumVersion = {}, osMaximumVersion = {}",
            r.platform_blocked.unwrap_or(false),
            r.personal_device_enrollment_blocked.unwrap_or(false),
            r.os_minimum_version.as_deref().unwrap_or("(unset)"),
            r.os_maximum_version.as_deref().unwrap_or("(unset)")
        ),
    ));
    let mut status = Status::Pass;
    let mut problems: Vec<String> = Vec::new();
    let mut fix = String::new();
    if r.platform_blocked.unwrap_or(false) {
        status = Status::Fail;
        problems.push(format!(
            "the winning {} blocks Windows (MDM) enrollment (0x80180014)",
            w.describe()
        ));
        fix = format!(
            "Allow Windows (MDM) in \"{}\" or remove the user from its groups; Intune admin center > \
             Devices > Enrollment > Device platform restriction.",
            w.config.name()
        );
    }
    if r.personal_device_enrollment_blocked.unwrap_or(false) && status != Status::Fail {
        let note = "GPO (hybrid) and co-management enrollments count as corporate and pass; Entra join \
                    automatic enrollment is blocked unless the device is registered with Autopilot; \
                    \"Add work account\" is blocked";
        evidence.push(paths_evidence(
            &[EnrollmentPath::EntraJoin, EnrollmentPath::EntraRegistered],
            note,
        ));
        match dev.path {
            Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement) => {
                problems.push("personal Windows devices are blocked, but this enrollment path counts as corporate".into());
            }
            Some(EnrollmentPath::EntraJoin) if dev.autopilot_registered == Some(true) => {
                problems.push("personal Windows devices are blocked, but the device is registered with Autopilot".into());
            }
            Some(EnrollmentPath::EntraJoin) if dev.autopilot_registered == Some(false) => {
                status = Status::Fail;
                problems.push("personal Windows devices are blocked and this Entra join enrollment is not Autopilot-registered".into());
            }
            Some(EnrollmentPath::EntraRegistered) => {
                status = Status::Fail;
                problems.push("personal Windows devices are blocked: \"Add work account\" enrollment is refused".into());
            }
            _ => {
                status = Status::Warn;
                problems.push("personal Windows devices are blocked: Entra join without Autopilot and \"Add work account\" enrollments are refused".into());
            }
        }
        if status != Status::Pass {
            fix = "Register Entra-joined devices with Autopilot (or upload corporate identifiers), or \
                   allow personal Windows devices in the winning restriction."
                .into();
        }
    }
    let min = r.os_minimum_version.as_deref();
    let max = r.os_maximum_version.as_deref();
    for (label, value) in [("osMinimumVersion", min), ("osMaximumVersion", max)] {
        if let Some(v) = value
            && WindowsVersion::parse(v).is_none()
        {
            if status == Status::Pass {
                status = Status::Warn;
                fix = format!(
                    "Enter the version of \"{}\" as major.minor.build[.revision], e.g. 10.0.19045.",
                    w.config.name()
                );
            }
            problems.push(format!(
                "{label} \"{v}\" is not a major.minor.build.revision version: not compared"
            ));
        }
    }
    if let Some(v) = dev.os_version.as_deref().and_then(WindowsVersion::parse) {
        if let Some(why) = os_version_blocked(min, max, v) {
            status = Status::Fail;
            problems.push(why);
            fix = format!(
                "Adjust the OS version range of \"{}\" or update the device.",
                w.config.name()
            );
        }
    } else if let Some(m) = min.and_then(WindowsVersion::parse)
        && m.0[3] != 0
        && status == Status::Pass
    {
        status = Status::Warn;
        problems.push(format!(
            "the minimum version {m} has a revision: Windows does not send its revision at enrollment, so every device of build {} is blocked",
            m.build()
        ));
        fix = format!(
            "Set the minimum of \"{}\" to {}.{}.{}.0 (no revision).",
            w.config.name(),
            m.0[0],
            m.0[1],
            m.0[2]
        );
    }
    if w.uncertain {
        evidence.push(Evidence::new(
            "precedence",
            "some higher-priority restriction may apply: the user's membership of its groups is unknown",
        ));
        if status == Status::Pass {
            // A pass built on unknown memberships would be a guess.
            status = Status::Warn;
            problems.push(format!(
                "cannot confirm the winning restriction ({}): the user's group memberships are unknown",
                w.describe()
            ));
            fix = "Collect the user's group memberships (run `check --user` against Graph, or save a \
                   snapshot whose memberships cover the restriction's groups) and run again."
                .into();
        }
    }
    let summary = if problems.is_empty() {
        format!(
            "The winning Windows restriction allows enrollment: {}",
            w.describe()
        )
    } else {
        let mut s = problems.join("; ");
        if let Some(first) = s.get(0..1) {
            s = first.to_uppercase() + &s[1..];
        }
        s
    };
    let mut f = Finding::new(ID, status, subject(user), summary).with_remediation(fix);
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}

/// The user's Intune-managed devices (by user id or UPN).
pub fn user_managed_devices<'a>(
    snap: &'a TenantSnapshot,
    user: &User,
) -> Option<Vec<&'a ManagedDevice>> {
    let devices = snap.sources.managed_devices.data()?;
    Some(
        devices
            .iter()
            .filter(|d| {
                d.user_id
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&user.id))
                    || d.user_principal_name
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&user.user_principal_name))
            })
            .collect(),
    )
}

pub fn usr006_device_limit(
    snap: &TenantSnapshot,
    user: &User,
    path: Option<EnrollmentPath>,
) -> Finding {
    usr006_for(
        snap,
        user,
        user_managed_devices(snap, user).unwrap_or_default(),
        path,
    )
}

fn usr006_for(
    snap: &TenantSnapshot,
    user: &User,
    devices: Vec<&ManagedDevice>,
    path: Option<EnrollmentPath>,
) -> Finding {
    const ID: &str = "USR006";
    // Both sources denied: name every permission to grant, not just the first.
    if let (
        Err(MissingReason::InsufficientPermission { needed: a }),
        Err(MissingReason::InsufficientPermission { needed: b }),
    ) = (
        snap.sources.enrollment_configurations.get(),
        snap.sources.managed_devices.get(),
    ) {
        let mut needed = a.clone();
        needed.extend(b.iter().filter(|p| !a.contains(p)).cloned());
        return MissingReason::InsufficientPermission { needed }.finding(
            ID,
            subject(user),
            "the enrollment restrictions and the user's Intune managed devices",
        );
    }
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject(user), "the enrollment restrictions"),
    };
    if let Err(r) = snap.sources.managed_devices.get() {
        return r.finding(ID, subject(user), "the user's Intune managed devices");
    }
    let w = winning_restrictions(configs, user, snap.sources.group_memberships.data());
    let Some(w) = w.device_limit else {
        return Finding::new(
            ID,
            Status::Pass,
            subject(user),
            "No device limit restriction was returned",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!("{} enrollment configurations", configs.len()),
            )
            .at(endpoint.to_string()),
        );
    };
    if w.uncertain
        && let Err(reason) = snap.sources.group_memberships.get()
    {
        return reason.finding(ID, subject(user), "the user's group memberships");
    }
    let limit = w.config.limit.unwrap_or(i64::MAX);
    let count = devices.len() as i64;
    let mut evidence = winner_evidence(&w);
    let names: Vec<&str> = devices
        .iter()
        .map(|d| d.device_name.as_deref().unwrap_or(&d.id))
        .collect();
    evidence.push(
        Evidence::new(
            "graph",
            format!(
                "the user has {count} Intune-managed device(s) [{}], limit {limit}",
                names.join(", ")
            ),
        )
        .at(snap
            .sources
            .managed_devices
            .endpoint()
            .unwrap_or("GET /v1.0/deviceManagement/managedDevices")
            .to_string()),
    );
    evidence.push(paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "not enforced for GPO, co-management, Entra join, bulk or Autopilot enrollments",
    ));
    let at_limit = count >= limit;
    let (status, summary, fix) = match (at_limit, path) {
        (false, _) => (
            Status::Pass,
            format!("{count} of {limit} devices used"),
            String::new(),
        ),
        (
            true,
            Some(
                p @ (EnrollmentPath::GpoHybrid
                | EnrollmentPath::CoManagement
                | EnrollmentPath::EntraJoin),
            ),
        ) => (
            Status::Pass,
            format!(
                "The user is at the device limit ({count}/{limit}), but the limit is not enforced on the {p} path"
            ),
            String::new(),
        ),
        (true, _) => (
            Status::Fail,
            format!(
                "The user is at the device limit ({count}/{limit}): user-driven enrollments (\"Add work account\") are refused"
            ),
            format!(
                "Retire unused devices of the user or raise the limit of \"{}\"; GPO, co-management, \
                 Entra join and Autopilot enrollments are not counted against it.",
                w.config.name()
            ),
        ),
    };
    let mut f = Finding::new(ID, status, subject(user), summary).with_remediation(fix);
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}

// --- USR007 / USR008 --------------------------------------------------------------------------

pub fn usr007_usage_location(_snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &str = "USR007";
    let loc = format!("{}?$select=usageLocation", user_location(user));
    match &user.usage_location {
        Some(l) => Finding::new(ID, Status::Pass, subject(user), format!("usageLocation is {l}"))
            .with_evidence(Evidence::new("graph", format!("usageLocation = {l}")).at(loc)),
        None => Finding::new(
            ID,
            Status::Warn,
            subject(user),
            "The user has no usageLocation: direct licence assignment fails, group licensing falls back to the tenant's country",
        )
        .with_evidence(Evidence::new("graph", "usageLocation = null").at(loc))
        .with_evidence(paths_evidence(&ALL_PATHS, "through licensing (USR002)"))
        .with_remediation("Set the user's usage location (Entra admin center > Users > Properties)."),
    }
}

/// Suffixes that never resolve on the internet (enrollment discovery cannot work). The redactor
/// keeps these as they are so USR008 gives the same answer on a redacted snapshot.
pub(crate) const NON_ROUTABLE: &[&str] = &[
    "local",
    "lan",
    "internal",
    "localdomain",
    "corp",
    "home",
    "intranet",
];

pub fn usr008_upn_suffix(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &str = "USR008";
    let (org, endpoint) = match snap.sources.organization.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject(user), "the organization's verified domains"),
    };
    let upn = &user.user_principal_name;
    let domain = upn
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let verified = org
        .verified_domains
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&domain));
    let tld = domain.rsplit('.').next().unwrap_or("");
    let ev = Evidence::new(
        "graph",
        format!(
            "UPN suffix {domain}; verified domains: {}",
            org.verified_domains
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .at(endpoint.to_string());
    let paths = paths_evidence(&ALL_PATHS, "");
    if domain.is_empty() || NON_ROUTABLE.contains(&tld) || !domain.contains('.') {
        return Finding::new(
            ID,
            Status::Fail,
            subject(user),
            format!("The UPN suffix \"{domain}\" is not routable: enrollment discovery fails (0x8018002B)"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Give the user a UPN in a verified, routable domain (add a UPN suffix on-premises and \
             resynchronise).",
        );
    }
    if verified {
        Finding::new(
            ID,
            Status::Pass,
            subject(user),
            format!("The UPN suffix {domain} is a verified domain"),
        )
        .with_evidence(ev)
    } else {
        Finding::new(
            ID,
            Status::Fail,
            subject(user),
            format!("The UPN suffix {domain} is not a verified domain of the tenant (0x8018002B)"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Verify the domain in Entra ID or change the user's UPN suffix to a verified domain.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::{MDM_ALL, base, json};
    use crate::tenant::snapshot::{GroupMemberships, GroupRef, MissingReason, Source, UserScope};

    const SCOPE_GROUP: &str = "4d0ef681-e88f-42a3-a2db-e6bf1e249e10";
    const PILOT: &str = "7a1c0f3e-5b2d-4e6f-8a9b-0c1d2e3f4a5b";

    fn user_json(extra: &str) -> String {
        format!(
            r#"{{"id":"u1","userPrincipalName":"jdoe@contoso.com","accountEnabled":true,"usageLocation":"US",
            "assignedLicenses":[{{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","disabledPlans":[]}}],
            "assignedPlans":[{{"capabilityStatus":"Enabled","service":"SCO","servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5"}}]{extra}}}"#
        )
    }

    fn snap_with(user: &str, groups: &[&str]) -> TenantSnapshot {
        let mut s = base();
        s.user_scope = UserScope::Selected {
            upns: vec!["jdoe@contoso.com".into()],
        };
        s.sources.users = Source::collected("GET /v1.0/users", json(&format!("[{user}]")));
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(
                r#"{"id":"t","verifiedDomains":[{"name":"contoso.com","isDefault":true},{"name":"contoso.onmicrosoft.com","isInitial":true}]}"#,
            ),
        );
        let mut m = GroupMemberships {
            all_users_resolved: false,
            ..Default::default()
        };
        m.members
            .insert("u1".into(), groups.iter().map(|g| g.to_string()).collect());
        m.groups.insert(
            PILOT.into(),
            GroupRef {
                id: PILOT.into(),
                display_name: Some("Pilot".into()),
            },
        );
        s.sources.group_memberships =
            Source::collected("GET /v1.0/users/{id}/transitiveMemberOf", m);
        s.sources.mdm_policies = Source::collected(
            "GET /beta/policies/mobileDeviceManagementPolicies",
            json(MDM_ALL),
        );
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"none"}]"#),
        );
        s.sources.managed_devices =
            Source::collected("GET /v1.0/deviceManagement/managedDevices", vec![]);
        s
    }

    fn status(fs: &[Finding], id: &str) -> Status {
        fs.iter()
            .find(|f| f.check == id)
            .map(|f| f.status.clone())
            .unwrap_or(Status::Error)
    }

    #[test]
    fn usr001_found_disabled_missing_and_not_looked_up() {
        let s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "JDOE@contoso.com", None), "USR001"),
            Status::Pass
        );
        let s = snap_with(
            &user_json(r#","accountEnabled":false"#).replacen(r#""accountEnabled":true,"#, "", 1),
            &[],
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR001"),
            Status::Fail
        );
        let mut s = snap_with(&user_json(""), &[]);
        s.user_scope = UserScope::Selected {
            upns: vec!["ghost@contoso.com".into()],
        };
        let fs = user_readiness(&s, "ghost@contoso.com", None);
        assert_eq!(status(&fs, "USR001"), Status::Fail);
        assert_eq!(status(&fs, "USR002"), Status::Skip);
        assert_eq!(fs.len(), 8);
        let fs = user_readiness(&s, "other@contoso.com", None);
        assert_eq!(status(&fs, "USR001"), Status::Skip);
    }

    #[test]
    fn usr001_guest_fails_by_type_or_ext_upn() {
        let s = snap_with(&user_json(r#","userType":"Guest""#), &[]);
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        let f = fs.iter().find(|f| f.check == "USR001");
        assert!(
            f.is_some_and(|f| f.status == Status::Fail && f.summary.contains("guest")),
            "{f:#?}"
        );
        let s = snap_with(&user_json(r#","userType":"Member""#), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR001"),
            Status::Pass
        );
        // userType not returned (older snapshot): the #EXT# UPN gives the guest away.
        let ext = "pat_fabrikam.com#EXT#@contoso.onmicrosoft.com";
        let mut s = snap_with(&user_json("").replace("jdoe@contoso.com", ext), &[]);
        s.user_scope = UserScope::Selected {
            upns: vec![ext.into()],
        };
        assert_eq!(
            status(&user_readiness(&s, ext, None), "USR001"),
            Status::Fail
        );
    }

    #[test]
    fn usr002_licence_variants() {
        let s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Pass
        );
        let o365 = user_json("").replace(
            "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
            "882e1d05-acd1-4ccb-8708-6ee03664b117",
        );
        let s = snap_with(&o365, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| e.detail.contains("INTUNE_O365")));
        let warn = user_json("").replace("\"Enabled\"", "\"Warning\"");
        let s = snap_with(&warn, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Warn
        );
        let suspended = user_json(r#","licenseAssignmentStates":[{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","assignedByGroup":"g1","state":"Error","error":"CountViolation"}]"#)
            .replace("\"Enabled\"", "\"Suspended\"");
        let s = snap_with(&suspended, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("CountViolation"))
        );
        assert!(f.summary.contains("CountViolation"), "{}", f.summary);
        let lapsed = user_json("").replace("\"Enabled\"", "\"Suspended\"");
        let s = snap_with(&lapsed, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("Suspended"), "{}", f.summary);
        let disabled = user_json("").replace(
            r#""disabledPlans":[]"#,
            r#""disabledPlans":["c1ec4a95-1f05-45b3-a911-aa3fa01094f5"]"#,
        );
        let s = snap_with(&disabled, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Fail
        );
    }

    #[test]
    fn usr002_from_licences_only() {
        let only_licences = r#"{"id":"u1","userPrincipalName":"jdoe@contoso.com","assignedLicenses":[{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","disabledPlans":[]}]}"#;
        let mut s = snap_with(only_licences, &[]);
        s.sources.subscribed_skus = Source::collected(
            "GET /v1.0/subscribedSkus",
            json(
                r#"[{"id":"t_x","skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","skuPartNumber":"SPE_E3","capabilityStatus":"Enabled","servicePlans":[{"servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5","servicePlanName":"INTUNE_A"}]}]"#,
            ),
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Pass
        );
    }

    fn selected(group: &str) -> String {
        format!(
            r#"[{{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"selected","displayName":"Microsoft Intune","includedGroups":[{{"id":"{group}","displayName":"Intune Users"}}]}}]"#
        )
    }

    #[test]
    fn usr003_scope_with_transitive_membership() {
        let mut s = snap_with(&user_json(""), &[SCOPE_GROUP]);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&selected(SCOPE_GROUP)));
        let f = usr003_mdm_scope(&s, s.user("u1").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Pass);
        assert!(f.evidence[0].detail.contains("Intune Users"));
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&selected(SCOPE_GROUP)));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR003"),
            Status::Fail
        );
        let none = MDM_ALL.replacen("\"all\"", "\"none\"", 1);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&none));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR003"),
            Status::Fail
        );
        s.sources.mdm_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        s.sources.mam_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR003"), Status::Skip);
        assert_eq!(status(&fs, "USR004"), Status::Skip);
        assert_eq!(
            status(&fs, "USR002"),
            Status::Pass,
            "other checks still run"
        );
    }

    #[test]
    fn usr004_mam_depends_on_path() {
        let mut s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR004"),
            Status::Pass
        );
        s.sources.mam_policies = Source::collected(
            "GET /beta/x",
            json(
                r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","displayName":"Microsoft Intune"}]"#,
            ),
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR004"),
            Status::Warn
        );
        assert_eq!(
            status(
                &user_readiness(&s, "jdoe@contoso.com", Some(EnrollmentPath::GpoHybrid)),
                "USR004"
            ),
            Status::Pass
        );
        assert_eq!(
            status(
                &user_readiness(
                    &s,
                    "jdoe@contoso.com",
                    Some(EnrollmentPath::EntraRegistered)
                ),
                "USR004"
            ),
            Status::Warn
        );
        let registered = user_readiness(
            &s,
            "jdoe@contoso.com",
            Some(EnrollmentPath::EntraRegistered),
        );
        let f = registered.iter().find(|f| f.check == "USR004");
        assert!(
            f.is_some_and(|f| f.summary.contains("this personal")),
            "a registered device is told it gets MAM: {f:?}"
        );
    }

    fn restrictions(personal: bool, blocked: bool, min: &str) -> String {
        format!(
            r##"[
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration","id":"t_DefaultPlatformRestrictions","priority":0,"displayName":"All users and all devices",
            "windowsRestriction":{{"platformBlocked":false,"personalDeviceEnrollmentBlocked":false,"osMinimumVersion":"","osMaximumVersion":""}}}},
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration","id":"c1_SinglePlatformRestriction","priority":1,"displayName":"Pilot Windows block","platformType":"windows",
            "platformRestriction":{{"platformBlocked":{blocked},"personalDeviceEnrollmentBlocked":{personal},"osMinimumVersion":"{min}","osMaximumVersion":null}},
            "assignments":[{{"id":"a1","target":{{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"{PILOT}"}}}}]}},
          {{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"t_DefaultLimit","priority":0,"limit":2,"displayName":"All users and all devices"}}
        ]"##
        )
    }

    #[test]
    fn usr005_blocked_windows_names_the_winner() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations",
            json(&restrictions(false, true, "")),
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence.iter().any(|e| e.location.as_deref()
                == Some("restriction \"Pilot Windows block\" (priority 1) via group Pilot")),
            "{:#?}",
            f.evidence
        );
        let s2 = snap_with(&user_json(""), &[]);
        let mut s2 = s2;
        s2.sources.enrollment_configurations = s.sources.enrollment_configurations.clone();
        assert_eq!(
            status(&user_readiness(&s2, "jdoe@contoso.com", None), "USR005"),
            Status::Pass
        );
    }

    #[test]
    fn usr005_unreadable_version_is_not_a_silent_pass() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/x",
            json(&restrictions(false, false, "").replace(
                "\"osMinimumVersion\":\"\"",
                "\"osMinimumVersion\":\"Windows 10 22H2\"",
            )),
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Warn, "{f:?}");
        assert!(f.summary.contains("Windows 10 22H2"), "{}", f.summary);
    }

    #[test]
    fn usr005_unknown_membership_is_not_a_pass() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(false, true, "")));
        s.sources.group_memberships = Source::Missing {
            reason: MissingReason::InsufficientPermission {
                needed: vec!["GroupMember.Read.All".into()],
            },
        };
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        // Unreadable memberships: a typed skip naming the permission, never a pass.
        assert_eq!(f.status, Status::Skip);
        assert_eq!(
            f.skip_reason,
            Some(SkipReason::InsufficientPermission {
                needed: vec!["GroupMember.Read.All".into()]
            })
        );
        assert!(f.remediation.contains("GroupMember.Read.All"), "{f:?}");
        // Memberships read, but not of the restriction's group: a warn, still never a pass.
        s.sources.group_memberships = Source::collected(
            "GET /v1.0/groups/{id}/transitiveMembers",
            GroupMemberships {
                all_users_resolved: true,
                relevant_groups: vec!["99999999-0000-0000-0000-000000000000".into()],
                ..Default::default()
            },
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.summary.contains("memberships are unknown"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn usr005_personal_block_versus_paths() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(true, false, "")));
        let at = |path: Option<EnrollmentPath>, autopilot: Option<bool>| {
            let ctx = DeviceContext {
                path,
                autopilot_registered: autopilot,
                ..Default::default()
            };
            usr005_platform_restriction(&s, s.user("u1").unwrap_or(&User::default()), &ctx).status
        };
        assert_eq!(at(Some(EnrollmentPath::GpoHybrid), None), Status::Pass);
        assert_eq!(at(Some(EnrollmentPath::CoManagement), None), Status::Pass);
        assert_eq!(
            at(Some(EnrollmentPath::EntraJoin), Some(true)),
            Status::Pass
        );
        assert_eq!(
            at(Some(EnrollmentPath::EntraJoin), Some(false)),
            Status::Fail
        );
        assert_eq!(
            at(Some(EnrollmentPath::EntraRegistered), None),
            Status::Fail
        );
        assert_eq!(at(None, None), Status::Warn);
    }

    #[test]
    fn usr005_os_versions() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/x",
            json(&restrictions(false, false, "10.0.19045.3803")),
        );
        let u = s.user("u1").cloned().unwrap_or_default();
        let ctx = |v: &str| DeviceContext {
            os_version: Some(v.into()),
            ..Default::default()
        };
        let f = usr005_platform_restriction(&s, &u, &ctx("10.0.19045.4000"));
        assert_eq!(f.status, Status::Fail, "revision is not sent at enrollment");
        assert_eq!(
            usr005_platform_restriction(&s, &u, &ctx("10.0.22631.1")).status,
            Status::Pass
        );
        assert_eq!(
            usr005_platform_restriction(&s, &u, &DeviceContext::default()).status,
            Status::Warn
        );
    }

    #[test]
    fn usr006_device_limit_and_paths() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(false, false, "")));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR006"),
            Status::Pass
        );
        s.sources.managed_devices = Source::collected(
            "GET /v1.0/deviceManagement/managedDevices",
            json(
                r#"[{"id":"m1","userId":"u1","deviceName":"PC1"},{"id":"m2","userPrincipalName":"JDOE@contoso.com","deviceName":"PC2"},{"id":"m3","userId":"other"}]"#,
            ),
        );
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR006"), Status::Fail);
        assert_eq!(
            status(
                &user_readiness(&s, "jdoe@contoso.com", Some(EnrollmentPath::GpoHybrid)),
                "USR006"
            ),
            Status::Pass
        );
    }

    #[test]
    fn usr007_and_usr008() {
        let s = snap_with(&user_json(""), &[]);
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR007"), Status::Pass);
        assert_eq!(status(&fs, "USR008"), Status::Pass);
        let no_loc = user_json("").replace(r#""usageLocation":"US","#, "");
        let s = snap_with(&no_loc, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR007"),
            Status::Warn
        );
        for bad in ["jdoe@contoso.local", "jdoe@fabrikam.com"] {
            let u = user_json("").replace("jdoe@contoso.com", bad);
            let mut s = snap_with(&u, &[]);
            s.user_scope = UserScope::All;
            assert_eq!(
                status(&user_readiness(&s, bad, None), "USR008"),
                Status::Fail,
                "{bad}"
            );
        }
    }
}
