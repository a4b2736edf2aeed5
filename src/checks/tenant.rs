//! Tenant checks TEN001–TEN009: pure functions over a [`TenantSnapshot`].
//!
//! Each check reads its sources; when one is missing the check is `skip` (permission, app-only,
//! not collected) or `error` (Graph failure), and the other checks still run.

use crate::catalog::service_plans::{self, ServicePlan};
use crate::catalog::well_known::{
    self, MICROSOFT_INTUNE_APP_ID, MICROSOFT_INTUNE_ENROLLMENT_APP_ID,
};
use crate::model::{EnrollmentPath, Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{
    ConditionalAccessPolicy, ConfigurationFamily, EnrollmentConfiguration, MembershipKind,
    MobilityPolicy, PolicyScope, SubscribedSku, TenantSnapshot, eq_ci,
};

pub const TEN_CHECKS: [&str; 9] = [
    "TEN001", "TEN002", "TEN003", "TEN004", "TEN005", "TEN006", "TEN007", "TEN008", "TEN009",
];

/// All tenant checks, in ID order.
pub fn evaluate_tenant(snap: &TenantSnapshot) -> Vec<Finding> {
    vec![
        ten001_mdm_authority(snap),
        ten002_intune_subscription(snap),
        ten003_mdm_scope(snap),
        ten004_mdm_urls(snap),
        ten005_enrollment_app_scope(snap),
        ten006_mam_overlap(snap),
        ten007_default_platform_restriction(snap),
        ten008_device_registration(snap),
        ten009_conditional_access(snap),
    ]
}

/// Evidence saying on which enrollment paths a result matters (DESIGN.md §1).
pub(crate) fn paths_evidence(applies: &[EnrollmentPath], note: &str) -> Evidence {
    let list: Vec<&str> = applies.iter().map(|p| p.as_str()).collect();
    let mut detail = format!("matters for: {}", list.join(", "));
    if !note.is_empty() {
        detail.push_str("; ");
        detail.push_str(note);
    }
    Evidence::new("enrollment-path", detail)
}

pub(crate) const ALL_PATHS: [EnrollmentPath; 4] = [
    EnrollmentPath::GpoHybrid,
    EnrollmentPath::EntraJoin,
    EnrollmentPath::EntraRegistered,
    EnrollmentPath::CoManagement,
];

/// Location of one MDM/MAM policy.
pub(crate) fn policy_location(kind: &str, id: &str) -> String {
    format!("GET /beta/policies/{kind}/{id}?$expand=includedGroups")
}

pub(crate) fn find_policy<'a>(
    list: &'a [MobilityPolicy],
    app_id: &str,
) -> Option<&'a MobilityPolicy> {
    list.iter().find(|p| p.id.eq_ignore_ascii_case(app_id))
}

fn scope_detail(p: &MobilityPolicy) -> String {
    let groups: Vec<String> = p
        .included_groups
        .iter()
        .map(|g| g.display_name.clone().unwrap_or_else(|| g.id.clone()))
        .collect();
    match p.scope() {
        PolicyScope::Selected => format!(
            "\"{}\" appliesTo = selected, includedGroups = [{}]",
            p.name(),
            groups.join(", ")
        ),
        s => format!("\"{}\" appliesTo = {}", p.name(), s.as_str()),
    }
}

// --- TEN001 -----------------------------------------------------------------------------------

pub fn ten001_mdm_authority(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN001";
    let (org, endpoint) = match snap.sources.organization.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the organization"),
    };
    let authority = org.mobile_device_management_authority.as_deref();
    let ev = Evidence::new(
        "graph",
        format!(
            "mobileDeviceManagementAuthority = {}",
            authority.unwrap_or("(not returned)")
        ),
    )
    .at(endpoint.to_string());
    let paths = paths_evidence(&ALL_PATHS, "");
    match authority {
        Some(a) if a.eq_ignore_ascii_case("intune") => {
            Finding::new(ID, Status::Pass, Subject::Tenant, "The MDM authority is Intune")
                .with_evidence(ev)
                .with_evidence(paths)
        }
        None => Finding::new(
            ID,
            Status::Warn,
            Subject::Tenant,
            "Graph did not return the MDM authority",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Confirm in the Intune admin center (Tenant administration > Tenant status) that the MDM authority is Intune.",
        ),
        Some(other) => Finding::new(
            ID,
            Status::Fail,
            Subject::Tenant,
            format!("The MDM authority is {other}, not Intune: no Windows device can enroll into Intune"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Set the MDM authority to Intune (Intune admin center > Tenant administration); \
             ConfigMgr standalone or Basic Mobility authorities must be migrated first.",
        ),
    }
}

// --- TEN002 -----------------------------------------------------------------------------------

fn sku_intune_plans(sku: &SubscribedSku) -> Vec<&'static ServicePlan> {
    sku.service_plans
        .iter()
        .filter(|p| {
            !eq_ci(p.provisioning_status.as_deref(), "Disabled")
                && !p
                    .applies_to
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("Company"))
        })
        .filter_map(|p| {
            service_plans::is_intune_mdm_plan(&p.service_plan_id, p.service_plan_name.as_deref())
        })
        .collect()
}

fn free_units(sku: &SubscribedSku) -> Option<i64> {
    let prepaid = sku.prepaid_units.as_ref()?;
    let total = prepaid.enabled.unwrap_or(0) + prepaid.warning.unwrap_or(0);
    Some(total - sku.consumed_units.unwrap_or(0))
}

pub fn ten002_intune_subscription(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN002";
    let (skus, endpoint) = match snap.sources.subscribed_skus.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the subscribed SKUs"),
    };
    let mut usable: Vec<(&SubscribedSku, Vec<&'static ServicePlan>, bool)> = Vec::new();
    let mut evidence = Vec::new();
    let mut basic_only = Vec::new();
    for sku in skus {
        let plans = sku_intune_plans(sku);
        let status = sku.capability_status.as_deref().unwrap_or("unknown");
        let part = sku.sku_part_number.as_deref().unwrap_or(&sku.sku_id);
        if plans.is_empty() {
            if sku
                .service_plans
                .iter()
                .any(|p| service_plans::insufficient_plan_by_id(&p.service_plan_id).is_some())
            {
                basic_only.push(part.to_string());
            }
            continue;
        }
        let names: Vec<&str> = plans.iter().map(|p| p.name).collect();
        evidence.push(
            Evidence::new(
                "graph",
                format!(
                    "SKU {part} capabilityStatus = {status}, Intune plans [{}], units prepaid {} consumed {}",
                    names.join(", "),
                    sku.prepaid_units
                        .as_ref()
                        .and_then(|p| p.enabled)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    sku.consumed_units
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                ),
            )
            .at(format!("{endpoint} (id {})", sku.id)),
        );
        if status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning") {
            usable.push((sku, plans, status.eq_ignore_ascii_case("Warning")));
        }
    }
    let paths = paths_evidence(&ALL_PATHS, "");
    if usable.is_empty() {
        let mut f = Finding::new(
            ID,
            Status::Fail,
            Subject::Tenant,
            "No subscribed SKU carries an enabled Intune MDM plan",
        )
        .with_remediation(
            "Buy or activate a subscription with Intune Plan 1 (Microsoft 365 E3/E5/F3, Business \
             Premium, EMS E3/E5 or Intune standalone). Basic Mobility and Security (INTUNE_O365) \
             does not enroll Windows devices into Intune.",
        );
        if !basic_only.is_empty() {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!(
                        "only INTUNE_O365 (Basic Mobility and Security) found in: {}",
                        basic_only.join(", ")
                    ),
                )
                .at(endpoint.to_string()),
            );
        }
        if evidence.is_empty() && basic_only.is_empty() {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} SKUs, none with an Intune MDM service plan", skus.len()),
                )
                .at(endpoint.to_string()),
            );
        }
        for e in evidence {
            f = f.with_evidence(e);
        }
        return f.with_evidence(paths);
    }
    let all_warning = usable.iter().all(|(_, _, w)| *w);
    let no_free = usable
        .iter()
        .all(|(sku, _, _)| free_units(sku).is_some_and(|n| n <= 0));
    let (status, mut summary) = if all_warning {
        (
            Status::Warn,
            "Intune is licensed, but every Intune SKU is in its grace period (Warning)".to_string(),
        )
    } else {
        (
            Status::Pass,
            "The tenant has an enabled Intune subscription".to_string(),
        )
    };
    if no_free {
        // Not a tenant failure: users already licensed keep enrolling.
        summary.push_str("; no free licence units are left (info: new users cannot be licensed)");
    }
    let mut f = Finding::new(ID, status, Subject::Tenant, summary);
    for e in evidence {
        f = f.with_evidence(e);
    }
    if all_warning {
        f = f.with_remediation("Renew the subscription before the grace period ends.");
    }
    f.with_evidence(paths)
}

// --- TEN003 -----------------------------------------------------------------------------------

pub fn ten003_mdm_scope(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN003";
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the MDM user scope policies"),
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
            Subject::Tenant,
            "No MDM policy for Microsoft Intune exists: automatic enrollment is not configured",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!("{} MDM policies, none with id {MICROSOFT_INTUNE_APP_ID}", list.len()),
            )
            .at(loc),
        )
        .with_evidence(paths)
        .with_remediation(
            "In Entra admin center > Mobility (MDM and WIP), add Microsoft Intune and set its MDM user scope.",
        );
    };
    let ev = Evidence::new("graph", scope_detail(p)).at(loc);
    match p.scope() {
        PolicyScope::All => Finding::new(ID, Status::Pass, Subject::Tenant, "MDM user scope of Microsoft Intune is All")
            .with_evidence(ev)
            .with_evidence(paths),
        PolicyScope::Selected if p.included_groups.is_empty() => Finding::new(
            ID,
            Status::Fail,
            Subject::Tenant,
            "MDM user scope of Microsoft Intune is Some, but no group is selected: nobody is in scope",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Add the groups of users whose devices should enroll to the MDM user scope, or set it to All.",
        ),
        PolicyScope::Selected => Finding::new(
            ID,
            Status::Pass,
            Subject::Tenant,
            format!(
                "MDM user scope of Microsoft Intune is Some ({} group(s)): only their members enroll",
                p.included_groups.len()
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths),
        PolicyScope::None => Finding::new(
            ID,
            Status::Fail,
            Subject::Tenant,
            "MDM user scope of Microsoft Intune is None: no Windows device auto-enrolls",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Entra admin center > Mobility (MDM and WIP) > Microsoft Intune: set MDM user scope to All, \
             or to Some with the groups of users whose devices should enroll.",
        ),
        PolicyScope::Unknown => Finding::new(
            ID,
            Status::Warn,
            Subject::Tenant,
            format!(
                "MDM user scope of Microsoft Intune has an unrecognised value ({})",
                p.applies_to.as_deref().unwrap_or("null")
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation("Open the policy in the Entra admin center and set the MDM user scope explicitly."),
    }
}

// --- TEN004 -----------------------------------------------------------------------------------

pub fn ten004_mdm_urls(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN004";
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the MDM user scope policies"),
    };
    let loc = policy_location("mobileDeviceManagementPolicies", MICROSOFT_INTUNE_APP_ID);
    let paths = paths_evidence(
        &[
            EnrollmentPath::GpoHybrid,
            EnrollmentPath::EntraJoin,
            EnrollmentPath::EntraRegistered,
        ],
        "the device learns its MDM URLs from this policy (dsregcmd MdmUrl)",
    );
    let Some(p) = find_policy(list, MICROSOFT_INTUNE_APP_ID) else {
        return Finding::skip(
            ID,
            Subject::Tenant,
            crate::model::SkipReason::NoEvidence {
                collect: "a Microsoft Intune MDM policy (see TEN003)".into(),
            },
        );
    };
    let (cloud, cloud_evidence) = effective_cloud(snap, p);
    let Some(defaults) = well_known::default_mdm_urls(&cloud) else {
        return Finding::new(
            ID,
            Status::Pass,
            Subject::Tenant,
            format!("No known Intune default URLs for cloud {cloud}: not compared"),
        )
        .with_evidence(cloud_evidence)
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "discoveryUrl = {}, termsOfUseUrl = {}, complianceUrl = {}",
                    p.discovery_url.as_deref().unwrap_or("null"),
                    p.terms_of_use_url.as_deref().unwrap_or("null"),
                    p.compliance_url.as_deref().unwrap_or("null")
                ),
            )
            .at(loc),
        )
        .with_evidence(paths);
    };
    let fields = [
        (
            "discoveryUrl",
            p.discovery_url.as_deref(),
            defaults.discovery_url,
        ),
        (
            "termsOfUseUrl",
            p.terms_of_use_url.as_deref(),
            defaults.terms_of_use_url,
        ),
        (
            "complianceUrl",
            p.compliance_url.as_deref(),
            defaults.compliance_url,
        ),
    ];
    let mut wrong = Vec::new();
    let mut null = Vec::new();
    let mut evidence = Vec::new();
    for (name, actual, expected) in fields {
        match actual {
            Some(a) if well_known::same_url(a, expected) => {
                evidence.push(
                    Evidence::new("graph", format!("{name} = {a} (the {cloud} default)"))
                        .at(loc.clone()),
                );
            }
            Some(a) => {
                wrong.push(name);
                evidence.push(
                    Evidence::new("graph", format!("{name} = {a}, expected {expected}"))
                        .at(loc.clone()),
                );
            }
            None => {
                null.push(name);
                evidence.push(Evidence::new("graph", format!("{name} = null")).at(loc.clone()));
            }
        }
    }
    let scope = p.scope();
    let (status, summary, fix) = if !wrong.is_empty() {
        (
            Status::Fail,
            format!(
                "Microsoft Intune MDM policy URLs differ from the Intune defaults: {}",
                wrong.join(", ")
            ),
            "Restore the default URLs in Entra admin center > Mobility (MDM and WIP) > Microsoft Intune \
             (Restore default MDM URLs); a wrong discovery URL sends devices to the wrong service.",
        )
    } else if !null.is_empty() && scope != PolicyScope::None {
        (
            Status::Warn,
            format!(
                "Microsoft Intune MDM policy has empty URLs ({}) while its scope is {}",
                null.join(", "),
                scope.as_str()
            ),
            "Empty URLs alone are common and often harmless, but if devices report no MdmUrl select \
             \"Restore default MDM URLs\" on the Microsoft Intune MDM policy.",
        )
    } else if !null.is_empty() {
        (
            Status::Pass,
            format!(
                "Microsoft Intune MDM policy has empty URLs ({}), unused while its scope is None",
                null.join(", ")
            ),
            "",
        )
    } else {
        (
            Status::Pass,
            format!("Microsoft Intune MDM policy URLs are the Intune defaults ({cloud} cloud)"),
            "",
        )
    };
    let mut f = Finding::new(ID, status, Subject::Tenant, summary).with_remediation(fix);
    // The URLs first (what the table shows), then which cloud they were compared with.
    for e in evidence {
        f = f.with_evidence(e);
    }
    f.with_evidence(cloud_evidence).with_evidence(paths)
}

/// The cloud whose default URLs TEN004 expects, and why. A `custom` Graph endpoint (a mock, a
/// proxy) says nothing about the cloud, so the tenant's initial domain decides
/// (`*.onmicrosoft.us` = US Government); without one, the cloud is unknown and the policy's own
/// discovery URL picks the set of defaults it is compared with (a consistent set of any cloud's
/// defaults passes, a mix or a foreign host still fails).
fn effective_cloud(snap: &TenantSnapshot, policy: &MobilityPolicy) -> (String, Evidence) {
    let configured = snap.cloud.trim();
    if !configured.is_empty() && !configured.eq_ignore_ascii_case("custom") {
        return (
            configured.to_ascii_lowercase(),
            Evidence::new(
                "config",
                format!("cloud = {configured} (compared with its defaults)"),
            ),
        );
    }
    let initial = snap.sources.organization.get().ok().and_then(|(org, _)| {
        org.verified_domains
            .iter()
            .filter(|d| d.is_initial == Some(true))
            .find_map(|d| well_known::cloud_of_initial_domain(&d.name).map(|c| (c, d.name.clone())))
    });
    if let Some((cloud, domain)) = initial {
        return (
            cloud.to_string(),
            Evidence::new(
                "graph",
                format!(
                    "cloud = custom endpoint; the initial domain {domain} places the tenant in the {cloud} cloud"
                ),
            )
            .at("GET /v1.0/organization"),
        );
    }
    let by_url = policy
        .discovery_url
        .as_deref()
        .and_then(|u| {
            ["global", "usgov"].into_iter().find(|c| {
                well_known::default_mdm_urls(c)
                    .is_some_and(|d| well_known::same_url(u, d.discovery_url))
            })
        })
        .unwrap_or("global");
    (
        by_url.to_string(),
        Evidence::new(
            "config",
            format!(
                "cloud = custom endpoint and no recognisable initial domain: the tenant's cloud is unknown, \
                 so the URLs are compared with the {by_url} defaults their discovery URL points at"
            ),
        ),
    )
}

// --- TEN005 -----------------------------------------------------------------------------------

pub fn ten005_enrollment_app_scope(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN005";
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the MDM user scope policies"),
    };
    let intune = find_policy(list, MICROSOFT_INTUNE_APP_ID);
    let enrollment = find_policy(list, MICROSOFT_INTUNE_ENROLLMENT_APP_ID);
    let paths = paths_evidence(
        &[
            EnrollmentPath::GpoHybrid,
            EnrollmentPath::EntraJoin,
            EnrollmentPath::EntraRegistered,
        ],
        "",
    );
    let intune_scope = intune.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let enroll_scope = enrollment.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let mut evidence = Vec::new();
    for (p, id) in [
        (intune, MICROSOFT_INTUNE_APP_ID),
        (enrollment, MICROSOFT_INTUNE_ENROLLMENT_APP_ID),
    ] {
        let loc = policy_location("mobileDeviceManagementPolicies", id);
        evidence.push(match p {
            Some(p) => Evidence::new("graph", scope_detail(p)).at(loc),
            None => Evidence::new(
                "graph",
                format!("no policy for {}", well_known::app_name(id).unwrap_or(id)),
            )
            .at(loc),
        });
    }
    let (status, summary, fix) = if enroll_scope != PolicyScope::None
        && intune_scope == PolicyScope::None
    {
        (
            Status::Fail,
            "The scope is set on \"Microsoft Intune Enrollment\" while \"Microsoft Intune\" is None: devices will not auto-enroll",
            "Set the MDM user scope on the \"Microsoft Intune\" entry (Entra admin center > Mobility \
             (MDM and WIP)), not on \"Microsoft Intune Enrollment\"; set the latter back to None.",
        )
    } else if enroll_scope != PolicyScope::None {
        (
            Status::Pass,
            "\"Microsoft Intune Enrollment\" also has a scope; harmless because \"Microsoft Intune\" carries the scope",
            "",
        )
    } else {
        (
            Status::Pass,
            "\"Microsoft Intune Enrollment\" has no scope of its own",
            "",
        )
    };
    let mut f = Finding::new(ID, status, Subject::Tenant, summary).with_remediation(fix);
    for e in evidence {
        f = f.with_evidence(e);
    }
    f.with_evidence(paths)
}

// --- TEN006 -----------------------------------------------------------------------------------

pub fn ten006_mam_overlap(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN006";
    let (mam_list, _) = match snap.sources.mam_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the MAM user scope policies"),
    };
    let (mdm_list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the MDM user scope policies"),
    };
    let mdm = find_policy(mdm_list, MICROSOFT_INTUNE_APP_ID);
    let mam = find_policy(mam_list, MICROSOFT_INTUNE_APP_ID)
        .or_else(|| mam_list.iter().find(|p| p.scope() != PolicyScope::None));
    let paths = paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "corporate, Entra-joined, hybrid-joined and co-managed devices still get MDM",
    );
    let mdm_scope = mdm.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let mut f_evidence = Vec::new();
    if let Some(p) = mdm {
        f_evidence.push(
            Evidence::new("graph", format!("MDM {}", scope_detail(p)))
                .at(policy_location("mobileDeviceManagementPolicies", &p.id)),
        );
    }
    let Some(mam) = mam.filter(|p| p.scope() != PolicyScope::None) else {
        let mut f = Finding::new(
            ID,
            Status::Pass,
            Subject::Tenant,
            "The MAM user scope is None: no MDM/MAM overlap",
        );
        if let Some(p) = mam {
            f = f.with_evidence(
                Evidence::new("graph", format!("MAM {}", scope_detail(p)))
                    .at(policy_location("mobileAppManagementPolicies", &p.id)),
            );
        } else {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} MAM policies, none with a scope", mam_list.len()),
                )
                .at("GET /beta/policies/mobileAppManagementPolicies"),
            );
        }
        return f.with_evidence(paths);
    };
    f_evidence.push(
        Evidence::new("graph", format!("MAM {}", scope_detail(mam)))
            .at(policy_location("mobileAppManagementPolicies", &mam.id)),
    );
    let overlap = match (mdm_scope, mam.scope()) {
        (PolicyScope::None, _) => Some(false),
        (PolicyScope::All, _) | (_, PolicyScope::All) => Some(true),
        (PolicyScope::Selected, PolicyScope::Selected) => {
            let mdm_groups: Vec<&str> = mdm
                .map(|p| p.included_groups.iter().map(|g| g.id.as_str()).collect())
                .unwrap_or_default();
            let mam_groups: Vec<&str> = mam.included_groups.iter().map(|g| g.id.as_str()).collect();
            if mdm_groups
                .iter()
                .any(|g| mam_groups.iter().any(|m| m.eq_ignore_ascii_case(g)))
            {
                Some(true)
            } else {
                // Per-group memberships cover every user: look for one in both scopes.
                snap.sources
                    .group_memberships
                    .data()
                    .filter(|m| m.all_users_resolved)
                    .map(|m| {
                        m.members.values().any(|gs| {
                            mdm_groups
                                .iter()
                                .any(|g| gs.contains(&g.to_ascii_lowercase()))
                                && mam_groups
                                    .iter()
                                    .any(|g| gs.contains(&g.to_ascii_lowercase()))
                        })
                    })
            }
        }
        _ => None,
    };
    let mut f = match overlap {
        Some(false) => Finding::new(
            ID,
            Status::Pass,
            Subject::Tenant,
            "The MAM user scope does not overlap the MDM user scope",
        ),
        Some(true) | None => Finding::new(
            ID,
            Status::Warn,
            Subject::Tenant,
            if overlap.is_some() {
                "MAM and MDM user scopes overlap: users in both get MAM instead of MDM on personal (Entra-registered) devices"
            } else {
                "MAM and MDM user scopes may overlap: users in both get MAM instead of MDM on personal (Entra-registered) devices"
            },
        )
        .with_remediation(
            "If personal Windows devices should enroll into MDM, remove those users from the MAM \
             (WIP) scope; corporate, Entra-joined and hybrid-joined devices are unaffected.",
        ),
    };
    for e in f_evidence {
        f = f.with_evidence(e);
    }
    f.with_evidence(paths)
}

// --- TEN007 -----------------------------------------------------------------------------------

pub(crate) fn config_location(c: &EnrollmentConfiguration) -> String {
    format!(
        "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{}",
        c.id
    )
}

pub fn ten007_default_platform_restriction(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN007";
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the enrollment restrictions"),
    };
    let default = configs
        .iter()
        .find(|c| c.family() == ConfigurationFamily::PlatformRestrictions && c.is_default());
    let Some(default) = default else {
        return Finding::new(
            ID,
            Status::Warn,
            Subject::Tenant,
            "Graph returned no default platform restriction",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "{} enrollment configurations, no default platform restriction",
                    configs.len()
                ),
            )
            .at(endpoint.to_string()),
        )
        .with_remediation(
            "Check Devices > Enrollment > Device platform restriction in the Intune admin center.",
        );
    };
    let win = default.windows().cloned().unwrap_or_default();
    let where_ = format!(
        "restriction \"{}\" (priority {}, the default)",
        default.name(),
        default.priority
    );
    let detail = format!(
        "windowsRestriction: platformBlocked = {}, personalDeviceEnrollmentBlocked = {}, osMinimumVersion = {}, osMaximumVersion = {}",
        win.platform_blocked.unwrap_or(false),
        win.personal_device_enrollment_blocked.unwrap_or(false),
        win.os_minimum_version.as_deref().unwrap_or("(unset)"),
        win.os_maximum_version.as_deref().unwrap_or("(unset)")
    );
    let ev = Evidence::new("graph", format!("{where_}: {detail}")).at(config_location(default));
    if win.platform_blocked.unwrap_or(false) {
        return Finding::new(
            ID,
            Status::Fail,
            Subject::Tenant,
            "The default platform restriction blocks Windows (MDM): users without a custom restriction cannot enroll",
        )
        .with_evidence(ev)
        .with_evidence(paths_evidence(&ALL_PATHS, "applies to every user without a higher-priority restriction"))
        .with_remediation(
            "Intune admin center > Devices > Enrollment > Device platform restriction > Windows: \
             allow Windows (MDM) in the default restriction, or assign a custom restriction that allows it.",
        );
    }
    if win.personal_device_enrollment_blocked.unwrap_or(false) {
        return Finding::new(
            ID,
            Status::Warn,
            Subject::Tenant,
            "The default platform restriction blocks personally owned Windows devices",
        )
        .with_evidence(ev)
        .with_evidence(paths_evidence(
            &[EnrollmentPath::EntraJoin, EnrollmentPath::EntraRegistered],
            "GPO (hybrid) and co-management enrollments count as corporate and pass; Entra join \
             auto-enrollment is blocked unless the device is registered with Autopilot; \"Add work account\" is blocked",
        ))
        .with_remediation(
            "Register Entra-joined devices with Autopilot or upload corporate identifiers, or allow \
             personal Windows devices in the default restriction.",
        );
    }
    Finding::new(
        ID,
        Status::Pass,
        Subject::Tenant,
        "The default platform restriction allows Windows (MDM)",
    )
    .with_evidence(ev)
    .with_evidence(paths_evidence(&ALL_PATHS, ""))
}

// --- TEN008 -----------------------------------------------------------------------------------

/// Quotas below this stop a user's second or third join (Entra's default is 50).
const TINY_DEVICE_QUOTA: i64 = 5;

pub fn ten008_device_registration(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN008";
    let (p, endpoint) = match snap.sources.device_registration_policy.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the device registration policy"),
    };
    let paths = paths_evidence(
        &[EnrollmentPath::EntraJoin],
        "not relevant to hybrid join (gpo-hybrid) or co-management",
    );
    let join = p
        .azure_ad_join
        .as_ref()
        .and_then(|j| j.allowed_to_join.as_ref());
    let kind = join.map(|j| j.kind()).unwrap_or(MembershipKind::Unknown);
    let quota = p.user_device_quota;
    let ev = Evidence::new(
        "graph",
        format!(
            "azureADJoin.allowedToJoin = {}, userDeviceQuota = {}",
            join.and_then(|j| j.odata_type.clone())
                .unwrap_or_else(|| "(not returned)".into()),
            quota
                .map(|q| q.to_string())
                .unwrap_or_else(|| "(not returned)".into())
        ),
    )
    .at(endpoint.to_string());
    let (status, summary, fix) = match kind {
        MembershipKind::None => (
            Status::Fail,
            "No user may join devices to Entra ID: Entra join (and its automatic MDM enrollment) is blocked".to_string(),
            "Entra admin center > Devices > Device settings: set \"Users may join devices to Microsoft Entra\" to All or Selected.",
        ),
        MembershipKind::Enumerated => {
            let j = join.cloned().unwrap_or_default();
            (
                Status::Warn,
                format!(
                    "Only selected users ({}) and groups ({}) may join devices to Entra ID",
                    j.users.len(),
                    j.groups.len()
                ),
                "Make sure the users who set up Entra-joined devices are in the selected users or groups.",
            )
        }
        _ if quota.is_some_and(|q| q < TINY_DEVICE_QUOTA) => (
            Status::Warn,
            format!(
                "The Entra per-user device quota is {}: users hit it after a few joins",
                quota.unwrap_or_default()
            ),
            "Raise \"Maximum number of devices per user\" in Entra device settings (default 50).",
        ),
        MembershipKind::All => (
            Status::Pass,
            "All users may join devices to Entra ID".to_string(),
            "",
        ),
        MembershipKind::Unknown => (
            Status::Warn,
            "The device registration policy does not say who may join devices".to_string(),
            "Check Entra admin center > Devices > Device settings.",
        ),
    };
    Finding::new(ID, status, Subject::Tenant, summary)
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(fix)
}

// --- TEN009 -----------------------------------------------------------------------------------

/// The enrollment-relevant apps a CA policy targets (`All`, Intune, Intune Enrollment).
fn ca_targets_enrollment(p: &ConditionalAccessPolicy) -> Vec<&'static str> {
    let apps = &p.conditions.applications;
    let excluded = |id: &str| {
        apps.exclude_applications
            .iter()
            .any(|a| a.eq_ignore_ascii_case(id))
    };
    let all = apps
        .include_applications
        .iter()
        .any(|a| a.eq_ignore_ascii_case("All"));
    let mut hit = Vec::new();
    for id in [MICROSOFT_INTUNE_ENROLLMENT_APP_ID, MICROSOFT_INTUNE_APP_ID] {
        let included = all
            || apps
                .include_applications
                .iter()
                .any(|a| a.eq_ignore_ascii_case(id));
        if included && !excluded(id) {
            hit.push(well_known::app_name(id).unwrap_or(id));
        }
    }
    hit
}

/// Enrollment signs in with a modern client on Windows: legacy-auth-only or non-Windows
/// policies do not apply to it.
fn ca_applies_to_enrollment_clients(p: &ConditionalAccessPolicy) -> bool {
    let c = &p.conditions;
    let clients_ok = c.client_app_types.is_empty()
        || c.client_app_types.iter().any(|t| {
            matches!(
                t.to_ascii_lowercase().as_str(),
                "all" | "mobileappsanddesktopclients" | "browser"
            )
        });
    let platforms_ok = match &c.platforms {
        None => true,
        Some(pl) => {
            let has = |l: &[String], v: &str| l.iter().any(|x| x.eq_ignore_ascii_case(v));
            (pl.include_platforms.is_empty()
                || has(&pl.include_platforms, "all")
                || has(&pl.include_platforms, "windows"))
                && !has(&pl.exclude_platforms, "windows")
        }
    };
    clients_ok && platforms_ok
}

/// A policy that targets directory roles only (typically admins), not ordinary users.
fn ca_only_roles(p: &ConditionalAccessPolicy) -> bool {
    let u = &p.conditions.users;
    u.include_users
        .iter()
        .all(|x| x.eq_ignore_ascii_case("None"))
        && u.include_groups.is_empty()
        && !u.include_roles.is_empty()
}

/// A policy that names no member users at all (`None`, or guests only): enrolling employees
/// are not subject to it.
fn ca_targets_no_members(p: &ConditionalAccessPolicy) -> bool {
    let u = &p.conditions.users;
    u.include_users
        .iter()
        .all(|x| x.eq_ignore_ascii_case("None") || x.eq_ignore_ascii_case("GuestsOrExternalUsers"))
        && u.include_groups.is_empty()
        && u.include_roles.is_empty()
}

/// Controls that an enrolling device cannot satisfy or that break silent enrollment.
fn ca_problem_controls(p: &ConditionalAccessPolicy) -> (Vec<String>, Vec<String>) {
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    if let Some(g) = &p.grant_controls {
        for c in &g.built_in_controls {
            match c.to_ascii_lowercase().as_str() {
                "compliantdevice" | "domainjoineddevice" | "block" => hard.push(c.clone()),
                "mfa" => soft.push(c.clone()),
                _ => {}
            }
        }
        if !g.terms_of_use.is_empty() {
            soft.push(format!("termsOfUse ({})", g.terms_of_use.len()));
        }
        if let Some(s) = &g.authentication_strength {
            soft.push(format!(
                "authenticationStrength {}",
                s.display_name.as_deref().unwrap_or(&s.id)
            ));
        }
        // With OR, a satisfiable alternative (e.g. MFA) lets enrollment through: downgrade.
        if g.operator
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("OR"))
            && g.built_in_controls.len() > hard.len()
            && !hard.is_empty()
        {
            soft.append(&mut hard);
        }
    }
    (hard, soft)
}

pub fn ten009_conditional_access(snap: &TenantSnapshot) -> Finding {
    const ID: &str = "TEN009";
    let (list, endpoint) = match snap.sources.conditional_access_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, Subject::Tenant, "the Conditional Access policies"),
    };
    let paths = paths_evidence(
        &ALL_PATHS,
        "silent enrollment (GPO, co-management) cannot answer an MFA or terms-of-use prompt",
    );
    let mut hard_hits = Vec::new();
    let mut soft_hits = Vec::new();
    let mut role_only = Vec::new();
    for p in list {
        let state = p.state.as_deref().unwrap_or("enabled");
        if !state.eq_ignore_ascii_case("enabled") {
            continue;
        }
        let apps = ca_targets_enrollment(p);
        if apps.is_empty() || !ca_applies_to_enrollment_clients(p) {
            continue;
        }
        if ca_targets_no_members(p) {
            role_only.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" includes no member users ({}): not counted",
                        p.display_name.as_deref().unwrap_or(&p.id),
                        if p.conditions.users.include_users.is_empty() {
                            "nobody".to_string()
                        } else {
                            p.conditions.users.include_users.join(", ")
                        }
                    ),
                )
                .at(format!(
                    "GET /v1.0/identity/conditionalAccess/policies/{}",
                    p.id
                )),
            );
            continue;
        }
        if ca_only_roles(p) {
            role_only.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" targets only {} directory role(s): not counted for enrolling users",
                        p.display_name.as_deref().unwrap_or(&p.id),
                        p.conditions.users.include_roles.len()
                    ),
                )
                .at(format!("GET /v1.0/identity/conditionalAccess/policies/{}", p.id)),
            );
            continue;
        }
        let (hard, soft) = ca_problem_controls(p);
        let line = |controls: &[String]| {
            Evidence::new(
                "graph",
                format!(
                    "Conditional Access \"{}\" (state {state}) targets {} and requires {}",
                    p.display_name.as_deref().unwrap_or(&p.id),
                    apps.join(" and "),
                    controls.join(", ")
                ),
            )
            .at(format!(
                "GET /v1.0/identity/conditionalAccess/policies/{}",
                p.id
            ))
        };
        if !hard.is_empty() {
            hard_hits.push(line(&hard));
        } else if !soft.is_empty() {
            soft_hits.push(line(&soft));
        }
    }
    let (status, summary, fix) = if !hard_hits.is_empty() {
        (
            Status::Fail,
            format!(
                "{} Conditional Access polic(ies) require a compliant or joined device (or block) for the Intune enrollment apps: enrollment cannot satisfy them (0x8018002A)",
                hard_hits.len()
            ),
            "Exclude \"Microsoft Intune Enrollment\" (d4ebce55-…) and \"Microsoft Intune\" from policies \
             that require a compliant or hybrid-joined device: a device cannot be compliant before it enrolls.",
        )
    } else if !soft_hits.is_empty() {
        (
            Status::Warn,
            format!(
                "{} Conditional Access polic(ies) require MFA or terms of use for the Intune enrollment apps",
                soft_hits.len()
            ),
            "Silent (GPO/co-management) enrollment cannot prompt: exclude the Intune enrollment apps, \
             or make sure the user's PRT carries MFA (Windows Hello) and terms of use are accepted.",
        )
    } else {
        (
            Status::Pass,
            "No enabled Conditional Access policy puts device or MFA requirements on the Intune enrollment apps".to_string(),
            "",
        )
    };
    let mut f = Finding::new(ID, status, Subject::Tenant, summary).with_remediation(fix);
    if hard_hits.is_empty() && soft_hits.is_empty() {
        f = f.with_evidence(
            Evidence::new(
                "graph",
                format!("{} Conditional Access policies read", list.len()),
            )
            .at(endpoint.to_string()),
        );
    }
    for e in hard_hits.into_iter().chain(soft_hits).chain(role_only) {
        f = f.with_evidence(e);
    }
    // The Intune Enrollment app severity is high for device-requirement policies.
    if f.status == Status::Fail {
        let severity = f.severity.max(Severity::High);
        f = f.with_severity(severity);
    }
    f.with_evidence(paths)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tenant::snapshot::{MissingReason, Source, TokenKind};
    use chrono::{DateTime, Utc};

    pub fn base() -> TenantSnapshot {
        TenantSnapshot::new(
            "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
            "global",
            "https://graph.microsoft.com",
            TokenKind::Delegated,
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    pub fn json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
        match serde_json::from_str(s) {
            Ok(v) => v,
            Err(e) => panic!("test JSON does not parse: {e}\n{s}"),
        }
    }

    pub const MDM_ALL: &str = r#"[
      {"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","displayName":"Microsoft Intune",
       "discoveryUrl":"https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc",
       "termsOfUseUrl":"https://portal.manage.microsoft.com/TermsofUse.aspx",
       "complianceUrl":"https://portal.manage.microsoft.com/?portalAction=Compliance","isValid":true,"includedGroups":[]},
      {"id":"d4ebce55-015a-49b5-a083-c84d1797ae8c","appliesTo":"none","displayName":"Microsoft Intune Enrollment","includedGroups":[]}
    ]"#;

    fn with_mdm(s: &str) -> TenantSnapshot {
        let mut snap = base();
        snap.sources.mdm_policies =
            Source::collected("GET /beta/policies/mobileDeviceManagementPolicies", json(s));
        snap
    }

    #[test]
    fn test_ten001_pass_fail_and_missing() {
        let mut s = base();
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(r#"{"id":"t","mobileDeviceManagementAuthority":"intune"}"#),
        );
        assert_eq!(ten001_mdm_authority(&s).status, Status::Pass);
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(r#"{"id":"t","mobileDeviceManagementAuthority":"office365"}"#),
        );
        let f = ten001_mdm_authority(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].location.as_deref() == Some("GET /v1.0/organization"));
        s.sources.organization = Source::Missing {
            reason: MissingReason::InsufficientPermission {
                needed: vec!["Organization.Read.All".into()],
            },
        };
        let f = ten001_mdm_authority(&s);
        assert_eq!(f.status, Status::Skip);
        s.sources.organization = Source::Missing {
            reason: MissingReason::GraphError {
                status: Some(503),
                code: Some("ServiceUnavailable".into()),
                request_id: Some("r-1".into()),
                message: "down".into(),
            },
        };
        let f = ten001_mdm_authority(&s);
        assert_eq!(f.status, Status::Error);
        assert!(f.summary.contains("r-1"));
    }

    const SKU_E3: &str = r#"{"id":"t_05e9a617","skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","skuPartNumber":"SPE_E3",
        "capabilityStatus":"Enabled","consumedUnits":25,"prepaidUnits":{"enabled":25,"suspended":0,"warning":0},
        "servicePlans":[{"servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5","servicePlanName":"INTUNE_A","provisioningStatus":"Success","appliesTo":"User"}]}"#;
    const SKU_O365: &str = r#"{"id":"t_c7df","skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df","skuPartNumber":"ENTERPRISEPREMIUM",
        "capabilityStatus":"Enabled","consumedUnits":1,"prepaidUnits":{"enabled":5},
        "servicePlans":[{"servicePlanId":"882e1d05-acd1-4ccb-8708-6ee03664b117","servicePlanName":"INTUNE_O365","provisioningStatus":"PendingActivation","appliesTo":"User"}]}"#;

    #[test]
    fn ten002_intune_sku_passes_even_without_free_units_and_basic_mobility_fails() {
        let mut s = base();
        s.sources.subscribed_skus = Source::collected(
            "GET /v1.0/subscribedSkus",
            json(&format!("[{SKU_E3},{SKU_O365}]")),
        );
        let f = ten002_intune_subscription(&s);
        assert_eq!(f.status, Status::Pass);
        assert!(f.summary.contains("no free licence units"), "{}", f.summary);
        s.sources.subscribed_skus =
            Source::collected("GET /v1.0/subscribedSkus", json(&format!("[{SKU_O365}]")));
        let f = ten002_intune_subscription(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| e.detail.contains("INTUNE_O365")));
        let suspended = SKU_E3.replace("\"Enabled\"", "\"Suspended\"");
        s.sources.subscribed_skus =
            Source::collected("GET /v1.0/subscribedSkus", json(&format!("[{suspended}]")));
        assert_eq!(ten002_intune_subscription(&s).status, Status::Fail);
    }

    #[test]
    fn test_ten003_scope_values() {
        assert_eq!(ten003_mdm_scope(&with_mdm(MDM_ALL)).status, Status::Pass);
        let empty = MDM_ALL.replacen("\"all\"", "\"selected\"", 1);
        assert_eq!(ten003_mdm_scope(&with_mdm(&empty)).status, Status::Fail);
        let none = MDM_ALL.replacen("\"all\"", "\"none\"", 1);
        let f = ten003_mdm_scope(&with_mdm(&none));
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].location.as_deref().is_some_and(|l| l.contains("/beta/policies/mobileDeviceManagementPolicies/0000000a-0000-0000-c000-000000000000")));
        let mut s = base();
        s.sources.mdm_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        let f = ten003_mdm_scope(&s);
        assert_eq!(f.status, Status::Skip);
        assert_eq!(
            f.skip_reason,
            Some(crate::model::SkipReason::AppOnlyUnsupported)
        );
    }

    #[test]
    fn test_ten004_urls() {
        assert_eq!(ten004_mdm_urls(&with_mdm(MDM_ALL)).status, Status::Pass);
        let wrong = MDM_ALL.replacen(
            "enrollment.manage.microsoft.com",
            "enroll.mdm.example.com",
            1,
        );
        assert_eq!(ten004_mdm_urls(&with_mdm(&wrong)).status, Status::Fail);
        let null = r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","discoveryUrl":null,"termsOfUseUrl":"","complianceUrl":null}]"#;
        assert_eq!(ten004_mdm_urls(&with_mdm(null)).status, Status::Warn);
        let null_none = null.replace("\"all\"", "\"none\"");
        let f = ten004_mdm_urls(&with_mdm(&null_none));
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.summary.contains("empty URLs") && !f.summary.contains("are the Intune defaults"),
            "{}",
            f.summary
        );
        let mut gov = with_mdm(MDM_ALL);
        gov.cloud = "usgov".into();
        assert_eq!(
            ten004_mdm_urls(&gov).status,
            Status::Fail,
            "commercial URLs in GCC High are wrong"
        );
    }

    #[test]
    fn test_ten004_custom_endpoint_cloud() {
        let gov_urls = MDM_ALL.replace("manage.microsoft.com", "manage.microsoft.us");
        let org = |initial: &str| {
            Source::collected(
                "GET /v1.0/organization",
                json(&format!(
                    r#"{{"id":"t","verifiedDomains":[{{"name":"tailspin.us","isDefault":true,"isInitial":false}},
                       {{"name":"{initial}","isDefault":false,"isInitial":true}}]}}"#
                )),
            )
        };
        // GCC High tenant behind a custom endpoint: its initial domain says usgov.
        let mut s = with_mdm(&gov_urls);
        s.cloud = "custom".into();
        s.sources.organization = org("tailspin.onmicrosoft.us");
        let f = ten004_mdm_urls(&s);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("tailspin.onmicrosoft.us") && e.detail.contains("usgov")),
            "{f:#?}"
        );
        // The same URLs in a commercial tenant are wrong.
        s.sources.organization = org("tailspin.onmicrosoft.com");
        assert_eq!(ten004_mdm_urls(&s).status, Status::Fail);
        // Unknown cloud (no organization, e.g. redacted): a consistent default set passes and
        // says the cloud is unknown; a mix of clouds still fails.
        s.sources.organization = org("d-7f3a.example");
        let f = ten004_mdm_urls(&s);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.evidence.iter().any(|e| e.detail.contains("unknown")),
            "{f:#?}"
        );
        let mixed = gov_urls.replacen(
            "portal.manage.microsoft.us",
            "portal.manage.microsoft.com",
            1,
        );
        let mut s = with_mdm(&mixed);
        s.cloud = "custom".into();
        assert_eq!(ten004_mdm_urls(&s).status, Status::Fail);
    }

    #[test]
    fn test_ten005_enrollment_app() {
        assert_eq!(
            ten005_enrollment_app_scope(&with_mdm(MDM_ALL)).status,
            Status::Pass
        );
        let swapped = MDM_ALL.replacen("\"all\"", "\"none\"", 1).replacen(
            "\"appliesTo\":\"none\",\"displayName\":\"Microsoft Intune Enrollment\"",
            "\"appliesTo\":\"all\",\"displayName\":\"Microsoft Intune Enrollment\"",
            1,
        );
        assert_eq!(
            ten005_enrollment_app_scope(&with_mdm(&swapped)).status,
            Status::Fail
        );
    }

    #[test]
    fn test_ten006_mam_overlap() {
        let mut s = with_mdm(MDM_ALL);
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"none"}]"#),
        );
        assert_eq!(ten006_mam_overlap(&s).status, Status::Pass);
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all"}]"#),
        );
        let f = ten006_mam_overlap(&s);
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("co-managed devices still get MDM"))
        );
    }

    fn platform(blocked: bool, personal: bool) -> String {
        format!(
            r##"[{{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration","id":"t_DefaultPlatformRestrictions","priority":0,
          "displayName":"All users and all devices","windowsRestriction":{{"platformBlocked":{blocked},"personalDeviceEnrollmentBlocked":{personal},"osMinimumVersion":"","osMaximumVersion":""}}}}]"##
        )
    }

    #[test]
    fn test_ten007_default_restriction() {
        let mut s = base();
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(false, false)));
        assert_eq!(ten007_default_platform_restriction(&s).status, Status::Pass);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(true, false)));
        let f = ten007_default_platform_restriction(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence[0]
                .location
                .as_deref()
                .is_some_and(|l| l.ends_with("t_DefaultPlatformRestrictions"))
        );
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&platform(false, true)));
        assert_eq!(ten007_default_platform_restriction(&s).status, Status::Warn);
    }

    #[test]
    fn test_ten008_registration() {
        let mut s = base();
        let pol = |t: &str, q: i64| {
            format!(
                r##"{{"id":"deviceRegistrationPolicy","userDeviceQuota":{q},"azureADJoin":{{"isAdminConfigurable":true,"allowedToJoin":{{"@odata.type":"#microsoft.graph.{t}"}}}}}}"##
            )
        };
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("allDeviceRegistrationMembership", 50)),
        );
        assert_eq!(ten008_device_registration(&s).status, Status::Pass);
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("noDeviceRegistrationMembership", 50)),
        );
        let f = ten008_device_registration(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("matters for: entra-join"))
        );
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("allDeviceRegistrationMembership", 2)),
        );
        assert_eq!(ten008_device_registration(&s).status, Status::Warn);
    }

    #[test]
    fn test_ten009_conditional_access() {
        let mut s = base();
        let ca = |apps: &str, controls: &str, state: &str| {
            format!(
                r#"[{{"id":"ca1","displayName":"Require compliant","state":"{state}",
            "conditions":{{"applications":{{"includeApplications":[{apps}],"excludeApplications":[]}},"users":{{"includeUsers":["All"]}}}},
            "grantControls":{{"operator":"OR","builtInControls":[{controls}],"termsOfUse":[]}}}}]"#
            )
        };
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"Office365\"", "\"compliantDevice\"", "enabled")),
        );
        assert_eq!(ten009_conditional_access(&s).status, Status::Pass);
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca(
                "\"d4ebce55-015a-49b5-a083-c84d1797ae8c\"",
                "\"compliantDevice\"",
                "enabled",
            )),
        );
        let f = ten009_conditional_access(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].detail.contains("Microsoft Intune Enrollment"));
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"All\"", "\"mfa\"", "enabled")),
        );
        assert_eq!(ten009_conditional_access(&s).status, Status::Warn);
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"All\"", "\"mfa\"", "disabled")),
        );
        assert_eq!(ten009_conditional_access(&s).status, Status::Pass);
        let legacy = ca("\"All\"", "\"block\"", "enabled").replace(
            "\"users\":{",
            "\"clientAppTypes\":[\"exchangeActiveSync\",\"other\"],\"users\":{",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&legacy));
        assert_eq!(
            ten009_conditional_access(&s).status,
            Status::Pass,
            "legacy-auth blocks do not hit enrollment"
        );
        let admins = ca("\"All\"", "\"mfa\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[],\"includeRoles\":[\"62e90394-69f5-4237-9190-012177145e10\"]",
        );
        let guests = ca("\"All\"", "\"compliantDevice\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[\"GuestsOrExternalUsers\"]",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&guests));
        let f = ten009_conditional_access(&s);
        assert_eq!(
            f.status,
            Status::Pass,
            "guest-only policies do not hit employees"
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("no member users"))
        );
        let group = ca("\"All\"", "\"compliantDevice\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[],\"includeGroups\":[\"0b1c2d3e-0000-0000-0000-000000000000\"]",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&group));
        assert_eq!(ten009_conditional_access(&s).status, Status::Fail);
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&admins));
        let f = ten009_conditional_access(&s);
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("directory role"))
        );
    }
}
